/**
 * The fuzz runner (scripts/api-fuzz.ts): sends the traffic of a seed to a running daemon on
 * loopback, bounded in count, time and concurrency, and sorts every answer into the report.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { sleep } from '../run.js';
import { REFUSAL_STATUS, expectationOf, pathOfTarget } from './access.js';
import { KeypadModel, isDigitTouchKey } from './keypad.js';

/** Unanswered touch keys at most on the keypad connection: half the daemon's per-client limit of running commands. */
const KEYPAD_WINDOW = 16;
import type { FuzzReport } from './report.js';
import { Tally } from './report.js';
import { FuzzSocket, ResponseReader } from './socket.js';
import { DIGITS } from './spec.js';
import type { Action, HttpSpec, TouchKeySpec, UpgradeSpec } from './spec.js';
import { batchOf, trafficArbitrary } from './traffic.js';
import { authHeader, hostHeader, originHeader } from './wire.js';
import type { FuzzTarget } from './wire.js';

export interface FuzzOptions {
  readonly seed: number;
  /** Stop after this many messages. */
  readonly messages: number;
  /** Stop sending after this long (ms); whatever was sent is still answered and counted. */
  readonly deadlineMs?: number;
  /** Frames sent on one connection and not yet acknowledged before the runner waits (default 64). */
  readonly window?: number;
  /** HTTP requests and upgrades in flight at once (default 16). */
  readonly httpConcurrency?: number;
  /** A complete request that gets no answer within this long is an anomaly (default 15 000 ms). */
  readonly answerTimeoutMs?: number;
  readonly onProgress?: (messages: number) => void;
}

/** Sends the actions it is given and keeps every count of the report; {@link runFuzz} drives it. */
export class Runner {
  public readonly completions = new Tally();
  public acceptedCommands = 0;
  public connectionsOpened = 0;
  public poolConnections = 0;
  public framesLostToClose = 0;
  public readonly vendor = new Tally();
  public keysReplaced = 0;
  public stopping = false;
  private readonly sentByKind = new Tally();
  private readonly answers = new Tally();
  private readonly refusals = new Tally();
  private readonly anomalies = new Tally();
  private readonly examples: string[] = [];
  private messages = 0;
  private bytes = 0;
  private readonly pool: FuzzSocket[];
  private readonly keypadSocket: FuzzSocket;
  private readonly keypad = new KeypadModel();
  /** Whether the keypad connection was opened before (a new one must resync the model). */
  private keypadOpened = false;
  private httpInFlight = 0;
  private readonly httpWaiters: (() => void)[] = [];
  private readonly httpDone = new Set<Promise<void>>();

  public constructor(
    public readonly target: FuzzTarget,
    private readonly o: FuzzOptions,
    connections: number,
  ) {
    this.pool = Array.from({ length: connections }, (_, i) => new FuzzSocket(this, `ws#${i}`));
    this.keypadSocket = new FuzzSocket(this, 'keypad');
  }

  public get sentMessages(): number {
    return this.messages;
  }

  public sentOne(kind: string, bytes: number): void {
    this.messages++;
    this.bytes += bytes;
    this.sentByKind.add(kind);
    if (this.messages % 1000 === 0) this.o.onProgress?.(this.messages);
  }

  public answer(kind: string, refusal: boolean): void {
    this.answers.add(kind);
    if (refusal) this.refusals.add(kind);
  }

  public anomaly(kind: string, detail: string): void {
    this.anomalies.add(kind);
    if (this.examples.length < 40) this.examples.push(`${kind}: ${detail}`);
  }

  public async dispatch(a: Action): Promise<void> {
    switch (a.ch) {
      case 'ws': {
        const s = this.pool[a.conn % this.pool.length]!;
        await s.ready();
        await s.room(this.o.window ?? 64);
        for (const f of a.frames) {
          if (this.messages >= this.o.messages) break;
          if (f.t === 'text' && isDigitTouchKey(f.text)) {
            this.anomaly('generator made a digit TouchKey', f.text.slice(0, 120));
            continue;
          }
          if (!s.open) await s.ready();
          s.send(f, f.kind);
        }
        return;
      }
      case 'wsClose':
        return this.pool[a.conn % this.pool.length]!.close();
      case 'keys': {
        for (const k0 of a.keys) {
          if (this.messages >= this.o.messages) break;
          // Room before every key, under the daemon's 32 running commands per client (docs/api.md
          // "Envelope": tooManyRequests): the keypad model counts every key as delivered, and a
          // `clear` refused in a burst let a 6th digit reach a PIN entry (a VERIFY spent a try).
          await this.keypadReady();
          await this.keypadSocket.room(KEYPAD_WINDOW);
          await this.keypadReady();
          const k = this.keypad.next(k0);
          if (k !== k0) this.keysReplaced++;
          this.sendKey(k);
        }
        return;
      }
      case 'upgrade':
        for (let i = 0; i < a.spec.burst && this.messages < this.o.messages; i++) await this.spawn(() => this.upgrade(a.spec));
        return;
      case 'http':
        return this.spawn(() => this.http(a.spec));
    }
  }

  /**
   * The keypad connection open; when it had to be opened again, a clear for the slot first: keys
   * in flight on the lost connection (a clear among them) may never have reached the daemon.
   */
  private async keypadReady(): Promise<void> {
    const s = this.keypadSocket;
    if (s.open) return;
    const reopened = this.keypadOpened;
    await s.ready();
    this.keypadOpened = true;
    if (reopened) this.sendKey(this.keypad.resync());
  }

  private sendKey(k: TouchKeySpec): void {
    const payload = k.reader === 'none' ? { key: k.key } : { key: k.key, reader: k.reader === 'slot' ? this.target.reader : 'no such reader' };
    this.keypadSocket.send({ t: 'text', kind: 'touchKey', text: JSON.stringify({ header: { type: 'command', name: 'Keyboard.TouchKey', requestId: 1 + (this.messages % 2_000_000_000), version: '2.0' }, payload }) }, DIGITS.has(k.key) ? 'touchKey digit' : 'touchKey other');
  }

  /** Run `f` with at most httpConcurrency at once; resolves when it has started. */
  private async spawn(f: () => Promise<void>): Promise<void> {
    const max = this.o.httpConcurrency ?? 16;
    while (this.httpInFlight >= max) await new Promise<void>((resolve) => this.httpWaiters.push(resolve));
    this.httpInFlight++;
    const p: Promise<void> = f()
      .catch((e: unknown) => this.anomaly('runner', e instanceof Error ? e.message : String(e)))
      .finally(() => {
        this.httpInFlight--;
        this.httpDone.delete(p);
        this.httpWaiters.shift()?.();
      });
    this.httpDone.add(p);
  }

  /** One raw TCP exchange: write the parts (with pauses), read what comes back. */
  private exchange(parts: readonly (Buffer | number)[], heads: readonly boolean[], cutAfterMs: number | null, answerTimeoutMs: number): Promise<{ statuses: { status: number; ret: string | null }[]; error: string | null; cut: boolean; timedOut: boolean }> {
    return new Promise((resolve) => {
      const reader = new ResponseReader(heads);
      const s = net.connect(this.target.port, this.target.host);
      let error: string | null = null;
      let cut = false;
      let timedOut = false;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        s.destroy();
        resolve({ statuses: reader.statuses, error, cut, timedOut });
      };
      const timer = setTimeout(
        () => {
          if (cutAfterMs !== null) cut = true;
          else timedOut = true;
          finish();
        },
        cutAfterMs ?? answerTimeoutMs,
      );
      s.on('data', (d: Buffer) => {
        reader.feed(d);
        if (reader.statuses.length >= heads.length) finish();
      });
      s.on('error', (e: NodeJS.ErrnoException) => {
        error ??= e.code ?? e.message;
      });
      s.on('close', finish);
      s.once('connect', () => {
        void (async () => {
          for (const p of parts) {
            if (done || s.destroyed) return;
            if (typeof p === 'number') await sleep(p);
            else s.write(p);
          }
        })();
      });
    });
  }

  private async upgrade(u: UpgradeSpec): Promise<void> {
    const t = this.target;
    const lines = [`GET ${u.path}${u.cred === 'tokenInQuery' ? `${u.path.includes('?') ? '&' : '?'}access_token=${t.token}` : ''} HTTP/1.1`];
    const host = hostHeader(u.host, t.port);
    if (host !== null) lines.push(`Host: ${host}`);
    lines.push('Upgrade: websocket', 'Connection: Upgrade');
    if (u.key === 'ok') lines.push(`Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`);
    if (u.key === 'bad') lines.push('Sec-WebSocket-Key: not-base64!');
    if (u.version !== 'missing') lines.push(`Sec-WebSocket-Version: ${u.version}`);
    const origin = originHeader(u.origin, t.port);
    if (origin !== null) lines.push(`Origin: ${origin}`);
    const auth = authHeader(u.cred, t.token);
    if (auth !== null) lines.push(`Authorization: ${auth}`);
    if (u.tokenAsProtocol) lines.push(`Sec-WebSocket-Protocol: ${t.token}`);
    const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    this.sentOne(`upgrade ${u.kind}`, head.length);
    const r = await this.exchange([head], [false], null, this.o.answerTimeoutMs ?? 15_000);
    const exp = expectationOf({ host: u.host, origin: u.origin, cred: u.cred, upgrade: true });
    const first = r.statuses[0];
    if (first === undefined) {
      this.answer(r.timedOut ? 'upgrade no answer' : `upgrade closed${r.error === null ? '' : ` ${r.error}`}`, true);
      if (r.timedOut) this.anomaly('upgrade not answered', `${u.kind} ${u.path}`);
      return;
    }
    this.answer(`upgrade ${first.status}`, first.status !== 101);
    if (first.status === 101) this.connectionsOpened++;
    if (first.status === 500) this.anomaly('upgrade 500', `${u.kind} ${u.path}`);
    if (exp.mustRefuse && !REFUSAL_STATUS.has(first.status)) this.anomaly('upgrade let through', `${u.kind} host=${u.host} origin=${u.origin} cred=${u.cred} → ${first.status}`);
    if (exp.mustAdmit && (first.status === 401 || first.status === 403 || first.status === 421)) this.anomaly('admitted client refused', `upgrade ${u.kind} ${u.path} → ${first.status}`);
  }

  private async http(h: HttpSpec): Promise<void> {
    const t = this.target;
    const target = h.target.replace('{port}', String(t.port));
    const exp = expectationOf({ host: h.host, origin: h.origin, cred: h.cred, upgrade: false, method: h.method, target: h.target, raw: h.raw, hugeHeader: h.hugeHeader, page: t.page?.(target) ?? false });
    const max = t.maxFrameBytes;
    const parts: (Buffer | number)[] = [];
    const heads: boolean[] = [];
    if (h.raw !== null) {
      parts.push(Buffer.from(h.raw.replaceAll('{port}', String(t.port)), 'latin1'));
      heads.push(false);
    } else {
      let body = Buffer.from(h.bodyText, 'utf8');
      let chunked = false;
      let declared: number | null = null;
      if (h.body === 'overLimitDeclared') {
        declared = max + 1 + (h.bodyText.length % 1000);
        body = Buffer.alloc(Math.min(declared, max + 1024), 0x20);
      } else if (h.body === 'overLimitChunked') {
        chunked = true;
        body = Buffer.alloc(max + 2048, 0x20);
      } else if (h.body === 'nearLimit') {
        const pre = '{"iType":1,"cardInfo":"';
        body = Buffer.from(`${pre}${'x'.repeat(Math.max(0, max - pre.length - 2))}"}`);
      }
      const n = h.pipeline;
      for (let i = 0; i < n; i++) {
        const lines = [`${h.method} ${target}${h.cred === 'tokenInQuery' ? `${target.includes('?') ? '&' : '?'}token=${t.token}` : ''} HTTP/1.1`];
        const host = hostHeader(h.host, t.port);
        if (host !== null) lines.push(`Host: ${host}`);
        const origin = originHeader(h.origin, t.port);
        if (origin !== null) lines.push(`Origin: ${origin}`);
        const auth = authHeader(h.cred, t.token);
        if (auth !== null) lines.push(`Authorization: ${auth}`);
        for (const ct of h.contentType) lines.push(`Content-Type: ${ct}`);
        lines.push(...h.headers);
        if (h.hugeHeader > 0) lines.push(`X-Huge: ${'h'.repeat(h.hugeHeader)}`);
        if (h.expect100 && body.length > 0) lines.push('Expect: 100-continue');
        const hasBody = body.length > 0 || declared !== null;
        if (chunked) lines.push('Transfer-Encoding: chunked');
        else if (hasBody) lines.push(`Content-Length: ${declared ?? body.length}`);
        lines.push(i === n - 1 ? 'Connection: close' : 'Connection: keep-alive');
        const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
        const payload = chunked ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]) : body;
        if (h.cutAfterMs !== null && i === n - 1) {
          // A slow body: the head, half the body (or less), a trickle, then the connection is cut.
          const declaredLen = Math.max(payload.length, 16);
          const slowHead = hasBody || chunked ? head : Buffer.from(head.toString('utf8').replace('Connection: close', `Content-Length: ${declaredLen}\r\nConnection: close`), 'utf8');
          parts.push(slowHead, payload.subarray(0, Math.floor(payload.length / 2)), 10, Buffer.from(' '));
        } else {
          parts.push(head, payload);
        }
        heads.push(h.method === 'HEAD');
      }
    }
    const bytes = parts.reduce<number>((a, p) => a + (typeof p === 'number' ? 0 : p.length), 0);
    for (let i = 0; i < heads.length; i++) this.sentOne(`http ${h.kind}`, i === 0 ? bytes : 0);
    // An admitted vendor service call waits for the PIN pad: it is cut after a moment, as a client that gives up.
    const blocking = h.raw === null && /^\/sscard\/i(Verify|Change|Reload|Unblock)PIN/i.test(target) && h.method === 'POST';
    const cutAfter = h.cutAfterMs ?? (blocking ? 50 + (bytes % 400) : null);
    const r = await this.exchange(parts, heads, cutAfter, this.o.answerTimeoutMs ?? 15_000);
    const fn = h.raw === null && h.method === 'POST' ? /^\/sscard\/(i[A-Za-z]+)$/.exec(pathOfTarget(target) ?? '')?.[1] : undefined;
    if (fn !== undefined) {
      const s0 = r.statuses[0];
      this.vendor.add(`${fn} ${s0 === undefined ? (r.cut ? 'cut by the client' : 'no answer') : `${s0.status}${s0.ret === null ? '' : ` ret=${s0.ret}`}`}`);
    }
    if (r.statuses.length === 0) {
      this.answer(r.cut ? 'http cut by the client' : r.timedOut ? 'http no answer' : `http closed${r.error === null ? '' : ` ${r.error}`}`, !r.cut);
      if (r.timedOut) this.anomaly('HTTP request not answered', `${h.kind} ${h.method} ${target.slice(0, 60)}`);
      return;
    }
    r.statuses.forEach((s, i) => {
      const ret = s.ret === null ? '' : ` ret=${s.ret}`;
      this.answer(`http ${s.status}${ret}`, s.status >= 400 || (s.ret !== null && s.ret !== '0'));
      if (s.status >= 500 && s.status !== 503 && s.status !== 505) this.anomaly(`HTTP ${s.status}`, `${h.kind} ${h.method} ${target.slice(0, 60)}`);
      if (i > 0) return;
      if (exp.mustRefuse && !REFUSAL_STATUS.has(s.status)) this.anomaly('HTTP request let through', `${h.kind} ${h.method} ${target.slice(0, 60)} host=${h.host} origin=${h.origin} cred=${h.cred} → ${s.status}`);
      if (exp.mustAdmit && (s.status === 421 || s.status === 403 || (s.status === 401 && !pathOfTarget(target)?.startsWith('/sscard/')))) {
        this.anomaly('admitted client refused', `${h.kind} ${h.method} ${target.slice(0, 60)} → ${s.status}`);
      }
    });
  }

  /** Wait for the HTTP requests in flight and the frames not yet answered; then close every connection. */
  public async finish(): Promise<void> {
    await Promise.all([...this.httpDone]);
    for (const s of [...this.pool, this.keypadSocket]) {
      if (!(await s.settle(this.o.answerTimeoutMs ?? 15_000))) this.anomaly('frames not answered', `${s.unanswered} frames on an open connection`);
    }
    this.stopping = true;
    await Promise.all([...this.pool, this.keypadSocket].map((s) => s.close()));
  }

  public report(seed: number, durationMs: number): FuzzReport {
    return {
      seed,
      messages: this.messages,
      bytesSent: this.bytes,
      durationMs: Math.round(durationMs),
      sent: this.sentByKind.record(),
      answers: this.answers.record(),
      refusals: this.refusals.record(),
      completions: this.completions.record(),
      acceptedCommands: this.acceptedCommands,
      connectionsOpened: this.connectionsOpened,
      poolConnections: this.poolConnections,
      vendor: this.vendor.record(),
      framesLostToClose: this.framesLostToClose,
      keysReplaced: this.keysReplaced,
      anomalies: { count: this.anomalies.total, byKind: this.anomalies.record(), examples: [...this.examples] },
    };
  }
}

/**
 * Send `o.messages` messages of the traffic of `o.seed` to the daemon at `target`, then wait for
 * every answer and close every connection. Nothing is thrown for what the daemon answers: it is
 * all in the report (anomalies included).
 */
export async function runFuzz(target: FuzzTarget, o: FuzzOptions & { readonly connections?: number }): Promise<FuzzReport> {
  const connections = o.connections ?? 4;
  const arb = trafficArbitrary({ reader: target.reader, maxFrameBytes: target.maxFrameBytes, connections });
  const run = new Runner(target, o, connections);
  const t0 = performance.now();
  const deadline = o.deadlineMs === undefined ? Infinity : t0 + o.deadlineMs;
  try {
    for (let n = 0; run.sentMessages < o.messages && performance.now() < deadline; n++) {
      for (const a of batchOf(arb, o.seed, n)) {
        if (run.sentMessages >= o.messages || performance.now() >= deadline) break;
        await run.dispatch(a);
      }
    }
  } finally {
    await run.finish();
  }
  return run.report(o.seed, performance.now() - t0);
}
