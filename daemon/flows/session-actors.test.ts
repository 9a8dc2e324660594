/**
 * The session wiring's own decisions, actor by actor over the virtual card: identification and the
 * PIN state come from the card driver (SsseCard.identify / pinState), the PIN policy gets
 * the card's phone (read openly, or after the change's VERIFY), the service item codes come from
 * the catalog, the session / journal vocabularies meet in one mapping, and journal trouble is
 * logged before the machine turns it into a result.
 */
import type { Logger } from '../../core/logger.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createActor, toPromise } from 'xstate';
import type { AnyActorLogic } from 'xstate';
import { ErrorCode } from '../../core/errors.js';
import { SsseCard } from '../../drivers/card/ssse-card.js';
import { PcscPinPad } from '../../drivers/pinpad/pcsc-pinpad.js';
import { TouchPinPad } from '../../drivers/pinpad/touch-pinpad.js';
import { Part10SimReader } from '../../drivers/sim/part10-reader.js';
import { SimKeypad } from '../../drivers/sim/pinpad-keypad.js';
import type { CardProfile } from '../../drivers/sim/profile.js';
import { cardFixture, loadCardProfile } from '../../drivers/sim/profile.js';
import { SimTransport } from '../../drivers/sim/sim-transport.js';
import type { PhoneAccess } from '../../drivers/sim/virtual-card.js';
import { VirtualSsCard } from '../../drivers/sim/virtual-card.js';
import { assertSsCardError } from '../../testing/util.js';
import type { CardIdentification, CardOpOutput, CheckNewPinInput, CheckNewPinOutput, PinState } from '../../state/actors.js';
import { ITEM_KINDS, parseCatalog, serviceItemFor } from '../../state/catalog.js';
import { PIN_CHECK_SERVICE_ITEM } from '../sync/wire.js';
import { MATERIALS } from '../../state/materials.js';
import { createPinVault } from '../../state/pin-vault.js';
import { ROLES, SERVICE_KINDS } from '../../state/roles.js';
import { Journal } from '../journal/journal.js';

import { catalogServiceItems, defaultCatalogFile, loadServiceCatalog, shippedCatalog, shippedServiceItemCode } from './catalog.js';
import type { SessionDeps } from './session-actors.js';
import { pinEntryOf, sessionImplementations } from './session-actors.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sscard-flows-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function run<T>(logic: AnyActorLogic, input?: unknown): Promise<T> {
  const actor = createActor(logic, input === undefined ? {} : { input });
  // Observed before it starts, so a rejection is the test's to see, not an unhandled error.
  const done = toPromise(actor);
  actor.start();
  return (await done) as T;
}

/** card-2.0's phone is 13000000019; 000019 is one of its six-digit windows and breaks no other rule. */
const FROM_PHONE = '000019';

async function wiring(o: { access?: PhoneAccess; change?: Partial<CardProfile>; deps?: Partial<SessionDeps> } = {}) {
  const profile = { ...(await loadCardProfile(cardFixture('card-2.0'))), ...o.change };
  const vcard = new VirtualSsCard(profile, o.access === undefined ? {} : { phoneAccess: o.access });
  const sent: Buffer[] = [];
  const transport = new SimTransport(vcard, { onCommand: (e) => (e.phase === 'before' ? sent.push(Buffer.from(e.command)) : undefined) });
  const vault = createPinVault();
  const impl = sessionImplementations({ card: () => new SsseCard(transport), pinPad: new TouchPinPad({ allowTouchscreen: true }), ...o.deps }, vault);
  const put = (slot: 'oldPin' | 'newPin' | 'confirmPin', pin: string): void => vault.put(slot, Buffer.from(pin));
  const check = (input: CheckNewPinInput) => run<CheckNewPinOutput>(impl.actors.checkNewPin, input);
  return { vcard, sent, vault, impl, put, check, profile };
}

const policy = (phones: string[] = []): CheckNewPinInput['policy'] => ({ socialSecurityNumber: '410402199207080047', birthDate: '1992-07-08', phones, denyList: [] });
/** The presence probe ssse-operations sends right before VERIFY / CHANGE PIN: VERIFY without data. */
const isProbe = (c: Buffer): boolean => c[1] === 0x20 && c.length === 4;
/** INS of the PIN commands sent (VERIFY with data, CHANGE PIN), the probes left out. */
const pinCommands = (sent: Buffer[]): number[] => sent.filter((c) => !isProbe(c)).map((c) => c[1]!).filter((i) => i === 0x20 || i === 0x5e);
const readsPhone = (sent: Buffer[]): boolean => sent.some((c) => c[1] === 0xa4 && c.subarray(5, 7).toString('hex') === 'df01');

describe('checkNewPin: the policy gets the card’s phone with the caller’s', () => {
  it('a card that shows its phone openly: a new PIN from it is refused with PIN_PHONE (before any state-changing command)', async () => {
    const w = await wiring({ access: 'open' });
    w.put('newPin', FROM_PHONE);
    w.put('confirmPin', FROM_PHONE);
    const out = await w.check({ kind: 'reset', policy: policy() });
    expect(out).toMatchObject({ ok: false, mismatch: false });
    expect(out.ok === false && !out.mismatch && out.violations.map((v) => v.code)).toEqual(['PIN_PHONE']);
    expect(w.vault.has('newPin')).toBe(false);
    expect(readsPhone(w.sent)).toBe(true);
    expect(w.sent.some((c) => c[1] === 0x20 && c.length > 5)).toBe(false);
  });

  it('the same PIN passes when the card is not asked (cardPhone off), and the card is not read', async () => {
    const w = await wiring({ access: 'open', deps: { cardPhone: 'off' } });
    w.put('newPin', FROM_PHONE);
    w.put('confirmPin', FROM_PHONE);
    expect(await w.check({ kind: 'reset', policy: policy() })).toEqual({ ok: true });
    expect(w.sent).toEqual([]);
  });

  it('reset / unblock / activate on a card that wants a verified PIN: no PIN is known, the caller’s phones are all there is', async () => {
    const w = await wiring();
    for (const kind of ['reset', 'unblock', 'activate'] as const) {
      w.put('newPin', FROM_PHONE);
      w.put('confirmPin', FROM_PHONE);
      expect(await w.check({ kind, policy: policy() }), kind).toEqual({ ok: true });
    }
    w.put('newPin', FROM_PHONE);
    w.put('confirmPin', FROM_PHONE);
    const out = await w.check({ kind: 'reset', policy: policy(['+86 130-0000-0019']) });
    expect(out.ok === false && !out.mismatch && out.violations.map((v) => v.code)).toEqual(['PIN_PHONE']);
    // Nothing that spends a try was sent to read it.
    expect(w.sent.some((c) => c[1] === 0x20)).toBe(false);
    expect(w.vcard.pinTriesLeft).toBe(6);
  });

  it('change on such a card: the PIN passes checkNewPin, then the change VERIFYs the old PIN, reads the phone and refuses before CHANGE PIN', async () => {
    const w = await wiring({ change: { pinTriesLeft: 4 } });
    w.put('oldPin', '123456');
    w.put('newPin', FROM_PHONE);
    w.put('confirmPin', FROM_PHONE);
    expect(await w.check({ kind: 'change', policy: policy() })).toEqual({ ok: true });
    w.sent.length = 0;
    const op = await run<CardOpOutput>(w.impl.actors.changePin);
    expect(op).toMatchObject({ status: 'refused', sw: 0x9000 });
    expect(op.status === 'refused' && op.violations.map((v) => v.code)).toEqual(['PIN_PHONE']);
    expect(pinCommands(w.sent)).toEqual([0x20]);
    expect(w.vcard.toProfile().pin.toString()).toBe('123456');
    // The right old PIN restored the tries, as the CHANGE PIN would have.
    expect(w.vcard.pinTriesLeft).toBe(6);
    expect(w.vault.has('oldPin') || w.vault.has('newPin')).toBe(false);
  });

  it('change with a PIN not in the phone: VERIFY, read, CHANGE PIN; with cardPhone open no VERIFY is added', async () => {
    for (const cardPhone of ['verify', 'open'] as const) {
      const w = await wiring({ deps: { cardPhone } });
      w.put('oldPin', '123456');
      w.put('newPin', '802461');
      w.put('confirmPin', '802461');
      expect(await w.check({ kind: 'change', policy: policy() })).toEqual({ ok: true });
      w.sent.length = 0;
      expect(await run<CardOpOutput>(w.impl.actors.changePin)).toMatchObject({ status: 'answered', sw: 0x9000 });
      expect(pinCommands(w.sent), cardPhone).toEqual(cardPhone === 'verify' ? [0x20, 0x5e] : [0x5e]);
      expect(w.vcard.toProfile().pin.toString()).toBe('802461');
    }
  });

  it('a card without a phone: nothing deferred, a plain CHANGE PIN', async () => {
    const w = await wiring({ access: 'open', change: { phone: '' } });
    w.put('oldPin', '123456');
    w.put('newPin', '802461');
    w.put('confirmPin', '802461');
    expect(await w.check({ kind: 'change', policy: policy() })).toEqual({ ok: true });
    w.sent.length = 0;
    await run<CardOpOutput>(w.impl.actors.changePin);
    expect(w.sent.map((c) => (isProbe(c) ? 'probe' : c[1]))).toEqual(['probe', 0x5e]);
  });

  it('secure change on a PC/SC Part 10 pad (the simulated keypad reader): checkNewPin applies no rule and says so (policyChecked false), sending nothing to the card', async () => {
    const w = await wiring({ access: 'open' });
    const apdus: Buffer[] = [];
    const reader = new Part10SimReader(new SimTransport(w.vcard, { onCommand: (e) => (e.phase === 'before' ? apdus.push(Buffer.from(e.command)) : undefined) }), new SimKeypad());
    const pad = new PcscPinPad(reader);
    cleanups.push(() => void pad.close());
    await pad.open();
    expect(pinEntryOf(pad)).toEqual({ plain: false, secureChange: true });
    const impl = sessionImplementations({ card: () => new SsseCard(reader), pinPad: pad }, createPinVault());
    // The old-PIN step of a change on this pad chooses secure entry: nothing is typed into the terminal.
    const entry = createActor(impl.actors.enterPin, { input: { slot: 'oldPin', prompt: 'enterOldPin', timeoutMs: 5000 } });
    entry.start();
    // Even a card that shows its phone openly is not read: there is no new PIN to hold against it.
    expect(await run<CheckNewPinOutput>(impl.actors.checkNewPin, { kind: 'change', policy: policy(['13000000019']) })).toEqual({ ok: true, policyChecked: false });
    entry.stop();
    expect(apdus).toEqual([]);
    // The same wiring with the touchscreen (plain) pad reads that phone, in checkNewPin, before anything else.
    w.put('newPin', '802461');
    w.put('confirmPin', '802461');
    expect(await w.check({ kind: 'change', policy: policy() })).toEqual({ ok: true });
    expect(readsPhone(w.sent)).toBe(true);
  });

  it('refuses a bad cardPhone option by name', () => {
    const e = assertSsCardError(() => sessionImplementations({ card: () => ({}) as SsseCard, pinPad: new TouchPinPad({ allowTouchscreen: true }), cardPhone: 'always' as 'open' }), ErrorCode.Input_BadOption);
    expect(e.context).toMatchObject({ option: 'cardPhone' });
  });
});

describe('identifyCard and readPinStatus: the card driver’s identification (SsseCard.identify / pinState)', () => {
  it.each([
    ['active', {}, 6, 'active'],
    ['not activated', { state: 'notActivated' }, undefined, 'notActivated'],
    ['PIN blocked', { pinTriesLeft: 0 }, 0, 'pinBlocked'],
  ] as const)('%s: the identification carries the tries and the card state the driver read', async (_name, change, triesLeft, cardState) => {
    const { impl, profile } = await wiring({ change });
    const id = await run<CardIdentification>(impl.actors.identifyCard);
    expect(id).toMatchObject({ cardId: profile.issuer.cardId, cardNumber: profile.issuer.cardNumber, authentic: undefined, triesLeft, cardState });
    await expect(run<PinState>(impl.actors.readPinStatus)).resolves.toEqual({ triesLeft, cardState });
  });

  it.each([
    ['on the expiry date itself: still valid', '2031-05-19T23:59:00', false],
    ['the day after: expired', '2031-05-20T00:01:00', true],
    ['years before', '2026-12-02T12:00:00', false],
  ])('card-2.0 (卡有效期 2031-05-19) %s', async (_name, at, expired) => {
    const { impl } = await wiring({ deps: { now: () => new Date(at).getTime() } });
    await expect(run<CardIdentification>(impl.actors.identifyCard)).resolves.toMatchObject({ expiryDate: '2031-05-19', expired });
  });

  it('a card with no expiry date (EF05 06 all zero) is not known to be expired', async () => {
    const { impl } = await wiring({ change: { recordOverrides: new Map([['EF05', new Map([[0x06, Buffer.alloc(4)]])]]) }, deps: { now: () => new Date('2099-01-01T12:00:00').getTime() } });
    await expect(run<CardIdentification>(impl.actors.identifyCard)).resolves.toMatchObject({ expiryDate: '', expired: false });
  });
});

describe('the session’s words are the journal’s', () => {
  it('the journal actors store the role and the materials as state/ names them, untranslated', async () => {
    const dir = tempDir();
    const journal = Journal.open({ path: path.join(dir, 'j.sqlite'), keyFile: path.join(dir, 'j.key'), terminalId: 'T-1' });
    cleanups.push(() => journal.close());
    const { impl } = await wiring({ deps: { journal } });
    const card = { cardId: '410402D15600000593F973FB1A6CB5A0', cardNumber: 'Y00000327', socialSecurityNumber: '410402199207080047', name: '李晓红' };
    for (const role of ROLES) await run(impl.actors.journalRefusal, { kind: 'reset', role, materials: MATERIALS.slice(0, 1), missing: MATERIALS.slice(1), reason: 'materials-missing' });
    await run(impl.actors.journalBegin, { kind: 'change', role: 'kiosk', card, materials: MATERIALS });
    const rows = journal.list().reverse();
    expect(rows.map((r) => r.role)).toEqual([...ROLES, 'kiosk']);
    expect(rows.map((r) => [r.materials, r.missing])).toEqual([...ROLES.map(() => [MATERIALS.slice(0, 1), MATERIALS.slice(1)]), [MATERIALS, []]]);
  });

  it('pinEntryOf: a pad without plain entry cannot set a PIN; one with secure change changes it unchecked', () => {
    expect(pinEntryOf(new TouchPinPad({ allowTouchscreen: true }))).toEqual({ plain: true, secureChange: false });
    expect(pinEntryOf({ capabilities: { plainEntry: false, secureVerify: true, secureChange: true } } as never)).toEqual({ plain: false, secureChange: true });
  });
});

describe('service item codes from the catalog', () => {
  it('the shipped catalog gives every kind its item’s 业务办理项编码, the codes of fixtures/catalog/README.md', () => {
    const items = catalogServiceItems(shippedCatalog());
    for (const kind of ITEM_KINDS) expect(items(kind), kind).toBe(serviceItemFor(shippedCatalog(), kind).itemCode);
    expect(items('activate')).toBe('11411082005756085T400201401000202');
    for (const kind of ['change', 'reset', 'unblock'] as const) expect(items(kind)).toBe('11410402785096902M500201401000601');
    for (const kind of SERVICE_KINDS) expect(shippedServiceItemCode(kind), kind).toBe(items(kind));
  });

  it('a plain PIN check claims no item: seed 001 line 7 事项名称 is 社会保障卡密码修改与重置 (change and reset), so verify is journaled with the marker, not 001’s code', () => {
    const items = catalogServiceItems(shippedCatalog());
    expect(serviceItemFor(shippedCatalog(), 'change').name.zh).toBe('社会保障卡密码修改与重置');
    expect(items('verify')).toBe(PIN_CHECK_SERVICE_ITEM);
    expect(items('verify')).not.toBe(items('change'));
    expect(shippedCatalog().some((it) => it.itemCode === PIN_CHECK_SERVICE_ITEM)).toBe(false);
  });

  it('a catalog without an item for some kind is refused when the wiring is built', () => {
    const onlyPin = shippedCatalog().filter((it) => !it.kinds.includes('activate'));
    const e = assertSsCardError(() => sessionImplementations({ card: () => ({}) as SsseCard, pinPad: new TouchPinPad({ allowTouchscreen: true }), catalog: onlyPin }), ErrorCode.Config_Invalid);
    expect(e.context).toMatchObject({ kind: 'activate' });
  });

  it('loadServiceCatalog names the file, and the key path of a bad entry', () => {
    const dir = tempDir();
    assertSsCardError(() => loadServiceCatalog(path.join(dir, 'missing.json')), ErrorCode.Config_Invalid);
    writeFileSync(path.join(dir, 'bad.json'), '{ nope');
    expect(assertSsCardError(() => loadServiceCatalog(path.join(dir, 'bad.json')), ErrorCode.Config_Invalid).message).toContain('bad.json');
    const raw = JSON.parse(JSON.stringify({ version: 1, items: shippedCatalog() })) as { items: { itemCode: string }[] };
    raw.items[1]!.itemCode = raw.items[1]!.itemCode.slice(0, -1);
    writeFileSync(path.join(dir, 'short.json'), JSON.stringify(raw));
    const e = assertSsCardError(() => loadServiceCatalog(path.join(dir, 'short.json')), ErrorCode.Config_Invalid);
    expect(e.message).toContain('short.json');
    expect(e.message).toContain('items[1].itemCode');
    expect(parseCatalog(JSON.parse(JSON.stringify({ version: 1, items: shippedCatalog() })))).toHaveLength(2);
    expect(defaultCatalogFile()).toMatch(/fixtures\/catalog\/service-items\.json$/);
  });
});

describe('the pending row is on storage before the journal actor answers (daemon/journal/durability.ts)', () => {
  const card = { cardId: '410402D15600000593F973FB1A6CB5A0', cardNumber: 'Y00000327', socialSecurityNumber: '410402199207080047', name: '李晓红' };

  it('journalBegin, journalRefusal and the bank request wait for Journal.durable; a storage failure rejects them', async () => {
    const dir = tempDir();
    const journal = Journal.open({ path: path.join(dir, 'j.sqlite'), keyFile: path.join(dir, 'j.key'), terminalId: 'T-1', fsync: 'off-loop' });
    cleanups.push(() => journal.close());
    let release: (() => void) | undefined;
    let fail: ((e: Error) => void) | undefined;
    let waits = 0;
    (journal as { durable: () => Promise<void> }).durable = () => {
      waits++;
      return new Promise<void>((res, rej) => {
        release = res;
        fail = rej;
      });
    };
    const { impl } = await wiring({ deps: { journal } });
    const settled = (p: Promise<unknown>): Promise<boolean> => {
      let done = false;
      p.then(() => (done = true), () => (done = true));
      return new Promise((r) => setTimeout(() => r(done), 20));
    };
    const begun = run<string>(impl.actors.journalBegin, { kind: 'change', role: 'kiosk', card, materials: [] });
    expect(await settled(begun)).toBe(false);
    expect(journal.list()[0]?.state).toBe('pending');
    release!();
    const id = await begun;
    expect(journal.get(id).state).toBe('pending');
    const refused = run<string>(impl.actors.journalRefusal, { kind: 'reset', role: 'counter', materials: [], missing: ['residentIdCard'], reason: 'materials-missing', card });
    expect(await settled(refused)).toBe(false);
    fail!(new Error('EIO'));
    await expect(refused).rejects.toThrow('EIO');
    const activation = journal.beginOperation({ serviceItem: shippedServiceItemCode('activate'), kind: 'activate', role: 'financial-counter', card });
    journal.completeOperation(activation, { outcome: 'ok', lastSw: 0x9000 });
    const bank = run<string>(impl.actors.requestBankActivation, { card, operationId: activation });
    expect(await settled(bank)).toBe(false);
    release!();
    await expect(bank).resolves.toMatch(/^[0-9a-f-]{36}$/);
    expect(waits).toBe(3);
  });
});

describe('journal trouble is logged (code and text, never the card) before the machine turns it into a result', () => {
  function spyLogger(): Logger & { lines: { level: string; message: string; meta?: Record<string, unknown> }[] } {
    const lines: { level: string; message: string; meta?: Record<string, unknown> }[] = [];
    const at = (level: string) => (message: string, meta?: Record<string, unknown>) => void lines.push({ level, message, ...(meta === undefined ? {} : { meta }) });
    return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  }

  it('a failing completion, refusal and bank request: each logged as an error and rejected', async () => {
    const dir = tempDir();
    const journal = Journal.open({ path: path.join(dir, 'j.sqlite'), keyFile: path.join(dir, 'j.key'), terminalId: 'T-1' });
    const card = { cardId: '410402D15600000593F973FB1A6CB5A0', cardNumber: 'Y00000327', socialSecurityNumber: '410402199207080047', name: '李晓红' };
    const id = journal.beginOperation({ serviceItem: shippedServiceItemCode('activate'), kind: 'activate', role: 'financial-counter', card });
    journal.close();
    const logger = spyLogger();
    const { impl } = await wiring({ deps: { journal, logger } });
    await expect(run(impl.actors.journalComplete, { operationId: id, outcome: 'ok' })).rejects.toBeDefined();
    await expect(run(impl.actors.journalRefusal, { kind: 'reset', role: 'counter', materials: [], missing: ['residentIdCard'], reason: 'materials-missing', card })).rejects.toBeDefined();
    await expect(run(impl.actors.requestBankActivation, { card, operationId: id })).rejects.toBeDefined();
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors.map((l) => l.message)).toEqual(['journal: completing an operation failed', 'journal: recording a refusal failed', 'journal: recording the bank request failed']);
    for (const l of errors) expect(l.meta).toMatchObject({ code: ErrorCode.Internal });
    const text = JSON.stringify(logger.lines);
    for (const clear of [card.cardId, card.cardNumber, card.socialSecurityNumber, card.name]) expect(text).not.toContain(clear);
  });

  it('no journal and no bankRequests: the bank request is not recorded (rejected, logged)', async () => {
    const logger = spyLogger();
    const { impl } = await wiring({ deps: { logger } });
    await expect(run(impl.actors.requestBankActivation, { card: { cardId: '410402D15600000593F973FB1A6CB5A0', cardNumber: 'Y1', socialSecurityNumber: '410402199207080047', name: '李' } })).rejects.toMatchObject({
      code: ErrorCode.Flow_Refused,
    });
    expect(logger.lines.some((l) => l.level === 'error' && l.message.startsWith('bank-account activation request not recorded'))).toBe(true);
  });
});
