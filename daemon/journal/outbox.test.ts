import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../core/errors.js';
import { BEGIN, CARD, expectCode, journalHarness } from '../../testing/journal.js';

const h = journalHarness();
const open = h.open;

describe('Journal: sync support, stats and retention', () => {
  it('pages unsynced rows, marks acknowledged ids synced exactly once', () => {
    const j = open();
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const id = j.beginOperation(BEGIN);
      j.completeOperation(id, { outcome: 'ok' });
      ids.push(id);
    }
    const p1 = j.unsyncedPage(0, 10, true);
    expect(p1.map((r) => r.row.id)).toEqual(ids.slice(0, 10));
    expect(p1[0]!.identity).toEqual(CARD);
    const p2 = j.unsyncedPage(p1.at(-1)!.row.seq, 10, false);
    expect(p2.map((r) => r.row.id)).toEqual(ids.slice(10, 20));
    expect(p2[0]!.identity).toBeNull();
    expect(j.markSynced(ids.slice(0, 10))).toBe(10);
    expect(j.markSynced(ids.slice(0, 10))).toBe(0);
    expect(j.markRejected([ids[10]!])).toBe(1);
    expect(j.backlog().count).toBe(14);
    const s = j.stats();
    expect(s).toMatchObject({ total: 25, backlog: 14, bySync: { unsynced: 14, synced: 10, rejected: 1 }, byOutcome: { ok: 25 } });
    j.close();
  });

  it('purges synced rows older than the retention age, never unsynced ones', () => {
    const j = open();
    const old = j.beginOperation(BEGIN);
    j.completeOperation(old, { outcome: 'ok' });
    const oldUnsynced = j.beginOperation(BEGIN);
    j.completeOperation(oldUnsynced, { outcome: 'ok' });
    j.markSynced([old]);
    h.t += 91 * 24 * 3600 * 1000;
    const fresh = j.beginOperation(BEGIN);
    j.completeOperation(fresh, { outcome: 'ok' });
    j.markSynced([fresh]);
    expect(j.purge()).toBe(1);
    expectCode(() => j.get(old), ErrorCode.Journal_NotFound);
    expect(j.get(oldUnsynced).syncState).toBe('unsynced');
    expect(j.get(fresh).syncState).toBe('synced');
    j.close();
  });
});
