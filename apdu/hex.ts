import { ErrorCode, fail } from '../core/errors.js';

/**
 * Parse hex as a person types it: spaces, colons, dashes and a leading 0x are allowed between
 * bytes ("00 A4 04 00", "00:a4", "0x00A4"). Anything else is an error naming the bad character.
 */
export function parseHex(text: string, what = 'hex'): Buffer {
  const prefix = /^\s*0x/i.exec(text);
  const start = prefix ? prefix[0].length : 0;
  // Find the bad character in the text as typed, so the position points at it.
  const badRe = /[^0-9a-fA-F\s:-]/g;
  badRe.lastIndex = start;
  const bad = badRe.exec(text);
  if (bad) {
    fail(
      ErrorCode.Input_BadHex,
      `${what} 含有非十六进制字符 “${bad[0]}”（位置 ${bad.index}）：只允许 0-9、A-F 以及空格`,
      `${what} contains a non-hex character "${bad[0]}" at position ${bad.index}: use 0-9, A-F and spaces only`,
      { what, position: bad.index },
    );
  }
  const cleaned = text.slice(start).replace(/[\s:-]/g, '');
  if (cleaned.length % 2 !== 0) {
    fail(
      ErrorCode.Input_BadHex,
      `${what} 的十六进制位数为奇数（${cleaned.length} 位）：每个字节需要两位`,
      `${what} has an odd number of hex digits (${cleaned.length}): each byte needs two`,
      { what, digits: cleaned.length },
    );
  }
  return Buffer.from(cleaned, 'hex');
}

/** Upper-case hex, bytes separated by `sep` (default none). */
export function toHex(data: Uint8Array | readonly number[], sep = ''): string {
  const bytes = data instanceof Uint8Array ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
  const hex = bytes.toString('hex').toUpperCase();
  if (sep === '') return hex;
  return hex.replace(/(..)(?!$)/g, `$1${sep}`);
}
