/**
 * The local API's options (docs/api.md; docs/config.md `api.*` sets them) and their eager check:
 * a bad option fails at start with Input_BadOption naming it, never on the first request.
 */
import type { Logger } from '../../core/logger.js';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import type { ClientCredentials } from '../auth/clients.js';
import type { OperatorAuthPort, TerminalPort } from '../terminal/port.js';
import type { PrivilegedCall } from './context.js';
import type { StaticSite } from './static-files.js';
import type { LogThrottleOptions } from './throttle.js';
import type { RecentLogSource } from './log-commands.js';

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
  /**
   * A second Unix socket, beside the TCP port or `socket`, serving the HTTP routes only — the
   * SSCardDriver calls of libSSCardDriver.so (docs/sscard-driver.md). Made mode 0660: its file
   * permissions are its access check, as for `socket` (docs/security.md).
   */
  readonly driverSocket?: string;
  /** The Prometheus exposition for `GET /metrics` (daemon/metrics.ts); absent: 404. */
  readonly metrics?: () => Promise<{ readonly contentType: string; readonly text: string }>;
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
  /** The daemon's own pages (web/, built to dist/web), served to anyone the Host check admits; none: the API alone. */
  readonly site?: StaticSite;
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
  /** The daemon's last log lines (Logging.recent, daemon/log/ring.ts): SSCard.RecentLog and SSCard.LogChangedEvent. */
  readonly recentLog?: RecentLogSource;
  /** SSCard.LogChangedEvent: at most one per this many ms (default 1000; tests). */
  readonly logEventIntervalMs?: number;
  /**
   * Credentialed clients (`client:<token name>`, `cert:<certificate CN>`: access.ts identities)
   * that may use CardReader.ChipIO, ChipPower and Reset without an operator (docs/config.md `api.chipClients`).
   */
  readonly chipClients?: readonly string[];
}

function optionError(option: string, zh: string, en: string): never {
  throw new SsCardError(ErrorCode.Input_BadOption, { zh: `API 选项 ${option} ${zh}`, en: `API option ${option} ${en}` }, { option });
}

/** Validate the options eagerly; an error names the option (Input_BadOption). */
export function checkOptions(o: ApiOptions): void {
  if (typeof o !== 'object' || o === null) optionError('opts', '缺失', 'is missing');
  for (const m of ['status', 'health', 'capabilities', 'subscribe', 'runService', 'readBasic'] as const) {
    if (typeof o.terminal?.[m] !== 'function') optionError('terminal', `必须实现 TerminalPort（缺少 ${m}）`, `must implement TerminalPort (${m} is missing)`);
  }
  for (const m of ['login', 'check', 'logout'] as const) {
    if (typeof o.auth?.[m] !== 'function') optionError('auth', `必须实现 OperatorAuthPort（缺少 ${m}）`, `must implement OperatorAuthPort (${m} is missing)`);
  }
  if (o.driverSocket !== undefined) {
    // sockaddr_un.sun_path holds 108 bytes with the NUL (unix(7)).
    if (typeof o.driverSocket !== 'string' || o.driverSocket.length === 0 || Buffer.byteLength(o.driverSocket) > 100) optionError('driverSocket', '必须是 1 到 100 字节的路径', 'must be a path of 1 to 100 bytes');
    if (o.driverSocket === o.socket) optionError('driverSocket', '不能与 socket 相同', 'must differ from socket');
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
