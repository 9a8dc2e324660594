/**
 * The status report's sync part (the hotlist's signature check, the heartbeat) and its
 * bank-account activation requests (status.ts; docs/api.md `GET /status`,
 * Common.Status' `sscard` part): a financial window's requests (seed 000,
 * docs/service-items/000_1700379f35991b5f.txt lines 60–66) counted pending and sent, with the
 * age of the oldest pending one — what a technician needs to see that the bank is waiting.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { statusPayload } from '../api/status-payload.js';
import { PcscService } from '../../drivers/pcsc/pcsc-service.js';
import { FakePcsc } from '../../testing/fake-pcsc-addon.js';
import { ACTIVATION_ITEM, CARD, OTHER, T0, journalHarness } from '../../testing/journal.js';
import type { CardIdentity } from '../journal/identity.js';
import type { Journal } from '../journal/journal.js';
import { readSyncStatus } from '../sync/status.js';
import type { SyncStatus } from '../sync/status.js';
import { Terminal } from './terminal.js';

const h = journalHarness();
let pcsc: PcscService;
let terminal: Terminal | undefined;

beforeEach(async () => {
  const fake = new FakePcsc();
  fake.readerNames = ['Fake Card Reader 00'];
  pcsc = new PcscService({ addon: fake.factory });
  pcsc.start();
  await pcsc.ready(2000);
});

afterEach(async () => {
  await terminal?.stop(1000);
  terminal = undefined;
  await pcsc.stop();
});

function start(journal: Journal | undefined, sync?: { status(): SyncStatus }): Terminal {
  terminal = new Terminal({
    ...(sync === undefined ? {} : { sync }),
    terminalId: 'T-0001',
    deviceId: 'D-UNIT',
    role: 'financial-counter',
    version: '0.0.0-test',
    simulated: true,
    pcsc,
    ...(journal === undefined ? {} : { journal }),
    now: () => h.t,
    session: { inactivityMs: 60_000, pinEntryMs: 30_000 },
  });
  terminal.start();
  return terminal;
}

function bankRequest(j: Journal, card: CardIdentity): string {
  const op = j.beginOperation({ serviceItem: ACTIVATION_ITEM, kind: 'activate', role: 'financial-counter', operatorId: 'op-7', card, materials: ['socialSecurityCard', 'residentIdCard'] });
  j.completeOperation(op, { outcome: 'ok' });
  return j.recordBankRequest({ operationId: op, card, operatorId: 'op-7' });
}

describe('status report: bank-account activation requests (seed 000_1700379f35991b5f.txt lines 64–66)', () => {
  it('none yet: zero counts and no age', async () => {
    const t = start(h.open());
    await t.settled();
    expect(t.status().bankRequests).toEqual({ pending: 0, sent: 0, oldestPendingAt: null, oldestPendingAgeMs: null });
  });

  it('counts pending and sent and gives the oldest pending one’s age, in /status and in Common.Status’ sscard part', async () => {
    const j = h.open();
    const t = start(j);
    await t.settled();
    const first = bankRequest(j, CARD);
    h.t += 60_000;
    bankRequest(j, OTHER);
    h.t += 5_000;
    expect(t.status().bankRequests).toEqual({ pending: 2, sent: 0, oldestPendingAt: T0, oldestPendingAgeMs: 65_000 });
    // The platform acknowledged the oldest: the age is now the next one's.
    j.markBankRequestSent(first);
    h.t += 1_000;
    expect(t.status().bankRequests).toEqual({ pending: 1, sent: 1, oldestPendingAt: T0 + 60_000, oldestPendingAgeMs: 6_000 });
    expect(statusPayload(t.status())['sscard']).toMatchObject({ bankRequests: { pending: 1, sent: 1, oldestPendingAgeMs: 6_000 } });
    // Counts and times only: nothing of the holder.
    const text = JSON.stringify(t.status());
    for (const s of [CARD.name!, CARD.cardNumber!, CARD.socialSecurityNumber!, OTHER.name!, OTHER.cardNumber!]) expect(text).not.toContain(s);
  });

  it('no journal: zero counts (the journal’s own problem is reported by health)', async () => {
    const t = start(undefined);
    await t.settled();
    expect(t.status().bankRequests).toEqual({ pending: 0, sent: 0, oldestPendingAt: null, oldestPendingAgeMs: null });
    expect(t.health().reasons.map((r) => r.component)).toContain('journal');
  });
});

describe('status report: the sync worker\'s hotlist check and heartbeat (docs/sync-protocol.md)', () => {
  it('a refused hotlist, the clock offset and the last heartbeat are in /status and Common.Status', async () => {
    const j = h.open();
    const check = { state: 'refused' as const, offered: '9', inForce: '8', at: T0 };
    const t = start(j, { status: () => ({ ...readSyncStatus(j), hotlistCheck: check, clockOffsetMs: -42, lastHeartbeatAt: T0 }) });
    await t.settled();
    expect(t.status().sync).toMatchObject({ enabled: true, hotlistCheck: check, clockOffsetMs: -42, lastHeartbeatAt: T0 });
    expect(statusPayload(t.status())).toMatchObject({ sscard: { sync: { hotlistCheck: check } } });
  });

  it('no sync configured: nothing to say', async () => {
    const t = start(h.open());
    await t.settled();
    expect(t.status().sync).toMatchObject({ enabled: false, hotlistCheck: null, clockOffsetMs: null, lastHeartbeatAt: null });
  });
});
