/**
 * The card profile (fixtures/cards/*.json): one personalised social security card of the
 * simulator — spec version, algorithm, ATR, life cycle, PIN and tries, EF05/EF06 as readable data,
 * phone, photo, the card's own keys. Validated eagerly (profile-reader.ts). The JSON form is what
 * people edit (hex strings, readable record data); {@link CardProfile} holds Buffers.
 *
 * These are TEST cards: the PIN is stored as digits and the keys in clear. Never put a production
 * key or a real person's data into a profile (fixtures/README.md).
 */
import type { Algorithm, Sm4MacFold } from '../../apdu/crypto.js';
import { DEFAULT_SM4_MAC_FOLD, SM4_MAC_FOLDS } from '../../apdu/crypto.js';
import { parseAtr } from '../../apdu/atr.js';
import { toHex } from '../../apdu/hex.js';
import { EF05_FIELDS, EF06_FIELDS, encodeEf05, encodeEf06, encodeField } from '../../apdu/records.js';
import type { CardIssuerData, FieldSpec, HolderData } from '../../apdu/records.js';
import { CARD_LIFE_CYCLES, type CardLifeCycle } from '../../state/card-state.js';
import type { PinReloadForm } from '../card/ssse-operations.js';
import { PHONE_TAG, RECORD_FILES } from './card-records.js';
import type { RecordFileName } from './card-records.js';
import { readJson, writeJsonAtomic } from './profile-files.js';
import { ALGORITHMS, hex2, joinKey, KEY_HEX_LENGTH, ProfileReader, PROTOCOLS } from './profile-reader.js';
import type { Json, SimProtocol } from './profile-reader.js';

/**
 * Life cycle of the SSSE application:
 * - `active`: issued and activated (启用);
 * - `notActivated`: issued but not yet activated: SELECT AID answers `6283`, PIN commands `6985`,
 *   until APPLICATION UNBLOCK (with a PSAM MAC) activates it;
 * - `appLocked`: blocked by APPLICATION BLOCK (挂失, reported loss): the card answers `9303`
 *   to everything but SELECT (FCI ‖ `9303`), READ RECORD of EF05 (so a terminal can identify
 *   it), GET CHALLENGE and APPLICATION BLOCK/UNBLOCK; APPLICATION UNBLOCK (解挂) makes it active.
 */
export type { CardLifeCycle };

/**
 * Which RELOAD PIN the card implements (docs/card-conventions.md): `pboc` = `80 5E 00 00`
 * new PIN ‖ MAC (2.0 cards); `ssse3` = `84 24 00 01` encrypted PIN block ‖ MAC after EXTERNAL
 * AUTHENTICATE with key 06 (3.0 cards). The other form answers `6A86`.
 */
export type { PinReloadForm };
const PIN_RELOAD_FORMS: readonly PinReloadForm[] = ['pboc', 'ssse3'];

export type SpecVersion = '2.00' | '3.00';
const SPEC_VERSIONS: readonly SpecVersion[] = ['2.00', '3.00'];

/** A card key name: `${usage}:${p2}` in upper-case hex, matching the PSAM's `80 1A` P1/P2 (e.g. `82:0A`). */
export type CardKeyName = `${string}:${string}`;

export function cardKeyName(usage: number, p2: number): CardKeyName {
  return `${hex2(usage)}:${hex2(p2)}`;
}

export interface CardProfile {
  /** Short name for logs (default "<spec> card <卡号>"). */
  readonly label: string;
  readonly specVersion: SpecVersion;
  readonly algorithm: Algorithm;
  /**
   * How the card folds the last block of an SM4 MAC to 4 bytes (UNCONFIRMED, docs/card-conventions.md;
   * default `xor-words`). Only SM4 cards use it; the PSAM's `sm4MacFold` must agree.
   */
  readonly sm4MacFold: Sm4MacFold;
  readonly atr: Buffer;
  readonly protocol: SimProtocol;
  readonly state: CardLifeCycle;
  /** The PIN as ASCII digits (TEST cards only: a real card never reveals it). */
  readonly pin: Buffer;
  readonly pinTriesLeft: number;
  readonly pinTryLimit: number;
  readonly pinReload: PinReloadForm;
  /** EF05 as readable data (regionCode is derived from cardId and left ''). */
  readonly issuer: CardIssuerData;
  /** EF06 as readable data. */
  readonly holder: HolderData;
  /** DF01 EF06 tag 28. */
  readonly phone: string;
  /** EF08 (binary). */
  readonly photo: Buffer;
  /** EF07 (binary); empty: the card has no EF07. */
  readonly fingerprint: Buffer;
  /** Which bytes of the card identification code are the diversification factor (UNCONFIRMED). */
  readonly diversification: { readonly offset: number; readonly length: 8 };
  /** The card's own keys (already diversified), by {@link CardKeyName}. */
  readonly keys: ReadonlyMap<CardKeyName, Buffer>;
  /** External-auth key id (usage 82) each record file needs for UPDATE RECORD. */
  readonly writeKeys: Readonly<Record<RecordFileName, number>>;
  /** 3.0 cards: READ RECORD of EF06 needs EXTERNAL AUTHENTICATE with key 0A first. */
  readonly ef06NeedsExternalAuth: boolean;
  /** The FCI of the SSSE application carries `9F0C 03 86 01 <alg>` (default true). */
  readonly fciAlgorithmTag: boolean;
  /**
   * INTERNAL AUTHENTICATE's form this card make takes (docs/card-conventions.md "Card-make
   * profiles"): one block of random (default), or the integrators' process factor(8) ‖ data(8).
   */
  readonly internalAuth: 'random' | 'challenge';
  /** RELOAD PIN on a blocked PIN: refused with 6983 (default, use PIN UNBLOCK) or allowed (tries back to the limit). */
  readonly reloadOnBlockedPin: boolean;
  /** Raw record values that override the readable data (written by UPDATE RECORD, not expressible as text). */
  readonly recordOverrides: ReadonlyMap<RecordFileName, ReadonlyMap<number, Buffer>>;
}

/** The JSON form of a card profile (fixtures/cards/*.json). */
export interface CardProfileJson {
  $comment?: string;
  label?: string;
  specVersion: SpecVersion;
  algorithm: Algorithm;
  sm4MacFold?: Sm4MacFold;
  atr: string;
  protocol: SimProtocol;
  state: CardLifeCycle;
  pin: string;
  pinTriesLeft: number;
  pinTryLimit: number;
  pinReload: PinReloadForm;
  /** EF05, keys are the Chinese field names (卡识别码, 卡类别, …). */
  issuer: Record<string, string>;
  /** EF06, keys are the Chinese field names (社会保障号码, 姓名, …). */
  holder: Record<string, string>;
  phone: string;
  photo: string;
  fingerprint?: string;
  diversification: { offset: number; length: number };
  keys: Record<string, string>;
  writeKeys: Record<RecordFileName, string>;
  ef06NeedsExternalAuth: boolean;
  fciAlgorithmTag?: boolean;
  internalAuth?: 'random' | 'challenge';
  reloadOnBlockedPin?: boolean;
  records?: Partial<Record<RecordFileName, Record<string, string>>>;
}

const CARD_KEYS = [
  'label',
  'specVersion',
  'algorithm',
  'sm4MacFold',
  'atr',
  'protocol',
  'state',
  'pin',
  'pinTriesLeft',
  'pinTryLimit',
  'pinReload',
  'issuer',
  'holder',
  'phone',
  'photo',
  'fingerprint',
  'diversification',
  'keys',
  'writeKeys',
  'ef06NeedsExternalAuth',
  'fciAlgorithmTag',
  'internalAuth',
  'reloadOnBlockedPin',
  'records',
] as const;

/** EF05 fields by Chinese name → property of CardIssuerData (from the record tables). */
const ISSUER_FIELDS: readonly FieldSpec[] = EF05_FIELDS;
/** EF06 fields shown in a profile: 4E (name extension) is part of 姓名. */
const HOLDER_FIELDS: readonly FieldSpec[] = EF06_FIELDS.filter((f) => f.tag !== 0x4e);

/** Largest EF07/EF08 the simulator keeps (the photo of a real card is a few KB). */
const MAX_BINARY = 16 * 1024;

/** Validate a parsed card profile; `source` names the file in errors. */
export function parseCardProfile(json: unknown, source = 'card profile'): CardProfile {
  const r: ProfileReader = new ProfileReader('卡片配置文件', 'Card profile', source);
  const o = r.object(json, '(root)', CARD_KEYS);
  const specVersion = r.oneOf(o, 'specVersion', '', SPEC_VERSIONS);
  const algorithm = r.oneOf(o, 'algorithm', '', ALGORITHMS);
  const sm4MacFold = r.oneOf(o, 'sm4MacFold', '', SM4_MAC_FOLDS, DEFAULT_SM4_MAC_FOLD);
  const protocol = r.oneOf(o, 'protocol', '', PROTOCOLS);
  const atr = r.hex(o, 'atr', '', { min: 2, max: 33 });
  const parsedAtr = r.wrap('atr', () => parseAtr(atr));
  const wantT = protocol === 'T0' ? 0 : 1;
  if (!parsedAtr.protocols.includes(wantT)) {
    r.fail('atr', `该 ATR 不提供 T=${wantT}，与 protocol "${protocol}" 不符`, `this ATR does not offer T=${wantT}, which protocol "${protocol}" needs`);
  }
  const state = r.oneOf(o, 'state', '', CARD_LIFE_CYCLES);
  const pinText = r.string(o, 'pin', '', { pattern: /^\d{6}$/, what: ['应为 6 位数字（测试卡的密码）', 'must be 6 digits (the test card PIN)'] });
  const pin = Buffer.from(pinText, 'latin1');
  const pinTryLimit = r.integer(o, 'pinTryLimit', '', 1, 15);
  const pinTriesLeft = r.integer(o, 'pinTriesLeft', '', 0, pinTryLimit);
  const pinReload = r.oneOf(o, 'pinReload', '', PIN_RELOAD_FORMS);

  // EF05 / EF06 as readable fields, each encoded now so that mistakes name the field.
  const issuerJson = r.object(o['issuer'], 'issuer', ISSUER_FIELDS.map((f) => f.zh));
  if (issuerJson['规范版本'] === undefined) issuerJson['规范版本'] = specVersion;
  const issuer = readFields(r, issuerJson, 'issuer', ISSUER_FIELDS) as unknown as CardIssuerData;
  (issuer as { regionCode: string }).regionCode = '';
  if (issuer.specVersion !== specVersion) {
    r.fail('issuer.规范版本', `与 specVersion "${specVersion}" 不一致`, `differs from specVersion "${specVersion}"`);
  }
  r.wrap('issuer', () => encodeEf05(issuer));
  const holderJson = r.object(o['holder'], 'holder', HOLDER_FIELDS.map((f) => f.zh));
  const holder = readFields(r, holderJson, 'holder', HOLDER_FIELDS) as unknown as HolderData;
  r.wrap('holder.姓名', () => encodeEf06(holder));

  const phone = r.string(o, 'phone', '', { pattern: /^[0-9+\- ]{0,15}$/, what: ['应为最多 15 位的电话号码（数字、+、-、空格）', 'must be a phone number of at most 15 characters (digits, +, -, space)'] });
  const photo = r.hex(o, 'photo', '', { min: 1, max: MAX_BINARY });
  const fingerprint = r.hex(o, 'fingerprint', '', { max: MAX_BINARY, optional: true });

  const divJson = r.object(o['diversification'], 'diversification', ['offset', 'length']);
  const length = r.integer(divJson, 'length', 'diversification', 8, 8, 8) as 8;
  const offset = r.integer(divJson, 'offset', 'diversification', 0, 16 - length, 8);

  const keysJson = r.object(o['keys'], 'keys');
  const keys = new Map<CardKeyName, Buffer>();
  for (const [name, value] of Object.entries(keysJson)) {
    const p = joinKey('keys', name);
    const m = /^([0-9A-Fa-f]{2}):([0-9A-Fa-f]{2})$/.exec(name);
    if (!m) r.fail(p, '键名应为 “用途:P2”（十六进制），如 "88:01"、"82:0A"', 'the key name must be "usage:p2" in hex, e.g. "88:01", "82:0A"');
    keys.set(cardKeyName(parseInt(m[1]!, 16), parseInt(m[2]!, 16)), r.hexValue(value, p, { length: KEY_HEX_LENGTH }));
  }

  const wkJson = r.object(o['writeKeys'], 'writeKeys', RECORD_FILES);
  const writeKeys = {} as Record<RecordFileName, number>;
  for (const f of RECORD_FILES) {
    const id = r.string(wkJson, f, 'writeKeys', { pattern: /^[0-9A-Fa-f]{2}$/, what: ['应为 2 位十六进制的外部认证密钥标识，如 "84"', 'must be a 2-hex-digit external-auth key id such as "84"'] });
    writeKeys[f] = parseInt(id, 16);
  }
  const ef06NeedsExternalAuth = r.boolean(o, 'ef06NeedsExternalAuth', '');
  const fciAlgorithmTag = r.boolean(o, 'fciAlgorithmTag', '', true);
  const internalAuth = r.oneOf(o, 'internalAuth', '', ['random', 'challenge'] as const, 'random');
  const reloadOnBlockedPin = r.boolean(o, 'reloadOnBlockedPin', '', false);

  // Every key the card's commands need must be there.
  const need: [CardKeyName, string, string][] = [
    [cardKeyName(0x88, 0x01), '内部认证', 'INTERNAL AUTHENTICATE'],
    [cardKeyName(0x18, 0x01), '应用锁定/解锁 MAC', 'APPLICATION BLOCK/UNBLOCK MAC'],
    [cardKeyName(0x24, 0x01), '密码解锁', 'PIN UNBLOCK'],
    pinReload === 'pboc' ? [cardKeyName(0x5e, 0x01), '重置密码（PBOC）', 'RELOAD PIN (PBOC)'] : [cardKeyName(0x82, 0x06), '重置密码（3.0，外部认证 06）', 'RELOAD PIN (3.0, external auth 06)'],
    ...RECORD_FILES.map((f): [CardKeyName, string, string] => [cardKeyName(0x82, writeKeys[f]), `写 ${f}`, `writing ${f}`]),
  ];
  if (ef06NeedsExternalAuth) need.push([cardKeyName(0x82, 0x0a), '读 EF06（外部认证 0A）', 'reading EF06 (external auth 0A)']);
  for (const [name, zh, en] of need) {
    if (!keys.has(name)) r.fail(joinKey('keys', name), `缺少此密钥（${zh}需要）`, `missing (needed for ${en})`);
  }

  const recordOverrides = new Map<RecordFileName, Map<number, Buffer>>();
  if (o['records'] !== undefined) {
    const recJson = r.object(o['records'], 'records', RECORD_FILES);
    for (const f of RECORD_FILES) {
      if (recJson[f] === undefined) continue;
      const fileJson = r.object(recJson[f], joinKey('records', f));
      const m = new Map<number, Buffer>();
      for (const [tagHex, value] of Object.entries(fileJson)) {
        const p = joinKey(joinKey('records', f), tagHex);
        const tag = /^[0-9A-Fa-f]{2}$/.test(tagHex) ? parseInt(tagHex, 16) : -1;
        if (!knownTags(f).includes(tag)) {
          r.fail(p, `未知的标签；${f} 的标签为 ${knownTags(f).map(hex2).join('、')}`, `unknown tag; ${f} has the tags ${knownTags(f).map(hex2).join(', ')}`);
        }
        m.set(tag, r.hexValue(value, p, { max: 253 }));
      }
      recordOverrides.set(f, m);
    }
  }

  const label = r.string(o, 'label', '', { optional: true }) ?? `${specVersion} card ${issuer.cardNumber}`;
  return {
    label,
    specVersion,
    algorithm,
    sm4MacFold,
    atr,
    protocol,
    state,
    pin,
    pinTriesLeft,
    pinTryLimit,
    pinReload,
    issuer,
    holder,
    phone,
    photo,
    fingerprint,
    diversification: { offset, length },
    keys,
    writeKeys,
    ef06NeedsExternalAuth,
    fciAlgorithmTag,
    internalAuth,
    reloadOnBlockedPin,
    recordOverrides,
  };
}

function knownTags(f: RecordFileName): number[] {
  if (f === 'EF05') return EF05_FIELDS.map((x) => x.tag);
  if (f === 'EF06') return EF06_FIELDS.map((x) => x.tag);
  return [PHONE_TAG];
}

function readFields(r: ProfileReader, obj: Json, keyPath: string, fields: readonly FieldSpec[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) {
    const v = r.string(obj, f.zh, keyPath);
    if (f.tag !== 0x09) r.wrap(joinKey(keyPath, f.zh), () => encodeField(f.tag, v));
    out[f.key] = v;
  }
  return out;
}

export function cardProfileToJson(p: CardProfile): CardProfileJson {
  const issuerRec = p.issuer as unknown as Record<string, string>;
  const holderRec = p.holder as unknown as Record<string, string>;
  const issuer: Record<string, string> = {};
  for (const f of ISSUER_FIELDS) issuer[f.zh] = issuerRec[f.key] ?? '';
  const holder: Record<string, string> = {};
  for (const f of HOLDER_FIELDS) holder[f.zh] = holderRec[f.key] ?? '';
  const keys: Record<string, string> = {};
  for (const [name, key] of p.keys) keys[name] = toHex(key);
  const writeKeys = {} as Record<RecordFileName, string>;
  for (const f of RECORD_FILES) writeKeys[f] = hex2(p.writeKeys[f]);
  const json: CardProfileJson = {
    $comment: 'TEST CARD of a fictional holder: the PIN and the keys are public test values (fixtures/README.md). Never production data.',
    label: p.label,
    specVersion: p.specVersion,
    algorithm: p.algorithm,
    // Written where it matters (an SM4 card) or where it is not the default.
    ...(p.algorithm === 'SM4' || p.sm4MacFold !== DEFAULT_SM4_MAC_FOLD ? { sm4MacFold: p.sm4MacFold } : {}),
    atr: toHex(p.atr, ' '),
    protocol: p.protocol,
    state: p.state,
    pin: p.pin.toString('latin1'),
    pinTriesLeft: p.pinTriesLeft,
    pinTryLimit: p.pinTryLimit,
    pinReload: p.pinReload,
    issuer,
    holder,
    phone: p.phone,
    photo: toHex(p.photo),
    ...(p.fingerprint.length > 0 ? { fingerprint: toHex(p.fingerprint) } : {}),
    diversification: { ...p.diversification },
    keys,
    writeKeys,
    ef06NeedsExternalAuth: p.ef06NeedsExternalAuth,
    fciAlgorithmTag: p.fciAlgorithmTag,
    ...(p.internalAuth === 'random' ? {} : { internalAuth: p.internalAuth }),
    ...(p.reloadOnBlockedPin ? { reloadOnBlockedPin: true } : {}),
  };
  if (p.recordOverrides.size > 0) {
    const records: Partial<Record<RecordFileName, Record<string, string>>> = {};
    for (const [f, m] of p.recordOverrides) {
      const o: Record<string, string> = {};
      for (const [tag, v] of m) o[hex2(tag)] = toHex(v);
      records[f] = o;
    }
    json.records = records;
  }
  return json;
}

export async function loadCardProfile(file: string): Promise<CardProfile> {
  return parseCardProfile(await readJson(file, '卡片配置文件', 'Card profile'), file);
}

export async function saveCardProfile(file: string, profile: CardProfile): Promise<void> {
  await writeJsonAtomic(file, cardProfileToJson(profile));
}
