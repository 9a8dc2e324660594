/**
 * A simulated USB HID keypad for the HID driver: an injectable {@link HidBinding} whose one device
 * turns the keys of a {@link SimKeypad} into input reports (press, then release) as the model's
 * key map describes, and which can be unplugged and plugged back. Used by the unit tests (there is
 * no kernel HID in CI) and by `sscard pinpad test --device sim-hid`.
 */
import { EventEmitter } from 'node:events';
import type { HidBinding, HidDeviceInfoLike, HidDeviceLike, HidKeyName, HidPinPadConfig } from '../pinpad/hid-pinpad.js';
import type { PadKey } from '../pinpad/pinpad.js';
import type { SimKeypad } from './pinpad-keypad.js';

class SimHidDevice extends EventEmitter implements HidDeviceLike {
  public closed = false;
  public constructor(private readonly onClose: () => void) {
    super();
  }
  public close(): void {
    this.closed = true;
    this.onClose();
  }
}

function keyName(k: PadKey): HidKeyName {
  return k.type === 'digit' ? (String(k.digit) as HidKeyName) : k.type;
}

export class SimHidBinding implements HidBinding {
  private plugged = true;
  private device: SimHidDevice | undefined;
  private abort: AbortController | undefined;
  private readonly codes = new Map<HidKeyName, number>();
  /** Number of times the driver opened the device. */
  public opens = 0;

  public constructor(
    private readonly config: HidPinPadConfig,
    private readonly keypad: SimKeypad,
  ) {
    for (const [code, name] of config.keyMap.keys) if (!this.codes.has(name)) this.codes.set(name, code);
  }

  public devices(): HidDeviceInfoLike[] {
    return this.plugged ? [{ vendorId: this.config.vendorId, productId: this.config.productId, path: '/dev/hidraw-sim', product: this.config.model }] : [];
  }

  public open(path: string): HidDeviceLike {
    if (!this.plugged || path !== '/dev/hidraw-sim') throw new Error(`cannot open HID device ${path}`);
    this.opens++;
    this.abort?.abort();
    const abort = new AbortController();
    const dev = new SimHidDevice(() => abort.abort());
    this.device = dev;
    this.abort = abort;
    void this.pump(dev, abort.signal);
    return dev;
  }

  /** Pull the pad out: the open device reports a read error, as node-hid does. */
  public unplug(): void {
    this.plugged = false;
    this.abort?.abort();
    const dev = this.device;
    this.device = undefined;
    if (dev && !dev.closed) dev.emit('error', new Error('could not read from HID device'));
  }

  public plug(): void {
    this.plugged = true;
  }

  /** Send a raw input report (tests: garbage reports). */
  public sendReport(report: Uint8Array): void {
    this.device?.emit('data', Buffer.from(report));
  }

  private report(code: number): Buffer {
    const { decoder, reportId, offset } = this.config.keyMap;
    const body = decoder === 'keyboard' ? Buffer.from([0, 0, code, 0, 0, 0, 0, 0]) : (() => {
      const b = Buffer.alloc((offset ?? 0) + 1);
      b[offset ?? 0] = code;
      return b;
    })();
    return reportId === undefined ? body : Buffer.concat([Buffer.from([reportId]), body]);
  }

  private async pump(dev: SimHidDevice, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const k = await this.keypad.next(3600_000, signal);
      if (!k || signal.aborted || dev.closed) return;
      const code = this.codes.get(keyName(k));
      if (code === undefined) continue;
      dev.emit('data', this.report(code));
      dev.emit('data', this.report(0));
      await new Promise((r) => setImmediate(r));
    }
  }
}
