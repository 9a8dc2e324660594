import { describe, expect, it } from 'vitest';
import { ErrorTally } from './errors.js';
import { repOf, runLoops, summarise } from './loops.js';

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
