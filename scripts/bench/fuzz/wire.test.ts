/**
 * The traffic's bytes on the wire (wire.ts): frames of an exact size that are still JSON, and the
 * headers each kind of Host, Origin and credential stands for.
 */
import { describe, expect, it } from 'vitest';
import { authHeader, hostHeader, originHeader, sizedText } from './wire.js';

describe('on the wire', () => {
  it.each(['whitespace', 'string', 'nesting'] as const)('a sized frame filled with %s is exactly maxFrameBytes + delta bytes of JSON', (fill) => {
    for (const delta of [-1, 0, 1, 37]) {
      const text = sizedText({ t: 'sized', kind: delta > 0 ? 'overLimit' : 'nearLimit', delta, fill }, 4096, 12);
      expect(Buffer.byteLength(text), `${fill} ${delta}`).toBe(4096 + delta);
      expect((JSON.parse(text) as { header: { requestId: number } }).header.requestId).toBe(12);
    }
  });

  it('headers of each kind', () => {
    expect(hostHeader('ip', 8080)).toBe('127.0.0.1:8080');
    expect(hostHeader('missing', 8080)).toBeNull();
    expect(hostHeader('foreign', 8080)).toBe('evil.example:8080');
    expect(originHeader('own', 8080)).toBe('http://127.0.0.1:8080');
    expect(originHeader('ownOtherPort', 8080)).toBe('http://127.0.0.1:8081');
    expect(originHeader('none', 8080)).toBeNull();
    expect(authHeader('token', 'sscc_t')).toBe('Bearer sscc_t');
    expect(authHeader('tokenLowerScheme', 'sscc_t')).toBe('bearer sscc_t');
    expect(authHeader('badToken', 'sscc_t')).toMatch(/^Bearer sscc_[\w-]{43}$/);
    expect(authHeader('badToken', 'sscc_t')).not.toBe('Bearer sscc_t');
    expect(authHeader('tokenInQuery', 'sscc_t')).toBeNull();
  });
});
