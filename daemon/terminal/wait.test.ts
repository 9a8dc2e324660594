/**
 * The waits' primitives with timers frozen (vitest fake timers): they end on a change at once, on
 * their limit through exactly one timer, and leave no timer or listener behind.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Changes, Deadline, abortOf, nextChange, until } from './wait.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A promise's state after the microtasks queued so far. */
async function state<T>(p: Promise<T>): Promise<'pending' | { value: T }> {
  let out: 'pending' | { value: T } = 'pending';
  void p.then((value) => (out = { value }));
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return out;
}

describe('nextChange', () => {
  it('ends on a change, with its timer cleared and the listener gone', async () => {
    const c = new Changes();
    const p = nextChange([c.watch], 1000);
    expect(vi.getTimerCount()).toBe(1);
    c.notify();
    expect(await state(p)).toEqual({ value: 'change' });
    expect(vi.getTimerCount()).toBe(0);
    let told = 0;
    c.watch(() => told++);
    c.notify();
    expect(told).toBe(1);
  });

  it('ends on its limit, one timer', async () => {
    const p = nextChange([new Changes().watch], 1000);
    await vi.advanceTimersByTimeAsync(999);
    expect(await state(p)).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(await state(p)).toEqual({ value: 'timeout' });
  });

  it('without a limit arms no timer; an abort is a change', async () => {
    const ac = new AbortController();
    const p = nextChange([abortOf(ac.signal)]);
    expect(vi.getTimerCount()).toBe(0);
    ac.abort();
    expect(await state(p)).toEqual({ value: 'change' });
  });
});

describe('until', () => {
  it('true at once when it already holds (no timer)', async () => {
    expect(await state(until(() => true, [], 1000))).toEqual({ value: true });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('checks at each change and ends when it holds', async () => {
    const c = new Changes();
    let n = 0;
    const p = until(() => n >= 2, [c.watch], 1000);
    n = 1;
    c.notify();
    expect(await state(p)).toBe('pending');
    n = 2;
    c.notify();
    expect(await state(p)).toEqual({ value: true });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('false when the limit comes first: one timer for the whole wait, however many changes', async () => {
    const c = new Changes();
    const p = until(() => false, [c.watch], 1000);
    for (let i = 0; i < 5; i++) c.notify();
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await state(p)).toEqual({ value: false });
  });
});

describe('Deadline', () => {
  it('counts from its creation; a timer that fired counts as the time passed', () => {
    const d = new Deadline();
    expect(d.passed(0)).toBe(true);
    expect(d.passed(100)).toBe(false);
    expect(d.left(100)).toBe(100);
    vi.advanceTimersByTime(40);
    expect(d.left(100)).toBe(60);
    d.timedOut(100);
    expect(d.passed(100)).toBe(true);
    expect(d.left(2100)).toBe(2000);
  });
});
