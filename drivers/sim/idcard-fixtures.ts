/**
 * Fixture resident ID cards (fixtures/idcards/*.json): fictional people, four of them the holders of
 * the card profiles in fixtures/cards/ (same 公民身份号码 = 社会保障号码), the rest matching none.
 * Loaded and validated here for the ID reader simulator and the tests.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import type { IdCardText, IdDocumentType } from '../idcard/info.js';
import { DOCUMENT_TYPES, isValidIdNumber, PHOTO_LENGTH } from '../idcard/info.js';
import { fixturesDir } from './profile.js';

export interface IdCardFixture extends IdCardText {
  readonly label: string;
  /** The card profile (fixtures/cards/<name>.json) of the same person, or null. */
  readonly matchesCard: string | null;
  /** WLT photo bytes, opaque; a deterministic stand-in derived from the ID number when the JSON has none. */
  readonly photo: Buffer;
}

/** Path of a shipped fixture: `idCardFixture('id-card-2.0')`. */
export function idCardFixture(name: string): string {
  return path.join(fixturesDir(), 'idcards', name.endsWith('.json') ? name : `${name}.json`);
}

/** Names of all shipped fixtures (without .json). */
export function idCardFixtureNames(): string[] {
  return readdirSync(path.join(fixturesDir(), 'idcards'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

function bad(source: string, field: string, zh: string, en: string): never {
  throw new SsCardError(ErrorCode.Sim_BadProfile, { zh: `身份证样例 ${source} 的 ${field} ${zh}`, en: `${field} in ID card fixture ${source} ${en}` }, { source, field });
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function parseIdCardFixture(json: unknown, source = 'ID card fixture'): IdCardFixture {
  if (typeof json !== 'object' || json === null) bad(source, '(root)', '必须是对象', 'must be an object');
  const o = json as Record<string, unknown>;
  const str = (f: string, maxChars: number): string => {
    const v = o[f];
    if (typeof v !== 'string' || v.length === 0 || v.length > maxChars) bad(source, f, `必须是 1–${maxChars} 个字的字符串`, `must be a string of 1..${maxChars} characters`);
    return v;
  };
  /** A field the document may leave empty: '' when absent. */
  const opt = (f: string, maxChars: number): string => (o[f] === undefined || o[f] === '' ? '' : str(f, maxChars));
  const type = (o['documentType'] ?? 'residentId') as IdDocumentType;
  if (!DOCUMENT_TYPES.includes(type)) bad(source, 'documentType', `必须是 ${DOCUMENT_TYPES.join('、')} 之一`, `must be one of ${DOCUMENT_TYPES.join(', ')}`);
  const foreign = type === 'foreignPermanent2017' || type === 'foreignPermanent2023';
  const idNumber = str('idNumber', 18).toUpperCase();
  if (type === 'foreignPermanent2017') {
    if (!/^[A-Z]{3}\d{12}$/.test(idNumber)) bad(source, 'idNumber', '不是 3 个字母加 12 位数字的永久居留证号码', 'is not a permanent residence number of 3 letters and 12 digits');
  } else {
    if (!isValidIdNumber(idNumber)) bad(source, 'idNumber', '不是有效的 18 位号码（校验位不对）', 'is not a valid 18-character number (check character wrong)');
    const lead = { residentId: /^[1-6]/, residencePermit: /^8[123]/, foreignPermanent2023: /^9/ }[type];
    if (!lead.test(idNumber)) bad(source, 'idNumber', '开头与证件类型不符', 'does not start as its document type requires');
    if (String(o['birthDate']).replace(/-/g, '') !== idNumber.slice(6, 14)) bad(source, 'birthDate', '与证件号码中的出生日期不符', 'differs from the birth date inside the number');
  }
  for (const f of ['birthDate', 'validFrom']) if (!DATE.test(str(f, 10))) bad(source, f, '必须是 YYYY-MM-DD', 'must be YYYY-MM-DD');
  const validTo = str('validTo', 10);
  if (validTo !== '长期' && !DATE.test(validTo)) bad(source, 'validTo', '必须是 YYYY-MM-DD 或“长期”', 'must be YYYY-MM-DD or 长期');
  if (!/^[0129]$/.test(str('sex', 1))) bad(source, 'sex', '必须是 0、1、2 或 9', 'must be 0, 1, 2 or 9');
  const nation = type === 'residentId' ? str('nation', 2) : opt('nation', 2);
  if (type === 'residentId' && !/^\d{2}$/.test(nation)) bad(source, 'nation', '必须是两位民族代码', 'must be a 2-digit nation code');
  if (type !== 'residentId' && nation !== '') bad(source, 'nation', '只有居民身份证有民族', 'is on the resident ID card only');
  const matches = o['matchesCard'];
  if (matches !== null && typeof matches !== 'string') bad(source, 'matchesCard', '必须是卡片样例名或 null', 'must be a card fixture name or null');
  let photo: Buffer;
  if (typeof o['photo'] === 'string') {
    photo = Buffer.from(o['photo'], 'hex');
    if (photo.length !== PHOTO_LENGTH) bad(source, 'photo', `必须是 ${PHOTO_LENGTH} 字节的十六进制`, `must be ${PHOTO_LENGTH} bytes of hex`);
  } else {
    photo = standInPhoto(idNumber);
  }
  const englishName = foreign ? str('englishName', type === 'foreignPermanent2017' ? 60 : 46) : undefined;
  const nationality = foreign ? str('nationality', 3) : undefined;
  if (nationality !== undefined && !/^[A-Z]{3}$/.test(nationality)) bad(source, 'nationality', '必须是 3 个大写字母（ISO 3166-1）', 'must be 3 capital letters (ISO 3166-1 alpha-3)');
  return {
    label: typeof o['label'] === 'string' ? o['label'] : source,
    matchesCard: matches,
    ...(type === 'residentId' ? {} : { documentType: type }),
    // A foreigner's card may hold no Chinese name.
    name: foreign ? opt('name', 15) : str('name', 15),
    sex: str('sex', 1),
    nation,
    birthDate: str('birthDate', 10),
    address: foreign ? '' : str('address', 35),
    idNumber,
    authority: type === 'foreignPermanent2023' ? '' : str('authority', type === 'foreignPermanent2017' ? 4 : 15),
    validFrom: str('validFrom', 10),
    validTo,
    ...(englishName === undefined ? {} : { englishName }),
    ...(nationality === undefined ? {} : { nationality }),
    ...(type === 'residencePermit' ? { passNumber: str('passNumber', 9), issueCount: str('issueCount', 2) } : {}),
    photo,
  };
}

/** 1024 deterministic bytes starting with the WLT magic "WL" (opaque to everything here). */
export function standInPhoto(idNumber: string): Buffer {
  const out = Buffer.alloc(PHOTO_LENGTH);
  for (let i = 0, block = 0; i < PHOTO_LENGTH; block++) {
    const h = createHash('sha256').update(`${idNumber}:${block}`).digest();
    i += h.copy(out, i);
  }
  out[0] = 0x57; // 'W'
  out[1] = 0x4c; // 'L'
  return out;
}

export function loadIdCardFixture(name: string): IdCardFixture {
  const file = idCardFixture(name);
  return parseIdCardFixture(JSON.parse(readFileSync(file, 'utf8')), path.basename(file));
}
