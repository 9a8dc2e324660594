import { describe, expect, it } from 'vitest';
import { cleanMedian, latencyAcrossRuns, latencyStats, maximum, median, percentile } from './stats.js';

describe('median, percentile, maximum', () => {
  it.each([
    [[], NaN],
    [[3], 3],
    [[3, 1], 2],
    [[5, 1, 3], 3],
    [[4, 1, 3, 2], 2.5],
  ])('median(%j) = %d', (xs, m) => {
    expect(median(xs)).toBe(m);
  });

  it('does not sort its argument in place', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });

  it('percentile is nearest-rank on an ascending array', () => {
    const s = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(s, 50)).toBe(50);
    expect(percentile(s, 99)).toBe(99);
    expect(percentile(s, 100)).toBe(100);
    expect(percentile(s, 0)).toBe(1);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('maximum is the largest value, NaN for none', () => {
    expect(maximum([1, 9, 3])).toBe(9);
    expect(maximum([])).toBeNaN();
  });
});

describe('latency over runs', () => {
  it('one run: p50, p99 and max of its latencies in any order', () => {
    expect(latencyStats([3, 1, 2, 100])).toEqual({ p50Ms: 2, p99Ms: 100, maxMs: 100 });
  });

  it('the maximum over runs is the worst run’s maximum, not the median of the maxima', () => {
    const runs = [
      { p50Ms: 1, p99Ms: 2, maxMs: 3 },
      { p50Ms: 1, p99Ms: 2, maxMs: 250 },
      { p50Ms: 1, p99Ms: 2, maxMs: 4 },
    ];
    const f = latencyAcrossRuns(runs);
    expect(f.maxMs).toBe(250);
    expect(f.maxMedianMs).toBe(4);
    expect(f.p50MedianMs).toBe(1);
    expect(f.p99MedianMs).toBe(2);
  });
});

describe('cleanMedian', () => {
  it('leaves runs with errors out of the median and counts them', () => {
    expect(cleanMedian([
      { value: 1, errors: 0 },
      { value: 0.1, errors: 400 }, // fast because it failed: must not pull the median down
      { value: 3, errors: 0 },
    ])).toEqual({ median: 2, clean: 2, flagged: 1, errors: 400 });
  });

  it('has no median when no run was clean', () => {
    const c = cleanMedian([{ value: 1, errors: 1 }]);
    expect(c.median).toBeNaN();
    expect(c.flagged).toBe(1);
  });
});
