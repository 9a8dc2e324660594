/**
 * PSAM command builders, PBOC style, as docs/card-conventions.md "PSAM commands" fixes them
 * (the social-security PSAM's own INS set is UNCONFIRMED; these are the project's profile default).
 *
 * Flow: {@link psamSelect} → {@link psamInit} (usage, key version/id, the card's diversification
 * factor) → {@link psamEncrypt} or {@link psamMac} → GET RESPONSE on T=0 PSAMs.
 */
import { concatBytes, copyBytes } from '../core/secret.js';
import { encodeCommand } from './apdu.js';
import { checkBytesArg, checkIntArg } from './ssse.js';

/**
 * Key usages: the INS of the card command the key serves (P1 of `80 1A`, UNCONFIRMED convention).
 */
export const KeyUsage = {
  /** INTERNAL AUTHENTICATE: the card proves it is genuine. P2 = key version. */
  InternalAuth: 0x88,
  /** EXTERNAL AUTHENTICATE: the terminal proves itself. P2 = the card's key id (0A, 04, 84, 86, 06). */
  ExternalAuth: 0x82,
  /** APPLICATION BLOCK (1E) / UNBLOCK (18) MAC. */
  AppBlockUnblock: 0x18,
  /** PIN UNBLOCK / 3.0 RELOAD PIN (84 24): PIN block encryption and MAC. */
  PinUnblock: 0x24,
  /** PBOC RELOAD PIN (80 5E 00 00) MAC. */
  ReloadPin: 0x5e,
} as const;

export type KeyUsage = (typeof KeyUsage)[keyof typeof KeyUsage];

/** Default PSAM application DF (profile setting). */
export const PSAM_DEFAULT_DF = 0x1001;

/** SELECT the PSAM application DF: `00 A4 00 00 02 <df>`. */
export function psamSelect(df: number): Buffer {
  checkIntArg('df', df, 0x0000, 0xffff);
  return encodeCommand({ cla: 0x00, ins: 0xa4, p1: 0x00, p2: 0x00, data: Buffer.from([df >> 8, df & 0xff]) });
}

/** READ BINARY by SFI 0x16 (P1 = 0x80 | 0x16): the 6-byte BCD terminal number (终端机编号). `00 B0 96 00 06`. */
export function psamReadTerminalNumber(): Buffer {
  return encodeCommand({ cla: 0x00, ins: 0xb0, p1: 0x96, p2: 0x00, data: Buffer.alloc(0), le: 6 });
}

/**
 * INIT for a key usage: `80 1A <usage> <p2> 08 <factor>`. The PSAM derives the session key
 * diversify(master[usage, p2], factor); `6A88` when it has no such key.
 */
export function psamInit(usage: number, p2: number, factor: Uint8Array): Buffer {
  checkIntArg('usage', usage, 0x00, 0xff);
  checkIntArg('p2', p2, 0x00, 0xff);
  // One 8-byte factor per level of diversification: the card's, then (a process key) the process factor.
  if (factor.length !== 16) checkBytesArg('factor', factor, { length: 8 });
  return encodeCommand({ cla: 0x80, ins: 0x1a, p1: usage, p2, data: Buffer.from(factor) });
}

/**
 * COMPUTE (encrypt): `80 FA 00 00 Lc <data>`, ECB with the session key; data is whole blocks
 * (a multiple of 8; SM4 PSAMs need a multiple of 16). When `data` is a clear PIN block (marked
 * secret, core/secret.ts) so is the APDU: wipe it after transmitting.
 */
export function psamEncrypt(data: Uint8Array): Buffer {
  checkBytesArg('data', data, { length: Array.from({ length: 31 }, (_, i) => (i + 1) * 8) });
  const copy = copyBytes(data);
  try {
    return encodeCommand({ cla: 0x80, ins: 0xfa, p1: 0x00, p2: 0x00, data: copy });
  } finally {
    copy.fill(0);
  }
}

/**
 * COMPUTE MAC: `80 FA 05 00 Lc <iv> <message>`; the PSAM pads (ISO 9797-1 method 2) and answers
 * the 4-byte MAC. `iv` is the card challenge (8 bytes 3DES, 16 bytes SM4); `message` is
 * typically {@link macInput} from ssse.ts. A message built from a PIN or PIN block (a RELOAD PIN's
 * data) is marked secret, and so is this APDU: no trace prints its data.
 */
export function psamMac(iv: Uint8Array, message: Uint8Array): Buffer {
  checkBytesArg('iv', iv, { length: [8, 16] });
  checkBytesArg('message', message, { max: 255 - iv.length });
  const data = concatBytes([iv, message]);
  try {
    return encodeCommand({ cla: 0x80, ins: 0xfa, p1: 0x05, p2: 0x00, data });
  } finally {
    data.fill(0);
  }
}
