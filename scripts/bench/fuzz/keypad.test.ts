/**
 * The keypad model never lets a PIN be completed, and isDigitTouchKey finds a typed digit
 * (keypad.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeypadModel, isDigitTouchKey } from './keypad.js';
import { TOUCH_KEYS } from './spec.js';
import type { TouchKeySpec } from './spec.js';

describe('isDigitTouchKey', () => {
  it('finds a digit however it is written', () => {
    expect(isDigitTouchKey('{"header":{"type":"command","name":"Keyboard.TouchKey","requestId":1},"payload":{"key":"5"}}')).toBe(true);
    expect(isDigitTouchKey('{"header":{"name":"Keyboard.TouchKey"},"payload":{"key":"\\u0035"}}')).toBe(true);
    expect(isDigitTouchKey('{"header":{"name":"Keyboard.TouchKey"},"payload":{"key":"clear"}}')).toBe(false);
    expect(isDigitTouchKey('{"header":{"name":"Keyboard.TouchKey"},"payload":{"key":5}}')).toBe(false);
  });
});

describe('the keypad model', () => {
  /**
   * The two keypads of a touchscreen terminal as the daemon routes keys to them
   * (daemon/terminal/pin-keys.ts): the terminal's own (Keyboard.PinEntry) and the card slot's (a
   * card flow's, the only one whose digits reach the card). A key naming the slot goes to the
   * slot's; one without a reader to the first that is entering, terminal first; one naming no
   * slot to none. Each keypad as drivers/pinpad/entry.ts: digits up to its maximum; backspace,
   * clear and cancel as there. Entries start and end whenever the test says so.
   */
  const key = fc.record({
    key: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...TOUCH_KEYS.slice(0, 10)) }, { weight: 1, arbitrary: fc.constantFrom(...TOUCH_KEYS.slice(10), 'x') }),
    reader: fc.constantFrom('none' as const, 'none' as const, 'slot' as const, 'bogus' as const),
  });
  const toggle = fc.oneof({ weight: 18, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constant('terminal' as const) }, { weight: 1, arbitrary: fc.constant('slot' as const) });

  class Pad {
    public entering = false;
    public count = 0;
    public toggle(): void {
      this.entering = !this.entering;
      this.count = 0;
    }
    public take(k: string): void {
      if (!this.entering) return;
      if (/^[0-9]$/.test(k)) this.count++;
      else if (k === 'backspace') this.count = Math.max(0, this.count - 1);
      else if (k === 'clear') this.count = 0;
      else if (k === 'cancel') this.toggle();
    }
  }

  it('never lets the card slot’s keypad hold 6 digits, whichever keypads are entering', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, toggle), { maxLength: 300, size: 'max' }), (steps) => {
        const m = new KeypadModel();
        const terminal = new Pad();
        const slot = new Pad();
        for (const [k0, t] of steps) {
          if (t === 'terminal') terminal.toggle();
          if (t === 'slot') slot.toggle();
          const k: TouchKeySpec = m.next(k0);
          if (k.reader === 'slot') slot.take(k.key);
          else if (k.reader === 'none') (terminal.entering ? terminal : slot).take(k.key);
          // Plain checks (an expect per step is slow under load); fast-check reports the steps.
          if (m.pending > KeypadModel.MAX_PENDING) return false;
          if (slot.count >= 6) return false;
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it('a clear without a reader while a Keyboard.PinEntry runs does not start the count again', () => {
    const m = new KeypadModel();
    for (let i = 0; i < 3; i++) m.next({ key: '1', reader: 'slot' });
    m.next({ key: 'clear', reader: 'none' });
    expect(m.pending).toBe(3);
    const sent = Array.from({ length: 3 }, () => m.next({ key: '1', reader: 'slot' }));
    expect(sent.map((k) => k.key)).toEqual(['1', '1', 'clear']);
    expect(sent[2]!.reader).toBe('slot');
  });

  it('sends a clear for the slot in place of the digit that would make 6', () => {
    const m = new KeypadModel();
    const sent = Array.from({ length: 7 }, () => m.next({ key: '1', reader: 'none' }));
    expect(sent.map((k) => k.key)).toEqual(['1', '1', '1', '1', '1', 'clear', '1']);
    expect(sent[5]!.reader).toBe('slot');
    // A clear for a reader that does not exist does not start the count again.
    m.next({ key: 'clear', reader: 'bogus' });
    expect(m.pending).toBe(1);
  });

  it('resync after a lost connection is a clear for the slot, and starts the count again', () => {
    const m = new KeypadModel();
    for (let i = 0; i < 4; i++) m.next({ key: '2', reader: 'none' });
    expect(m.resync()).toEqual({ key: 'clear', reader: 'slot' });
    expect(m.pending).toBe(0);
  });
});
