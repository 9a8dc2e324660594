/**
 * The touch keys never complete a PIN (scripts/api-fuzz.ts): the keypad model the runner sends the
 * keys through, and the check that no other frame types a digit.
 */
import { DIGITS } from './spec.js';
import type { TouchKeySpec } from './spec.js';

/**
 * Keeps the touch keys from ever completing a PIN. The daemon's keypads collect at most 6 digits
 * for a card flow and end the entry when the 6th comes (minLength = maxLength = 6,
 * daemon/flows/session-actors.ts); with at most {@link KeypadModel.MAX_PENDING} digits pending on
 * the card slot's keypad, no flow the traffic starts can reach the card with a PIN, so the holder's
 * tries are never spent.
 *
 * Two keypads can be entering at once: the terminal's own (Keyboard.PinEntry, whose digits are
 * wiped and never reach the card) and the card slot's (a VerifyPin's), and a key without a
 * `reader` goes to the first of them that is entering (daemon/terminal/pin-keys.ts). So a key
 * without a reader may miss the slot's keypad, and one naming no slot reaches none: only keys
 * naming the slot surely reach the keypad whose digits go to the card.
 *
 * `pending` is an upper bound of the digits the slot's keypad holds: every digit adds one whether
 * or not a keypad took it; only keys naming the slot lower it: backspace by one (as the keypad
 * does, not below 0), `clear` and `cancel` to 0. A digit that would pass the bound is sent as a
 * `clear` for the slot instead. (Lowering the bound on keys without a reader let a 6th digit
 * through while a Keyboard.PinEntry took those keys; so did a backspace for a reader that names no
 * slot.) The model holds only while the daemon takes every key in order: the runner keeps the
 * keypad connection under the daemon's limit of running commands per client (a `clear` refused as
 * tooManyRequests in a burst of keys let a 6th digit through), and after the connection was lost
 * (keys in flight may be lost with it) it sends {@link KeypadModel.resync}'s clear first.
 */
export class KeypadModel {
  public static readonly MAX_PENDING = 5;
  private static readonly CLEAR: TouchKeySpec = { key: 'clear', reader: 'slot' };
  private count = 0;

  public get pending(): number {
    return this.count;
  }

  /** The key to send in place of `k`. */
  public next(k: TouchKeySpec): TouchKeySpec {
    if (DIGITS.has(k.key)) {
      if (this.count >= KeypadModel.MAX_PENDING) {
        this.count = 0;
        return KeypadModel.CLEAR;
      }
      this.count++;
      return k;
    }
    if (k.reader !== 'slot') return k;
    if (k.key === 'backspace' && this.count > 0) this.count--;
    if (k.key === 'clear' || k.key === 'cancel') this.count = 0;
    return k;
  }

  /**
   * The key to send first on a new keypad connection when an earlier one was lost: a clear for the
   * slot, since a clear sent on the lost connection may never have reached the daemon. The bound
   * stays where it was until that clear is sent (it lowers it to 0).
   */
  public resync(): TouchKeySpec {
    return this.next(KeypadModel.CLEAR);
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
