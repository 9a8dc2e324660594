/**
 * `SSCard.RecentLog` (docs/api.md "SSCard.RecentLog"): the last lines of the daemon's log for a
 * technician, from the ring the logging keeps in memory (daemon/log/ring.ts). Privileged (a live
 * operator): the lines name no payload, PIN or token, but they do name operators, client
 * identities, masked card numbers and when each card was seen — a record of holders' visits, which
 * docs/security.md keeps from any program that merely may talk to the daemon (the same reason
 * `GET /status` needs a credential and the journal's rows an operator).
 *
 * Bounded: at most the ring's 200 records of bounded size (ring.ts), written out field by field.
 * Kept apart from commands.ts (it imports only that file's types, so there is no import cycle);
 * commands.ts lists it in SERVICE_COMMANDS.
 */
import { z } from 'zod';
import type { LogComponent, LogLevel } from '../config/schema.js';
import type { RingQuery, RingRecord } from '../log/ring.js';
import { def, token } from './command-kit.js';
import type { CommandDef } from './commands.js';
import type { Outcome } from './protocol.js';

/** What the API needs of the ring (daemon/log/ring.ts LogRing). */
export interface RecentLogSource {
  readonly capacity: number;
  readonly lastSeq: number;
  read(q?: RingQuery): RingRecord[];
  onWarning(listener: (r: RingRecord) => void): () => void;
}

export const RECENT_LOG_MAX = 200;
const LEVELS = ['error', 'warn', 'info', 'debug'] as const satisfies readonly LogLevel[];

const schema = z.strictObject({
  limit: z.int().min(1).max(RECENT_LOG_MAX).optional(),
  minLevel: z.enum(LEVELS).optional(),
  token,
});

const UNAVAILABLE = { zh: '此守护进程没有保留最近的日志', en: 'this daemon keeps no recent log lines' };

/** One record as sent: field by field (nothing the ring adds later leaks by accident). */
export function logLinePayload(r: RingRecord): { seq: number; at: number; level: LogLevel; component: LogComponent; message: string; meta?: Record<string, unknown> } {
  return { seq: r.seq, at: r.at, level: r.level, component: r.component, message: r.message, ...(r.meta === undefined ? {} : { meta: { ...r.meta } }) };
}

export const RECENT_LOG_COMMAND: CommandDef = def({
  name: 'SSCard.RecentLog',
  payload: schema,
  cardOp: false,
  privilege: 'always',
  run(ctx, p): Promise<Outcome> {
    const ring = ctx.api.recentLog;
    if (ring === undefined) return Promise.resolve({ code: 'unsupportedCommand', description: UNAVAILABLE, errorCode: 'log.unavailable' });
    // This connection hears of new warnings from now on (log-events.ts).
    ctx.api.logWatchers?.add(ctx.conn);
    const lines = ring.read({ limit: Math.min(p.limit ?? RECENT_LOG_MAX, RECENT_LOG_MAX), ...(p.minLevel === undefined ? {} : { minLevel: p.minLevel }) }).map(logLinePayload);
    return Promise.resolve({ code: 'success', payload: { lines, lastSeq: ring.lastSeq, capacity: ring.capacity } });
  },
});
