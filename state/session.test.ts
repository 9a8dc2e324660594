/**
 * The session machine over the simulator: machine.provide with the daemon/flows wiring,
 * SimTransport + VirtualSsCard + VirtualPsam, the development touchscreen pad for PIN entry.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Rig } from '../testing/services-rig.js';
import { leakText } from '../testing/services-rig.js';
import { run, setup, stopRigs } from '../testing/session-setup.js';
import { openTestJournal, tempJournalDir } from '../testing/journal.js';
import { rmSync } from 'node:fs';
import { AFTER_RESET_ADVICE } from './catalog.js';

afterEach(() => {
  stopRigs();
  vi.useRealTimers();
});

const TEST_PINS = ['123456', '246810', '135790', '802461', '345678', '802462', '130000'];

function noPinLeak(rig: Rig): void {
  const text = leakText(rig);
  for (const p of TEST_PINS) expect(text).not.toContain(p);
}

describe('verify', () => {
  it('right PIN: verify.ok, tries 6 on machine and card, no digit anywhere', async () => {
    const { rig, vcard } = await setup({ profile: 'card-2.0', config: { role: 'kiosk' } });
    const r = await run(rig, 'verify', ['123456']);
    expect(r).toMatchObject({ code: 'verify.ok', outcome: 'ok', triesLeft: 6 });
    expect(rig.actor.getSnapshot().context.triesLeft).toBe(vcard.pinTriesLeft);
    const types = rig.emitted.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['card.inserted', 'card.identified', 'service.started', 'pin.entryStarted', 'pin.digits', 'result']));
    expect(rig.emitted.filter((e) => e.type === 'pin.digits').map((e) => (e as { count: number }).count)).toEqual([1, 2, 3, 4, 5, 6]);
    noPinLeak(rig);
  });

  it('wrong PIN: tries left reported and equal to the card', async () => {
    const { rig, vcard } = await setup({ profile: 'card-3.0', config: { role: 'kiosk' } });
    const r = await run(rig, 'verify', ['111111']);
    expect(r).toMatchObject({ code: 'verify.wrongPin', outcome: 'failed', triesLeft: 5, sw: 0x63c5 });
    expect(vcard.pinTriesLeft).toBe(5);
    expect(rig.actor.getSnapshot().context.triesLeft).toBe(5);
    noPinLeak(rig);
  });

  it.each([
    ['kiosk', 1, 'verify.belowFloor'],
    ['kiosk', 2, 'verify.wrongPin'],
    ['counter', 1, 'verify.locked'],
  ] as const)('%s with %i tries left: %s (floor 1 at kiosks only)', async (role, left, code) => {
    const { rig, vcard } = await setup({ profile: 'card-2.0', change: { pinTriesLeft: left }, config: { role } });
    const r = await run(rig, 'verify', ['111111']);
    expect(r.code).toBe(code);
    expect(vcard.pinTriesLeft).toBe(code === 'verify.belowFloor' ? 1 : left - 1);
  });

  it('a configurable floor', async () => {
    const { rig, vcard } = await setup({ profile: 'card-2.0', change: { pinTriesLeft: 3 }, config: { role: 'kiosk', triesFloor: 3 } });
    expect((await run(rig, 'verify', ['123456'])).code).toBe('verify.belowFloor');
    expect(vcard.pinTriesLeft).toBe(3);
  });

  it('a locked card is offered only unblock', async () => {
    const { rig } = await setup({ profile: 'card-locked', config: { role: 'kiosk' } });
    expect((await run(rig, 'verify', ['135790'])).code).toBe('card.locked');
  });
});

describe('change', () => {
  it('old, new twice: change.ok, the new PIN verifies', async () => {
    const { rig, vcard } = await setup({ profile: 'card-2.0', config: { role: 'kiosk' } });
    expect((await run(rig, 'change', ['123456', '802461', '802461'])).code).toBe('change.ok');
    expect(vcard.toProfile().pin.toString()).toBe('802461');
    noPinLeak(rig);
  });

  it('the two new PINs differ: pin.mismatch, no command sent, no try spent', async () => {
    const { rig, vcard } = await setup({ profile: 'card-2.0', config: { role: 'kiosk' } });
    expect((await run(rig, 'change', ['123456', '802461', '802462'])).code).toBe('pin.mismatch');
    expect(vcard.toProfile().pin.toString()).toBe('123456');
    expect(vcard.pinTriesLeft).toBe(6);
  });

  it('policy: an ascending run is refused with its rule code', async () => {
    const { rig, vcard } = await setup({ profile: 'card-2.0', config: { role: 'kiosk' } });
    const r = await run(rig, 'change', ['123456', '345678', '345678']);
    expect(r.code).toBe('pin.policy');
    expect(r.violations).toContain('PIN_SEQUENCE');
    expect(vcard.toProfile().pin.toString()).toBe('123456');
  });

  it('policy: a new PIN from the card’s phone (read after the old PIN’s VERIFY) is refused with PIN_PHONE, the PIN unchanged', async () => {
    const { rig, vcard, commands } = await setup({ profile: 'card-2.0', config: { role: 'kiosk' } });
    const r = await run(rig, 'change', ['123456', '130000', '130000']);
    expect(r).toMatchObject({ code: 'pin.policy', outcome: 'failed', violations: ['PIN_PHONE'] });
    expect(vcard.toProfile().pin.toString()).toBe('123456');
    expect(vcard.pinTriesLeft).toBe(6);
    expect(commands.some((c) => c[1] === 0x5e)).toBe(false);
    expect(rig.actor.getSnapshot().context.lastOp).toMatchObject({ status: 'refused', sw: 0x9000 });
    // The phone number itself is nowhere the machine shows.
    expect(leakText(rig)).not.toContain('13000000019');
    noPinLeak(rig);
  });

  it('policy: on a card whose phone is open the same PIN is refused before anything is sent', async () => {
    const { rig, commands } = await setup({ profile: 'card-2.0', config: { role: 'kiosk' }, phoneAccess: 'open' });
    const r = await run(rig, 'change', ['123456', '130000', '130000']);
    expect(r).toMatchObject({ code: 'pin.policy', violations: ['PIN_PHONE'] });
    expect(commands.some((c) => c[1] === 0x20 && c.length > 5)).toBe(false);
  });

  it('wrong old PIN: change.wrongPin with tries left', async () => {
    const { rig, vcard } = await setup({ profile: 'card-3.0', config: { role: 'kiosk' } });
    const r = await run(rig, 'change', ['111111', '802461', '802461']);
    expect(r).toMatchObject({ code: 'change.wrongPin', triesLeft: 5 });
    expect(vcard.pinTriesLeft).toBe(5);
  });
});

describe('reset (seed 001)', () => {
  it('with the holder ID card: reset.ok; the result says to try the new PIN and change it', async () => {
    const { rig, vcard } = await setup({ profile: 'card-3.0', change: { pinTriesLeft: 2 }, config: { role: 'kiosk', offered: ['verify', 'change', 'reset'] }, idNumber: 'holder' });
    const r = await run(rig, 'reset', ['802461', '802461']);
    expect(r).toMatchObject({ code: 'reset.ok', triesLeft: 6 });
    // Seed 001 line 85, as the seed words it, after the take-your-card line.
    expect(r.nextStep.zh).toContain(AFTER_RESET_ADVICE.zh);
    expect(r.nextStep.en).toContain(AFTER_RESET_ADVICE.en);
    expect(r.policyChecked).toBe(true);
    expect(vcard.toProfile().pin.toString()).toBe('802461');
    noPinLeak(rig);
    // The screen asks for the ID card when the flow waits for it, and hears how the read went, before any PIN.
    const types = rig.emitted.map((e) => e.type);
    expect(types.indexOf('idCard.requested')).toBeGreaterThan(types.indexOf('service.started'));
    expect(types.indexOf('idCard.read')).toBeLessThan(types.indexOf('pin.entryStarted'));
    expect(rig.emitted.find((e) => e.type === 'idCard.read')).toEqual({ type: 'idCard.read', whose: 'holder', read: true, matches: true, expired: false });
    // Without a journal no row was written, so the result names none.
    expect(r.operationId).toBeUndefined();
  });

  it('verify and change need no ID card: no ID card event', async () => {
    const { rig } = await setup({ profile: 'card-2.0', config: { role: 'kiosk' } });
    await run(rig, 'verify', ['123456']);
    expect(rig.emitted.some((e) => e.type === 'idCard.requested' || e.type === 'idCard.read')).toBe(false);
  });

  it('without an ID card: materials.missing, all at once, no PIN asked', async () => {
    const { rig } = await setup({ profile: 'card-2.0', config: { role: 'kiosk', offered: ['verify', 'change', 'reset'] } });
    const r = await run(rig, 'reset', []);
    expect(r).toMatchObject({ code: 'materials.missing', outcome: 'refused', missing: ['residentIdCard'] });
    expect(rig.emitted.filter((e) => e.type.startsWith('idCard.'))).toEqual([{ type: 'idCard.requested', whose: 'holder' }, { type: 'idCard.read', whose: 'holder', read: false, matches: null, expired: null, reason: 'none' }]);
    expect(rig.emitted.some((e) => e.type === 'pin.entryStarted')).toBe(false);
  });

  it('someone else’s ID card: identity.mismatch', async () => {
    const { rig } = await setup({ profile: 'card-2.0', config: { role: 'kiosk', offered: ['verify', 'change', 'reset'] }, idNumber: '410402199207080047' });
    expect((await run(rig, 'reset', [])).code).toBe('identity.mismatch');
    expect(rig.emitted.find((e) => e.type === 'idCard.read')).toEqual({ type: 'idCard.read', whose: 'holder', read: true, matches: false, expired: false });
  });
});

describe('unblock and activate', () => {
  it('unblock at a counter with an operator: tries back to the limit', async () => {
    const { rig, vcard } = await setup({ profile: 'card-locked', config: { role: 'counter' }, idNumber: 'holder', operatorId: 'op-7' });
    const r = await run(rig, 'unblock', ['802461', '802461']);
    expect(r).toMatchObject({ code: 'unblock.ok', triesLeft: 6 });
    expect(vcard.pinTriesLeft).toBe(6);
    expect(rig.actor.getSnapshot().context.operatorId).toBe('op-7');
  });

  it('unblock at a counter without an operator: refused', async () => {
    const { rig, vcard } = await setup({ profile: 'card-locked', config: { role: 'counter' }, idNumber: 'holder' });
    expect((await run(rig, 'unblock', ['802461', '802461'])).code).toBe('operator.required');
    expect(vcard.pinTriesLeft).toBe(0);
  });

  it('unblock at a kiosk: role.notAllowed', async () => {
    const { rig } = await setup({ profile: 'card-locked', config: { role: 'kiosk' }, idNumber: 'holder' });
    expect((await run(rig, 'unblock', [])).code).toBe('role.notAllowed');
  });

  it('activate at a counter: the card is active with the new PIN; the bank account is not attempted', async () => {
    const { rig, vcard } = await setup({ profile: 'card-not-activated', config: { role: 'counter' }, idNumber: 'holder', operatorId: 'op-1' });
    const r = await run(rig, 'activate', ['802461', '802461']);
    expect(r.code).toBe('activate.ok');
    expect(r.bank?.attempted).toBe(false);
    expect(rig.bank).toHaveLength(0);
    expect(vcard.cardState).toBe('active');
    expect(vcard.toProfile().pin.toString()).toBe('802461');
  });

  it('activate at a financial counter: the bank activation is recorded as a separate request', async () => {
    const { rig } = await setup({ profile: 'card-not-activated', config: { role: 'financial-counter' }, idNumber: 'holder', operatorId: 'op-1' });
    const r = await run(rig, 'activate', ['802461', '802461']);
    expect(r.bank).toMatchObject({ attempted: true, recorded: true });
    // Seed 000 (000_1700379f35991b5f.txt) lines 64–66: recorded, to the bank via the platform (queued) — not "submitted".
    expect(r.bank?.zh).toContain('银行账户激活申请已登记，将经省级平台转送银行办理（排队发送中）');
    expect(r.bank?.en).toContain('will be sent to the bank via the provincial platform (queued)');
    expect(rig.bank).toHaveLength(1);
    expect(rig.bank[0]).toMatchObject({ operatorId: 'op-1', card: { cardNumber: rig.actor.getSnapshot().context.card!.cardNumber } });
    expect(rig.bank[0]!.operationId).toBeUndefined();
  });

  it('activate at a financial counter whose bank request cannot be recorded: still activated, and the result says the operator must submit it', async () => {
    const { rig, vcard } = await setup({
      profile: 'card-not-activated',
      config: { role: 'financial-counter' },
      idNumber: 'holder',
      operatorId: 'op-1',
      bankRequests: () => Promise.reject(new Error('bank link down')),
    });
    const r = await run(rig, 'activate', ['802461', '802461']);
    expect(r).toMatchObject({ code: 'activate.ok', outcome: 'ok', bank: { attempted: true, recorded: false } });
    expect(r.bank?.en).toMatch(/could not be recorded/);
    expect(r.nextStep.zh).toContain('另行提交银行');
    expect(vcard.cardState).toBe('active');
  });

  it.each(['reset', 'unblock', 'activate'] as const)('%s with a pad that cannot hand out a new PIN (Part 10): refused at routing, nothing asked or sent', async (kind) => {
    const profile = kind === 'unblock' ? 'card-locked' : kind === 'activate' ? 'card-not-activated' : 'card-2.0';
    const { rig, commands } = await setup({ profile, config: { role: 'counter', pinEntry: { plain: false } }, idNumber: 'holder', operatorId: 'op-1' });
    rig.actor.send({ type: 'CARD_INSERTED' });
    await rig.settle('identified');
    const identified = commands.length;
    rig.actor.send({ type: 'SELECT_SERVICE', kind });
    const r = (await rig.settle('done')).context.result!;
    expect(r).toMatchObject({ code: 'pinPad.unsupported', kind, outcome: 'refused' });
    expect(r.zh.length).toBeGreaterThan(0);
    expect(r.en).toMatch(/cannot set a new PIN/);
    expect(r.nextStep.en.length).toBeGreaterThan(0);
    expect(rig.emitted.some((e) => e.type === 'pin.entryStarted')).toBe(false);
    expect(rig.actor.getSnapshot().context.operatorId).toBeUndefined();
    expect(commands.length).toBe(identified);
  });

  it('verify and change with such a pad are still offered (the reader runs them)', async () => {
    const { rig } = await setup({ profile: 'card-2.0', config: { role: 'counter', pinEntry: { plain: false } }, operatorId: 'op-1' });
    expect((await run(rig, 'verify', ['123456'])).code).toBe('verify.ok');
  });

  it('activate on an active card: card.alreadyActive', async () => {
    const { rig } = await setup({ profile: 'card-2.0', config: { role: 'counter' }, idNumber: 'holder', operatorId: 'op-1' });
    expect((await run(rig, 'activate', [])).code).toBe('card.alreadyActive');
  });
});

/** The terminal's clock in these tests: 2026-05-01, noon local time. */
const MAY_DAY = (): Date => new Date(2026, 4, 1, 12, 0, 0);

describe('the resident ID card must be valid (受理标准 材料真实有效: seed 001 line 59, seed 000 lines 278–280)', () => {
  it('reset with the holder’s ID card that expired yesterday: identity.expired naming the date, before any PIN, the card untouched', async () => {
    const { rig, vcard, commands } = await setup({
      profile: 'card-2.0',
      change: { pinTriesLeft: 2 },
      config: { role: 'kiosk', offered: ['verify', 'change', 'reset'], now: MAY_DAY },
      idNumber: 'holder',
      idValidTo: '2026-04-30',
    });
    rig.actor.send({ type: 'CARD_INSERTED' });
    await rig.settle('identified');
    const identified = commands.length;
    rig.actor.send({ type: 'SELECT_SERVICE', kind: 'reset' });
    const r = (await rig.settle('done')).context.result!;
    expect(r).toMatchObject({ code: 'identity.expired', kind: 'reset', outcome: 'refused', missing: ['residentIdCard'] });
    expect(r.zh).toContain('2026-04-30');
    expect(r.zh).toMatch(/已过期.*公安机关/);
    expect(r.en).toMatch(/expired on 2026-04-30.*public security bureau/);
    expect(r.nextStep.en).toMatch(/valid resident ID card/);
    expect(rig.emitted.some((e) => e.type === 'pin.entryStarted')).toBe(false);
    expect(rig.actor.getSnapshot().context.materials).toEqual(['socialSecurityCard']);
    expect(commands.length).toBe(identified);
    expect(vcard.pinTriesLeft).toBe(2);
  });

  it.each([
    ['valid until today (the end date is still a valid day)', '2026-05-01'],
    ['valid until tomorrow', '2026-05-02'],
    ['long-term (长期: no end date)', '长期'],
  ])('reset with the holder’s ID card %s: accepted, reset.ok', async (_what, validTo) => {
    const { rig } = await setup({ profile: 'card-2.0', config: { role: 'kiosk', offered: ['verify', 'change', 'reset'], now: MAY_DAY }, idNumber: 'holder', idValidTo: validTo });
    expect((await run(rig, 'reset', ['802461', '802461'])).code).toBe('reset.ok');
    expect(rig.actor.getSnapshot().context.materials).toEqual(['socialSecurityCard', 'residentIdCard']);
  });

  it.each([
    ['unblock', 'card-locked'],
    ['activate', 'card-not-activated'],
  ] as const)('%s at a counter with an expired ID card: identity.expired, nothing sent', async (kind, profile) => {
    const { rig, vcard } = await setup({ profile, config: { role: 'counter', now: MAY_DAY }, idNumber: 'holder', idValidTo: '2016-05-01', operatorId: 'op-1' });
    const before = vcard.toProfile();
    const r = await run(rig, kind, ['802461', '802461']);
    expect(r).toMatchObject({ code: 'identity.expired', kind, outcome: 'refused' });
    expect(r.en).toContain('2016-05-01');
    expect(vcard.toProfile().pin.toString()).toBe(before.pin.toString());
    if (kind === 'activate') expect(vcard.cardState).toBe('notActivated');
    else expect(vcard.pinTriesLeft).toBe(0);
    expect(rig.emitted.some((e) => e.type === 'pin.entryStarted')).toBe(false);
  });

  it('someone else’s expired ID card is a mismatch first (it is not the holder’s at all)', async () => {
    const { rig } = await setup({ profile: 'card-2.0', config: { role: 'kiosk', offered: ['verify', 'change', 'reset'], now: MAY_DAY }, idNumber: '410402199207080047', idValidTo: '2016-05-01' });
    expect((await run(rig, 'reset', [])).code).toBe('identity.mismatch');
  });

  it('an ID card whose validity cannot be read is not shown valid: refused with its own words', async () => {
    const { rig } = await setup({ profile: 'card-2.0', config: { role: 'kiosk', offered: ['verify', 'change', 'reset'], now: MAY_DAY }, idNumber: 'holder', idValidTo: '' });
    const r = await run(rig, 'reset', []);
    expect(r.code).toBe('identity.expired');
    expect(r.en).toMatch(/cannot be shown to be valid/);
  });
});

describe('the actors a flow makes (xstate creates a state\'s invoked actors on entry, started or not)', () => {
  const made = (rig: Rig) => {
    const srcs: string[] = [];
    const sub = rig.actor.system.inspect((e) => {
      if (e.type === '@xstate.actor' && e.actorRef !== rig.actor) srcs.push(String((e.actorRef as { src?: unknown }).src));
    });
    return { srcs, stop: () => sub.unsubscribe() };
  };

  it('a kiosk verify makes only what it runs: no operator, ID card or bank actor', async () => {
    const { rig } = await setup({ profile: 'card-2.0', config: { role: 'kiosk' } });
    const seen = made(rig);
    expect((await run(rig, 'verify', ['123456'])).code).toBe('verify.ok');
    seen.stop();
    expect(seen.srcs).toEqual(['identifyCard', 'readPinStatus', 'enterPin', 'journalBegin', 'verifyPin', 'readPinStatus', 'journalComplete']);
  });

  it('an unblock at a counter makes the operator and ID card actors it needs, and no PIN-state read before entry', async () => {
    const { rig } = await setup({ profile: 'card-locked', config: { role: 'counter' }, idNumber: 'holder', operatorId: 'op-7' });
    const seen = made(rig);
    expect((await run(rig, 'unblock', ['802461', '802461'])).code).toBe('unblock.ok');
    seen.stop();
    expect(seen.srcs).toEqual(['identifyCard', 'authenticateOperator', 'readIdCard', 'enterPin', 'enterPin', 'checkNewPin', 'journalBegin', 'unblockPin', 'readPinStatus', 'journalComplete']);
  });
});

describe('advice after every change of PIN (seed 001 line 85; seed 000 lines 321–327)', () => {
  it('change: try the new PIN at a hospital or pharmacy, keep it secret, change it again if it may have leaked', async () => {
    const { rig } = await setup({ profile: 'card-2.0', config: { role: 'kiosk' } });
    const r = await run(rig, 'change', ['123456', '802461', '802461']);
    expect(r).toMatchObject({ code: 'change.ok', policyChecked: true });
    expect(r.nextStep.zh).toMatch(/^请取回您的社保卡。.*医院或药店测试新密码.*不要告诉他人.*怀疑密码泄露时，要及时修改密码/);
    expect(r.nextStep.en).toMatch(/hospital or pharmacy.*suspect it has leaked/);
    // "change the initial PIN" does not fit: the holder has just chosen this one.
    expect(r.nextStep.zh).not.toContain('初始密码');
  });

  it('unblock and activate set a new PIN: try it at a hospital or pharmacy, as after a reset', async () => {
    const u = await setup({ profile: 'card-locked', config: { role: 'counter' }, idNumber: 'holder', operatorId: 'op-7' });
    const ru = await run(u.rig, 'unblock', ['802461', '802461']);
    const a = await setup({ profile: 'card-not-activated', config: { role: 'counter' }, idNumber: 'holder', operatorId: 'op-1' });
    const ra = await run(a.rig, 'activate', ['802461', '802461']);
    for (const r of [ru, ra]) {
      expect(r.outcome, r.code).toBe('ok');
      expect(r.policyChecked).toBe(true);
      expect(r.nextStep.zh).toMatch(/医院或药店测试新密码.*怀疑密码泄露时，要及时修改密码/);
      expect(r.nextStep.en).toMatch(/Try the new PIN at a nearby hospital or pharmacy/);
    }
    // The bank line of a non-financial counter still follows.
    expect(ra.nextStep.zh).toContain(ra.bank!.zh);
  });
});

describe('the phone rule in reset (seed 000 line 323: 电话号码; docs/security.md "The phone rule in reset, unblock and activation")', () => {
  // card-2.0's phone (DF01, readable after VERIFY only) is 13000000019: 000019 is one of its windows and breaks no other rule.
  it('no PIN of the holder is known, so the card’s phone cannot be read: a PIN from it is set unless the caller gives the number', async () => {
    const { rig, vcard, commands } = await setup({ profile: 'card-2.0', config: { role: 'kiosk', offered: ['verify', 'change', 'reset'] }, idNumber: 'holder' });
    const r = await run(rig, 'reset', ['000019', '000019']);
    expect(r).toMatchObject({ code: 'reset.ok', policyChecked: true });
    expect(vcard.toProfile().pin.toString()).toBe('000019');
    // Nothing PIN-bearing was sent to get at the phone: no VERIFY with data.
    expect(commands.some((c) => c[1] === 0x20 && c.length > 5)).toBe(false);
  });

  it('the number the caller sends with the request (a counter clerk asks the holder) is checked: PIN_PHONE, nothing set', async () => {
    const { rig, vcard } = await setup({ profile: 'card-2.0', config: { role: 'kiosk', offered: ['verify', 'change', 'reset'] }, idNumber: 'holder' });
    rig.actor.send({ type: 'CARD_INSERTED' });
    await rig.settle('identified');
    rig.pins.push('000019', '000019');
    rig.actor.send({ type: 'SELECT_SERVICE', kind: 'reset', phones: ['130-0000-0019'] });
    const r = (await rig.settle('done')).context.result!;
    expect(r).toMatchObject({ code: 'pin.policy', violations: ['PIN_PHONE'] });
    expect(vcard.toProfile().pin.toString()).toBe('123456');
  });
});

describe('secure change and the PIN policy (docs/security.md)', () => {
  it('session.requirePinPolicy with a pad that changes PINs inside the reader: change refused at routing, before any PIN or APDU', async () => {
    const { rig, commands } = await setup({ profile: 'card-2.0', config: { role: 'kiosk', pinEntry: { plain: false, secureChange: true }, requirePinPolicy: true } });
    rig.actor.send({ type: 'CARD_INSERTED' });
    await rig.settle('identified');
    const identified = commands.length;
    rig.actor.send({ type: 'SELECT_SERVICE', kind: 'change' });
    const r = (await rig.settle('done')).context.result!;
    expect(r).toMatchObject({ code: 'pinPad.policyUnchecked', kind: 'change', outcome: 'refused' });
    expect(r.zh).toMatch(/六位相同数字、连续数字、出生日期或电话号码/);
    expect(r.en).toMatch(/cannot be checked against the PIN rules.*requires that check/);
    expect(rig.emitted.some((e) => e.type === 'pin.entryStarted')).toBe(false);
    expect(commands.length).toBe(identified);
  });

  it('without it the same pad still verifies (nothing to check there)', async () => {
    const { rig } = await setup({ profile: 'card-2.0', config: { role: 'kiosk', pinEntry: { plain: false, secureChange: true }, requirePinPolicy: true } });
    expect((await run(rig, 'verify', ['123456'])).code).toBe('verify.ok');
  });
});

describe('timeouts (fake timers)', () => {
  it('PIN entry times out after the configured time', async () => {
    const { rig, vcard } = await setup({ profile: 'card-2.0', config: { role: 'kiosk', pinEntryMs: 30_000 }, autoType: false });
    rig.actor.send({ type: 'CARD_INSERTED' });
    await rig.settle('identified');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    rig.actor.send({ type: 'SELECT_SERVICE', kind: 'verify' });
    await vi.advanceTimersByTimeAsync(29_000);
    expect(rig.actor.getSnapshot().matches({ service: 'pinEntry' })).toBe(true);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(rig.actor.getSnapshot().context.result?.code).toBe('pin.timeout');
    expect(vcard.pinTriesLeft).toBe(6);
  });

  it('inactivity after identification ends the session (default 60 s)', async () => {
    const { rig } = await setup({ profile: 'card-2.0', config: { role: 'kiosk' } });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    rig.actor.send({ type: 'CARD_INSERTED' });
    await rig.settle('identified');
    await vi.advanceTimersByTimeAsync(59_000);
    expect(rig.actor.getSnapshot().value).toBe('identified');
    await vi.advanceTimersByTimeAsync(2_000);
    expect(rig.actor.getSnapshot().value).toBe('ended');
    expect(rig.actor.getSnapshot().context.result?.code).toBe('session.timeout');
    rig.actor.send({ type: 'CARD_REMOVED' });
    expect(rig.actor.getSnapshot().value).toBe('idle');
  });
});

/** INS of every command that spends a PIN try or changes the card (docs/domain.md §2): VERIFY, CHANGE/RELOAD PIN, PIN UNBLOCK / 3.0 RELOAD, APP BLOCK/UNBLOCK, UPDATE RECORD. */
const CHANGES_CARD = new Set([0x20, 0x5e, 0x24, 0x1e, 0x18, 0xdc]);
/** Such commands among `commands` — VERIFY without data (the tries query, ISO 7816-4: spends none) left out. */
const cardChanging = (commands: Buffer[]): Buffer[] => commands.filter((c) => CHANGES_CARD.has(c[1]!) && !(c[1] === 0x20 && c.length <= 5));

function journalInTemp() {
  const dir = tempJournalDir();
  const journal = openTestJournal(dir, () => Date.now());
  return { journal, close: () => { journal.close(); rmSync(dir, { recursive: true, force: true }); } };
}

describe('an application-locked card (挂失, SELECT 9303: docs/domain.md §2; card-app-locked)', () => {
  // Seed 000 lines 329–331 (000_1700379f35991b5f.txt): after a loss report the holder replaces the
  // card at the card service window (补换卡) — so every service is refused with that next step.
  it.each(['verify', 'change', 'reset', 'unblock', 'activate'] as const)('%s at a counter: card.appLocked, no PIN asked, no state-changing command sent', async (kind) => {
    const j = journalInTemp();
    try {
      const { rig, vcard, commands } = await setup({ profile: 'card-app-locked', config: { role: 'counter' }, operatorId: 'op-7', idNumber: 'holder', journal: j.journal });
      const r = await run(rig, kind, ['123456', '802461', '802461']);
      expect(r).toMatchObject({ code: 'card.appLocked', kind, outcome: 'refused' });
      expect(r.nextStep.zh).toContain('补换卡');
      expect(rig.emitted.find((e) => e.type === 'card.identified')).toMatchObject({ cardState: 'appLocked', triesLeft: undefined });
      expect(rig.emitted.some((e) => e.type === 'pin.entryStarted')).toBe(false);
      expect(cardChanging(commands)).toEqual([]);
      expect(vcard.pinTriesLeft).toBe(6);
      // The refusal is journaled against the card (its 卡识别码 from EF05), without holder fields it never gave.
      const rows = j.journal.findByCard('410204D1560000057C2E91A4D35B0862');
      expect(rows.map((x) => [x.kind, x.outcome, x.reason, x.card?.name ?? null])).toEqual([[kind, 'refused', 'card-app-locked', null]]);
    } finally {
      j.close();
    }
  });

  it.each(['verify', 'change'] as const)('%s at a kiosk: card.appLocked', async (kind) => {
    const { rig, commands } = await setup({ profile: 'card-app-locked', config: { role: 'kiosk' } });
    expect((await run(rig, kind, ['123456', '802461', '802461'])).code).toBe('card.appLocked');
    expect(cardChanging(commands)).toEqual([]);
  });
});

describe('a name the terminal cannot decode (docs/card-conventions.md "Names")', () => {
  it('the card identifies with an empty name, and verify and change still work and are journaled', async () => {
    const j = journalInTemp();
    try {
      // EF06 tag 09 holds a GB18030 lead byte with no trail byte.
      const bad = Buffer.concat([Buffer.from('D5C581', 'hex'), Buffer.alloc(27)]);
      const { rig, vcard, profile } = await setup({ profile: 'card-2.0', change: { recordOverrides: new Map([['EF06', new Map([[0x09, bad]])]]) }, config: { role: 'kiosk' }, journal: j.journal });
      expect((await run(rig, 'verify', ['123456'])).code).toBe('verify.ok');
      expect(rig.emitted.find((e) => e.type === 'card.identified')).toMatchObject({ name: '', cardState: 'active' });
      rig.pins.push('123456', '802461', '802461');
      rig.actor.send({ type: 'SELECT_SERVICE', kind: 'change' });
      expect((await rig.settle('done', 'ended')).context.result?.code).toBe('change.ok');
      expect(vcard.toProfile().pin.toString()).toBe('802461');
      const rows = j.journal.findByCard(profile.issuer.cardId);
      expect(rows.map((x) => [x.kind, x.outcome, x.card?.name ?? null])).toEqual([['verify', 'ok', null], ['change', 'ok', null]]);
    } finally {
      j.close();
    }
  });
});

/**
 * A card past its 卡有效期 (EF05 tag 06; card-expired: 2024-04-09). Seed 001 line 60
 * (001_bf9ce8a90a3e7ce5.txt): the card (原件) must be 材料真实有效 — by default every service is
 * refused; docs/config.md session.expiredCard = "report" only reports it.
 */
describe('an expired card (seed 001 line 60: 材料真实有效; card-expired)', () => {
  it.each(['verify', 'change'] as const)('%s at a kiosk, default rule: card.expired, no PIN asked, nothing sent that changes the card', async (kind) => {
    const { rig, vcard, commands } = await setup({ profile: 'card-expired', config: { role: 'kiosk' } });
    const r = await run(rig, kind, ['123456', '802461', '802461']);
    expect(r).toMatchObject({ code: 'card.expired', kind, outcome: 'refused' });
    expect(r.zh).toContain('2024-04-09');
    expect(r.nextStep.en).toMatch(/replaced/);
    expect(rig.emitted.find((e) => e.type === 'card.identified')).toMatchObject({ expiryDate: '2024-04-09', expired: true, cardState: 'active' });
    expect(rig.emitted.some((e) => e.type === 'pin.entryStarted')).toBe(false);
    expect(cardChanging(commands)).toEqual([]);
    expect(vcard.pinTriesLeft).toBe(6);
  });

  it('reset at a counter, default rule: card.expired before the operator and the ID card', async () => {
    const { rig, commands } = await setup({ profile: 'card-expired', config: { role: 'counter' }, operatorId: 'op-7', idNumber: 'holder' });
    expect((await run(rig, 'reset', ['802461', '802461'])).code).toBe('card.expired');
    expect(rig.emitted.some((e) => e.type === 'idCard.requested')).toBe(false);
    expect(cardChanging(commands)).toEqual([]);
  });

  it('expiredCard "report": reported expired, served as usual (verify.ok)', async () => {
    const { rig } = await setup({ profile: 'card-expired', config: { role: 'kiosk', expiredCard: 'report' } });
    expect((await run(rig, 'verify', ['123456'])).code).toBe('verify.ok');
    expect(rig.emitted.find((e) => e.type === 'card.identified')).toMatchObject({ expired: true });
  });

  it('a card within its validity is not expired (card-2.0, 2031-05-19)', async () => {
    const { rig } = await setup({ profile: 'card-2.0', config: { role: 'kiosk' } });
    expect((await run(rig, 'verify', ['123456'])).code).toBe('verify.ok');
    expect(rig.emitted.find((e) => e.type === 'card.identified')).toMatchObject({ expiryDate: '2031-05-19', expired: false });
  });
});
