/**
 * PIN encodings (docs/card-conventions.md "PIN encodings"):
 * - BCD, two digits a byte, `F`-padded to whole bytes: VERIFY, CHANGE PIN, PBOC RELOAD PIN;
 * - ISO 9564-1 format 2 PIN block (`2L PP PP PP FF FF FF FF`), right-padded with `FF` to the cipher
 *   block size, for PIN UNBLOCK and the 3.0 RELOAD PIN (UNCONFIRMED, per profile).
 *
 * PIN digits travel as Buffers of ASCII digits ('0'..'9'), never as strings (strings cannot be
 * wiped). Every buffer this module creates that holds digits is wiped before it returns, except the
 * result, which the caller wipes with {@link wipe} after use. No digit ever appears in an error.
 */
import type { Algorithm } from './crypto.js';
import { blockSize as cipherBlockSize, encryptBlocks } from './crypto.js';
import { markSecret, wipe } from '../core/secret.js';
import { ErrorCode, fail } from '../core/errors.js';

export { wipe };

/** PIN lengths ISO 9564-1 format 2 can carry; the card's own rule (6 digits) is a policy elsewhere. */
export const PIN_MIN_LENGTH = 4;
export const PIN_MAX_LENGTH = 12;

/** Throws Input_BadPinFormat unless `pin` is 4..12 ASCII digits. The message never holds a digit. */
export function checkPin(pin: unknown, argument = 'pin'): asserts pin is Uint8Array {
  if (!(pin instanceof Uint8Array)) {
    fail(
      ErrorCode.Input_BadPinFormat,
      `${argument} 必须是由 ASCII 数字组成的字节数组（Buffer），不能是字符串`,
      `${argument} must be a Buffer of ASCII digits, not a string`,
      { argument },
    );
  }
  if (pin.length < PIN_MIN_LENGTH || pin.length > PIN_MAX_LENGTH) {
    fail(
      ErrorCode.Input_BadPinFormat,
      `${argument} 的位数不对：密码应为 ${PIN_MIN_LENGTH}–${PIN_MAX_LENGTH} 位数字（社保卡为 6 位），请重新输入`,
      `${argument} has the wrong number of digits: a PIN is ${PIN_MIN_LENGTH}–${PIN_MAX_LENGTH} digits (6 on the social security card); please enter it again`,
      { argument, min: PIN_MIN_LENGTH, max: PIN_MAX_LENGTH },
    );
  }
  for (let i = 0; i < pin.length; i++) {
    const c = pin[i]!;
    if (c < 0x30 || c > 0x39) {
      fail(
        ErrorCode.Input_BadPinFormat,
        `${argument} 只能包含数字 0–9，请重新输入`,
        `${argument} may contain only the digits 0–9; please enter it again`,
        { argument },
      );
    }
  }
}

/** Write the digits of `pin` as nibbles into `out` starting at nibble `nibble`. */
function putDigits(out: Buffer, nibble: number, pin: Uint8Array): void {
  for (let i = 0; i < pin.length; i++) {
    const d = pin[i]! - 0x30;
    const n = nibble + i;
    const byte = n >> 1;
    out[byte] = n % 2 === 0 ? (d << 4) | (out[byte]! & 0x0f) : (out[byte]! & 0xf0) | d;
  }
}

/**
 * ASCII digits → BCD, two digits a byte, `F`-padded: "123456" → 12 34 56, "12345" → 12 34 5F.
 * The result holds the PIN: the caller wipes it.
 */
export function pinToBcd(pin: Uint8Array): Buffer {
  checkPin(pin);
  const out = Buffer.alloc(Math.ceil(pin.length / 2), 0xff);
  putDigits(out, 0, pin);
  return markSecret(out);
}

/**
 * BCD → ASCII digits, the inverse of {@link pinToBcd}; `undefined` when a nibble is not a digit,
 * when `F` appears anywhere but as the very last nibble, or for empty input.
 * Length is not checked against 4..12: the caller applies its own PIN rules.
 */
export function bcdToPin(bcd: Uint8Array): Buffer | undefined {
  if (!(bcd instanceof Uint8Array) || bcd.length === 0) return undefined;
  const nibbles = bcd.length * 2;
  const last = bcd[bcd.length - 1]! & 0x0f;
  const count = last === 0x0f ? nibbles - 1 : nibbles;
  const out = Buffer.alloc(count);
  for (let n = 0; n < count; n++) {
    const b = bcd[n >> 1]!;
    const d = n % 2 === 0 ? b >> 4 : b & 0x0f;
    if (d > 9) {
      out.fill(0);
      return undefined;
    }
    out[n] = 0x30 + d;
  }
  return markSecret(out);
}

/**
 * ISO 9564-1 format 2 PIN block: `2L` (L = number of digits), the digits as BCD, `F` fill to 8 bytes;
 * then `FF`-padded to `blockSize` (16 for SM4). 123456 → 26 12 34 56 FF FF FF FF.
 * The result holds the PIN: the caller wipes it.
 */
export function pinBlock(pin: Uint8Array, blockSize: 8 | 16): Buffer {
  checkPin(pin);
  if (blockSize !== 8 && blockSize !== 16) {
    fail(
      ErrorCode.Input_BadOption,
      `blockSize 必须是 8（3DES）或 16（SM4），实际为 ${String(blockSize)}`,
      `blockSize must be 8 (3DES) or 16 (SM4), got ${String(blockSize)}`,
      { argument: 'blockSize' },
    );
  }
  const out = Buffer.alloc(blockSize, 0xff);
  out[0] = 0x20 | pin.length;
  putDigits(out, 2, pin);
  return markSecret(out);
}

/**
 * Inverse of {@link pinBlock} (the virtual card uses it): `undefined` unless `block` is 8 or 16 bytes,
 * starts with `2L` (L 4..12), has L digit nibbles, `F` in every remaining nibble of the first 8
 * bytes and `FF` in the rest.
 */
export function parsePinBlock(block: Uint8Array): Buffer | undefined {
  if (!(block instanceof Uint8Array) || (block.length !== 8 && block.length !== 16)) return undefined;
  const b0 = block[0]!;
  const len = b0 & 0x0f;
  if (b0 >> 4 !== 2 || len < PIN_MIN_LENGTH || len > PIN_MAX_LENGTH) return undefined;
  for (let i = 8; i < block.length; i++) if (block[i] !== 0xff) return undefined;
  const out = Buffer.alloc(len);
  for (let n = 2; n < 16; n++) {
    const b = block[n >> 1]!;
    const d = n % 2 === 0 ? b >> 4 : b & 0x0f;
    const isDigit = n - 2 < len;
    if (isDigit ? d > 9 : d !== 0x0f) {
      out.fill(0);
      return undefined;
    }
    if (isDigit) out[n - 2] = 0x30 + d;
  }
  return markSecret(out);
}

/**
 * {@link pinBlock} for the cipher's block size, encrypted ECB with `key` (the usage-`24` key).
 * The intermediate clear PIN block is wiped; the result is ciphertext.
 */
export function encryptPinBlock(alg: Algorithm, key: Uint8Array, pin: Uint8Array): Buffer {
  const block = pinBlock(pin, cipherBlockSize(alg));
  try {
    return markSecret(encryptBlocks(alg, key, block));
  } finally {
    block.fill(0);
  }
}
