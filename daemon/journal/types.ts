/**
 * What a journal row is made of. Every field is a closed set, a number, or a pattern that cannot
 * hold digits where digits would be dangerous: there is no free-text field a PIN, a PIN block, a
 * key or a raw APDU could be put into (the audit entry's command and outcome are names of at most
 * 80 characters without a run of five digits). The inputs are checked at run time as well (unknown
 * properties are refused), so a cast cannot sneak one in either.
 */
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { MATERIALS, type Material } from '../../state/materials.js';
import { ROLES, type Role } from '../../state/roles.js';
import type { OperatorAuthEventType } from '../auth/operators.js';
import type { CardIdentity, MaskedAgent, MaskedIdentity } from './identity.js';
import type { AgentIdentity } from '../../state/agents.js';

/** The card services (state/ machines) plus a plain read. */
export const OPERATION_KINDS = ['activate', 'verify', 'change', 'reset', 'unblock', 'lockout', 'read', 'write'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

/*
 * The terminal's role and the materials presented or missing (收件) are stored in the house's own
 * words: state/roles.ts `Role` and state/materials.ts `Material` (only the type of a material, never
 * a number from it). The sync wire translates them (daemon/sync/to-wire.ts).
 */

/**
 * ok: done; failed: the card or the platform said no (see reason, lastSw); refused: the terminal
 * refused before touching the card (hotlisted, materials missing, role not allowed);
 * cancelled: the holder or operator stopped; unknown: interrupted, outcome not known.
 */
export const OUTCOMES = ['ok', 'failed', 'refused', 'cancelled', 'unknown'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** The card's state as observed (used when reconciling an interrupted operation): state/card-state.ts. */
import type { CardState } from '../../state/card-state.js';
export { CARD_STATES, type CardState } from '../../state/card-state.js';

export const OPERATION_STATES = ['pending', 'completed', 'interrupted'] as const;
export type OperationState = (typeof OPERATION_STATES)[number];

export const SYNC_STATES = ['unsynced', 'synced', 'rejected'] as const;
export type SyncState = (typeof SYNC_STATES)[number];

/** A bank-account activation request: recorded (`pending`) until handed to the bank (`sent`). */
export const BANK_REQUEST_STATUSES = ['pending', 'sent'] as const;
export type BankRequestStatus = (typeof BANK_REQUEST_STATUSES)[number];

/** Reason codes: lower-case words and hyphens, no digits (e.g. "wrong-pin", "hotlisted"). */
export const REASON_PATTERN = /^[a-z][a-z-]{0,47}$/;
/** Service item codes (业务办理项编码 / 实施编码): upper-case letters and digits, 20 to 40. */
export const SERVICE_ITEM_PATTERN = /^[0-9A-Z]{20,40}$/;
/** Terminal and operator ids. */
export const ACTOR_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Audit entries (docs/api.md "Operators": every privileged call is journaled with the operator id), table
 * `audit`, schema 3: a privileged API call and its outcome, and the operator sign-in events.
 */
export const AUDIT_KINDS = [
  'privileged-call',
  'operator-login',
  'operator-login-failed',
  'operator-locked',
  'operator-logout',
  'operator-expired',
] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

/**
 * The audit kind of each operator authentication event (daemon/auth/operators.ts
 * `OperatorAuthEvent.type`), so the daemon can journal them with
 * `recordAudit({ kind: AUDIT_KIND_OF_OPERATOR_EVENT[e.type], operatorId })`.
 */
export const AUDIT_KIND_OF_OPERATOR_EVENT = {
  login: 'operator-login',
  loginFailed: 'operator-login-failed',
  locked: 'operator-locked',
  logout: 'operator-logout',
  expired: 'operator-expired',
} as const satisfies Readonly<Record<OperatorAuthEventType, AuditKind>>;

/**
 * Audit kinds whose operator id may be '' (no operator could be established): a privileged call
 * refused for want of one, and a failed or locked login whose id asked for is not an id (or which
 * the caller chose not to keep: an unknown id may be a passphrase typed into the wrong field).
 */
export const AUDIT_KINDS_WITHOUT_OPERATOR: readonly AuditKind[] = ['privileged-call', 'operator-login-failed', 'operator-locked'];

/**
 * The command of an audit entry: an XFS4IoT command ("SSCard.UnblockPin", "CardReader.ChipIO"), an
 * SSCardDriver function ("iUnblockPIN") or an HTTP route ("POST /sscard/iUnblockPIN"). A name, not
 * data: at most 80 characters, no run of five digits or more (a 6-digit PIN cannot be one).
 */
export const AUDIT_COMMAND_PATTERN = /^(?!.*[0-9]{5})[A-Za-z][A-Za-z0-9 ./_-]{0,79}$/;
/**
 * The outcome of an audit entry: an XFS4IoT completion code with its errorCode ("success",
 * "commandErrorCode:unblock.ok", "authorisationRequired") or an SSCardDriver return code with why
 * ("-24:auth.required", "-2201:internal"). At most 80 characters, no run of five digits or more.
 */
export const AUDIT_OUTCOME_PATTERN = /^(?!.*[0-9]{5})-?[A-Za-z0-9][A-Za-z0-9._:-]{0,78}$/;

/** Written `pending` before the first state-changing APDU. */
export interface BeginInput {
  readonly serviceItem: string;
  readonly kind: OperationKind;
  readonly role: Role;
  /** The operator at a counter; absent on a kiosk. */
  readonly operatorId?: string;
  readonly card: CardIdentity;
  readonly materials?: readonly Material[];
  /** Someone applied for the holder: who (stored encrypted, identity.ts `sealAgent`). */
  readonly agent?: AgentIdentity;
}

/** How a pending operation ended. */
export interface CompleteInput {
  readonly outcome: Exclude<Outcome, 'unknown' | 'refused'> | 'unknown';
  readonly reason?: string;
  /** The last status word the card answered (0x0000..0xFFFF). */
  readonly lastSw?: number;
  /** PIN tries left after the operation (0..15). */
  readonly triesLeft?: number;
  readonly cardState?: CardState;
}

/** A refusal before any card-changing command (no pending row). */
export interface RefusalInput {
  readonly serviceItem: string;
  readonly kind: OperationKind;
  readonly role: Role;
  readonly operatorId?: string;
  /** Absent when no card was read (e.g. materials checked first). */
  readonly card?: CardIdentity;
  readonly materials?: readonly Material[];
  /** What was missing, all of it (一次性告知). */
  readonly missing?: readonly Material[];
  readonly reason: string;
  readonly lastSw?: number;
  readonly triesLeft?: number;
  /** Someone applied for the holder and their document was read. */
  readonly agent?: AgentIdentity;
}

/** What the daemon found when it saw the card of an interrupted operation again. */
export interface ReconcileInput {
  readonly outcome: Exclude<Outcome, 'refused'>;
  readonly reason?: string;
  readonly lastSw?: number;
  readonly triesLeft?: number;
  readonly cardState?: CardState;
  readonly operatorId?: string;
}

/**
 * The bank-account activation request of a card activated at a financial window (seed 000 行使内容
 * 2): recorded after the activation completed `ok`, for the bank.
 */
export interface BankRequestInput {
  /** The activation's operation id (completed, outcome ok, role financial-counter, the same card). */
  readonly operationId: string;
  readonly card: CardIdentity;
  readonly operatorId?: string;
}

/** A bank request as read back (identity masked). Times are Unix ms. */
export interface BankRequestRow {
  readonly seq: number;
  readonly id: string;
  /** The activation; null once that operation was purged. */
  readonly operationId: string | null;
  readonly terminalId: string;
  readonly operatorId: string | null;
  readonly status: BankRequestStatus;
  readonly createdAt: number;
  readonly sentAt: number | null;
  readonly cardHash: string;
  readonly card: MaskedIdentity;
}

/** A journal row as read back (identity masked). Times are Unix ms. */
export interface OperationRow {
  readonly seq: number;
  readonly id: string;
  readonly terminalId: string;
  readonly operatorId: string | null;
  readonly serviceItem: string;
  readonly kind: OperationKind;
  readonly role: Role;
  readonly state: OperationState;
  readonly outcome: Outcome | null;
  readonly reason: string | null;
  readonly lastSw: number | null;
  readonly triesLeft: number | null;
  readonly cardState: CardState | null;
  readonly materials: readonly Material[];
  readonly missing: readonly Material[];
  readonly startedAt: number;
  readonly finishedAt: number | null;
  readonly syncState: SyncState;
  readonly syncedAt: number | null;
  /** The interrupted operation this row reconciles. */
  readonly reconciles: string | null;
  /** HMAC of the card identification code (hex), for {@link Journal.findByCard}. */
  readonly cardHash: string | null;
  readonly card: MaskedIdentity | null;
  /** Someone applied for the holder (state/agents.ts): the basis and the masked identity; null when the holder applied. */
  readonly agent: MaskedAgent | null;
}

/**
 * One audit entry to record. There is deliberately no field for a PIN, a passphrase, a session
 * token or card data: the operator id is an id (ACTOR_ID_PATTERN, or '' where allowed), the command
 * and outcome are bounded names (AUDIT_COMMAND_PATTERN / AUDIT_OUTCOME_PATTERN), the request id a
 * number, and any other property is refused. The shape takes an api `PrivilegedCall` as it is:
 * `recordAudit({ kind: 'privileged-call', ...call })`.
 */
export interface AuditInput {
  readonly kind: AuditKind;
  /** '' only for the kinds in AUDIT_KINDS_WITHOUT_OPERATOR. */
  readonly operatorId: string;
  /** Required for `privileged-call`. */
  readonly command?: string;
  /** The XFS4IoT requestId (1..2^53-1); null or absent over HTTP. */
  readonly requestId?: number | null;
  /** Required for `privileged-call`. */
  readonly outcome?: string;
}

/** Which audit entries to read back (newest first). */
export interface AuditQuery {
  /** Only this operator's entries ('' : the calls refused with no operator). */
  readonly operatorId?: string;
  /** Only entries at or after this time (Unix ms). */
  readonly since?: number;
  /** At most this many (default 50). */
  readonly limit?: number;
}

/** An audit entry as read back. `at` is Unix ms (the journal's clock when it was recorded). */
export interface AuditRow {
  readonly seq: number;
  readonly id: string;
  readonly at: number;
  readonly terminalId: string;
  readonly operatorId: string;
  readonly kind: AuditKind;
  readonly command: string | null;
  readonly requestId: number | null;
  readonly outcome: string | null;
}

export interface JournalStats {
  readonly total: number;
  readonly byState: Readonly<Record<OperationState, number>>;
  readonly bySync: Readonly<Record<SyncState, number>>;
  readonly byOutcome: Readonly<Record<Outcome, number>>;
  /** Completed or interrupted rows waiting for the platform. */
  readonly backlog: number;
  readonly oldestUnsyncedAt: number | null;
  readonly newestAt: number | null;
  readonly interruptedUnreconciled: number;
  /** Operations completed with outcome `unknown` (card pulled mid-command) not yet reconciled. */
  readonly unknownUnreconciled: number;
  /** Bank-account activation requests by status. */
  readonly bankRequests: Readonly<Record<BankRequestStatus, number>>;
  /** When the oldest pending bank request was recorded (Unix ms), null when none waits. */
  readonly oldestPendingBankRequestAt: number | null;
  /** Audit entries kept (local only; purged with the retention age). */
  readonly auditCount: number;
  readonly hotlistSize: number;
  readonly hotlistVersion: string | null;
  /** When the last hotlist update was applied (ms since the epoch), null before the first. */
  readonly hotlistUpdatedAt: number | null;
  readonly schemaVersion: number;
}

/**
 * What the daemon's status reports of the journal (Journal.summary): the figures of JournalStats
 * that indexes and counters give without reading every row.
 */
export type JournalSummary = Pick<JournalStats, 'total' | 'backlog' | 'oldestUnsyncedAt' | 'bankRequests' | 'oldestPendingBankRequestAt' | 'hotlistSize' | 'hotlistVersion' | 'hotlistUpdatedAt'> & {
  /** Rows written ahead of the card and not completed (JournalStats.byState.pending). */
  readonly pending: number;
};



// ---- run-time checks ----

function bad(field: string, zh: string, en: string): never {
  throw new SsCardError(
    ErrorCode.Journal_InvalidRecord,
    { zh: `日志记录字段 ${field} 无效：${zh}（这是调用方的程序错误，请报告）`, en: `journal record field ${field} is invalid: ${en} (a bug in the caller; please report it)` },
    { field },
  );
}

export function onlyKeys(obj: object, allowed: readonly string[], what: string): void {
  if (typeof obj !== 'object' || obj === null) bad(what, '不是对象', 'not an object');
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) bad(`${what}.${k}`, '不允许的字段（日志不保存此类数据）', 'unknown field (the journal does not keep such data)');
  }
}

export function checkOneOf<T extends string>(field: string, value: unknown, set: readonly T[]): T {
  if (typeof value !== 'string' || !(set as readonly string[]).includes(value)) bad(field, `应为 ${set.join(' | ')} 之一`, `must be one of ${set.join(' | ')}`);
  return value as T;
}

export function checkPattern(field: string, value: unknown, re: RegExp): string {
  if (typeof value !== 'string' || !re.test(value)) bad(field, `格式应为 ${String(re)}`, `must match ${String(re)}`);
  return value;
}

export function checkInt(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) bad(field, `应为 ${min} 到 ${max} 的整数`, `must be an integer from ${min} to ${max}`);
  return value;
}

export function checkRole(field: string, value: unknown): Role {
  return checkOneOf(field, value, ROLES);
}

/** A list of materials (absent: none), each known, each once. */
export function checkMaterialList(field: string, value: unknown): Material[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) bad(field, '应为数组', 'must be an array');
  const out = value.map((v, i) => checkOneOf(`${field}[${i}]`, v, MATERIALS));
  return [...new Set(out)];
}
