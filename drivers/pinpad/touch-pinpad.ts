/**
 * The "touchscreen" PIN source: digits come through the API (the kiosk page's on-screen keypad).
 * For development and demos only — a kiosk takes the PIN on a PIN pad, never on the touchscreen —
 * so it is off by default: constructing one without `allowTouchscreen: true` fails.
 */
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { KeyPinPad } from './entry.js';
import type { PadKey } from './pinpad.js';

export interface TouchPinPadOptions {
  /** Must be true: the touchscreen source is for development only. */
  readonly allowTouchscreen: boolean;
  readonly name?: string;
}

export class TouchPinPad extends KeyPinPad {
  public readonly kind = 'touchscreen' as const;
  public readonly name: string;

  public constructor(options: TouchPinPadOptions) {
    super();
    if (options?.allowTouchscreen !== true) {
      throw new SsCardError(
        ErrorCode.PinPad_Unsupported,
        {
          zh: '触摸屏输入密码仅供开发调试使用，默认关闭：请使用密码键盘，或在开发环境中设置 allowTouchscreen: true',
          en: 'PIN entry on the touchscreen is for development only and off by default: use a PIN pad, or set allowTouchscreen: true in a development setup',
        },
        { option: 'allowTouchscreen' },
      );
    }
    this.name = options.name ?? 'touchscreen (development)';
  }

  public open(): Promise<void> {
    this.setConnected(true);
    return Promise.resolve();
  }

  public close(): Promise<void> {
    this.setConnected(false);
    return Promise.resolve();
  }

  /**
   * A key from the on-screen keypad: '0'..'9', 'enter', 'backspace', 'clear', 'cancel'. Returns
   * 'unknown' for other input and 'idle' when no PIN entry is running (the key is dropped: the
   * caller tells the user), 'taken' otherwise.
   */
  public input(key: string): 'taken' | 'idle' | 'unknown' {
    const k = touchKey(key);
    if (!k) return 'unknown';
    return this.deliverKey(k) ? 'taken' : 'idle';
  }

  protected startInput(): Promise<void> {
    return Promise.resolve();
  }

  protected stopInput(): Promise<void> {
    return Promise.resolve();
  }
}

function touchKey(key: string): PadKey | undefined {
  if (typeof key !== 'string') return undefined;
  if (key.length === 1 && key >= '0' && key <= '9') return { type: 'digit', digit: key.charCodeAt(0) - 0x30 };
  if (key === 'enter' || key === 'backspace' || key === 'clear' || key === 'cancel') return { type: key };
  return undefined;
}
