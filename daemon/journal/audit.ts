/**
 * The audit trail (docs/api.md "Operators"), table `audit`, schema 3: every privileged API call
 * with the operator id, the command, the request id and the outcome, and every operator login,
 * failed login, lock, logout and expiry. Audit entries are local only: the sync worker never sends
 * them to the platform. They are purged by age with the same retention as synced operations. They
 * hold no PIN, passphrase or session token: there is no field for one, and the bounded patterns
 * refuse what does not look like an id, a command name or an outcome.
 */
import type Database from 'better-sqlite3';
import type { JournalStore } from './store.js';
import { ACTOR_ID_PATTERN, AUDIT_COMMAND_PATTERN, AUDIT_KINDS, AUDIT_KINDS_WITHOUT_OPERATOR, AUDIT_OUTCOME_PATTERN, checkInt, checkOneOf, checkPattern, onlyKeys } from './types.js';
import type { AuditInput, AuditKind, AuditQuery, AuditRow } from './types.js';

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

export class AuditTrail {
  private readonly st: ReturnType<typeof prepare>;

  public constructor(private readonly store: JournalStore) {
    this.st = prepare(store.db);
  }

  /**
   * Record an audit entry, durably, at the journal's clock: a privileged API call (`command` and
   * `outcome` required; an api `PrivilegedCall` fits as it is: `{ kind: 'privileged-call', ...call }`)
   * or an operator sign-in event (AUDIT_KIND_OF_OPERATOR_EVENT maps `OperatorAuthEvent.type`).
   * `operatorId` is an operator id, or '' for a privileged call refused with no operator and for a
   * failed or locked login whose id is not one. Never give it a PIN, a passphrase or a token: there
   * is no field for one, and anything outside the bounded patterns (or an unknown property) is
   * refused with Journal_InvalidRecord. Returns the entry's id (a UUIDv7, like operation ids).
   */
  public record(input: AuditInput): string {
    const terminal = this.store.requireWritable();
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
    const id = this.store.ids.next();
    this.st.insert.run({ id, at: this.store.now(), terminal_id: terminal, operator_id: operatorId, kind, command, request_id: requestId, outcome });
    this.store.log.debug('audit entry recorded', { id, kind, ...(command === null ? {} : { command }) });
    return id;
  }

  /** Audit entries, newest first: of one operator ('' : calls refused with no operator), since a time, at most `limit` (default 50). */
  public query(opts: AuditQuery = {}): AuditRow[] {
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
    return (this.store.db.prepare(sql).all(...args, limit) as DbAuditRow[]).map(toAuditRow);
  }

  /** Delete entries recorded before `cutoff` (Unix ms): nothing waits for them. Returns how many. */
  public purgeBefore(cutoff: number): number {
    return this.st.purge.run(cutoff).changes;
  }

  public count(): number {
    return (this.store.db.prepare('SELECT count(*) AS n FROM audit').get() as { n: number }).n;
  }
}

function prepare(d: Database.Database) {
  return {
    insert: d.prepare(
      `INSERT INTO audit (id, at, terminal_id, operator_id, kind, command, request_id, outcome)
       VALUES (@id, @at, @terminal_id, @operator_id, @kind, @command, @request_id, @outcome)`,
    ),
    purge: d.prepare('DELETE FROM audit WHERE at < ?'),
  };
}
