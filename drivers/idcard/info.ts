/**
 * The resident ID card's base information as the SAM's READ BASE INFO (`30 01`) returns it:
 *
 *   text length (2, BE) | photo length (2, BE) | text (256) | photo (1024, WLT, opaque)
 *
 * The text is UCS-2LE in fixed-width fields, space-padded (GA 467; reader SDK structs agree):
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
 */
import { ErrorCode, SsCardError } from '../../core/errors.js';

export const TEXT_LENGTH = 256;
export const PHOTO_LENGTH = 1024;

/** Field widths in bytes, in order. */
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
  readonly name: string;
  /** GB/T 2261.1 code: '1' male, '2' female… */
  readonly sex: string;
  readonly sexText: string;
  /** GB 3304 code, '01' = 汉. */
  readonly nation: string;
  readonly nationText: string;
  /** YYYY-MM-DD. */
  readonly birthDate: string;
  readonly address: string;
  /** 公民身份号码, 18 characters, upper-case X. */
  readonly idNumber: string;
  /** The ISO 7064 MOD 11-2 check character is right. */
  readonly idNumberValid: boolean;
  readonly authority: string;
  /** YYYY-MM-DD. */
  readonly validFrom: string;
  /** YYYY-MM-DD, or '长期' (long-term). */
  readonly validTo: string;
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

/** Parse the data of a READ BASE INFO response. Throws IdCard_BadData; keeps the photo opaque. */
export function parseBaseInfo(data: Uint8Array): IdCardInfo {
  if (!(data instanceof Uint8Array) || data.length < 4) throw badData('shorter than the two length fields', '不足 4 字节');
  const b = Buffer.from(data);
  const textLen = b.readUInt16BE(0);
  const photoLen = b.readUInt16BE(2);
  if (textLen !== TEXT_LENGTH) throw badData(`text length ${textLen}, not ${TEXT_LENGTH}`, `文字信息长度为 ${textLen}，应为 ${TEXT_LENGTH}`, { textLen });
  if (b.length !== 4 + textLen + photoLen) throw badData(`${b.length} bytes, but the lengths say ${4 + textLen + photoLen}`, `共 ${b.length} 字节，与长度字段 ${4 + textLen + photoLen} 不符`, { length: b.length });
  const text = b.subarray(4, 4 + textLen);
  const f: Partial<Record<IdTextField, string>> = {};
  let at = 0;
  for (const [name, width] of FIELDS) {
    f[name] = trimPadding(text.toString('utf16le', at, at + width));
    at += width;
  }
  const idNumber = (f.idNumber ?? '').toUpperCase();
  if (!/^\d{17}[\dX]$/.test(idNumber)) throw badData('the ID number is not 18 characters of digits (and X)', '公民身份号码不是 18 位数字（末位可为 X）', { field: 'idNumber' });
  const sex = f.sex ?? '';
  const nation = f.nation ?? '';
  const validToRaw = f.validTo ?? '';
  return {
    name: f.name ?? '',
    sex,
    sexText: SEX[sex] ?? '未知',
    nation,
    nationText: NATIONS[nation] ?? '未知',
    birthDate: date(f.birth ?? '', 'birth'),
    address: f.address ?? '',
    idNumber,
    idNumberValid: isValidIdNumber(idNumber),
    authority: f.authority ?? '',
    validFrom: date(f.validFrom ?? '', 'validFrom'),
    validTo: validToRaw.startsWith('长期') ? '长期' : date(validToRaw, 'validTo'),
    photo: Buffer.from(b.subarray(4 + textLen)),
  };
}

/** What {@link encodeBaseInfo} needs (dates as YYYY-MM-DD or YYYYMMDD). */
export interface IdCardText {
  readonly name: string;
  readonly sex: string;
  readonly nation: string;
  readonly birthDate: string;
  readonly address: string;
  readonly idNumber: string;
  readonly authority: string;
  readonly validFrom: string;
  readonly validTo: string;
}

/** Build READ BASE INFO data (the simulator answers with it). Throws Input_BadLength for a field too long. */
export function encodeBaseInfo(t: IdCardText, photo: Uint8Array = Buffer.alloc(PHOTO_LENGTH)): Buffer {
  const values: Record<IdTextField, string> = {
    name: t.name,
    sex: t.sex,
    nation: t.nation,
    birth: t.birthDate.replace(/-/g, ''),
    address: t.address,
    idNumber: t.idNumber,
    authority: t.authority,
    validFrom: t.validFrom.replace(/-/g, ''),
    validTo: t.validTo === '长期' ? '长期' : t.validTo.replace(/-/g, ''),
    reserved: '',
  };
  const text = Buffer.alloc(TEXT_LENGTH);
  let at = 0;
  for (const [name, width] of FIELDS) {
    const v = Buffer.from(values[name], 'utf16le');
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
