/**
 * The HTTP side of the local API (docs/api.md "HTTP"): health and status for monitors, the daemon's
 * pages, and the SSCardDriver-compatible calls (docs/domain.md §4) for applications written against
 * the vendor DLLs, which vendor-http.ts answers.
 *
 * Answers are JSON with bilingual texts, except the vendor calls, which answer as the DLL would:
 * `text/plain; charset=utf-8` with the output string, and the return code in `X-SSCard-Return`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BilingualText } from '../../core/text.js';
import { pathOf } from './access.js';
import type { ApiContext } from './context.js';
import { INTERNAL_TEXT } from './protocol.js';
import { clientGone, vendorRoute } from './vendor-http.js';

const TEXT = {
  notFound: { zh: '没有这个地址。可用：GET /health、GET /status、GET /metrics、POST /sscard/<函数>、WebSocket /xfs4iot/v1.0', en: 'no such path. There are: GET /health, GET /status, GET /metrics, POST /sscard/<function>, WebSocket /xfs4iot/v1.0' },
  method: (allow: string): BilingualText => ({ zh: `此地址不支持该请求方法：请用 ${allow}`, en: `method not allowed here: use ${allow}` }),
  upgrade: { zh: '这是 WebSocket 地址：请用 WebSocket 连接', en: 'this is a WebSocket endpoint: connect with a WebSocket' },
  badTarget: { zh: '请求地址格式不正确', en: 'the request target is malformed' },
} as const;

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.end();
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, code: string, text: BilingualText, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { code, zh: text.zh, en: text.en } }, headers);
}

/** The HTTP request handler. Never throws: a bug answers 500 with a generic text and is logged. */
export function handleHttp(api: ApiContext, req: IncomingMessage, res: ServerResponse): void {
  const parsed = pathOf(req.url);
  const path = parsed ?? '';
  const method = req.method ?? 'GET';
  const fail = (e: unknown) => {
    if (clientGone(e)) {
      api.throttle.log(req.socket.remoteAddress ?? 'unix', 'debug', 'API HTTP client went away mid-request', { path, code: (e as NodeJS.ErrnoException).code ?? null }, 'client gone', 'aborted requests');
      return void res.destroy();
    }
    api.logger.error('API HTTP handler failed', { path, error: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
    if (!res.headersSent) sendError(res, 500, 'internal', INTERNAL_TEXT);
    else res.destroy();
  };
  try {
    if (parsed === null) {
      req.resume();
      return sendError(res, 400, 'badRequest', TEXT.badTarget, { connection: 'close' });
    }
    const only = (allowed: string, f: () => void) => {
      if (method !== allowed && !(allowed === 'GET' && method === 'HEAD')) {
        req.resume();
        return sendError(res, 405, 'methodNotAllowed', TEXT.method(allowed), { allow: allowed === 'GET' ? 'GET, HEAD' : allowed });
      }
      f();
    };
    if (path === '/health') {
      return only('GET', () => {
        const h = api.terminal.health();
        sendJson(res, h.ready ? 200 : 503, { live: h.live, ready: h.ready, reasons: h.reasons.map((r) => ({ component: r.component, zh: r.zh, en: r.en })) });
      });
    }
    if (path === '/status') return only('GET', () => sendJson(res, 200, api.terminal.status()));
    const metrics = api.metrics;
    if (path === '/metrics' && metrics !== undefined) {
      return only('GET', () =>
        void metrics().then((m) => {
          res.writeHead(200, { 'content-type': m.contentType, 'content-length': Buffer.byteLength(m.text), 'cache-control': 'no-store' });
          res.end(method === 'HEAD' ? undefined : m.text);
        }, fail),
      );
    }
    const vendor = vendorRoute(/^\/sscard\/([A-Za-z0-9_]{1,40})$/.exec(path)?.[1] ?? '');
    if (vendor !== undefined) return only('POST', () => void vendor(api, req, res).catch(fail));
    req.resume();
    if (api.site?.handle(req, res) === true) return;
    if (path === '/xfs4iot/v1.0' || path.startsWith('/xfs4iot/v1.0/') || path === '/sscard') return sendError(res, 426, 'upgradeRequired', TEXT.upgrade, { upgrade: 'websocket', connection: 'Upgrade' });
    return sendError(res, 404, 'notFound', TEXT.notFound);
  } catch (e) {
    fail(e);
  }
}
