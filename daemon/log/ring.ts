/**
 * The last lines of the daemon's log in memory, for the technician page (docs/api.md
 * `SSCard.RecentLog`): a ring of at most {@link RING_CAPACITY} records, fed by a winston transport
 * that sits with the file and console transports, so it gets exactly what they get — after the
 * component's level filter and after redact.ts (no PIN-, key-, passphrase- or token-named value,
 * no raw bytes). What a record keeps is what the file log keeps: time, level, component, message
 * and the (redacted) metadata — bounded in size so that no caller can make the ring big:
 *
 * - at most {@link RING_CAPACITY} records (the oldest goes first);
 * - a message of at most {@link MAX_MESSAGE_CHARS} characters, the metadata as JSON of at most
 *   {@link MAX_META_CHARS} characters (a longer one is replaced by a note saying how long it was:
 *   cutting JSON in the middle would hand a reader half a value).
 *
 * Listeners hear of every new record at warn or error (the API turns that into one coalesced
 * `SSCard.LogChangedEvent`, daemon/api/log-events.ts); a listener that throws is dropped from
 * nothing and breaks nothing — its error is swallowed, since a log line about it would loop.
 */
import type { LogComponent, LogLevel } from '../config/schema.js';
import { TransportBase } from './rotating-file.js';

/** Severity order as logger.ts's LEVEL_RANK (not imported from there: logger.ts builds the ring). */
const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { error: 0, warn: 1, info: 2, debug: 3 };

/** How many records the ring keeps. */
export const RING_CAPACITY = 200;
export const MAX_MESSAGE_CHARS = 500;
export const MAX_META_CHARS = 2000;

export interface RingRecord {
  /** 1, 2, 3… in arrival order since the daemon started (a reader can tell what is new). */
  readonly seq: number;
  /** ms since the epoch. */
  readonly at: number;
  readonly level: LogLevel;
  readonly component: LogComponent;
  readonly message: string;
  /** The redacted metadata, when the entry had any and it fit; see the module comment. */
  readonly meta?: Readonly<Record<string, unknown>>;
}

export interface RingQuery {
  /** The newest this many (1…capacity; default all). */
  readonly limit?: number;
  /** Only records at this level or more severe (default debug: all). */
  readonly minLevel?: LogLevel;
}

export type RingListener = (r: RingRecord) => void;

export class LogRing {
  private readonly buf: (RingRecord | undefined)[];
  private next = 0;
  private count = 0;
  private seq = 0;
  private readonly listeners = new Set<RingListener>();

  public constructor(public readonly capacity: number = RING_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 100_000) throw new RangeError(`capacity must be an integer 1…100000, not ${String(capacity)}`);
    this.buf = new Array<RingRecord | undefined>(capacity);
  }

  /** Records kept now. */
  public get size(): number {
    return this.count;
  }

  /** The seq of the newest record (0 when none yet). */
  public get lastSeq(): number {
    return this.seq;
  }

  /** Keep one entry (already redacted by the logger's format). */
  public push(e: { level: LogLevel; component: LogComponent; message: string; at: number; meta?: unknown }): RingRecord {
    const meta = boundedMeta(e.meta);
    const r: RingRecord = {
      seq: ++this.seq,
      at: e.at,
      level: e.level,
      component: e.component,
      message: e.message.length > MAX_MESSAGE_CHARS ? `${e.message.slice(0, MAX_MESSAGE_CHARS)}…` : e.message,
      ...(meta === undefined ? {} : { meta }),
    };
    this.buf[this.next] = r;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
    if (LEVEL_RANK[r.level] <= LEVEL_RANK.warn) {
      for (const l of [...this.listeners]) {
        try {
          l(r);
        } catch {
          // A log line about a failing listener would come back here.
        }
      }
    }
    return r;
  }

  /** Oldest first, the newest `limit` of those at `minLevel` or above. */
  public read(q: RingQuery = {}): RingRecord[] {
    const max = LEVEL_RANK[q.minLevel ?? 'debug'];
    const out: RingRecord[] = [];
    const start = (this.next - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) {
      const r = this.buf[(start + i) % this.capacity]!;
      if (LEVEL_RANK[r.level] <= max) out.push(r);
    }
    const limit = q.limit ?? this.capacity;
    return out.length > limit ? out.slice(out.length - limit) : out;
  }

  /** Hear of each new warn or error record. Returns the unsubscribe function. */
  public onWarning(listener: RingListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
}

function boundedMeta(meta: unknown): Readonly<Record<string, unknown>> | undefined {
  if (meta === null || typeof meta !== 'object' || Object.keys(meta).length === 0) return undefined;
  let json: string;
  try {
    json = JSON.stringify(meta);
  } catch {
    return { note: '[unserialisable]' };
  }
  if (json.length > MAX_META_CHARS) return { note: `[${json.length} characters left out]` };
  // A plain copy: the record must not share objects with the caller.
  return JSON.parse(json) as Record<string, unknown>;
}

/** The winston transport that feeds a ring (level debug: each component's logger filters). */
export class RingTransport extends TransportBase {
  public constructor(private readonly ring: LogRing) {
    super({ level: 'debug' });
  }

  public override log(info: unknown, next: () => void): void {
    const i = info as Record<string, unknown>;
    const at = typeof i['timestamp'] === 'string' ? Date.parse(i['timestamp']) : Date.now();
    this.ring.push({
      level: i['level'] as LogLevel,
      component: i['component'] as LogComponent,
      message: typeof i['message'] === 'string' ? i['message'] : String(i['message']),
      at: Number.isNaN(at) ? Date.now() : at,
      meta: i['meta'],
    });
    next();
  }
}
