/**
 * The API's WebSocket clients and what they may cost (docs/security.md): every open connection,
 * the upgrades under way (they count towards `maxClients`), the connections of each client
 * identity (`maxConnectionsPerClient`), the heartbeat that drops a half-open client, and the
 * periodic look at the clients file that closes the connections of a revoked client token.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Logger } from '../../core/logger.js';
import type { ClientCredentials } from '../auth/clients.js';
import type { Connection } from './connection.js';
import type { VendorSocket } from './vendor-ws.js';

/** A WebSocket client: of the XFS4IoT endpoints, or of the vendors' JSON socket (`endpoint` tells). */
export type ApiConnection = Connection | VendorSocket;

export interface RegistryOptions {
  readonly maxClients: number;
  readonly maxConnectionsPerClient: number;
  /** Ping every client this often; one that did not answer the last ping is dropped (0 = off). */
  readonly heartbeatMs: number;
  readonly clients: ClientCredentials | undefined;
  readonly clientsRefreshMs: number;
  readonly logger: Logger;
}

/** An upgrade admitted within the limits: `opened` once its WebSocket is open, with the connection's maker. */
export interface Admission {
  opened(ws: WebSocket, connect: () => ApiConnection): ApiConnection;
}

/** The limit that refuses an upgrade. */
export type Limit = 'maxClients' | 'maxConnectionsPerClient';

export class ClientRegistry {
  /** The open WebSocket connections. */
  public readonly connections = new Set<ApiConnection>();
  /** Upgrades accepted but not yet open: they count towards maxClients. */
  private upgrading = 0;
  /** WebSocket clients (open or upgrading) per identity. */
  private readonly perClient = new Map<string, number>();
  private readonly alive = new Map<WebSocket, boolean>();
  private heartbeat: NodeJS.Timeout | undefined;
  private refresher: NodeJS.Timeout | undefined;
  private stopped = false;

  public constructor(private readonly o: RegistryOptions) {}

  /**
   * The timers run only while a WebSocket client is connected (an idle daemon has none,
   * docs/benchmarks.md "Idle"): the heartbeat pings every client, and one that did not answer the
   * last ping is gone (its commands are aborted by the close, the card flow ends safely); the
   * clients file is looked at so that a revoked token's open connections close (1008) within
   * clientsRefreshMs — an HTTP request or a new upgrade looks at it itself (auth/clients.ts verify).
   */
  private armTimers(): void {
    if (this.stopped) return;
    if (this.heartbeat === undefined && this.o.heartbeatMs > 0) {
      this.heartbeat = setInterval(() => this.beat(), this.o.heartbeatMs);
      this.heartbeat.unref();
    }
    const clients = this.o.clients;
    if (this.refresher === undefined && clients !== undefined) {
      this.refresher = setInterval(() => this.refresh(clients), this.o.clientsRefreshMs);
      this.refresher.unref();
    }
  }

  private disarmTimers(): void {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    if (this.refresher !== undefined) clearInterval(this.refresher);
    this.heartbeat = undefined;
    this.refresher = undefined;
  }

  /** WebSocket clients connected now. */
  public get size(): number {
    return this.connections.size;
  }

  /**
   * Admit an upgrade of `identity` on `socket`, or name the limit that refuses it. An admitted
   * upgrade holds its places until its socket (or, once open, its WebSocket) closes.
   */
  public admit(identity: string, socket: Duplex): Admission | Limit {
    if (this.connections.size + this.upgrading >= this.o.maxClients) return 'maxClients';
    const mine = this.perClient.get(identity) ?? 0;
    if (mine >= this.o.maxConnectionsPerClient) return 'maxConnectionsPerClient';
    this.perClient.set(identity, mine + 1);
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      const n = (this.perClient.get(identity) ?? 1) - 1;
      if (n <= 0) this.perClient.delete(identity);
      else this.perClient.set(identity, n);
    };
    this.upgrading++;
    let counted = true;
    const uncount = () => {
      if (counted) this.upgrading--;
      counted = false;
    };
    socket.once('close', () => {
      uncount();
      release();
    });
    return {
      opened: (ws, connect) => {
        uncount();
        const conn = connect();
        this.connections.add(conn);
        this.armTimers();
        this.alive.set(ws, true);
        ws.on('pong', () => this.alive.set(ws, true));
        ws.on('close', () => {
          this.connections.delete(conn);
          this.alive.delete(ws);
          release();
          if (this.connections.size === 0) this.disarmTimers();
        });
        return conn;
      },
    };
  }

  /** Stop the heartbeat and the clients file look-ups (the server is closing). */
  public stop(): void {
    this.stopped = true;
    this.disarmTimers();
  }

  /** Whether its timers run now (tests: an idle registry has none). */
  public get ticking(): boolean {
    return this.heartbeat !== undefined || this.refresher !== undefined;
  }

  private beat(): void {
    for (const [ws, ok] of this.alive) {
      if (!ok) {
        this.o.logger.warn('API client did not answer the heartbeat; dropping it', {});
        ws.terminate();
        continue;
      }
      this.alive.set(ws, false);
      try {
        ws.ping();
      } catch {
        ws.terminate();
      }
    }
  }

  private refresh(clients: ClientCredentials): void {
    try {
      if (!clients.refresh()) return;
      for (const c of this.connections) {
        if (c.clientHash !== null && !clients.isLive(c.clientHash)) {
          this.o.logger.info('API client credential revoked; closing its connection', { client: c.id, identity: c.identity });
          c.revoke();
        }
      }
    } catch (e) {
      this.o.logger.error('API clients refresh failed', { error: e instanceof Error ? e.message : String(e) });
    }
  }
}
