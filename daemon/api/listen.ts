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

/** Listen as the options say; a stale Unix socket file (nothing answers on it) is removed once and listening tried again. */
export async function listenOn(server: http.Server | https.Server, opts: ApiOptions, logger: Logger): Promise<void> {
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
  const where = o.socket ?? `${o.host}:${o.port}`;
  const why = e.code === 'EADDRINUSE' ? { zh: '地址已被占用（另一个进程在用）', en: 'the address is in use (another process has it)' } : e.code === 'EACCES' ? { zh: '没有权限', en: 'permission denied' } : { zh: e.code ?? e.message, en: e.code ?? e.message };
  return new SsCardError(ErrorCode.Config_Invalid, { zh: `本地 API 无法在 ${where} 上监听：${why.zh}；请检查 api 配置`, en: `the local API cannot listen on ${where}: ${why.en}; check the api configuration` }, { where, code: e.code ?? null }, { cause: e });
}
