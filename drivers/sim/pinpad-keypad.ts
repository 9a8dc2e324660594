/**
 * The simulated holder's fingers: a queue of key presses that every PIN pad simulator reads (the
 * Part 10 reader, the serial EPP, the HID keypad). A product feature for demos and CI, not a mock:
 * the simulators consume keys exactly when a real pad would.
 *
 * Key script syntax (one character a key): `0`–`9` digits, `E` or `\r` Enter, `C` or `\x1b` Cancel,
 * `B` or `\b` Backspace, `X` Clear. Anything else is rejected eagerly.
 *
 * The queued digits are test data typed by the simulated holder; they are never logged here.
 */
import { ErrorCode, SsCardError } from '../../core/errors.js';
import type { PadKey } from '../pinpad/pinpad.js';

/** Parse a key script into keys; throws Input_BadOption naming the position of a bad character. */
export function parseKeyScript(script: string): PadKey[] {
  if (typeof script !== 'string') {
    throw new SsCardError(ErrorCode.Input_BadOption, { zh: '按键脚本必须是字符串', en: 'a key script must be a string' }, { option: 'keys' });
  }
  const out: PadKey[] = [];
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (c >= '0' && c <= '9') out.push({ type: 'digit', digit: c.charCodeAt(0) - 0x30 });
    else if (c === 'E' || c === '\r') out.push({ type: 'enter' });
    else if (c === 'C' || c === '\x1b') out.push({ type: 'cancel' });
    else if (c === 'B' || c === '\b') out.push({ type: 'backspace' });
    else if (c === 'X') out.push({ type: 'clear' });
    else {
      throw new SsCardError(
        ErrorCode.Input_BadOption,
        { zh: `按键脚本第 ${i + 1} 个字符无效：只能用 0–9、E（确认）、C（取消）、B（退格）、X（清除）`, en: `key script character ${i + 1} is invalid: use 0-9, E (Enter), C (Cancel), B (Backspace), X (Clear)` },
        { option: 'keys', position: i + 1 },
      );
    }
  }
  return out;
}

type Waiter = (key: PadKey | undefined) => void;

export class SimKeypad {
  private readonly queue: PadKey[] = [];
  private waiter: Waiter | undefined;
  private readonly promptListeners = new Set<(prompt: string) => void>();

  /** Queue key presses (see the module comment for the syntax). */
  public press(keys: string): void {
    for (const k of parseKeyScript(keys)) {
      const w = this.waiter;
      if (w) {
        this.waiter = undefined;
        w(k);
      } else {
        this.queue.push(k);
      }
    }
  }

  /** Drop keys typed ahead (a real pad clears its buffer when an entry starts). */
  public flush(): void {
    this.queue.length = 0;
  }

  /** Keys waiting to be read. */
  public get pending(): number {
    return this.queue.length;
  }

  /**
   * Announce that a pad starts waiting for an entry (`enterPin`, `enterOldPin`, …): scripted holders
   * (see {@link onPrompt}) type now.
   */
  public prompt(prompt: string): void {
    for (const l of [...this.promptListeners]) l(prompt);
  }

  /** Call `listener` whenever a simulated pad starts an entry. Returns the unsubscribe function. */
  public onPrompt(listener: (prompt: string) => void): () => void {
    this.promptListeners.add(listener);
    return () => this.promptListeners.delete(listener);
  }

  /** The next key, or undefined after `timeoutMs` or when `signal` aborts. */
  public next(timeoutMs: number, signal?: AbortSignal): Promise<PadKey | undefined> {
    const k = this.queue.shift();
    if (k) return Promise.resolve(k);
    if (signal?.aborted === true) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const done = (key: PadKey | undefined): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (this.waiter === done) this.waiter = undefined;
        resolve(key);
      };
      const onAbort = (): void => done(undefined);
      const timer = setTimeout(() => done(undefined), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = done;
    });
  }
}
