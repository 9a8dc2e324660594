/**
 * The validation shared by the simulator's profiles (card-profile.ts, psam-profile.ts): a reader
 * that walks a parsed JSON document and fails with SsCardError(Sim_BadProfile) naming the file,
 * the key path (`keys."82:0A"`, `holder.姓名`) and what is allowed, zh-CN first and English second.
 * Messages never contain a PIN or a key value, only the path to it.
 */
import type { Algorithm } from '../../apdu/crypto.js';
import { toHex } from '../../apdu/hex.js';
import { ErrorCode, fail, isSsCardError } from '../../core/errors.js';

export type Json = Record<string, unknown>;

/** Walks a parsed JSON document and fails with the file name and key path of the first mistake. */
export class ProfileReader {
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
          this.fail(joinKey(keyPath, k), `未知的键；允许的键为 ${allowed.join('、')}`, `unknown key; allowed keys are ${allowed.join(', ')}`);
        }
      }
    }
    return obj;
  }

  public string(obj: Json, key: string, keyPath: string, rule?: { pattern?: RegExp; what?: [zh: string, en: string]; optional?: false }): string;
  public string(obj: Json, key: string, keyPath: string, rule: { pattern?: RegExp; what?: [zh: string, en: string]; optional: true }): string | undefined;
  public string(obj: Json, key: string, keyPath: string, rule: { pattern?: RegExp; what?: [zh: string, en: string]; optional?: boolean } = {}): string | undefined {
    const p = joinKey(keyPath, key);
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
    const p = joinKey(keyPath, key);
    const v = obj[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(p, `应为 ${allowed.map((a) => `"${a}"`).join('、')} 之一`, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
    }
    return v as T;
  }

  public integer(obj: Json, key: string, keyPath: string, min: number, max: number, fallback?: number): number {
    const p = joinKey(keyPath, key);
    const v = obj[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(p, `应为 ${min}..${max} 的整数`, `must be an integer ${min}..${max}`);
    }
    return v;
  }

  public boolean(obj: Json, key: string, keyPath: string, fallback?: boolean): boolean {
    const p = joinKey(keyPath, key);
    const v = obj[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'boolean') this.fail(p, '应为 true 或 false', 'must be true or false');
    return v;
  }

  /** Hex string (spaces allowed) → bytes, with optional exact or maximum length. */
  public hex(obj: Json, key: string, keyPath: string, rule: { length?: number; min?: number; max?: number; optional?: boolean } = {}): Buffer {
    const p = joinKey(keyPath, key);
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

/** `keyPath.key`, the key quoted when it is not a plain name (`keys."82:0A"`). */
export function joinKey(keyPath: string, key: string): string {
  const k = /^[\p{L}_$][\p{L}\p{N}_$]*$/u.test(key) ? key : `"${key}"`;
  return keyPath === '' ? k : `${keyPath}.${k}`;
}

/** Two hex digits, upper case. */
export function hex2(n: number): string {
  return toHex([n & 0xff]);
}

export const ALGORITHMS: readonly Algorithm[] = ['3DES', 'SM4'];
export const PROTOCOLS = ['T0', 'T1'] as const;
export type SimProtocol = (typeof PROTOCOLS)[number];

/** Every key of a profile is 16 bytes (3DES double length, SM4). */
export const KEY_HEX_LENGTH = 16;
