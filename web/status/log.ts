/**
 * The recent log panel's logic (docs/api.md "SSCard.RecentLog"): the completion's lines read
 * defensively and bounded, shown as time, level, component, message and compact metadata. The
 * lines come redacted from the daemon (no PIN, token or passphrase; card numbers masked); the page
 * adds nothing and keeps them only in memory while it is open.
 */
import type { Payload } from '../client/messages.js';
import { formatTime } from './model.js';

export const LOG_LIMIT = 200;
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

export interface LogLine {
  readonly seq: number;
  readonly time: string;
  readonly level: LogLevel;
  readonly component: string;
  readonly message: string;
  /** The metadata as compact JSON (at most META_CHARS characters), '' when none. */
  readonly meta: string;
}

const META_CHARS = 300;

function levelOf(v: unknown): LogLevel | null {
  return v === 'error' || v === 'warn' || v === 'info' || v === 'debug' ? v : null;
}

/** The lines of a `SSCard.RecentLog` completion, newest first (what a technician looks at first). */
export function linesOf(payload: Payload): LogLine[] {
  const raw = Array.isArray(payload['lines']) ? (payload['lines'] as unknown[]).slice(-LOG_LIMIT) : [];
  const out: LogLine[] = [];
  for (const x of raw) {
    if (x === null || typeof x !== 'object') continue;
    const o = x as Record<string, unknown>;
    const level = levelOf(o['level']);
    if (level === null || typeof o['seq'] !== 'number' || typeof o['message'] !== 'string') continue;
    let meta = '';
    if (o['meta'] !== undefined && o['meta'] !== null) {
      meta = JSON.stringify(o['meta']);
      if (meta.length > META_CHARS) meta = `${meta.slice(0, META_CHARS)}…`;
    }
    out.push({
      seq: o['seq'],
      time: typeof o['at'] === 'number' ? formatTime(o['at']) : '',
      level,
      component: typeof o['component'] === 'string' ? o['component'] : '',
      message: o['message'],
      meta,
    });
  }
  return out.reverse();
}

/** Whether a RecentLog failure means the operator must log in (again). */
export function needsLogin(errorCode: string | null): boolean {
  return errorCode === 'auth.required' || errorCode === 'auth.sessionExpired' || errorCode === 'auth.invalidToken';
}
