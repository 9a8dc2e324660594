/**
 * The PIN pad contract (docs/domain.md §6): one interface for every kind of pad the kiosk
 * may have — a PC/SC reader with a keypad (Part 10 secure PIN entry), a serial encrypting PIN pad
 * in plaintext-input mode, a USB HID keypad, and (development only) the touchscreen.
 *
 * Two ways to get a PIN to the card:
 * - plain entry ({@link PinPad.enterPin}): the pad delivers the digits to this process as a Buffer
 *   of ASCII digits; the caller builds VERIFY / CHANGE PIN and wipes the Buffer after use;
 * - secure entry ({@link PinPad.secureVerify} / {@link PinPad.secureChange}): the reader collects
 *   the digits and sends the VERIFY / CHANGE PIN to the card itself; only the card's status word
 *   comes back. The digits never enter this process.
 *
 * Secrecy (docs/architecture.md "Habits"): no digit reaches an event, a log, an error or a status.
 * Key events carry a count and a mask of '*' only.
 *
 * Ready for xstate v5 (the service machines of state/session.ts): every long-running method
 * takes an AbortSignal as its last argument and returns a Promise; stopping the actor (leaving
 * the state, CANCEL) aborts the signal and ends the entry with PinPad_Cancelled, wiping what was
 * typed. The daemon's session wiring (daemon/flows/session-actors.ts) is the one path from a pad
 * to the card: plain entry into the session's PIN vault, then VERIFY / CHANGE PIN built and sent
 * by the card driver (drivers/card), or secure entry through the pad.
 */
import type { SsCardError } from '../../core/errors.js';
import type { PinPrompt } from '../../state/actors.js';

/** What kind of device this is. */
export type PinPadKind = 'pcsc' | 'serial' | 'hid' | 'touchscreen';

/** What a PIN entry asks for: one name, defined with the session's actors (state/actors.ts). */
export type { PinPrompt };

export const PIN_PROMPTS: readonly PinPrompt[] = ['enterPin', 'enterOldPin', 'enterNewPin', 'confirmNewPin'];

/** A key the holder pressed, as the driver sees it internally (never leaves the driver with a digit). */
export type PadKey =
  | { readonly type: 'digit'; readonly digit: number }
  | { readonly type: 'enter' | 'backspace' | 'clear' | 'cancel' };

/**
 * A key event as the rest of the house sees it: what kind of key, how many digits are now held,
 * and the mask to show ('*' × count). Never the digit.
 */
export interface PinKeyEvent {
  readonly type: 'pinpad.key';
  readonly key: 'digit' | 'enter' | 'backspace' | 'clear' | 'cancel';
  /** Digits held after this key. */
  readonly count: number;
  /** '*' repeated `count` times. */
  readonly mask: string;
}

export interface PinEntryOptions {
  /** Fewest digits accepted (default 6: the social security card's rule). */
  readonly minLength?: number;
  /** Most digits accepted (default 6). */
  readonly maxLength?: number;
  /** The whole entry must finish within this many ms (default 30000). */
  readonly timeoutMs?: number;
  /** And each key must follow the previous one (or the start) within this many ms (default = timeoutMs). */
  readonly interKeyTimeoutMs?: number;
  /** Prompt shown (default 'enterPin'). */
  readonly prompt?: PinPrompt;
  /**
   * End the entry as soon as `maxLength` digits are typed (default true; XFS4IoT `autoEnd`).
   * When false the holder presses Enter.
   */
  readonly autoEnd?: boolean;
  /** Called for each key, with the count only. */
  readonly onKey?: (event: PinKeyEvent) => void;
}

export interface PinEntryResult {
  /** ASCII digits. The caller wipes it (apdu/pin.ts `wipe`) as soon as the command is built. */
  readonly pin: Buffer;
  /** Number of digits (= pin.length; here so that logs can say it without touching `pin`). */
  readonly length: number;
  /** Milliseconds from the start of the entry to its end. */
  readonly elapsedMs: number;
}

export interface SecurePinOptions {
  readonly minLength?: number;
  readonly maxLength?: number;
  /** Seconds-granular on PC/SC readers (bTimerOut); default 30000. */
  readonly timeoutMs?: number;
  readonly prompt?: PinPrompt;
}

/** What the card answered to the VERIFY / CHANGE PIN the reader sent: `9000`, `63Cx`, `6983`… */
export interface SecurePinResult {
  readonly sw: number;
  readonly elapsedMs: number;
}

export interface PinPadCapabilities {
  /** {@link PinPad.enterPin} works: digits come to this process. */
  readonly plainEntry: boolean;
  /** {@link PinPad.secureVerify} works: the reader sends VERIFY itself. */
  readonly secureVerify: boolean;
  /** {@link PinPad.secureChange} works: the reader sends CHANGE PIN itself. */
  readonly secureChange: boolean;
}

export type PinPadStatus =
  | { readonly type: 'pinpad.connected'; readonly name: string }
  | { readonly type: 'pinpad.disconnected'; readonly name: string; readonly error?: SsCardError };

export interface PinPad {
  readonly kind: PinPadKind;
  /** Human-readable device name (port path, reader name, HID product string). */
  readonly name: string;
  readonly capabilities: PinPadCapabilities;
  /** True while the device is there and answered its probe. */
  readonly connected: boolean;

  /** Find and probe the device. Rejects PinPad_NotFound (with what to check) when it is not there. */
  open(signal?: AbortSignal): Promise<void>;

  /** Release the device; ends any entry with PinPad_Cancelled. Idempotent. */
  close(): Promise<void>;

  /**
   * Plain PIN entry. Resolves when the holder finishes (autoEnd or Enter with minLength..maxLength
   * digits). Rejects with SsCardError: PinPad_Timeout, PinPad_Cancelled (Cancel key, {@link cancel},
   * or `signal`), PinPad_Disconnected (unplugged mid-entry), PinPad_Busy (an entry is running),
   * PinPad_Unsupported (a secure-only pad), Input_BadOption (bad options). On every rejection the
   * digits typed so far are wiped.
   */
  enterPin(options?: PinEntryOptions, signal?: AbortSignal): Promise<PinEntryResult>;

  /**
   * Secure VERIFY: the reader collects the PIN and sends `00 20 00 00 03 <BCD PIN>` to the card.
   * Resolves with the card's SW (9000, 63Cx, 6983…). Rejects PinPad_Timeout (6400),
   * PinPad_Cancelled (6401), PinPad_BadLength (6403), PinPad_Unsupported (not a secure pad).
   */
  secureVerify(options?: SecurePinOptions, signal?: AbortSignal): Promise<SecurePinResult>;

  /**
   * Secure CHANGE PIN: old PIN, new PIN, new PIN again; the reader sends
   * `80 5E 01 00 07 <old BCD> FF <new BCD>`. Also PinPad_Mismatch (6402) when the two new PINs differ.
   */
  secureChange(options?: SecurePinOptions, signal?: AbortSignal): Promise<SecurePinResult>;

  /** End the running entry, if any, with PinPad_Cancelled. */
  cancel(): void;

  /** Connection changes (unplug, replug). Returns the unsubscribe function. */
  onStatus(listener: (status: PinPadStatus) => void): () => void;
}

/** Entry defaults of the social security card: exactly 6 digits (docs/domain.md §2). */
export const DEFAULT_PIN_LENGTH = 6;
export const DEFAULT_ENTRY_TIMEOUT_MS = 30_000;
