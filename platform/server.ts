/**
 * The reference platform server: a small implementation of docs/sync-protocol.md for tests, demos
 * and benchmarks (`npm run central`). It keeps operations in SQLite (embedded) or PostgreSQL (platform/store/), accepts batches
 * idempotently (the operation id is the primary key: a second copy is a "duplicate", never a second
 * row), records the bank-account activation requests of financial windows the same way (the request
 * id is the primary key; docs/sync-protocol.md "Push bank requests"), serves the lost-card hotlist by
 * version, and can be told to fail:
 *
 * - `down`: the listener is closed (connections are refused) — {@link CentralServer.setFault} or
 *   {@link CentralServer.goDown}/{@link CentralServer.comeUp};
 * - `reset`: connections are accepted and cut (ECONNRESET);
 * - `slow`: the batch is stored, the answer comes after `delayMs` (the terminal times out first);
 * - `500`: HTTP 500, nothing stored;
 * - `malformed`: the batch is stored, the answer is not JSON;
 * - `partial`: the batch is stored, only the first half of the ids is acknowledged.
 *
 * A fault applies to the next `times` requests (default: until cleared) of the chosen path(s),
 * optionally with a probability (seeded, reproducible). Faults can also be set over HTTP
 * (`POST /admin/fault`) when the server runs with `admin: true` (loopback demos).
 *
 * With `tls.requireClientCert` (mTLS) every request must come over a connection whose client
 * certificate chains to `tls.ca`; any other request is answered 403 before its route runs.
 */
import type { Logger } from '../core/logger.js';
import { SILENT_LOGGER } from '../core/logger.js';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { signHotlist } from '../daemon/sync/hotlist-signature.js';
import { fleetPage, fleetView } from './fleet.js';
import { FAULT_MODES, mulberry32 } from './faults.js';
import type { Fault, FaultMode } from './faults.js';
import { checkBankRequests, checkOperations } from './ingest.js';

export { FAULT_MODES };
export type { Fault, FaultMode };
import type { FleetOptions, FleetView } from './fleet.js';
import { ErrorCode, SsCardError } from '../core/errors.js';
import { PgStore } from './store/pg-store.js';
import { SqliteStore } from './store/sqlite-store.js';
import type { PlatformStore, RefusalRecord } from './store/store.js';
import { PROTOCOL_REVISION, PROTOCOL_VERSION, checkBankPushRequest, checkHeartbeat, checkPushRequest, hotlistEtag, unstorableText } from '../daemon/sync/wire.js';
import type { Heartbeat, HeartbeatAnswer, HotlistResponse, PushResponse } from '../daemon/sync/wire.js';

export interface CentralOptions {
  /** SQLite file (default in memory), the embedded default. */
  readonly dbPath?: string;
  /**
   * PostgreSQL instead (postgres://user@host:port/database): what a province runs, several
   * platform processes on one database (platform/store/pg-store.ts). Wins over `dbPath`.
   */
  readonly databaseUrl?: string;
  /** Default 127.0.0.1 (loopback). */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  /** Serve HTTPS; with `ca` and `requireClientCert`, mTLS. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer; readonly ca?: string | Buffer; readonly requireClientCert?: boolean };
  /** Service item codes the platform knows; others are rejected (default: any well-formed code). */
  readonly serviceItems?: readonly string[];
  /** Enable POST /admin/fault and /admin/hotlist. */
  readonly admin?: boolean;
  /** Every push body as received (tests scan them). */
  readonly capture?: (body: Buffer) => void;
  /**
   * The hotlist signing key (Ed25519 private key): every hotlist answer carries its signature
   * (daemon/sync/hotlist-signature.ts); terminals with the public key refuse lists that do not verify.
   */
  readonly hotlistSigningKey?: KeyObject;
  /**
   * The terminal registry (needs `tls.requireClientCert`): a request to `v1/` must come with a
   * certificate registered to a terminal ({@link CentralServer.registerCertificate}) and not
   * revoked, and may only name that terminal; refusals are journaled ({@link CentralServer.refusals}).
   */
  readonly registry?: boolean;
  /** The fleet view's alarm thresholds (platform/fleet.ts). */
  readonly fleet?: FleetOptions;
  /** Seed of the fault probability generator. */
  readonly seed?: number;
  readonly logger?: Logger;
}

export interface RequestLogEntry {
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly fault: FaultMode;
  /** Operations or bank requests in the push. */
  readonly operations: number;
}

export interface CentralCounts {
  /** Distinct operations held. */
  readonly operations: number;
  /** Operation copies received in total (≥ operations when terminals retried). */
  readonly received: number;
  readonly duplicatesReceived: number;
  readonly requests: number;
  readonly hotlistVersion: number;
  /** Distinct bank requests held. */
  readonly bankRequests: number;
  /** Bank request copies received in total (≥ bankRequests when terminals retried). */
  readonly bankRequestsReceived: number;
}


const MAX_BODY = 64 * 1024 * 1024;
/** A heartbeat is well under a kilobyte. */
const MAX_HEARTBEAT = 16 * 1024;

export class CentralServer {
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly opts: CentralOptions;
  private readonly log: Logger;
  private readonly rng: () => number;
  private fault: { f: Fault; left: number } | undefined;
  private listening = false;
  private boundPort = 0;
  private readonly host: string;
  private readonly requestLog: RequestLogEntry[] = [];
  private readonly refusalsSeen = new Map<string, number>();

  private constructor(
    opts: CentralOptions,
    private readonly db: PlatformStore,
  ) {
    if (opts.registry === true && opts.tls?.requireClientCert !== true) {
      throw new SsCardError(ErrorCode.Central_Failed, { zh: '终端登记表需要终端证书（mTLS：--tls-ca 与 --require-client-cert）', en: 'the terminal registry needs client certificates (mTLS: --tls-ca and --require-client-cert)' }, { option: 'registry' });
    }
    if (opts.tls?.requireClientCert === true && opts.tls.ca === undefined) {
      throw new SsCardError(ErrorCode.Central_Failed, { zh: '要求终端证书（mTLS）时必须给出签发终端证书的 CA（--tls-ca）', en: 'requiring client certificates (mTLS) needs the CA that issues them (--tls-ca)' }, { option: 'tls.ca' });
    }
    this.opts = opts;
    this.log = opts.logger ?? SILENT_LOGGER;
    this.rng = mulberry32(opts.seed ?? 1);
    this.host = opts.host ?? '127.0.0.1';
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      this.handle(req, res).catch((err: unknown) => {
        this.log.error('central: request failed', { err: String(err) });
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":"internal"}');
      });
    };
    // mTLS: the certificate is requested in the handshake but checked per request (see handle()):
    // Node's own rejectUnauthorized drops a certificate from an unknown CA with a bare TCP reset,
    // which a terminal cannot tell from a network fault; a 403 says what is wrong.
    this.server = opts.tls
      ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.ca, requestCert: opts.tls.requireClientCert === true, rejectUnauthorized: false }, handler)
      : http.createServer(handler);
    this.server.keepAliveTimeout = 5000;
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  /** Start listening; resolves when the port is bound. */
  public static async start(opts: CentralOptions = {}): Promise<CentralServer> {
    const store: PlatformStore = opts.databaseUrl !== undefined ? await PgStore.open({ url: opts.databaseUrl }) : new SqliteStore(opts.dbPath);
    let s: CentralServer;
    try {
      s = new CentralServer(opts, store);
      await s.listen(opts.port ?? 0);
    } catch (e) {
      await store.close();
      throw e;
    }
    return s;
  }

  /** Where the platform stores: `sqlite` (embedded) or `postgres`. */
  public get storeKind(): PlatformStore['kind'] {
    return this.db.kind;
  }

  public get port(): number {
    return this.boundPort;
  }

  public get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `${this.opts.tls ? 'https' : 'http'}://${host}:${this.boundPort}/`;
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(new SsCardError(ErrorCode.Central_Failed, { zh: `参考平台无法监听 ${this.host}:${port}（${err.message}）；请换一个端口（--port）`, en: `the reference platform cannot listen on ${this.host}:${port} (${err.message}); choose another port (--port)` }, { port }, { cause: err }));
      };
      this.server.once('error', onError);
      this.server.listen(port, this.host, () => {
        this.server.off('error', onError);
        this.boundPort = (this.server.address() as AddressInfo).port;
        this.listening = true;
        resolve();
      });
    });
  }

  /** Close the listener and cut every connection: terminals see ECONNREFUSED. */
  public async goDown(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Listen again on the same port. */
  public async comeUp(): Promise<void> {
    if (this.listening) return;
    await this.listen(this.boundPort);
  }

  /** Inject a fault (null or mode `none` clears). `down` closes the listener until cleared. */
  public async setFault(f: Fault | null): Promise<void> {
    if (f === null || f.mode === 'none') {
      this.fault = undefined;
      await this.comeUp();
      return;
    }
    if (!FAULT_MODES.includes(f.mode)) throw new SsCardError(ErrorCode.Input_BadOption, { zh: `未知的故障类型 ${String(f.mode)}`, en: `unknown fault mode ${String(f.mode)}` }, { option: 'mode' });
    if (f.mode === 'down') {
      this.fault = undefined;
      await this.goDown();
      // With delayMs, come back by itself (the CLI's --fail down --slow-ms N: its admin port is down too).
      if (f.delayMs !== undefined) setTimeout(() => void this.comeUp().catch(() => undefined), f.delayMs).unref();
      return;
    }
    this.fault = { f, left: f.times ?? Number.POSITIVE_INFINITY };
  }

  private takeFault(): boolean {
    if (!this.fault) return false;
    if ((this.fault.f.probability ?? 1) < 1 && this.rng() >= (this.fault.f.probability ?? 1)) return false;
    this.fault.left--;
    if (this.fault.left <= 0) this.fault = undefined;
    return true;
  }

  private faultFor(kind: 'push' | 'bank' | 'hotlist'): { mode: FaultMode; delayMs: number } {
    const none = { mode: 'none' as const, delayMs: 0 };
    if (!this.fault) return none;
    const on = this.fault.f.on ?? 'push';
    // `push` is both pushes (operations and bank requests); `bank` only the bank requests'.
    if (on !== 'all' && on !== kind && !(on === 'push' && kind === 'bank')) return none;
    const { mode, delayMs } = this.fault.f;
    return this.takeFault() ? { mode, delayMs: delayMs ?? 30_000 } : none;
  }

  public hotlistAdd(cardId: string): Promise<number> {
    return this.hotlistChange(cardId, 'add');
  }

  public hotlistRemove(cardId: string): Promise<number> {
    return this.hotlistChange(cardId, 'remove');
  }

  private async hotlistChange(cardId: string, action: 'add' | 'remove'): Promise<number> {
    if (!/^[0-9A-Fa-f]{32}$/.test(cardId)) throw new SsCardError(ErrorCode.Input_BadOption, { zh: '卡识别码应为 32 位十六进制数字', en: 'a card identification code is 32 hex digits' }, { option: 'cardId' });
    return this.db.hotlistChange({ cardId: cardId.toUpperCase(), action }, Date.now());
  }

  /** What the platform holds. */
  public async counts(): Promise<CentralCounts> {
    const c = await this.db.counts();
    return {
      operations: c.operations,
      received: c.received,
      duplicatesReceived: c.received - c.operations,
      requests: this.requestLog.length,
      hotlistVersion: c.hotlistVersion,
      bankRequests: c.bankRequests,
      bankRequestsReceived: c.bankRequestsReceived,
    };
  }

  /** Every held bank request id with how many copies arrived. */
  public bankRequestCopies(): Promise<Map<string, number>> {
    return this.db.bankRequestCopies();
  }

  /** A held bank request as received (the platform hands it to the bank from here). */
  public bankRequest(id: string): Promise<unknown> {
    return this.db.bankRequest(id);
  }

  /** Every held operation id with how many copies arrived. */
  public operationCopies(): Promise<Map<string, number>> {
    return this.db.operationCopies();
  }

  /** Operations held per terminal. */
  public operationsPerTerminal(): Promise<Map<string, number>> {
    return this.db.operationsPerTerminal();
  }

  public operation(id: string): Promise<unknown> {
    return this.db.operation(id);
  }

  public requests(): readonly RequestLogEntry[] {
    return this.requestLog;
  }

  public async close(): Promise<void> {
    await this.goDown();
    await this.db.close();
  }

  // ---------------------------------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const route = `${req.method ?? ''} ${url.pathname.replace(/\/+$/, '')}`;
    const send = (status: number, body: unknown, fault: FaultMode = 'none', operations = 0): void => {
      this.requestLog.push({ at: Date.now(), method: req.method ?? '', path: url.pathname, status, fault, operations });
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (this.opts.tls?.requireClientCert === true) {
      const sock = req.socket as TLSSocket;
      // Both checks: Node counts a resumed TLS 1.3 session as authorized even when no certificate
      // was ever shown (a terminal without one gets a session ticket from its refused first request).
      const noCert = Object.keys(sock.getPeerCertificate()).length === 0;
      if (noCert || !sock.authorized) {
        // Refused before any route runs: nothing is stored, captured or served. The body is read and
        // dropped so the terminal gets the answer instead of a reset; the connection is closed.
        const why = noCert ? 'no client certificate' : `client certificate not accepted (${String(sock.authorizationError)})`;
        this.log.warn('central: request without an accepted client certificate refused', { why, remote: req.socket.remoteAddress });
        await readBody(req);
        res.setHeader('connection', 'close');
        return send(403, { error: why });
      }
    }
    // The terminal registry (docs/sync-protocol.md "Terminal registry"): a terminal's requests come
    // with a certificate registered to it and not revoked, and name that terminal only.
    let certTerminal: string | undefined;
    if (this.opts.registry === true && url.pathname.startsWith('/v1/')) {
      const fingerprint = (req.socket as TLSSocket).getPeerCertificate().fingerprint256;
      const cert = await this.db.certificate(fingerprint);
      if (cert === undefined || cert.revokedAt !== null) {
        const reason = cert === undefined ? 'unknown-certificate' : 'revoked-certificate';
        await this.refuse({ at: Date.now(), reason, fingerprint, terminalId: cert?.terminalId ?? null, claimedTerminalId: null, path: url.pathname });
        await readBody(req, 0);
        res.setHeader('connection', 'close');
        return send(403, { error: cert === undefined ? 'client certificate not registered to a terminal' : 'client certificate revoked' });
      }
      certTerminal = cert.terminalId;
    }
    const mismatch = async (claimed: string): Promise<boolean> => {
      if (certTerminal === undefined || claimed === certTerminal) return false;
      const fingerprint = (req.socket as TLSSocket).getPeerCertificate().fingerprint256;
      await this.refuse({ at: Date.now(), reason: 'terminal-mismatch', fingerprint, terminalId: certTerminal, claimedTerminalId: claimed.slice(0, 64), path: url.pathname });
      send(403, { error: `terminalId ${claimed.slice(0, 64)} is not the terminal of this certificate` });
      return true;
    };
    // The two pushes (docs/sync-protocol.md "Push" and "Push bank requests") differ only in their
    // list, its check and where it is stored; the injected faults are the same.
    const pushOf =
      route === 'POST /v1/operations'
        ? { fault: 'push' as const, check: checkPushRequest, list: 'operations' as const, store: (t: string, b: string, items: unknown[], escapes: boolean) => this.store(t, b, items, escapes) }
        : route === 'POST /v1/bank-requests'
          ? { fault: 'bank' as const, check: checkBankPushRequest, list: 'bankRequests' as const, store: (t: string, b: string, items: unknown[], escapes: boolean) => this.storeBankRequests(t, b, items, escapes) }
          : undefined;
    if (pushOf !== undefined) {
      const { mode: fault, delayMs } = this.faultFor(pushOf.fault);
      if (fault === 'reset') {
        this.requestLog.push({ at: Date.now(), method: 'POST', path: url.pathname, status: 0, fault, operations: 0 });
        req.socket.destroy();
        return;
      }
      const raw = await readBody(req);
      if (raw === undefined) {
        res.setHeader('connection', 'close');
        return send(413, { error: 'body too large' });
      }
      this.opts.capture?.(raw);
      if (fault === '500') return send(500, { error: 'injected fault' }, fault);
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8')) as unknown;
      } catch {
        return send(400, { error: 'body is not JSON' });
      }
      // Only a \u escape can put U+0000 or a lone surrogate in the parsed text (wire.ts unstorableText).
      const escapes = raw.includes('\\u');
      const push = body as { terminalId: string; batchId: string } & Record<typeof pushOf.list, unknown[]>;
      const problem = pushOf.check(body) ?? (escapes ? unstorableText([push.terminalId, push.batchId]) : undefined);
      if (problem !== undefined) return send(400, { error: problem });
      if (await mismatch(push.terminalId)) return;
      const items = push[pushOf.list];
      const answer = await pushOf.store(push.terminalId, push.batchId, items, escapes);
      const n = items.length;
      if (fault === 'malformed') return send(200, '{"accepted": [', fault, n);
      if (fault === 'slow') {
        await new Promise((r) => setTimeout(r, delayMs));
        if (res.destroyed) return;
        return send(200, answer, fault, n);
      }
      if (fault === 'partial') {
        const all = [...answer.accepted, ...answer.duplicates];
        const keep = new Set(all.slice(0, Math.floor(all.length / 2)));
        return send(200, { ...answer, accepted: answer.accepted.filter((i) => keep.has(i)), duplicates: answer.duplicates.filter((i) => keep.has(i)) }, fault, n);
      }
      return send(200, answer, 'none', n);
    }
    if (route === 'GET /v1/hotlist') {
      const { mode: fault, delayMs } = this.faultFor('hotlist');
      if (fault === 'reset') {
        req.socket.destroy();
        return;
      }
      if (fault === '500') return send(500, { error: 'injected fault' }, fault);
      if (fault === 'malformed') return send(200, '{"version":', fault);
      if (fault === 'slow') await new Promise((r) => setTimeout(r, delayMs));
      // Versioned with an ETag: a terminal already at the current version gets 304 and no body.
      const current = String(await this.db.hotlistVersion());
      if (req.headers['if-none-match'] === hotlistEtag(current) && url.searchParams.get('since') === current) {
        this.requestLog.push({ at: Date.now(), method: 'GET', path: url.pathname, status: 304, fault, operations: 0 });
        res.writeHead(304, { etag: hotlistEtag(current) });
        res.end();
        return;
      }
      const answer = await this.hotlist(url.searchParams.get('since'));
      res.setHeader('etag', hotlistEtag(answer.version));
      return send(200, answer, fault);
    }
    if (route === 'POST /v1/heartbeat') {
      const raw = await readBody(req, MAX_HEARTBEAT);
      if (raw === undefined) {
        res.setHeader('connection', 'close');
        return send(413, { error: 'body too large' });
      }
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8')) as unknown;
      } catch {
        return send(400, { error: 'body is not JSON' });
      }
      const problem = checkHeartbeat(body) ?? (raw.includes('\\u') ? unstorableText(body) : undefined);
      if (problem !== undefined) return send(400, { error: problem });
      const hb = body as Heartbeat;
      if (await mismatch(hb.terminalId)) return;
      const receivedAt = Date.now();
      await this.db.recordHeartbeat(hb.terminalId, hb, hb.backlog.operations, Date.parse(hb.sentAt) - receivedAt, receivedAt);
      const answer: HeartbeatAnswer = { receivedAt: new Date(receivedAt).toISOString() };
      return send(200, answer);
    }
    if (route === 'GET /fleet') return send(200, await this.fleet());
    if (route === 'GET /fleet.html') {
      const page = fleetPage(await this.fleet());
      this.requestLog.push({ at: Date.now(), method: 'GET', path: url.pathname, status: 200, fault: 'none', operations: 0 });
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': Buffer.byteLength(page),
        // Values from terminals are escaped; nothing on the page may run or load anyway.
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        'x-content-type-options': 'nosniff',
      });
      res.end(page);
      return;
    }
    if (route === 'GET /v1/health') return send(200, { ok: true, protocol: PROTOCOL_VERSION, revision: PROTOCOL_REVISION, store: this.db.kind, ...(await this.counts()) });
    if (this.opts.admin === true && route === 'POST /admin/fault') {
      const raw = await readBody(req);
      try {
        await this.setFault(JSON.parse(raw?.toString('utf8') ?? 'null') as Fault | null);
        return send(200, { ok: true });
      } catch (err) {
        return send(400, { error: String(err) });
      }
    }
    if (this.opts.admin === true && route === 'POST /admin/hotlist') {
      const raw = await readBody(req);
      try {
        const b = JSON.parse(raw?.toString('utf8') ?? '{}') as { add?: string[]; remove?: string[] };
        for (const c of b.add ?? []) await this.hotlistAdd(c);
        for (const c of b.remove ?? []) await this.hotlistRemove(c);
        return send(200, { ok: true, version: (await this.db.hotlistVersion()) });
      } catch (err) {
        return send(400, { error: String(err) });
      }
    }
    return send(404, { error: `no route ${route}` });
  }

  private async store(terminalId: string, batchId: string, operations: unknown[], escapes: boolean): Promise<PushResponse> {
    const { valid, rejected } = checkOperations(operations, this.opts.serviceItems, escapes);
    const { accepted, duplicates } = await this.db.putOperations(terminalId, batchId, valid, Date.now());
    return { batchId, accepted, duplicates, rejected };
  }

  /** Bank requests, idempotent on the request id as operations are on theirs. Nothing of them is logged (they name the holder). */
  private async storeBankRequests(terminalId: string, batchId: string, requests: unknown[], escapes: boolean): Promise<PushResponse> {
    const { valid, rejected } = checkBankRequests(requests, escapes);
    const { accepted, duplicates } = await this.db.putBankRequests(terminalId, batchId, valid, Date.now());
    return { batchId, accepted, duplicates, rejected };
  }

  /**
   * Journal a refusal of who sent a request, once a minute per certificate, reason and claimed
   * terminal: a client repeating a refused request costs the platform a row a minute, not a row a request.
   */
  private async refuse(r: RefusalRecord): Promise<void> {
    const key = `${r.reason}|${r.fingerprint ?? ''}|${r.claimedTerminalId ?? ''}`;
    const last = this.refusalsSeen.get(key);
    this.log.warn('central: request refused', { reason: r.reason, terminalId: r.terminalId, claimedTerminalId: r.claimedTerminalId, path: r.path });
    if (last !== undefined && r.at - last < 60_000) return;
    if (this.refusalsSeen.size >= 10_000) this.refusalsSeen.clear();
    this.refusalsSeen.set(key, r.at);
    await this.db.recordRefusal(r);
  }

  /** Register a terminal's certificate (PEM) in the registry; resolves with its SHA-256 fingerprint. */
  public async registerCertificate(terminalId: string, pem: string | Buffer): Promise<string> {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(terminalId)) throw new SsCardError(ErrorCode.Input_BadOption, { zh: '终端编号只能含字母、数字和 ._-（最长 64 个字符）', en: 'a terminal id is letters, digits and ._- (at most 64)' }, { option: 'terminalId' });
    const cert = new X509Certificate(pem);
    await this.db.registerCertificate({ fingerprint: cert.fingerprint256, terminalId, subject: cert.subject.replace(/\n/g, ', '), registeredAt: Date.now() });
    return cert.fingerprint256;
  }

  /** Revoke a certificate (PEM, or its SHA-256 fingerprint): its terminal's requests are refused from now on. */
  public revokeCertificate(pemOrFingerprint: string | Buffer): Promise<boolean> {
    const fp = typeof pemOrFingerprint === 'string' && /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/.test(pemOrFingerprint) ? pemOrFingerprint : new X509Certificate(pemOrFingerprint).fingerprint256;
    return this.db.revokeCertificate(fp, Date.now());
  }

  /** Requests refused for who sent them, newest first. */
  public refusals(limit = 100): Promise<RefusalRecord[]> {
    return this.db.refusals(limit);
  }

  /** Every terminal's last heartbeat with its alarms (platform/fleet.ts). */
  public async fleet(now = Date.now()): Promise<FleetView> {
    return fleetView(await this.db.terminals(), now, await this.db.hotlistVersion(), this.opts.fleet);
  }

  /** The hotlist answer to `?since=`, signed when the platform has a signing key. */
  private async hotlist(sinceRaw: string | null): Promise<HotlistResponse> {
    const h = await this.hotlistContent(sinceRaw);
    const key = this.opts.hotlistSigningKey;
    return key === undefined ? h : { ...h, signature: signHotlist(key, h, sinceRaw) };
  }

  private async hotlistContent(sinceRaw: string | null): Promise<HotlistResponse> {
    const version = await this.db.hotlistVersion();
    const since = sinceRaw === null || !/^\d{1,15}$/.test(sinceRaw) ? undefined : Number(sinceRaw);
    if (since === undefined || since > version) {
      // First pull, or a version we never issued: the whole list.
      const set = new Set<string>();
      for (const r of await this.db.hotlistSince(0)) {
        if (r.action === 'add') set.add(r.cardId);
        else set.delete(r.cardId);
      }
      return { version: String(version), full: true, add: [...set], remove: [] };
    }
    const net = new Map<string, 'add' | 'remove'>();
    for (const r of await this.db.hotlistSince(since)) net.set(r.cardId, r.action);
    return {
      version: String(version),
      full: false,
      add: [...net].filter(([, a]) => a === 'add').map(([c]) => c),
      remove: [...net].filter(([, a]) => a === 'remove').map(([c]) => c),
    };
  }
}

function readBody(req: http.IncomingMessage, max = MAX_BODY): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        // Nothing more is kept: the rest is read and dropped so that the sender gets the 413
        // (destroying the request here cut the socket before the answer), and the connection closes after it.
        chunks.length = 0;
        req.removeAllListeners('data');
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
