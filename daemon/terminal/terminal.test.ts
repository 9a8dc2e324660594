/**
 * The terminal over the PC/SC service with the fake addon (no device opened): the virtual card
 * and PSAM answer the fake readers' transmits, the development touchscreen pad takes the keys.
 * The same flows run through real pcscd + vpcd and the WebSocket API in test/daemon-*.test.ts.
 * Its waits (a card to be identified, the PSAM to come up, a flow to end for endSession and stop)
 * are shown to end on events with the timers frozen: none of them polls.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as Xstate from 'xstate';
import { ErrorCode } from '../../core/errors.js';
import { PcscService } from '../../drivers/pcsc/pcsc-service.js';
import { FakePcsc } from '../../testing/fake-pcsc-addon.js';
import { TouchPinPad } from '../../drivers/pinpad/touch-pinpad.js';
import { loadPsamProfile } from '../../drivers/sim/profile.js';
import { VirtualSsCard } from '../../drivers/sim/virtual-card.js';
import { VirtualPsam } from '../../drivers/sim/virtual-psam.js';
import type { VirtualCardDevice } from '../../drivers/sim/device.js';
import { SimEncryptionMachine } from '../../drivers/sim/encryption-machine.js';
import { parseAtrPattern, type CardMakeProfile } from '../../drivers/card/card-profiles.js';
import { decodeField, encodeField } from '../../apdu/records.js';
import type { Journal } from '../journal/journal.js';
import { openTestJournal, tempJournalDir } from '../../testing/journal.js';
import type { SessionEmitted, TerminalEvent } from './port.js';
import { Terminal } from './terminal.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// createActor passed through, counted: the slot's session actor is made once per reader (slot-session.ts).
const sessionActors = vi.hoisted(() => ({ made: 0 }));
vi.mock('xstate', async (importOriginal) => {
  const x = await importOriginal<typeof Xstate>();
  return {
    ...x,
    createActor: (...a: Parameters<typeof x.createActor>) => {
      sessionActors.made += 1;
      return x.createActor(...a);
    },
  };
});

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixture = (f: string): string => path.join(root, 'fixtures', f);

const CARD = 'Fake Card Reader 00';
const SAM = 'Fake SAM Reader 01';

interface Rig {
  terminal: Terminal;
  pcsc: PcscService;
  fake: FakePcsc;
  pad: TouchPinPad;
  card: VirtualSsCard;
  events: TerminalEvent[];
  insert(): void;
  remove(): void;
  type(keys: string): void;
}

const rigs: Rig[] = [];

function plug(fake: FakePcsc, name: string, dev: VirtualCardDevice): void {
  const reader = fake.reader(name);
  reader.respond = (apdu) => dev.process(apdu);
}

async function rig(opts: { role?: 'kiosk' | 'counter'; withCard?: string; withPsam?: boolean; cardProfiles?: readonly CardMakeProfile[]; journal?: Journal } = {}): Promise<Rig> {
  const fake = new FakePcsc();
  fake.readerNames = [CARD, SAM];
  const pcsc = new PcscService({ addon: fake.factory });
  pcsc.start();
  await pcsc.ready(2000);
  const card = await VirtualSsCard.fromFile(fixture(opts.withCard ?? 'cards/card-2.0.json'));
  plug(fake, CARD, card);
  if (opts.withPsam !== false) {
    const psam = new VirtualPsam(await loadPsamProfile(fixture('psam/psam-test.json')));
    psam.powerOn();
    plug(fake, SAM, psam);
    fake.reader(SAM).setCard(psam.atr);
  }
  const pad = new TouchPinPad({ allowTouchscreen: true });
  await pad.open();
  const terminal = new Terminal({
    terminalId: 'T-UNIT',
    deviceId: 'D-UNIT',
    role: opts.role ?? 'kiosk',
    version: '0.0.0-test',
    simulated: true,
    pcsc,
    isPsamReader: (n) => n === SAM,
    pinPad: pad,
    session: { inactivityMs: 60_000, pinEntryMs: 30_000 },
    ...(opts.cardProfiles === undefined ? {} : { cardProfiles: opts.cardProfiles }),
    ...(opts.journal === undefined ? {} : { journal: opts.journal }),
  });
  const events: TerminalEvent[] = [];
  terminal.subscribe((e) => events.push(e));
  terminal.start();
  await terminal.settled();
  const r: Rig = {
    terminal,
    pcsc,
    fake,
    pad,
    card,
    events,
    insert: () => {
      card.powerOn();
      fake.reader(CARD).setCard(card.atr);
    },
    remove: () => {
      card.powerOff();
      fake.reader(CARD).setCard(undefined);
    },
    type: (keys) => {
      for (const k of keys) pad.input(k);
    },
  };
  rigs.push(r);
  return r;
}

afterEach(async () => {
  vi.useRealTimers();
  for (const r of rigs.splice(0)) {
    await r.terminal.stop(1000);
    await r.pcsc.stop();
    await r.pad.close();
  }
});

async function until(pred: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function insertedAndIdentified(r: Rig): Promise<void> {
  r.insert();
  await until(() => r.terminal.status().card.identified);
}

describe('Terminal', () => {
  it('identifies an inserted card, reports it masked in status and reads its basic data', async () => {
    const r = await rig();
    expect(r.terminal.status().card.present).toBe(false);
    expect(r.terminal.health().reasons.map((x) => x.component)).toContain('journal');
    await insertedAndIdentified(r);
    const st = r.terminal.status();
    expect(st.card).toMatchObject({ present: true, identified: true, cardNumberMasked: 'X0****019', nameMasked: '王**', specVersion: '2.00', triesLeft: 6, cardState: 'active' });
    expect(st.psam).toMatchObject({ connected: true });
    // No journal here: no hotlist either (docs/api.md "Common": all null/0 before the first pull or without a journal).
    expect(st.hotlist).toEqual({ version: null, updatedAt: null, entries: 0 });
    expect(st.readers.map((x) => [x.name, x.slot])).toEqual([
      [CARD, 'card'],
      [SAM, 'psam'],
    ]);
    expect(r.events.some((e) => e.type === 'mediaInserted' && e.reader === CARD)).toBe(true);
    const b = await r.terminal.readBasic(new AbortController().signal);
    expect(b).toMatchObject({ socialSecurityNumber: '411082198503120038', cardNumber: 'X00000019', name: '王志强', specVersion: '2.00', issueDate: '20160520', expiryDate: '20310519', expired: false, region: '411082', triesLeft: 6, authentic: true, deviceId: 'D-UNIT' });
    expect(b.atrHistorical).toBe('5353432D53494D20322E3030');
  });

  it('a card pulled during ReadBasic is reported as its removal (no card), not as a reader failure', async () => {
    const r = await rig();
    await insertedAndIdentified(r);
    let seen = 0;
    r.fake.reader(CARD).respond = (apdu) => {
      if (++seen < 3) return r.card.process(apdu);
      // The card is gone: the reader fails the exchange, pcscd reports the empty slot a poll later.
      setTimeout(() => r.remove(), 20);
      return new Error('SCardTransmit error: Transaction failed.(0x80100016)');
    };
    await expect(r.terminal.readBasic(new AbortController().signal)).rejects.toMatchObject({ code: ErrorCode.Pcsc_CardRemoved });
  });

  it('runs a verify with keys from the touchscreen pad; events carry counts, never digits', async () => {
    const r = await rig();
    await insertedAndIdentified(r);
    const seen: SessionEmitted[] = [];
    const p = r.terminal.runService({ kind: 'verify' }, (e) => {
      seen.push(e);
      if (e.type === 'pin.entryStarted') setImmediate(() => r.type('123456'));
    }, new AbortController().signal);
    const result = await p;
    expect(result).toMatchObject({ code: 'verify.ok', outcome: 'ok', triesLeft: 6 });
    expect(seen.map((e) => e.type)).toContain('pin.digits');
    expect(JSON.stringify([seen, r.events, r.terminal.status()])).not.toContain('123456');
  });

  it("one session actor per reader, made when the reader is found: flows and cards after it go through it, none makes another", async () => {
    const before = sessionActors.made;
    const r = await rig();
    expect(sessionActors.made - before).toBe(1);
    const verify = () =>
      r.terminal.runService({ kind: 'verify' }, (e) => {
        if (e.type === 'pin.entryStarted') setImmediate(() => r.type('123456'));
      }, new AbortController().signal);
    for (let card = 0; card < 2; card++) {
      await insertedAndIdentified(r);
      for (let flow = 0; flow < 3; flow++) expect(await verify()).toMatchObject({ code: 'verify.ok' });
      await r.terminal.readBasic(new AbortController().signal);
      r.remove();
      await until(() => !r.terminal.status().card.present);
    }
    expect(sessionActors.made - before).toBe(1);
  });

  it('refuses a second card operation on the same reader while one runs (Flow_Busy), and cancels on abort', async () => {
    const r = await rig();
    await insertedAndIdentified(r);
    const ac = new AbortController();
    const entry = new Promise<void>((resolve) => {
      void r.terminal
        .runService({ kind: 'verify' }, (e) => {
          if (e.type === 'pin.entryStarted') resolve();
        }, ac.signal)
        .then((res) => results.push(res.code));
    });
    const results: string[] = [];
    await entry;
    await expect(r.terminal.readBasic(new AbortController().signal)).rejects.toMatchObject({ code: ErrorCode.Flow_Busy });
    await expect(r.terminal.runService({ kind: 'change' }, () => {}, new AbortController().signal)).rejects.toMatchObject({ code: ErrorCode.Flow_Busy });
    expect(r.terminal.status().readers.find((x) => x.name === CARD)?.busy).toBe(true);
    ac.abort();
    await until(() => results.length === 1);
    expect(results).toEqual(['cancelled']);
    expect(r.terminal.busySlots).toEqual([]);
  });

  it('answers Flow_NoCard without a card, and waits for one when asked', async () => {
    const r = await rig();
    await expect(r.terminal.runService({ kind: 'verify' }, () => {}, new AbortController().signal)).rejects.toMatchObject({ code: ErrorCode.Flow_NoCard });
    const p = r.terminal.runService({ kind: 'verify', waitForCardMs: 3000 }, (e) => {
      if (e.type === 'pin.entryStarted') setImmediate(() => r.type('123456'));
    }, new AbortController().signal);
    setTimeout(() => r.insert(), 100);
    await expect(p).resolves.toMatchObject({ code: 'verify.ok' });
  });

  it('an application-locked card (SELECT 9303) is identified, reported appLocked in status and ReadBasic, and refused card.appLocked', async () => {
    const r = await rig({ withCard: 'cards/card-app-locked.json' });
    await insertedAndIdentified(r);
    expect(r.terminal.status().card).toMatchObject({ identified: true, cardState: 'appLocked', triesLeft: null, cardNumberMasked: 'W0****624' });
    const b = await r.terminal.readBasic(new AbortController().signal);
    expect(b).toMatchObject({ cardState: 'appLocked', triesLeft: null, authentic: null, cardId: '410204D1560000057C2E91A4D35B0862', cardNumber: 'W00000624', region: '410204', expiryDate: '20270831', name: '', socialSecurityNumber: '', undecodable: [] });
    const res = await r.terminal.runService({ kind: 'verify' }, () => {}, new AbortController().signal);
    expect(res).toMatchObject({ code: 'card.appLocked', outcome: 'refused' });
    expect(r.card.pinTriesLeft).toBe(6);
  });

  it('ReadBasic of a name with four-byte GB18030 characters (card-rare-name) returns it whole', async () => {
    const r = await rig({ withCard: 'cards/card-rare-name.json' });
    await insertedAndIdentified(r);
    const b = await r.terminal.readBasic(new AbortController().signal);
    expect(b).toMatchObject({ name: '张𠀾㛃', socialSecurityNumber: '410703199011020627', cardState: 'active', authentic: true, undecodable: [] });
  });

  it('an expired card (card-expired, 2024-04-09): status and ReadBasic say expired, a service is refused card.expired', async () => {
    const r = await rig({ withCard: 'cards/card-expired.json' });
    await insertedAndIdentified(r);
    expect(r.terminal.status().card).toMatchObject({ cardState: 'active', expired: true, triesLeft: 6 });
    expect(await r.terminal.readBasic(new AbortController().signal)).toMatchObject({ expiryDate: '20240409', expired: true, name: '孙秀英' });
    const res = await r.terminal.runService({ kind: 'verify' }, () => {}, new AbortController().signal);
    expect(res).toMatchObject({ code: 'card.expired', outcome: 'refused' });
    expect(r.card.pinTriesLeft).toBe(6);
  });

  it('a kiosk never runs unblock: the session refuses it by role', async () => {
    const r = await rig({ withCard: 'cards/card-locked.json' });
    await insertedAndIdentified(r);
    const res = await r.terminal.runService({ kind: 'unblock', operatorId: 'op1' }, () => {}, new AbortController().signal);
    expect(res).toMatchObject({ code: 'role.notAllowed', outcome: 'refused' });
  });

  it('ChipIO refuses PIN-bearing commands, sends others, and the card is identified afresh before the next service', async () => {
    const r = await rig();
    await insertedAndIdentified(r);
    const sig = new AbortController().signal;
    await expect(r.terminal.chipIo(Buffer.from('0020000003123456', 'hex'), undefined, sig)).rejects.toMatchObject({ code: ErrorCode.Input_BadApdu });
    await expect(r.terminal.chipIo(Buffer.from('00a4', 'hex'), undefined, sig)).rejects.toMatchObject({ code: ErrorCode.Input_BadApdu });
    const resp = await r.terminal.chipIo(Buffer.from('00A40000023F00', 'hex'), undefined, sig);
    expect(resp.subarray(-2).toString('hex')).toBe('9000');
    const res = await r.terminal.runService({ kind: 'verify' }, (e) => {
      if (e.type === 'pin.entryStarted') setImmediate(() => r.type('123456'));
    }, sig);
    expect(res.code).toBe('verify.ok');
  });

  it('card removal ends the session and is reported; the slot is free again', async () => {
    const r = await rig();
    await insertedAndIdentified(r);
    r.remove();
    await until(() => r.events.some((e) => e.type === 'mediaRemoved'));
    await r.terminal.settled();
    expect(r.terminal.status().card).toMatchObject({ present: false, identified: false, session: 'idle' });
  });

  it('a touch key outside a PIN entry or an unknown key is refused, not silently dropped', async () => {
    const r = await rig();
    expect(() => r.terminal.touchKey('1')).toThrow(expect.objectContaining({ code: ErrorCode.Api_SequenceError }) as Error);
    expect(() => r.terminal.touchKey('x')).toThrow(expect.objectContaining({ code: ErrorCode.Input_BadOption }) as Error);
    const entry = r.terminal.pinEntry({}, () => {}, new AbortController().signal);
    await until(() => r.pad.entering);
    for (const k of '654321') r.terminal.touchKey(k);
    await expect(entry).resolves.toEqual({ digits: 6, completion: 'auto' });
  });

  it('touchKey is refused for a pad that is not the touchscreen', () => {
    const t = new Terminal({ terminalId: 'T', deviceId: 'D', role: 'kiosk', version: '0', simulated: false, pcsc: new PcscService({ addon: new FakePcsc().factory }) });
    expect(() => t.touchKey('1')).toThrow(expect.objectContaining({ code: ErrorCode.PinPad_Unsupported }) as Error);
    expect(t.health().ready).toBe(false);
  });
});

/** Let `pred` come true through I/O and promise turns alone (setImmediate is never faked here), no timer. */
async function byEvents(pred: () => boolean, turns = 5000): Promise<void> {
  for (let i = 0; i < turns && !pred(); i++) await new Promise((r) => setImmediate(r));
  if (!pred()) throw new Error('condition not met without a timer firing');
}

/** Timers frozen: a wait that polls on a tick never wakes; one that waits on events does. */
function freezeTimers(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
}

describe('Terminal waits on events, not on a tick', () => {
  it('an idle terminal has no timer; a wait for a card arms one, for its limit, and ends on it', async () => {
    const r = await rig();
    freezeTimers();
    expect(vi.getTimerCount()).toBe(0);
    const p = r.terminal.runService({ kind: 'verify', waitForCardMs: 10_000 }, () => {}, new AbortController().signal);
    const outcome = p.then(
      () => 'resolved',
      (e: { code?: number }) => e.code,
    );
    await byEvents(() => vi.getTimerCount() > 0);
    expect(vi.getTimerCount()).toBe(1);
    // The one timer is the 10 s limit, not a tick: when it fires, the wait is over.
    await vi.advanceTimersToNextTimerAsync();
    let seen: unknown;
    void outcome.then((x) => (seen = x));
    await byEvents(() => seen !== undefined);
    expect(seen).toBe(ErrorCode.Flow_NoCard);
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each([
    ['endSession', (t: Terminal) => t.endSession()],
    ['stop', (t: Terminal) => t.stop(10_000)],
  ] as const)('%s resolves when the cancelled flow ends, without a timer firing', async (_name, end) => {
    const r = await rig();
    await insertedAndIdentified(r);
    freezeTimers();
    const seen: string[] = [];
    const flow = r.terminal.runService({ kind: 'verify' }, (e) => seen.push(e.type), new AbortController().signal);
    await byEvents(() => seen.includes('pin.entryStarted'));
    let ended = false;
    void end(r.terminal).then(() => (ended = true));
    await byEvents(() => ended);
    await expect(flow).resolves.toMatchObject({ code: 'cancelled' });
    expect(r.terminal.busySlots).toEqual([]);
  });

  it('a 3.0 card read before pcscd showed the PSAM: psam.unavailable (the card not blamed), then read again once the PSAM opens, still in the slot', async () => {
    const r = await rig({ withPsam: false, withCard: 'cards/card-3.0.json' });
    r.insert();
    await until(() => r.events.some((e) => e.type === 'session' && e.event.type === 'result'));
    const failed = r.events.find((e) => e.type === 'session' && e.event.type === 'result');
    expect(failed).toMatchObject({ event: { result: { code: 'psam.unavailable', outcome: 'failed' } } });
    expect(JSON.stringify(failed)).toContain('您的卡片没有问题');
    expect(r.terminal.status().card).toMatchObject({ present: true, identified: false, session: 'ended' });
    // A service asked for now is told it is the terminal's PSAM, not the card.
    await expect(r.terminal.runService({ kind: 'verify' }, () => {}, new AbortController().signal)).rejects.toMatchObject({ code: ErrorCode.Psam_Missing });
    const psam = new VirtualPsam(await loadPsamProfile(fixture('psam/psam-test.json')));
    psam.powerOn();
    plug(r.fake, SAM, psam);
    r.fake.reader(SAM).setCard(psam.atr);
    await until(() => r.terminal.status().card.identified);
    const identified = r.events.find((e) => e.type === 'session' && e.event.type === 'card.identified');
    expect(identified).toMatchObject({ event: { specVersion: '3.00' } });
  });

  it('a card inserted while the PSAM is coming up is identified (with it) as soon as the PSAM opens', async () => {
    const r = await rig({ withPsam: false });
    freezeTimers();
    // pcscd lists the PSAM's card before its insertion event reaches the terminal.
    let release: (() => void) | undefined;
    const emit = r.pcsc.emit.bind(r.pcsc) as (event: string, ...args: unknown[]) => boolean;
    vi.spyOn(r.pcsc, 'emit').mockImplementation((event: string, ...args: unknown[]) => {
      if (event === 'card-inserted' && args[0] === SAM) {
        release = () => emit(event, ...args);
        return true;
      }
      return emit(event, ...args);
    });
    const psam = new VirtualPsam(await loadPsamProfile(fixture('psam/psam-test.json')));
    psam.powerOn();
    plug(r.fake, SAM, psam);
    r.fake.reader(SAM).setCard(psam.atr);
    await byEvents(() => release !== undefined && r.pcsc.readers().some((x) => x.name === SAM && x.cardPresent));
    r.insert();
    await byEvents(() => r.terminal.status().card.present);
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    // Waiting for the PSAM (its limit armed as one timer), not identifying without it.
    expect(r.terminal.status().card).toMatchObject({ identified: false, session: 'idle' });
    release!();
    await byEvents(() => r.terminal.status().card.identified);
    const identified = r.events.find((e) => e.type === 'session' && e.event.type === 'card.identified');
    expect(identified).toMatchObject({ event: { authentic: true } });
    expect(r.terminal.status().psam).toMatchObject({ connected: true });
  });
});

describe('the vendors\' reads beyond ReadBasic (docs/api.md "SSCardDriver calls")', () => {
  const signal = () => new AbortController().signal;

  it('iReadCard: EF05 and EF06 records by tag, raw; EF06 of a 3.0 card authenticated with the PSAM, refused Psam_Missing without one', async () => {
    const r = await rig({ withCard: 'cards/card-3.0.json' });
    await insertedAndIdentified(r);
    const read = await r.terminal.readRecords([{ ef: 0xef06, tags: [0x09, 0x08] }, { ef: 0xef05, tags: [0x07] }], signal());
    const basic = await r.terminal.readBasic(signal());
    expect(read.cardId).toBe(basic.cardId);
    expect(read.cardNumber).toBe(basic.cardNumber);
    expect([decodeField(0x09, read.files[0]![0]!), decodeField(0x08, read.files[0]![1]!), decodeField(0x07, read.files[1]![0]!)]).toEqual([basic.name, basic.socialSecurityNumber, basic.cardNumber]);

    const bare = await rig({ withPsam: false, withCard: 'cards/card-3.0.json' });
    bare.insert();
    await until(() => bare.events.some((e) => e.type === 'session' && e.event.type === 'result'));
    expect((await bare.terminal.readRecords([{ ef: 0xef05, tags: [0x01] }], signal())).files[0]![0]!.toString('hex').toUpperCase()).toBe(basic.cardId);
    await expect(bare.terminal.readRecords([{ ef: 0xef06, tags: [0x08] }], signal())).rejects.toMatchObject({ code: ErrorCode.Psam_Missing });
  });

  it('iReadCardBas_HSM on a 3.0 card without a PSAM: Step1 keeps the card, the encryption machine answers, Step2 gives ReadBasic\'s data', async () => {
    const machine = await SimEncryptionMachine.fromPsamProfile(fixture('psam/psam-test.json'));
    const withPsam = await rig({ withCard: 'cards/card-3.0.json' });
    await insertedAndIdentified(withPsam);
    const expected = await withPsam.terminal.readBasic(signal());

    const r = await rig({ withPsam: false, withCard: 'cards/card-3.0.json' });
    r.insert();
    await until(() => r.events.some((e) => e.type === 'session' && e.event.type === 'result'));
    await expect(r.terminal.hsmReadFinish({ internal: Buffer.alloc(16), external: Buffer.alloc(16) }, signal())).rejects.toMatchObject({ code: ErrorCode.Api_SequenceError });
    const c = await r.terminal.hsmReadBegin(signal());
    expect(c).toMatchObject({ algorithm: 'SM4', cardId: expected.cardId, region: expected.region, internalFactor: '', terminalId: 'T-UNIT' });
    expect(c.internalData).toMatch(/^[0-9A-F]{32}$/);
    // The card stays reserved for Step2.
    await expect(r.terminal.readBasic(signal())).rejects.toMatchObject({ code: ErrorCode.Flow_Busy });
    const step1 = [c.region, c.atr, '03', c.cardId, c.internalFactor, c.internalData, c.externalFactor, c.externalData, c.terminalId, ''].join('|');
    const [internal, external] = (await machine.answer(step1)).split('|');
    const info = await r.terminal.hsmReadFinish({ internal: Buffer.from(internal!, 'hex'), external: Buffer.from(external!, 'hex') }, signal());
    expect(info).toMatchObject({ name: expected.name, socialSecurityNumber: expected.socialSecurityNumber, cardNumber: expected.cardNumber, cardId: expected.cardId, birthDate: expected.birthDate, triesLeft: expected.triesLeft, authentic: true, terminalId: 'T-UNIT' });
    // Step2 once only; the card is free again.
    await expect(r.terminal.hsmReadFinish({ internal: Buffer.from(internal!, 'hex'), external: Buffer.from(external!, 'hex') }, signal())).rejects.toMatchObject({ code: ErrorCode.Api_SequenceError });

    // A machine that disagrees with the card: the vendors' −25 (context hsm), and nothing read.
    const again = await r.terminal.hsmReadBegin(signal());
    await expect(r.terminal.hsmReadFinish({ internal: Buffer.alloc(16), external: Buffer.alloc(16) }, signal())).rejects.toMatchObject({ code: ErrorCode.Card_NotAuthentic, context: { hsm: 'internalAuth' } });
    // A right internal answer with a wrong cryptogram: the card refuses EXTERNAL AUTHENTICATE.
    const again2 = await r.terminal.hsmReadBegin(signal());
    const step1b = [again2.region, again2.atr, '03', again2.cardId, again2.internalFactor, again2.internalData, again2.externalFactor, again.externalData, again2.terminalId, ''].join('|');
    const [internal2] = (await machine.answer(step1b)).split('|');
    await expect(r.terminal.hsmReadFinish({ internal: Buffer.from(internal2!, 'hex'), external: Buffer.alloc(16) }, signal())).rejects.toMatchObject({ code: ErrorCode.Card_Status, context: { sw: '6300' } });
  });

  it('iReadCard_HSM without a PSAM: Step1 with a file address, Step2 gives EF06\'s records; Step2 of the other function is refused; an abandoned Step1 frees the card', async () => {
    const machine = await SimEncryptionMachine.fromPsamProfile(fixture('psam/psam-test.json'));
    const r = await rig({ withPsam: false, withCard: 'cards/card-3.0.json' });
    r.insert();
    await until(() => r.events.some((e) => e.type === 'session' && e.event.type === 'result'));
    const key = async (c: Awaited<ReturnType<typeof r.terminal.hsmReadBegin>>) => {
      const [internal, external] = (await machine.answer([c.region, c.atr, '03', c.cardId, c.internalFactor, c.internalData, c.externalFactor, c.externalData, c.terminalId, ''].join('|'))).split('|');
      return { internal: Buffer.from(internal!, 'hex'), external: Buffer.from(external!, 'hex') };
    };
    const c = await r.terminal.hsmReadBegin(signal(), undefined, [{ ef: 0xef06, tags: [0x09, 0x08] }]);
    expect(c.cardNumber).toMatch(/^[A-Z0-9]{9}$/);
    const k = await key(c);
    await expect(r.terminal.hsmReadFinish(k, signal())).rejects.toMatchObject({ code: ErrorCode.Api_SequenceError });
    const again = await r.terminal.hsmReadBegin(signal(), undefined, [{ ef: 0xef06, tags: [0x09, 0x08] }]);
    const read = await r.terminal.hsmReadRecordsFinish(await key(again), signal());
    expect(read.request).toEqual([{ ef: 0xef06, tags: [0x09, 0x08] }]);
    expect(decodeField(0x09, read.files[0]![0]!)).toMatch(/^[\u4e00-\u9fff]+$/);
    expect(decodeField(0x08, read.files[0]![1]!)).toMatch(/^\d{17}[\dX]$/);
    await r.terminal.hsmReadBegin(signal(), undefined, [{ ef: 0xef05, tags: [0x07] }]);
    await expect(r.terminal.readRecords([{ ef: 0xef05, tags: [0x07] }], signal())).rejects.toMatchObject({ code: ErrorCode.Flow_Busy });
    r.terminal.hsmReadEnd();
    expect((await r.terminal.readRecords([{ ef: 0xef05, tags: [0x07] }], signal())).cardNumber).toBe(c.cardNumber);
  });

  it('iReadCardBas_HSM on a card make with the integrators\' INTERNAL AUTHENTICATE form (process factor ‖ data) and its own factor offset', async () => {
    const makeB: CardMakeProfile = { name: 'make-b', atr: parseAtrPattern('3B 6C 00 00 53 53 43 2D 4D 4B 42')!, read: { profile: 'make-b', factorOffset: 0, internalAuth: 'challenge' }, reload: {} };
    const r = await rig({ withPsam: false, withCard: 'cards/card-make-b.json', cardProfiles: [makeB] });
    r.insert();
    await until(() => r.events.some((e) => e.type === 'session' && (e.event.type === 'result' || e.event.type === 'card.identified')));
    const c = await r.terminal.hsmReadBegin(signal());
    expect(c.algorithm).toBe('3DES');
    expect(c.internalFactor).toMatch(/^[0-9A-F]{16}$/);
    expect(c.externalFactor).toBe(c.cardId.slice(0, 16));
    const machine = await SimEncryptionMachine.fromPsamProfile(fixture('psam/psam-test.json'), { factorOffset: 0 });
    const [internal, external] = (await machine.answer([c.region, c.atr, '01', c.cardId, c.internalFactor, c.internalData, c.externalFactor, c.externalData, c.terminalId, ''].join('|'))).split('|');
    const info = await r.terminal.hsmReadFinish({ internal: Buffer.from(internal!, 'hex'), external: Buffer.from(external!, 'hex') }, signal());
    expect(info).toMatchObject({ cardId: c.cardId, authentic: true, cardProfile: 'make-b' });
    expect(info.name).not.toBe('');
  });
});

describe('iWriteCard at a counter (docs/api.md "SSCardDriver calls")', () => {
  const signal = () => new AbortController().signal;
  const journals: Journal[] = [];
  afterEach(() => {
    for (const j of journals.splice(0)) j.close();
  });
  const journal = () => {
    const j = openTestJournal(tempJournalDir(), Date.now);
    journals.push(j);
    return j;
  };
  /** UPDATE RECORD commands sent to the card so far. */
  const updates = (r: Rig) => r.fake.reader(CARD).sent.filter((a) => a[1] === 0xdc);

  it('writes EF06 records after EXTERNAL AUTHENTICATE with the write key, journaled pending before the first UPDATE RECORD, then ok', async () => {
    const j = journal();
    const r = await rig({ role: 'counter', withCard: 'cards/card-3.0.json', journal: j });
    await insertedAndIdentified(r);
    const before = await r.terminal.readBasic(signal());
    const reader = r.fake.reader(CARD);
    const respond = reader.respond;
    const seenPending: string[] = [];
    reader.respond = (apdu) => {
      if (apdu[1] === 0xdc) seenPending.push(...j.list().filter((row) => row.state === 'pending').map((row) => row.kind));
      return respond(apdu);
    };
    const out = await r.terminal.writeRecords({ cardId: before.cardId, cardNumber: before.cardNumber, operatorId: 'op-1', writes: [{ tag: 0x09, value: encodeField(0x09, '李四') }, { tag: 0x0d, value: encodeField(0x0d, '1990-01-01') }] }, signal());
    expect(out).toEqual({ status: 'written', records: 2 });
    expect(seenPending).toEqual(['write', 'write']);
    expect(updates(r)).toHaveLength(2);
    const rows = j.list().filter((row) => row.kind === 'write');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ state: 'completed', outcome: 'ok', operatorId: 'op-1', role: 'counter', serviceItem: 'LOCALCARDRECORDWRITE', lastSw: 0x9000 });
    const after = await r.terminal.readBasic(signal());
    expect([after.name, after.birthDate]).toEqual(['李四', '19900101']);
  });

  it('a transport failure during UPDATE RECORD: sent once, never again; the row completed unknown', async () => {
    const j = journal();
    const r = await rig({ role: 'counter', withCard: 'cards/card-3.0.json', journal: j });
    await insertedAndIdentified(r);
    const b = await r.terminal.readBasic(signal());
    const reader = r.fake.reader(CARD);
    const respond = reader.respond;
    reader.respond = (apdu) => (apdu[1] === 0xdc ? new Error('SCardTransmit error: Transaction failed.(0x80100016)') : respond(apdu));
    const out = await r.terminal.writeRecords({ cardId: b.cardId, cardNumber: b.cardNumber, operatorId: 'op-1', writes: [{ tag: 0x09, value: encodeField(0x09, '李四') }, { tag: 0x0a, value: encodeField(0x0a, '2') }] }, signal());
    expect(out.status).toBe('unknown');
    expect(updates(r)).toHaveLength(1);
    expect(j.list().find((row) => row.kind === 'write')).toMatchObject({ state: 'completed', outcome: 'unknown' });
  });

  it('the card refuses a write without the right key: −SW, nothing written, the row failed with the SW; another card or no PSAM or no journal: nothing sent', async () => {
    const j = journal();
    const wrongKey: CardMakeProfile = { name: 'wrong-key', atr: parseAtrPattern('3B')!, read: { ef06WriteKeyId: 0x0a }, reload: {} };
    const r = await rig({ role: 'counter', withCard: 'cards/card-3.0.json', journal: j, cardProfiles: [wrongKey] });
    await insertedAndIdentified(r);
    const b = await r.terminal.readBasic(signal());
    const write = { cardId: b.cardId, cardNumber: b.cardNumber, operatorId: 'op-1', writes: [{ tag: 0x09, value: encodeField(0x09, '李四') }] };
    expect(await r.terminal.writeRecords(write, signal())).toEqual({ status: 'refused', sw: 0x6982, records: 0 });
    expect(j.list().find((row) => row.kind === 'write')).toMatchObject({ outcome: 'failed', lastSw: 0x6982 });
    expect((await r.terminal.readBasic(signal())).name).toBe(b.name);
    const sent = updates(r).length;
    expect(await r.terminal.writeRecords({ ...write, cardId: '410402D156000005BBBBBBBBBBBBBBBB' }, signal())).toEqual({ status: 'mismatch' });
    expect(updates(r)).toHaveLength(sent);

    const bare = await rig({ role: 'counter', withCard: 'cards/card-3.0.json', withPsam: false, journal: journal() });
    bare.insert();
    await until(() => bare.events.some((e) => e.type === 'session' && e.event.type === 'result'));
    await expect(bare.terminal.writeRecords(write, signal())).rejects.toMatchObject({ code: ErrorCode.Psam_Missing });
    const noJournal = await rig({ role: 'counter', withCard: 'cards/card-3.0.json' });
    await insertedAndIdentified(noJournal);
    await expect(noJournal.terminal.writeRecords(write, signal())).rejects.toMatchObject({ code: ErrorCode.Flow_Refused });
    expect(updates(bare)).toHaveLength(0);
    expect(updates(noJournal)).toHaveLength(0);
  });
});
