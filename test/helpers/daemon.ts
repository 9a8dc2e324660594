/**
 * The daemon as the end-to-end suites run it: a child process (`sscard daemon` from source) with a
 * config written to a temporary folder, over the real pcscd + vpcd; the test owns the virtual card
 * and PSAM (a VpcdBridge each) and the ID reader simulator on a pty, so it can insert, remove and
 * swap them like a person at the kiosk. connectClient gives the API's own test client.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TestClient } from '../../daemon/api/test-client.js';
import { ROOT } from './stack.js';

export interface DaemonProcessOptions {
  /** The config object (written as JSON); paths may be relative to the temp folder. */
  readonly config: Record<string, unknown>;
  readonly env?: Record<string, string>;
  readonly readyTimeoutMs?: number;
  /** 'sscardd' (the daemon's own entry, what npm start runs) or 'sscard' (the CLI's `daemon` command, default). */
  readonly entry?: 'sscard' | 'sscardd';
}

export class DaemonProcess {
  public stdout = '';
  public stderr = '';
  public exitCode: number | null | undefined;
  public exitSignal: NodeJS.Signals | null = null;
  public port = 0;
  private readonly exited: Promise<void>;

  private constructor(
    public readonly dir: string,
    public readonly configFile: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        resolve();
      });
    });
    child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString('utf8')));
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString('utf8')));
  }

  /** Start the daemon; resolves once its API listens (the "daemon running — API host:port" line). */
  public static async start(o: DaemonProcessOptions, dir = mkdtempSync(path.join(tmpdir(), 'sscard-daemon-'))): Promise<DaemonProcess> {
    const configFile = path.join(dir, 'sscard.json');
    writeFileSync(configFile, JSON.stringify(o.config, null, 2));
    const entry = o.entry === 'sscardd' ? [path.join(ROOT, 'scripts', 'sscardd.ts')] : [path.join(ROOT, 'scripts', 'sscard.ts'), 'daemon'];
    const child = spawn(process.execPath, ['--import', 'tsx', ...entry, '--config', configFile], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', ...o.env },
    });
    const d = new DaemonProcess(dir, configFile, child);
    const timeout = o.readyTimeoutMs ?? 30_000;
    const end = Date.now() + timeout;
    while (Date.now() < end) {
      const m = /API [^\s]*?:(\d+)/.exec(d.stderr);
      if (m) {
        d.port = Number(m[1]);
        return d;
      }
      if (d.exitCode !== undefined) throw new Error(`the daemon exited (${String(d.exitCode)}) before it was ready:\n${d.stdout}\n${d.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    throw new Error(`the daemon was not ready within ${timeout} ms:\n${d.stdout}\n${d.stderr}`);
  }

  public get pid(): number | undefined {
    return this.child.pid;
  }

  public url(p: string): string {
    return `http://127.0.0.1:${this.port}${p}`;
  }

  public signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  /** SIGTERM and wait for the exit (SIGKILL after `ms`). */
  public async stop(ms = 20_000): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), ms);
    await this.exited;
    clearTimeout(t);
  }

  public waitExit(): Promise<void> {
    return this.exited;
  }
}

/** A client of the daemon's WebSocket API (the API's own test client, daemon/api/test-client.ts). */
export function connectClient(port: number, p = '/xfs4iot/v1.0/sscard'): Promise<TestClient> {
  return TestClient.connect(`ws://127.0.0.1:${port}${p}`);
}
