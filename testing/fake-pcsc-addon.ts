/**
 * A fake pcsclite addon for unit tests (no unit test may open a device), in the spirit of
 * zigbee-herdsman's mocked bindings: readers and cards are set by the test, calls are recorded,
 * and behaviour can be overridden per call.
 */
import { EventEmitter } from 'node:events';
import type { AddonCallback, AddonContext, AddonFactory, AddonReader } from '../drivers/pcsc/addon.js';
import { Scard } from '../drivers/pcsc/addon.js';

export class FakeReader extends EventEmitter implements AddonReader {
  connected = false;
  readonly sent: Buffer[] = [];
  /** Answer to each transmit; default 9000. Throw or return an Error to fail the call. */
  respond: (apdu: Buffer) => Buffer | Error | 'hang' = () => Buffer.from([0x90, 0x00]);
  connectError: Error | undefined;
  closed = false;

  constructor(readonly name: string) {
    super();
  }

  /** pcsc-lite's count of card insertions and removals, reported in the high 16 bits of the state. */
  events = 0;

  /** A card goes in (its ATR) or out (undefined); every call counts as a card event. */
  setCard(atr: Buffer | undefined): void {
    this.events = (this.events + 1) & 0xffff;
    const counter = this.events * 0x10000;
    this.emit('status', atr ? { state: counter | Scard.STATE_PRESENT | Scard.STATE_CHANGED, atr } : { state: counter | Scard.STATE_EMPTY | Scard.STATE_CHANGED });
  }

  connect(_options: { share_mode?: number; protocol?: number }, cb: AddonCallback<number>): void {
    setImmediate(() => {
      if (this.connectError) cb(this.connectError, 0);
      else {
        this.connected = true;
        cb(null, Scard.PROTOCOL_T1);
      }
    });
  }

  disconnect(_disposition: number, cb: (err: Error | null | undefined) => void): void {
    setImmediate(() => {
      this.connected = false;
      cb(null);
    });
  }

  transmit(data: Buffer, _resLen: number, _protocol: number, cb: AddonCallback<Buffer>): void {
    this.sent.push(Buffer.from(data));
    const r = this.respond(data);
    if (r === 'hang') return;
    setImmediate(() => (r instanceof Error ? cb(r, Buffer.alloc(0)) : cb(null, r)));
  }

  /** When true, control() never answers (a reader waiting for the holder's PIN). */
  controlHangs = false;

  control(data: Buffer, _code: number, _resLen: number, cb: AddonCallback<Buffer>): void {
    if (this.controlHangs) return;
    setImmediate(() => cb(null, Buffer.from(data)));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    setImmediate(() => this.emit('end'));
  }
}

export class FakeContext extends EventEmitter implements AddonContext {
  closed = false;
  constructor(readonly readers: FakeReader[]) {
    super();
    setImmediate(() => {
      for (const r of readers) this.emit('reader', r);
      this.emit(
        'readers',
        readers.map((r) => r.name),
      );
      for (const r of readers) r.emit('status', { state: Scard.STATE_EMPTY });
    });
  }
  /** pcscd died: the addon reports the watcher's error once. */
  die(message = 'SCardGetStatusChange error: Service was stopped.(0x8010001e)'): void {
    this.emit('error', new Error(message));
  }
  close(): void {
    this.closed = true;
  }
}

/** A factory that fails while `down` is true, as the addon does when pcscd is not running. */
export class FakePcsc {
  down = false;
  attempts = 0;
  contexts: FakeContext[] = [];
  readerNames: string[] = ['Fake Reader 00'];
  readonly factory: AddonFactory = () => {
    this.attempts++;
    if (this.down) throw new Error('SCardEstablishContext error: Service not available.(0x8010001d)');
    const ctx = new FakeContext(this.readerNames.map((n) => new FakeReader(n)));
    this.contexts.push(ctx);
    return ctx;
  };
  get current(): FakeContext {
    return this.contexts[this.contexts.length - 1]!;
  }
  reader(name = this.readerNames[0]!): FakeReader {
    return this.current.readers.find((r) => r.name === name)!;
  }
}
