/**
 * What the WebSocket connections and the HTTP routes of the local API share: the ports, the logger,
 * the journal hook, and the one-card-operation-at-a-time lock.
 */
import type { StaticSite } from './static-files.js';
import type { Logger } from '../../core/logger.js';
import type { OperatorAuthPort, TerminalPort } from '../terminal/port.js';
import type { LogThrottle } from './throttle.js';
import type { RecentLogSource } from './log-commands.js';


export interface PrivilegedCall {
  /** '' when no operator could be established (the call was refused for it). */
  readonly operatorId: string;
  /** The XFS4IoT command name, or the SSCardDriver function for HTTP (e.g. "iUnblockPIN"). */
  readonly command: string;
  /** null over HTTP. */
  readonly requestId: number | null;
  /** completionCode, with ":" and the errorCode when there is one (e.g. "commandErrorCode:verify.wrongPin"). */
  readonly outcome: string;
}

/** Who holds the card-operation lock. */
export interface LockHolder {
  /** "c3#12" (connection 3, request 12) or "http#5". */
  readonly owner: string;
  /** A card service flow (runService): its session events are not fanned out as unsolicited. */
  readonly service: boolean;
  /** Stop it (SSCard.End). */
  abort(): void;
  /** Send an event of the command holding the lock (CardReader.MediaInsertedEvent while it waits for a card). */
  event?(name: string, payload: Record<string, unknown>): void;
}

/**
 * One card operation at a time per reader (docs/api.md "Sequencing"): SSCard.*,
 * CardReader.ChipIO/ChipPower/Reset and the SSCardDriver calls take the lock of their reader (key:
 * the payload's `reader`, "" for the default slot), Keyboard.PinEntry the PIN pad's; a second one
 * on the same key is refused at once. Operations on different readers run side by side (the
 * terminal refuses, with Flow_Busy → sequenceError, a request without `reader` that lands on a slot
 * busy under its name).
 */
export class Sequencer {
  private readonly holders = new Map<string, LockHolder>();

  /** The release function, or null when another operation holds this key's lock. */
  public acquire(h: LockHolder, key = ''): (() => void) | null {
    if (this.holders.has(key)) return null;
    this.holders.set(key, h);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (this.holders.get(key) === h) this.holders.delete(key);
    };
  }

  public get busy(): boolean {
    return this.holders.size > 0;
  }

  public get owner(): string | null {
    return [...this.holders.values()][0]?.owner ?? null;
  }

  public get serviceRunning(): boolean {
    return [...this.holders.values()].some((h) => h.service);
  }

  /** Connections ("c3") running a card service flow: they get its events as their command's events. */
  public serviceConnections(): Set<string> {
    return new Set([...this.holders.values()].filter((h) => h.service).map((h) => h.owner.split('#')[0]!));
  }

  /** The holders of the locks a card operation on `reader` may hold: its own name's, a unique part of it, the default slot's (""). */
  public holdersFor(reader: string): LockHolder[] {
    const name = reader.toLowerCase();
    return [...this.holders.entries()].filter(([key]) => key !== 'pinpad' && (key === '' || name.includes(key.toLowerCase()))).map(([, h]) => h);
  }

  /** Abort the running service flow on `key` (every one when undefined); it keeps its lock until the terminal lets go. */
  public abortCurrent(key?: string): boolean {
    const targets = key === undefined ? [...this.holders.values()] : [this.holders.get(key)].filter((h): h is LockHolder => h !== undefined);
    for (const h of targets) h.abort();
    return targets.length > 0;
  }
}

/**
 * The readers that have a service endpoint of their own (gate.ts, docs/api.md "WebSocket
 * endpoints"): every reader the terminal lists but the PSAM's slot, by full name, in its order.
 */
export function endpointReaders(terminal: TerminalPort): string[] {
  return terminal
    .status()
    .readers.filter((r) => r.slot !== 'psam')
    .map((r) => r.name);
}

export interface ApiContext {
  readonly terminal: TerminalPort;
  readonly auth: OperatorAuthPort;
  readonly logger: Logger;
  readonly version: string;
  readonly maxFrameBytes: number;
  /** A client whose unsent answers exceed this is dropped (it does not read them). */
  readonly maxSendBufferBytes: number;
  /** Log lines a client causes, bounded per client (throttle.ts). */
  readonly throttle: LogThrottle;
  readonly sequencer: Sequencer;
  /** How long a stopped command may take to let go before its completion is sent anyway. */
  readonly abortGraceMs: number;
  /** The journal hook, made safe (never throws). */
  journal(e: PrivilegedCall): void;
  /**
   * The service endpoint's URI, or `reader`'s own (gate.ts), from the configuration (never from a
   * request's Host header).
   */
  serviceUri(reader?: string): string;
  /** The daemon's own pages, when it serves them. */
  readonly site?: StaticSite | undefined;
  /** The last log lines in memory (daemon/log/ring.ts), for SSCard.RecentLog; none: that command is unsupported. */
  readonly recentLog?: RecentLogSource | undefined;
  /** `GET /metrics` (daemon/metrics.ts); absent: not served. */
  readonly metrics?: (() => Promise<{ readonly contentType: string; readonly text: string }>) | undefined;
  /** Connections that have read the recent log (SSCard.RecentLog): only they get SSCard.LogChangedEvent. */
  readonly logWatchers?: WeakSet<object> | undefined;
  /** Clients (access.ts identities) that may use raw chip access without an operator (docs/config.md `api.chipClients`). */
  readonly chipClients?: ReadonlySet<string> | undefined;
}
