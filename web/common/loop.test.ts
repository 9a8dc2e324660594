import { describe, expect, it } from 'vitest';
import { startLoop } from './loop.js';

describe('startLoop', () => {
  it('steps, performs the effects in order after taking the state, reports changes only, drops messages once stopped', () => {
    const performed: string[] = [];
    const changes: number[] = [];
    const loop = startLoop<number, number, string>({
      initial: 0,
      now: () => 42,
      step: (s, m, now) => (m === 0 ? { state: s, effects: [] } : { state: s + m, effects: [`a${s + m}@${now}`, `b${s + m}`] }),
      perform: (e) => performed.push(`${e}:${loop.state()}`),
      onChange: (s) => changes.push(s),
    });
    loop.dispatch(2);
    loop.dispatch(0);
    loop.dispatch(3);
    expect(performed).toEqual(['a2@42:2', 'b2:2', 'a5@42:5', 'b5:5']);
    expect(changes).toEqual([2, 5]);
    loop.stop();
    loop.dispatch(1);
    expect(loop.state()).toBe(5);
    expect(changes).toEqual([2, 5]);
  });
});
