/**
 * PC/SC v2 Part 10 ("IFDs with Secure PIN Entry Capabilities") codecs: feature discovery, the
 * PIN_VERIFY_STRUCTURE / PIN_MODIFY_STRUCTURE of FEATURE_VERIFY_PIN_DIRECT / FEATURE_MODIFY_PIN_DIRECT,
 * PIN_PROPERTIES_STRUCTURE and GET_TLV_PROPERTIES, and the reader's status words 6400..6403.
 * Pure functions; drivers/pinpad/pcsc-pinpad.ts sends them through CardTransport.control and
 * drivers/sim/part10-reader.ts answers them.
 *
 * Layout and byte order as pcsc-lite's reader.h and the CCID specification (§6.1.11.7/§6.1.11.8)
 * define them and OpenSC's reader-pcsc.c uses them: the Part 10 TLV values are big-endian
 * (Part 10 §2.2), the structure fields (wPINMaxExtraDigit, wLangId, ulDataLength) little-endian
 * (CCID is little-endian), and GET_TLV_PROPERTIES values little-endian (Part 10 §2.6.14).
 */
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { scardCtlCode } from '../pcsc/addon.js';

/** SCARD_CTL_CODE(3400): ask the reader which features it has (Part 10 §2.2). */
export const CM_IOCTL_GET_FEATURE_REQUEST = scardCtlCode(3400); // 0x42000D48

/** Feature tags (Part 10 §2.3; pcsc-lite reader.h). */
export const Feature = {
  VERIFY_PIN_START: 0x01,
  VERIFY_PIN_FINISH: 0x02,
  MODIFY_PIN_START: 0x03,
  MODIFY_PIN_FINISH: 0x04,
  GET_KEY_PRESSED: 0x05,
  VERIFY_PIN_DIRECT: 0x06,
  MODIFY_PIN_DIRECT: 0x07,
  MCT_READER_DIRECT: 0x08,
  MCT_UNIVERSAL: 0x09,
  IFD_PIN_PROPERTIES: 0x0a,
  ABORT: 0x0b,
  SET_SPE_MESSAGE: 0x0c,
  VERIFY_PIN_DIRECT_APP_ID: 0x0d,
  MODIFY_PIN_DIRECT_APP_ID: 0x0e,
  WRITE_DISPLAY: 0x0f,
  GET_KEY: 0x10,
  IFD_DISPLAY_PROPERTIES: 0x11,
  GET_TLV_PROPERTIES: 0x12,
  CCID_ESC_COMMAND: 0x13,
} as const;

/** GET_TLV_PROPERTIES tags (Part 10 §2.6.14). */
export const Property = {
  wLcdLayout: 0x01,
  bEntryValidationCondition: 0x02,
  bTimeOut2: 0x03,
  wLcdMaxCharacters: 0x04,
  wLcdMaxLines: 0x05,
  bMinPINSize: 0x06,
  bMaxPINSize: 0x07,
  sFirmwareID: 0x08,
  bPPDUSupport: 0x09,
  dwMaxAPDUDataSize: 0x0a,
  wIdVendor: 0x0b,
  wIdProduct: 0x0c,
} as const;

/** Status words the reader itself answers (Part 10 §2.6.x; OpenSC maps them the same way). */
export const ReaderSw = {
  TIMEOUT: 0x6400,
  CANCELLED: 0x6401,
  MISMATCH: 0x6402,
  LENGTH: 0x6403,
  /** Firmware rejected the structure (OpenSC: SC_ERROR_READER). */
  BAD_STRUCTURE: 0x6b80,
} as const;

function protocolError(what: string, zh: string, context: Record<string, unknown> = {}): SsCardError {
  return new SsCardError(
    ErrorCode.PinPad_Protocol,
    { zh: `读卡器的 PC/SC 第 10 部分应答无法解析：${zh}；请检查读卡器驱动或更换读卡器`, en: `the reader's PC/SC Part 10 answer cannot be parsed: ${what}; check the reader driver or use another reader` },
    context,
  );
}

// ---------------------------------------------------------------------------------------------
// Feature discovery
// ---------------------------------------------------------------------------------------------

/**
 * Parse the answer to CM_IOCTL_GET_FEATURE_REQUEST: 6-byte TLVs `tag | 04 | control code (BE)`.
 * Throws PinPad_Protocol on a truncated list or a length other than 4.
 */
export function parseFeatures(data: Uint8Array): Map<number, number> {
  const out = new Map<number, number>();
  if (!(data instanceof Uint8Array)) throw protocolError('not bytes', '不是字节数组');
  let i = 0;
  while (i < data.length) {
    if (i + 2 > data.length) throw protocolError(`feature list truncated at byte ${i}`, `功能列表在第 ${i} 字节处被截断`, { offset: i });
    const tag = data[i]!;
    const len = data[i + 1]!;
    if (len !== 4) throw protocolError(`feature 0x${tag.toString(16)} has length ${len}, not 4`, `功能 0x${tag.toString(16)} 的长度为 ${len}，应为 4`, { tag, length: len });
    if (i + 6 > data.length) throw protocolError(`feature list truncated at byte ${i}`, `功能列表在第 ${i} 字节处被截断`, { offset: i });
    const code = ((data[i + 2]! << 24) >>> 0) + (data[i + 3]! << 16) + (data[i + 4]! << 8) + data[i + 5]!;
    out.set(tag, code);
    i += 6;
  }
  return out;
}

/** The inverse of {@link parseFeatures} (the simulated reader answers with it). */
export function encodeFeatures(features: ReadonlyMap<number, number>): Buffer {
  const out = Buffer.alloc(features.size * 6);
  let i = 0;
  for (const [tag, code] of features) {
    out[i] = tag;
    out[i + 1] = 4;
    out.writeUInt32BE(code >>> 0, i + 2);
    i += 6;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// PIN_VERIFY_STRUCTURE / PIN_MODIFY_STRUCTURE
// ---------------------------------------------------------------------------------------------

/** Fields common to both structures, as CCID names them. */
interface PinStructureCommon {
  /** Seconds before the first key (0: the reader's default). */
  readonly timerOut: number;
  /** Seconds after the first key. */
  readonly timerOut2: number;
  /** bit 7 units (1 = bytes), bits 6..3 PIN position, bit 2 right-justify, bits 1..0 format (0 bin, 1 BCD, 2 ASCII). */
  readonly formatString: number;
  /** bits 7..4 size in bits of the PIN length field, bits 3..0 PIN block size in bytes. */
  readonly pinBlockString: number;
  /** bit 4 units (1 = bytes), bits 3..0 PIN length position. */
  readonly pinLengthFormat: number;
  readonly minPinDigits: number;
  readonly maxPinDigits: number;
  /** bit 0 max size reached, bit 1 validation key pressed, bit 2 timeout. */
  readonly entryValidationCondition: number;
  readonly numberMessage: number;
  /** Windows LANGID; 0x0804 = zh-CN. */
  readonly langId: number;
  readonly teoPrologue: readonly [number, number, number];
  /** The APDU the reader completes with the PIN and sends to the card. */
  readonly apdu: Buffer;
}

export interface PinVerifyStructure extends PinStructureCommon {
  readonly msgIndex: number;
}

export interface PinModifyStructure extends PinStructureCommon {
  /** Offset (bytes, in the APDU data) where the old PIN goes. */
  readonly insertionOffsetOld: number;
  /** Offset where the new PIN goes. */
  readonly insertionOffsetNew: number;
  /** bit 0 confirm the new PIN, bit 1 enter the current PIN. */
  readonly confirmPin: number;
  readonly msgIndex1: number;
  readonly msgIndex2: number;
  readonly msgIndex3: number;
}

export const PIN_VERIFY_HEADER = 19;
export const PIN_MODIFY_HEADER = 24;

function checkByte(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) {
    throw new SsCardError(ErrorCode.Input_BadOption, { zh: `字段 ${name} 必须是 0–255 的整数，实际为 ${String(v)}`, en: `field ${name} must be an integer 0..255, got ${String(v)}` }, { field: name });
  }
}

function checkCommon(s: PinStructureCommon): void {
  for (const k of ['timerOut', 'timerOut2', 'formatString', 'pinBlockString', 'pinLengthFormat', 'minPinDigits', 'maxPinDigits', 'entryValidationCondition', 'numberMessage'] as const) checkByte(k, s[k]);
  if (!Number.isInteger(s.langId) || s.langId < 0 || s.langId > 0xffff) checkByte('langId', -1);
  s.teoPrologue.forEach((b, i) => checkByte(`teoPrologue[${i}]`, b));
  if (!(s.apdu instanceof Uint8Array) || s.apdu.length < 4 || s.apdu.length > 261) {
    throw new SsCardError(ErrorCode.Input_BadApdu, { zh: '结构中的 APDU 长度必须在 4–261 字节之间', en: 'the APDU in the structure must be 4..261 bytes' }, { field: 'apdu' });
  }
}

/** PIN_VERIFY_STRUCTURE: 19 header bytes then the APDU. */
export function encodePinVerify(s: PinVerifyStructure): Buffer {
  checkCommon(s);
  checkByte('msgIndex', s.msgIndex);
  const out = Buffer.alloc(PIN_VERIFY_HEADER + s.apdu.length);
  out[0] = s.timerOut;
  out[1] = s.timerOut2;
  out[2] = s.formatString;
  out[3] = s.pinBlockString;
  out[4] = s.pinLengthFormat;
  out.writeUInt16LE((s.minPinDigits << 8) | s.maxPinDigits, 5); // wPINMaxExtraDigit = XXYY, min XX max YY
  out[7] = s.entryValidationCondition;
  out[8] = s.numberMessage;
  out.writeUInt16LE(s.langId, 9);
  out[11] = s.msgIndex;
  out[12] = s.teoPrologue[0];
  out[13] = s.teoPrologue[1];
  out[14] = s.teoPrologue[2];
  out.writeUInt32LE(s.apdu.length, 15);
  Buffer.from(s.apdu).copy(out, PIN_VERIFY_HEADER);
  return out;
}

/** PIN_MODIFY_STRUCTURE: 24 header bytes then the APDU. */
export function encodePinModify(s: PinModifyStructure): Buffer {
  checkCommon(s);
  for (const k of ['insertionOffsetOld', 'insertionOffsetNew', 'confirmPin', 'msgIndex1', 'msgIndex2', 'msgIndex3'] as const) checkByte(k, s[k]);
  const out = Buffer.alloc(PIN_MODIFY_HEADER + s.apdu.length);
  out[0] = s.timerOut;
  out[1] = s.timerOut2;
  out[2] = s.formatString;
  out[3] = s.pinBlockString;
  out[4] = s.pinLengthFormat;
  out[5] = s.insertionOffsetOld;
  out[6] = s.insertionOffsetNew;
  out.writeUInt16LE((s.minPinDigits << 8) | s.maxPinDigits, 7);
  out[9] = s.confirmPin;
  out[10] = s.entryValidationCondition;
  out[11] = s.numberMessage;
  out.writeUInt16LE(s.langId, 12);
  out[14] = s.msgIndex1;
  out[15] = s.msgIndex2;
  out[16] = s.msgIndex3;
  out[17] = s.teoPrologue[0];
  out[18] = s.teoPrologue[1];
  out[19] = s.teoPrologue[2];
  out.writeUInt32LE(s.apdu.length, 20);
  Buffer.from(s.apdu).copy(out, PIN_MODIFY_HEADER);
  return out;
}

function badStructure(name: string, what: string, zh: string): SsCardError {
  return new SsCardError(ErrorCode.PinPad_Protocol, { zh: `${name} 结构无效：${zh}`, en: `invalid ${name}: ${what}` }, { structure: name });
}

function apduOf(name: string, data: Uint8Array, header: number): Buffer {
  if (data.length < header) throw badStructure(name, `${data.length} bytes, shorter than its ${header}-byte header`, `只有 ${data.length} 字节，短于 ${header} 字节的头部`);
  const b = Buffer.from(data);
  const len = b.readUInt32LE(header - 4);
  if (len !== b.length - header) throw badStructure(name, `ulDataLength ${len} but ${b.length - header} APDU bytes follow`, `ulDataLength 为 ${len}，但其后有 ${b.length - header} 字节`);
  if (len < 4) throw badStructure(name, `APDU of ${len} bytes`, `APDU 只有 ${len} 字节`);
  return b.subarray(header);
}

export function decodePinVerify(data: Uint8Array): PinVerifyStructure {
  const apdu = apduOf('PIN_VERIFY_STRUCTURE', data, PIN_VERIFY_HEADER);
  const b = Buffer.from(data);
  const w = b.readUInt16LE(5);
  return {
    timerOut: b[0]!,
    timerOut2: b[1]!,
    formatString: b[2]!,
    pinBlockString: b[3]!,
    pinLengthFormat: b[4]!,
    minPinDigits: w >> 8,
    maxPinDigits: w & 0xff,
    entryValidationCondition: b[7]!,
    numberMessage: b[8]!,
    langId: b.readUInt16LE(9),
    msgIndex: b[11]!,
    teoPrologue: [b[12]!, b[13]!, b[14]!],
    apdu: Buffer.from(apdu),
  };
}

export function decodePinModify(data: Uint8Array): PinModifyStructure {
  const apdu = apduOf('PIN_MODIFY_STRUCTURE', data, PIN_MODIFY_HEADER);
  const b = Buffer.from(data);
  const w = b.readUInt16LE(7);
  return {
    timerOut: b[0]!,
    timerOut2: b[1]!,
    formatString: b[2]!,
    pinBlockString: b[3]!,
    pinLengthFormat: b[4]!,
    insertionOffsetOld: b[5]!,
    insertionOffsetNew: b[6]!,
    minPinDigits: w >> 8,
    maxPinDigits: w & 0xff,
    confirmPin: b[9]!,
    entryValidationCondition: b[10]!,
    numberMessage: b[11]!,
    langId: b.readUInt16LE(12),
    msgIndex1: b[14]!,
    msgIndex2: b[15]!,
    msgIndex3: b[16]!,
    teoPrologue: [b[17]!, b[18]!, b[19]!],
    apdu: Buffer.from(apdu),
  };
}

// ---------------------------------------------------------------------------------------------
// The SSSE structures: VERIFY and CHANGE PIN with BCD, F-padded PINs (docs/domain.md §2)
// ---------------------------------------------------------------------------------------------

/** zh-CN LANGID. */
export const LANG_ZH_CN = 0x0804;

/**
 * bmFormatString for the SSSE commands: units bytes (bit 7), PIN at position 0 of the data
 * (bits 6..3), left-justified (bit 2 = 0), BCD (bits 1..0 = 01) → 0x81, as OpenSC builds for
 * SC_PIN_ENCODING_BCD.
 */
export const SSSE_FORMAT_STRING = 0x81;

export interface SsseStructureOptions {
  /** PIN digits; the SSSE PIN is exactly 6 (default), so min = max = 6. */
  readonly pinLength?: number;
  /** bTimerOut / bTimerOut2 in seconds (default 30, OpenSC's SC_CCID_PIN_TIMEOUT). */
  readonly timeoutS?: number;
  /** The reader has a display: show its messages (default false, as OpenSC without SC_READER_CAP_DISPLAY). */
  readonly display?: boolean;
  readonly langId?: number;
}

function ssseCommon(o: SsseStructureOptions): { len: number; block: number; t: number } {
  const len = o.pinLength ?? 6;
  if (!Number.isInteger(len) || len < 4 || len > 12 || len % 2 !== 0) {
    throw new SsCardError(
      ErrorCode.Input_BadOption,
      { zh: `选项 pinLength 必须是 4–12 之间的偶数（BCD 整字节，社保卡为 6），实际为 ${String(len)}`, en: `option pinLength must be an even number 4..12 (whole BCD bytes; 6 on the social security card), got ${String(len)}` },
      { option: 'pinLength' },
    );
  }
  const t = o.timeoutS ?? 30;
  if (!Number.isInteger(t) || t < 1 || t > 255) {
    throw new SsCardError(ErrorCode.Input_BadOption, { zh: `选项 timeoutS 必须是 1–255 的整数秒，实际为 ${String(t)}`, en: `option timeoutS must be an integer 1..255 seconds, got ${String(t)}` }, { option: 'timeoutS' });
  }
  return { len, block: len / 2, t };
}

/**
 * FEATURE_VERIFY_PIN_DIRECT for the SSSE VERIFY `00 20 00 00 03 FF FF FF`: the reader writes the
 * six digits as BCD over the three `FF`s (block size 3, no length field).
 */
export function ssseVerifyStructure(o: SsseStructureOptions = {}): Buffer {
  const { len, block, t } = ssseCommon(o);
  const apdu = Buffer.concat([Buffer.from([0x00, 0x20, 0x00, 0x00, block]), Buffer.alloc(block, 0xff)]);
  return encodePinVerify({
    timerOut: t,
    timerOut2: t,
    formatString: SSSE_FORMAT_STRING,
    pinBlockString: block, // bits 7..4 = 0: no PIN length field; bits 3..0: block bytes
    pinLengthFormat: 0x00,
    minPinDigits: len,
    maxPinDigits: len,
    entryValidationCondition: 0x02, // validation key pressed
    numberMessage: o.display === true ? 0x01 : 0x00,
    langId: o.langId ?? LANG_ZH_CN,
    msgIndex: 0x00,
    teoPrologue: [0, 0, 0],
    apdu,
  });
}

/**
 * FEATURE_MODIFY_PIN_DIRECT for the SSSE CHANGE PIN `80 5E 01 00 07 FF FF FF FF FF FF FF`:
 * old PIN at data offset 0, the `FF` separator at 3 stays, new PIN at offset 4; the holder enters
 * the old PIN, the new one, and confirms it (bConfirmPIN 03).
 */
export function ssseModifyStructure(o: SsseStructureOptions = {}): Buffer {
  const { len, block, t } = ssseCommon(o);
  const lc = block * 2 + 1;
  const apdu = Buffer.concat([Buffer.from([0x80, 0x5e, 0x01, 0x00, lc]), Buffer.alloc(lc, 0xff)]);
  return encodePinModify({
    timerOut: t,
    timerOut2: t,
    formatString: SSSE_FORMAT_STRING,
    pinBlockString: block,
    pinLengthFormat: 0x00,
    insertionOffsetOld: 0,
    insertionOffsetNew: block + 1,
    minPinDigits: len,
    maxPinDigits: len,
    confirmPin: 0x03,
    entryValidationCondition: 0x02,
    numberMessage: o.display === true ? 0x03 : 0x00,
    langId: o.langId ?? LANG_ZH_CN,
    msgIndex1: 0x00,
    msgIndex2: 0x01,
    msgIndex3: 0x02,
    teoPrologue: [0, 0, 0],
    apdu,
  });
}

// ---------------------------------------------------------------------------------------------
// IFD_PIN_PROPERTIES and GET_TLV_PROPERTIES
// ---------------------------------------------------------------------------------------------

export interface PinProperties {
  /** LCD layout: high byte lines, low byte characters per line; 0 = no LCD. */
  readonly lcdLayout: number;
  readonly entryValidationCondition: number;
  readonly timeOut2: number;
}

/** PIN_PROPERTIES_STRUCTURE: wLcdLayout (LE) | bEntryValidationCondition | bTimeOut2. */
export function parsePinProperties(data: Uint8Array): PinProperties {
  if (!(data instanceof Uint8Array) || data.length !== 4) {
    throw protocolError(`PIN_PROPERTIES_STRUCTURE of ${data instanceof Uint8Array ? data.length : 0} bytes, not 4`, 'PIN_PROPERTIES_STRUCTURE 长度不是 4 字节');
  }
  return { lcdLayout: data[0]! | (data[1]! << 8), entryValidationCondition: data[2]!, timeOut2: data[3]! };
}

export function encodePinProperties(p: PinProperties): Buffer {
  return Buffer.from([p.lcdLayout & 0xff, (p.lcdLayout >> 8) & 0xff, p.entryValidationCondition & 0xff, p.timeOut2 & 0xff]);
}

export interface TlvProperties {
  /** Numeric properties (1, 2 or 4 bytes, little-endian) by tag. */
  readonly numbers: ReadonlyMap<number, number>;
  /** sFirmwareID and other byte strings by tag. */
  readonly strings: ReadonlyMap<number, Buffer>;
  readonly minPinSize?: number;
  readonly maxPinSize?: number;
  readonly lcdLayout?: number;
  readonly firmwareId?: string;
  readonly vendorId?: number;
  readonly productId?: number;
}

/**
 * GET_TLV_PROPERTIES answer: `tag | len | value` (len 1/2/4 for numbers, any for sFirmwareID).
 * Throws PinPad_Protocol on truncation.
 */
export function parseTlvProperties(data: Uint8Array): TlvProperties {
  if (!(data instanceof Uint8Array)) throw protocolError('not bytes', '不是字节数组');
  const numbers = new Map<number, number>();
  const strings = new Map<number, Buffer>();
  let i = 0;
  while (i < data.length) {
    if (i + 2 > data.length) throw protocolError(`property list truncated at byte ${i}`, `属性列表在第 ${i} 字节处被截断`, { offset: i });
    const tag = data[i]!;
    const len = data[i + 1]!;
    if (i + 2 + len > data.length) throw protocolError(`property 0x${tag.toString(16)} truncated`, `属性 0x${tag.toString(16)} 被截断`, { tag, offset: i });
    const v = Buffer.from(data.subarray(i + 2, i + 2 + len));
    if (tag === Property.sFirmwareID || (len !== 1 && len !== 2 && len !== 4)) strings.set(tag, v);
    else numbers.set(tag, len === 1 ? v[0]! : len === 2 ? v.readUInt16LE(0) : v.readUInt32LE(0));
    i += 2 + len;
  }
  const fw = strings.get(Property.sFirmwareID);
  const out: { -readonly [K in keyof TlvProperties]: TlvProperties[K] } = { numbers, strings };
  const min = numbers.get(Property.bMinPINSize);
  const max = numbers.get(Property.bMaxPINSize);
  const lcd = numbers.get(Property.wLcdLayout);
  const vid = numbers.get(Property.wIdVendor);
  const pid = numbers.get(Property.wIdProduct);
  if (min !== undefined) out.minPinSize = min;
  if (max !== undefined) out.maxPinSize = max;
  if (lcd !== undefined) out.lcdLayout = lcd;
  if (fw !== undefined) out.firmwareId = fw.toString('latin1');
  if (vid !== undefined) out.vendorId = vid;
  if (pid !== undefined) out.productId = pid;
  return out;
}

/** Encode properties: numbers with the width Part 10 gives their tag (w… 2, dw… 4, b… 1). */
export function encodeTlvProperties(numbers: ReadonlyMap<number, number>, strings: ReadonlyMap<number, Uint8Array> = new Map()): Buffer {
  const parts: Buffer[] = [];
  for (const [tag, value] of numbers) {
    const width = tag === Property.dwMaxAPDUDataSize ? 4 : [Property.wLcdLayout, Property.wLcdMaxCharacters, Property.wLcdMaxLines, Property.wIdVendor, Property.wIdProduct].includes(tag as 1) ? 2 : 1;
    const v = Buffer.alloc(width);
    if (width === 1) v[0] = value & 0xff;
    else if (width === 2) v.writeUInt16LE(value & 0xffff, 0);
    else v.writeUInt32LE(value >>> 0, 0);
    parts.push(Buffer.from([tag, width]), v);
  }
  for (const [tag, value] of strings) parts.push(Buffer.from([tag, value.length]), Buffer.from(value));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// Outcome of a secure PIN command
// ---------------------------------------------------------------------------------------------

/**
 * Turn the reader's answer to VERIFY/MODIFY_PIN_DIRECT into the card's SW, or throw the clear
 * error for the reader's own status words: 6400 timeout, 6401 cancelled, 6402 the two new PINs
 * differ, 6403 length out of range, 6B80 structure rejected. An answer that is not exactly SW1 SW2
 * is PinPad_Protocol.
 */
export function secureOutcome(reader: string, response: Uint8Array): number {
  if (!(response instanceof Uint8Array) || response.length !== 2) {
    throw protocolError(`expected SW1 SW2, got ${response instanceof Uint8Array ? response.length : 0} bytes`, '应答不是 2 字节的状态字');
  }
  const sw = (response[0]! << 8) | response[1]!;
  switch (sw) {
    case ReaderSw.TIMEOUT:
      throw new SsCardError(ErrorCode.PinPad_Timeout, { zh: '密码输入超时（读卡器键盘 6400）：请重新开始并在键盘上输入密码', en: 'PIN entry timed out (reader keypad 6400): start again and type the PIN on the pad' }, { reader, sw });
    case ReaderSw.CANCELLED:
      throw new SsCardError(ErrorCode.PinPad_Cancelled, { zh: '持卡人在读卡器键盘上取消了密码输入（6401）', en: 'the holder cancelled PIN entry on the reader keypad (6401)' }, { reader, sw });
    case ReaderSw.MISMATCH:
      throw new SsCardError(ErrorCode.PinPad_Mismatch, { zh: '两次输入的新密码不一致（6402）：请重新修改密码', en: 'the two new PINs differ (6402): change the PIN again' }, { reader, sw });
    case ReaderSw.LENGTH:
      throw new SsCardError(ErrorCode.PinPad_BadLength, { zh: '输入的密码位数不对（6403）：社保卡密码为 6 位数字，请重新输入', en: 'the PIN entered has the wrong number of digits (6403): the card PIN is 6 digits, enter it again' }, { reader, sw });
    case ReaderSw.BAD_STRUCTURE:
      throw new SsCardError(ErrorCode.PinPad_Protocol, { zh: '读卡器拒绝了安全输入参数（6B80）：请检查读卡器型号是否支持', en: 'the reader rejected the secure PIN entry parameters (6B80): check that the reader model supports them' }, { reader, sw });
    default:
      return sw;
  }
}
