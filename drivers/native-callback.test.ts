import { describe, expect, it } from 'vitest';
import { reentered } from './native-callback.js';

describe('reentered (the addon callbacks Node 26.4+ would leave with their promises pending)', () => {
  it('runs the callback later, from the immediate queue, with its arguments', async () => {
    const seen: unknown[][] = [];
    const cb = reentered((e: Error | null, v: number) => seen.push([e, v]));
    cb(null, 7);
    expect(seen).toEqual([]); // not in the addon's own call
    await new Promise<void>((r) => setImmediate(r));
    expect(seen).toEqual([[null, 7]]);
  });

  it('keeps the order the addon called in: a status report before the reader’s end stays before it', async () => {
    const order: string[] = [];
    const status = reentered((s: string) => order.push(s));
    const end = reentered(() => order.push('end'));
    status('present');
    status('empty');
    end();
    await new Promise<void>((r) => setImmediate(r));
    expect(order).toEqual(['present', 'empty', 'end']);
  });

  it('settles a promise whose continuation then runs before the next immediate', async () => {
    const order: string[] = [];
    const p = new Promise<number>((resolve) => reentered(resolve)(42)).then((v) => order.push(`then ${v}`));
    setImmediate(() => setImmediate(() => order.push('two immediates later')));
    await p;
    await new Promise<void>((r) => setImmediate(() => setImmediate(r)));
    expect(order).toEqual(['then 42', 'two immediates later']);
  });
});
