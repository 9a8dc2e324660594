/**
 * Operator passphrases, hashed with scrypt (RFC 7914) from node:crypto.
 *
 * Encoded form (one line, safe in TOML and JSON): `scrypt$N$r$p$<salt base64>$<hash base64>`,
 * e.g. `scrypt$32768$8$1$…$…`. N = 2^15, r = 8, p = 1, a 16-byte random salt and a 32-byte key by
 * default (OWASP's scrypt minimum is N = 2^17 with r = 8, p = 1 for web logins; a terminal's operator
 * list is short and its login rate is limited by the lockout in operators.ts, so 2^15 keeps a
 * login near 0.1 s on a kiosk PC; raise N with `opts.N` and the encoded value carries it).
 *
 * The passphrase is taken as a Buffer so the caller can wipe it; these functions never copy it to
 * a string. `verifyPassphrase` runs scrypt asynchronously (libuv thread pool), so the daemon's
 * event loop is not blocked while an operator logs in.
 */
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { ErrorCode, SsCardError } from '../../core/errors.js';

export interface ScryptParams {
  /** CPU/memory cost, a power of two (2^10 … 2^20). */
  readonly N: number;
  /** Block size (1 … 32). */
  readonly r: number;
  /** Parallelism (1 … 16). */
  readonly p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = Object.freeze({ N: 2 ** 15, r: 8, p: 1 });
export const SALT_BYTES = 16;
export const KEY_BYTES = 32;

const LIMITS = { logNMin: 10, logNMax: 20, rMax: 32, pMax: 16, saltMin: 8, saltMax: 64, keyMin: 16, keyMax: 64 } as const;

export interface ParsedHash extends ScryptParams {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/** scrypt needs 128·N·r bytes per lane; Node's default maxmem (32 MiB) is just too small for N = 2^15, r = 8. */
export function scryptMaxmem(params: ScryptParams): number {
  return 128 * params.N * params.r * (params.p + 1) + 1024 * 1024;
}

function paramsProblem(params: ScryptParams): string | null {
  const { N, r, p } = params;
  if (!Number.isSafeInteger(N) || N < 2 ** LIMITS.logNMin || N > 2 ** LIMITS.logNMax || (N & (N - 1)) !== 0) {
    return `N must be a power of two from 2^${LIMITS.logNMin} to 2^${LIMITS.logNMax}`;
  }
  if (!Number.isSafeInteger(r) || r < 1 || r > LIMITS.rMax) return `r must be an integer from 1 to ${LIMITS.rMax}`;
  if (!Number.isSafeInteger(p) || p < 1 || p > LIMITS.pMax) return `p must be an integer from 1 to ${LIMITS.pMax}`;
  return null;
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;
const INT = /^[1-9][0-9]{0,8}$/;

function decodeB64(s: string): Buffer | null {
  if (!B64.test(s) || s.length % 4 !== 0) return null;
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? b : null;
}

/** Parse an encoded hash; null when it is not in the format (never says why with the value in it). */
export function parseHash(encoded: unknown): ParsedHash | null {
  if (typeof encoded !== 'string' || encoded.length > 400) return null;
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [, n, r, p, salt64, hash64] = parts as [string, string, string, string, string, string];
  if (!INT.test(n) || !INT.test(r) || !INT.test(p)) return null;
  const params: ScryptParams = { N: Number(n), r: Number(r), p: Number(p) };
  if (paramsProblem(params) !== null) return null;
  const salt = decodeB64(salt64);
  const hash = decodeB64(hash64);
  if (salt === null || hash === null) return null;
  if (salt.length < LIMITS.saltMin || salt.length > LIMITS.saltMax || hash.length < LIMITS.keyMin || hash.length > LIMITS.keyMax) return null;
  return { ...params, salt, hash };
}

/** True when `encoded` is a well-formed `scrypt$N$r$p$salt$hash` string within the limits above. */
export function isValidHashFormat(encoded: unknown): encoded is string {
  return parseHash(encoded) !== null;
}

/** What the config schema says is allowed for a hash (English and Chinese). */
export const HASH_FORMAT_TEXT = {
  zh: `scrypt 口令散列，格式 scrypt$N$r$p$<盐 base64>$<散列 base64>（N 为 2^${LIMITS.logNMin}…2^${LIMITS.logNMax} 的 2 的幂）；用 sscard operator hash 生成`,
  en: `an scrypt passphrase hash scrypt$N$r$p$<salt base64>$<hash base64> (N a power of two, 2^${LIMITS.logNMin}…2^${LIMITS.logNMax}); make one with sscard operator hash`,
} as const;

function checkPassphrase(passphrase: unknown): asserts passphrase is Buffer {
  if (!Buffer.isBuffer(passphrase)) {
    throw new SsCardError(ErrorCode.Input_BadOption, { zh: '口令必须以 Buffer 传入（以便用后清零）', en: 'the passphrase must be passed as a Buffer (so it can be wiped after use)' }, { argument: 'passphrase' });
  }
}

/**
 * Hash a passphrase for the configuration (`operators.accounts[].hash`). Synchronous: it is meant
 * for `sscard operator hash`, not for the daemon's request path. Does not wipe `passphrase`; the
 * caller does.
 */
export function hashPassphrase(passphrase: Buffer, opts: Partial<ScryptParams> & { salt?: Buffer } = {}): string {
  checkPassphrase(passphrase);
  const params: ScryptParams = { N: opts.N ?? DEFAULT_SCRYPT.N, r: opts.r ?? DEFAULT_SCRYPT.r, p: opts.p ?? DEFAULT_SCRYPT.p };
  const problem = paramsProblem(params);
  if (problem !== null) {
    throw new SsCardError(ErrorCode.Input_BadOption, { zh: `scrypt 参数无效：${problem}`, en: `bad scrypt parameters: ${problem}` }, { argument: 'opts' });
  }
  const salt = opts.salt ?? randomBytes(SALT_BYTES);
  if (salt.length < LIMITS.saltMin || salt.length > LIMITS.saltMax) {
    throw new SsCardError(ErrorCode.Input_BadOption, { zh: `盐的长度必须为 ${LIMITS.saltMin}…${LIMITS.saltMax} 字节`, en: `the salt must be ${LIMITS.saltMin}…${LIMITS.saltMax} bytes` }, { argument: 'salt' });
  }
  const key = scryptSync(passphrase, salt, KEY_BYTES, { ...params, maxmem: scryptMaxmem(params) });
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

function scryptAsync(passphrase: Buffer, salt: Buffer, keylen: number, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(passphrase, salt, keylen, { ...params, maxmem: scryptMaxmem(params) }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/**
 * Does `passphrase` match `encoded`? Async scrypt, constant-time comparison. Throws Config_Invalid
 * (without quoting the value) when `encoded` is not in the format: the configuration should have
 * refused it. Does not wipe `passphrase`; the caller does.
 */
export async function verifyPassphrase(passphrase: Buffer, encoded: string): Promise<boolean> {
  checkPassphrase(passphrase);
  const parsed = parseHash(encoded);
  if (parsed === null) {
    throw new SsCardError(ErrorCode.Config_Invalid, { zh: `操作员口令散列格式无效：应为${HASH_FORMAT_TEXT.zh}`, en: `an operator passphrase hash is not valid: it must be ${HASH_FORMAT_TEXT.en}` }, { path: 'operators.accounts[].hash' });
  }
  const key = await scryptAsync(passphrase, parsed.salt, parsed.hash.length, parsed);
  try {
    return timingSafeEqual(key, parsed.hash);
  } finally {
    key.fill(0);
  }
}
