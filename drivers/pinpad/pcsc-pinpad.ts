/**
 * A PC/SC reader with a keypad, used for secure PIN entry (PC/SC v2 Part 10): the reader collects
 * the digits and sends VERIFY / CHANGE PIN to the card; only the SW comes back. Works over any
 * CardTransport whose control() reaches SCardControl — the PC/SC channel, or the simulated pinpad
 * reader of drivers/sim/part10-reader.ts.
 *
 * Note for the PC/SC channel: its control() runs with the channel's own timeout (default 15 s),
 * shorter than a PIN entry may take. Open the channel with `timeoutMs` above the entry timeout
 * plus a margin (this class also ends the wait itself at bTimerOut × 2 + `marginMs`).
 */
import { ErrorCode, SsCardError, isSsCardError } from '../../core/errors.js';
import type { CardTransport } from '../transport.js';
import { entryCancelled, padDisconnected, resolveEntryOptions, unsupported } from './entry.js';
import type { PinPad, PinPadCapabilities, PinPadStatus, SecurePinOptions, SecurePinResult, PinEntryOptions, PinEntryResult } from './pinpad.js';
import type { PinProperties, TlvProperties } from './part10.js';
import { CM_IOCTL_GET_FEATURE_REQUEST, Feature, parseFeatures, parsePinProperties, parseTlvProperties, secureOutcome, ssseModifyStructure, ssseVerifyStructure } from './part10.js';

export interface PcscPinPadOptions {
  /** The reader has a display showing its own prompts (bNumberMessage); default: from GET_TLV_PROPERTIES wLcdLayout. */
  readonly display?: boolean;
  /** Extra ms to wait beyond the reader's own timeouts before giving up (default 5000). */
  readonly marginMs?: number;
}

export class PcscPinPad implements PinPad {
  public readonly kind = 'pcsc' as const;
  private features = new Map<number, number>();
  private pinProps: PinProperties | undefined;
  private tlvProps: TlvProperties | undefined;
  private opened = false;
  private running: { cancel: () => void } | undefined;
  private readonly listeners = new Set<(s: PinPadStatus) => void>();
  private readonly marginMs: number;

  public constructor(
    private readonly transport: CardTransport,
    private readonly options: PcscPinPadOptions = {},
  ) {
    const m = options.marginMs ?? 5000;
    if (!Number.isInteger(m) || m < 0 || m > 600_000) {
      throw new SsCardError(ErrorCode.Input_BadOption, { zh: `选项 marginMs 必须是 0–600000 的整数，实际为 ${String(m)}`, en: `option marginMs must be an integer 0..600000, got ${String(m)}` }, { option: 'marginMs' });
    }
    this.marginMs = m;
  }

  public get name(): string {
    return this.transport.readerName;
  }

  public get capabilities(): PinPadCapabilities {
    return {
      plainEntry: false,
      secureVerify: this.features.has(Feature.VERIFY_PIN_DIRECT),
      secureChange: this.features.has(Feature.MODIFY_PIN_DIRECT),
    };
  }

  public get connected(): boolean {
    return this.opened && this.transport.isOpen;
  }

  /** Control codes by feature tag, as discovered. */
  public get featureCodes(): ReadonlyMap<number, number> {
    return this.features;
  }

  public get pinProperties(): PinProperties | undefined {
    return this.pinProps;
  }

  public get tlvProperties(): TlvProperties | undefined {
    return this.tlvProps;
  }

  /**
   * Feature discovery (CM_IOCTL_GET_FEATURE_REQUEST), then IFD_PIN_PROPERTIES and
   * GET_TLV_PROPERTIES when offered. Rejects PinPad_NotFound when the reader has no
   * VERIFY_PIN_DIRECT (no keypad).
   */
  public async open(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) throw entryCancelled(this.name, 'caller');
    let raw: Buffer;
    try {
      raw = await this.transport.control(CM_IOCTL_GET_FEATURE_REQUEST, Buffer.alloc(0), 256);
    } catch (err) {
      throw this.noKeypad(err);
    }
    this.features = parseFeatures(raw);
    if (!this.features.has(Feature.VERIFY_PIN_DIRECT)) throw this.noKeypad();
    const pinPropsCode = this.features.get(Feature.IFD_PIN_PROPERTIES);
    if (pinPropsCode !== undefined) this.pinProps = parsePinProperties(await this.transport.control(pinPropsCode, Buffer.alloc(0), 16));
    const tlvCode = this.features.get(Feature.GET_TLV_PROPERTIES);
    if (tlvCode !== undefined) this.tlvProps = parseTlvProperties(await this.transport.control(tlvCode, Buffer.alloc(0), 256));
    this.opened = true;
    this.emit({ type: 'pinpad.connected', name: this.name });
  }

  public close(): Promise<void> {
    this.running?.cancel();
    if (this.opened) {
      this.opened = false;
      this.emit({ type: 'pinpad.disconnected', name: this.name });
    }
    return Promise.resolve();
  }

  public enterPin(_options?: PinEntryOptions, _signal?: AbortSignal): Promise<PinEntryResult> {
    return Promise.reject(unsupported(this.name, 'plain PIN entry (a PC/SC keypad reader never gives out the digits; use secureVerify)', '明文密码输入（读卡器键盘不会交出密码数字，请使用安全校验）'));
  }

  public secureVerify(options: SecurePinOptions = {}, signal?: AbortSignal): Promise<SecurePinResult> {
    return this.secure('verify', options, signal);
  }

  public secureChange(options: SecurePinOptions = {}, signal?: AbortSignal): Promise<SecurePinResult> {
    return this.secure('change', options, signal);
  }

  public cancel(): void {
    this.running?.cancel();
  }

  public onStatus(listener: (status: PinPadStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async secure(kind: 'verify' | 'change', options: SecurePinOptions, signal?: AbortSignal): Promise<SecurePinResult> {
    const o = resolveEntryOptions(options);
    if (o.minLength !== o.maxLength) {
      throw new SsCardError(
        ErrorCode.Input_BadOption,
        { zh: '安全输入时 minLength 必须等于 maxLength（读卡器按固定位数把 BCD 密码写入命令）', en: 'for secure entry minLength must equal maxLength (the reader writes the BCD PIN into a fixed-size block)' },
        { option: 'maxLength' },
      );
    }
    if (signal?.aborted === true) throw entryCancelled(this.name, 'caller');
    if (!this.opened) await this.open(signal);
    const feature = kind === 'verify' ? Feature.VERIFY_PIN_DIRECT : Feature.MODIFY_PIN_DIRECT;
    const code = this.features.get(feature);
    if (code === undefined) {
      throw kind === 'verify'
        ? unsupported(this.name, 'FEATURE_VERIFY_PIN_DIRECT', '安全校验密码（FEATURE_VERIFY_PIN_DIRECT）')
        : unsupported(this.name, 'FEATURE_MODIFY_PIN_DIRECT', '安全修改密码（FEATURE_MODIFY_PIN_DIRECT）');
    }
    if (this.running) {
      throw new SsCardError(ErrorCode.PinPad_Busy, { zh: `读卡器“${this.name}”正在进行另一次密码输入`, en: `reader "${this.name}" is already taking a PIN` }, { pad: this.name });
    }
    const timeoutS = Math.min(255, Math.max(1, Math.ceil(o.timeoutMs / 1000)));
    const display = this.options.display ?? (this.tlvProps?.lcdLayout !== undefined && this.tlvProps.lcdLayout !== 0);
    const structure = kind === 'verify' ? ssseVerifyStructure({ pinLength: o.maxLength, timeoutS, display }) : ssseModifyStructure({ pinLength: o.maxLength, timeoutS, display });
    // CHANGE PIN takes three entries; each may use the whole timeout.
    const waitMs = timeoutS * 1000 * (kind === 'verify' ? 2 : 4) + this.marginMs;
    const started = performance.now();
    const response = await new Promise<Buffer>((resolve, reject) => {
      let settled = false;
      const finish = (f: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.running = undefined;
        f();
      };
      const onAbort = (): void => finish(() => reject(entryCancelled(this.name, 'caller')));
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new SsCardError(
                ErrorCode.PinPad_Timeout,
                { zh: `读卡器“${this.name}”在 ${waitMs} 毫秒内没有返回密码输入结果：请检查读卡器`, en: `reader "${this.name}" gave no PIN entry result within ${waitMs} ms: check the reader` },
                { pad: this.name, timeoutMs: waitMs },
              ),
            ),
          ),
        waitMs,
      );
      this.running = { cancel: onAbort };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted === true) {
        onAbort();
        return;
      }
      // The reader's own timer (bTimerOut) ends the entry; give the channel a little longer so
      // that the reader's answer (6400 timeout) is what the holder hears about.
      this.transport.control(code, structure, 258, { timeoutMs: waitMs + 5000 }).then(
        (r) => finish(() => resolve(r)),
        (err: unknown) => finish(() => reject(this.mapTransportError(err))),
      );
    });
    const sw = secureOutcome(this.name, response);
    return { sw, elapsedMs: performance.now() - started };
  }

  private mapTransportError(err: unknown): Error {
    if (isSsCardError(err, ErrorCode.Pcsc_ReaderRemoved)) {
      this.opened = false;
      const e = padDisconnected(this.name, 'secure PIN entry', err);
      this.emit({ type: 'pinpad.disconnected', name: this.name, error: e });
      return e;
    }
    return err instanceof Error ? err : new SsCardError(ErrorCode.Internal, { zh: '内部错误', en: String(err) });
  }

  private noKeypad(cause?: unknown): SsCardError {
    return new SsCardError(
      ErrorCode.PinPad_NotFound,
      {
        zh: `读卡器“${this.name}”没有密码键盘（不支持 PC/SC 第 10 部分安全输入）：请换用带键盘的读卡器，或配置串口/USB 密码键盘`,
        en: `reader "${this.name}" has no PIN pad (no PC/SC Part 10 secure PIN entry): use a reader with a keypad, or configure a serial/USB PIN pad`,
      },
      { pad: this.name },
      cause === undefined ? undefined : { cause },
    );
  }

  private emit(s: PinPadStatus): void {
    for (const l of [...this.listeners]) {
      try {
        l(s);
      } catch {
        // a listener's bug must not break the driver
      }
    }
  }
}
