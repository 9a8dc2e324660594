/**
 * The SSCardDriver calls over HTTP (docs/api.md "SSCardDriver calls"): `POST /sscard/<function>`
 * with a JSON body, answered as the vendors' library would — the output string as `text/plain;
 * charset=utf-8` and the `long` return code in `X-SSCard-Return`. libSSCardDriver.so
 * (native/sscard-driver/) sends each C call here over the driver socket. The functions themselves
 * are vendor-calls.ts's; this file reads the body and writes the answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { oneLine, type BilingualText } from '../../core/text.js';
import type { ApiContext } from './context.js';
import { duplicateKeyText, findDuplicateKey } from './json-keys.js';
import { vendorFunction, type VendorAnswer } from './vendor-calls.js';
import { VENDOR_CODES } from './vendor.js';


const TEXT = {
  tooLarge: (max: number): BilingualText => ({ zh: `请求体太大（最多 ${max} 字节）`, en: `request body too large (at most ${max} bytes)` }),
  contentType: {
    zh: '请求体须为 application/json（不接受表单：跨站网页可以不经预检提交表单）',
    en: 'the body must be application/json (forms are not accepted: any web page can submit a form without a preflight)',
  },
  json: { zh: '请求体不是有效的 JSON 对象', en: 'the body is not a valid JSON object' },
} as const;

function sendVendor(res: ServerResponse, a: VendorAnswer): void {
  if (res.headersSent) return void res.end();
  res.writeHead(a.status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(a.text),
    'cache-control': 'no-store',
    ...(a.code === null ? {} : { 'x-sscard-return': String(a.code) }),
    ...a.headers,
  });
  res.end(a.text);
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

/**
 * Only application/json: a browser sends a cross-site form (urlencoded, multipart, text/plain)
 * without a CORS preflight, JSON it cannot send without asking first (Fetch standard, "CORS-safelisted
 * request-header"). Checked before the body is read.
 */
function isJson(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/** A JSON text → the object it holds; the 400 answer (−14) otherwise: not JSON, not an object, a name given twice. */
export function jsonObject(text: string): { ok: true; value: Record<string, unknown> } | { ok: false; answer: VendorAnswer } {
  let fields: unknown;
  try {
    fields = JSON.parse(text);
  } catch {
    fields = undefined;
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return { ok: false, answer: { status: 400, code: VENDOR_CODES.badParameter, text: oneLine(TEXT.json) } };
  const dup = findDuplicateKey(text);
  if (dup !== null) return { ok: false, answer: { status: 400, code: VENDOR_CODES.badParameter, text: oneLine(duplicateKeyText(dup)) } };
  return { ok: true, value: fields as Record<string, unknown> };
}

/** The request failed because the client hung up (not a bug: logged at debug, without a stack). */
export function clientGone(e: unknown): boolean {
  const err = e as NodeJS.ErrnoException | undefined;
  return err !== undefined && err !== null && (err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.code === 'ECONNABORTED' || err.message === 'aborted');
}

let httpSeq = 1;

/** The handler of `POST /sscard/<fn>`, or undefined when `fn` is no function of the vendors' library. */
export function vendorRoute(fn: string): ((api: ApiContext, req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined {
  const call = vendorFunction(fn);
  if (call === undefined) return undefined;
  return async (api, req, res) => {
    if (!isJson(req)) return sendVendor(res, { status: 415, code: null, text: oneLine(TEXT.contentType), headers: { connection: 'close' } });
    let raw: Buffer;
    try {
      raw = await readBody(req, api.maxFrameBytes);
    } catch (e) {
      if (e instanceof BodyTooLarge) return sendVendor(res, { status: 413, code: null, text: oneLine(TEXT.tooLarge(api.maxFrameBytes)), headers: { connection: 'close' } });
      if (clientGone(e)) {
        api.throttle.log(req.socket.remoteAddress ?? 'unix', 'debug', 'API HTTP client went away mid-request', { function: fn, code: (e as NodeJS.ErrnoException).code ?? null }, 'client gone', 'aborted requests');
        return void res.destroy();
      }
      throw e;
    }
    const body = jsonObject(raw.toString('utf8'));
    if (!body.ok) return sendVendor(res, body.answer);
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new DOMException('the HTTP client went away', 'AbortError'));
    });
    sendVendor(res, await call(api, body.value, { authorization: req.headers.authorization, signal: controller.signal, owner: `http#${httpSeq++}` }));
  };
}
