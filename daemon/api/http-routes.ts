/**
 * The HTTP side of the local API (docs/api.md "HTTP"): health and status for monitors, and the
 * SSCardDriver-compatible calls (docs/domain.md §4) for applications written against the vendor DLLs.
 * The vendor semantics (output string, return codes) live in vendor.ts; this file is the glue.
 *
 * Answers are JSON with bilingual texts, except the vendor calls, which answer as the DLL would:
 * `text/plain; charset=utf-8` with the output string, and the return code in `X-SSCard-Return`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { isSsCardError } from '../../core/errors.js';
import { oneLine, type BilingualText } from '../../core/text.js';
import { capability } from '../../state/roles.js';
import { pathOf } from './access.js';
import type { ApiContext } from './context.js';
import { duplicateKeyText, findDuplicateKey } from './json-keys.js';
import { isClientToken } from '../auth/clients.js';
import { INTERNAL_TEXT, errorCodeName, issuesText } from './protocol.js';
import {
  CARD_INFO_TEXT,
  ITYPE_TEXT,
  NEEDS_CARD_INFO,
  VENDOR_CODES,
  VENDOR_FUNCTIONS,
  VENDOR_SERVICE,
  cardInfoMatches,
  formatCardBas,
  iTypeCode,
  parseCardInfo,
  resultText,
  vendorCodeOfError,
  vendorCodeOfResult,
} from './vendor.js';
import type { VendorFunction } from './vendor.js';

const TEXT = {
  notFound: { zh: '没有这个地址。可用：GET /health、GET /status、POST /sscard/<函数>、WebSocket /xfs4iot/v1.0', en: 'no such path. There are: GET /health, GET /status, POST /sscard/<function>, WebSocket /xfs4iot/v1.0' },
  method: (allow: string): BilingualText => ({ zh: `此地址不支持该请求方法：请用 ${allow}`, en: `method not allowed here: use ${allow}` }),
  tooLarge: (max: number): BilingualText => ({ zh: `请求体太大（最多 ${max} 字节）`, en: `request body too large (at most ${max} bytes)` }),
  contentType: {
    zh: '请求体须为 application/json（不接受表单：跨站网页可以不经预检提交表单）',
    en: 'the body must be application/json (forms are not accepted: any web page can submit a form without a preflight)',
  },
  json: { zh: '请求体不是有效的 JSON 对象', en: 'the body is not a valid JSON object' },
  upgrade: { zh: '这是 WebSocket 地址：请用 WebSocket 连接', en: 'this is a WebSocket endpoint: connect with a WebSocket' },
  busy: { zh: '读卡器正忙：另一项卡操作正在进行，请稍后重试', en: 'the reader is busy: another card operation is running; try again shortly' },
  authRequired: { zh: '此功能需要经办人员登录：请在请求头中带上 Authorization: Bearer <令牌>（由 Operator.Login 取得）', en: 'this function needs an operator: send Authorization: Bearer <token> (from Operator.Login)' },
  noCardInfo: { zh: '缺少 cardInfo（「卡识别码|卡号|」）', en: 'cardInfo ("cardId|cardNumber|") is missing' },
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

function sendVendor(res: ServerResponse, status: number, code: number | null, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...(code === null ? {} : { 'x-sscard-return': String(code) }),
    ...headers,
  });
  res.end(body);
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (Number.isFinite(declared) && declared > max) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.pause();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    // A client that hangs up mid-body: 'close' without 'end' (settling twice is harmless).
    req.on('close', () => {
      if (!req.complete) reject(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    });
  });
}

/** The body of an SSCardDriver call (docs/api.md "SSCardDriver calls"); also the OpenAPI description's (api-description.ts). */
export const VENDOR_BODY = z.strictObject({
  // A form sends "1"; JSON may send 1 or "1".
  iType: z.preprocess((v) => (typeof v === 'string' && /^\s*-?\d{1,10}\s*$/.test(v) ? Number(v) : v), z.int().min(-2147483648).max(2147483647)),
  cardInfo: z.string().max(200).optional(),
});

/**
 * Only application/json: a browser sends a cross-site form (urlencoded, multipart, text/plain)
 * without a CORS preflight, JSON it cannot send without asking first (Fetch standard, "CORS-safelisted
 * request-header"). Checked before the body is read.
 */
function isJson(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/** The JSON body → fields; a bilingual problem otherwise (bad JSON, a name given twice, a bad field). */
function parseVendorBody<S extends z.ZodType>(raw: Buffer, schema: S): { ok: true; value: z.infer<S> } | { ok: false; status: number; code: string; text: BilingualText } {
  const text = raw.toString('utf8');
  let fields: unknown;
  try {
    fields = JSON.parse(text);
  } catch {
    return { ok: false, status: 400, code: 'invalidBody', text: TEXT.json };
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return { ok: false, status: 400, code: 'invalidBody', text: TEXT.json };
  const dup = findDuplicateKey(text);
  if (dup !== null) return { ok: false, status: 400, code: 'invalidBody', text: duplicateKeyText(dup) };
  const p = schema.safeParse(fields, { reportInput: true });
  if (!p.success) return { ok: false, status: 400, code: 'invalidBody', text: issuesText(p.error, 'body') };
  return { ok: true, value: p.data };
}

/** The request failed because the client hung up (not a bug: logged at debug, without a stack). */
export function clientGone(e: unknown): boolean {
  const err = e as NodeJS.ErrnoException | undefined;
  return err !== undefined && err !== null && (err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.code === 'ECONNABORTED' || err.message === 'aborted');
}

let httpSeq = 1;

/** An SSCardDriver call's JSON body, or undefined when it was answered already (415, 413, the client gone). */
async function vendorBodyOf(api: ApiContext, fn: string, req: IncomingMessage, res: ServerResponse): Promise<Buffer | undefined> {
  if (!isJson(req)) return void sendVendor(res, 415, null, oneLine(TEXT.contentType), { connection: 'close' });
  try {
    return await readBody(req, api.maxFrameBytes);
  } catch (e) {
    if (e instanceof BodyTooLarge) return void sendVendor(res, 413, null, oneLine(TEXT.tooLarge(api.maxFrameBytes)), { connection: 'close' });
    if (clientGone(e)) {
      api.throttle.log(req.socket.remoteAddress ?? 'unix', 'debug', 'API HTTP client went away mid-request', { function: fn, code: (e as NodeJS.ErrnoException).code ?? null }, 'client gone', 'aborted requests');
      return void res.destroy();
    }
    throw e;
  }
}

/** The body of iGetReaderInfo: nothing (its two arguments are output buffers). */
export const READER_INFO_BODY = z.strictObject({});

/**
 * iGetReaderInfo(char* pReaderSN, char* pPsamTermNo) (the vendors' SSCardDriver.h; docs/api.md
 * "SSCardDriver calls"): the terminal's device number (终端设备号, as iReadCardBas gives it) and the
 * PSAM's terminal number (终端机编号), over HTTP as one text `<pReaderSN>|<pPsamTermNo>|`. No PSAM
 * open: −2201 with the device number and an empty second field. It touches no card: no lock.
 */
async function readerInfoCall(api: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = await vendorBodyOf(api, 'iGetReaderInfo', req, res);
  if (raw === undefined) return;
  const body = parseVendorBody(raw, READER_INFO_BODY);
  if (!body.ok) return sendVendor(res, body.status, null, oneLine(body.text));
  const s = api.terminal.status();
  const psam = s.psam.connected ? s.psam.terminalNumber : null;
  return sendVendor(res, 200, psam === null ? VENDOR_CODES.noPsam : VENDOR_CODES.ok, `${s.deviceId}|${psam ?? ''}|`);
}

/** One SSCardDriver function (docs/domain.md §4). */
async function vendorCall(api: ApiContext, fn: VendorFunction, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = await vendorBodyOf(api, fn, req, res);
  if (raw === undefined) return;
  const body = parseVendorBody(raw, VENDOR_BODY);
  if (!body.ok) return sendVendor(res, body.status, null, oneLine(body.text));
  const { iType, cardInfo } = body.value;
  if (iTypeCode(iType) !== VENDOR_CODES.ok) return sendVendor(res, 200, iTypeCode(iType), oneLine(ITYPE_TEXT));

  const kind = fn === 'iReadCardBas' ? undefined : VENDOR_SERVICE[fn];
  let privileged = false;
  let operatorId = '';
  // Journal outcome over HTTP: "<return code>:<why>", e.g. "0:unblock.ok", "-24:auth.required".
  const journal = (code: number, why: string) => {
    if (privileged) api.journal({ operatorId, command: fn, requestId: null, outcome: `${code}:${why}` });
  };

  if (kind !== undefined) {
    const caps = api.terminal.capabilities();
    const may = capability(caps.role, kind, caps.services);
    privileged = may.privileged;
    if (!may.allowed) {
      journal(VENDOR_CODES.notSupported, 'serviceNotOffered');
      return sendVendor(res, 403, VENDOR_CODES.notSupported, oneLine(may.reason));
    }
    // The bearer is either the operator's session token (a privileged call) or the client token
    // that let a native client in (docs/security.md): only the first names an operator.
    const bearer = req.headers.authorization;
    const auth = bearer !== undefined && isClientToken(/^Bearer\s+(\S+)\s*$/i.exec(bearer)?.[1] ?? '') ? undefined : bearer;
    const m = auth === undefined ? null : /^Bearer\s+(\S{1,1024})\s*$/i.exec(auth);
    if (auth !== undefined || privileged) {
      if (m === null) {
        journal(VENDOR_CODES.keyLevel, 'auth.required');
        return sendVendor(res, 401, VENDOR_CODES.keyLevel, oneLine(TEXT.authRequired), { 'www-authenticate': 'Bearer' });
      }
      try {
        operatorId = api.auth.check(m[1]!);
      } catch (e) {
        const text = isSsCardError(e) ? e.text : TEXT.authRequired;
        journal(VENDOR_CODES.keyLevel, isSsCardError(e) ? errorCodeName(e.code) : 'auth.required');
        return sendVendor(res, 401, VENDOR_CODES.keyLevel, oneLine(text), { 'www-authenticate': 'Bearer error="invalid_token"' });
      }
    }
  }

  let info: ReturnType<typeof parseCardInfo> = null;
  if (NEEDS_CARD_INFO.includes(fn)) {
    info = cardInfo === undefined ? null : parseCardInfo(cardInfo);
    if (info === null) {
      journal(VENDOR_CODES.badCardId, 'badCardInfo');
      return sendVendor(res, 200, VENDOR_CODES.badCardId, oneLine(cardInfo === undefined ? TEXT.noCardInfo : CARD_INFO_TEXT));
    }
  }

  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort(new DOMException('the HTTP client went away', 'AbortError'));
  });
  const owner = `http#${httpSeq++}`;
  const release = api.sequencer.acquire({ owner, service: kind !== undefined, abort: () => controller.abort(new DOMException('the session was ended', 'AbortError')) });
  if (release === null) {
    journal(VENDOR_CODES.notConnected, 'sequenceError');
    return sendVendor(res, 409, VENDOR_CODES.notConnected, oneLine(TEXT.busy));
  }
  try {
    if (fn === 'iReadCardBas') {
      const card = await api.terminal.readBasic(controller.signal);
      return sendVendor(res, 200, VENDOR_CODES.ok, formatCardBas(card));
    }
    if (info !== null) {
      const card = await api.terminal.readBasic(controller.signal);
      if (!cardInfoMatches(info, card)) {
        journal(VENDOR_CODES.dataMismatch, 'cardInfoMismatch');
        return sendVendor(res, 200, VENDOR_CODES.dataMismatch, oneLine(CARD_INFO_TEXT));
      }
    }
    const result = await api.terminal.runService({ kind: kind!, ...(operatorId === '' ? {} : { operatorId }) }, () => {}, controller.signal);
    const code = vendorCodeOfResult(result);
    journal(code, result.code);
    return sendVendor(res, 200, code, resultText(result));
  } catch (e) {
    const code = vendorCodeOfError(e);
    if (!isSsCardError(e)) {
      api.logger.error('SSCardDriver call failed unexpectedly', { function: fn, error: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
    }
    journal(code, isSsCardError(e) ? errorCodeName(e.code) : 'internal');
    return sendVendor(res, 200, code, oneLine(isSsCardError(e) ? e.text : INTERNAL_TEXT));
  } finally {
    release();
  }
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
    const vm = /^\/sscard\/([A-Za-z]+)$/.exec(path);
    if (vm !== null && (VENDOR_FUNCTIONS as readonly string[]).includes(vm[1]!)) {
      return only('POST', () => void vendorCall(api, vm[1] as VendorFunction, req, res).catch(fail));
    }
    if (vm !== null && vm[1] === 'iGetReaderInfo') return only('POST', () => void readerInfoCall(api, req, res).catch(fail));
    req.resume();
    if (api.site?.handle(req, res) === true) return;
    if (path === '/xfs4iot/v1.0' || path.startsWith('/xfs4iot/v1.0/')) return sendError(res, 426, 'upgradeRequired', TEXT.upgrade, { upgrade: 'websocket', connection: 'Upgrade' });
    return sendError(res, 404, 'notFound', TEXT.notFound);
  } catch (e) {
    fail(e);
  }
}
