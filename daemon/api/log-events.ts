/**
 * `SSCard.LogChangedEvent` (docs/api.md "SSCard.RecentLog"): tells the clients that have read the
 * recent log (`SSCard.RecentLog` on that connection) that a warn or error line was logged, so a
 * technician's page re-reads only when something happened — no polling timer. Nobody else gets it:
 * a kiosk UI never asked, and a client whose bad frames are logged at warn would otherwise find an
 * event among the answers it waits for. The event carries no line (the lines need an operator):
 * only the newest seq and the most severe level since the last event.
 *
 * Coalesced: at most one event per `intervalMs` (default 1000) — the first at once, the rest of a
 * burst folded into one at the end of the window. Sending can itself log a warning ("could not
 * send to a client"); without the bound that would feed back into more events.
 */
import type { RecentLogSource } from './log-commands.js';
import type { ApiConnection } from './registry.js';
import { unsolicited } from './protocol.js';

export const LOG_CHANGED_EVENT = 'SSCard.LogChangedEvent';

export interface LogEventDeps {
  readonly connections: ReadonlySet<ApiConnection>;
  /** The connections that read the log (log-commands.ts adds them). */
  readonly watchers: WeakSet<object>;
  readonly ring: RecentLogSource;
  readonly intervalMs?: number;
}

/** Starts listening; returns the stop function (clears the pending event). */
export function logEventFanOut({ connections, watchers, ring, intervalMs = 1000 }: LogEventDeps): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let pending: { lastSeq: number; level: 'warn' | 'error' } | null = null;
  const send = (lastSeq: number, level: 'warn' | 'error'): void => {
    const msg = unsolicited(LOG_CHANGED_EVENT, { lastSeq, level });
    for (const c of connections) if (c.endpoint === 'service' && watchers.has(c)) c.send(msg);
  };
  const window = (): void => {
    timer = setTimeout(() => {
      timer = null;
      if (pending === null) return;
      const p = pending;
      pending = null;
      send(p.lastSeq, p.level);
      window();
    }, intervalMs);
    timer.unref?.();
  };
  const off = ring.onWarning((r) => {
    const level = r.level === 'error' ? 'error' : 'warn';
    if (timer === null) {
      send(r.seq, level);
      window();
      return;
    }
    pending = { lastSeq: r.seq, level: pending?.level === 'error' ? 'error' : level };
  });
  return () => {
    off();
    if (timer !== null) clearTimeout(timer);
    timer = null;
    pending = null;
  };
}
