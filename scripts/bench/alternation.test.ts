import { describe, expect, it } from 'vitest';
import { alternation, runsOf } from './alternation.js';

describe('alternation', () => {
  it.each([
    [0, 'ABBA', ''],
    [1, 'ABBA', 'AB'],
    [3, 'ABBA', 'ABBAAB'],
    [4, 'ABBA', 'ABBAABBA'],
    [3, 'ABAB', 'ABABAB'],
  ] as const)('%d repetitions %s → %s', (reps, pattern, order) => {
    expect(alternation(reps, pattern).join('')).toBe(order);
  });

  it('gives both paths as many repetitions and never runs one path’s all before the other', () => {
    for (let reps = 1; reps <= 9; reps++) {
      const o = alternation(reps);
      expect(o.filter((x) => x === 'A')).toHaveLength(reps);
      expect(o.filter((x) => x === 'B')).toHaveLength(reps);
      expect(Math.max(...runsOf(o).map(([, n]) => n))).toBeLessThanOrEqual(2);
    }
  });

  it('ABBA cancels a linear drift when the repetitions are even', () => {
    const o = alternation(4);
    const mean = (p: string): number => o.reduce((a, x, i) => a + (x === p ? i : 0), 0) / 4;
    expect(mean('A')).toBe(mean('B'));
  });

  it('runsOf groups consecutive repetitions of a path', () => {
    expect(runsOf(alternation(3))).toEqual([['A', 1], ['B', 2], ['A', 2], ['B', 1]]);
    expect(runsOf([])).toEqual([]);
  });

  it('refuses a negative count', () => {
    expect(() => alternation(-1)).toThrow(/reps/);
  });
});
