import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  BenchScratch,
  ErrorTally,
  alternation,
  answerError,
  cleanMedian,
  errorsOf,
  intOption,
  judge,
  latencyAcrossRuns,
  latencyStats,
  maximum,
  median,
  percentile,
  repOf,
  runLoops,
  runsOf,
  statusWord,
  summarise,
  verdictText,
} from './bench-kit.js';

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

describe('status words', () => {
  it.each([
    ['9000', undefined],
    ['01020304050607089000', undefined],
    ['6A82', 'SW 6A82'],
    ['0102030405060708 6A82', 'SW 6A82'],
    ['6108', 'SW 6108'], // a bare transmit does not fetch the rest: not a success
    ['6D00', 'SW 6D00'],
    ['90', 'answer of 1 byte, no status word'],
    ['', 'answer of 0 bytes, no status word'],
  ])('answer %s → %s', (hex, why) => {
    expect(answerError(Buffer.from(hex.replace(/ /g, ''), 'hex'))).toBe(why);
  });

  it('statusWord reads the last two bytes', () => {
    expect(statusWord(Buffer.from('AB6283', 'hex'))).toBe(0x6283);
    expect(statusWord(Buffer.from('90', 'hex'))).toBeUndefined();
  });
});

describe('ErrorTally', () => {
  it('counts by reason, commonest first, and sums', () => {
    const a = new ErrorTally().add('x').add('y', 3);
    const b = new ErrorTally().add('x', 5);
    expect(a.count).toBe(4);
    expect(a.top()).toEqual(['y', 3]);
    const s = ErrorTally.sum([a, b]);
    expect(s.count).toBe(9);
    expect(s.toRecord()).toEqual({ x: 6, y: 3 });
    expect(s.toString()).toBe('6× x; 3× y');
    expect(new ErrorTally().toString()).toBe('');
  });
});

describe('targets', () => {
  it('a figure within its target is met only without errors', () => {
    expect(judge(true, 0).met).toBe(true);
    expect(judge(true, 1).met).toBe(false);
    expect(judge(false, 0).met).toBe(false);
    expect(judge(null, 0).met).toBeNull();
    expect(judge(null, 4).met).toBe(false);
  });

  it('says why a target within the figure is not met', () => {
    expect(verdictText(judge(true, 0))).toBe('met');
    expect(verdictText(judge(true, 3))).toBe('NOT met: 3 errors in the run (the figure alone is within)');
    expect(verdictText(judge(false, 0))).toBe('NOT met');
    expect(verdictText(judge(false, 2))).toBe('NOT met (and 2 errors in the run)');
    expect(verdictText(judge(false, 1))).toBe('NOT met (and 1 error in the run)');
    expect(verdictText(judge(null, 0))).toBe('n/a');
    expect(verdictText(judge(null, 7))).toBe('NOT met: 7 errors in the run');
  });

  it('the card process’s errors stand against a figure like failed flows do', () => {
    expect(errorsOf([{ errors: 0, cardProcessErrors: 0 }, { errors: 0, cardProcessErrors: 0 }])).toBe(0);
    expect(errorsOf([{ errors: 0, cardProcessErrors: 2 }, { errors: 0 }])).toBe(2);
    expect(errorsOf([{ errors: 1, cardProcessErrors: 2 }, null])).toBe(3);
    expect(judge(true, errorsOf([{ errors: 0, cardProcessErrors: 1 }])).met).toBe(false);
  });
});

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

describe('repetitions of bench:api', () => {
  const ok = (flows: number) => ({ flows, latencies: Array.from({ length: flows }, () => 2), errors: new ErrorTally() });

  it('a reader dropped during a repetition is not counted among the readers that completed it', () => {
    const rep = repOf([ok(10), { ...ok(3), errors: new ErrorTally().add('VerifyPin: timeout', 20), dropped: { afterMs: 800, reason: 'VerifyPin: timeout' } }, ok(10), ok(10)], 1000);
    expect(rep.readers).toBe(4);
    expect(rep.readersCompleted).toBe(3);
    expect(rep.dropped).toEqual([{ reader: 1, afterMs: 800, reason: 'VerifyPin: timeout' }]);
    expect(rep.flows).toBe(33);
    expect(rep.errors.count).toBe(20);
  });

  it('runLoops gives up a reader that only fails and says so', async () => {
    const rep = await runLoops(3, 150, async (i) => {
      await new Promise((r) => setTimeout(r, 1));
      return i === 1 ? 'card removed' : undefined;
    }, { dropAfter: 5, pauseMs: 0 });
    expect(rep.readersCompleted).toBe(2);
    expect(rep.dropped.map((d) => [d.reader, d.reason])).toEqual([[1, 'card removed']]);
    expect(rep.errors.toRecord()).toEqual({ 'card removed': 5 });
    expect(rep.flows).toBeGreaterThan(0);
    expect(rep.latencies).toHaveLength(rep.flows);
  });

  it('runLoops counts a thrown flow as an error with its message', async () => {
    let calls = 0;
    const rep = await runLoops(1, 100, async () => {
      await new Promise((r) => setTimeout(r, 1));
      if (calls++ === 0) throw new Error('boom');
      return undefined;
    }, { pauseMs: 0 });
    expect(rep.errors.toRecord()).toEqual({ boom: 1 });
    expect(rep.readersCompleted).toBe(1);
  });

  it('summarise: successful flows per second only, errors and dropped readers over all repetitions', () => {
    const clean = repOf([ok(100), ok(100)], 1000);
    const bad = repOf([ok(50), { ...ok(0), errors: new ErrorTally().add('x', 20), dropped: { afterMs: 400, reason: 'x' } }], 1000);
    const s = summarise([clean, bad, clean]);
    expect(s.runs.map((r) => r.flowsPerSecond)).toEqual([200, 50, 200]);
    expect(s.runs.map((r) => r.readersCompleted)).toEqual([2, 1, 2]);
    expect(s.flowsPerSecond).toBe(200);
    expect(s.flows).toBe(450);
    expect(s.errors).toBe(20);
    expect(s.errorReasons).toEqual({ x: 20 });
    expect(s.readersCompleted).toBe(1);
    expect(s.dropped).toEqual([{ rep: 1, reader: 1, afterMs: 400, reason: 'x' }]);
  });
});

describe('intOption', () => {
  it('names the option it refuses', () => {
    expect(intOption('reps', '3', 1)).toBe(3);
    expect(() => intOption('reps', '0', 1)).toThrow('--reps must be an integer ≥ 1, got "0"');
    expect(() => intOption('sizes', 'x', 0)).toThrow(/--sizes/);
    expect(() => intOption('runs', '', 1)).toThrow(/--runs/);
    expect(() => intOption('runs', '1.5', 1)).toThrow(/--runs/);
  });
});

describe('watchdog', () => {
  it('ends a bench whose main thread is stuck in a native call', () => {
    // Atomics.wait blocks the main thread as the pcsclite addon's close() does: no timer of it runs.
    const code = [
      "import { watchdog } from './scripts/bench-kit.ts';",
      "watchdog(200, 'bench: stuck', { graceMs: 200, onExpire: () => process.stderr.write('never\\n') });",
      'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);',
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 15_000 });
    expect(r.signal).toBe('SIGKILL');
    expect(r.stderr).toContain('bench: stuck');
    expect(r.stderr).toContain('killed');
    expect(r.stderr).not.toContain('never');
  });
});

describe('BenchScratch', () => {
  it('undoes its steps once, last first; removes its folder after a good run and keeps it after a failed one', async () => {
    const { existsSync } = await import('node:fs');
    const good = new BenchScratch('bench:test', 'sscard-bench-test-', false);
    const order: number[] = [];
    good.steps.push(() => void order.push(1), () => void order.push(2), () => {
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
