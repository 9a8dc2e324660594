/**
 * The serial plumbing of the two serial-device simulators (the ID reader's, idcard-reader.ts, and
 * the ZT598 PIN pad's, pinpad-zt598.ts), so that each is only its device's protocol:
 *
 * - {@link PtyPair}: two linked pseudo-terminals made by socat
 *   (`socat -d -d pty,raw,echo=0,link=A pty,raw,echo=0,link=B`), so that a driver and a simulator
 *   talk through the kernel's tty layer exactly as over a USB-serial cable. Real ptys, not mocks.
 *   `unplug()` kills socat (both ends vanish: the driver's port closes with "disconnected");
 *   `replug()` starts a new socat with the same link names (the driver's reconnect finds it again).
 * - {@link DevicePort}: the device's end of the line (end `b` of a pair, or a null-modem cable):
 *   opened with Sim_Bridge naming the device when it cannot be, every chunk to the simulator,
 *   and writes that can be cut into pieces to exercise the driver's reassembly of split frames.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SerialPortStream } from '@serialport/stream';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import type { BilingualText } from '../../core/text.js';
import { HANGUP_AWARE_BINDING } from '../serial/hangup.js';

export interface PtyPairOptions {
  /** Folder for the two links (default: a new temp folder). */
  readonly dir?: string;
  /** Give up waiting for socat after this long (default 5000 ms). */
  readonly startTimeoutMs?: number;
}

/** True when socat is on the PATH. */
export function haveSocat(): boolean {
  return spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
}

export class PtyPair {
  /** The end the driver opens. */
  public readonly a: string;
  /** The end the simulator opens. */
  public readonly b: string;
  private proc: ChildProcess | undefined;
  private readonly ownDir: boolean;
  private readonly dir: string;
  private readonly startTimeoutMs: number;

  private constructor(options: PtyPairOptions) {
    this.ownDir = options.dir === undefined;
    this.dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'sscard-pty-'));
    this.a = path.join(this.dir, 'driver');
    this.b = path.join(this.dir, 'device');
    this.startTimeoutMs = options.startTimeoutMs ?? 5000;
  }

  /** Make a linked pair and wait until both links exist. */
  public static async open(options: PtyPairOptions = {}): Promise<PtyPair> {
    if (!haveSocat()) {
      throw new SsCardError(
        ErrorCode.Sim_Bridge,
        { zh: '找不到 socat：请安装（apt-get install socat）后再运行串口模拟器', en: 'socat not found: install it (apt-get install socat) to run the serial simulators' },
        { tool: 'socat' },
      );
    }
    const pair = new PtyPair(options);
    await pair.start();
    return pair;
  }

  public get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Pull the cable: kill socat; both ptys disappear. */
  public async unplug(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  }

  /** Plug it back: a new socat with the same link names. */
  public async replug(): Promise<void> {
    await this.unplug();
    await this.start();
  }

  /** Stop socat and remove the temp folder. */
  public async close(): Promise<void> {
    await this.unplug();
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
  }

  private async start(): Promise<void> {
    rmSync(this.a, { force: true });
    rmSync(this.b, { force: true });
    const proc = spawn('socat', [`pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`], { stdio: 'ignore' });
    this.proc = proc;
    const end = Date.now() + this.startTimeoutMs;
    while (!(existsSync(this.a) && existsSync(this.b))) {
      if (proc.exitCode !== null || Date.now() > end) {
        proc.kill('SIGKILL');
        this.proc = undefined;
        throw new SsCardError(ErrorCode.Sim_Bridge, { zh: 'socat 未能创建伪终端对', en: 'socat did not create the pty pair' }, { dir: this.dir });
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

export interface DevicePortOptions {
  /** The serial path the simulator opens (the pty end the driver does not use). */
  readonly path: string;
  readonly baudRate: number;
  /** The simulated device, for the error when the port cannot be opened ("模拟密码键盘" / "the simulated PIN pad"). */
  readonly what: BilingualText;
  /** Write in pieces of this many bytes, waiting for each to drain (default: whole writes). */
  readonly pieceSize?: number;
  /** Every chunk the driver sent. */
  onData(chunk: Buffer): void;
  /** The port closed (stopped, or the pty went away). */
  onClose?(): void;
}

export class DevicePort {
  private port: SerialPortStream | undefined;

  public constructor(private readonly options: DevicePortOptions) {
    const n = options.pieceSize;
    if (n !== undefined && (!Number.isInteger(n) || n < 1)) {
      throw new SsCardError(ErrorCode.Input_BadOption, { zh: `选项 pieceSize 必须是正整数，实际为 ${String(n)}`, en: `option pieceSize must be a positive integer, got ${String(n)}` }, { option: 'pieceSize' });
    }
  }

  public get isOpen(): boolean {
    return this.port?.isOpen === true;
  }

  /** Open the port; rejects with Sim_Bridge naming the device and the path. */
  public async open(): Promise<void> {
    const { path: at, what } = this.options;
    const port = new SerialPortStream({ binding: HANGUP_AWARE_BINDING, path: at, baudRate: this.options.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) =>
      port.open((err) => {
        if (err) reject(new SsCardError(ErrorCode.Sim_Bridge, { zh: `${what.zh}无法打开 ${at}`, en: `${what.en} cannot open ${at}` }, { path: at }, { cause: err }));
        else resolve();
      }),
    );
    this.port = port;
    port.on('data', (chunk: Buffer) => this.options.onData(chunk));
    port.on('error', () => undefined);
    if (this.options.onClose !== undefined) port.on('close', () => this.options.onClose?.());
  }

  /** Close the port. Idempotent. */
  public async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
  }

  /** Write to the driver; nothing when the port is not open (a simulator answering after stop). */
  public async write(bytes: Buffer): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return;
    const split = this.options.pieceSize !== undefined;
    const size = this.options.pieceSize ?? bytes.length;
    for (let i = 0; i < bytes.length; i += size) {
      await new Promise<void>((r) => port.write(bytes.subarray(i, i + size), () => r()));
      if (split) await new Promise<void>((r) => port.drain(() => r()));
    }
  }
}
