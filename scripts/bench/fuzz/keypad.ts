/**
 * The touch keys never complete a PIN (scripts/api-fuzz.ts): the keypad model the runner sends the
 * keys through, and the check that no other frame types a digit.
 */
import { DIGITS } from './spec.js';
import type { TouchKeySpec } from './spec.js';

/**
 * Keeps the touch keys from ever completing a PIN. The daemon's keypads collect at most 6 digits
 * for a card flow and end the entry when the 6th comes (minLength = maxLength = 6,
 * daemon/flows/session-actors.ts); with at most {@link KeypadModel.MAX_PENDING} digits pending, no
 * flow the traffic starts can reach the card with a PIN, so the holder's tries are never spent.
 *
 * `pending` is an upper bound of the digits any keypad holds: a digit adds one whether or not a
 * keypad took it; only keys sent without a `reader` — the ones the keypad waiting for keys surely
 * gets — lower it: backspace by one (as the keypad does, not below 0), `clear` and `cancel` to 0.
 * A digit that would pass the bound is sent as `clear` instead. (A backspace for a reader that
 * names no slot reaches no keypad: counting it down once let a 6th digit through.) The model holds
 * only while the daemon takes every key in order: the runner keeps the keypad connection under the
 * daemon's limit of running commands per client, since a `clear` refused as tooManyRequests in a
 * burst of keys also let a 6th digit through.
 */
export class KeypadModel {
  public static readonly MAX_PENDING = 5;
  private count = 0;

  public get pending(): number {
    return this.count;
  }

  /** The key to send in place of `k`. */
  public next(k: TouchKeySpec): TouchKeySpec {
    if (DIGITS.has(k.key)) {
      if (this.count >= KeypadModel.MAX_PENDING) {
        this.count = 0;
        return { key: 'clear', reader: 'none' };
      }
      this.count++;
      return k;
    }
    // Only keys without a reader surely reach the keypad that holds the digits (one naming no slot
    // reaches none): those alone may lower the bound.
    if (k.reader !== 'none') return k;
    if (k.key === 'backspace' && this.count > 0) this.count--;
    if (k.key === 'clear' || k.key === 'cancel') this.count = 0;
    return k;
  }
}

/**
 * Whether a frame is a Keyboard.TouchKey with a digit the daemon would take (the only way a frame
 * could type into a PIN entry). Frames outside the keypad channel never are; the runner checks.
 */
export function isDigitTouchKey(text: string): boolean {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return false;
  }
  const h = (m as { header?: { name?: unknown } } | null)?.header;
  const p = (m as { payload?: { key?: unknown } } | null)?.payload;
  return typeof h === 'object' && h !== null && h.name === 'Keyboard.TouchKey' && typeof p === 'object' && p !== null && typeof p.key === 'string' && /^\s*[0-9０-９]\s*$/.test(p.key);
}
