/**
 * Test helpers for the local API: start it on loopback over the fake terminal, and a WebSocket
 * client that records every frame it gets and waits for a command's completion. Used by the API's
 * unit tests; end-to-end tests can use them against a real terminal too.
 *
 * Credentials (docs/security.md): `startTestApi` registers one client token (`clientToken`, name
 * "test") and, unless told otherwise, lets loopback clients in without one
 * (`allowUnauthenticatedLoopback: true`), so tests that are not about access need not care.
 * Tests about access pass `allowUnauthenticatedLoopback: false`, `allowedOrigins`, and connect with
 * `{ token }` or `{ origin }`. Against a daemon: `TestClient.connect(url, { token })` sends
 * `Authorization: Bearer <token>` on the upgrade; a browser-like client passes `{ origin }`.
 */
import { afterEach } from 'vitest';
import type { Logger } from '../core/logger.js';
import http from 'node:http';
import https from 'node:https';
import WebSocket from 'ws';
import type { ClientOptions } from 'ws';
import { ClientRegistry, clientTokenHash, newClientToken } from '../daemon/auth/clients.js';
import type { OperatorAuthPort, TerminalPort } from '../daemon/terminal/port.js';
import type { PrivilegedCall } from '../daemon/api/context.js';
import { FakeOperatorAuth } from './fake-operator-auth.js';
import { FakeTerminal } from './fake-terminal.js';
import { startApi } from '../daemon/api/server.js';
import type { ApiOptions, ApiServer } from '../daemon/api/server.js';

/** A received message (the envelope is checked by the tests, so it is loosely typed here). */
export interface Msg {
  header: { type: string; name: string | null; requestId?: number | null; version: string; status?: string | null; completionCode?: string; errorDescription?: string | null };
  payload?: Record<string, unknown> & { errorCode?: string };
}

export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly meta: Record<string, unknown> | undefined;
}

/** A logger that records its entries (and passes them on to `forward`, e.g. a real component logger). */
export function captureLogger(forward?: Logger): Logger & { entries: LogEntry[]; text(): string } {
  const entries: LogEntry[] = [];
  const at = (level: LogEntry['level']) => (message: string, meta?: Record<string, unknown>) => {
    entries.push({ level, message, meta });
    forward?.[level](message, meta);
  };
  return {
    entries,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    text: () => entries.map((e) => `${e.level} ${e.message} ${JSON.stringify(e.meta ?? {})}`).join('\n'),
  };
}

export interface TestApi<T extends TerminalPort = FakeTerminal, A extends OperatorAuthPort = FakeOperatorAuth> {
  readonly server: ApiServer;
  readonly terminal: T;
  readonly auth: A;
  readonly logger: ReturnType<typeof captureLogger>;
  readonly journal: PrivilegedCall[];
  readonly base: string;
  readonly serviceUrl: string;
  readonly publisherUrl: string;
  /** A valid client token (client "test"; in `clients` unless the test passed its own). */
  readonly clientToken: string;
  connect(path?: string, options?: ConnectOptions): Promise<TestClient>;
  http(method: string, path: string, body?: string | Buffer, headers?: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>;
  close(): Promise<void>;
}

/** How a test client connects: a client token, a browser Origin, more headers, TLS options of ws. */
export interface ConnectOptions extends ClientOptions {
  /** Sent as `Authorization: Bearer <token>` on the upgrade. */
  readonly token?: string;
}

export async function startTestApi<T extends TerminalPort = FakeTerminal, A extends OperatorAuthPort = FakeOperatorAuth>(
  opts: { terminal?: T; auth?: A; logTo?: Logger } & Partial<Omit<ApiOptions, 'terminal' | 'auth' | 'logger' | 'journalPrivileged'>> = {},
): Promise<TestApi<T, A>> {
  const terminal = opts.terminal ?? (new FakeTerminal() as unknown as T);
  const auth = opts.auth ?? (new FakeOperatorAuth() as unknown as A);
  const logger = captureLogger(opts.logTo);
  const journal: PrivilegedCall[] = [];
  const clientToken = newClientToken();
  const server = await startApi({
    host: '127.0.0.1',
    port: 0,
    maxFrameBytes: 64 * 1024,
    maxClients: 8,
    version: '9.9.9-test',
    abortGraceMs: 2000,
    allowUnauthenticatedLoopback: true,
    clients: ClientRegistry.of([{ name: 'test', hash: clientTokenHash(clientToken), created: new Date(0).toISOString() }]),
    ...Object.fromEntries(Object.entries(opts).filter(([k]) => k !== 'logTo')),
    terminal,
    auth,
    logger,
    journalPrivileged: (e) => journal.push(e),
  });
  const scheme = opts.tls === undefined ? 'http' : 'https';
  const ws = opts.tls === undefined ? 'ws' : 'wss';
  const base = `${scheme}://127.0.0.1:${server.port}`;
  const clients: TestClient[] = [];
  return {
    server,
    terminal,
    auth,
    logger,
    journal,
    base,
    clientToken,
    serviceUrl: `${ws}://127.0.0.1:${server.port}/xfs4iot/v1.0/sscard`,
    publisherUrl: `${ws}://127.0.0.1:${server.port}/xfs4iot/v1.0`,
    async connect(path = '/xfs4iot/v1.0/sscard', options = {}) {
      const c = await TestClient.connect(`${ws}://127.0.0.1:${server.port}${path}`, options);
      clients.push(c);
      return c;
    },
    http(method, path, body, headers = {}) {
      return new Promise((resolve, reject) => {
        const req = (scheme === 'https' ? https : http).request(`${base}${path}`, { method, headers, agent: false, ...(scheme === 'https' ? { rejectUnauthorized: false } : {}) }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        });
        req.on('error', reject);
        req.end(body);
      });
    },
    async close() {
      for (const c of clients) c.close();
      await server.close();
    },
  };
}

export interface CommandResult {
  readonly ack: Msg;
  readonly events: Msg[];
  readonly completion: Msg;
}

let nextId = 1;

export class TestClient {
  /** Every message received, parsed. */
  public readonly messages: Msg[] = [];
  /** Every frame received, as text. */
  public readonly frames: string[] = [];
  public readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];

  private constructor(public readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
    ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      this.frames.push(text);
      const m = JSON.parse(text) as Msg;
      this.messages.push(m);
      // A waiter may add waiters (an onMessage hook that sends a command): iterate a copy, remove in place.
      for (const w of [...this.waiters]) {
        if (!w.pred(m)) continue;
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(m);
      }
    });
    ws.on('error', () => {});
  }

  /**
   * Open a client. `token` goes into `Authorization: Bearer` on the upgrade (a native client's
   * credential); `origin` makes it look like a browser page of that origin; other ws options
   * (headers, ca, rejectUnauthorized…) pass through.
   */
  public static connect(url: string, options: ConnectOptions = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const { token, ...rest } = options;
      const headers = { ...(rest.headers ?? {}), ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) };
      const ws = new WebSocket(url, { ...rest, headers });
      const c = new TestClient(ws);
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode ?? 0}`)));
    });
  }

  public static newId(): number {
    return nextId++;
  }

  public sendRaw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  public send(name: string, payload: unknown = {}, header: Record<string, unknown> = {}): number {
    const requestId = typeof header['requestId'] === 'number' ? header['requestId'] : TestClient.newId();
    this.ws.send(JSON.stringify({ header: { type: 'command', name, requestId, version: '2.0', ...header }, payload }));
    return requestId;
  }

  /** The first message (already received or coming) matching `pred`. */
  public waitFor(pred: (m: Msg) => boolean, ms = 5000): Promise<Msg> {
    const have = this.messages.find(pred);
    if (have !== undefined) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no matching message within ${ms} ms; got ${JSON.stringify(this.messages.map((m) => m.header))}`)), ms);
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(t);
          resolve(m);
        },
      });
    });
  }

  /** Every message of one request, once its completion (or a refusing acknowledge) came. */
  public async result(requestId: number, ms = 5000): Promise<CommandResult> {
    const end = await this.waitFor((m) => m.header.requestId === requestId && (m.header.type === 'completion' || (m.header.type === 'acknowledge' && m.header.status != null)), ms);
    const mine = this.messages.filter((m) => m.header.requestId === requestId);
    return { ack: mine.find((m) => m.header.type === 'acknowledge')!, events: mine.filter((m) => m.header.type === 'event'), completion: end };
  }

  /** Send a command and wait for its end; `onEvent` sees each of its events as it arrives (to type a PIN when asked). */
  public async command(name: string, payload: unknown = {}, header: Record<string, unknown> = {}, ms = 5000, onEvent?: (m: Msg) => void): Promise<CommandResult> {
    const requestId = typeof header['requestId'] === 'number' ? header['requestId'] : TestClient.newId();
    const off = onEvent === undefined ? undefined : this.onMessage((m) => {
      if (m.header.type === 'event' && m.header.requestId === requestId) onEvent(m);
    });
    try {
      return await this.result(this.send(name, payload, { ...header, requestId }), ms);
    } finally {
      off?.();
    }
  }

  /** Every message from now on; returns the unsubscribe function. */
  public onMessage(fn: (m: Msg) => void): () => void {
    const w = { pred: (m: Msg) => (fn(m), false), resolve: () => {} };
    this.waiters.push(w);
    return () => {
      this.waiters = this.waiters.filter((x) => x !== w);
    };
  }

  public unsolicited(name?: string): Msg[] {
    return this.messages.filter((m) => m.header.type === 'unsolicited' && (name === undefined || m.header.name === name));
  }

  public close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
  }
}

/** Wait until `f()` holds (polling every 5 ms); throws after `ms`. */
export async function until(f: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Log in as an operator of the fake directory (testing/fake-operator-auth.ts) on `c`; returns the token. */
export async function login(c: TestClient, operatorId = 'op1', passphrase = 'correct horse battery staple'): Promise<string> {
  const r = await c.command('Operator.Login', { operatorId, passphrase });
  if (r.completion.header.completionCode !== 'success') throw new Error(`Operator.Login: ${r.completion.header.completionCode}`);
  return r.completion.payload!['token'] as string;
}

/**
 * One API per test: the returned `start(opts)` is {@link startTestApi}, and what it started is
 * closed after each test (call it at the top of a test file).
 */
export function apiPerTest(): (...args: Parameters<typeof startTestApi>) => Promise<TestApi> {
  let t: TestApi | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  return async (...args) => {
    t = (await startTestApi(...args)) as TestApi;
    return t;
  };
}
