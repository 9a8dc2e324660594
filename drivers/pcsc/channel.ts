/**
 * A card channel over one PC/SC reader: the CardTransport of drivers/transport.ts on top of the
 * pcsclite addon. One command in flight per reader (the service's queue), T=0 `61xx`/`6Cxx`
 * handled by exchangeWithGetResponse, a timeout on every call, and a trace with PIN-bearing data
 * redacted.
 *
 * Card removal (docs/api.md maps it to "no card"): the reader's state as pcscd reports it
 * (SCardGetStatusChange through the service's watcher: the SCARD_STATE_* flags and, in the high 16
 * bits, pcsc-lite's count of card insertions and removals — the same state SCardStatus reads) is
 * asked
 * - before every command: a card pcscd already reported gone, or replaced (the event count moved
 *   since SCardConnect), is refused with Pcsc_CardRemoved without calling SCardTransmit, marked
 *   `notSent` (errors.ts);
 * - after a failed exchange (SCARD_E_NOT_TRANSACTED, an empty answer, a timeout): pcscd notices a
 *   pull only at its next presence poll (every 400 ms, PCSCLITE_STATUS_POLL_RATE; vpcd has no
 *   interrupt), so the channel waits up to `removalSettleMs` for the reader's state. A card gone
 *   by then makes the failure Pcsc_CardRemoved; it is not `notSent` (the command may have reached
 *   the card before it went), so a state-changing command stays "outcome unknown".
 */
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { traceCommand, traceResponse } from '../../apdu/apdu.js';
import { copyBytes, isSecret, markSecret, wipe } from '../../core/secret.js';
import type { CardProtocol, CardTransport, Disposition, TransmitOptions } from '../transport.js';
import { exchangeWithGetResponse } from '../transport.js';
import type { AddonReader } from './addon.js';
import { Scard } from './addon.js';
import { isNotSent, toPcscError } from './errors.js';

export interface TraceEntry {
  readonly reader: string;
  readonly direction: 'C' | 'R';
  /** Hex, with PIN-bearing command data replaced by "[n bytes redacted]". */
  readonly hex: string;
  /** Milliseconds the exchange took (R entries). */
  readonly ms?: number;
}

export interface ChannelOptions {
  /** 'shared' (default) lets other programs use the card between our commands; 'exclusive' does not. */
  readonly share?: 'shared' | 'exclusive';
  /** Protocols to accept; default T=0 or T=1. */
  readonly protocols?: readonly ('T0' | 'T1')[];
  /** Default timeout of transmit/control (ms); default 15000. */
  readonly timeoutMs?: number;
  readonly trace?: (entry: TraceEntry) => void;
  /** Whether `trace` wants entries now (e.g. the APDU log at debug): none is formatted otherwise. Default: always. */
  readonly traceEnabled?: () => boolean;
  /** Each APDU's round trip in ms (metrics; no data). */
  readonly timing?: (reader: string, ms: number) => void;
  /** @internal the service's per-reader queue */
  readonly queue?: <T>(job: () => Promise<T>) => Promise<T>;
  /** @internal the reader's latest ATR, from the service's status watcher */
  readonly currentAtr?: () => Buffer | undefined;
  /** @internal false once the reader or the service's context is gone */
  readonly isAlive?: () => boolean;
  /**
   * @internal the reader's last SCARD_STATE_* word from the service's status watcher (pcsc-lite
   * puts its card event count in the high 16 bits); undefined when the reader is not known
   */
  readonly readerState?: () => number | undefined;
  /** @internal resolves at the service's next status report of any reader, or after `ms` */
  readonly stateChange?: (ms: number) => Promise<void>;
  /**
   * How long a failed exchange waits for pcscd to report whether the card is still there (ms;
   * default 1000: pcscd polls presence every 400 ms).
   */
  readonly removalSettleMs?: number;
}

/**
 * The card in the reader as pcscd last reported it: `present` (the card this channel connected
 * to), `absent`, `changed` (pcscd counted a removal or insertion since SCardConnect: not our card
 * any more), or `unknown` (the reader or the watcher is gone).
 */
export type CardPresence = 'present' | 'absent' | 'changed' | 'unknown';

const DISPOSITION: Record<Disposition, number> = {
  leave: Scard.LEAVE_CARD,
  reset: Scard.RESET_CARD,
  unpower: Scard.UNPOWER_CARD,
  eject: Scard.EJECT_CARD,
};

/** Largest short R-APDU plus SW, and then some: extended responses up to 64 KiB + SW. */
const MAX_RESPONSE = 65538;

export class PcscChannel implements CardTransport {
  readonly readerName: string;
  private atrValue: Buffer;
  private protocolValue = 0;
  private open_ = false;
  private broken: SsCardError | undefined;
  private readonly timeoutMs: number;
  /** One timer per channel, re-armed with refresh() for each call (no allocation per APDU). */
  private timer: NodeJS.Timeout | undefined;
  private pendingTimeout: (() => void) | undefined;
  private timerMs = 0;
  private readonly queue: <T>(job: () => Promise<T>) => Promise<T>;
  /** pcsc-lite's card event count when we connected (high 16 bits of the reader state). */
  private connectedEvents: number | undefined;
  private readonly removalSettleMs: number;

  constructor(
    private readonly reader: AddonReader,
    atr: Buffer,
    private readonly options: ChannelOptions = {},
  ) {
    this.readerName = reader.name;
    this.atrValue = atr;
    this.timeoutMs = options.timeoutMs ?? 15000;
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) {
      throw new SsCardError(ErrorCode.Input_BadOption, { zh: `选项 timeoutMs 必须是正数，实际为 ${this.timeoutMs}`, en: `option timeoutMs must be a positive number, got ${this.timeoutMs}` }, { option: 'timeoutMs' });
    }
    this.removalSettleMs = options.removalSettleMs ?? 1000;
    if (!Number.isFinite(this.removalSettleMs) || this.removalSettleMs < 0) {
      throw new SsCardError(
        ErrorCode.Input_BadOption,
        { zh: `选项 removalSettleMs 必须是非负数，实际为 ${this.removalSettleMs}`, en: `option removalSettleMs must be a non-negative number, got ${this.removalSettleMs}` },
        { option: 'removalSettleMs' },
      );
    }
    let chain: Promise<unknown> = Promise.resolve();
    this.queue =
      options.queue ??
      (<T>(job: () => Promise<T>): Promise<T> => {
        const next = chain.then(job, job);
        chain = next.catch(() => undefined);
        return next;
      });
  }

  get atr(): Buffer {
    return this.atrValue;
  }

  get protocol(): CardProtocol {
    return this.protocolValue === Scard.PROTOCOL_T0 ? 'T0' : this.protocolValue === Scard.PROTOCOL_T1 ? 'T1' : 'RAW';
  }

  get isOpen(): boolean {
    if (!this.open_ || this.broken !== undefined || !(this.options.isAlive?.() ?? true)) return false;
    const p = this.presence();
    return p !== 'absent' && p !== 'changed';
  }

  /** Is the card this channel connected to still in the reader, as pcscd last reported? ({@link CardPresence}) */
  presence(): CardPresence {
    const state = this.options.readerState?.();
    if (state === undefined) return 'unknown';
    if ((state & Scard.STATE_EMPTY) !== 0) return 'absent';
    if ((state & Scard.STATE_PRESENT) === 0) return 'unknown';
    const events = state >>> 16;
    // Connected before the watcher reported the card: the first report of it is the reference.
    this.connectedEvents ??= events;
    return events === this.connectedEvents ? 'present' : 'changed';
  }

  /** SCardConnect. Called by PcscService.connect. */
  async open(): Promise<void> {
    await this.queue(() => this.connectNow());
  }

  private async connectNow(): Promise<void> {
    const share = this.options.share === 'exclusive' ? Scard.SHARE_EXCLUSIVE : Scard.SHARE_SHARED;
    const wanted = this.options.protocols ?? ['T0', 'T1'];
    const protocol = wanted.reduce((m, p) => m | (p === 'T0' ? Scard.PROTOCOL_T0 : Scard.PROTOCOL_T1), 0);
    this.protocolValue = await this.call<number>('connect', (cb) => this.reader.connect({ share_mode: share, protocol }, cb), this.timeoutMs);
    this.open_ = true;
    this.broken = undefined;
    this.atrValue = this.options.currentAtr?.() ?? this.atrValue;
    const state = this.options.readerState?.();
    this.connectedEvents = state !== undefined && (state & Scard.STATE_PRESENT) !== 0 ? state >>> 16 : undefined;
  }

  transmit(command: Uint8Array, options: TransmitOptions = {}): Promise<Buffer> {
    // A command built from a PIN, a PIN block or key material is marked secret where it was built
    // (core/secret.ts); this copy keeps the mark, its trace shows no data and it is wiped after use.
    const cmd = copyBytes(command);
    const sensitive = options.sensitive === true || isSecret(command);
    if (cmd.length < 4) {
      return Promise.reject(
        new SsCardError(ErrorCode.Input_BadApdu, { zh: `命令 APDU 只有 ${cmd.length} 字节，至少需要 4 字节`, en: `command APDU has ${cmd.length} bytes, at least 4 are needed` }, { length: cmd.length }),
      );
    }
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return this.queue(async () => {
      try {
        const res = await exchangeWithGetResponse((c) => this.transmitOnce(c, timeoutMs, sensitive), cmd);
        // The answer to a sensitive command (a PSAM's encrypted PIN block) is secret too.
        return options.sensitive === true ? markSecret(res) : res;
      } catch (e) {
        throw await this.classifyFailure(e, timeoutMs);
      } finally {
        if (sensitive) wipe(cmd);
      }
    });
  }

  private async transmitOnce(cmd: Buffer, timeoutMs: number, sensitive: boolean): Promise<Buffer> {
    this.assertUsable('transmit');
    // The hex of every APDU costs a formatting per command and per answer: only when it is wanted.
    const trace = this.options.trace !== undefined && (this.options.traceEnabled?.() ?? true) ? this.options.trace : undefined;
    const timing = this.options.timing;
    const t0 = trace || timing ? performance.now() : 0;
    trace?.({ reader: this.readerName, direction: 'C', hex: traceCommand(cmd, sensitive) });
    const res = await this.call<Buffer>('transmit', (cb) => this.reader.transmit(cmd, MAX_RESPONSE, this.protocolValue, cb), timeoutMs);
    const ms = trace || timing ? performance.now() - t0 : 0;
    trace?.({ reader: this.readerName, direction: 'R', hex: traceResponse(res, sensitive), ms });
    timing?.(this.readerName, ms);
    if (res.length < 2) {
      // vpcd (and some readers) answer a card pulled out mid-command with an empty response.
      this.broken = new SsCardError(
        ErrorCode.Pcsc_TransmitFailed,
        {
          zh: `读卡器“${this.readerName}”返回的响应不完整（${res.length} 字节；卡片可能已被取出）：请检查卡片后重新开始操作`,
          en: `reader "${this.readerName}" returned an incomplete response (${res.length} bytes; was the card removed?): check the card and start the operation again`,
        },
        { reader: this.readerName, length: res.length },
      );
      throw this.broken;
    }
    return res;
  }

  control(controlCode: number, data: Uint8Array, maxResponseLength = 1024, options: TransmitOptions = {}): Promise<Buffer> {
    return this.queue(async () => {
      this.assertUsable('control');
      return this.call<Buffer>('control', (cb) => this.reader.control(Buffer.from(data), controlCode, maxResponseLength, cb), options.timeoutMs ?? this.timeoutMs);
    });
  }

  /** Warm reset: SCardDisconnect(RESET) then SCardConnect (the addon has no SCardReconnect). */
  reset(): Promise<Buffer> {
    return this.queue(async () => {
      this.assertUsable('reset');
      await this.call<void>('disconnect', (cb) => this.reader.disconnect(Scard.RESET_CARD, (e) => cb(e, undefined)), this.timeoutMs);
      this.open_ = false;
      await this.connectNow();
      return this.atrValue;
    });
  }

  close(disposition: Disposition = 'leave'): Promise<void> {
    if (!this.open_) return Promise.resolve();
    this.open_ = false;
    return this.queue(async () => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      if (!(this.options.isAlive?.() ?? true) || !this.reader.connected) return;
      try {
        await this.call<void>('disconnect', (cb) => this.reader.disconnect(DISPOSITION[disposition], (e) => cb(e, undefined)), this.timeoutMs);
      } catch {
        // The card or reader is already gone: nothing left to release.
      }
    });
  }

  /**
   * Refuse a command that cannot reach the card, before any PC/SC call: the channel is broken, the
   * card is gone (or another one is in the reader) by pcscd's last report, the channel is closed,
   * or the reader went away. A refused transmit is marked `notSent` (errors.ts).
   */
  private assertUsable(op: string): void {
    try {
      this.checkUsable(op);
    } catch (e) {
      if (op !== 'transmit' || !(e instanceof SsCardError) || isNotSent(e)) throw e;
      throw new SsCardError(e.code, e.text, { ...e.context, op, notSent: true }, { cause: e });
    }
  }

  private checkUsable(op: string): void {
    if (this.broken) throw this.broken;
    const presence = this.presence();
    if (presence === 'absent' || presence === 'changed') {
      this.broken = this.removed(presence, op);
      throw this.broken;
    }
    if (!this.open_) {
      throw new SsCardError(ErrorCode.Pcsc_NotConnected, { zh: `未连接读卡器“${this.readerName}”中的卡片（${op}）`, en: `not connected to the card in "${this.readerName}" (${op})` }, { reader: this.readerName, op });
    }
    if (!(this.options.isAlive?.() ?? true)) {
      throw new SsCardError(
        ErrorCode.Pcsc_ReaderRemoved,
        { zh: `读卡器“${this.readerName}”已断开（读卡器拔出或 pcscd 重启）：请重新开始操作`, en: `reader "${this.readerName}" went away (unplugged, or pcscd restarted): start the operation again` },
        { reader: this.readerName, op },
      );
    }
  }

  /**
   * Run one addon call with a timeout. A timed-out call may still complete in the addon's thread:
   * the channel is marked broken so that nothing else is sent on it, and the caller must treat a
   * state-changing command as "outcome unknown".
   */
  private call<T>(op: string, run: (cb: (err: Error | null | undefined, value: T) => void) => void, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      this.pendingTimeout = () => {
        if (done) return;
        done = true;
        const err = new SsCardError(
          ErrorCode.Pcsc_Timeout,
          { zh: `读卡器“${this.readerName}”在 ${timeoutMs} 毫秒内没有应答（${op}）：请检查卡片与读卡器`, en: `reader "${this.readerName}" did not answer within ${timeoutMs} ms (${op}): check the card and the reader` },
          { reader: this.readerName, op, timeoutMs },
        );
        this.broken = err;
        reject(err);
      };
      this.armTimer(timeoutMs);
      const settle = (): boolean => {
        if (done) return false;
        done = true;
        this.pendingTimeout = undefined;
        return true;
      };
      try {
        run((err, value) => {
          if (!settle()) return;
          if (err) reject(this.mapError(err, op));
          else resolve(value);
        });
      } catch (err) {
        if (settle()) reject(this.mapError(err, op));
      }
    });
  }

  /** Calls are serialised, so one timer serves them all; it is unref'd and harmless when idle. */
  private armTimer(ms: number): void {
    if (this.timer && this.timerMs === ms) {
      this.timer.refresh();
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timerMs = ms;
    this.timer = setTimeout(() => this.pendingTimeout?.(), ms);
    this.timer.unref();
  }

  /** Pcsc_CardRemoved for a card pcscd reports gone (`absent`) or replaced (`changed`). */
  private removed(presence: 'absent' | 'changed', op: string, cause?: unknown): SsCardError {
    const r = this.readerName;
    const c = cause instanceof SsCardError ? cause : undefined;
    return new SsCardError(
      ErrorCode.Pcsc_CardRemoved,
      presence === 'absent'
        ? { zh: `读卡器“${r}”中的卡片已被取出：请重新插卡后再试`, en: `the card was removed from "${r}": insert it again and retry` }
        : { zh: `读卡器“${r}”中的卡片已被取出（现在是另一张卡或重新插入的卡）：请重新开始操作`, en: `the card was removed from "${r}" (the card there now was inserted since): start the operation again` },
      { reader: r, op, presence, ...(c === undefined ? {} : { failure: c.code, ...(c.context?.['pcscCode'] === undefined ? {} : { pcscCode: c.context['pcscCode'] }) }) },
      cause === undefined ? undefined : { cause },
    );
  }

  /**
   * A failed exchange whose cause says nothing about the card (SCARD_E_NOT_TRANSACTED, an empty
   * answer, an unknown return code, a timeout): ask pcscd whether the card is still in the reader,
   * waiting for its next presence poll (at most `removalSettleMs`; a timed-out call has waited
   * that long already). Gone → Pcsc_CardRemoved (the channel stays broken), else the failure as
   * it was. Errors that already say what happened (removed, no card, reader gone, refused before
   * sending) are returned as they are.
   */
  private async classifyFailure(e: unknown, timeoutMs: number): Promise<unknown> {
    if (!(e instanceof SsCardError) || isNotSent(e)) return e;
    if (e.code !== ErrorCode.Pcsc_TransmitFailed && e.code !== ErrorCode.Pcsc_Timeout && e.code !== ErrorCode.Pcsc_Unresponsive) return e;
    const waitMs = e.code === ErrorCode.Pcsc_Timeout ? Math.max(0, this.removalSettleMs - timeoutMs) : this.removalSettleMs;
    const presence = await this.settledPresence(waitMs);
    if (presence !== 'absent' && presence !== 'changed') return e;
    this.broken = this.removed(presence, 'transmit', e);
    return this.broken;
  }

  /** The card's presence once pcscd reports it gone, or as it stands after `ms`. */
  private async settledPresence(ms: number): Promise<CardPresence> {
    const end = performance.now() + ms;
    for (;;) {
      const p = this.presence();
      if (p === 'absent' || p === 'changed' || !(this.options.isAlive?.() ?? true)) return p;
      const left = end - performance.now();
      if (left <= 0 || this.options.stateChange === undefined) return p;
      await this.options.stateChange(left);
    }
  }

  private mapError(err: unknown, op: string): SsCardError {
    const e = toPcscError(err, op, this.readerName);
    if (e.code === ErrorCode.Pcsc_CardRemoved || e.code === ErrorCode.Pcsc_ReaderRemoved || e.code === ErrorCode.Pcsc_ServiceUnavailable || e.code === ErrorCode.Pcsc_NoCard) {
      this.broken = e;
    }
    return e;
  }
}
