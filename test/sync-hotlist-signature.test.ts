/**
 * The signed lost-card hotlist end to end over loopback HTTP (docs/sync-protocol.md "Pull the
 * lost-card hotlist"): the reference platform signs with its Ed25519 key, the terminal's sync
 * worker verifies with the public key and applies; a list signed by another key, or not signed,
 * is refused — the list in force stays, and the status says so until a list verifies.
 */
import { generateKeyPairSync } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import { Journal } from '../daemon/journal/journal.js';
import { SyncWorker } from '../daemon/sync/worker.js';
import { CentralServer } from '../platform/server.js';
import { until } from '../testing/api-test-client.js';
import { tempDir } from './journal/fixtures.js';

const platformKey = generateKeyPairSync('ed25519');
const otherKey = generateKeyPairSync('ed25519');
const LOST = '410402D15600000593F973FB1A6CB5A0';
const LOST_LATER = '410402D156000005AAAAAAAAAAAAAAAA';

let dir: string;
let journal: Journal;
const closing: (() => Promise<void>)[] = [];

beforeEach(() => {
  dir = tempDir('sscard-hotlist-sig-');
  journal = Journal.open({ path: path.join(dir, 'j.sqlite'), keyFile: path.join(dir, 'j.key'), terminalId: 'T-SIG' });
});
afterEach(async () => {
  for (const c of closing.splice(0)) await c();
  journal.close();
  rmSync(dir, { recursive: true, force: true });
});

async function platform(signingKey?: typeof platformKey.privateKey): Promise<CentralServer> {
  const c = await CentralServer.start(signingKey === undefined ? {} : { hotlistSigningKey: signingKey });
  closing.push(() => c.close());
  return c;
}

const worker = (url: string, checked: boolean): SyncWorker => {
  const w = new SyncWorker(journal, { endpoint: url, terminalId: 'T-SIG', ...(checked ? { hotlistPublicKey: platformKey.publicKey } : {}) });
  closing.push(() => w.stop());
  return w;
};

describe('the signed hotlist', () => {
  it('a list signed by the platform is applied; its deltas too', async () => {
    const central = await platform(platformKey.privateKey);
    await central.hotlistAdd(LOST);
    const w = worker(central.url, true);
    expect(await w.pullHotlist()).toMatchObject({ full: true, added: 1 });
    expect(journal.isHotlisted(LOST)).toBe(true);
    await central.hotlistAdd(LOST_LATER);
    await central.hotlistRemove(LOST);
    expect(await w.pullHotlist()).toMatchObject({ full: false, added: 1, removed: 1 });
    expect(journal.isHotlisted(LOST)).toBe(false);
    expect(journal.isHotlisted(LOST_LATER)).toBe(true);
    expect(w.status().hotlistCheck).toMatchObject({ state: 'verified', offered: '3', inForce: '3' });
  });

  it.each([
    ['signed by another key', otherKey.privateKey, /does not verify/],
    ['not signed', undefined, /is not signed/],
  ] as const)('a list %s is refused; the list in force stays and the status says so', async (_what, key, text) => {
    const genuine = await platform(platformKey.privateKey);
    await genuine.hotlistAdd(LOST);
    await worker(genuine.url, true).pullHotlist();
    expect(journal.hotlistVersion()).toBe('1');

    // Another platform answers (a mis-pointed endpoint, a proxy, a man in the middle): it would take the card off the list.
    const impostor = await platform(key);
    await impostor.hotlistAdd(LOST_LATER);
    await impostor.hotlistAdd(LOST_LATER);
    const w = worker(impostor.url, true);
    const err = await w.pullHotlist().catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.Sync_BadSignature)).toBe(true);
    expect((err as Error).message).toMatch(text);
    expect((err as Error).message).toContain('sync.hotlistPublicKey');
    expect(journal.hotlistVersion()).toBe('1');
    expect(journal.isHotlisted(LOST)).toBe(true);
    expect(journal.isHotlisted(LOST_LATER)).toBe(false);
    expect(w.status().hotlistCheck).toMatchObject({ state: 'refused', offered: '2', inForce: '1' });
    expect(w.status().lastError).toMatchObject({ code: ErrorCode.Sync_BadSignature });

    // The genuine platform again: nothing new is a 304, which verifies nothing, so the refusal
    // stands; the next list that verifies ends it.
    const back = worker(genuine.url, true);
    await back.pullHotlist();
    expect(back.status().hotlistCheck).toMatchObject({ state: 'refused' });
    await genuine.hotlistAdd(LOST_LATER);
    await back.pullHotlist();
    expect(back.status().hotlistCheck).toMatchObject({ state: 'verified', inForce: '2' });
  });

  it('versioned with an ETag: a terminal at the current version gets 304 and keeps its list and its check', async () => {
    const central = await platform(platformKey.privateKey);
    await central.hotlistAdd(LOST);
    const w = worker(central.url, true);
    await w.pullHotlist();
    expect(await w.pullHotlist()).toEqual({ version: '1', full: false, added: 0, removed: 0 });
    expect(central.requests().filter((r) => r.path === '/v1/hotlist').map((r) => r.status)).toEqual([200, 304]);
    expect(journal.isHotlisted(LOST)).toBe(true);
    expect(w.status().hotlistCheck).toMatchObject({ state: 'verified', inForce: '1' });
    const direct = await fetch(new URL('v1/hotlist?since=1', central.url), { headers: { 'if-none-match': '"hotlist-1"' } });
    expect(direct.status).toBe(304);
    expect(direct.headers.get('etag')).toBe('"hotlist-1"');
    await central.hotlistAdd(LOST_LATER);
    expect(await w.pullHotlist()).toMatchObject({ version: '2', added: 1 });
    expect(journal.isHotlisted(LOST_LATER)).toBe(true);
  });

  it('pulled on its own clock: a hotlist interval shorter than the sync interval is kept, the sync pass is not repeated', async () => {
    const central = await platform(platformKey.privateKey);
    const w = new SyncWorker(journal, { endpoint: central.url, terminalId: 'T-SIG', hotlistPublicKey: platformKey.publicKey, intervalMs: 60_000, hotlistIntervalMs: 1_000,
      heartbeat: () => ({ software: 'test', role: 'kiosk', services: ['verify'], health: { pcsc: true, cardReaders: 1, psam: 'ok', pinPad: 'ok', idReader: 'none' } }),
    });
    closing.push(() => w.stop());
    w.start();
    await until(() => central.requests().some((r) => r.path === '/v1/heartbeat'));
    await central.hotlistAdd(LOST);
    // Within about one hotlist interval, not the sync's minute.
    await until(() => journal.isHotlisted(LOST), 5_000);
    const paths = central.requests().map((r) => r.path);
    expect(paths.filter((p) => p === '/v1/hotlist').length).toBeGreaterThanOrEqual(2);
    expect(paths.filter((p) => p === '/v1/heartbeat')).toHaveLength(1);
    expect(w.status().nextAttemptAt).not.toBeNull();
    expect(w.status().nextAttemptAt! - Date.now()).toBeGreaterThan(50_000);
  });

  it('after a failed hotlist pull and the backoff, the sync pass runs too, not at its next interval', async () => {
    const a = await platform(platformKey.privateKey);
    const b = await platform(platformKey.privateKey);
    const w = new SyncWorker(journal, {
      endpoint: a.url,
      alternateEndpoints: [b.url],
      terminalId: 'T-SIG',
      hotlistPublicKey: platformKey.publicKey,
      intervalMs: 60_000,
      hotlistIntervalMs: 500,
      backoff: { baseMs: 100, maxMs: 200 },
    });
    closing.push(() => w.stop());
    w.start();
    await until(() => a.requests().some((r) => r.path === '/v1/hotlist'));
    await a.close();
    const id = journal.beginOperation({ serviceItem: '11410402785096902M500201401000601', kind: 'change', role: 'kiosk', card: { cardId: LOST }, materials: ['socialSecurityCard'] });
    journal.completeOperation(id, { outcome: 'ok', lastSw: 0x9000 });
    // The next pull fails on a, the worker turns to b, and the pass after the backoff pushes the operation.
    await until(() => b.requests().some((r) => r.path === '/v1/operations'), 5_000);
    // b logs the request as it arrives; the journal marks the row synced once b's answer is back.
    await until(() => journal.backlog().count === 0, 5_000);
    expect(journal.backlog().count).toBe(0);
  });

  it('without a key configured, a list is applied unchecked and the status says so', async () => {
    const central = await platform(platformKey.privateKey);
    await central.hotlistAdd(LOST);
    const w = worker(central.url, false);
    await w.pullHotlist();
    expect(journal.isHotlisted(LOST)).toBe(true);
    expect(w.status().hotlistCheck).toMatchObject({ state: 'unchecked', offered: '1', inForce: '1' });
  });
});
