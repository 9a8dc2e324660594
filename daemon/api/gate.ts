/**
 * Who may come in (docs/security.md): every HTTP request and WebSocket upgrade passes access.ts
 * (Host, Origin, credentials) before anything else; a refused one costs a header look-up and a
 * short answer, and its log lines are bounded per client (throttle.ts). An upgrade then needs a
 * known endpoint and a place within the client limits (registry.ts) before its handshake.
 *
 * Endpoints (docs/api.md; XFS4IoT, docs/domain.md §7): the service publisher at `/xfs4iot/v1.0`,
 * the service at `/xfs4iot/v1.0/sscard`, also reachable as `/xfs4iot/v1.0/<Interface>`, and one
 * card reader's service at `/xfs4iot/v1.0/sscard/reader/<its name, percent-encoded>`; and the
 * vendors' JSON socket at `/sscard` (vendor-ws.ts, docs/domain.md §4).
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import { isSsCardError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { oneLine, type BilingualText } from '../../core/text.js';
import type { AccessControl, Refused } from './access.js';
import { PREFLIGHT_HEADERS, SECURITY_HEADERS, pathOf } from './access.js';
import { Connection } from './connection.js';
import type { Endpoint } from './connection.js';
import { endpointReaders } from './context.js';
import type { ApiContext } from './context.js';
import { handleHttp } from './http-routes.js';
import { VENDOR_WS_PATH, VendorSocket } from './vendor-ws.js';
import type { ClientRegistry } from './registry.js';
import type { LogThrottle } from './throttle.js';

export const XFS_ROOT = '/xfs4iot/v1.0';
export const SERVICE_PATH = `${XFS_ROOT}/sscard`;
/** Interface paths accepted as aliases of the one service endpoint. */
export const SERVICE_ALIASES = ['Common', 'CardReader', 'Keyboard', 'SSCard', 'Operator'] as const;

/**
 * One card reader's service endpoint: the path's last segment is the reader's name, percent-encoded
 * (RFC 3986 §2.1). XFS4IoT publishes one service per device (ServicePublisher.GetServices lists
 * their URIs): a client there gets that reader's events and the terminal's, not the other readers'.
 */
const READER_PREFIX = `${SERVICE_PATH}/reader/`;

/** The URI path of `reader`'s service endpoint. */
export function readerServicePath(reader: string): string {
  return `${READER_PREFIX}${encodeURIComponent(reader)}`;
}

/** The reader a reader endpoint's path names: as a command's `reader` field takes it (command-kit.ts), no control characters. */
function readerOfPath(segment: string): string | null {
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    return null;
  }
  // eslint-disable-next-line no-control-regex
  return name.length >= 1 && name.length <= 200 && !/[\u0000-\u001f\u007f]/.test(name) ? name : null;
}

/** Where an upgrade goes: an XFS4IoT endpoint (with its reader, for a reader's service) or the vendors' socket. */
type Route = { readonly endpoint: Endpoint; readonly reader: string | null } | { readonly endpoint: 'vendor' };

function routeOf(path: string): Route | null {
  const p = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  if (p === XFS_ROOT) return { endpoint: 'publisher', reader: null };
  if (p === VENDOR_WS_PATH) return { endpoint: 'vendor' };
  if (p.toLowerCase() === SERVICE_PATH) return { endpoint: 'service', reader: null };
  if (p.toLowerCase().startsWith(READER_PREFIX)) {
    const reader = readerOfPath(p.slice(READER_PREFIX.length));
    return reader === null ? null : { endpoint: 'service', reader };
  }
  if (p.startsWith(`${XFS_ROOT}/`) && (SERVICE_ALIASES as readonly string[]).includes(p.slice(XFS_ROOT.length + 1))) return { endpoint: 'service', reader: null };
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

const UPGRADE_TEXT = {
  notFound: {
    zh: `没有这个 WebSocket 端点：服务发布端点是 ${XFS_ROOT}，服务端点是 ${SERVICE_PATH}（单个读卡器：${READER_PREFIX}<读卡器名称，百分号编码>），厂商 JSON 接口是 ${VENDOR_WS_PATH}`,
    en: `no such WebSocket endpoint: the publisher is at ${XFS_ROOT}, the service at ${SERVICE_PATH} (one reader's: ${READER_PREFIX}<its name, percent-encoded>), the vendors' JSON socket at ${VENDOR_WS_PATH}`,
  },
  full: (n: number): BilingualText => ({ zh: `连接数已满（最多 ${n} 个客户端）：请稍后重试`, en: `too many clients (at most ${n}): try again later` }),
  noReader: (reader: string, present: readonly string[]): BilingualText => {
    const list = present.map((r) => `"${r}"`).join(', ') || '(none)';
    return {
      zh: `没有名为“${reader}”的持卡人读卡器（须为 Common.Status 所列的完整名称）：当前读卡器 ${list}`,
      en: `no card reader named "${reader}" (the full name Common.Status lists; not the PSAM's): card readers present ${list}`,
    };
  },
  fullForClient: (n: number): BilingualText => ({ zh: `此客户端的连接数已满（每个客户端最多 ${n} 个）：请关闭不用的连接`, en: `this client has too many connections (at most ${n} each): close the ones it does not use` }),
} as const;

export interface GateDeps {
  readonly api: ApiContext;
  readonly access: AccessControl;
  readonly throttle: LogThrottle;
  readonly logger: Logger;
}

export interface UpgradeDeps extends GateDeps {
  readonly registry: ClientRegistry;
  readonly wss: WebSocketServer;
  readonly limits: { readonly maxClients: number; readonly maxConnectionsPerClient: number };
}

/** The HTTP request handler: the access check, CORS and the preflight, then the routes (http-routes.ts). */
export function requestGate({ api, access, throttle, logger }: GateDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req: IncomingMessage, res: ServerResponse): void => {
    try {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
      const path = pathOf(req.url) ?? '/';
      const method = req.method ?? 'GET';
      const preflight = method === 'OPTIONS' && req.headers.origin !== undefined && req.headers['access-control-request-method'] !== undefined;
      const read = method === 'GET' || method === 'HEAD';
      // Open to anyone the Host check admits: the preflight, /health and the daemon's own pages
      // (static files, no card data; docs/security.md). /status is the API's report, not a page.
      const page = read && path !== '/status' && api.site?.owns(req.url) === true;
      const a = access.check(req, { upgrade: false, open: preflight || page || (path === '/health' && read) });
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
}

/** A malformed or timed-out request (Node's clientError): answered 400 / 408 where the socket can still take it. */
export function clientErrorHandler(throttle: LogThrottle): (e: NodeJS.ErrnoException, socket: Duplex) => void {
  return (e: NodeJS.ErrnoException, socket: Duplex): void => {
    const remote = (socket as Partial<Socket>).remoteAddress ?? 'unix';
    throttle.log(remote, 'debug', 'API HTTP client error', { remote, code: e.code ?? null }, e.code ?? 'clientError', 'malformed or timed-out requests');
    if (e.code === 'ERR_HTTP_REQUEST_TIMEOUT' && socket.writable) return refuseUpgrade(socket, 408, 'requestTimeout', { zh: '请求超时', en: 'request timeout' });
    if (socket.writable && e.code !== 'ECONNRESET') refuseUpgrade(socket, 400, 'badRequest', { zh: '请求格式不正确', en: 'malformed request' });
    else socket.destroy();
  };
}

/** The upgrade handler: access, endpoint, limits, then the WebSocket handshake and a Connection. */
export function upgradeGate({ api, access, throttle, logger, registry, wss, limits: opts }: UpgradeDeps): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    try {
      const address = req.socket.remoteAddress ?? 'unix';
      // Who may talk comes first: before the path, the limits and the handshake.
      const a = access.check(req, { upgrade: true, open: false });
      if (!a.ok) {
        throttle.log(address, 'warn', 'API WebSocket upgrade refused', { remote: address, status: a.status, why: a.reason }, a.reason, 'refused upgrades');
        return refuseUpgrade(socket, a.status, a.code, a.text, refusalHeaders(a));
      }
      const path = pathOf(req.url);
      const route = path === null ? null : routeOf(path);
      if (route === null) {
        throttle.log(address, 'debug', 'API WebSocket upgrade to an unknown path refused', { remote: address }, 'unknown path', 'refused upgrades');
        return refuseUpgrade(socket, 404, 'notFound', UPGRADE_TEXT.notFound);
      }
      if (route.endpoint === 'service' && route.reader !== null) {
        // Events are told apart by the reader's full name: a name the terminal does not list would be an endpoint that never hears anything.
        const present = endpointReaders(api.terminal);
        if (!present.includes(route.reader)) {
          throttle.log(address, 'debug', 'API WebSocket upgrade to an unknown reader refused', { remote: address }, 'unknown reader', 'refused upgrades');
          return refuseUpgrade(socket, 404, 'notFound', UPGRADE_TEXT.noReader(route.reader, present));
        }
      }
      const admitted = registry.admit(a.identity, socket);
      if (admitted === 'maxClients') {
        throttle.log(address, 'warn', 'API client refused: too many clients', { remote: address, identity: a.identity, maxClients: opts.maxClients }, 'maxClients', 'refused upgrades');
        return refuseUpgrade(socket, 503, 'tooManyClients', UPGRADE_TEXT.full(opts.maxClients));
      }
      if (admitted === 'maxConnectionsPerClient') {
        throttle.log(address, 'warn', 'API client refused: too many connections of this client', { remote: address, identity: a.identity, maxConnectionsPerClient: opts.maxConnectionsPerClient }, 'maxConnectionsPerClient', 'refused upgrades');
        return refuseUpgrade(socket, 503, 'tooManyClients', UPGRADE_TEXT.fullForClient(opts.maxConnectionsPerClient));
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        const remote = `${address}:${req.socket.remotePort ?? ''}`;
        const conn = admitted.opened(ws, () =>
          route.endpoint === 'vendor' ? new VendorSocket(ws, api, remote, a.identity, a.clientHash) : new Connection(ws, api, route.endpoint, remote, a.identity, a.clientHash, route.reader),
        );
        const reader = route.endpoint === 'vendor' || route.reader === null ? {} : { reader: route.reader };
        throttle.log(a.identity, 'info', 'API client connected', { client: conn.id, identity: a.identity, endpoint: route.endpoint, ...reader, remote }, 'connected', 'connection lines');
      });
    } catch (e) {
      logger.error('API upgrade failed', { error: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
      socket.destroy();
    }
  };
}
