/**
 * A platform ingest node as its own process (`scripts/central.ts`, docs/sync-protocol.md "Several
 * platform nodes"), so that a scenario can kill it with SIGKILL mid-batch and start it again on
 * the same port. From the sources under a test (tsx), from the build under `npm run fleet`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../bench/ports.js';

export class PlatformNode {
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(
    public readonly port: number,
    private readonly args: readonly string[],
  ) {}

  /** The node's process id while it runs (for its CPU time and RSS). */
  public get pid(): number | undefined {
    return this.child?.pid;
  }

  public get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** A node on a free loopback port with these extra `central` arguments (e.g. --database-url). */
  public static async start(args: readonly string[]): Promise<PlatformNode> {
    const n = new PlatformNode(await freePort(), args);
    await n.up();
    return n;
  }

  /** Start (again) on the same port; resolves once it listens. */
  public async up(): Promise<void> {
    const self = fileURLToPath(import.meta.url);
    const ext = path.extname(self);
    const script = path.join(path.dirname(self), '..', `central${ext}`);
    // Under the sources the node needs tsx like the caller; the build runs as it is.
    const execArgv = ext === '.ts' ? ['--import', 'tsx'] : [];
    this.output = '';
    const child = spawn(process.execPath, [...execArgv, script, '--port', String(this.port), '--no-admin', ...this.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout.on('data', (d: Buffer) => (this.output += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (this.output = (this.output + d.toString('utf8')).slice(-20_000)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`platform node on ${this.port} not up in 30 s: ${this.output}`)), 30_000);
      const check = (): void => {
        if (this.output.includes('listening')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', check);
      child.once('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`platform node on ${this.port} exited (${sig ?? String(code)}): ${this.output}`));
      });
    });
  }

  /** SIGKILL: whatever batch it was storing is cut off (its transaction rolls back in PostgreSQL). */
  public async kill(): Promise<void> {
    const c = this.child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  }

  public async stop(): Promise<void> {
    const c = this.child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  }
}
