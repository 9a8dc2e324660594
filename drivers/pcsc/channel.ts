/**
 * A card channel over one PC/SC reader: the CardTransport of drivers/transport.ts on top of the
 * pcsclite addon. One command in flight per reader (the service's queue), T=0 `61xx`/`6Cxx`
 * handled by exchangeWithGetResponse, a timeout on every call, and a trace with PIN-bearing data
 * redacted.
 */
import { ErrorCode, SsCardError } from '../../apdu/errors.js';
import { traceCommand, traceResponse } from '../../apdu/apdu.js';
import { copyBytes, isSecret, markSecret, wipe } from '../../core/secret.js';
import type { CardProtocol, CardTransport, Disposition, TransmitOptions } from '../transport.js';
import { exchangeWithGetResponse } from '../transport.js';
import type { AddonReader } from './addon.js';
import { Scard } from './addon.js';
import { toPcscError } from './errors.js';

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
  /** @internal the service's per-reader queue */
  readonly queue?: <T>(job: () => Promise<T>) => Promise<T>;
  /** @internal the reader's latest ATR, from the service's status watcher */
  readonly currentAtr?: () => Buffer | undefined;
  /** @internal false once the reader or the service's context is gone */
  readonly isAlive?: () => boolean;
}

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
    return this.open_ && this.broken === undefined && (this.options.isAlive?.() ?? true);
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
      } finally {
        if (sensitive) wipe(cmd);
      }
    });
  }

  private async transmitOnce(cmd: Buffer, timeoutMs: number, sensitive: boolean): Promise<Buffer> {
    this.assertUsable('transmit');
    const trace = this.options.trace;
    const t0 = trace ? performance.now() : 0;
    trace?.({ reader: this.readerName, direction: 'C', hex: traceCommand(cmd, sensitive) });
    const res = await this.call<Buffer>('transmit', (cb) => this.reader.transmit(cmd, MAX_RESPONSE, this.protocolValue, cb), timeoutMs);
    trace?.({ reader: this.readerName, direction: 'R', hex: traceResponse(res, sensitive), ms: performance.now() - t0 });
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

  private assertUsable(op: string): void {
    if (this.broken) throw this.broken;
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

  private mapError(err: unknown, op: string): SsCardError {
    const e = toPcscError(err, op, this.readerName);
    if (e.code === ErrorCode.Pcsc_CardRemoved || e.code === ErrorCode.Pcsc_ReaderRemoved || e.code === ErrorCode.Pcsc_ServiceUnavailable || e.code === ErrorCode.Pcsc_NoCard) {
      this.broken = e;
    }
    return e;
  }
}
