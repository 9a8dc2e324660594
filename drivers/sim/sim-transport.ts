/**
 * A CardTransport over a virtual card in this process: the simulator's "reader". It behaves like
 * a PC/SC channel as drivers/transport.ts describes it: transport-level status words (61xx, 6Cxx)
 * handled by the shared {@link exchangeWithGetResponse}, one command in flight at a time, card
 * removal and insertion, warm reset.
 *
 * Removal: {@link SimTransport.remove} takes the card out (it loses power and volatile state);
 * a transmit then rejects with Pcsc_CardRemoved (the card went away during this connection) or
 * Pcsc_NoCard (no card since the transport was created or since `insert`). {@link SimTransport.insert}
 * puts a card back (the same one, or another): the transport reconnects to it, as a kiosk's
 * card-session layer would after a new card arrives.
 *
 * For tests of "outcome unknown" paths, {@link SimTransportOptions.onCommand} sees every command
 * APDU the device receives (including GET RESPONSE) before and after it executes, and may call
 * `remove()`: before → the command never reaches the card; after → the card executed it (tries
 * spent, PIN changed) but the response is lost.
 */
import { copyBytes, isSecret, markSecret, wipe } from '../../core/secret.js';
import { ErrorCode, fail, SsCardError } from '../../core/errors.js';
import { exchangeWithGetResponse } from '../transport.js';
import type { CardProtocol, CardTransport, Disposition, TransmitOptions } from '../transport.js';
import type { VirtualCardDevice } from './device.js';
import { SimCardOs } from './card-os.js';

/** When a {@link SimTransportOptions.onCommand} hook runs. */
export type SimCommandPhase = 'before' | 'after';

export interface SimCommandEvent {
  readonly phase: SimCommandPhase;
  /** The command APDU as the device receives it (do not modify). */
  readonly command: Buffer;
  /** The device's response; only in the `after` phase. */
  readonly response?: Buffer;
  /** 0-based count of device commands on this transport (GET RESPONSE and 6Cxx re-sends count). */
  readonly index: number;
}

export interface SimTransportOptions {
  /** Reader name reported (default: "Simulator: <device label>"). */
  readonly readerName?: string;
  /** Protocol reported (default: the virtual card's profile protocol, else T1). */
  readonly protocol?: CardProtocol;
  /** Start with the card in the reader (default true). */
  readonly present?: boolean;
  /** Delay per device command in ms, for demos of a slow card (default 0). */
  readonly latencyMs?: number;
  /** Test hook, see the module comment. */
  readonly onCommand?: (event: SimCommandEvent) => void;
}

export class SimTransport implements CardTransport {
  public readonly readerName: string;
  public readonly protocol: CardProtocol;
  private device: VirtualCardDevice;
  private present: boolean;
  /** A card was taken out while this connection was using it. */
  private removedDuringConnection = false;
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();
  private commandIndex = 0;
  private readonly latencyMs: number;
  private readonly onCommand: ((event: SimCommandEvent) => void) | undefined;

  public constructor(device: VirtualCardDevice, options: SimTransportOptions = {}) {
    const latency = options.latencyMs ?? 0;
    if (!Number.isFinite(latency) || latency < 0) {
      fail(
        ErrorCode.Input_BadOption,
        `选项 latencyMs 必须是非负数，实际为 ${String(latency)}`,
        `Option latencyMs must be a non-negative number, got ${String(latency)}`,
        { option: 'latencyMs' },
      );
    }
    this.device = device;
    this.readerName = options.readerName ?? `Simulator: ${device.label}`;
    this.protocol = options.protocol ?? (device instanceof SimCardOs ? device.transmissionProtocol : 'T1');
    this.present = options.present ?? true;
    this.latencyMs = latency;
    this.onCommand = options.onCommand;
    if (this.present) device.powerOn();
  }

  /** The ATR of the card in the reader (empty when there is none). */
  public get atr(): Buffer {
    return this.present ? Buffer.from(this.device.atr) : Buffer.alloc(0);
  }

  public get isOpen(): boolean {
    return !this.closed && this.present && !this.removedDuringConnection;
  }

  /** The virtual card in (or last in) the reader. */
  public get card(): VirtualCardDevice {
    return this.device;
  }

  /** True while a card is in the reader. */
  public get cardPresent(): boolean {
    return this.present;
  }

  /** Take the card out: it loses power; transmits reject until {@link insert}. Idempotent. */
  public remove(): void {
    if (!this.present) return;
    this.present = false;
    this.removedDuringConnection = true;
    this.device.powerOff();
  }

  /** Put a card in (default: the same one) and power it on; the transport reconnects to it. */
  public insert(device: VirtualCardDevice = this.device): void {
    if (this.present) this.device.powerOff();
    this.device = device;
    this.present = true;
    this.removedDuringConnection = false;
    device.powerOn();
  }

  public transmit(command: Uint8Array, options: TransmitOptions = {}): Promise<Buffer> {
    const cmd = copyBytes(command);
    return this.serialised(async () => {
      try {
        this.checkUsable();
        const res = await exchangeWithGetResponse((c) => this.raw(c), cmd);
        // As PcscChannel: the answer to a sensitive command (an encrypted PIN block) is secret too.
        return options.sensitive === true ? markSecret(res) : res;
      } finally {
        if (options.sensitive === true || isSecret(cmd)) wipe(cmd);
      }
    });
  }

  public control(controlCode: number, _data: Uint8Array, _maxResponseLength?: number): Promise<Buffer> {
    return Promise.reject(
      new SsCardError(
        ErrorCode.Pcsc_ControlFailed,
        {
          zh: `模拟读卡器不支持控制命令（SCardControl 0x${controlCode.toString(16).toUpperCase()}）：它没有密码键盘等附加功能`,
          en: `The simulator reader does not support control commands (SCardControl 0x${controlCode.toString(16).toUpperCase()}): it has no PIN pad or other features`,
        },
        { controlCode },
      ),
    );
  }

  public reset(): Promise<Buffer> {
    return this.serialised(() => {
      this.checkUsable();
      this.device.reset();
      return Promise.resolve(Buffer.from(this.device.atr));
    });
  }

  public close(disposition: Disposition = 'leave'): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return this.serialised(() => {
      if (this.present) {
        if (disposition === 'reset') this.device.reset();
        else if (disposition === 'unpower') this.device.powerOff();
        else if (disposition === 'eject') this.remove();
      }
      return Promise.resolve();
    });
  }

  private serialised<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(f, f);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private checkUsable(): void {
    if (this.closed) {
      fail(ErrorCode.Pcsc_NotConnected, '模拟读卡器的连接已关闭：请重新连接', 'The simulator reader connection is closed: connect again', {
        reader: this.readerName,
      });
    }
    if (!this.present) {
      if (this.removedDuringConnection) {
        fail(ErrorCode.Pcsc_CardRemoved, '卡片已被取出：请重新插入卡片后再试', 'The card was removed: insert the card again and retry', {
          reader: this.readerName,
        });
      }
      fail(ErrorCode.Pcsc_NoCard, '读卡器中没有卡片：请插入社保卡', 'There is no card in the reader: insert the social security card', {
        reader: this.readerName,
      });
    }
  }

  private async raw(command: Buffer): Promise<Buffer> {
    const index = this.commandIndex++;
    this.onCommand?.({ phase: 'before', command, index });
    this.checkUsable();
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    this.checkUsable();
    const response = this.device.process(command);
    this.onCommand?.({ phase: 'after', command, response, index });
    this.checkUsable();
    return response;
  }
}
