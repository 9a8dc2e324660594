/**
 * The one error class of the house, modelled on zwave-js's ZWaveError: a numeric code from a
 * ranged enum, a bilingual message (zh-CN first, en second) that says what went wrong and what
 * to do next, and optional context for programs. The code is part of the message so a person
 * can quote it to a technician.
 *
 * Never put a PIN, PIN block or key into `message` or `context`.
 */

import { oneLine, type BilingualText } from './text.js';

export enum ErrorCode {
  // 100-199: bad input (hex, APDU, TLV, ATR, records, PIN format, options)
  Input_BadHex = 100,
  Input_BadApdu = 101,
  Input_BadResponse = 102,
  Input_BadTlv = 103,
  Input_BadAtr = 104,
  Input_BadRecord = 105,
  Input_BadPinFormat = 106,
  Input_BadOption = 107,
  Input_BadLength = 108,

  // 200-299: PC/SC and transport
  Pcsc_ServiceUnavailable = 200,
  Pcsc_ReaderNotFound = 201,
  Pcsc_NoCard = 202,
  Pcsc_CardRemoved = 203,
  Pcsc_ReaderRemoved = 204,
  Pcsc_Timeout = 205,
  Pcsc_SharingViolation = 206,
  Pcsc_TransmitFailed = 207,
  Pcsc_NotConnected = 208,
  Pcsc_ControlFailed = 209,
  Pcsc_Unresponsive = 210,

  // 300-399: the card answered with an error status word
  Card_Status = 300,
  Card_NotSsse = 301,
  Card_PinBlocked = 302,
  Card_WrongPin = 303,
  Card_NotAuthentic = 304,

  // 400-499: crypto, keys and the PSAM
  Crypto_BadKey = 400,
  Crypto_BadData = 401,
  Psam_Missing = 410,
  Psam_Status = 411,
  Psam_KeyNotFound = 412,

  // 500-599: simulator, profiles and configuration
  Sim_BadProfile = 500,
  Sim_Bridge = 501,
  Config_Invalid = 510,

  // 600-649: the offline transaction journal (daemon/journal)
  Journal_Corrupt = 600,
  Journal_OpenFailed = 601,
  Journal_KeyFile = 602,
  Journal_KeyMismatch = 603,
  Journal_InvalidRecord = 604,
  Journal_NotFound = 605,
  Journal_BadTransition = 606,
  Journal_CardHotlisted = 607,
  Journal_SchemaTooNew = 608,
  Journal_Busy = 609,
  Journal_WriteFailed = 610,

  // 650-699: sync to the provincial platform (daemon/sync) and the reference platform server
  Sync_Config = 650,
  Sync_Unreachable = 651,
  Sync_Timeout = 652,
  Sync_HttpStatus = 653,
  Sync_BadResponse = 654,
  Sync_Refused = 655,
  Sync_Stopped = 656,
  Sync_BadSignature = 657,
  Central_Failed = 690,

  // 700-749: PIN pads (PC/SC Part 10, serial EPP, USB HID, touchscreen)
  PinPad_NotFound = 700,
  PinPad_Disconnected = 701,
  PinPad_Timeout = 702,
  PinPad_Cancelled = 703,
  PinPad_Mismatch = 704,
  PinPad_BadLength = 705,
  PinPad_Busy = 706,
  PinPad_Unsupported = 707,
  PinPad_Protocol = 708,
  PinPad_DeviceError = 709,

  // 750-799: resident ID card reader (ID SAM module)
  IdCard_ReaderNotFound = 750,
  IdCard_Disconnected = 751,
  IdCard_Timeout = 752,
  IdCard_Protocol = 753,
  IdCard_NoCard = 754,
  IdCard_CardRemoved = 755,
  IdCard_ReaderError = 756,
  IdCard_BadData = 757,
  IdCard_Cancelled = 758,
  /** The ID SAM read a document whose type flag this terminal does not know (drivers/idcard/info.ts). */
  IdCard_UnsupportedDocument = 759,

  // 800-849: card service flows (state/ machines, drivers/card/ssse-operations.ts, daemon/flows)
  /** A state-changing command was sent but its answer was lost (transport error, card removed): the card may have changed. */
  Flow_OutcomeUnknown = 800,
  /** A step before the state-changing command failed: the command was not sent, the card is unchanged. */
  Flow_NotSent = 801,
  /** The PIN the flow needs was not entered (or was already used and wiped). */
  Flow_PinNotEntered = 802,
  /** The flow refused before touching the card (role, materials, tries-left floor, card state). */
  Flow_Refused = 803,
  /** The holder did not act in time (PIN entry or inactivity timeout). */
  Flow_Timeout = 804,
  /** A card operation is already running on this reader (one at a time). */
  Flow_Busy = 805,
  /** No card in the user slot. */
  Flow_NoCard = 806,

  // 850-879: the daemon's local API and its operators (daemon/api, daemon/auth)
  Api_InvalidMessage = 850,
  Api_UnsupportedCommand = 851,
  Api_SequenceError = 852,
  Api_FrameTooLarge = 853,
  Auth_BadCredentials = 860,
  Auth_Locked = 861,
  Auth_SessionExpired = 862,
  Auth_InvalidToken = 863,
  Auth_Required = 864,
  /** Too many logins waiting for the key derivation: refused at once, try again shortly. */
  Auth_Busy = 865,

  // 900: a bug in this program
  Internal = 900,
}


export class SsCardError extends Error {
  public override readonly name = 'SsCardError';

  public constructor(
    public readonly code: ErrorCode,
    public readonly text: BilingualText,
    /** Machine-readable details; never PIN or key material. */
    public readonly context?: Readonly<Record<string, unknown>>,
    options?: { cause?: unknown },
  ) {
    super(`${oneLine(text)} (E${code})`, options);
  }
}

/** Type guard; with `code`, also narrows to that code. */
export function isSsCardError(e: unknown, code?: ErrorCode): e is SsCardError {
  return e instanceof SsCardError && (code === undefined || e.code === code);
}

/** Shorthand used all over the house. */
export function fail(code: ErrorCode, zh: string, en: string, context?: Record<string, unknown>, cause?: unknown): never {
  throw new SsCardError(code, { zh, en }, context, cause === undefined ? undefined : { cause });
}
