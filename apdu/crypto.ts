/**
 * Block-cipher primitives for the social security card: ECB with two-key 3DES or SM4, ISO/IEC 9797-1
 * padding method 2, the DES retail MAC (ISO/IEC 9797-1:2011 MAC algorithm 3), the SM4 CBC-MAC
 * with the last block folded to 4 bytes, and PBOC key diversification.
 *
 * Pure: no I/O, only node:crypto. Node 20 ships OpenSSL 3, whose default provider has `sm4-ecb`
 * (GB/T 32907-2016) and `des-ede-ecb` (two-key TDES, NIST SP 800-67) but not single DES; single DES
 * is computed as `des-ede-ecb` with the key K ‖ K (E_K ∘ D_K ∘ E_K = E_K).
 *
 * Key material never appears in an error message or context; buffers this module creates that
 * hold key material are wiped (`fill(0)`) before returning.
 */
import { createCipheriv, createDecipheriv, timingSafeEqual } from 'node:crypto';
import { ErrorCode, fail } from './errors.js';

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
 * SM4 MAC as the 3rd-generation card uses it (docs/card-conventions.md): padding method 2 to
 * 16-byte blocks, SM4-CBC from `iv` (the 16-byte challenge), then the last ciphertext block
 * folded by XOR of its four 32-bit words → 4 bytes.
 */
export function sm4Mac(key: Uint8Array, iv: Uint8Array, message: Uint8Array): Buffer {
  checkKey(key);
  checkIv(iv, 16);
  checkBytes(message, 'message', ErrorCode.Crypto_BadData);
  const k = Buffer.from(key);
  const padded = padIso9797M2(message, 16);
  let last: Buffer | undefined;
  try {
    last = cbcLastBlock('sm4-ecb', k, iv, padded, 16);
    const out = Buffer.alloc(MAC_LENGTH);
    for (let i = 0; i < MAC_LENGTH; i++) out[i] = last[i]! ^ last[4 + i]! ^ last[8 + i]! ^ last[12 + i]!;
    return out;
  } finally {
    k.fill(0);
    padded.fill(0);
    last?.fill(0);
  }
}

/** The card command MAC for `alg`: {@link retailMac} (3DES, 8-byte iv) or {@link sm4Mac} (SM4, 16-byte iv). */
export function mac(alg: Algorithm, key: Uint8Array, iv: Uint8Array, message: Uint8Array): Buffer {
  checkAlgorithm(alg);
  return alg === 'SM4' ? sm4Mac(key, iv, message) : retailMac(key, iv, message);
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
