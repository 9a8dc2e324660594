/**
 * A simulated ZT598-style serial PIN pad: it opens the other end of a serial line (a pty pair and
 * the device port of drivers/sim/pty.ts, or a null-modem cable), answers the framed commands of
 * drivers/pinpad/zt598.ts, and in plaintext-input mode sends the keys of a {@link SimKeypad}
 * as bare bytes — so the driver is exercised over a real serial path end to end.
 */
import type { PadKey } from '../pinpad/pinpad.js';
import { encodeFrame, STATUS_OK, Zt598Parser } from '../pinpad/zt598.js';
import type { SimKeypad } from './pinpad-keypad.js';
import { DevicePort } from './pty.js';

export interface Zt598SimOptions {
  /** The serial path the simulator opens (the pty end the driver does not use). */
  readonly path: string;
  readonly baudRate?: number;
  /** Model string answered to the probe (default "ZT598-SIM"). */
  readonly model?: string;
  /** Send the pad's own EE "input timed out" frame after this long without a key (default: never). */
  readonly inputTimeoutMs?: number;
  /** Write every response byte by byte (exercises the driver's reassembly of split frames). */
  readonly splitWrites?: boolean;
  /** Do not answer commands at all (a dead pad). */
  readonly mute?: boolean;
}

function keyByte(k: PadKey): number | undefined {
  switch (k.type) {
    case 'digit':
      return 0x30 + k.digit;
    case 'enter':
      return 0x0d;
    case 'cancel':
      return 0x1b;
    case 'backspace':
    case 'clear':
      return 0x08;
  }
}

export class Zt598Simulator {
  private readonly port: DevicePort;
  private readonly parser = new Zt598Parser();
  private inputAbort: AbortController | undefined;
  /** Commands received, by command text ("3", "5033"…), for tests and the demo banner. */
  public readonly received: string[] = [];

  public constructor(
    private readonly keypad: SimKeypad,
    private readonly options: Zt598SimOptions,
  ) {
    this.port = new DevicePort({
      path: options.path,
      baudRate: options.baudRate ?? 9600,
      what: { zh: '模拟密码键盘', en: 'the simulated PIN pad' },
      ...(options.splitWrites === true ? { pieceSize: 1 } : {}),
      onData: (chunk) => this.onData(chunk),
      onClose: () => this.stopInput(),
    });
  }

  public get inputOn(): boolean {
    return this.inputAbort !== undefined;
  }

  public async start(): Promise<void> {
    await this.port.open();
  }

  public async stop(): Promise<void> {
    this.stopInput();
    await this.port.close();
  }

  /** Send an unsolicited frame (tests: error frames, garbage). */
  public async sendRaw(bytes: Uint8Array): Promise<void> {
    await this.port.write(Buffer.from(bytes));
  }

  private onData(chunk: Buffer): void {
    for (const item of this.parser.push(chunk)) {
      if (item.type !== 'frame') continue;
      const text = item.payload.toString('latin1');
      this.received.push(text);
      if (this.options.mute === true) continue;
      void this.answer(text);
    }
  }

  private async answer(text: string): Promise<void> {
    switch (text) {
      case '3':
        await this.reply(Buffer.concat([Buffer.from([STATUS_OK]), Buffer.from(this.options.model ?? 'ZT598-SIM', 'latin1')]));
        return;
      case '5030':
        this.stopInput();
        await this.reply(Buffer.from([STATUS_OK]));
        return;
      case '5033':
        await this.reply(Buffer.from([STATUS_OK]));
        this.startInput();
        return;
      case '5032':
        this.stopInput();
        await this.reply(Buffer.from([STATUS_OK]));
        return;
      default:
        await this.reply(Buffer.from([0xea])); // command not supported
    }
  }

  private startInput(): void {
    this.stopInput();
    const abort = new AbortController();
    this.inputAbort = abort;
    this.keypad.prompt('enterPin');
    void this.pump(abort);
  }

  private stopInput(): void {
    this.inputAbort?.abort();
    this.inputAbort = undefined;
  }

  private async pump(abort: AbortController): Promise<void> {
    const wait = this.options.inputTimeoutMs ?? 24 * 3600_000;
    while (!abort.signal.aborted) {
      const key = await this.keypad.next(wait, abort.signal);
      if (abort.signal.aborted) return;
      if (key === undefined) {
        if (this.inputAbort === abort) this.inputAbort = undefined;
        await this.reply(Buffer.from([0xee]));
        return;
      }
      const b = keyByte(key);
      if (b !== undefined) await this.port.write(Buffer.from([b]));
    }
  }

  private async reply(payload: Buffer): Promise<void> {
    await this.port.write(encodeFrame(payload));
  }
}
