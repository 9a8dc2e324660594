/**
 * A stand-in for the service flows (written before state/session.ts existed): one small xstate machine —
 * read the ID card, check it belongs to the card's holder (公民身份号码 = 社会保障号码), VERIFY the
 * PIN — run once with each PIN pad kind (PC/SC Part 10 simulated reader, serial ZT598 over a real
 * pty, USB HID through the injected device, touchscreen) and the ID reader simulator over a real
 * pty. The machine only knows the actors by name, as state/ will.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { assign, createActor, setup, waitFor } from 'xstate';
import { selectAid } from '../apdu/ssse.js';
import { matchesSocialSecurityNumber } from '../drivers/idcard/info.js';
import { SerialIdCardReader } from '../drivers/idcard/reader.js';
import { readIdCardActor, verifyPinActor } from '../drivers/pinpad/actors.js';
import { HidPinPad, parseHidPinPadConfig } from '../drivers/pinpad/hid-pinpad.js';
import { PcscPinPad } from '../drivers/pinpad/pcsc-pinpad.js';
import type { PinKeyEvent, PinPad } from '../drivers/pinpad/pinpad.js';
import { SerialPinPad } from '../drivers/pinpad/serial-pinpad.js';
import { TouchPinPad } from '../drivers/pinpad/touch-pinpad.js';
import { loadIdCardFixture } from '../drivers/sim/idcard-fixtures.js';
import { IdReaderSimulator } from '../drivers/sim/idcard-reader.js';
import { Part10SimReader } from '../drivers/sim/part10-reader.js';
import { SimHidBinding } from '../drivers/sim/pinpad-hid.js';
import { SimKeypad } from '../drivers/sim/pinpad-keypad.js';
import { Zt598Simulator } from '../drivers/sim/pinpad-zt598.js';
import { cardFixture, fixturesDir } from '../drivers/sim/profile.js';
import { PtyPair } from '../drivers/sim/pty.js';
import { SimTransport } from '../drivers/sim/sim-transport.js';
import { VirtualSsCard } from '../drivers/sim/virtual-card.js';
import type { CardTransport } from '../drivers/transport.js';

const profile = JSON.parse(readFileSync(cardFixture('card-2.0'), 'utf8')) as { pin: string; holder: { 社会保障号码: string } };
const PIN = profile.pin;

interface HolderCheck {
  input: { ssn: string };
  context: { ssn: string; idMatches: boolean | undefined; sw: number | undefined; keys: number };
}

const holderCheck = setup({
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- xstate's idiom for declaring types
  types: {} as HolderCheck,
  actors: {
    readIdCard: readIdCardActor(null as never),
    verifyPin: verifyPinActor(null as never, null as never),
  },
}).createMachine({
  context: ({ input }) => ({ ssn: input.ssn, idMatches: undefined, sw: undefined, keys: 0 }),
  initial: 'readingId',
  states: {
    readingId: {
      invoke: {
        src: 'readIdCard',
        input: { timeoutMs: 5000, pollMs: 30 },
        onDone: [
          {
            guard: ({ context, event }) => matchesSocialSecurityNumber(event.output, context.ssn),
            target: 'verifying',
            actions: assign({ idMatches: true }),
          },
          { target: 'wrongPerson', actions: assign({ idMatches: false }) },
        ],
        onError: 'failed',
      },
    },
    verifying: {
      invoke: {
        src: 'verifyPin',
        input: { timeoutMs: 8000 },
        onDone: { target: 'verified', actions: assign({ sw: ({ event }) => event.output.sw }) },
        onError: 'failed',
      },
    },
    verified: { type: 'final' },
    wrongPerson: { type: 'final' },
    failed: { type: 'final' },
  },
});

interface Kind {
  name: string;
  make(card: CardTransport, keypad: SimKeypad): Promise<{ pad: PinPad; transport: CardTransport; type: (keys: string) => void }>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const kinds: Kind[] = [
  {
    name: 'PC/SC Part 10 reader (simulated)',
    make: async (card, keypad) => {
      const reader = new Part10SimReader(card, keypad, { msPerSecond: 50 });
      return Promise.resolve({ pad: new PcscPinPad(reader), transport: reader, type: (k: string) => keypad.press(`${k}E`) });
    },
  },
  {
    name: 'serial ZT598 over a real pty',
    make: async (card, keypad) => {
      const pty = await PtyPair.open();
      const sim = new Zt598Simulator(keypad, { path: pty.b });
      await sim.start();
      const pad = new SerialPinPad({ path: pty.a, commandTimeoutMs: 800 });
      cleanups.push(() => pty.close(), () => sim.stop(), () => pad.close());
      return { pad, transport: card, type: (k: string) => keypad.press(k) };
    },
  },
  {
    name: 'USB HID (injected device)',
    make: async (card, keypad) => {
      const config = parseHidPinPadConfig(JSON.parse(readFileSync(`${fixturesDir()}/pinpads/hid-numpad.json`, 'utf8')));
      const pad = new HidPinPad({ config, binding: new SimHidBinding(config, keypad) });
      cleanups.push(() => pad.close());
      return Promise.resolve({ pad, transport: card, type: (k: string) => keypad.press(k) });
    },
  },
  {
    name: 'touchscreen (development)',
    make: async (card) => {
      const pad = new TouchPinPad({ allowTouchscreen: true });
      return Promise.resolve({ pad, transport: card, type: (k: string) => { for (const c of k) pad.input(c); } });
    },
  },
];

async function idReader(fixture: string): Promise<SerialIdCardReader> {
  const pty = await PtyPair.open();
  const sim = new IdReaderSimulator({ path: pty.b });
  await sim.start();
  sim.place(loadIdCardFixture(fixture));
  const reader = new SerialIdCardReader({ path: pty.a, commandTimeoutMs: 800 });
  await reader.open();
  cleanups.push(() => pty.close(), () => sim.stop(), () => reader.close());
  return reader;
}

describe('holder check flow: ID card + PIN, once per PIN pad kind', () => {
  it.each(kinds.map((k) => [k.name, k] as const))('%s', async (_name, kind) => {
    const card = await VirtualSsCard.fromFile(cardFixture('card-2.0'));
    const inner = new SimTransport(card, { protocol: 'T0' });
    await inner.transmit(selectAid());
    const keypad = new SimKeypad();
    const { pad, transport, type } = await kind.make(inner, keypad);
    const reader = await idReader('id-card-2.0');
    const actor = createActor(
      holderCheck.provide({ actors: { readIdCard: readIdCardActor(reader), verifyPin: verifyPinActor(pad, transport) } }),
      { input: { ssn: profile.holder.社会保障号码 } },
    );
    const keys: PinKeyEvent[] = [];
    const watched = new Set<unknown>();
    actor.subscribe((s) => {
      for (const child of Object.values(s.children)) {
        if (!child || watched.has(child)) continue;
        watched.add(child);
        child.on('pinpad.key', (e) => keys.push(e as PinKeyEvent));
      }
    });
    actor.start();
    await waitFor(actor, (s) => s.value === 'verifying' || s.status === 'done', { timeout: 8000 });
    type(PIN);
    const end = await waitFor(actor, (s) => s.status === 'done', { timeout: 10_000 });
    expect(end.value).toBe('verified');
    expect(end.context).toMatchObject({ idMatches: true, sw: 0x9000 });
    expect(JSON.stringify(end.context)).not.toContain(PIN);
    expect(JSON.stringify(keys)).not.toContain(PIN);
  });

  it('a mismatching ID card (a namesake) stops the flow before any PIN is asked', async () => {
    const card = await VirtualSsCard.fromFile(cardFixture('card-2.0'));
    const inner = new SimTransport(card, { protocol: 'T0' });
    const pad = new TouchPinPad({ allowTouchscreen: true });
    const reader = await idReader('id-mismatch-same-name');
    const actor = createActor(
      holderCheck.provide({ actors: { readIdCard: readIdCardActor(reader), verifyPin: verifyPinActor(pad, inner) } }),
      { input: { ssn: profile.holder.社会保障号码 } },
    );
    actor.start();
    const end = await waitFor(actor, (s) => s.status === 'done', { timeout: 8000 });
    expect(end.value).toBe('wrongPerson');
    expect(card.pinTriesLeft).toBe(6);
  });
});
