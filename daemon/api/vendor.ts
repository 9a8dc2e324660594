/**
 * The reader vendors' SSCardDriver interface (docs/domain.md §4) over HTTP: the request fields, the
 * iReadCardBas output string, and the `long` return codes, as pure functions. The HTTP routes
 * (http-routes.ts) only glue these to the terminal. The tables here are the ones in docs/api.md.
 *
 * Return codes (docs/domain.md §4): 0 success; −1 card type, −2 no card, −3 not powered, −4 no
 * response, −11/−12 reader, −20 bad 卡识别码, −21 internal authentication failed, −22/−23 data,
 * −24 PSAM key level, −31…−36 PIN pad, −51 wrong PIN, −52 PIN locked, −2201 no PSAM, −2202
 * algorithm unsupported, otherwise −(SW as decimal), e.g. 6A82 → −27266.
 */
import { ErrorCode, SsCardError, isSsCardError } from '../../core/errors.js';
import type { BilingualText } from '../../core/text.js';
import type { ServiceResult } from '../../state/results.js';
import type { ServiceKind } from '../../state/roles.js';
import type { CardBasicInfo } from '../terminal/port.js';

export const VENDOR_FUNCTIONS = ['iReadCardBas', 'iVerifyPIN', 'iChangePIN', 'iReloadPIN', 'iUnblockPIN'] as const;
export type VendorFunction = (typeof VENDOR_FUNCTIONS)[number];

/** The card service each PIN function runs. */
export const VENDOR_SERVICE: Readonly<Record<Exclude<VendorFunction, 'iReadCardBas'>, ServiceKind>> = {
  iVerifyPIN: 'verify',
  iChangePIN: 'change',
  iReloadPIN: 'reset',
  iUnblockPIN: 'unblock',
};

/** Functions whose vendor signature carries `cardInfo` (卡识别码|卡号|), checked against the card. */
export const NEEDS_CARD_INFO: readonly VendorFunction[] = ['iReloadPIN', 'iUnblockPIN'];

/** The return codes we use, with what they mean (docs/api.md lists the same). */
export const VENDOR_CODES = {
  ok: 0,
  cardType: -1,
  noCard: -2,
  notPowered: -3,
  noResponse: -4,
  readerNotFound: -11,
  readerError: -12,
  badCardInfo: -20,
  internalAuth: -21,
  dataError: -22,
  dataState: -23,
  keyLevel: -24,
  padNotFound: -31,
  padTimeout: -32,
  padCancelled: -33,
  padMismatch: -34,
  padLength: -35,
  padError: -36,
  wrongPin: -51,
  pinLocked: -52,
  noPsam: -2201,
  algorithm: -2202,
} as const;

const C = VENDOR_CODES;

/** iType: 1 contact, 2 contactless, 3/4 auto. The terminal has a contact reader only: 2 (and anything else) → −1. */
export function iTypeCode(iType: number): number {
  return iType === 1 || iType === 3 || iType === 4 ? C.ok : C.cardType;
}

export const ITYPE_TEXT: BilingualText = {
  zh: '卡类型不受支持：本终端只有接触式读卡器，iType 请用 1（接触）或 3/4（自动）',
  en: 'card type not supported: this terminal has a contact reader only; use iType 1 (contact) or 3/4 (auto)',
};

/** −(SW as decimal): 6A82 → −27266. */
export function swCode(sw: number): number {
  return -sw;
}

function swOf(context: Readonly<Record<string, unknown>> | undefined): number | undefined {
  const v = context?.['sw'];
  if (typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 0xffff) return v;
  if (typeof v === 'string' && /^[0-9A-Fa-f]{4}$/.test(v)) return parseInt(v, 16);
  return undefined;
}

/** Error → return code; table in docs/api.md ("SSCardDriver return codes"). */
const ERROR_CODES: Readonly<Partial<Record<ErrorCode, number>>> = {
  [ErrorCode.Flow_NoCard]: C.noCard,
  [ErrorCode.Pcsc_NoCard]: C.noCard,
  [ErrorCode.Pcsc_CardRemoved]: C.noCard,
  [ErrorCode.Pcsc_NotConnected]: C.notPowered,
  [ErrorCode.Pcsc_Unresponsive]: C.noResponse,
  [ErrorCode.Pcsc_Timeout]: C.noResponse,
  [ErrorCode.Pcsc_ServiceUnavailable]: C.readerNotFound,
  [ErrorCode.Pcsc_ReaderNotFound]: C.readerNotFound,
  [ErrorCode.Pcsc_ReaderRemoved]: C.readerNotFound,
  [ErrorCode.Pcsc_SharingViolation]: C.readerError,
  [ErrorCode.Pcsc_TransmitFailed]: C.readerError,
  [ErrorCode.Pcsc_ControlFailed]: C.readerError,
  [ErrorCode.Flow_Busy]: C.readerError,
  [ErrorCode.Api_SequenceError]: C.readerError,
  [ErrorCode.Card_NotSsse]: C.cardType,
  [ErrorCode.Input_BadAtr]: C.cardType,
  [ErrorCode.Card_NotAuthentic]: C.internalAuth,
  [ErrorCode.Card_WrongPin]: C.wrongPin,
  [ErrorCode.Card_PinBlocked]: C.pinLocked,
  [ErrorCode.Input_BadResponse]: C.dataError,
  [ErrorCode.Input_BadRecord]: C.dataError,
  [ErrorCode.Input_BadTlv]: C.dataError,
  [ErrorCode.Crypto_BadData]: C.dataState,
  [ErrorCode.Psam_Missing]: C.noPsam,
  [ErrorCode.Psam_KeyNotFound]: C.keyLevel,
  [ErrorCode.Crypto_BadKey]: C.keyLevel,
  [ErrorCode.Flow_Refused]: C.keyLevel,
  [ErrorCode.Auth_BadCredentials]: C.keyLevel,
  [ErrorCode.Auth_Locked]: C.keyLevel,
  [ErrorCode.Auth_SessionExpired]: C.keyLevel,
  [ErrorCode.Auth_InvalidToken]: C.keyLevel,
  [ErrorCode.Auth_Required]: C.keyLevel,
  [ErrorCode.PinPad_NotFound]: C.padNotFound,
  [ErrorCode.PinPad_Disconnected]: C.padNotFound,
  [ErrorCode.PinPad_Timeout]: C.padTimeout,
  [ErrorCode.Flow_Timeout]: C.padTimeout,
  [ErrorCode.PinPad_Cancelled]: C.padCancelled,
  [ErrorCode.PinPad_Mismatch]: C.padMismatch,
  [ErrorCode.PinPad_BadLength]: C.padLength,
  [ErrorCode.Input_BadPinFormat]: C.padLength,
  [ErrorCode.PinPad_Busy]: C.padError,
  [ErrorCode.PinPad_Unsupported]: C.padError,
  [ErrorCode.PinPad_Protocol]: C.padError,
  [ErrorCode.PinPad_DeviceError]: C.padError,
  [ErrorCode.Flow_PinNotEntered]: C.padError,
  [ErrorCode.Flow_OutcomeUnknown]: C.noResponse,
};

/**
 * The return code of an error the terminal threw. Card and PSAM status errors with an `sw` in
 * their context → −SW (unless the SW has a named code: 63Cx wrong PIN, 6983 locked); anything
 * unknown (a bug, the journal…) → −12 (reader error).
 */
export function vendorCodeOfError(e: unknown): number {
  if (!isSsCardError(e)) return C.readerError;
  const named = ERROR_CODES[e.code];
  if (named !== undefined) return named;
  const sw = swOf(e.context);
  if ((e.code === ErrorCode.Card_Status || e.code === ErrorCode.Psam_Status || e.code === ErrorCode.Flow_NotSent) && sw !== undefined) return swCode(sw);
  if (e.code === ErrorCode.Psam_Status) return C.keyLevel;
  if (e.code === ErrorCode.Flow_NotSent) return C.noResponse;
  if (e.code === ErrorCode.Card_Status) return C.dataState;
  return C.readerError;
}

/**
 * Result code → return code; `{ sw }` means −SW when the card answered one, else that fallback.
 * Keyed by string, not ResultCode, so a result code added later still maps (by its outcome, see
 * {@link vendorCodeOfResult}) instead of breaking the build.
 */
const RESULT_CODES: Readonly<Record<string, number | { sw: number }>> = {
  'verify.ok': C.ok,
  'change.ok': C.ok,
  'reset.ok': C.ok,
  'unblock.ok': C.ok,
  'activate.ok': C.ok,
  'verify.wrongPin': C.wrongPin,
  'change.wrongPin': C.wrongPin,
  'verify.locked': C.pinLocked,
  'card.locked': C.pinLocked,
  'verify.belowFloor': C.keyLevel,
  'operator.required': C.keyLevel,
  'role.notAllowed': C.keyLevel,
  'materials.missing': C.keyLevel,
  'identity.mismatch': C.badCardInfo,
  'identity.expired': C.badCardInfo,
  'pin.mismatch': C.padMismatch,
  'pin.policy': C.padLength,
  'pin.timeout': C.padTimeout,
  'session.timeout': C.padTimeout,
  'pin.entryFailed': C.padError,
  'pinPad.unsupported': C.padError,
  'pinPad.policyUnchecked': C.padError,
  cancelled: C.padCancelled,
  'card.removed': C.noCard,
  'card.unreadable': C.dataError,
  'card.error': { sw: C.dataState },
  'card.notActivated': { sw: C.dataState },
  'card.otherProvince': { sw: C.dataState },
  'card.alreadyActive': { sw: C.dataState },
  'card.notBlocked': { sw: C.dataState },
  'card.appLocked': { sw: C.dataState },
  'card.expired': { sw: C.dataState },
  'card.refused': { sw: C.dataState },
  'activate.pinNotSet': { sw: C.dataState },
  'operation.notSent': { sw: C.noResponse },
  'operation.unknown': C.noResponse,
};

/** Codes not in the table, by outcome. */
const BY_OUTCOME: Readonly<Record<ServiceResult['outcome'], number | { sw: number }>> = {
  ok: C.ok,
  failed: { sw: C.dataState },
  refused: C.keyLevel,
  cancelled: C.padCancelled,
  unknown: C.noResponse,
};

export function vendorCodeOfResult(r: Pick<ServiceResult, 'code' | 'sw' | 'outcome'>): number {
  const m = RESULT_CODES[r.code] ?? BY_OUTCOME[r.outcome] ?? C.readerError;
  if (typeof m === 'number') return m;
  return r.sw !== undefined && r.sw !== 0x9000 && r.sw > 0 && r.sw <= 0xffff ? swCode(r.sw) : m.sw;
}

/** The text body of a PIN function: the result and the next step, zh-CN then en. */
export function resultText(r: Pick<ServiceResult, 'zh' | 'en' | 'nextStep'>): string {
  return `${r.zh}${r.nextStep.zh} / ${r.en} ${r.nextStep.en}`;
}

const FIELD_SAFE = /^[^|\r\n]*$/;

/**
 * iReadCardBas output: 区划|社会保障号码|卡号|卡识别码|姓名|ATR historical bytes|规范版本|发卡日期|
 * 有效期|终端机编号|终端设备号| (trailing `|`). A field holding `|` or a line break cannot be
 * written in this format: Input_BadRecord (→ −22).
 */
export function formatCardBas(info: CardBasicInfo): string {
  const fields: [string, string][] = [
    ['region', info.region],
    ['socialSecurityNumber', info.socialSecurityNumber],
    ['cardNumber', info.cardNumber],
    ['cardId', info.cardId],
    ['name', info.name],
    ['atrHistorical', info.atrHistorical],
    ['specVersion', info.specVersion],
    ['issueDate', info.issueDate],
    ['expiryDate', info.expiryDate],
    ['terminalId', info.terminalId],
    ['deviceId', info.deviceId],
  ];
  for (const [field, v] of fields) {
    if (!FIELD_SAFE.test(v)) {
      throw new SsCardError(
        ErrorCode.Input_BadRecord,
        { zh: `卡片数据字段 ${field} 含有分隔符“|”或换行，无法按 iReadCardBas 格式输出`, en: `card data field ${field} holds a "|" or a line break and cannot be written in the iReadCardBas format` },
        { field },
      );
    }
  }
  return fields.map(([, v]) => `${v}|`).join('');
}

export interface CardInfo {
  readonly cardId: string;
  readonly cardNumber: string;
}

/** `卡识别码|卡号|` (trailing `|` optional) → its parts; null when it is not that. */
export function parseCardInfo(s: string): CardInfo | null {
  const m = /^([0-9A-Fa-f]{32})\|([0-9A-Za-z]{1,20})\|?$/.exec(s.trim());
  return m === null ? null : { cardId: m[1]!.toUpperCase(), cardNumber: m[2]!.toUpperCase() };
}

/** Whether the caller's cardInfo names the card in the reader (−20 otherwise). */
export function cardInfoMatches(given: CardInfo, card: Pick<CardBasicInfo, 'cardId' | 'cardNumber'>): boolean {
  return given.cardId === card.cardId.toUpperCase() && given.cardNumber === card.cardNumber.toUpperCase();
}

export const CARD_INFO_TEXT: BilingualText = {
  zh: '卡识别码或卡号与读卡器中的卡不一致（cardInfo 应为「卡识别码|卡号|」）：请确认插入的是要办理的卡',
  en: 'the card identification code or card number does not match the card in the reader (cardInfo must be "cardId|cardNumber|"): check that the right card is inserted',
};
