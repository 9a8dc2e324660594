/**
 * The bank-account activation requests (seed 000 行使内容 2, docs/service-items/000_1700379f35991b5f.txt),
 * table `bank_requests`, schema 2: a card activated at a financial window gets its bank-account
 * activation recorded as a separate request for the bank, `pending` until handed over (`sent`).
 * The card is stored as operations store it (encrypted identity, keyed hashes, masked form).
 */
import type Database from 'better-sqlite3';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import type { CardIdentity, MaskedIdentity } from './identity.js';
import type { JournalStore } from './store.js';
import { notFound } from './store.js';
import { ACTOR_ID_PATTERN, BANK_REQUEST_STATUSES, checkInt, checkOneOf, checkPattern, onlyKeys } from './types.js';
import type { BankRequestInput, BankRequestRow, BankRequestStatus } from './types.js';

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

/** A pending request with its card identity decrypted, for the sync worker. */
export interface BankRequestWithIdentity {
  readonly row: BankRequestRow;
  readonly identity: CardIdentity;
}

/** What a bank request needs to know of its activation. */
interface ActivationRow {
  id: string;
  kind: string;
  state: string;
  outcome: string | null;
  role: string;
  card_hash: string | null;
}

export class BankRequests {
  private readonly st: ReturnType<typeof prepare>;

  public constructor(private readonly store: JournalStore) {
    this.st = prepare(store.db);
  }

  /**
   * Record the bank-account activation request of a card just activated at a financial window:
   * `pending` until {@link markSent}. The activation must be a completed `ok` activate row of
   * role financial-counter, of this card, without a request yet (Journal_NotFound,
   * Journal_BadTransition otherwise). Returns the request id.
   */
  public record(input: BankRequestInput): string {
    const terminal = this.store.requireWritable();
    onlyKeys(input, ['operationId', 'card', 'operatorId'], 'bankRequest');
    const operatorId = input.operatorId === undefined ? null : checkPattern('operatorId', input.operatorId, ACTOR_ID_PATTERN);
    if (input.card === undefined) checkPattern('card', undefined, /^$/);
    const cardHash = this.store.cardHash(input.card);
    return this.store.transaction(() => {
      const op = this.st.activation.get(input.operationId) as ActivationRow | undefined;
      if (op === undefined) throw notFound(String(input.operationId));
      const problem =
        op.kind !== 'activate' || op.state !== 'completed' || op.outcome !== 'ok'
          ? { zh: `记录 ${op.id} 不是成功完成的社保卡启用`, en: `record ${op.id} is not a completed successful activation` }
          : op.role !== 'financial-counter'
            ? { zh: `记录 ${op.id} 不是在金融窗口办理的（非金融窗口无法办理银行账户激活）`, en: `record ${op.id} was not done at a financial window (a non-financial window cannot activate the bank account)` }
            : op.card_hash !== cardHash
              ? { zh: `记录 ${op.id} 是另一张卡的`, en: `record ${op.id} is another card's` }
              : undefined;
      if (problem !== undefined) throw new SsCardError(ErrorCode.Journal_BadTransition, { zh: `${problem.zh}，不能为其登记银行账户激活申请`, en: `${problem.en}; no bank request can be recorded for it` }, { id: op.id });
      const existing = this.st.byOperation.get(op.id) as { id: string } | undefined;
      if (existing !== undefined) {
        throw new SsCardError(
          ErrorCode.Journal_BadTransition,
          { zh: `启用记录 ${op.id} 已有银行账户激活申请 ${existing.id}`, en: `activation ${op.id} already has bank request ${existing.id}` },
          { id: op.id, requestId: existing.id },
        );
      }
      const id = this.store.ids.next();
      const cols = this.store.identityColumns(id, input.card);
      this.st.insert.run({ id, operation_id: op.id, terminal_id: terminal, operator_id: operatorId, created_at: this.store.now(), ...cols });
      this.store.log.info('bank request recorded', { id, operationId: op.id });
      return id;
    });
  }

  /** One bank request (Journal_NotFound if absent), identity masked. */
  public get(id: string): BankRequestRow {
    return toBankRow(this.raw(id));
  }

  /** Bank requests, oldest first, optionally of one status. */
  public list(opts: { readonly status?: BankRequestStatus; readonly limit?: number } = {}): BankRequestRow[] {
    const limit = opts.limit ?? 1000;
    checkInt('limit', limit, 1, 1_000_000);
    const status = opts.status === undefined ? undefined : checkOneOf('status', opts.status, BANK_REQUEST_STATUSES);
    const db = this.store.db;
    const rows = (
      status === undefined
        ? db.prepare(`SELECT ${BANK_COLUMNS} FROM bank_requests ORDER BY seq LIMIT ?`).all(limit)
        : db.prepare(`SELECT ${BANK_COLUMNS} FROM bank_requests WHERE status = ? ORDER BY seq LIMIT ?`).all(status, limit)
    ) as DbBankRow[];
    return rows.map(toBankRow);
  }

  /** Decrypt a bank request's card identity, for handing it to the bank (needs the key file). */
  public reveal(id: string): CardIdentity {
    const r = this.raw(id);
    const keys = this.store.requireKeys({ zh: '显示银行申请的完整身份', en: 'revealing a bank request' });
    if (r.key_id !== keys.keyId) {
      throw new SsCardError(
        ErrorCode.Journal_KeyMismatch,
        { zh: `银行申请 ${id} 用另一把密钥（${r.key_id}）加密；请使用该日志的密钥文件`, en: `bank request ${id} was encrypted under another key (${r.key_id}); use this journal's key file` },
        { id },
      );
    }
    return keys.open(r.identity, r.id);
  }

  /**
   * Pending requests after `afterSeq`, oldest first, at most `limit`, each with its card identity
   * decrypted: what the sync worker carries to the platform (docs/sync-protocol.md "Push bank
   * requests"; the bank needs the card and holder in full). Needs the key file.
   */
  public pendingPage(afterSeq: number, limit: number): BankRequestWithIdentity[] {
    checkInt('afterSeq', afterSeq, 0, Number.MAX_SAFE_INTEGER);
    checkInt('limit', limit, 1, 1_000_000);
    const rows = this.st.pendingPage.all(afterSeq, limit) as DbBankRow[];
    if (rows.length === 0) return [];
    const keys = this.store.requireKeys({ zh: '向平台发送银行账户激活申请', en: 'sending bank requests to the platform' });
    return rows.map((r) => {
      if (r.key_id !== keys.keyId) {
        throw new SsCardError(
          ErrorCode.Journal_KeyMismatch,
          { zh: `银行申请 ${r.id} 用另一把密钥（${r.key_id}）加密；请使用该日志的密钥文件`, en: `bank request ${r.id} was encrypted under another key (${r.key_id}); use this journal's key file` },
          { id: r.id },
        );
      }
      return { row: toBankRow(r), identity: keys.open(r.identity, r.id) };
    });
  }

  /**
   * The request was handed on — the platform acknowledged it (docs/sync-protocol.md "Push bank
   * requests"): `sent` (once; false when it was not pending).
   */
  public markSent(id: string): boolean {
    this.store.requireWritable();
    this.raw(id);
    return this.st.markSent.run(this.store.now(), id).changes === 1;
  }

  /** Pending requests: how many, and when the oldest was recorded (cheap: for status displays). */
  public backlog(): { count: number; oldestCreatedAt: number | null } {
    const r = this.st.backlog.get() as { n: number; oldest: number | null };
    return { count: r.n, oldestCreatedAt: r.oldest };
  }

  /** The request status of each of these activations that has one (SSCard.Operations shows it). */
  public statusOfOperations(operationIds: readonly string[]): Map<string, BankRequestStatus> {
    const out = new Map<string, BankRequestStatus>();
    for (const id of operationIds) {
      const r = this.st.statusOfOperation.get(id) as { status: BankRequestStatus } | undefined;
      if (r !== undefined) out.set(id, r.status);
    }
    return out;
  }

  /** Delete requests sent before `cutoff` (Unix ms); pending ones are never purged. Returns how many. */
  public purgeSent(cutoff: number): number {
    return this.st.purge.run(cutoff).changes;
  }

  /** Requests by status. */
  public counts(): Record<BankRequestStatus, number> {
    const out: Record<BankRequestStatus, number> = { pending: 0, sent: 0 };
    for (const r of this.store.db.prepare('SELECT status AS k, count(*) AS n FROM bank_requests GROUP BY status').all() as { k: BankRequestStatus; n: number }[]) out[r.k] = r.n;
    return out;
  }

  private raw(id: string): DbBankRow {
    const r = this.st.byId.get(id) as DbBankRow | undefined;
    if (r === undefined) throw notFound(id);
    return r;
  }
}

function prepare(d: Database.Database) {
  return {
    activation: d.prepare('SELECT id, kind, state, outcome, role, card_hash FROM operations WHERE id = ?'),
    insert: d.prepare(
      `INSERT INTO bank_requests (id, operation_id, terminal_id, operator_id, status, created_at, sent_at, card_hash, person_hash, card_masked, identity, key_id)
       VALUES (@id, @operation_id, @terminal_id, @operator_id, 'pending', @created_at, NULL, @card_hash, @person_hash, @card_masked, @identity, @key_id)`,
    ),
    byId: d.prepare(`SELECT ${BANK_COLUMNS} FROM bank_requests WHERE id = ?`),
    byOperation: d.prepare('SELECT id FROM bank_requests WHERE operation_id = ?'),
    pendingPage: d.prepare(`SELECT ${BANK_COLUMNS} FROM bank_requests WHERE status = 'pending' AND seq > ? ORDER BY seq LIMIT ?`),
    backlog: d.prepare("SELECT count(*) AS n, min(created_at) AS oldest FROM bank_requests WHERE status = 'pending'"),
    statusOfOperation: d.prepare('SELECT status FROM bank_requests WHERE operation_id = ?'),
    markSent: d.prepare("UPDATE bank_requests SET status = 'sent', sent_at = ? WHERE id = ? AND status = 'pending'"),
    purge: d.prepare("DELETE FROM bank_requests WHERE status = 'sent' AND sent_at < ?"),
  };
}
