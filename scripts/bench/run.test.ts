import { describe, expect, it } from 'vitest';
import { intOption } from './run.js';

describe('intOption', () => {
  it('names the option it refuses', () => {
    expect(intOption('reps', '3', 1)).toBe(3);
    expect(() => intOption('reps', '0', 1)).toThrow('--reps must be an integer ≥ 1, got "0"');
    expect(() => intOption('sizes', 'x', 0)).toThrow(/--sizes/);
    expect(() => intOption('runs', '', 1)).toThrow(/--runs/);
    expect(() => intOption('runs', '1.5', 1)).toThrow(/--runs/);
  });
});
