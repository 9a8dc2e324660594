/**
 * A serial line that survives unplugging: opens the port (serialport 13), hands every chunk to
 * `onData`, and when the port goes away (USB-serial adapter pulled, pty closed) reports it and
 * keeps trying to open the same path again with backoff until it is back or {@link close} is called.
 * Shared by the serial PIN pad and the ID card reader.
 */
import { SerialPortStream } from '@serialport/stream';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { HANGUP_AWARE_BINDING } from './hangup.js';

export interface SerialLinkOptions {
  readonly path: string;
  readonly baudRate: number;
  /** First reconnect delay (default 100 ms), doubled up to `reconnectMaxMs` (default 2000 ms). */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Reconnect after an unexpected close (default true). */
  readonly reconnect?: boolean;
  /** Device kind for messages: zh and en ("密码键盘" / "PIN pad"). */
  readonly what: { readonly zh: string; readonly en: string };
  /** Error code for "cannot open" (PinPad_NotFound / IdCard_ReaderNotFound). */
  readonly notFoundCode: ErrorCode;
  /** Error code for "not open / went away" (PinPad_Disconnected / IdCard_Disconnected). */
  readonly disconnectedCode: ErrorCode;
  onData(chunk: Buffer): void;
  /** The port is open (again). `reopened` is false for the first open. */
  onConnected?(reopened: boolean): void;
  /** The port went away unexpectedly. */
  onDisconnected?(error: Error | undefined): void;
}

/** What a device on a serial line is configured with (the ID card reader, the serial PIN pad). */
export interface SerialDeviceOptions {
  /** Serial device (/dev/ttyUSB0, a pty path). */
  readonly path: string;
  /** Default: the device's own. */
  readonly baudRate?: number;
  /** Per-command answer timeout, 10..60000 ms (default: the device's own). */
  readonly commandTimeoutMs?: number;
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
}

/** The command timeout of a serial device: the option, checked, or the device's default. */
export function commandTimeoutOf(options: SerialDeviceOptions, defaultMs: number): number {
  const t = options.commandTimeoutMs ?? defaultMs;
  if (!Number.isInteger(t) || t < 10 || t > 60_000) {
    throw new SsCardError(ErrorCode.Input_BadOption, { zh: `选项 commandTimeoutMs 必须是 10–60000 的整数，实际为 ${String(t)}`, en: `option commandTimeoutMs must be an integer 10..60000, got ${String(t)}` }, { option: 'commandTimeoutMs' });
  }
  return t;
}

/** The line's options from a device's: path, baud rate (or the device's default) and the reconnect delays given. */
export function lineOptionsOf(options: SerialDeviceOptions, defaultBaudRate: number): Pick<SerialLinkOptions, 'path' | 'baudRate' | 'reconnectMinMs' | 'reconnectMaxMs'> {
  return {
    path: options.path,
    baudRate: options.baudRate ?? defaultBaudRate,
    ...(options.reconnectMinMs === undefined ? {} : { reconnectMinMs: options.reconnectMinMs }),
    ...(options.reconnectMaxMs === undefined ? {} : { reconnectMaxMs: options.reconnectMaxMs }),
  };
}

export class SerialLink {
  private port: SerialPortStream | undefined;
  private closed = false;
  private everOpened = false;
  private timer: NodeJS.Timeout | undefined;
  private delay: number;
  private readonly minMs: number;
  private readonly maxMs: number;

  public constructor(private readonly options: SerialLinkOptions) {
    if (typeof options.path !== 'string' || options.path.length === 0) {
      throw new SsCardError(ErrorCode.Input_BadOption, { zh: '必须指定串口路径（如 /dev/ttyUSB0）', en: 'a serial port path is required (e.g. /dev/ttyUSB0)' }, { option: 'path' });
    }
    if (!Number.isInteger(options.baudRate) || options.baudRate < 300 || options.baudRate > 4_000_000) {
      throw new SsCardError(ErrorCode.Input_BadOption, { zh: `波特率 baudRate 无效：${String(options.baudRate)}`, en: `invalid baudRate: ${String(options.baudRate)}` }, { option: 'baudRate' });
    }
    this.minMs = options.reconnectMinMs ?? 100;
    this.maxMs = options.reconnectMaxMs ?? 2000;
    this.delay = this.minMs;
  }

  public get path(): string {
    return this.options.path;
  }

  public get isOpen(): boolean {
    return this.port?.isOpen === true;
  }

  /** Open the port; rejects with the not-found code (bilingual, saying what to check). */
  public async open(): Promise<void> {
    this.closed = false;
    if (this.isOpen) return;
    await this.tryOpen();
  }

  public write(data: Uint8Array): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return Promise.reject(this.notOpen());
    return new Promise((resolve, reject) => {
      port.write(Buffer.from(data), (err) => {
        if (err) reject(this.notOpen(err));
        else resolve();
      });
    });
  }

  /** Close for good (no reconnect). Idempotent. */
  public async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
  }

  private tryOpen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const port = new SerialPortStream({ binding: HANGUP_AWARE_BINDING, path: this.options.path, baudRate: this.options.baudRate, autoOpen: false });
      port.open((err) => {
        if (err) {
          reject(
            new SsCardError(
              this.options.notFoundCode,
              {
                zh: `无法打开${this.options.what.zh}串口 ${this.options.path}：请检查设备是否连接、路径是否正确、当前用户是否有权限（dialout 组）`,
                en: `cannot open the ${this.options.what.en} serial port ${this.options.path}: check that the device is connected, the path is right and this user may open it (dialout group)`,
              },
              { path: this.options.path },
              { cause: err },
            ),
          );
          return;
        }
        if (this.closed) {
          port.close();
          reject(this.notOpen());
          return;
        }
        this.port = port;
        this.delay = this.minMs;
        port.on('data', (chunk: Buffer) => this.options.onData(chunk));
        port.on('error', () => {
          // 'close' follows for a lost device; other errors surface through write/timeouts
        });
        port.on('close', (e?: Error) => this.lost(port, e));
        const reopened = this.everOpened;
        this.everOpened = true;
        resolve();
        this.options.onConnected?.(reopened);
      });
    });
  }

  private lost(port: SerialPortStream, e: Error | undefined): void {
    if (this.port !== port) return;
    this.port = undefined;
    if (this.closed) return;
    this.options.onDisconnected?.(e);
    if (this.options.reconnect !== false) this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.closed) return;
      this.tryOpen().catch(() => {
        this.delay = Math.min(this.maxMs, this.delay * 2);
        this.schedule();
      });
    }, this.delay);
  }

  private notOpen(cause?: unknown): SsCardError {
    return new SsCardError(
      this.options.disconnectedCode,
      { zh: `${this.options.what.zh}串口 ${this.options.path} 未打开或已断开：请检查连接`, en: `the ${this.options.what.en} serial port ${this.options.path} is not open or was disconnected: check the connection` },
      { path: this.options.path },
      cause === undefined ? undefined : { cause },
    );
  }
}
