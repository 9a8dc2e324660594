/**
 * The offline transaction journal: one SQLite row per service operation, durable before the card
 * is touched, synced to the platform later (daemon/sync).
 *
 * Durability: WAL with `synchronous=FULL` (every commit is fsynced, https://sqlite.org/pragma.html#pragma_synchronous),
 * foreign keys on, a `quick_check` (or full `integrity_check`) at open that refuses a corrupt file.
 * One exception, {@link Journal.completeOperation}: its commit is `synchronous=NORMAL` (in WAL mode:
 * durable when the process dies, not fsynced at once; the next FULL commit — the next begin, a
 * sync mark — fsyncs it with everything before). Power lost in between can only turn a completed
 * row back into `pending`, which the next start marks `interrupted` and reconciles from the card:
 * the write-ahead row that matters — `pending` before the first state-changing APDU — is always
 * fsynced. This halves the fsyncs per service, which block the daemon's event loop for every
 * reader (docs/benchmarks.md).
 *
 * Write-ahead intent, as the card-service machines (state/) use it through their actors:
 *
 *   const id = journal.beginOperation({ serviceItem, kind: 'change', role, card });   // row is `pending`
 *   … the first state-changing APDU …
 *   journal.completeOperation(id, { outcome: 'ok', lastSw: 0x9000, triesLeft: 6 });
 *
 * On start-up the daemon calls {@link Journal.markInterrupted}: rows still `pending` were cut off
 * (power loss, crash) and become `interrupted`. Rows completed with outcome `unknown` (the card
 * was pulled, or the transport failed, while a state-changing command was in flight) are in the
 * same position. When such a card is seen again ({@link Journal.findUnreconciled}), the daemon
 * re-reads the card and records what it found with {@link Journal.reconcile}, a new row linked to
 * the interrupted or unknown one.
 *
 * A card activated at a financial window gets its bank-account activation recorded as a separate
 * request for the bank ({@link Journal.recordBankRequest}, table `bank_requests`, schema 2).
 *
 * The audit trail (docs/api.md "Operators", table `audit`, schema 3): every privileged API call with the
 * operator id, the command, the request id and the outcome, and every operator login, failed
 * login, lock, logout and expiry ({@link Journal.recordAudit}, read back with {@link Journal.audit}).
 * Audit entries are local only: the sync worker never sends them to the platform. They are purged
 * by age with the same retention as synced operations ({@link Journal.purge}). They hold no PIN,
 * passphrase or session token: there is no field for one, and the bounded patterns refuse what
 * does not look like an id, a command name or an outcome.
 */
import type { Logger } from '../../core/logger.js';
import { SILENT_LOGGER } from '../../core/logger.js';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCode, SsCardError, isSsCardError } from '../../core/errors.js';
import { IdentityKeys, maskIdentity, normalizeIdentity } from './identity.js';
import type { CardIdentity, MaskedIdentity } from './identity.js';
import { UuidV7Generator, isUuidV7 } from '../../core/uuid.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from './schema.js';
import { ACTOR_ID_PATTERN, AUDIT_COMMAND_PATTERN, AUDIT_KINDS, AUDIT_KINDS_WITHOUT_OPERATOR, AUDIT_OUTCOME_PATTERN, BANK_REQUEST_STATUSES, CARD_STATES, OPERATION_KINDS, OUTCOMES, REASON_PATTERN, SERVICE_ITEM_PATTERN, TERMINAL_ROLES, checkInt, checkMaterials, checkOneOf, checkPattern, onlyKeys } from './types.js';
import type { AuditInput, AuditKind, AuditQuery, AuditRow, BankRequestInput, BankRequestRow, BankRequestStatus, BeginInput, CompleteInput, JournalStats, CardState, OperationKind, OperationRow, OperationState, Outcome, ReconcileInput, RefusalInput, SyncState, TerminalRole } from './types.js';

export const DEFAULT_RETENTION_MS = 90 * 24 * 3600 * 1000;

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
}

/** A row with its identity decrypted, for the sync worker. */
export interface RowWithIdentity {
  readonly row: OperationRow;
  readonly identity: CardIdentity | null;
}

export interface ListOptions {
  readonly limit?: number;
  /** Only rows with seq below this (paging newest first). */
  readonly beforeSeq?: number;
  readonly state?: OperationState;
  readonly syncState?: SyncState;
}

export interface HotlistUpdate {
  /** The platform's version after this update (opaque, stored as given). */
  readonly version: string;
  /** True: `add` is the whole list, replacing what we had. */
  readonly full: boolean;
  readonly add: readonly string[];
  readonly remove: readonly string[];
}

interface DbRow {
  seq: number;
  id: string;
  terminal_id: string;
  operator_id: string | null;
  service_item: string;
  kind: OperationKind;
  role: TerminalRole;
  state: OperationState;
  outcome: Outcome | null;
  reason: string | null;
  last_sw: number | null;
  tries_left: number | null;
  card_state: CardState | null;
  materials: string;
  missing: string;
  started_at: number;
  finished_at: number | null;
  sync_state: SyncState;
  synced_at: number | null;
  reconciles: string | null;
  card_hash: string | null;
  card_masked: string | null;
  identity: Buffer | null;
  key_id: string | null;
}

const COLUMNS =
  'seq, id, terminal_id, operator_id, service_item, kind, role, state, outcome, reason, last_sw, tries_left, card_state, materials, missing, started_at, finished_at, sync_state, synced_at, reconciles, card_hash, card_masked, identity, key_id';

function toRow(r: DbRow): OperationRow {
  return {
    seq: r.seq,
    id: r.id,
    terminalId: r.terminal_id,
    operatorId: r.operator_id,
    serviceItem: r.service_item,
    kind: r.kind,
    role: r.role,
    state: r.state,
    outcome: r.outcome,
    reason: r.reason,
    lastSw: r.last_sw,
    triesLeft: r.tries_left,
    cardState: r.card_state,
    materials: JSON.parse(r.materials) as OperationRow['materials'],
    missing: JSON.parse(r.missing) as OperationRow['missing'],
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    syncState: r.sync_state,
    syncedAt: r.synced_at,
    reconciles: r.reconciles,
    cardHash: r.card_hash,
    card: r.card_masked === null ? null : (JSON.parse(r.card_masked) as MaskedIdentity),
  };
}

interface DbBankRow {
  seq: number;
  id: string;
  operation_id: string | null;
  terminal_id: string;
  operator_id: string | null;
  status: BankRequestStatus;
  created_at: number;
  sent_at: number | null;
  card_hash: string;
  card_masked: string;
  identity: Buffer;
  key_id: string;
}

const BANK_COLUMNS = 'seq, id, operation_id, terminal_id, operator_id, status, created_at, sent_at, card_hash, card_masked, identity, key_id';

function toBankRow(r: DbBankRow): BankRequestRow {
  return {
    seq: r.seq,
    id: r.id,
    operationId: r.operation_id,
    terminalId: r.terminal_id,
    operatorId: r.operator_id,
    status: r.status,
    createdAt: r.created_at,
    sentAt: r.sent_at,
    cardHash: r.card_hash,
    card: JSON.parse(r.card_masked) as MaskedIdentity,
  };
}

interface DbAuditRow {
  seq: number;
  id: string;
  at: number;
  terminal_id: string;
  operator_id: string;
  kind: AuditKind;
  command: string | null;
  request_id: number | null;
  outcome: string | null;
}

const AUDIT_COLUMNS = 'seq, id, at, terminal_id, operator_id, kind, command, request_id, outcome';

function toAuditRow(r: DbAuditRow): AuditRow {
  return {
    seq: r.seq,
    id: r.id,
    at: r.at,
    terminalId: r.terminal_id,
    operatorId: r.operator_id,
    kind: r.kind,
    command: r.command,
    requestId: r.request_id,
    outcome: r.outcome,
  };
}

/** Rows a re-read of the card may settle: interrupted ones, and completed ones whose outcome is unknown (never a reconciliation itself). */
const UNRECONCILED = `(o.state = 'interrupted' OR (o.state = 'completed' AND o.outcome = 'unknown' AND o.reconciles IS NULL))
  AND NOT EXISTS (SELECT 1 FROM operations r WHERE r.reconciles = o.id)`;

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

function notFound(id: string): SsCardError {
  return new SsCardError(
    ErrorCode.Journal_NotFound,
    { zh: `交易日志中没有记录 ${id}；请用 sscard journal list 查看记录编号`, en: `no record ${id} in the transaction journal; see the record ids with sscard journal list` },
    { id },
  );
}

export class Journal {
  public readonly path: string;
  /** The terminal id rows are written under (undefined: read-only use). */
  public readonly terminalId: string | undefined;
  private readonly db: Database.Database;
  private readonly keys: IdentityKeys | undefined;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly ids: UuidV7Generator;
  private readonly readOnly: boolean;
  private closed = false;
  private readonly st: ReturnType<Journal['prepare']>;

  private constructor(db: Database.Database, file: string, keys: IdentityKeys | undefined, opts: JournalOptions) {
    this.db = db;
    this.path = file;
    this.keys = keys;
    this.terminalId = opts.terminalId;
    this.log = opts.logger ?? SILENT_LOGGER;
    this.now = opts.now ?? Date.now;
    this.ids = new UuidV7Generator(this.now);
    this.readOnly = opts.readOnly === true;
    this.st = this.prepare();
  }

  /**
   * Open (or create) a journal: pragmas, integrity check, migrations, key file. Throws
   * Journal_Corrupt, Journal_OpenFailed, Journal_SchemaTooNew, Journal_KeyFile, Journal_KeyMismatch.
   */
  public static open(opts: JournalOptions): Journal {
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
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      const check = opts.check ?? 'quick';
      if (check !== 'none') {
        const rows = db.pragma(check === 'full' ? 'integrity_check(20)' : 'quick_check(20)') as { integrity_check?: string; quick_check?: string }[];
        const results = rows.map((r) => r.integrity_check ?? r.quick_check ?? '');
        if (results.length !== 1 || results[0] !== 'ok') throw corrupt(file, results.slice(0, 3).join('; '));
      }
      Journal.migrate(db, file, readOnly);
      let keys: IdentityKeys | undefined;
      if (opts.keyFile !== undefined) {
        const res = IdentityKeys.fromFile(path.resolve(opts.keyFile), !readOnly);
        keys = res.keys;
        Journal.checkKeyId(db, file, opts.keyFile, keys, readOnly);
        if (res.created) (opts.logger ?? SILENT_LOGGER).info('journal key file created', { keyFile: opts.keyFile });
      }
      // The terminal id is remembered, so technician commands on this file write under the same id.
      const storedTerminal = (db.prepare("SELECT value FROM meta WHERE key = 'terminal_id'").get() as { value: string } | undefined)?.value;
      if (!readOnly && opts.terminalId !== undefined && storedTerminal !== opts.terminalId) {
        db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('terminal_id', ?)").run(opts.terminalId);
      }
      return new Journal(db, file, keys, { ...opts, readOnly, terminalId: opts.terminalId ?? storedTerminal });
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
    db.transaction(() => {
      db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
      for (const m of MIGRATIONS) {
        if (m.version <= current) continue;
        db.exec(m.sql);
        db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(m.version, Date.now());
      }
    }).immediate();
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

  private prepare() {
    const d = this.db;
    return {
      insert: d.prepare(
        `INSERT INTO operations (id, terminal_id, operator_id, service_item, kind, role, state, outcome, reason, last_sw, tries_left, card_state,
           materials, missing, started_at, finished_at, reconciles, card_hash, person_hash, card_masked, identity, key_id)
         VALUES (@id, @terminal_id, @operator_id, @service_item, @kind, @role, @state, @outcome, @reason, @last_sw, @tries_left, @card_state,
           @materials, @missing, @started_at, @finished_at, @reconciles, @card_hash, @person_hash, @card_masked, @identity, @key_id)`,
      ),
      complete: d.prepare(
        `UPDATE operations SET state = 'completed', outcome = @outcome, reason = @reason, last_sw = @last_sw, tries_left = @tries_left,
           card_state = @card_state, finished_at = @finished_at WHERE id = @id AND state = 'pending'`,
      ),
      byId: d.prepare(`SELECT ${COLUMNS} FROM operations WHERE id = ?`),
      pendingIds: d.prepare("SELECT id FROM operations WHERE state = 'pending' ORDER BY seq"),
      interrupt: d.prepare("UPDATE operations SET state = 'interrupted', outcome = 'unknown', reason = 'interrupted', finished_at = ? WHERE state = 'pending'"),
      byCard: d.prepare(`SELECT ${COLUMNS} FROM operations WHERE card_hash = ? ORDER BY seq`),
      unreconciled: d.prepare(`SELECT ${COLUMNS} FROM operations o WHERE card_hash = ? AND ${UNRECONCILED} ORDER BY seq`),
      reconciledBy: d.prepare('SELECT id FROM operations WHERE reconciles = ?'),
      unsyncedPage: d.prepare(`SELECT ${COLUMNS} FROM operations WHERE sync_state = 'unsynced' AND state <> 'pending' AND seq > ? ORDER BY seq LIMIT ?`),
      markSynced: d.prepare("UPDATE operations SET sync_state = 'synced', synced_at = ? WHERE id = ? AND sync_state = 'unsynced' AND state <> 'pending'"),
      markRejected: d.prepare("UPDATE operations SET sync_state = 'rejected', reason = coalesce(reason, ?) WHERE id = ? AND sync_state = 'unsynced' AND state <> 'pending'"),
      backlog: d.prepare("SELECT count(*) AS n, min(finished_at) AS oldest FROM operations WHERE sync_state = 'unsynced' AND state <> 'pending'"),
      purge: d.prepare("DELETE FROM operations WHERE sync_state = 'synced' AND finished_at < ?"),
      purgeBank: d.prepare("DELETE FROM bank_requests WHERE status = 'sent' AND sent_at < ?"),
      purgeAudit: d.prepare('DELETE FROM audit WHERE at < ?'),
      auditInsert: d.prepare(
        `INSERT INTO audit (id, at, terminal_id, operator_id, kind, command, request_id, outcome)
         VALUES (@id, @at, @terminal_id, @operator_id, @kind, @command, @request_id, @outcome)`,
      ),
      bankInsert: d.prepare(
        `INSERT INTO bank_requests (id, operation_id, terminal_id, operator_id, status, created_at, sent_at, card_hash, person_hash, card_masked, identity, key_id)
         VALUES (@id, @operation_id, @terminal_id, @operator_id, 'pending', @created_at, NULL, @card_hash, @person_hash, @card_masked, @identity, @key_id)`,
      ),
      bankById: d.prepare(`SELECT ${BANK_COLUMNS} FROM bank_requests WHERE id = ?`),
      bankByOperation: d.prepare('SELECT id FROM bank_requests WHERE operation_id = ?'),
      bankMarkSent: d.prepare("UPDATE bank_requests SET status = 'sent', sent_at = ? WHERE id = ? AND status = 'pending'"),
      hotlisted: d.prepare('SELECT 1 FROM hotlist WHERE card_hash = ?'),
      hotlistAdd: d.prepare('INSERT OR REPLACE INTO hotlist (card_hash, listed_at) VALUES (?, ?)'),
      hotlistRemove: d.prepare('DELETE FROM hotlist WHERE card_hash = ?'),
      hotlistClear: d.prepare('DELETE FROM hotlist'),
      metaGet: d.prepare('SELECT value FROM meta WHERE key = ?'),
      metaSet: d.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      all: d.prepare(`SELECT ${COLUMNS} FROM operations ORDER BY seq`),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // writing
  // ---------------------------------------------------------------------------------------------

  private requireWritable(): string {
    if (this.closed) throw new SsCardError(ErrorCode.Internal, { zh: '交易日志已关闭', en: 'the transaction journal is closed' });
    if (this.readOnly || this.terminalId === undefined) {
      throw new SsCardError(ErrorCode.Internal, { zh: '交易日志以只读方式打开（或未配置终端编号），不能写入', en: 'the transaction journal is open read-only (or without a terminal id) and cannot be written' });
    }
    return this.terminalId;
  }

  private requireKeys(what: { zh: string; en: string }): IdentityKeys {
    if (this.keys === undefined) {
      throw new SsCardError(
        ErrorCode.Journal_KeyFile,
        { zh: `${what.zh}需要交易日志的密钥文件；请用 --key 指定（只有守护进程用户可读）`, en: `${what.en} needs the journal key file; give it with --key (readable by the daemon user only)` },
      );
    }
    return this.keys;
  }

  /** The look-up handle of a card (HMAC of its identification code), for {@link findByCard}. */
  public cardHash(card: CardIdentity | string): string {
    const keys = this.requireKeys({ zh: '按卡查询', en: 'card look-up' });
    const cardId = typeof card === 'string' ? card : card.cardId;
    return keys.cardHash(normalizeIdentity({ cardId }).cardId);
  }

  private identityColumns(id: string, card: CardIdentity | undefined) {
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

  private common(input: { serviceItem: unknown; kind: unknown; role: unknown; operatorId?: unknown; materials?: unknown }) {
    return {
      service_item: checkPattern('serviceItem', input.serviceItem, SERVICE_ITEM_PATTERN),
      kind: checkOneOf('kind', input.kind, OPERATION_KINDS),
      role: checkOneOf('role', input.role, TERMINAL_ROLES),
      operator_id: input.operatorId === undefined ? null : checkPattern('operatorId', input.operatorId, ACTOR_ID_PATTERN),
      materials: JSON.stringify(checkMaterials('materials', input.materials)),
    };
  }

  private static result(input: { reason?: unknown; lastSw?: unknown; triesLeft?: unknown; cardState?: unknown }) {
    return {
      reason: input.reason === undefined ? null : checkPattern('reason', input.reason, REASON_PATTERN),
      last_sw: input.lastSw === undefined ? null : checkInt('lastSw', input.lastSw, 0, 0xffff),
      tries_left: input.triesLeft === undefined ? null : checkInt('triesLeft', input.triesLeft, 0, 15),
      card_state: input.cardState === undefined ? null : checkOneOf('cardState', input.cardState, CARD_STATES),
    };
  }

  /**
   * Write the `pending` row of a card-changing operation, durably, BEFORE its first
   * state-changing APDU; returns the operation id. A hotlisted card is refused here: the refusal
   * is journaled and Journal_CardHotlisted thrown (its context carries the refusal's id).
   */
  public beginOperation(input: BeginInput): string {
    const terminal = this.requireWritable();
    onlyKeys(input, ['serviceItem', 'kind', 'role', 'operatorId', 'card', 'materials'], 'begin');
    const common = this.common(input);
    if (input.card === undefined) checkPattern('card', undefined, /^$/);
    if (this.isHotlisted(input.card)) {
      const refusalId = this.recordRefusal({ ...input, reason: 'hotlisted' });
      this.log.warn('operation refused: card hotlisted', { refusalId, kind: common.kind });
      throw new SsCardError(
        ErrorCode.Journal_CardHotlisted,
        {
          zh: '此卡已挂失（在挂失名单中），不能办理本业务。请持本人身份证原件到社保服务窗口办理解挂或补换卡',
          en: 'this card has been reported lost (it is on the hotlist) and cannot be used for this service. Take your resident ID card to a social security service window to cancel the loss report or replace the card',
        },
        { refusalId },
      );
    }
    const id = this.ids.next();
    const now = this.now();
    this.st.insert.run({
      id,
      terminal_id: terminal,
      ...common,
      state: 'pending',
      outcome: null,
      reason: null,
      last_sw: null,
      tries_left: null,
      card_state: null,
      missing: '[]',
      started_at: now,
      finished_at: null,
      reconciles: null,
      ...this.identityColumns(id, input.card),
    });
    this.log.debug('operation begun', { id, kind: common.kind });
    return id;
  }

  /** Complete a `pending` operation (Journal_NotFound / Journal_BadTransition otherwise). */
  public completeOperation(id: string, input: CompleteInput): void {
    this.requireWritable();
    onlyKeys(input, ['outcome', 'reason', 'lastSw', 'triesLeft', 'cardState'], 'complete');
    const outcome = checkOneOf('outcome', input.outcome, OUTCOMES.filter((o) => o !== 'refused'));
    // NORMAL for this commit only (see the file comment): the pending row is already durable.
    // Inside a caller's transaction the level cannot change (and the commit is the caller's).
    const relax = !this.db.inTransaction;
    if (relax) this.db.pragma('synchronous = NORMAL');
    let res: { changes: number };
    try {
      res = this.st.complete.run({ id, outcome, ...Journal.result(input), finished_at: this.now() });
    } finally {
      if (relax) this.db.pragma('synchronous = FULL');
    }
    if (res.changes === 1) {
      this.log.debug('operation completed', { id, outcome });
      return;
    }
    const row = this.get(id);
    throw new SsCardError(
      ErrorCode.Journal_BadTransition,
      {
        zh: `记录 ${id} 的状态是 ${row.state}，不是 pending，不能再完成（守护进程重启后未完成的操作会变为 interrupted，需要核对卡片后用 reconcile 记录结果）`,
        en: `record ${id} is ${row.state}, not pending, and cannot be completed (after a restart unfinished operations become interrupted: re-read the card and record the result with reconcile)`,
      },
      { id, state: row.state },
    );
  }

  /** Journal a refusal (hotlisted card, materials missing, …): a completed row with outcome `refused`. */
  public recordRefusal(input: RefusalInput): string {
    const terminal = this.requireWritable();
    onlyKeys(input, ['serviceItem', 'kind', 'role', 'operatorId', 'card', 'materials', 'missing', 'reason', 'lastSw', 'triesLeft'], 'refusal');
    const common = this.common(input);
    const result = Journal.result(input);
    if (result.reason === null) checkPattern('reason', undefined, REASON_PATTERN);
    const id = this.ids.next();
    const now = this.now();
    this.st.insert.run({
      id,
      terminal_id: terminal,
      ...common,
      state: 'completed',
      outcome: 'refused',
      ...result,
      missing: JSON.stringify(checkMaterials('missing', input.missing)),
      started_at: now,
      finished_at: now,
      reconciles: null,
      ...this.identityColumns(id, input.card),
    });
    this.log.info('refusal journaled', { id, kind: common.kind, reason: result.reason });
    return id;
  }

  /** Start-up: every `pending` row becomes `interrupted` (outcome unknown). Returns their ids. */
  public markInterrupted(): string[] {
    this.requireWritable();
    const ids = this.db
      .transaction(() => {
        const found = (this.st.pendingIds.all() as { id: string }[]).map((r) => r.id);
        if (found.length > 0) this.st.interrupt.run(this.now());
        return found;
      })
      .immediate();
    if (ids.length > 0) this.log.warn('operations interrupted by the last stop', { count: ids.length, ids });
    return ids;
  }

  /**
   * Operations of this card whose outcome only a re-read of the card can settle, with no
   * reconciliation yet (oldest first): `interrupted` rows (the daemon stopped) and rows completed
   * with outcome `unknown` (the card was pulled or the transport failed mid-command). A
   * reconciliation row is never returned, even when its own outcome is unknown.
   */
  public findUnreconciled(card: CardIdentity | string): OperationRow[] {
    const hash = typeof card === 'string' && /^[0-9a-f]{64}$/.test(card) ? card : this.cardHash(card);
    return (this.st.unreconciled.all(hash) as DbRow[]).map(toRow);
  }

  /**
   * Record what the card showed when seen again after an interruption or an unknown outcome: a new
   * completed row with the same service item, kind, role and card, `reconciles` = that row's id.
   * Returns its id. Journal_BadTransition for any other row, or one already reconciled.
   */
  public reconcile(interruptedId: string, input: ReconcileInput): string {
    const terminal = this.requireWritable();
    onlyKeys(input, ['outcome', 'reason', 'lastSw', 'triesLeft', 'cardState', 'operatorId'], 'reconcile');
    const outcome = checkOneOf('outcome', input.outcome, OUTCOMES.filter((o) => o !== 'refused'));
    const result = Journal.result(input);
    return this.db
      .transaction(() => {
        const raw = this.st.byId.get(interruptedId) as DbRow | undefined;
        if (raw === undefined) throw notFound(interruptedId);
        const already = this.st.reconciledBy.get(interruptedId) as { id: string } | undefined;
        const open = raw.state === 'interrupted' || (raw.state === 'completed' && raw.outcome === 'unknown' && raw.reconciles === null);
        if (!open || already !== undefined) {
          throw new SsCardError(
            ErrorCode.Journal_BadTransition,
            {
              zh: `记录 ${interruptedId} ${already ? `已由 ${already.id} 核对过` : `的状态是 ${raw.state}（结果 ${raw.outcome ?? '无'}），不是 interrupted 或结果未知的 completed`}，不能再核对`,
              en: `record ${interruptedId} ${already ? `was already reconciled by ${already.id}` : `is ${raw.state} (outcome ${raw.outcome ?? 'none'}), neither interrupted nor completed with outcome unknown`} and cannot be reconciled`,
            },
            { id: interruptedId },
          );
        }
        const id = this.ids.next();
        const now = this.now();
        const identity = raw.identity === null ? undefined : this.requireKeys({ zh: '核对', en: 'reconcile' }).open(raw.identity, raw.id);
        this.st.insert.run({
          id,
          terminal_id: terminal,
          operator_id: input.operatorId === undefined ? null : checkPattern('operatorId', input.operatorId, ACTOR_ID_PATTERN),
          service_item: raw.service_item,
          kind: raw.kind,
          role: raw.role,
          materials: raw.materials,
          missing: '[]',
          state: 'completed',
          outcome,
          ...result,
          reason: result.reason ?? 'reconciled',
          started_at: now,
          finished_at: now,
          reconciles: interruptedId,
          ...this.identityColumns(id, identity),
        });
        this.log.info('interrupted operation reconciled', { id, interruptedId, outcome });
        return id;
      })
      .immediate();
  }

  /** Run several writes as one transaction (one fsync). Nested calls become savepoints. */
  public transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  // ---------------------------------------------------------------------------------------------
  // reading
  // ---------------------------------------------------------------------------------------------

  /** One row (Journal_NotFound if absent). */
  public get(id: string): OperationRow {
    const r = this.st.byId.get(id) as DbRow | undefined;
    if (r === undefined) throw notFound(id);
    return toRow(r);
  }

  /** Decrypt a row's card identity (needs the key file); null when the row has no card. */
  public reveal(id: string): CardIdentity | null {
    const r = this.st.byId.get(id) as DbRow | undefined;
    if (r === undefined) throw notFound(id);
    if (r.identity === null) return null;
    const keys = this.requireKeys({ zh: '显示完整身份', en: '--reveal' });
    if (r.key_id !== keys.keyId) {
      throw new SsCardError(
        ErrorCode.Journal_KeyMismatch,
        { zh: `记录 ${id} 用另一把密钥（${r.key_id ?? '?'}）加密；请使用该日志的密钥文件`, en: `record ${id} was encrypted under another key (${r.key_id ?? '?'}); use this journal's key file` },
        { id },
      );
    }
    return keys.open(r.identity, r.id);
  }

  /** Every operation of a card, oldest first (hash from {@link cardHash}, or the identity). */
  public findByCard(card: CardIdentity | string): OperationRow[] {
    const hash = typeof card === 'string' && /^[0-9a-f]{64}$/.test(card) ? card : this.cardHash(card);
    return (this.st.byCard.all(hash) as DbRow[]).map(toRow);
  }

  /** Newest first, paged by `beforeSeq`. */
  public list(opts: ListOptions = {}): OperationRow[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (opts.beforeSeq !== undefined) {
      where.push('seq < ?');
      args.push(opts.beforeSeq);
    }
    if (opts.state !== undefined) {
      where.push('state = ?');
      args.push(opts.state);
    }
    if (opts.syncState !== undefined) {
      where.push('sync_state = ?');
      args.push(opts.syncState);
    }
    const limit = opts.limit ?? 50;
    checkInt('limit', limit, 1, 1_000_000);
    const sql = `SELECT ${COLUMNS} FROM operations ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, limit) as DbRow[]).map(toRow);
  }

  /** Every row, oldest first, streamed from SQLite (bounded memory: for export). */
  public *iterate(): Generator<OperationRow> {
    for (const r of this.st.all.iterate() as IterableIterator<DbRow>) yield toRow(r);
  }

  public stats(): JournalStats {
    const count = (sql: string): number => (this.db.prepare(sql).get() as { n: number }).n;
    const grouped = <K extends string>(col: string, keys: readonly K[]): Record<K, number> => {
      const out = Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
      for (const r of this.db.prepare(`SELECT ${col} AS k, count(*) AS n FROM operations WHERE ${col} IS NOT NULL GROUP BY ${col}`).all() as { k: K; n: number }[]) {
        if (r.k in out) out[r.k] = r.n;
      }
      return out;
    };
    const backlog = this.backlog();
    return {
      total: count('SELECT count(*) AS n FROM operations'),
      byState: grouped('state', ['pending', 'completed', 'interrupted'] as const),
      bySync: grouped('sync_state', ['unsynced', 'synced', 'rejected'] as const),
      byOutcome: grouped('outcome', OUTCOMES),
      backlog: backlog.count,
      oldestUnsyncedAt: backlog.oldestFinishedAt,
      newestAt: (this.db.prepare('SELECT max(started_at) AS t FROM operations').get() as { t: number | null }).t,
      interruptedUnreconciled: count(
        "SELECT count(*) AS n FROM operations o WHERE state = 'interrupted' AND NOT EXISTS (SELECT 1 FROM operations r WHERE r.reconciles = o.id)",
      ),
      unknownUnreconciled: count(
        "SELECT count(*) AS n FROM operations o WHERE state = 'completed' AND outcome = 'unknown' AND reconciles IS NULL AND NOT EXISTS (SELECT 1 FROM operations r WHERE r.reconciles = o.id)",
      ),
      bankRequests: (() => {
        const out: Record<BankRequestStatus, number> = { pending: 0, sent: 0 };
        for (const r of this.db.prepare('SELECT status AS k, count(*) AS n FROM bank_requests GROUP BY status').all() as { k: BankRequestStatus; n: number }[]) out[r.k] = r.n;
        return out;
      })(),
      auditCount: count('SELECT count(*) AS n FROM audit'),
      hotlistSize: count('SELECT count(*) AS n FROM hotlist'),
      hotlistVersion: this.getMeta('hotlist_version'),
      schemaVersion: LATEST_SCHEMA_VERSION,
    };
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

  // ---------------------------------------------------------------------------------------------
  // retention
  // ---------------------------------------------------------------------------------------------

  /**
   * Delete synced rows finished more than `olderThanMs` ago (default 90 days), bank requests sent
   * that long ago, and audit entries recorded that long ago (they are local only: nothing waits
   * for them). Unsynced rows and pending bank requests are never purged. Returns the number of
   * operations deleted (the other counts are logged).
   */
  public purge(olderThanMs: number = DEFAULT_RETENTION_MS): number {
    this.requireWritable();
    checkInt('olderThanMs', olderThanMs, 0, Number.MAX_SAFE_INTEGER);
    const cutoff = this.now() - olderThanMs;
    const { n, bank, audit } = this.db
      .transaction(() => ({
        n: this.st.purge.run(cutoff).changes,
        bank: this.st.purgeBank.run(cutoff).changes,
        audit: this.st.purgeAudit.run(cutoff).changes,
      }))
      .immediate();
    if (n > 0) this.log.info('synced operations purged', { count: n, olderThanMs });
    if (bank > 0) this.log.info('sent bank requests purged', { count: bank, olderThanMs });
    if (audit > 0) this.log.info('audit entries purged', { count: audit, olderThanMs });
    return n;
  }

  // ---------------------------------------------------------------------------------------------
  // sync support (daemon/sync)
  // ---------------------------------------------------------------------------------------------

  /** Unsynced, finished rows after `afterSeq`, oldest first, at most `limit`; identities decrypted if `withIdentity`. */
  public unsyncedPage(afterSeq: number, limit: number, withIdentity: boolean): RowWithIdentity[] {
    const rows = this.st.unsyncedPage.all(afterSeq, limit) as DbRow[];
    const keys = withIdentity ? this.requireKeys({ zh: '同步完整身份', en: 'syncing identities' }) : undefined;
    return rows.map((r) => ({ row: toRow(r), identity: keys !== undefined && r.identity !== null ? keys.open(r.identity, r.id) : null }));
  }

  /** Mark acknowledged rows synced (one transaction). Returns how many changed. */
  public markSynced(ids: readonly string[]): number {
    this.requireWritable();
    const at = this.now();
    return this.db
      .transaction(() => {
        let n = 0;
        for (const id of ids) n += this.st.markSynced.run(at, id).changes;
        return n;
      })
      .immediate();
  }

  /** The platform refused these rows for good: they stay (never purged) as `rejected`. */
  public markRejected(ids: readonly string[], reason = 'platform-rejected'): number {
    this.requireWritable();
    checkPattern('reason', reason, REASON_PATTERN);
    return this.db
      .transaction(() => {
        let n = 0;
        for (const id of ids) n += this.st.markRejected.run(reason, id).changes;
        return n;
      })
      .immediate();
  }

  /** Rows waiting for the platform, and when the oldest finished. */
  public backlog(): { count: number; oldestFinishedAt: number | null } {
    const r = this.st.backlog.get() as { n: number; oldest: number | null };
    return { count: r.n, oldestFinishedAt: r.oldest };
  }

  /** Rows the platform refused for good (cheap: for status displays). */
  public rejectedCount(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM operations WHERE sync_state = 'rejected'").get() as { n: number }).n;
  }

  public getMeta(key: string): string | null {
    return (this.st.metaGet.get(key) as { value: string } | undefined)?.value ?? null;
  }

  public setMeta(key: string, value: string): void {
    if (this.readOnly) return;
    this.st.metaSet.run(key, value);
  }

  // ---------------------------------------------------------------------------------------------
  // bank-account activation requests (seed 000 行使内容 2, docs/service-items/000_1700379f35991b5f.txt)
  // ---------------------------------------------------------------------------------------------

  /**
   * Record the bank-account activation request of a card just activated at a financial window:
   * `pending` until {@link markBankRequestSent}. The activation must be a completed `ok` activate
   * row of role financial-window, of this card, without a request yet (Journal_NotFound,
   * Journal_BadTransition otherwise). Returns the request id.
   */
  public recordBankRequest(input: BankRequestInput): string {
    const terminal = this.requireWritable();
    onlyKeys(input, ['operationId', 'card', 'operatorId'], 'bankRequest');
    const operatorId = input.operatorId === undefined ? null : checkPattern('operatorId', input.operatorId, ACTOR_ID_PATTERN);
    if (input.card === undefined) checkPattern('card', undefined, /^$/);
    const cardHash = this.cardHash(input.card);
    return this.db
      .transaction(() => {
        const op = this.st.byId.get(input.operationId) as DbRow | undefined;
        if (op === undefined) throw notFound(String(input.operationId));
        const problem =
          op.kind !== 'activate' || op.state !== 'completed' || op.outcome !== 'ok'
            ? { zh: `记录 ${op.id} 不是成功完成的社保卡启用`, en: `record ${op.id} is not a completed successful activation` }
            : op.role !== 'financial-window'
              ? { zh: `记录 ${op.id} 不是在金融窗口办理的（非金融窗口无法办理银行账户激活）`, en: `record ${op.id} was not done at a financial window (a non-financial window cannot activate the bank account)` }
              : op.card_hash !== cardHash
                ? { zh: `记录 ${op.id} 是另一张卡的`, en: `record ${op.id} is another card's` }
                : undefined;
        if (problem !== undefined) throw new SsCardError(ErrorCode.Journal_BadTransition, { zh: `${problem.zh}，不能为其登记银行账户激活申请`, en: `${problem.en}; no bank request can be recorded for it` }, { id: op.id });
        const existing = this.st.bankByOperation.get(op.id) as { id: string } | undefined;
        if (existing !== undefined) {
          throw new SsCardError(
            ErrorCode.Journal_BadTransition,
            { zh: `启用记录 ${op.id} 已有银行账户激活申请 ${existing.id}`, en: `activation ${op.id} already has bank request ${existing.id}` },
            { id: op.id, requestId: existing.id },
          );
        }
        const id = this.ids.next();
        const cols = this.identityColumns(id, input.card);
        this.st.bankInsert.run({ id, operation_id: op.id, terminal_id: terminal, operator_id: operatorId, created_at: this.now(), ...cols });
        this.log.info('bank request recorded', { id, operationId: op.id });
        return id;
      })
      .immediate();
  }

  /** One bank request (Journal_NotFound if absent), identity masked. */
  public getBankRequest(id: string): BankRequestRow {
    const r = this.st.bankById.get(id) as DbBankRow | undefined;
    if (r === undefined) throw notFound(id);
    return toBankRow(r);
  }

  /** Bank requests, oldest first, optionally of one status. */
  public bankRequests(opts: { readonly status?: BankRequestStatus; readonly limit?: number } = {}): BankRequestRow[] {
    const limit = opts.limit ?? 1000;
    checkInt('limit', limit, 1, 1_000_000);
    const status = opts.status === undefined ? undefined : checkOneOf('status', opts.status, BANK_REQUEST_STATUSES);
    const rows = (
      status === undefined
        ? this.db.prepare(`SELECT ${BANK_COLUMNS} FROM bank_requests ORDER BY seq LIMIT ?`).all(limit)
        : this.db.prepare(`SELECT ${BANK_COLUMNS} FROM bank_requests WHERE status = ? ORDER BY seq LIMIT ?`).all(status, limit)
    ) as DbBankRow[];
    return rows.map(toBankRow);
  }

  /** Decrypt a bank request's card identity, for handing it to the bank (needs the key file). */
  public revealBankRequest(id: string): CardIdentity {
    const r = this.st.bankById.get(id) as DbBankRow | undefined;
    if (r === undefined) throw notFound(id);
    const keys = this.requireKeys({ zh: '显示银行申请的完整身份', en: 'revealing a bank request' });
    if (r.key_id !== keys.keyId) {
      throw new SsCardError(
        ErrorCode.Journal_KeyMismatch,
        { zh: `银行申请 ${id} 用另一把密钥（${r.key_id}）加密；请使用该日志的密钥文件`, en: `bank request ${id} was encrypted under another key (${r.key_id}); use this journal's key file` },
        { id },
      );
    }
    return keys.open(r.identity, r.id);
  }

  /** The request was handed to the bank: `sent` (once; false when it was not pending). */
  public markBankRequestSent(id: string): boolean {
    this.requireWritable();
    if (this.st.bankById.get(id) === undefined) throw notFound(id);
    return this.st.bankMarkSent.run(this.now(), id).changes === 1;
  }

  // ---------------------------------------------------------------------------------------------
  // audit trail (docs/api.md "Operators")
  // ---------------------------------------------------------------------------------------------

  /**
   * Record an audit entry, durably, at the journal's clock: a privileged API call (`command` and
   * `outcome` required; an api `PrivilegedCall` fits as it is: `{ kind: 'privileged-call', ...call }`)
   * or an operator sign-in event (AUDIT_KIND_OF_OPERATOR_EVENT maps `OperatorAuthEvent.type`).
   * `operatorId` is an operator id, or '' for a privileged call refused with no operator and for a
   * failed or locked login whose id is not one. Never give it a PIN, a passphrase or a token: there
   * is no field for one, and anything outside the bounded patterns (or an unknown property) is
   * refused with Journal_InvalidRecord. Returns the entry's id (a UUIDv7, like operation ids).
   * Audit entries stay on this terminal (not synced) and go with {@link purge}.
   */
  public recordAudit(input: AuditInput): string {
    const terminal = this.requireWritable();
    onlyKeys(input, ['kind', 'operatorId', 'command', 'requestId', 'outcome'], 'audit');
    const kind = checkOneOf('kind', input.kind, AUDIT_KINDS);
    const operatorId =
      input.operatorId === '' && AUDIT_KINDS_WITHOUT_OPERATOR.includes(kind) ? '' : checkPattern('operatorId', input.operatorId, ACTOR_ID_PATTERN);
    const command = input.command === undefined ? null : checkPattern('command', input.command, AUDIT_COMMAND_PATTERN);
    const outcome = input.outcome === undefined ? null : checkPattern('outcome', input.outcome, AUDIT_OUTCOME_PATTERN);
    const requestId = input.requestId === undefined || input.requestId === null ? null : checkInt('requestId', input.requestId, 1, Number.MAX_SAFE_INTEGER);
    if (kind === 'privileged-call') {
      if (command === null) checkPattern('command', undefined, AUDIT_COMMAND_PATTERN);
      if (outcome === null) checkPattern('outcome', undefined, AUDIT_OUTCOME_PATTERN);
    }
    const id = this.ids.next();
    this.st.auditInsert.run({ id, at: this.now(), terminal_id: terminal, operator_id: operatorId, kind, command, request_id: requestId, outcome });
    this.log.debug('audit entry recorded', { id, kind, ...(command === null ? {} : { command }) });
    return id;
  }

  /** Audit entries, newest first: of one operator ('' : calls refused with no operator), since a time, at most `limit` (default 50). */
  public audit(opts: AuditQuery = {}): AuditRow[] {
    onlyKeys(opts, ['operatorId', 'since', 'limit'], 'auditQuery');
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (opts.operatorId !== undefined) {
      where.push('operator_id = ?');
      args.push(opts.operatorId === '' ? '' : checkPattern('operatorId', opts.operatorId, ACTOR_ID_PATTERN));
    }
    if (opts.since !== undefined) {
      where.push('at >= ?');
      args.push(checkInt('since', opts.since, 0, Number.MAX_SAFE_INTEGER));
    }
    const limit = checkInt('limit', opts.limit ?? 50, 1, 1_000_000);
    const sql = `SELECT ${AUDIT_COLUMNS} FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, limit) as DbAuditRow[]).map(toAuditRow);
  }

  // ---------------------------------------------------------------------------------------------
  // hotlist (挂失名单)
  // ---------------------------------------------------------------------------------------------

  /** Is this card on the lost-card hotlist? (False when no key: nothing can have been pulled.) */
  public isHotlisted(card: CardIdentity | string): boolean {
    if (this.keys === undefined) return false;
    const hash = typeof card === 'string' && /^[0-9a-f]{64}$/.test(card) ? card : this.cardHash(card);
    return this.st.hotlisted.get(hash) !== undefined;
  }

  /** Apply an update pulled from the platform, atomically with its version. */
  public applyHotlist(update: HotlistUpdate): void {
    this.requireWritable();
    const keys = this.requireKeys({ zh: '挂失名单', en: 'hotlist' });
    const at = this.now();
    const hashOf = (cardId: string): string => keys.cardHash(normalizeIdentity({ cardId }).cardId);
    const add = update.add.map(hashOf);
    const remove = update.remove.map(hashOf);
    this.db
      .transaction(() => {
        if (update.full) this.st.hotlistClear.run();
        for (const h of remove) this.st.hotlistRemove.run(h);
        for (const h of add) this.st.hotlistAdd.run(h, at);
        this.st.metaSet.run('hotlist_version', update.version);
      })
      .immediate();
  }

  public hotlistVersion(): string | null {
    return this.getMeta('hotlist_version');
  }

  /** Close the database (checkpoints the WAL). Safe to call twice. */
  public close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  public get isOpen(): boolean {
    return !this.closed;
  }

  /** Run PRAGMA integrity_check now; 'ok' or the problems found. */
  public integrityCheck(): string[] {
    return (this.db.pragma('integrity_check(20)') as { integrity_check: string }[]).map((r) => r.integrity_check);
  }
}

export { isUuidV7 };
