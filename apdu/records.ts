/**
 * SSSE records (docs/domain.md §1): simple TLV `tag(1) len(1) value`, the field tables of EF05
 * (card-issuer data) and EF06 (holder data) as data, and typed codecs both ways — the terminal
 * decodes with them and the virtual card writes its records with them.
 *
 * Field encodings: AN (ASCII, right-padded with 00 or 20), CN (compressed numeric: BCD, F-padded
 * right), GB18030 (00-padded; docs/domain.md §1 says GBK, which GB18030 contains — and rare
 * characters in names exist only in GB18030's four-byte form), B (binary, shown as hex).
 */
import iconv from 'iconv-lite';
import { ErrorCode, fail, isSsCardError } from '../core/errors.js';
import { toHex } from './hex.js';

// ---- simple TLV (ISO/IEC 7816-4 §5.2.3: tag 01..FE, length 00..FE or FF + 2 bytes) ----

export interface SimpleTlv {
  readonly tag: number;
  readonly value: Buffer;
}

function badTlv(zh: string, en: string, length: number): never {
  fail(ErrorCode.Input_BadTlv, `记录（简单 TLV）格式错误：${zh}`, `Malformed record (simple TLV): ${en}`, { length });
}

/** Parse one simple-TLV item covering exactly `bytes` (a READ RECORD response without SW). */
export function parseSimpleTlv(bytes: Uint8Array): SimpleTlv {
  const { item, next } = readSimpleTlv(bytes, 0);
  if (next !== bytes.length) {
    badTlv(`值之后还有 ${bytes.length - next} 个多余字节`, `${bytes.length - next} trailing bytes after the value`, bytes.length);
  }
  return item;
}

/** Parse consecutive simple-TLV items (trailing `00`/`FF` padding is ignored). */
export function parseSimpleTlvList(bytes: Uint8Array): SimpleTlv[] {
  const items: SimpleTlv[] = [];
  let off = 0;
  while (off < bytes.length) {
    if (bytes.subarray(off).every((b) => b === 0x00) || bytes.subarray(off).every((b) => b === 0xff)) break;
    const { item, next } = readSimpleTlv(bytes, off);
    items.push(item);
    off = next;
  }
  return items;
}

function readSimpleTlv(bytes: Uint8Array, off: number): { item: SimpleTlv; next: number } {
  if (!(bytes instanceof Uint8Array)) badTlv('不是字节数组', 'not bytes', 0);
  const n = bytes.length;
  if (n - off < 2) badTlv(`只剩 ${n - off} 字节，至少需要标签和长度 2 字节`, `${n - off} bytes left, a tag and a length need 2`, n);
  const tag = bytes[off]!;
  if (tag === 0x00 || tag === 0xff) badTlv(`标签 ${toHex([tag])} 无效（只允许 01..FE）`, `tag ${toHex([tag])} is invalid (01..FE only)`, n);
  let len = bytes[off + 1]!;
  let start = off + 2;
  if (len === 0xff) {
    if (n - off < 4) badTlv('三字节长度域不完整', 'truncated three-byte length field', n);
    len = (bytes[off + 2]! << 8) | bytes[off + 3]!;
    start = off + 4;
  }
  if (start + len > n) badTlv(`长度为 ${len}，但只有 ${n - start} 字节`, `length is ${len} but only ${n - start} bytes follow`, n);
  return { item: { tag, value: Buffer.from(bytes.subarray(start, start + len)) }, next: start + len };
}

/** Encode `tag len value` (length ≥ 255 uses the `FF hi lo` form). */
export function encodeSimpleTlv(tag: number, value: Uint8Array): Buffer {
  if (!Number.isInteger(tag) || tag < 0x01 || tag > 0xfe) {
    fail(ErrorCode.Input_BadTlv, `参数 tag 必须是 0x01..0xFE，实际为 ${tag}`, `Argument tag must be 0x01..0xFE, got ${tag}`, { argument: 'tag' });
  }
  if (!(value instanceof Uint8Array) || value.length > 0xffff) {
    fail(ErrorCode.Input_BadTlv, '参数 value 必须是不超过 65535 字节的字节数组', 'Argument value must be bytes, at most 65535', { argument: 'value' });
  }
  const len = value.length < 0xff ? Buffer.from([value.length]) : Buffer.from([0xff, value.length >> 8, value.length & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, value]);
}

// ---- field tables ----

export type FieldEncoding = 'AN' | 'CN' | 'GB18030' | 'B';
export type EfId = 0xef05 | 0xef06;

export interface FieldSpec {
  readonly ef: EfId;
  readonly tag: number;
  /** Record number for READ RECORD by number (`P2 = 04`). */
  readonly record: number;
  /** Property name in the typed object. */
  readonly key: string;
  readonly zh: string;
  readonly en: string;
  /** Fixed value length in bytes. */
  readonly length: number;
  readonly encoding: FieldEncoding;
  /** `date`: CN YYYYMMDD shown as YYYY-MM-DD. */
  readonly format?: 'date';
  /** Where the fact is inferred, not seen on cards (UNCONFIRMED in docs/domain.md §1). */
  readonly unconfirmed?: string;
}

/** EF05 card-issuer data; record number = tag. */
export const EF05_FIELDS: readonly FieldSpec[] = [
  { ef: 0xef05, tag: 0x01, record: 1, key: 'cardId', zh: '卡识别码', en: 'card identification code', length: 16, encoding: 'B' },
  { ef: 0xef05, tag: 0x02, record: 2, key: 'cardType', zh: '卡类别', en: 'card type', length: 1, encoding: 'AN' },
  { ef: 0xef05, tag: 0x03, record: 3, key: 'specVersion', zh: '规范版本', en: 'specification version', length: 4, encoding: 'AN' },
  { ef: 0xef05, tag: 0x04, record: 4, key: 'initOrgCode', zh: '初始化机构编号', en: 'initialising organisation code', length: 12, encoding: 'CN' },
  { ef: 0xef05, tag: 0x05, record: 5, key: 'issueDate', zh: '发卡日期', en: 'issue date', length: 4, encoding: 'CN', format: 'date' },
  { ef: 0xef05, tag: 0x06, record: 6, key: 'expiryDate', zh: '卡有效期', en: 'expiry date', length: 4, encoding: 'CN', format: 'date' },
  { ef: 0xef05, tag: 0x07, record: 7, key: 'cardNumber', zh: '卡号', en: 'card number', length: 9, encoding: 'AN' },
];

/** EF06 holder data. */
export const EF06_FIELDS: readonly FieldSpec[] = [
  { ef: 0xef06, tag: 0x08, record: 1, key: 'socialSecurityNumber', zh: '社会保障号码', en: 'social security number', length: 18, encoding: 'AN' },
  { ef: 0xef06, tag: 0x09, record: 2, key: 'name', zh: '姓名', en: 'name', length: 30, encoding: 'GB18030' },
  { ef: 0xef06, tag: 0x4e, record: 3, key: 'nameExtension', zh: '姓名扩展', en: 'name extension', length: 20, encoding: 'GB18030', unconfirmed: 'record number 3' },
  // 性别: one byte; ASCII code per GB/T 2261.1 ('1', '2') as drivers display it. Encoding UNCONFIRMED.
  { ef: 0xef06, tag: 0x0a, record: 4, key: 'gender', zh: '性别', en: 'gender', length: 1, encoding: 'AN', unconfirmed: 'encoding AN' },
  { ef: 0xef06, tag: 0x0b, record: 5, key: 'nation', zh: '民族', en: 'ethnic group', length: 1, encoding: 'CN' },
  { ef: 0xef06, tag: 0x0c, record: 6, key: 'birthPlace', zh: '出生地', en: 'place of birth', length: 3, encoding: 'CN', unconfirmed: 'record number 6' },
  { ef: 0xef06, tag: 0x0d, record: 7, key: 'birthDate', zh: '出生日期', en: 'date of birth', length: 4, encoding: 'CN', format: 'date' },
];

const BY_TAG = new Map<number, FieldSpec>([...EF05_FIELDS, ...EF06_FIELDS].map((f) => [f.tag, f]));

/** The field of `ef` with `tag`, or undefined. */
export function fieldSpec(ef: EfId, tag: number): FieldSpec | undefined {
  const f = BY_TAG.get(tag);
  return f?.ef === ef ? f : undefined;
}

/** The field of `ef` read by record number `record`, or undefined. */
export function fieldByRecord(ef: EfId, record: number): FieldSpec | undefined {
  return (ef === 0xef05 ? EF05_FIELDS : EF06_FIELDS).find((f) => f.record === record);
}

function specFor(tag: number): FieldSpec {
  const f = BY_TAG.get(tag);
  if (f === undefined) {
    fail(
      ErrorCode.Input_BadRecord,
      `未知的字段标签 ${toHex([tag & 0xff])}（EF05 为 01..07，EF06 为 08..0D、4E）`,
      `Unknown field tag ${toHex([tag & 0xff])} (EF05 has 01..07, EF06 has 08..0D and 4E)`,
      { tag },
    );
  }
  return f;
}

function badField(f: FieldSpec, zh: string, en: string, extra?: Record<string, unknown>): never {
  fail(
    ErrorCode.Input_BadRecord,
    `字段 ${toHex([f.tag])}（${f.zh}）无效：${zh}。请确认卡片是社会保障卡，必要时联系发卡机构`,
    `Field ${toHex([f.tag])} (${f.en}) is invalid: ${en}. Check that this is a social security card; if so, contact the issuer`,
    { tag: f.tag, ...extra },
  );
}

// ---- encodings ----

function stripRight(b: Uint8Array, pads: readonly number[]): Uint8Array {
  let end = b.length;
  while (end > 0 && pads.includes(b[end - 1]!)) end--;
  return b.subarray(0, end);
}

function decodeAn(f: FieldSpec, v: Uint8Array): string {
  const s = stripRight(v, [0x00, 0x20, 0xff]);
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c < 0x20 || c > 0x7e) badField(f, `第 ${i + 1} 字节 ${toHex([c])} 不是可打印 ASCII 字符`, `byte ${i + 1} (${toHex([c])}) is not printable ASCII`, { position: i });
  }
  return Buffer.from(s).toString('latin1');
}

function decodeCn(f: FieldSpec, v: Uint8Array): string {
  let out = '';
  let ended = false;
  for (let n = 0; n < v.length * 2; n++) {
    const b = v[n >> 1]!;
    const d = n % 2 === 0 ? b >> 4 : b & 0x0f;
    if (d === 0x0f) ended = true;
    else if (ended || d > 9) badField(f, `压缩数字（BCD）中第 ${n + 1} 个半字节为 ${d.toString(16).toUpperCase()}`, `nibble ${n + 1} of the compressed numeric (BCD) value is ${d.toString(16).toUpperCase()}`, { nibble: n });
    else out += String(d);
  }
  return out;
}

/** WHATWG's gb18030 decoder (ICU), fatal: an invalid sequence throws instead of becoming U+FFFD. */
const GB18030 = new TextDecoder('gb18030', { fatal: true });

/** GB18030 text (one-, two- and four-byte sequences; GBK and GB2312 are subsets), without its padding. */
function decodeGb18030(f: FieldSpec, v: Uint8Array): string {
  const s = stripRight(v, [0x00, 0x20, 0xff]);
  let text: string;
  try {
    text = GB18030.decode(s);
  } catch {
    badField(f, '不是有效的 GB18030（GBK）文本', 'not valid GB18030 (GBK) text');
  }
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(text)) badField(f, '含有控制字符', 'it contains control characters');
  return text;
}

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** YYYYMMDD (digits) → YYYY-MM-DD, or undefined when not a calendar date. */
function checkDate(digits: string): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(digits);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1 || d > DAYS[mo - 1]!) return undefined;
  if (mo === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) return undefined;
  return `${m[1]}-${m[2]}-${m[3]}`;
}

/**
 * Decode one field value by its table entry: AN/GB18030 trimmed of padding, CN as digits (dates as
 * YYYY-MM-DD; an all-zero or F-filled date is ''), B as upper-case hex. Empty value → ''.
 * Malformed input → SsCardError (Input_BadRecord), never another exception.
 */
export function decodeField(tag: number, value: Uint8Array): string {
  const f = specFor(tag);
  if (!(value instanceof Uint8Array)) badField(f, '值不是字节数组', 'the value is not bytes');
  if (value.length > f.length) {
    badField(f, `长度为 ${value.length} 字节，最多 ${f.length} 字节`, `it is ${value.length} bytes long, at most ${f.length}`, { length: value.length });
  }
  if (value.length === 0) return '';
  switch (f.encoding) {
    case 'AN':
      return decodeAn(f, value);
    case 'GB18030':
      return decodeGb18030(f, value);
    case 'B':
      if (value.length !== f.length) badField(f, `长度为 ${value.length} 字节，应为 ${f.length} 字节`, `it is ${value.length} bytes long, expected ${f.length}`, { length: value.length });
      return toHex(value);
    case 'CN': {
      const digits = decodeCn(f, value);
      if (f.format !== 'date') return digits;
      if (digits === '' || /^0+$/.test(digits)) return '';
      const date = checkDate(digits);
      if (date === undefined) badField(f, `“${digits}” 不是有效日期（应为 YYYYMMDD）`, `"${digits}" is not a valid date (YYYYMMDD expected)`);
      return date;
    }
  }
}

function badText(f: FieldSpec, zh: string, en: string): never {
  fail(ErrorCode.Input_BadRecord, `无法写入字段 ${toHex([f.tag])}（${f.zh}）：${zh}`, `Cannot encode field ${toHex([f.tag])} (${f.en}): ${en}`, { tag: f.tag, argument: f.key });
}

/**
 * GB18030 bytes of `text` (two bytes a common character, four for the rare ones), or an error when
 * the bytes would not decode back to the same text with the decoder the terminal uses.
 */
function gb18030Bytes(f: FieldSpec, text: string): Buffer {
  const bytes = iconv.encode(text, 'gb18030');
  let back: string | undefined;
  try {
    back = GB18030.decode(bytes);
  } catch {
    back = undefined;
  }
  if (back !== text) badText(f, '含有 GB18030 无法表示的字符', 'it contains characters GB18030 cannot represent');
  return bytes;
}

/** Encode `text` into the field's fixed length, padded (AN/GB18030 with 00, CN with F). Inverse of {@link decodeField}. */
export function encodeField(tag: number, text: string): Buffer {
  const f = specFor(tag);
  if (typeof text !== 'string') badText(f, '值必须是字符串', 'the value must be a string');
  switch (f.encoding) {
    case 'AN': {
      if (!/^[\x20-\x7e]*$/.test(text)) badText(f, '只能包含可打印 ASCII 字符', 'only printable ASCII is allowed');
      if (text.length > f.length) badText(f, `长度 ${text.length} 超过 ${f.length} 个字符`, `${text.length} characters exceed ${f.length}`);
      const out = Buffer.alloc(f.length);
      out.write(text, 'latin1');
      return out;
    }
    case 'GB18030': {
      const bytes = gb18030Bytes(f, text);
      if (bytes.length > f.length) badText(f, `GB18030 编码后 ${bytes.length} 字节，超过 ${f.length} 字节`, `${bytes.length} GB18030 bytes exceed ${f.length}`);
      const out = Buffer.alloc(f.length);
      bytes.copy(out);
      return out;
    }
    case 'B': {
      if (!/^[0-9a-fA-F]*$/.test(text) || text.length !== f.length * 2) badText(f, `应为 ${f.length * 2} 位十六进制数字`, `${f.length * 2} hex digits expected`);
      return Buffer.from(text, 'hex');
    }
    case 'CN': {
      let digits = text;
      if (f.format === 'date' && text !== '') {
        digits = text.replace(/^(\d{4})-(\d{2})-(\d{2})$/, '$1$2$3');
        if (checkDate(digits) === undefined) badText(f, `“${text}” 不是有效日期（应为 YYYY-MM-DD）`, `"${text}" is not a valid date (YYYY-MM-DD expected)`);
      }
      if (!/^\d*$/.test(digits)) badText(f, '只能包含数字', 'only digits are allowed');
      if (digits.length > f.length * 2) badText(f, `${digits.length} 位数字超过 ${f.length * 2} 位`, `${digits.length} digits exceed ${f.length * 2}`);
      return Buffer.from(digits.padEnd(f.length * 2, 'F'), 'hex');
    }
  }
}

// ---- card identification code ----

/** RID + PIX prefix in every card identification code: `D156000005`. */
export const CARD_ID_MARKER: Buffer = Buffer.from('D156000005', 'hex');

export interface CardIdParts {
  /** 6-digit administrative region code (from the first 3 bytes, BCD). */
  readonly regionCode: string;
  /** Bytes 3..7 equal `D156000005`. */
  readonly hasMarker: boolean;
  /** The last 8 bytes. */
  readonly serial: Buffer;
}

/** Split a 16-byte card identification code (EF05 tag 01); a non-BCD region is an error. */
export function parseCardId(cardId: Uint8Array): CardIdParts {
  const f = specFor(0x01);
  if (!(cardId instanceof Uint8Array) || cardId.length !== 16) badField(f, '卡识别码应为 16 字节', 'the card identification code must be 16 bytes');
  const region = toHex(cardId.subarray(0, 3));
  if (!/^\d{6}$/.test(region)) badField(f, `前 3 字节 ${region} 不是 6 位行政区划代码`, `the first 3 bytes ${region} are not a 6-digit region code`);
  return { regionCode: region, hasMarker: CARD_ID_MARKER.equals(cardId.subarray(3, 8)), serial: Buffer.from(cardId.subarray(8)) };
}

// ---- typed records ----

export interface CardIssuerData {
  /** 32 hex digits, upper case. */
  cardId: string;
  /** 6 digits from the card identification code. */
  regionCode: string;
  cardType: string;
  specVersion: string;
  initOrgCode: string;
  /** YYYY-MM-DD, or '' when not set. */
  issueDate: string;
  expiryDate: string;
  cardNumber: string;
  /** Lenient decoding only: the keys of the fields that could not be decoded (each is ''). Absent when all were. */
  undecodable?: readonly string[];
}

export interface HolderData {
  socialSecurityNumber: string;
  /** 09 and 4E joined. */
  name: string;
  /** GB/T 2261.1 code: '1' | '2' | … (see {@link GENDER_NAMES}). */
  gender: string;
  /** GB 3304 2-digit code (see {@link NATION_NAMES}). */
  nation: string;
  /** 6-digit region code. */
  birthPlace: string;
  /** YYYY-MM-DD. */
  birthDate: string;
  /** Lenient decoding only: the keys of the fields that could not be decoded (each is ''). Absent when all were. */
  undecodable?: readonly string[];
}

/**
 * How {@link decodeEf05} / {@link decodeEf06} treat a field that does not decode: `strict` throws
 * (Input_BadRecord); `lenient` makes it '' and lists its key in `undecodable`, so one odd field
 * never makes a whole card unreadable (the terminal reads with `lenient`).
 */
export type DecodeMode = 'strict' | 'lenient';

/** Field decoding in `mode`: a lenient decoder collects the keys of what failed in `bad`. */
function fieldReader(fields: ReadonlyMap<number, Uint8Array>, mode: DecodeMode, bad: string[]) {
  return (key: string, decode: () => string): string => {
    if (mode === 'strict') return decode();
    try {
      return decode();
    } catch (e) {
      if (!isSsCardError(e, ErrorCode.Input_BadRecord)) throw e;
      bad.push(key);
      return '';
    }
  };
}

function withUndecodable<T extends object>(data: T, bad: readonly string[]): T {
  return bad.length === 0 ? data : { ...data, undecodable: [...bad] };
}

function field(fields: ReadonlyMap<number, Uint8Array>, tag: number): string {
  const v = fields.get(tag);
  return v === undefined ? '' : decodeField(tag, v);
}

/**
 * Decode EF05 values (tag → value, as READ RECORD returned them after {@link parseSimpleTlv}).
 * A missing field decodes as ''. A card identification code whose region is not BCD is an error.
 */
export function decodeEf05(fields: ReadonlyMap<number, Uint8Array>, mode: DecodeMode = 'strict'): CardIssuerData {
  if (!((fields as unknown) instanceof Map)) fail(ErrorCode.Input_BadRecord, 'EF05 字段必须是 Map（标签 → 值）', 'EF05 fields must be a Map (tag → value)');
  const bad: string[] = [];
  const read = fieldReader(fields, mode, bad);
  const cardId = read('cardId', () => field(fields, 0x01));
  const id = fields.get(0x01);
  return withUndecodable(
    {
      cardId,
      regionCode: cardId === '' || id === undefined ? '' : read('regionCode', () => parseCardId(id).regionCode),
      cardType: read('cardType', () => field(fields, 0x02)),
      specVersion: read('specVersion', () => field(fields, 0x03)),
      initOrgCode: read('initOrgCode', () => field(fields, 0x04)),
      issueDate: read('issueDate', () => field(fields, 0x05)),
      expiryDate: read('expiryDate', () => field(fields, 0x06)),
      cardNumber: read('cardNumber', () => field(fields, 0x07)),
    },
    bad,
  );
}

/** Encode EF05 (tag → fixed-length value). `regionCode`, if set, must match the card id. */
export function encodeEf05(data: CardIssuerData): Map<number, Buffer> {
  const cardId = encodeField(0x01, data.cardId);
  const parts = parseCardId(cardId);
  if (data.regionCode !== '' && data.regionCode !== parts.regionCode) {
    fail(
      ErrorCode.Input_BadRecord,
      `regionCode ${data.regionCode} 与卡识别码中的区划 ${parts.regionCode} 不一致`,
      `regionCode ${data.regionCode} differs from the region ${parts.regionCode} in the card identification code`,
      { argument: 'regionCode' },
    );
  }
  return new Map<number, Buffer>([
    [0x01, cardId],
    [0x02, encodeField(0x02, data.cardType)],
    [0x03, encodeField(0x03, data.specVersion)],
    [0x04, encodeField(0x04, data.initOrgCode)],
    [0x05, encodeField(0x05, data.issueDate)],
    [0x06, encodeField(0x06, data.expiryDate)],
    [0x07, encodeField(0x07, data.cardNumber)],
  ]);
}

/**
 * The name: tag 09, then 4E (姓名扩展) when present, GB18030. A card that cut a four-byte character
 * between the two records decodes from the joined bytes (09 without its padding, then 4E).
 */
function decodeName(fields: ReadonlyMap<number, Uint8Array>): string {
  try {
    return field(fields, 0x09) + field(fields, 0x4e);
  } catch (e) {
    const head = fields.get(0x09);
    const tail = fields.get(0x4e);
    if (head === undefined || tail === undefined || head.length > 30 || tail.length > 20) throw e;
    try {
      return decodeGb18030(specFor(0x09), Buffer.concat([stripRight(head, [0x00]), tail]));
    } catch {
      throw e;
    }
  }
}

/** Decode EF06 values; name = 09 + 4E (GB18030) when 4E is present. Missing fields decode as ''. */
export function decodeEf06(fields: ReadonlyMap<number, Uint8Array>, mode: DecodeMode = 'strict'): HolderData {
  if (!((fields as unknown) instanceof Map)) fail(ErrorCode.Input_BadRecord, 'EF06 字段必须是 Map（标签 → 值）', 'EF06 fields must be a Map (tag → value)');
  const bad: string[] = [];
  const read = fieldReader(fields, mode, bad);
  return withUndecodable(
    {
      socialSecurityNumber: read('socialSecurityNumber', () => field(fields, 0x08)),
      name: read('name', () => decodeName(fields)),
      gender: read('gender', () => field(fields, 0x0a)),
      nation: read('nation', () => field(fields, 0x0b)),
      birthPlace: read('birthPlace', () => field(fields, 0x0c)),
      birthDate: read('birthDate', () => field(fields, 0x0d)),
    },
    bad,
  );
}

/**
 * Split a name at a character boundary so the first part fits the 30 bytes of tag 09 (15 GB18030 two-byte
 * characters); the rest goes to tag 4E (20 bytes).
 */
function splitName(name: string): [string, string] {
  const f09 = specFor(0x09);
  const f4e = specFor(0x4e);
  gb18030Bytes(f09, name);
  let head = '';
  let bytes = 0;
  const chars = [...name];
  let i = 0;
  for (; i < chars.length; i++) {
    const n = iconv.encode(chars[i]!, 'gb18030').length;
    if (bytes + n > f09.length) break;
    bytes += n;
    head += chars[i]!;
  }
  const tail = chars.slice(i).join('');
  if (iconv.encode(tail, 'gb18030').length > f4e.length) {
    badText(f4e, `姓名过长：GB18030 编码后超过 ${f09.length + f4e.length} 字节`, `the name is too long: more than ${f09.length + f4e.length} GB18030 bytes`);
  }
  return [head, tail];
}

/**
 * Encode EF06 (tag → fixed-length value). Names longer than tag 09's 30 bytes (15 two-byte characters)
 * spill into 4E; 4E is always present (00-filled when unused), as on 2.0/3.0 cards.
 */
export function encodeEf06(data: HolderData): Map<number, Buffer> {
  const [head, tail] = splitName(data.name);
  return new Map<number, Buffer>([
    [0x08, encodeField(0x08, data.socialSecurityNumber)],
    [0x09, encodeField(0x09, head)],
    [0x4e, encodeField(0x4e, tail)],
    [0x0a, encodeField(0x0a, data.gender)],
    [0x0b, encodeField(0x0b, data.nation)],
    [0x0c, encodeField(0x0c, data.birthPlace)],
    [0x0d, encodeField(0x0d, data.birthDate)],
  ]);
}

// ---- display labels ----

/** GB/T 2261.1-2003 sex codes. */
export const GENDER_NAMES: Readonly<Record<string, string>> = {
  '0': '未知的性别',
  '1': '男',
  '2': '女',
  '9': '未说明的性别',
};

/** GB/T 3304-1991 ethnic group codes (民族). */
export const NATION_NAMES: Readonly<Record<string, string>> = {
  '01': '汉族', '02': '蒙古族', '03': '回族', '04': '藏族', '05': '维吾尔族', '06': '苗族', '07': '彝族', '08': '壮族',
  '09': '布依族', '10': '朝鲜族', '11': '满族', '12': '侗族', '13': '瑶族', '14': '白族', '15': '土家族', '16': '哈尼族',
  '17': '哈萨克族', '18': '傣族', '19': '黎族', '20': '傈僳族', '21': '佤族', '22': '畲族', '23': '高山族', '24': '拉祜族',
  '25': '水族', '26': '东乡族', '27': '纳西族', '28': '景颇族', '29': '柯尔克孜族', '30': '土族', '31': '达斡尔族', '32': '仫佬族',
  '33': '羌族', '34': '布朗族', '35': '撒拉族', '36': '毛南族', '37': '仡佬族', '38': '锡伯族', '39': '阿昌族', '40': '普米族',
  '41': '塔吉克族', '42': '怒族', '43': '乌孜别克族', '44': '俄罗斯族', '45': '鄂温克族', '46': '德昂族', '47': '保安族', '48': '裕固族',
  '49': '京族', '50': '塔塔尔族', '51': '独龙族', '52': '鄂伦春族', '53': '赫哲族', '54': '门巴族', '55': '珞巴族', '56': '基诺族',
  '97': '其他', '98': '外国血统中国籍人士',
};
