/**
 * Plain PIN entry shared by every pad that delivers key presses (serial EPP in plaintext mode, USB
 * HID, touchscreen): option checks, the digit buffer, masked key events, timeouts, cancel, and the
 * rule that the digits are wiped on every way out but one (the result the caller wipes).
 */
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { wipe } from '../../apdu/pin.js';
import type {
  PadKey,
  PinEntryOptions,
  PinEntryResult,
  PinKeyEvent,
  PinPad,
  PinPadCapabilities,
  PinPadKind,
  PinPadStatus,
  PinPrompt,
  SecurePinOptions,
  SecurePinResult,
} from './pinpad.js';
import { DEFAULT_ENTRY_TIMEOUT_MS, DEFAULT_PIN_LENGTH, PIN_PROMPTS } from './pinpad.js';

/** Longest PIN any pad here collects (ISO 9564-1 format 2 limit). */
export const MAX_PIN_DIGITS = 12;

export interface ResolvedEntryOptions {
  readonly minLength: number;
  readonly maxLength: number;
  readonly timeoutMs: number;
  readonly interKeyTimeoutMs: number;
  readonly prompt: PinPrompt;
  readonly autoEnd: boolean;
  readonly onKey: ((event: PinKeyEvent) => void) | undefined;
}

function badOption(option: string, zhRule: string, enRule: string, got: unknown): never {
  const shown = typeof got === 'number' || typeof got === 'boolean' ? String(got) : typeof got;
  throw new SsCardError(
    ErrorCode.Input_BadOption,
    { zh: `选项 ${option} ${zhRule}，实际为 ${shown}：请修改调用参数或配置`, en: `option ${option} ${enRule}, got ${shown}: fix the call or the configuration` },
    { option },
  );
}

function intOption(name: string, value: unknown, def: number, min: number, max: number): number {
  if (value === undefined) return def;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    badOption(name, `必须是 ${min}–${max} 之间的整数`, `must be an integer in ${min}..${max}`, value);
  }
  return value;
}

/** Validate entry options eagerly, naming the option at fault. */
export function resolveEntryOptions(options: PinEntryOptions | SecurePinOptions = {}): ResolvedEntryOptions {
  if (typeof options !== 'object' || options === null) badOption('options', '必须是对象', 'must be an object', options);
  const minLength = intOption('minLength', options.minLength, DEFAULT_PIN_LENGTH, 1, MAX_PIN_DIGITS);
  const maxLength = intOption('maxLength', options.maxLength, Math.max(DEFAULT_PIN_LENGTH, minLength), 1, MAX_PIN_DIGITS);
  if (maxLength < minLength) badOption('maxLength', `不能小于 minLength（${minLength}）`, `must not be less than minLength (${minLength})`, maxLength);
  const timeoutMs = intOption('timeoutMs', options.timeoutMs, DEFAULT_ENTRY_TIMEOUT_MS, 1, 600_000);
  const o = options as PinEntryOptions;
  const interKeyTimeoutMs = intOption('interKeyTimeoutMs', o.interKeyTimeoutMs, timeoutMs, 1, 600_000);
  const prompt = options.prompt ?? 'enterPin';
  if (!PIN_PROMPTS.includes(prompt)) badOption('prompt', `必须是 ${PIN_PROMPTS.join(' / ')} 之一`, `must be one of ${PIN_PROMPTS.join(' / ')}`, prompt);
  if (o.autoEnd !== undefined && typeof o.autoEnd !== 'boolean') badOption('autoEnd', '必须是布尔值', 'must be a boolean', o.autoEnd);
  if (o.onKey !== undefined && typeof o.onKey !== 'function') badOption('onKey', '必须是函数', 'must be a function', o.onKey);
  return { minLength, maxLength, timeoutMs, interKeyTimeoutMs, prompt, autoEnd: o.autoEnd ?? true, onKey: o.onKey };
}

// ---- the errors of a PIN entry (no digit, ever) ----

export function entryTimeout(pad: string, ms: number, typed: number): SsCardError {
  return new SsCardError(
    ErrorCode.PinPad_Timeout,
    { zh: `密码输入超时（${ms} 毫秒内未完成，已输入 ${typed} 位）：请重新开始并在键盘上输入密码`, en: `PIN entry timed out (not finished within ${ms} ms, ${typed} digits typed): start again and type the PIN on the pad` },
    { pad, timeoutMs: ms, typed },
  );
}

export function entryCancelled(pad: string, by: 'key' | 'caller'): SsCardError {
  return new SsCardError(
    ErrorCode.PinPad_Cancelled,
    by === 'key'
      ? { zh: '持卡人在密码键盘上按了“取消”：密码输入已取消', en: 'the holder pressed Cancel on the PIN pad: PIN entry cancelled' }
      : { zh: '密码输入已被取消', en: 'PIN entry was cancelled' },
    { pad, by },
  );
}

export function padDisconnected(pad: string, during: string, cause?: unknown): SsCardError {
  return new SsCardError(
    ErrorCode.PinPad_Disconnected,
    { zh: `密码键盘“${pad}”已断开（${during}）：请检查连接线，键盘重新连接后再试`, en: `PIN pad "${pad}" disconnected (${during}): check the cable and try again once it is reconnected` },
    { pad, during },
    cause === undefined ? undefined : { cause },
  );
}

export function padBusy(pad: string): SsCardError {
  return new SsCardError(
    ErrorCode.PinPad_Busy,
    { zh: `密码键盘“${pad}”正在输入另一个密码：请先结束或取消当前输入`, en: `PIN pad "${pad}" is already taking a PIN: finish or cancel that entry first` },
    { pad },
  );
}

export function unsupported(pad: string, what: string, zhWhat: string): SsCardError {
  return new SsCardError(
    ErrorCode.PinPad_Unsupported,
    { zh: `密码键盘“${pad}”不支持${zhWhat}：请换用支持该功能的键盘或改用另一种输入方式`, en: `PIN pad "${pad}" does not support ${what}: use a pad that does, or the other entry mode` },
    { pad, what },
  );
}

export function abortedBeforeStart(pad: string): SsCardError {
  return entryCancelled(pad, 'caller');
}

/**
 * One PIN entry: collects digits into a fixed Buffer, emits masked events, enforces lengths and
 * timeouts. `finished` settles exactly once; every path but success wipes the digits.
 */
export class PinEntrySession {
  private readonly digits: Buffer;
  private count = 0;
  private done = false;
  private overall: NodeJS.Timeout | undefined;
  private interKey: NodeJS.Timeout | undefined;
  private readonly started = performance.now();
  public readonly finished: Promise<PinEntryResult>;
  private resolveFn!: (r: PinEntryResult) => void;
  private rejectFn!: (e: SsCardError) => void;
  private readonly onAbort: () => void;

  public constructor(
    private readonly pad: string,
    private readonly options: ResolvedEntryOptions,
    private readonly signal?: AbortSignal,
  ) {
    this.digits = Buffer.alloc(options.maxLength);
    this.finished = new Promise<PinEntryResult>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    this.overall = setTimeout(() => this.fail(entryTimeout(pad, options.timeoutMs, this.count)), options.timeoutMs);
    this.armInterKey();
    this.onAbort = () => this.fail(entryCancelled(pad, 'caller'));
    signal?.addEventListener('abort', this.onAbort, { once: true });
    if (signal?.aborted === true) this.onAbort();
  }

  public get isDone(): boolean {
    return this.done;
  }

  /** Feed one key. Ignored after the entry ended. */
  public key(k: PadKey): void {
    if (this.done) return;
    this.armInterKey();
    switch (k.type) {
      case 'digit': {
        if (!Number.isInteger(k.digit) || k.digit < 0 || k.digit > 9) return;
        if (this.count >= this.options.maxLength) {
          // a real pad beeps; the digit is dropped
          this.emit('digit');
          return;
        }
        this.digits[this.count++] = 0x30 + k.digit;
        this.emit('digit');
        if (this.options.autoEnd && this.count === this.options.maxLength) this.succeed();
        return;
      }
      case 'backspace':
        if (this.count > 0) this.digits[--this.count] = 0;
        this.emit('backspace');
        return;
      case 'clear':
        this.digits.fill(0);
        this.count = 0;
        this.emit('clear');
        return;
      case 'enter':
        this.emit('enter');
        if (this.count >= this.options.minLength) this.succeed();
        // too short: the holder keeps typing (the event tells the UI how many are held)
        return;
      case 'cancel':
        this.emit('cancel');
        this.fail(entryCancelled(this.pad, 'key'));
        return;
    }
  }

  /** End the entry with an error (disconnect, caller cancel, device error). */
  public fail(err: SsCardError): void {
    if (this.done) return;
    this.end();
    this.digits.fill(0);
    this.rejectFn(err);
  }

  private succeed(): void {
    if (this.done) return;
    this.end();
    const pin = Buffer.from(this.digits.subarray(0, this.count));
    wipe(this.digits);
    this.resolveFn({ pin, length: pin.length, elapsedMs: performance.now() - this.started });
  }

  private end(): void {
    this.done = true;
    clearTimeout(this.overall);
    clearTimeout(this.interKey);
    this.overall = undefined;
    this.interKey = undefined;
    this.signal?.removeEventListener('abort', this.onAbort);
  }

  private armInterKey(): void {
    if (this.options.interKeyTimeoutMs >= this.options.timeoutMs) return;
    clearTimeout(this.interKey);
    this.interKey = setTimeout(() => this.fail(entryTimeout(this.pad, this.options.interKeyTimeoutMs, this.count)), this.options.interKeyTimeoutMs);
  }

  private emit(key: PinKeyEvent['key']): void {
    const cb = this.options.onKey;
    if (!cb) return;
    try {
      cb({ type: 'pinpad.key', key, count: this.count, mask: '*'.repeat(this.count) });
    } catch {
      // a listener's bug must not break the entry
    }
  }
}

/**
 * Base of the pads that deliver key presses: one entry at a time, status listeners, and the
 * secure-entry methods answering PinPad_Unsupported. Subclasses call {@link deliverKey} for each key,
 * {@link setConnected} on plug changes, and implement the device hooks.
 */
export abstract class KeyPinPad implements PinPad {
  public abstract readonly kind: PinPadKind;
  public abstract readonly name: string;
  public readonly capabilities: PinPadCapabilities = { plainEntry: true, secureVerify: false, secureChange: false };
  protected session: PinEntrySession | undefined;
  private readonly listeners = new Set<(s: PinPadStatus) => void>();
  private connected_ = false;

  public get connected(): boolean {
    return this.connected_;
  }

  public abstract open(signal?: AbortSignal): Promise<void>;
  public abstract close(): Promise<void>;

  /** Device hook: put the pad into key-delivery mode (serial: plaintext input on). */
  protected abstract startInput(options: ResolvedEntryOptions): Promise<void>;
  /** Device hook: leave key-delivery mode. Must not throw. */
  protected abstract stopInput(): Promise<void>;

  public async enterPin(options?: PinEntryOptions, signal?: AbortSignal): Promise<PinEntryResult> {
    const resolved = resolveEntryOptions(options);
    if (signal?.aborted === true) throw abortedBeforeStart(this.name);
    if (this.session && !this.session.isDone) throw padBusy(this.name);
    if (!this.connected_) throw padDisconnected(this.name, 'before PIN entry');
    const session = new PinEntrySession(this.name, resolved, signal);
    this.session = session;
    try {
      await this.startInput(resolved);
    } catch (err) {
      session.fail(err instanceof SsCardError ? err : padDisconnected(this.name, 'starting PIN entry', err));
    }
    try {
      return await session.finished;
    } finally {
      if (this.session === session) this.session = undefined;
      await this.stopInput();
    }
  }

  public secureVerify(_options?: SecurePinOptions, _signal?: AbortSignal): Promise<SecurePinResult> {
    return Promise.reject(unsupported(this.name, 'secure PIN verification (the reader sending VERIFY)', '安全密码校验（由读卡器发送 VERIFY）'));
  }

  public secureChange(_options?: SecurePinOptions, _signal?: AbortSignal): Promise<SecurePinResult> {
    return Promise.reject(unsupported(this.name, 'secure PIN change (the reader sending CHANGE PIN)', '安全修改密码（由读卡器发送 CHANGE PIN）'));
  }

  public cancel(): void {
    this.session?.fail(entryCancelled(this.name, 'caller'));
  }

  public onStatus(listener: (status: PinPadStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Hand one key press to the running entry; keys outside an entry are dropped (returns false). */
  protected deliverKey(key: PadKey): boolean {
    const s = this.session;
    if (s === undefined || s.isDone) return false;
    s.key(key);
    return true;
  }

  /** A PIN entry is running and takes keys. */
  public get entering(): boolean {
    return this.session !== undefined && !this.session.isDone;
  }

  protected setConnected(connected: boolean, error?: SsCardError): void {
    if (connected === this.connected_) return;
    this.connected_ = connected;
    if (!connected) this.session?.fail(error ?? padDisconnected(this.name, 'PIN entry'));
    const status: PinPadStatus = connected
      ? { type: 'pinpad.connected', name: this.name }
      : { type: 'pinpad.disconnected', name: this.name, ...(error ? { error } : {}) };
    for (const l of [...this.listeners]) {
      try {
        l(status);
      } catch {
        // a listener's bug must not break the driver
      }
    }
  }
}
