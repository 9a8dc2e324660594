/**
 * The card services against the REAL journal, as they work on a card that stays in: the session
 * machine wired by daemon/flows over an in-process SimTransport + VirtualSsCard + VirtualPsam,
 * with a better-sqlite3 Journal in a temp directory (test/helpers/services-journal-rig.ts). No
 * pcscd, no vpcd.
 *
 * - every card-changing flow writes its `pending` row before its first state-changing APDU (read
 *   from the journal inside SimTransport's onCommand hook, at the moment that APDU arrives) and
 *   completes it with the outcome, last SW and tries left the card shows;
 * - each row carries its kind's service item code from the catalog;
 * - refusals (materials missing, role not allowed, tries-left floor, hotlisted card) are journaled
 *   as refusals and send no state-changing APDU;
 * - CANCEL during PIN entry leaves no pending row and sends nothing that changes the card;
 * - no test PIN is in the journal's files.
 *
 * What happens when the card is pulled or the daemon dies mid-command, and the card's phone, the
 * bank request and a pad that cannot set a PIN: services-journal-recovery.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from 'xstate';
import { shippedCatalog } from '../daemon/flows/catalog.js';
import { hasServiceItem, serviceItemFor } from '../state/catalog.js';
import { PIN_CHECK_SERVICE_ITEM } from '../daemon/sync/wire.js';
import type { ServiceKind } from '../state/roles.js';
import type { SessionConfig } from '../state/session.js';
import { FLOWS, expectNoPinInFiles, expectNoPinInRows, rowsOf, run, setup, stateChanging } from './helpers/services-journal-rig.js';

describe('write-ahead: pending before the first state-changing APDU, completed after', () => {
  it.each(FLOWS)('$name', async (flow) => {
    const env = await setup({
      profile: flow.profile,
      config: flow.config,
      ...(flow.operatorId === undefined ? {} : { operatorId: flow.operatorId }),
      ...(flow.idCard === undefined ? {} : { idCard: flow.idCard }),
    });
    const result = await run(env, flow.kind, flow.pins);
    expect(result.outcome, `${result.code}: ${result.en}`).toBe('ok');

    // At the first state-changing APDU: exactly one row, pending, this flow's, this card's.
    expect(env.atFirstChange.length).toBeGreaterThan(0);
    const seen = env.atFirstChange[0]!;
    expect(seen).toHaveLength(1);
    const pending = seen[0]!;
    expect(pending).toMatchObject({ state: 'pending', kind: flow.kind, outcome: null, terminalId: 'kiosk-01', operatorId: flow.operatorId ?? null });
    expect(pending.cardHash).toBe(env.journal.cardHash(env.profile.issuer.cardId));
    expect([...pending.materials].sort()).toEqual([...flow.materials].sort());
    // The 业务办理项编码 reported upstream is the catalog's for this kind; a plain PIN check has none
    // (seed 001 line 7 事项名称 社会保障卡密码修改与重置: change and reset), it carries the marker.
    expect(pending.serviceItem).toBe(hasServiceItem(flow.kind) ? serviceItemFor(shippedCatalog(), flow.kind).itemCode : PIN_CHECK_SERVICE_ITEM);

    // Afterwards: the same row, completed with what the card says.
    const rows = rowsOf(env.journal);
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row.id).toBe(pending.id);
    // The result names its row: the holder's receipt and a clerk's lookup use it.
    expect(result.operationId).toBe(row.id);
    expect(row).toMatchObject({ state: 'completed', outcome: 'ok', lastSw: 0x9000, triesLeft: env.vcard.pinTriesLeft, cardState: 'active' });
    expect(env.vcard.pinTriesLeft).toBe(env.profile.pinTryLimit);
    expect(row.finishedAt).not.toBeNull();
    expect(env.journal.reveal(row.id)).toMatchObject({ cardId: env.profile.issuer.cardId.toUpperCase() });
    expectNoPinInRows(env.journal);
    expectNoPinInFiles(env.dir);
  });

  it('a wrong PIN is completed as failed with 63Cx and the tries left', async () => {
    const env = await setup({ profile: 'card-2.0', config: { role: 'kiosk' } });
    const result = await run(env, 'verify', ['975310']);
    expect(result).toMatchObject({ code: 'verify.wrongPin', outcome: 'failed', triesLeft: 5 });
    const [row] = rowsOf(env.journal);
    expect(result.operationId).toBe(row!.id);
    expect(env.atFirstChange[0]!.map((r) => r.state)).toEqual(['pending']);
    expect(row).toMatchObject({ state: 'completed', outcome: 'failed', lastSw: 0x63c5, triesLeft: 5, cardState: 'active' });
    expect(env.vcard.pinTriesLeft).toBe(5);
    expectNoPinInFiles(env.dir);
  });

  it('the last try locks the card: failed with 63C0, tries 0, pinBlocked', async () => {
    const env = await setup({ profile: 'card-2.0', change: { pinTriesLeft: 2 }, config: { role: 'counter' } });
    const result = await run(env, 'verify', ['975310']);
    expect(result.outcome).toBe('failed');
    const first = rowsOf(env.journal)[0]!;
    expect(first).toMatchObject({ outcome: 'failed', triesLeft: 1 });
    env.s.pins.push('975310');
    env.s.actor.send({ type: 'SELECT_SERVICE', kind: 'verify' });
    const end = await env.s.settle('done');
    expect(end.context.result).toMatchObject({ code: 'verify.locked', triesLeft: 0 });
    const rows = rowsOf(env.journal);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ state: 'completed', outcome: 'failed', lastSw: 0x63c0, triesLeft: 0, cardState: 'pinBlocked' });
    expect(env.vcard.pinTriesLeft).toBe(0);
  });
});

describe('refusals are journaled as refusals, and nothing changes the card', () => {
  it('materials missing (reset without the ID card): refused, every missing material listed', async () => {
    const env = await setup({ profile: 'card-2.0', config: { role: 'counter' }, operatorId: 'op-1' });
    const result = await run(env, 'reset', ['802461', '802461']);
    expect(result).toMatchObject({ code: 'materials.missing', outcome: 'refused' });
    const rows = rowsOf(env.journal);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ state: 'completed', outcome: 'refused', reason: 'materials-missing', kind: 'reset', operatorId: 'op-1', missing: ['residentIdCard'] });
    expect(rows[0]!.cardHash).toBe(env.journal.cardHash(env.profile.issuer.cardId));
    expect(env.commands.some(stateChanging)).toBe(false);
    expect(env.vcard.pinTriesLeft).toBe(6);
  });

  it('role not allowed (unblock at a kiosk): refused', async () => {
    const env = await setup({ profile: 'card-locked', config: { role: 'kiosk' }, idCard: 'holder' });
    const result = await run(env, 'unblock', ['802461', '802461']);
    expect(result).toMatchObject({ code: 'role.notAllowed', outcome: 'refused' });
    const rows = rowsOf(env.journal);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ state: 'completed', outcome: 'refused', reason: 'role-not-allowed', kind: 'unblock', role: 'kiosk' });
    expect(env.commands.some(stateChanging)).toBe(false);
    expect(env.vcard.pinTriesLeft).toBe(0);
  });

  it('tries-left floor at a kiosk: refused with the tries left, no try spent', async () => {
    const env = await setup({ profile: 'card-2.0', change: { pinTriesLeft: 1 }, config: { role: 'kiosk' } });
    const result = await run(env, 'verify', ['123456']);
    expect(result).toMatchObject({ code: 'verify.belowFloor', outcome: 'refused', triesLeft: 1 });
    const rows = rowsOf(env.journal);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ state: 'completed', outcome: 'refused', reason: 'verify-below-floor', triesLeft: 1, kind: 'verify' });
    expect(env.commands.some(stateChanging)).toBe(false);
    expect(env.vcard.pinTriesLeft).toBe(1);
  });

  it('a hotlisted card: a clear bilingual refusal, journaled, no state-changing APDU', async () => {
    const env = await setup({ profile: 'card-2.0', config: { role: 'kiosk' } });
    env.journal.applyHotlist({ version: 'v1', full: true, add: [env.profile.issuer.cardId], remove: [] });
    const result = await run(env, 'verify', ['123456']);
    expect(result.outcome).toBe('refused');
    expect(result.zh).toContain('挂失');
    expect(result.en).toMatch(/reported lost|hotlist/);
    expect(result.nextStep.zh.length).toBeGreaterThan(0);
    expect(result.nextStep.en.length).toBeGreaterThan(0);
    const rows = rowsOf(env.journal);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ state: 'completed', outcome: 'refused', reason: 'hotlisted', kind: 'verify' });
    // The refusal's row is the 办件 a receipt names (docs/api.md operationId).
    expect(result.operationId).toBe(rows[0]!.id);
    // Refused before the holder is asked for a PIN.
    expect(env.s.emitted.map((e) => e.type)).not.toContain('pin.entryStarted');
    expect(rows[0]!.cardHash).toBe(env.journal.cardHash(env.profile.issuer.cardId));
    expect(env.commands.some(stateChanging)).toBe(false);
    expect(env.vcard.pinTriesLeft).toBe(6);
  });
});

describe('CANCEL during PIN entry', () => {
  const cases: readonly { name: string; profile: string; kind: ServiceKind; config: SessionConfig; first?: string }[] = [
    { name: 'verify', profile: 'card-2.0', kind: 'verify', config: { role: 'kiosk' } },
    { name: 'activate (second entry)', profile: 'card-not-activated', kind: 'activate', config: { role: 'counter' }, first: '802461' },
  ];
  it.each(cases)('$name: ends cleanly, no state-changing APDU, no pending row', async (c) => {
    const env = await setup({ profile: c.profile, config: c.config, autoType: false, operatorId: 'op-1', idCard: 'holder' });
    env.s.actor.send({ type: 'CARD_INSERTED' });
    await env.s.settle('identified');
    env.s.actor.send({ type: 'SELECT_SERVICE', kind: c.kind });
    await waitFor(env.s.actor, (s) => s.matches({ service: 'pinEntry' }), { timeout: 10_000 });
    if (c.first !== undefined) {
      env.s.type(c.first);
      await waitFor(env.s.actor, (s) => s.context.step === 1 && s.matches({ service: 'pinEntry' }), { timeout: 10_000 });
    }
    env.s.type('123');
    await waitFor(env.s.actor, (s) => s.context.digits === 3, { timeout: 10_000 });
    env.s.actor.send({ type: 'CANCEL' });
    const end = await env.s.settle('done');
    expect(end.context.result).toMatchObject({ code: 'cancelled', outcome: 'cancelled' });
    expect(env.commands.some(stateChanging)).toBe(false);
    const rows = rowsOf(env.journal);
    expect(rows.filter((r) => r.state !== 'completed')).toEqual([]);
    expect(rows.filter((r) => r.outcome === 'refused')).toEqual([]);
    expect(env.journal.stats().byState.pending).toBe(0);
    // The session goes on: the next service on the same card is journaled normally.
    if (c.kind === 'verify') {
      env.s.actor.send({ type: 'SELECT_SERVICE', kind: 'verify' });
      await waitFor(env.s.actor, (s) => s.matches({ service: 'pinEntry' }), { timeout: 10_000 });
      env.s.type('123456');
      const next = await env.s.settle('done');
      expect(next.context.result?.code).toBe('verify.ok');
      expect(rowsOf(env.journal).at(-1)).toMatchObject({ state: 'completed', outcome: 'ok', kind: 'verify' });
    }
    expectNoPinInFiles(env.dir);
  });
});
