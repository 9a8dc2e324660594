import { fdatasync, fstatSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import { BEGIN, CARD, OTHER, journalHarness } from '../../testing/journal.js';
import { WalSync } from './durability.js';

type SyncCb = (err: NodeJS.ErrnoException | null) => void;

/** A WalSync over a settable change counter whose fdatasyncs the test ends by hand. */
function manualSync(): { ws: WalSync; changes: { n: number }; pending: SyncCb[]; calls: () => number } {
  const changes = { n: 0 };
  const pending: SyncCb[] = [];
  let calls = 0;
  const ws = new WalSync(
    '/nonexistent/journal.sqlite-wal',
    () => changes.n,
    (_fd, cb) => {
      calls++;
      pending.push(cb);
    },
  );
  // The descriptor is opened at the first sync: give it one that exists.
  (ws as unknown as { fd: number }).fd = 0;
  return { ws, changes, pending, calls: () => calls };
}

const settled = async <T>(p: Promise<T>): Promise<boolean> => {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('WalSync: group commit', () => {
  it('nothing written: resolves at once without a sync', async () => {
    const { ws, calls } = manualSync();
    await ws.durable();
    expect(calls()).toBe(0);
    expect(ws.dirty).toBe(false);
  });

  it('commits made while a sync runs wait for the next one, which covers them all', async () => {
    const { ws, changes, pending, calls } = manualSync();
    changes.n = 1;
    const first = ws.durable();
    expect(calls()).toBe(1);
    changes.n = 2;
    const second = ws.durable();
    changes.n = 3;
    const third = ws.durable();
    // Not covered by the sync in flight (it started at 1): no second sync yet, one queued.
    expect(calls()).toBe(1);
    expect(await settled(second)).toBe(false);
    pending.shift()!(null);
    await first;
    expect(await settled(second)).toBe(false);
    // The queued sync started when the first returned and covers 2 and 3 at once.
    expect(calls()).toBe(2);
    pending.shift()!(null);
    await Promise.all([second, third]);
    expect(calls()).toBe(2);
    expect(ws.dirty).toBe(false);
    // Nothing new: at once.
    await ws.durable();
    expect(calls()).toBe(2);
  });

  it('a caller whose commits the sync in flight covers joins it', async () => {
    const { ws, changes, pending, calls } = manualSync();
    changes.n = 5;
    const a = ws.durable();
    const b = ws.durable();
    expect(calls()).toBe(1);
    pending.shift()!(null);
    await Promise.all([a, b]);
    expect(calls()).toBe(1);
  });

  it('a failed sync fails every later wait without another sync (a later fsync could succeed without the lost pages)', async () => {
    const { ws, changes, pending, calls } = manualSync();
    changes.n = 1;
    const a = ws.durable();
    pending.shift()!(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    const err = await a.catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.Journal_WriteFailed)).toBe(true);
    expect((err as Error).message).toContain('EIO');
    expect((err as Error).message).toContain('dmesg');
    changes.n = 2;
    const later = await ws.durable().catch((e: unknown) => e);
    expect(isSsCardError(later, ErrorCode.Journal_WriteFailed)).toBe(true);
    expect(calls()).toBe(1);
  });

  it('a WAL file that cannot be opened is Journal_WriteFailed naming it', async () => {
    let n = 0;
    const ws = new WalSync('/nonexistent/journal.sqlite-wal', () => n);
    n = 1;
    const err = await ws.durable().catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.Journal_WriteFailed)).toBe(true);
    expect((err as Error).message).toContain('/nonexistent/journal.sqlite-wal');
  });
});

describe('Journal with fsync off the loop', () => {
  const h = journalHarness();
  const file = (): string => path.join(h.dir, 'journal.sqlite');

  it('commits without an fsync on the loop; durable() fsyncs the WAL file itself', async () => {
    const j = h.open({ fsync: 'off-loop' });
    try {
      expect(j.offLoop).toEqual({ syncs: 0, checkpoints: 0, commitsFsynced: false });
      const id = j.beginOperation(BEGIN);
      await j.durable();
      expect(j.offLoop?.syncs).toBe(1);
      // A completion keeps the connection's level (operations.ts relaxes and restores it when each commit fsyncs).
      j.completeOperation(id, { outcome: 'ok', lastSw: 0x9000 });
      expect(j.offLoop?.commitsFsynced).toBe(false);
      await j.durable();
      expect(j.offLoop?.syncs).toBe(2);
      // Nothing new written: no sync.
      await j.durable();
      expect(j.offLoop?.syncs).toBe(2);
    } finally {
      j.close();
    }
  });

  it('the descriptor synced is the WAL file of this journal', async () => {
    const wal = `${file()}-wal`;
    const j = h.open({ fsync: 'off-loop' });
    try {
      j.beginOperation(BEGIN);
      const synced: number[] = [];
      const ws = new WalSync(wal, () => 1, (fd, cb) => {
        synced.push(fstatSync(fd).ino);
        fdatasync(fd, cb);
      });
      (ws as unknown as { synced: number }).synced = 0;
      await ws.durable();
      ws.close();
      expect(synced).toEqual([statSync(wal).ino]);
    } finally {
      j.close();
    }
  });

  it('pending rows of eight readers begun in one turn share one fsync (group commit)', async () => {
    const j = h.open({ fsync: 'off-loop' });
    try {
      const ids = Array.from({ length: 8 }, (_, i) => j.beginOperation({ ...BEGIN, card: i % 2 === 0 ? CARD : OTHER }));
      await Promise.all(ids.map(() => j.durable()));
      expect(j.offLoop?.syncs).toBe(1);
    } finally {
      j.close();
    }
  });

  it('a write nobody waits for is made durable by the sync scheduled after it', async () => {
    const j = h.open({ fsync: 'off-loop' });
    try {
      j.recordAudit({ kind: 'operator-login', operatorId: 'op-1' });
      for (let i = 0; i < 100 && j.offLoop?.syncs === 0; i++) await new Promise((r) => setTimeout(r, 5));
      expect(j.offLoop?.syncs).toBe(1);
    } finally {
      j.close();
    }
  });

  it('checkpoints run on a worker thread: the database file takes the WAL\'s pages while the loop goes on', async () => {
    const j = h.open({ fsync: 'off-loop' });
    try {
      const before = statSync(file()).size;
      for (let i = 0; i < 300; i++) {
        const id = j.beginOperation({ ...BEGIN, card: i % 2 === 0 ? CARD : OTHER });
        j.completeOperation(id, { outcome: 'ok', lastSw: 0x9000 });
        if (i % 50 === 0) await j.durable();
      }
      await j.durable();
      for (let i = 0; i < 400 && (j.offLoop?.checkpoints ?? 0) === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(j.offLoop?.checkpoints).toBeGreaterThanOrEqual(1);
      expect(statSync(file()).size).toBeGreaterThan(before);
    } finally {
      j.close();
    }
    // Closed cleanly: the file is whole and holds every row.
    const db = new Database(file(), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.prepare("SELECT count(*) FROM operations WHERE state = 'completed'").pluck().get()).toBe(300);
    } finally {
      db.close();
    }
  });

  it('each commit fsynced (the default: CLI, tools): durable() at once, no off-loop figures', async () => {
    const j = h.open();
    try {
      j.beginOperation(BEGIN);
      await j.durable();
      expect(j.offLoop).toBeUndefined();
    } finally {
      j.close();
    }
  });

  it('after close, a wait is Journal_WriteFailed, never a hang', async () => {
    const j = h.open({ fsync: 'off-loop' });
    j.beginOperation(BEGIN);
    const inFlight = j.durable();
    j.close();
    await inFlight.catch(() => undefined);
    expect(j.offLoop).toBeUndefined();
  });
});
