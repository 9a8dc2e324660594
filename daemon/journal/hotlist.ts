/**
 * The lost-card hotlist (挂失名单) pulled from the platform (docs/sync-protocol.md "Pull the
 * lost-card hotlist"), table `hotlist`: only keyed hashes of the card ids are kept, and an update
 * is applied atomically with its version (`meta` key `hotlist_version`).
 */
import type Database from 'better-sqlite3';
import type { CardIdentity } from './identity.js';
import { normalizeIdentity } from './identity.js';
import type { JournalStore } from './store.js';

export interface HotlistUpdate {
  /** The platform's version after this update (opaque, stored as given). */
  readonly version: string;
  /** True: `add` is the whole list, replacing what we had. */
  readonly full: boolean;
  readonly add: readonly string[];
  readonly remove: readonly string[];
}

const VERSION_KEY = 'hotlist_version';
/** When the last update was applied (ms since the epoch, as text), for the status report. */
const UPDATED_KEY = 'hotlist_updated_at';

export class Hotlist {
  private readonly st: ReturnType<typeof prepare>;

  public constructor(private readonly store: JournalStore) {
    this.st = prepare(store.db);
  }

  /** Is this card on the hotlist? (False when no key: nothing can have been pulled.) */
  public isListed(card: CardIdentity | string): boolean {
    if (!this.store.hasKeys) return false;
    return this.st.listed.get(this.store.hashOf(card)) !== undefined;
  }

  /** Apply an update pulled from the platform, atomically with its version. */
  public apply(update: HotlistUpdate): void {
    this.store.requireWritable();
    const keys = this.store.requireKeys({ zh: '挂失名单', en: 'hotlist' });
    const at = this.store.now();
    const hashOf = (cardId: string): string => keys.cardHash(normalizeIdentity({ cardId }).cardId);
    const add = update.add.map(hashOf);
    const remove = update.remove.map(hashOf);
    this.store.transaction(() => {
      if (update.full) this.st.clear.run();
      for (const h of remove) this.st.remove.run(h);
      for (const h of add) this.st.add.run(h, at);
      this.store.setMeta(VERSION_KEY, update.version);
      this.store.setMeta(UPDATED_KEY, String(at));
    });
  }

  public version(): string | null {
    return this.store.getMeta(VERSION_KEY);
  }

  /** When the last update was applied (ms since the epoch), null before the first. */
  public updatedAt(): number | null {
    const v = this.store.getMeta(UPDATED_KEY);
    const n = v === null ? NaN : Number(v);
    return Number.isFinite(n) ? n : null;
  }

  public size(): number {
    return (this.store.db.prepare('SELECT count(*) AS n FROM hotlist').get() as { n: number }).n;
  }
}

function prepare(d: Database.Database) {
  return {
    listed: d.prepare('SELECT 1 FROM hotlist WHERE card_hash = ?'),
    add: d.prepare('INSERT OR REPLACE INTO hotlist (card_hash, listed_at) VALUES (?, ?)'),
    remove: d.prepare('DELETE FROM hotlist WHERE card_hash = ?'),
    clear: d.prepare('DELETE FROM hotlist'),
  };
}
