/**
 * npm run bench:api — the daemon's local API under load (docs/benchmarks.md): flows/s and per-flow
 * p50/p99 latency of SSCard.ReadBasic + SSCard.VerifyPin (the PIN typed with Keyboard.TouchKey)
 * over the XFS4IoT WebSocket, with 1, 4 and 8 card readers busy at once; the same flow run
 * straight on the driver (PcscService + SsseCard + verifyPin, the same APDUs) in the same run, so
 * that the API's overhead is the difference; the daemon's RSS idle and under load; its start-up
 * time to ready (pcscd already running).
 *
 * The readers: a PRIVATE pcscd started by the bench with its own reader.conf of five vpcd devices
 * (8 card slots + 1 PSAM slot), so the system pcscd and whoever tests against it are left alone.
 * pcsc-lite 1.9.9's pcscd has /run/pcscd/pcscd.comm compiled in (PCSCLITE_CSOCK_NAME is read by
 * the client library only) and refuses to start while the system pcscd owns that path, so the
 * private one runs in its own mount namespace (`unshare --mount`, root) with a folder of ours
 * bind-mounted on /run/pcscd; the bench, the card process and the daemon reach it through
 * PCSCLITE_CSOCK_NAME. Each vpcd device gets its own name and its own copy of the driver (see
 * privateStack), and pcscd runs as "bench-pcscd" so that the e2e suites' `pkill -x pcscd` spares
 * it. When that is not possible the bench says why and falls back to the system pcscd's two vpcd
 * readers (one card reader only). Results and how to read them: docs/benchmarks.md.
 *
 * The cards (one VirtualSsCard per slot, PIN 123456, and the VirtualPsam) run in a child process
 * (bench-api-cards.ts), the same for both paths. Per reader count the two paths alternate their
 * --reps repetitions of --duration-ms (all readers concurrently) in the ABBA order: driver, API,
 * API, driver, driver, API … Each run of driver repetitions opens the channels (the daemon holds
 * the cards exclusively while it runs) and warms up (--warmup-ms the first time, 1 s after);
 * each run of API repetitions starts a fresh daemon (start-up and idle RSS measured), warms it up
 * for --warmup-ms, runs the flows (one WebSocket client per reader) with its RSS sampled every
 * 100 ms, and stops it. Medians over the repetitions, of successful flows only.
 *
 * What went wrong is reported, per path and reader count: failed flows by reason, the errors the
 * card process saw, and every reader given up after 20 failed flows in a row (it is not counted
 * among the readers that completed that repetition). A target is met only when no error stands
 * against its figures; any error or reader given up makes the run exit 1 after its report.
 *
 *   node dist/scripts/bench-api.js [--reps 5] [--duration-ms 5000] [--warmup-ms 8000] [--readers 1,4,8]
 *     [--idle-ms 2000] [--card fixtures/cards/card-2.0.json] [--psam fixtures/psam/psam-test.json]
 *     [--system-pcscd] [--daemon-prof] [--keep] [--json]
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { SsseCard } from '../drivers/card/ssse-card.js';
import { verifyPin } from '../drivers/card/ssse-operations.js';
import type { PcscChannel } from '../drivers/pcsc/channel.js';
import { PcscService } from '../drivers/pcsc/pcsc-service.js';
import { Psam } from '../drivers/psam/psam.js';
import type { Rep, Summary, Verdict } from './bench-kit.js';
import {
  BenchScratch,
  Cards,
  alternation,
  errorsOf,
  intOption,
  judge,
  median,
  quickAckOn,
  r1,
  r2,
  reasonOf,
  runLoops,
  runsOf,
  step,
  stopChild,
  summarise,
  verdictText,
  watchdog,
} from './bench-kit.js';
import { projectRoot } from './cli-util.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const EXT = path.extname(fileURLToPath(import.meta.url));
const VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';
const PIN = '123456';
/** Four vpcd devices of two slots for the cards, a fifth for the PSAM. */
const CARD_DEVICES = 4;
const DEVICES = CARD_DEVICES + 1;
const CMD_TIMEOUT_MS = 30_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function pcscdVersion(): string | undefined {
  const r = spawnSync('pcscd', ['--version'], { encoding: 'utf8' });
  if (r.error) return undefined;
  return /version (\d+(?:\.\d+)*)/.exec(r.stdout + r.stderr)?.[1] ?? 'unknown';
}

function pcscdPath(): string {
  const r = spawnSync('sh', ['-c', 'command -v pcscd'], { encoding: 'utf8' });
  const p = r.stdout.trim();
  if (r.status !== 0 || p === '') throw new Error('pcscd is not installed: run ./scripts/setup.sh');
  return p;
}

function haveCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** TCP ports something listens on (asked of the kernel: connecting to vpcd would insert a card). */
function listeningPorts(): Set<number> | undefined {
  const r = spawnSync('ss', ['-ltnH'], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const ports = new Set<number>();
  for (const line of r.stdout.split('\n')) {
    // State Recv-Q Send-Q Local:Port Peer:Port
    const local = line.trim().split(/\s+/)[3];
    const port = local === undefined ? NaN : Number(local.slice(local.lastIndexOf(':') + 1));
    if (Number.isInteger(port)) ports.add(port);
  }
  return ports;
}

function readRssKb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** utime + stime of a process in ms (/proc/<pid>/stat, clock ticks of 1/100 s on Linux). */
function cpuMsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return undefined;
  }
}

/** CPU time (ms) used so far by each named process; `self` names this one. */
function cpuNow(self: string, procs: readonly (readonly [string, number | undefined])[]): Map<string, number> {
  const out = new Map<string, number>();
  const own = process.cpuUsage();
  out.set(self, (own.user + own.system) / 1000);
  for (const [name, pid] of procs) {
    const ms = pid === undefined ? undefined : cpuMsOf(pid);
    if (ms !== undefined) out.set(name, ms);
  }
  return out;
}

/** Adds the CPU time each process used between two {@link cpuNow} readings to `total`. */
function addCpu(total: Map<string, number>, a: Map<string, number>, b: Map<string, number>): void {
  for (const [k, v] of b) {
    const v0 = a.get(k);
    if (v0 !== undefined) total.set(k, (total.get(k) ?? 0) + v - v0);
  }
}

/** CPU ms per flow of each process. */
function cpuPerFlow(total: Map<string, number>, flows: number): Record<string, number> | null {
  if (flows === 0 || total.size === 0) return null;
  return Object.fromEntries([...total].map(([k, v]) => [k, r2(v / flows)]));
}

async function waitFor(cond: () => boolean, ms: number, what: string, alive?: () => string | undefined): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    const dead = alive?.();
    if (dead !== undefined) throw new Error(dead);
    if (Date.now() > end) throw new Error(`${what} (waited ${ms} ms)`);
    await sleep(50);
  }
}

/** Child processes get SIGTERM when the bench dies, even by SIGKILL (setpriv --pdeathsig). */
function withDeathSignal(cmd: string, args: string[]): [string, string[]] {
  return haveCommand('setpriv') ? ['setpriv', ['--pdeathsig', 'TERM', '--', cmd, ...args]] : [cmd, args];
}

// ---------------------------------------------------------------- the PC/SC stack

interface Stack {
  readonly mode: 'private' | 'system';
  /** Why the system pcscd is used, when it is. */
  readonly fallbackReason?: string;
  readonly cardReaders: readonly string[];
  readonly psamReader: string;
  readonly cardPorts: readonly number[];
  readonly psamPort: number;
  /** readers.card of the daemon's config. */
  readonly cardPattern: string;
  /** PCSCLITE_CSOCK_NAME for every client (private pcscd). */
  readonly socket?: string;
  /** The private pcscd's process (for its CPU time). */
  readonly pcscdPid?: number;
  stop(): Promise<void>;
}

function pickPortBase(): number {
  const used = listeningPorts();
  for (let k = 0; k < 40; k++) {
    const base = 36100 + 20 * k;
    let free = true;
    for (let p = base; p < base + 2 * DEVICES; p++) if (used?.has(p)) free = false;
    if (free) return base;
  }
  throw new Error('no free block of 10 TCP ports from 36100 up for the private vpcd readers');
}

/** pcscd of our own in a private mount namespace: /run/pcscd there is a folder of ours. */
async function privateStack(dir: string): Promise<Stack> {
  if (process.getuid?.() !== 0) throw new Error('a private pcscd needs root (it runs in its own mount namespace with a folder bind-mounted on /run/pcscd)');
  if (!haveCommand('unshare')) throw new Error('unshare (util-linux) is missing');
  if (!existsSync('/run/pcscd')) throw new Error('/run/pcscd does not exist (no system pcscd folder to mount over)');
  const base = pickPortBase();
  const conf = path.join(dir, 'reader.conf');
  const runDir = path.join(dir, 'run');
  mkdirSync(runDir, { recursive: true });
  // One FRIENDLYNAME per device: with one name for all, pcscd 1.9.9 calls every device "… 00 00"/"… 00 01".
  // One COPY of the driver per device: vpcd keeps its two slots in a static array indexed by slot
  // number only, pcscd loads a LIBPATH once for every device naming it, and dlopen() of a link
  // finds the same file again — with one driver every device's slot 0 is the last device's.
  const devices: string[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const port = `0x${(base + 2 * i).toString(16).toUpperCase()}`;
    const lib = path.join(dir, `libifdvpcd-${i}.so`);
    copyFileSync(VPCD_DRIVER, lib);
    devices.push(`FRIENDLYNAME "Bench PCD ${i}"\nDEVICENAME /dev/null:${port}\nLIBPATH ${lib}\nCHANNELID ${port}\n`);
  }
  writeFileSync(conf, devices.join('\n'));
  const socket = path.join(runDir, 'pcscd.comm');
  const logFile = path.join(dir, 'pcscd.log');
  const log = openSync(logFile, 'a');
  // Started through a link named bench-pcscd: the process is then "bench-pcscd", so that
  // `pkill -x pcscd` (the e2e suites' restartPcscd) and `pgrep -x pcscd` leave it alone.
  const exe = path.join(dir, 'bench-pcscd');
  symlinkSync(pcscdPath(), exe);
  const [cmd, args] = withDeathSignal(exe, ['--foreground', '--config', conf]);
  const script = `mount --bind "$1" /run/pcscd && exec ${[cmd, ...args].map((a) => `'${a}'`).join(' ')}`;
  const child = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', runDir], { stdio: ['ignore', log, log] });
  closeSync(log);
  let exited: string | undefined;
  child.on('exit', (code, sig) => (exited = `the private pcscd ended (${sig ?? String(code)}): ${readFileSync(logFile, 'utf8').trim().slice(-600) || '(no output)'}`));
  child.on('error', (e) => (exited = `the private pcscd could not start: ${e.message}`));
  const cardPorts: number[] = [];
  const cardReaders: string[] = [];
  for (let i = 0; i < CARD_DEVICES; i++) {
    for (let s = 0; s < 2; s++) {
      cardPorts.push(base + 2 * i + s);
      cardReaders.push(`Bench PCD ${i} 00 0${s}`);
    }
  }
  const psamPort = base + 2 * CARD_DEVICES;
  const stop = (): Promise<void> => stopChild(child, 3000);
  try {
    await waitFor(() => existsSync(socket), 5000, `the private pcscd did not create ${socket}`, () => exited);
    await waitFor(
      () => {
        const used = listeningPorts();
        return used === undefined || [...cardPorts, psamPort].every((p) => used.has(p));
      },
      5000,
      'the private pcscd\'s vpcd readers are not listening',
      () => exited,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    mode: 'private',
    cardReaders,
    psamReader: `Bench PCD ${CARD_DEVICES} 00 00`,
    cardPorts,
    psamPort,
    cardPattern: `/^Bench PCD [0-${CARD_DEVICES - 1}] 00 0[01]$/`,
    socket,
    ...(child.pid === undefined ? {} : { pcscdPid: child.pid }),
    stop,
  };
}

function systemStack(reason: string): Stack {
  return {
    mode: 'system',
    fallbackReason: reason,
    cardReaders: ['Virtual PCD 00 00'],
    psamReader: 'Virtual PCD 00 01',
    cardPorts: [35963],
    psamPort: 35964,
    cardPattern: 'Virtual PCD 00 00',
    stop: () => Promise.resolve(),
  };
}

// ---------------------------------------------------------------- the driver baseline

/** What the daemon's readPinStatus does: SELECT, then VERIFY without data when the card is active. */
async function pinState(card: SsseCard): Promise<void> {
  const sel = await card.select();
  if (sel.activated) await card.pinStatus();
}

/**
 * The API flow's card work, straight on the driver: Terminal.readBasic (readBasics with the PSAM's
 * INTERNAL AUTHENTICATE check, then the PIN tries), then the session's VerifyPin (tries, VERIFY
 * with the PIN bytes, tries again).
 */
async function driverFlow(ch: PcscChannel, psam: Psam): Promise<string | undefined> {
  const card = new SsseCard(ch);
  const b = await card.readBasics(psam, () => randomBytes(card.selectedAlgorithm === 'SM4' ? 16 : 8));
  if (b.authentic === false) return 'card not authentic';
  if (b.activated) await card.pinStatus();
  await pinState(card);
  const o = await verifyPin(card, Buffer.from(PIN, 'ascii'));
  if (o.status !== 'answered') return `verify ${o.status}: ${o.error.text.en}`;
  if (o.sw !== 0x9000) return `verify answered ${o.swHex}`;
  await pinState(card);
  return undefined;
}

async function connectWhenFree(svc: PcscService, reader: string): Promise<PcscChannel> {
  const end = Date.now() + 15_000;
  for (;;) {
    try {
      await svc.waitForCard(reader, 10_000);
      return await svc.connect(reader, { share: 'exclusive' });
    } catch (e) {
      // The daemon that held the card exclusively may still be letting go.
      if (Date.now() > end) throw new Error(`driver: cannot connect to "${reader}": ${reasonOf(e)}`);
      await sleep(100);
    }
  }
}

// ---------------------------------------------------------------- the daemon and its API

interface Msg {
  readonly header: { readonly type: string; readonly name: string; readonly requestId: number | null; readonly status?: string | null; readonly completionCode?: string; readonly errorDescription?: string | null };
  readonly payload?: Record<string, unknown>;
}

/** A lean XFS4IoT client (test/helpers/daemon.ts's XfsClient without the message log). */
class XfsClient {
  private nextId = 1;
  private readonly waiters = new Map<number, { done: (m: Msg) => void; onEvent?: ((m: Msg) => void) | undefined }>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      let m: Msg;
      try {
        m = JSON.parse(data.toString('utf8')) as Msg;
      } catch {
        return;
      }
      const id = m.header.requestId;
      const w = id === null ? undefined : this.waiters.get(id);
      if (!w) return; // unsolicited, or not ours
      if (m.header.type === 'event') w.onEvent?.(m);
      else if (m.header.type === 'completion' || (m.header.type === 'acknowledge' && m.header.status != null)) {
        this.waiters.delete(id!);
        w.done(m);
      }
    });
    ws.on('close', () => {
      for (const [id, w] of [...this.waiters]) {
        this.waiters.delete(id);
        w.done({ header: { type: 'completion', name: '', requestId: id, completionCode: 'connectionClosed' } });
      }
    });
  }

  /** `token`: a client token (docs/api.md "Who may talk to the daemon"), sent on the upgrade as a native client does. */
  static async connect(port: number, token: string): Promise<XfsClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/xfs4iot/v1.0/sscard`, { headers: { authorization: `Bearer ${token}` } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new XfsClient(ws);
  }

  command(name: string, payload: Record<string, unknown>, onEvent?: (m: Msg) => void): Promise<Msg> {
    const requestId = this.nextId++;
    const closed: Msg = { header: { type: 'completion', name, requestId, completionCode: 'connectionClosed' } };
    // ws drops a send on a closed socket silently: answer it here instead of waiting for ever.
    if (this.ws.readyState !== WebSocket.OPEN) return Promise.resolve(closed);
    return new Promise((resolve) => {
      // The daemon times the command out after CMD_TIMEOUT_MS; this is for a daemon that no longer answers.
      const timer = setTimeout(() => {
        this.waiters.delete(requestId);
        resolve({ header: { type: 'completion', name, requestId, completionCode: 'noAnswer' } });
      }, CMD_TIMEOUT_MS + 5000);
      this.waiters.set(requestId, {
        done: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        onEvent,
      });
      this.ws.send(JSON.stringify({ header: { type: 'command', name, requestId, version: '2.0', timeout: CMD_TIMEOUT_MS }, payload }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

function failure(what: string, m: Msg): string {
  const code = m.header.status ?? m.header.completionCode ?? '?';
  const errorCode = typeof m.payload?.['errorCode'] === 'string' ? ` ${m.payload['errorCode']}` : '';
  return `${what}: ${code}${errorCode}`;
}

/** ReadBasic, then VerifyPin with the PIN typed key by key on the reader's on-screen keypad. */
async function apiFlow(c: XfsClient, reader: string | undefined): Promise<string | undefined> {
  const where = reader === undefined ? {} : { reader };
  const rb = await c.command('SSCard.ReadBasic', where);
  if (rb.header.completionCode !== 'success') return failure('ReadBasic', rb);
  let typing: Promise<string | undefined> | undefined;
  const vp = await c.command('SSCard.VerifyPin', where, (m) => {
    if (m.header.name !== 'SSCard.PinEntryStartedEvent' || typing !== undefined) return;
    typing = (async () => {
      for (const key of PIN) {
        const r = await c.command('Keyboard.TouchKey', { key, ...where });
        if (r.header.completionCode !== 'success') return failure('TouchKey', r);
      }
      return undefined;
    })();
  });
  const typed = typing === undefined ? 'VerifyPin: no PinEntryStartedEvent' : await typing;
  if (vp.header.completionCode !== 'success') return typed ?? failure('VerifyPin', vp);
  const code = (vp.payload?.['result'] as { code?: string } | undefined)?.code;
  if (code !== 'verify.ok') return `VerifyPin: success without verify.ok (${String(code)})`;
  return typed;
}

class Daemon {
  public port = 0;
  public stderr = '';
  private exited: string | undefined;

  private constructor(private readonly child: ChildProcess) {
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString('utf8');
      if (this.stderr.length > 100_000) this.stderr = this.stderr.slice(-50_000);
    });
    child.on('exit', (code, sig) => (this.exited = `the daemon exited (${sig ?? String(code)}):\n${this.stderr.trim().slice(-2000)}`));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Spawn it and wait for "daemon running — API host:port"; resolves with the spawn→ready wall time. */
  static async start(configFile: string, env: NodeJS.ProcessEnv, nodeArgs: readonly string[] = []): Promise<{ daemon: Daemon; wallMs: number }> {
    // The daemon's own entry (what npm start and the systemd unit run), not the technician CLI.
    const sscardd = path.join(HERE, `sscardd${EXT}`);
    const [cmd, args] = withDeathSignal(process.execPath, [...process.execArgv, ...nodeArgs, sscardd, '--config', configFile]);
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: projectRoot(), env, stdio: ['ignore', 'ignore', 'pipe'] });
    const d = new Daemon(child);
    let wallMs = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the daemon was not ready within 30 s:\n${d.stderr}`)), 30_000);
      const check = (): void => {
        const m = /API [^\s]*?:(\d+)/.exec(d.stderr);
        if (!m) return;
        wallMs = performance.now() - t0;
        d.port = Number(m[1]);
        clearTimeout(timer);
        child.stderr.off('data', check);
        resolve();
      };
      child.stderr.on('data', check);
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(d.exited));
      });
    });
    return { daemon: d, wallMs };
  }

  get alive(): boolean {
    return this.exited === undefined;
  }

  get exitReason(): string | undefined {
    return this.exited;
  }

  async stop(): Promise<void> {
    await stopChild(this.child, 20_000);
  }
}

/** The daemon's own start-up time: the last DAEMON "ready" line of its JSON log. */
function daemonStartupMs(logFile: string): { startupMs: number; ready: boolean; reasons?: unknown } | undefined {
  let found: { startupMs: number; ready: boolean; reasons?: unknown } | undefined;
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    if (!line.includes('"DAEMON"') || !line.includes('startupMs')) continue;
    try {
      const e = JSON.parse(line) as { component?: string; message?: string; meta?: { startupMs?: number; reasons?: unknown } };
      if (e.component === 'DAEMON' && typeof e.meta?.startupMs === 'number') found = { startupMs: e.meta.startupMs, ready: e.message === 'ready', reasons: e.meta.reasons };
    } catch {
      // not a whole line
    }
  }
  return found;
}

/** What the daemon's log says about its last stop (a signal the bench did not send, e.g.). */
function lastStop(logFile: string): string {
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return '';
  }
  const line = text.split('\n').filter((l) => l.includes('"DAEMON"') && l.includes('"stopping"')).at(-1);
  return line === undefined ? '' : `; its log: ${line}`;
}

// ---------------------------------------------------------------- main

/** One path's figures for one reader count. */
type PathRow = Summary & {
  /** CPU time per successful flow of each process (driver = this process; clients = this process's WebSocket clients). */
  cpuMsPerFlow: Record<string, number> | null;
  /** APDUs to the card and the PSAM per flow, counted by the card process; only when no flow failed (a failed one sends fewer). */
  apdusPerFlow: { card: number; psam: number } | null;
  /** Errors the card process saw during this path's repetitions. */
  cardProcessErrors: number;
};

interface Row {
  readers: number;
  driver: PathRow;
  api: (PathRow & { rssMaxMB: number | null; readerField: boolean }) | null;
  apiSkipped?: string;
  overheadMs: number | null;
  ratio: number | null;
  /** Everything that stands against this row's figures: failed flows and the card process's errors, both paths. */
  errors: number;
  /** API overhead p50 ≤ 5 ms, met only without errors. */
  overheadTarget: Verdict;
}

/** What a path collects over its groups of repetitions (a group: consecutive repetitions of one path in the ABBA order). */
class PathRun {
  readonly reps: Rep[] = [];
  readonly cpu = new Map<string, number>();
  apdus = { card: 0, psam: 0 };
  cardProcessErrors = 0;

  /** Runs `count` repetitions of `flow` on `n` readers, measuring CPU of `procs` and what the card process counts. */
  async group(
    count: number,
    run: () => Promise<Rep>,
    cards: Cards,
    self: string,
    procs: readonly (readonly [string, number | undefined])[],
    after: (rep: Rep) => void,
  ): Promise<void> {
    const before = await cards.counts();
    const cpu0 = cpuNow(self, procs);
    for (let r = 0; r < count; r++) {
      const rep = await run();
      this.reps.push(rep);
      after(rep);
    }
    const cpu1 = cpuNow(self, procs);
    const end = await cards.counts();
    addCpu(this.cpu, cpu0, cpu1);
    this.apdus = { card: this.apdus.card + end.card - before.card, psam: this.apdus.psam + end.psam - before.psam };
    this.cardProcessErrors += end.errors - before.errors;
  }

  row(): PathRow {
    const s = summarise(this.reps);
    return {
      ...s,
      cpuMsPerFlow: cpuPerFlow(this.cpu, s.flows),
      apdusPerFlow: s.flows > 0 && s.errors === 0 ? { card: r1(this.apdus.card / s.flows), psam: r1(this.apdus.psam / s.flows) } : null,
      cardProcessErrors: this.cardProcessErrors,
    };
  }
}

/** "123 flows, 0 errors" (with the commonest error's text, and the readers given up, when there are some). */
function repLine(r: Rep): string {
  const top = r.errors.top();
  const dropped = r.dropped.length > 0 ? `; ${r.dropped.length} of ${r.readers} readers given up, ${r.readersCompleted} completed` : '';
  return `${r.flows} flows, ${r.errors.count} errors${top ? ` (${top[1]}× ${top[0]})` : ''}${dropped}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      reps: { type: 'string', default: '5' },
      'duration-ms': { type: 'string', default: '5000' },
      // A fresh daemon needs some thousand flows before V8 has optimised its hot paths.
      'warmup-ms': { type: 'string', default: '8000' },
      readers: { type: 'string', default: '1,4,8' },
      'idle-ms': { type: 'string', default: '2000' },
      card: { type: 'string', default: 'fixtures/cards/card-2.0.json' },
      psam: { type: 'string', default: 'fixtures/psam/psam-test.json' },
      'system-pcscd': { type: 'boolean', default: false },
      'daemon-prof': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const reps = intOption('reps', values.reps, 1);
  const durationMs = intOption('duration-ms', values['duration-ms'], 100);
  const warmupMs = intOption('warmup-ms', values['warmup-ms'], 0);
  const idleMs = intOption('idle-ms', values['idle-ms'], 0);
  let counts = (values.readers ?? '').split(',').map((s) => intOption('readers', s.trim(), 1));
  // The driver's code stays warm in this process between its groups: after the first warm-up,
  // a short settling run on the freshly opened channels is enough.
  const settleMs = Math.min(warmupMs, 1000);
  const root = projectRoot();
  const cardFile = path.resolve(root, values.card);
  const psamFile = path.resolve(root, values.psam);
  const progress = (s: string): void => {
    if (!values.json) process.stderr.write(`  … ${s}\n`);
    dog.refresh();
  };
  // A run that hangs (a wedged pcscd, the addon stuck in a native call) ends with an error, not silence.
  const dog = watchdog(180_000, 'bench:api: no progress for 180 s — giving up', { graceMs: 30_000, onExpire: () => void cleanup().finally(() => process.exit(1)) });

  if (!existsSync(VPCD_DRIVER)) throw new Error(`vsmartcard-vpcd is not installed (${VPCD_DRIVER} missing): run ./scripts/setup.sh`);
  const version = pcscdVersion();
  if (version === undefined) throw new Error('pcscd is not installed: run ./scripts/setup.sh');
  if (!existsSync(path.join(HERE, `sscard${EXT}`))) throw new Error(`${path.join(HERE, `sscard${EXT}`)} is missing: npm run build first`);
  const quick = quickAckOn();

  const scratch = new BenchScratch('bench:api', 'sscard-bench-api-', values.keep === true);
  const { dir } = scratch;
  const cleanups = scratch.steps;
  const cleanup = (): Promise<void> => scratch.run();

  try {
    let stack: Stack;
    if (values['system-pcscd']) stack = systemStack('--system-pcscd given');
    else {
      try {
        stack = await privateStack(dir);
      } catch (e) {
        stack = systemStack(`the private pcscd could not run: ${reasonOf(e)}`);
      }
    }
    cleanups.push(() => stack.stop());
    if (stack.mode === 'system') {
      process.stderr.write(`bench:api: FALLBACK to the system pcscd (${stack.fallbackReason}); 1 card reader only\n`);
      counts = counts.filter((n) => n <= 1);
      if (counts.length === 0) counts = [1];
    }
    const maxReaders = stack.cardReaders.length;
    for (const n of counts) if (n > maxReaders) throw new Error(`--readers ${n}: only ${maxReaders} card slots`);
    // Every pcsclite client of the bench (this process, the cards, the daemon) finds our pcscd here;
    // libpcsclite reads it when the first context is made, so before any PcscService starts.
    if (stack.socket !== undefined) process.env['PCSCLITE_CSOCK_NAME'] = stack.socket;
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };

    // The cards: one per slot used, and the PSAM.
    const slots = Math.max(...counts);
    const cards = Cards.start(env);
    cleanups.push(() => cards.stop());
    await cards.insert({ host: '127.0.0.1', cardPorts: stack.cardPorts.slice(0, slots), psamPort: stack.psamPort, card: cardFile, psam: psamFile });
    progress(`${stack.mode} pcscd ${version}: ${slots} virtual card(s) + PSAM inserted`);

    // The daemon's configuration (paths relative to the temp folder).
    const configFile = path.join(dir, 'bench.json');
    const logFile = path.join(dir, 'log', 'sscard.log');
    writeFileSync(
      configFile,
      JSON.stringify(
        {
          terminalId: 'BENCH-API-1',
          role: 'kiosk',
          simulate: 'off',
          readers: { card: stack.cardPattern, psam: stack.psamReader },
          pinPad: { kind: 'touchscreen', allowTouchscreen: true },
          idReader: { kind: 'none' },
          journal: { path: 'journal.db', keyFile: 'journal.key' },
          // One client token for all the bench's connections (one per reader): the secure default, as a native kiosk client.
          api: { port: 0, maxClients: 32, maxConnectionsPerClient: 16, clientsFile: 'api-clients.json' },
          // warn everywhere, but the DAEMON's "ready" line (with startupMs) is info.
          log: { level: 'warn', levels: { DAEMON: 'info' }, file: 'log/sscard.log', console: false },
          session: { inactivityMs: 3_600_000 },
        },
        null,
        2,
      ),
    );

    const token = addClient(configFile);

    const rows: Row[] = [];
    const startWall: number[] = [];
    const startDaemon: number[] = [];
    const idleRss: number[] = [];
    let readerField: boolean | undefined;

    const startOne = async (): Promise<Daemon> => {
      // --daemon-prof: a V8 CPU profile of every daemon, written when it stops (kept with --keep).
      const { daemon, wallMs } = await Daemon.start(configFile, env, values['daemon-prof'] ? ['--cpu-prof', '--cpu-prof-dir', path.join(dir, 'prof')] : []);
      cleanups.push(() => daemon.stop());
      const own = daemonStartupMs(logFile);
      if (own && !own.ready) throw new Error(`the daemon started but is not ready: ${JSON.stringify(own.reasons)}`);
      startWall.push(wallMs);
      if (own) startDaemon.push(own.startupMs);
      progress(`daemon up: spawn→ready ${wallMs.toFixed(0)} ms, startupMs ${own?.startupMs ?? '?'}`);
      return daemon;
    };

    // The driver's PC/SC service lives for the whole bench: between its groups only the channels
    // are closed, so that the daemon can take the cards (it holds them exclusively).
    const svc = new PcscService();
    svc.start();
    // The cards out first: their removal wakes the addon's status threads that the service's close() joins.
    cleanups.push(async () => {
      await cards.stop();
      await svc.stop();
    });
    await step('PC/SC service (bench)', 10_000, svc.ready(5000));
    const missing = [...stack.cardReaders.slice(0, slots), stack.psamReader].filter((r) => svc.reader(r) === undefined);
    if (missing.length > 0) throw new Error(`pcscd does not list ${missing.map((r) => `"${r}"`).join(', ')}; it lists ${svc.readers().map((r) => `"${r.name}"`).join(', ') || '(none)'}`);

    const order = runsOf(alternation(reps, 'ABBA'));
    for (const n of counts) {
      const readers = stack.cardReaders.slice(0, n);
      const driver = new PathRun();
      const api = new PathRun();
      let apiSkipped: string | undefined;
      let driverWarm = false;
      let apiRss = 0;

      // --- the driver, in this process: `count` repetitions on freshly opened channels ---
      const driverGroup = async (count: number): Promise<void> => {
        const opened: PcscChannel[] = [];
        try {
          const psamCh = await connectWhenFree(svc, stack.psamReader);
          opened.push(psamCh);
          const psam = new Psam(psamCh);
          await step('PSAM open', 10_000, psam.open());
          const channels: PcscChannel[] = [];
          for (const r of readers) {
            channels.push(await connectWhenFree(svc, r));
            opened.push(channels.at(-1)!);
          }
          const flow = (i: number): Promise<string | undefined> => driverFlow(channels[i]!, psam);
          await runLoops(n, driverWarm ? settleMs : warmupMs, flow);
          driverWarm = true;
          await driver.group(count, () => runLoops(n, durationMs, flow), cards, 'driver', [['pcscd', stack.pcscdPid], ['cards', cards.pid]], (rep) =>
            progress(`driver ×${n} rep ${driver.reps.length}/${reps}: ${repLine(rep)}`),
          );
        } finally {
          await Promise.all(opened.map((c) => c.close('leave').catch(() => undefined)));
        }
      };

      // --- the same flow over the API: `count` repetitions on a fresh daemon ---
      const apiGroup = async (count: number): Promise<void> => {
        const daemon = await step('daemon start', 40_000, startOne());
        const clients: XfsClient[] = [];
        try {
          await sleep(idleMs);
          const idle = readRssKb(daemon.pid);
          if (idle !== undefined) idleRss.push(idle);
          for (let i = 0; i < n; i++) clients.push(await XfsClient.connect(daemon.port, token));
          if (readerField === undefined) {
            // Does the API take `reader` yet? (Waits for the card's identification, too.)
            const probe = await clients[0]!.command('SSCard.ReadBasic', { reader: readers[0] });
            const text = `${probe.header.errorDescription ?? ''}`;
            readerField = !(probe.header.completionCode === 'invalidData' || probe.header.status === 'invalidMessage') || !/reader/i.test(text);
            if (!readerField) progress('the API does not take `reader` yet: one reader only, without the field');
          }
          if (!readerField && n > 1) {
            apiSkipped = 'the API does not take `reader` in SSCard.* / Keyboard.TouchKey yet: one card operation at a time';
            return;
          }
          const at = (i: number): string | undefined => (readerField ? readers[i] : undefined);
          // Every reader's card identified by this daemon before the warm-up starts.
          await Promise.all(clients.map((c, i) => cardReady(c, at(i))));
          await runLoops(n, Math.max(warmupMs, 1), (i) => apiFlow(clients[i]!, at(i)));
          let rssMax = readRssKb(daemon.pid) ?? 0;
          const sampler = setInterval(() => {
            rssMax = Math.max(rssMax, readRssKb(daemon.pid) ?? 0);
          }, 100);
          try {
            await api.group(
              count,
              () => runLoops(n, durationMs, (i) => apiFlow(clients[i]!, at(i))),
              cards,
              'clients',
              [['daemon', daemon.pid], ['pcscd', stack.pcscdPid], ['cards', cards.pid]],
              (rep) => {
                progress(`API ×${n} rep ${api.reps.length}/${reps}: ${repLine(rep)}`);
                if (!daemon.alive) throw new Error(`the daemon ended during the run: ${daemon.exitReason ?? ''}${lastStop(logFile)}`);
              },
            );
          } finally {
            clearInterval(sampler);
            apiRss = Math.max(apiRss, rssMax);
          }
        } finally {
          for (const c of clients) c.close();
          await daemon.stop();
        }
      };

      // ABBA: driver, API, API, driver, driver, API …; consecutive API repetitions share a daemon.
      for (const [p, count] of order) {
        if (p === 'A') await driverGroup(count);
        else if (apiSkipped === undefined) await apiGroup(count);
      }

      const d = driver.row();
      const a = api.reps.length > 0 ? { ...api.row(), rssMaxMB: apiRss > 0 ? r1(apiRss / 1024) : null, readerField: readerField ?? false } : null;
      const overhead = a && Number.isFinite(a.p50Ms) && Number.isFinite(d.p50Ms) ? r2(a.p50Ms - d.p50Ms) : null;
      const errors = errorsOf([d, a]);
      rows.push({
        readers: n,
        driver: d,
        api: a,
        ...(apiSkipped ? { apiSkipped } : {}),
        overheadMs: overhead,
        ratio: a ? r2(a.p50Ms / d.p50Ms) : null,
        errors,
        overheadTarget: judge(overhead === null ? null : overhead <= 5, errors),
      });
    }
    // At least three start-ups for the median.
    while (startWall.length < 3) {
      const d = await step('daemon start', 40_000, startOne());
      await d.stop();
    }

    const mb = (kb: number): number => r1(kb / 1024);
    const apiRows = rows.filter((r) => r.api !== null);
    const rising = apiRows.length >= 2 ? apiRows.every((r, i) => i === 0 || r.api!.flowsPerSecond > apiRows[i - 1]!.api!.flowsPerSecond) : null;
    const rssMaxAll = Math.max(0, ...apiRows.map((r) => r.api!.rssMaxMB ?? 0));
    const allErrors = rows.reduce((x, r) => x + r.errors, 0);
    const droppedAll = rows.reduce((x, r) => x + r.driver.dropped.length + (r.api?.dropped.length ?? 0), 0);
    const result = {
      benchmark: 'api',
      flow: 'SSCard.ReadBasic + SSCard.VerifyPin (PIN typed with 6× Keyboard.TouchKey) per reader; driver: readBasics(PSAM) + PIN tries + tries/VERIFY/tries',
      stack: { mode: stack.mode, pcscd: version, ...(stack.fallbackReason ? { fallbackReason: stack.fallbackReason } : {}), cardReaders: stack.cardReaders.slice(0, slots), psamReader: stack.psamReader },
      loopbackQuickAck: quick,
      cpus: os.cpus().length,
      node: process.version,
      card: values.card,
      psam: values.psam,
      repetitions: reps,
      durationMs,
      warmupMs,
      order: `${order.map(([p, k]) => (p === 'A' ? 'driver' : 'API').concat(k > 1 ? ` ×${k}` : '')).join(', ')} per reader count (ABBA; a fresh daemon for each run of API repetitions)`,
      readerField: readerField ?? null,
      errors: allErrors,
      droppedReaders: droppedAll,
      results: rows,
      startup: {
        wallMs: { median: r1(median(startWall)), runs: startWall.map(r1) },
        daemonStartupMs: { median: r1(median(startDaemon)), runs: startDaemon },
      },
      rss: { idleMB: { median: mb(median(idleRss)), runs: idleRss.map(mb) }, maxUnderLoadMB: rssMaxAll || null },
      targets: {
        overheadMs: { target: 5, ...judge(apiRows.length === 0 || apiRows.some((r) => r.overheadMs === null) ? null : apiRows.every((r) => r.overheadMs! <= 5), allErrors) },
        throughputRisesWithReaders: judge(rising, errorsOf(apiRows.flatMap((r) => [r.driver, r.api]))),
        // Measured on idle daemons and at start-up, not during the flows: the flows' errors do not stand against them.
        idleRssMB: { target: 80, met: mb(median(idleRss)) <= 80 },
        startupMs: { target: 500, daemonMet: median(startDaemon) <= 500, wallMet: median(startWall) <= 500 },
      },
    };

    if (values.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      const f = (x: number | null | undefined, d = 1): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));
      const pad = (s: string, w: number): string => s.padStart(w);
      const lines = [
        `bench:api — ${result.flow}`,
        `${stack.mode === 'private' ? `private pcscd ${version} (own mount namespace, ${DEVICES} vpcd devices: ${maxReaders} card slots + PSAM)` : `SYSTEM pcscd ${version} — fallback: ${stack.fallbackReason}`}; loopback quick ACK ${quick ? 'on' : 'OFF (each APDU costs ~40 ms)'}; ${result.cpus} CPUs; node ${process.version}`,
        `${reps} repetitions × ${durationMs} ms per path and reader count, in the order ${result.order}; warm-up ${warmupMs} ms per daemon and before the driver's first repetition (${settleMs} ms before its later ones)`,
        `medians over repetitions of successful flows only; ${values.card}, PIN ${'*'.repeat(PIN.length)}, ${values.psam}`,
        '',
        `readers | driver: flows/s   p50 ms   p99 ms errors | API: flows/s   p50 ms   p99 ms errors | card process errors | overhead p50   ratio | daemon RSS max`,
      ];
      const done = (r: Row): string => {
        const least = Math.min(r.driver.readersCompleted, r.api?.readersCompleted ?? r.readers);
        return least < r.readers ? `${r.readers} (${least})` : String(r.readers);
      };
      for (const r of rows) {
        const a = r.api;
        lines.push(
          [
            pad(done(r), 7),
            `${pad(f(r.driver.flowsPerSecond), 15)} ${pad(f(r.driver.p50Ms, 2), 8)} ${pad(f(r.driver.p99Ms, 2), 8)} ${pad(String(r.driver.errors), 6)}`,
            a ? `${pad(f(a.flowsPerSecond), 12)} ${pad(f(a.p50Ms, 2), 8)} ${pad(f(a.p99Ms, 2), 8)} ${pad(String(a.errors), 6)}` : pad('skipped', 37),
            pad(`${r.driver.cardProcessErrors} / ${a ? a.cardProcessErrors : '—'}`, 19),
            `${pad(r.overheadMs === null ? '—' : `${r.overheadMs >= 0 ? '+' : ''}${r.overheadMs.toFixed(2)} ms`, 12)} ${pad(f(r.ratio, 2), 7)}`,
            a?.rssMaxMB ? `${f(a.rssMaxMB)} MB` : '—',
          ].join(' | '),
        );
      }
      lines.push('', 'errors: flows that failed (not counted in flows/s or latency); card process errors: what it saw during the driver / API repetitions');
      if (droppedAll > 0) lines.push('readers "4 (3)": readers were given up after 20 failed flows in a row, and only 3 completed every repetition');
      const apdu = (x: PathRow | null): string => (x?.apdusPerFlow ? `${x.apdusPerFlow.card}+${x.apdusPerFlow.psam}` : '—');
      const cpu = (c: Record<string, number> | null | undefined): string => {
        if (!c) return '—';
        const parts = Object.entries(c).map(([k, v]) => `${k} ${v.toFixed(2)}`);
        return `${parts.join(' + ')} = ${Object.values(c).reduce((x, y) => x + y, 0).toFixed(2)}`;
      };
      lines.push('', 'per flow: APDUs to the card + PSAM (driver / API); CPU ms of each process (2 CPUs shared by all)');
      for (const r of rows) {
        lines.push(`  ×${r.readers}: APDUs ${apdu(r.driver)} / ${apdu(r.api)}; CPU driver run: ${cpu(r.driver.cpuMsPerFlow)}; API run: ${cpu(r.api?.cpuMsPerFlow)}`);
      }
      for (const r of rows) {
        if (r.apiSkipped) lines.push(`  ${r.readers} readers over the API skipped: ${r.apiSkipped}`);
        for (const [name, p] of [['driver', r.driver], ['API', r.api]] as const) {
          if (!p) continue;
          const reasons = Object.entries(p.errorReasons);
          if (reasons.length > 0) lines.push(`  ${name} errors ×${r.readers}: ${reasons.map(([k, v]) => `${v}× ${k}`).join('; ')}`);
          if (p.cardProcessErrors > 0) lines.push(`  card process errors during the ${name} repetitions ×${r.readers}: ${p.cardProcessErrors}`);
          for (const x of p.dropped) {
            lines.push(`  ${name} ×${r.readers} rep ${x.rep + 1}: reader "${readerName(stack, x.reader)}" given up after ${x.afterMs} ms (20 failed flows in a row, the last: ${x.reason})`);
          }
        }
      }
      for (const r of rows) {
        const run = (x: PathRow['runs'][number]): string => `${x.flowsPerSecond}/s p50 ${f(x.p50Ms, 2)}${x.errors > 0 ? ` !${x.errors} errors` : ''}${x.readersCompleted < r.readers ? ` (${x.readersCompleted} readers)` : ''}`;
        lines.push(`  runs ×${r.readers}: driver ${r.driver.runs.map(run).join(', ')}${r.api ? `; API ${r.api.runs.map(run).join(', ')}` : ''}`);
      }
      const t = result.targets;
      const met = (b: boolean | null): string => (b === null ? 'n/a' : b ? 'met' : 'NOT met');
      lines.push(
        '',
        `start-up to ready (pcscd running): spawn→"daemon running" median ${f(result.startup.wallMs.median, 0)} ms (${startWall.map((x) => x.toFixed(0)).join(', ')}); daemon's own startupMs median ${f(result.startup.daemonStartupMs.median, 0)} ms (${startDaemon.join(', ')}) — target ≤ 500 ms: daemon ${met(t.startupMs.daemonMet)}, wall ${met(t.startupMs.wallMet)}`,
        `daemon RSS: idle ${f(result.rss.idleMB.median)} MB median (${result.rss.idleMB.runs.join(', ')}) — target ≤ 80 MB: ${met(t.idleRssMB.met)}; max under load ${f(result.rss.maxUnderLoadMB)} MB`,
        `API overhead ≤ 5 ms per flow (API p50 − driver p50), met only without errors: ${apiRows.map((r) => `×${r.readers} ${r.overheadMs === null ? '—' : `${r.overheadMs >= 0 ? '+' : ''}${r.overheadMs.toFixed(2)} ms`} ${verdictText(r.overheadTarget)}`).join('; ') || '—'} — overall ${verdictText(t.overheadMs)}`,
        `throughput rising with readers: ${verdictText(t.throughputRisesWithReaders)}${apiRows.length >= 2 ? ` (${apiRows.map((r) => `${r.readers}: ${r.api!.flowsPerSecond}/s`).join(' → ')})` : ''}`,
        ...(allErrors > 0 || droppedAll > 0
          ? [`ERRORS: ${allErrors} in all${droppedAll > 0 ? `, ${droppedAll} reader(s) given up` : ''} — the figures above come from a run that did not go cleanly`]
          : ['errors: none (driver, API and card process, every reader count)']),
        '',
      );
      process.stdout.write(lines.join('\n'));
    }
    // Figures were made, but something failed: say so to a script or CI too.
    if (allErrors > 0 || droppedAll > 0) process.exitCode = 1;
    scratch.failed = false;
  } finally {
    dog.refresh({ ms: 60_000, message: 'bench:api: cleaning up took more than 60 s' });
    await cleanup();
    dog.stop();
  }
}

/** `sscard client add bench`: a client token for the bench's WebSocket clients. */
function addClient(configFile: string): string {
  const r = spawnSync(process.execPath, [...process.execArgv, path.join(HERE, `sscard${EXT}`), 'client', 'add', 'bench', '--config', configFile], { encoding: 'utf8' });
  const token = r.stdout.trim();
  if (r.status !== 0 || !token.startsWith('sscc_')) throw new Error(`sscard client add bench failed (${String(r.status ?? r.signal)}): ${r.stderr.trim()}`);
  return token;
}

/** The card reader of loop `i`. */
function readerName(stack: Stack, i: number): string {
  return stack.cardReaders[i] ?? `#${i}`;
}

/** ReadBasic until it succeeds: the daemon has identified the card in that reader (≤ 15 s). */
async function cardReady(c: XfsClient, reader: string | undefined): Promise<void> {
  const end = Date.now() + 15_000;
  for (;;) {
    const r = await c.command('SSCard.ReadBasic', reader === undefined ? {} : { reader });
    if (r.header.completionCode === 'success') return;
    if (Date.now() > end) throw new Error(`the daemon did not read the card in ${reader ?? 'its reader'} within 15 s: ${failure('ReadBasic', r)}`);
    await sleep(100);
  }
}

// Exit explicitly: the pcsclite addon's watcher threads can outlive a failed run.
main().then(
  () => process.exit(),
  (err: unknown) => {
    process.stderr.write(`bench:api failed: ${reasonOf(err)}\n(需要 pcscd 与 vpcd / needs pcscd with vpcd: ./scripts/setup.sh; then npm run build)\n`);
    process.exit(1);
  },
);
