/**
 * The slice of the `pcsclite` addon this driver uses, typed structurally so that unit tests can
 * plug a fake addon (no unit test may open a device) and the rest of the driver has no `any`.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import path from 'node:path';
import { reentered } from '../native-callback.js';

export type AddonCallback<T> = (err: Error | null | undefined, value: T) => void;

export interface AddonReader extends EventEmitter {
  readonly name: string;
  connected: boolean;
  connect(options: { share_mode?: number; protocol?: number }, cb: AddonCallback<number>): void;
  disconnect(disposition: number, cb: (err: Error | null | undefined) => void): void;
  transmit(data: Buffer, resLen: number, protocol: number, cb: AddonCallback<Buffer>): void;
  control(data: Buffer, controlCode: number, resLen: number, cb: AddonCallback<Buffer>): void;
  close(): void;
}

/**
 * A PC/SC context watching the reader list. Emits `readers` (every name, after each poll of
 * SCardListReaders, including the first and empty lists), `reader` (an AddonReader for each new
 * name) and `error` (watching stopped; the context is dead and must be closed and re-created).
 */
export interface AddonContext extends EventEmitter {
  close(): void;
}

/** Creates a PC/SC context; throws when pcscd is not reachable. */
export type AddonFactory = () => AddonContext;

/** pcsclite.h values (identical on Linux/macOS; the addon exposes the same on its prototype). */
export const Scard = {
  SHARE_EXCLUSIVE: 1,
  SHARE_SHARED: 2,
  SHARE_DIRECT: 3,
  PROTOCOL_T0: 1,
  PROTOCOL_T1: 2,
  PROTOCOL_RAW: 4,
  LEAVE_CARD: 0,
  RESET_CARD: 1,
  UNPOWER_CARD: 2,
  EJECT_CARD: 3,
  STATE_CHANGED: 0x0002,
  STATE_UNKNOWN: 0x0004,
  STATE_UNAVAILABLE: 0x0008,
  STATE_EMPTY: 0x0010,
  STATE_PRESENT: 0x0020,
  STATE_EXCLUSIVE: 0x0080,
  STATE_INUSE: 0x0100,
  STATE_MUTE: 0x0200,
} as const;

/** PC/SC v2 part 10 / pcsclite: SCARD_CTL_CODE(code) on Linux and macOS. */
export function scardCtlCode(code: number): number {
  return 0x42000000 + code;
}

interface NativeContext {
  start(cb: (err: Error | undefined, readers: Buffer) => void): void;
  close(): void;
}
interface NativeBinding {
  PCSCLite: new () => NativeContext;
  CardReader: new (name: string) => AddonReader;
}

let native: NativeBinding | undefined;

function loadNative(): NativeBinding {
  if (native) return native;
  const require = createRequire(import.meta.url);
  // pcsclite's index.js puts connect/transmit/control and EventEmitter onto the native classes'
  // prototypes; load it for that, then take the classes from the same (cached) native module.
  require('pcsclite');
  const dir = path.dirname(require.resolve('pcsclite/package.json'));
  native = require(path.join(dir, 'build', 'Release', 'pcsclite.node')) as NativeBinding;
  return native;
}

/**
 * The reader's own methods, each callback re-entering through setImmediate: pcsclite calls them
 * (and the status and reader-list callbacks below) with Nan::Call — see drivers/native-callback.ts.
 */
function reenterCallbacks(r: AddonReader): AddonReader {
  const proto = Object.getPrototypeOf(r) as AddonReader;
  r.connect = (options, cb) => proto.connect.call(r, options, reentered(cb));
  r.disconnect = (disposition, cb) => proto.disconnect.call(r, disposition, reentered(cb));
  r.transmit = (data, resLen, protocol, cb) => proto.transmit.call(r, data, resLen, protocol, reentered(cb));
  r.control = (data, code, resLen, cb) => proto.control.call(r, data, code, resLen, reentered(cb));
  return r;
}

/** "A\0B\0\0" → ["A", "B"] */
export function parseReaderList(data: Buffer | undefined): string[] {
  if (!data || data.length === 0) return [];
  return data
    .toString('utf8')
    .split('\u0000')
    .filter((n) => n.length > 0);
}

/**
 * Our replacement for pcsclite's JS wrapper: the same native context, but we see every poll of the
 * reader list (so "the list is known" is a fact, not a guess) and every error.
 */
class RealContext extends EventEmitter implements AddonContext {
  private readonly ctx: NativeContext;
  private readonly readers = new Map<string, AddonReader>();
  private closed = false;

  constructor(binding: NativeBinding) {
    super();
    this.ctx = new binding.PCSCLite(); // throws when pcscd is not reachable
    process.nextTick(() => {
      if (this.closed) return;
      this.ctx.start(reentered((err: Error | undefined, data: Buffer) => {
        if (this.closed) return;
        if (err) {
          this.emit('error', err);
          return;
        }
        const names = parseReaderList(data);
        for (const name of names) {
          if (this.readers.has(name)) continue;
          const r = reenterCallbacks(new binding.CardReader(name));
          this.readers.set(name, r);
          // The addon emits '_end' through MakeCallback, at once: it goes through setImmediate
          // too, so that it comes after the status reports the addon gave before it.
          r.on(
            '_end',
            reentered(() => {
              r.removeAllListeners('status');
              r.emit('end');
              this.readers.delete(name);
            }),
          );
          this.emit('reader', r);
          (r as unknown as { get_status(cb: (err: Error | undefined, state: number, atr?: Buffer) => void): void }).get_status(
            reentered((e: Error | undefined, state: number, atr?: Buffer) => {
              if (e) {
                r.emit('error', e);
                return;
              }
              r.emit('status', atr ? { state, atr } : { state });
            }),
          );
        }
        for (const [name, r] of [...this.readers]) {
          if (!names.includes(name)) r.close();
        }
        this.emit('readers', names);
      }));
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.readers.values()) {
      try {
        r.close();
      } catch {
        // watcher already ended
      }
    }
    this.readers.clear();
    this.ctx.close();
  }
}

/** The real addon, loaded lazily so that importing the driver never touches pcscd. */
export const realAddon: AddonFactory = () => new RealContext(loadNative());
