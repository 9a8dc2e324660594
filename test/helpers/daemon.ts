/**
 * The daemon as the end-to-end suites run it: a child process (`sscard daemon` from source) with a
 * config written to a temporary folder, over the real pcscd + vpcd; the test owns the virtual card
 * and PSAM (a VpcdBridge each) and the ID reader simulator on a pty, so it can insert, remove and
 * swap them like a person at the kiosk. XfsClient speaks the XFS4IoT envelope over WebSocket.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
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

export interface XfsMessage {
  readonly header: {
    readonly type: 'acknowledge' | 'event' | 'completion' | 'unsolicited';
    readonly name: string;
    readonly requestId: number | null;
    readonly version?: string;
    readonly status?: string | null;
    readonly completionCode?: string;
    readonly errorDescription?: string | null;
  };
  readonly payload?: Record<string, unknown>;
}

export interface CommandOutcome {
  readonly ack: XfsMessage | undefined;
  readonly events: XfsMessage[];
  readonly completion: XfsMessage;
}

/** An XFS4IoT client: commands with requestId correlation, events and completions collected. */
export class XfsClient {
  public readonly all: XfsMessage[] = [];
  public readonly raw: string[] = [];
  public readonly unsolicited: XfsMessage[] = [];
  private nextId = 1;
  private readonly waiters = new Map<number, { ack?: XfsMessage; events: XfsMessage[]; done: (m: CommandOutcome) => void; onEvent?: (m: XfsMessage) => void }>();
  private closed = false;

  private constructor(public readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      this.raw.push(text);
      let m: XfsMessage;
      try {
        m = JSON.parse(text) as XfsMessage;
      } catch {
        return;
      }
      this.all.push(m);
      if (m.header.type === 'unsolicited') {
        this.unsolicited.push(m);
        return;
      }
      const id = m.header.requestId;
      const w = id === null ? undefined : this.waiters.get(id);
      if (!w) return;
      if (m.header.type === 'acknowledge') {
        w.ack = m;
        if (m.header.status !== null && m.header.status !== undefined) {
          this.waiters.delete(id!);
          w.done({ ack: m, events: w.events, completion: m });
        }
      } else if (m.header.type === 'event') {
        w.events.push(m);
        w.onEvent?.(m);
      } else if (m.header.type === 'completion') {
        this.waiters.delete(id!);
        w.done({ ack: w.ack, events: w.events, completion: m });
      }
    });
    ws.on('close', () => {
      this.closed = true;
    });
  }

  public static async connect(port: number, p = '/xfs4iot/v1.0/sscard'): Promise<XfsClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${p}`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new XfsClient(ws);
  }

  public get isClosed(): boolean {
    return this.closed;
  }

  /** Send a command; resolves with its acknowledge, events and completion. */
  public command(name: string, payload: Record<string, unknown> = {}, opts: { timeout?: number; onEvent?: (m: XfsMessage) => void; requestId?: number } = {}): Promise<CommandOutcome> {
    const requestId = opts.requestId ?? this.nextId++;
    return new Promise((resolve) => {
      this.waiters.set(requestId, { events: [], done: resolve, ...(opts.onEvent ? { onEvent: opts.onEvent } : {}) });
      this.ws.send(JSON.stringify({ header: { type: 'command', name, requestId, version: '2.0', ...(opts.timeout === undefined ? {} : { timeout: opts.timeout }) }, payload }));
    });
  }

  /** The next unsolicited message named `name` (already received ones count when `fromIndex` is given). */
  public async nextUnsolicited(name: string, ms = 10_000, fromIndex = this.unsolicited.length): Promise<XfsMessage> {
    const end = Date.now() + ms;
    for (;;) {
      const found = this.unsolicited.slice(fromIndex).find((m) => m.header.name === name);
      if (found) return found;
      if (Date.now() > end) throw new Error(`no unsolicited ${name} within ${ms} ms; got ${this.unsolicited.map((m) => m.header.name).join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Wait for the next raw message matching `pred`. */
  public async next(pred: (m: XfsMessage) => boolean, ms = 10_000): Promise<XfsMessage> {
    const start = this.all.length;
    const end = Date.now() + ms;
    for (;;) {
      const found = this.all.slice(start).find(pred);
      if (found) return found;
      if (Date.now() > end) throw new Error(`no matching message within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  public close(): void {
    this.ws.close();
  }
}
