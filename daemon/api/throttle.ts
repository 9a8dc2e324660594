import type { Logger } from '../../core/logger.js';
/**
 * Log lines a client can cause, bounded (docs/security.md "A hostile client costs nothing"): the
 * first few lines per client and window are written as they come, the rest are counted and
 * summed up in one line when the window ends ("n refused messages from client loopback in the last
 * 10 s"), so 20 000 refused frames write a handful of lines rather than 10 MB, and cannot rotate
 * the log history away.
 *
 * Keys are bounded too: past `maxKeys` clients in one window, new ones share one "(others)" key.
 */

export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface LogThrottleOptions {
  /** Length of a window (default 10 000 ms). */
  readonly windowMs?: number;
  /** Lines written per key and window before the rest are only counted (default 5). */
  readonly burst?: number;
  /** Keys tracked per window (default 256). */
  readonly maxKeys?: number;
  readonly now?: () => number;
}

interface Window {
  start: number;
  written: number;
  suppressed: number;
  /** Suppressed lines by their reason ("invalidMessage", "origin refused"…). */
  readonly reasons: Map<string, number>;
  level: Level;
  /** What the summary says was suppressed, e.g. "refused messages" (each kind once). */
  readonly what: Set<string>;
  meta: Record<string, unknown>;
}

const OTHERS = '(others)';
const MAX_REASONS = 16;

export class LogThrottle {
  private readonly windows = new Map<string, Window>();
  private readonly windowMs: number;
  private readonly burst: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  /** Runs only while a window is open (an idle daemon has none). */
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  public constructor(
    private readonly logger: Logger,
    opts: LogThrottleOptions = {},
  ) {
    this.windowMs = opts.windowMs ?? 10_000;
    this.burst = opts.burst ?? 5;
    this.maxKeys = opts.maxKeys ?? 256;
    this.now = opts.now ?? Date.now;
  }

  /** Whether its timer runs now (tests: an idle throttle has none). */
  public get ticking(): boolean {
    return this.timer !== undefined;
  }

  /**
   * Log one line about `key` (a client) unless it already had `burst` lines in this window; then
   * only count it under `reason`. `what` names the suppressed lines in the summary.
   */
  public log(key: string, level: Level, message: string, meta: Record<string, unknown>, reason: string, what = 'refused messages'): void {
    const at = this.now();
    let k = key;
    let w = this.windows.get(k);
    if (w !== undefined && at - w.start >= this.windowMs) {
      this.summarise(k, w);
      this.windows.delete(k);
      w = undefined;
    }
    if (w === undefined) {
      if (this.windows.size >= this.maxKeys) {
        k = OTHERS;
        w = this.windows.get(k);
      }
      if (w === undefined) {
        w = { start: at, written: 0, suppressed: 0, reasons: new Map(), level, what: new Set(), meta: {} };
        this.windows.set(k, w);
        if (this.timer === undefined && !this.closed) {
          this.timer = setInterval(() => this.tick(), Math.max(100, Math.floor(this.windowMs / 2)));
          this.timer.unref();
        }
      }
    }
    if (w.written < this.burst && k !== OTHERS) {
      w.written++;
      this.logger[level](message, meta);
      return;
    }
    w.suppressed++;
    w.level = level === 'error' || w.level === 'error' ? 'error' : level === 'warn' || w.level === 'warn' ? 'warn' : w.level;
    if (w.what.size < 4) w.what.add(what);
    w.meta = pick(meta);
    if (w.reasons.has(reason) || w.reasons.size < MAX_REASONS) w.reasons.set(reason, (w.reasons.get(reason) ?? 0) + 1);
  }

  /** Every pending summary, and stop the timer. */
  public close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    for (const [k, w] of this.windows) this.summarise(k, w);
    this.windows.clear();
  }

  private tick(): void {
    const at = this.now();
    for (const [k, w] of this.windows) {
      if (at - w.start < this.windowMs) continue;
      this.windows.delete(k);
      this.summarise(k, w);
    }
    if (this.windows.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private summarise(key: string, w: Window): void {
    if (w.suppressed === 0) return;
    const seconds = Math.max(1, Math.round((this.now() - w.start) / 1000));
    this.logger[w.level](`${w.suppressed} ${[...w.what].join(' and ')} from client ${key} in the last ${seconds} s (not logged one by one)`, {
      ...w.meta,
      client: key,
      suppressed: w.suppressed,
      reasons: Object.fromEntries(w.reasons),
    });
  }
}

/** Only the identifying fields of an entry go into its summary. */
function pick(meta: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['remote', 'client', 'identity']) if (meta[k] !== undefined) out[k] = meta[k];
  return out;
}
