/**
 * Command builders for the SSSE (social security) application of the card: docs/domain.md §2
 * and docs/card-conventions.md "Card commands as the virtual card implements them". Each builder
 * validates its arguments eagerly (naming the argument in a bilingual error) and returns the encoded
 * C-APDU, built with {@link encodeCommand}.
 *
 * PIN-bearing builders ({@link verify}, {@link changePin}, {@link reloadPinPboc}) wipe their own
 * intermediate buffers; the APDU they return holds the PIN, and the caller wipes it after transmit.
 */
import { deriveSecret, markSecret } from '../core/secret.js';
import { encodeCommand } from './apdu.js';
import type { CommandApdu } from './apdu.js';
import { ErrorCode, fail } from '../core/errors.js';
import { pinToBcd, wipe } from './pin.js';

/** "sx1.sh." (ASCII) followed by GBK "社会保障": the SSSE application identifier. */
export const SSSE_AID: Buffer = Buffer.from('7378312E73682EC9E7BBE1B1A3D5CF', 'hex');

/** File identifiers under the SSSE application (docs/domain.md §1). */
export const FID = {
  MF: 0x3f00,
  /** 卡识别信息: card-issuer data. */
  EF05: 0xef05,
  /** 持卡人基本信息: holder data. */
  EF06: 0xef06,
  /** Fingerprint (binary). */
  EF07: 0xef07,
  /** Photo (binary). */
  EF08: 0xef08,
  DF01: 0xdf01,
  DF02: 0xdf02,
  DF03: 0xdf03,
  DF04: 0xdf04,
} as const;

/** Length of the MAC appended to secured commands. */
export const MAC4 = 4;

// ---- argument checks shared by the builders (also used by psam.ts) ----

/** Throws Input_BadOption unless `value` is an integer in `min..max`. */
export function checkIntArg(name: string, value: unknown, min: number, max: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max <= 0xff ? `0x${min.toString(16).toUpperCase()}..0x${max.toString(16).toUpperCase()}` : `${min}..${max}`;
    const shown = typeof value === 'number' ? String(value) : typeof value;
    fail(
      ErrorCode.Input_BadOption,
      `参数 ${name} 必须是 ${range} 范围内的整数，实际为 ${shown}`,
      `Argument ${name} must be an integer in ${range}, got ${shown}`,
      { argument: name, min, max },
    );
  }
}

export interface BytesRule {
  /** Exact length, or a list of allowed lengths. */
  readonly length?: number | readonly number[];
  readonly min?: number;
  readonly max?: number;
}

/**
 * Throws Input_BadLength unless `value` is a Uint8Array satisfying `rule`. The message names the
 * argument and its length, never its bytes (they may be a PIN block, a MAC or a cryptogram).
 */
export function checkBytesArg(name: string, value: unknown, rule: BytesRule): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    fail(ErrorCode.Input_BadLength, `参数 ${name} 必须是字节数组（Uint8Array/Buffer）`, `Argument ${name} must be bytes (Uint8Array/Buffer)`, { argument: name });
  }
  const n = value.length;
  const lengths = rule.length === undefined ? undefined : typeof rule.length === 'number' ? [rule.length] : rule.length;
  let expected: string | undefined;
  if (lengths !== undefined && !lengths.includes(n)) expected = lengths.join(' / ');
  else if ((rule.min !== undefined && n < rule.min) || (rule.max !== undefined && n > rule.max)) expected = `${rule.min ?? 0}..${rule.max ?? '∞'}`;
  if (expected !== undefined) {
    fail(
      ErrorCode.Input_BadLength,
      `参数 ${name} 的长度应为 ${expected} 字节，实际为 ${n} 字节`,
      `Argument ${name} must be ${expected} bytes long, got ${n}`,
      { argument: name, expected, actual: n },
    );
  }
}

function build(cla: number, ins: number, p1: number, p2: number, data?: Buffer, le?: number): Buffer {
  const c: CommandApdu = { cla, ins, p1, p2, data: data ?? Buffer.alloc(0), ...(le === undefined ? {} : { le }) };
  return encodeCommand(c);
}

/**
 * Build from data that holds secret material (a PIN, a PIN block): the APDU is marked secret
 * (core/secret.ts), so no trace prints its data, and the data buffer is wiped after encoding.
 */
function buildSecret(cla: number, ins: number, p1: number, p2: number, data: Buffer): Buffer {
  try {
    return markSecret(build(cla, ins, p1, p2, data));
  } finally {
    data.fill(0);
  }
}

// ---- SELECT ----

/**
 * SELECT by DF name: `00 A4 04 00 Lc <aid> [00]` (default AID: {@link SSSE_AID}). With `withLe`
 * the command asks for the FCI (case 4, Le = 00), which T=1 cards need to return it.
 */
export function selectAid(aid: Uint8Array = SSSE_AID, withLe = false): Buffer {
  checkBytesArg('aid', aid, { min: 5, max: 16 });
  return build(0x00, 0xa4, 0x04, 0x00, Buffer.from(aid), withLe ? 256 : undefined);
}

/** SELECT MF: `00 A4 00 00 02 3F00` (some card makes need it before the AID). */
export function selectMf(): Buffer {
  return build(0x00, 0xa4, 0x00, 0x00, Buffer.from([0x3f, 0x00]));
}

/**
 * SELECT by file identifier: `00 A4 <p1> 00 02 <fid>`. P1 `02` selects an EF under the current DF
 * (default), `00` selects by FID (use it for DFs: DF01..DF07).
 */
export function selectFile(fid: number, p1: 0x00 | 0x02 = 0x02): Buffer {
  checkIntArg('fid', fid, 0x0000, 0xffff);
  if (p1 !== 0x00 && p1 !== 0x02) {
    fail(
      ErrorCode.Input_BadOption,
      `参数 p1 必须是 0x00（按 FID 选择，用于 DF）或 0x02（选择当前 DF 下的 EF），实际为 ${String(p1)}`,
      `Argument p1 must be 0x00 (select by FID, for DFs) or 0x02 (EF under the current DF), got ${String(p1)}`,
      { argument: 'p1' },
    );
  }
  return build(0x00, 0xa4, p1, 0x00, Buffer.from([fid >> 8, fid & 0xff]));
}

// ---- READ ----

/** Le for a simple-TLV record: tag + length + value. */
function recordLe(fieldLength: number): number {
  checkIntArg('fieldLength', fieldLength, 0, 254);
  return fieldLength + 2;
}

/** READ RECORD by record number: `00 B2 <record> 04 <fieldLength + 2>`. */
export function readRecordByNumber(record: number, fieldLength: number): Buffer {
  checkIntArg('record', record, 0x01, 0xfe);
  return build(0x00, 0xb2, record, 0x04, undefined, recordLe(fieldLength));
}

/** READ RECORD by tag (the SSSE form real drivers also use): `00 B2 <tag> 00 <fieldLength + 2>`. */
export function readRecordByTag(tag: number, fieldLength: number): Buffer {
  checkIntArg('tag', tag, 0x01, 0xfe);
  return build(0x00, 0xb2, tag, 0x00, undefined, recordLe(fieldLength));
}

/** READ BINARY of the current EF: `00 B0 <offset hi> <offset lo> <le>` (offset 0..0x7FFF, le 1..256). */
export function readBinary(offset: number, le: number): Buffer {
  checkIntArg('offset', offset, 0, 0x7fff);
  checkIntArg('le', le, 1, 256);
  return build(0x00, 0xb0, offset >> 8, offset & 0xff, undefined, le);
}

/** GET RESPONSE (T=0 after `61xx`): `00 C0 00 00 <le>` (le 1..256; 256 is sent as 00). */
export function getResponse(le: number): Buffer {
  checkIntArg('le', le, 1, 256);
  return build(0x00, 0xc0, 0x00, 0x00, undefined, le);
}

// ---- authentication ----

/** GET CHALLENGE: `00 84 00 00 08` (3DES cards) or `00 84 00 00 10` (SM4 cards). */
export function getChallenge(length: 8 | 16): Buffer {
  if (length !== 8 && length !== 16) {
    fail(
      ErrorCode.Input_BadOption,
      `参数 length 必须是 8（3DES）或 16（SM4），实际为 ${String(length)}`,
      `Argument length must be 8 (3DES) or 16 (SM4), got ${String(length)}`,
      { argument: 'length' },
    );
  }
  return build(0x00, 0x84, 0x00, 0x00, undefined, length);
}

/** INTERNAL AUTHENTICATE: `00 88 00 <keyId> Lc <data>` (data: the terminal's random, 8 or 16 bytes). */
export function internalAuth(keyId: number, data: Uint8Array): Buffer {
  checkIntArg('keyId', keyId, 0x00, 0xff);
  checkBytesArg('data', data, { min: 1, max: 255 });
  return build(0x00, 0x88, 0x00, keyId, Buffer.from(data));
}

/**
 * EXTERNAL AUTHENTICATE: `00 82 00 <keyId> Lc <cryptogram>` (the card challenge encrypted with the
 * key `keyId`: 0A read, 04/84/86 write, 06 PIN reload; 8 or 16 bytes).
 */
export function externalAuth(keyId: number, cryptogram: Uint8Array): Buffer {
  checkIntArg('keyId', keyId, 0x00, 0xff);
  checkBytesArg('cryptogram', cryptogram, { length: [8, 16] });
  return build(0x00, 0x82, 0x00, keyId, Buffer.from(cryptogram));
}

// ---- PIN ----

/** VERIFY without data: `00 20 00 00`. The card answers `63Cx` (x tries left) or `6983` (blocked). */
export function verifyQuery(): Buffer {
  return build(0x00, 0x20, 0x00, 0x00);
}

/**
 * VERIFY: `00 20 00 00 Lc <PIN as BCD, F-padded>`. `pin` is ASCII digits.
 * The returned APDU holds the PIN: wipe it after transmitting.
 */
export function verify(pin: Uint8Array): Buffer {
  return buildSecret(0x00, 0x20, 0x00, 0x00, pinToBcd(pin));
}

/**
 * CHANGE PIN (PBOC/SSSE): `80 5E 01 00 Lc <old BCD> FF <new BCD>`. Both PINs are ASCII digits.
 * The returned APDU holds both PINs: wipe it after transmitting.
 */
export function changePin(oldPin: Uint8Array, newPin: Uint8Array): Buffer {
  let oldBcd: Buffer | undefined;
  let newBcd: Buffer | undefined;
  try {
    oldBcd = pinToBcd(oldPin);
    newBcd = pinToBcd(newPin);
    return buildSecret(0x80, 0x5e, 0x01, 0x00, Buffer.concat([oldBcd, Buffer.from([0xff]), newBcd]));
  } finally {
    wipe(oldBcd, newBcd);
  }
}

/**
 * What a command MAC is computed over, before padding (docs/card-conventions.md "MACs on card
 * commands"): `CLA INS P1 P2 Lc ‖ data`, where Lc counts the data and the MAC that will follow.
 * If `data` holds a PIN or PIN block (marked secret), so does the result: wipe it after computing the MAC.
 */
export function macInput(cla: number, ins: number, p1: number, p2: number, data: Uint8Array, macLength = MAC4): Buffer {
  checkIntArg('cla', cla, 0x00, 0xff);
  checkIntArg('ins', ins, 0x00, 0xff);
  checkIntArg('p1', p1, 0x00, 0xff);
  checkIntArg('p2', p2, 0x00, 0xff);
  checkIntArg('macLength', macLength, 0, 16);
  checkBytesArg('data', data, { max: 255 - macLength });
  const out = Buffer.alloc(5 + data.length);
  out[0] = cla;
  out[1] = ins;
  out[2] = p1;
  out[3] = p2;
  out[4] = data.length + macLength;
  out.set(data, 5);
  return deriveSecret(out, data);
}

function checkMac(mac4: unknown): asserts mac4 is Uint8Array {
  checkBytesArg('mac4', mac4, { length: MAC4 });
}

/**
 * RELOAD PIN, PBOC form (2.0 cards): `80 5E 00 00 Lc <new BCD> <MAC>`. The MAC (usage-`5E` key) is
 * over {@link macInput}(0x80, 0x5E, 0x00, 0x00, BCD(newPin)) with the card challenge as IV.
 * The returned APDU holds the PIN: wipe it after transmitting.
 */
export function reloadPinPboc(newPin: Uint8Array, mac4: Uint8Array): Buffer {
  checkMac(mac4);
  const bcd = pinToBcd(newPin);
  try {
    return buildSecret(0x80, 0x5e, 0x00, 0x00, Buffer.concat([bcd, mac4]));
  } finally {
    bcd.fill(0);
  }
}

function checkPinBlock(encryptedBlock: unknown): asserts encryptedBlock is Uint8Array {
  checkBytesArg('encryptedBlock', encryptedBlock, { length: [8, 16] });
}

/**
 * RELOAD PIN, 3.0 form (after EXTERNAL AUTHENTICATE with key 06): `84 24 00 01 Lc <E(PIN block)> <MAC>`,
 * block 16 bytes for SM4 (Lc 14) or 8 for 3DES.
 */
export function reloadPinSsse3(encryptedBlock: Uint8Array, mac4: Uint8Array): Buffer {
  checkPinBlock(encryptedBlock);
  checkMac(mac4);
  return buildSecret(0x84, 0x24, 0x00, 0x01, Buffer.concat([encryptedBlock, mac4]));
}

/** PIN UNBLOCK (PBOC form, UNCONFIRMED for SSSE): `84 24 00 00 Lc <E(PIN block)> <MAC>`. */
export function pinUnblock(encryptedBlock: Uint8Array, mac4: Uint8Array): Buffer {
  checkPinBlock(encryptedBlock);
  checkMac(mac4);
  return buildSecret(0x84, 0x24, 0x00, 0x00, Buffer.concat([encryptedBlock, mac4]));
}

// ---- application life cycle ----

/** APPLICATION BLOCK: `84 1E 00 00 04 <MAC>` (MAC over `84 1E 00 00 04`, usage-`18` key). */
export function appBlock(mac4: Uint8Array): Buffer {
  checkMac(mac4);
  return build(0x84, 0x1e, 0x00, 0x00, Buffer.from(mac4));
}

/** APPLICATION UNBLOCK: `84 18 00 00 04 <MAC>` (MAC over `84 18 00 00 04`, usage-`18` key). */
export function appUnblock(mac4: Uint8Array): Buffer {
  checkMac(mac4);
  return build(0x84, 0x18, 0x00, 0x00, Buffer.from(mac4));
}

// ---- write ----

/**
 * UPDATE RECORD (after EXTERNAL AUTHENTICATE with the file's write key):
 * `00 DC <record> 04 Lc <tag> <len> <value>`.
 */
export function updateRecord(record: number, tag: number, value: Uint8Array): Buffer {
  checkIntArg('record', record, 0x01, 0xfe);
  checkIntArg('tag', tag, 0x01, 0xfe);
  checkBytesArg('value', value, { max: 253 });
  return build(0x00, 0xdc, record, 0x04, Buffer.concat([Buffer.from([tag, value.length]), value]));
}
