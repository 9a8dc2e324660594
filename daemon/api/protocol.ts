/**
 * The XFS4IoT message envelope of the local API (docs/domain.md §7, CEN CWA 17852): the header schema,
 * the answer builders (acknowledge, event, unsolicited, completion), the completion codes, and the
 * translation of schema problems and SsCardErrors into answers a person and a program can use.
 *
 * Nothing here echoes a value the client sent: a problem names the field (its path) and what it
 * must be, never what it was, so a PIN, passphrase or token typed into the wrong field never comes
 * back in an answer or a log line.
 */
import { z } from 'zod';
import { ErrorCode, SsCardError, isSsCardError } from '../../core/errors.js';
import { oneLine, type BilingualText } from '../../core/text.js';
import { commandVersion, eventVersion, isStandard, standardErrorCode, VENDOR_FIELD, VENDOR_PREFIX } from './xfs-spec.js';

/** Commands one client may have running at once (more: acknowledge tooManyRequests); Capabilities' `maximumRequests`. */
export const MAX_RUNNING_PER_CLIENT = 32;

export const COMPLETION_CODES = [
  'success',
  'commandErrorCode',
  'canceled',
  'deviceNotReady',
  'hardwareError',
  'internalError',
  'invalidCommand',
  'invalidRequestID',
  'timeOut',
  'unsupportedCommand',
  'invalidData',
  'userError',
  'unsupportedData',
  'fraudAttempt',
  'sequenceError',
  'authorisationRequired',
] as const;
export type CompletionCode = (typeof COMPLETION_CODES)[number];

/** XFS4IoT acknowledge statuses: null = accepted. */
export type AckStatus = null | 'invalidMessage' | 'invalidRequestID' | 'tooManyRequests';

export const COMMAND_NAME = /^[A-Z][A-Za-z0-9]{0,39}\.[A-Z][A-Za-z0-9]{0,59}$/;

/** A command's header. Strict: an unknown header field is a malformed message. */
export const commandHeader = z.strictObject({
  type: z.literal('command'),
  name: z.string().regex(COMMAND_NAME, { error: 'fmt.commandName' }),
  requestId: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
  version: z.string().regex(/^\d{1,3}\.\d{1,3}$/, { error: 'fmt.version' }).optional(),
  /** ms; 0 or absent = no timeout. */
  timeout: z.int().min(0).max(2_147_483_647).optional(),
});
export type CommandHeader = z.infer<typeof commandHeader>;

export const commandMessage = z.strictObject({
  header: commandHeader,
  /** Absent = `{}`; a command's own schema checks it. */
  payload: z.unknown().optional(),
});

// ---- outgoing messages ----

export interface OutMessage {
  readonly header: Record<string, unknown>;
  readonly payload?: Record<string, unknown>;
}


/**
 * An acknowledge. Accepted: no `status` (absent = accepted, docs/domain.md §7); a refusal has its
 * `status` and says why in `errorDescription`. Never a payload (the specification's acknowledge
 * has none). The version is the one the command came with (KAL Framework/Server/CommandDispatcher.cs
 * acknowledges with the command header's), else the command's own. Fields without a value are left
 * out, as KAL's serializer does (Framework/Core/MessageBase.cs: WhenWritingNull).
 */
export function acknowledge(name: string | null, requestId: number | null, status: AckStatus, problem?: BilingualText, version?: string): OutMessage {
  return {
    header: {
      type: 'acknowledge',
      name,
      requestId,
      version: version ?? commandVersion(name ?? '', 'command'),
      ...(status === null ? {} : { status }),
      ...(problem === undefined ? {} : { errorDescription: oneLine(problem) }),
    },
  };
}

/** An event of a command; no payload when it has none (CardReader.MediaInsertedEvent). */
export function event(name: string, requestId: number, payload: Record<string, unknown>): OutMessage {
  return { header: { type: 'event', name, requestId, version: eventVersion(name) }, ...(Object.keys(payload).length === 0 ? {} : { payload }) };
}

/** An unsolicited event (no requestId); no payload when it has none (CardReader.MediaRemovedEvent). */
export function unsolicited(name: string, payload: Record<string, unknown>): OutMessage {
  return { header: { type: 'unsolicited', name, version: eventVersion(name) }, ...(Object.keys(payload).length === 0 ? {} : { payload }) };
}

/** What a command ends with, before it becomes a message. */
export interface Outcome {
  readonly code: CompletionCode;
  readonly payload?: Record<string, unknown>;
  /** For people; null on success. */
  readonly description?: BilingualText | null;
  /** Our stable detailed code for programs (`pinPad.timeout`, `verify.wrongPin`, …): sent as `sscardErrorCode`. */
  readonly errorCode?: string;
}

/**
 * A standard command's `commandErrorCode` that none of its own codes can say (our detailed code is
 * in `sscardErrorCode`): the command was not valid for what the terminal holds now.
 */
export const NO_STANDARD_CODE: CompletionCode = 'invalidCommand';

/**
 * The completion. `errorCode` is in the payload only with `commandErrorCode` and only from the
 * command's own codes (xfs-spec.ts COMMAND_ERROR_CODES; for our own interfaces, our codes are the
 * command's); our detailed code is always in `sscardErrorCode` when there is one.
 */
export function completion(name: string, requestId: number, o: Outcome): OutMessage {
  const payload: Record<string, unknown> = { ...(o.payload ?? {}) };
  let code = o.code;
  if (o.errorCode !== undefined) {
    payload[`${VENDOR_PREFIX}ErrorCode`] = o.errorCode;
    if (code === 'commandErrorCode') {
      const own = isStandard(name) ? standardErrorCode(name, o.errorCode) : o.errorCode;
      if (own === undefined) code = NO_STANDARD_CODE;
      else payload['errorCode'] = own;
    }
  }
  // Nothing left out but what has no value (KAL MessageBase.cs: WhenWritingNull): no errorDescription on a
  // success, no payload where the command has none (Common.SetVersions, Common/Completions/SetVersions_g.cs).
  return {
    header: {
      type: 'completion',
      name,
      requestId,
      version: commandVersion(name, 'completion'),
      completionCode: code,
      ...(o.description === undefined || o.description === null ? {} : { errorDescription: oneLine(o.description) }),
    },
    ...(Object.keys(payload).length === 0 ? {} : { payload }),
  };
}

/** A command's payload before its schema: what the envelope itself takes out of it. */
export interface PayloadParts {
  /** The payload without the fields below. */
  readonly payload: unknown;
  /** `timeout` given in the payload, where XFS4IoT 2021-1 put it (later versions: the header). */
  readonly timeout?: number;
  /** The payload's `timeout` is not a valid one: the command completes invalidData with this. */
  readonly problem?: BilingualText;
}

const MAX_TIMEOUT = 2_147_483_647;

/**
 * Take the envelope's fields out of a payload: a `timeout` (ms, 0 = none), and our vendor-prefixed
 * fields (`sscard…`, xfs-spec.ts VENDOR_FIELD) that the command does not define, which are
 * accepted and ignored — any other unknown field is still refused by the command's schema.
 */
export function payloadParts(payload: unknown, known: ReadonlySet<string>): PayloadParts {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return { payload };
  const out: Record<string, unknown> = {};
  let timeout: number | undefined;
  let problem: BilingualText | undefined;
  for (const [k, v] of Object.entries(payload as Record<string, unknown>)) {
    if (known.has(k)) out[k] = v;
    else if (k === 'timeout') {
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_TIMEOUT) timeout = v;
      else problem = { zh: `payload.timeout 应为 0 到 ${MAX_TIMEOUT} 的整数（毫秒，0 表示不限时）`, en: `payload.timeout must be an integer from 0 to ${MAX_TIMEOUT} (ms; 0 = none)` };
    } else if (!VENDOR_FIELD.test(k)) out[k] = v;
  }
  return { payload: out, ...(timeout === undefined ? {} : { timeout }), ...(problem === undefined ? {} : { problem }) };
}

// ---- stable error-code strings ----

const lowerFirst = (s: string): string => (s.length === 0 ? s : s[0]!.toLowerCase() + s.slice(1));

/** ErrorCode.PinPad_Timeout → "pinPad.timeout"; ErrorCode.Internal → "internal". Stable: enum names do not change. */
export function errorCodeName(code: ErrorCode): string {
  const name = (ErrorCode as unknown as Record<number, string | undefined>)[code];
  if (name === undefined) return 'internal';
  const cut = name.indexOf('_');
  return cut < 0 ? lowerFirst(name) : `${lowerFirst(name.slice(0, cut))}.${lowerFirst(name.slice(cut + 1))}`;
}

const DEVICE_NOT_READY = new Set<ErrorCode>([
  ErrorCode.Pcsc_ServiceUnavailable,
  ErrorCode.Pcsc_ReaderNotFound,
  ErrorCode.Pcsc_ReaderRemoved,
  ErrorCode.PinPad_NotFound,
  ErrorCode.PinPad_Disconnected,
  ErrorCode.Psam_Missing,
  ErrorCode.IdCard_ReaderNotFound,
  ErrorCode.IdCard_Disconnected,
  ErrorCode.Journal_OpenFailed,
  ErrorCode.Journal_Corrupt,
  ErrorCode.Journal_KeyFile,
  ErrorCode.Journal_KeyMismatch,
  ErrorCode.Journal_SchemaTooNew,
]);
const HARDWARE_ERROR = new Set<ErrorCode>([
  ErrorCode.Pcsc_TransmitFailed,
  ErrorCode.Pcsc_ControlFailed,
  ErrorCode.Pcsc_Unresponsive,
  ErrorCode.PinPad_Protocol,
  ErrorCode.PinPad_DeviceError,
  ErrorCode.IdCard_Protocol,
  ErrorCode.IdCard_ReaderError,
  ErrorCode.Sim_Bridge,
  ErrorCode.Journal_WriteFailed,
]);
const SEQUENCE_ERROR = new Set<ErrorCode>([ErrorCode.Flow_Busy, ErrorCode.PinPad_Busy, ErrorCode.Journal_Busy, ErrorCode.Api_SequenceError, ErrorCode.Pcsc_SharingViolation]);
const AUTH = new Set<ErrorCode>([ErrorCode.Auth_BadCredentials, ErrorCode.Auth_Locked, ErrorCode.Auth_SessionExpired, ErrorCode.Auth_InvalidToken, ErrorCode.Auth_Required]);

export const INTERNAL_TEXT: BilingualText = {
  zh: '终端内部错误（已记录日志），请稍后重试；如果反复出现，请联系技术人员',
  en: 'internal error in the terminal (logged); try again later, and call a technician if it keeps happening',
};

/**
 * An error thrown by the terminal or the auth port as a completion. A non-SsCardError (a bug) or
 * ErrorCode.Internal → internalError: `internal` is then true and the caller logs the stack; the
 * text sent is generic.
 */
export function outcomeOfError(e: unknown): Outcome & { internal: boolean } {
  if (!isSsCardError(e) || e.code === ErrorCode.Internal) {
    return { code: 'internalError', description: INTERNAL_TEXT, errorCode: 'internal', internal: true };
  }
  const text = e.text;
  const errorCode = errorCodeName(e.code);
  let code: CompletionCode = 'commandErrorCode';
  if (SEQUENCE_ERROR.has(e.code)) code = 'sequenceError';
  else if (AUTH.has(e.code)) code = 'authorisationRequired';
  else if (DEVICE_NOT_READY.has(e.code)) code = 'deviceNotReady';
  else if (HARDWARE_ERROR.has(e.code)) code = 'hardwareError';
  else if (e.code === ErrorCode.PinPad_Unsupported || e.code === ErrorCode.Api_UnsupportedCommand) code = 'unsupportedCommand';
  else if ((e.code as number) >= 100 && (e.code as number) < 200) code = 'invalidData';
  return { code, description: text, errorCode, internal: false };
}

/** Whether this rejection is an abort (what the terminal throws when our signal fired). */
export function isAbortLike(e: unknown): boolean {
  return (e instanceof Error || (typeof e === 'object' && e !== null)) && ['AbortError', 'TimeoutError'].includes((e as { name?: unknown }).name as string);
}

// ---- schema problems as bilingual text ----

/** Descriptions for format keys used as zod `error` messages in the schemas. */
export const FORMAT_TEXT: Readonly<Record<string, BilingualText>> = {
  'fmt.commandName': { zh: '应为「接口.命令」形式的命令名，例如 SSCard.VerifyPin', en: 'must be a command name "Interface.Command", e.g. SSCard.VerifyPin' },
  'fmt.version': { zh: '应为「主版本.次版本」，例如 "2.0"', en: 'must be "major.minor", e.g. "2.0"' },
  'fmt.base64': { zh: '应为 Base64 编码的数据', en: 'must be base64-encoded data' },
  'fmt.apdu': { zh: '应为 Base64 编码的 APDU（4 到 65544 字节）', en: 'must be a base64-encoded APDU (4 to 65544 bytes)' },
  'fmt.phone': { zh: '应为电话号码（数字，可含 + - 和空格，最多 32 个字符）', en: 'must be a phone number (digits, optionally + - and spaces, at most 32 characters)' },
  'fmt.operatorId': { zh: '应为经办人员编号（1 到 64 个字母、数字、点、横线或下划线）', en: 'must be an operator id (1 to 64 letters, digits, dots, dashes or underscores)' },
  'fmt.reader': { zh: '应为读卡器名称（1 到 200 个字符）', en: 'must be a reader name (1 to 200 characters)' },
  'fmt.minMax': { zh: 'minLen 不能大于 maxLen', en: 'minLen must not be greater than maxLen' },
  'fmt.activeKeys': { zh: '此密码键盘不能禁用按键：activeKeys 必须包含 zero…nine 和 enter', en: 'this PIN pad cannot disable keys: activeKeys must include zero…nine and enter' },
};

const TYPE_TEXT: Readonly<Record<string, BilingualText>> = {
  string: { zh: '字符串', en: 'a string' },
  number: { zh: '数字', en: 'a number' },
  int: { zh: '整数', en: 'an integer' },
  boolean: { zh: '布尔值（true 或 false）', en: 'a boolean (true or false)' },
  object: { zh: 'JSON 对象', en: 'a JSON object' },
  array: { zh: '数组', en: 'an array' },
  null: { zh: 'null', en: 'null' },
};

const SAFE_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/;

function pathText(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out === '' ? '' : '.'}${String(p)}`;
  return out === '' ? '(message)' : out;
}

function sizeText(origin: string, n: number | bigint, big: boolean, inclusive: boolean): BilingualText {
  const v = String(n);
  if (origin === 'string') return big ? { zh: `最多 ${v} 个字符`, en: `must be at most ${v} characters` } : { zh: `至少 ${v} 个字符`, en: `must be at least ${v} characters` };
  if (origin === 'array' || origin === 'set') return big ? { zh: `最多 ${v} 项`, en: `must have at most ${v} items` } : { zh: `至少 ${v} 项`, en: `must have at least ${v} items` };
  if (big) return inclusive ? { zh: `不能大于 ${v}`, en: `must be at most ${v}` } : { zh: `必须小于 ${v}`, en: `must be less than ${v}` };
  return inclusive ? { zh: `不能小于 ${v}`, en: `must be at least ${v}` } : { zh: `必须大于 ${v}`, en: `must be greater than ${v}` };
}

/** One issue of a failed safeParse (run with `reportInput: true`), as text; never the input. */
export function issueText(issue: z.core.$ZodIssue, prefix: string): BilingualText {
  const at = pathText(prefix, issue.path);
  let what: BilingualText;
  switch (issue.code) {
    case 'invalid_type':
      what =
        issue.input === undefined
          ? { zh: '缺少此字段', en: 'is missing' }
          : { zh: `应为${(TYPE_TEXT[issue.expected] ?? { zh: issue.expected }).zh}`, en: `must be ${(TYPE_TEXT[issue.expected] ?? { en: issue.expected }).en}` };
      if (issue.expected === 'int' && issue.input !== undefined) what = { zh: '应为整数', en: 'must be an integer' };
      break;
    case 'too_big':
      what = sizeText(issue.origin, issue.maximum, true, issue.inclusive ?? true);
      break;
    case 'too_small':
      what = sizeText(issue.origin, issue.minimum, false, issue.inclusive ?? true);
      break;
    case 'unrecognized_keys': {
      const named = issue.keys.filter((k) => SAFE_KEY.test(k));
      const list = named.length === issue.keys.length ? named.join(', ') : `${named.length > 0 ? `${named.join(', ')} ` : ''}(+${issue.keys.length - named.length})`;
      what = { zh: `含有未知字段 ${list}：请删除`, en: `has unknown field(s) ${list}: remove them` };
      break;
    }
    case 'invalid_value': {
      const vs = issue.values.map((v) => JSON.stringify(v));
      what = vs.length === 1 ? { zh: `只能是 ${vs[0]!}`, en: `must be ${vs[0]!}` } : { zh: `只能是 ${vs.join('、')} 之一`, en: `must be one of ${vs.join(', ')}` };
      break;
    }
    case 'invalid_format':
    case 'custom':
      what = FORMAT_TEXT[issue.message] ?? { zh: '格式不对', en: 'has the wrong format' };
      break;
    default:
      what = { zh: '无效', en: 'is invalid' };
  }
  return { zh: `${at} ${what.zh}`, en: `${at} ${what.en}` };
}

/** All issues, joined; the first few only. */
export function issuesText(error: z.ZodError, prefix: string, max = 5): BilingualText {
  const texts = error.issues.slice(0, max).map((i) => issueText(i, prefix));
  const more = error.issues.length > max ? error.issues.length - max : 0;
  return {
    zh: texts.map((t) => t.zh).join('；') + (more > 0 ? `；另有 ${more} 处问题` : ''),
    en: texts.map((t) => t.en).join('; ') + (more > 0 ? `; and ${more} more` : ''),
  };
}

/** Field paths of the issues (for logs: names only, never values). */
export function issuePaths(error: z.ZodError): string[] {
  return error.issues.map((i) => pathText('', i.path));
}

export { SsCardError };
