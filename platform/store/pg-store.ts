/**
 * The platform on PostgreSQL (platform/store/store.ts), what a province runs: several ingest nodes
 * (stateless platform processes) on one database, through node-postgres (`pg`, its pool).
 *
 * - Versioned migrations (`schema_migrations`), applied at start under an advisory lock, so nodes
 *   starting together apply each migration once.
 * - `operations` is partitioned by month of the operation's time, which its UUIDv7 id carries
 *   (core/uuid.ts): PostgreSQL's primary key on a partitioned table must contain the partition key,
 *   so the key is (id, occurred_at) — as unique as the id, since the time is a function of it.
 *   A month's partition is created when its first operation arrives (under an advisory lock: two
 *   nodes may meet there).
 * - A batch is one transaction: one `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING
 *   RETURNING id` and one update of the repeats' copies. With `synchronous_commit` on (the default)
 *   the commit is durable before the node acknowledges.
 */
import pg from 'pg';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { isUuidV7 } from '../../core/uuid.js';
import { extraCopies, operationTime, splitPut } from './store.js';
import type { BankRequestIn, CertificateRecord, HotlistChange, OperationIn, PlatformStore, PutResult, RefusalRecord, StoreCounts, TerminalRecord } from './store.js';

/** The migrations, in order; a migration is never edited once shipped (add the next one). */
export const PG_MIGRATIONS: readonly { readonly version: number; readonly sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE operations (
        id uuid NOT NULL,
        occurred_at timestamptz NOT NULL,
        terminal_id text NOT NULL,
        service_item text NOT NULL,
        batch_id text NOT NULL,
        received_at timestamptz NOT NULL,
        copies integer NOT NULL DEFAULT 1,
        body jsonb NOT NULL,
        PRIMARY KEY (id, occurred_at)
      ) PARTITION BY RANGE (occurred_at);
      CREATE INDEX operations_terminal ON operations (terminal_id, occurred_at);
      CREATE TABLE bank_requests (
        id text PRIMARY KEY,
        terminal_id text NOT NULL,
        operation_id text,
        batch_id text NOT NULL,
        received_at timestamptz NOT NULL,
        copies integer NOT NULL DEFAULT 1,
        body jsonb NOT NULL
      );
      CREATE TABLE hotlist_changes (
        version bigserial PRIMARY KEY,
        card_id text NOT NULL,
        action text NOT NULL CHECK (action IN ('add', 'remove')),
        at timestamptz NOT NULL
      );
    `,
  },
  {
    version: 2,
    sql: `
      CREATE TABLE terminals (
        terminal_id text PRIMARY KEY,
        last_seen_at timestamptz NOT NULL,
        skew_ms bigint NOT NULL,
        backlog bigint NOT NULL,
        previous_backlog bigint,
        heartbeat jsonb NOT NULL
      );
    `,
  },
  {
    version: 3,
    sql: `
      CREATE TABLE terminal_certificates (
        fingerprint text PRIMARY KEY,
        terminal_id text NOT NULL,
        subject text NOT NULL,
        registered_at timestamptz NOT NULL,
        revoked_at timestamptz
      );
      CREATE TABLE refusals (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL,
        reason text NOT NULL,
        fingerprint text,
        terminal_id text,
        claimed_terminal_id text,
        path text NOT NULL
      );
    `,
  },
];

/** One advisory lock key per purpose (pg_advisory_xact_lock's bigint space is the database's). */
const LOCK_MIGRATE = 0x5353_4341_5244_0001n;
const LOCK_PARTITION = 0x5353_4341_5244_0002n;

const MONTH_MS = (d: Date): string => `${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, '0')}`;

function failed(what: string, cause: unknown): SsCardError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new SsCardError(
    ErrorCode.Central_Failed,
    { zh: `平台数据库（PostgreSQL）${what}失败：${why}；请检查数据库地址、权限与服务状态`, en: `the platform's database (PostgreSQL): ${what} failed: ${why}; check the database URL, the permissions and that the server runs` },
    { store: 'postgres' },
    { cause },
  );
}

/**
 * A transaction PostgreSQL ended to break a deadlock (40P01) or a serialisation conflict (40001)
 * is rolled back whole and may simply run again (https://www.postgresql.org/docs/current/mvcc-serialization-failure-handling.html).
 */
const RETRY_CODES: ReadonlySet<string> = new Set(['40P01', '40001']);
const TX_ATTEMPTS = 3;

function retryable(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return !(e instanceof SsCardError) && typeof code === 'string' && RETRY_CODES.has(code);
}

/** The positions of `ids` in id order: rows inserted and locked in one order by every node, so that two batches wait on each other at most one way. */
function idOrder(ids: readonly string[]): number[] {
  return ids.map((_, i) => i).sort((a, b) => (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0));
}

export interface PgStoreOptions {
  /** postgres://user@host:port/database (node-postgres connection string). */
  readonly url: string;
  /** Pool size (default 10). */
  readonly maxConnections?: number;
}

export class PgStore implements PlatformStore {
  public readonly kind = 'postgres';
  /** Months whose partition this node has seen exist. */
  private readonly months = new Set<string>();

  private constructor(private readonly pool: pg.Pool) {}

  /** Connect and bring the schema up to date. */
  public static async open(o: PgStoreOptions): Promise<PgStore> {
    const pool = new pg.Pool({ connectionString: o.url, max: o.maxConnections ?? 10 });
    // An idle client's error (the server restarted) is the pool's to drop; the next query reconnects.
    pool.on('error', () => undefined);
    const store = new PgStore(pool);
    try {
      await store.migrate();
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e instanceof SsCardError ? e : failed('opening', e);
    }
    return store;
  }

  /** `f` in a transaction; run again (up to TX_ATTEMPTS in all) when PostgreSQL ended it for a deadlock or a serialisation conflict. */
  private async tx<T>(what: string, f: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let c: pg.PoolClient;
      try {
        c = await this.pool.connect();
      } catch (e) {
        throw failed(what, e);
      }
      try {
        await c.query('BEGIN');
        const r = await f(c);
        await c.query('COMMIT');
        return r;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        if (attempt < TX_ATTEMPTS && retryable(e)) continue;
        throw e instanceof SsCardError ? e : failed(what, e);
      } finally {
        c.release();
      }
    }
  }

  private async query<R extends pg.QueryResultRow>(what: string, text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (e) {
      throw failed(what, e);
    }
  }

  private async migrate(): Promise<void> {
    await this.tx('migrating the schema', async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [LOCK_MIGRATE]);
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
      const done = new Set((await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      const newest = Math.max(0, ...done);
      const known = PG_MIGRATIONS.at(-1)?.version ?? 0;
      if (newest > known) {
        throw new SsCardError(
          ErrorCode.Central_Failed,
          { zh: `平台数据库的结构版本 ${newest} 比本程序认识的 ${known} 新；请升级平台程序`, en: `the platform database's schema ${newest} is newer than this program knows (${known}); upgrade the platform` },
          { store: 'postgres', version: newest },
        );
      }
      for (const m of PG_MIGRATIONS) {
        if (done.has(m.version)) continue;
        await c.query(m.sql);
        await c.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version]);
      }
    });
  }

  /**
   * The month partitions a batch needs, created once (by whichever node gets there first). Returns
   * the months it made sure of: known to exist once the transaction commits, not before.
   */
  private async ensurePartitions(c: pg.PoolClient, times: readonly number[]): Promise<string[]> {
    const missing = new Map<string, Date>();
    for (const t of times) {
      const d = new Date(t);
      const key = MONTH_MS(d);
      if (!this.months.has(key)) missing.set(key, new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)));
    }
    if (missing.size === 0) return [];
    await c.query('SELECT pg_advisory_xact_lock($1)', [LOCK_PARTITION]);
    for (const [key, from] of missing) {
      const to = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1));
      // Names and bounds come from numbers, never from a terminal's text.
      await c.query(`CREATE TABLE IF NOT EXISTS operations_${key} PARTITION OF operations FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`);
    }
    return [...missing.keys()];
  }

  public async putOperations(terminalId: string, batchId: string, operations: readonly OperationIn[], receivedAt: number): Promise<PutResult> {
    if (operations.length === 0) return { accepted: [], duplicates: [] };
    const ids = operations.map((o) => o.id);
    const times = operations.map((o) => operationTime(o.id));
    const order = idOrder(ids);
    const sorted = order.map((i) => operations[i]!);
    let made: string[] = [];
    const result = await this.tx('storing operations', async (c) => {
      made = await this.ensurePartitions(c, times);
      const inserted = await c.query<{ id: string }>(
        `INSERT INTO operations (id, occurred_at, terminal_id, service_item, batch_id, received_at, body)
         SELECT t.id, to_timestamp(t.ms / 1000.0), $3, t.item, $4, to_timestamp($5 / 1000.0), t.body
           FROM unnest($1::uuid[], $2::float8[], $6::text[], $7::jsonb[]) AS t(id, ms, item, body)
         ON CONFLICT DO NOTHING RETURNING id`,
        [sorted.map((o) => o.id), order.map((i) => times[i]!), terminalId, batchId, receivedAt, sorted.map((o) => o.serviceItem), sorted.map((o) => JSON.stringify(o.body))],
      );
      const fresh = new Set(inserted.rows.map((r) => r.id));
      const extra = extraCopies(ids, fresh);
      if (extra.size > 0) {
        // The rows locked in id order first: an UPDATE … FROM locks in its join's order, which two nodes may take differently.
        await c.query('SELECT 1 FROM operations WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE', [[...extra.keys()]]);
        await c.query('UPDATE operations o SET copies = o.copies + e.n FROM unnest($1::uuid[], $2::int[]) AS e(id, n) WHERE o.id = e.id', [[...extra.keys()], [...extra.values()]]);
      }
      return splitPut(ids, (id) => fresh.has(id));
    });
    for (const key of made) this.months.add(key);
    return result;
  }

  public async putBankRequests(terminalId: string, batchId: string, requests: readonly BankRequestIn[], receivedAt: number): Promise<PutResult> {
    if (requests.length === 0) return { accepted: [], duplicates: [] };
    const ids = requests.map((r) => r.id);
    const sorted = idOrder(ids).map((i) => requests[i]!);
    return this.tx('storing bank requests', async (c) => {
      const inserted = await c.query<{ id: string }>(
        `INSERT INTO bank_requests (id, terminal_id, operation_id, batch_id, received_at, body)
         SELECT t.id, $2, t.op, $3, to_timestamp($4 / 1000.0), t.body
           FROM unnest($1::text[], $5::text[], $6::jsonb[]) AS t(id, op, body)
         ON CONFLICT DO NOTHING RETURNING id`,
        [sorted.map((r) => r.id), terminalId, batchId, receivedAt, sorted.map((r) => r.operationId), sorted.map((r) => JSON.stringify(r.body))],
      );
      const fresh = new Set(inserted.rows.map((r) => r.id));
      const extra = extraCopies(ids, fresh);
      if (extra.size > 0) {
        await c.query('SELECT 1 FROM bank_requests WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE', [[...extra.keys()]]);
        await c.query('UPDATE bank_requests b SET copies = b.copies + e.n FROM unnest($1::text[], $2::int[]) AS e(id, n) WHERE b.id = e.id', [[...extra.keys()], [...extra.values()]]);
      }
      return splitPut(ids, (id) => fresh.has(id));
    });
  }

  public async hotlistChange(change: HotlistChange, at: number): Promise<number> {
    const r = await this.query<{ version: string }>('recording a hotlist change', 'INSERT INTO hotlist_changes (card_id, action, at) VALUES ($1, $2, to_timestamp($3 / 1000.0)) RETURNING version', [change.cardId, change.action, at]);
    return Number(r.rows[0]!.version);
  }

  public async hotlistVersion(): Promise<number> {
    const r = await this.query<{ v: string }>('reading the hotlist version', 'SELECT coalesce(max(version), 0) AS v FROM hotlist_changes');
    return Number(r.rows[0]!.v);
  }

  public async hotlistSince(version: number): Promise<HotlistChange[]> {
    const r = await this.query<{ card_id: string; action: 'add' | 'remove' }>('reading the hotlist', 'SELECT card_id, action FROM hotlist_changes WHERE version > $1 ORDER BY version', [version]);
    return r.rows.map((x) => ({ cardId: x.card_id, action: x.action }));
  }

  public async counts(): Promise<StoreCounts> {
    const r = await this.query<{ n: string; c: string; bn: string; bc: string; v: string }>(
      'counting',
      `SELECT (SELECT count(*) FROM operations) AS n, (SELECT coalesce(sum(copies), 0) FROM operations) AS c,
              (SELECT count(*) FROM bank_requests) AS bn, (SELECT coalesce(sum(copies), 0) FROM bank_requests) AS bc,
              (SELECT coalesce(max(version), 0) FROM hotlist_changes) AS v`,
    );
    const x = r.rows[0]!;
    return { operations: Number(x.n), received: Number(x.c), bankRequests: Number(x.bn), bankRequestsReceived: Number(x.bc), hotlistVersion: Number(x.v) };
  }

  public async operationCopies(): Promise<Map<string, number>> {
    const r = await this.query<{ id: string; copies: number }>('listing operations', 'SELECT id::text AS id, copies FROM operations');
    return new Map(r.rows.map((x) => [x.id, x.copies]));
  }

  public async operationsPerTerminal(): Promise<Map<string, number>> {
    const r = await this.query<{ terminal_id: string; n: string }>('counting operations per terminal', 'SELECT terminal_id, count(*) AS n FROM operations GROUP BY terminal_id');
    return new Map(r.rows.map((x) => [x.terminal_id, Number(x.n)]));
  }

  public async bankRequestCopies(): Promise<Map<string, number>> {
    const r = await this.query<{ id: string; copies: number }>('listing bank requests', 'SELECT id, copies FROM bank_requests');
    return new Map(r.rows.map((x) => [x.id, x.copies]));
  }

  public async operation(id: string): Promise<unknown> {
    if (!isUuidV7(id)) return undefined;
    const r = await this.query<{ body: unknown }>('reading an operation', 'SELECT body FROM operations WHERE id = $1 AND occurred_at = to_timestamp($2 / 1000.0)', [id, operationTime(id)]);
    return r.rows[0]?.body;
  }

  public async bankRequest(id: string): Promise<unknown> {
    const r = await this.query<{ body: unknown }>('reading a bank request', 'SELECT body FROM bank_requests WHERE id = $1', [id]);
    return r.rows[0]?.body;
  }

  public async recordHeartbeat(terminalId: string, heartbeat: unknown, backlog: number, skewMs: number, receivedAt: number): Promise<void> {
    await this.query(
      'recording a heartbeat',
      `INSERT INTO terminals (terminal_id, last_seen_at, skew_ms, backlog, previous_backlog, heartbeat) VALUES ($1, to_timestamp($2 / 1000.0), $3, $4, NULL, $5)
       ON CONFLICT (terminal_id) DO UPDATE SET previous_backlog = terminals.backlog, last_seen_at = excluded.last_seen_at,
         skew_ms = excluded.skew_ms, backlog = excluded.backlog, heartbeat = excluded.heartbeat`,
      [terminalId, receivedAt, Math.round(skewMs), backlog, JSON.stringify(heartbeat)],
    );
  }

  public async terminals(): Promise<TerminalRecord[]> {
    const r = await this.query<{ terminal_id: string; ms: string; skew_ms: string; backlog: string; previous_backlog: string | null; heartbeat: unknown }>(
      'listing terminals',
      'SELECT terminal_id, round(extract(epoch FROM last_seen_at) * 1000) AS ms, skew_ms, backlog, previous_backlog, heartbeat FROM terminals ORDER BY terminal_id',
    );
    return r.rows.map((x) => ({
      terminalId: x.terminal_id,
      lastSeenAt: Number(x.ms),
      skewMs: Number(x.skew_ms),
      backlog: Number(x.backlog),
      previousBacklog: x.previous_backlog === null ? null : Number(x.previous_backlog),
      heartbeat: x.heartbeat,
    }));
  }

  public async registerCertificate(c: Omit<CertificateRecord, 'revokedAt'>): Promise<void> {
    await this.query(
      'registering a certificate',
      `INSERT INTO terminal_certificates (fingerprint, terminal_id, subject, registered_at) VALUES ($1, $2, $3, to_timestamp($4 / 1000.0))
       ON CONFLICT (fingerprint) DO UPDATE SET terminal_id = excluded.terminal_id, subject = excluded.subject`,
      [c.fingerprint, c.terminalId, c.subject, c.registeredAt],
    );
  }

  public async revokeCertificate(fingerprint: string, at: number): Promise<boolean> {
    const r = await this.query('revoking a certificate', 'UPDATE terminal_certificates SET revoked_at = coalesce(revoked_at, to_timestamp($1 / 1000.0)) WHERE fingerprint = $2', [at, fingerprint]);
    return r.rowCount === 1;
  }

  public async certificate(fingerprint: string): Promise<CertificateRecord | undefined> {
    const r = await this.query<{ fingerprint: string; terminal_id: string; subject: string; reg: string; rev: string | null }>(
      'reading a certificate',
      'SELECT fingerprint, terminal_id, subject, round(extract(epoch FROM registered_at) * 1000) AS reg, round(extract(epoch FROM revoked_at) * 1000) AS rev FROM terminal_certificates WHERE fingerprint = $1',
      [fingerprint],
    );
    const x = r.rows[0];
    return x === undefined ? undefined : { fingerprint: x.fingerprint, terminalId: x.terminal_id, subject: x.subject, registeredAt: Number(x.reg), revokedAt: x.rev === null ? null : Number(x.rev) };
  }

  public async recordRefusal(x: RefusalRecord): Promise<void> {
    await this.query(
      'recording a refusal',
      'INSERT INTO refusals (at, reason, fingerprint, terminal_id, claimed_terminal_id, path) VALUES (to_timestamp($1 / 1000.0), $2, $3, $4, $5, $6)',
      [x.at, x.reason, x.fingerprint, x.terminalId, x.claimedTerminalId, x.path],
    );
  }

  public async refusals(limit: number): Promise<RefusalRecord[]> {
    const r = await this.query<{ ms: string; reason: RefusalRecord['reason']; fingerprint: string | null; terminal_id: string | null; claimed_terminal_id: string | null; path: string }>(
      'listing refusals',
      'SELECT round(extract(epoch FROM at) * 1000) AS ms, reason, fingerprint, terminal_id, claimed_terminal_id, path FROM refusals ORDER BY id DESC LIMIT $1',
      [limit],
    );
    return r.rows.map((x) => ({ at: Number(x.ms), reason: x.reason, fingerprint: x.fingerprint, terminalId: x.terminal_id, claimedTerminalId: x.claimed_terminal_id, path: x.path }));
  }

  public async close(): Promise<void> {
    await this.pool.end();
  }
}
