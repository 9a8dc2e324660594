/**
 * Block-cipher primitives for the social security card: ECB with two-key 3DES or SM4, ISO/IEC 9797-1
 * padding method 2, the DES retail MAC (ISO/IEC 9797-1:2011 MAC algorithm 3), the SM4 CBC-MAC
 * with the last block folded to 4 bytes by a profile-chosen rule ({@link Sm4MacFold}), and PBOC key
 * diversification.
 *
 * Pure: no I/O, only node:crypto. Node 20 ships OpenSSL 3, whose default provider has `sm4-ecb`
 * (GB/T 32907-2016) and `des-ede-ecb` (two-key TDES, NIST SP 800-67) but not single DES; single DES
 * is computed as `des-ede-ecb` with the key K ‖ K (E_K ∘ D_K ∘ E_K = E_K).
 *
 * Key material never appears in an error message or context; buffers this module creates that
 * hold key material are wiped (`fill(0)`) before returning.
 */
import { createCipheriv, createDecipheriv, timingSafeEqual } from 'node:crypto';
import { ErrorCode, fail } from '../core/errors.js';

export type Algorithm = '3DES' | 'SM4';

/** Every key this module takes is 16 bytes: two-key 3DES (K1 ‖ K2) or SM4. */
export const KEY_LENGTH = 16;

/** Length of the MACs computed by {@link mac}, {@link retailMac} and {@link sm4Mac}. */
export const MAC_LENGTH = 4;

function checkAlgorithm(alg: unknown): asserts alg is Algorithm {
  if (alg !== '3DES' && alg !== 'SM4') {
    fail(
      ErrorCode.Input_BadOption,
      `未知的算法 “${String(alg)}”：只支持 3DES（二代卡）和 SM4（三代卡）`,
      `Unknown algorithm "${String(alg)}": only 3DES (2nd-generation cards) and SM4 (3rd-generation cards) are supported`,
      { argument: 'alg' },
    );
  }
}

export function blockSize(alg: Algorithm): 8 | 16 {
  checkAlgorithm(alg);
  return alg === 'SM4' ? 16 : 8;
}

function checkBytes(value: unknown, argument: string, code: ErrorCode): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    fail(code, `参数 ${argument} 必须是字节数组（Uint8Array/Buffer）`, `Argument ${argument} must be bytes (Uint8Array/Buffer)`, { argument });
  }
}

function checkKey(key: unknown, argument = 'key', length = KEY_LENGTH): asserts key is Uint8Array {
  checkBytes(key, argument, ErrorCode.Crypto_BadKey);
  if (key.length !== length) {
    fail(
      ErrorCode.Crypto_BadKey,
      `密钥参数 ${argument} 的长度应为 ${length} 字节，实际为 ${key.length} 字节：请检查卡片/PSAM 配置中的密钥`,
      `Key argument ${argument} must be ${length} bytes, got ${key.length}: check the key in the card/PSAM profile`,
      { argument, expected: length, actual: key.length },
    );
  }
}

function checkIv(iv: unknown, length: number): asserts iv is Uint8Array {
  checkBytes(iv, 'iv', ErrorCode.Crypto_BadData);
  if (iv.length !== length) {
    fail(
      ErrorCode.Crypto_BadData,
      `初始向量 iv 的长度应为 ${length} 字节（分组长度，即 GET CHALLENGE 的随机数），实际为 ${iv.length} 字节`,
      `The IV must be ${length} bytes (the block size, i.e. the GET CHALLENGE random), got ${iv.length}`,
      { argument: 'iv', expected: length, actual: iv.length },
    );
  }
}

function checkWholeBlocks(data: unknown, bs: number, argument = 'data'): asserts data is Uint8Array {
  checkBytes(data, argument, ErrorCode.Crypto_BadData);
  if (data.length === 0 || data.length % bs !== 0) {
    fail(
      ErrorCode.Crypto_BadData,
      `参数 ${argument} 的长度必须是分组长度 ${bs} 字节的正整数倍，实际为 ${data.length} 字节`,
      `Argument ${argument} must be a positive multiple of the ${bs}-byte block size, got ${data.length} bytes`,
      { argument, blockSize: bs, actual: data.length },
    );
  }
}

/** OpenSSL cipher name and the key it wants; the caller wipes the key it gets back. */
function cipherFor(alg: Algorithm, key: Uint8Array): { name: string; key: Buffer } {
  // Copy: the caller's key stays the caller's; our copy is wiped after use.
  return { name: alg === 'SM4' ? 'sm4-ecb' : 'des-ede-ecb', key: Buffer.from(key) };
}

function ecb(name: string, key: Uint8Array, data: Uint8Array, decrypt: boolean): Buffer {
  const c = decrypt ? createDecipheriv(name, key, null) : createCipheriv(name, key, null);
  c.setAutoPadding(false);
  const head = c.update(data);
  const tail = c.final();
  if (tail.length === 0) return head;
  const out = Buffer.concat([head, tail]);
  head.fill(0);
  return out;
}

/** ECB encryption of whole blocks. 3DES: two-key EDE, key K1 ‖ K2 (16 bytes); SM4: 16-byte key. */
export function encryptBlocks(alg: Algorithm, key: Uint8Array, data: Uint8Array): Buffer {
  const bs = blockSize(alg);
  checkKey(key);
  checkWholeBlocks(data, bs);
  const c = cipherFor(alg, key);
  try {
    return ecb(c.name, c.key, data, false);
  } finally {
    c.key.fill(0);
  }
}

/** ECB decryption of whole blocks; see {@link encryptBlocks}. */
export function decryptBlocks(alg: Algorithm, key: Uint8Array, data: Uint8Array): Buffer {
  const bs = blockSize(alg);
  checkKey(key);
  checkWholeBlocks(data, bs);
  const c = cipherFor(alg, key);
  try {
    return ecb(c.name, c.key, data, true);
  } finally {
    c.key.fill(0);
  }
}

/**
 * ISO/IEC 9797-1 padding method 2 (= ISO/IEC 7816-4 padding): append `80`, then `00` up to a whole
 * number of blocks. Always appends, so an already block-aligned message grows by one block.
 */
export function padIso9797M2(data: Uint8Array, blockSize: number): Buffer {
  checkBytes(data, 'data', ErrorCode.Crypto_BadData);
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > 255) {
    fail(
      ErrorCode.Crypto_BadData,
      `分组长度 blockSize 必须是 1..255 的整数，实际为 ${blockSize}`,
      `blockSize must be an integer 1..255, got ${blockSize}`,
      { argument: 'blockSize' },
    );
  }
  const padded = Buffer.alloc((Math.floor(data.length / blockSize) + 1) * blockSize);
  padded.set(data, 0);
  padded[data.length] = 0x80;
  return padded;
}

/** XOR `b` into `a` in place (same length). */
function xorInto(a: Buffer, b: Uint8Array, bOffset = 0): void {
  for (let i = 0; i < a.length; i++) a[i] = a[i]! ^ b[bOffset + i]!;
}

/** Byte-wise XOR of two equal-length arrays into a new Buffer. */
export function xor(a: Uint8Array, b: Uint8Array): Buffer {
  checkBytes(a, 'a', ErrorCode.Crypto_BadData);
  checkBytes(b, 'b', ErrorCode.Crypto_BadData);
  if (a.length !== b.length) {
    fail(
      ErrorCode.Crypto_BadData,
      `异或的两个参数长度不同：a 为 ${a.length} 字节，b 为 ${b.length} 字节`,
      `XOR operands differ in length: a is ${a.length} bytes, b is ${b.length}`,
      { a: a.length, b: b.length },
    );
  }
  const out = Buffer.from(a);
  xorInto(out, b);
  return out;
}

/**
 * CBC chaining over whole blocks with ECB primitive `name`/`key`: returns the last ciphertext block.
 * Intermediate chaining values are wiped.
 */
function cbcLastBlock(name: string, key: Uint8Array, iv: Uint8Array, padded: Buffer, bs: number): Buffer {
  const state = Buffer.from(iv);
  for (let off = 0; off < padded.length; off += bs) {
    xorInto(state, padded, off);
    const next = ecb(name, key, state, false);
    next.copy(state);
    next.fill(0);
  }
  return state;
}

/**
 * ISO/IEC 9797-1:2011 MAC algorithm 3 (the "retail MAC", ANSI X9.19) with padding method 2:
 * H0 = iv; Hi = DES_K1(Di ⊕ Hi−1); G = DES_K1(DES⁻¹_K2(Hq)); the MAC is the leftmost 4 bytes of G.
 * `key` is K1 ‖ K2 (16 bytes); `iv` is the 8-byte card challenge (zero in the ISO examples).
 */
export function retailMac(key: Uint8Array, iv: Uint8Array, message: Uint8Array): Buffer {
  checkKey(key);
  checkIv(iv, 8);
  checkBytes(message, 'message', ErrorCode.Crypto_BadData);
  const k1k1 = Buffer.alloc(16);
  const k2k2 = Buffer.alloc(16);
  k1k1.set(key.subarray(0, 8), 0);
  k1k1.set(key.subarray(0, 8), 8);
  k2k2.set(key.subarray(8, 16), 0);
  k2k2.set(key.subarray(8, 16), 8);
  const padded = padIso9797M2(message, 8);
  let h: Buffer | undefined;
  let d: Buffer | undefined;
  let g: Buffer | undefined;
  try {
    h = cbcLastBlock('des-ede-ecb', k1k1, iv, padded, 8);
    d = ecb('des-ede-ecb', k2k2, h, true);
    g = ecb('des-ede-ecb', k1k1, d, false);
    return Buffer.from(g.subarray(0, MAC_LENGTH));
  } finally {
    k1k1.fill(0);
    k2k2.fill(0);
    padded.fill(0);
    h?.fill(0);
    d?.fill(0);
    g?.fill(0);
  }
}

/**
 * How the last 16-byte block of the SM4 CBC-MAC becomes the 4-byte MAC of a card command. Which
 * rule the social security card uses is **UNCONFIRMED** (docs/card-conventions.md, "MACs on card
 * commands"), so the card and PSAM profiles choose it (`sm4MacFold`):
 * - `xor-words`: XOR of the block's four 32-bit words. The project's domain notes
 *   (docs/domain.md §3) state it; no independent published source or test vector was found.
 *   The default, so profiles without the setting behave as before.
 * - `left4`: the leftmost 4 bytes — the truncation MSB₃₂ of ISO/IEC 9797-1:2011 MAC algorithm 1
 *   (GB/T 15852.1-2020 MAC 算法 1, whose Annex B gives SM4 examples), the same "leftmost 4 bytes"
 *   the DES retail MAC uses.
 */
export type Sm4MacFold = 'xor-words' | 'left4';

/** Every {@link Sm4MacFold}, in the order error messages list them. */
export const SM4_MAC_FOLDS: readonly Sm4MacFold[] = ['xor-words', 'left4'];

/** The rule a profile without `sm4MacFold` uses. */
export const DEFAULT_SM4_MAC_FOLD: Sm4MacFold = 'xor-words';

/** Eager check of the `sm4MacFold` option: Input_BadOption naming the option and the allowed values. */
export function checkSm4MacFold(fold: unknown): asserts fold is Sm4MacFold {
  if (!(SM4_MAC_FOLDS as readonly unknown[]).includes(fold)) {
    const allowed = SM4_MAC_FOLDS.map((f) => `"${f}"`);
    fail(
      ErrorCode.Input_BadOption,
      `选项 sm4MacFold（SM4 MAC 末块折叠规则）的值 “${String(fold)}” 无效：应为 ${allowed.join('、')} 之一。请改正卡片/PSAM 配置（参见 docs/card-conventions.md）`,
      `Option sm4MacFold (how the SM4 MAC folds its last block) is "${String(fold)}": it must be one of ${allowed.join(', ')}. Fix the card/PSAM profile (see docs/card-conventions.md)`,
      { option: 'sm4MacFold', allowed: [...SM4_MAC_FOLDS] },
    );
  }
}

/**
 * SM4 CBC-MAC over whole blocks, no padding: H0 = iv; Hi = SM4_K(Di ⊕ Hi−1); returns Hq, the full
 * 16-byte last block (ISO/IEC 9797-1:2011 MAC algorithm 1 before truncation; its H0 is zero, the
 * card's is the GET CHALLENGE random). {@link sm4Mac} pads and folds this block.
 */
export function sm4CbcMac(key: Uint8Array, iv: Uint8Array, blocks: Uint8Array): Buffer {
  checkKey(key);
  checkIv(iv, 16);
  checkWholeBlocks(blocks, 16);
  const k = Buffer.from(key);
  const data = Buffer.from(blocks);
  try {
    return cbcLastBlock('sm4-ecb', k, iv, data, 16);
  } finally {
    k.fill(0);
    data.fill(0);
  }
}

/** Fold a 16-byte CBC-MAC block to the 4-byte MAC by `fold` (see {@link Sm4MacFold}). */
function foldSm4Block(last: Buffer, fold: Sm4MacFold): Buffer {
  const out = Buffer.alloc(MAC_LENGTH);
  if (fold === 'left4') {
    last.copy(out, 0, 0, MAC_LENGTH);
  } else {
    for (let i = 0; i < MAC_LENGTH; i++) out[i] = last[i]! ^ last[4 + i]! ^ last[8 + i]! ^ last[12 + i]!;
  }
  return out;
}

/**
 * SM4 MAC as the 3rd-generation card uses it (docs/card-conventions.md): padding method 2 to
 * 16-byte blocks, SM4-CBC from `iv` (the 16-byte challenge), then the last ciphertext block folded
 * to 4 bytes by `fold` (default {@link DEFAULT_SM4_MAC_FOLD}; the rule is UNCONFIRMED, a profile setting).
 */
export function sm4Mac(key: Uint8Array, iv: Uint8Array, message: Uint8Array, fold: Sm4MacFold = DEFAULT_SM4_MAC_FOLD): Buffer {
  checkSm4MacFold(fold);
  checkKey(key);
  checkIv(iv, 16);
  checkBytes(message, 'message', ErrorCode.Crypto_BadData);
  const padded = padIso9797M2(message, 16);
  let last: Buffer | undefined;
  try {
    last = sm4CbcMac(key, iv, padded);
    return foldSm4Block(last, fold);
  } finally {
    padded.fill(0);
    last?.fill(0);
  }
}

/** Options of {@link mac}. */
export interface MacOptions {
  /** How an SM4 MAC folds its last block (default {@link DEFAULT_SM4_MAC_FOLD}); 3DES ignores it. */
  readonly sm4MacFold?: Sm4MacFold;
}

/**
 * The card command MAC for `alg`: {@link retailMac} (3DES, 8-byte iv) or {@link sm4Mac} (SM4,
 * 16-byte iv, folded by `options.sm4MacFold`). The option is checked even for 3DES, so a profile
 * mistake shows on the first MAC, not only on an SM4 card.
 */
export function mac(alg: Algorithm, key: Uint8Array, iv: Uint8Array, message: Uint8Array, options: MacOptions = {}): Buffer {
  checkAlgorithm(alg);
  const fold = options.sm4MacFold ?? DEFAULT_SM4_MAC_FOLD;
  checkSm4MacFold(fold);
  return alg === 'SM4' ? sm4Mac(key, iv, message, fold) : retailMac(key, iv, message);
}

/**
 * PBOC key diversification of a 16-byte master key with an 8-byte factor (docs/card-conventions.md):
 * 3DES: E_K(f) ‖ E_K(~f); SM4: E_K(f ‖ ~f). Returns the 16-byte card key (the caller wipes it).
 */
export function diversify(alg: Algorithm, masterKey: Uint8Array, factor: Uint8Array): Buffer {
  checkAlgorithm(alg);
  checkKey(masterKey, 'masterKey');
  checkBytes(factor, 'factor', ErrorCode.Crypto_BadData);
  if (factor.length !== 8) {
    fail(
      ErrorCode.Crypto_BadData,
      `分散因子 factor 的长度应为 8 字节，实际为 ${factor.length} 字节`,
      `The diversification factor must be 8 bytes, got ${factor.length}`,
      { argument: 'factor', expected: 8, actual: factor.length },
    );
  }
  const input = Buffer.alloc(16);
  input.set(factor, 0);
  for (let i = 0; i < 8; i++) input[8 + i] = ~factor[i]! & 0xff;
  try {
    // 3DES ECB over the two 8-byte blocks f, ~f is exactly E_K(f) ‖ E_K(~f).
    return encryptBlocks(alg, masterKey, input);
  } finally {
    input.fill(0);
  }
}

/** Constant-time comparison (for MACs and cryptograms); different lengths → false. */
export function macEquals(a: Uint8Array, b: Uint8Array): boolean {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array)) return false;
  if (a.length !== b.length) {
    // Still spend the time of a comparison so length is the only thing that leaks.
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}
