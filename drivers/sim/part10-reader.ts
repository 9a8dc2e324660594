/**
 * A simulated PC/SC reader with a keypad: a CardTransport wrapping another transport (normally the
 * in-process SimTransport over a virtual card) whose control() implements the PC/SC v2 Part 10
 * features a CCID pinpad reader offers — GET_FEATURE_REQUEST, VERIFY_PIN_DIRECT, MODIFY_PIN_DIRECT,
 * IFD_PIN_PROPERTIES, GET_TLV_PROPERTIES — with the holder's keys taken from a {@link SimKeypad}.
 *
 * Like a real reader it fills the PIN into the APDU template as bmFormatString / bmPINBlockString /
 * the insertion offsets say, sends the APDU to the card, and answers only SW1 SW2; its own outcomes
 * are 6400 (timeout), 6401 (cancel), 6402 (new PINs differ), 6403 (length), 6B80 (bad structure).
 * The completed APDU is wiped after the card answered.
 */
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { wipe } from '../../apdu/pin.js';
import { scardCtlCode } from '../pcsc/addon.js';
import type { PinModifyStructure, PinVerifyStructure } from '../pinpad/part10.js';
import { CM_IOCTL_GET_FEATURE_REQUEST, decodePinModify, decodePinVerify, encodeFeatures, encodePinProperties, encodeTlvProperties, Feature, Property, ReaderSw } from '../pinpad/part10.js';
import type { CardProtocol, CardTransport, Disposition, TransmitOptions } from '../transport.js';
import type { SimKeypad } from './pinpad-keypad.js';

/** libccid's control codes: SCARD_CTL_CODE(0x330000 + feature tag) (CLASS2_IOCTL_MAGIC). */
export function ccidFeatureCode(tag: number): number {
  return scardCtlCode(0x330000 + tag);
}

export interface Part10ReaderOptions {
  /** Features offered (default: VERIFY/MODIFY_PIN_DIRECT, IFD_PIN_PROPERTIES, GET_TLV_PROPERTIES). */
  readonly features?: readonly number[];
  /** Reader limits reported in GET_TLV_PROPERTIES (default 4..12). */
  readonly minPinSize?: number;
  readonly maxPinSize?: number;
  /** Milliseconds per bTimerOut second (default 1000; demos and tests may shorten it). */
  readonly msPerSecond?: number;
  /** Reader name (default "<inner> (simulated pinpad)"). */
  readonly readerName?: string;
  /** USB ids reported (default a Cherry ST-2000-like 046A:003E). */
  readonly vendorId?: number;
  readonly productId?: number;
}

function readerRemoved(name: string): SsCardError {
  return new SsCardError(
    ErrorCode.Pcsc_ReaderRemoved,
    { zh: `读卡器“${name}”已拔出：请重新连接读卡器`, en: `reader "${name}" was unplugged: connect it again` },
    { reader: name },
  );
}

const swBuf = (sw: number): Buffer => Buffer.from([(sw >> 8) & 0xff, sw & 0xff]);

export class Part10SimReader implements CardTransport {
  public readonly readerName: string;
  private readonly features: Map<number, number>;
  private readonly msPerSecond: number;
  private unplugged = false;
  private entryAbort: AbortController | undefined;
  /** Count of control() calls by feature tag (tests check discovery happened once, etc.). */
  public readonly calls = new Map<number, number>();

  public constructor(
    private readonly inner: CardTransport,
    private readonly keypad: SimKeypad,
    private readonly options: Part10ReaderOptions = {},
  ) {
    this.readerName = options.readerName ?? `${inner.readerName} (simulated pinpad)`;
    const tags = options.features ?? [Feature.VERIFY_PIN_DIRECT, Feature.MODIFY_PIN_DIRECT, Feature.IFD_PIN_PROPERTIES, Feature.GET_TLV_PROPERTIES];
    this.features = new Map(tags.map((t) => [t, ccidFeatureCode(t)]));
    this.msPerSecond = options.msPerSecond ?? 1000;
    if (!Number.isFinite(this.msPerSecond) || this.msPerSecond <= 0) {
      throw new SsCardError(ErrorCode.Input_BadOption, { zh: '选项 msPerSecond 必须是正数', en: 'option msPerSecond must be a positive number' }, { option: 'msPerSecond' });
    }
  }

  public get atr(): Buffer {
    return this.inner.atr;
  }

  public get protocol(): CardProtocol {
    return this.inner.protocol;
  }

  public get isOpen(): boolean {
    return !this.unplugged && this.inner.isOpen;
  }

  /** Pull the reader's USB plug: a running entry ends, every call rejects Pcsc_ReaderRemoved. */
  public unplug(): void {
    this.unplugged = true;
    this.entryAbort?.abort();
  }

  /** Plug it back in. */
  public replug(): void {
    this.unplugged = false;
  }

  public transmit(command: Uint8Array, options?: TransmitOptions): Promise<Buffer> {
    if (this.unplugged) return Promise.reject(readerRemoved(this.readerName));
    return this.inner.transmit(command, options);
  }

  public reset(): Promise<Buffer> {
    if (this.unplugged) return Promise.reject(readerRemoved(this.readerName));
    return this.inner.reset();
  }

  public close(disposition?: Disposition): Promise<void> {
    this.entryAbort?.abort();
    return this.inner.close(disposition);
  }

  public async control(controlCode: number, data: Uint8Array, _maxResponseLength?: number): Promise<Buffer> {
    if (this.unplugged) throw readerRemoved(this.readerName);
    if (controlCode === CM_IOCTL_GET_FEATURE_REQUEST) return encodeFeatures(this.features);
    const tag = [...this.features].find(([, code]) => code === controlCode)?.[0];
    if (tag === undefined) {
      throw new SsCardError(
        ErrorCode.Pcsc_ControlFailed,
        { zh: `模拟键盘读卡器不支持控制码 0x${controlCode.toString(16).toUpperCase()}`, en: `the simulated pinpad reader does not support control code 0x${controlCode.toString(16).toUpperCase()}` },
        { controlCode },
      );
    }
    this.calls.set(tag, (this.calls.get(tag) ?? 0) + 1);
    switch (tag) {
      case Feature.IFD_PIN_PROPERTIES:
        return encodePinProperties({ lcdLayout: 0, entryValidationCondition: 0x07, timeOut2: 0 });
      case Feature.GET_TLV_PROPERTIES:
        return encodeTlvProperties(
          new Map([
            [Property.wLcdLayout, 0],
            [Property.bEntryValidationCondition, 0x07],
            [Property.bTimeOut2, 0],
            [Property.bMinPINSize, this.options.minPinSize ?? 4],
            [Property.bMaxPINSize, this.options.maxPinSize ?? 12],
            [Property.wIdVendor, this.options.vendorId ?? 0x046a],
            [Property.wIdProduct, this.options.productId ?? 0x003e],
          ]),
          new Map([[Property.sFirmwareID, Buffer.from('SSCARD-SIM-P10', 'latin1')]]),
        );
      case Feature.VERIFY_PIN_DIRECT:
        return this.verify(data);
      case Feature.MODIFY_PIN_DIRECT:
        return this.modify(data);
      default:
        throw new SsCardError(ErrorCode.Pcsc_ControlFailed, { zh: `模拟读卡器未实现功能 0x${tag.toString(16)}`, en: `the simulated reader does not implement feature 0x${tag.toString(16)}` }, { feature: tag });
    }
  }

  private async verify(data: Uint8Array): Promise<Buffer> {
    let s: PinVerifyStructure;
    try {
      s = decodePinVerify(data);
    } catch {
      return swBuf(ReaderSw.BAD_STRUCTURE);
    }
    const pos = formatPosition(s.formatString);
    if (pos === undefined || !templateFits(s.apdu, pos, s.pinBlockString & 0x0f)) return swBuf(ReaderSw.BAD_STRUCTURE);
    const entry = await this.entry('enterPin', s);
    if (typeof entry === 'number') return swBuf(entry);
    const apdu = Buffer.from(s.apdu);
    try {
      insertPin(apdu, pos, s, entry);
      return await this.sendToCard(apdu);
    } finally {
      wipe(apdu, entry, s.apdu);
    }
  }

  private async modify(data: Uint8Array): Promise<Buffer> {
    let s: PinModifyStructure;
    try {
      s = decodePinModify(data);
    } catch {
      return swBuf(ReaderSw.BAD_STRUCTURE);
    }
    const block = s.pinBlockString & 0x0f;
    const wantsOld = (s.confirmPin & 0x02) !== 0;
    const confirm = (s.confirmPin & 0x01) !== 0;
    if (formatPosition(s.formatString) === undefined || !templateFits(s.apdu, s.insertionOffsetNew, block) || (wantsOld && !templateFits(s.apdu, s.insertionOffsetOld, block))) {
      return swBuf(ReaderSw.BAD_STRUCTURE);
    }
    const held: Buffer[] = [];
    const apdu = Buffer.from(s.apdu);
    try {
      if (wantsOld) {
        const old = await this.entry('enterOldPin', s);
        if (typeof old === 'number') return swBuf(old);
        held.push(old);
      }
      const fresh = await this.entry('enterNewPin', s);
      if (typeof fresh === 'number') return swBuf(fresh);
      held.push(fresh);
      if (confirm) {
        const again = await this.entry('confirmNewPin', s);
        if (typeof again === 'number') return swBuf(again);
        held.push(again);
        if (!again.equals(fresh)) return swBuf(ReaderSw.MISMATCH);
      }
      if (wantsOld) insertPin(apdu, s.insertionOffsetOld, s, held[0]!);
      insertPin(apdu, s.insertionOffsetNew, s, fresh);
      return await this.sendToCard(apdu);
    } finally {
      wipe(apdu, s.apdu, ...held);
    }
  }

  private async sendToCard(apdu: Buffer): Promise<Buffer> {
    const res = await this.inner.transmit(apdu, { sensitive: true });
    const out = swBuf(res.length >= 2 ? (res[res.length - 2]! << 8) | res[res.length - 1]! : 0x6f00);
    wipe(res);
    return out;
  }

  /**
   * One entry on the keypad: digits until Enter (or the maximum, when bit 0 of
   * bEntryValidationCondition allows it). Resolves the ASCII digits or a reader SW.
   */
  private async entry(prompt: string, s: PinVerifyStructure | PinModifyStructure): Promise<Buffer | number> {
    const first = (s.timerOut === 0 ? 30 : s.timerOut) * this.msPerSecond;
    const after = (s.timerOut2 === 0 ? (s.timerOut === 0 ? 30 : s.timerOut) : s.timerOut2) * this.msPerSecond;
    const digits = Buffer.alloc(16);
    let n = 0;
    const abort = new AbortController();
    this.entryAbort = abort;
    this.keypad.prompt(prompt);
    try {
      for (;;) {
        const key = await this.keypad.next(n === 0 ? first : after, abort.signal);
        if (this.unplugged) throw readerRemoved(this.readerName);
        if (key === undefined) {
          if ((s.entryValidationCondition & 0x04) !== 0 && n >= s.minPinDigits && n <= s.maxPinDigits) break;
          digits.fill(0);
          return ReaderSw.TIMEOUT;
        }
        if (key.type === 'cancel') {
          digits.fill(0);
          return ReaderSw.CANCELLED;
        }
        if (key.type === 'digit') {
          if (n < digits.length) digits[n++] = 0x30 + key.digit;
          if ((s.entryValidationCondition & 0x01) !== 0 && n === s.maxPinDigits) break;
        } else if (key.type === 'backspace') {
          if (n > 0) digits[--n] = 0;
        } else if (key.type === 'clear') {
          digits.fill(0);
          n = 0;
        } else if (key.type === 'enter') {
          break;
        }
      }
      if (n < s.minPinDigits || n > s.maxPinDigits) {
        digits.fill(0);
        return ReaderSw.LENGTH;
      }
      const out = Buffer.from(digits.subarray(0, n));
      digits.fill(0);
      return out;
    } finally {
      if (this.entryAbort === abort) this.entryAbort = undefined;
    }
  }
}

/** PIN position in bytes from bmFormatString, or undefined when given in bits (not simulated). */
function formatPosition(formatString: number): number | undefined {
  if ((formatString & 0x80) === 0 && ((formatString >> 3) & 0x0f) !== 0) return undefined;
  const format = formatString & 0x03;
  if (format === 0x03) return undefined;
  return (formatString >> 3) & 0x0f;
}

function templateFits(apdu: Buffer, pos: number, block: number): boolean {
  return apdu.length >= 5 && block > 0 && apdu[4] === apdu.length - 5 && 5 + pos + block <= apdu.length;
}

/** Write the digits at data offset `pos`: BCD nibbles, ASCII bytes or binary bytes, left-justified. */
function insertPin(apdu: Buffer, pos: number, s: PinVerifyStructure | PinModifyStructure, digits: Buffer): void {
  const base = 5 + pos;
  const format = s.formatString & 0x03;
  for (let i = 0; i < digits.length; i++) {
    const d = digits[i]! - 0x30;
    if (format === 0x01) {
      const at = base + (i >> 1);
      apdu[at] = i % 2 === 0 ? (d << 4) | (apdu[at]! & 0x0f) : (apdu[at]! & 0xf0) | d;
    } else {
      apdu[base + i] = format === 0x02 ? 0x30 + d : d;
    }
  }
}
