/**
 * The card services against the REAL journal when things go wrong around the card: the session
 * machine wired by daemon/flows over an in-process SimTransport + VirtualSsCard + VirtualPsam,
 * with a better-sqlite3 Journal in a temp directory (test/helpers/services-journal-rig.ts). No
 * pcscd, no vpcd.
 *
 * - card removal right after a state-changing APDU leaves outcome `unknown`; a daemon that dies
 *   there leaves a `pending` row, which a restart marks `interrupted`, and the card's next
 *   identification reconciles it from the re-read card state before anything else;
 * - a flow that ends `unknown` because the card was pulled mid-command is reconciled from the
 *   re-read state when the same card comes back, like an interrupted one;
 * - a financial window's activation records its bank request in the journal; a PIN pad that
 *   cannot set a PIN is refused (and journaled) at routing; a new PIN taken from the card's phone
 *   is refused;
 * - no test PIN is in the journal's files.
 *
 * The write-ahead itself, refusals and CANCEL during PIN entry: services-journal.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from 'xstate';
import { shippedCatalog } from '../daemon/flows/catalog.js';
import type { OperationRow } from '../daemon/journal/types.js';
import { serviceItemFor } from '../state/catalog.js';
import type { ServiceKind } from '../state/roles.js';
import type { SessionConfig } from '../state/session.js';
import { expectNoPinInFiles, expectNoPinInRows, rowsOf, run, session, setup, stateChanging } from './helpers/services-journal-rig.js';

describe('card removal and restart', () => {
  it('removal right after the state-changing APDU: completed with outcome unknown', async () => {
    let fired = false;
    const env = await setup({
      profile: 'card-2.0',
      config: { role: 'kiosk' },
      hook: (e, x) => {
        if (fired || e.phase !== 'after' || !stateChanging(Buffer.from(e.command))) return;
        fired = true;
        x.transport.remove();
        queueMicrotask(() => x.s.actor.send({ type: 'CARD_REMOVED' }));
      },
    });
    env.s.actor.send({ type: 'CARD_INSERTED' });
    await env.s.settle('identified');
    env.s.pins.push('123456');
    env.s.actor.send({ type: 'SELECT_SERVICE', kind: 'verify' });
    await env.s.settle('idle');
    expect(fired).toBe(true);
    const result = env.s.emitted.filter((e) => e.type === 'result').at(-1) as { result: { outcome: string } };
    expect(result.result.outcome).toBe('unknown');
    const rows = rowsOf(env.journal);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ state: 'completed', outcome: 'unknown', kind: 'verify' });
    expect(env.atFirstChange[0]!.map((r) => r.state)).toEqual(['pending']);
  });

  const cases: readonly { name: string; profile: string; kind: ServiceKind; config: SessionConfig; pins: string[]; outcome: string; state: string }[] = [
    { name: 'verify', profile: 'card-2.0', kind: 'verify', config: { role: 'kiosk' }, pins: ['975310'], outcome: 'unknown', state: 'active' },
    { name: 'unblock', profile: 'card-locked', kind: 'unblock', config: { role: 'counter' }, pins: ['802461', '802461'], outcome: 'ok', state: 'active' },
    { name: 'activate', profile: 'card-not-activated', kind: 'activate', config: { role: 'counter' }, pins: ['802461', '802461'], outcome: 'ok', state: 'active' },
  ];
  it.each(cases)('$name: the daemon dies after the APDU; restart marks it interrupted; the next identification reconciles it first', async (c) => {
    let fired = false;
    const env = await setup({
      profile: c.profile,
      config: c.config,
      operatorId: 'op-1',
      idCard: 'holder',
      hook: (e, x) => {
        if (fired || e.phase !== 'after' || !stateChanging(Buffer.from(e.command))) return;
        fired = true;
        // The card is pulled and the daemon dies with the command's answer in the air.
        x.transport.remove();
        x.s.actor.stop();
      },
    });
    env.s.actor.send({ type: 'CARD_INSERTED' });
    await env.s.settle('identified');
    env.s.pins.push(...c.pins);
    env.s.actor.send({ type: 'SELECT_SERVICE', kind: c.kind });
    await waitFor(env.s.actor, () => fired, { timeout: 10_000 }).catch(() => undefined);
    expect(fired).toBe(true);
    const before = rowsOf(env.journal);
    expect(before).toHaveLength(1);
    expect(before[0]).toMatchObject({ state: 'pending', kind: c.kind });
    const interruptedId = before[0]!.id;
    env.journal.close();

    // Restart: reopen, pending → interrupted.
    const journal = env.open();
    expect(journal.markInterrupted()).toEqual([interruptedId]);
    expect(journal.get(interruptedId)).toMatchObject({ state: 'interrupted', outcome: 'unknown' });
    expect(journal.findUnreconciled(env.profile.issuer.cardId).map((r) => r.id)).toEqual([interruptedId]);

    // The card comes back to a new session.
    env.transport.insert();
    const atIdentified: OperationRow[][] = [];
    const s = await session({
      transport: env.transport,
      psam: env.psam,
      journal,
      config: c.config,
      operatorId: 'op-1',
      idNumber: env.profile.holder.socialSecurityNumber,
      onEmit: (e) => {
        if (e.type === 'card.identified') atIdentified.push(rowsOf(journal));
      },
    });
    const commandsBefore = env.commands.length;
    s.actor.send({ type: 'CARD_INSERTED' });
    await s.settle('identified');
    expect(env.commands.slice(commandsBefore).some(stateChanging)).toBe(false);
    // Already reconciled when the session announces the card (before any service can start).
    expect(atIdentified).toHaveLength(1);
    const rec = atIdentified[0]!.find((r) => r.reconciles === interruptedId);
    expect(rec).toBeDefined();
    expect(rec).toMatchObject({ state: 'completed', kind: c.kind, outcome: c.outcome, triesLeft: env.vcard.pinTriesLeft, cardState: c.state });
    expect(rec!.cardHash).toBe(journal.cardHash(env.profile.issuer.cardId));
    expect(journal.findUnreconciled(env.profile.issuer.cardId)).toEqual([]);
    expect(s.actor.getSnapshot().context.triesLeft).toBe(env.vcard.pinTriesLeft);

    // Seen once more: nothing left to reconcile, no second reconciliation row.
    s.actor.send({ type: 'CARD_REMOVED' });
    await s.settle('idle');
    s.actor.send({ type: 'CARD_INSERTED' });
    await s.settle('identified');
    expect(rowsOf(journal).filter((r) => r.reconciles === interruptedId)).toHaveLength(1);
    expectNoPinInRows(journal);
    expectNoPinInFiles(env.dir);
  });
});

describe('the card’s phone, the bank request, a pad that cannot set a PIN', () => {
  it('change to a PIN taken from the card’s phone: VERIFY opened the phone, CHANGE PIN never sent; journaled failed pin-policy', async () => {
    const env = await setup({ profile: 'card-2.0', config: { role: 'kiosk' } });
    expect(env.profile.phone).toContain('130000');
    const result = await run(env, 'change', ['123456', '130000', '130000']);
    expect(result).toMatchObject({ code: 'pin.policy', outcome: 'failed', violations: ['PIN_PHONE'] });
    // The VERIFY was the first state-changing APDU, with the pending row already written.
    expect(env.atFirstChange).toHaveLength(1);
    expect(env.atFirstChange[0]!.map((r) => r.state)).toEqual(['pending']);
    expect(env.commands.filter(stateChanging).map((c) => c[1])).toEqual([0x20]);
    const rows = rowsOf(env.journal);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kind: 'change', state: 'completed', outcome: 'failed', reason: 'pin-policy', lastSw: 0x9000, triesLeft: 6 });
    expect(env.vcard.toProfile().pin.toString()).toBe('123456');
    expectNoPinInRows(env.journal);
    expectNoPinInFiles(env.dir);
  });

  it('activate at a financial counter: the bank request is a journal row of its own, pending, linked to the activation', async () => {
    const env = await setup({ profile: 'card-not-activated', config: { role: 'financial-counter' }, operatorId: 'op-9', idCard: 'holder' });
    const result = await run(env, 'activate', ['802461', '802461']);
    expect(result).toMatchObject({ code: 'activate.ok', bank: { attempted: true, recorded: true } });
    const [op] = rowsOf(env.journal);
    expect(op).toMatchObject({ kind: 'activate', role: 'financial-counter', outcome: 'ok' });
    const requests = env.journal.bankRequests();
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ operationId: op!.id, operatorId: 'op-9', status: 'pending', cardHash: env.journal.cardHash(env.profile.issuer.cardId) });
    expect(env.journal.revealBankRequest(requests[0]!.id)).toMatchObject({ cardId: env.profile.issuer.cardId.toUpperCase(), socialSecurityNumber: env.profile.holder.socialSecurityNumber });
    expect(env.journal.stats().bankRequests).toEqual({ pending: 1, sent: 0 });
    expectNoPinInFiles(env.dir);
  });

  it('activate at a plain counter: no bank request', async () => {
    const env = await setup({ profile: 'card-not-activated', config: { role: 'counter' }, operatorId: 'op-9', idCard: 'holder' });
    expect((await run(env, 'activate', ['802461', '802461'])).bank).toMatchObject({ attempted: false });
    expect(env.journal.bankRequests()).toEqual([]);
  });

  it('reset with a PIN pad that cannot hand out a new PIN: refused at routing, journaled, no PIN asked, nothing sent', async () => {
    const env = await setup({ profile: 'card-2.0', config: { role: 'counter', pinEntry: { plain: false } }, operatorId: 'op-1', idCard: 'holder' });
    const result = await run(env, 'reset', ['802461', '802461']);
    expect(result).toMatchObject({ code: 'pinPad.unsupported', outcome: 'refused' });
    expect(env.s.emitted.some((e) => e.type === 'pin.entryStarted')).toBe(false);
    const rows = rowsOf(env.journal);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kind: 'reset', state: 'completed', outcome: 'refused', reason: 'pin-pad-unsupported', role: 'counter' });
    expect(env.commands.some(stateChanging)).toBe(false);
  });
});

describe('a flow that ended unknown is reconciled when the same card comes back', () => {
  const cases: readonly { name: string; profile: string; kind: ServiceKind; config: SessionConfig; pins: string[]; outcome: string; reason: string; state: string }[] = [
    { name: 'verify', profile: 'card-2.0', kind: 'verify', config: { role: 'kiosk' }, pins: ['975310'], outcome: 'unknown', reason: 'card-state-reread', state: 'active' },
    { name: 'unblock', profile: 'card-locked', kind: 'unblock', config: { role: 'counter' }, pins: ['802461', '802461'], outcome: 'ok', reason: 'card-shows-done', state: 'active' },
  ];
  it.each(cases)('$name: pulled right after the state-changing APDU, reinserted into the same session', async (c) => {
    let fired = false;
    const env = await setup({
      profile: c.profile,
      config: c.config,
      operatorId: 'op-1',
      idCard: 'holder',
      hook: (e, x) => {
        if (fired || e.phase !== 'after' || !stateChanging(Buffer.from(e.command))) return;
        fired = true;
        x.transport.remove();
        queueMicrotask(() => x.s.actor.send({ type: 'CARD_REMOVED' }));
      },
    });
    env.s.actor.send({ type: 'CARD_INSERTED' });
    await env.s.settle('identified');
    env.s.pins.push(...c.pins);
    env.s.actor.send({ type: 'SELECT_SERVICE', kind: c.kind });
    await env.s.settle('idle');
    expect(fired).toBe(true);
    const [unknown] = rowsOf(env.journal);
    expect(unknown).toMatchObject({ state: 'completed', outcome: 'unknown', kind: c.kind });
    expect(env.journal.findUnreconciled(env.profile.issuer.cardId).map((r) => r.id)).toEqual([unknown!.id]);
    expect(env.journal.stats().unknownUnreconciled).toBe(1);

    const atIdentified: OperationRow[][] = [];
    env.s.actor.on('card.identified', () => atIdentified.push(rowsOf(env.journal)));
    const commandsBefore = env.commands.length;
    env.transport.insert();
    env.s.actor.send({ type: 'CARD_INSERTED' });
    await env.s.settle('identified');
    expect(env.commands.slice(commandsBefore).some(stateChanging)).toBe(false);
    // Reconciled before the card is announced, from the state just re-read.
    expect(atIdentified).toHaveLength(1);
    const rec = atIdentified[0]!.find((r) => r.reconciles === unknown!.id);
    expect(rec).toMatchObject({ state: 'completed', kind: c.kind, outcome: c.outcome, reason: c.reason, triesLeft: env.vcard.pinTriesLeft, cardState: c.state });
    expect(env.journal.findUnreconciled(env.profile.issuer.cardId)).toEqual([]);
    expect(env.journal.stats().unknownUnreconciled).toBe(0);

    // Seen again: nothing left to reconcile (not even the reconciliation, unknown as it may be).
    env.s.actor.send({ type: 'CARD_REMOVED' });
    await env.s.settle('idle');
    env.s.actor.send({ type: 'CARD_INSERTED' });
    await env.s.settle('identified');
    expect(rowsOf(env.journal)).toHaveLength(2);
    expectNoPinInRows(env.journal);
  });

  it.each([
    ['alone: the active card shows it done', false, { outcome: 'ok', reason: 'card-shows-done' }],
    ['followed by another operation on the card: the state shows that one, so unknown', true, { outcome: 'unknown', reason: 'later-operation-on-card' }],
  ] as const)('an unknown unblock %s', async (_name, later, expected) => {
    const env = await setup({ profile: 'card-2.0', config: { role: 'counter' } });
    const card = { cardId: env.profile.issuer.cardId };
    const serviceItem = serviceItemFor(shippedCatalog(), 'unblock').itemCode;
    const unknown = env.journal.beginOperation({ serviceItem, kind: 'unblock', role: 'counter', operatorId: 'op-1', card });
    env.journal.completeOperation(unknown, { outcome: 'unknown', reason: 'card-removed-in-flight' });
    if (later) {
      const v = env.journal.beginOperation({ serviceItem, kind: 'verify', role: 'counter', card });
      env.journal.completeOperation(v, { outcome: 'failed', lastSw: 0x63c5, triesLeft: 5 });
    }
    env.s.actor.send({ type: 'CARD_INSERTED' });
    await env.s.settle('identified');
    const rec = rowsOf(env.journal).find((r) => r.reconciles === unknown);
    expect(rec).toMatchObject({ ...expected, kind: 'unblock', cardState: 'active', triesLeft: 6 });
    expect(env.journal.findUnreconciled(card.cardId)).toEqual([]);
  });

});
