import { describe, expect, it } from 'vitest';
import { BenchScratch } from './scratch.js';

describe('BenchScratch', () => {
  it('undoes its steps once, last first; removes its folder after a good run and keeps it after a failed one', async () => {
    const { existsSync } = await import('node:fs');
    const good = new BenchScratch('bench:test', 'sscard-bench-test-', false);
    const order: number[] = [];
    good.steps.push(() => void order.push(1));
    good.steps.push(() => void order.push(2));
    good.steps.push(() => {
      throw new Error('a step that fails does not stop the others');
    });
    good.failed = false;
    await Promise.all([good.run(), good.run()]);
    expect(order).toEqual([2, 1]);
    expect(existsSync(good.dir)).toBe(false);
    const bad = new BenchScratch('bench:test', 'sscard-bench-test-', false);
    await bad.run();
    expect(existsSync(bad.dir)).toBe(true);
    const { rmSync } = await import('node:fs');
    rmSync(bad.dir, { recursive: true, force: true });
  });
});
