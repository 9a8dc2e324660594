/**
 * The card OS frame shared by the virtual card (virtual-card.ts) and the virtual PSAM
 * (virtual-psam.ts): APDU decoding, the T=0 / T=1 response rules with GET RESPONSE, and the
 * guarantee that `process` never throws. Each card implements `execute` for its own commands.
 */
import { decodeCommand } from '../../apdu/apdu.js';
import type { CommandApdu } from '../../apdu/apdu.js';
import type { VirtualCardDevice } from './device.js';
import type { SimProtocol } from './profile.js';

/** What a command handler answers: response data (possibly empty) and the final status word. */
export interface Reply {
  readonly data: Buffer;
  readonly sw: number;
}

/** A reply with no data. */
export function sw(word: number): Reply {
  return { data: Buffer.alloc(0), sw: word };
}

/** A reply with data and (by default) 9000. */
export function ok(data: Buffer, word = 0x9000): Reply {
  return { data, sw: word };
}

function encode(r: Reply): Buffer {
  return Buffer.concat([r.data, Buffer.from([(r.sw >> 8) & 0xff, r.sw & 0xff])]);
}

/**
 * The part every virtual card shares: APDU decoding, the T=0 / T=1 response rules and GET
 * RESPONSE, and the guarantee that `process` never throws (ISO/IEC 7816-3 §10.3.3 for T=0).
 *
 * T=0 profiles (ISO 7816-3 §10.3, ISO 7816-4 §5.3.4):
 * - outgoing commands (no command data, "case 2"): if Le (P3) is not exactly the length of the
 *   data, the card answers `6Cxx` (xx = the length), and the terminal re-sends with Le = xx;
 * - commands with command data ("case 3/4") that produce response data answer `61xx`; the data is
 *   fetched with GET RESPONSE `00 C0 00 00 xx` (a longer Le → `6Cxx`, a shorter one → `61yy` for the
 *   rest). The last piece carries the command's final status word (e.g. `6283` + FCI).
 * T=1 profiles answer directly (data ‖ SW); a Le shorter than the data → `6Cxx`.
 * Any command other than GET RESPONSE discards data not yet fetched.
 */
export abstract class SimCardOs implements VirtualCardDevice {
  public abstract readonly label: string;
  public abstract readonly atr: Buffer;
  protected abstract readonly protocol: SimProtocol;
  private pending: { data: Buffer; sw: number } | undefined;

  /** The transmission protocol of the profile (SimTransport reports it). */
  public get transmissionProtocol(): SimProtocol {
    return this.protocol;
  }

  public powerOn(): void {
    this.pending = undefined;
    this.clearVolatile();
  }

  public powerOff(): void {
    this.pending = undefined;
    this.clearVolatile();
  }

  public reset(): void {
    this.powerOff();
    this.powerOn();
  }

  public process(command: Buffer): Buffer {
    try {
      let c: CommandApdu;
      try {
        c = decodeCommand(command);
      } catch {
        // Fewer than 4 bytes, or an Lc that does not match the data: wrong length.
        this.pending = undefined;
        return encode(sw(0x6700));
      }
      if (c.ins === 0xc0 && (c.cla === 0x00 || c.cla === 0x80)) return encode(this.getResponse(c));
      this.pending = undefined;
      return encode(this.deliver(c, this.execute(c)));
    } catch {
      // A bug in a handler must not look like a crashed card: "no precise diagnosis".
      this.pending = undefined;
      return encode(sw(0x6f00));
    }
  }

  /** Execute one command (never GET RESPONSE); may throw, `process` turns that into `6F00`. */
  protected abstract execute(c: CommandApdu): Reply;

  /** Forget volatile state (selected file, challenge, security status). */
  protected abstract clearVolatile(): void;

  private deliver(c: CommandApdu, r: Reply): Reply {
    if (r.data.length === 0) return r;
    const len = r.data.length;
    const xx = len >= 256 ? 0 : len;
    if (this.protocol === 'T1') {
      if (c.le !== undefined && c.le < len) return sw(0x6c00 | xx);
      return r;
    }
    if (c.data.length === 0) {
      // Outgoing T=0 command: P3 must be the exact length.
      if (c.le !== len) return sw(0x6c00 | xx);
      return r;
    }
    this.pending = { data: r.data, sw: r.sw };
    return sw(0x6100 | xx);
  }

  private getResponse(c: CommandApdu): Reply {
    const p = this.pending;
    if (c.p1 !== 0 || c.p2 !== 0) {
      this.pending = undefined;
      return sw(0x6a86);
    }
    if (p === undefined) return sw(0x6985);
    if (c.le === undefined || c.data.length > 0) return sw(0x6700);
    const len = p.data.length;
    if (c.le > len) return sw(0x6c00 | (len >= 256 ? 0 : len));
    const piece = p.data.subarray(0, c.le);
    const rest = p.data.subarray(c.le);
    if (rest.length === 0) {
      this.pending = undefined;
      return ok(Buffer.from(piece), p.sw);
    }
    this.pending = { data: Buffer.from(rest), sw: p.sw };
    return ok(Buffer.from(piece), 0x6100 | (rest.length >= 256 ? 0 : rest.length));
  }
}
