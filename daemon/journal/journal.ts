/**
 * The offline transaction journal: one SQLite row per service operation, durable before the card
 * is touched, synced to the platform later (daemon/sync). `Journal` puts the parts together around
 * one connection and is what the rest of the house uses:
 *
 * - store.ts: the connection — open, pragmas, integrity check, migrations (schema.ts), key file,
 *   terminal id, `meta`;
 * - operations.ts: write-ahead intent (begin before the first state-changing APDU, complete),
 *   refusals, interruption and reconciliation, reading rows back;
 * - outbox.ts: what the sync worker pages, acknowledges and rejects;
 * - bank-requests.ts: the bank-account activation requests of a financial window (schema 2);
 * - audit.ts: the audit trail of privileged calls and operator sign-ins (schema 3, local only);
 * - hotlist.ts: the lost-card hotlist pulled from the platform.
 *
 * Retention ({@link Journal.purge}) spans three of them and lives here.
 */
import type { AgentIdentity } from '../../state/agents.js';
import type { CardIdentity } from './identity.js';
import { AuditTrail } from './audit.js';
import { BankRequests } from './bank-requests.js';
import type { BankRequestWithIdentity } from './bank-requests.js';
import { Hotlist } from './hotlist.js';
import type { HotlistUpdate } from './hotlist.js';
import { Operations } from './operations.js';
import type { ListOptions } from './operations.js';
import { SyncOutbox } from './outbox.js';
import type { RowWithIdentity } from './outbox.js';
import { LATEST_SCHEMA_VERSION } from './schema.js';
import { JournalStore } from './store.js';
import type { JournalOptions, OffLoopStats } from './store.js';
import { checkInt } from './types.js';
import type {
  AuditInput,
  AuditQuery,
  AuditRow,
  BankRequestInput,
  BankRequestRow,
  BankRequestStatus,
  BeginInput,
  CompleteInput,
  JournalStats,
  JournalSummary,
  OperationRow,
  ReconcileInput,
  RefusalInput,
} from './types.js';

export type { BankRequestWithIdentity, HotlistUpdate, JournalOptions, ListOptions, OffLoopStats, RowWithIdentity };

export const DEFAULT_RETENTION_MS = 90 * 24 * 3600 * 1000;

export class Journal {
  private readonly operations: Operations;
  private readonly outbox: SyncOutbox;
  private readonly bank: BankRequests;
  private readonly trail: AuditTrail;
  private readonly hotlist: Hotlist;

  private constructor(private readonly store: JournalStore) {
    this.hotlist = new Hotlist(store);
    this.operations = new Operations(store, this.hotlist);
    this.outbox = new SyncOutbox(store);
    this.bank = new BankRequests(store);
    this.trail = new AuditTrail(store);
  }

  /**
   * Open (or create) a journal: pragmas, integrity check, migrations, key file. Throws
   * Journal_Corrupt, Journal_OpenFailed, Journal_SchemaTooNew, Journal_KeyFile, Journal_KeyMismatch.
   */
  public static open(opts: JournalOptions): Journal {
    return new Journal(JournalStore.open(opts));
  }

  public get path(): string {
    return this.store.path;
  }

  /** The terminal id rows are written under (undefined: read-only use). */
  public get terminalId(): string | undefined {
    return this.store.terminalId;
  }

  // ---- operations (operations.ts) ----

  /** Write the `pending` row before the first state-changing APDU (operations.ts `begin`); a hotlisted card is refused. */
  public beginOperation(input: BeginInput): string {
    return this.written(this.operations.begin(input));
  }

  /** Complete a `pending` operation (operations.ts `complete`). */
  public completeOperation(id: string, input: CompleteInput): void {
    this.operations.complete(id, input);
    this.store.wrote();
  }

  /** Journal a refusal: a completed row with outcome `refused`. */
  public recordRefusal(input: RefusalInput): string {
    return this.written(this.operations.refusal(input));
  }

  /** Start-up: every `pending` row becomes `interrupted` (outcome unknown). Returns their ids. */
  public markInterrupted(): string[] {
    return this.written(this.operations.markInterrupted());
  }

  /** This card's interrupted or unknown-outcome operations not reconciled yet, oldest first. */
  public findUnreconciled(card: CardIdentity | string): OperationRow[] {
    return this.operations.findUnreconciled(card);
  }

  /** Record what the card showed when seen again: a new row linked to the interrupted or unknown one. */
  public reconcile(interruptedId: string, input: ReconcileInput): string {
    return this.written(this.operations.reconcile(interruptedId, input));
  }

  /** Run several writes as one transaction (one fsync). Nested calls become savepoints. */
  public transaction<T>(fn: () => T): T {
    return this.written(this.store.transaction(fn));
  }

  /** One row (Journal_NotFound if absent). */
  public get(id: string): OperationRow {
    return this.operations.get(id);
  }

  /** Decrypt a row's card identity (needs the key file); null when the row has no card. */
  public reveal(id: string): CardIdentity | null {
    return this.operations.reveal(id);
  }

  /** Decrypt the identity of the agent who applied for the holder on row `id` (state/agents.ts); null when the holder applied. */
  public revealAgent(id: string): AgentIdentity | null {
    return this.operations.revealAgent(id);
  }

  /** Every operation of a card, oldest first (hash from {@link cardHash}, or the identity). */
  public findByCard(card: CardIdentity | string): OperationRow[] {
    return this.operations.findByCard(card);
  }

  /** Newest first, paged by `beforeSeq`. */
  public list(opts: ListOptions = {}): OperationRow[] {
    return this.operations.list(opts);
  }

  /** Every row, oldest first, streamed from SQLite (bounded memory: for export). */
  public iterate(): Generator<OperationRow> {
    return this.operations.iterate();
  }

  /** The look-up handle of a card (HMAC of its identification code), for {@link findByCard}. */
  public cardHash(card: CardIdentity | string): string {
    return this.store.cardHash(card);
  }

  // ---- sync outbox (outbox.ts) ----

  /** Unsynced, finished rows after `afterSeq`, oldest first, at most `limit`; identities decrypted if `withIdentity`. */
  public unsyncedPage(afterSeq: number, limit: number, withIdentity: boolean): RowWithIdentity[] {
    return this.outbox.unsyncedPage(afterSeq, limit, withIdentity);
  }

  /** Mark acknowledged rows synced (one transaction). Returns how many changed. */
  public markSynced(ids: readonly string[]): number {
    return this.written(this.outbox.markSynced(ids));
  }

  /** The platform refused these rows for good: they stay (never purged) as `rejected`. */
  public markRejected(ids: readonly string[], reason?: string): number {
    return this.written(this.outbox.markRejected(ids, reason));
  }

  /** Rows waiting for the platform, and when the oldest finished. */
  public backlog(): { count: number; oldestFinishedAt: number | null } {
    return this.outbox.backlog();
  }

  /** Rows the platform refused for good (cheap: for status displays). */
  public rejectedCount(): number {
    return this.outbox.rejectedCount();
  }

  public getMeta(key: string): string | null {
    return this.store.getMeta(key);
  }

  public setMeta(key: string, value: string): void {
    this.store.setMeta(key, value);
    this.store.wrote();
  }

  // ---- bank-account activation requests (bank-requests.ts) ----

  /** Record the bank-account activation request of a card just activated at a financial window. */
  public recordBankRequest(input: BankRequestInput): string {
    return this.written(this.bank.record(input));
  }

  /** One bank request (Journal_NotFound if absent), identity masked. */
  public getBankRequest(id: string): BankRequestRow {
    return this.bank.get(id);
  }

  /** Bank requests, oldest first, optionally of one status. */
  public bankRequests(opts: { readonly status?: BankRequestStatus; readonly limit?: number } = {}): BankRequestRow[] {
    return this.bank.list(opts);
  }

  /** Decrypt a bank request's card identity, for handing it to the bank (needs the key file). */
  public revealBankRequest(id: string): CardIdentity {
    return this.bank.reveal(id);
  }

  /** Pending bank requests after `afterSeq`, oldest first, identities decrypted: what the sync worker sends. */
  public pendingBankRequests(afterSeq: number, limit: number): BankRequestWithIdentity[] {
    return this.bank.pendingPage(afterSeq, limit);
  }

  /** The platform acknowledged the request (daemon/sync/worker.ts): `sent` (once; false when it was not pending). */
  public markBankRequestSent(id: string): boolean {
    return this.written(this.bank.markSent(id));
  }

  /** Pending bank requests: how many, and when the oldest was recorded. */
  public bankBacklog(): { count: number; oldestCreatedAt: number | null } {
    return this.bank.backlog();
  }

  /** Bank requests by status (cheap: for status displays). */
  public bankRequestCounts(): Record<BankRequestStatus, number> {
    return this.bank.counts();
  }

  /** The bank request status of each of these activations that has one. */
  public bankRequestStatusOf(operationIds: readonly string[]): Map<string, BankRequestStatus> {
    return this.bank.statusOfOperations(operationIds);
  }

  // ---- audit trail (audit.ts) ----

  /** Record an audit entry (audit.ts `record`); returns its id. Local only, purged with {@link purge}. */
  public recordAudit(input: AuditInput): string {
    return this.written(this.trail.record(input));
  }

  /** Audit entries, newest first: of one operator ('' : calls refused with no operator), since a time, at most `limit` (default 50). */
  public audit(opts: AuditQuery = {}): AuditRow[] {
    return this.trail.query(opts);
  }

  // ---- hotlist (hotlist.ts) ----

  /** Is this card on the lost-card hotlist? (False when no key: nothing can have been pulled.) */
  public isHotlisted(card: CardIdentity | string): boolean {
    return this.hotlist.isListed(card);
  }

  /** Apply an update pulled from the platform, atomically with its version. */
  public applyHotlist(update: HotlistUpdate): void {
    this.hotlist.apply(update);
    this.store.wrote();
  }

  public hotlistVersion(): string | null {
    return this.hotlist.version();
  }

  // ---- durability (store.ts, durability.ts) ----

  /**
   * Resolves once every write made so far is on stable storage; Journal_WriteFailed when the
   * storage failed. At once when each commit fsyncs (JournalOptions `fsync`, default); off the
   * loop (the daemon), after the next group fsync. A flow waits for it after its `pending` row
   * and before its first state-changing APDU (docs/journal.md "Durability").
   */
  public durable(): Promise<void> {
    return this.store.durable();
  }

  /** Fsyncs and checkpoints done off the loop (undefined when each commit fsyncs). */
  public get offLoop(): OffLoopStats | undefined {
    return this.store.offLoop;
  }

  private written<T>(result: T): T {
    this.store.wrote();
    return result;
  }

  // ---- the whole journal ----

  /**
   * The journal's figures the daemon reports on every Status, status change and metrics scrape:
   * from indexes and counts, never a scan of every row, so that they cost the event loop the same
   * at any journal size (with retentionDays 0 it only grows). stats() has them all.
   */
  public summary(): JournalSummary {
    const sizes = this.operations.sizes();
    const backlog = this.outbox.backlog();
    return {
      total: sizes.total,
      pending: sizes.pending,
      backlog: backlog.count,
      oldestUnsyncedAt: backlog.oldestFinishedAt,
      bankRequests: this.bank.counts(),
      oldestPendingBankRequestAt: this.bank.backlog().oldestCreatedAt,
      hotlistSize: this.hotlist.size(),
      hotlistVersion: this.hotlist.version(),
      hotlistUpdatedAt: this.hotlist.updatedAt(),
    };
  }

  /** Every figure, some by scanning every row: for `sscard journal stats` (summary() for the daemon). */
  public stats(): JournalStats {
    const { pending, ...summary } = this.summary();
    const ops = this.operations.counts();
    void pending; // byState.pending says it
    return {
      ...summary,
      total: ops.total,
      byState: ops.byState,
      bySync: ops.bySync,
      byOutcome: ops.byOutcome,
      newestAt: ops.newestAt,
      interruptedUnreconciled: ops.interruptedUnreconciled,
      unknownUnreconciled: ops.unknownUnreconciled,
      auditCount: this.trail.count(),
      schemaVersion: LATEST_SCHEMA_VERSION,
    };
  }

  /**
   * Delete synced rows finished more than `olderThanMs` ago (default 90 days), bank requests sent
   * that long ago, and audit entries recorded that long ago (they are local only: nothing waits
   * for them). Unsynced rows and pending bank requests are never purged. Returns the number of
   * operations deleted (the other counts are logged).
   */
  public purge(olderThanMs: number = DEFAULT_RETENTION_MS): number {
    this.store.requireWritable();
    checkInt('olderThanMs', olderThanMs, 0, Number.MAX_SAFE_INTEGER);
    const cutoff = this.store.now() - olderThanMs;
    const { n, bank, audit } = this.store.transaction(() => ({
      n: this.outbox.purgeSynced(cutoff),
      bank: this.bank.purgeSent(cutoff),
      audit: this.trail.purgeBefore(cutoff),
    }));
    this.store.wrote();
    const log = this.store.log;
    if (n > 0) log.info('synced operations purged', { count: n, olderThanMs });
    if (bank > 0) log.info('sent bank requests purged', { count: bank, olderThanMs });
    if (audit > 0) log.info('audit entries purged', { count: audit, olderThanMs });
    return n;
  }

  /** Size in bytes of the database and its WAL. */
  public fileBytes(): number {
    return this.store.fileBytes();
  }

  /** Run PRAGMA integrity_check now; 'ok' or the problems found. */
  public integrityCheck(): string[] {
    return this.store.integrityCheck();
  }

  /** Close the database (checkpoints the WAL). Safe to call twice. */
  public close(): void {
    this.store.close();
  }

  public get isOpen(): boolean {
    return this.store.isOpen;
  }
}

export { isUuidV7 } from '../../core/uuid.js';
