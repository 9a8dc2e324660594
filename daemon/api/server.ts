/**
 * The daemon's local API (docs/api.md): one node:http server on the host and
 * port (or Unix socket) the daemon gives it — it never binds anywhere else — serving
 *
 * - WebSocket, XFS4IoT envelope (docs/domain.md §7): the service publisher at `/xfs4iot/v1.0` and the
 *   one service, which implements the Common, CardReader, Keyboard, SSCard and Operator
 *   interfaces, at `/xfs4iot/v1.0/sscard` (also reachable as `/xfs4iot/v1.0/<Interface>`);
 * - HTTP: `GET /health`, `GET /status`, and the SSCardDriver calls `POST /sscard/<function>`.
 *
 * Terminal events fan out to every service client as unsolicited messages.
 *
 * Before anything else every request and upgrade passes access.ts (Host, Origin, credentials;
 * docs/security.md); a refused one costs a header look-up and a short answer, and its log lines
 * are bounded per client (throttle.ts). Slow clients are bounded by the HTTP header, request and
 * keep-alive timeouts, the number of connections in total and per client, and the send buffer of
 * each WebSocket client. With `tls` the server is node:https (wss:// and https://).
 *
 * This file puts the rooms together: options.ts (the options and their check), gate.ts (the
 * request and upgrade gates, the endpoints), registry.ts (the clients and their limits, heartbeat,
 * revoked tokens), fan-out.ts (terminal events to the clients), listen.ts (the server, listening,
 * the stale socket).
 */
import fs from 'node:fs';
import { daemonSocketOrigins } from './static-files.js';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { Logger } from '../../core/logger.js';
import { AccessControl } from './access.js';
import { MAX_BUFFERED_BYTES } from './connection.js';
import { Sequencer } from './context.js';
import type { ApiContext, PrivilegedCall } from './context.js';
import { terminalEventFanOut } from './fan-out.js';
import { logEventFanOut } from './log-events.js';
import { SERVICE_PATH, clientErrorHandler, readerServicePath, requestGate, upgradeGate } from './gate.js';
import { WILDCARD, createServer, listenOn, publicHost } from './listen.js';
import { checkOptions } from './options.js';
import type { ApiOptions } from './options.js';
import { ClientRegistry } from './registry.js';
import { LogThrottle } from './throttle.js';

export type { Logger, PrivilegedCall };
export type { ApiOptions, ApiTls } from './options.js';
export { SERVICE_ALIASES, SERVICE_PATH, XFS_ROOT, readerServicePath } from './gate.js';

export interface ApiServer {
  /** The bound TCP port (0 with a Unix socket). */
  readonly port: number;
  /** The bound address, or the socket path. */
  readonly address: string;
  close(): Promise<void>;
  /** WebSocket clients connected now. */
  clients(): number;
}

export async function startApi(opts: ApiOptions): Promise<ApiServer> {
  checkOptions(opts);
  const { terminal, logger } = opts;
  const sockets = new Set<Socket>();
  let bound: { port: number; address: string } = { port: 0, address: '' };

  const journalHook = opts.journalPrivileged;
  const logWatchers = new WeakSet<object>();
  const throttle = new LogThrottle(logger, opts.logThrottle);
  const access = new AccessControl({
    hostNames: [...(opts.hostNames ?? []), ...(opts.socket === undefined && !WILDCARD.has(opts.host) ? [opts.host] : [])],
    allowedOrigins: opts.allowedOrigins ?? [],
    clients: opts.clients,
    auth: opts.auth,
    allowUnauthenticatedLoopback: opts.allowUnauthenticatedLoopback ?? false,
    tls: opts.tls !== undefined,
    socket: opts.socket !== undefined,
  });
  const limits = { maxClients: opts.maxClients, maxConnectionsPerClient: opts.maxConnectionsPerClient ?? 8 };
  const registry = new ClientRegistry({
    ...limits,
    heartbeatMs: opts.heartbeatMs ?? 15_000,
    clients: opts.clients,
    clientsRefreshMs: opts.clientsRefreshMs ?? 1000,
    logger,
  });
  const api: ApiContext = {
    terminal,
    auth: opts.auth,
    logger,
    version: opts.version,
    maxFrameBytes: opts.maxFrameBytes,
    maxSendBufferBytes: opts.maxSendBufferBytes ?? MAX_BUFFERED_BYTES,
    throttle,
    sequencer: new Sequencer(),
    abortGraceMs: opts.abortGraceMs ?? 10_000,
    site: opts.site,
    recentLog: opts.recentLog,
    metrics: opts.metrics,
    logWatchers,
    chipClients: new Set(opts.chipClients ?? []),
    journal(e) {
      if (journalHook === undefined) return;
      try {
        journalHook(e);
      } catch (err) {
        logger.error('journalPrivileged failed', { command: e.command, error: err instanceof Error ? err.message : String(err) });
      }
    },
    // From the configuration only: a request's Host header is never echoed (DNS rebinding).
    serviceUri(reader) {
      const path = reader === undefined ? SERVICE_PATH : readerServicePath(reader);
      if (opts.socket !== undefined) return `ws+unix:${opts.socket}:${path}`;
      return `${opts.tls === undefined ? 'ws' : 'wss'}://${publicHost(opts)}:${bound.port}${path}`;
    },
  };

  const server = createServer(opts, requestGate({ api, access, throttle, logger }));
  /** Every connection of `srv`, so that close() can end them; its malformed requests answered. */
  const track = (srv: ReturnType<typeof createServer>): void => {
    srv.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    srv.on('clientError', clientErrorHandler(throttle));
  };
  track(server);
  server.on('drop', (d?: { remoteAddress?: string }) => {
    throttle.log(d?.remoteAddress ?? 'unix', 'warn', 'API connection dropped: too many connections', { remote: d?.remoteAddress ?? 'unix', maxConnections: server.maxConnections }, 'maxConnections', 'dropped connections');
  });
  server.on('tlsClientError', (e: NodeJS.ErrnoException, s: { remoteAddress?: string }) => {
    throttle.log(s.remoteAddress ?? 'unix', 'debug', 'API TLS handshake failed', { remote: s.remoteAddress ?? 'unix', code: e.code ?? null }, e.code ?? 'tls', 'failed TLS handshakes');
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxFrameBytes, perMessageDeflate: false, clientTracking: false });
  server.on('upgrade', upgradeGate({ api, access, throttle, logger, registry, wss, limits }));

  await listenOn(server, opts, logger);
  // The driver socket: the same routes over HTTP, admitted by its file permissions; no WebSocket.
  let driverServer: ReturnType<typeof createServer> | undefined;
  if (opts.driverSocket !== undefined) {
    const driverOpts = { ...opts, socket: opts.driverSocket, tls: undefined };
    const driverAccess = new AccessControl({ hostNames: [], allowedOrigins: [], clients: opts.clients, auth: opts.auth, allowUnauthenticatedLoopback: false, tls: false, socket: true });
    driverServer = createServer(driverOpts, requestGate({ api, access: driverAccess, throttle, logger }));
    track(driverServer);
    try {
      await listenOn(driverServer, driverOpts, logger);
      fs.chmodSync(opts.driverSocket, 0o660);
    } catch (e) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw e;
    }
    logger.info('SSCardDriver socket listening', { socket: opts.driverSocket });
  }
  const unsubscribe = terminal.subscribe(terminalEventFanOut({ connections: registry.connections, sequencer: api.sequencer, terminal, logger }));
  const unsubscribeLog = opts.recentLog === undefined ? () => undefined : logEventFanOut({ connections: registry.connections, watchers: logWatchers, ring: opts.recentLog, ...(opts.logEventIntervalMs === undefined ? {} : { intervalMs: opts.logEventIntervalMs }) });

  const a = server.address();
  bound = typeof a === 'string' || a === null ? { port: 0, address: opts.socket ?? '' } : { port: a.port, address: a.address };
  access.bind(bound.port);
  // The pages may open a WebSocket to this daemon only (their Content-Security-Policy's connect-src).
  opts.site?.setSocketOrigins(opts.socket === undefined ? daemonSocketOrigins([opts.host, ...(opts.hostNames ?? [])], bound.port, opts.tls !== undefined) : []);
  logger.info('API listening', {
    address: bound.address,
    port: bound.port,
    tls: opts.tls !== undefined,
    allowedOrigins: access.allowedOrigins(),
    unauthenticatedLoopback: opts.allowUnauthenticatedLoopback ?? false,
  });

  let closing: Promise<void> | null = null;
  return {
    get port() {
      return bound.port;
    },
    get address() {
      return bound.address;
    },
    clients: () => registry.size,
    close() {
      closing ??= (async () => {
        unsubscribe();
        unsubscribeLog();
        registry.stop();
        const gone = [...registry.connections].map(
          (c) =>
            new Promise<void>((resolve) => {
              const t = setTimeout(resolve, 2000);
              t.unref();
              c.onceClosed(() => {
                clearTimeout(t);
                resolve();
              });
              c.shutdown();
            }),
        );
        await Promise.all(gone);
        for (const c of registry.connections) c.terminate();
        wss.close();
        const servers = driverServer === undefined ? [server] : [server, driverServer];
        const closed = Promise.all(servers.map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))));
        for (const srv of servers) srv.closeAllConnections();
        for (const s of sockets) s.destroy();
        await closed;
        throttle.close();
        logger.info('API closed');
      })();
      return closing;
    },
  };
}
