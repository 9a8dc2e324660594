/**
 * The daemon under a bench: `sscardd` from the build, spawned with its config and watched (its
 * stderr kept for the reason it ended, its JSON log read for its own start-up time).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../cli-util.js';
import { stopChild, withDeathSignal } from './processes.js';

/** The built technician CLI or daemon entry beside the benches (dist/scripts/, or scripts/ under tsx). */
export function entryScript(name: 'sscard' | 'sscardd'): string {
  const self = fileURLToPath(import.meta.url);
  return path.join(path.dirname(self), '..', `${name}${path.extname(self)}`);
}

/** `sscardd` under a bench: its API port once ready, its stderr (the tail kept) and why it ended. */
export class Daemon {
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
    const sscardd = entryScript('sscardd');
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
export function daemonStartupMs(logFile: string): { startupMs: number; ready: boolean; reasons?: unknown } | undefined {
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
export function lastStop(logFile: string): string {
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return '';
  }
  const line = text.split('\n').filter((l) => l.includes('"DAEMON"') && l.includes('"stopping"')).at(-1);
  return line === undefined ? '' : `; its log: ${line}`;
}
