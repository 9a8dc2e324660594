/**
 * The daemon as the end-to-end suites run it: a child process (`sscard daemon` from source) with a
 * config written to a temporary folder, over the real pcscd + vpcd; the test owns the virtual card
 * and PSAM (a VpcdBridge each) and the ID reader simulator on a pty, so it can insert, remove and
 * swap them like a person at the kiosk. connectClient gives the API's own test client.
 *
 * Access (docs/security.md): native clients need a client token by default, so each daemon gets
 * one, provisioned like `sscard client add e2e` does (only the hash in its api.clientsFile), and
 * kept in the temporary folder so a restart in the same folder keeps it. `connectClient(port)`
 * and `DaemonProcess.fetch` send it; `url()` alone is for tests about access.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TestClient } from '../../testing/api-test-client.js';
import { clientTokenHash, newClientToken, writeClientsFile } from '../../daemon/auth/clients.js';
import { ROOT } from './stack.js';

/** The client token of the daemon listening on each port (connectClient finds it there). */
const tokens = new Map<number, string>();

export interface DaemonProcessOptions {
  /** The config object (written as JSON); paths may be relative to the temp folder. */
  readonly config: Record<string, unknown>;
  readonly env?: Record<string, string>;
  readonly readyTimeoutMs?: number;
  /** Options for the daemon's Node.js (before its entry), e.g. V8 heap limits. */
  readonly nodeArgs?: readonly string[];
  /** 'sscardd' (the daemon's own entry, what npm start runs) or 'sscard' (the CLI's `daemon` command, default). */
  readonly entry?: 'sscard' | 'sscardd';
  /** Provision a client token (default true; ignored when the config names its own api.clientsFile). */
  readonly clientToken?: boolean;
}

/**
 * The token of the folder's daemon, made once (as `sscard client add e2e` would: the token in
 * `e2e.token`, only its hash in `api-clients.json`), and the config pointed at that file.
 */
function provisionToken(dir: string, config: Record<string, unknown>): { config: Record<string, unknown>; token: string | undefined } {
  const api = (config['api'] ?? {}) as Record<string, unknown>;
  const clientsFile = path.join(dir, 'api-clients.json');
  if (api['clientsFile'] !== undefined && api['clientsFile'] !== clientsFile) return { config, token: undefined };
  const tokenFile = path.join(dir, 'e2e.token');
  let token: string;
  if (existsSync(tokenFile)) token = readFileSync(tokenFile, 'utf8').trim();
  else {
    token = newClientToken();
    writeFileSync(tokenFile, token, { mode: 0o600 });
    writeClientsFile(clientsFile, [{ name: 'e2e', hash: clientTokenHash(token), created: new Date().toISOString() }]);
  }
  return { config: { ...config, api: { ...api, clientsFile } }, token };
}

export class DaemonProcess {
  public stdout = '';
  public stderr = '';
  public exitCode: number | null | undefined;
  public exitSignal: NodeJS.Signals | null = null;
  public port = 0;
  /** The client token this daemon accepts (undefined when the test brought its own clients file). */
  public token: string | undefined;
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
    const { config, token } = o.clientToken === false ? { config: o.config, token: undefined } : provisionToken(dir, o.config);
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const entry = o.entry === 'sscardd' ? [path.join(ROOT, 'scripts', 'sscardd.ts')] : [path.join(ROOT, 'scripts', 'sscard.ts'), 'daemon'];
    const child = spawn(process.execPath, [...(o.nodeArgs ?? []), '--import', 'tsx', ...entry, '--config', configFile], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', ...o.env },
    });
    const d = new DaemonProcess(dir, configFile, child);
    d.token = token;
    const timeout = o.readyTimeoutMs ?? 30_000;
    const end = Date.now() + timeout;
    while (Date.now() < end) {
      const m = /API [^\s]*?:(\d+)/.exec(d.stderr);
      if (m) {
        d.port = Number(m[1]);
        if (token !== undefined) tokens.set(d.port, token);
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

  /** Wait until /status shows the card in the reader identified and the session at rest. */
  public async waitIdentified(ms = 15_000): Promise<void> {
    const end = Date.now() + ms;
    for (;;) {
      const s = (await (await this.fetch('/status')).json()) as { card?: { identified?: boolean; session?: string } };
      if (s.card?.identified === true && /identified|done/.test(s.card.session ?? '')) return;
      if (Date.now() > end) throw new Error(`card not identified: ${JSON.stringify(s.card)}\n${this.logTail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The end of what the daemon said (its stderr, and its log file when the config names one): for a failure's message. */
  public logTail(chars = 4000): string {
    let file = '';
    try {
      const config = JSON.parse(readFileSync(this.configFile, 'utf8')) as { log?: { file?: string } };
      if (typeof config.log?.file === 'string') file = readFileSync(path.resolve(this.dir, config.log.file), 'utf8');
    } catch {
      // no log file (yet): stderr alone
    }
    return `--- daemon stderr ---\n${this.stderr.slice(-chars)}\n--- daemon log ---\n${file.slice(-chars)}`;
  }

  /** fetch() on this daemon as its native client: with its client token. */
  public fetch(p: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.token !== undefined) headers.set('authorization', `Bearer ${this.token}`);
    return fetch(this.url(p), { ...init, headers });
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

/**
 * A client of the daemon's WebSocket API (the API's own test client, testing/api-test-client.ts),
 * with the client token of the daemon on `port` unless `token` says otherwise (null: none).
 */
export function connectClient(port: number, p = '/xfs4iot/v1.0/sscard', token: string | null = tokens.get(port) ?? null): Promise<TestClient> {
  return TestClient.connect(`ws://127.0.0.1:${port}${p}`, token === null ? {} : { token });
}
