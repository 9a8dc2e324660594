import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../core/errors.js';
import { ACTIVATION_ITEM, BEGIN, CARD, OTHER, T0, expectCode, journalHarness } from '../../testing/journal.js';
import type { Journal } from './journal.js';
import type { BeginInput } from './types.js';

const h = journalHarness();
const open = h.open;

describe('Journal: bank-account activation requests (financial window)', () => {
  const ACTIVATE: BeginInput = { serviceItem: ACTIVATION_ITEM, kind: 'activate', role: 'financial-counter', operatorId: 'op-7', card: CARD, materials: ['socialSecurityCard', 'residentIdCard'] };
  const activated = (j: Journal, o: Partial<BeginInput> = {}, outcome: 'ok' | 'failed' = 'ok'): string => {
    const id = j.beginOperation({ ...ACTIVATE, ...o });
    j.completeOperation(id, { outcome });
    return id;
  };

  it('records a pending request for a successful activation, the card stored as operations store it', () => {
    const j = open();
    const op = activated(j);
    h.t += 10;
    const id = j.recordBankRequest({ operationId: op, card: CARD, operatorId: 'op-7' });
    expect(j.getBankRequest(id)).toMatchObject({
      id,
      operationId: op,
      terminalId: 'T-0001',
      operatorId: 'op-7',
      status: 'pending',
      createdAt: h.t,
      sentAt: null,
      cardHash: j.cardHash(CARD),
      card: { cardId: j.get(op).card!.cardId, name: j.get(op).card!.name },
    });
    expect(j.revealBankRequest(id)).toEqual(CARD);
    expect(j.bankRequests({ status: 'pending' }).map((r) => r.id)).toEqual([id]);
    expect(j.stats().bankRequests).toEqual({ pending: 1, sent: 0 });
    // Not in clear in the file.
    j.close();
    const files = ['journal.sqlite', 'journal.sqlite-wal'].map((f) => path.join(h.dir, f)).filter((f) => existsSync(f));
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const clear of [CARD.cardNumber!, CARD.socialSecurityNumber!, CARD.name!]) expect(bytes.includes(Buffer.from(clear)), f).toBe(false);
    }
  });

  it('is refused for anything but a completed ok activation at a financial window of the same card, and only once', () => {
    const j = open();
    expectCode(() => j.recordBankRequest({ operationId: '0190f3a0-0000-7000-8000-000000000000', card: CARD }), ErrorCode.Journal_NotFound);
    const cases = [
      activated(j, { role: 'counter' }),
      activated(j, {}, 'failed'),
      (() => {
        const id = j.beginOperation({ ...BEGIN, role: 'financial-counter' });
        j.completeOperation(id, { outcome: 'ok' });
        return id;
      })(),
      j.beginOperation(ACTIVATE),
    ];
    for (const op of cases) expectCode(() => j.recordBankRequest({ operationId: op, card: CARD }), ErrorCode.Journal_BadTransition);
    const op = activated(j);
    expectCode(() => j.recordBankRequest({ operationId: op, card: OTHER }), ErrorCode.Journal_BadTransition);
    j.recordBankRequest({ operationId: op, card: CARD });
    expectCode(() => j.recordBankRequest({ operationId: op, card: CARD }), ErrorCode.Journal_BadTransition);
    expectCode(() => j.recordBankRequest({ operationId: op, card: CARD, pin: '123456' } as never), ErrorCode.Journal_InvalidRecord);
    expect(j.bankRequests()).toHaveLength(1);
    j.close();
  });

  it('sent once; sent requests are purged with the retention, pending ones never; a purged activation leaves the link null', () => {
    const j = open();
    const a = activated(j);
    const b = activated(j);
    const ra = j.recordBankRequest({ operationId: a, card: CARD });
    const rb = j.recordBankRequest({ operationId: b, card: CARD });
    expect(j.markBankRequestSent(ra)).toBe(true);
    expect(j.markBankRequestSent(ra)).toBe(false);
    expect(j.getBankRequest(ra)).toMatchObject({ status: 'sent', sentAt: h.t });
    expect(j.stats().bankRequests).toEqual({ pending: 1, sent: 1 });
    j.markSynced([a, b]);
    h.t += 91 * 24 * 3600 * 1000;
    expect(j.purge()).toBe(2);
    expectCode(() => j.getBankRequest(ra), ErrorCode.Journal_NotFound);
    expect(j.getBankRequest(rb)).toMatchObject({ status: 'pending', operationId: null });
    expect(j.revealBankRequest(rb)).toEqual(CARD);
    j.close();
  });
});

describe('Journal: bank requests on their way to the platform (docs/sync-protocol.md "Push bank requests")', () => {
  // Seed 000 (docs/service-items/000_1700379f35991b5f.txt) lines 64–66: 金融窗口可以办理银行账户激活 — the
  // request recorded at the financial window goes to the bank by the provincial platform.
  const ACTIVATE: BeginInput = { serviceItem: ACTIVATION_ITEM, kind: 'activate', role: 'financial-counter', operatorId: 'op-7', card: CARD, materials: ['socialSecurityCard', 'residentIdCard'] };
  const requested = (j: Journal, card = CARD): string => {
    const op = j.beginOperation({ ...ACTIVATE, card });
    j.completeOperation(op, { outcome: 'ok' });
    return j.recordBankRequest({ operationId: op, card, operatorId: 'op-7' });
  };

  it('pages pending requests oldest first with the identity in full; only an acknowledgement (markBankRequestSent) makes one sent', () => {
    const j = open();
    const a = requested(j);
    h.t += 1000;
    const b = requested(j, OTHER);
    expect(j.bankBacklog()).toEqual({ count: 2, oldestCreatedAt: T0 });
    expect(j.stats().oldestPendingBankRequestAt).toBe(T0);
    const page = j.pendingBankRequests(0, 10);
    expect(page.map((p) => p.row.id)).toEqual([a, b]);
    expect(page.map((p) => p.identity)).toEqual([CARD, OTHER]);
    expect(j.pendingBankRequests(page[0]!.row.seq, 10).map((p) => p.row.id)).toEqual([b]);
    expect(j.pendingBankRequests(0, 1).map((p) => p.row.id)).toEqual([a]);
    // Paging (reading for a send) changes nothing: still pending until acknowledged.
    expect(j.stats().bankRequests).toEqual({ pending: 2, sent: 0 });
    h.t += 500;
    expect(j.markBankRequestSent(a)).toBe(true);
    expect(j.getBankRequest(a)).toMatchObject({ status: 'sent', sentAt: T0 + 1500 });
    expect(j.pendingBankRequests(0, 10).map((p) => p.row.id)).toEqual([b]);
    expect(j.bankBacklog()).toEqual({ count: 1, oldestCreatedAt: T0 + 1000 });
    j.close();
  });

  it('an acknowledgement repeated (a resend the platform held already) changes nothing: sent once, its time kept', () => {
    const j = open();
    const a = requested(j);
    expect(j.markBankRequestSent(a)).toBe(true);
    const first = j.getBankRequest(a);
    h.t += 60_000;
    expect(j.markBankRequestSent(a)).toBe(false);
    expect(j.getBankRequest(a)).toEqual(first);
    expect(j.stats().bankRequests).toEqual({ pending: 0, sent: 1 });
    expect(j.bankBacklog()).toEqual({ count: 0, oldestCreatedAt: null });
    expect(j.pendingBankRequests(0, 10)).toEqual([]);
    expectCode(() => j.markBankRequestSent('0190f3a0-0000-7000-8000-000000000000'), ErrorCode.Journal_NotFound);
    j.close();
  });

  it('a pending request survives a restart (durable once recorded) and is still sent after it', () => {
    let j = open();
    const a = requested(j);
    j.close();
    j = open();
    expect(j.pendingBankRequests(0, 10).map((p) => [p.row.id, p.identity])).toEqual([[a, CARD]]);
    expect(j.markBankRequestSent(a)).toBe(true);
    j.close();
  });

  it('names the request state of each activation that has one', () => {
    const j = open();
    const a = requested(j);
    const op = j.getBankRequest(a).operationId!;
    const plain = j.beginOperation(BEGIN);
    expect([...j.bankRequestStatusOf([op, plain])]).toEqual([[op, 'pending']]);
    j.markBankRequestSent(a);
    expect(j.bankRequestStatusOf([op]).get(op)).toBe('sent');
    j.close();
  });

  it('a read-only journal cannot mark a request sent, nor one without its key page it', () => {
    const j = open();
    const a = requested(j);
    j.close();
    const ro = open({ readOnly: true, keyFile: undefined });
    expectCode(() => ro.markBankRequestSent(a), ErrorCode.Internal);
    expectCode(() => ro.pendingBankRequests(0, 10), ErrorCode.Journal_KeyFile);
    ro.close();
  });
});
