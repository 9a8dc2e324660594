/**
 * A USB HID keypad read in HID-data mode through node-hid (docs/domain.md §6: pads that enumerate as a
 * keyboard are taken by the OS; this is for pads, or keypads configured, that are not).
 *
 * The device is chosen by vendor/product id from config; the key-report decoding is configurable
 * per model (fixtures/pinpads/*.json); hot-plug by polling the device list while it is away and by
 * the device's read error when it is pulled. The HID binding is injectable: tests pass a device
 * object (no kernel HID in CI); production uses node-hid, loaded lazily.
 */
import { createRequire } from 'node:module';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { KeyPinPad, padDisconnected } from './entry.js';
import type { PadKey } from './pinpad.js';

/** The slice of a node-hid device this driver uses. */
export interface HidDeviceLike {
  on(event: 'data', listener: (data: Buffer) => void): unknown;
  on(event: 'error', listener: (err: unknown) => void): unknown;
  removeAllListeners(event?: string): unknown;
  close(): void;
}

/** The slice of node-hid's device list entries. */
export interface HidDeviceInfoLike {
  readonly vendorId: number;
  readonly productId: number;
  readonly path?: string;
  readonly product?: string;
  readonly serialNumber?: string;
}

export interface HidBinding {
  devices(): HidDeviceInfoLike[];
  open(path: string): HidDeviceLike;
}

/** node-hid, loaded on first use so that importing this module never touches the kernel. */
export const nodeHidBinding: HidBinding = {
  devices() {
    return loadNodeHid().devices();
  },
  open(path: string) {
    const Ctor = loadNodeHid().HID;
    return new Ctor(path);
  },
};

interface NodeHidModule {
  devices(): HidDeviceInfoLike[];
  HID: new (path: string) => HidDeviceLike;
}

let nodeHid: NodeHidModule | undefined;
function loadNodeHid(): NodeHidModule {
  nodeHid ??= createRequire(import.meta.url)('node-hid') as NodeHidModule;
  return nodeHid;
}

export type HidKeyName = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | 'enter' | 'cancel' | 'backspace' | 'clear';
const KEY_NAMES: readonly HidKeyName[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'enter', 'cancel', 'backspace', 'clear'];

export interface HidKeyMap {
  /**
   * 'keyboard': a boot-keyboard input report `modifiers | reserved | key1..key6` (HID usage ids);
   * a key is pressed when its usage appears that was not in the previous report.
   * 'byte': one key code at `offset`; 0 means released; a press is a non-zero code after 0 or another code.
   */
  readonly decoder: 'keyboard' | 'byte';
  /** Strip this report id when it is the first byte (pads with numbered reports). */
  readonly reportId?: number;
  /** 'byte' decoder: offset of the key code (after the report id). */
  readonly offset?: number;
  /** Key code (decimal or "0x.." string keys in JSON) → key. */
  readonly keys: ReadonlyMap<number, HidKeyName>;
}

export interface HidPinPadConfig {
  readonly model: string;
  readonly vendorId: number;
  readonly productId: number;
  readonly keyMap: HidKeyMap;
}

function badConfig(source: string, field: string, zh: string, en: string): never {
  throw new SsCardError(ErrorCode.Config_Invalid, { zh: `${source} 的 ${field} ${zh}：请修正配置`, en: `${field} in ${source} ${en}: fix the configuration` }, { source, field });
}

/** Validate a HID pad model config (JSON as in fixtures/pinpads/), naming the bad field. */
export function parseHidPinPadConfig(json: unknown, source = 'HID PIN pad config'): HidPinPadConfig {
  if (typeof json !== 'object' || json === null) badConfig(source, '(root)', '必须是对象', 'must be an object');
  const o = json as Record<string, unknown>;
  const id = (f: string): number => {
    const v = o[f];
    const n = typeof v === 'string' && /^0x[0-9a-f]{1,4}$/i.test(v) ? parseInt(v, 16) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffff) badConfig(source, f, '必须是 0–0xFFFF 的整数（或 "0x1234"）', 'must be an integer 0..0xFFFF (or "0x1234")');
    return n;
  };
  const km = o['keyMap'];
  if (typeof km !== 'object' || km === null) badConfig(source, 'keyMap', '必须是对象', 'must be an object');
  const k = km as Record<string, unknown>;
  if (k['decoder'] !== 'keyboard' && k['decoder'] !== 'byte') badConfig(source, 'keyMap.decoder', '必须是 "keyboard" 或 "byte"', 'must be "keyboard" or "byte"');
  const optByte = (f: string): number | undefined => {
    const v = k[f];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) badConfig(source, `keyMap.${f}`, '必须是 0–255 的整数', 'must be an integer 0..255');
    return v;
  };
  const rawKeys = k['keys'];
  if (typeof rawKeys !== 'object' || rawKeys === null) badConfig(source, 'keyMap.keys', '必须是对象（键码 → 按键）', 'must be an object (key code → key)');
  const keys = new Map<number, HidKeyName>();
  for (const [code, name] of Object.entries(rawKeys as Record<string, unknown>)) {
    const n = /^0x[0-9a-f]{1,2}$/i.test(code) ? parseInt(code, 16) : /^\d{1,3}$/.test(code) ? Number(code) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > 255) badConfig(source, `keyMap.keys["${code}"]`, '键码必须是 1–255（十进制或 0x..）', 'key code must be 1..255 (decimal or 0x..)');
    if (!KEY_NAMES.includes(name as HidKeyName)) badConfig(source, `keyMap.keys["${code}"]`, `必须是 ${KEY_NAMES.join(' / ')} 之一`, `must be one of ${KEY_NAMES.join(' / ')}`);
    keys.set(n, name as HidKeyName);
  }
  const model = typeof o['model'] === 'string' ? o['model'] : 'HID keypad';
  const reportId = optByte('reportId');
  const offset = optByte('offset');
  return {
    model,
    vendorId: id('vendorId'),
    productId: id('productId'),
    keyMap: { decoder: k['decoder'], keys, ...(reportId === undefined ? {} : { reportId }), ...(offset === undefined ? {} : { offset }) },
  };
}

const toPadKey = (name: HidKeyName): PadKey => (name.length === 1 ? { type: 'digit', digit: name.charCodeAt(0) - 0x30 } : { type: name as 'enter' | 'cancel' | 'backspace' | 'clear' });

/**
 * Turns input reports into key presses, per the model's {@link HidKeyMap}. Total: any report yields
 * zero or more keys, never throws.
 */
export class HidKeyDecoder {
  private previous = new Set<number>();

  public constructor(private readonly map: HidKeyMap) {}

  public decode(report: Uint8Array): PadKey[] {
    let r = report instanceof Uint8Array ? report : new Uint8Array(0);
    if (this.map.reportId !== undefined && r.length > 0 && r[0] === this.map.reportId) r = r.subarray(1);
    const now = new Set<number>();
    if (this.map.decoder === 'keyboard') {
      for (let i = 2; i < Math.min(r.length, 8); i++) if (r[i]! > 3) now.add(r[i]!); // 1..3 are error/rollover codes
      if (r.length > 2 && r[2] === 0x01) return []; // ErrorRollOver: keep the previous state
    } else {
      const c = r[this.map.offset ?? 0];
      if (c !== undefined && c !== 0) now.add(c);
    }
    const out: PadKey[] = [];
    for (const code of now) {
      if (this.previous.has(code)) continue;
      const name = this.map.keys.get(code);
      if (name) out.push(toPadKey(name));
    }
    this.previous = now;
    return out;
  }

  public reset(): void {
    this.previous.clear();
  }
}

export interface HidPinPadOptions {
  readonly config: HidPinPadConfig;
  /** Default: node-hid. Tests inject a device object here. */
  readonly binding?: HidBinding;
  /** How often to look for the pad while it is away (default 1000 ms). */
  readonly pollMs?: number;
}

export class HidPinPad extends KeyPinPad {
  public readonly kind = 'hid' as const;
  public readonly name: string;
  private readonly binding: HidBinding;
  private readonly decoder: HidKeyDecoder;
  private device: HidDeviceLike | undefined;
  private poll: NodeJS.Timeout | undefined;
  private closed = true;
  private readonly pollMs: number;

  public constructor(private readonly options: HidPinPadOptions) {
    super();
    const c = options.config;
    this.name = `${c.model} (USB ${hex4(c.vendorId)}:${hex4(c.productId)})`;
    this.binding = options.binding ?? nodeHidBinding;
    this.decoder = new HidKeyDecoder(c.keyMap);
    this.pollMs = options.pollMs ?? 1000;
    if (!Number.isInteger(this.pollMs) || this.pollMs < 10) {
      throw new SsCardError(ErrorCode.Input_BadOption, { zh: '选项 pollMs 必须是不小于 10 的整数', en: 'option pollMs must be an integer ≥ 10' }, { option: 'pollMs' });
    }
  }

  /** Find the pad by vendor/product id and open it; afterwards it is watched for unplug/replug. */
  public open(): Promise<void> {
    this.closed = false;
    if (this.device) return Promise.resolve();
    try {
      if (this.tryAttach()) return Promise.resolve();
    } catch (err) {
      return Promise.reject(this.notFound(err));
    }
    return Promise.reject(this.notFound());
  }

  public close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.poll);
    this.cancel();
    this.detach();
    this.setConnected(false);
    return Promise.resolve();
  }

  protected startInput(): Promise<void> {
    this.decoder.reset();
    return Promise.resolve();
  }

  protected stopInput(): Promise<void> {
    return Promise.resolve();
  }

  /** Look for the pad; attach when present. Throws what node-hid throws. */
  private tryAttach(): boolean {
    const c = this.options.config;
    const info = this.binding.devices().find((d) => d.vendorId === c.vendorId && d.productId === c.productId && d.path !== undefined);
    if (!info?.path) return false;
    const dev = this.binding.open(info.path);
    this.device = dev;
    this.decoder.reset();
    dev.on('data', (data: Buffer) => {
      for (const k of this.decoder.decode(data)) this.deliverKey(k);
    });
    dev.on('error', (err: unknown) => this.lost(dev, err));
    this.setConnected(true);
    return true;
  }

  private lost(dev: HidDeviceLike, err: unknown): void {
    if (this.device !== dev) return;
    this.detach();
    this.setConnected(false, padDisconnected(this.name, 'USB read failed (unplugged?)', err));
    this.schedulePoll();
  }

  private detach(): void {
    const dev = this.device;
    this.device = undefined;
    if (!dev) return;
    dev.removeAllListeners('data');
    dev.removeAllListeners('error');
    try {
      dev.close();
    } catch {
      // already gone
    }
  }

  private schedulePoll(): void {
    clearTimeout(this.poll);
    if (this.closed) return;
    this.poll = setTimeout(() => {
      let attached = false;
      try {
        attached = this.tryAttach();
      } catch {
        attached = false;
      }
      if (!attached) this.schedulePoll();
    }, this.pollMs);
  }

  private notFound(cause?: unknown): SsCardError {
    const c = this.options.config;
    return new SsCardError(
      ErrorCode.PinPad_NotFound,
      {
        zh: `找不到 USB 密码键盘 ${hex4(c.vendorId)}:${hex4(c.productId)}（${c.model}）：请检查是否插好、型号配置是否正确，以及当前用户是否有 /dev/hidraw* 的访问权限（udev 规则）`,
        en: `USB PIN pad ${hex4(c.vendorId)}:${hex4(c.productId)} (${c.model}) not found: check it is plugged in, the model config is right and this user may open /dev/hidraw* (udev rule)`,
      },
      { vendorId: c.vendorId, productId: c.productId },
      cause === undefined ? undefined : { cause },
    );
  }
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}
