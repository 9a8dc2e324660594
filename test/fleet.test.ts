/**
 * A fleet of 50 virtual terminals (scripts/fleet/fleet.ts: a real SQLite journal and the real sync
 * worker each) against two platform nodes (their own processes) on a throwaway PostgreSQL, through
 * the scenarios of docs/sync-protocol.md "A fleet on one machine": steady traffic, a platform
 * outage and the drain, an ingest node killed with SIGKILL mid-batch, PostgreSQL restarted
 * mid-ingest, a signed hotlist change fanned out to every terminal. After each: every finished
 * operation of every journal held exactly once by the platform, none unknown, counts per terminal
 * equal. `npm run fleet` runs the same at full size.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgStore } from '../platform/store/pg-store.js';
import { PgCluster } from '../scripts/bench/pg-cluster.js';
import { Fleet } from '../scripts/fleet/fleet.js';
import { PlatformNode } from '../scripts/fleet/node.js';

const TERMINALS = 50;
let cluster: PgCluster;
let store: PgStore;
let nodes: PlatformNode[];
let fleet: Fleet;
let dir: string;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<number> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(50);
  }
  return Date.now() - t0;
}

/** Drain, then every journal against the platform. */
async function drainedAndExact(): Promise<number> {
  fleet.pause();
  fleet.wakeAll();
  await until(() => fleet.backlog() === 0, 'the terminals\' backlog drained');
  const check = fleet.verify(await store.operationCopies(), await store.operationsPerTerminal());
  expect(check).toMatchObject({ missing: 0, unknown: 0, countMismatches: [], backlog: 0 });
  return check.journaled;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'sscard-fleet-'));
  cluster = await PgCluster.start(['sscard_platform']);
  const url = cluster.url('sscard_platform');
  store = await PgStore.open({ url });
  const key = generateKeyPairSync('ed25519');
  const keyFile = path.join(dir, 'hotlist.key');
  writeFileSync(keyFile, key.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(`${keyFile}.pub`, key.publicKey.export({ type: 'spki', format: 'pem' }));
  nodes = await Promise.all([0, 1].map(() => PlatformNode.start(['--database-url', url, '--hotlist-key', keyFile])));
  fleet = Fleet.create({ dir, terminals: TERMINALS, endpoints: nodes.map((n) => n.url), ratePerMinute: 60, syncIntervalMs: 500, hotlistIntervalMs: 1000, hotlistPublicKey: key.publicKey, batchSize: 50 });
  fleet.start();
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
  for (const n of nodes ?? []) await n.stop();
  await store?.close();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe(`a fleet of ${TERMINALS} terminals on two platform nodes and PostgreSQL`, { timeout: 180_000 }, () => {
  it('steady traffic: every operation held exactly once', async () => {
    await sleep(4000);
    expect(await drainedAndExact()).toBeGreaterThan(100);
  });

  it('both nodes down for a while, then back: the backlog drains, nothing lost or doubled', async () => {
    fleet.start();
    await Promise.all(nodes.map((n) => n.kill()));
    await sleep(3000);
    expect(fleet.backlog()).toBeGreaterThan(50);
    await Promise.all(nodes.map((n) => n.up()));
    await drainedAndExact();
  });

  it('an ingest node killed with SIGKILL mid-batch: its terminals go on with the other node', async () => {
    fleet.start();
    await sleep(1500);
    await nodes[0]!.kill();
    await sleep(3000);
    await drainedAndExact();
    await nodes[0]!.up();
  });

  it('PostgreSQL restarted mid-ingest: the batches it cut are answered with an error and sent again', async () => {
    fleet.start();
    await sleep(1500);
    cluster.restart('fast');
    await sleep(2000);
    await drainedAndExact();
  });

  it('a signed hotlist change reaches every terminal', async () => {
    const before = await store.hotlistVersion();
    // 100 cards at once, as a province's day of loss reports.
    for (let i = 0; i < 100; i++) await store.hotlistChange({ cardId: `410402D1560000${String(i).padStart(18, '0')}`, action: 'add' }, Date.now());
    const version = String(await store.hotlistVersion());
    expect(Number(version)).toBe(before + 100);
    fleet.wakeAll();
    const ms = await until(() => fleet.hotlistVersions().get(version) === TERMINALS, `every terminal on hotlist version ${version}`);
    expect(ms).toBeLessThan(30_000);
    // Each list checked against the platform's key, none refused.
    expect(fleet.hotlistChecks()).toEqual(new Map([['verified', TERMINALS]]));
  });

  it('the fleet view lists every terminal by its heartbeats', async () => {
    const terminals = await store.terminals();
    expect(terminals.map((t) => t.terminalId).sort()).toEqual([...fleet.ids].sort());
  });
});
