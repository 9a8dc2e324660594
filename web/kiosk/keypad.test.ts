import { describe, expect, it } from 'vitest';
import { cryptoRandomInt, dots, keypadLayout } from './keypad.js';

describe('keypadLayout', () => {
  it('unshuffled: the phone layout, clear and enter beside 0', () => {
    expect(keypadLayout(false)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', 'clear', '0', 'enter']);
  });

  it('shuffled: each digit once, clear and enter in place', () => {
    for (let i = 0; i < 50; i++) {
      const l = keypadLayout(true);
      expect(l).toHaveLength(12);
      expect([...l.slice(0, 9), l[10]].sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      expect(l[9]).toBe('clear');
      expect(l[11]).toBe('enter');
    }
  });

  it('shuffles with the random source given (Fisher–Yates): always 0 rotates the digits', () => {
    // j = 0 at every step: i=9 swaps with 0, then 8 with 0, …
    expect(keypadLayout(true, () => 0)).toEqual(['2', '3', '4', '5', '6', '7', '8', '9', '0', 'clear', '1', 'enter']);
  });

  it('every digit reaches every place over many shuffles', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const l = keypadLayout(true);
      l.forEach((k, at) => seen.add(`${k}@${at}`));
    }
    // 10 digits × 10 digit places
    expect([...seen].filter((x) => !x.startsWith('clear') && !x.startsWith('enter'))).toHaveLength(100);
  });
});

describe('cryptoRandomInt', () => {
  it('stays in [0, n)', () => {
    for (const n of [1, 2, 3, 10, 7]) {
      for (let i = 0; i < 200; i++) {
        const x = cryptoRandomInt(n);
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThan(n);
        expect(Number.isInteger(x)).toBe(true);
      }
    }
  });
});

describe('dots', () => {
  it.each([
    [0, ''],
    [1, '●'],
    [6, '●●●●●●'],
    [20, '●●●●●●●●●●●●'],
    [-1, ''],
  ])('%i key events → %s', (n, shown) => {
    expect(dots(n)).toBe(shown);
  });
});
