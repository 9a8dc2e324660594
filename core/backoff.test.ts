import { describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from './errors.js';
import { backoffDelay, checkBackoff } from './backoff.js';

describe('backoffDelay', () => {
  const o = checkBackoff({ baseMs: 100, maxMs: 5000, factor: 2 });

  it('doubles per failure up to the ceiling, at the top of the jitter range', () => {
    const top = [1, 2, 3, 4, 5, 6, 7, 50, 10_000].map((n) => backoffDelay(n, o, () => 0.999999));
    expect(top).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
  });

  it('never waits less than half the step (equal jitter)', () => {
    expect([1, 2, 3, 8].map((n) => backoffDelay(n, o, () => 0))).toEqual([50, 100, 200, 2500]);
  });

  it('spreads retries between half and all of the step', () => {
    const ds = Array.from({ length: 200 }, () => backoffDelay(4, o));
    expect(Math.min(...ds)).toBeGreaterThanOrEqual(400);
    expect(Math.max(...ds)).toBeLessThanOrEqual(800);
    expect(new Set(ds).size).toBeGreaterThan(20);
  });

  it('names a bad option', () => {
    try {
      checkBackoff({ baseMs: 10, maxMs: 5 }, { code: ErrorCode.Sync_Config });
      expect.fail('accepted maxMs < baseMs');
    } catch (err) {
      expect(isSsCardError(err, ErrorCode.Sync_Config)).toBe(true);
      expect((err as Error).message).toContain('backoff.maxMs');
    }
    expect(() => checkBackoff({ baseMs: 0 }, { name: (o) => (o === 'baseMs' ? 'backoffInitialMs' : o) })).toThrow(/backoffInitialMs/);
  });
});
