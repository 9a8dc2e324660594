/**
 * The PSAM profile (fixtures/psam/*.json): one terminal PSAM of the simulator — its ATR, terminal
 * number, application DF per algorithm, master keys and SM4 MAC fold. The JSON form is what people
 * edit (hex strings); {@link PsamProfile} holds Buffers. These are TEST PSAMs: the master keys are
 * in clear (fixtures/README.md).
 */
import { DEFAULT_SM4_MAC_FOLD, SM4_MAC_FOLDS } from '../../apdu/crypto.js';
import type { Algorithm, Sm4MacFold } from '../../apdu/crypto.js';
import { toHex } from '../../apdu/hex.js';
import { readJson, writeJsonAtomic } from './profile-files.js';
import { ALGORITHMS, hex2, joinKey, KEY_HEX_LENGTH, ProfileReader, PROTOCOLS } from './profile-reader.js';
import type { SimProtocol } from './profile-reader.js';

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
    const p = joinKey('masterKeys', name);
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
