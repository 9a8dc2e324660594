/**
 * The vendors' local JSON WebSocket (docs/domain.md §4; docs/api.md "SSCardDriver over WebSocket"):
 * browser-based kiosk applications written for a reader vendor's local service (Decard's and
 * others') send `{"function":"iReadCardBas","iType":3}` and get
 * `{"functionName":"iReadCardBas","success":true,"pOutInfo":"…"}`. Here it sits on the API's own
 * port at `/sscard` (no second port: the same access checks, limits and heartbeat as every
 * WebSocket client, docs/security.md), and each message runs the same function as
 * `POST /sscard/<function>` (vendor-calls.ts). One call at a time per connection; terminal events
 * are not sent here.
 */
import type { RawData, WebSocket } from 'ws';
import { oneLine } from '../../core/text.js';
import type { ApiContext } from './context.js';
import { vendorFunction, type VendorAnswer } from './vendor-calls.js';
import { jsonObject } from './vendor-http.js';
import { VENDOR_CODES } from './vendor.js';

export const VENDOR_WS_PATH = '/sscard';

const TEXT = {
  binary: { zh: '只接受文本消息（JSON）', en: 'only text messages (JSON) are accepted' },
  noFunction: { zh: '消息须为 JSON 对象，带字符串字段 function（例如 {"function":"iReadCardBas","iType":3}）', en: 'a message must be a JSON object with a string field function (e.g. {"function":"iReadCardBas","iType":3})' },
  unknown: (fn: string) => ({ zh: `没有函数 ${fn}：可用的函数见 docs/api.md`, en: `there is no function ${fn}: docs/api.md lists them` }),
  busy: { zh: '上一个调用尚未结束：请等它的应答后再发', en: 'the previous call has not ended: wait for its answer before sending another' },
} as const;

let nextId = 1;

/** What a message is answered with (the vendors' three fields; ours `sscard`-prefixed). */
export interface VendorWsAnswer {
  readonly functionName: string | null;
  readonly success: boolean;
  readonly pOutInfo: string;
  /** The `long` the C function would return. */
  readonly sscardReturn: number | null;
}

export class VendorSocket {
  public readonly endpoint = 'vendor' as const;
  public readonly id: string;
  private busy = false;
  private readonly gone = new AbortController();

  public constructor(
    private readonly ws: WebSocket,
    private readonly api: ApiContext,
    private readonly remote: string,
    /** Who the client is (access.ts). */
    public readonly identity: string,
    /** The stored hash of its client token, when it came with one (a revocation closes it). */
    public readonly clientHash: string | null = null,
  ) {
    this.id = `v${nextId++}`;
    ws.on('message', (data, isBinary) => void this.onMessage(data, isBinary));
    ws.on('close', () => this.gone.abort(new DOMException('the WebSocket client went away', 'AbortError')));
    ws.on('error', (e: Error & { code?: string }) => {
      this.api.throttle.log(this.identity, 'debug', 'API vendor WebSocket error', { client: this.id, remote: this.remote, code: e.code ?? null }, e.code ?? 'error', 'connection errors');
    });
  }

  private send(a: VendorWsAnswer): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    const text = JSON.stringify(a);
    if (this.ws.bufferedAmount + Buffer.byteLength(text) > this.api.maxSendBufferBytes) {
      this.api.throttle.log(this.identity, 'warn', 'API client does not read its messages; dropping it', { client: this.id, buffered: this.ws.bufferedAmount }, 'send buffer full', 'dropped non-reading connections');
      this.ws.terminate();
      return;
    }
    this.ws.send(text);
  }

  private answer(fn: string | null, a: VendorAnswer): void {
    this.send({ functionName: fn, success: a.code === VENDOR_CODES.ok, pOutInfo: a.text, sscardReturn: a.code });
  }

  private async onMessage(data: RawData, isBinary: boolean): Promise<void> {
    try {
      if (isBinary) return this.answer(null, { status: 400, code: VENDOR_CODES.badParameter, text: oneLine(TEXT.binary) });
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
      const msg = jsonObject(text);
      if (!msg.ok) return this.answer(null, msg.answer);
      const { function: fn, ...fields } = msg.value;
      if (typeof fn !== 'string' || fn.length === 0 || fn.length > 64) return this.answer(null, { status: 400, code: VENDOR_CODES.badParameter, text: oneLine(TEXT.noFunction) });
      const call = vendorFunction(fn);
      if (call === undefined) return this.answer(fn, { status: 404, code: VENDOR_CODES.notSupported, text: oneLine(TEXT.unknown(fn.replace(/[^\w]/g, '?'))) });
      if (this.busy) return this.answer(fn, { status: 409, code: VENDOR_CODES.notConnected, text: oneLine(TEXT.busy) });
      this.busy = true;
      try {
        // No Authorization here: a browser cannot send one on a WebSocket, so a function that needs
        // an operator answers −24 (docs/api.md).
        this.answer(fn, await call(this.api, fields, { authorization: undefined, signal: this.gone.signal, owner: `ws-vendor#${this.id}` }));
      } finally {
        this.busy = false;
      }
    } catch (e) {
      this.api.logger.error('API vendor WebSocket message failed', { client: this.id, error: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
    }
  }

  /** Server shutdown. */
  public shutdown(): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(1001, 'server closing');
  }

  /** Its client credential was revoked: close with 1008 (RFC 6455 §7.4.1). */
  public revoke(): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(1008, 'client credential revoked');
  }

  public onceClosed(f: () => void): void {
    if (this.ws.readyState === this.ws.CLOSED) f();
    else this.ws.once('close', () => f());
  }

  public terminate(): void {
    this.ws.terminate();
  }
}
