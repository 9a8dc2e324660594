/**
 * The PC/SC stack a bench's cards sit in: the system pcscd's two vpcd readers, or a PRIVATE pcscd
 * (bench:api) with its own reader.conf of five vpcd devices (8 card slots + 1 PSAM slot), so that
 * the system pcscd and whoever tests against it are left alone.
 *
 * pcsc-lite 1.9.9's pcscd has /run/pcscd/pcscd.comm compiled in (PCSCLITE_CSOCK_NAME is read by
 * the client library only) and refuses to start while the system pcscd owns that path, so the
 * private one runs in its own mount namespace (`unshare --mount`, root) with a folder of ours
 * bind-mounted on /run/pcscd; the bench, the card process and the daemon reach it through
 * PCSCLITE_CSOCK_NAME. Each vpcd device gets its own name and its own copy of the driver (see
 * privateStack), and pcscd runs as "bench-pcscd" so that the e2e suites' `pkill -x pcscd` spares
 * it. docs/benchmarks.md says how the benches use it.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { haveCommand, stopChild, withDeathSignal } from './processes.js';
import { waitFor } from './run.js';

export const VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';
/** Four vpcd devices of two slots for the cards, a fifth for the PSAM. */
const CARD_DEVICES = 4;
export const DEVICES = CARD_DEVICES + 1;

/** The system pcscd's vpcd readers (/etc/reader.conf.d/vpcd, ./scripts/setup.sh), shared with the e2e suites. */
export const SYSTEM_VPCD = { cardReader: 'Virtual PCD 00 00', psamReader: 'Virtual PCD 00 01', cardPort: 35963, psamPort: 35964 } as const;

/** Fails, saying what to do, when vsmartcard-vpcd is not installed. */
export function requireVpcd(): void {
  if (!existsSync(VPCD_DRIVER)) throw new Error(`vsmartcard-vpcd is not installed (${VPCD_DRIVER} missing): run ./scripts/setup.sh`);
}

/** Is loopback quick ACK on (README: each APDU through vpcd costs ~0.2 ms instead of ~40 ms)? */
export function quickAckOn(): boolean {
  try {
    return /127\.0\.0\.1.*quickack 1/.test(execFileSync('ip', ['route', 'show', 'table', 'local'], { encoding: 'utf8' }));
  } catch {
    return false;
  }
}

/** Does something listen on this TCP port of loopback? */
export function listening(port: number): boolean {
  const r = spawnSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim().length > 0;
}

export function pcscdVersion(): string | undefined {
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

export interface Stack {
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
export async function privateStack(dir: string): Promise<Stack> {
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

export function systemStack(reason: string): Stack {
  return {
    mode: 'system',
    fallbackReason: reason,
    cardReaders: [SYSTEM_VPCD.cardReader],
    psamReader: SYSTEM_VPCD.psamReader,
    cardPorts: [SYSTEM_VPCD.cardPort],
    psamPort: SYSTEM_VPCD.psamPort,
    cardPattern: SYSTEM_VPCD.cardReader,
    stop: () => Promise.resolve(),
  };
}

/** The card reader of loop `i`. */
export function readerName(stack: Stack, i: number): string {
  return stack.cardReaders[i] ?? `#${i}`;
}
