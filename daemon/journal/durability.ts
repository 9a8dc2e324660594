/**
 * The journal's fsyncs off the event loop (JournalOptions `fsync: 'off-loop'`, what the daemon
 * uses; docs/journal.md "Durability").
 *
 * With `synchronous=FULL` every commit fsyncs the WAL on the thread that commits: on the daemon's
 * one event loop, so a kiosk's eMMC or SD card (tens of ms per fsync) froze every reader, the PIN
 * keypad's events and the API for each commit. Off the loop:
 *
 * - The connection commits with `synchronous=NORMAL`: in WAL mode a commit then writes its frames
 *   to the WAL (the page cache) and does not sync (https://sqlite.org/pragma.html#pragma_synchronous).
 * - {@link WalSync} makes commits durable: `durable()` resolves once an `fdatasync` of the WAL file,
 *   started after every commit made so far, has returned. The fdatasync runs on libuv's thread
 *   pool. That is the same sync of the same file that `synchronous=FULL` does after each commit
 *   (https://sqlite.org/wal.html, "WAL mode … synchronous FULL: the WAL file is synchronized after
 *   each transaction commit") — done once for every commit made meanwhile (group commit: flows on
 *   several readers share one fsync) and without holding the loop.
 * - Checkpoints (which fsync the WAL and the database file) run in a worker thread on a second
 *   connection ({@link Checkpointer}), never on the loop: the connection's automatic checkpoint is
 *   off. What is left on the loop is the one sync of the WAL's header SQLite does when the WAL
 *   starts over after a complete checkpoint (https://sqlite.org/src/info/ff5be73dee): once per
 *   checkpoint, not per commit.
 *
 * Who waits: a flow waits for `durable()` after writing its `pending` row and before its first
 * state-changing APDU, and before it reports a completion; writes nobody waits for are made durable
 * by the next sync, which the journal schedules after each write.
 */
import { close as fsClose, fdatasync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../core/logger.js';
import { ErrorCode, SsCardError } from '../../core/errors.js';

/** Journal_WriteFailed: the storage refused to make the journal durable. */
export function writeFailed(file: string, cause: unknown): SsCardError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new SsCardError(
    ErrorCode.Journal_WriteFailed,
    {
      zh: `交易日志 ${file} 无法写入存储（${why}）：在日志可靠写入之前不会改动任何卡片。下一步：检查磁盘空间和存储设备（dmesg），然后重启守护进程`,
      en: `the transaction journal ${file} could not be written to storage (${why}): no card is changed until the journal is durable. Next: check the free space and the storage device (dmesg), then restart the daemon`,
    },
    { path: file },
    { cause },
  );
}

/**
 * Group commit for one WAL file: `durable()` resolves once every commit counted by `changes()`
 * before the call is on stable storage.
 *
 * `changes()` is SQLite's total_changes() of the committing connection: it grows with every row
 * written. A sync covers what had been written when it started; a caller whose changes are not
 * covered by the sync in flight waits for the next one, which starts when that one returns and
 * covers every caller queued meanwhile.
 */
export class WalSync {
  private fd: number | undefined;
  /** total_changes() covered by the last sync that returned. */
  private synced: number;
  private running: { readonly covers: number; readonly done: Promise<void> } | undefined;
  private queued: Promise<void> | undefined;
  private closed = false;
  /**
   * The first failed sync, for good: after a failed fsync Linux may have dropped the dirty pages
   * and a later fsync can succeed without them (PostgreSQL's "fsyncgate", 2018), so no later
   * sync is believed — every write waits on a restart.
   */
  private failure: SsCardError | undefined;
  /** Syncs done (for tests and the metrics). */
  public syncs = 0;

  constructor(
    private readonly walFile: string,
    private readonly changes: () => number,
    private readonly sync: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void = fdatasync,
  ) {
    this.synced = changes();
  }

  /** Resolves once every commit made before this call is durable; Journal_WriteFailed if the storage failed. */
  public durable(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const now = this.changes();
    if (now <= this.synced) return Promise.resolve();
    if (this.running === undefined) return this.start();
    if (now <= this.running.covers) return this.running.done;
    if (this.queued === undefined) {
      const after = this.running.done.catch(() => undefined);
      this.queued = after.then(() => {
        this.queued = undefined;
        return this.running === undefined ? this.start() : this.running.done;
      });
    }
    return this.queued;
  }

  /** Has something been written that is not known to be durable? */
  public get dirty(): boolean {
    return this.changes() > this.synced;
  }

  private start(): Promise<void> {
    const covers = this.changes();
    const done = new Promise<void>((resolve, reject) => {
      if (this.closed) {
        reject(writeFailed(this.walFile, new Error('the journal is closed')));
        return;
      }
      try {
        // Opened at the first sync: the WAL exists once the connection has written. Any
        // descriptor of the file will do: fdatasync flushes the file, not the descriptor.
        this.fd ??= openSync(this.walFile, 'r');
      } catch (e) {
        reject(writeFailed(this.walFile, e));
        return;
      }
      this.sync(this.fd, (err) => {
        this.syncs++;
        if (err) {
          this.failure ??= writeFailed(this.walFile, err);
          reject(this.failure);
        } else {
          this.synced = Math.max(this.synced, covers);
          resolve();
        }
      });
    });
    const entry = { covers, done };
    this.running = entry;
    const clear = (): void => {
      if (this.running === entry) this.running = undefined;
      if (this.closed && this.running === undefined && this.queued === undefined) this.closeFd();
    };
    done.then(clear, clear);
    return done;
  }

  /** Stop syncing; the descriptor is closed once the sync in flight (if any) has returned. */
  public close(): void {
    this.closed = true;
    if (this.running === undefined) this.closeFd();
  }

  private closeFd(): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) fsClose(fd, () => undefined);
  }
}

/**
 * The worker thread's code: one connection of its own to the journal file, one PASSIVE checkpoint
 * per request (it copies what it can of the WAL into the database, fsyncing both, without waiting
 * for or blocking the daemon's connection: https://sqlite.org/c3ref/wal_checkpoint_v2.html).
 * A string, not a module: it runs the same from the sources under test and from the build.
 */
const CHECKPOINT_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
let db;
parentPort.on('message', (m) => {
  if (m === 'close') {
    if (db !== undefined) db.close();
    parentPort.close();
    return;
  }
  try {
    if (db === undefined) {
      db = new Database(workerData.path, { fileMustExist: true });
      db.pragma('busy_timeout = 5000');
      db.pragma('synchronous = FULL');
    }
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, busy: r.busy, log: r.log, checkpointed: r.checkpointed });
  } catch (e) {
    parentPort.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e) });
  }
});
`;

/** What one checkpoint did (frames in the WAL, frames copied into the database). */
export interface CheckpointResult {
  readonly log: number;
  readonly checkpointed: number;
}

/**
 * Checkpoints on a worker thread (started at the first one; an idle daemon has none), one at a
 * time: `request()` while one runs asks for one more after it.
 */
export class Checkpointer {
  private worker: Worker | undefined;
  private running = false;
  private again = false;
  private closed = false;
  /** Checkpoints done, and the last one's result (tests, metrics). */
  public done = 0;
  public last: CheckpointResult | undefined;

  constructor(
    private readonly dbFile: string,
    private readonly log: Logger,
  ) {}

  public request(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.start().postMessage('checkpoint');
  }

  private start(): Worker {
    if (this.worker !== undefined) return this.worker;
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    const w = new Worker(CHECKPOINT_WORKER, { eval: true, workerData: { module, path: this.dbFile } });
    // A checkpoint the daemon does not wait for must not keep it alive.
    w.unref();
    w.on('message', (m: { ok: true; log: number; checkpointed: number } | { ok: false; message: string }) => {
      this.running = false;
      this.done++;
      if (m.ok) this.last = { log: m.log, checkpointed: m.checkpointed };
      else this.log.warn('journal checkpoint failed; the WAL grows until the next one', { error: m.message });
      if (this.again && !this.closed) {
        this.again = false;
        this.request();
      }
    });
    w.on('error', (e) => {
      this.log.error('journal checkpoint thread failed; checkpoints resume in a new one', { error: e.message });
      this.worker = undefined;
      this.running = false;
    });
    this.worker = w;
    return w;
  }

  /** Ends the thread (its connection closed; a checkpoint in progress finishes first). */
  public close(): void {
    this.closed = true;
    this.worker?.postMessage('close');
    this.worker = undefined;
  }
}
