/**
 * The on-screen PIN keypad of the kiosk (docs/api.md "Keyboard": `Keyboard.TouchKey`): which key
 * sits where. With `shuffle` the ten digits change places for every PIN entry — common on kiosks
 * against shoulder-surfing — while clear, 0's row and enter keep theirs, so the pad stays usable.
 *
 * The page never holds a PIN: a press becomes one TouchKey frame and the screen shows one dot per
 * key event counted by the daemon (`SSCard.PinDigitsEvent`), never a digit.
 */
import type { TouchKey } from '../client/messages.js';

export type Digit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9';

export const DIGITS: readonly Digit[] = Object.freeze(['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'] as const);

/** Twelve keys in a 4 × 3 grid, row by row: nine digits, then clear, the tenth digit, enter. */
export type KeypadLayout = readonly TouchKey[];

/** A uniform integer in [0, n) from the browser's CSPRNG (a shuffle an onlooker cannot predict). */
export function cryptoRandomInt(n: number): number {
  const buf = new Uint32Array(1);
  const limit = Math.floor(0x1_0000_0000 / n) * n;
  for (;;) {
    crypto.getRandomValues(buf);
    if (buf[0]! < limit) return buf[0]! % n;
  }
}

/** The keypad for one PIN entry: the phone layout (1 2 3 / … / clear 0 enter), or its digits shuffled (Fisher–Yates). */
export function keypadLayout(shuffle: boolean, randomInt: (n: number) => number = cryptoRandomInt): KeypadLayout {
  const digits: Digit[] = [...DIGITS];
  if (shuffle) {
    for (let i = digits.length - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      [digits[i], digits[j]] = [digits[j]!, digits[i]!];
    }
  }
  return [...digits.slice(0, 9), 'clear', digits[9]!, 'enter'];
}

/** How many dots to show: one per key event the daemon counted, at most the PIN pad's maximum. */
export function dots(count: number, max = 12): string {
  return '●'.repeat(Math.max(0, Math.min(max, Math.floor(count))));
}
