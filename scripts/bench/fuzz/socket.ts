/**
 * The runner's connections (scripts/api-fuzz.ts): a WebSocket connection of the authenticated
 * client that sends frames and sorts every answer, and a reader of pipelined HTTP responses.
 */
import WebSocket from 'ws';
import { sleep } from '../run.js';
import type { Runner } from './runner.js';
import { SERVICE_COMMANDS } from './spec.js';
import type { Frame } from './spec.js';
import { sizedText } from './wire.js';

/** Completion codes that are not refusals: the command ran, or was stopped as asked. */
const STOP_CODES = new Set(['success', 'canceled', 'timeOut']);
/** Command names a completion is counted under; any other is "(unknown command)". */
const KNOWN_NAMES = new Set<string>([...SERVICE_COMMANDS, 'Keyboard.TouchKey']);
/** Close codes with which the server refuses a connection's traffic. */
const SERVER_CLOSES = new Set([1002, 1003, 1007, 1008, 1009, 1011]);

interface Pending {
  resolve: () => void;
}

/** A WebSocket connection of the authenticated client: sends frames, sorts answers. */
export class FuzzSocket {
  public ws: WebSocket | null = null;
  private opening: Promise<void> | null = null;
  private sent = 0;
  private acked = 0;
  private waiters: Pending[] = [];

  public constructor(
    private readonly run: Runner,
    private readonly label: string,
  ) {}

  public get unanswered(): number {
    return this.sent - this.acked;
  }

  public get open(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Open (again) when closed; a refused upgrade is retried with a pause (the per-client limit is shared with the upgrade bursts). */
  public ready(): Promise<void> {
    if (this.open) return Promise.resolve();
    this.opening ??= this.connect().finally(() => (this.opening = null));
    return this.opening;
  }

  private async connect(): Promise<void> {
    const t = this.run.target;
    for (let attempt = 0; ; attempt++) {
      const ok = await new Promise<boolean>((resolve) => {
        const ws = new WebSocket(`ws://${t.host}:${t.port}/xfs4iot/v1.0/sscard`, { headers: { authorization: `Bearer ${t.token}` }, perMessageDeflate: false });
        ws.on('error', () => {});
        ws.once('unexpected-response', (_req, res) => {
          this.run.answer(`upgrade ${res.statusCode ?? 0}`, true);
          if (res.statusCode !== 503) this.run.anomaly('pool upgrade refused', `${this.label}: HTTP ${res.statusCode ?? 0}`);
          res.resume();
          ws.terminate();
          resolve(false);
        });
        ws.once('open', () => {
          this.run.answer('upgrade 101', false);
          this.run.connectionsOpened++;
          this.run.poolConnections++;
          this.attach(ws);
          resolve(true);
        });
        ws.once('close', () => resolve(false));
      });
      if (ok) return;
      if (attempt >= 100 || this.run.stopping) throw new Error(`${this.label}: cannot open a WebSocket connection to the daemon`);
      await sleep(Math.min(500, 20 * (attempt + 1)));
    }
  }

  private attach(ws: WebSocket): void {
    this.ws = ws;
    this.sent = 0;
    this.acked = 0;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return this.run.anomaly('binary answer', this.label);
      let m: { header?: { type?: unknown; name?: unknown; status?: unknown; completionCode?: unknown }; payload?: { errorCode?: unknown; sscardErrorCode?: unknown } };
      try {
        m = JSON.parse(data.toString('utf8')) as typeof m;
      } catch {
        return this.run.anomaly('answer not JSON', data.toString('utf8').slice(0, 120));
      }
      const h = m.header ?? {};
      switch (h.type) {
        case 'acknowledge':
          this.acked++;
          if (h.status == null) this.run.acceptedCommands++;
          else this.run.answer(`ws ack ${typeof h.status === 'string' ? h.status : JSON.stringify(h.status)}`, true);
          break;
        case 'completion': {
          const code = String(h.completionCode);
          const detail = m.payload?.sscardErrorCode ?? m.payload?.errorCode;
          const errorCode = typeof detail === 'string' ? detail : null;
          this.run.answer(`ws completion ${code}`, !STOP_CODES.has(code));
          const name = typeof h.name === 'string' && KNOWN_NAMES.has(h.name) ? h.name : '(unknown command)';
          this.run.completions.add(`${name} ${code}${errorCode === null || code === 'success' ? '' : `:${errorCode}`}`);
          if (code === 'internalError') this.run.anomaly('internalError', `${String(h.name)}: ${JSON.stringify(m).slice(0, 200)}`);
          break;
        }
        case 'event':
        case 'unsolicited':
          this.run.answer(`ws ${h.type}`, false);
          break;
        default:
          this.run.anomaly('answer of unknown type', JSON.stringify(m).slice(0, 120));
      }
      this.wake();
    });
    ws.on('close', (code: number) => {
      this.run.answer(`ws close ${code}`, SERVER_CLOSES.has(code));
      if (code === 1011) this.run.anomaly('close 1011', this.label);
      this.run.framesLostToClose += Math.max(0, this.sent - this.acked);
      this.sent = 0;
      this.acked = 0;
      if (this.ws === ws) this.ws = null;
      this.wake();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  /** Wait until fewer than `window` frames are unanswered (or the connection went). */
  public async room(window: number): Promise<void> {
    while (this.open && this.unanswered >= window) await new Promise<void>((resolve) => this.waiters.push({ resolve }));
  }

  /** Wait until every frame was answered, the connection closed, or `ms` passed; false when frames are left unanswered on an open connection. */
  public async settle(ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (this.open && this.unanswered > 0 && Date.now() < end) {
      await Promise.race([new Promise<void>((resolve) => this.waiters.push({ resolve })), sleep(50)]);
    }
    return !this.open || this.unanswered === 0;
  }

  /** Send one frame; returns the bytes sent (0 when the connection is gone). */
  public send(f: Frame, kind: string): number {
    const ws = this.ws;
    if (ws === null || ws.readyState !== WebSocket.OPEN) return 0;
    const noop = (): void => {};
    let bytes = 0;
    switch (f.t) {
      case 'text':
        ws.send(f.text, noop);
        bytes = Buffer.byteLength(f.text);
        break;
      case 'bytes':
        ws.send(f.bytes, { binary: f.binary }, noop);
        bytes = f.bytes.length;
        break;
      case 'sized': {
        const text = sizedText(f, this.run.target.maxFrameBytes, 1 + (this.sent % 1_000_000));
        ws.send(text, noop);
        bytes = text.length;
        break;
      }
      case 'fragments':
        f.parts.forEach((p, i) => ws.send(p, { fin: i === f.parts.length - 1 }, noop));
        bytes = f.parts.reduce((n, p) => n + Buffer.byteLength(p), 0);
        break;
    }
    this.sent++;
    this.run.sentOne(`ws ${kind}`, bytes);
    return bytes;
  }

  public async close(): Promise<void> {
    const ws = this.ws;
    if (ws === null) return;
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      ws.close(1000);
      await Promise.race([closed, sleep(2000)]);
      ws.terminate();
    }
  }
}

/** Parses pipelined HTTP/1.1 responses well enough to count them: status, return code, body by Content-Length. */
export class ResponseReader {
  private buf = Buffer.alloc(0);
  public readonly statuses: { status: number; ret: string | null }[] = [];
  private untilClose = false;

  public constructor(private readonly heads: readonly boolean[]) {}

  public feed(chunk: Buffer): void {
    if (this.untilClose) return;
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString('latin1');
      const m = /^HTTP\/\d\.\d (\d{3})/.exec(head);
      if (m === null) {
        this.untilClose = true;
        return;
      }
      const status = Number(m[1]);
      const len = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const ret = /\r\nx-sscard-return:\s*(-?\d+)/i.exec(head)?.[1] ?? null;
      if (status >= 100 && status < 200 && status !== 101) {
        this.buf = this.buf.subarray(end + 4);
        continue;
      }
      const isHead = this.heads[this.statuses.length] === true;
      if (status === 101 || (len === null && !isHead)) {
        // An upgrade, or a body that lasts until the close: nothing after it is another answer.
        this.statuses.push({ status, ret });
        this.untilClose = true;
        return;
      }
      const bodyLen = isHead ? 0 : Number(len![1]);
      // The body is still coming: wait for it (the head is read again with it).
      if (this.buf.length < end + 4 + bodyLen) return;
      this.statuses.push({ status, ret });
      this.buf = this.buf.subarray(end + 4 + bodyLen);
    }
  }
}
