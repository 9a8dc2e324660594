/**
 * C-APDU / R-APDU codec, ISO/IEC 7816-4:2020 §5.1 (command-response pairs) and §5.2 (the four
 * cases, short and extended length fields). Pure: bytes in, values out.
 */
import { copyBytes, deriveSecret, isSecret } from '../core/secret.js';
import { ErrorCode, fail } from '../core/errors.js';
import { toHex } from './hex.js';

export interface CommandApdu {
  readonly cla: number;
  readonly ins: number;
  readonly p1: number;
  readonly p2: number;
  /** Command data field (Nc = data.length); empty for cases 1 and 2. */
  readonly data: Buffer;
  /**
   * Ne, the maximum number of response bytes expected; undefined for cases 1 and 3.
   * Short: 1..256 (256 is encoded as 00). Extended: 1..65536 (65536 encoded as 0000).
   */
  readonly le?: number;
  /** Force extended length fields even when short ones would do. */
  readonly extended?: boolean;
}

export interface ResponseApdu {
  readonly data: Buffer;
  readonly sw1: number;
  readonly sw2: number;
  /** SW1 << 8 | SW2 */
  readonly sw: number;
}

export type ApduCase = 1 | 2 | 3 | 4;

export function apduCase(c: Pick<CommandApdu, 'data' | 'le'>): ApduCase {
  const hasData = c.data.length > 0;
  const hasLe = c.le !== undefined;
  return hasData ? (hasLe ? 4 : 3) : hasLe ? 2 : 1;
}

function checkByte(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) {
    fail(ErrorCode.Input_BadApdu, `APDU 字段 ${name} 必须是 0..255 的整数，实际为 ${v}`, `APDU field ${name} must be an integer 0..255, got ${v}`, { field: name });
  }
}

/** Convenience constructor: `command(0x00, 0xa4, 0x04, 0x00, aid, 0)`. */
export function command(cla: number, ins: number, p1: number, p2: number, data?: Uint8Array, le?: number): CommandApdu {
  return { cla, ins, p1, p2, data: data ? copyBytes(data) : Buffer.alloc(0), ...(le === undefined ? {} : { le }) };
}

/**
 * Encode a command APDU; chooses short fields when they suffice, extended otherwise. The result is
 * secret (core/secret.ts) when the data field is.
 */
export function encodeCommand(c: CommandApdu): Buffer {
  return deriveSecret(encodeFields(c), c.data);
}

function encodeFields(c: CommandApdu): Buffer {
  checkByte('CLA', c.cla);
  checkByte('INS', c.ins);
  checkByte('P1', c.p1);
  checkByte('P2', c.p2);
  const nc = c.data.length;
  const ne = c.le;
  if (nc > 65535) {
    fail(ErrorCode.Input_BadApdu, `APDU 数据域过长：${nc} 字节（最多 65535）`, `APDU data field too long: ${nc} bytes (at most 65535)`, { nc });
  }
  if (ne !== undefined && (!Number.isInteger(ne) || ne < 1 || ne > 65536)) {
    fail(ErrorCode.Input_BadApdu, `APDU 的 Le 必须是 1..65536，实际为 ${ne}`, `APDU Le must be 1..65536, got ${ne}`, { le: ne });
  }
  if ((c.ins & 0xf0) === 0x60 || (c.ins & 0xf0) === 0x90) {
    fail(ErrorCode.Input_BadApdu, `INS ${toHex([c.ins])} 无效（6X 和 9X 保留给状态字）`, `INS ${toHex([c.ins])} is invalid (6X and 9X are reserved for status words)`, { ins: c.ins });
  }
  const extended = c.extended === true || nc > 255 || (ne !== undefined && ne > 256);
  const header = Buffer.from([c.cla, c.ins, c.p1, c.p2]);
  const parts: Buffer[] = [header];
  if (!extended) {
    if (nc > 0) parts.push(Buffer.from([nc]), c.data);
    if (ne !== undefined) parts.push(Buffer.from([ne === 256 ? 0 : ne]));
    return Buffer.concat(parts);
  }
  // Extended: Lc = 00 ‖ 2 bytes; Le = 2 bytes when Lc present, else 00 ‖ 2 bytes.
  const le2 = (n: number): Buffer => Buffer.from([(n === 65536 ? 0 : n) >> 8, (n === 65536 ? 0 : n) & 0xff]);
  if (nc > 0) parts.push(Buffer.from([0, nc >> 8, nc & 0xff]), c.data);
  if (ne !== undefined) parts.push(nc > 0 ? le2(ne) : Buffer.concat([Buffer.from([0]), le2(ne)]));
  if (nc === 0 && ne === undefined) {
    // Case 1 has no length fields at all: nothing to extend.
    return header;
  }
  return Buffer.concat(parts);
}

function badCommand(zh: string, en: string, bytes: Uint8Array): never {
  fail(ErrorCode.Input_BadApdu, `命令 APDU 格式错误：${zh}`, `Malformed command APDU: ${en}`, { length: bytes.length });
}

/** Decode command APDU bytes (ISO 7816-4 §5.2); rejects anything that is not exactly one APDU. */
export function decodeCommand(bytes: Uint8Array): CommandApdu {
  const b = Buffer.from(bytes);
  if (b.length < 4) badCommand(`只有 ${b.length} 字节，至少需要 4 字节（CLA INS P1 P2）`, `${b.length} bytes, at least 4 are needed (CLA INS P1 P2)`, b);
  const [cla, ins, p1, p2] = [b[0]!, b[1]!, b[2]!, b[3]!];
  const base = { cla, ins, p1, p2 };
  const body = b.subarray(4);
  const n = body.length;
  if (n === 0) return { ...base, data: Buffer.alloc(0) };
  const b0 = body[0]!;
  if (n === 1) return { ...base, data: Buffer.alloc(0), le: b0 === 0 ? 256 : b0 };
  if (b0 !== 0) {
    // short Lc
    const lc = b0;
    if (n === 1 + lc) return { ...base, data: Buffer.from(body.subarray(1)) };
    if (n === 2 + lc) {
      const le = body[n - 1]!;
      return { ...base, data: Buffer.from(body.subarray(1, 1 + lc)), le: le === 0 ? 256 : le };
    }
    badCommand(`Lc=${lc}，但之后有 ${n - 1} 字节`, `Lc=${lc} but ${n - 1} bytes follow`, b);
  }
  // b0 === 0 and n >= 2: extended
  if (n === 3) {
    const le = (body[1]! << 8) | body[2]!;
    return { ...base, data: Buffer.alloc(0), le: le === 0 ? 65536 : le, extended: true };
  }
  if (n < 3) badCommand('扩展长度字段不完整', 'truncated extended length field', b);
  const lc = (body[1]! << 8) | body[2]!;
  if (lc === 0) badCommand('扩展 Lc 为 0', 'extended Lc is 0', b);
  if (n === 3 + lc) return { ...base, data: Buffer.from(body.subarray(3)), extended: true };
  if (n === 5 + lc) {
    const le = (body[n - 2]! << 8) | body[n - 1]!;
    return { ...base, data: Buffer.from(body.subarray(3, 3 + lc)), le: le === 0 ? 65536 : le, extended: true };
  }
  badCommand(`扩展 Lc=${lc}，但之后有 ${n - 3} 字节`, `extended Lc=${lc} but ${n - 3} bytes follow`, b);
}

/** Split a response APDU into data and status word. */
export function decodeResponse(bytes: Uint8Array): ResponseApdu {
  if (bytes.length < 2) {
    fail(
      ErrorCode.Input_BadResponse,
      `响应 APDU 只有 ${bytes.length} 字节，缺少状态字 SW1 SW2`,
      `Response APDU has ${bytes.length} bytes, missing the status word SW1 SW2`,
      { length: bytes.length },
    );
  }
  const sw1 = bytes[bytes.length - 2]!;
  const sw2 = bytes[bytes.length - 1]!;
  return { data: deriveSecret(Buffer.from(bytes.subarray(0, bytes.length - 2)), bytes), sw1, sw2, sw: (sw1 << 8) | sw2 };
}

export function encodeResponse(data: Uint8Array, sw: number): Buffer {
  return deriveSecret(Buffer.concat([Buffer.from(data), Buffer.from([(sw >> 8) & 0xff, sw & 0xff])]), data);
}

/** True for 9000 and the 61xx "more data" family. */
export function isSuccess(sw: number): boolean {
  return sw === 0x9000 || sw >> 8 === 0x61;
}

/**
 * INS codes whose command data carries a PIN, a PIN block or other secret (ISO 7816-4 VERIFY 20/21,
 * CHANGE REFERENCE DATA 24/25, RESET RETRY COUNTER 2C/2D, PBOC/SSSE CHANGE/RELOAD PIN 5E). Traces
 * show the header and Lc of these and hide the data.
 */
export const PIN_BEARING_INS: ReadonlySet<number> = new Set([0x20, 0x21, 0x24, 0x25, 0x2c, 0x2d, 0x5e]);

/**
 * Hex for a trace line. A command marked secret (core/secret.ts: it carries a PIN, a PIN block or
 * key material, however it was wrapped), one the caller marks sensitive, or one whose INS is
 * PIN-bearing (defence in depth for raw APDUs from outside) shows header and length only:
 * "00 20 00 00 03 [3 bytes redacted]". An extended Lc (00 xx xx) is shown whole.
 */
export function traceCommand(bytes: Uint8Array, sensitive = false): string {
  if (bytes.length <= 5) return toHex(bytes, ' ');
  const ins = bytes[1]!;
  if (!sensitive && !isSecret(bytes) && !PIN_BEARING_INS.has(ins)) return toHex(bytes, ' ');
  const shown = bytes[4] === 0 && bytes.length >= 7 ? 7 : 5;
  const hidden = bytes.length - shown;
  return hidden === 0 ? toHex(bytes, ' ') : `${toHex(bytes.subarray(0, shown), ' ')} [${hidden} bytes redacted]`;
}

/** Hex for the trace line of a response: SW only when the response is secret or `sensitive` (e.g. a PSAM's encrypted PIN block). */
export function traceResponse(bytes: Uint8Array, sensitive = false): string {
  if (bytes.length <= 2 || (!sensitive && !isSecret(bytes))) return toHex(bytes, ' ');
  return `[${bytes.length - 2} bytes redacted] ${toHex(bytes.subarray(bytes.length - 2), ' ')}`;
}
