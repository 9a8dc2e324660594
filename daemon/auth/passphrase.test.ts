import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import { DEFAULT_SCRYPT, hashPassphrase, isValidHashFormat, parseHash, verifyPassphrase } from './passphrase.js';

const FAST = { N: 1024, r: 8, p: 1 };
const pass = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('hashPassphrase', () => {
  it('encodes scrypt$N$r$p$salt$hash with the defaults N=2^15, r=8, p=1, 16-byte salt, 32-byte key', () => {
    const encoded = hashPassphrase(pass('change-me-now'));
    expect(encoded).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    const p = parseHash(encoded)!;
    expect({ N: p.N, r: p.r, p: p.p }).toEqual(DEFAULT_SCRYPT);
    expect(p.salt).toHaveLength(16);
    expect(p.hash).toHaveLength(32);
    // it is RFC 7914 scrypt of the passphrase and salt, nothing else
    expect(scryptSync('change-me-now', p.salt, 32, { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 })).toEqual(p.hash);
  });

  it('salts: the same passphrase hashes differently each time', () => {
    expect(hashPassphrase(pass('same'), FAST)).not.toBe(hashPassphrase(pass('same'), FAST));
  });

  it('is deterministic with a given salt (golden value)', () => {
    const salt = Buffer.alloc(16, 0x11);
    const encoded = hashPassphrase(pass('change-me-now'), { ...FAST, salt });
    const expected = scryptSync('change-me-now', salt, 32, { N: 1024, r: 8, p: 1 }).toString('base64');
    expect(encoded).toBe(`scrypt$1024$8$1$${salt.toString('base64')}$${expected}`);
  });

  it.each([
    [{ N: 1000 }, /power of two/],
    [{ N: 2 ** 21 }, /power of two/],
    [{ r: 0 }, /r must be/],
    [{ p: 17 }, /p must be/],
  ])('refuses bad parameters %j', (opts, re) => {
    expect(() => hashPassphrase(pass('x'), opts)).toThrow(re);
  });

  it('wants a Buffer (so the caller can wipe it)', () => {
    let err: unknown;
    try {
      hashPassphrase('secret' as unknown as Buffer);
    } catch (e) {
      err = e;
    }
    expect(isSsCardError(err, ErrorCode.Input_BadOption)).toBe(true);
    expect(String(err)).not.toContain('secret');
  });
});

describe('verifyPassphrase', () => {
  const encoded = hashPassphrase(pass('change-me-now'), FAST);

  it('accepts the passphrase and refuses others (async)', async () => {
    const pending = verifyPassphrase(pass('change-me-now'), encoded);
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).resolves.toBe(true);
    await expect(verifyPassphrase(pass('change-me-Now'), encoded)).resolves.toBe(false);
    await expect(verifyPassphrase(pass(''), encoded)).resolves.toBe(false);
  });

  it('verifies a default-cost hash (maxmem is raised enough for N=2^15, r=8)', async () => {
    await expect(verifyPassphrase(pass('pw'), hashPassphrase(pass('pw')))).resolves.toBe(true);
  });

  it('refuses a malformed stored hash with Config_Invalid, without quoting it', async () => {
    const bad = 'scrypt$1024$8$1$c2VjcmV0LXNhbHQ=';
    const err = await verifyPassphrase(pass('x'), bad).catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.Config_Invalid)).toBe(true);
    expect(String(err)).not.toContain('c2VjcmV0');
  });
});

describe('isValidHashFormat', () => {
  const good = hashPassphrase(pass('x'), FAST);
  const [, , , , salt, hash] = good.split('$') as [string, string, string, string, string, string];

  it('accepts what hashPassphrase makes', () => {
    expect(isValidHashFormat(good)).toBe(true);
  });

  it.each([
    ['not a string', 42],
    ['empty', ''],
    ['another algorithm', `bcrypt$1024$8$1$${salt}$${hash}`],
    ['a part missing', `scrypt$1024$8$${salt}$${hash}`],
    ['N not a power of two', `scrypt$1000$8$1$${salt}$${hash}`],
    ['N too small', `scrypt$512$8$1$${salt}$${hash}`],
    ['N with a leading zero', `scrypt$01024$8$1$${salt}$${hash}`],
    ['r zero', `scrypt$1024$0$1$${salt}$${hash}`],
    ['salt not base64', `scrypt$1024$8$1$not*base64*salt!!$${hash}`],
    ['salt too short', `scrypt$1024$8$1$AAAA$${hash}`],
    ['hash too short', `scrypt$1024$8$1$${salt}$AAAAAAAA`],
    ['base64 without padding', `scrypt$1024$8$1$${salt.replace(/=+$/, '')}$${hash}`],
    ['trailing space', `${good} `],
  ])('refuses %s', (_name, value) => {
    expect(isValidHashFormat(value)).toBe(false);
  });
});
