/**
 * Where the reference platform keeps what terminals send (docs/sync-protocol.md): the operations,
 * the bank-account requests and the lost-card hotlist. Two implementations behind one contract
 * (platform/store/contract.ts runs against both):
 *
 * - sqlite-store.ts: one SQLite file, the embedded default (demos, tests, a single node);
 * - pg-store.ts: PostgreSQL, what a province runs — several ingest nodes on one database,
 *   operations partitioned by month of their time.
 *
 * Both are idempotent on the id: a second copy of an operation or a bank request is a duplicate
 * (its copies counted), never a second row. A batch is stored whole or not at all, and durably
 * before the call resolves: the platform acknowledges only what it holds.
 */
import { uuidV7Time } from '../../core/uuid.js';

/** An operation as checked by the server (daemon/sync/wire.ts checkWireOperation). */
export interface OperationIn {
  /** A UUIDv7: its time is the operation's (the partition key on PostgreSQL). */
  readonly id: string;
  readonly serviceItem: string;
  /** The operation as received, stored as JSON. */
  readonly body: unknown;
}

export interface BankRequestIn {
  readonly id: string;
  readonly operationId: string | null;
  readonly body: unknown;
}

/** Which ids of a batch were new, which already held (in the batch's order; an id twice in one batch is new once, then a duplicate). */
export interface PutResult {
  readonly accepted: string[];
  readonly duplicates: string[];
}

export interface HotlistChange {
  readonly cardId: string;
  readonly action: 'add' | 'remove';
}

export interface StoreCounts {
  /** Distinct operations held. */
  readonly operations: number;
  /** Operation copies received in total. */
  readonly received: number;
  readonly bankRequests: number;
  readonly bankRequestsReceived: number;
  readonly hotlistVersion: number;
}

/** A terminal's last heartbeat as the platform keeps it (docs/sync-protocol.md "Heartbeat"). */
export interface TerminalRecord {
  readonly terminalId: string;
  /** When the platform took the last heartbeat (Unix ms, the platform's clock). */
  readonly lastSeenAt: number;
  /** The terminal's clock minus the platform's at that heartbeat (sentAt − receivedAt, ms). */
  readonly skewMs: number;
  /** Operations waiting on the terminal at this heartbeat, and at the one before (null: first). */
  readonly backlog: number;
  readonly previousBacklog: number | null;
  /** The heartbeat as received. */
  readonly heartbeat: unknown;
}

/** A terminal certificate in the registry (keyed by its SHA-256 fingerprint). */
export interface CertificateRecord {
  readonly fingerprint: string;
  readonly terminalId: string;
  readonly subject: string;
  readonly registeredAt: number;
  /** When it was revoked (null: in force). */
  readonly revokedAt: number | null;
}

/** A request the platform refused for who sent it (unknown or revoked certificate, another terminal's id). */
export interface RefusalRecord {
  readonly at: number;
  readonly reason: 'unknown-certificate' | 'revoked-certificate' | 'terminal-mismatch';
  readonly fingerprint: string | null;
  /** The certificate's terminal, and the one the request named, when known. */
  readonly terminalId: string | null;
  readonly claimedTerminalId: string | null;
  readonly path: string;
}

export interface PlatformStore {
  readonly kind: 'sqlite' | 'postgres';
  putOperations(terminalId: string, batchId: string, operations: readonly OperationIn[], receivedAt: number): Promise<PutResult>;
  putBankRequests(terminalId: string, batchId: string, requests: readonly BankRequestIn[], receivedAt: number): Promise<PutResult>;
  /** Append a hotlist change; resolves with the new version. */
  hotlistChange(change: HotlistChange, at: number): Promise<number>;
  hotlistVersion(): Promise<number>;
  /** Changes after `version`, oldest first (all of them with 0). */
  hotlistSince(version: number): Promise<HotlistChange[]>;
  counts(): Promise<StoreCounts>;
  /** Every held operation id with how many copies arrived. */
  operationCopies(): Promise<Map<string, number>>;
  /** Operations held per terminal. */
  operationsPerTerminal(): Promise<Map<string, number>>;
  bankRequestCopies(): Promise<Map<string, number>>;
  /** One operation as received, or undefined. */
  operation(id: string): Promise<unknown>;
  bankRequest(id: string): Promise<unknown>;
  /** Keep a terminal's latest heartbeat (one row per terminal; the backlog before it kept beside). */
  recordHeartbeat(terminalId: string, heartbeat: unknown, backlog: number, skewMs: number, receivedAt: number): Promise<void>;
  /** Every terminal that has sent a heartbeat, by id. */
  terminals(): Promise<TerminalRecord[]>;
  /** Register a terminal certificate (again: the terminal and subject are updated, a revocation stays). */
  registerCertificate(c: Omit<CertificateRecord, 'revokedAt'>): Promise<void>;
  /** Revoke it; false when it is not registered. */
  revokeCertificate(fingerprint: string, at: number): Promise<boolean>;
  certificate(fingerprint: string): Promise<CertificateRecord | undefined>;
  recordRefusal(r: RefusalRecord): Promise<void>;
  /** The newest refusals first. */
  refusals(limit: number): Promise<RefusalRecord[]>;
  close(): Promise<void>;
}

/** The time of an operation: its UUIDv7's millisecond timestamp (core/uuid.ts). */
export const operationTime = (id: string): number => uuidV7Time(id);

/**
 * Split a batch's ids into first occurrences and repeats, in order: what {@link PutResult} says
 * when `isNew(id)` tells whether the store took that id from this batch.
 */
export function splitPut(ids: readonly string[], isNew: (id: string) => boolean): PutResult {
  const accepted: string[] = [];
  const duplicates: string[] = [];
  const seen = new Set<string>();
  for (const id of ids) {
    if (!seen.has(id) && isNew(id)) accepted.push(id);
    else duplicates.push(id);
    seen.add(id);
  }
  return { accepted, duplicates };
}

/** How many copies of each id a batch adds to ones already held: every occurrence but the one inserted. */
export function extraCopies(ids: readonly string[], inserted: ReadonlySet<string>): Map<string, number> {
  const extra = new Map<string, number>();
  for (const id of ids) extra.set(id, (extra.get(id) ?? 0) + 1);
  for (const id of inserted) extra.set(id, (extra.get(id) ?? 1) - 1);
  for (const [id, n] of extra) if (n <= 0) extra.delete(id);
  return extra;
}
