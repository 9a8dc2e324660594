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
   * A keypad as the daemon's (drivers/pinpad/entry.ts): an entry collects digits up to its
   * maximum; backspace, clear and cancel as there. Entries start whenever the test says so.
   * Keys with a reader that names no slot reach no keypad.
   */
  const key = fc.record({
    key: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...TOUCH_KEYS.slice(0, 10)) }, { weight: 1, arbitrary: fc.constantFrom(...TOUCH_KEYS.slice(10), 'x') }),
    reader: fc.constantFrom('none' as const, 'none' as const, 'slot' as const, 'bogus' as const),
  });

  it('never lets a keypad hold 6 digits, wherever the entries start and end', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.oneof({ weight: 19, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })), { maxLength: 300, size: 'max' }), (steps) => {
        const m = new KeypadModel();
        let entering = false;
        let count = 0;
        for (const [k0, toggle] of steps) {
          if (toggle) {
            entering = !entering;
            count = 0;
          }
          const k: TouchKeySpec = m.next(k0);
          expect(m.pending).toBeLessThanOrEqual(KeypadModel.MAX_PENDING);
          if (!entering || k.reader === 'bogus') continue;
          if (/^[0-9]$/.test(k.key)) count++;
          else if (k.key === 'backspace') count = Math.max(0, count - 1);
          else if (k.key === 'clear') count = 0;
          else if (k.key === 'cancel') {
            entering = false;
            count = 0;
          }
          expect(count).toBeLessThan(6);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('sends clear in place of the digit that would make 6', () => {
    const m = new KeypadModel();
    const sent = Array.from({ length: 7 }, () => m.next({ key: '1', reader: 'none' }).key);
    expect(sent).toEqual(['1', '1', '1', '1', '1', 'clear', '1']);
    // A clear for a slot keypad, or for one that does not exist, does not start the count again.
    m.next({ key: 'clear', reader: 'bogus' });
    expect(m.pending).toBe(1);
  });
});
