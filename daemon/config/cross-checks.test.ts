import { describe, expect, it } from 'vitest';
import { isLoopbackHost, readerMatcher } from './cross-checks.js';

describe('helpers', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['localhost', true],
    ['LOCALHOST', true],
    ['::1', true],
    ['[::1]', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.5', false],
    ['128.0.0.1', false],
    ['localhost.example.com', false],
    ['kiosk-07', false],
  ])('isLoopbackHost(%s) = %s', (host, want) => {
    expect(isLoopbackHost(host)).toBe(want);
  });

  it('readerMatcher: substring (any case) or /regex/', () => {
    expect(readerMatcher('acr39')('ACS ACR39U ICC Reader 00 00')).toBe(true);
    expect(readerMatcher('acr39')('Virtual PCD 00 00')).toBe(false);
    expect(readerMatcher('/\\bSAM\\b/')('Reader SAM 01')).toBe(true);
    expect(readerMatcher('/\\bSAM\\b/')('Samsung')).toBe(false);
    expect(readerMatcher('/pcd 00 01$/i')('Virtual PCD 00 01')).toBe(true);
  });
});
