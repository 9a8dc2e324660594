import { describe, expect, it } from 'vitest';
import { configFromQuery } from './config.js';
import { DEFAULT_CONFIG } from './flow.js';

describe('configFromQuery: the kiosk settings from its address', () => {
  it('defaults: shuffled keypad, 60 s idle, 20 s countdown', () => {
    expect(configFromQuery('')).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG).toMatchObject({ shuffleKeypad: true, idleMs: 60_000, countdownMs: 20_000 });
  });

  it('shuffle=off, idle and countdown in seconds', () => {
    expect(configFromQuery('?shuffle=off&idle=8&countdown=5')).toMatchObject({ shuffleKeypad: false, idleMs: 8_000, countdownMs: 5_000 });
  });

  it.each(['idle=0', 'idle=4', 'idle=601', 'idle=-5', 'idle=1e3', 'idle=abc', 'idle=', 'countdown=200', 'countdown=3.5'])('%s is ignored: the default stands', (q) => {
    const c = configFromQuery(`?${q}`);
    expect(c.idleMs).toBe(DEFAULT_CONFIG.idleMs);
    expect(c.countdownMs).toBe(DEFAULT_CONFIG.countdownMs);
  });

  it('any other shuffle value keeps shuffling', () => {
    expect(configFromQuery('?shuffle=no').shuffleKeypad).toBe(true);
  });
});
