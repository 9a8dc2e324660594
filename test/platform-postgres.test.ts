/**
 * The platform on a real PostgreSQL (Debian's server, a throwaway cluster: scripts/bench/pg-cluster.ts):
 * the store contract (testing/platform-store-contract.ts) as SQLite keeps it, then the platform
 * itself — two ingest nodes on one database, a terminal's sync worker pushing through both, the
 * database restarted mid-ingest — with every operation held exactly once.
 */
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../daemon/journal/journal.js';
import { SyncWorker } from '../daemon/sync/worker.js';
import { CentralServer } from '../platform/server.js';
import { PgStore } from '../platform/store/pg-store.js';
import type { PlatformStore } from '../platform/store/store.js';
import { PgCluster } from '../scripts/bench/pg-cluster.js';
import { idsAt, op, platformStoreContract } from '../testing/platform-store-contract.js';
import { tempDir } from './journal/fixtures.js';

let cluster: PgCluster;
let n = 0;
const urls = new Map<PlatformStore, string>();

beforeAll(async () => {
  cluster = await PgCluster.start([]);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

/** `k` operations journaled as a session does (pending, then completed); their ids. */
function completedOperations(journal: Journal, k: number): string[] {
  return Array.from({ length: k }, () => {
    const id = journal.beginOperation({ serviceItem: '11410402785096902M500201401000601', kind: 'change', role: 'kiosk', card: { cardId: '410402D15600000593F973FB1A6CB5A0' }, materials: ['socialSecurityCard'] });
    journal.completeOperation(id, { outcome: 'ok', lastSw: 0x9000 });
    return id;
  });
}

/** A new database of the cluster (a client per call: the cluster is restarted by a test). */
async function freshDatabase(): Promise<string> {
  const name = `platform_${++n}`;
  const admin = new pg.Client({ connectionString: cluster.url('postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return cluster.url(name);
}

platformStoreContract('PostgreSQL', {
  fresh: async () => {
    const url = await freshDatabase();
    const s = await PgStore.open({ url });
    urls.set(s, url);
    return s;
  },
  again: (s) => PgStore.open({ url: urls.get(s)! }),
});

describe('PostgreSQL: the schema', () => {
  it('operations are partitioned by month of their time; migrations are versioned and applied once by nodes starting together', async () => {
    const url = await freshDatabase();
    const nodes = await Promise.all([PgStore.open({ url }), PgStore.open({ url }), PgStore.open({ url })]);
    try {
      await nodes[0].putOperations('T-1', 'b1', [...idsAt(Date.UTC(2026, 10, 15), 1), ...idsAt(Date.UTC(2026, 11, 3), 1)].map((i) => op(i)), Date.now());
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        expect((await c.query('SELECT version FROM schema_migrations ORDER BY version')).rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
        const parts = await c.query<{ name: string }>("SELECT inhrelid::regclass::text AS name FROM pg_inherits WHERE inhparent = 'operations'::regclass ORDER BY 1");
        expect(parts.rows.map((r) => r.name)).toEqual(['operations_2026_11', 'operations_2026_12']);
        expect((await c.query("SELECT count(*)::int AS n FROM operations_2026_12")).rows[0]).toEqual({ n: 1 });
      } finally {
        await c.end();
      }
    } finally {
      await Promise.all(nodes.map((s) => s.close()));
    }
  });

  it('a database from a newer platform is refused, naming the versions', async () => {
    const url = await freshDatabase();
    const s = await PgStore.open({ url });
    await s.close();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query('INSERT INTO schema_migrations (version) VALUES (99)');
    await c.end();
    await expect(PgStore.open({ url })).rejects.toThrow(/schema 99 is newer/);
  });

  it('no server at the address: a clear error, not a hang', async () => {
    await expect(PgStore.open({ url: `postgres://sscard@127.0.0.1:1/none` })).rejects.toThrow(/PostgreSQL.*check the database URL/);
  });
});

describe('the platform on PostgreSQL', () => {
  it('a terminal configured with both nodes fails over when its node goes down mid-stream; every operation held once', { timeout: 120_000 }, async () => {
    const url = await freshDatabase();
    const a = await CentralServer.start({ databaseUrl: url });
    const b = await CentralServer.start({ databaseUrl: url });
    const dir = tempDir('sscard-pg-failover-');
    const journal = Journal.open({ path: path.join(dir, 'journal.sqlite'), keyFile: path.join(dir, 'journal.key'), terminalId: 'T-PG-2' });
    const w = new SyncWorker(journal, { endpoint: a.url, alternateEndpoints: [b.url], terminalId: 'T-PG-2', batchSize: 10, identity: 'masked', intervalMs: 20, backoff: { baseMs: 5, maxMs: 50 }, timeoutMs: 2000 });
    const ids: string[] = [];
    const add = (k: number): void => void ids.push(...completedOperations(journal, k));
    try {
      w.start();
      add(60);
      const until = async (cond: () => boolean | Promise<boolean>, what: string): Promise<void> => {
        const end = Date.now() + 30_000;
        while (!(await cond())) {
          if (Date.now() > end) throw new Error(`timed out: ${what}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await until(() => journal.backlog().count === 0, 'the first rows synced through node A');
      expect(w.endpoint).toBe(a.url);
      // Node A goes away while rows keep coming.
      await a.goDown();
      add(90);
      w.wake();
      await until(() => journal.backlog().count === 0, 'the rest synced through node B');
      expect(w.endpoint).toBe(b.url);
      const held = await b.operationCopies();
      expect(new Set(held.keys())).toEqual(new Set(ids));
      expect((await b.counts()).operations).toBe(150);
    } finally {
      await w.stop();
      journal.close();
      await a.close();
      await b.close();
    }
  });

  it('two ingest nodes on one database; the database restarted mid-ingest: every operation held exactly once', { timeout: 120_000 }, async () => {
    const url = await freshDatabase();
    const nodes = [await CentralServer.start({ databaseUrl: url }), await CentralServer.start({ databaseUrl: url })];
    const dir = tempDir('sscard-pg-sync-');
    const journal = Journal.open({ path: path.join(dir, 'journal.sqlite'), keyFile: path.join(dir, 'journal.key'), terminalId: 'T-PG-1' });
    try {
      const ids: string[] = [];
      const add = (k: number): void => void ids.push(...completedOperations(journal, k));
      // One terminal's worker per node, as terminals configured with either endpoint are.
      const workers = nodes.map((node) => new SyncWorker(journal, { endpoint: node.url, terminalId: 'T-PG-1', batchSize: 25, identity: 'masked' }));
      add(120);
      // Both at once: the same rows reach both nodes (a terminal retrying on the other endpoint).
      const first = await Promise.all(workers.map((w) => w.syncNow()));
      expect(first.reduce((k, r) => k + r.accepted, 0)).toBe(120);
      expect(first.reduce((k, r) => k + r.accepted + r.duplicates, 0)).toBeGreaterThanOrEqual(120);
      add(80);
      // PostgreSQL goes away and comes back while the next batches are pushed: a batch the node
      // could not store is answered with an error, never acknowledged, and sent again.
      const pushing = workers[0]!.syncNow().catch((e: unknown) => e);
      cluster.restart('fast');
      const during = await pushing;
      for (let i = 0; i < 20 && journal.backlog().count > 0; i++) {
        await workers[i % 2]!.syncNow().catch(() => new Promise((r) => setTimeout(r, 250)));
      }
      expect(journal.backlog().count, String(during)).toBe(0);
      const held = await nodes[1]!.operationCopies();
      expect(new Set(held.keys())).toEqual(new Set(ids));
      const counts = await nodes[0]!.counts();
      expect(counts.operations).toBe(ids.length);
      expect(nodes.map((x) => x.storeKind)).toEqual(['postgres', 'postgres']);
    } finally {
      journal.close();
      for (const node of nodes) await node.close();
    }
  });

  it('text PostgreSQL cannot hold (U+0000, a lone surrogate): the store refuses the batch, so the node rejects that operation alone and stores the rest', { timeout: 60_000 }, async () => {
    const url = await freshDatabase();
    const store = await PgStore.open({ url });
    const node = await CentralServer.start({ databaseUrl: url });
    try {
      const [a, b, c] = idsAt(Date.UTC(2026, 11, 4, 9), 3) as [string, string, string];
      // Why the node checks: jsonb refuses the whole batch, and a terminal would send it again forever.
      await expect(store.putOperations('T-1', 'b0', [op(a, { name: 'x\u0000' })], 1)).rejects.toThrow(/PostgreSQL/);
      await expect(store.putOperations('T-1', 'b0', [op(a, { name: 'x\ud800' })], 1)).rejects.toThrow(/PostgreSQL/);
      const wire = (id: string, extra: Record<string, unknown> = {}) => ({ id, serviceItem: '11410402785096902M500201401000601', kind: 'change', role: 'self-service', outcome: 'ok', state: 'completed', startedAt: '2026-12-04T09:00:00.000Z', ...extra });
      const res = await fetch(new URL('v1/operations', node.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ protocol: 1, terminalId: 'T-1', batchId: 'b1', operations: [wire(a), wire(b, { detail: { name: '李\u0000' } }), wire(c, { note: '\udfff' })] }),
      });
      expect(res.status).toBe(200);
      const answer = (await res.json()) as { accepted: string[]; rejected: { id: string; code: string }[] };
      expect(answer.accepted).toEqual([a]);
      expect(answer.rejected.map((r) => [r.id, r.code])).toEqual([[b, 'invalid'], [c, 'invalid']]);
      expect((await store.counts()).operations).toBe(1);
    } finally {
      await node.close();
      await store.close();
    }
  });
});
