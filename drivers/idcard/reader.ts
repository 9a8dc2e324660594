/**
 * The resident ID card reader (an ID SAM module on a serial line, docs/domain.md §5).
 *
 * Ready for xstate v5 (the service machines): the long-running calls take an AbortSignal last and
 * return a Promise, so `fromPromise(({ input, signal }) => reader.waitForCard(input, signal))` is the
 * whole actor; stopping the actor aborts the wait with IdCard_Cancelled.
 */
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { commandTimeoutOf, lineOptionsOf, SerialLink, type SerialDeviceOptions } from '../serial/link.js';
import { describeSw3, encodeRequest, IdCmd, IdFrameParser } from './frame.js';
import type { IdCardInfo } from './info.js';
import { parseBaseInfo } from './info.js';

export type IdCardReaderStatus =
  | { readonly type: 'idcard.connected'; readonly name: string }
  | { readonly type: 'idcard.disconnected'; readonly name: string; readonly error?: SsCardError };

export interface WaitForCardOptions {
  /** Give up after this long (default 30000 ms) with IdCard_Timeout. */
  readonly timeoutMs?: number;
  /** Look for a card this often (default 300 ms). */
  readonly pollMs?: number;
}

export interface IdCardReader {
  readonly name: string;
  /** The reader answered its status command and has not gone away since. */
  readonly connected: boolean;
  /** Open and check the SAM (status `11 FF`). Rejects IdCard_ReaderNotFound saying what to check. */
  open(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
  /** Reset the SAM (`10 FF`). */
  reset(signal?: AbortSignal): Promise<void>;
  /** SAM status (`11 FF`); resolves when it answers 90. */
  status(signal?: AbortSignal): Promise<void>;
  /** SAM id (`12 FF`), as the hex of its 16 bytes. */
  samId(signal?: AbortSignal): Promise<string>;
  /**
   * Find, select and read the card on the reader now. Rejects IdCard_NoCard (no card),
   * IdCard_CardRemoved (taken away during the read), IdCard_Timeout, IdCard_BadData, IdCard_ReaderError.
   */
  readCard(signal?: AbortSignal): Promise<IdCardInfo>;
  /** Poll until a card is placed, then read it. IdCard_Timeout after `timeoutMs`; IdCard_Cancelled on abort. */
  waitForCard(options?: WaitForCardOptions, signal?: AbortSignal): Promise<IdCardInfo>;
  onStatus(listener: (status: IdCardReaderStatus) => void): () => void;
}

/** Baud rate 115200 and a command timeout of 3000 ms (READ BASE INFO is ~1.3 KB) unless given. */
export type SerialIdCardReaderOptions = SerialDeviceOptions;

interface Response {
  readonly sw3: number;
  readonly data: Buffer;
}

function cancelled(name: string): SsCardError {
  return new SsCardError(ErrorCode.IdCard_Cancelled, { zh: '读取身份证已取消', en: 'reading the ID card was cancelled' }, { reader: name });
}

export class SerialIdCardReader implements IdCardReader {
  public readonly name: string;
  private readonly link: SerialLink;
  private readonly parser = new IdFrameParser();
  private readonly commandTimeoutMs: number;
  private pending: { resolve(r: Response): void; reject(e: SsCardError): void } | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private connected_ = false;
  private readonly listeners = new Set<(s: IdCardReaderStatus) => void>();
  /** Frames dropped for bad framing (diagnostics). */
  public framingErrors = 0;

  public constructor(options: SerialIdCardReaderOptions) {
    this.name = `ID reader@${options.path}`;
    this.commandTimeoutMs = commandTimeoutOf(options, 3000);
    this.link = new SerialLink({
      ...lineOptionsOf(options, 115200),
      what: { zh: '身份证读卡器', en: 'ID card reader' },
      notFoundCode: ErrorCode.IdCard_ReaderNotFound,
      disconnectedCode: ErrorCode.IdCard_Disconnected,
      onData: (c) => this.onData(c),
      onConnected: (reopened) => {
        if (reopened) void this.reprobe();
      },
      onDisconnected: (e) => this.lost(e),
    });
  }

  public get connected(): boolean {
    return this.connected_;
  }

  public async open(signal?: AbortSignal): Promise<void> {
    await this.link.open();
    try {
      await this.status(signal);
    } catch (err) {
      await this.link.close();
      if (err instanceof SsCardError && err.code === ErrorCode.IdCard_Timeout) {
        throw new SsCardError(
          ErrorCode.IdCard_ReaderNotFound,
          { zh: `串口 ${this.link.path} 上没有应答的身份证读卡器：请检查连接线、电源与波特率（115200）`, en: `no ID card reader answers on ${this.link.path}: check the cable, the power and the baud rate (115200)` },
          { path: this.link.path },
          { cause: err },
        );
      }
      throw err;
    }
    this.setConnected(true);
  }

  public async close(): Promise<void> {
    this.failPending(this.gone());
    await this.link.close();
    this.setConnected(false);
  }

  public async reset(signal?: AbortSignal): Promise<void> {
    await this.expect(IdCmd.RESET, [0x90], 'reset', signal);
  }

  public async status(signal?: AbortSignal): Promise<void> {
    await this.expect(IdCmd.STATUS, [0x90], 'status', signal);
  }

  public async samId(signal?: AbortSignal): Promise<string> {
    const r = await this.expect(IdCmd.SAM_ID, [0x90], 'SAM id', signal);
    return r.data.toString('hex').toUpperCase();
  }

  public async readCard(signal?: AbortSignal): Promise<IdCardInfo> {
    const found = await this.command(IdCmd.FIND, signal);
    if (found.sw3 === 0x80) {
      throw new SsCardError(ErrorCode.IdCard_NoCard, { zh: '读卡器上没有身份证：请把身份证平放在读卡区', en: 'there is no ID card on the reader: lay the card flat on the reading area' }, { reader: this.name });
    }
    if (found.sw3 !== 0x9f) throw this.readerError(found.sw3, 'find');
    const sel = await this.command(IdCmd.SELECT, signal);
    if (sel.sw3 === 0x81 || sel.sw3 === 0x80) throw this.removed('select');
    if (sel.sw3 !== 0x90) throw this.readerError(sel.sw3, 'select');
    const read = await this.command(IdCmd.READ_BASE, signal);
    if (read.sw3 === 0x41 || read.sw3 === 0x80 || read.sw3 === 0x81) throw this.removed('read');
    if (read.sw3 !== 0x90) throw this.readerError(read.sw3, 'read');
    return parseBaseInfo(read.data);
  }

  public async waitForCard(options: WaitForCardOptions = {}, signal?: AbortSignal): Promise<IdCardInfo> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const pollMs = options.pollMs ?? 300;
    for (const [k, v, min] of [['timeoutMs', timeoutMs, 1], ['pollMs', pollMs, 10]] as const) {
      if (!Number.isInteger(v) || v < min || v > 3_600_000) {
        throw new SsCardError(ErrorCode.Input_BadOption, { zh: `选项 ${k} 必须是 ${min}–3600000 的整数，实际为 ${String(v)}`, en: `option ${k} must be an integer ${min}..3600000, got ${String(v)}` }, { option: k });
      }
    }
    const end = performance.now() + timeoutMs;
    for (;;) {
      if (signal?.aborted === true) throw cancelled(this.name);
      try {
        return await this.readCard(signal);
      } catch (err) {
        // no card yet, or taken away before the read finished: keep waiting
        if (!(err instanceof SsCardError) || (err.code !== ErrorCode.IdCard_NoCard && err.code !== ErrorCode.IdCard_CardRemoved)) throw err;
      }
      const left = end - performance.now();
      if (left <= 0) {
        throw new SsCardError(ErrorCode.IdCard_Timeout, { zh: `${timeoutMs} 毫秒内没有放上身份证：请重新开始`, en: `no ID card was placed within ${timeoutMs} ms: start again` }, { reader: this.name, timeoutMs });
      }
      await sleep(Math.min(pollMs, left), signal);
    }
  }

  public onStatus(listener: (status: IdCardReaderStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async expect(cmd: readonly [number, number], ok: number[], what: string, signal?: AbortSignal): Promise<Response> {
    const r = await this.command(cmd, signal);
    if (!ok.includes(r.sw3)) throw this.readerError(r.sw3, what);
    return r;
  }

  /** One command and its response (serialised), with a timeout and abort. */
  private command(cmd: readonly [number, number], signal?: AbortSignal): Promise<Response> {
    const op = `${cmd[0].toString(16)} ${cmd[1].toString(16)}`;
    const run = (): Promise<Response> =>
      new Promise<Response>((resolve, reject) => {
        if (signal?.aborted === true) {
          reject(cancelled(this.name));
          return;
        }
        const finish = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.pending = undefined;
        };
        const onAbort = (): void => {
          finish();
          this.parser.reset();
          reject(cancelled(this.name));
        };
        const timer = setTimeout(() => {
          finish();
          this.parser.reset();
          reject(
            new SsCardError(
              ErrorCode.IdCard_Timeout,
              { zh: `身份证读卡器在 ${this.commandTimeoutMs} 毫秒内没有应答（${op}）：请检查读卡器连接与电源`, en: `the ID card reader did not answer within ${this.commandTimeoutMs} ms (${op}): check its cable and power` },
              { reader: this.name, command: op, timeoutMs: this.commandTimeoutMs },
            ),
          );
        }, this.commandTimeoutMs);
        signal?.addEventListener('abort', onAbort, { once: true });
        this.pending = {
          resolve: (r) => {
            finish();
            resolve(r);
          },
          reject: (e) => {
            finish();
            reject(e);
          },
        };
        this.link.write(encodeRequest(cmd[0], cmd[1])).catch((e: unknown) => this.pending?.reject(e instanceof SsCardError ? e : this.gone(e)));
      });
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private onData(chunk: Buffer): void {
    for (const item of this.parser.push(chunk)) {
      if (item.type === 'error') {
        this.framingErrors++;
        continue;
      }
      const p = this.pending;
      if (!p) continue;
      if (item.body.length < 3) continue;
      p.resolve({ sw3: item.body[2]!, data: Buffer.from(item.body.subarray(3)) });
    }
  }

  private readerError(sw3: number, op: string): SsCardError {
    const d = describeSw3(sw3);
    return new SsCardError(
      ErrorCode.IdCard_ReaderError,
      { zh: `身份证读卡器报告错误 ${sw3.toString(16).toUpperCase()}（${d.zh}，${op}）：请重新放置身份证；若反复出现请复位读卡器`, en: `the ID card reader reported ${sw3.toString(16).toUpperCase()} (${d.en}, ${op}): place the card again; if it keeps happening reset the reader` },
      { reader: this.name, sw3, op },
    );
  }

  private removed(op: string): SsCardError {
    return new SsCardError(
      ErrorCode.IdCard_CardRemoved,
      { zh: '读卡过程中身份证被拿开了：请把身份证放回读卡区，读完前不要移动', en: 'the ID card was taken away during the read: put it back and keep it still until the read finishes' },
      { reader: this.name, op },
    );
  }

  private gone(cause?: unknown): SsCardError {
    return new SsCardError(
      ErrorCode.IdCard_Disconnected,
      { zh: `身份证读卡器“${this.name}”已断开：请检查连接线，重新连接后再试`, en: `ID card reader "${this.name}" disconnected: check the cable and try again once it is back` },
      { reader: this.name },
      cause === undefined ? undefined : { cause },
    );
  }

  private failPending(err: SsCardError): void {
    this.pending?.reject(err);
  }

  private lost(e: Error | undefined): void {
    this.parser.reset();
    const err = this.gone(e);
    this.failPending(err);
    this.setConnected(false, err);
  }

  private async reprobe(): Promise<void> {
    for (let attempt = 0; attempt < 10 && this.link.isOpen; attempt++) {
      try {
        await this.status();
        this.setConnected(true);
        return;
      } catch {
        await sleep(200);
      }
    }
  }

  private setConnected(c: boolean, error?: SsCardError): void {
    if (c === this.connected_) return;
    this.connected_ = c;
    const s: IdCardReaderStatus = c ? { type: 'idcard.connected', name: this.name } : { type: 'idcard.disconnected', name: this.name, ...(error ? { error } : {}) };
    for (const l of [...this.listeners]) {
      try {
        l(s);
      } catch {
        // a listener's bug must not break the driver
      }
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
