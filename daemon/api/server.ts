/**
 * The daemon's local API (daemon issue 5 §2–§4, docs/api.md): one node:http server on the host and
 * port (or Unix socket) the daemon gives it — it never binds anywhere else — serving
 *
 * - WebSocket, XFS4IoT envelope (DOMAIN.md §7): the service publisher at `/xfs4iot/v1.0` and the
 *   one service, which implements the Common, CardReader, Keyboard, SSCard and Operator
 *   interfaces, at `/xfs4iot/v1.0/sscard` (also reachable as `/xfs4iot/v1.0/<Interface>`);
 * - HTTP: `GET /health`, `GET /status`, and the SSCardDriver calls `POST /sscard/<function>`.
 *
 * Terminal events fan out to every service client as unsolicited messages.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { WebSocketServer } from 'ws';
import { ErrorCode, SsCardError } from '../../apdu/errors.js';
import type { BilingualText } from '../../apdu/errors.js';
import type { OperatorAuthPort, TerminalEvent, TerminalPort } from '../terminal/port.js';
import { sessionEvent, statusChangedPayload } from './commands.js';
import { Connection } from './connection.js';
import type { Endpoint } from './connection.js';
import { Sequencer } from './context.js';
import type { ApiContext, ApiLogger, PrivilegedCall } from './context.js';
import { handleHttp } from './http-routes.js';
import { unsolicited } from './protocol.js';
import type { OutMessage } from './protocol.js';

export type { ApiLogger, PrivilegedCall };

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
  readonly logger: ApiLogger;
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

const HOST_HEADER = /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$/;

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
}

function endpointOf(path: string): Endpoint | null {
  const p = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  if (p === XFS_ROOT) return 'publisher';
  if (p.toLowerCase() === SERVICE_PATH) return 'service';
  if (p.startsWith(`${XFS_ROOT}/`) && (SERVICE_ALIASES as readonly string[]).includes(p.slice(XFS_ROOT.length + 1))) return 'service';
  return null;
}

function refuseUpgrade(socket: Duplex, status: number, code: string, text: BilingualText): void {
  const body = JSON.stringify({ error: { code, zh: text.zh, en: text.en } });
  socket.on('error', () => {});
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const UPGRADE_TEXT = {
  notFound: { zh: `没有这个 WebSocket 端点：服务发布端点是 ${XFS_ROOT}，服务端点是 ${SERVICE_PATH}`, en: `no such WebSocket endpoint: the publisher is at ${XFS_ROOT}, the service at ${SERVICE_PATH}` },
  full: (n: number): BilingualText => ({ zh: `连接数已满（最多 ${n} 个客户端）：请稍后重试`, en: `too many clients (at most ${n}): try again later` }),
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

function listen(server: http.Server, o: ApiOptions): Promise<void> {
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
  const api: ApiContext = {
    terminal,
    auth: opts.auth,
    logger,
    version: opts.version,
    maxFrameBytes: opts.maxFrameBytes,
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
    serviceUri(hostHeader) {
      if (opts.socket !== undefined) return `ws+unix:${opts.socket}:${SERVICE_PATH}`;
      const host = hostHeader !== undefined && HOST_HEADER.test(hostHeader) ? hostHeader : `${bound.address.includes(':') ? `[${bound.address}]` : bound.address}:${bound.port}`;
      return `ws://${host}${SERVICE_PATH}`;
    },
  };

  const server = http.createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => handleHttp(api, req, res));
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (e: NodeJS.ErrnoException, socket: Duplex) => {
    logger.debug('API HTTP client error', { code: e.code ?? null });
    if (socket.writable) refuseUpgrade(socket, 400, 'badRequest', { zh: '请求格式不正确', en: 'malformed request' });
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
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const endpoint = endpointOf(path);
      if (endpoint === null) {
        logger.debug('API WebSocket upgrade to an unknown path refused');
        return refuseUpgrade(socket, 404, 'notFound', UPGRADE_TEXT.notFound);
      }
      if (connections.size + upgrading >= opts.maxClients) {
        logger.warn('API client refused: too many clients', { maxClients: opts.maxClients });
        return refuseUpgrade(socket, 503, 'tooManyClients', UPGRADE_TEXT.full(opts.maxClients));
      }
      upgrading++;
      let counted = true;
      const uncount = () => {
        if (counted) upgrading--;
        counted = false;
      };
      socket.once('close', uncount);
      wss.handleUpgrade(req, socket, head, (ws) => {
        uncount();
        const remote = `${req.socket.remoteAddress ?? opts.socket ?? 'unix'}:${req.socket.remotePort ?? ''}`;
        const conn = new Connection(ws, api, endpoint, req.headers.host, remote);
        connections.add(conn);
        alive.set(ws, true);
        ws.on('pong', () => alive.set(ws, true));
        ws.on('close', () => {
          connections.delete(conn);
          alive.delete(ws);
        });
        logger.info('API client connected', { client: conn.id, endpoint, remote });
      });
    } catch (e) {
      logger.error('API upgrade failed', { error: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
      socket.destroy();
    }
  });

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
  logger.info('API listening', { address: bound.address, port: bound.port });

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
