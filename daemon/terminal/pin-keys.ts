/**
 * The PIN pad outside the card services: a plain PIN entry (XFS4IoT Keyboard.PinEntry: keys
 * reported masked, the PIN wiped at once, only its length kept) and the on-screen keypad's keys
 * (Keyboard.TouchKey, touchscreen pads only). No digit leaves this module.
 */
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { wipe } from '../../core/secret.js';
import { bi } from '../../core/text.js';
import type { PinPad } from '../../drivers/pinpad/pinpad.js';
import type { TouchPinPad } from '../../drivers/pinpad/touch-pinpad.js';
import type { CardSlots } from './card-slots.js';
import type { PinEntryRequest, PinKeyReport } from './port.js';

export class PinKeys {
  private entering = false;

  public constructor(
    private readonly pinPad: PinPad,
    private readonly slots: CardSlots,
  ) {}

  /** TerminalPort.pinEntry: refused (PinPad_Busy) while another entry or any card operation runs. */
  public async pinEntry(request: PinEntryRequest, onKey: (key: PinKeyReport) => void, signal: AbortSignal): Promise<{ digits: number; completion: 'enter' | 'auto' }> {
    if (this.entering || this.slots.busy().length > 0) {
      throw new SsCardError(ErrorCode.PinPad_Busy, bi('密码键盘正在使用中，请稍后再试', 'the PIN pad is in use; try again when it is free'));
    }
    this.entering = true;
    try {
      const maxLength = request.maxLength ?? 6;
      const autoEnd = request.autoEnd ?? true;
      const r = await this.pinPad.enterPin(
        {
          minLength: request.minLength ?? 6,
          maxLength,
          autoEnd,
          ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }),
          onKey: (k) => onKey({ key: k.key, count: k.count, mask: k.mask }),
        },
        signal,
      );
      const digits = r.length;
      wipe(r.pin);
      return { digits, completion: autoEnd && digits === maxLength ? 'auto' : 'enter' };
    } finally {
      this.entering = false;
    }
  }

  /** TerminalPort.touchKey: a key for the named slot's keypad, else the keypad waiting for keys. */
  public touchKey(key: string, reader?: string): void {
    if (this.pinPad.kind !== 'touchscreen') {
      throw new SsCardError(ErrorCode.PinPad_Unsupported, bi('本终端的密码键盘不是触摸屏键盘：请在密码键盘上输入', "this terminal's PIN pad is not the touchscreen keypad: type on the PIN pad"));
    }
    // The keypad of the named slot; else the one waiting for keys (the terminal's own when none is).
    const pads = reader !== undefined ? [this.slots.slotFor(reader).pad] : [this.pinPad, ...this.slots.all().map((x) => x.pad)];
    const pad = (pads.find((p) => (p as TouchPinPad).entering) ?? pads[0]) as TouchPinPad;
    const taken = pad.input(key);
    if (taken === 'unknown') {
      throw new SsCardError(ErrorCode.Input_BadOption, bi('无法识别的按键：只能是 0–9、enter、backspace、clear 或 cancel', 'unknown key: use 0-9, enter, backspace, clear or cancel'), { option: 'key' });
    }
    if (taken === 'idle') {
      throw new SsCardError(ErrorCode.Api_SequenceError, bi('现在没有正在进行的密码输入，按键未被接收：请等待输入密码的提示', 'no PIN entry is running, so the key was not taken: wait for the PIN prompt'));
    }
  }
}
