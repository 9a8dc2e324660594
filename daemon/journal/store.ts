/**
 * The journal's one connection: opening the SQLite file (pragmas, integrity check, migrations), the
 * key file, the terminal id, and what every part of the journal needs from them — the clock, row
 * ids, the write guards, the identity columns of a card and the `meta` table. The parts
 * (operations.ts, outbox.ts, bank-requests.ts, audit.ts, hotlist.ts) each take this store;
 * journal.ts puts them together.
 *
 * Durability: WAL; with `fsync: 'each-commit'` (the default: the CLI, tools, tests) `synchronous=FULL`,
 * every commit fsynced before it returns (https://sqlite.org/pragma.html#pragma_synchronous); with
 * `fsync: 'off-loop'` (the daemon) the same fsyncs run off the event loop and `durable()` says when
 * they are done (durability.ts). Foreign keys on, a `quick_check` (or full `integrity_check`) at open
 * that refuses a corrupt file.
 */
import type { Logger } from '../../core/logger.js';
import { SILENT_LOGGER } from '../../core/logger.js';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { Checkpointer, WalSync } from './durability.js';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCode, SsCardError, isSsCardError } from '../../core/errors.js';
import { UuidV7Generator } from '../../core/uuid.js';
import { IdentityKeys, maskAgent, maskIdentity, normalizeAgent, normalizeIdentity } from './identity.js';
import type { CardIdentity } from './identity.js';
import type { AgentIdentity } from '../../state/agents.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from './schema.js';
import { ACTOR_ID_PATTERN, checkPattern } from './types.js';

export interface JournalOptions {
  /** The SQLite file. */
  readonly path: string;
  /**
   * The key file (created 0600 on first start unless `readOnly`). Without it the journal can be
   * listed (masked) but cannot write rows with a card, look cards up, reveal or pull a hotlist.
   */
  readonly keyFile?: string;
  /** This terminal's id (required to write; default: the id the daemon last opened this file with). */
  readonly terminalId?: string;
  /** Open an existing file for reading only (the CLI); never creates anything. */
  readonly readOnly?: boolean;
  /** `quick` (default) runs PRAGMA quick_check at open, `full` integrity_check, `none` skips. */
  readonly check?: 'quick' | 'full' | 'none';
  readonly logger?: Logger;
  /** Clock (tests). */
  readonly now?: () => number;
  /**
   * When commits reach stable storage: `each-commit` (default) fsyncs each commit before it
   * returns; `off-loop` (the daemon) commits without waiting, fsyncs the WAL on the thread pool
   * for every commit made meanwhile, and checkpoints on a worker thread: `durable()` resolves
   * once what was written is on storage (durability.ts).
   */
  readonly fsync?: 'each-commit' | 'off-loop';
}

/** Off the loop: a checkpoint is asked for after this many rows written (SQLite's own default is every 1000 pages). */
const CHECKPOINT_EVERY_CHANGES = 256;
/** Off the loop: a write nobody waits for is on storage at most this long after it (plus the fsync). */
const SETTLE_MS = 100;
/** Off the loop: the WAL is cut back to this size when it starts over after a checkpoint. */
const WAL_SIZE_LIMIT = 16 * 1024 * 1024;

/** What the journal's fsyncs off the loop have done (durability.ts). */
export interface OffLoopStats {
  readonly syncs: number;
  readonly checkpoints: number;
  readonly commitsFsynced: boolean;
}

/** The identity columns of a row with a card (all null without one). */
export interface IdentityColumns {
  card_hash: string | null;
  person_hash: string | null;
  card_masked: string | null;
  identity: Buffer | null;
  key_id: string | null;
}

function sqliteCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : '';
}

function corrupt(file: string, detail: string, cause?: unknown): SsCardError {
  return new SsCardError(
    ErrorCode.Journal_Corrupt,
    {
      zh:
        `交易日志数据库 ${file} 已损坏（${detail}），守护进程拒绝启动以免丢失记录。下一步：停止守护进程；` +
        `把 ${file} 以及同目录的 -wal、-shm 文件一起复制保存（不要删除，未同步的记录可能在其中）；` +
        `用 sqlite3 "${file}" ".recover" 恢复到新文件并替换，或联系技术支持`,
      en:
        `the transaction journal database ${file} is corrupt (${detail}); the daemon refuses to start so that no record is lost. ` +
        `Next: stop the daemon; copy ${file} together with its -wal and -shm files somewhere safe (do not delete them: unsynced records may be in them); ` +
        `recover into a new file with sqlite3 "${file}" ".recover" and put it in place, or call support`,
    },
    { path: file },
    cause === undefined ? undefined : { cause },
  );
}

function openFailed(file: string, zh: string, en: string, cause?: unknown): SsCardError {
  return new SsCardError(ErrorCode.Journal_OpenFailed, { zh: `无法打开交易日志 ${file}：${zh}`, en: `cannot open the transaction journal ${file}: ${en}` }, { path: file }, cause === undefined ? undefined : { cause });
}

/** Journal_NotFound for a record id (operation or bank request). */
export function notFound(id: string): SsCardError {
  return new SsCardError(
    ErrorCode.Journal_NotFound,
    { zh: `交易日志中没有记录 ${id}；请用 sscard journal list 查看记录编号`, en: `no record ${id} in the transaction journal; see the record ids with sscard journal list` },
    { id },
  );
}

/** A card's look-up hash given as it is (64 hex digits), or the identity / card id to hash. */
const isCardHash = (card: CardIdentity | string): card is string => typeof card === 'string' && /^[0-9a-f]{64}$/.test(card);

export class JournalStore {
  public readonly path: string;
  /** The terminal id rows are written under (undefined: read-only use). */
  public readonly terminalId: string | undefined;
  public readonly db: Database.Database;
  public readonly log: Logger;
  public readonly now: () => number;
  public readonly ids: UuidV7Generator;
  public readonly readOnly: boolean;
  private readonly keys: IdentityKeys | undefined;
  private closed = false;
  private readonly metaGet: Database.Statement;
  private readonly metaSet: Database.Statement;
  /** Off the loop only (JournalOptions `fsync`). */
  private readonly walSync: WalSync | undefined;
  private readonly checkpointer: Checkpointer | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private changesAtCheckpoint = 0;
  private readonly totalChanges: () => number;

  private constructor(db: Database.Database, file: string, keys: IdentityKeys | undefined, opts: JournalOptions) {
    this.db = db;
    this.path = file;
    this.keys = keys;
    this.terminalId = opts.terminalId;
    this.log = opts.logger ?? SILENT_LOGGER;
    this.now = opts.now ?? Date.now;
    this.ids = new UuidV7Generator(this.now);
    this.readOnly = opts.readOnly === true;
    this.metaGet = db.prepare('SELECT value FROM meta WHERE key = ?');
    this.metaSet = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    const changes = db.prepare('SELECT total_changes()').pluck();
    this.totalChanges = () => changes.get() as number;
    if (opts.fsync === 'off-loop' && !this.readOnly) {
      this.walSync = new WalSync(`${file}-wal`, this.totalChanges);
      this.checkpointer = new Checkpointer(file, this.log);
      this.changesAtCheckpoint = this.totalChanges();
    }
  }

  /**
   * Open (or create) a journal file: pragmas, integrity check, migrations, key file. Throws
   * Journal_Corrupt, Journal_OpenFailed, Journal_SchemaTooNew, Journal_KeyFile, Journal_KeyMismatch.
   */
  public static open(opts: JournalOptions): JournalStore {
    const file = path.resolve(opts.path);
    if (opts.terminalId !== undefined) checkPattern('terminalId', opts.terminalId, ACTOR_ID_PATTERN);
    const readOnly = opts.readOnly === true;
    if (readOnly && !existsSync(file)) {
      throw openFailed(file, '文件不存在；请用 --db 指定守护进程的日志文件', 'the file does not exist; point --db at the daemon\'s journal file');
    }
    if (!readOnly) {
      try {
        mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      } catch (err) {
        throw openFailed(file, '无法创建所在目录，请检查权限', 'cannot create its folder; check the permissions', err);
      }
    }
    let db: Database.Database;
    try {
      db = new Database(file, { readonly: readOnly, fileMustExist: readOnly });
    } catch (err) {
      throw openFailed(file, '请检查路径与权限', 'check the path and the permissions', err);
    }
    try {
      db.pragma('busy_timeout = 5000');
      if (!readOnly) {
        db.pragma('journal_mode = WAL');
      }
      // Opening (the checks, migrations, key and terminal id below) commits with every fsync
      // done; off the loop (durability.ts) only afterwards.
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      const check = opts.check ?? 'quick';
      if (check !== 'none') {
        const rows = db.pragma(check === 'full' ? 'integrity_check(20)' : 'quick_check(20)') as { integrity_check?: string; quick_check?: string }[];
        const results = rows.map((r) => r.integrity_check ?? r.quick_check ?? '');
        if (results.length !== 1 || results[0] !== 'ok') throw corrupt(file, results.slice(0, 3).join('; '));
      }
      JournalStore.migrate(db, file, readOnly);
      let keys: IdentityKeys | undefined;
      if (opts.keyFile !== undefined) {
        const res = IdentityKeys.fromFile(path.resolve(opts.keyFile), !readOnly);
        keys = res.keys;
        JournalStore.checkKeyId(db, file, opts.keyFile, keys, readOnly);
        if (res.created) (opts.logger ?? SILENT_LOGGER).info('journal key file created', { keyFile: opts.keyFile });
      }
      // The terminal id is remembered, so technician commands on this file write under the same id.
      const storedTerminal = (db.prepare("SELECT value FROM meta WHERE key = 'terminal_id'").get() as { value: string } | undefined)?.value;
      if (!readOnly && opts.terminalId !== undefined && storedTerminal !== opts.terminalId) {
        db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('terminal_id', ?)").run(opts.terminalId);
      }
      if (opts.fsync === 'off-loop' && !readOnly) {
        db.pragma('synchronous = NORMAL');
        db.pragma('wal_autocheckpoint = 0');
        db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
      }
      return new JournalStore(db, file, keys, { ...opts, readOnly, terminalId: opts.terminalId ?? storedTerminal });
    } catch (err) {
      db.close();
      if (isSsCardError(err)) throw err;
      const code = sqliteCode(err);
      if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') throw corrupt(file, code, err);
      if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
        throw new SsCardError(
          ErrorCode.Journal_Busy,
          { zh: `交易日志 ${file} 正被另一个进程锁定；请稍后重试，或先停止另一个进程`, en: `the transaction journal ${file} is locked by another process; retry later or stop that process first` },
          { path: file },
          { cause: err },
        );
      }
      throw openFailed(file, `SQLite 错误 ${code || String(err)}`, `SQLite error ${code || String(err)}`, err);
    }
  }

  private static migrate(db: Database.Database, file: string, readOnly: boolean): void {
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get() !== undefined;
    const current = hasTable ? ((db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null }).v ?? 0) : 0;
    if (current > LATEST_SCHEMA_VERSION) {
      throw new SsCardError(
        ErrorCode.Journal_SchemaTooNew,
        {
          zh: `交易日志 ${file} 由更新版本的 sscard 创建（结构版本 ${current}，本程序只认识到 ${LATEST_SCHEMA_VERSION}）；请升级 sscard`,
          en: `the transaction journal ${file} was written by a newer sscard (schema ${current}; this one knows up to ${LATEST_SCHEMA_VERSION}); upgrade sscard`,
        },
        { path: file, version: current },
      );
    }
    if (current === LATEST_SCHEMA_VERSION) return;
    if (readOnly) throw openFailed(file, '结构版本过旧，请先启动一次守护进程完成升级', 'the schema is old; start the daemon once to upgrade it');
    // Foreign keys off while tables are rebuilt (schema.ts, version 4): dropping the old table must
    // not set the references to it to NULL. The pragma is a no-op inside a transaction, so it is
    // set around it; the references are checked before the commit.
    db.pragma('foreign_keys = OFF');
    let applying = current;
    try {
      db.transaction(() => {
        db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
        for (const m of MIGRATIONS) {
          if (m.version <= current) continue;
          applying = m.version;
          db.exec(m.sql);
          db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(m.version, Date.now());
        }
        const broken = db.pragma('foreign_key_check') as { table: string; rowid: number; parent: string }[];
        if (broken.length > 0) throw new Error(`foreign key check failed: ${broken.length} rows, first in ${broken[0]!.table} → ${broken[0]!.parent}`);
      }).immediate();
    } catch (err) {
      // Busy, locked or corrupt: open() says so as for any other statement.
      const code = sqliteCode(err);
      if (/^SQLITE_(BUSY|LOCKED|CORRUPT|NOTADB)/.test(code)) throw err;
      const why = code || (err instanceof Error ? err.message : String(err));
      throw openFailed(
        file,
        `升级到结构版本 ${applying} 失败（${why}），文件保持原样；请保留该文件并联系技术支持`,
        `upgrading it to schema ${applying} failed (${why}); the file was left as it was: keep it and call support`,
        err,
      );
    } finally {
      db.pragma('foreign_keys = ON');
    }
  }

  private static checkKeyId(db: Database.Database, file: string, keyFile: string, keys: IdentityKeys, readOnly: boolean): void {
    const stored = db.prepare("SELECT value FROM meta WHERE key = 'key_id'").get() as { value: string } | undefined;
    if (stored === undefined) {
      if (!readOnly) db.prepare("INSERT INTO meta (key, value) VALUES ('key_id', ?)").run(keys.keyId);
      return;
    }
    if (stored.value !== keys.keyId) {
      throw new SsCardError(
        ErrorCode.Journal_KeyMismatch,
        {
          zh: `密钥文件 ${keyFile} 不是交易日志 ${file} 的密钥（指纹 ${keys.keyId}，日志要求 ${stored.value}）；请使用与该日志一起创建的密钥文件（从备份恢复）`,
          en: `key file ${keyFile} is not the key of the transaction journal ${file} (fingerprint ${keys.keyId}, the journal needs ${stored.value}); use the key file created with this journal (restore it from backup)`,
        },
        { path: file, keyFile },
      );
    }
  }

  /** The terminal id to write under; Internal when closed, read-only or without a terminal id. */
  public requireWritable(): string {
    if (this.closed) throw new SsCardError(ErrorCode.Internal, { zh: '交易日志已关闭', en: 'the transaction journal is closed' });
    if (this.readOnly || this.terminalId === undefined) {
      throw new SsCardError(ErrorCode.Internal, { zh: '交易日志以只读方式打开（或未配置终端编号），不能写入', en: 'the transaction journal is open read-only (or without a terminal id) and cannot be written' });
    }
    return this.terminalId;
  }

  /** The identity keys; Journal_KeyFile naming `what` needs them when the journal was opened without. */
  public requireKeys(what: { zh: string; en: string }): IdentityKeys {
    if (this.keys === undefined) {
      throw new SsCardError(
        ErrorCode.Journal_KeyFile,
        { zh: `${what.zh}需要交易日志的密钥文件；请用 --key 指定（只有守护进程用户可读）`, en: `${what.en} needs the journal key file; give it with --key (readable by the daemon user only)` },
      );
    }
    return this.keys;
  }

  public get hasKeys(): boolean {
    return this.keys !== undefined;
  }

  /** The look-up handle of a card (HMAC of its identification code). */
  public cardHash(card: CardIdentity | string): string {
    const keys = this.requireKeys({ zh: '按卡查询', en: 'card look-up' });
    const cardId = typeof card === 'string' ? card : card.cardId;
    return keys.cardHash(normalizeIdentity({ cardId }).cardId);
  }

  /** A card's look-up hash: given as it is (64 lower-case hex digits), or computed from the identity or card id. */
  public hashOf(card: CardIdentity | string): string {
    return isCardHash(card) ? card : this.cardHash(card);
  }

  /** The identity columns of row `id` for `card`: keyed hashes, masked form, the identity sealed to the row. */
  public identityColumns(id: string, card: CardIdentity | undefined): IdentityColumns {
    if (card === undefined) return { card_hash: null, person_hash: null, card_masked: null, identity: null, key_id: null };
    const keys = this.requireKeys({ zh: '记录卡片身份', en: 'recording a card identity' });
    const c = normalizeIdentity(card);
    return {
      card_hash: keys.cardHash(c.cardId),
      person_hash: c.socialSecurityNumber === undefined ? null : keys.personHash(c.socialSecurityNumber),
      card_masked: JSON.stringify(maskIdentity(c)),
      identity: keys.seal(c, id),
      key_id: keys.keyId,
    };
  }

  /** The agent columns of a row (state/agents.ts): all null when the holder applied. */
  public agentColumns(id: string, agent: AgentIdentity | undefined): { agent_basis: string | null; agent: Buffer | null; agent_masked: string | null } {
    if (agent === undefined) return { agent_basis: null, agent: null, agent_masked: null };
    const keys = this.requireKeys({ zh: '记录代办人身份', en: 'recording an agent\'s identity' });
    const a = normalizeAgent(agent);
    return { agent_basis: a.basis, agent: keys.sealAgent(a, id), agent_masked: JSON.stringify(maskAgent(a)) };
  }

  /** Run several writes as one transaction (one fsync). Nested calls become savepoints. */
  public transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /**
   * Resolves once every write made so far is on stable storage (at once with `fsync:
   * 'each-commit'`, where each commit was); Journal_WriteFailed when the storage failed.
   */
  public durable(): Promise<void> {
    if (this.walSync === undefined) return Promise.resolve();
    const done = this.walSync.durable();
    done.then(() => this.maybeCheckpoint(), () => undefined);
    return done;
  }

  /**
   * Something was written: off the loop, make it durable within {@link SETTLE_MS} even if nobody
   * waits for it. Under load the syncs flows wait for (their pending rows) cover these writes
   * too, and the timer finds nothing left to sync: a completion costs no fsync of its own, as it
   * did not with each commit fsynced (operations.ts).
   */
  public wrote(): void {
    if (this.walSync === undefined || this.settleTimer !== undefined) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      if (this.closed || this.walSync?.dirty !== true) return;
      this.durable().catch((e: unknown) => this.log.error('journal: writes could not be made durable', { error: e instanceof Error ? e.message : String(e) }));
    }, SETTLE_MS);
    // A write nobody waits for does not keep a stopping daemon alive: close() syncs what is left.
    this.settleTimer.unref();
  }

  /** Are commits fsynced off the loop (`fsync: 'off-loop'`)? Then nothing may set `synchronous` back to FULL. */
  public get syncsOffLoop(): boolean {
    return this.walSync !== undefined;
  }

  /**
   * Off the loop: the fsyncs and checkpoints done, and whether a commit fsyncs on the committing
   * thread after all (`synchronous` above NORMAL: never, unless something set it back). Undefined
   * with `fsync: 'each-commit'`.
   */
  public get offLoop(): OffLoopStats | undefined {
    if (this.walSync === undefined || this.checkpointer === undefined || this.closed) return undefined;
    const level = this.db.pragma('synchronous', { simple: true }) as number;
    return { syncs: this.walSync.syncs, checkpoints: this.checkpointer.done, commitsFsynced: level > 1 };
  }

  private maybeCheckpoint(): void {
    if (this.checkpointer === undefined || this.closed) return;
    const now = this.totalChanges();
    if (now - this.changesAtCheckpoint < CHECKPOINT_EVERY_CHANGES) return;
    this.changesAtCheckpoint = now;
    this.checkpointer.request();
  }

  public getMeta(key: string): string | null {
    return (this.metaGet.get(key) as { value: string } | undefined)?.value ?? null;
  }

  /** Set a `meta` value (ignored on a read-only journal). */
  public setMeta(key: string, value: string): void {
    if (this.readOnly) return;
    this.metaSet.run(key, value);
  }

  /** Size in bytes of the database and its WAL. */
  public fileBytes(): number {
    let n = 0;
    for (const s of ['', '-wal']) {
      try {
        n += statSync(this.path + s).size;
      } catch {
        // no WAL right now
      }
    }
    return n;
  }

  /** Run PRAGMA integrity_check now; 'ok' or the problems found. */
  public integrityCheck(): string[] {
    return (this.db.pragma('integrity_check(20)') as { integrity_check: string }[]).map((r) => r.integrity_check);
  }

  /** Close the database (checkpoints the WAL, fsyncing it). Safe to call twice. */
  public close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.settleTimer !== undefined) clearTimeout(this.settleTimer);
    this.checkpointer?.close();
    this.walSync?.close();
    // The closing checkpoint syncs the WAL and the database file, off the loop or not.
    if (this.walSync !== undefined) this.db.pragma('synchronous = FULL');
    this.db.close();
  }

  public get isOpen(): boolean {
    return !this.closed;
  }
}
