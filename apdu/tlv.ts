/**
 * BER-TLV as smart cards use it: ISO/IEC 7816-4:2020 §6.3 (BER-TLV data objects) over the
 * ITU-T X.690 §8.1 encoding rules, restricted to what cards send:
 *
 * - Tag field (X.690 §8.1.2): one byte, or `xx1F` + subsequent bytes with b8 = 1 except the last.
 *   At most 4 tag bytes here (ISO 7816-4 uses at most 3), so a tag fits in a number: 0x9F0C.
 * - Length field (X.690 §8.1.3): 00..7F short form; 81..84 + 1..4 bytes long form.
 *   80 (indefinite form) is not used by ISO 7816-4 and is rejected; 85..FF too.
 * - Constructed objects (b6 of the first tag byte) are parsed recursively.
 * - 00 and FF bytes before, between and after data objects are padding (ISO 7816-4 §6.3).
 *
 * The SSSE records' simple TLV (`tag(1) len(1) value`) is a different format: see records.ts.
 */
import { ErrorCode, fail } from '../core/errors.js';
import { parseHex, toHex } from './hex.js';

/** What encodeBerTlv takes: a primitive object has `value`, a constructed one `children` (or a raw `value`). */
export interface TlvInput {
  /** The tag bytes as a big-endian number, e.g. 0x9F0C, 0x6F, 0xBF0C. */
  readonly tag: number;
  readonly value?: Uint8Array;
  readonly children?: readonly TlvInput[];
}

export interface TlvNode extends TlvInput {
  /** Upper-case hex of the tag bytes, e.g. "9F0C". */
  readonly tagHex: string;
  /** b6 of the first tag byte (X.690 §8.1.2.5). */
  readonly constructed: boolean;
  /** A copy of the value field as it was in the input (for constructed objects: the encoded children). */
  readonly value: Buffer;
  /** Constructed objects only: the objects inside the value field. */
  readonly children?: readonly TlvNode[];
  /** Offset of the first tag byte in the bytes given to parseBerTlv. */
  readonly offset: number;
  /** Offset just past the value field. */
  readonly end: number;
}

/** Deepest nesting accepted, so that hostile input cannot exhaust the stack. */
export const MAX_TLV_DEPTH = 32;

function bad(offset: number, zh: string, en: string, extra?: Record<string, unknown>): never {
  fail(ErrorCode.Input_BadTlv, `BER-TLV 格式错误（偏移 ${offset}）：${zh}`, `Malformed BER-TLV at offset ${offset}: ${en}`, { offset, ...extra });
}

/** Number of bytes of a tag value, validating its structure (X.690 §8.1.2). */
function tagBytes(tag: number): Buffer {
  if (!Number.isInteger(tag) || tag <= 0 || tag > 0xffffffff) {
    fail(ErrorCode.Input_BadTlv, `BER-TLV 标签 ${String(tag)} 无效：应为 1 至 4 字节`, `BER-TLV tag ${String(tag)} is invalid: it must be 1 to 4 bytes`, { tag });
  }
  const bytes: number[] = [];
  for (let t = tag; t > 0; t = Math.floor(t / 256)) bytes.unshift(t % 256);
  const hex = toHex(bytes);
  const first = bytes[0]!;
  const invalid = (zh: string, en: string): never =>
    fail(ErrorCode.Input_BadTlv, `BER-TLV 标签 ${hex} 无效：${zh}`, `BER-TLV tag ${hex} is invalid: ${en}`, { tag, tagHex: hex });
  if (first === 0xff) invalid('首字节不能为 FF（ISO 7816-4 中 00 和 FF 是填充字节）', 'the first byte cannot be FF (ISO 7816-4 uses 00 and FF as padding)');
  if (bytes.length === 1) {
    if ((first & 0x1f) === 0x1f) invalid('首字节低 5 位为 11111，表示后面还有标签字节', 'the first byte has b5..b1 = 11111, announcing more tag bytes');
    return Buffer.from(bytes);
  }
  if ((first & 0x1f) !== 0x1f) invalid('多字节标签的首字节低 5 位必须为 11111', 'a multi-byte tag must have b5..b1 = 11111 in its first byte');
  for (let i = 1; i < bytes.length; i++) {
    const last = i === bytes.length - 1;
    if (last === ((bytes[i]! & 0x80) !== 0)) invalid('后续字节的最高位必须除最后一个外都为 1', 'subsequent bytes must have b8 = 1 except the last');
  }
  return Buffer.from(bytes);
}

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n <= 0xff) return Buffer.from([0x81, n]);
  if (n <= 0xffff) return Buffer.from([0x82, n >> 8, n & 0xff]);
  if (n <= 0xffffff) return Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.from([0x84, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}

/** Encode data objects; lengths use the shortest form (DER-style). */
export function encodeBerTlv(nodes: readonly TlvInput[]): Buffer {
  return Buffer.concat(nodes.map(encodeOne));
}

function encodeOne(n: TlvInput): Buffer {
  const tag = tagBytes(n.tag);
  const constructed = (tag[0]! & 0x20) !== 0;
  let value: Buffer;
  if (n.children !== undefined) {
    if (!constructed) {
      fail(
        ErrorCode.Input_BadTlv,
        `BER-TLV 标签 ${toHex(tag)} 是基本类型，不能包含子对象`,
        `BER-TLV tag ${toHex(tag)} is primitive and cannot have children`,
        { tagHex: toHex(tag) },
      );
    }
    value = encodeBerTlv(n.children);
  } else {
    value = Buffer.from(n.value ?? new Uint8Array(0));
  }
  return Buffer.concat([tag, encodeLength(value.length), value]);
}

/**
 * Parse BER-TLV data objects. Accepts bytes or hex text. Every malformation is an SsCardError
 * (Input_BadTlv) whose message and context give the offset.
 */
export function parseBerTlv(input: Uint8Array | string): TlvNode[] {
  const bytes = typeof input === 'string' ? parseHex(input, 'BER-TLV') : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  return parseRange(bytes, 0, bytes.length, 0);
}

function parseRange(b: Buffer, start: number, end: number, depth: number): TlvNode[] {
  if (depth > MAX_TLV_DEPTH) bad(start, `嵌套超过 ${MAX_TLV_DEPTH} 层`, `nested deeper than ${MAX_TLV_DEPTH} levels`);
  const out: TlvNode[] = [];
  let p = start;
  for (;;) {
    while (p < end && (b[p] === 0x00 || b[p] === 0xff)) p++; // ISO 7816-4 §6.3 padding
    if (p >= end) return out;
    const offset = p;

    // Tag (X.690 §8.1.2)
    const first = b[p++]!;
    let tag = first;
    let tagLen = 1;
    if ((first & 0x1f) === 0x1f) {
      for (;;) {
        if (p >= end) bad(offset, `标签 ${toHex(b.subarray(offset, p))} 不完整，数据已结束`, `tag ${toHex(b.subarray(offset, p))} is truncated by the end of the data`);
        const nb = b[p++]!;
        tagLen++;
        if (tagLen > 4) bad(offset, '标签超过 4 字节', 'tag longer than 4 bytes');
        tag = tag * 256 + nb;
        if ((nb & 0x80) === 0) break;
      }
    }
    const tagHex = toHex(b.subarray(offset, p));

    // Length (X.690 §8.1.3)
    if (p >= end) bad(offset, `标签 ${tagHex} 之后缺少长度字段`, `tag ${tagHex} has no length field`, { tagHex });
    const lOff = p;
    const l0 = b[p++]!;
    let length: number;
    if (l0 < 0x80) {
      length = l0;
    } else if (l0 === 0x80) {
      bad(lOff, `标签 ${tagHex} 使用了不定长格式（80），ISO 7816-4 不允许`, `tag ${tagHex} uses the indefinite length form (80), not allowed by ISO 7816-4`, { tagHex });
    } else if (l0 <= 0x84) {
      const nBytes = l0 & 0x7f;
      if (p + nBytes > end) bad(lOff, `标签 ${tagHex} 的长度字段 ${toHex([l0])} 需要 ${nBytes} 个后续字节，数据已结束`, `the length field ${toHex([l0])} of tag ${tagHex} needs ${nBytes} more bytes, the data ends first`, { tagHex });
      length = 0;
      for (let i = 0; i < nBytes; i++) length = length * 256 + b[p++]!;
    } else {
      bad(lOff, `标签 ${tagHex} 的长度字段首字节 ${toHex([l0])} 无效（最多 84，即 4 字节长度）`, `the length field of tag ${tagHex} starts with ${toHex([l0])}, invalid (at most 84, a 4-byte length)`, { tagHex });
    }

    // Value
    if (length > end - p) {
      bad(offset, `标签 ${tagHex} 的长度为 ${length}，但只剩 ${end - p} 字节`, `tag ${tagHex} has length ${length} but only ${end - p} bytes are left`, { tagHex, length, available: end - p });
    }
    const vStart = p;
    const vEnd = p + length;
    p = vEnd;
    const constructed = (first & 0x20) !== 0;
    const value = Buffer.from(b.subarray(vStart, vEnd));
    const node: TlvNode = constructed
      ? { tag, tagHex, constructed, value, children: parseRange(b, vStart, vEnd, depth + 1), offset, end: vEnd }
      : { tag, tagHex, constructed, value, offset, end: vEnd };
    out.push(node);
  }
}

/** A tag as number (0x9F0C) or hex ("9F0C", "9f 0c"). */
export type TagRef = number | string;

function tagNumber(tag: TagRef): number {
  if (typeof tag === 'number') return tag;
  const b = parseHex(tag, 'tag');
  let n = 0;
  for (const x of b) n = n * 256 + x;
  return n;
}

/** First object with this tag, depth first in document order (searches inside constructed objects). */
export function findTag(nodes: readonly TlvNode[], tag: TagRef): TlvNode | undefined {
  const want = tagNumber(tag);
  for (const n of nodes) {
    if (n.tag === want) return n;
    if (n.children) {
      const inner = findTag(n.children, want);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** All objects with this tag, depth first in document order. */
export function findAllTags(nodes: readonly TlvNode[], tag: TagRef): TlvNode[] {
  const want = tagNumber(tag);
  const out: TlvNode[] = [];
  const walk = (list: readonly TlvNode[]): void => {
    for (const n of list) {
      if (n.tag === want) out.push(n);
      if (n.children) walk(n.children);
    }
  };
  walk(nodes);
  return out;
}

/** Follow a path of tags from the top level: `findPath(fci, [0x6F, 0xA5, 0x9F0C])`. Direct children only. */
export function findPath(nodes: readonly TlvNode[], path: readonly TagRef[]): TlvNode | undefined {
  let level: readonly TlvNode[] | undefined = nodes;
  let found: TlvNode | undefined;
  for (const t of path) {
    const want = tagNumber(t);
    found = level?.find((n) => n.tag === want);
    if (!found) return undefined;
    level = found.children;
  }
  return found;
}

/** Indented lines "6F (len 1A)" / "  84 (len 0F): 73 78 31 …" for traces and technicians. */
export function formatBerTlv(nodes: readonly TlvNode[], indent = ''): string[] {
  const lines: string[] = [];
  for (const n of nodes) {
    if (n.children) {
      lines.push(`${indent}${n.tagHex} (len ${n.value.length})`);
      lines.push(...formatBerTlv(n.children, `${indent}  `));
    } else {
      lines.push(`${indent}${n.tagHex} (len ${n.value.length}): ${toHex(n.value, ' ')}`);
    }
  }
  return lines;
}
