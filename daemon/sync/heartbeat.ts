/**
 * The terminal's heartbeat (docs/sync-protocol.md "Heartbeat", revision 3): what it says of itself
 * with each sync pass, and the clock offset its answer gives.
 */
import type { Journal } from '../journal/journal.js';
import type { Role, ServiceKind } from '../../state/roles.js';
import { META_HOTLIST_CHECK, parseJsonMeta } from './status.js';
import type { HotlistCheck } from './status.js';
import { ROLE_TO_WIRE } from './to-wire.js';
import { PROTOCOL_VERSION } from './wire.js';
import type { Heartbeat, HeartbeatAnswer } from './wire.js';

/** The terminal's part of a heartbeat; the worker adds its backlog, hotlist and clock. */
export interface HeartbeatSource {
  readonly software: string;
  readonly role: Role;
  readonly services: readonly ServiceKind[];
  readonly health: Heartbeat['health'];
}

/** The heartbeat sent at `now`: the source's part, the journal's backlog and hotlist, the last measured offset. */
export function heartbeatOf(s: HeartbeatSource, journal: Journal, terminalId: string, now: number, clockOffsetMs: number | null): Heartbeat {
  const backlog = journal.backlog();
  const check = parseJsonMeta<HotlistCheck>(journal.getMeta(META_HOTLIST_CHECK));
  return {
    protocol: PROTOCOL_VERSION,
    terminalId,
    sentAt: new Date(now).toISOString(),
    software: s.software,
    role: ROLE_TO_WIRE[s.role],
    services: [...s.services],
    health: s.health,
    backlog: {
      operations: backlog.count,
      oldestUnsyncedAt: backlog.oldestFinishedAt === null ? null : new Date(backlog.oldestFinishedAt).toISOString(),
      bankRequests: journal.bankBacklog().count,
    },
    hotlist: { version: journal.hotlistVersion(), check: check?.state ?? null },
    clockOffsetMs,
  };
}

/** This terminal's clock minus the platform's: the platform's time against the middle of the round trip (RFC 5905 §8). */
export function clockOffset(sentAt: number, answeredAt: number, answer: HeartbeatAnswer): number {
  return Math.round((sentAt + answeredAt) / 2 - Date.parse(answer.receivedAt));
}
