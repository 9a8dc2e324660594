/**
 * Profiles of the simulator: a card profile (fixtures/cards/*.json) describes one personalised
 * social security card, a PSAM profile (fixtures/psam/*.json) one terminal PSAM. Loading
 * validates eagerly: every mistake is an SsCardError(Sim_BadProfile) whose bilingual message names
 * the file, the key path (`keys."82:0A"`, `holder.姓名`) and what is allowed. Messages never
 * contain a PIN or a key value, only the path to it.
 *
 * The JSON form is what people edit (hex strings, readable record data); the in-memory form
 * ({@link CardProfile}, {@link PsamProfile}) holds Buffers. `save` writes the JSON form back
 * atomically (temporary file + rename), so the simulator's persistent state (PIN, tries, life
 * cycle, written records) survives a restart.
 *
 * These are TEST cards: the PIN is stored as digits and the keys in clear. Never put a production
 * key or a real person's data into a profile (fixtures/README.md).
 */
import type { PinReloadForm } from '../card/ssse-operations.js';
import { CARD_LIFE_CYCLES, type CardLifeCycle } from '../../state/card-state.js';
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SM4_MAC_FOLD, SM4_MAC_FOLDS } from '../../apdu/crypto.js';
import type { Algorithm, Sm4MacFold } from '../../apdu/crypto.js';
import { ErrorCode, fail, isSsCardError } from '../../core/errors.js';
import { toHex } from '../../apdu/hex.js';
import { parseAtr } from '../../apdu/atr.js';
import { decodeEf05, decodeEf06, EF05_FIELDS, EF06_FIELDS, encodeEf05, encodeEf06, encodeField } from '../../apdu/records.js';
import type { CardIssuerData, FieldSpec, HolderData } from '../../apdu/records.js';

// ---------------------------------------------------------------------------------------------
// Shared validation
// ---------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

/** Walks a parsed JSON document and fails with the file name and key path of the first mistake. */
class ProfileReader {
  public constructor(
    private readonly kindZh: string,
    private readonly kindEn: string,
    private readonly source: string,
  ) {}

  public fail(keyPath: string, zh: string, en: string): never {
    fail(
      ErrorCode.Sim_BadProfile,
      `${this.kindZh} ${this.source} 中的 ${keyPath} 无效：${zh}。请改正该文件（参见 fixtures/README.md）`,
      `${this.kindEn} ${this.source}: ${keyPath} is invalid: ${en}. Fix the file (see fixtures/README.md)`,
      { source: this.source, path: keyPath },
    );
  }

  public object(value: unknown, keyPath: string, allowed?: readonly string[]): Json {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(keyPath, '应为 JSON 对象', 'must be a JSON object');
    }
    const obj = value as Json;
    if (allowed !== undefined) {
      for (const k of Object.keys(obj)) {
        if (k.startsWith('$') || k.startsWith('_')) continue; // "$comment", "_note"
        if (!allowed.includes(k)) {
          this.fail(join(keyPath, k), `未知的键；允许的键为 ${allowed.join('、')}`, `unknown key; allowed keys are ${allowed.join(', ')}`);
        }
      }
    }
    return obj;
  }

  public string(obj: Json, key: string, keyPath: string, rule?: { pattern?: RegExp; what?: [zh: string, en: string]; optional?: false }): string;
  public string(obj: Json, key: string, keyPath: string, rule: { pattern?: RegExp; what?: [zh: string, en: string]; optional: true }): string | undefined;
  public string(obj: Json, key: string, keyPath: string, rule: { pattern?: RegExp; what?: [zh: string, en: string]; optional?: boolean } = {}): string | undefined {
    const p = join(keyPath, key);
    const v = obj[key];
    if (v === undefined && rule.optional === true) return undefined;
    if (typeof v !== 'string') this.fail(p, v === undefined ? '缺少此项（字符串）' : '应为字符串', v === undefined ? 'missing (a string)' : 'must be a string');
    if (rule.pattern !== undefined && !rule.pattern.test(v)) {
      const [zh, en] = rule.what ?? [`应匹配 ${String(rule.pattern)}`, `must match ${String(rule.pattern)}`];
      this.fail(p, zh, en);
    }
    return v;
  }

  public oneOf<T extends string>(obj: Json, key: string, keyPath: string, allowed: readonly T[], fallback?: T): T {
    const p = join(keyPath, key);
    const v = obj[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(p, `应为 ${allowed.map((a) => `"${a}"`).join('、')} 之一`, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
    }
    return v as T;
  }

  public integer(obj: Json, key: string, keyPath: string, min: number, max: number, fallback?: number): number {
    const p = join(keyPath, key);
    const v = obj[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(p, `应为 ${min}..${max} 的整数`, `must be an integer ${min}..${max}`);
    }
    return v;
  }

  public boolean(obj: Json, key: string, keyPath: string, fallback?: boolean): boolean {
    const p = join(keyPath, key);
    const v = obj[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'boolean') this.fail(p, '应为 true 或 false', 'must be true or false');
    return v;
  }

  /** Hex string (spaces allowed) → bytes, with optional exact or maximum length. */
  public hex(obj: Json, key: string, keyPath: string, rule: { length?: number; min?: number; max?: number; optional?: boolean } = {}): Buffer {
    const p = join(keyPath, key);
    const v = obj[key];
    if (v === undefined && rule.optional === true) return Buffer.alloc(0);
    return this.hexValue(v, p, rule);
  }

  public hexValue(v: unknown, p: string, rule: { length?: number; min?: number; max?: number } = {}): Buffer {
    if (typeof v !== 'string') this.fail(p, '应为十六进制字符串', 'must be a hex string');
    const cleaned = v.replace(/\s+/g, '');
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(cleaned)) {
      this.fail(p, '应为十六进制字符串（0-9、A-F，每字节两位，可含空格）', 'must be a hex string (0-9, A-F, two digits a byte, spaces allowed)');
    }
    const bytes = Buffer.from(cleaned, 'hex');
    if (rule.length !== undefined && bytes.length !== rule.length) {
      this.fail(p, `应为 ${rule.length} 字节（${rule.length * 2} 位十六进制），实际为 ${bytes.length} 字节`, `must be ${rule.length} bytes (${rule.length * 2} hex digits), got ${bytes.length}`);
    }
    if ((rule.min !== undefined && bytes.length < rule.min) || (rule.max !== undefined && bytes.length > rule.max)) {
      this.fail(p, `长度应为 ${rule.min ?? 0}..${rule.max ?? '∞'} 字节，实际为 ${bytes.length} 字节`, `must be ${rule.min ?? 0}..${rule.max ?? '∞'} bytes, got ${bytes.length}`);
    }
    return bytes;
  }

  /** Run `f`; an SsCardError from a codec (records, ATR) becomes Sim_BadProfile at `keyPath`. */
  public wrap<T>(keyPath: string, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (isSsCardError(e) && e.code !== ErrorCode.Sim_BadProfile) {
        fail(
          ErrorCode.Sim_BadProfile,
          `${this.kindZh} ${this.source} 中的 ${keyPath} 无效：${e.text.zh}`,
          `${this.kindEn} ${this.source}: ${keyPath} is invalid: ${e.text.en}`,
          { source: this.source, path: keyPath, causeCode: e.code },
          e,
        );
      }
      throw e;
    }
  }
}

function join(keyPath: string, key: string): string {
  const k = /^[\p{L}_$][\p{L}\p{N}_$]*$/u.test(key) ? key : `"${key}"`;
  return keyPath === '' ? k : `${keyPath}.${k}`;
}

/** Two hex digits, upper case. */
export function hex2(n: number): string {
  return toHex([n & 0xff]);
}

const ALGORITHMS: readonly Algorithm[] = ['3DES', 'SM4'];
const PROTOCOLS = ['T0', 'T1'] as const;
export type SimProtocol = (typeof PROTOCOLS)[number];

const KEY_HEX_LENGTH = 16;

async function readJson(file: string, kindZh: string, kindEn: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    fail(
      ErrorCode.Sim_BadProfile,
      `无法读取${kindZh} ${file}：${(e as Error).message}。请检查路径`,
      `Cannot read the ${kindEn.toLowerCase()} ${file}: ${(e as Error).message}. Check the path`,
      { source: file },
      e,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    fail(
      ErrorCode.Sim_BadProfile,
      `${kindZh} ${file} 不是有效的 JSON：${(e as Error).message}`,
      `The ${kindEn.toLowerCase()} ${file} is not valid JSON: ${(e as Error).message}`,
      { source: file },
      e,
    );
  }
}

/** Write JSON atomically: a crash mid-write leaves the old file, never half a profile. */
async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`, { encoding: 'utf8', mode: 0o600 });
  await rename(tmp, file);
}

/**
 * Directory of the fixtures shipped with the project (`fixtures/`), found from this module both
 * in the source tree (drivers/sim/) and in the build (dist/drivers/sim/).
 */
export function fixturesDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../../fixtures'), path.resolve(here, '../../../fixtures')];
  return candidates.find((c) => existsSync(path.join(c, 'cards'))) ?? candidates[0]!;
}

/** Path of a shipped card profile: `cardFixture('card-2.0')` → …/fixtures/cards/card-2.0.json. */
export function cardFixture(name: string): string {
  return path.join(fixturesDir(), 'cards', name.endsWith('.json') ? name : `${name}.json`);
}

/** Path of a shipped PSAM profile: `psamFixture('psam-test')`. */
export function psamFixture(name: string): string {
  return path.join(fixturesDir(), 'psam', name.endsWith('.json') ? name : `${name}.json`);
}

// ---------------------------------------------------------------------------------------------
// PSAM profile
// ---------------------------------------------------------------------------------------------

/**
 * A PSAM's master key table key: `${alg}:${usage}:${p2}` in upper-case hex, e.g. `SM4:82:0A`
 * (algorithm, the `80 1A` P1 usage, the `80 1A` P2 key version or card key id).
 */
export type MasterKeyName = `${Algorithm}:${string}:${string}`;

export function masterKeyName(alg: Algorithm, usage: number, p2: number): MasterKeyName {
  return `${alg}:${hex2(usage)}:${hex2(p2)}`;
}

/**
 * The virtual PSAM: one application DF per algorithm. Which algorithm a `80 1A` INIT uses is the
 * algorithm of the DF selected last (UNCONFIRMED; real social-security PSAMs hold the 3DES and
 * SM4 key sets in separate applications). Default DFs: 3DES `1001`, SM4 `1002`.
 */
export interface PsamProfile {
  readonly label: string;
  readonly atr: Buffer;
  readonly protocol: SimProtocol;
  /** 终端机编号, 12 digits, stored as 6 bytes BCD in the PSAM's EF 0x16. */
  readonly terminalNumber: string;
  /** Application DF per algorithm. */
  readonly applications: Readonly<Partial<Record<Algorithm, number>>>;
  /** Master keys, 16 bytes each, by {@link MasterKeyName}. */
  readonly masterKeys: ReadonlyMap<MasterKeyName, Buffer>;
  /**
   * How COMPUTE MAC folds the last block of an SM4 MAC (UNCONFIRMED, docs/card-conventions.md;
   * default `xor-words`). It must be the card's rule, or the card refuses the MAC with `6988`.
   */
  readonly sm4MacFold: Sm4MacFold;
}

export interface PsamProfileJson {
  $comment?: string;
  label: string;
  atr: string;
  protocol: SimProtocol;
  terminalNumber: string;
  applications: Partial<Record<Algorithm, string>>;
  sm4MacFold?: Sm4MacFold;
  masterKeys: Record<string, string>;
}

const PSAM_KEYS = ['label', 'atr', 'protocol', 'terminalNumber', 'applications', 'sm4MacFold', 'masterKeys'] as const;

/** Validate a parsed PSAM profile; `source` names the file in errors. */
export function parsePsamProfile(json: unknown, source = 'PSAM profile'): PsamProfile {
  const r: ProfileReader = new ProfileReader('PSAM 配置文件', 'PSAM profile', source);
  const o = r.object(json, '(root)', PSAM_KEYS);
  const label = r.string(o, 'label', '');
  const atr = r.hex(o, 'atr', '', { min: 2, max: 33 });
  const protocol = r.oneOf(o, 'protocol', '', PROTOCOLS);
  const terminalNumber = r.string(o, 'terminalNumber', '', {
    pattern: /^\d{12}$/,
    what: ['应为 12 位数字（6 字节 BCD 的终端机编号）', 'must be 12 digits (the 6-byte BCD terminal number)'],
  });
  const appsJson = r.object(o['applications'], 'applications', ALGORITHMS);
  const applications: Partial<Record<Algorithm, number>> = {};
  for (const alg of ALGORITHMS) {
    const df = r.string(appsJson, alg, 'applications', {
      optional: true,
      pattern: /^[0-9A-Fa-f]{4}$/,
      what: ['应为 4 位十六进制的 DF 文件标识，如 "1001"', 'must be a 4-hex-digit DF file identifier such as "1001"'],
    });
    if (df !== undefined) applications[alg] = parseInt(df, 16);
  }
  if (Object.keys(applications).length === 0) {
    r.fail('applications', '至少需要一个应用（"3DES" 或 "SM4"）', 'needs at least one application ("3DES" or "SM4")');
  }
  const sm4MacFold = r.oneOf(o, 'sm4MacFold', '', SM4_MAC_FOLDS, DEFAULT_SM4_MAC_FOLD);
  const keysJson = r.object(o['masterKeys'], 'masterKeys');
  const masterKeys = new Map<MasterKeyName, Buffer>();
  for (const [name, value] of Object.entries(keysJson)) {
    const p = join('masterKeys', name);
    const m = /^(3DES|SM4):([0-9A-Fa-f]{2}):([0-9A-Fa-f]{2})$/.exec(name);
    if (!m) {
      r.fail(p, '键名应为 “算法:用途:P2”，如 "3DES:88:01"、"SM4:82:0A"', 'the key name must be "alg:usage:p2", e.g. "3DES:88:01", "SM4:82:0A"');
    }
    const alg = m[1] as Algorithm;
    if (applications[alg] === undefined) {
      r.fail(p, `没有 ${alg} 应用（applications.${alg}），此密钥无法使用`, `there is no ${alg} application (applications.${alg}), so this key cannot be used`);
    }
    masterKeys.set(masterKeyName(alg, parseInt(m[2]!, 16), parseInt(m[3]!, 16)), r.hexValue(value, p, { length: KEY_HEX_LENGTH }));
  }
  return { label, atr, protocol, terminalNumber, applications, masterKeys, sm4MacFold };
}

export function psamProfileToJson(p: PsamProfile): PsamProfileJson {
  const applications: Partial<Record<Algorithm, string>> = {};
  for (const alg of ALGORITHMS) {
    const df = p.applications[alg];
    if (df !== undefined) applications[alg] = df.toString(16).toUpperCase().padStart(4, '0');
  }
  const masterKeys: Record<string, string> = {};
  for (const [name, key] of p.masterKeys) masterKeys[name] = toHex(key);
  return {
    $comment: 'TEST PSAM: these master keys are public test values, never production keys (fixtures/README.md).',
    label: p.label,
    atr: toHex(p.atr, ' '),
    protocol: p.protocol,
    terminalNumber: p.terminalNumber,
    applications,
    // Written where it matters (an SM4 application) or where it is not the default.
    ...(p.applications.SM4 !== undefined || p.sm4MacFold !== DEFAULT_SM4_MAC_FOLD ? { sm4MacFold: p.sm4MacFold } : {}),
    masterKeys,
  };
}

export async function loadPsamProfile(file: string): Promise<PsamProfile> {
  return parsePsamProfile(await readJson(file, 'PSAM 配置文件', 'PSAM profile'), file);
}

export async function savePsamProfile(file: string, profile: PsamProfile): Promise<void> {
  await writeJsonAtomic(file, psamProfileToJson(profile));
}

// ---------------------------------------------------------------------------------------------
// Card profile
// ---------------------------------------------------------------------------------------------

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

/** Record files of the card, by path name. */
export type RecordFileName = 'EF05' | 'EF06' | 'DF01/EF06';
export const RECORD_FILES: readonly RecordFileName[] = ['EF05', 'EF06', 'DF01/EF06'];

/** DF01 EF06 tag 28: phone number, 15 bytes AN, 00-padded (the encoding is UNCONFIRMED). Record number 1. */
export const PHONE_TAG = 0x28;
export const PHONE_LENGTH = 15;

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
    const p = join('keys', name);
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
    if (!keys.has(name)) r.fail(join('keys', name), `缺少此密钥（${zh}需要）`, `missing (needed for ${en})`);
  }

  const recordOverrides = new Map<RecordFileName, Map<number, Buffer>>();
  if (o['records'] !== undefined) {
    const recJson = r.object(o['records'], 'records', RECORD_FILES);
    for (const f of RECORD_FILES) {
      if (recJson[f] === undefined) continue;
      const fileJson = r.object(recJson[f], join('records', f));
      const m = new Map<number, Buffer>();
      for (const [tagHex, value] of Object.entries(fileJson)) {
        const p = join(join('records', f), tagHex);
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
    if (f.tag !== 0x09) r.wrap(join(keyPath, f.zh), () => encodeField(f.tag, v));
    out[f.key] = v;
  }
  return out;
}

/** The 8-byte diversification factor of a card identification code (16 bytes), per the profile. */
export function diversificationFactor(cardId: Uint8Array, div: CardProfile['diversification'] = { offset: 8, length: 8 }): Buffer {
  return Buffer.from(cardId.subarray(div.offset, div.offset + div.length));
}

/** The card's diversification factor, from its EF05 card identification code. */
export function cardFactor(profile: CardProfile): Buffer {
  return diversificationFactor(Buffer.from(profile.issuer.cardId, 'hex'), profile.diversification);
}

/** Encode the phone number as DF01 EF06 tag 28 holds it. */
export function encodePhone(phone: string): Buffer {
  const out = Buffer.alloc(PHONE_LENGTH);
  out.write(phone, 'latin1');
  return out;
}

/** Decode DF01 EF06 tag 28; undefined when it is not printable ASCII after the 00 padding. */
export function decodePhone(value: Uint8Array): string | undefined {
  let end = value.length;
  while (end > 0 && (value[end - 1] === 0x00 || value[end - 1] === 0x20)) end--;
  const s = Buffer.from(value.subarray(0, end)).toString('latin1');
  return value.length === PHONE_LENGTH && /^[0-9+\- ]*$/.test(s) ? s : undefined;
}

/** The record files as the card holds them: readable data encoded, then raw overrides applied. */
export function cardRecords(profile: CardProfile): Map<RecordFileName, Map<number, Buffer>> {
  const files = new Map<RecordFileName, Map<number, Buffer>>([
    ['EF05', encodeEf05(profile.issuer)],
    ['EF06', encodeEf06(profile.holder)],
    ['DF01/EF06', new Map([[PHONE_TAG, encodePhone(profile.phone)]])],
  ]);
  for (const [f, overrides] of profile.recordOverrides) {
    const m = files.get(f)!;
    for (const [tag, value] of overrides) m.set(tag, Buffer.from(value));
  }
  return files;
}

function sameRecords(a: ReadonlyMap<number, Buffer>, b: ReadonlyMap<number, Buffer>): boolean {
  if (a.size !== b.size) return false;
  for (const [tag, v] of a) {
    const w = b.get(tag);
    if (w === undefined || !w.equals(v)) return false;
  }
  return true;
}

/**
 * Fold record files (as a card holds them after UPDATE RECORD) back into a profile: readable data
 * where it decodes and re-encodes to the same bytes, raw overrides for the rest.
 */
export function withRecords(profile: CardProfile, files: ReadonlyMap<RecordFileName, ReadonlyMap<number, Buffer>>): CardProfile {
  let issuer = profile.issuer;
  let holder = profile.holder;
  let phone = profile.phone;
  const tryDecode = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch {
      return undefined;
    }
  };
  const ef05 = files.get('EF05');
  if (ef05 !== undefined) {
    const d = tryDecode(() => ({ ...decodeEf05(ef05), regionCode: '' }));
    if (d !== undefined && tryDecode(() => sameRecords(encodeEf05(d), ef05)) === true) issuer = d;
  }
  const ef06 = files.get('EF06');
  if (ef06 !== undefined) {
    const d = tryDecode(() => decodeEf06(ef06));
    if (d !== undefined && tryDecode(() => sameRecords(encodeEf06(d), ef06)) === true) holder = d;
  }
  const df01 = files.get('DF01/EF06')?.get(PHONE_TAG);
  if (df01 !== undefined) {
    const d = decodePhone(df01);
    if (d !== undefined && encodePhone(d).equals(df01)) phone = d;
  }
  const base = cardRecords({ ...profile, issuer, holder, phone, recordOverrides: new Map() });
  const recordOverrides = new Map<RecordFileName, Map<number, Buffer>>();
  for (const [f, m] of files) {
    const b = base.get(f)!;
    const diff = new Map<number, Buffer>();
    for (const [tag, v] of m) if (!b.get(tag)?.equals(v)) diff.set(tag, Buffer.from(v));
    if (diff.size > 0) recordOverrides.set(f, diff);
  }
  return { ...profile, issuer, holder, phone, recordOverrides };
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
