/**
 * The real service flows (state/session.ts wired by daemon/flows/session-actors.ts) once with each
 * PIN pad kind — serial ZT598 simulator over a real pty, USB HID through the injected simulated
 * device, PC/SC Part 10 secure entry through the simulated keypad reader wrapping the card's
 * transport — with the resident ID reader simulator over a real pty. Card side in process:
 * VirtualSsCard and VirtualPsam behind the daemon's own PcscChannel over the fake pcsclite addon
 * (testing/fake-pcsc-readers.ts: no pcscd, but the real transmit path and APDU trace).
 *
 * Per kind: verify (right PIN; wrong PIN with tries left), change, reset with the holder's ID card
 * read over the pty, and a namesake's ID card refused before any PIN is asked (a Part 10 keypad
 * reader, which cannot set a PIN, has reset refused at routing instead). No PIN may appear, in
 * any form (testing/pin-scan.ts), in a snapshot, an emitted event, a result or the APDU trace of
 * either reader — the part of the PIN-secrecy suite (test/pin-secrecy.test.ts) for the pads the
 * daemon cannot open on this machine (USB HID, Part 10). With plain entry every APDU that carried
 * the PIN is wiped once sent; with secure entry no such APDU leaves this process.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createActor, waitFor } from 'xstate';
import type { Actor, SnapshotFrom } from 'xstate';
import { PIN_BEARING_INS } from '../apdu/apdu.js';
import { SsseCard } from '../drivers/card/ssse-card.js';
import { IdCmd } from '../drivers/idcard/frame.js';
import { SerialIdCardReader } from '../drivers/idcard/reader.js';
import { HidPinPad, parseHidPinPadConfig } from '../drivers/pinpad/hid-pinpad.js';
import { Feature } from '../drivers/pinpad/part10.js';
import { PcscPinPad } from '../drivers/pinpad/pcsc-pinpad.js';
import type { PinPad } from '../drivers/pinpad/pinpad.js';
import { SerialPinPad } from '../drivers/pinpad/serial-pinpad.js';
import { Psam } from '../drivers/psam/psam.js';
import { loadIdCardFixture } from '../drivers/sim/idcard-fixtures.js';
import { IdReaderSimulator } from '../drivers/sim/idcard-reader.js';
import { Part10SimReader } from '../drivers/sim/part10-reader.js';
import { SimHidBinding } from '../drivers/sim/pinpad-hid.js';
import { SimKeypad } from '../drivers/sim/pinpad-keypad.js';
import { Zt598Simulator } from '../drivers/sim/pinpad-zt598.js';
import type { CardProfile } from '../drivers/sim/profile.js';
import { cardFixture, fixturesDir, loadCardProfile, psamFixture } from '../drivers/sim/profile.js';
import { PtyPair } from '../drivers/sim/pty.js';
import { fakeReaders } from '../testing/fake-pcsc-readers.js';
import { findLeaks, needlesFor, pinBlockNeedles } from '../testing/pin-scan.js';
import { VirtualSsCard } from '../drivers/sim/virtual-card.js';
import { VirtualPsam } from '../drivers/sim/virtual-psam.js';
import type { CardTransport, TransmitOptions } from '../drivers/transport.js';
import { pinEntryOf, sessionImplementations } from '../daemon/flows/session-actors.js';
import type { PinSlot } from '../state/pin-vault.js';
import { createPinVault } from '../state/pin-vault.js';
import type { ServiceResult } from '../state/results.js';
import type { ServiceKind } from '../state/roles.js';
import type { SessionConfig, SessionEmitted, SessionMachine } from '../state/session.js';
import { sessionMachine } from '../state/session.js';

const HOLDER_PIN = '123456';
const WRONG_PIN = '111111';
const NEW_PIN = '802461';
const ALL_PINS = [HOLDER_PIN, WRONG_PIN, NEW_PIN];

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Pad {
  readonly pad: PinPad;
  /** The card transport the session uses (the Part 10 reader wraps the card's). */
  readonly transport: CardTransport;
  /** When the simulated holder types: on the pad's own prompt, or on the machine's pin.entryStarted. */
  readonly typeOn: 'keypad' | 'machine';
  /** Appended to every PIN typed (Enter on the Part 10 reader, which waits for it). */
  readonly suffix: string;
  /** Secure entry: how many VERIFY / MODIFY PIN DIRECT the reader ran. */
  readonly secureCalls?: () => { verify: number; modify: number };
}

interface PadKind {
  readonly name: string;
  readonly secure: boolean;
  make(card: CardTransport, keypad: SimKeypad): Promise<Pad>;
}

const kinds: PadKind[] = [
  {
    name: 'serial ZT598 over a real pty',
    secure: false,
    make: async (card, keypad) => {
      const pty = await PtyPair.open();
      cleanups.push(() => pty.close());
      const sim = new Zt598Simulator(keypad, { path: pty.b });
      await sim.start();
      cleanups.push(() => sim.stop());
      const pad = new SerialPinPad({ path: pty.a, commandTimeoutMs: 800 });
      cleanups.push(() => pad.close());
      return { pad, transport: card, typeOn: 'keypad', suffix: '' };
    },
  },
  {
    name: 'USB HID (injected simulated device)',
    secure: false,
    make: (card, keypad) => {
      const config = parseHidPinPadConfig(JSON.parse(readFileSync(`${fixturesDir()}/pinpads/hid-numpad.json`, 'utf8')));
      const pad = new HidPinPad({ config, binding: new SimHidBinding(config, keypad) });
      cleanups.push(() => pad.close());
      return Promise.resolve({ pad, transport: card, typeOn: 'machine', suffix: '' });
    },
  },
  {
    name: 'PC/SC Part 10 secure entry (simulated keypad reader)',
    secure: true,
    make: (card, keypad) => {
      const reader = new Part10SimReader(card, keypad);
      const pad = new PcscPinPad(reader);
      cleanups.push(() => pad.close());
      return Promise.resolve({
        pad,
        transport: reader,
        typeOn: 'keypad',
        suffix: 'E',
        secureCalls: () => ({ verify: reader.calls.get(Feature.VERIFY_PIN_DIRECT) ?? 0, modify: reader.calls.get(Feature.MODIFY_PIN_DIRECT) ?? 0 }),
      });
    },
  },
];

interface Run {
  readonly vcard: VirtualSsCard;
  readonly profile: CardProfile;
  readonly pad: Pad;
  readonly idSim: IdReaderSimulator;
  readonly actor: Actor<SessionMachine>;
  readonly emitted: SessionEmitted[];
  readonly snapshots: SnapshotFrom<SessionMachine>[];
  /** PINs the simulated holder types, one per PIN prompt. */
  readonly pins: string[];
  /** PIN prompts the holder saw (pad prompts or machine prompts, as the kind types). */
  readonly prompts: string[];
  /** Vault slots filled (plain entry only). */
  readonly vaultPuts: PinSlot[];
  /** The very Buffers of the PIN-bearing APDUs (INS of VERIFY, CHANGE/RELOAD PIN… with data) the session sent. */
  readonly pinCommands: Buffer[];
  /** Both readers' APDU trace as the daemon's debug log would show it. */
  traceText(): string;
  service(kind: ServiceKind, pins: string[]): Promise<ServiceResult>;
}

/** `t`, recording the exact Buffer of every PIN-bearing command handed to it (to see it wiped afterwards). */
function recordingPinCommands(t: CardTransport, sent: Buffer[]): CardTransport {
  return new Proxy(t, {
    get(target, key) {
      if (key === 'transmit') {
        return (command: Uint8Array, options?: TransmitOptions) => {
          if (command.length > 5 && PIN_BEARING_INS.has(command[1]!)) sent.push(command as Buffer);
          return target.transmit(command, options);
        };
      }
      const v: unknown = Reflect.get(target, key, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

async function start(kind: PadKind, o: { idCard: string; change?: Partial<CardProfile>; config?: Partial<SessionConfig> }): Promise<Run> {
  const profile = { ...(await loadCardProfile(cardFixture('card-2.0'))), ...o.change };
  const vcard = new VirtualSsCard(profile);
  const readers = await fakeReaders(vcard, await VirtualPsam.fromFile(psamFixture('psam-test')));
  cleanups.push(() => readers.stop());
  const inner = readers.card;
  const psam = new Psam(readers.psam);
  await psam.open();

  const keypad = new SimKeypad();
  const pad = await kind.make(inner, keypad);
  await pad.pad.open();

  const pty = await PtyPair.open();
  cleanups.push(() => pty.close());
  const idSim = new IdReaderSimulator({ path: pty.b });
  await idSim.start();
  cleanups.push(() => idSim.stop());
  idSim.place(loadIdCardFixture(o.idCard));
  const idReader = new SerialIdCardReader({ path: pty.a, commandTimeoutMs: 800 });
  await idReader.open();
  cleanups.push(() => idReader.close());

  const vault = createPinVault();
  const vaultPuts: PinSlot[] = [];
  const put = vault.put.bind(vault);
  vault.put = (slot, digits) => {
    vaultPuts.push(slot);
    put(slot, digits);
  };
  const pinCommands: Buffer[] = [];
  const cardTransport = recordingPinCommands(pad.transport, pinCommands);
  const impl = sessionImplementations({ card: () => new SsseCard(cardTransport), secureModule: psam, pinPad: pad.pad, idReader }, vault);
  const actor = createActor(sessionMachine.provide(impl), { input: { role: 'kiosk', offered: ['verify', 'change', 'reset'], pinEntryMs: 20_000, pinEntry: pinEntryOf(pad.pad), ...o.config } });
  cleanups.push(() => {
    actor.stop();
  });

  const pins: string[] = [];
  const prompts: string[] = [];
  const typeNext = (prompt: string): void => {
    prompts.push(prompt);
    const p = pins.shift();
    if (p !== undefined) keypad.press(p + pad.suffix);
  };
  if (pad.typeOn === 'keypad') cleanups.push(keypad.onPrompt(typeNext));
  const emitted: SessionEmitted[] = [];
  const snapshots: SnapshotFrom<SessionMachine>[] = [];
  actor.on('*', (e) => {
    emitted.push(e);
    if (e.type === 'pin.entryStarted' && pad.typeOn === 'machine') setImmediate(() => typeNext(e.prompt));
  });
  actor.subscribe((s) => snapshots.push(s));
  actor.start();
  actor.send({ type: 'CARD_INSERTED' });
  const id = await waitFor(actor, (s) => s.matches('identified') || s.matches('ended'), { timeout: 10_000 });
  expect(id.value).toBe('identified');

  return {
    vcard,
    profile,
    pad,
    idSim,
    actor,
    emitted,
    snapshots,
    pins,
    prompts,
    vaultPuts,
    pinCommands,
    traceText: () => readers.traceText(),
    service: async (service, typed) => {
      pins.push(...typed);
      actor.send({ type: 'SELECT_SERVICE', kind: service });
      const s = await waitFor(actor, (x) => x.matches('done') || x.matches('ended'), { timeout: 20_000 });
      expect(s.value).toBe('done');
      return s.context.result!;
    },
  };
}

/** Everything the machine showed the world: snapshots (value and context), emitted events. */
function machineText(r: Run): string {
  return JSON.stringify({ snapshots: r.snapshots.map((s) => ({ value: s.value, context: s.context })), emitted: r.emitted });
}

function expectNoPinDigits(r: Run, result: ServiceResult): void {
  const text = machineText(r) + JSON.stringify(result);
  // The scan sees real content: the card's own number is in the context, the trace has the card's commands.
  expect(text).toContain(r.profile.holder.socialSecurityNumber);
  expect(r.traceText()).toMatch(/Card Reader C 00 A4 04 00/);
  const needles = [...needlesFor(ALL_PINS), ...pinBlockNeedles(cardFixture('card-2.0'), [NEW_PIN])];
  expect(findLeaks(text, needles)).toEqual([]);
  expect(findLeaks(r.traceText(), needles)).toEqual([]);
}

/** READ BASE INFO as the ID reader simulator logs what it received ("30 01"). */
const READ_BASE = IdCmd.READ_BASE.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');

describe.each(kinds.map((k) => [k.name, k] as const))('service flows with %s and the ID reader over a pty', (_name, kind) => {
  it('verify, right PIN: verify.ok, six tries left on machine and card', async () => {
    const r = await start(kind, { idCard: 'id-card-2.0' });
    const result = await r.service('verify', [HOLDER_PIN]);
    expect(result).toMatchObject({ code: 'verify.ok', outcome: 'ok', triesLeft: 6 });
    expect(r.vcard.pinTriesLeft).toBe(6);
    expect(r.actor.getSnapshot().context.triesLeft).toBe(6);
    expect(r.prompts).toHaveLength(1);
    if (kind.secure) {
      // The reader took the PIN and sent VERIFY; the process held no digit.
      expect(r.pad.secureCalls!()).toEqual({ verify: 1, modify: 0 });
      expect(r.vaultPuts).toEqual([]);
      expect(r.emitted.filter((e) => e.type === 'pin.digits')).toEqual([]);
    } else {
      expect(r.vaultPuts).toEqual(['pin']);
      expect(r.emitted.filter((e) => e.type === 'pin.digits').map((e) => (e as { count: number }).count)).toEqual([1, 2, 3, 4, 5, 6]);
    }
    expectNoPinDigits(r, result);
  });

  it('verify, wrong PIN: verify.wrongPin with the tries left the card reports (sent once, not retried)', async () => {
    const r = await start(kind, { idCard: 'id-card-2.0' });
    const result = await r.service('verify', [WRONG_PIN]);
    expect(result).toMatchObject({ code: 'verify.wrongPin', outcome: 'failed', triesLeft: 5, sw: 0x63c5 });
    expect(r.vcard.pinTriesLeft).toBe(5);
    expect(r.actor.getSnapshot().context.triesLeft).toBe(5);
    if (kind.secure) expect(r.pad.secureCalls!()).toEqual({ verify: 1, modify: 0 });
    expectNoPinDigits(r, result);
  });

  it('change: old PIN, new PIN twice: change.ok and the card holds the new PIN', async () => {
    const r = await start(kind, { idCard: 'id-card-2.0' });
    const result = await r.service('change', [HOLDER_PIN, NEW_PIN, NEW_PIN]);
    expect(result).toMatchObject({ code: 'change.ok', outcome: 'ok' });
    expect(r.vcard.toProfile().pin.toString()).toBe(NEW_PIN);
    expect(r.vcard.pinTriesLeft).toBe(6);
    expect(r.prompts).toHaveLength(3);
    if (kind.secure) {
      expect(r.prompts).toEqual(['enterOldPin', 'enterNewPin', 'confirmNewPin']);
      expect(r.pad.secureCalls!()).toEqual({ verify: 0, modify: 1 });
      expect(r.vaultPuts).toEqual([]);
    } else {
      expect(r.vaultPuts).toEqual(['oldPin', 'newPin', 'confirmPin']);
    }
    // The new PIN works (and the old one no longer does).
    const check = await r.service('verify', [NEW_PIN]);
    expect(check).toMatchObject({ code: 'verify.ok', triesLeft: 6 });
    expectNoPinDigits(r, result);
  });

  it('change, wrong old PIN: change.wrongPin with the tries left, the PIN unchanged', async () => {
    const r = await start(kind, { idCard: 'id-card-2.0' });
    const result = await r.service('change', [WRONG_PIN, NEW_PIN, NEW_PIN]);
    expect(result).toMatchObject({ code: 'change.wrongPin', outcome: 'failed', triesLeft: 5 });
    expect(r.vcard.pinTriesLeft).toBe(5);
    expect(r.actor.getSnapshot().context.triesLeft).toBe(5);
    expect(r.vcard.toProfile().pin.toString()).toBe(HOLDER_PIN);
    if (kind.secure) expect(r.pad.secureCalls!()).toEqual({ verify: 0, modify: 1 });
    expectNoPinDigits(r, result);
  });

  it('the APDUs that carried a PIN are wiped once sent (plain entry); secure entry sends none from this process', async () => {
    const r = await start(kind, { idCard: 'id-card-2.0' });
    expect((await r.service('verify', [WRONG_PIN])).code).toBe('verify.wrongPin');
    expect((await r.service('verify', [HOLDER_PIN])).code).toBe('verify.ok');
    expect((await r.service('change', [HOLDER_PIN, NEW_PIN, NEW_PIN])).code).toBe('change.ok');
    if (kind.secure) {
      expect(r.pinCommands).toEqual([]);
    } else {
      expect(r.pinCommands.length).toBeGreaterThanOrEqual(3);
      for (const c of r.pinCommands) expect([...c].every((b) => b === 0)).toBe(true);
    }
  });

  it('reset: the holder’s ID card is read over the pty and matches the card’s 社会保障号码', async () => {
    const r = await start(kind, { idCard: 'id-card-2.0', change: { pinTriesLeft: 2 } });
    const idInfo = loadIdCardFixture('id-card-2.0');
    expect(idInfo.idNumber).toBe(r.profile.holder.socialSecurityNumber);
    const result = await r.service('reset', [NEW_PIN, NEW_PIN]);
    if (kind.secure) {
      // RELOAD PIN carries a PSAM MAC over the new PIN: a reader that never gives out the digits
      // cannot take it. Refused at routing, before the ID card or any PIN is asked for.
      expect(result).toMatchObject({ code: 'pinPad.unsupported', outcome: 'refused' });
      expect(result.nextStep.en.length).toBeGreaterThan(0);
      expect(r.idSim.received).not.toContain(READ_BASE);
      expect(r.prompts).toEqual([]);
      expect(r.emitted.filter((e) => e.type === 'pin.entryStarted')).toEqual([]);
      expect(r.vcard.toProfile().pin.toString()).toBe(HOLDER_PIN);
      expect(r.vcard.pinTriesLeft).toBe(2);
      expect(r.pad.secureCalls!()).toEqual({ verify: 0, modify: 0 });
      expect(r.vaultPuts).toEqual([]);
    } else {
      expect(r.idSim.received).toContain(READ_BASE);
      expect(r.actor.getSnapshot().context.materials).toEqual(['socialSecurityCard', 'residentIdCard']);
      expect(result).toMatchObject({ code: 'reset.ok', outcome: 'ok', triesLeft: 6 });
      expect(r.vcard.toProfile().pin.toString()).toBe(NEW_PIN);
      expect(r.vcard.pinTriesLeft).toBe(6);
      expect(r.vaultPuts).toEqual(['newPin', 'confirmPin']);
    }
    expectNoPinDigits(r, result);
  });

  it('reset with a namesake’s ID card (other number): identity.mismatch before any PIN is asked', async () => {
    const r = await start(kind, { idCard: 'id-mismatch-same-name', change: { pinTriesLeft: 2 } });
    expect(loadIdCardFixture('id-mismatch-same-name').idNumber).not.toBe(r.profile.holder.socialSecurityNumber);
    const result = await r.service('reset', [NEW_PIN, NEW_PIN]);
    // A keypad reader cannot set the PIN at all: that refusal comes first (routing).
    expect(result).toMatchObject({ code: kind.secure ? 'pinPad.unsupported' : 'identity.mismatch', outcome: 'refused' });
    if (kind.secure) expect(r.idSim.received).not.toContain(READ_BASE);
    else expect(r.idSim.received).toContain(READ_BASE);
    expect(r.emitted.filter((e) => e.type === 'pin.entryStarted')).toEqual([]);
    expect(r.prompts).toEqual([]);
    expect(r.pins).toEqual([NEW_PIN, NEW_PIN]);
    expect(r.vaultPuts).toEqual([]);
    if (kind.secure) expect(r.pad.secureCalls!()).toEqual({ verify: 0, modify: 0 });
    expect(r.vcard.toProfile().pin.toString()).toBe(HOLDER_PIN);
    expect(r.vcard.pinTriesLeft).toBe(2);
    expectNoPinDigits(r, result);
  });
});

describe('the resident ID card must be valid (受理标准 材料真实有效: seed 001 line 59), read over the pty', () => {
  const plain = kinds.find((k) => !k.secure)!;

  it('reset with the holder’s expired ID card (id-expired-card-2.0): identity.expired naming its end date, before any PIN; the card untouched', async () => {
    const r = await start(plain, { idCard: 'id-expired-card-2.0', change: { pinTriesLeft: 2 } });
    expect(loadIdCardFixture('id-expired-card-2.0').idNumber).toBe(r.profile.holder.socialSecurityNumber);
    const result = await r.service('reset', [NEW_PIN, NEW_PIN]);
    expect(r.idSim.received).toContain(READ_BASE);
    expect(result).toMatchObject({ code: 'identity.expired', kind: 'reset', outcome: 'refused', missing: ['residentIdCard'] });
    expect(result.zh).toContain('有效期至 2016-05-01，已过期');
    expect(result.en).toContain('expired on 2016-05-01');
    expect(r.emitted.find((e) => e.type === 'idCard.read')).toEqual({ type: 'idCard.read', read: true, matches: true, whose: 'holder', expired: true });
    expect(r.emitted.filter((e) => e.type === 'pin.entryStarted')).toEqual([]);
    expect(r.vaultPuts).toEqual([]);
    expect(r.pinCommands).toEqual([]);
    expect(r.vcard.toProfile().pin.toString()).toBe(HOLDER_PIN);
    expect(r.vcard.pinTriesLeft).toBe(2);
    expectNoPinDigits(r, result);
  });

  it('the terminal’s clock decides: on the ID card’s last valid day (2016-05-01) the same card is accepted', async () => {
    const r = await start(plain, { idCard: 'id-expired-card-2.0', config: { now: () => new Date(2016, 4, 1, 18, 0, 0) } });
    const result = await r.service('reset', [NEW_PIN, NEW_PIN]);
    expect(result).toMatchObject({ code: 'reset.ok', outcome: 'ok' });
    expect(r.vcard.toProfile().pin.toString()).toBe(NEW_PIN);
  });
});

describe('Part 10 secure change and the PIN policy (docs/security.md "PIN policy and secure PIN entry")', () => {
  const part10 = kinds.find((k) => k.secure)!;

  it('the change goes on unchecked: change.ok with policyChecked false, its text naming the rules — even a run of digits is set', async () => {
    const r = await start(part10, { idCard: 'id-card-2.0' });
    // 234567 breaks seed 000 line 323 (连续数字): a plain pad would refuse it; the reader cannot be asked.
    const result = await r.service('change', [HOLDER_PIN, '234567', '234567']);
    expect(result).toMatchObject({ code: 'change.ok', outcome: 'ok', policyChecked: false });
    expect(result.zh).toMatch(/无法按密码规则检查.*六位相同数字、连续数字、出生日期或电话号码.*请尽快再修改一次/);
    expect(result.en).toMatch(/could not check it against the PIN rules/);
    expect(r.vcard.toProfile().pin.toString()).toBe('234567');
    expect(r.pad.secureCalls!()).toEqual({ verify: 0, modify: 1 });
  });

  it('with session.requirePinPolicy: refused before any PIN entry or APDU (pinPad.policyUnchecked)', async () => {
    const r = await start(part10, { idCard: 'id-card-2.0', config: { requirePinPolicy: true } });
    const result = await r.service('change', [HOLDER_PIN, NEW_PIN, NEW_PIN]);
    expect(result).toMatchObject({ code: 'pinPad.policyUnchecked', kind: 'change', outcome: 'refused' });
    expect(r.prompts).toEqual([]);
    expect(r.pad.secureCalls!()).toEqual({ verify: 0, modify: 0 });
    expect(r.vcard.toProfile().pin.toString()).toBe(HOLDER_PIN);
    expect(r.vcard.pinTriesLeft).toBe(6);
    // Verify still runs on the reader: there is no new PIN to check.
    expect((await r.service('verify', [HOLDER_PIN])).code).toBe('verify.ok');
  });

  it('with session.requirePinPolicy a plain pad changes as before (the policy is applied)', async () => {
    const r = await start(kinds.find((k) => !k.secure)!, { idCard: 'id-card-2.0', config: { requirePinPolicy: true } });
    expect(await r.service('change', [HOLDER_PIN, '234567', '234567'])).toMatchObject({ code: 'pin.policy', violations: ['PIN_SEQUENCE'] });
    expect(await r.service('change', [HOLDER_PIN, NEW_PIN, NEW_PIN])).toMatchObject({ code: 'change.ok', policyChecked: true });
  });
});

describe('Part 10 secure entry: the reader’s own outcomes reach the flow as “not sent”', () => {
  const part10 = kinds.find((k) => k.secure)!;

  it('the holder cancels on the reader (6401): operation.notSent, no try spent', async () => {
    const r = await start(part10, { idCard: 'id-card-2.0' });
    const result = await r.service('verify', ['C']);
    expect(result).toMatchObject({ code: 'operation.notSent', outcome: 'failed' });
    expect(r.pad.secureCalls!()).toEqual({ verify: 1, modify: 0 });
    expect(r.vcard.pinTriesLeft).toBe(6);
    expect(r.actor.getSnapshot().context.lastOp).toMatchObject({ status: 'notSent' });
    expectNoPinDigits(r, result);
  });

  it('the two new PINs differ on the reader (6402): operation.notSent, the PIN unchanged', async () => {
    const r = await start(part10, { idCard: 'id-card-2.0' });
    const result = await r.service('change', [HOLDER_PIN, NEW_PIN, '802462']);
    expect(result).toMatchObject({ code: 'operation.notSent', outcome: 'failed' });
    expect(r.pad.secureCalls!()).toEqual({ verify: 0, modify: 1 });
    expect(r.vcard.toProfile().pin.toString()).toBe(HOLDER_PIN);
    expect(r.vcard.pinTriesLeft).toBe(6);
    expect(machineText(r) + JSON.stringify(result)).not.toContain('802462');
    expectNoPinDigits(r, result);
  });
});
