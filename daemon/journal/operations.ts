/**
 * The operations: one row per service operation, written ahead of the card (table `operations`).
 *
 * Write-ahead intent, as the card-service machines (state/) use it through their actors:
 *
 *   const id = journal.beginOperation({ serviceItem, kind: 'change', role, card });   // row is `pending`
 *   … the first state-changing APDU …
 *   journal.completeOperation(id, { outcome: 'ok', lastSw: 0x9000, triesLeft: 6 });
 *
 * Every commit is fsynced (store.ts) except {@link Operations.complete}'s: that one is
 * `synchronous=NORMAL` (in WAL mode: durable when the process dies, not fsynced at once; the next
 * FULL commit — the next begin, a sync mark — fsyncs it with everything before). Power lost in
 * between can only turn a completed row back into `pending`, which the next start marks
 * `interrupted` and reconciles from the card: the write-ahead row that matters — `pending` before
 * the first state-changing APDU — is always fsynced. This halves the fsyncs per service
 * (docs/benchmarks.md). Off the loop (store.ts `fsync: 'off-loop'`, the daemon) every commit is
 * NORMAL and fsynced by the next group sync (durability.ts); the caller of `begin` waits for
 * `durable()` before the card, the caller of `complete` does not.
 *
 * On start-up the daemon calls {@link Operations.markInterrupted}: rows still `pending` were cut
 * off (power loss, crash) and become `interrupted`. Rows completed with outcome `unknown` (the card
 * was pulled, or the transport failed, while a state-changing command was in flight) are in the
 * same position. When such a card is seen again ({@link Operations.findUnreconciled}), the daemon
 * re-reads the card and records what it found with {@link Operations.reconcile}, a new row linked
 * to the interrupted or unknown one.
 */
import type Database from 'better-sqlite3';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import type { Hotlist } from './hotlist.js';
import type { CardIdentity, MaskedAgent, MaskedIdentity } from './identity.js';
import type { AgentIdentity } from '../../state/agents.js';
import type { JournalStore } from './store.js';
import { notFound } from './store.js';
import { ACTOR_ID_PATTERN, CARD_STATES, OPERATION_KINDS, OUTCOMES, REASON_PATTERN, SERVICE_ITEM_PATTERN, checkInt, checkMaterialList, checkOneOf, checkPattern, checkRole, onlyKeys } from './types.js';
import type { BeginInput, CardState, CompleteInput, OperationKind, OperationRow, OperationState, Outcome, ReconcileInput, RefusalInput, SyncState } from './types.js';
import type { Role } from '../../state/roles.js';

export interface ListOptions {
  readonly limit?: number;
  /** Only rows with seq below this (paging newest first). */
  readonly beforeSeq?: number;
  readonly state?: OperationState;
  readonly syncState?: SyncState;
  /** Only rows started at or after this time (Unix ms). */
  readonly since?: number;
}

/** An `operations` row as SQLite returns it. */
export interface DbRow {
  seq: number;
  id: string;
  terminal_id: string;
  operator_id: string | null;
  service_item: string;
  kind: OperationKind;
  role: Role;
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
  agent_basis: string | null;
  agent: Buffer | null;
  agent_masked: string | null;
}

export const COLUMNS =
  'seq, id, terminal_id, operator_id, service_item, kind, role, state, outcome, reason, last_sw, tries_left, card_state, materials, missing, started_at, finished_at, sync_state, synced_at, reconciles, card_hash, card_masked, identity, key_id, agent_basis, agent, agent_masked';

export function toRow(r: DbRow): OperationRow {
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
    agent: r.agent_masked === null ? null : (JSON.parse(r.agent_masked) as MaskedAgent),
  };
}

/** Rows a re-read of the card may settle: interrupted ones, and completed ones whose outcome is unknown (never a reconciliation itself). */
const UNRECONCILED = `(o.state = 'interrupted' OR (o.state = 'completed' AND o.outcome = 'unknown' AND o.reconciles IS NULL))
  AND NOT EXISTS (SELECT 1 FROM operations r WHERE r.reconciles = o.id)`;

function result(input: { reason?: unknown; lastSw?: unknown; triesLeft?: unknown; cardState?: unknown }) {
  return {
    reason: input.reason === undefined ? null : checkPattern('reason', input.reason, REASON_PATTERN),
    last_sw: input.lastSw === undefined ? null : checkInt('lastSw', input.lastSw, 0, 0xffff),
    tries_left: input.triesLeft === undefined ? null : checkInt('triesLeft', input.triesLeft, 0, 15),
    card_state: input.cardState === undefined ? null : checkOneOf('cardState', input.cardState, CARD_STATES),
  };
}

function common(input: { serviceItem: unknown; kind: unknown; role: unknown; operatorId?: unknown; materials?: unknown }) {
  return {
    service_item: checkPattern('serviceItem', input.serviceItem, SERVICE_ITEM_PATTERN),
    kind: checkOneOf('kind', input.kind, OPERATION_KINDS),
    role: checkRole('role', input.role),
    operator_id: input.operatorId === undefined ? null : checkPattern('operatorId', input.operatorId, ACTOR_ID_PATTERN),
    materials: JSON.stringify(checkMaterialList('materials', input.materials)),
  };
}

export class Operations {
  private readonly st: ReturnType<typeof prepare>;

  public constructor(
    private readonly store: JournalStore,
    private readonly hotlist: Hotlist,
  ) {
    this.st = prepare(store.db);
  }

  /**
   * Write the `pending` row of a card-changing operation, durably, BEFORE its first
   * state-changing APDU; returns the operation id. A hotlisted card is refused here: the refusal
   * is journaled and Journal_CardHotlisted thrown (its context carries the refusal's id).
   */
  public begin(input: BeginInput): string {
    const terminal = this.store.requireWritable();
    onlyKeys(input, ['serviceItem', 'kind', 'role', 'operatorId', 'card', 'materials', 'agent'], 'begin');
    const c = common(input);
    if (input.card === undefined) checkPattern('card', undefined, /^$/);
    if (this.hotlist.isListed(input.card)) {
      const refusalId = this.refusal({ ...input, reason: 'hotlisted' });
      this.store.log.warn('operation refused: card hotlisted', { refusalId, kind: c.kind });
      throw new SsCardError(
        ErrorCode.Journal_CardHotlisted,
        {
          zh: '此卡已挂失（在挂失名单中），不能办理本业务。请持本人身份证原件到社保服务窗口办理解挂或补换卡',
          en: 'this card has been reported lost (it is on the hotlist) and cannot be used for this service. Take your resident ID card to a social security service window to cancel the loss report or replace the card',
        },
        { refusalId },
      );
    }
    const id = this.store.ids.next();
    const now = this.store.now();
    this.st.insert.run({
      id,
      terminal_id: terminal,
      ...c,
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
      ...this.store.identityColumns(id, input.card),
      ...this.store.agentColumns(id, input.agent),
    });
    this.store.log.debug('operation begun', { id, kind: c.kind });
    return id;
  }

  /** Complete a `pending` operation (Journal_NotFound / Journal_BadTransition otherwise). */
  public complete(id: string, input: CompleteInput): void {
    this.store.requireWritable();
    onlyKeys(input, ['outcome', 'reason', 'lastSw', 'triesLeft', 'cardState'], 'complete');
    const outcome = checkOneOf('outcome', input.outcome, OUTCOMES.filter((o) => o !== 'refused'));
    const db = this.store.db;
    // NORMAL for this commit only (see the file comment): the pending row is already durable.
    // Inside a caller's transaction the level cannot change (and the commit is the caller's).
    const relax = !db.inTransaction && !this.store.syncsOffLoop;
    if (relax) db.pragma('synchronous = NORMAL');
    let res: { changes: number };
    try {
      res = this.st.complete.run({ id, outcome, ...result(input), finished_at: this.store.now() });
    } finally {
      if (relax) db.pragma('synchronous = FULL');
    }
    if (res.changes === 1) {
      this.store.log.debug('operation completed', { id, outcome });
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
  public refusal(input: RefusalInput): string {
    const terminal = this.store.requireWritable();
    onlyKeys(input, ['serviceItem', 'kind', 'role', 'operatorId', 'card', 'materials', 'missing', 'reason', 'lastSw', 'triesLeft', 'agent'], 'refusal');
    const c = common(input);
    const r = result(input);
    if (r.reason === null) checkPattern('reason', undefined, REASON_PATTERN);
    const id = this.store.ids.next();
    const now = this.store.now();
    this.st.insert.run({
      id,
      terminal_id: terminal,
      ...c,
      state: 'completed',
      outcome: 'refused',
      ...r,
      missing: JSON.stringify(checkMaterialList('missing', input.missing)),
      started_at: now,
      finished_at: now,
      reconciles: null,
      ...this.store.identityColumns(id, input.card),
      ...this.store.agentColumns(id, input.agent),
    });
    this.store.log.info('refusal journaled', { id, kind: c.kind, reason: r.reason });
    return id;
  }

  /** Start-up: every `pending` row becomes `interrupted` (outcome unknown). Returns their ids. */
  public markInterrupted(): string[] {
    this.store.requireWritable();
    const ids = this.store.transaction(() => {
      const found = (this.st.pendingIds.all() as { id: string }[]).map((r) => r.id);
      if (found.length > 0) this.st.interrupt.run(this.store.now());
      return found;
    });
    if (ids.length > 0) this.store.log.warn('operations interrupted by the last stop', { count: ids.length, ids });
    return ids;
  }

  /**
   * Operations of this card whose outcome only a re-read of the card can settle, with no
   * reconciliation yet (oldest first): `interrupted` rows (the daemon stopped) and rows completed
   * with outcome `unknown` (the card was pulled or the transport failed mid-command). A
   * reconciliation row is never returned, even when its own outcome is unknown.
   */
  public findUnreconciled(card: CardIdentity | string): OperationRow[] {
    return (this.st.unreconciled.all(this.store.hashOf(card)) as DbRow[]).map(toRow);
  }

  /**
   * Record what the card showed when seen again after an interruption or an unknown outcome: a new
   * completed row with the same service item, kind, role and card, `reconciles` = that row's id.
   * Returns its id. Journal_BadTransition for any other row, or one already reconciled.
   */
  public reconcile(interruptedId: string, input: ReconcileInput): string {
    const terminal = this.store.requireWritable();
    onlyKeys(input, ['outcome', 'reason', 'lastSw', 'triesLeft', 'cardState', 'operatorId'], 'reconcile');
    const outcome = checkOneOf('outcome', input.outcome, OUTCOMES.filter((o) => o !== 'refused'));
    const r = result(input);
    return this.store.transaction(() => {
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
      const id = this.store.ids.next();
      const now = this.store.now();
      const identity = raw.identity === null ? undefined : this.store.requireKeys({ zh: '核对', en: 'reconcile' }).open(raw.identity, raw.id);
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
        ...r,
        reason: r.reason ?? 'reconciled',
        started_at: now,
        finished_at: now,
        reconciles: interruptedId,
        ...this.store.identityColumns(id, identity),
        // A reconciliation records what the card says now; who applied stays on the row it settles.
        ...this.store.agentColumns(id, undefined),
      });
      this.store.log.info('interrupted operation reconciled', { id, interruptedId, outcome });
      return id;
    });
  }

  /** One row (Journal_NotFound if absent). */
  public get(id: string): OperationRow {
    return toRow(this.raw(id));
  }

  /** One row as stored (Journal_NotFound if absent). */
  public raw(id: string): DbRow {
    const r = this.st.byId.get(id) as DbRow | undefined;
    if (r === undefined) throw notFound(id);
    return r;
  }

  /** Decrypt a row's card identity (needs the key file); null when the row has no card. */
  public reveal(id: string): CardIdentity | null {
    const r = this.raw(id);
    if (r.identity === null) return null;
    const keys = this.store.requireKeys({ zh: '显示完整身份', en: '--reveal' });
    if (r.key_id !== keys.keyId) {
      throw new SsCardError(
        ErrorCode.Journal_KeyMismatch,
        { zh: `记录 ${id} 用另一把密钥（${r.key_id ?? '?'}）加密；请使用该日志的密钥文件`, en: `record ${id} was encrypted under another key (${r.key_id ?? '?'}); use this journal's key file` },
        { id },
      );
    }
    return keys.open(r.identity, r.id);
  }

  /** Decrypt a row's agent (needs the key file); null when the holder applied. */
  public revealAgent(id: string): AgentIdentity | null {
    const r = this.raw(id);
    if (r.agent === null) return null;
    return this.store.requireKeys({ zh: '显示代办人身份', en: '--reveal' }).openAgent(r.agent, r.id);
  }

  /** Every operation of a card, oldest first (hash from the store's `cardHash`, or the identity). */
  public findByCard(card: CardIdentity | string): OperationRow[] {
    return (this.st.byCard.all(this.store.hashOf(card)) as DbRow[]).map(toRow);
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
    if (opts.since !== undefined) {
      where.push('started_at >= ?');
      args.push(checkInt('since', opts.since, 0, Number.MAX_SAFE_INTEGER));
    }
    const limit = opts.limit ?? 50;
    checkInt('limit', limit, 1, 1_000_000);
    // With `since` (the counter page's "today"), the rows from the started_at index: SQLite would
    // rather walk seq backwards for the ORDER BY … LIMIT, to the first row when fewer match.
    const from = opts.since === undefined ? 'operations' : 'operations INDEXED BY operations_started';
    const sql = `SELECT ${COLUMNS} FROM ${from} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    return (this.store.db.prepare(sql).all(...args, limit) as DbRow[]).map(toRow);
  }

  /** Every row, oldest first, streamed from SQLite (bounded memory: for export). */
  public *iterate(): Generator<OperationRow> {
    for (const r of this.st.all.iterate() as IterableIterator<DbRow>) yield toRow(r);
  }

  /**
   * How many rows there are, and how many are pending: the count the triggers keep and the partial
   * index of pending rows (schema.ts, version 7), never a scan of the rows — cheap at any size.
   */
  public sizes(): { total: number; pending: number } {
    return { total: (this.st.total.get() as { n: number }).n, pending: (this.st.pendingCount.get() as { n: number }).n };
  }

  /**
   * The counts of the journal's stats that are about operations. Each group scans every row (about
   * 45 ms per query at 100,000 rows on the machines of docs/benchmarks.md): for `sscard journal
   * stats`, not for a path the daemon takes while it serves; that is {@link sizes}.
   */
  public counts() {
    const db = this.store.db;
    const count = (sql: string): number => (db.prepare(sql).get() as { n: number }).n;
    const grouped = <K extends string>(col: string, keys: readonly K[]): Record<K, number> => {
      const out = Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
      for (const r of db.prepare(`SELECT ${col} AS k, count(*) AS n FROM operations WHERE ${col} IS NOT NULL GROUP BY ${col}`).all() as { k: K; n: number }[]) {
        if (r.k in out) out[r.k] = r.n;
      }
      return out;
    };
    return {
      total: count('SELECT count(*) AS n FROM operations'),
      byState: grouped('state', ['pending', 'completed', 'interrupted'] as const),
      bySync: grouped('sync_state', ['unsynced', 'synced', 'rejected'] as const),
      byOutcome: grouped('outcome', OUTCOMES),
      newestAt: (db.prepare('SELECT max(started_at) AS t FROM operations').get() as { t: number | null }).t,
      interruptedUnreconciled: count(
        "SELECT count(*) AS n FROM operations o WHERE state = 'interrupted' AND NOT EXISTS (SELECT 1 FROM operations r WHERE r.reconciles = o.id)",
      ),
      unknownUnreconciled: count(
        "SELECT count(*) AS n FROM operations o WHERE state = 'completed' AND outcome = 'unknown' AND reconciles IS NULL AND NOT EXISTS (SELECT 1 FROM operations r WHERE r.reconciles = o.id)",
      ),
    };
  }
}

function prepare(d: Database.Database) {
  return {
    insert: d.prepare(
      `INSERT INTO operations (id, terminal_id, operator_id, service_item, kind, role, state, outcome, reason, last_sw, tries_left, card_state,
         materials, missing, started_at, finished_at, reconciles, card_hash, person_hash, card_masked, identity, key_id, agent_basis, agent, agent_masked)
       VALUES (@id, @terminal_id, @operator_id, @service_item, @kind, @role, @state, @outcome, @reason, @last_sw, @tries_left, @card_state,
         @materials, @missing, @started_at, @finished_at, @reconciles, @card_hash, @person_hash, @card_masked, @identity, @key_id, @agent_basis, @agent, @agent_masked)`,
    ),
    complete: d.prepare(
      `UPDATE operations SET state = 'completed', outcome = @outcome, reason = @reason, last_sw = @last_sw, tries_left = @tries_left,
         card_state = @card_state, finished_at = @finished_at WHERE id = @id AND state = 'pending'`,
    ),
    byId: d.prepare(`SELECT ${COLUMNS} FROM operations WHERE id = ?`),
    pendingIds: d.prepare("SELECT id FROM operations WHERE state = 'pending' ORDER BY seq"),
    // The count the triggers keep (schema 7); the pending count reads the partial index operations_pending.
    total: d.prepare('SELECT n FROM operations_count WHERE one = 1'),
    pendingCount: d.prepare("SELECT count(*) AS n FROM operations WHERE state = 'pending'"),
    interrupt: d.prepare("UPDATE operations SET state = 'interrupted', outcome = 'unknown', reason = 'interrupted', finished_at = ? WHERE state = 'pending'"),
    byCard: d.prepare(`SELECT ${COLUMNS} FROM operations WHERE card_hash = ? ORDER BY seq`),
    unreconciled: d.prepare(`SELECT ${COLUMNS} FROM operations o WHERE card_hash = ? AND ${UNRECONCILED} ORDER BY seq`),
    reconciledBy: d.prepare('SELECT id FROM operations WHERE reconciles = ?'),
    all: d.prepare(`SELECT ${COLUMNS} FROM operations ORDER BY seq`),
  };
}
