/**
 * The sync outbox: the finished operations waiting for the platform, as the sync worker
 * (daemon/sync/worker.ts) pages, acknowledges and rejects them (docs/sync-protocol.md "Push
 * operations"). A `pending` row is never sent; a synced row is purged after the retention age, a
 * rejected one never.
 */
import type Database from 'better-sqlite3';
import type { CardIdentity } from './identity.js';
import type { AgentIdentity } from '../../state/agents.js';
import type { DbRow } from './operations.js';
import { COLUMNS, toRow } from './operations.js';
import type { JournalStore } from './store.js';
import { REASON_PATTERN, checkPattern } from './types.js';
import type { OperationRow } from './types.js';

/** A row with its identity decrypted, for the sync worker. */
export interface RowWithIdentity {
  readonly row: OperationRow;
  readonly identity: CardIdentity | null;
  /** The agent who applied for the holder, decrypted like the identity (null: the holder applied, or identities not asked for). */
  readonly agent?: AgentIdentity | null;
}

export class SyncOutbox {
  private readonly st: ReturnType<typeof prepare>;

  public constructor(private readonly store: JournalStore) {
    this.st = prepare(store.db);
  }

  /** Unsynced, finished rows after `afterSeq`, oldest first, at most `limit`; identities decrypted if `withIdentity`. */
  public unsyncedPage(afterSeq: number, limit: number, withIdentity: boolean): RowWithIdentity[] {
    const rows = this.st.unsyncedPage.all(afterSeq, limit) as DbRow[];
    const keys = withIdentity ? this.store.requireKeys({ zh: '同步完整身份', en: 'syncing identities' }) : undefined;
    return rows.map((r) => ({
      row: toRow(r),
      identity: keys !== undefined && r.identity !== null ? keys.open(r.identity, r.id) : null,
      agent: keys !== undefined && r.agent !== null ? keys.openAgent(r.agent, r.id) : null,
    }));
  }

  /** Mark acknowledged rows synced (one transaction). Returns how many changed. */
  public markSynced(ids: readonly string[]): number {
    this.store.requireWritable();
    const at = this.store.now();
    return this.store.transaction(() => {
      let n = 0;
      for (const id of ids) n += this.st.markSynced.run(at, id).changes;
      return n;
    });
  }

  /** The platform refused these rows for good: they stay (never purged) as `rejected`. */
  public markRejected(ids: readonly string[], reason = 'platform-rejected'): number {
    this.store.requireWritable();
    checkPattern('reason', reason, REASON_PATTERN);
    return this.store.transaction(() => {
      let n = 0;
      for (const id of ids) n += this.st.markRejected.run(reason, id).changes;
      return n;
    });
  }

  /** Rows waiting for the platform, and when the oldest finished. */
  public backlog(): { count: number; oldestFinishedAt: number | null } {
    const r = this.st.backlog.get() as { n: number; oldest: number | null };
    return { count: r.n, oldestFinishedAt: r.oldest };
  }

  /** Rows the platform refused for good (cheap: for status displays). */
  public rejectedCount(): number {
    return (this.store.db.prepare("SELECT count(*) AS n FROM operations WHERE sync_state = 'rejected'").get() as { n: number }).n;
  }

  /** Delete synced rows finished before `cutoff` (Unix ms); returns how many. Unsynced and rejected rows stay. */
  public purgeSynced(cutoff: number): number {
    return this.st.purge.run(cutoff).changes;
  }
}

function prepare(d: Database.Database) {
  return {
    unsyncedPage: d.prepare(`SELECT ${COLUMNS} FROM operations WHERE sync_state = 'unsynced' AND state <> 'pending' AND seq > ? ORDER BY seq LIMIT ?`),
    markSynced: d.prepare("UPDATE operations SET sync_state = 'synced', synced_at = ? WHERE id = ? AND sync_state = 'unsynced' AND state <> 'pending'"),
    markRejected: d.prepare("UPDATE operations SET sync_state = 'rejected', reason = coalesce(reason, ?) WHERE id = ? AND sync_state = 'unsynced' AND state <> 'pending'"),
    backlog: d.prepare("SELECT count(*) AS n, min(finished_at) AS oldest FROM operations WHERE sync_state = 'unsynced' AND state <> 'pending'"),
    purge: d.prepare("DELETE FROM operations WHERE sync_state = 'synced' AND finished_at < ?"),
  };
}
