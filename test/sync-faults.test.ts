/**
 * The sync worker against the reference platform server on loopback (a real HTTP server, no
 * mocks), with the platform failing in every way it can: down, connection resets, timeouts, 500s,
 * malformed and partial acknowledgements. Afterwards no row is lost, the platform holds each
 * operation exactly once, the worker backed off, and no PIN is in any payload.
 */
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CentralServer } from '../platform/server.js';
import type { Fault } from '../platform/server.js';
import { shippedServiceItemCode } from '../daemon/flows/catalog.js';
import type { Journal } from '../daemon/journal/journal.js';
import type { SyncWorker } from '../daemon/sync/worker.js';
import type { SyncOptions } from '../daemon/sync/worker.js';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import path from 'node:path';
import type { ServiceKind } from '../state/roles.js';
import type { SessionConfig } from '../state/session.js';
import { Psam } from '../drivers/psam/psam.js';
import { cardFixture, loadCardProfile, psamFixture } from '../drivers/sim/profile.js';
import { SimTransport } from '../drivers/sim/sim-transport.js';
import { VirtualSsCard } from '../drivers/sim/virtual-card.js';
import { VirtualPsam } from '../drivers/sim/virtual-psam.js';
import { findLeaks, needlesFor, pinBlockNeedles } from '../testing/pin-scan.js';
import { createRig } from '../testing/services-rig.js';
import { CARD_30, deliveries, fill, openJournal, quickSyncWorker, tempDir } from './journal/fixtures.js';
import { ROOT } from './helpers/stack.js';

let dir: string;
let journal: Journal;
let central: CentralServer;
let payloads: Buffer[];

beforeEach(async () => {
  dir = tempDir('sscard-sync-');
  journal = openJournal(dir);
  payloads = [];
  central = await CentralServer.start({ capture: (b) => payloads.push(b), seed: 42 });
});

afterEach(async () => {
  journal.close();
  await central.close();
  rmSync(dir, { recursive: true, force: true });
});

function worker(extra: Partial<SyncOptions> = {}): SyncWorker {
  return quickSyncWorker(journal, central.url, extra);
}

/**
 * Exactly once, proved on what the platform *received* (every push body it was delivered,
 * retries and pushes answered 500 included — see deliveries()), not on its primary key: every id
 * of the journal was delivered at least once and nothing else was; the platform holds one row
 * per id; every delivery it stored (all but those it answered 500 before storing) is counted
 * against that one row. Returns how many ids were delivered more than once.
 */
async function expectExactlyOnce(ids: readonly string[], opts: { storedEveryDelivery: boolean }): Promise<number> {
  const got = deliveries(payloads);
  expect(new Set(got.keys())).toEqual(new Set(ids));
  const held = (await central.operationCopies());
  expect(new Set(held.keys())).toEqual(new Set(ids));
  expect((await central.counts()).operations).toBe(ids.length);
  for (const [id, n] of got) {
    if (opts.storedEveryDelivery) expect(held.get(id), id).toBe(n);
    else expect(held.get(id), id).toBeLessThanOrEqual(n);
  }
  expect(journal.backlog().count).toBe(0);
  expect(journal.stats().bySync).toMatchObject({ synced: ids.length, unsynced: 0, rejected: 0 });
  return [...got.values()].filter((n) => n > 1).length;
}

async function until(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('sync against a failing platform', () => {
  it.each<[string, Fault]>([
    ['HTTP 500', { mode: '500', times: 3 }],
    ['connection reset', { mode: 'reset', times: 3 }],
    ['timeout (stored, answered too late)', { mode: 'slow', delayMs: 1500, times: 2 }],
    ['malformed acknowledgement (stored, answer not JSON)', { mode: 'malformed', times: 3 }],
    ['partial acknowledgement (stored, half acknowledged)', { mode: 'partial', times: 6 }],
    ['random mix of 500s at 30%', { mode: '500', probability: 0.3 }],
  ])('%s: no row lost, none held twice, backoff observed', async (_name, fault) => {
    const ids = fill(journal, 500);
    await central.setFault(fault);
    const retries: { failures: number; delayMs: number; code: ErrorCode }[] = [];
    const w = worker({ onRetry: (r) => retries.push({ failures: r.failures, delayMs: r.delayMs, code: r.error.code }) });
    w.start();
    await until(() => journal.backlog().count === 0, 'the backlog to drain');
    await w.stop();
    // A push answered 500 was received but not stored; every other delivery was stored.
    const redelivered = await expectExactlyOnce(ids, { storedEveryDelivery: fault.mode !== '500' });
    // Each fault makes the worker send some operations again (a reset loses the request before the
    // platform reads it, so nothing is delivered twice there).
    if (fault.mode !== 'reset') expect(redelivered).toBeGreaterThan(0);
    if (fault.mode !== 'partial') {
      // Consecutive failures back off: with the jitter pinned at its top, each wait doubles (5, 10, 20 …, ≤ 80 ms).
      expect(retries.length).toBeGreaterThan(0);
      const first = retries.filter((r) => r.failures === 1);
      expect(first.every((r) => r.delayMs === 5)).toBe(true);
      for (const r of retries) expect(r.delayMs).toBe(Math.min(80, 5 * 2 ** (r.failures - 1)));
      if (fault.times !== undefined && fault.times >= 3) expect(Math.max(...retries.map((r) => r.failures))).toBeGreaterThanOrEqual(2);
    }
    if (fault.mode === 'slow' || fault.mode === 'malformed' || fault.mode === 'partial') {
      // The platform stored some operations more than once and kept one copy.
      expect((await central.counts()).duplicatesReceived).toBeGreaterThan(0);
    }
  });

  it('survives the platform being down (connection refused), then drains when it is back', async () => {
    const ids = fill(journal, 300);
    await central.setFault({ mode: 'down' });
    const retries: { failures: number; delayMs: number; code: ErrorCode }[] = [];
    const w = worker({ onRetry: (r) => retries.push({ failures: r.failures, delayMs: r.delayMs, code: r.error.code }) });
    w.start();
    await until(() => retries.length >= 8, 'eight failed attempts');
    expect(retries.every((r) => r.code === ErrorCode.Sync_Unreachable)).toBe(true);
    expect(retries.slice(0, 6).map((r) => r.delayMs)).toEqual([5, 10, 20, 40, 80, 80]);
    const s = w.status();
    expect(s.backlog).toBe(300);
    expect(s.consecutiveFailures).toBeGreaterThanOrEqual(8);
    expect(s.lastError?.code).toBe(ErrorCode.Sync_Unreachable);
    expect(s.lastError?.zh).toMatch(/无法连接省级平台/);
    expect(s.nextAttemptAt).not.toBeNull();
    // More operations arrive while the platform is down.
    ids.push(...fill(journal, 100, 300));
    await central.setFault(null);
    await until(() => journal.backlog().count === 0, 'the backlog to drain');
    await w.stop();
    await expectExactlyOnce(ids, { storedEveryDelivery: true });
    expect(w.status()).toMatchObject({ backlog: 0, lastError: null, consecutiveFailures: 0 });
    expect(w.status().lastSuccessAt).not.toBeNull();
  });

  it('a synced row arrives in the wire’s words (docs/sync-protocol.md), while the journal keeps the house’s', async () => {
    const refusal = journal.recordRefusal({ serviceItem: shippedServiceItemCode('reset'), kind: 'reset', role: 'financial-counter', operatorId: 'op-1', materials: ['socialSecurityCard'], missing: ['residentIdCard'], reason: 'materials-missing' });
    const change = journal.beginOperation({ serviceItem: shippedServiceItemCode('change'), kind: 'change', role: 'kiosk', card: CARD_30, materials: ['socialSecurityCard'] });
    journal.completeOperation(change, { outcome: 'ok', lastSw: 0x9000 });
    const counter = journal.recordRefusal({ serviceItem: shippedServiceItemCode('unblock'), kind: 'unblock', role: 'counter', reason: 'role-not-allowed' });
    const w = worker();
    await w.syncNow();
    w.close();
    expect(await central.operation(refusal)).toMatchObject({ role: 'financial-window', materials: ['social-security-card'], missing: ['resident-id-card'] });
    expect(await central.operation(change)).toMatchObject({ role: 'self-service', materials: ['social-security-card'], missing: [] });
    expect(await central.operation(counter)).toMatchObject({ role: 'window', materials: [], missing: [] });
    expect(journal.get(refusal)).toMatchObject({ role: 'financial-counter', materials: ['socialSecurityCard'], missing: ['residentIdCard'], syncState: 'synced' });
    expect(journal.get(change)).toMatchObject({ role: 'kiosk', syncState: 'synced' });
  });

  it('syncNow reports a refusal; refused rows are kept as rejected and never purged', async () => {
    await central.close();
    central = await CentralServer.start({ serviceItems: [shippedServiceItemCode('activate')] });
    const ids = fill(journal, 10); // all for 001 (PIN change), which this platform does not know
    const w = worker();
    const report = await w.syncNow();
    w.close();
    expect(report.rejected.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(report.rejected[0]!.code).toBe('unknown-service-item');
    expect(journal.stats().bySync.rejected).toBe(10);
    expect(journal.purge(0)).toBe(0);
    expect(w.status().lastError?.code).toBe(ErrorCode.Sync_Refused);
  });

  it('syncNow throws a bilingual error when the platform is down, and the rows stay', async () => {
    fill(journal, 5);
    await central.setFault({ mode: 'down' });
    const w = worker();
    await expect(w.syncNow()).rejects.toSatisfy((e: unknown) => isSsCardError(e, ErrorCode.Sync_Unreachable));
    w.close();
    expect(journal.backlog().count).toBe(5);
  });

  it('a 100k-style backlog drains page by page with progress (5,000 rows here)', async () => {
    const ids = fill(journal, 5000);
    const progress: number[] = [];
    const w = worker({ batchSize: 200, timeoutMs: 10_000 });
    const report = await w.syncNow((p) => progress.push(p.done));
    w.close();
    expect(report).toMatchObject({ sent: 5000, accepted: 5000, duplicates: 0, requests: 25, remaining: 0 });
    expect(progress.at(-1)).toBe(5000);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(await expectExactlyOnce(ids, { storedEveryDelivery: true })).toBe(0);
    // Every request carried at most one batch: bounded by batchSize.
    expect(central.requests().every((r) => r.operations <= 200)).toBe(true);
  });
});

/** Real PIN flows, journaled by the session as the daemon journals them, with distinctive PINs. */
interface JournaledFlow {
  readonly profile: string;
  readonly kind: ServiceKind;
  readonly config: SessionConfig;
  readonly pins: readonly string[];
  readonly counter?: boolean;
}

const PIN_FLOWS: readonly JournaledFlow[] = [
  { profile: 'card-2.0', kind: 'verify', config: { role: 'kiosk' }, pins: ['864209'] },
  { profile: 'card-2.0', kind: 'verify', config: { role: 'kiosk' }, pins: ['123456'] },
  { profile: 'card-3.0', kind: 'change', config: { role: 'kiosk' }, pins: ['246810', '975312', '975312'] },
  { profile: 'card-2.0', kind: 'reset', config: { role: 'counter' }, pins: ['531864', '531864'], counter: true },
  { profile: 'card-3.0', kind: 'reset', config: { role: 'counter' }, pins: ['208642', '208642'], counter: true },
  { profile: 'card-locked', kind: 'unblock', config: { role: 'counter' }, pins: ['319753', '319753'], counter: true },
  { profile: 'card-not-activated', kind: 'activate', config: { role: 'counter' }, pins: ['742086', '742086'], counter: true },
];

async function runJournaledFlow(f: JournaledFlow): Promise<string> {
  const profile = await loadCardProfile(cardFixture(f.profile));
  const vcard = new VirtualSsCard(profile);
  const psam = new Psam(new SimTransport(await VirtualPsam.fromFile(psamFixture('psam-test'))));
  await psam.open();
  const transport = new SimTransport(vcard);
  const rig = await createRig({
    transport: () => transport,
    psam,
    config: f.config,
    journal,
    ...(f.counter === true ? { operatorId: 'op-1', idNumber: profile.holder.socialSecurityNumber } : {}),
  });
  try {
    rig.actor.send({ type: 'CARD_INSERTED' });
    await rig.settle('identified');
    rig.pins.push(...f.pins);
    rig.actor.send({ type: 'SELECT_SERVICE', kind: f.kind });
    const end = await rig.settle('done', 'ended');
    return end.context.result!.code;
  } finally {
    rig.stop();
  }
}

describe('no PIN reaches the platform', () => {
  it('real PIN flows on every card (verify, change, reset, unblock, activate) are journaled, synced through faults, and no payload holds a PIN or PIN block', async () => {
    const codes: string[] = [];
    for (const f of PIN_FLOWS) codes.push(await runJournaledFlow(f));
    expect(codes).toEqual(['verify.wrongPin', 'verify.ok', 'change.ok', 'reset.ok', 'reset.ok', 'unblock.ok', 'activate.ok']);
    const ids = journal.list().map((r) => r.id);
    expect(ids).toHaveLength(PIN_FLOWS.length);
    await central.setFault({ mode: 'partial', times: 2 });
    const w = worker();
    w.start();
    await until(() => journal.backlog().count === 0, 'the backlog to drain');
    await w.stop();
    await expectExactlyOnce(ids, { storedEveryDelivery: true });
    const pins = [...new Set(PIN_FLOWS.flatMap((f) => f.pins))];
    const cards = (name: string): string => path.join(ROOT, 'fixtures', 'cards', `${name}.json`);
    const needles = [
      ...needlesFor(pins),
      ...pinBlockNeedles(cards('card-3.0'), ['208642']),
      ...pinBlockNeedles(cards('card-locked'), ['319753']),
      ...pinBlockNeedles(cards('card-not-activated'), ['742086']),
    ];
    expect(payloads.length).toBeGreaterThan(1);
    expect(findLeaks(Buffer.concat(payloads), needles, { ignoreIncidentalDigits: true })).toEqual([]);
  });
});

describe('hotlist (挂失名单)', () => {
  it('pulls the whole list first, then only changes; a hotlisted card is refused and journaled', async () => {
    const other = '410402D156000005BBBBBBBBBBBBBBBB';
    await central.hotlistAdd(CARD_30.cardId);
    await central.hotlistAdd(other);
    const w = worker();
    expect(await w.pullHotlist()).toEqual({ version: '2', full: true, added: 2, removed: 0 });
    expect(journal.isHotlisted(CARD_30)).toBe(true);
    await expect(
      Promise.resolve().then(() => journal.beginOperation({ serviceItem: shippedServiceItemCode('change'), kind: 'change', role: 'kiosk', card: CARD_30 })),
    ).rejects.toSatisfy((e: unknown) => isSsCardError(e, ErrorCode.Journal_CardHotlisted));
    expect(journal.findByCard(CARD_30).map((r) => [r.outcome, r.reason])).toEqual([['refused', 'hotlisted']]);

    await central.hotlistRemove(CARD_30.cardId);
    expect(await w.pullHotlist()).toEqual({ version: '3', full: false, added: 0, removed: 1 });
    expect(journal.isHotlisted(CARD_30)).toBe(false);
    expect(journal.isHotlisted(other)).toBe(true); // a bare card id is hashed like an identity
    expect(journal.isHotlisted({ cardId: other })).toBe(true);
    // The refusal itself is synced like any operation.
    await w.syncNow();
    w.close();
    expect((await central.counts()).operations).toBe(1);
  });

  it('a malformed hotlist answer changes nothing', async () => {
    await central.hotlistAdd(CARD_30.cardId);
    await central.setFault({ mode: 'malformed', on: 'hotlist', times: 1 });
    const w = worker();
    await expect(w.pullHotlist()).rejects.toSatisfy((e: unknown) => isSsCardError(e, ErrorCode.Sync_BadResponse));
    expect(journal.hotlistVersion()).toBeNull();
    expect(journal.isHotlisted(CARD_30)).toBe(false);
    await w.pullHotlist();
    w.close();
    expect(journal.isHotlisted(CARD_30)).toBe(true);
  });
});
