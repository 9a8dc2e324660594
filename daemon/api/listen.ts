/**
 * The API server's life: the node:http (or, with TLS, node:https) server with its slow-client
 * timeouts (docs/security.md), listening on the host and port or the Unix socket the daemon gives
 * it — a stale socket file left by a dead daemon is removed, a live one is not — and the bilingual
 * error when it cannot listen.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { ApiOptions } from './options.js';

export const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);

/** The host the service URI names: the first configured name, else the bound host (127.0.0.1 for a wildcard). */
export function publicHost(o: ApiOptions): string {
  const h = o.hostNames?.[0] ?? (WILDCARD.has(o.host) ? '127.0.0.1' : o.host);
  return net.isIP(h) === 6 ? `[${h}]` : h;
}

/** The server, not yet listening: the header, request and keep-alive timeouts and the connection count bound slow or many clients. */
export function createServer(opts: ApiOptions, onRequest: (req: IncomingMessage, res: ServerResponse) => void): http.Server | https.Server {
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
  return server;
}

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

/**
 * The ports XFS4IoT assigns (docs/domain.md §7; KAL Framework/Core/XFSConstants.cs PortRanges): a
 * service publisher listens on the first free one, and clients look for it there.
 */
export const XFS4IOT_PORTS: readonly number[] = [5846, 5847, 5848, 5849, 5850, 5851, 5852, 5853, 5854, 5855, 5856];

/** The ports to try, in order: the configured one, then — when it is one of XFS4IoT's — the others of the range. */
export function portsToTry(port: number): number[] {
  return XFS4IOT_PORTS.includes(port) ? [port, ...XFS4IOT_PORTS.filter((p) => p !== port)] : [port];
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

/**
 * Listen as the options say. On TCP, a configured port of XFS4IoT's range that is in use gives way to
 * the next free one of the range, as the specification has the publisher do (the bound port is the
 * server's address; service URIs and origins follow it). A stale Unix socket file (nothing answers
 * on it) is removed once and listening tried again.
 */
export async function listenOn(server: http.Server | https.Server, opts: ApiOptions, logger: Logger): Promise<void> {
  if (opts.socket === undefined) {
    const ports = portsToTry(opts.port);
    for (const [i, port] of ports.entries()) {
      try {
        await listen(server, { ...opts, port });
        if (port !== opts.port) logger.warn('API port in use: listening on the next free port of XFS4IoT\'s range', { configured: opts.port, port });
        return;
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code !== 'EADDRINUSE') throw listenError({ ...opts, port }, err);
        if (i === ports.length - 1) throw listenError(ports.length > 1 ? { ...opts, port: -1 } : opts, err);
      }
    }
  }
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
}

function listenError(o: ApiOptions, e: NodeJS.ErrnoException): SsCardError {
  const where = o.socket ?? (o.port === -1 ? `${o.host}:${XFS4IOT_PORTS[0]!}–${XFS4IOT_PORTS[XFS4IOT_PORTS.length - 1]!}` : `${o.host}:${o.port}`);
  const why = e.code === 'EADDRINUSE' ? { zh: '地址已被占用（另一个进程在用）', en: 'the address is in use (another process has it)' } : e.code === 'EACCES' ? { zh: '没有权限', en: 'permission denied' } : { zh: e.code ?? e.message, en: e.code ?? e.message };
  return new SsCardError(ErrorCode.Config_Invalid, { zh: `本地 API 无法在 ${where} 上监听：${why.zh}；请检查 api 配置`, en: `the local API cannot listen on ${where}: ${why.en}; check the api configuration` }, { where, code: e.code ?? null }, { cause: e });
}
