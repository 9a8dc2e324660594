/**
 * The "test the PIN pad" panel as a pure reducer (docs/api.md "Keyboard"): `Keyboard.PinEntry` runs
 * on the pad, each `Keyboard.KeyEvent` gives the count (`sscardCount`; its `digit` is always null), the completion
 * says how it ended. The panel keeps the count and the ending — nothing else exists to keep: the
 * daemon never sends a digit, and an on-screen key goes straight into one `Keyboard.TouchKey`
 * frame (controller.ts) without passing through this state.
 */
import type { BilingualText } from '../../core/text.js';
import type { PadCapabilities } from './report.js';

/** The request of the test: 1…12 digits, ended by Enter (or Cancel), so every key can be tried. */
export const PAD_TEST_REQUEST = { minLen: 1, maxLen: 12, autoEnd: false } as const;
/** The header timeout of the test (ms): the daemon cancels the entry after it. */
export const PAD_TEST_TIMEOUT_MS = 60_000;

export type PadMode = 'touch' | 'hardware' | 'none';

export function padMode(caps: PadCapabilities | null): PadMode {
  if (caps === null || caps.kind === 'none') return 'none';
  return caps.touchKeys ? 'touch' : 'hardware';
}

export type PadCompletion = 'enter' | 'auto' | 'cancel';

export interface PadState {
  readonly phase: 'idle' | 'running' | 'done' | 'failed';
  /** Keys counted by the daemon in the running (or last) test. */
  readonly count: number;
  readonly digits: number | null;
  readonly completion: PadCompletion | null;
  readonly error: BilingualText | null;
}

export type PadMsg =
  | { readonly type: 'start' }
  | { readonly type: 'key'; readonly count: unknown }
  | { readonly type: 'completed'; readonly digits: unknown; readonly completion: unknown }
  | { readonly type: 'failed'; readonly text: BilingualText };

export const PAD_IDLE: PadState = { phase: 'idle', count: 0, digits: null, completion: null, error: null };

/** The most keys a PIN has (docs/api.md: maxLen ≤ 12); a bigger count from a confused daemon is cut. */
const MAX_COUNT = 12;

function countOf(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? Math.min(v, MAX_COUNT) : null;
}

export function padStep(s: PadState, m: PadMsg): PadState {
  switch (m.type) {
    case 'start':
      return s.phase === 'running' ? s : { phase: 'running', count: 0, digits: null, completion: null, error: null };
    case 'key': {
      const c = countOf(m.count);
      return s.phase !== 'running' || c === null || c === s.count ? s : { ...s, count: c };
    }
    case 'completed': {
      if (s.phase !== 'running') return s;
      const completion = m.completion === 'enter' || m.completion === 'auto' || m.completion === 'cancel' ? m.completion : null;
      const digits = countOf(m.digits);
      return { phase: 'done', count: completion === 'cancel' ? s.count : (digits ?? s.count), digits, completion, error: null };
    }
    case 'failed':
      return s.phase !== 'running' ? s : { ...s, phase: 'failed', error: m.text };
  }
}

/** One `*` per key counted (never a digit). */
export function stars(count: number): string {
  return '*'.repeat(Math.max(0, Math.min(count, MAX_COUNT)));
}

/** Whether the on-screen keypad is shown: only while a test runs on the touchscreen pad. */
export function keypadShown(s: PadState, mode: PadMode): boolean {
  return s.phase === 'running' && mode === 'touch';
}

/** The on-screen keypad's keys, in the phone layout (no shuffling: this is a test of the pad, not a holder's PIN). */
export const TEST_KEYPAD = ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'clear', '0', 'backspace', 'cancel', 'enter'] as const;
export type TestKey = (typeof TEST_KEYPAD)[number];
