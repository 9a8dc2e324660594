/**
 * The virtual PSAM (terminal secure access module), PBOC style, as docs/card-conventions.md
 * "PSAM commands" fixes it:
 *
 * | command | APDU | effect |
 * |---|---|---|
 * | SELECT | `00 A4 00 00 02 <DF>` | `3F00` (MF), or an application DF of the profile |
 * | READ BINARY by SFI | `00 B0 96 00 06` | terminal number (终端机编号, EF 0x16), 6 bytes BCD |
 * | INIT | `80 1A <usage> <P2> 08 factor` or `10 factor ‖ processFactor` | session key = diversify(master[alg, usage, P2], factor), and with a process factor diversified once more by it; `6A88` unknown key |
 * | COMPUTE | `80 FA 00 00 Lc data` | ECB encryption of whole blocks with the session key |
 * | COMPUTE MAC | `80 FA 05 00 Lc IV ‖ message` | 4-byte MAC, padding added here; SM4 folds by the profile's `sm4MacFold` |
 * | GET RESPONSE | `00 C0 00 00 Le` | T=0 profiles answer `61xx` first |
 *
 * Which algorithm INIT uses: the PSAM has one application DF per algorithm (profile
 * `applications`, default 3DES `1001`, SM4 `1002`) and INIT diversifies the master key of the
 * algorithm of the DF selected last (UNCONFIRMED; fixtures/README.md). INIT without a selected
 * application DF, and COMPUTE without a preceding INIT, answer `6985`.
 */
import type { CommandApdu } from '../../apdu/apdu.js';
import type { Algorithm } from '../../apdu/crypto.js';
import { blockSize, checkSm4MacFold, diversify, encryptBlocks, mac } from '../../apdu/crypto.js';
import { loadPsamProfile, masterKeyName } from './profile.js';
import type { PsamProfile, SimProtocol } from './profile.js';
import { ok, SimCardOs, sw } from './card-os.js';
import type { Reply } from './card-os.js';

/** SFI of the terminal-number EF (EF 0x16). */
const SFI_TERMINAL_NUMBER = 0x16;

export class VirtualPsam extends SimCardOs {
  public readonly label: string;
  public readonly atr: Buffer;
  protected readonly protocol: SimProtocol;
  /** #private: util.inspect / console.log of the PSAM shows no key. */
  readonly #profile: PsamProfile;
  /** Algorithm of the selected application DF; undefined at MF. */
  private app: Algorithm | undefined;
  #session: { alg: Algorithm; key: Buffer } | undefined;

  public constructor(profile: PsamProfile) {
    super();
    checkSm4MacFold(profile.sm4MacFold); // a profile built in code skips parsePsamProfile's check
    this.#profile = profile;
    this.label = profile.label;
    this.atr = Buffer.from(profile.atr);
    this.protocol = profile.protocol;
  }

  public static async fromFile(file: string): Promise<VirtualPsam> {
    return new VirtualPsam(await loadPsamProfile(file));
  }

  /** 终端机编号 as 12 digits. */
  public get terminalNumber(): string {
    return this.#profile.terminalNumber;
  }

  protected clearVolatile(): void {
    this.app = undefined;
    this.endSession();
  }

  private endSession(): void {
    this.#session?.key.fill(0);
    this.#session = undefined;
  }

  protected execute(c: CommandApdu): Reply {
    if (c.cla === 0x00) {
      switch (c.ins) {
        case 0xa4:
          return this.select(c);
        case 0xb0:
          return this.readBinary(c);
        default:
          return sw(0x6d00);
      }
    }
    if (c.cla === 0x80) {
      switch (c.ins) {
        case 0x1a:
          return this.init(c);
        case 0xfa:
          return this.compute(c);
        default:
          return sw(0x6d00);
      }
    }
    return sw(0x6e00);
  }

  private select(c: CommandApdu): Reply {
    if (c.p1 !== 0x00 || (c.p2 !== 0x00 && c.p2 !== 0x0c)) return sw(0x6a86);
    if (c.data.length !== 2) return sw(0x6700);
    const fid = c.data.readUInt16BE(0);
    this.endSession();
    if (fid === 0x3f00) {
      this.app = undefined;
      return sw(0x9000);
    }
    for (const [alg, df] of Object.entries(this.#profile.applications) as [Algorithm, number][]) {
      if (df === fid) {
        this.app = alg;
        return sw(0x9000);
      }
    }
    return sw(0x6a82);
  }

  private readBinary(c: CommandApdu): Reply {
    if ((c.p1 & 0x80) === 0) return sw(0x6986); // no current EF: only the SFI form is supported
    if ((c.p1 & 0x1f) !== SFI_TERMINAL_NUMBER || (c.p1 & 0x60) !== 0) return sw(0x6a82);
    const data = Buffer.from(this.#profile.terminalNumber, 'hex');
    if (c.p2 >= data.length) return sw(0x6b00);
    const want = c.le ?? data.length;
    return ok(data.subarray(c.p2, Math.min(data.length, c.p2 + want)));
  }

  private init(c: CommandApdu): Reply {
    // One 8-byte factor per level: the card's, then (a process key) the process factor.
    if (c.data.length !== 8 && c.data.length !== 16) return sw(0x6700);
    this.endSession();
    if (this.app === undefined) return sw(0x6985);
    const master = this.#profile.masterKeys.get(masterKeyName(this.app, c.p1, c.p2));
    if (master === undefined) return sw(0x6a88);
    const cardKey = diversify(this.app, master, c.data.subarray(0, 8));
    this.#session = { alg: this.app, key: c.data.length === 16 ? diversify(this.app, cardKey, c.data.subarray(8, 16)) : cardKey };
    return sw(0x9000);
  }

  private compute(c: CommandApdu): Reply {
    if (c.p1 !== 0x00 && c.p1 !== 0x05) return sw(0x6a86);
    if (c.p2 !== 0x00) return sw(0x6a86);
    const s = this.#session;
    if (s === undefined) return sw(0x6985);
    const bs = blockSize(s.alg);
    if (c.p1 === 0x00) {
      if (c.data.length === 0 || c.data.length % bs !== 0) return sw(0x6700);
      const out = encryptBlocks(s.alg, s.key, c.data);
      c.data.fill(0); // may be a clear PIN block
      return ok(out);
    }
    if (c.data.length < bs) return sw(0x6700);
    return ok(mac(s.alg, s.key, c.data.subarray(0, bs), c.data.subarray(bs), { sm4MacFold: this.#profile.sm4MacFold }));
  }
}
