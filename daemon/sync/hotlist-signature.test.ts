import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../core/errors.js';
import { assertSsCardError } from '../../testing/util.js';
import { hotlistPublicKey, hotlistSignatureValid, hotlistSignedBytes, loadHotlistKey, signHotlist } from './hotlist-signature.js';

const platform = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');
const A = '410402D156000005AAAAAAAAAAAAAAAA';
const B = '410402D156000005BBBBBBBBBBBBBBBB';
const delta = { version: '1043', full: false, add: [A], remove: [B] };

describe('the hotlist signature (Ed25519 over the answer and the version asked from)', () => {
  it('verifies what the platform signed', () => {
    const sig = signHotlist(platform.privateKey, delta, '1042');
    expect(hotlistSignatureValid(platform.publicKey, delta, '1042', sig)).toBe(true);
    const first = { version: '7', full: true, add: [A, B], remove: [] };
    expect(hotlistSignatureValid(platform.publicKey, first, null, signHotlist(platform.privateKey, first, null))).toBe(true);
  });

  it.each<[string, Parameters<typeof hotlistSignatureValid>[1], string | null]>([
    ['a card taken off the list', { ...delta, add: [] }, '1042'],
    ['a card put on the list', { ...delta, add: [A, B] }, '1042'],
    ['a removal dropped', { ...delta, remove: [] }, '1042'],
    ['another version', { ...delta, version: '1044' }, '1042'],
    ['a delta made whole', { ...delta, full: true }, '1042'],
    ['replayed to a terminal at another version', delta, '1041'],
    ['replayed to a first pull', delta, null],
  ])('refuses %s', (_what, changed, since) => {
    const sig = signHotlist(platform.privateKey, delta, '1042');
    expect(hotlistSignatureValid(platform.publicKey, changed, since, sig)).toBe(false);
  });

  it('refuses another key\'s signature, none, and garbage', () => {
    expect(hotlistSignatureValid(platform.publicKey, delta, '1042', signHotlist(stranger.privateKey, delta, '1042'))).toBe(false);
    expect(hotlistSignatureValid(platform.publicKey, delta, '1042', undefined)).toBe(false);
    expect(hotlistSignatureValid(platform.publicKey, delta, '1042', 'not base64!')).toBe(false);
    expect(hotlistSignatureValid(platform.publicKey, delta, '1042', Buffer.alloc(64).toString('base64'))).toBe(false);
  });

  it('the signed bytes: context, since, version, full, the lists — in that order', () => {
    expect(hotlistSignedBytes(delta, '1042').toString('utf8')).toBe(`sscard-hotlist-v1\n1042\n1043\n0\n${A}\n${B}`);
  });

  it('the terminal\'s key file: an Ed25519 public key, or Config_Invalid naming the file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sscard-hotlist-key-'));
    try {
      const good = path.join(dir, 'hotlist.pub');
      writeFileSync(good, platform.publicKey.export({ type: 'spki', format: 'pem' }));
      expect(loadHotlistKey(good)?.equals(platform.publicKey)).toBe(true);
      expect(loadHotlistKey(undefined)).toBeUndefined();
      const rsa = path.join(dir, 'rsa.pub');
      writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }));
      expect(assertSsCardError(() => loadHotlistKey(rsa), ErrorCode.Config_Invalid).message).toMatch(/rsa\.pub.*Ed25519/s);
      const junk = path.join(dir, 'junk.pub');
      writeFileSync(junk, 'hello');
      assertSsCardError(() => loadHotlistKey(junk), ErrorCode.Config_Invalid);
      assertSsCardError(() => loadHotlistKey(path.join(dir, 'missing.pub')), ErrorCode.Config_Invalid);
      expect(() => hotlistPublicKey(platform.privateKey.export({ type: 'pkcs8', format: 'pem' }))).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
