/**
 * Who may talk to the daemon (docs/security.md): every HTTP request and every WebSocket upgrade
 * passes these checks, in this order, before it is routed, before a body is read and before an
 * upgrade is accepted — a refused request costs one header look-up and a short answer.
 *
 * 1. **Host** must be one of the daemon's own names (127.0.0.1, localhost, [::1], `api.host` and
 *    `api.hostNames`); anything else is DNS rebinding or a misdirected request → 421.
 * 2. **Origin**, when the request has one (every browser request that could do harm has one):
 *    the daemon's own origins (`http(s)://<own name>:<port>`) and `api.allowedOrigins`, compared
 *    exactly on scheme://host:port; `null` and foreign origins → 403.
 * 3. **Credentials**: a browser page from an allowed origin on this machine is admitted by its
 *    origin. Other clients need one of: a client token (`Authorization: Bearer sscc_…`,
 *    daemon/auth/clients.ts), a verified TLS client certificate (with `api.tls.ca`), the Unix
 *    socket (its file permissions decide), a live operator token (HTTP only: it was handed to an
 *    admitted client), or — when `api.allowUnauthenticatedLoopback` is set — a loopback address.
 *    A client on another host always needs a token or a certificate → 401.
 *
 * `GET /health` needs no credential from loopback (it tells nothing about the card or the holder),
 * nor does a CORS preflight (it carries none by definition); both still pass the Host and Origin
 * checks. A client on another host always needs a credential.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { BilingualText } from '../../core/text.js';
import type { ClientCredentials } from '../auth/clients.js';
import { isClientToken } from '../auth/clients.js';
import type { OperatorAuthPort } from '../terminal/port.js';

/** Names every daemon answers to (loopback). */
export const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '::1'] as const;

/** How a request was admitted. */
export type AdmittedVia = 'origin' | 'token' | 'certificate' | 'socket' | 'operator' | 'loopback' | 'open';

export interface Admitted {
  readonly ok: true;
  readonly via: AdmittedVia;
  /**
   * Who the client is, for logs and for the per-client connection limit: `client:<name>`,
   * `origin:<origin>`, `cert:<CN>`, `operator:<id>`, `socket`, `loopback`, or `anonymous`
   * (/health and preflights).
   */
  readonly identity: string;
  /** The allowed Origin of a browser request (CORS answers it), else null. */
  readonly origin: string | null;
  /** The stored hash of the client token (a revocation drops the connection), else null. */
  readonly clientHash: string | null;
}

export interface Refused {
  readonly ok: false;
  readonly status: 401 | 403 | 421;
  /** Stable code of the JSON error. */
  readonly code: 'misdirectedRequest' | 'originRefused' | 'clientCredentialRequired' | 'invalidClientCredential';
  readonly text: BilingualText;
  /** For the log: what was wrong (never a header value). */
  readonly reason: string;
  /** The operator token's own error (expired, unknown) when an operator token was the credential. */
  readonly operatorError?: unknown;
}

export type Admission = Admitted | Refused;

export const ACCESS_TEXT = {
  host: {
    zh: '请求的主机名不是本终端守护程序的名称（可能是 DNS 重绑定）：请用 127.0.0.1、localhost 或配置的 api.hostNames 访问',
    en: 'the Host of the request is not a name of this daemon (DNS rebinding?): use 127.0.0.1, localhost or a name configured in api.hostNames',
  },
  origin: {
    zh: '此网页来源（Origin）不在允许列表中：只有守护程序自己的页面和 api.allowedOrigins 中配置的来源可以使用本接口',
    en: 'this page origin is not allowed: only the daemon\'s own pages and the origins in api.allowedOrigins may use this API',
  },
  credential: {
    zh: '需要客户端凭据：请在请求头中带上 Authorization: Bearer <令牌>（由 sscard client add 生成），或使用 Unix 套接字；见 docs/security.md',
    en: 'a client credential is required: send Authorization: Bearer <token> (made with sscard client add), or use the Unix socket; see docs/security.md',
  },
  remote: {
    zh: '来自其他主机的客户端须出示客户端令牌或 TLS 客户端证书（见 docs/security.md）',
    en: 'a client on another host must present a client token or a TLS client certificate (see docs/security.md)',
  },
  badToken: {
    zh: '客户端令牌无效或已被吊销：请向管理员索取新令牌（sscard client add）',
    en: 'the client token is not valid or was revoked: ask the administrator for a new one (sscard client add)',
  },
} as const;

/**
 * The path of a request target, or null when it cannot be parsed (`GET //[ HTTP/1.1` passes Node's
 * HTTP parser but makes `new URL` throw: a request must not be able to throw out of a handler).
 */
export function pathOf(target: string | undefined): string | null {
  try {
    return new URL(target ?? '/', 'http://localhost').pathname;
  } catch {
    return null;
  }
}

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback, as a socket reports its peer. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.toLowerCase();
  if (isIP(a) === 4) return a.startsWith('127.');
  if (a === '::1') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  return mapped !== null && mapped[1]!.startsWith('127.');
}

/** The host name of a Host header value (brackets of an IPv6 literal removed, lower case), or null when malformed. */
export function hostName(header: string | undefined): string | null {
  if (header === undefined) return null;
  const m = /^(?:\[([0-9A-Fa-f:.]{2,45})\]|([A-Za-z0-9.-]{1,253}))(?::(\d{1,5}))?$/.exec(header);
  if (m === null) return null;
  const name = (m[1] ?? m[2]!).toLowerCase();
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/**
 * An origin as browsers serialise it (RFC 6454 §6.2): `scheme://host[:port]`, lower case, the
 * default port left out; null when `s` is not such an origin (a path, a query, user info, `null`).
 */
export function canonicalOrigin(s: string): string | null {
  if (!/^https?:\/\/[^/?#@\s]+\/?$/i.test(s)) return null;
  try {
    const u = new URL(s);
    if (u.username !== '' || u.password !== '') return null;
    return u.origin;
  } catch {
    return null;
  }
}

export interface AccessOptions {
  /** Extra names of this daemon (api.hostNames, and api.host when it is a specific address). */
  readonly hostNames: readonly string[];
  /** api.allowedOrigins (already canonical or canonicalised here). */
  readonly allowedOrigins: readonly string[];
  readonly clients: ClientCredentials | undefined;
  readonly auth: OperatorAuthPort;
  readonly allowUnauthenticatedLoopback: boolean;
  /** The server speaks TLS (own origins are https://). */
  readonly tls: boolean;
  /** Listening on a Unix socket. */
  readonly socket: boolean;
}

/** What a request asks for, as far as admission cares. */
export interface AdmissionRequest {
  /** A WebSocket upgrade (only client tokens count as credentials there). */
  readonly upgrade: boolean;
  /** No credential needed (GET /health, CORS preflight): Host and Origin are still checked. */
  readonly open: boolean;
}

export class AccessControl {
  private readonly names: ReadonlySet<string>;
  private readonly configuredOrigins: ReadonlySet<string>;
  private origins: ReadonlySet<string>;

  public constructor(private readonly o: AccessOptions) {
    const names = new Set<string>(LOOPBACK_NAMES);
    for (const n of o.hostNames) {
      const h = hostName(n.includes(':') && !n.startsWith('[') ? `[${n}]` : n);
      if (h !== null) names.add(h);
    }
    this.names = names;
    const origins = new Set<string>();
    for (const s of o.allowedOrigins) {
      const c = canonicalOrigin(s);
      if (c !== null) origins.add(c);
    }
    this.configuredOrigins = origins;
    this.origins = origins;
  }

  /** Called once the port is known: the daemon's own pages are served from these origins. */
  public bind(port: number): void {
    if (this.o.socket) return;
    const scheme = this.o.tls ? 'https' : 'http';
    const own = new Set(this.configuredOrigins);
    for (const n of this.names) {
      const c = canonicalOrigin(`${scheme}://${isIP(n) === 6 ? `[${n}]` : n}:${port}`);
      if (c !== null) own.add(c);
    }
    this.origins = own;
  }

  /** Every origin a browser page may have (own and configured), for docs and tests. */
  public allowedOrigins(): string[] {
    return [...this.origins];
  }

  public originAllowed(origin: string): boolean {
    return this.origins.has(origin);
  }

  public check(req: IncomingMessage, what: AdmissionRequest): Admission {
    // 1. Host: one of our names (the port is not compared: an SSH tunnel may map it).
    const host = hostName(req.headers.host);
    if (host === null || !this.names.has(host)) return { ok: false, status: 421, code: 'misdirectedRequest', text: ACCESS_TEXT.host, reason: host === null ? 'no or malformed Host' : 'foreign Host' };

    // 2. Origin: exact match; "null" and anything else refused.
    const originHeader = req.headers.origin;
    let origin: string | null = null;
    if (originHeader !== undefined) {
      if (!this.origins.has(originHeader)) return { ok: false, status: 403, code: 'originRefused', text: ACCESS_TEXT.origin, reason: originHeader === 'null' ? 'Origin null' : 'foreign Origin' };
      origin = originHeader;
    }

    const socket = req.socket as Partial<TLSSocket>;
    const onSocket = this.o.socket;
    const loopback = onSocket || isLoopbackAddress(req.socket.remoteAddress);

    // 3. Credentials. A client token given is always checked (a wrong one is never ignored).
    const bearer = /^Bearer\s+(\S{1,1024})\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer !== undefined && isClientToken(bearer)) {
      const c = this.o.clients?.verify(bearer) ?? null;
      if (c === null) return { ok: false, status: 401, code: 'invalidClientCredential', text: ACCESS_TEXT.badToken, reason: 'unknown or revoked client token' };
      return { ok: true, via: 'token', identity: `client:${c.name}`, origin, clientHash: c.hash };
    }
    if (socket.encrypted === true && socket.authorized === true) {
      const cn = certificateName(socket as TLSSocket);
      return { ok: true, via: 'certificate', identity: `cert:${cn}`, origin, clientHash: null };
    }
    if (onSocket) return { ok: true, via: 'socket', identity: 'socket', origin, clientHash: null };
    if (loopback && origin !== null) return { ok: true, via: 'origin', identity: `origin:${origin}`, origin, clientHash: null };
    if (what.open && loopback) return { ok: true, via: 'open', identity: 'anonymous', origin, clientHash: null };
    if (loopback && origin === null && this.o.allowUnauthenticatedLoopback) return { ok: true, via: 'loopback', identity: 'loopback', origin, clientHash: null };
    // A live operator token was handed to an admitted client (HTTP calls of a counter application).
    if (bearer !== undefined && !what.upgrade) {
      try {
        const id = this.o.auth.check(bearer);
        return { ok: true, via: 'operator', identity: `operator:${id}`, origin, clientHash: null };
      } catch (e) {
        return { ok: false, status: 401, code: 'clientCredentialRequired', text: ACCESS_TEXT.credential, reason: 'operator token not valid', operatorError: e };
      }
    }
    return { ok: false, status: 401, code: 'clientCredentialRequired', text: loopback ? ACCESS_TEXT.credential : ACCESS_TEXT.remote, reason: loopback ? 'no credential' : 'remote client without credential' };
  }

  /** CORS headers for an admitted browser request (none for others). */
  public corsHeaders(origin: string | null): Record<string, string> {
    if (origin === null) return {};
    return { 'access-control-allow-origin': origin, vary: 'Origin', 'access-control-expose-headers': 'X-SSCard-Return, WWW-Authenticate' };
  }
}

/** A certificate's subject CN (or "certificate" when it has none), safe for logs. */
function certificateName(s: TLSSocket): string {
  try {
    const cn = s.getPeerCertificate().subject?.CN;
    const v = Array.isArray(cn) ? cn[0] : cn;
    return typeof v === 'string' && /^[\w .@-]{1,64}$/.test(v) ? v : 'certificate';
  } catch {
    return 'certificate';
  }
}

/** The answer to an allowed CORS preflight (Fetch standard §3.2.3). */
export const PREFLIGHT_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-methods': 'GET, HEAD, POST',
  'access-control-allow-headers': 'Authorization, Content-Type',
  'access-control-max-age': '600',
};

/**
 * Security headers of every HTTP answer, ready for the pages the daemon will serve: no framing
 * (clickjacking of a PIN screen), no MIME sniffing, no Referer leaving the kiosk, no embedding by
 * other sites, nothing cached. CSP Level 3: 'self' also matches ws:/wss: to the same host and port.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};
