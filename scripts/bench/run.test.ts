import { describe, expect, it } from 'vitest';
import { intOption, step, waitFor } from './run.js';

describe('intOption', () => {
  it('names the option it refuses', () => {
    expect(intOption('reps', '3', 1)).toBe(3);
    expect(() => intOption('reps', '0', 1)).toThrow('--reps must be an integer ≥ 1, got "0"');
    expect(() => intOption('sizes', 'x', 0)).toThrow(/--sizes/);
    expect(() => intOption('runs', '', 1)).toThrow(/--runs/);
    expect(() => intOption('runs', '1.5', 1)).toThrow(/--runs/);
  });
});

describe('step and waitFor', () => {
  it('step names what did not answer in time, and passes on what did', async () => {
    await expect(step('card process (counts)', 20, new Promise(() => undefined))).rejects.toThrow('card process (counts): no answer within 20 ms');
    await expect(step('quick', 1000, Promise.resolve(7))).resolves.toBe(7);
  });

  it('waitFor returns once the condition holds, fails after its time, and at once when told why', async () => {
    let n = 0;
    await waitFor(() => ++n >= 3, 2000, 'never');
    expect(n).toBe(3);
    await expect(waitFor(() => false, 60, 'the socket did not appear')).rejects.toThrow('the socket did not appear (waited 60 ms)');
    const t0 = Date.now();
    await expect(waitFor(() => false, 5000, 'x', () => 'pcscd ended')).rejects.toThrow('pcscd ended');
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
