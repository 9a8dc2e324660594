/**
 * The sync's status as the terminal shows it (/status, `sscard sync --status`, `sscard journal
 * stats`): the live part from the worker, the persisted part from the journal's `meta` — what the
 * CLI can show without the daemon.
 */
import type { Journal } from '../journal/journal.js';

export interface SyncErrorInfo {
  readonly code: number;
  readonly zh: string;
  readonly en: string;
  readonly at: number;
}

export interface SyncStatus {
  readonly running: boolean;
  /** Finished rows not yet acknowledged. */
  readonly backlog: number;
  readonly oldestUnsyncedAt: number | null;
  readonly lastSuccessAt: number | null;
  readonly lastAttemptAt: number | null;
  readonly lastError: SyncErrorInfo | null;
  readonly consecutiveFailures: number;
  readonly nextAttemptAt: number | null;
  /** Rows refused by the platform for good (kept, never purged). */
  readonly rejected: number;
  readonly hotlistVersion: string | null;
  readonly lastHotlistAt: number | null;
  /** What the last hotlist pull's signature said (null: none pulled yet). */
  readonly hotlistCheck: HotlistCheck | null;
  /** This terminal's clock minus the platform's, from the last heartbeat's answer (ms; null: not known). */
  readonly clockOffsetMs: number | null;
  /** When the platform last took a heartbeat (null: never, or the platform has no heartbeat). */
  readonly lastHeartbeatAt: number | null;
  /** Bank-account activation requests: waiting for the platform's acknowledgement, acknowledged, and when the oldest waiting one was recorded. */
  readonly bankRequests: { readonly pending: number; readonly sent: number; readonly oldestPendingAt: number | null };
}

export const META_LAST_SUCCESS = 'sync_last_success';
export const META_LAST_ERROR = 'sync_last_error';
export const META_LAST_HOTLIST = 'hotlist_last_pull';
export const META_HOTLIST_CHECK = 'hotlist_check';

/**
 * The last hotlist pulled and what its signature said (docs/sync-protocol.md "Pull the lost-card
 * hotlist"): `verified` with the configured key; `unchecked`: no key configured, applied as it
 * came; `refused`: it did not verify, was not applied, the list of `inForce` stays.
 */
export interface HotlistCheck {
  readonly state: 'verified' | 'unchecked' | 'refused';
  /** The version the platform offered. */
  readonly offered: string;
  /** The version in force after the pull. */
  readonly inForce: string | null;
  readonly at: number;
}

export function parseJsonMeta<T>(raw: string | null): T | null {
  if (raw === null) return null;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return null;
  }
}

/** The persisted part of the status (last success, last error, backlog): what the CLI can show without the daemon. */
export function readSyncStatus(
  journal: Journal,
  live: {
    running: boolean;
    lastAttemptAt: number | null;
    consecutiveFailures: number;
    nextAttemptAt: number | null;
    lastHotlistAt: number | null;
    clockOffsetMs?: number | null;
    lastHeartbeatAt?: number | null;
  } = {
    running: false,
    lastAttemptAt: null,
    consecutiveFailures: 0,
    nextAttemptAt: null,
    lastHotlistAt: null,
  },
): SyncStatus {
  const backlog = journal.backlog();
  const lastSuccess = journal.getMeta(META_LAST_SUCCESS);
  const lastErrorRaw = journal.getMeta(META_LAST_ERROR);
  let lastError: SyncErrorInfo | null = null;
  if (lastErrorRaw !== null) {
    try {
      lastError = JSON.parse(lastErrorRaw) as SyncErrorInfo;
    } catch {
      lastError = null;
    }
  }
  const lastSuccessAt = lastSuccess === null ? null : Number(lastSuccess);
  // An error older than the last success is history, not the current state.
  if (lastError !== null && lastSuccessAt !== null && lastError.at < lastSuccessAt) lastError = null;
  const lastHotlist = journal.getMeta(META_LAST_HOTLIST);
  const bank = journal.bankBacklog();
  const bankCounts = journal.bankRequestCounts();
  return {
    running: live.running,
    backlog: backlog.count,
    oldestUnsyncedAt: backlog.oldestFinishedAt,
    lastSuccessAt,
    lastAttemptAt: live.lastAttemptAt,
    lastError,
    consecutiveFailures: live.consecutiveFailures,
    nextAttemptAt: live.nextAttemptAt,
    rejected: journal.rejectedCount(),
    hotlistVersion: journal.hotlistVersion(),
    lastHotlistAt: live.lastHotlistAt ?? (lastHotlist === null ? null : Number(lastHotlist)),
    hotlistCheck: parseJsonMeta<HotlistCheck>(journal.getMeta(META_HOTLIST_CHECK)),
    clockOffsetMs: live.clockOffsetMs ?? null,
    lastHeartbeatAt: live.lastHeartbeatAt ?? null,
    bankRequests: { pending: bank.count, sent: bankCounts.sent, oldestPendingAt: bank.oldestCreatedAt },
  };
}
