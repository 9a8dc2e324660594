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
 */
import type { Logger } from '../../core/logger.js';
import fs from 'node:fs';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { WebSocketServer } from 'ws';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { oneLine, type BilingualText } from '../../core/text.js';
import { isSsCardError } from '../../core/errors.js';
import type { ClientCredentials } from '../auth/clients.js';
import type { OperatorAuthPort, TerminalEvent, TerminalPort } from '../terminal/port.js';
import { AccessControl, PREFLIGHT_HEADERS, SECURITY_HEADERS, pathOf } from './access.js';
import type { Refused } from './access.js';
import { sessionEvent, statusChangedPayload } from './commands.js';
import { Connection, MAX_BUFFERED_BYTES } from './connection.js';
import type { Endpoint } from './connection.js';
import { Sequencer } from './context.js';
import type { ApiContext, PrivilegedCall } from './context.js';
import { handleHttp } from './http-routes.js';
import { unsolicited } from './protocol.js';
import type { OutMessage } from './protocol.js';
import { LogThrottle } from './throttle.js';
import type { LogThrottleOptions } from './throttle.js';

export type { Logger, PrivilegedCall };

/** TLS material of the server (PEM). */
export interface ApiTls {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** CA of client certificates: a client presenting one it signed is admitted (docs/security.md). */
  readonly ca?: string | Buffer;
}

export interface ApiOptions {
  readonly terminal: TerminalPort;
  readonly auth: OperatorAuthPort;
  /** TCP host to bind (ignored with `socket`). */
  readonly host: string;
  /** TCP port (0 = ephemeral; ignored with `socket`). */
  readonly port: number;
  /** A Unix socket path instead of TCP. */
  readonly socket?: string;
  /** Largest WebSocket frame and HTTP body, bytes. */
  readonly maxFrameBytes: number;
  /** Most WebSocket clients at once (more: HTTP 503 on upgrade). */
  readonly maxClients: number;
  /** The component logger ("API"). */
  readonly logger: Logger;
  /** The daemon's version (Common.Capabilities serviceVersion). */
  readonly version: string;
  /** Called once per privileged call with its outcome; the daemon journals it. */
  readonly journalPrivileged?: (e: PrivilegedCall) => void;
  /** How long a cancelled or timed-out command may take to stop before it completes anyway (default 10 000 ms). */
  readonly abortGraceMs?: number;
  /**
   * WebSocket heartbeat (ms, default 15 000; 0 = off): each client is pinged this often and a
   * client that did not answer the previous ping is dropped, so a half-open connection (a kiosk
   * PC that lost power) does not hold its reader until the PIN-entry timeout.
   */
  readonly heartbeatMs?: number;

  // ---- who may talk (access.ts, docs/security.md) ----
  /** Names of this daemon besides 127.0.0.1, localhost and [::1] (api.hostNames); the first one is used in service URIs. */
  readonly hostNames?: readonly string[];
  /** Browser origins allowed besides the daemon's own (api.allowedOrigins), `scheme://host[:port]`. */
  readonly allowedOrigins?: readonly string[];
  /** Client tokens (daemon/auth/clients.ts); none: only origins, the socket, certificates and (if allowed) loopback. */
  readonly clients?: ClientCredentials;
  /** Native clients on loopback need no credential (default false: they need a client token). */
  readonly allowUnauthenticatedLoopback?: boolean;
  /** Serve https/wss with this certificate. */
  readonly tls?: ApiTls;

  // ---- what a client may cost ----
  /** WebSocket clients one client (one token, origin, certificate or loopback) may have at once (default 8). */
  readonly maxConnectionsPerClient?: number;
  /** TCP connections at once, HTTP and WebSocket together (default 256; more are closed at once). */
  readonly maxConnections?: number;
  /** Unsent bytes queued for one WebSocket client before it is dropped (default 1 MiB). */
  readonly maxSendBufferBytes?: number;
  /** Time to receive a request's headers, the WebSocket handshake and the TLS handshake (default 10 000 ms). */
  readonly headersTimeoutMs?: number;
  /** Time to receive a whole request, body included (default 30 000 ms; the answer may take longer). */
  readonly requestTimeoutMs?: number;
  /** An idle keep-alive HTTP connection is closed after this long (default 5000 ms). */
  readonly keepAliveTimeoutMs?: number;
  /** How often the clients file is looked at, so that a revoked client's connections are closed (default 1000 ms). */
  readonly clientsRefreshMs?: number;
  /** Log throttling (tests). */
  readonly logThrottle?: LogThrottleOptions;
}

export interface ApiServer {
  /** The bound TCP port (0 with a Unix socket). */
  readonly port: number;
  /** The bound address, or the socket path. */
  readonly address: string;
  close(): Promise<void>;
  /** WebSocket clients connected now. */
  clients(): number;
}

export const XFS_ROOT = '/xfs4iot/v1.0';
export const SERVICE_PATH = `${XFS_ROOT}/sscard`;
/** Interface paths accepted as aliases of the one service endpoint. */
export const SERVICE_ALIASES = ['Common', 'CardReader', 'Keyboard', 'SSCard', 'Operator'] as const;

/** Session events that belong to a running service flow. */
const FLOW_EVENTS: ReadonlySet<string> = new Set(['service.started', 'pin.entryStarted', 'pin.digits', 'result']);

function optionError(option: string, zh: string, en: string): never {
  throw new SsCardError(ErrorCode.Input_BadOption, { zh: `API 选项 ${option} ${zh}`, en: `API option ${option} ${en}` }, { option });
}

function checkOptions(o: ApiOptions): void {
  if (typeof o !== 'object' || o === null) optionError('opts', '缺失', 'is missing');
  for (const m of ['status', 'health', 'capabilities', 'subscribe', 'runService', 'readBasic'] as const) {
    if (typeof o.terminal?.[m] !== 'function') optionError('terminal', `必须实现 TerminalPort（缺少 ${m}）`, `must implement TerminalPort (${m} is missing)`);
  }
  for (const m of ['login', 'check', 'logout'] as const) {
    if (typeof o.auth?.[m] !== 'function') optionError('auth', `必须实现 OperatorAuthPort（缺少 ${m}）`, `must implement OperatorAuthPort (${m} is missing)`);
  }
  if (o.socket !== undefined) {
    if (typeof o.socket !== 'string' || o.socket.length === 0 || o.socket.length > 100) optionError('socket', '必须是 1 到 100 个字符的路径', 'must be a path of 1 to 100 characters');
  } else {
    if (typeof o.host !== 'string' || o.host.length === 0) optionError('host', '必须是非空字符串（例如 127.0.0.1）', 'must be a non-empty string (e.g. 127.0.0.1)');
    if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) optionError('port', '必须是 0 到 65535 的整数（0 = 任意空闲端口）', 'must be an integer 0..65535 (0 = any free port)');
  }
  if (!Number.isInteger(o.maxFrameBytes) || o.maxFrameBytes < 1024 || o.maxFrameBytes > 64 * 1024 * 1024) optionError('maxFrameBytes', '必须是 1024 到 67108864 的整数', 'must be an integer 1024..67108864');
  if (!Number.isInteger(o.maxClients) || o.maxClients < 1 || o.maxClients > 10_000) optionError('maxClients', '必须是 1 到 10000 的整数', 'must be an integer 1..10000');
  for (const m of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof o.logger?.[m] !== 'function') optionError('logger', `必须有 ${m}() 方法`, `must have a ${m}() method`);
  }
  if (typeof o.version !== 'string') optionError('version', '必须是字符串', 'must be a string');
  if (o.journalPrivileged !== undefined && typeof o.journalPrivileged !== 'function') optionError('journalPrivileged', '必须是函数', 'must be a function');
  if (o.abortGraceMs !== undefined && (!Number.isInteger(o.abortGraceMs) || o.abortGraceMs < 0 || o.abortGraceMs > 600_000)) optionError('abortGraceMs', '必须是 0 到 600000 的整数', 'must be an integer 0..600000');
  if (o.heartbeatMs !== undefined && (!Number.isInteger(o.heartbeatMs) || o.heartbeatMs < 0 || o.heartbeatMs > 600_000)) optionError('heartbeatMs', '必须是 0 到 600000 的整数', 'must be an integer 0..600000');
  const ints: [keyof ApiOptions, number, number][] = [
    ['maxConnectionsPerClient', 1, 10_000],
    ['maxConnections', 1, 100_000],
    ['maxSendBufferBytes', 1024, 1024 * 1024 * 1024],
    ['headersTimeoutMs', 100, 600_000],
    ['requestTimeoutMs', 100, 3_600_000],
    ['keepAliveTimeoutMs', 100, 600_000],
    ['clientsRefreshMs', 10, 600_000],
  ];
  for (const [k, min, max] of ints) {
    const v = o[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)) optionError(k, `必须是 ${min} 到 ${max} 的整数`, `must be an integer ${min}..${max}`);
  }
  for (const k of ['hostNames', 'allowedOrigins'] as const) {
    const v = o[k];
    if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) optionError(k, '必须是字符串数组', 'must be an array of strings');
  }
  if (o.clients !== undefined && (typeof o.clients.verify !== 'function' || typeof o.clients.isLive !== 'function' || typeof o.clients.refresh !== 'function')) optionError('clients', '必须实现 ClientCredentials', 'must implement ClientCredentials');
  if (o.tls !== undefined && (o.tls.cert === undefined || o.tls.key === undefined)) optionError('tls', '必须同时有 cert 与 key', 'must have both cert and key');
  if (o.headersTimeoutMs !== undefined && o.requestTimeoutMs !== undefined && o.requestTimeoutMs < o.headersTimeoutMs) optionError('requestTimeoutMs', '不能小于 headersTimeoutMs', 'must not be less than headersTimeoutMs');
}

function endpointOf(path: string): Endpoint | null {
  const p = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  if (p === XFS_ROOT) return 'publisher';
  if (p.toLowerCase() === SERVICE_PATH) return 'service';
  if (p.startsWith(`${XFS_ROOT}/`) && (SERVICE_ALIASES as readonly string[]).includes(p.slice(XFS_ROOT.length + 1))) return 'service';
  return null;
}

function refuseUpgrade(socket: Duplex, status: number, code: string, text: BilingualText, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: { code, zh: text.zh, en: text.en } });
  const extra = Object.entries({ ...SECURITY_HEADERS, ...headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.on('error', () => {});
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
  );
  // A client that does not read the refusal must not keep the socket open.
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** Headers of a refusal: the operator token's own problem in WWW-Authenticate (RFC 6750 §3). */
function refusalHeaders(a: Refused): Record<string, string> {
  if (a.status !== 401) return {};
  return { 'www-authenticate': a.operatorError !== undefined ? 'Bearer error="invalid_token"' : 'Bearer' };
}

/** Answer a refused HTTP request without reading its body, and close the connection. */
function refuseHttp(res: ServerResponse, path: string, a: Refused): void {
  const headers: Record<string, string | number> = { connection: 'close', ...refusalHeaders(a) };
  const text = a.operatorError !== undefined && isSsCardError(a.operatorError) ? a.operatorError.text : a.text;
  if (path.startsWith('/sscard/')) {
    // As the DLL would answer (docs/api.md): text/plain, -24 for "not authorised".
    const body = oneLine(text);
    res.writeHead(a.status, { ...headers, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...(a.status === 401 ? { 'x-sscard-return': '-24' } : {}) });
    res.end(body);
    return;
  }
  const body = JSON.stringify({ error: { code: a.code, zh: text.zh, en: text.en } });
  res.writeHead(a.status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);

/** The host the service URI names: the first configured name, else the bound host (127.0.0.1 for a wildcard). */
function publicHost(o: ApiOptions): string {
  const h = o.hostNames?.[0] ?? (WILDCARD.has(o.host) ? '127.0.0.1' : o.host);
  return net.isIP(h) === 6 ? `[${h}]` : h;
}

const UPGRADE_TEXT = {
  notFound: { zh: `没有这个 WebSocket 端点：服务发布端点是 ${XFS_ROOT}，服务端点是 ${SERVICE_PATH}`, en: `no such WebSocket endpoint: the publisher is at ${XFS_ROOT}, the service at ${SERVICE_PATH}` },
  full: (n: number): BilingualText => ({ zh: `连接数已满（最多 ${n} 个客户端）：请稍后重试`, en: `too many clients (at most ${n}): try again later` }),
  fullForClient: (n: number): BilingualText => ({ zh: `此客户端的连接数已满（每个客户端最多 ${n} 个）：请关闭不用的连接`, en: `this client has too many connections (at most ${n} each): close the ones it does not use` }),
} as const;

/** Whether something answers on a Unix socket path (a live daemon) or it is a stale file. */
function socketAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

function listen(server: http.Server | https.Server, o: ApiOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(e);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    if (o.socket !== undefined) server.listen(o.socket);
    else server.listen(o.port, o.host);
  });
}

export async function startApi(opts: ApiOptions): Promise<ApiServer> {
  checkOptions(opts);
  const { terminal, logger } = opts;
  const connections = new Set<Connection>();
  /** Upgrades accepted but not yet open: they count towards maxClients. */
  let upgrading = 0;
  const sockets = new Set<Socket>();
  let bound: { port: number; address: string } = { port: 0, address: '' };

  const journalHook = opts.journalPrivileged;
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
  const maxPerClient = opts.maxConnectionsPerClient ?? 8;
  /** WebSocket clients (open or upgrading) per identity. */
  const perClient = new Map<string, number>();
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
    journal(e) {
      if (journalHook === undefined) return;
      try {
        journalHook(e);
      } catch (err) {
        logger.error('journalPrivileged failed', { command: e.command, error: err instanceof Error ? err.message : String(err) });
      }
    },
    // From the configuration only: a request's Host header is never echoed (DNS rebinding).
    serviceUri() {
      if (opts.socket !== undefined) return `ws+unix:${opts.socket}:${SERVICE_PATH}`;
      return `${opts.tls === undefined ? 'ws' : 'wss'}://${publicHost(opts)}:${bound.port}${SERVICE_PATH}`;
    },
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
      const path = pathOf(req.url) ?? '/';
      const method = req.method ?? 'GET';
      const preflight = method === 'OPTIONS' && req.headers.origin !== undefined && req.headers['access-control-request-method'] !== undefined;
      const a = access.check(req, { upgrade: false, open: preflight || (path === '/health' && (method === 'GET' || method === 'HEAD')) });
      if (!a.ok) {
        throttle.log(req.socket.remoteAddress ?? 'unix', 'warn', 'API HTTP request refused', { remote: req.socket.remoteAddress ?? 'unix', status: a.status, why: a.reason }, a.reason, 'refused requests');
        return refuseHttp(res, path, a);
      }
      for (const [k, v] of Object.entries(access.corsHeaders(a.origin))) res.setHeader(k, v);
      if (preflight) {
        // An allowed page served from the branch network asks Chromium's Private Network Access
        // preflight (WICG Private Network Access, "CORS preflight") before it may call loopback.
        const pna = req.headers['access-control-request-private-network'] === 'true' ? { 'access-control-allow-private-network': 'true' } : {};
        res.writeHead(204, { ...PREFLIGHT_HEADERS, ...pna, 'content-length': 0 });
        return void res.end();
      }
      handleHttp(api, req, res);
    } catch (e) {
      logger.error('API request gate failed', { error: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
      res.destroy();
    }
  };
  const headersTimeout = opts.headersTimeoutMs ?? 10_000;
  const serverOptions: http.ServerOptions = {
    maxHeaderSize: 16 * 1024,
    headersTimeout,
    requestTimeout: opts.requestTimeoutMs ?? Math.max(30_000, headersTimeout),
    keepAliveTimeout: opts.keepAliveTimeoutMs ?? 5000,
    // How often Node looks for connections past those timeouts (its default, 30 s, lets a
    // slowloris client hold a socket up to 30 s longer than the timeout says).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
  };
  const server: http.Server | https.Server =
    opts.tls === undefined
      ? http.createServer(serverOptions, onRequest)
      : https.createServer(
          {
            ...serverOptions,
            cert: opts.tls.cert,
            key: opts.tls.key,
            ...(opts.tls.ca === undefined ? {} : { ca: opts.tls.ca, requestCert: true }),
            // A client without a certificate may still come with a token; access.ts decides.
            rejectUnauthorized: false,
            handshakeTimeout: headersTimeout,
          },
          onRequest,
        );
  server.maxConnections = opts.maxConnections ?? 256;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('drop', (d?: { remoteAddress?: string }) => {
    throttle.log(d?.remoteAddress ?? 'unix', 'warn', 'API connection dropped: too many connections', { remote: d?.remoteAddress ?? 'unix', maxConnections: server.maxConnections }, 'maxConnections', 'dropped connections');
  });
  server.on('tlsClientError', (e: NodeJS.ErrnoException, s: { remoteAddress?: string }) => {
    throttle.log(s.remoteAddress ?? 'unix', 'debug', 'API TLS handshake failed', { remote: s.remoteAddress ?? 'unix', code: e.code ?? null }, e.code ?? 'tls', 'failed TLS handshakes');
  });
  server.on('clientError', (e: NodeJS.ErrnoException, socket: Duplex) => {
    const remote = (socket as Partial<Socket>).remoteAddress ?? 'unix';
    throttle.log(remote, 'debug', 'API HTTP client error', { remote, code: e.code ?? null }, e.code ?? 'clientError', 'malformed or timed-out requests');
    if (e.code === 'ERR_HTTP_REQUEST_TIMEOUT' && socket.writable) return refuseUpgrade(socket, 408, 'requestTimeout', { zh: '请求超时', en: 'request timeout' });
    if (socket.writable && e.code !== 'ECONNRESET') refuseUpgrade(socket, 400, 'badRequest', { zh: '请求格式不正确', en: 'malformed request' });
    else socket.destroy();
  });

  // Heartbeat: ping every client; one that did not answer the last ping is gone (its commands are
  // aborted by the close, the card flow ends safely).
  const alive = new Map<WebSocket, boolean>();
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const heartbeat =
    heartbeatMs > 0
      ? setInterval(() => {
          for (const [ws, ok] of alive) {
            if (!ok) {
              logger.warn('API client did not answer the heartbeat; dropping it', {});
              ws.terminate();
              continue;
            }
            alive.set(ws, false);
            try {
              ws.ping();
            } catch {
              ws.terminate();
            }
          }
        }, heartbeatMs)
      : undefined;
  heartbeat?.unref();
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxFrameBytes, perMessageDeflate: false, clientTracking: false });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      const address = req.socket.remoteAddress ?? 'unix';
      // Who may talk comes first: before the path, the limits and the handshake.
      const a = access.check(req, { upgrade: true, open: false });
      if (!a.ok) {
        throttle.log(address, 'warn', 'API WebSocket upgrade refused', { remote: address, status: a.status, why: a.reason }, a.reason, 'refused upgrades');
        return refuseUpgrade(socket, a.status, a.code, a.text, refusalHeaders(a));
      }
      const path = pathOf(req.url);
      const endpoint = path === null ? null : endpointOf(path);
      if (endpoint === null) {
        throttle.log(address, 'debug', 'API WebSocket upgrade to an unknown path refused', { remote: address }, 'unknown path', 'refused upgrades');
        return refuseUpgrade(socket, 404, 'notFound', UPGRADE_TEXT.notFound);
      }
      if (connections.size + upgrading >= opts.maxClients) {
        throttle.log(address, 'warn', 'API client refused: too many clients', { remote: address, identity: a.identity, maxClients: opts.maxClients }, 'maxClients', 'refused upgrades');
        return refuseUpgrade(socket, 503, 'tooManyClients', UPGRADE_TEXT.full(opts.maxClients));
      }
      const mine = perClient.get(a.identity) ?? 0;
      if (mine >= maxPerClient) {
        throttle.log(address, 'warn', 'API client refused: too many connections of this client', { remote: address, identity: a.identity, maxConnectionsPerClient: maxPerClient }, 'maxConnectionsPerClient', 'refused upgrades');
        return refuseUpgrade(socket, 503, 'tooManyClients', UPGRADE_TEXT.fullForClient(maxPerClient));
      }
      perClient.set(a.identity, mine + 1);
      let held = true;
      const release = () => {
        if (!held) return;
        held = false;
        const n = (perClient.get(a.identity) ?? 1) - 1;
        if (n <= 0) perClient.delete(a.identity);
        else perClient.set(a.identity, n);
      };
      upgrading++;
      let counted = true;
      const uncount = () => {
        if (counted) upgrading--;
        counted = false;
      };
      socket.once('close', () => {
        uncount();
        release();
      });
      wss.handleUpgrade(req, socket, head, (ws) => {
        uncount();
        const remote = `${address}:${req.socket.remotePort ?? ''}`;
        const conn = new Connection(ws, api, endpoint, remote, a.identity, a.clientHash);
        connections.add(conn);
        alive.set(ws, true);
        ws.on('pong', () => alive.set(ws, true));
        ws.on('close', () => {
          connections.delete(conn);
          alive.delete(ws);
          release();
        });
        throttle.log(a.identity, 'info', 'API client connected', { client: conn.id, identity: a.identity, endpoint, remote }, 'connected', 'connection lines');
      });
    } catch (e) {
      logger.error('API upgrade failed', { error: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
      socket.destroy();
    }
  });

  // A revoked client token: its open connections are closed (1008) within clientsRefreshMs.
  const clients = opts.clients;
  const refresher =
    clients === undefined
      ? undefined
      : setInterval(() => {
          try {
            if (!clients.refresh()) return;
            for (const c of connections) {
              if (c.clientHash !== null && !clients.isLive(c.clientHash)) {
                logger.info('API client credential revoked; closing its connection', { client: c.id, identity: c.identity });
                c.revoke();
              }
            }
          } catch (e) {
            logger.error('API clients refresh failed', { error: e instanceof Error ? e.message : String(e) });
          }
        }, opts.clientsRefreshMs ?? 1000);
  refresher?.unref();

  const broadcast = (msg: OutMessage) => {
    for (const c of connections) if (c.endpoint === 'service') c.send(msg);
  };
  const onTerminalEvent = (e: TerminalEvent) => {
    try {
      switch (e.type) {
        case 'mediaInserted':
          return broadcast(unsolicited('CardReader.MediaInsertedEvent', { reader: e.reader, atr: e.atr }));
        case 'mediaRemoved':
          return broadcast(unsolicited('CardReader.MediaRemovedEvent', { reader: e.reader }));
        case 'session': {
          // A flow started through the API sends its own events (service started, PIN entry,
          // digit counts, result) to its caller; they fan out only when no API flow runs (a flow
          // the terminal started itself). Card and session events always fan out.
          // A flow's own events go to its caller as the command's events; every other client
          // (a technician watching, a second UI) sees them as unsolicited.
          const m = sessionEvent(e.event);
          const msg = unsolicited(m.name, { reader: e.reader, ...m.payload });
          if (!FLOW_EVENTS.has(e.event.type)) return broadcast(msg);
          const callers = api.sequencer.serviceConnections();
          for (const c of connections) if (c.endpoint === 'service' && !callers.has(c.id)) c.send(msg);
          return;
        }
        case 'device': {
          let status = null;
          try {
            status = terminal.status();
          } catch (err) {
            logger.warn('terminal.status() failed while reporting a device change', { error: err instanceof Error ? err.message : String(err) });
          }
          return broadcast(unsolicited('Common.StatusChangedEvent', statusChangedPayload(e, status)));
        }
      }
    } catch (err) {
      logger.error('API could not fan out a terminal event', { type: (e as { type?: unknown }).type, error: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined });
    }
  };

  try {
    await listen(server, opts);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (opts.socket !== undefined && err.code === 'EADDRINUSE' && !(await socketAlive(opts.socket))) {
      logger.warn('removing a stale API socket file', { socket: opts.socket });
      fs.rmSync(opts.socket, { force: true });
      await listen(server, opts).catch((e2: NodeJS.ErrnoException) => {
        throw listenError(opts, e2);
      });
    } else {
      throw listenError(opts, err);
    }
  }
  const unsubscribe = terminal.subscribe(onTerminalEvent);

  const a = server.address();
  bound = typeof a === 'string' || a === null ? { port: 0, address: opts.socket ?? '' } : { port: a.port, address: a.address };
  access.bind(bound.port);
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
    clients: () => connections.size,
    close() {
      closing ??= (async () => {
        unsubscribe();
        if (heartbeat !== undefined) clearInterval(heartbeat);
        if (refresher !== undefined) clearInterval(refresher);
        const gone = [...connections].map(
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
        for (const c of connections) c.terminate();
        wss.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
          for (const s of sockets) s.destroy();
        });
        throttle.close();
        logger.info('API closed');
      })();
      return closing;
    },
  };
}

function listenError(o: ApiOptions, e: NodeJS.ErrnoException): SsCardError {
  const where = o.socket ?? `${o.host}:${o.port}`;
  const why = e.code === 'EADDRINUSE' ? { zh: '地址已被占用（另一个进程在用）', en: 'the address is in use (another process has it)' } : e.code === 'EACCES' ? { zh: '没有权限', en: 'permission denied' } : { zh: e.code ?? e.message, en: e.code ?? e.message };
  return new SsCardError(ErrorCode.Config_Invalid, { zh: `本地 API 无法在 ${where} 上监听：${why.zh}；请检查 api 配置`, en: `the local API cannot listen on ${where}: ${why.en}; check the api configuration` }, { where, code: e.code ?? null }, { cause: e });
}
