import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, setup, waitFor } from 'xstate';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import { selectAid } from '../../apdu/ssse.js';
import { Part10SimReader } from '../sim/part10-reader.js';
import { SimKeypad } from '../sim/pinpad-keypad.js';
import { cardFixture } from '../sim/profile.js';
import { SimTransport } from '../sim/sim-transport.js';
import { VirtualSsCard } from '../sim/virtual-card.js';
import type { CardTransport } from '../transport.js';
import { changePinActor, pinEntryActor, verifyPinActor } from './actors.js';
import { PinEntrySession, resolveEntryOptions } from './entry.js';
import { PcscPinPad } from './pcsc-pinpad.js';
import type { PinKeyEvent } from './pinpad.js';
import { TouchPinPad } from './touch-pinpad.js';
import { changePinWithPad, verifyPinWithPad } from './verify.js';

const PIN = '123456'; // card-2.0's test PIN

function typeInto(pad: TouchPinPad, keys: string): void {
  for (const k of keys) pad.input(k === 'E' ? 'enter' : k === 'C' ? 'cancel' : k === 'B' ? 'backspace' : k === 'X' ? 'clear' : k);
}

/** A transport that records the exact Buffers it was handed (to prove they are wiped afterwards). */
function spyTransport(inner: CardTransport): CardTransport & { sent: Buffer[] } {
  const sent: Buffer[] = [];
  return {
    sent,
    get readerName() {
      return inner.readerName;
    },
    get atr() {
      return inner.atr;
    },
    get protocol() {
      return inner.protocol;
    },
    get isOpen() {
      return inner.isOpen;
    },
    transmit: (c, o) => {
      sent.push(c as Buffer);
      return inner.transmit(Buffer.from(c), o);
    },
    control: (code, d, m) => inner.control(code, d, m),
    reset: () => inner.reset(),
    close: (d) => inner.close(d),
  };
}

async function card20() {
  const card = await VirtualSsCard.fromFile(cardFixture('card-2.0'));
  const t = new SimTransport(card, { protocol: 'T0' });
  await t.transmit(selectAid());
  return { card, transport: spyTransport(t), inner: t };
}

function text(x: unknown): string {
  return x instanceof Error ? `${x.message}|${JSON.stringify((x as { context?: unknown }).context ?? {})}` : JSON.stringify(x);
}

describe('entry options', () => {
  it('defaults to the card rule: 6 digits, 30 s, autoEnd', () => {
    expect(resolveEntryOptions()).toMatchObject({ minLength: 6, maxLength: 6, timeoutMs: 30_000, autoEnd: true, prompt: 'enterPin' });
  });

  it.each([
    [{ minLength: 0 }, 'minLength'],
    [{ maxLength: 13 }, 'maxLength'],
    [{ minLength: 6, maxLength: 4 }, 'maxLength'],
    [{ timeoutMs: -1 }, 'timeoutMs'],
    [{ prompt: 'hello' }, 'prompt'],
    [{ autoEnd: 'yes' }, 'autoEnd'],
  ])('%j → Input_BadOption naming %s, bilingual', (o, name) => {
    try {
      resolveEntryOptions(o as never);
      expect.unreachable();
    } catch (e) {
      expect(isSsCardError(e, ErrorCode.Input_BadOption)).toBe(true);
      expect((e as Error).message).toContain(name);
      expect((e as Error).message).toMatch(/[\u4e00-\u9fff].* \/ .*[a-z]/);
    }
  });
});

describe('PinEntrySession', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('times out (fake timers) and wipes what was typed', async () => {
    vi.useFakeTimers();
    const s = new PinEntrySession('pad', resolveEntryOptions({ timeoutMs: 5000 }));
    s.key({ type: 'digit', digit: 4 });
    s.key({ type: 'digit', digit: 2 });
    const p = s.finished.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(5000);
    const err = await p;
    expect(isSsCardError(err, ErrorCode.PinPad_Timeout)).toBe(true);
    expect((err as { context: { typed: number } }).context.typed).toBe(2);
    expect([...(s as unknown as { digits: Buffer }).digits].every((b) => b === 0)).toBe(true);
  });

  it('the inter-key timeout restarts on every key (fake timers)', async () => {
    vi.useFakeTimers();
    const s = new PinEntrySession('pad', resolveEntryOptions({ timeoutMs: 60_000, interKeyTimeoutMs: 1000 }));
    const p = s.finished.catch((e: unknown) => e);
    for (const d of [1, 2, 3]) {
      await vi.advanceTimersByTimeAsync(900);
      s.key({ type: 'digit', digit: d });
    }
    expect(s.isDone).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(isSsCardError(await p, ErrorCode.PinPad_Timeout)).toBe(true);
  });

  it('Enter with too few digits keeps the entry open; backspace and clear count down', async () => {
    const events: PinKeyEvent[] = [];
    const s = new PinEntrySession('pad', resolveEntryOptions({ minLength: 4, maxLength: 6, autoEnd: false, onKey: (e) => events.push(e) }));
    for (const d of [1, 2, 3]) s.key({ type: 'digit', digit: d });
    s.key({ type: 'enter' });
    expect(s.isDone).toBe(false);
    s.key({ type: 'backspace' });
    s.key({ type: 'clear' });
    for (const d of [9, 8, 7, 6]) s.key({ type: 'digit', digit: d });
    s.key({ type: 'enter' });
    const r = await s.finished;
    expect(r.pin.toString('latin1')).toBe('9876');
    r.pin.fill(0);
    expect(events.map((e) => `${e.key}:${e.count}`)).toEqual(['digit:1', 'digit:2', 'digit:3', 'enter:3', 'backspace:2', 'clear:0', 'digit:1', 'digit:2', 'digit:3', 'digit:4', 'enter:4']);
    expect(events.map((e) => e.mask).at(-1)).toBe('****');
  });

  it('a throwing key listener does not break the entry', async () => {
    const s = new PinEntrySession('pad', resolveEntryOptions({ onKey: () => { throw new Error('ui bug'); } }));
    for (const d of [1, 2, 3, 4, 5, 6]) s.key({ type: 'digit', digit: d });
    const r = await s.finished;
    expect(r.length).toBe(6);
    r.pin.fill(0);
  });
});

describe('TouchPinPad (development source)', () => {
  it('is off by default: constructing without allowTouchscreen is PinPad_Unsupported', () => {
    expect(() => new TouchPinPad({} as never)).toThrow(expect.objectContaining({ code: ErrorCode.PinPad_Unsupported }));
  });

  it('an entry before open is PinPad_Disconnected; after open it takes digits from the API', async () => {
    const pad = new TouchPinPad({ allowTouchscreen: true });
    expect(isSsCardError(await pad.enterPin().catch((e: unknown) => e), ErrorCode.PinPad_Disconnected)).toBe(true);
    await pad.open();
    const p = pad.enterPin();
    typeInto(pad, `${PIN}`);
    const r = await p;
    expect(r.pin.toString('latin1')).toBe(PIN);
    r.pin.fill(0);
  });

  it('an already-aborted signal is PinPad_Cancelled; aborting mid-entry too', async () => {
    const pad = new TouchPinPad({ allowTouchscreen: true });
    await pad.open();
    const ac = new AbortController();
    ac.abort();
    expect(isSsCardError(await pad.enterPin({}, ac.signal).catch((e: unknown) => e), ErrorCode.PinPad_Cancelled)).toBe(true);
    const ac2 = new AbortController();
    const p = pad.enterPin({}, ac2.signal).catch((e: unknown) => e);
    typeInto(pad, '12');
    ac2.abort();
    expect(isSsCardError(await p, ErrorCode.PinPad_Cancelled)).toBe(true);
  });

  it('close() mid-entry ends it with PinPad_Disconnected', async () => {
    const pad = new TouchPinPad({ allowTouchscreen: true });
    await pad.open();
    const p = pad.enterPin().catch((e: unknown) => e);
    await pad.close();
    expect(isSsCardError(await p, ErrorCode.PinPad_Disconnected)).toBe(true);
  });
});

describe('verify / change with a plain pad', () => {
  it('VERIFY: right PIN 9000, wrong 63C5; the APDU Buffers holding the PIN are wiped; nothing observable holds the PIN', async () => {
    const { transport, card } = await card20();
    const pad = new TouchPinPad({ allowTouchscreen: true });
    await pad.open();
    const seen: unknown[] = [];
    const ok = verifyPinWithPad(pad, transport, { onKey: (e) => seen.push(e) });
    typeInto(pad, PIN);
    expect(await ok).toMatchObject({ sw: 0x9000, mode: 'plain' });
    const bad = verifyPinWithPad(pad, transport);
    typeInto(pad, '000000');
    expect((await bad).sw).toBe(0x63c5);
    expect(card.pinTriesLeft).toBe(5);
    expect(transport.sent).toHaveLength(2);
    for (const apdu of transport.sent) expect([...apdu].every((b) => b === 0)).toBe(true);
    expect(text(seen)).not.toContain(PIN);
    expect(seen).toHaveLength(6);
  });

  it('CHANGE PIN: old/new/confirm; a confirm that differs is PinPad_Mismatch and sends nothing', async () => {
    const { transport } = await card20();
    const pad = new TouchPinPad({ allowTouchscreen: true });
    await pad.open();
    const prompts: string[] = [];
    const mismatch = changePinWithPad(pad, transport, { onKey: (e) => prompts.push(e.prompt) }).catch((e: unknown) => e);
    typeInto(pad, PIN);
    await Promise.resolve();
    await new Promise((r) => setImmediate(r));
    typeInto(pad, '654321');
    await new Promise((r) => setImmediate(r));
    typeInto(pad, '654320');
    const err = await mismatch;
    expect(isSsCardError(err, ErrorCode.PinPad_Mismatch)).toBe(true);
    expect(transport.sent).toHaveLength(0);
    expect([...new Set(prompts)]).toEqual(['enterOldPin', 'enterNewPin', 'confirmNewPin']);
    expect(text(err)).not.toContain('65432');

    const ok = changePinWithPad(pad, transport);
    typeInto(pad, PIN);
    await new Promise((r) => setImmediate(r));
    typeInto(pad, '654321');
    await new Promise((r) => setImmediate(r));
    typeInto(pad, '654321');
    expect((await ok).sw).toBe(0x9000);
    expect([...transport.sent[0]!].every((b) => b === 0)).toBe(true);
  });
});

describe('as xstate actors', () => {
  const machine = setup({
    types: {},
    actors: { verifyPin: verifyPinActor(null as never, null as never), changePin: changePinActor(null as never, null as never) },
  }).createMachine({
    initial: 'verifying',
    states: {
      verifying: {
        invoke: {
          src: 'verifyPin',
          input: { timeoutMs: 5000 },
          onDone: { target: 'done', guard: ({ event }) => event.output.sw === 0x9000 },
          onError: 'failed',
        },
        on: { CANCEL: 'cancelled' },
      },
      done: { type: 'final' },
      failed: { type: 'final' },
      cancelled: { type: 'final' },
    },
  });

  it('verifyPin runs as an invoked actor: key events are emitted (count only), the SW is the output', async () => {
    const { transport } = await card20();
    const pad = new TouchPinPad({ allowTouchscreen: true });
    await pad.open();
    const actor = createActor(machine.provide({ actors: { verifyPin: verifyPinActor(pad, transport) } }));
    const keys: PinKeyEvent[] = [];
    actor.start();
    const child = actor.getSnapshot().children[Object.keys(actor.getSnapshot().children)[0]!];
    child?.on('pinpad.key', (e: PinKeyEvent) => keys.push(e));
    typeInto(pad, PIN);
    await waitFor(actor, (s) => s.status === 'done');
    expect(actor.getSnapshot().value).toBe('done');
    expect(keys.map((k) => k.count)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(text(keys)).not.toContain(PIN);
    expect(text(actor.getSnapshot().context ?? {})).not.toContain(PIN);
  });

  it('leaving the state stops the actor: the entry is cancelled and no command is sent', async () => {
    const { transport } = await card20();
    const pad = new TouchPinPad({ allowTouchscreen: true });
    await pad.open();
    const actor = createActor(machine.provide({ actors: { verifyPin: verifyPinActor(pad, transport) } }));
    actor.start();
    typeInto(pad, '123');
    actor.send({ type: 'CANCEL' });
    expect(actor.getSnapshot().value).toBe('cancelled');
    typeInto(pad, '456');
    await new Promise((r) => setImmediate(r));
    expect(transport.sent).toHaveLength(0);
    // the pad is free again: a new entry is not refused as busy
    const p = pad.enterPin();
    typeInto(pad, PIN);
    (await p).pin.fill(0);
  });

  it('verifyPin with a secure (Part 10) pad: the reader verifies, the same machine reaches done', async () => {
    const { inner } = await card20();
    const keypad = new SimKeypad();
    const reader = new Part10SimReader(inner, keypad, { msPerSecond: 20 });
    const pad = new PcscPinPad(reader);
    const actor = createActor(machine.provide({ actors: { verifyPin: verifyPinActor(pad, reader) } }));
    keypad.press(`${PIN}E`);
    actor.start();
    await waitFor(actor, (s) => s.status === 'done');
    expect(actor.getSnapshot().value).toBe('done');
  });

  it('pinEntryActor hands the digits to the machine (for flows that build the command elsewhere)', async () => {
    const pad = new TouchPinPad({ allowTouchscreen: true });
    await pad.open();
    const actor = createActor(pinEntryActor(pad), { input: { minLength: 4, maxLength: 4 } });
    actor.start();
    typeInto(pad, '2468');
    const snap = await waitFor(actor, (s) => s.status === 'done');
    expect(snap.output?.pin.toString('latin1')).toBe('2468');
    snap.output?.pin.fill(0);
  });
});
