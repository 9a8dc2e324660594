import { describe, expect, it } from 'vitest';
import { concatBytes, copyBytes, deriveSecret, isSecret, markSecret, wipe } from './secret.js';

describe('secret marks (core/secret.ts)', () => {
  it('a marked buffer is secret; a plain one, a copy made without the helpers and a non-buffer are not', () => {
    const s = markSecret(Buffer.from('123456'));
    expect(isSecret(s)).toBe(true);
    expect(isSecret(Buffer.from('123456'))).toBe(false);
    expect(isSecret(Buffer.from(s))).toBe(false);
    expect(isSecret('123456')).toBe(false);
    expect(isSecret(undefined)).toBe(false);
  });

  it('concat, copy and derive carry the mark over when any source is secret, and only then', () => {
    const s = markSecret(Buffer.from([0x12, 0x34, 0x56]));
    const p = Buffer.from([0x80, 0x5e]);
    expect(isSecret(concatBytes([p, s]))).toBe(true);
    expect(isSecret(concatBytes([p, p]))).toBe(false);
    expect(isSecret(copyBytes(s))).toBe(true);
    expect(isSecret(copyBytes(p))).toBe(false);
    expect(isSecret(deriveSecret(Buffer.alloc(4), p, undefined, s))).toBe(true);
    expect(isSecret(deriveSecret(Buffer.alloc(4), p, undefined))).toBe(false);
    expect(concatBytes([p, s]).toString('hex')).toBe('805e123456');
  });

  it('wipe zeroes every buffer and skips undefined', () => {
    const a = Buffer.from('1234');
    const b = new Uint8Array([1, 2, 3]);
    wipe(a, undefined, b);
    expect([...a, ...b].every((x) => x === 0)).toBe(true);
  });
});
