/**
 * The SSCardDriver functions (docs/api.md "SSCardDriver calls"; docs/domain.md §4) apart from their
 * transport: each takes the C arguments by name (already parsed JSON) and gives the return code and
 * the output text. vendor-http.ts serves them as `POST /sscard/<function>` (and so to
 * libSSCardDriver.so over the driver socket), vendor-ws.ts as the vendors' local JSON WebSocket. The
 * vendor semantics (output strings, return codes, file addresses) are vendor.ts's; this file is the
 * glue to the terminal.
 */
import { z } from 'zod';
import { isSsCardError } from '../../core/errors.js';
import { oneLine, type BilingualText } from '../../core/text.js';
import { capability } from '../../state/roles.js';
import { isClientToken } from '../auth/clients.js';
import type { ApiContext } from './context.js';
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
  parseWriteData,
  resultText,
  swCode,
  vendorCodeOfError,
  vendorCodeOfResult,
} from './vendor.js';
import type { CardInfo, VendorFunction } from './vendor.js';

const TEXT = {
  busy: { zh: '读卡器正忙：另一项卡操作正在进行，请稍后重试', en: 'the reader is busy: another card operation is running; try again shortly' },
  authRequired: { zh: '此功能需要经办人员登录：请在请求头中带上 Authorization: Bearer <令牌>（由 Operator.Login 取得）', en: 'this function needs an operator: send Authorization: Bearer <token> (from Operator.Login)' },
  noCardInfo: { zh: '缺少 cardInfo（「卡识别码|卡号|」）', en: 'cardInfo ("cardId|cardNumber|") is missing' },
} as const;

/** A call's answer: HTTP status, the return code (null: none, the call never reached the driver), the output text, extra HTTP headers. */
export interface VendorAnswer {
  readonly status: number;
  readonly code: number | null;
  readonly text: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface VendorCallContext {
  /** The `Authorization` header, over HTTP; undefined elsewhere. */
  readonly authorization: string | undefined;
  /** Aborted when the caller goes away. */
  readonly signal: AbortSignal;
  /** Who calls, for the sequencer's owner (e.g. `http#12`). */
  readonly owner: string;
}

const answer = (code: number, text: string, status = 200, headers?: Record<string, string>): VendorAnswer => ({ status, code, text, ...(headers === undefined ? {} : { headers }) });

/** iType as a form or JSON sends it: 1 or "1". */
const I_TYPE = z.preprocess((v) => (typeof v === 'string' && /^\s*-?\d{1,10}\s*$/.test(v) ? Number(v) : v), z.int().min(-2147483648).max(2147483647));

/** The body of the PIN functions and iReadCardBas; also the OpenAPI description's (api-description.ts). */
export const VENDOR_BODY = z.strictObject({
  iType: I_TYPE,
  cardInfo: z.string().max(200).optional(),
});

/** The body of iGetReaderInfo: nothing (its two arguments are output buffers). */
export const READER_INFO_BODY = z.strictObject({});

/** iReadCard's body: its C arguments by name (docs/api.md). */
export const READ_CARD_BODY = z.strictObject({
  iType: I_TYPE,
  iAuthType: I_TYPE,
  cardInfo: z.string().max(200),
  fileAddr: z.string().max(1024),
});

/** iReadCard_HSM_Step1's body: iReadCard's without iAuthType. */
export const READ_CARD_HSM_STEP1_BODY = z.strictObject({
  iType: I_TYPE,
  cardInfo: z.string().max(200),
  fileAddr: z.string().max(1024),
});

/** iWriteCard's body: its C arguments by name (docs/api.md). */
export const WRITE_CARD_BODY = z.strictObject({
  iType: I_TYPE,
  cardInfo: z.string().max(200),
  fileAddr: z.string().max(1024),
  writeData: z.string().max(1024),
});

/** iReadCardBas_HSM_Step1's body. */
export const HSM_STEP1_BODY = z.strictObject({ iType: I_TYPE });

/** iReadCardBas_HSM_Step2's body: the encryption machine's answer (docs/api.md for its form). */
export const HSM_STEP2_BODY = z.strictObject({ key: z.string().max(1024) });

type Parsed<S extends z.ZodType> = { ok: true; value: z.infer<S> } | { ok: false; answer: VendorAnswer };

/** The fields by `schema`, or the 400 answer with −14 (command parameter error) naming what is wrong. */
function fieldsOf<S extends z.ZodType>(fields: unknown, schema: S): Parsed<S> {
  const p = schema.safeParse(fields, { reportInput: true });
  if (!p.success) return { ok: false, answer: answer(VENDOR_CODES.badParameter, oneLine(issuesText(p.error, 'body')), 400) };
  return { ok: true, value: p.data };
}

/**
 * `run` with the card reserved for this call (the API's sequencer: one card operation at a time),
 * aborted when the caller goes away or the session is ended. An error answers its vendor code.
 */
async function onTheCard(api: ApiContext, fn: string, ctx: VendorCallContext, service: boolean, journal: (code: number, why: string) => void, run: (signal: AbortSignal) => Promise<VendorAnswer>): Promise<VendorAnswer> {
  const controller = new AbortController();
  const gone = () => controller.abort(ctx.signal.reason);
  if (ctx.signal.aborted) gone();
  else ctx.signal.addEventListener('abort', gone, { once: true });
  const release = api.sequencer.acquire({ owner: ctx.owner, service, abort: () => controller.abort(new DOMException('the session was ended', 'AbortError')) });
  if (release === null) {
    ctx.signal.removeEventListener('abort', gone);
    journal(VENDOR_CODES.notConnected, 'sequenceError');
    return answer(VENDOR_CODES.notConnected, oneLine(TEXT.busy), 409);
  }
  try {
    return await run(controller.signal);
  } catch (e) {
    const code = vendorCodeOfError(e);
    if (!isSsCardError(e)) {
      api.logger.error('SSCardDriver call failed unexpectedly', { function: fn, error: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
    }
    journal(code, isSsCardError(e) ? errorCodeName(e.code) : 'internal');
    return answer(code, oneLine(isSsCardError(e) ? e.text : INTERNAL_TEXT));
  } finally {
    ctx.signal.removeEventListener('abort', gone);
    release();
  }
}

const noJournal = (): void => undefined;

/**
 * iGetReaderInfo(char* pReaderSN, char* pPsamTermNo) (the vendors' SSCardDriver.h): the terminal's
 * device number (终端设备号, as iReadCardBas gives it) and the PSAM's terminal number (终端机编号),
 * as one text `<pReaderSN>|<pPsamTermNo>|`. No PSAM open: −2201 with the device number and an
 * empty second field. It touches no card: no lock.
 */
function readerInfo(api: ApiContext, fields: unknown): VendorAnswer {
  const body = fieldsOf(fields, READER_INFO_BODY);
  if (!body.ok) return body.answer;
  const s = api.terminal.status();
  const psam = s.psam.connected ? s.psam.terminalNumber : null;
  return answer(psam === null ? VENDOR_CODES.noPsam : VENDOR_CODES.ok, `${s.deviceId}|${psam ?? ''}|`);
}

/**
 * The operator of a call: the bearer is either the operator's session token (a privileged call)
 * or the client token that let a native client in (docs/security.md) — only the first names an
 * operator. Required when `required`; a token given where none is needed must still be valid.
 * '' when there is none.
 */
function operatorOf(api: ApiContext, ctx: VendorCallContext, required: boolean, journal: (code: number, why: string) => void): { ok: true; operatorId: string } | { ok: false; answer: VendorAnswer } {
  const bearer = ctx.authorization;
  const auth = bearer !== undefined && isClientToken(/^Bearer\s+(\S+)\s*$/i.exec(bearer)?.[1] ?? '') ? undefined : bearer;
  if (auth === undefined && !required) return { ok: true, operatorId: '' };
  const m = auth === undefined ? null : /^Bearer\s+(\S{1,1024})\s*$/i.exec(auth);
  if (m === null) {
    journal(VENDOR_CODES.keyLevel, 'auth.required');
    return { ok: false, answer: answer(VENDOR_CODES.keyLevel, oneLine(TEXT.authRequired), 401, { 'www-authenticate': 'Bearer' }) };
  }
  try {
    return { ok: true, operatorId: api.auth.check(m[1]!) };
  } catch (e) {
    const text: BilingualText = isSsCardError(e) ? e.text : TEXT.authRequired;
    journal(VENDOR_CODES.keyLevel, isSsCardError(e) ? errorCodeName(e.code) : 'auth.required');
    return { ok: false, answer: answer(VENDOR_CODES.keyLevel, oneLine(text), 401, { 'www-authenticate': 'Bearer error="invalid_token"' }) };
  }
}

/** iReadCardBas and the PIN functions (docs/domain.md §4). */
async function cardFunction(api: ApiContext, fn: VendorFunction, fields: unknown, ctx: VendorCallContext): Promise<VendorAnswer> {
  const body = fieldsOf(fields, VENDOR_BODY);
  if (!body.ok) return body.answer;
  const { iType, cardInfo } = body.value;
  if (iTypeCode(iType) !== VENDOR_CODES.ok) return answer(iTypeCode(iType), oneLine(ITYPE_TEXT));

  const kind = fn === 'iReadCardBas' ? undefined : VENDOR_SERVICE[fn];
  let privileged = false;
  let operatorId = '';
  // Journal outcome: "<return code>:<why>", e.g. "0:unblock.ok", "-24:auth.required".
  const journal = (code: number, why: string) => {
    if (privileged) api.journal({ operatorId, command: fn, requestId: null, outcome: `${code}:${why}` });
  };

  if (kind !== undefined) {
    const caps = api.terminal.capabilities();
    const may = capability(caps.role, kind, caps.services);
    privileged = may.privileged;
    if (!may.allowed) {
      journal(VENDOR_CODES.notSupported, 'serviceNotOffered');
      return answer(VENDOR_CODES.notSupported, oneLine(may.reason), 403);
    }
    const who = operatorOf(api, ctx, privileged, journal);
    if (!who.ok) return who.answer;
    operatorId = who.operatorId;
  }

  let info: ReturnType<typeof parseCardInfo> = null;
  if (NEEDS_CARD_INFO.includes(fn)) {
    info = cardInfo === undefined ? null : parseCardInfo(cardInfo);
    if (info === null) {
      journal(VENDOR_CODES.badCardId, 'badCardInfo');
      return answer(VENDOR_CODES.badCardId, oneLine(cardInfo === undefined ? TEXT.noCardInfo : CARD_INFO_TEXT));
    }
  }

  return onTheCard(api, fn, ctx, kind !== undefined, journal, async (signal) => {
    if (fn === 'iReadCardBas') return answer(VENDOR_CODES.ok, formatCardBas(await api.terminal.readBasic(signal)));
    if (info !== null) {
      const card = await api.terminal.readBasic(signal);
      if (!cardInfoMatches(info, card)) {
        journal(VENDOR_CODES.dataMismatch, 'cardInfoMismatch');
        return answer(VENDOR_CODES.dataMismatch, oneLine(CARD_INFO_TEXT));
      }
    }
    const result = await api.terminal.runService({ kind: kind!, ...(operatorId === '' ? {} : { operatorId }) }, () => {}, signal);
    const code = vendorCodeOfResult(result);
    journal(code, result.code);
    return answer(code, resultText(result));
  });
}

/**
 * The arguments of the file reads (iReadCard, iReadCard_HSM_Step1), checked in the vendors' order:
 * iType (−1), cardInfo — empty for any card, else 卡识别码|卡号| (−20) — and the file address
 * (−14 / −13).
 */
function fileReadArgs(
  fields: unknown,
  schema: typeof READ_CARD_BODY | typeof READ_CARD_HSM_STEP1_BODY,
): { ok: true; info: CardInfo | undefined; addr: { files: readonly { readonly ef: 0xef05 | 0xef06; readonly tags: readonly number[] }[] } } | { ok: false; answer: VendorAnswer } {
  const body = fieldsOf(fields, schema);
  if (!body.ok) return body;
  const { iType, cardInfo, fileAddr } = body.value;
  if (iTypeCode(iType) !== VENDOR_CODES.ok) return { ok: false, answer: answer(iTypeCode(iType), oneLine(ITYPE_TEXT)) };
  const info = cardInfo.trim() === '' ? undefined : parseCardInfo(cardInfo);
  if (info === null) return { ok: false, answer: answer(VENDOR_CODES.badCardId, oneLine(CARD_INFO_TEXT)) };
  const addr = parseFileAddress(fileAddr);
  if (!addr.ok) return { ok: false, answer: answer(addr.code, oneLine(addr.text)) };
  return { ok: true, info, addr };
}

/**
 * iReadCard(iType, iAuthType, pCardInfo, pFileAddr, pOutInfo): records of EF05/EF06 by file
 * address, each value as the vendors give it, `|`-separated (vendor.ts formatRecords). An empty
 * cardInfo reads whatever card is in the reader; a given one must name it (−20 / −22).
 */
async function readCard(api: ApiContext, fields: unknown, ctx: VendorCallContext): Promise<VendorAnswer> {
  const args = fileReadArgs(fields, READ_CARD_BODY);
  if (!args.ok) return args.answer;
  const { info, addr } = args;
  return onTheCard(api, 'iReadCard', ctx, false, noJournal, async (signal) => {
    const r = await api.terminal.readRecords(addr.files, signal);
    if (info !== undefined && !cardInfoMatches(info, r)) return answer(VENDOR_CODES.dataMismatch, oneLine(CARD_INFO_TEXT));
    return answer(VENDOR_CODES.ok, formatRecords(addr.files, r.files));
  });
}

/** iReadCardBas_HSM_Step1(iType, pOutInfo): the card's data for the online encryption machine. */
async function hsmStep1(api: ApiContext, fields: unknown, ctx: VendorCallContext): Promise<VendorAnswer> {
  const body = fieldsOf(fields, HSM_STEP1_BODY);
  if (!body.ok) return body.answer;
  if (iTypeCode(body.value.iType) !== VENDOR_CODES.ok) return answer(iTypeCode(body.value.iType), oneLine(ITYPE_TEXT));
  return onTheCard(api, 'iReadCardBas_HSM_Step1', ctx, false, noJournal, async (signal) => answer(VENDOR_CODES.ok, formatHsmChallenge(await api.terminal.hsmReadBegin(signal))));
}

/** iReadCardBas_HSM_Step2(pKey, pOutInfo): the machine's answer → the iReadCardBas string. */
async function hsmStep2(api: ApiContext, fields: unknown, ctx: VendorCallContext): Promise<VendorAnswer> {
  const body = fieldsOf(fields, HSM_STEP2_BODY);
  if (!body.ok) return body.answer;
  const key = parseHsmKey(body.value.key);
  if (!key.ok) return answer(key.code, oneLine(key.text));
  return onTheCard(api, 'iReadCardBas_HSM_Step2', ctx, false, noJournal, async (signal) => answer(VENDOR_CODES.ok, formatCardBas(await api.terminal.hsmReadFinish(key, signal))));
}

/**
 * iReadCard_HSM_Step1(iType, pCardInfo, pFileAddr, pOutInfo): iReadCard through the encryption
 * machine — Step1's output as iReadCardBas_HSM_Step1's; the card checked against cardInfo (−22,
 * and the card freed at once) before its data goes to the caller.
 */
async function readCardHsmStep1(api: ApiContext, fields: unknown, ctx: VendorCallContext): Promise<VendorAnswer> {
  const args = fileReadArgs(fields, READ_CARD_HSM_STEP1_BODY);
  if (!args.ok) return args.answer;
  const { info, addr } = args;
  return onTheCard(api, 'iReadCard_HSM_Step1', ctx, false, noJournal, async (signal) => {
    const c = await api.terminal.hsmReadBegin(signal, undefined, addr.files);
    if (info !== undefined && !cardInfoMatches(info, c)) {
      api.terminal.hsmReadEnd();
      return answer(VENDOR_CODES.dataMismatch, oneLine(CARD_INFO_TEXT));
    }
    return answer(VENDOR_CODES.ok, formatHsmChallenge(c));
  });
}

/** iReadCard_HSM_Step2(pKey, pOutInfo): the machine's answer → iReadCard's output for Step1's address. */
async function readCardHsmStep2(api: ApiContext, fields: unknown, ctx: VendorCallContext): Promise<VendorAnswer> {
  const body = fieldsOf(fields, HSM_STEP2_BODY);
  if (!body.ok) return body.answer;
  const key = parseHsmKey(body.value.key);
  if (!key.ok) return answer(key.code, oneLine(key.text));
  return onTheCard(api, 'iReadCard_HSM_Step2', ctx, false, noJournal, async (signal) => {
    const r = await api.terminal.hsmReadRecordsFinish(key, signal);
    return answer(VENDOR_CODES.ok, formatRecords(r.request, r.files));
  });
}

const WRITE_TEXT = {
  counterOnly: { zh: '写卡只在窗口由经办人员办理，本终端是自助终端', en: 'the card is written at a counter by an operator; this terminal is a kiosk' },
  written: (n: number): BilingualText => ({ zh: `已写入 ${n} 条记录`, en: `${n} record(s) written` }),
  refused: (sw: number, n: number): BilingualText => ({ zh: `卡片拒绝写入（${sw.toString(16).toUpperCase()}）；此前已写入 ${n} 条记录`, en: `the card refused the write (${sw.toString(16).toUpperCase()}); ${n} record(s) were written before it` }),
  unknown: { zh: '写卡结果未知（通讯中断）：请勿重复写入，先重新读卡核对', en: 'the outcome of the write is unknown (the connection failed): do not write again; read the card first to check' },
} as const;

/**
 * iWriteCard(iType, pCardInfo, pFileAddr, pWriteData, pOutInfo): EF06 records written at a counter
 * by its operator (privileged always; journaled as an operation and as the operator's call). The
 * terminal journals the write `pending` before the first UPDATE RECORD and never retries one
 * (daemon/terminal/vendor-writes.ts).
 */
async function writeCard(api: ApiContext, fields: unknown, ctx: VendorCallContext): Promise<VendorAnswer> {
  const body = fieldsOf(fields, WRITE_CARD_BODY);
  if (!body.ok) return body.answer;
  const { iType, cardInfo, fileAddr, writeData } = body.value;
  let operatorId = '';
  const journal = (code: number, why: string) => api.journal({ operatorId, command: 'iWriteCard', requestId: null, outcome: `${code}:${why}` });
  if (iTypeCode(iType) !== VENDOR_CODES.ok) return answer(iTypeCode(iType), oneLine(ITYPE_TEXT));
  if (api.terminal.capabilities().role === 'kiosk') return answer(VENDOR_CODES.notSupported, oneLine(WRITE_TEXT.counterOnly), 403);
  const who = operatorOf(api, ctx, true, journal);
  if (!who.ok) return who.answer;
  operatorId = who.operatorId;
  const info = parseCardInfo(cardInfo);
  if (info === null) {
    journal(VENDOR_CODES.badCardId, 'badCardInfo');
    return answer(VENDOR_CODES.badCardId, oneLine(CARD_INFO_TEXT));
  }
  const addr = parseFileAddress(fileAddr);
  const data = addr.ok ? parseWriteData(addr.files, writeData) : addr;
  if (!data.ok) {
    journal(data.code, 'badArguments');
    return answer(data.code, oneLine(data.text));
  }
  return onTheCard(api, 'iWriteCard', ctx, true, journal, async (signal) => {
    const r = await api.terminal.writeRecords({ cardId: info.cardId, cardNumber: info.cardNumber, operatorId, writes: data.writes }, signal);
    const [code, text] =
      r.status === 'written'
        ? [VENDOR_CODES.ok, WRITE_TEXT.written(r.records)]
        : r.status === 'mismatch'
          ? [VENDOR_CODES.dataMismatch, CARD_INFO_TEXT]
          : r.status === 'refused'
            ? [swCode(r.sw), WRITE_TEXT.refused(r.sw, r.records)]
            : r.status === 'notSent'
              ? [vendorCodeOfError(r.error), r.error.text]
              : [VENDOR_CODES.noResponse, WRITE_TEXT.unknown];
    journal(code, r.status);
    return answer(code, oneLine(text));
  });
}

export type VendorCall = (api: ApiContext, fields: unknown, ctx: VendorCallContext) => Promise<VendorAnswer>;

/**
 * The function `fn` of the vendors' library, or undefined when it is none (the payment functions
 * are not ours). Those the terminal does not provide answer −13 saying so (docs/api.md).
 */
export function vendorFunction(fn: string): VendorCall | undefined {
  if ((VENDOR_FUNCTIONS as readonly string[]).includes(fn)) return (api, fields, ctx) => cardFunction(api, fn as VendorFunction, fields, ctx);
  if (fn === 'iGetReaderInfo') return (api, fields) => Promise.resolve(readerInfo(api, fields));
  if (fn === 'iReadCard') return readCard;
  if (fn === 'iWriteCard') return writeCard;
  if (fn === 'iReadCardBas_HSM_Step1') return hsmStep1;
  if (fn === 'iReadCardBas_HSM_Step2') return hsmStep2;
  if (fn === 'iReadCard_HSM_Step1') return readCardHsmStep1;
  if (fn === 'iReadCard_HSM_Step2') return readCardHsmStep2;
  if ((VENDOR_NOT_PROVIDED as readonly string[]).includes(fn)) return () => Promise.resolve(answer(VENDOR_CODES.notSupported, oneLine(notProvidedText(fn))));
  return undefined;
}
