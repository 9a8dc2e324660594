/**
 * npm run bench:fuzz — hostile traffic against a running daemon (docs/security.md, "A hostile
 * client costs nothing"): at least 100 000 fast-check generated WebSocket frames, upgrades and HTTP
 * requests (scripts/api-fuzz.ts) against `sscardd` at a counter, with the virtual 2.0 card and the
 * test PSAM in the system pcscd's vpcd readers (the card process, bench-api-cards.ts) and the ID
 * card reader simulator on a pty. It reports the messages sent by kind, the answers and refusals by
 * kind (HTTP status codes and return codes, acknowledge statuses, completion codes, closes), the
 * daemon's RSS before, after and at its highest (with a timeline), the log bytes and lines written
 * and what they were, the audit rows the refused privileged calls left, the duration, and whether
 * /health, a ReadBasic, the card's tries and a VerifyPin are as they should be afterwards. Anything
 * that is not — an anomaly of the traffic, a daemon that died, a check that failed — is printed and
 * makes the bench exit 1; nothing is hidden. Figures: docs/benchmarks.md.
 *
 * It uses the shared vpcd readers (TCP 35963/35964): run it as
 * `flock /tmp/sscard-vpcd.lock npm run bench:fuzz`, after `npm run build`.
 *
 *   node dist/scripts/bench-fuzz.js [--seed 20261202] [--messages 100000] [--log-level info]
 *     [--scrypt-n 32768] [--deadline-ms 1200000] [--card fixtures/cards/card-2.0.json]
 *     [--psam fixtures/psam/psam-test.json] [--keep] [--json]
 *
 * `--scrypt-n`: the scrypt cost of the operator's passphrase hash, by default the daemon's own
 * default (what `sscard operator hash` writes); the traffic's logins pay it. 1024 is what the
 * end-to-end suites use.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { clientTokenHash, newClientToken, writeClientsFile } from '../daemon/auth/clients.js';
import { DEFAULT_SCRYPT, hashPassphrase } from '../daemon/auth/passphrase.js';
import { loadIdCardFixture } from '../drivers/sim/idcard-fixtures.js';
import { IdReaderSimulator } from '../drivers/sim/idcard-reader.js';
import { PtyPair } from '../drivers/sim/pty.js';
import { runFuzz } from './api-fuzz.js';
import type { FuzzReport } from './api-fuzz.js';
import { BenchScratch, Cards, intOption, r1, reasonOf, step, stopChild, watchdog } from './bench-kit.js';
import { projectRoot } from './cli-util.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const EXT = path.extname(fileURLToPath(import.meta.url));
const VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';
const CARD_READER = 'Virtual PCD 00 00';
const PSAM_READER = 'Virtual PCD 00 01';
const CARD_PORT = 35963;
const PSAM_PORT = 35964;
/** The card's PIN (fixtures/cards/card-2.0.json) and holder, for the checks afterwards. */
const PIN = '123456';
const HOLDER = { socialSecurityNumber: '411082198503120038', name: '王志强' };
const MAX_FRAME = 65_536;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function rssKb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const mb = (kb: number | undefined): number | null => (kb === undefined ? null : r1(kb / 1024));

function listening(port: number): boolean {
  const r = spawnSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim().length > 0;
}

/** Child processes get SIGTERM when the bench dies, even by SIGKILL (setpriv --pdeathsig). */
function withDeathSignal(cmd: string, args: string[]): [string, string[]] {
  return spawnSync('sh', ['-c', 'command -v setpriv'], { stdio: 'ignore' }).status === 0 ? ['setpriv', ['--pdeathsig', 'TERM', '--', cmd, ...args]] : [cmd, args];
}

/** The daemon's own entry (what npm start runs), from dist. */
class Daemon {
  public port = 0;
  public stderr = '';
  private exited: string | undefined;

  private constructor(private readonly child: ChildProcess) {
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString('utf8');
      if (this.stderr.length > 100_000) this.stderr = this.stderr.slice(-50_000);
    });
    child.on('exit', (code, sig) => (this.exited = `the daemon exited (${sig ?? String(code)}): ${this.stderr.trim().slice(-1500)}`));
  }

  static async start(configFile: string): Promise<Daemon> {
    const [cmd, args] = withDeathSignal(process.execPath, [path.join(HERE, `sscardd${EXT}`), '--config', configFile]);
    const d = new Daemon(spawn(cmd, args, { cwd: projectRoot(), env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] }));
    const end = Date.now() + 30_000;
    for (;;) {
      const m = /API [^\s]*?:(\d+)/.exec(d.stderr);
      if (m) {
        d.port = Number(m[1]);
        return d;
      }
      if (d.exited !== undefined) throw new Error(d.exited);
      if (Date.now() > end) throw new Error(`the daemon did not listen within 30 s: ${d.stderr.slice(-1500)}`);
      await sleep(50);
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  get exitReason(): string | undefined {
    return this.exited;
  }

  async stop(): Promise<void> {
    await stopChild(this.child, 20_000);
  }
}

/** One command over a fresh WebSocket of the client; its completion (or the refusing acknowledge). */
async function command(port: number, token: string, name: string, payload: Record<string, unknown>, onEvent?: (ws: WebSocket, m: Msg) => void, ms = 20_000): Promise<Msg> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/xfs4iot/v1.0/sscard`, { headers: { authorization: `Bearer ${token}` } });
  try {
    await step('WebSocket open', 10_000, new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject).once('unexpected-response', (_q, r) => reject(new Error(`HTTP ${r.statusCode ?? 0}`)))));
    return await step(
      name,
      ms,
      new Promise<Msg>((resolve) => {
        ws.on('message', (d: Buffer) => {
          const m = JSON.parse(d.toString('utf8')) as Msg;
          if (m.header.requestId !== 1) return;
          if (m.header.type === 'event') onEvent?.(ws, m);
          if (m.header.type === 'completion' || (m.header.type === 'acknowledge' && m.header.status !== null)) resolve(m);
        });
        ws.send(JSON.stringify({ header: { type: 'command', name, requestId: 1, version: '2.0', timeout: ms - 2000 }, payload }));
      }),
    );
  } finally {
    ws.close();
  }
}

interface Msg {
  readonly header: { readonly type: string; readonly name: string; readonly requestId?: number | null; readonly status?: string | null; readonly completionCode?: string };
  readonly payload?: Record<string, unknown>;
}

interface Checks {
  readonly alive: boolean;
  readonly health: { readonly status: number; readonly ready: boolean | null; readonly reasons: unknown };
  readonly readBasic: { readonly completionCode: string; readonly holderMatches: boolean; readonly triesLeft: unknown };
  readonly cardBusyAfterMs: number | null;
  readonly triesLeft: unknown;
  readonly verifyPin: { readonly completionCode: string; readonly result: unknown };
}

/** What must hold after the traffic: alive, ready, ReadBasic with the holder's data, no flow left, tries untouched, the right PIN verifies. */
async function checksAfter(d: Daemon, token: string): Promise<{ checks: Checks; failures: string[] }> {
  const failures: string[] = [];
  const alive = d.exitReason === undefined;
  if (!alive) failures.push(d.exitReason ?? 'the daemon exited');
  const get = (p: string) => fetch(`http://127.0.0.1:${d.port}${p}`, { headers: { authorization: `Bearer ${token}` } });
  let health: Checks['health'] = { status: 0, ready: null, reasons: null };
  try {
    const h = await get('/health');
    const body = (await h.json()) as { ready?: boolean; reasons?: unknown };
    health = { status: h.status, ready: body.ready ?? null, reasons: body.reasons ?? null };
  } catch (e) {
    failures.push(`/health: ${reasonOf(e)}`);
  }
  if (health.status !== 200 || health.ready !== true) failures.push(`/health answered ${health.status} ${JSON.stringify(health.reasons)}`);
  // Flows the traffic started let go within abortGraceMs (10 s) of its connections closing.
  const t0 = Date.now();
  let busyAfter: number | null = null;
  let triesLeft: unknown = null;
  try {
    for (;;) {
      const s = (await (await get('/status')).json()) as { readers: { busy: boolean }[]; card: { triesLeft: unknown } };
      triesLeft = s.card.triesLeft;
      if (!s.readers.some((r) => r.busy)) {
        busyAfter = Date.now() - t0;
        break;
      }
      if (Date.now() - t0 > 15_000) {
        failures.push('a card operation was still running 15 s after the traffic');
        break;
      }
      await sleep(100);
    }
  } catch (e) {
    failures.push(`/status: ${reasonOf(e)}`);
  }
  if (triesLeft !== 6) failures.push(`the card's PIN tries are ${JSON.stringify(triesLeft)}, not 6`);
  let readBasic: Checks['readBasic'] = { completionCode: 'not run', holderMatches: false, triesLeft: null };
  try {
    const rb = await command(d.port, token, 'SSCard.ReadBasic', {});
    const p = rb.payload ?? {};
    readBasic = { completionCode: rb.header.completionCode ?? rb.header.status ?? '?', holderMatches: p['socialSecurityNumber'] === HOLDER.socialSecurityNumber && p['name'] === HOLDER.name, triesLeft: p['triesLeft'] ?? null };
  } catch (e) {
    failures.push(`ReadBasic: ${reasonOf(e)}`);
  }
  if (readBasic.completionCode !== 'success' || !readBasic.holderMatches || readBasic.triesLeft !== 6) failures.push(`ReadBasic afterwards: ${JSON.stringify(readBasic)}`);
  let verifyPin: Checks['verifyPin'] = { completionCode: 'not run', result: null };
  try {
    let typed = false;
    const vp = await command(d.port, token, 'SSCard.VerifyPin', {}, (ws, m) => {
      if (m.header.name !== 'SSCard.PinEntryStartedEvent' || typed) return;
      typed = true;
      [...PIN].forEach((key, i) => ws.send(JSON.stringify({ header: { type: 'command', name: 'Keyboard.TouchKey', requestId: 100 + i, version: '2.0' }, payload: { key } })));
    });
    const result = (vp.payload?.['result'] as { code?: string; triesLeft?: number } | undefined) ?? null;
    verifyPin = { completionCode: vp.header.completionCode ?? vp.header.status ?? '?', result: result === null ? null : { code: result.code, triesLeft: result.triesLeft } };
    if (verifyPin.completionCode !== 'success' || result?.code !== 'verify.ok') failures.push(`VerifyPin afterwards: ${JSON.stringify(verifyPin)}`);
  } catch (e) {
    failures.push(`VerifyPin: ${reasonOf(e)}`);
  }
  return { checks: { alive, health, readBasic, cardBusyAfterMs: busyAfter, triesLeft, verifyPin }, failures };
}

function logBytes(dir: string): number {
  try {
    return readdirSync(dir).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);
  } catch {
    return 0;
  }
}

/** The log lines from byte `from` on, by component, level and message (numbers and client ids folded). */
function logLines(file: string, from: number): { lines: number; byMessage: { what: string; lines: number; bytes: number }[] } {
  const text = readFileSync(file).subarray(from).toString('utf8');
  const by = new Map<string, { lines: number; bytes: number }>();
  let lines = 0;
  for (const l of text.split('\n')) {
    if (l.length === 0) continue;
    lines++;
    let what = '(not JSON)';
    try {
      const e = JSON.parse(l) as { component?: string; level?: string; message?: string };
      const msg = String(e.message).replace(/\b\d+\b/g, 'N').replace(/client c\d+/, 'client cN');
      what = `${e.component} ${e.level} ${e.component === 'APDU' ? '(APDU trace)' : msg}`;
    } catch {
      // counted as not JSON
    }
    const v = by.get(what) ?? { lines: 0, bytes: 0 };
    v.lines++;
    v.bytes += Buffer.byteLength(l) + 1;
    by.set(what, v);
  }
  return { lines, byMessage: [...by].map(([what, v]) => ({ what, ...v })).sort((a, b) => b.bytes - a.bytes) };
}

function auditRows(journal: string): number | null {
  try {
    const db = new Database(journal, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM audit').get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '20261202' },
      messages: { type: 'string', default: '100000' },
      'log-level': { type: 'string', default: 'info' },
      'scrypt-n': { type: 'string', default: String(DEFAULT_SCRYPT.N) },
      'deadline-ms': { type: 'string', default: '1200000' },
      card: { type: 'string', default: 'fixtures/cards/card-2.0.json' },
      psam: { type: 'string', default: 'fixtures/psam/psam-test.json' },
      keep: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const seed = intOption('seed', values.seed, 0);
  const messages = intOption('messages', values.messages, 1);
  const deadlineMs = intOption('deadline-ms', values['deadline-ms'], 1000);
  const scryptN = intOption('scrypt-n', values['scrypt-n'], 1024);
  const logLevel = values['log-level'] ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new Error(`--log-level must be debug, info, warn or error, got "${logLevel}"`);
  const root = projectRoot();
  const progress = (s: string): void => {
    if (!values.json) process.stderr.write(`  … ${s}\n`);
    dog.refresh();
  };
  const dog = watchdog(180_000, 'bench:fuzz: no progress for 180 s — giving up', { graceMs: 30_000, onExpire: () => void cleanup().finally(() => process.exit(1)) });

  if (!existsSync(VPCD_DRIVER)) throw new Error(`vsmartcard-vpcd is not installed (${VPCD_DRIVER} missing): run ./scripts/setup.sh`);
  if (spawnSync('pgrep', ['-x', 'pcscd']).status !== 0) throw new Error('pcscd is not running: run ./scripts/setup.sh (or sudo pcscd)');
  if (!listening(CARD_PORT)) throw new Error(`vpcd is not listening on 127.0.0.1:${CARD_PORT}: is /etc/reader.conf.d/vpcd present? run ./scripts/setup.sh`);
  if (!existsSync(path.join(HERE, `sscardd${EXT}`))) throw new Error(`${path.join(HERE, `sscardd${EXT}`)} is missing: npm run build first`);

  const scratch = new BenchScratch('bench:fuzz', 'sscard-bench-fuzz-', values.keep === true);
  const { dir } = scratch;
  const cleanups = scratch.steps;
  const cleanup = (): Promise<void> => scratch.run();
  cleanups.push(() => dog.stop());

  try {
    // The cards in their own process; pcscd needs one presence poll (400 ms) to see them go at the end.
    const cards = Cards.start({ ...process.env, NO_COLOR: '1' });
    cleanups.push(async () => {
      await cards.stop();
      await sleep(1200);
    });
    await cards.insert({ host: '127.0.0.1', cardPorts: [CARD_PORT], psamPort: PSAM_PORT, card: path.resolve(root, values.card), psam: path.resolve(root, values.psam) });
    const pty = await PtyPair.open({ dir: path.join(dir) });
    cleanups.push(() => pty.close());
    const idSim = new IdReaderSimulator({ path: pty.b });
    await idSim.start();
    cleanups.push(() => idSim.stop());
    idSim.place(loadIdCardFixture('id-card-2.0'));
    progress('virtual card, PSAM and ID card reader in place');

    const token = newClientToken();
    const clientsFile = path.join(dir, 'api-clients.json');
    writeClientsFile(clientsFile, [{ name: 'bench', hash: clientTokenHash(token), created: new Date().toISOString() }]);
    const configFile = path.join(dir, 'bench-fuzz.json');
    const logDir = path.join(dir, 'log');
    writeFileSync(
      configFile,
      JSON.stringify(
        {
          terminalId: 'BENCH-FUZZ-1',
          deviceId: 'DEV-FUZZ',
          role: 'counter',
          simulate: 'off',
          readers: { card: CARD_READER, psam: PSAM_READER },
          pinPad: { kind: 'touchscreen', allowTouchscreen: true },
          idReader: { kind: 'serial', path: pty.a },
          journal: { path: 'journal.db', keyFile: 'journal.key' },
          // The API's bounds at their defaults (docs/api.md "What a client may cost"), spelled out.
          api: { port: 0, maxFrameBytes: MAX_FRAME, maxClients: 16, maxConnectionsPerClient: 8, clientsFile },
          // An operator hashed as `sscard operator hash` does (unless --scrypt-n): a login costs what it costs at a counter.
          operators: { accounts: [{ id: 'op1', name: '张三', hash: hashPassphrase(Buffer.from('bench operator passphrase'), { N: scryptN }) }] },
          // Nothing rotates during the run, so the bytes written are the growth of one file.
          log: { level: logLevel, file: 'log/sscard.log', console: false, maxSizeBytes: 1024 * 1024 * 1024 },
          session: { inactivityMs: 3_600_000 },
        },
        null,
        2,
      ),
    );
    const daemon = await step('daemon start', 40_000, Daemon.start(configFile));
    cleanups.push(() => daemon.stop());
    // Ready (the ID card reader answered, the card identified) before anything is measured.
    const base = `http://127.0.0.1:${daemon.port}`;
    const end = Date.now() + 30_000;
    for (;;) {
      const s = (await (await fetch(`${base}/status`, { headers: { authorization: `Bearer ${token}` } })).json()) as { card: { identified: boolean } };
      const h = await fetch(`${base}/health`);
      if (h.status === 200 && s.card.identified) break;
      if (Date.now() > end) throw new Error(`the daemon was not ready with the card identified within 30 s: ${await h.text()}`);
      await sleep(100);
    }
    const first = await command(daemon.port, token, 'SSCard.ReadBasic', {});
    if (first.header.completionCode !== 'success') throw new Error(`ReadBasic before the traffic: ${JSON.stringify(first.header)}`);
    await sleep(2000);
    const rssIdle = rssKb(daemon.pid);
    const logFile = path.join(logDir, 'sscard.log');
    const log0 = logBytes(logDir);
    const audit0 = auditRows(path.join(dir, 'journal.db'));
    progress(`daemon ready on port ${daemon.port}, RSS ${mb(rssIdle)} MB, log at ${logLevel}; sending ${messages} messages (seed ${seed})`);

    let rssMax = rssIdle ?? 0;
    const timeline: { messages: number; rssMB: number | null; seconds: number }[] = [];
    const t0 = performance.now();
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssKb(daemon.pid) ?? 0)), 100);
    let report: FuzzReport;
    try {
      report = await runFuzz(
        { host: '127.0.0.1', port: daemon.port, token, maxFrameBytes: MAX_FRAME, reader: CARD_READER },
        {
          seed,
          messages,
          deadlineMs,
          onProgress: (n) => {
            if (n % 10_000 !== 0) return;
            const rss = rssKb(daemon.pid);
            timeline.push({ messages: n, rssMB: mb(rss), seconds: r1((performance.now() - t0) / 1000) });
            progress(`${n} messages, RSS ${mb(rss)} MB`);
          },
        },
      );
    } finally {
      clearInterval(sampler);
    }
    await sleep(2000);
    const rssAfter = rssKb(daemon.pid);
    progress(`traffic done in ${r1(report.durationMs / 1000)} s; checking the daemon`);
    const { checks, failures } = await checksAfter(daemon, token);
    await daemon.stop();
    const log1 = logBytes(logDir);
    const lines = existsSync(logFile) ? logLines(logFile, log0) : { lines: 0, byMessage: [] };
    const audit1 = auditRows(path.join(dir, 'journal.db'));
    if (report.anomalies.count > 0) failures.unshift(`${report.anomalies.count} anomalies: ${JSON.stringify(report.anomalies.byKind)}`);
    if (report.messages < messages) failures.push(`only ${report.messages} of ${messages} messages were sent before the deadline`);

    const refusals = Object.values(report.refusals).reduce((a, b) => a + b, 0);
    const channels: Record<string, number> = {};
    for (const [k, v] of Object.entries(report.sent)) {
      const ch = k.startsWith('ws touchKey') ? 'touch keys' : k.startsWith('ws ') ? 'WebSocket frames' : k.startsWith('http ') ? 'HTTP requests' : 'upgrades';
      channels[ch] = (channels[ch] ?? 0) + v;
    }
    const result = {
      benchmark: 'fuzz',
      seed,
      node: process.version,
      cpus: os.cpus().length,
      logLevel,
      scryptN,
      messages: report.messages,
      bytesSent: report.bytesSent,
      durationS: r1(report.durationMs / 1000),
      messagesPerSecond: Math.round(report.messages / (report.durationMs / 1000)),
      acceptedCommands: report.acceptedCommands,
      connectionsOpened: report.connectionsOpened,
      refusalsTotal: refusals,
      channels,
      rss: { idleMB: mb(rssIdle), afterMB: mb(rssAfter), maxMB: mb(rssMax), timeline },
      log: { bytesWritten: log1 - log0, lines: lines.lines, bytesPerMessage: r1((log1 - log0) / report.messages), top: lines.byMessage.slice(0, 12) },
      auditRowsWritten: audit0 === null || audit1 === null ? null : audit1 - audit0,
      checks,
      failures,
      report,
    };

    if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const table = (o: Record<string, number>, limit = 40): string =>
        Object.entries(o)
          .slice(0, limit)
          .map(([k, v]) => `    ${String(v).padStart(7)}  ${k}`)
          .join('\n') + (Object.keys(o).length > limit ? `\n    … ${Object.keys(o).length - limit} more` : '');
      const out = [
        `bench:fuzz — seed ${seed}, ${report.messages} messages (${(report.bytesSent / 1e6).toFixed(1)} MB) in ${result.durationS} s (${result.messagesPerSecond}/s); node ${process.version}, ${result.cpus} CPUs; daemon log at ${logLevel}; operator hash scrypt N = ${scryptN}`,
        `  commands accepted ${report.acceptedCommands}, WebSocket connections opened ${report.connectionsOpened}, frames lost to a close ${report.framesLostToClose}, digits the keypad model replaced ${report.keysReplaced}`,
        '',
        `daemon RSS: idle ${result.rss.idleMB} MB → after ${result.rss.afterMB} MB; highest ${result.rss.maxMB} MB`,
        `  timeline (messages: MB): ${timeline.map((t) => `${t.messages / 1000}k: ${t.rssMB}`).join(', ')}`,
        `log: ${result.log.bytesWritten} bytes written, ${lines.lines} lines (${result.log.bytesPerMessage} bytes per message); audit rows written ${result.auditRowsWritten ?? '?'}`,
        ...lines.byMessage.slice(0, 12).map((m) => `    ${String(m.lines).padStart(7)} lines ${String(m.bytes).padStart(10)} bytes  ${m.what}`),
        '',
        `messages sent, by kind (${Object.entries(channels).map(([k, v]) => `${k} ${v}`).join(', ')}):`,
        table(report.sent, 80),
        '',
        `refusals, by kind (${refusals} in all):`,
        table(report.refusals),
        '',
        'answers that are not refusals:',
        table(Object.fromEntries(Object.entries(report.answers).filter(([k]) => report.refusals[k] === undefined))),
        '',
        'vendor calls, by function and answer:',
        table(report.vendor),
        '',
        `afterwards: alive ${checks.alive}; /health ${checks.health.status} ready ${String(checks.health.ready)}; card free after ${checks.cardBusyAfterMs ?? '—'} ms; tries ${JSON.stringify(checks.triesLeft)}; ReadBasic ${checks.readBasic.completionCode} (holder ${checks.readBasic.holderMatches ? 'matches' : 'DOES NOT match'}, tries ${JSON.stringify(checks.readBasic.triesLeft)}); VerifyPin ${checks.verifyPin.completionCode} ${JSON.stringify(checks.verifyPin.result)}`,
        `anomalies: ${report.anomalies.count}${report.anomalies.count > 0 ? `\n${report.anomalies.examples.map((e) => `    ${e}`).join('\n')}` : ''}`,
        failures.length === 0 ? 'no failure' : `FAILURES:\n${failures.map((f) => `    ${f}`).join('\n')}`,
        '',
      ];
      process.stdout.write(out.join('\n'));
    }
    if (failures.length > 0) process.exitCode = 1;
    scratch.failed = failures.length > 0;
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(),
  (err: unknown) => {
    process.stderr.write(`bench:fuzz failed: ${reasonOf(err)}\n(需要 pcscd 与 vpcd / needs pcscd with vpcd: ./scripts/setup.sh; then npm run build; run it under flock /tmp/sscard-vpcd.lock)\n`);
    process.exit(1);
  },
);
