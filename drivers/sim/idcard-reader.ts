/**
 * A simulated resident ID card reader (ID SAM module): opens the other end of a serial line (a pty
 * pair and the device port of drivers/sim/pty.ts) and answers the SAM commands of
 * drivers/idcard/frame.ts for the fixture card lying on it — or none. Cards can be placed and taken away at any time, also in the
 * middle of a read (`takeAwayDuringRead`), to exercise the driver's "card taken away" handling.
 */
import { encodeResponse, IdFrameParser } from '../idcard/frame.js';
import { encodeBaseInfo } from '../idcard/info.js';
import type { IdCardFixture } from './idcard-fixtures.js';
import { DevicePort } from './pty.js';

export interface IdReaderSimOptions {
  readonly path: string;
  readonly baudRate?: number;
  /** 16-byte SAM id (default a fixed test value). */
  readonly samId?: Buffer;
  /** Write responses in small pieces (exercises reassembly). */
  readonly splitWrites?: boolean;
  /** Answer nothing (a dead reader). */
  readonly mute?: boolean;
}

export class IdReaderSimulator {
  private readonly port: DevicePort;
  private readonly parser = new IdFrameParser();
  private card: IdCardFixture | undefined;
  private selected = false;
  /** Take the card away when the next READ BASE INFO arrives. */
  public takeAwayDuringRead = false;
  /** Commands received ("20 01"…), for tests. */
  public readonly received: string[] = [];

  public constructor(private readonly options: IdReaderSimOptions) {
    this.port = new DevicePort({
      path: options.path,
      baudRate: options.baudRate ?? 115200,
      what: { zh: '模拟身份证读卡器', en: 'the simulated ID reader' },
      ...(options.splitWrites === true ? { pieceSize: 7 } : {}),
      onData: (c) => this.onData(c),
    });
  }

  /** Lay a card on the reader. */
  public place(card: IdCardFixture): void {
    this.card = card;
    this.selected = false;
  }

  /** Take the card away. */
  public takeAway(): void {
    this.card = undefined;
    this.selected = false;
  }

  public async start(): Promise<void> {
    await this.port.open();
  }

  public async stop(): Promise<void> {
    await this.port.close();
  }

  /** Send raw bytes (tests: garbage, bad checksums). */
  public async sendRaw(bytes: Uint8Array): Promise<void> {
    await this.port.write(Buffer.from(bytes));
  }

  private onData(chunk: Buffer): void {
    for (const item of this.parser.push(chunk)) {
      if (item.type === 'error') {
        void this.port.write(encodeResponse(0x10)); // checksum error in what the reader received
        continue;
      }
      const [cmd, para] = [item.body[0]!, item.body[1]!];
      this.received.push(`${hex2(cmd)} ${hex2(para)}`);
      if (this.options.mute === true) continue;
      void this.port.write(this.answer(cmd, para));
    }
  }

  private answer(cmd: number, para: number): Buffer {
    const key = (cmd << 8) | para;
    switch (key) {
      case 0x10ff: // reset
      case 0x11ff: // status
        return encodeResponse(0x90);
      case 0x12ff:
        return encodeResponse(0x90, this.options.samId ?? Buffer.from('0501000020170101000000000000A5A5', 'hex'));
      case 0x2001:
        return this.card ? encodeResponse(0x9f, Buffer.alloc(4)) : encodeResponse(0x80);
      case 0x2002:
        if (!this.card) return encodeResponse(0x81);
        this.selected = true;
        return encodeResponse(0x90, Buffer.alloc(8));
      case 0x3001: {
        if (this.takeAwayDuringRead) {
          this.takeAwayDuringRead = false;
          this.takeAway();
        }
        if (!this.card || !this.selected) return encodeResponse(0x41);
        return encodeResponse(0x90, encodeBaseInfo(this.card, this.card.photo));
      }
      case 0x3003:
        return this.card && this.selected ? encodeResponse(0x91) : encodeResponse(0x41);
      default:
        return encodeResponse(0x21);
    }
  }

}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}
