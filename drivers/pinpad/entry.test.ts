import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import { PinEntrySession, resolveEntryOptions } from './entry.js';
import type { PinKeyEvent } from './pinpad.js';
import { TouchPinPad } from './touch-pinpad.js';

const PIN = '123456';

function typeInto(pad: TouchPinPad, keys: string): void {
  for (const k of keys) pad.input(k === 'E' ? 'enter' : k === 'C' ? 'cancel' : k === 'B' ? 'backspace' : k === 'X' ? 'clear' : k);
}

describe('entry options', () => {
  it('defaults to the card rule: 6 digits, 30 s, autoEnd', () => {
    expect(resolveEntryOptions()).toMatchObject({ minLength: 6, maxLength: 6, timeoutMs: 30_000, autoEnd: true, prompt: 'enterPin' });
  });

  it.each([
    [{ minLength: 0 }, 'minLength'],
    [{ maxLength: 13 }, 'maxLength'],
    [{ minLength: 6, maxLength: 4 }, 'maxLength'],
    [{ timeoutMs: -1 }, 'timeoutMs'],
    [{ prompt: 'hello' }, 'prompt'],
    [{ autoEnd: 'yes' }, 'autoEnd'],
  ])('%j → Input_BadOption naming %s, bilingual', (o, name) => {
    try {
      resolveEntryOptions(o as never);
      expect.unreachable();
    } catch (e) {
      expect(isSsCardError(e, ErrorCode.Input_BadOption)).toBe(true);
      expect((e as Error).message).toContain(name);
      expect((e as Error).message).toMatch(/[\u4e00-\u9fff].* \/ .*[a-z]/);
    }
  });
});

describe('PinEntrySession', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('times out (fake timers) and wipes what was typed', async () => {
    vi.useFakeTimers();
    const s = new PinEntrySession('pad', resolveEntryOptions({ timeoutMs: 5000 }));
    s.key({ type: 'digit', digit: 4 });
    s.key({ type: 'digit', digit: 2 });
    const p = s.finished.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(5000);
    const err = await p;
    expect(isSsCardError(err, ErrorCode.PinPad_Timeout)).toBe(true);
    expect((err as { context: { typed: number } }).context.typed).toBe(2);
    expect([...(s as unknown as { digits: Buffer }).digits].every((b) => b === 0)).toBe(true);
  });

  it('the inter-key timeout restarts on every key (fake timers)', async () => {
    vi.useFakeTimers();
    const s = new PinEntrySession('pad', resolveEntryOptions({ timeoutMs: 60_000, interKeyTimeoutMs: 1000 }));
    const p = s.finished.catch((e: unknown) => e);
    for (const d of [1, 2, 3]) {
      await vi.advanceTimersByTimeAsync(900);
      s.key({ type: 'digit', digit: d });
    }
    expect(s.isDone).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(isSsCardError(await p, ErrorCode.PinPad_Timeout)).toBe(true);
  });

  it('Enter with too few digits keeps the entry open; backspace and clear count down', async () => {
    const events: PinKeyEvent[] = [];
    const s = new PinEntrySession('pad', resolveEntryOptions({ minLength: 4, maxLength: 6, autoEnd: false, onKey: (e) => events.push(e) }));
    for (const d of [1, 2, 3]) s.key({ type: 'digit', digit: d });
    s.key({ type: 'enter' });
    expect(s.isDone).toBe(false);
    s.key({ type: 'backspace' });
    s.key({ type: 'clear' });
    for (const d of [9, 8, 7, 6]) s.key({ type: 'digit', digit: d });
    s.key({ type: 'enter' });
    const r = await s.finished;
    expect(r.pin.toString('latin1')).toBe('9876');
    r.pin.fill(0);
    expect(events.map((e) => `${e.key}:${e.count}`)).toEqual(['digit:1', 'digit:2', 'digit:3', 'enter:3', 'backspace:2', 'clear:0', 'digit:1', 'digit:2', 'digit:3', 'digit:4', 'enter:4']);
    expect(events.map((e) => e.mask).at(-1)).toBe('****');
  });

  it('a throwing key listener does not break the entry', async () => {
    const s = new PinEntrySession('pad', resolveEntryOptions({ onKey: () => { throw new Error('ui bug'); } }));
    for (const d of [1, 2, 3, 4, 5, 6]) s.key({ type: 'digit', digit: d });
    const r = await s.finished;
    expect(r.length).toBe(6);
    r.pin.fill(0);
  });
});

describe('TouchPinPad (development source)', () => {
  it('is off by default: constructing without allowTouchscreen is PinPad_Unsupported', () => {
    expect(() => new TouchPinPad({} as never)).toThrow(expect.objectContaining({ code: ErrorCode.PinPad_Unsupported }));
  });

  it('an entry before open is PinPad_Disconnected; after open it takes digits from the API', async () => {
    const pad = new TouchPinPad({ allowTouchscreen: true });
    expect(isSsCardError(await pad.enterPin().catch((e: unknown) => e), ErrorCode.PinPad_Disconnected)).toBe(true);
    await pad.open();
    const p = pad.enterPin();
    typeInto(pad, `${PIN}`);
    const r = await p;
    expect(r.pin.toString('latin1')).toBe(PIN);
    r.pin.fill(0);
  });

  it('an already-aborted signal is PinPad_Cancelled; aborting mid-entry too', async () => {
    const pad = new TouchPinPad({ allowTouchscreen: true });
    await pad.open();
    const ac = new AbortController();
    ac.abort();
    expect(isSsCardError(await pad.enterPin({}, ac.signal).catch((e: unknown) => e), ErrorCode.PinPad_Cancelled)).toBe(true);
    const ac2 = new AbortController();
    const p = pad.enterPin({}, ac2.signal).catch((e: unknown) => e);
    typeInto(pad, '12');
    ac2.abort();
    expect(isSsCardError(await p, ErrorCode.PinPad_Cancelled)).toBe(true);
  });

  it('close() mid-entry ends it with PinPad_Disconnected', async () => {
    const pad = new TouchPinPad({ allowTouchscreen: true });
    await pad.open();
    const p = pad.enterPin().catch((e: unknown) => e);
    await pad.close();
    expect(isSsCardError(await p, ErrorCode.PinPad_Disconnected)).toBe(true);
  });
});
