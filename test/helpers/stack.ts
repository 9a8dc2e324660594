/**
 * The real PC/SC stack for the end-to-end suites: pcscd with vsmartcard's vpcd driver. When it is
 * missing the suites fail with a message saying how to get it (never skip: CI must notice).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CARD_READER = 'Virtual PCD 00 00';
export const PSAM_READER = 'Virtual PCD 00 01';
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';
const PCSCD_SOCKET = '/run/pcscd/pcscd.comm';

function pcscdRunning(): boolean {
  return spawnSync('pgrep', ['-x', 'pcscd']).status === 0;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Is pcscd's vpcd driver listening on `port`? Asked of the kernel (ss), not by connecting: a
 * connection to vpcd is a card insertion.
 */
function portOpen(port: number): boolean {
  const r = spawnSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim().length > 0;
}

async function waitFor(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(50);
  }
  return cond();
}

/** Make sure pcscd with vpcd runs (starting pcscd when we are root); throw a clear error otherwise. */
export async function requireStack(): Promise<void> {
  if (!existsSync(VPCD_DRIVER)) {
    throw new Error(`vsmartcard-vpcd is not installed (${VPCD_DRIVER} missing): run ./scripts/setup.sh`);
  }
  if (!pcscdRunning()) {
    if (process.getuid?.() !== 0) throw new Error('pcscd is not running: run ./scripts/setup.sh (or sudo pcscd)');
    startPcscd();
  }
  if (!(await waitFor(() => existsSync(PCSCD_SOCKET), 5000))) throw new Error(`pcscd did not create ${PCSCD_SOCKET}`);
  if (!(await waitFor(() => portOpen(35963), 5000))) {
    throw new Error('vpcd is not listening on 127.0.0.1:35963: is /etc/reader.conf.d/vpcd present? run ./scripts/setup.sh');
  }
}

export function startPcscd(): void {
  const child = spawn('pcscd', [], { stdio: 'ignore', detached: true });
  child.unref();
}

/** Kill pcscd (as a crash or an upgrade would) and, after `downMs`, start it again. */
export async function restartPcscd(downMs = 500): Promise<void> {
  execFileSync('pkill', ['-x', 'pcscd']);
  await waitFor(() => !pcscdRunning(), 5000);
  await sleep(downMs);
  startPcscd();
  await waitFor(() => pcscdRunning() && existsSync(PCSCD_SOCKET), 5000);
  await waitFor(() => portOpen(35963), 5000);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the sscard command from source (tsx), as a technician would run it. */
export function runCli(args: string[], timeoutMs = 30000, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'sscard.ts'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sscard ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * After a suite pulled its virtual cards (or a simulating daemon did on exit): wait until pcscd,
 * which polls vpcd for presence every 400 ms, has surely seen them go. A card the next suite
 * inserts within the same poll window is never powered up and its first command fails with
 * SCARD_E_NOT_TRANSACTED (seen once in CI when a suite followed the simulating daemon at once).
 */
export function settleAfterRemoval(): Promise<void> {
  return sleep(1200);
}
