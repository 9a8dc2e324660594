/**
 * The card slots without a card session (the session actor is a stand-in here; terminal.test.ts
 * runs the real one): which slot a request means, the slot's lock, waiting for the locks to be
 * released (on the release, not on a tick), and presence work run one after the other.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../core/errors.js';
import { SILENT_LOGGER } from '../../core/logger.js';
import type { PcscService } from '../../drivers/pcsc/pcsc-service.js';
import type { SessionActor } from './card-slot.js';
import { CardSlots } from './card-slots.js';
import { UnavailablePinPad } from './unavailable-pinpad.js';

afterEach(() => {
  vi.useRealTimers();
});

function slots(...names: string[]): CardSlots {
  const s = new CardSlots({
    pcsc: {} as PcscService,
    transmitTimeoutMs: undefined,
    pinPad: new UnavailablePinPad(),
    touchPadPerSlot: false,
    psamReady: () => Promise.resolve(),
    psamOpen: () => false,
    session: () => ({ on: () => ({ unsubscribe: () => {} }) }) as unknown as SessionActor,
    log: SILENT_LOGGER,
    emit: () => {},
    stopped: () => false,
  });
  for (const n of names) s.attach(n);
  return s;
}

describe('CardSlots.slotFor', () => {
  it('by exact name, by a unique part of it (any case), else the first slot', () => {
    const s = slots('ACS ACR39U 00 00', 'Virtual PCD 00 00');
    expect(s.slotFor('Virtual PCD 00 00').name).toBe('Virtual PCD 00 00');
    expect(s.slotFor('acr39').name).toBe('ACS ACR39U 00 00');
    expect(s.slotFor(undefined).name).toBe('ACS ACR39U 00 00');
  });

  it('prefers the slot holding a card', () => {
    const s = slots('A 00', 'B 00');
    s.get('B 00')!.present = true;
    expect(s.slotFor(undefined).name).toBe('B 00');
  });

  it('an unknown or ambiguous name, or no slot at all: Pcsc_ReaderNotFound naming the slots', () => {
    const s = slots('A 00', 'A 01');
    expect(() => s.slotFor('A 0')).toThrow(expect.objectContaining({ code: ErrorCode.Pcsc_ReaderNotFound, context: { reader: 'A 0' } }) as Error);
    expect(() => s.slotFor('Z')).toThrow(/card slots: "A 00", "A 01"/);
    expect(() => slots().slotFor(undefined)).toThrow(expect.objectContaining({ code: ErrorCode.Pcsc_ReaderNotFound }) as Error);
  });
});

describe('the slot lock', () => {
  it('a second operation is refused at once (Flow_Busy), not queued; the release frees it', () => {
    const slot = slots('A 00').get('A 00')!;
    const unlock = slot.lock('verify');
    expect(() => slot.lock('readBasic')).toThrow(expect.objectContaining({ code: ErrorCode.Flow_Busy, context: { reader: 'A 00', busy: 'verify' } }) as Error);
    unlock();
    expect(() => slot.lock('readBasic')).not.toThrow();
  });

  it('whenFree resolves on the last release, with timers frozen (no tick), and false on its limit', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const s = slots('A 00', 'B 00');
    const a = s.get('A 00')!.lock('verify');
    const b = s.get('B 00')!.lock('change');
    expect(s.busy()).toEqual(['A 00', 'B 00']);
    let free: boolean | undefined;
    void s.whenFree(10_000).then((x) => (free = x));
    expect(vi.getTimerCount()).toBe(1);
    a();
    await Promise.resolve();
    expect(free).toBeUndefined();
    b();
    for (let i = 0; i < 5 && free === undefined; i++) await Promise.resolve();
    expect(free).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    s.get('A 00')!.lock('verify');
    const late = s.whenFree(10_000);
    await vi.advanceTimersByTimeAsync(10_000);
    await expect(late).resolves.toBe(false);
  });
});

describe('presence work', () => {
  it('runs one piece after the other, and tells the slot\'s watchers after each', async () => {
    const slot = slots('A 00').get('A 00')!;
    const order: string[] = [];
    let told = 0;
    slot.changes.watch(() => told++);
    let go!: () => void;
    void slot.queue(() => new Promise<void>((r) => (go = r)).then(() => void order.push('first')));
    const second = slot.queue(() => Promise.resolve(void order.push('second')));
    await Promise.resolve();
    expect(order).toEqual([]);
    go();
    await second;
    expect(order).toEqual(['first', 'second']);
    expect(told).toBe(2);
  });
});

describe('a card identified without the PSAM is read again once the PSAM opens', () => {
  /** A stand-in session that ended with `code`, recording what it is sent; `fire` emits a result. */
  function standIn(code: string) {
    const sent: string[] = [];
    let listener: ((e: { type: 'result'; result: { code: string } }) => void) | undefined;
    const actor = {
      on: (_t: string, f: typeof listener) => {
        listener = f;
        return { unsubscribe: () => {} };
      },
      getSnapshot: () => ({ matches: (s: string) => s === 'ended', context: { result: { code } } }),
      send: (e: { type: string }) => void sent.push(e.type),
    };
    return { sent, actor: actor as unknown as SessionActor, fire: () => listener?.({ type: 'result', result: { code } }) };
  }

  function rig(code: string, psam: { open: boolean }) {
    const session = standIn(code);
    const connects: string[] = [];
    const s = new CardSlots({
      pcsc: { connect: (name: string) => (connects.push(name), Promise.reject(new Error('no card'))) } as unknown as PcscService,
      transmitTimeoutMs: undefined,
      pinPad: new UnavailablePinPad(),
      touchPadPerSlot: false,
      psamReady: () => Promise.resolve(),
      psamOpen: () => psam.open,
      session: () => session.actor,
      log: SILENT_LOGGER,
      emit: () => {},
      stopped: () => false,
    });
    s.attach('A 00');
    const slot = s.get('A 00')!;
    slot.present = true;
    return { s, slot, session, connects };
  }

  it('the PSAM opens after the card\'s result (psam.unavailable): the card is reconnected and inserted anew, once', async () => {
    const psam = { open: false };
    const { s, slot, session, connects } = rig('psam.unavailable', psam);
    session.fire();
    await new Promise((r) => setImmediate(r));
    expect(session.sent).toEqual([]);
    psam.open = true;
    s.psamOpened();
    s.psamOpened();
    await slot.presence;
    expect(session.sent).toEqual(['CARD_REMOVED', 'CARD_INSERTED']);
    expect(connects).toEqual(['A 00']);
  });

  it('the PSAM opened while the card was being identified (its result comes after): read again all the same', async () => {
    const { slot, session } = rig('psam.unavailable', { open: true });
    session.fire();
    await new Promise((r) => setImmediate(r));
    await slot.presence;
    expect(session.sent).toEqual(['CARD_REMOVED', 'CARD_INSERTED']);
  });

  it('not for another result, a card taken out, or a slot at work', async () => {
    const other = rig('card.unreadable', { open: true });
    other.s.psamOpened();
    await other.slot.presence;
    expect(other.session.sent).toEqual([]);
    const out = rig('psam.unavailable', { open: true });
    out.slot.present = false;
    out.s.psamOpened();
    const busy = rig('psam.unavailable', { open: true });
    busy.slot.lock('readBasic');
    busy.s.psamOpened();
    await Promise.all([out.slot.presence, busy.slot.presence]);
    expect(out.session.sent).toEqual([]);
    expect(busy.session.sent).toEqual([]);
  });
});
