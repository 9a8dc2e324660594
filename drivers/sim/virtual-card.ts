/**
 * The virtual social security card: a card OS answering the commands of docs/card-conventions.md
 * from a card profile (drivers/sim/profile.ts). A product feature (training, demos, CI), not a
 * test mock: it keeps the state a real card keeps and answers like one.
 */
import { randomBytes } from 'node:crypto';
import { decodeCommand } from '../../apdu/apdu.js';
import type { CommandApdu } from '../../apdu/apdu.js';
import type { Algorithm } from '../../apdu/crypto.js';
import { blockSize, checkSm4MacFold, decryptBlocks, encryptBlocks, mac, MAC_LENGTH, macEquals } from '../../apdu/crypto.js';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { bcdToPin, parsePinBlock, wipe } from '../../apdu/pin.js';
import { EF05_FIELDS, EF06_FIELDS, encodeSimpleTlv } from '../../apdu/records.js';
import { FID, macInput, SSSE_AID } from '../../apdu/ssse.js';
import { encodeBerTlv } from '../../apdu/tlv.js';
import type { TlvInput } from '../../apdu/tlv.js';
import type { VirtualCardDevice } from './device.js';
import { cardKeyName, cardRecords, loadCardProfile, PHONE_TAG, saveCardProfile, withRecords } from './profile.js';
import type { CardLifeCycle } from '../../state/card-state.js';
import type { CardProfile, RecordFileName, SimProtocol } from './profile.js';

// ---------------------------------------------------------------------------------------------
// The card OS frame shared by the virtual card and the virtual PSAM
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// The SSSE card
// ---------------------------------------------------------------------------------------------

type DfName = 'MF' | 'SSSE' | 'DF01';

interface EfInfo {
  readonly df: Exclude<DfName, 'MF'>;
  readonly fid: number;
  readonly sfi: number;
  readonly kind: 'record' | 'binary';
  /** Record files: name in the profile; binary files: which buffer. */
  readonly name: RecordFileName | 'EF07' | 'EF08';
}

/** The file model (docs/domain.md §1): MF / SSSE (EF05 EF06 EF07 EF08 DF01 (EF06)). */
const EFS: readonly EfInfo[] = [
  { df: 'SSSE', fid: FID.EF05, sfi: 0x05, kind: 'record', name: 'EF05' },
  { df: 'SSSE', fid: FID.EF06, sfi: 0x06, kind: 'record', name: 'EF06' },
  { df: 'SSSE', fid: FID.EF07, sfi: 0x07, kind: 'binary', name: 'EF07' },
  { df: 'SSSE', fid: FID.EF08, sfi: 0x08, kind: 'binary', name: 'EF08' },
  { df: 'DF01', fid: FID.EF06, sfi: 0x06, kind: 'record', name: 'DF01/EF06' },
];

/** Record number → tag, per record file. */
function recordTag(file: RecordFileName, record: number): number | undefined {
  if (file === 'DF01/EF06') return record === 1 ? PHONE_TAG : undefined;
  const fields = file === 'EF05' ? EF05_FIELDS : EF06_FIELDS;
  return fields.find((f) => f.record === record)?.tag;
}

/** Tag → record number, per record file. */
function tagRecord(file: RecordFileName, tag: number): number | undefined {
  if (file === 'DF01/EF06') return tag === PHONE_TAG ? 1 : undefined;
  const fields = file === 'EF05' ? EF05_FIELDS : EF06_FIELDS;
  return fields.find((f) => f.tag === tag)?.record;
}

/**
 * Who may READ RECORD the phone number (DF01 EF06 tag 28): `verifiedPin` (default, as
 * docs/card-conventions.md and docs/domain.md §1 have it: 6982 until the holder's PIN is verified in
 * this session) or `open` (some card makes may let anyone read DF01). UNCONFIRMED per card make:
 * a per-card setting, not a constant.
 */
export type PhoneAccess = 'verifiedPin' | 'open';

export interface VirtualSsCardOptions {
  /** Random bytes for GET CHALLENGE (default node:crypto randomBytes); tests make it deterministic. */
  readonly random?: (length: number) => Buffer;
  /** Access rule of the phone record (default `verifiedPin`). */
  readonly phoneAccess?: PhoneAccess;
}

/**
 * The virtual social security card: answers every command of docs/card-conventions.md from a
 * {@link CardProfile}.
 *
 * Persistent state (kept across powerOff/powerOn, written back by {@link toProfile} / {@link save}):
 * PIN, tries left, life cycle state, records. Volatile state (lost at power-off and reset): the
 * selected DF/EF, the challenge, the external-auth security status, the verified-PIN flag.
 *
 * The PIN never leaves the object except through {@link toProfile} (fixtures are TEST cards).
 */
export class VirtualSsCard extends SimCardOs {
  public readonly atr: Buffer;
  protected readonly protocol: SimProtocol;
  /** Held in #private fields so that util.inspect / console.log of a card shows no PIN or key. */
  readonly #profile: CardProfile;
  private readonly random: (length: number) => Buffer;
  private readonly phoneAccess: PhoneAccess;

  // persistent
  #pin: Buffer;
  private triesLeft: number;
  private state: CardLifeCycle;
  private readonly records: Map<RecordFileName, Map<number, Buffer>>;

  // volatile
  private df: DfName = 'MF';
  private ef: EfInfo | undefined;
  private challenge: Buffer | undefined;
  private readonly authenticated = new Set<number>();
  private verified = false;

  public constructor(profile: CardProfile, options: VirtualSsCardOptions = {}) {
    super();
    checkSm4MacFold(profile.sm4MacFold); // a profile built in code skips parseCardProfile's check
    this.#profile = { ...profile, pin: Buffer.alloc(0) };
    this.atr = Buffer.from(profile.atr);
    this.protocol = profile.protocol;
    this.random = options.random ?? ((n) => randomBytes(n));
    const access = options.phoneAccess ?? 'verifiedPin';
    if (access !== 'verifiedPin' && access !== 'open') {
      throw new SsCardError(ErrorCode.Input_BadOption, { zh: 'phoneAccess 必须是 verifiedPin 或 open', en: 'phoneAccess must be verifiedPin or open' }, { option: 'phoneAccess' });
    }
    this.phoneAccess = access;
    this.#pin = Buffer.from(profile.pin);
    this.triesLeft = profile.pinTriesLeft;
    this.state = profile.state;
    this.records = cardRecords(profile);
  }

  /** Load a card profile (validated) and make the card. */
  public static async fromFile(file: string, options?: VirtualSsCardOptions): Promise<VirtualSsCard> {
    return new VirtualSsCard(await loadCardProfile(file), options);
  }

  public get label(): string {
    return this.#profile.label;
  }

  public get algorithm(): Algorithm {
    return this.#profile.algorithm;
  }

  /** PIN tries left (persistent). */
  public get pinTriesLeft(): number {
    return this.triesLeft;
  }

  /** Life cycle state (persistent). */
  public get cardState(): CardLifeCycle {
    return this.state;
  }

  /** The card's current persistent state as a profile (the PIN included: TEST cards only). */
  public toProfile(): CardProfile {
    const base: CardProfile = {
      ...this.#profile,
      pin: Buffer.from(this.#pin),
      pinTriesLeft: this.triesLeft,
      state: this.state,
    };
    return withRecords(base, this.records);
  }

  /** Write the current persistent state to a profile file (atomically). */
  public async save(file: string): Promise<void> {
    const p = this.toProfile();
    try {
      await saveCardProfile(file, p);
    } finally {
      p.pin.fill(0);
    }
  }

  protected clearVolatile(): void {
    this.df = 'MF';
    this.ef = undefined;
    this.challenge = undefined;
    this.authenticated.clear();
    this.verified = false;
  }

  private get bs(): 8 | 16 {
    return blockSize(this.#profile.algorithm);
  }

  private key(usage: number, p2: number): Buffer | undefined {
    return this.#profile.keys.get(cardKeyName(usage, p2));
  }

  protected execute(c: CommandApdu): Reply {
    // The challenge serves the next command only (docs/card-conventions.md "MACs on card commands").
    const challenge = this.challenge;
    this.challenge = undefined;
    switch (c.cla) {
      case 0x00:
        switch (c.ins) {
          case 0xa4:
            return this.select(c);
          case 0xb2:
            return this.readRecord(c);
          case 0xb0:
            return this.readBinary(c);
          case 0x84:
            return this.getChallenge(c);
          case 0x88:
            return this.internalAuth(c);
          case 0x82:
            return this.externalAuth(c, challenge);
          case 0x20:
            return this.verify(c);
          case 0xdc:
            return this.updateRecord(c);
          default:
            return sw(0x6d00);
        }
      case 0x80:
        if (c.ins === 0x5e) return c.p1 === 0x01 ? this.changePin(c) : this.reloadPinPboc(c, challenge);
        return sw(0x6d00);
      case 0x84:
        switch (c.ins) {
          case 0x24:
            return this.pinUnblockOrReload(c, challenge);
          case 0x1e:
          case 0x18:
            return this.appBlockUnblock(c, challenge);
          default:
            return sw(0x6d00);
        }
      default:
        return sw(0x6e00);
    }
  }

  // ---- SELECT ----

  private fci(): Buffer {
    const a5: TlvInput[] = [];
    if (this.#profile.fciAlgorithmTag) {
      a5.push({ tag: 0x9f0c, value: Buffer.from([0x86, 0x01, this.#profile.algorithm === 'SM4' ? 0x03 : 0x01]) });
    }
    return encodeBerTlv([{ tag: 0x6f, children: [{ tag: 0x84, value: SSSE_AID }, { tag: 0xa5, children: a5 }] }]);
  }

  private select(c: CommandApdu): Reply {
    if (c.p2 !== 0x00 && c.p2 !== 0x04 && c.p2 !== 0x0c) return sw(0x6a86);
    const noData = c.p2 === 0x0c;
    if (c.p1 === 0x04) {
      if (c.data.length === 0) return sw(0x6700);
      if (!c.data.equals(SSSE_AID)) return sw(0x6a82);
      this.enterDf('SSSE');
      const word = this.state === 'notActivated' ? 0x6283 : this.state === 'appLocked' ? 0x9303 : 0x9000;
      return noData ? sw(word) : ok(this.fci(), word);
    }
    if (c.p1 !== 0x00 && c.p1 !== 0x01 && c.p1 !== 0x02) return sw(0x6a86);
    if (c.data.length !== 2) return sw(0x6700);
    const fid = c.data.readUInt16BE(0);
    if (fid === FID.MF && c.p1 === 0x00) {
      this.enterDf('MF');
      return sw(0x9000);
    }
    if (this.df === 'MF') return sw(0x6a82);
    // DF01 is the only DF modelled under SSSE; EFs are searched in the current DF, then its parent.
    if (fid === FID.DF01 && c.p1 !== 0x02) {
      if (this.df !== 'DF01') this.df = 'DF01';
      this.ef = undefined;
      return sw(0x9000);
    }
    if (c.p1 === 0x01) return sw(0x6a82);
    const search: Exclude<DfName, 'MF'>[] = this.df === 'DF01' ? (c.p1 === 0x02 ? ['DF01'] : ['DF01', 'SSSE']) : ['SSSE'];
    for (const df of search) {
      const ef = this.findEf(df, (e) => e.fid === fid);
      if (ef !== undefined) {
        this.df = df;
        this.ef = ef;
        return sw(0x9000);
      }
    }
    return sw(0x6a82);
  }

  private enterDf(df: DfName): void {
    // Leaving or re-entering the application resets its security status (ISO 7816-4 §5.4).
    this.df = df;
    this.ef = undefined;
    this.authenticated.clear();
    this.verified = false;
  }

  private findEf(df: Exclude<DfName, 'MF'>, match: (e: EfInfo) => boolean): EfInfo | undefined {
    const ef = EFS.find((e) => e.df === df && match(e));
    if (ef?.name === 'EF07' && this.#profile.fingerprint.length === 0) return undefined;
    return ef;
  }

  /** The EF a READ/UPDATE addresses: by SFI (P2 b8..b4 for records) or the current EF. */
  private targetEf(sfi: number): EfInfo | Reply {
    if (sfi === 0) return this.ef ?? sw(0x6986);
    if (this.df === 'MF') return sw(0x6a82);
    const ef = this.findEf(this.df, (e) => e.sfi === sfi);
    if (ef === undefined) return sw(0x6a82);
    this.ef = ef;
    return ef;
  }

  // ---- READ ----

  private readAccess(ef: EfInfo): Reply | undefined {
    if (this.state === 'appLocked' && ef.name !== 'EF05') return sw(0x9303);
    if (ef.name === 'EF06' && this.#profile.ef06NeedsExternalAuth && !this.authenticated.has(0x0a)) return sw(0x6982);
    if (ef.name === 'DF01/EF06' && this.phoneAccess === 'verifiedPin' && !this.verified) return sw(0x6982);
    return undefined;
  }

  private readRecord(c: CommandApdu): Reply {
    if (c.data.length > 0) return sw(0x6700);
    const mode = c.p2 & 0x07;
    if (mode !== 0x04 && mode !== 0x00) return sw(0x6a86);
    const ef = this.targetEf(c.p2 >> 3);
    if ('sw' in ef) return ef;
    if (ef.kind !== 'record') return sw(0x6981);
    const denied = this.readAccess(ef);
    if (denied) return denied;
    const file = ef.name as RecordFileName;
    const tag = mode === 0x04 ? recordTag(file, c.p1) : tagRecord(file, c.p1) === undefined ? undefined : c.p1;
    const value = tag === undefined ? undefined : this.records.get(file)?.get(tag);
    if (tag === undefined || value === undefined) return sw(0x6a83);
    return ok(encodeSimpleTlv(tag, value));
  }

  private readBinary(c: CommandApdu): Reply {
    if (c.data.length > 0) return sw(0x6700);
    let offset: number;
    let ef: EfInfo | Reply;
    if ((c.p1 & 0x80) !== 0) {
      if ((c.p1 & 0x60) !== 0) return sw(0x6a86);
      ef = this.targetEf(c.p1 & 0x1f);
      offset = c.p2;
    } else {
      ef = this.targetEf(0);
      offset = (c.p1 << 8) | c.p2;
    }
    if ('sw' in ef) return ef;
    if (ef.kind !== 'binary') return sw(0x6981);
    const denied = this.readAccess(ef);
    if (denied) return denied;
    const content = ef.name === 'EF07' ? this.#profile.fingerprint : this.#profile.photo;
    if (offset >= content.length) return sw(0x6b00);
    const want = c.le ?? 256;
    return ok(Buffer.from(content.subarray(offset, Math.min(content.length, offset + want))));
  }

  // ---- authentication ----

  private getChallenge(c: CommandApdu): Reply {
    if (c.p1 !== 0 || c.p2 !== 0) return sw(0x6a86);
    if (c.data.length > 0) return sw(0x6700);
    let n: number;
    if (c.le === 4 || c.le === 8 || c.le === 16) n = c.le;
    else if (c.le === undefined || c.le === 256) n = this.bs;
    else return sw(0x6700);
    const r = this.random(n);
    if (r.length !== n) return sw(0x6f00);
    this.challenge = Buffer.from(r);
    return ok(Buffer.from(r));
  }

  private internalAuth(c: CommandApdu): Reply {
    if (c.p1 !== 0) return sw(0x6a86);
    if (c.data.length !== this.bs) return sw(0x6700);
    if (this.state === 'appLocked') return sw(0x9303);
    const key = this.key(0x88, c.p2 === 0 ? 0x01 : c.p2);
    if (key === undefined) return sw(0x6a88);
    return ok(encryptBlocks(this.#profile.algorithm, key, c.data));
  }

  /** The challenge zero-padded to the block size (a 4-byte challenge is PBOC practice). */
  private iv(challenge: Buffer): Buffer {
    const out = Buffer.alloc(this.bs);
    challenge.copy(out, 0, 0, Math.min(challenge.length, this.bs));
    return out;
  }

  private externalAuth(c: CommandApdu, challenge: Buffer | undefined): Reply {
    if (c.p1 !== 0) return sw(0x6a86);
    if (c.data.length !== this.bs) return sw(0x6700);
    if (this.state === 'appLocked') return sw(0x9303);
    if (challenge === undefined) return sw(0x6985);
    const key = this.key(0x82, c.p2);
    if (key === undefined) return sw(0x6a88);
    const expected = encryptBlocks(this.#profile.algorithm, key, this.iv(challenge));
    if (!macEquals(expected, c.data)) {
      this.authenticated.delete(c.p2);
      return sw(0x6300);
    }
    this.authenticated.add(c.p2);
    return sw(0x9000);
  }

  /** Check the 4-byte MAC at the end of `c.data`: undefined when good, else the status word. */
  private checkMac(c: CommandApdu, usage: number, challenge: Buffer | undefined): Reply | undefined {
    if (challenge === undefined) return sw(0x6985);
    const key = this.key(usage, 0x01);
    if (key === undefined) return sw(0x6a88);
    const body = c.data.subarray(0, c.data.length - MAC_LENGTH);
    const input = macInput(c.cla, c.ins, c.p1, c.p2, body);
    try {
      const expected = mac(this.#profile.algorithm, key, this.iv(challenge), input, { sm4MacFold: this.#profile.sm4MacFold });
      return macEquals(expected, c.data.subarray(c.data.length - MAC_LENGTH)) ? undefined : sw(0x6988);
    } finally {
      input.fill(0);
    }
  }

  // ---- PIN ----

  /** Life cycle gate of the PIN commands. */
  private pinGate(): Reply | undefined {
    if (this.state === 'appLocked') return sw(0x9303);
    if (this.state === 'notActivated') return sw(0x6985);
    return undefined;
  }

  /** Decode a 6-digit BCD PIN (3 bytes): the digits, or the status word for a bad one. */
  private static decodePin(bcd: Uint8Array): Buffer | Reply {
    if (bcd.length !== PIN_BYTES) return sw(0x6700);
    const digits = bcdToPin(bcd);
    if (digits === undefined) return sw(0x6a80);
    if (digits.length !== PIN_DIGITS) {
      digits.fill(0);
      return sw(0x6700);
    }
    return digits;
  }

  /** One PIN comparison: counts a try on mismatch (ISO 7816-4 §11.5.6). */
  private tryPin(candidate: Buffer): Reply {
    if (macEquals(candidate, this.#pin)) {
      this.triesLeft = this.#profile.pinTryLimit;
      this.verified = true;
      return sw(0x9000);
    }
    this.verified = false;
    this.triesLeft = Math.max(0, this.triesLeft - 1);
    return sw(0x63c0 | this.triesLeft);
  }

  private setPin(digits: Buffer): void {
    this.#pin.fill(0);
    this.#pin = Buffer.from(digits);
    this.triesLeft = this.#profile.pinTryLimit;
  }

  private verify(c: CommandApdu): Reply {
    if (c.p1 !== 0 || c.p2 !== 0) return sw(0x6a86);
    const gate = this.pinGate();
    if (gate) return gate;
    if (this.triesLeft === 0) return sw(0x6983);
    if (c.data.length === 0) return this.verified ? sw(0x9000) : sw(0x63c0 | this.triesLeft);
    const pin = VirtualSsCard.decodePin(c.data);
    c.data.fill(0);
    if (!Buffer.isBuffer(pin)) return pin;
    try {
      return this.tryPin(pin);
    } finally {
      pin.fill(0);
    }
  }

  private changePin(c: CommandApdu): Reply {
    if (c.p2 !== 0) return sw(0x6a86);
    const gate = this.pinGate();
    if (gate) return gate;
    const data = c.data;
    try {
      if (data.length !== PIN_BYTES * 2 + 1) return sw(0x6700);
      if (data[PIN_BYTES] !== 0xff) return sw(0x6a80);
      if (this.triesLeft === 0) return sw(0x6983);
      const oldPin = VirtualSsCard.decodePin(data.subarray(0, PIN_BYTES));
      if (!Buffer.isBuffer(oldPin)) return oldPin;
      const newPin = VirtualSsCard.decodePin(data.subarray(PIN_BYTES + 1));
      if (!Buffer.isBuffer(newPin)) {
        oldPin.fill(0);
        return newPin;
      }
      try {
        const r = this.tryPin(oldPin);
        if (r.sw === 0x9000) this.setPin(newPin);
        return r;
      } finally {
        oldPin.fill(0);
        newPin.fill(0);
      }
    } finally {
      data.fill(0);
    }
  }

  private reloadPinPboc(c: CommandApdu, challenge: Buffer | undefined): Reply {
    if (c.p1 !== 0x00 || c.p2 !== 0x00 || this.#profile.pinReload !== 'pboc') return sw(0x6a86);
    const data = c.data;
    try {
      if (data.length !== PIN_BYTES + MAC_LENGTH) return sw(0x6700);
      const gate = this.pinGate();
      if (gate) return gate;
      const bad = this.checkMac(c, 0x5e, challenge);
      if (bad) return bad;
      if (this.triesLeft === 0) return sw(0x6983);
      const pin = VirtualSsCard.decodePin(data.subarray(0, PIN_BYTES));
      if (!Buffer.isBuffer(pin)) return pin;
      this.setPin(pin);
      pin.fill(0);
      this.verified = false;
      return sw(0x9000);
    } finally {
      data.fill(0);
    }
  }

  /** `84 24 00 00` PIN UNBLOCK and `84 24 00 01` 3.0 RELOAD PIN: encrypted PIN block ‖ MAC (usage 24). */
  private pinUnblockOrReload(c: CommandApdu, challenge: Buffer | undefined): Reply {
    const reload = c.p2 === 0x01;
    if (c.p1 !== 0x00 || (c.p2 !== 0x00 && c.p2 !== 0x01)) return sw(0x6a86);
    if (reload && this.#profile.pinReload !== 'ssse3') return sw(0x6a86);
    const data = c.data;
    let pin: Buffer | undefined;
    let block: Buffer | undefined;
    try {
      if (data.length !== this.bs + MAC_LENGTH) return sw(0x6700);
      const gate = this.pinGate();
      if (gate) return gate;
      if (reload && !this.authenticated.has(0x06)) return sw(0x6982);
      const bad = this.checkMac(c, 0x24, challenge);
      if (bad) return bad;
      if (reload && this.triesLeft === 0) return sw(0x6983);
      const key = this.key(0x24, 0x01)!; // checkMac found it
      block = decryptBlocks(this.#profile.algorithm, key, data.subarray(0, this.bs));
      pin = parsePinBlock(block);
      if (pin === undefined) return sw(0x6a80);
      if (pin.length !== PIN_DIGITS) return sw(0x6700);
      this.setPin(pin);
      this.verified = false;
      return sw(0x9000);
    } finally {
      wipe(data, block, pin);
    }
  }

  // ---- life cycle ----

  private appBlockUnblock(c: CommandApdu, challenge: Buffer | undefined): Reply {
    if (c.p1 !== 0 || c.p2 !== 0) return sw(0x6a86);
    if (c.data.length !== MAC_LENGTH) return sw(0x6700);
    const bad = this.checkMac(c, 0x18, challenge);
    if (bad) return bad;
    if (c.ins === 0x1e) {
      this.state = 'appLocked';
      this.authenticated.clear();
      this.verified = false;
    } else {
      this.state = 'active';
    }
    return sw(0x9000);
  }

  // ---- write ----

  private updateRecord(c: CommandApdu): Reply {
    if ((c.p2 & 0x07) !== 0x04) return sw(0x6a86);
    if (c.data.length < 2) return sw(0x6700);
    const ef = this.targetEf(c.p2 >> 3);
    if ('sw' in ef) return ef;
    if (ef.kind !== 'record') return sw(0x6981);
    if (this.state === 'appLocked') return sw(0x9303);
    const file = ef.name as RecordFileName;
    if (!this.authenticated.has(this.#profile.writeKeys[file])) return sw(0x6982);
    const tag = recordTag(file, c.p1);
    const current = tag === undefined ? undefined : this.records.get(file)?.get(tag);
    if (tag === undefined || current === undefined) return sw(0x6a83);
    if (c.data[0] !== tag) return sw(0x6a80);
    const len = c.data[1]!;
    if (len !== c.data.length - 2 || len !== current.length) return sw(0x6700);
    this.records.get(file)!.set(tag, Buffer.from(c.data.subarray(2)));
    return sw(0x9000);
  }
}

/** The card's PIN rule (docs/domain.md §2): exactly 6 digits, 3 bytes of BCD. */
const PIN_DIGITS = 6;
const PIN_BYTES = 3;
