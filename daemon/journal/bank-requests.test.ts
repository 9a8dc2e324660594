import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../core/errors.js';
import { ACTIVATION_ITEM, BEGIN, CARD, OTHER, expectCode, journalHarness } from '../../testing/journal.js';
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
