/**
 * The identity document's base information as the ID SAM's READ BASE INFO (`30 01`) returns it:
 *
 *   text length (2, BE) | photo length (2, BE) | text (256) | photo (1024, WLT, opaque)
 *
 * The text is UCS-2LE in fixed-width fields, space-padded (GA 467; reader SDK structs agree). The
 * same SAM reads four documents; the character at bytes 248–249 of the text says which (the
 * resident ID card has a space there, in its reserved field):
 *
 * 居民身份证 (resident ID card; flag space):
 *
 * | field | chars | bytes |
 * |---|---|---|
 * | 姓名 name | 15 | 30 |
 * | 性别 sex code (GB/T 2261.1: 0 unknown, 1 male, 2 female, 9 unspecified) | 1 | 2 |
 * | 民族 nation code (GB 3304, 2 digits) | 2 | 4 |
 * | 出生日期 birth YYYYMMDD | 8 | 16 |
 * | 住址 address | 35 | 70 |
 * | 公民身份号码 ID number | 18 | 36 |
 * | 签发机关 issuing authority | 15 | 30 |
 * | 有效期起始 valid from YYYYMMDD | 8 | 16 |
 * | 有效期截止 valid to YYYYMMDD or 长期 | 8 | 16 |
 * | 保留 reserved | 18 | 36 |
 *
 * 港澳台居民居住证 (residence permit for Hong Kong, Macao and Taiwan residents; flag `J`): the
 * resident ID card's fields, the nation field reserved, then 通行证号码 pass number (9 chars, 18
 * bytes), 签发次数 issue count (2, 4), reserved (3, 6), the flag (1, 2), reserved (3, 6). Its
 * 公民身份号码 has the resident ID card's form (GB 11643), starting 81 (Hong Kong), 82 (Macao) or
 * 83 (Taiwan).
 *
 * 外国人永久居留身份证, 2017 edition (foreign permanent resident ID card; flag `I`): English name
 * (60 chars, 120 bytes), sex (1, 2), 永久居留证号码 number (15, 30: a 3-letter nationality code and
 * 12 digits), 国籍 nationality (ISO 3166-1 alpha-3, 3, 6), Chinese name (15, 30), valid from (8,
 * 16), valid to (8, 16), birth (8, 16), 证件版本号 version (2, 4), 受理机关代码 authority code (4, 8),
 * the flag (1, 2), reserved (3, 6).
 *
 * 外国人永久居留身份证, 2023 edition (flag `Y`): Chinese name (15, 30), sex (1, 2), 换证次数
 * renewals (2, 4), birth (8, 16), English name characters 1–35 (35, 70), number (18, 36: the
 * resident ID card's form, GB 11643, starting 9), reserved (15, 30), valid from (8, 16), valid to
 * (8, 16), English name characters 36–46 (11, 22), nationality (3, 6), the flag (1, 2), the
 * 2017 edition's number link (3, 6).
 *
 * Any other flag is a document this module cannot read: IdCard_UnsupportedDocument, so a service
 * refuses it with that reason instead of taking the wrong fields (seed 000_1700379f35991b5f.txt
 * 申请条件 一 names these holders: residents of Hong Kong, Macao and Taiwan, and foreigners).
 */
import { ErrorCode, SsCardError } from '../../core/errors.js';

export const TEXT_LENGTH = 256;
export const PHOTO_LENGTH = 1024;

/** Field widths in bytes, in order: the resident ID card's text. */
export const FIELDS = [
  ['name', 30],
  ['sex', 2],
  ['nation', 4],
  ['birth', 16],
  ['address', 70],
  ['idNumber', 36],
  ['authority', 30],
  ['validFrom', 16],
  ['validTo', 16],
  ['reserved', 36],
] as const;

/** The documents the ID SAM reads, by the flag at bytes 248–249 of the text. */
export const DOCUMENT_TYPES = ['residentId', 'residencePermit', 'foreignPermanent2017', 'foreignPermanent2023'] as const;
export type IdDocumentType = (typeof DOCUMENT_TYPES)[number];

const FLAG_OF: Readonly<Record<IdDocumentType, string>> = { residentId: ' ', residencePermit: 'J', foreignPermanent2017: 'I', foreignPermanent2023: 'Y' };

/** Each document's name, for what a person reads. */
export const DOCUMENT_NAMES: Readonly<Record<IdDocumentType, { readonly zh: string; readonly en: string }>> = {
  residentId: { zh: '居民身份证', en: 'resident ID card' },
  residencePermit: { zh: '港澳台居民居住证', en: 'residence permit for Hong Kong, Macao and Taiwan residents' },
  foreignPermanent2017: { zh: '外国人永久居留身份证', en: 'foreign permanent resident ID card' },
  foreignPermanent2023: { zh: '外国人永久居留身份证', en: 'foreign permanent resident ID card' },
};

/**
 * Where each document is renewed: the resident ID card and the residence permit by the public
 * security bureau (公安机关), the foreigners' card by the immigration administration (移民管理机构).
 */
export const DOCUMENT_RENEWED_AT: Readonly<Record<IdDocumentType, { readonly zh: string; readonly en: string }>> = {
  residentId: { zh: '公安机关', en: 'the public security bureau' },
  residencePermit: { zh: '公安机关', en: 'the public security bureau' },
  foreignPermanent2017: { zh: '移民管理机构', en: 'the immigration administration' },
  foreignPermanent2023: { zh: '移民管理机构', en: 'the immigration administration' },
};

/** A document's name and where it is renewed, for what a person reads (state/id-card-validity.ts). */
export function idDocumentText(type: IdDocumentType): { readonly name: { zh: string; en: string }; readonly renewAt: { zh: string; en: string } } {
  return { name: { ...DOCUMENT_NAMES[type] }, renewAt: { ...DOCUMENT_RENEWED_AT[type] } };
}

/** Field layouts of the other documents (see the table above); bytes, in order, 256 in all. */
const LAYOUTS: Readonly<Record<Exclude<IdDocumentType, 'residentId'>, readonly (readonly [string, number])[]>> = {
  residencePermit: [['name', 30], ['sex', 2], ['reserved1', 4], ['birth', 16], ['address', 70], ['idNumber', 36], ['authority', 30], ['validFrom', 16], ['validTo', 16], ['passNumber', 18], ['issueCount', 4], ['reserved2', 6], ['flag', 2], ['reserved3', 6]],
  foreignPermanent2017: [['englishName', 120], ['sex', 2], ['idNumber', 30], ['nationality', 6], ['name', 30], ['validFrom', 16], ['validTo', 16], ['birth', 16], ['version', 4], ['authority', 8], ['flag', 2], ['reserved', 6]],
  foreignPermanent2023: [['name', 30], ['sex', 2], ['renewals', 4], ['birth', 16], ['englishName', 70], ['idNumber', 36], ['reserved', 30], ['validFrom', 16], ['validTo', 16], ['englishName2', 22], ['nationality', 6], ['flag', 2], ['link', 6]],
};

/** Byte offset of the document flag in the text. */
const FLAG_AT = 248;

export type IdTextField = (typeof FIELDS)[number][0];

/** GB 3304 nation codes. */
export const NATIONS: Readonly<Record<string, string>> = {
  '01': '汉', '02': '蒙古', '03': '回', '04': '藏', '05': '维吾尔', '06': '苗', '07': '彝', '08': '壮', '09': '布依', '10': '朝鲜',
  '11': '满', '12': '侗', '13': '瑶', '14': '白', '15': '土家', '16': '哈尼', '17': '哈萨克', '18': '傣', '19': '黎', '20': '傈僳',
  '21': '佤', '22': '畲', '23': '高山', '24': '拉祜', '25': '水', '26': '东乡', '27': '纳西', '28': '景颇', '29': '柯尔克孜', '30': '土',
  '31': '达斡尔', '32': '仫佬', '33': '羌', '34': '布朗', '35': '撒拉', '36': '毛南', '37': '仡佬', '38': '锡伯', '39': '阿昌', '40': '普米',
  '41': '塔吉克', '42': '怒', '43': '乌孜别克', '44': '俄罗斯', '45': '鄂温克', '46': '德昂', '47': '保安', '48': '裕固', '49': '京', '50': '塔塔尔',
  '51': '独龙', '52': '鄂伦春', '53': '赫哲', '54': '门巴', '55': '珞巴', '56': '基诺', '97': '其他', '98': '外国血统中国籍人士',
};

const SEX: Readonly<Record<string, string>> = { '0': '未知', '1': '男', '2': '女', '9': '未说明' };

export interface IdCardInfo {
  /** Which document was read (its flag in the text). */
  readonly documentType: IdDocumentType;
  /** The name in Chinese; a foreigner's English name when the card holds no Chinese one. */
  readonly name: string;
  /** GB/T 2261.1 code: '1' male, '2' female… */
  readonly sex: string;
  readonly sexText: string;
  /** GB 3304 code, '01' = 汉; '' on documents without one (residence permit, foreigners' cards). */
  readonly nation: string;
  readonly nationText: string;
  /** YYYY-MM-DD. */
  readonly birthDate: string;
  /** '' on foreigners' cards (they hold none). */
  readonly address: string;
  /**
   * The document's number, upper-case: 公民身份号码 (18 characters) on the resident ID card and the
   * residence permit, 永久居留证号码 on foreigners' cards (15 characters in the 2017 edition, 18 in
   * the 2023 one). A social security card issued on the document holds it as 社会保障号码.
   */
  readonly idNumber: string;
  /**
   * The number has its document's form and, where the document defines one, the right GB 11643
   * check character (all but the 2017 foreigners' card, whose number is checked for its form only).
   */
  readonly idNumberValid: boolean;
  /** 签发机关; the 受理机关代码 on the 2017 foreigners' card; '' on the 2023 one. */
  readonly authority: string;
  /** YYYY-MM-DD. */
  readonly validFrom: string;
  /** YYYY-MM-DD, or '长期' (long-term). */
  readonly validTo: string;
  /** Foreigners' cards: the English name (both parts of the 2023 edition joined). */
  readonly englishName?: string;
  /** Foreigners' cards: 国籍, ISO 3166-1 alpha-3. */
  readonly nationality?: string;
  /** Residence permit: 通行证号码 (the Mainland travel permit's number). */
  readonly passNumber?: string;
  /** Residence permit: 签发次数. */
  readonly issueCount?: string;
  /** The WLT-compressed photo, opaque (decoding it needs the vendor's licensed library). */
  readonly photo: Buffer;
}

// ---- 公民身份号码 (GB 11643) ----

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';

/** ISO 7064 MOD 11-2 check character of the first 17 digits; undefined unless 17 digits. */
export function idCheckChar(first17: string): string | undefined {
  if (!/^\d{17}$/.test(first17)) return undefined;
  let s = 0;
  for (let i = 0; i < 17; i++) s += (first17.charCodeAt(i) - 0x30) * WEIGHTS[i]!;
  return CHECK[s % 11];
}

/** 18 characters, digits then a digit or X, with the right check character. */
export function isValidIdNumber(id: string): boolean {
  if (typeof id !== 'string' || !/^\d{17}[\dXx]$/.test(id)) return false;
  return idCheckChar(id.slice(0, 17)) === id[17]!.toUpperCase();
}

/** Does the ID card belong to the holder of a social security card (社会保障号码 = 公民身份号码)? */
export function matchesSocialSecurityNumber(info: Pick<IdCardInfo, 'idNumber'>, ssn: string): boolean {
  return typeof ssn === 'string' && info.idNumber.toUpperCase() === ssn.trim().toUpperCase();
}

// ---- codec ----

function badData(what: string, zh: string, context: Record<string, unknown> = {}): SsCardError {
  return new SsCardError(
    ErrorCode.IdCard_BadData,
    { zh: `身份证信息格式不对（${zh}）：请把身份证重新放在读卡器上再读一次`, en: `the ID card data is malformed (${what}): place the card on the reader again and read once more` },
    context,
  );
}

/** Drop the trailing spaces and NULs that pad a fixed-width field. */
function trimPadding(s: string): string {
  let end = s.length;
  while (end > 0 && (s.charCodeAt(end - 1) === 0 || /\s/.test(s[end - 1]!))) end--;
  return s.slice(0, end);
}

function date(s: string, field: string): string {
  if (!/^\d{8}$/.test(s)) throw badData(`${field} is not YYYYMMDD`, `${field} 不是 YYYYMMDD 格式`, { field });
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}`;
}

function fieldsOf(text: Buffer, layout: readonly (readonly [string, number])[]): Record<string, string> {
  const f: Record<string, string> = {};
  let at = 0;
  for (const [name, width] of layout) {
    f[name] = trimPadding(text.toString('utf16le', at, at + width));
    at += width;
  }
  return f;
}

/** The document a text is, from its flag; undefined for a flag this module does not know. */
export function documentTypeOf(text: Uint8Array): IdDocumentType | undefined {
  const flag = Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('utf16le', FLAG_AT, FLAG_AT + 2);
  if (flag === '\u0000') return 'residentId';
  return DOCUMENT_TYPES.find((t) => FLAG_OF[t] === flag);
}

/** The number's form per document (see {@link IdCardInfo.idNumber}). */
const NUMBER_FORM: Readonly<Record<IdDocumentType, { readonly re: RegExp; readonly zh: string; readonly en: string }>> = {
  residentId: { re: /^\d{17}[\dX]$/, zh: '公民身份号码不是 18 位数字（末位可为 X）', en: 'the ID number is not 18 characters of digits (and X)' },
  residencePermit: { re: /^8[123]\d{15}[\dX]$/, zh: '居住证的公民身份号码不是以 81、82 或 83 开头的 18 位号码', en: 'the residence permit number is not 18 characters starting 81, 82 or 83' },
  foreignPermanent2017: { re: /^[A-Z]{3}\d{12}$/, zh: '永久居留证号码不是 3 个字母加 12 位数字', en: 'the permanent residence number is not 3 letters and 12 digits' },
  foreignPermanent2023: { re: /^9\d{16}[\dX]$/, zh: '永久居留证号码不是以 9 开头的 18 位号码', en: 'the permanent residence number is not 18 characters starting 9' },
};

/**
 * Parse the data of a READ BASE INFO response. Throws IdCard_BadData for malformed data and
 * IdCard_UnsupportedDocument for a document flag it does not know; keeps the photo opaque.
 */
export function parseBaseInfo(data: Uint8Array): IdCardInfo {
  if (!(data instanceof Uint8Array) || data.length < 4) throw badData('shorter than the two length fields', '不足 4 字节');
  const b = Buffer.from(data);
  const textLen = b.readUInt16BE(0);
  const photoLen = b.readUInt16BE(2);
  if (textLen !== TEXT_LENGTH) throw badData(`text length ${textLen}, not ${TEXT_LENGTH}`, `文字信息长度为 ${textLen}，应为 ${TEXT_LENGTH}`, { textLen });
  if (b.length !== 4 + textLen + photoLen) throw badData(`${b.length} bytes, but the lengths say ${4 + textLen + photoLen}`, `共 ${b.length} 字节，与长度字段 ${4 + textLen + photoLen} 不符`, { length: b.length });
  const text = b.subarray(4, 4 + textLen);
  const type = documentTypeOf(text);
  if (type === undefined) throw unsupported(text.toString('utf16le', FLAG_AT, FLAG_AT + 2));
  const f = type === 'residentId' ? fieldsOf(text, FIELDS) : fieldsOf(text, LAYOUTS[type]);
  const idNumber = (f['idNumber'] ?? '').toUpperCase();
  const form = NUMBER_FORM[type];
  if (!form.re.test(idNumber)) throw badData(form.en, form.zh, { field: 'idNumber' });
  const sex = f['sex'] ?? '';
  const nation = type === 'residentId' ? (f['nation'] ?? '') : '';
  const validToRaw = f['validTo'] ?? '';
  const englishName = type === 'foreignPermanent2023' ? `${f['englishName'] ?? ''}${f['englishName2'] ?? ''}` : f['englishName'];
  const name = f['name'] ?? '';
  return {
    documentType: type,
    name: name === '' && englishName !== undefined ? englishName : name,
    sex,
    sexText: SEX[sex] ?? '未知',
    nation,
    nationText: nation === '' ? '' : (NATIONS[nation] ?? '未知'),
    birthDate: date(f['birth'] ?? '', 'birth'),
    address: f['address'] ?? '',
    idNumber,
    idNumberValid: type === 'foreignPermanent2017' ? true : isValidIdNumber(idNumber),
    authority: f['authority'] ?? '',
    validFrom: date(f['validFrom'] ?? '', 'validFrom'),
    validTo: validToRaw.startsWith('长期') ? '长期' : date(validToRaw, 'validTo'),
    ...(englishName === undefined ? {} : { englishName }),
    ...(f['nationality'] === undefined ? {} : { nationality: f['nationality'] }),
    ...(f['passNumber'] === undefined ? {} : { passNumber: f['passNumber'] }),
    ...(f['issueCount'] === undefined ? {} : { issueCount: f['issueCount'] }),
    photo: Buffer.from(b.subarray(4 + textLen)),
  };
}

function unsupported(flag: string): SsCardError {
  const shown = /^[\x21-\x7e]$/.test(flag) ? flag : `U+${(flag.charCodeAt(0) || 0).toString(16).toUpperCase().padStart(4, '0')}`;
  return new SsCardError(
    ErrorCode.IdCard_UnsupportedDocument,
    {
      zh: `读卡器读到的证件（类型标识 ${shown}）不是本终端能核验的证件：请使用居民身份证、港澳台居民居住证或外国人永久居留身份证，或到服务窗口办理`,
      en: `the document on the reader (type flag ${shown}) is not one this terminal can check: use a resident ID card, a residence permit for Hong Kong, Macao and Taiwan residents or a foreign permanent resident ID card, or go to a service window`,
    },
    { flag: shown },
  );
}

/** What {@link encodeBaseInfo} needs (dates as YYYY-MM-DD or YYYYMMDD). */
export interface IdCardText {
  /** Default the resident ID card. */
  readonly documentType?: IdDocumentType;
  readonly name: string;
  readonly sex: string;
  /** '' on documents without one. */
  readonly nation: string;
  readonly birthDate: string;
  readonly address: string;
  readonly idNumber: string;
  readonly authority: string;
  readonly validFrom: string;
  readonly validTo: string;
  readonly englishName?: string;
  readonly nationality?: string;
  readonly passNumber?: string;
  readonly issueCount?: string;
}

/** Build READ BASE INFO data (the simulator answers with it). Throws Input_BadLength for a field too long. */
export function encodeBaseInfo(t: IdCardText, photo: Uint8Array = Buffer.alloc(PHOTO_LENGTH)): Buffer {
  const type = t.documentType ?? 'residentId';
  const english = t.englishName ?? '';
  const values: Record<string, string> = {
    name: t.name,
    sex: t.sex,
    nation: t.nation,
    birth: t.birthDate.replace(/-/g, ''),
    address: t.address,
    idNumber: t.idNumber,
    authority: t.authority,
    validFrom: t.validFrom.replace(/-/g, ''),
    validTo: t.validTo === '长期' ? '长期' : t.validTo.replace(/-/g, ''),
    englishName: type === 'foreignPermanent2023' ? english.slice(0, 35) : english,
    englishName2: english.slice(35),
    nationality: t.nationality ?? '',
    passNumber: t.passNumber ?? '',
    issueCount: t.issueCount ?? '',
    flag: FLAG_OF[type],
  };
  const layout = type === 'residentId' ? FIELDS : LAYOUTS[type];
  const text = Buffer.alloc(TEXT_LENGTH);
  let at = 0;
  for (const [name, width] of layout) {
    const v = Buffer.from(values[name] ?? '', 'utf16le');
    if (v.length > width) {
      throw new SsCardError(ErrorCode.Input_BadLength, { zh: `字段 ${name} 超长：最多 ${width / 2} 个字`, en: `field ${name} is too long: at most ${width / 2} characters` }, { field: name });
    }
    v.copy(text, at);
    for (let i = at + v.length; i < at + width; i += 2) text.writeUInt16LE(0x20, i);
    at += width;
  }
  const head = Buffer.alloc(4);
  head.writeUInt16BE(TEXT_LENGTH, 0);
  head.writeUInt16BE(photo.length, 2);
  return Buffer.concat([head, text, Buffer.from(photo)]);
}
