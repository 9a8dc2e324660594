/**
 * The platform's embedded default (platform/store/store.ts): one SQLite file (or memory), WAL with
 * every commit fsynced. Right for demos, tests and one node; a province runs PostgreSQL
 * (pg-store.ts).
 */
import Database from 'better-sqlite3';
import type { BankRequestIn, CertificateRecord, HotlistChange, OperationIn, PlatformStore, PutResult, RefusalRecord, StoreCounts, TerminalRecord } from './store.js';

export class SqliteStore implements PlatformStore {
  public readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly st;

  constructor(file: string | undefined) {
    this.db = new Database(file ?? ':memory:');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS operations (
        id TEXT PRIMARY KEY, terminal_id TEXT NOT NULL, service_item TEXT NOT NULL, batch_id TEXT NOT NULL,
        received_at INTEGER NOT NULL, copies INTEGER NOT NULL DEFAULT 1, body TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS hotlist_changes (
        version INTEGER PRIMARY KEY AUTOINCREMENT, card_id TEXT NOT NULL, action TEXT NOT NULL CHECK (action IN ('add', 'remove')), at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS bank_requests (
        id TEXT PRIMARY KEY, terminal_id TEXT NOT NULL, operation_id TEXT, batch_id TEXT NOT NULL,
        received_at INTEGER NOT NULL, copies INTEGER NOT NULL DEFAULT 1, body TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS terminals (
        terminal_id TEXT PRIMARY KEY, last_seen_at INTEGER NOT NULL, skew_ms INTEGER NOT NULL,
        backlog INTEGER NOT NULL, previous_backlog INTEGER, heartbeat TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS terminal_certificates (
        fingerprint TEXT PRIMARY KEY, terminal_id TEXT NOT NULL, subject TEXT NOT NULL, registered_at INTEGER NOT NULL, revoked_at INTEGER
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS refusals (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, reason TEXT NOT NULL, fingerprint TEXT, terminal_id TEXT, claimed_terminal_id TEXT, path TEXT NOT NULL
      );
    `);
    const db = this.db;
    this.st = {
      insert: db.prepare('INSERT INTO operations (id, terminal_id, service_item, batch_id, received_at, body) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING'),
      copy: db.prepare('UPDATE operations SET copies = copies + 1 WHERE id = ?'),
      count: db.prepare('SELECT count(*) AS n, coalesce(sum(copies), 0) AS c FROM operations'),
      ids: db.prepare('SELECT id, copies FROM operations'),
      get: db.prepare('SELECT body FROM operations WHERE id = ?'),
      bankInsert: db.prepare('INSERT INTO bank_requests (id, terminal_id, operation_id, batch_id, received_at, body) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING'),
      bankCopy: db.prepare('UPDATE bank_requests SET copies = copies + 1 WHERE id = ?'),
      bankCount: db.prepare('SELECT count(*) AS n, coalesce(sum(copies), 0) AS c FROM bank_requests'),
      bankIds: db.prepare('SELECT id, copies FROM bank_requests'),
      bankGet: db.prepare('SELECT body FROM bank_requests WHERE id = ?'),
      hotAdd: db.prepare('INSERT INTO hotlist_changes (card_id, action, at) VALUES (?, ?, ?)'),
      hotVersion: db.prepare('SELECT coalesce(max(version), 0) AS v FROM hotlist_changes'),
      hotSince: db.prepare('SELECT card_id, action FROM hotlist_changes WHERE version > ? ORDER BY version'),
      beat: db.prepare(
        `INSERT INTO terminals (terminal_id, last_seen_at, skew_ms, backlog, previous_backlog, heartbeat) VALUES (?, ?, ?, ?, NULL, ?)
         ON CONFLICT(terminal_id) DO UPDATE SET previous_backlog = terminals.backlog, last_seen_at = excluded.last_seen_at,
           skew_ms = excluded.skew_ms, backlog = excluded.backlog, heartbeat = excluded.heartbeat`,
      ),
      terminals: db.prepare('SELECT terminal_id, last_seen_at, skew_ms, backlog, previous_backlog, heartbeat FROM terminals ORDER BY terminal_id'),
      certPut: db.prepare(
        `INSERT INTO terminal_certificates (fingerprint, terminal_id, subject, registered_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(fingerprint) DO UPDATE SET terminal_id = excluded.terminal_id, subject = excluded.subject`,
      ),
      certRevoke: db.prepare('UPDATE terminal_certificates SET revoked_at = coalesce(revoked_at, ?) WHERE fingerprint = ?'),
      certGet: db.prepare('SELECT fingerprint, terminal_id, subject, registered_at, revoked_at FROM terminal_certificates WHERE fingerprint = ?'),
      refusalPut: db.prepare('INSERT INTO refusals (at, reason, fingerprint, terminal_id, claimed_terminal_id, path) VALUES (?, ?, ?, ?, ?, ?)'),
      refusalList: db.prepare('SELECT at, reason, fingerprint, terminal_id, claimed_terminal_id, path FROM refusals ORDER BY id DESC LIMIT ?'),
    };
  }

  public putOperations(terminalId: string, batchId: string, operations: readonly OperationIn[], receivedAt: number): Promise<PutResult> {
    return Promise.resolve(this.put(operations, (o) => this.st.insert.run(o.id, terminalId, o.serviceItem, batchId, receivedAt, JSON.stringify(o.body)).changes === 1, (id) => this.st.copy.run(id)));
  }

  public putBankRequests(terminalId: string, batchId: string, requests: readonly BankRequestIn[], receivedAt: number): Promise<PutResult> {
    return Promise.resolve(this.put(requests, (r) => this.st.bankInsert.run(r.id, terminalId, r.operationId, batchId, receivedAt, JSON.stringify(r.body)).changes === 1, (id) => this.st.bankCopy.run(id)));
  }

  /** One transaction: each item inserted if new, its copies counted if not. */
  private put<T extends { readonly id: string }>(items: readonly T[], insert: (item: T) => boolean, copy: (id: string) => void): PutResult {
    const accepted: string[] = [];
    const duplicates: string[] = [];
    this.db.transaction(() => {
      for (const item of items) {
        if (insert(item)) accepted.push(item.id);
        else {
          copy(item.id);
          duplicates.push(item.id);
        }
      }
    })();
    return { accepted, duplicates };
  }

  public hotlistChange(change: HotlistChange, at: number): Promise<number> {
    return Promise.resolve(Number(this.st.hotAdd.run(change.cardId, change.action, at).lastInsertRowid));
  }

  public hotlistVersion(): Promise<number> {
    return Promise.resolve((this.st.hotVersion.get() as { v: number }).v);
  }

  public hotlistSince(version: number): Promise<HotlistChange[]> {
    return Promise.resolve((this.st.hotSince.all(version) as { card_id: string; action: 'add' | 'remove' }[]).map((r) => ({ cardId: r.card_id, action: r.action })));
  }

  public counts(): Promise<StoreCounts> {
    const c = this.st.count.get() as { n: number; c: number };
    const b = this.st.bankCount.get() as { n: number; c: number };
    return Promise.resolve({ operations: c.n, received: c.c, bankRequests: b.n, bankRequestsReceived: b.c, hotlistVersion: (this.st.hotVersion.get() as { v: number }).v });
  }

  public operationCopies(): Promise<Map<string, number>> {
    return Promise.resolve(new Map((this.st.ids.all() as { id: string; copies: number }[]).map((r) => [r.id, r.copies])));
  }

  public operationsPerTerminal(): Promise<Map<string, number>> {
    const rows = this.db.prepare('SELECT terminal_id, count(*) AS n FROM operations GROUP BY terminal_id').all() as { terminal_id: string; n: number }[];
    return Promise.resolve(new Map(rows.map((r) => [r.terminal_id, r.n])));
  }

  public bankRequestCopies(): Promise<Map<string, number>> {
    return Promise.resolve(new Map((this.st.bankIds.all() as { id: string; copies: number }[]).map((r) => [r.id, r.copies])));
  }

  public operation(id: string): Promise<unknown> {
    const r = this.st.get.get(id) as { body: string } | undefined;
    return Promise.resolve(r === undefined ? undefined : (JSON.parse(r.body) as unknown));
  }

  public bankRequest(id: string): Promise<unknown> {
    const r = this.st.bankGet.get(id) as { body: string } | undefined;
    return Promise.resolve(r === undefined ? undefined : (JSON.parse(r.body) as unknown));
  }

  public recordHeartbeat(terminalId: string, heartbeat: unknown, backlog: number, skewMs: number, receivedAt: number): Promise<void> {
    this.st.beat.run(terminalId, receivedAt, skewMs, backlog, JSON.stringify(heartbeat));
    return Promise.resolve();
  }

  public terminals(): Promise<TerminalRecord[]> {
    const rows = this.st.terminals.all() as { terminal_id: string; last_seen_at: number; skew_ms: number; backlog: number; previous_backlog: number | null; heartbeat: string }[];
    return Promise.resolve(
      rows.map((r) => ({ terminalId: r.terminal_id, lastSeenAt: r.last_seen_at, skewMs: r.skew_ms, backlog: r.backlog, previousBacklog: r.previous_backlog, heartbeat: JSON.parse(r.heartbeat) as unknown })),
    );
  }

  public registerCertificate(c: Omit<CertificateRecord, 'revokedAt'>): Promise<void> {
    this.st.certPut.run(c.fingerprint, c.terminalId, c.subject, c.registeredAt);
    return Promise.resolve();
  }

  public revokeCertificate(fingerprint: string, at: number): Promise<boolean> {
    return Promise.resolve(this.st.certRevoke.run(at, fingerprint).changes === 1);
  }

  public certificate(fingerprint: string): Promise<CertificateRecord | undefined> {
    const r = this.st.certGet.get(fingerprint) as { fingerprint: string; terminal_id: string; subject: string; registered_at: number; revoked_at: number | null } | undefined;
    return Promise.resolve(r === undefined ? undefined : { fingerprint: r.fingerprint, terminalId: r.terminal_id, subject: r.subject, registeredAt: r.registered_at, revokedAt: r.revoked_at });
  }

  public recordRefusal(r: RefusalRecord): Promise<void> {
    this.st.refusalPut.run(r.at, r.reason, r.fingerprint, r.terminalId, r.claimedTerminalId, r.path);
    return Promise.resolve();
  }

  public refusals(limit: number): Promise<RefusalRecord[]> {
    const rows = this.st.refusalList.all(limit) as { at: number; reason: RefusalRecord['reason']; fingerprint: string | null; terminal_id: string | null; claimed_terminal_id: string | null; path: string }[];
    return Promise.resolve(rows.map((r) => ({ at: r.at, reason: r.reason, fingerprint: r.fingerprint, terminalId: r.terminal_id, claimedTerminalId: r.claimed_terminal_id, path: r.path })));
  }

  public close(): Promise<void> {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }
}
