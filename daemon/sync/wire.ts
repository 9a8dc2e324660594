/**
 * The wire protocol between a terminal and the provincial platform, version 1
 * (docs/sync-protocol.md is the human-readable spec; keep the two in step): the one module the
 * terminal's sync worker (daemon/sync) and the reference platform (platform/) share.
 *
 *   POST {base}/v1/operations     PushRequest      → 200 PushResponse
 *   POST {base}/v1/bank-requests  BankPushRequest  → 200 PushResponse   (revision 2)
 *   GET  {base}/v1/hotlist?since=VERSION           → 200 HotlistResponse
 *   POST {base}/v1/heartbeat      Heartbeat        → 200 HeartbeatAnswer  (revision 3)
 *   GET  {base}/v1/health                          → 200 { ok: true, protocol: 1, revision: 3 }
 */
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { isUuidV7 } from '../../core/uuid.js';

/*
 * The wire's own words (docs/sync-protocol.md "Push operations"). Kinds, outcomes and card states
 * are the house's words too; a role and a material are not: the terminal translates those once, in
 * daemon/sync/to-wire.ts, and the platform sees only these.
 */

/** `kind`: the service or read an operation was. */
export const WIRE_KINDS = ['activate', 'verify', 'change', 'reset', 'unblock', 'lockout', 'read', 'write'] as const;
export type WireKind = (typeof WIRE_KINDS)[number];

/**
 * `serviceItem` of a plain PIN check (kind `verify`): no service item. Seed 001 (社会保障卡密码修改与
 * 重置, docs/service-items/001_bf9ce8a90a3e7ce5.txt line 7) is PIN change and reset; a check of
 * the PIN is neither, and seed 000 is activation. The marker has the shape every `serviceItem`
 * has (upper-case letters and digits, 20 to 40: the journal and the wire check it) but can never
 * be a 业务办理项编码 (33 characters starting with a unified social credit code): a platform
 * stores it and does not look it up in its catalog (docs/sync-protocol.md).
 */
export const PIN_CHECK_SERVICE_ITEM = 'LOCALPINVERIFICATION';

/**
 * `serviceItem` of a write of the card's records at a counter (kind `write`, iWriteCard): no item
 * of the seeds' catalog either (the seeds are activation, and PIN change and reset); a marker of the
 * same shape as {@link PIN_CHECK_SERVICE_ITEM}, stored without a catalog look-up.
 */
export const CARD_WRITE_SERVICE_ITEM = 'LOCALCARDRECORDWRITE';

/** `role`: where the terminal stands (service items 000/001: self-service terminal, window, financial window). */
export const WIRE_ROLES = ['self-service', 'window', 'financial-window'] as const;
export type WireRole = (typeof WIRE_ROLES)[number];

/** `materials`, `missing`: the type of a material presented or missing (收件), never a number from it. */
export const WIRE_MATERIALS = ['social-security-card', 'resident-id-card', 'agent-id-card', 'power-of-attorney', 'household-register'] as const;
export type WireMaterial = (typeof WIRE_MATERIALS)[number];

/** `outcome` */
export const WIRE_OUTCOMES = ['ok', 'failed', 'refused', 'cancelled', 'unknown'] as const;
export type WireOutcome = (typeof WIRE_OUTCOMES)[number];

/** `cardState`: the card's state as observed. */
export const WIRE_CARD_STATES = ['active', 'notActivated', 'appLocked', 'pinBlocked'] as const;
export type WireCardState = (typeof WIRE_CARD_STATES)[number];

export const PROTOCOL_VERSION = 1;
/**
 * Revisions of protocol 1 only add (docs/sync-protocol.md "Versions"): a platform of an earlier
 * revision answers 404 for a path it lacks, and the terminal keeps what it would have sent there.
 * Revision 2 adds `POST v1/bank-requests`.
 */
export const PROTOCOL_REVISION = 3;
export const BANK_REQUESTS_PATH = 'v1/bank-requests';
export const PROTOCOL_HEADER = 'x-sscard-protocol';
export const TERMINAL_HEADER = 'x-sscard-terminal';
/** Upper bound on a response body the worker will read (a hotlist of ~200k cards fits). */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** Which identity goes upstream: the platform needs the card to book the service. */
export type IdentityMode = 'full' | 'masked' | 'none';

export interface WireCard {
  readonly cardId: string;
  readonly cardNumber: string | null;
  readonly socialSecurityNumber: string | null;
  readonly name: string | null;
  /** True when the values are masked (identity mode `masked`). */
  readonly masked: boolean;
}

/**
 * Someone who applied for the holder (state/agents.ts): the basis always; the document number and
 * name by the same identity mode as the card (in clear, masked, or null with `none`).
 */
export interface WireAgent {
  readonly basis: 'power-of-attorney' | 'guardianship';
  readonly idNumber: string | null;
  readonly name: string | null;
  readonly masked: boolean;
}

/** One operation as the platform receives it. Times are ISO 8601 UTC. */
export interface WireOperation {
  readonly id: string;
  readonly terminalId: string;
  readonly operatorId: string | null;
  readonly serviceItem: string;
  readonly kind: WireKind;
  readonly role: WireRole;
  readonly state: 'completed' | 'interrupted';
  readonly outcome: WireOutcome;
  readonly reason: string | null;
  /** Last status word as 4 hex digits, e.g. "63C2". */
  readonly lastSw: string | null;
  readonly triesLeft: number | null;
  readonly cardState: WireCardState | null;
  readonly materials: readonly WireMaterial[];
  readonly missing: readonly WireMaterial[];
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly reconciles: string | null;
  readonly card: WireCard | null;
  /** null when the holder applied (and from terminals before agents existed: absent). */
  readonly agent?: WireAgent | null;
}

export interface PushRequest {
  readonly protocol: number;
  readonly terminalId: string;
  /** Unique per request attempt's content; a retry of the same rows may carry a new batch id. */
  readonly batchId: string;
  readonly operations: readonly WireOperation[];
}

/**
 * A financial window's bank-account activation request (seed 000, docs/service-items/
 * 000_1700379f35991b5f.txt lines 60–66), as the platform receives it to hand it to the bank.
 * The card and holder always in full: the bank activates the account of that card and holder.
 */
export interface WireBankRequest {
  /** UUIDv7 made by the terminal when the request was recorded: the deduplication key. */
  readonly id: string;
  /** The activation (an operation of the same terminal, pushed on `v1/operations`); null once purged there. */
  readonly operationId: string | null;
  readonly terminalId: string;
  readonly operatorId: string | null;
  /** When the terminal recorded it, ISO 8601 UTC. */
  readonly requestedAt: string;
  readonly card: WireCard & { readonly masked: false };
}

export interface BankPushRequest {
  readonly protocol: number;
  readonly revision: number;
  readonly terminalId: string;
  readonly batchId: string;
  readonly bankRequests: readonly WireBankRequest[];
}

export interface RejectedOperation {
  readonly id: string;
  /** Machine code, e.g. "unknown-service-item", "invalid". */
  readonly code: string;
  readonly message: string;
}

export interface PushResponse {
  readonly batchId: string;
  /** Stored now. */
  readonly accepted: readonly string[];
  /** Already held (an earlier attempt got through): as good as accepted. */
  readonly duplicates: readonly string[];
  /** Refused for good: the terminal keeps them as `rejected` and shows them to a technician. */
  readonly rejected: readonly RejectedOperation[];
}

export interface HotlistResponse {
  readonly version: string;
  /** True: `add` is the whole list (the terminal drops what it had). */
  readonly full: boolean;
  /** Card identification codes (卡识别码, 32 hex digits). */
  readonly add: readonly string[];
  readonly remove: readonly string[];
  /** The platform's Ed25519 signature (base64) of this answer (daemon/sync/hotlist-signature.ts). */
  readonly signature?: string;
}

export function badResponse(what: string, detail: string, context: Record<string, unknown> = {}): SsCardError {
  return new SsCardError(
    ErrorCode.Sync_BadResponse,
    {
      zh: `省级平台的${what}应答格式不对（${detail}）；记录仍保留在本机，稍后自动重试。若一直如此，请联系平台确认协议版本 ${PROTOCOL_VERSION}`,
      en: `the platform's ${what} response is malformed (${detail}); the records stay on this terminal and will be retried. If it persists, ask the platform to confirm protocol version ${PROTOCOL_VERSION}`,
    },
    context,
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringArray(v: unknown, what: string, field: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw badResponse(what, `${field} 不是字符串数组 / ${field} is not an array of strings`);
  return v;
}

export function parsePushResponse(body: unknown): PushResponse {
  const what = '上传 / push';
  if (!isObject(body)) throw badResponse(what, '不是 JSON 对象 / not a JSON object');
  const accepted = stringArray(body.accepted, what, 'accepted');
  const duplicates = body.duplicates === undefined ? [] : stringArray(body.duplicates, what, 'duplicates');
  const rejectedRaw = body.rejected === undefined ? [] : body.rejected;
  if (!Array.isArray(rejectedRaw)) throw badResponse(what, 'rejected 不是数组 / rejected is not an array');
  const rejected = rejectedRaw.map((x): RejectedOperation => {
    if (!isObject(x) || typeof x.id !== 'string') throw badResponse(what, 'rejected 项缺少 id / a rejected entry has no id');
    return { id: x.id, code: typeof x.code === 'string' ? x.code : 'rejected', message: typeof x.message === 'string' ? x.message : '' };
  });
  return { batchId: typeof body.batchId === 'string' ? body.batchId : '', accepted, duplicates, rejected };
}

export function parseHotlistResponse(body: unknown): HotlistResponse {
  const what = '挂失名单 / hotlist';
  if (!isObject(body)) throw badResponse(what, '不是 JSON 对象 / not a JSON object');
  if (typeof body.version !== 'string' || body.version.length === 0 || body.version.length > 64) throw badResponse(what, 'version 无效 / bad version');
  if (typeof body.full !== 'boolean') throw badResponse(what, 'full 无效 / bad full');
  const ids = (v: unknown, f: string): string[] => {
    const a = stringArray(v, what, f);
    for (const s of a) if (!/^[0-9A-Fa-f]{32}$/.test(s)) throw badResponse(what, `${f} 中有无效的卡识别码 / ${f} holds an invalid card id`);
    return a;
  };
  if (body.signature !== undefined && (typeof body.signature !== 'string' || body.signature.length > 256)) throw badResponse(what, 'signature 无效 / bad signature field');
  return {
    version: body.version,
    full: body.full,
    add: ids(body.add, 'add'),
    remove: body.remove === undefined ? [] : ids(body.remove, 'remove'),
    ...(typeof body.signature === 'string' ? { signature: body.signature } : {}),
  };
}

/** Server side: check a push request; returns the problem in words, or undefined. */
export function checkPushRequest(body: unknown): string | undefined {
  if (!isObject(body)) return 'body is not a JSON object';
  if (body.protocol !== PROTOCOL_VERSION) return `protocol must be ${PROTOCOL_VERSION}`;
  if (typeof body.terminalId !== 'string' || body.terminalId.length === 0) return 'terminalId missing';
  if (typeof body.batchId !== 'string' || body.batchId.length === 0) return 'batchId missing';
  if (!Array.isArray(body.operations)) return 'operations is not an array';
  return undefined;
}

/** Server side: check a bank-request push; returns the problem in words, or undefined. */
export function checkBankPushRequest(body: unknown): string | undefined {
  if (!isObject(body)) return 'body is not a JSON object';
  if (body.protocol !== PROTOCOL_VERSION) return `protocol must be ${PROTOCOL_VERSION}`;
  if (typeof body.terminalId !== 'string' || body.terminalId.length === 0) return 'terminalId missing';
  if (typeof body.batchId !== 'string' || body.batchId.length === 0) return 'batchId missing';
  if (!Array.isArray(body.bankRequests)) return 'bankRequests is not an array';
  return undefined;
}

/** Server side: check one bank request; the bank needs the card and holder in full. Returns the problem in words, or undefined. */
export function checkWireBankRequest(r: unknown): string | undefined {
  if (!isObject(r)) return 'not an object';
  if (!isUuidV7(r.id)) return 'id is not a UUIDv7';
  if (r.operationId !== null && !isUuidV7(r.operationId)) return 'operationId is neither null nor a UUIDv7';
  if (typeof r.requestedAt !== 'string' || Number.isNaN(Date.parse(r.requestedAt))) return 'requestedAt invalid';
  const c = r.card;
  if (!isObject(c)) return 'card missing';
  if (c.masked !== false) return 'card is masked: the bank needs it in full';
  if (typeof c.cardId !== 'string' || !/^[0-9A-F]{32}$/.test(c.cardId)) return 'card.cardId invalid';
  for (const f of ['cardNumber', 'socialSecurityNumber', 'name'] as const) if (typeof c[f] !== 'string' || c[f].length === 0) return `card.${f} missing`;
  return undefined;
}

/** Server side: check one operation; returns the problem in words, or undefined. */
/** A UTF-16 surrogate without its pair. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why `v` cannot be stored as it is (undefined: it can): a string or key holding U+0000 or a lone
 * UTF-16 surrogate. Both are valid JSON (`"\u0000"`, `"\ud800"`) and valid for SQLite, but
 * PostgreSQL's `text` and `jsonb` refuse them (PostgreSQL 15 docs §8.14, "JSON Types"), which
 * would fail the whole batch with every retry. Only a `\u` escape in the JSON text can make
 * either (JSON forbids a raw control character; UTF-8 cannot carry a lone surrogate), so a body
 * without one need not be walked.
 */
export function unstorableText(v: unknown): string | undefined {
  const stack: unknown[] = [v];
  while (stack.length > 0) {
    const x = stack.pop();
    if (typeof x === 'string') {
      if (x.includes('\u0000')) return 'a string holds U+0000 (NUL)';
      if (LONE_SURROGATE.test(x)) return 'a string holds a lone UTF-16 surrogate';
    } else if (Array.isArray(x)) {
      for (const y of x as unknown[]) stack.push(y);
    } else if (isObject(x)) {
      for (const [k, y] of Object.entries(x)) stack.push(k, y);
    }
  }
  return undefined;
}

export function checkWireOperation(op: unknown): string | undefined {
  if (!isObject(op)) return 'not an object';
  if (!isUuidV7(op.id)) return 'id is not a UUIDv7';
  if (typeof op.serviceItem !== 'string' || !/^[0-9A-Z]{20,40}$/.test(op.serviceItem)) return 'serviceItem invalid';
  if (typeof op.kind !== 'string' || typeof op.role !== 'string' || typeof op.outcome !== 'string') return 'kind/role/outcome missing';
  if (typeof op.startedAt !== 'string' || Number.isNaN(Date.parse(op.startedAt))) return 'startedAt invalid';
  for (const list of ['materials', 'missing'] as const) {
    const v = op[list];
    if (v !== undefined && (!Array.isArray(v) || v.some((m) => !(WIRE_MATERIALS as readonly unknown[]).includes(m)))) return `${list} holds an unknown material`;
  }
  const a = op.agent;
  if (a !== undefined && a !== null && (!isObject(a) || (a.basis !== 'power-of-attorney' && a.basis !== 'guardianship'))) return 'agent.basis invalid';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// heartbeat (revision 3, docs/sync-protocol.md "Heartbeat")
// ---------------------------------------------------------------------------------------------

export const HEARTBEAT_PATH = 'v1/heartbeat';

/** The hotlist answer's ETag for a version (docs/sync-protocol.md "Pull the lost-card hotlist"): a terminal at that version sends it as If-None-Match. */
export const hotlistEtag = (version: string): string => `"hotlist-${version}"`;

/** A device's health as the fleet view shows it: working, configured but not usable, not configured. */
export const DEVICE_HEALTH = ['ok', 'problem', 'none'] as const;
export type DeviceHealth = (typeof DEVICE_HEALTH)[number];

export const HOTLIST_CHECKS = ['verified', 'unchecked', 'refused'] as const;

/** What a terminal says of itself with each sync pass (and alone when there is nothing to sync). */
export interface Heartbeat {
  readonly protocol: typeof PROTOCOL_VERSION;
  readonly terminalId: string;
  /** The terminal's clock when it sent this (ISO 8601 with ms). */
  readonly sentAt: string;
  readonly software: string;
  readonly role: WireRole;
  readonly services: readonly WireKind[];
  readonly health: {
    readonly pcsc: boolean;
    /** Card readers seen / with a card in. */
    readonly cardReaders: number;
    readonly psam: DeviceHealth;
    readonly pinPad: DeviceHealth;
    readonly idReader: DeviceHealth;
  };
  readonly backlog: { readonly operations: number; readonly oldestUnsyncedAt: string | null; readonly bankRequests: number };
  readonly hotlist: { readonly version: string | null; readonly check: (typeof HOTLIST_CHECKS)[number] | null };
  /** The terminal's clock minus the platform's, from the previous heartbeat's answer (ms; null: not known yet). */
  readonly clockOffsetMs: number | null;
}

export interface HeartbeatAnswer {
  /** The platform's clock when it took the heartbeat (ISO 8601 with ms). */
  readonly receivedAt: string;
}

const isIso = (v: unknown): v is string => typeof v === 'string' && v.length <= 40 && !Number.isNaN(Date.parse(v));
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 1e12;

/** Server side: check a heartbeat; the problem in words, or undefined. */
export function checkHeartbeat(body: unknown): string | undefined {
  if (!isObject(body)) return 'body is not a JSON object';
  if (body.protocol !== PROTOCOL_VERSION) return `protocol must be ${PROTOCOL_VERSION}`;
  if (typeof body.terminalId !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(body.terminalId)) return 'terminalId invalid';
  if (!isIso(body.sentAt)) return 'sentAt invalid';
  if (typeof body.software !== 'string' || body.software.length === 0 || body.software.length > 64) return 'software invalid';
  if (!(WIRE_ROLES as readonly unknown[]).includes(body.role)) return 'role invalid';
  if (!Array.isArray(body.services) || body.services.length > WIRE_KINDS.length || !body.services.every((k) => (WIRE_KINDS as readonly unknown[]).includes(k))) return 'services invalid';
  const h = body.health;
  if (!isObject(h) || typeof h.pcsc !== 'boolean' || !isCount(h.cardReaders)) return 'health invalid';
  for (const d of ['psam', 'pinPad', 'idReader'] as const) if (!(DEVICE_HEALTH as readonly unknown[]).includes(h[d])) return `health.${d} invalid`;
  const b = body.backlog;
  if (!isObject(b) || !isCount(b.operations) || !isCount(b.bankRequests) || (b.oldestUnsyncedAt !== null && !isIso(b.oldestUnsyncedAt))) return 'backlog invalid';
  const l = body.hotlist;
  if (!isObject(l) || (l.version !== null && (typeof l.version !== 'string' || l.version.length > 64)) || (l.check !== null && !(HOTLIST_CHECKS as readonly unknown[]).includes(l.check))) return 'hotlist invalid';
  if (body.clockOffsetMs !== null && (typeof body.clockOffsetMs !== 'number' || !Number.isFinite(body.clockOffsetMs) || Math.abs(body.clockOffsetMs) > 1e13)) return 'clockOffsetMs invalid';
  return undefined;
}

export function parseHeartbeatAnswer(body: unknown): HeartbeatAnswer {
  const what = '心跳 / heartbeat';
  if (!isObject(body) || !isIso(body.receivedAt)) throw badResponse(what, 'receivedAt 无效 / bad receivedAt');
  return { receivedAt: body.receivedAt };
}
