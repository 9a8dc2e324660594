/**
 * What the WebSocket connections and the HTTP routes of the local API share: the ports, the logger,
 * the journal hook, and the one-card-operation-at-a-time lock.
 */
import type { OperatorAuthPort, TerminalPort } from '../terminal/port.js';

export interface ApiLogger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

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
}

/**
 * One card operation at a time (issue 5 §2): SSCard.*, CardReader.ChipIO/ChipPower/Reset,
 * Keyboard.PinEntry and the SSCardDriver calls take this lock; a second one is refused at once.
 */
export class Sequencer {
  private holder: LockHolder | null = null;

  /** The release function, or null when another operation holds the lock. */
  public acquire(h: LockHolder): (() => void) | null {
    if (this.holder !== null) return null;
    this.holder = h;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (this.holder === h) this.holder = null;
    };
  }

  public get busy(): boolean {
    return this.holder !== null;
  }

  public get owner(): string | null {
    return this.holder?.owner ?? null;
  }

  public get serviceRunning(): boolean {
    return this.holder?.service === true;
  }

  /** Abort the running operation, if any (it still holds the lock until the terminal lets go). */
  public abortCurrent(): boolean {
    const h = this.holder;
    if (h === null) return false;
    h.abort();
    return true;
  }
}

export interface ApiContext {
  readonly terminal: TerminalPort;
  readonly auth: OperatorAuthPort;
  readonly logger: ApiLogger;
  readonly version: string;
  readonly maxFrameBytes: number;
  readonly sequencer: Sequencer;
  /** How long a stopped command may take to let go before its completion is sent anyway. */
  readonly abortGraceMs: number;
  /** The journal hook, made safe (never throws). */
  journal(e: PrivilegedCall): void;
  /** The service endpoint's URI as a client reaching us with this Host header should use it. */
  serviceUri(hostHeader: string | undefined): string;
}
