/**
 * One small typed client of the local API for the pages and the browser tests (docs/api.md): the
 * XFS4IoT envelope over one WebSocket, request ids, each command's acknowledge → events →
 * completion correlated to its promise, cancel, unsolicited messages, and reconnection with the
 * house's backoff (core/backoff.ts) when the daemon restarts.
 *
 * What it never does: resend a command. A command running when the connection drops rejects with
 * `connectionLost` and is not sent again after the reconnect — the terminal ends that flow safely
 * (docs/api.md "Cancel, timeout, disconnect"), and a card-changing command must never be retried
 * (README, docs/architecture.md "Habits"). The page decides what to offer next.
 *
 * Nothing here logs or keeps a payload: a `Keyboard.TouchKey` key goes into one frame and nowhere else.
 */
import { backoffDelay, checkBackoff, type BackoffOptions } from '../../core/backoff.js';
import type { AckStatus, BilingualText, CompletionCode, InMessage, Payload } from './messages.js';

/** The socket as the client needs it; `browserSocket` adapts the browser's WebSocket. */
export interface SocketLike {
  send(text: string): void;
  close(): void;
}

export interface SocketHandlers {
  open(): void;
  message(text: string): void;
  /** Closed, or failed to open (a WebSocket reports an error, then closes). */
  closed(): void;
}

export type SocketFactory = (url: string, on: SocketHandlers) => SocketLike;

/** The browser's WebSocket. Binary frames are ignored: the API sends text only. */
export const browserSocket: SocketFactory = (url, on) => {
  const ws = new WebSocket(url);
  ws.onopen = () => on.open();
  ws.onmessage = (e: MessageEvent<unknown>) => {
    if (typeof e.data === 'string') on.message(e.data);
  };
  ws.onclose = () => on.closed();
  return { send: (t) => ws.send(t), close: () => ws.close() };
};

export type ConnectionState = 'connecting' | 'open' | 'unavailable' | 'stopped';

/** A command's end, whatever its completion code: the caller decides what a failure means. */
export interface Completion {
  readonly name: string;
  readonly requestId: number;
  readonly code: CompletionCode;
  readonly ok: boolean;
  /** The stable string of a failure (`verify.wrongPin`, `flow.noCard`, …); null on success. */
  readonly errorCode: string | null;
  /** The daemon's bilingual description, split into its two languages; null on success. */
  readonly description: BilingualText | null;
  readonly payload: Payload;
}

export type ApiErrorKind = 'notConnected' | 'connectionLost' | 'refused' | 'stopped';

const ERROR_TEXT: Readonly<Record<Exclude<ApiErrorKind, 'refused'>, BilingualText>> = {
  notConnected: { zh: '终端服务暂时不可用，请稍候', en: 'the terminal service is temporarily unavailable; please wait' },
  connectionLost: { zh: '与终端服务的连接中断，本次操作已结束，请稍候重试', en: 'the connection to the terminal service was lost; this operation has ended, try again shortly' },
  stopped: { zh: '页面已关闭与终端服务的连接', en: 'the page has closed its connection to the terminal service' },
};

/** The command never ran to a completion: no connection, a refused message, or the connection went away. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly kind: ApiErrorKind,
    readonly text: BilingualText,
    /** The acknowledge status when `kind` is `refused`. */
    readonly status: AckStatus = null,
  ) {
    super(`${text.zh} / ${text.en}`);
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

/** "中文 / English" (docs/api.md: `errorDescription`) → { zh, en }; text without the separator goes to both. */
export function splitDescription(text: string | null | undefined): BilingualText | null {
  // The daemon leaves out a field without a value (docs/api.md "Envelope"): no errorDescription on a success.
  if (typeof text !== 'string' || text === '') return null;
  const cut = text.indexOf(' / ');
  return cut < 0 ? { zh: text, en: text } : { zh: text.slice(0, cut), en: text.slice(cut + 3) };
}

export interface CommandOptions {
  /** The header's timeout in ms (the daemon cancels the command when it runs out). */
  readonly timeoutMs?: number;
  /** Each event of this command (`type: "event"`), in order, before the completion. */
  readonly onEvent?: (name: string, payload: Payload) => void;
  /** Aborting sends `Common.Cancel` for this command; it still ends with its completion. */
  readonly signal?: AbortSignal;
}

export interface ApiClientOptions {
  /** ws://…/xfs4iot/v1.0/sscard (see `serviceUrl`). */
  readonly url: string;
  readonly socket?: SocketFactory;
  /** Reconnect delays (core/backoff.ts); default 250 ms doubling up to 5 s: a kiosk comes back quickly. */
  readonly backoff?: BackoffOptions;
  /** A connection not open after this long is dropped and tried again (default 10 s). */
  readonly openTimeoutMs?: number;
  readonly random?: () => number;
}

interface Pending {
  readonly name: string;
  readonly onEvent: ((name: string, payload: Payload) => void) | undefined;
  readonly resolve: (c: Completion) => void;
  readonly reject: (e: ApiError) => void;
  readonly unlisten: () => void;
}

type Unsubscribe = () => void;

export class ApiClient {
  private readonly url: string;
  private readonly factory: SocketFactory;
  private readonly backoff: Required<BackoffOptions>;
  private readonly openTimeoutMs: number;
  private readonly random: () => number;
  private socket: SocketLike | null = null;
  private current = 0;
  private failures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private openTimer: ReturnType<typeof setTimeout> | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly stateListeners = new Set<(s: ConnectionState) => void>();
  private readonly unsolicitedListeners = new Set<(name: string, payload: Payload) => void>();
  private stateNow: ConnectionState = 'stopped';

  constructor(opts: ApiClientOptions) {
    this.url = opts.url;
    this.factory = opts.socket ?? browserSocket;
    this.backoff = checkBackoff({ baseMs: 250, maxMs: 5000, ...opts.backoff });
    this.openTimeoutMs = opts.openTimeoutMs ?? 10_000;
    this.random = opts.random ?? Math.random;
  }

  get state(): ConnectionState {
    return this.stateNow;
  }

  /** Connect, and keep reconnecting until `stop()`. */
  start(): void {
    if (this.stateNow !== 'stopped') return;
    this.connect();
  }

  /** Close for good: running commands reject with `stopped`. */
  stop(): void {
    this.clearTimers();
    const s = this.socket;
    this.socket = null;
    this.current++;
    this.setState('stopped');
    this.failAll('stopped');
    s?.close();
  }

  onState(listener: (s: ConnectionState) => void): Unsubscribe {
    this.stateListeners.add(listener);
    return () => void this.stateListeners.delete(listener);
  }

  /** Unsolicited messages (docs/api.md "Unsolicited"): card and device events for every client. */
  onUnsolicited(listener: (name: string, payload: Payload) => void): Unsubscribe {
    this.unsolicitedListeners.add(listener);
    return () => void this.unsolicitedListeners.delete(listener);
  }

  /**
   * Send one command; resolves with its completion (any completion code), rejects with an
   * ApiError when it never gets one: not connected (nothing sent), refused by the acknowledge, or
   * the connection lost (not resent).
   */
  command(name: string, payload: Payload = {}, opts: CommandOptions = {}): Promise<Completion> {
    const socket = this.socket;
    if (socket === null || this.stateNow !== 'open') return Promise.reject(new ApiError(this.stateNow === 'stopped' ? 'stopped' : 'notConnected', ERROR_TEXT[this.stateNow === 'stopped' ? 'stopped' : 'notConnected']));
    const requestId = this.nextId++;
    if (this.nextId > Number.MAX_SAFE_INTEGER) this.nextId = 1;
    const header = { type: 'command', name, requestId, ...(opts.timeoutMs === undefined ? {} : { timeout: opts.timeoutMs }) };
    return new Promise<Completion>((resolve, reject) => {
      const signal = opts.signal;
      const onAbort = (): void => void this.cancel([requestId]).catch(() => undefined);
      signal?.addEventListener('abort', onAbort, { once: true });
      const unlisten = (): void => signal?.removeEventListener('abort', onAbort);
      this.pending.set(requestId, { name, onEvent: opts.onEvent, resolve, reject, unlisten });
      socket.send(JSON.stringify({ header, payload }));
      if (signal?.aborted === true) onAbort();
    });
  }

  /** `Common.Cancel` for these of our commands (all running ones when absent). */
  cancel(requestIds?: readonly number[]): Promise<Completion> {
    return this.command('Common.Cancel', requestIds === undefined ? {} : { requestIds: [...requestIds] });
  }

  // ---- the connection ----

  private connect(): void {
    const generation = ++this.current;
    this.setState('connecting');
    const mine = (): boolean => generation === this.current;
    this.openTimer = setTimeout(() => {
      if (mine()) this.dropped();
    }, this.openTimeoutMs);
    this.socket = this.factory(this.url, {
      open: () => {
        if (!mine()) return;
        this.clearOpenTimer();
        this.failures = 0;
        this.setState('open');
      },
      message: (text) => {
        if (mine()) this.receive(text);
      },
      closed: () => {
        if (mine()) this.dropped();
      },
    });
  }

  /** The connection closed or never opened: fail what ran, wait, try again. */
  private dropped(): void {
    this.clearTimers();
    const s = this.socket;
    this.socket = null;
    this.current++;
    s?.close();
    this.setState('unavailable');
    this.failAll('connectionLost');
    this.failures++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.stateNow === 'unavailable') this.connect();
    }, backoffDelay(this.failures, this.backoff, this.random));
  }

  private receive(text: string): void {
    let msg: InMessage;
    try {
      msg = JSON.parse(text) as InMessage;
    } catch {
      return;
    }
    const h = (msg as { header?: unknown }).header as InMessage['header'] | undefined;
    if (h === undefined || typeof h !== 'object' || h === null) return;
    const payload: Payload = msg.payload ?? {};
    if (h.type === 'unsolicited') {
      for (const l of [...this.unsolicitedListeners]) l(h.name, payload);
      return;
    }
    if (h.requestId === null) return;
    const p = this.pending.get(h.requestId);
    if (p === undefined) return;
    switch (h.type) {
      case 'acknowledge':
        // Accepted: no status (docs/domain.md §7); a refusal names one.
        if (h.status != null) {
          this.settle(h.requestId);
          p.reject(new ApiError('refused', splitDescription(h.errorDescription) ?? { zh: h.status, en: h.status }, h.status));
        }
        return;
      case 'event':
        p.onEvent?.(h.name, payload);
        return;
      case 'completion': {
        this.settle(h.requestId);
        const ok = h.completionCode === 'success';
        // The daemon's detailed code (docs/api.md "Envelope"); a standard command's own errorCode otherwise.
        const detail = payload['sscardErrorCode'] ?? payload['errorCode'];
        const errorCode = typeof detail === 'string' ? detail : null;
        p.resolve({ name: h.name, requestId: h.requestId, code: h.completionCode, ok, errorCode: ok ? null : errorCode ?? h.completionCode, description: splitDescription(h.errorDescription), payload });
        return;
      }
    }
  }

  private settle(requestId: number): void {
    this.pending.get(requestId)?.unlisten();
    this.pending.delete(requestId);
  }

  private failAll(kind: 'connectionLost' | 'stopped'): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      p.unlisten();
      p.reject(new ApiError(kind, ERROR_TEXT[kind]));
    }
  }

  private setState(s: ConnectionState): void {
    if (s === this.stateNow) return;
    this.stateNow = s;
    for (const l of [...this.stateListeners]) l(s);
  }

  private clearOpenTimer(): void {
    if (this.openTimer !== null) clearTimeout(this.openTimer);
    this.openTimer = null;
  }

  private clearTimers(): void {
    this.clearOpenTimer();
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}
