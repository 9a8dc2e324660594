import { describe, expect, it } from 'vitest';
import { keypadShown, PAD_IDLE, padMode, padStep, stars, TEST_KEYPAD, type PadMsg, type PadState } from './pad.js';

const run = (...msgs: PadMsg[]): PadState => msgs.reduce(padStep, PAD_IDLE);

describe('the PIN pad test panel', () => {
  it('start → a * per counted key → the completion (enter), never a digit', () => {
    const s = run({ type: 'start' }, { type: 'key', count: 1 }, { type: 'key', count: 2 }, { type: 'key', count: 3 });
    expect(s).toMatchObject({ phase: 'running', count: 3 });
    expect(stars(s.count)).toBe('***');
    const done = padStep(s, { type: 'completed', digits: 3, completion: 'enter' });
    expect(done).toEqual({ phase: 'done', count: 3, digits: 3, completion: 'enter', error: null });
    expect(JSON.stringify(done)).not.toMatch(/[0-9]{2}/);
  });

  it('backspace and clear lower the count; the holder\'s cancel is a completion', () => {
    const s = run({ type: 'start' }, { type: 'key', count: 1 }, { type: 'key', count: 2 }, { type: 'key', count: 1 }, { type: 'key', count: 0 });
    expect(s.count).toBe(0);
    expect(padStep(s, { type: 'completed', digits: 0, completion: 'cancel' })).toMatchObject({ phase: 'done', completion: 'cancel' });
  });

  it('keys and completions outside a running test are ignored; a second start while running changes nothing', () => {
    expect(run({ type: 'key', count: 4 })).toBe(PAD_IDLE);
    expect(run({ type: 'completed', digits: 4, completion: 'enter' })).toBe(PAD_IDLE);
    const s = run({ type: 'start' }, { type: 'key', count: 2 });
    expect(padStep(s, { type: 'start' })).toBe(s);
    const done = padStep(s, { type: 'completed', digits: 2, completion: 'enter' });
    expect(padStep(done, { type: 'key', count: 5 })).toBe(done);
    expect(padStep(done, { type: 'start' })).toEqual({ phase: 'running', count: 0, digits: null, completion: null, error: null });
  });

  it('a failure keeps the count and says why; nonsense counts are ignored or cut at 12', () => {
    const s = run({ type: 'start' }, { type: 'key', count: 2 });
    expect(padStep(s, { type: 'failed', text: { zh: '密码键盘正在使用中', en: 'the PIN pad is in use' } })).toMatchObject({ phase: 'failed', count: 2, error: { en: 'the PIN pad is in use' } });
    expect(padStep(s, { type: 'key', count: '7' })).toBe(s);
    expect(padStep(s, { type: 'key', count: -1 })).toBe(s);
    expect(padStep(s, { type: 'key', count: 99 }).count).toBe(12);
    expect(padStep(s, { type: 'completed', digits: 2, completion: 'weird' })).toMatchObject({ phase: 'done', completion: null });
    expect(stars(40)).toBe('************');
  });

  it('the on-screen keypad only while a test runs on a touchscreen pad; a hardware pad gets a prompt instead', () => {
    const running = run({ type: 'start' });
    expect(padMode({ kind: 'touchscreen', touchKeys: true })).toBe('touch');
    expect(padMode({ kind: 'pcsc', touchKeys: false })).toBe('hardware');
    expect(padMode({ kind: 'none', touchKeys: false })).toBe('none');
    expect(padMode(null)).toBe('none');
    expect(keypadShown(running, 'touch')).toBe(true);
    expect(keypadShown(running, 'hardware')).toBe(false);
    expect(keypadShown(PAD_IDLE, 'touch')).toBe(false);
    expect(keypadShown(padStep(running, { type: 'completed', digits: 1, completion: 'enter' }), 'touch')).toBe(false);
    expect([...TEST_KEYPAD].sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'backspace', 'cancel', 'clear', 'enter']);
  });
});
