/**
 * A serial encrypting PIN pad (EPP) used in plaintext-input mode: the pad sends each key press as a
 * bare byte, this driver collects the digits (drivers/pinpad/entry.ts). The framing is a
 * {@link SerialPadProtocol} (ZT598-style by default), so another family is one file.
 *
 * Open = open the port and probe; every command has a timeout; a pad unplugged mid-entry ends the
 * entry with PinPad_Disconnected and the port is reopened in the background until the pad is back
 * (then probed again and reported connected).
 */
import { ErrorCode, SsCardError } from '../../core/errors.js';
import type { ResolvedEntryOptions } from './entry.js';
import { entryTimeout, KeyPinPad, padDisconnected } from './entry.js';
import type { SerialPadCommand, SerialPadParser, SerialPadProtocol } from './serial-protocol.js';
import { commandTimeoutOf, lineOptionsOf, SerialLink, type SerialDeviceOptions } from '../serial/link.js';
import { zt598 } from './zt598.js';

/** Baud rate: the protocol's (ZT598: 9600), command timeout 1500 ms, unless given. */
export interface SerialPinPadOptions extends SerialDeviceOptions {
  /** Default: ZT598-style. */
  readonly protocol?: SerialPadProtocol;
}

interface Pending {
  resolve(data: Buffer): void;
  reject(err: SsCardError): void;
}

export class SerialPinPad extends KeyPinPad {
  public readonly kind = 'serial' as const;
  public readonly name: string;
  private readonly protocol: SerialPadProtocol;
  private readonly parser: SerialPadParser;
  private readonly link: SerialLink;
  private readonly commandTimeoutMs: number;
  private pending: Pending | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private inputOn = false;
  /** Frames dropped for bad framing since open (diagnostics). */
  public framingErrors = 0;
  /** Key bytes that were not keys of a PIN (diagnostics). */
  public ignoredKeys = 0;

  public constructor(options: SerialPinPadOptions) {
    super();
    this.protocol = options.protocol ?? zt598;
    this.parser = this.protocol.createParser();
    this.name = `${this.protocol.name}@${options.path}`;
    this.commandTimeoutMs = commandTimeoutOf(options, 1500);
    this.link = new SerialLink({
      ...lineOptionsOf(options, this.protocol.defaultBaudRate),
      what: { zh: '密码键盘', en: 'PIN pad' },
      notFoundCode: ErrorCode.PinPad_NotFound,
      disconnectedCode: ErrorCode.PinPad_Disconnected,
      onData: (chunk) => this.onData(chunk),
      onConnected: (reopened) => {
        if (reopened) void this.reprobe();
      },
      onDisconnected: (e) => this.onLost(e),
    });
  }

  /** Open the port and probe the pad. */
  public async open(): Promise<void> {
    await this.link.open();
    try {
      await this.command('probe');
      await this.command('plainInputOff');
    } catch (err) {
      await this.link.close();
      if (err instanceof SsCardError && err.code === ErrorCode.PinPad_DeviceError) {
        throw new SsCardError(
          ErrorCode.PinPad_NotFound,
          {
            zh: `串口 ${this.link.path} 上没有应答的 ${this.protocol.name} 密码键盘：请检查型号、波特率与连接线`,
            en: `no ${this.protocol.name} PIN pad answers on ${this.link.path}: check the model, the baud rate and the cable`,
          },
          { path: this.link.path },
          { cause: err },
        );
      }
      throw err;
    }
    this.setConnected(true);
  }

  public async close(): Promise<void> {
    this.cancel();
    this.failPending(padDisconnected(this.name, 'closing'));
    await this.link.close();
    this.setConnected(false);
  }

  /** Software reset of the pad. */
  public async reset(): Promise<void> {
    await this.command('reset');
  }

  protected async startInput(_options: ResolvedEntryOptions): Promise<void> {
    this.inputOn = true;
    await this.command('plainInputOn');
  }

  protected async stopInput(): Promise<void> {
    if (!this.inputOn) return;
    this.inputOn = false;
    if (!this.link.isOpen) return;
    try {
      await this.command('plainInputOff');
    } catch {
      // the entry already ended; a pad that does not answer here is reported by the next command
    }
  }

  /** Send one command and wait for its response frame (serialised: one at a time). */
  public command(cmd: SerialPadCommand): Promise<Buffer> {
    const run = (): Promise<Buffer> =>
      new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.pending = undefined;
          this.parser.reset();
          reject(
            new SsCardError(
              ErrorCode.PinPad_DeviceError,
              { zh: `密码键盘“${this.name}”在 ${this.commandTimeoutMs} 毫秒内没有应答（${cmd}）：请检查连接与波特率`, en: `PIN pad "${this.name}" did not answer within ${this.commandTimeoutMs} ms (${cmd}): check the connection and the baud rate` },
              { pad: this.name, command: cmd, timeoutMs: this.commandTimeoutMs },
            ),
          );
        }, this.commandTimeoutMs);
        this.pending = {
          resolve: (d) => {
            clearTimeout(timer);
            resolve(d);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        };
        this.link.write(this.protocol.encode(cmd)).catch((e: unknown) => {
          const p = this.pending;
          this.pending = undefined;
          p?.reject(e instanceof SsCardError ? e : padDisconnected(this.name, cmd, e));
        });
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
      if (item.type === 'key') {
        const key = this.inputOn ? this.protocol.decodeKey(item.byte) : undefined;
        if (key) this.deliverKey(key);
        else this.ignoredKeys++;
        continue;
      }
      const r = this.protocol.interpret(item.payload);
      const p = this.pending;
      if (!r.ok && r.code === this.protocol.inputTimeoutCode && this.session && !this.session.isDone && !p) {
        // unsolicited "input timed out" from the pad itself
        this.session.fail(entryTimeout(this.name, 0, 0));
        continue;
      }
      if (!p) continue; // an answer nobody waits for (late, after a timeout)
      this.pending = undefined;
      if (r.ok) p.resolve(r.data);
      else {
        p.reject(
          new SsCardError(
            ErrorCode.PinPad_DeviceError,
            { zh: `密码键盘返回错误 ${r.code.toString(16).toUpperCase()}：${r.zh}；请复位键盘后重试`, en: `the PIN pad reported error ${r.code.toString(16).toUpperCase()}: ${r.en}; reset the pad and retry` },
            { pad: this.name, code: r.code },
          ),
        );
      }
    }
  }

  private failPending(err: SsCardError): void {
    const p = this.pending;
    this.pending = undefined;
    p?.reject(err);
  }

  private onLost(e: Error | undefined): void {
    this.inputOn = false;
    this.parser.reset();
    const err = padDisconnected(this.name, 'serial port closed', e);
    this.failPending(err);
    this.setConnected(false, err);
  }

  private async reprobe(): Promise<void> {
    // The port is back; the pad may need a moment before it answers.
    for (let attempt = 0; attempt < 10 && this.link.isOpen; attempt++) {
      try {
        await this.command('probe');
        await this.command('plainInputOff');
        this.setConnected(true);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}
