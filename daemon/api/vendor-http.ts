/**
 * The SSCardDriver calls over HTTP (docs/api.md "SSCardDriver calls"; docs/domain.md §4):
 * `POST /sscard/<function>` with a JSON body, answered as the vendors' library would — the output
 * string as `text/plain; charset=utf-8` and the `long` return code in `X-SSCard-Return`. The vendor
 * semantics (output strings, return codes, file addresses) live in vendor.ts; this file is the glue
 * to the terminal. libSSCardDriver.so (native/sscard-driver/) forwards each C call here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { isSsCardError } from '../../core/errors.js';
import { oneLine, type BilingualText } from '../../core/text.js';
import { capability } from '../../state/roles.js';
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
  VENDOR_NOT_PROVIDED,
  VENDOR_SERVICE,
  cardInfoMatches,
  formatCardBas,
  formatHsmChallenge,
  formatRecords,
  iTypeCode,
  notProvidedText,
  parseCardInfo,
  parseFileAddress,
  parseHsmKey,
  resultText,
  vendorCodeOfError,
  vendorCodeOfResult,
} from './vendor.js';
import type { VendorFunction } from './vendor.js';

const TEXT = {
  tooLarge: (max: number): BilingualText => ({ zh: `请求体太大（最多 ${max} 字节）`, en: `request body too large (at most ${max} bytes)` }),
  contentType: {
    zh: '请求体须为 application/json（不接受表单：跨站网页可以不经预检提交表单）',
    en: 'the body must be application/json (forms are not accepted: any web page can submit a form without a preflight)',
  },
  json: { zh: '请求体不是有效的 JSON 对象', en: 'the body is not a valid JSON object' },
  busy: { zh: '读卡器正忙：另一项卡操作正在进行，请稍后重试', en: 'the reader is busy: another card operation is running; try again shortly' },
  authRequired: { zh: '此功能需要经办人员登录：请在请求头中带上 Authorization: Bearer <令牌>（由 Operator.Login 取得）', en: 'this function needs an operator: send Authorization: Bearer <token> (from Operator.Login)' },
  noCardInfo: { zh: '缺少 cardInfo（「卡识别码|卡号|」）', en: 'cardInfo ("cardId|cardNumber|") is missing' },
} as const;

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

/** iType as a form or JSON sends it: 1 or "1". */
const I_TYPE = z.preprocess((v) => (typeof v === 'string' && /^\s*-?\d{1,10}\s*$/.test(v) ? Number(v) : v), z.int().min(-2147483648).max(2147483647));

/** The body of an SSCardDriver call (docs/api.md "SSCardDriver calls"); also the OpenAPI description's (api-description.ts). */
export const VENDOR_BODY = z.strictObject({
  iType: I_TYPE,
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
  if ((await bodyOf(api, 'iGetReaderInfo', READER_INFO_BODY, req, res)) === undefined) return;
  const s = api.terminal.status();
  const psam = s.psam.connected ? s.psam.terminalNumber : null;
  return sendVendor(res, 200, psam === null ? VENDOR_CODES.noPsam : VENDOR_CODES.ok, `${s.deviceId}|${psam ?? ''}|`);
}

/** One SSCardDriver function (docs/domain.md §4). */
async function vendorCall(api: ApiContext, fn: VendorFunction, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await bodyOf(api, fn, VENDOR_BODY, req, res);
  if (body === undefined) return;
  const { iType, cardInfo } = body;
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

  return onTheCard(api, fn, res, kind !== undefined, journal, async (signal) => {
    if (fn === 'iReadCardBas') {
      const card = await api.terminal.readBasic(signal);
      return sendVendor(res, 200, VENDOR_CODES.ok, formatCardBas(card));
    }
    if (info !== null) {
      const card = await api.terminal.readBasic(signal);
      if (!cardInfoMatches(info, card)) {
        journal(VENDOR_CODES.dataMismatch, 'cardInfoMismatch');
        return sendVendor(res, 200, VENDOR_CODES.dataMismatch, oneLine(CARD_INFO_TEXT));
      }
    }
    const result = await api.terminal.runService({ kind: kind!, ...(operatorId === '' ? {} : { operatorId }) }, () => {}, signal);
    const code = vendorCodeOfResult(result);
    journal(code, result.code);
    return sendVendor(res, 200, code, resultText(result));
  });
}

/**
 * `run` with the card reserved for this call (the API's sequencer: one card operation at a time),
 * aborted when the HTTP client goes away. An error is answered with its vendor code and text.
 */
async function onTheCard(api: ApiContext, fn: string, res: ServerResponse, service: boolean, journal: (code: number, why: string) => void, run: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort(new DOMException('the HTTP client went away', 'AbortError'));
  });
  const owner = `http#${httpSeq++}`;
  const release = api.sequencer.acquire({ owner, service, abort: () => controller.abort(new DOMException('the session was ended', 'AbortError')) });
  if (release === null) {
    journal(VENDOR_CODES.notConnected, 'sequenceError');
    return sendVendor(res, 409, VENDOR_CODES.notConnected, oneLine(TEXT.busy));
  }
  try {
    await run(controller.signal);
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

const noJournal = (): void => undefined;

/** iReadCard's body: its C arguments by name (docs/api.md). */
export const READ_CARD_BODY = z.strictObject({
  iType: I_TYPE,
  iAuthType: I_TYPE,
  cardInfo: z.string().max(200),
  fileAddr: z.string().max(1024),
});

/** iReadCardBas_HSM_Step1's body. */
export const HSM_STEP1_BODY = z.strictObject({ iType: I_TYPE });

/** iReadCardBas_HSM_Step2's body: the encryption machine's answer (docs/api.md for its form). */
export const HSM_STEP2_BODY = z.strictObject({ key: z.string().max(1024) });

/** The body, or undefined when it was answered already (415, 413, 400 with −14, the client gone). */
async function bodyOf<S extends z.ZodType>(api: ApiContext, fn: string, schema: S, req: IncomingMessage, res: ServerResponse): Promise<z.infer<S> | undefined> {
  const raw = await vendorBodyOf(api, fn, req, res);
  if (raw === undefined) return undefined;
  const body = parseVendorBody(raw, schema);
  if (!body.ok) return void sendVendor(res, body.status, VENDOR_CODES.badParameter, oneLine(body.text));
  return body.value;
}

/**
 * iReadCard(iType, iAuthType, pCardInfo, pFileAddr, pOutInfo): records of EF05/EF06 by file
 * address, each value as the vendors give it, `|`-separated (vendor.ts formatRecords). An empty
 * cardInfo reads whatever card is in the reader; a given one must name it (−20 / −22).
 */
async function readCardCall(api: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await bodyOf(api, 'iReadCard', READ_CARD_BODY, req, res);
  if (body === undefined) return;
  if (iTypeCode(body.iType) !== VENDOR_CODES.ok) return sendVendor(res, 200, iTypeCode(body.iType), oneLine(ITYPE_TEXT));
  const info = body.cardInfo.trim() === '' ? undefined : parseCardInfo(body.cardInfo);
  if (info === null) return sendVendor(res, 200, VENDOR_CODES.badCardId, oneLine(CARD_INFO_TEXT));
  const addr = parseFileAddress(body.fileAddr);
  if (!addr.ok) return sendVendor(res, 200, addr.code, oneLine(addr.text));
  return onTheCard(api, 'iReadCard', res, false, noJournal, async (signal) => {
    const r = await api.terminal.readRecords(addr.files, signal);
    if (info !== undefined && !cardInfoMatches(info, r)) return sendVendor(res, 200, VENDOR_CODES.dataMismatch, oneLine(CARD_INFO_TEXT));
    return sendVendor(res, 200, VENDOR_CODES.ok, formatRecords(addr.files, r.files));
  });
}

/** iReadCardBas_HSM_Step1(iType, pOutInfo): the card's data for the online encryption machine. */
async function hsmStep1Call(api: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await bodyOf(api, 'iReadCardBas_HSM_Step1', HSM_STEP1_BODY, req, res);
  if (body === undefined) return;
  if (iTypeCode(body.iType) !== VENDOR_CODES.ok) return sendVendor(res, 200, iTypeCode(body.iType), oneLine(ITYPE_TEXT));
  return onTheCard(api, 'iReadCardBas_HSM_Step1', res, false, noJournal, async (signal) => sendVendor(res, 200, VENDOR_CODES.ok, formatHsmChallenge(await api.terminal.hsmReadBegin(signal))));
}

/** iReadCardBas_HSM_Step2(pKey, pOutInfo): the machine's answer → the iReadCardBas string. */
async function hsmStep2Call(api: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await bodyOf(api, 'iReadCardBas_HSM_Step2', HSM_STEP2_BODY, req, res);
  if (body === undefined) return;
  const key = parseHsmKey(body.key);
  if (!key.ok) return sendVendor(res, 200, key.code, oneLine(key.text));
  return onTheCard(api, 'iReadCardBas_HSM_Step2', res, false, noJournal, async (signal) => sendVendor(res, 200, VENDOR_CODES.ok, formatCardBas(await api.terminal.hsmReadFinish(key, signal))));
}

/** A function of the vendors' library this terminal does not provide: −13 and why (docs/api.md). */
async function notProvidedCall(api: ApiContext, fn: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = await vendorBodyOf(api, fn, req, res);
  if (raw === undefined) return;
  return sendVendor(res, 200, VENDOR_CODES.notSupported, oneLine(notProvidedText(fn)));
}

/** The handler of `POST /sscard/<fn>`, or undefined when `fn` is no function of the vendors' library. */
export function vendorRoute(fn: string): ((api: ApiContext, req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined {
  if ((VENDOR_FUNCTIONS as readonly string[]).includes(fn)) return (api, req, res) => vendorCall(api, fn as VendorFunction, req, res);
  if (fn === 'iGetReaderInfo') return readerInfoCall;
  if (fn === 'iReadCard') return readCardCall;
  if (fn === 'iReadCardBas_HSM_Step1') return hsmStep1Call;
  if (fn === 'iReadCardBas_HSM_Step2') return hsmStep2Call;
  if ((VENDOR_NOT_PROVIDED as readonly string[]).includes(fn)) return (api, req, res) => notProvidedCall(api, fn, req, res);
  return undefined;
}
