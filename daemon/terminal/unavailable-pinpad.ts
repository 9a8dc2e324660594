/**
 * The PIN pad of a terminal that has none configured: every entry is refused with a message that
 * says what to configure. Services that need no PIN (ReadBasic) still work; the health report
 * says the terminal is not ready for PIN services.
 */
import { ErrorCode, SsCardError } from '../../core/errors.js';
import type { PinEntryResult, PinPad, PinPadCapabilities, SecurePinResult } from '../../drivers/pinpad/pinpad.js';

function notConfigured(): SsCardError {
  return new SsCardError(ErrorCode.PinPad_NotFound, {
    zh: '本终端没有配置密码键盘：请在配置文件的 pinPad 中设置键盘类型（pcsc、serial、hid）',
    en: 'this terminal has no PIN pad configured: set its kind (pcsc, serial, hid) under pinPad in the configuration',
  });
}

export class UnavailablePinPad implements PinPad {
  public readonly kind = 'serial' as const;
  public readonly name = 'none';
  public readonly capabilities: PinPadCapabilities = { plainEntry: false, secureVerify: false, secureChange: false };
  public readonly connected = false;

  public open(): Promise<void> {
    return Promise.reject(notConfigured());
  }

  public close(): Promise<void> {
    return Promise.resolve();
  }

  public enterPin(): Promise<PinEntryResult> {
    return Promise.reject(notConfigured());
  }

  public secureVerify(): Promise<SecurePinResult> {
    return Promise.reject(notConfigured());
  }

  public secureChange(): Promise<SecurePinResult> {
    return Promise.reject(notConfigured());
  }

  public cancel(): void {}

  public onStatus(): () => void {
    return () => {};
  }
}
