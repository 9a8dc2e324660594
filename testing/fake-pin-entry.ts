/**
 * One PIN entry of the fake terminal's touchscreen pad (testing/fake-terminal.ts): keys come in
 * one at a time, each reported as a count and a mask, and the digits live only here and are wiped
 * when the entry ends (README "PIN secrecy").
 */
import { ErrorCode, SsCardError } from '../core/errors.js';
import type { PinKeyReport } from '../daemon/terminal/port.js';

/** One PIN entry in progress: the digits live only here and are wiped at its end. */
export class FakePinEntry {
  private digits: number[] = [];
  public constructor(
    private readonly min: number,
    private readonly max: number,
    private readonly autoEnd: boolean,
    private readonly onKey: (k: PinKeyReport) => void,
    private readonly done: (r: { pin: string; completion: 'enter' | 'auto' } | Error) => void,
  ) {}

  public key(k: string): void {
    if (/^[0-9]$/.test(k)) {
      if (this.digits.length >= this.max) return;
      this.digits.push(Number(k));
      this.report('digit');
      if (this.autoEnd && this.digits.length === this.max) this.finish('auto');
    } else if (k === 'backspace') {
      this.digits.pop();
      this.report('backspace');
    } else if (k === 'clear') {
      this.digits.fill(0);
      this.digits = [];
      this.report('clear');
    } else if (k === 'cancel') {
      this.report('cancel');
      this.wipe();
      this.done(new SsCardError(ErrorCode.PinPad_Cancelled, { zh: '持卡人取消了密码输入', en: 'the holder cancelled PIN entry' }));
    } else if (k === 'enter') {
      if (this.digits.length < this.min) return;
      this.report('enter');
      this.finish('enter');
    }
  }

  public abort(e: Error): void {
    this.wipe();
    this.done(e);
  }

  private finish(completion: 'enter' | 'auto'): void {
    const pin = this.digits.join('');
    this.wipe();
    this.done({ pin, completion });
  }

  private wipe(): void {
    this.digits.fill(0);
    this.digits = [];
  }

  private report(key: PinKeyReport['key']): void {
    this.onKey({ key, count: this.digits.length, mask: '*'.repeat(this.digits.length) });
  }
}
