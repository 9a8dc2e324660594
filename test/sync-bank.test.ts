/**
 * Bank-account activation requests on their way to the bank (seed 000,
 * docs/service-items/000_1700379f35991b5f.txt lines 60–66: 非金融窗口无法办理银行账户激活；金融窗口可以办理
 * 银行账户激活): a financial window records the request in the journal (`pending`), the sync worker
 * carries it to the provincial platform (docs/sync-protocol.md "Push bank requests") and marks it
 * `sent` only on the platform's acknowledgement. Against the reference platform on loopback (a real
 * HTTP server, no mocks), through outages and lost answers: the platform holds each request once.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CentralServer } from '../platform/server.js';
import { shippedServiceItemCode } from '../daemon/flows/catalog.js';
import type { CardIdentity } from '../daemon/journal/identity.js';
import type { Journal } from '../daemon/journal/journal.js';
import type { SyncWorker } from '../daemon/sync/worker.js';
import type { SyncOptions } from '../daemon/sync/worker.js';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import { Psam } from '../drivers/psam/psam.js';
import { cardFixture, loadCardProfile, psamFixture } from '../drivers/sim/profile.js';
import { SimTransport } from '../drivers/sim/sim-transport.js';
import { VirtualSsCard } from '../drivers/sim/virtual-card.js';
import { VirtualPsam } from '../drivers/sim/virtual-psam.js';
import { findLeaks, needlesFor, pinBlockNeedles } from '../testing/pin-scan.js';
import { createRig } from '../testing/services-rig.js';
import { CARD_30, card, openJournal, quickSyncWorker, tempDir } from './journal/fixtures.js';
import { ROOT } from './helpers/stack.js';

let dir: string;
let journal: Journal;
let central: CentralServer;
/** Every bank-request push body the platform was delivered (before it stored anything). */
let bankPayloads: Buffer[];
let allPayloads: Buffer[];

beforeEach(async () => {
  dir = tempDir('sscard-sync-bank-');
  journal = openJournal(dir);
  bankPayloads = [];
  allPayloads = [];
  central = await CentralServer.start({
    capture: (b) => {
      allPayloads.push(b);
      if ((JSON.parse(b.toString('utf8')) as { bankRequests?: unknown }).bankRequests !== undefined) bankPayloads.push(b);
    },
    seed: 7,
  });
});

afterEach(async () => {
  journal.close();
  await central.close();
  rmSync(dir, { recursive: true, force: true });
});

function worker(extra: Partial<SyncOptions> = {}): SyncWorker {
  return quickSyncWorker(journal, central.url, extra);
}

async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** An activation completed ok at a financial window and its bank request, as the session records them. */
function activatedAtFinancialWindow(c: CardIdentity = CARD_30): { operationId: string; requestId: string } {
  const operationId = journal.beginOperation({ serviceItem: shippedServiceItemCode('activate'), kind: 'activate', role: 'financial-counter', operatorId: 'op-1', card: c, materials: ['socialSecurityCard', 'residentIdCard'] });
  journal.completeOperation(operationId, { outcome: 'ok', lastSw: 0x9000 });
  return { operationId, requestId: journal.recordBankRequest({ operationId, card: c, operatorId: 'op-1' }) };
}

/** How many times the platform *received* each bank request id (every delivery, retries included). */
function bankDeliveries(): Map<string, number> {
  const n = new Map<string, number>();
  for (const b of bankPayloads) for (const r of (JSON.parse(b.toString('utf8')) as { bankRequests: { id: string }[] }).bankRequests) n.set(r.id, (n.get(r.id) ?? 0) + 1);
  return n;
}

describe('bank-account activation requests go to the bank by the platform (seed 000_1700379f35991b5f.txt lines 64–66)', () => {
  it('a pending request arrives once at the platform with the card and holder in full, and is marked sent on its acknowledgement', async () => {
    const { operationId, requestId } = activatedAtFinancialWindow();
    expect(journal.getBankRequest(requestId).status).toBe('pending');
    const w = worker();
    const report = await w.syncNow();
    w.close();
    expect(report.bankRequests).toEqual({ sent: 1, acknowledged: 1, rejected: [], requests: 1, remaining: 0, supported: true });
    expect(bankDeliveries()).toEqual(new Map([[requestId, 1]]));
    expect((await central.bankRequestCopies())).toEqual(new Map([[requestId, 1]]));
    expect(await central.bankRequest(requestId)).toEqual({
      id: requestId,
      operationId,
      terminalId: 'T-TEST',
      operatorId: 'op-1',
      requestedAt: new Date(journal.getBankRequest(requestId).createdAt).toISOString(),
      card: { ...CARD_30, masked: false },
    });
    // The activation itself went first, on v1/operations.
    expect(await central.operation(operationId)).toMatchObject({ kind: 'activate', role: 'financial-window' });
    expect(journal.getBankRequest(requestId)).toMatchObject({ status: 'sent' });
    expect(journal.getBankRequest(requestId).sentAt).not.toBeNull();
    expect(w.status().bankRequests).toEqual({ pending: 0, sent: 1, oldestPendingAt: null });
    // A second run sends nothing again.
    const again = worker();
    expect((await again.syncNow()).bankRequests).toMatchObject({ sent: 0, requests: 0 });
    again.close();
    expect(bankPayloads).toHaveLength(1);
  });

  it('the identity setting of operations (masked, none) does not mask what the bank needs', async () => {
    const { operationId, requestId } = activatedAtFinancialWindow();
    const w = worker({ identity: 'none' });
    await w.syncNow();
    w.close();
    expect(await central.operation(operationId)).toMatchObject({ card: null });
    expect(await central.bankRequest(requestId)).toMatchObject({ card: { ...CARD_30, masked: false } });
  });

  it('survives a platform outage: pending while the platform is down (backing off), sent once after it is back', async () => {
    await central.setFault({ mode: 'down' });
    const { requestId } = activatedAtFinancialWindow();
    const retries: ErrorCode[] = [];
    const w = worker({ onRetry: (r) => retries.push(r.error.code) });
    w.start();
    await until(() => retries.length >= 4, 'four failed attempts');
    expect(retries.every((c) => c === ErrorCode.Sync_Unreachable)).toBe(true);
    expect(journal.getBankRequest(requestId).status).toBe('pending');
    expect(w.status().bankRequests).toMatchObject({ pending: 1, sent: 0 });
    expect(w.status().bankRequests.oldestPendingAt).toBe(journal.getBankRequest(requestId).createdAt);
    // Another one is recorded while the platform is down.
    const second = activatedAtFinancialWindow(card(5)).requestId;
    await central.setFault(null);
    await until(() => journal.bankBacklog().count === 0, 'the bank requests to be sent');
    await w.stop();
    expect(bankDeliveries()).toEqual(new Map([[requestId, 1], [second, 1]]));
    expect((await central.counts())).toMatchObject({ bankRequests: 2, bankRequestsReceived: 2 });
    expect(journal.bankRequests().map((r) => r.status)).toEqual(['sent', 'sent']);
  });

  it.each([
    ['timeout (stored, answered too late)', { mode: 'slow', delayMs: 1500, times: 1, on: 'bank' }],
    ['malformed acknowledgement (stored, answer not JSON)', { mode: 'malformed', times: 2, on: 'bank' }],
    ['connection reset', { mode: 'reset', times: 2, on: 'bank' }],
    ['HTTP 500', { mode: '500', times: 2, on: 'bank' }],
  ] as const)('%s: the request is sent again and the platform records it once; sent only when acknowledged', async (_name, fault) => {
    const ids = [activatedAtFinancialWindow().requestId, activatedAtFinancialWindow(card(9)).requestId];
    await central.setFault(fault);
    const w = worker();
    await expect(w.syncNow()).rejects.toSatisfy((e: unknown) => isSsCardError(e));
    // No acknowledgement came: still pending, whatever the platform did with the body.
    expect(journal.bankRequests().map((r) => r.status)).toEqual(['pending', 'pending']);
    w.start();
    await until(() => journal.bankBacklog().count === 0, 'the bank requests to be sent');
    await w.stop();
    expect(journal.bankRequests().map((r) => r.status)).toEqual(['sent', 'sent']);
    expect(new Set((await central.bankRequestCopies()).keys())).toEqual(new Set(ids));
    expect((await central.counts()).bankRequests).toBe(2);
    const delivered = bankDeliveries();
    expect(new Set(delivered.keys())).toEqual(new Set(ids));
    if (fault.mode === 'slow' || fault.mode === 'malformed') {
      // Delivered (and stored) more than once, held once: the copies are counted on the one row.
      for (const id of ids) expect(delivered.get(id)).toBeGreaterThan(1);
      for (const id of ids) expect((await central.bankRequestCopies()).get(id)).toBe(delivered.get(id));
    }
  });

  it('a partial acknowledgement marks only the acknowledged requests sent; the rest go again', async () => {
    const ids = [1, 2, 3, 4].map((i) => activatedAtFinancialWindow(card(i)).requestId);
    await central.setFault({ mode: 'partial', times: 1, on: 'bank' });
    const w = worker();
    const report = await w.syncNow();
    w.close();
    // The first half acknowledged by the first answer; the other two went again (held already: duplicates).
    expect(report.bankRequests).toMatchObject({ sent: 6, acknowledged: 4, remaining: 0, requests: 2 });
    expect(journal.bankRequests().map((r) => r.status)).toEqual(['sent', 'sent', 'sent', 'sent']);
    const delivered = bankDeliveries();
    expect(ids.map((id) => delivered.get(id))).toEqual([1, 1, 2, 2]);
    const copies = await central.bankRequestCopies();
    expect(ids.map((id) => copies.get(id))).toEqual([1, 1, 2, 2]);
    expect((await central.counts()).bankRequests).toBe(4);
  });

  it('a request the platform refuses stays pending, is not offered again by the worker, and the status says so', async () => {
    const operationId = journal.beginOperation({ serviceItem: shippedServiceItemCode('activate'), kind: 'activate', role: 'financial-counter', card: { cardId: CARD_30.cardId } });
    journal.completeOperation(operationId, { outcome: 'ok' });
    const nameless = journal.recordBankRequest({ operationId, card: { cardId: CARD_30.cardId } });
    const good = activatedAtFinancialWindow(card(3)).requestId;
    const w = worker();
    const report = await w.syncNow();
    expect(report.bankRequests.rejected.map((r) => [r.id, r.code])).toEqual([[nameless, 'invalid']]);
    expect(journal.getBankRequest(nameless).status).toBe('pending');
    expect(journal.getBankRequest(good).status).toBe('sent');
    expect(w.status().lastError).toMatchObject({ code: ErrorCode.Sync_Refused });
    expect(w.status().lastError?.zh).toMatch(/拒收了 1 条银行账户激活申请/);
    expect(w.status().bankRequests).toMatchObject({ pending: 1, sent: 1 });
    await w.syncNow();
    w.close();
    expect(bankDeliveries().get(nameless)).toBe(1);
  });

  it('a platform of an earlier protocol revision (no v1/bank-requests: 404): operations sync, the requests wait and the status says why', async () => {
    // A real HTTP server that knows only v1/operations, as a revision-1 platform does.
    const old = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/operations') {
          const ids = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { operations: { id: string }[] }).operations.map((o) => o.id);
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ batchId: 'b', accepted: ids, duplicates: [], rejected: [] }));
        } else res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no route"}');
      });
    });
    await new Promise<void>((r) => old.listen(0, '127.0.0.1', r));
    try {
      const { operationId, requestId } = activatedAtFinancialWindow();
      const w = worker({ endpoint: `http://127.0.0.1:${(old.address() as AddressInfo).port}/` });
      const report = await w.syncNow();
      w.close();
      expect(report.bankRequests).toMatchObject({ supported: false, remaining: 1 });
      expect(journal.get(operationId).syncState).toBe('synced');
      expect(journal.getBankRequest(requestId).status).toBe('pending');
      expect(w.status().lastError).toMatchObject({ code: ErrorCode.Sync_HttpStatus });
      expect(w.status().lastError?.en).toMatch(/does not take bank-account activation requests/);
    } finally {
      old.closeAllConnections();
      await new Promise((r) => old.close(r));
    }
  });
});

describe('a real activation at a financial window, to the platform', () => {
  it('the session records the request, the sync carries it, no payload holds the PIN or a PIN block', async () => {
    const profile = await loadCardProfile(cardFixture('card-not-activated'));
    const vcard = new VirtualSsCard(profile);
    const psam = new Psam(new SimTransport(await VirtualPsam.fromFile(psamFixture('psam-test'))));
    await psam.open();
    const transport = new SimTransport(vcard);
    const rig = await createRig({
      transport: () => transport,
      psam,
      config: { role: 'financial-counter' },
      journal,
      operatorId: 'op-1',
      idNumber: profile.holder.socialSecurityNumber,
      // Where the daemon records it (daemon/flows/session-actors.ts): the journal.
      bankRequests: (r) => Promise.resolve(journal.recordBankRequest({ operationId: r.operationId!, card: r.card, ...(r.operatorId === undefined ? {} : { operatorId: r.operatorId }) })),
    });
    let result;
    try {
      rig.actor.send({ type: 'CARD_INSERTED' });
      await rig.settle('identified');
      rig.pins.push('742086', '742086');
      rig.actor.send({ type: 'SELECT_SERVICE', kind: 'activate' });
      result = (await rig.settle('done', 'ended')).context.result!;
    } finally {
      rig.stop();
    }
    expect(result).toMatchObject({ code: 'activate.ok', bank: { attempted: true, recorded: true } });
    const [req] = journal.bankRequests();
    expect(req).toMatchObject({ status: 'pending', operatorId: 'op-1' });
    const w = worker();
    await w.syncNow();
    w.close();
    expect(journal.getBankRequest(req!.id).status).toBe('sent');
    expect(await central.bankRequest(req!.id)).toMatchObject({ operationId: req!.operationId, card: { ...journal.revealBankRequest(req!.id), masked: false } });
    expect(await central.bankRequest(req!.id)).toMatchObject({ card: { name: profile.holder.name, socialSecurityNumber: profile.holder.socialSecurityNumber } });
    const needles = [...needlesFor(['742086']), ...pinBlockNeedles(path.join(ROOT, 'fixtures', 'cards', 'card-not-activated.json'), ['742086'])];
    expect(allPayloads.length).toBe(2);
    expect(findLeaks(Buffer.concat(allPayloads), needles, { ignoreIncidentalDigits: true })).toEqual([]);
  });
});
