/**
 * The reader vendors' SSCardDriver interface (docs/domain.md §4) over HTTP: the request fields, the
 * iReadCardBas output string, and the `long` return codes, as pure functions. The HTTP routes
 * (http-routes.ts) only glue these to the terminal. The tables here are the ones in docs/api.md.
 *
 * Return codes: the de-facto table integrators code against (docs/domain.md §4), one meaning per
 * code as that table gives it — {@link VENDOR_CODES} — and one mapping from the terminal's errors
 * and results to them, table-tested in vendor.test.ts and listed in docs/api.md.
 */
import { ErrorCode, SsCardError, isSsCardError } from '../../core/errors.js';
import type { BilingualText } from '../../core/text.js';
import type { ServiceResult } from '../../state/results.js';
import type { ServiceKind } from '../../state/roles.js';
import { decodeField, encodeField, fieldSpec, type EfId } from '../../apdu/records.js';
import type { CardBasicInfo, HsmChallenge } from '../terminal/port.js';

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

/**
 * The return codes, named by what the integrators' table says they mean (docs/domain.md §4). −5
 * (library not loaded), −15 (checksum) and −2204 (no encryption machine needed) belong to
 * transports this terminal does not have; no terminal error means them.
 */
export const VENDOR_CODES = {
  ok: 0,
  /** −1 card type wrong. */
  cardType: -1,
  /** −2 no card. */
  noCard: -2,
  /** −3 card present, not powered. */
  notPowered: -3,
  /** −4 card does not answer. */
  noResponse: -4,
  /** −11 reader connection error (the card reader, the PIN pad, the ID reader). */
  readerConnection: -11,
  /** −12 no connection established (here: the reader is held by another call). */
  notConnected: -12,
  /** −13 command not supported (here: not offered by this terminal, or the PIN pad cannot run it). */
  notSupported: -13,
  /** −14 command parameter error. */
  badParameter: -14,
  /** −20 卡识别码 malformed (cardInfo missing or not 卡识别码|卡号|). */
  badCardId: -20,
  /** −21 internal authentication failed (card not genuine). */
  notAuthentic: -21,
  /** −22 data given does not match the card. */
  dataMismatch: -22,
  /** −23 data given is invalid. */
  dataInvalid: -23,
  /** −24 PSAM key level insufficient (here also: not authorised — operator, agent). */
  keyLevel: -24,
  /** −25 the card's internal authentication disagrees with the encryption machine's (HSM Step2). */
  hsmMismatch: -25,
  /** −31 holder cancelled PIN entry. */
  holderCancelled: -31,
  /** −32 PIN entry timed out. */
  entryTimeout: -32,
  /** −33 wrong PIN length entered. */
  pinLength: -33,
  /** −34 the two PIN entries differ. */
  pinsDiffer: -34,
  /** −35 initial PIN cannot be used for transactions. */
  initialPin: -35,
  /** −36 cannot change to the initial PIN (here: the new PIN is refused by the PIN policy). */
  newPinRefused: -36,
  /** −51 PIN wrong, tries left per the card (63Cx). */
  wrongPin: -51,
  /** −52 PIN locked. */
  pinLocked: -52,
  /** −41 computation data (the encryption machine's answer) has illegal characters. */
  computeChars: -41,
  /** −42 computation data has the wrong length. */
  computeLength: -42,
  /** −2201 no PSAM. */
  noPsam: -2201,
  /** −2202 PSAM lacks the algorithm (SSF33/SM4). */
  algorithm: -2202,
  /** −2203 PSAM lacks the RKSSSE key (3.0 basic-data read). */
  noReadKey: -2203,
  /** −999 unknown error. */
  unknown: -999,
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
  [ErrorCode.Flow_OutcomeUnknown]: C.noResponse,
  [ErrorCode.Pcsc_ServiceUnavailable]: C.readerConnection,
  [ErrorCode.Pcsc_ReaderNotFound]: C.readerConnection,
  [ErrorCode.Pcsc_ReaderRemoved]: C.readerConnection,
  [ErrorCode.Pcsc_TransmitFailed]: C.readerConnection,
  [ErrorCode.Pcsc_ControlFailed]: C.readerConnection,
  [ErrorCode.PinPad_NotFound]: C.readerConnection,
  [ErrorCode.PinPad_Disconnected]: C.readerConnection,
  [ErrorCode.PinPad_Protocol]: C.readerConnection,
  [ErrorCode.PinPad_DeviceError]: C.readerConnection,
  [ErrorCode.Pcsc_SharingViolation]: C.notConnected,
  [ErrorCode.Flow_Busy]: C.notConnected,
  [ErrorCode.PinPad_Busy]: C.notConnected,
  [ErrorCode.Api_SequenceError]: C.notConnected,
  [ErrorCode.PinPad_Unsupported]: C.notSupported,
  [ErrorCode.Input_BadOption]: C.badParameter,
  [ErrorCode.Card_NotSsse]: C.cardType,
  [ErrorCode.Input_BadAtr]: C.cardType,
  // The card's data is not what a social security card holds: the card is of the wrong type for this.
  [ErrorCode.Input_BadResponse]: C.cardType,
  [ErrorCode.Input_BadRecord]: C.cardType,
  [ErrorCode.Input_BadTlv]: C.cardType,
  [ErrorCode.Card_NotAuthentic]: C.notAuthentic,
  [ErrorCode.Card_WrongPin]: C.wrongPin,
  [ErrorCode.Card_PinBlocked]: C.pinLocked,
  [ErrorCode.Crypto_BadData]: C.dataInvalid,
  [ErrorCode.Psam_Missing]: C.noPsam,
  [ErrorCode.Psam_KeyNotFound]: C.keyLevel,
  [ErrorCode.Crypto_BadKey]: C.keyLevel,
  [ErrorCode.Flow_Refused]: C.keyLevel,
  [ErrorCode.Auth_BadCredentials]: C.keyLevel,
  [ErrorCode.Auth_Locked]: C.keyLevel,
  [ErrorCode.Auth_SessionExpired]: C.keyLevel,
  [ErrorCode.Auth_InvalidToken]: C.keyLevel,
  [ErrorCode.Auth_Required]: C.keyLevel,
  [ErrorCode.PinPad_Timeout]: C.entryTimeout,
  [ErrorCode.Flow_Timeout]: C.entryTimeout,
  [ErrorCode.PinPad_Cancelled]: C.holderCancelled,
  [ErrorCode.PinPad_Mismatch]: C.pinsDiffer,
  [ErrorCode.PinPad_BadLength]: C.pinLength,
  [ErrorCode.Input_BadPinFormat]: C.pinLength,
  [ErrorCode.Flow_PinNotEntered]: C.readerConnection,
};

/**
 * The return code of an error the terminal threw. Card and PSAM status errors with an `sw` in
 * their context → −SW (unless the SW has a named code: 63Cx wrong PIN, 6983 locked); anything
 * unknown (a bug, the journal…) → −999 (unknown error).
 */
export function vendorCodeOfError(e: unknown): number {
  if (!isSsCardError(e)) return C.unknown;
  if (e.code === ErrorCode.Card_NotAuthentic && e.context?.['hsm'] !== undefined) return C.hsmMismatch;
  const named = ERROR_CODES[e.code];
  if (named !== undefined) return named;
  const sw = swOf(e.context);
  if ((e.code === ErrorCode.Card_Status || e.code === ErrorCode.Psam_Status || e.code === ErrorCode.Flow_NotSent) && sw !== undefined) return swCode(sw);
  if (e.code === ErrorCode.Psam_Status) return C.keyLevel;
  if (e.code === ErrorCode.Flow_NotSent) return C.noResponse;
  if (e.code === ErrorCode.Card_Status) return C.dataInvalid;
  return C.unknown;
}

/**
 * Result code → return code; `{ sw }` means −SW when the card answered one, else that fallback.
 * Keyed by string, not ResultCode, so a result code added later still maps (by its outcome, see
 * {@link vendorCodeOfResult}) instead of breaking the build.
 */
export const RESULT_CODE_TABLE: Readonly<Record<string, number | { sw: number }>> = {
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
  'agent.notAllowed': C.keyLevel,
  'role.notAllowed': C.notSupported,
  'pinPad.unsupported': C.notSupported,
  'pinPad.policyUnchecked': C.notSupported,
  'materials.missing': C.dataInvalid,
  'identity.expired': C.dataInvalid,
  'identity.unsupported': C.dataInvalid,
  'agent.isHolder': C.dataInvalid,
  'identity.mismatch': C.dataMismatch,
  'idReader.fault': C.readerConnection,
  'pin.mismatch': C.pinsDiffer,
  'pin.policy': C.newPinRefused,
  'pin.timeout': C.entryTimeout,
  'session.timeout': C.entryTimeout,
  'pin.entryFailed': C.readerConnection,
  cancelled: C.holderCancelled,
  'card.removed': C.noCard,
  'card.unreadable': C.cardType,
  'psam.unavailable': C.noPsam,
  // The card's state does not allow the service: its SW where it gave one, else −23 (no row of
  // the integrators' table is about card states).
  'card.error': { sw: C.dataInvalid },
  'card.notActivated': { sw: C.dataInvalid },
  'card.otherProvince': { sw: C.dataInvalid },
  'card.alreadyActive': { sw: C.dataInvalid },
  'card.notBlocked': { sw: C.dataInvalid },
  'card.appLocked': { sw: C.dataInvalid },
  'card.expired': { sw: C.dataInvalid },
  'card.refused': { sw: C.dataInvalid },
  'activate.pinNotSet': { sw: C.dataInvalid },
  'operation.notSent': { sw: C.noResponse },
  'operation.unknown': C.noResponse,
};

/** Codes not in the table, by outcome. */
const BY_OUTCOME: Readonly<Record<ServiceResult['outcome'], number | { sw: number }>> = {
  ok: C.ok,
  failed: { sw: C.dataInvalid },
  refused: C.keyLevel,
  cancelled: C.holderCancelled,
  unknown: C.noResponse,
};

export function vendorCodeOfResult(r: Pick<ServiceResult, 'code' | 'sw' | 'outcome'>): number {
  const m = RESULT_CODE_TABLE[r.code] ?? BY_OUTCOME[r.outcome] ?? C.unknown;
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

/**
 * Functions of the vendors' library (docs/domain.md §4) this terminal does not provide: the
 * encryption-machine forms of the file write and of reload/unblock.
 * Each answers −13 (command not supported) with {@link notProvidedText}; docs/api.md says why.
 */
export const VENDOR_NOT_PROVIDED = [
  'iWriteCard_HSM_Step1',
  'iWriteCard_HSM_Step2',
  'iReloadPIN_HSM_Step1',
  'iReloadPIN_HSM_Step2',
  'iReloadPIN_HSM_Step3',
  'iUnblockPIN_HSM_Step1',
  'iUnblockPIN_HSM_Step2',
  'iUnblockPIN_HSM_Step3',
] as const;

export function notProvidedText(fn: string): BilingualText {
  return { zh: `本终端不提供 ${fn}（docs/api.md 列出了提供的函数）`, en: `this terminal does not provide ${fn} (docs/api.md lists the functions it does)` };
}

type Refusal = { readonly ok: false; readonly code: number; readonly text: BilingualText };

/** The files iReadCard reads: EF05 (card issuer) and EF06 (holder) of the SSSE application. */
const READABLE_EF: Readonly<Record<string, EfId>> = { EF05: 0xef05, EF06: 0xef06 };
const MAX_FILES = 4;
const MAX_TAGS = 16;

function addressError(code: number, zh: string, en: string): Refusal {
  return { ok: false, code, text: { zh: `文件地址 ${zh}。格式：「DDF1EF06|08|09|$」（目录+文件，再列记录标签，以 $ 结束）`, en: `file address: ${en}. Form: "DDF1EF06|08|09|$" (directory and file, the record tags, then $)` } };
}

/**
 * iReadCard's file address (docs/domain.md §4): one or more groups `<DF><EF>|<tag>|…|$`, e.g.
 * `3F00EF06|08|09|$` or `DDF1EF05|01|07|$DDF1EF06|08|$`. The directory is `DDF1` (the SSSE
 * application) or `3F00` as integrators also write it (both mean EF05/EF06 of the application);
 * the file EF05 or EF06; each tag one of apdu/records.ts's for that file. A syntax error → −14
 * (parameter), a file or record this terminal does not read → −13.
 */
export function parseFileAddress(s: string): { readonly ok: true; readonly files: readonly { readonly ef: EfId; readonly tags: readonly number[] }[] } | Refusal {
  const text = s.trim().toUpperCase();
  if (text === '') return addressError(C.badParameter, '为空', 'is empty');
  if (!text.endsWith('$')) return addressError(C.badParameter, '须以 $ 结束', 'must end with $');
  const groups = text.slice(0, -1).split('$');
  if (groups.length > MAX_FILES) return addressError(C.badParameter, `最多 ${MAX_FILES} 个文件`, `at most ${MAX_FILES} files`);
  const files: { ef: EfId; tags: number[] }[] = [];
  for (const g of groups) {
    const parts = g.split('|');
    const head = /^(3F00|DDF1)(EF[0-9A-F]{2})$/.exec(parts[0] ?? '');
    if (head === null) return addressError(C.badParameter, `“${(parts[0] ?? '').slice(0, 16)}” 不是目录+文件（如 DDF1EF06）`, `"${(parts[0] ?? '').slice(0, 16)}" is not a directory and file (e.g. DDF1EF06)`);
    const ef = READABLE_EF[head[2]!];
    if (ef === undefined) return { ok: false, code: C.notSupported, text: { zh: `本终端只读取 EF05（发卡信息）和 EF06（持卡人信息），不读 ${head[2]!}`, en: `this terminal reads EF05 (card issuer) and EF06 (holder) only, not ${head[2]!}` } };
    if (parts[parts.length - 1] !== '') return addressError(C.badParameter, '每个记录标签后须有“|”', 'each record tag must be followed by "|"');
    const tags = parts.slice(1, -1);
    if (tags.length === 0) return addressError(C.badParameter, `${head[2]!} 后没有记录标签`, `no record tag after ${head[2]!}`);
    if (tags.length > MAX_TAGS) return addressError(C.badParameter, `每个文件最多 ${MAX_TAGS} 个记录`, `at most ${MAX_TAGS} records per file`);
    const numbers: number[] = [];
    for (const t of tags) {
      if (!/^[0-9A-F]{2}$/.test(t)) return addressError(C.badParameter, `“${t.slice(0, 8)}” 不是两位十六进制的记录标签`, `"${t.slice(0, 8)}" is not a two-digit hex record tag`);
      const tag = parseInt(t, 16);
      if (fieldSpec(ef, tag) === undefined) return { ok: false, code: C.notSupported, text: { zh: `${head[2]!} 中没有本终端能读取的记录 ${t}`, en: `${head[2]!} has no record ${t} this terminal reads` } };
      numbers.push(tag);
    }
    files.push({ ef, tags: numbers });
  }
  return { ok: true, files };
}

/**
 * iReadCard's output: each record's value in the order asked, `|` after each (files one after
 * the other): text fields as text, numeric ones as digits (dates YYYYMMDD), binary ones (the
 * 卡识别码) as upper-case hex; a record the card lacks, or one that does not decode, is empty.
 */
export function formatRecords(files: readonly { readonly ef: EfId; readonly tags: readonly number[] }[], values: readonly (readonly (Buffer | undefined)[])[]): string {
  let out = '';
  files.forEach((f, i) => {
    f.tags.forEach((tag, j) => {
      const v = values[i]?.[j];
      let text = '';
      if (v !== undefined) {
        try {
          text = decodeField(tag, v);
        } catch {
          text = '';
        }
      }
      if (fieldSpec(f.ef, tag)?.format === 'date') text = text.replace(/-/g, '');
      out += `${FIELD_SAFE.test(text) ? text : ''}|`;
    });
  });
  return out;
}

/** 算法标识 of iReadCardBas_HSM_Step1: the algorithm byte of the card's FCI (`9F0C … 86 01 <alg>`: 01 3DES, 03 SM4; docs/domain.md §1). */
export const HSM_ALGORITHM_IDS: Readonly<Record<HsmChallenge['algorithm'], string>> = { '3DES': '01', SM4: '03' };

/**
 * iReadCardBas_HSM_Step1's output (docs/domain.md §4): 区划|ATR|算法标识|卡识别码|内认证过程因子|
 * 内认证原始数据|外认证过程因子|外认证原始数据|终端号| (hex upper-case, trailing `|`).
 */
export function formatHsmChallenge(c: HsmChallenge): string {
  return [c.region, c.atr, HSM_ALGORITHM_IDS[c.algorithm], c.cardId, c.internalFactor, c.internalData, c.externalFactor, c.externalData, c.terminalId].map((v) => `${v}|`).join('');
}

/**
 * The encryption machine's answer, iReadCardBas_HSM_Step2's pKey: `<内部认证结果>|<外部认证密文>|`,
 * each one block in hex (16 digits for 3DES, 32 for SM4). The machine's own message form is
 * UNCONFIRMED (docs/api.md): an integrator's glue puts its two results in this order. Characters
 * other than hex and `|` → −41, a wrong length or count → −42.
 */
export function parseHsmKey(s: string): { readonly ok: true; readonly internal: Buffer; readonly external: Buffer } | Refusal {
  const t = s.trim();
  if (!/^[0-9A-Fa-f|]*$/.test(t)) return { ok: false, code: C.computeChars, text: { zh: '加密机应答中有非法字符：只能是十六进制数字和“|”', en: "the encryption machine's answer has illegal characters: only hex digits and \"|\"" } };
  const parts = t.replace(/\|$/, '').split('|');
  const block = (p: string | undefined) => p !== undefined && (p.length === 16 || p.length === 32);
  if (parts.length !== 2 || !block(parts[0]) || !block(parts[1])) {
    return { ok: false, code: C.computeLength, text: { zh: '加密机应答的长度不对：应为「内部认证结果|外部认证密文|」，各 16 或 32 位十六进制', en: "the encryption machine's answer has the wrong length: it must be \"internal result|external cryptogram|\", each 16 or 32 hex digits" } };
  }
  return { ok: true, internal: Buffer.from(parts[0]!, 'hex'), external: Buffer.from(parts[1]!, 'hex') };
}

/**
 * iWriteCard's records: one file, EF06 (the holder's data; EF05 is the issuer's, written at
 * personalisation only), any of its records but the social security number (a new number is a new
 * card, not a correction); `writeData` their values in the order of the address, each followed by
 * `|` (the last `|` may be left out), as iReadCard gives them (dates YYYYMMDD). Each value is
 * encoded as the card holds it (apdu/records.ts encodeField): a value that does not fit its field
 * → −23 naming it; a count that differs → −14.
 */
export function parseWriteData(files: readonly { readonly ef: EfId; readonly tags: readonly number[] }[], writeData: string): { readonly ok: true; readonly writes: readonly { readonly tag: number; readonly value: Buffer }[] } | Refusal {
  if (files.length !== 1 || files[0]!.ef !== 0xef06) return { ok: false, code: C.notSupported, text: { zh: '写卡只改写 EF06（持卡人信息）的记录，一次一个文件', en: 'a write changes records of EF06 (the holder\'s data) only, one file at a time' } };
  const tags = files[0]!.tags;
  if (tags.includes(0x08)) return { ok: false, code: C.notSupported, text: { zh: '社会保障号码不能在终端改写：号码变更须补换新卡', en: 'the social security number is not rewritten at a terminal: a new number needs a new card' } };
  if (new Set(tags).size !== tags.length) return { ok: false, code: C.badParameter, text: { zh: '文件地址中有重复的记录标签', en: 'the file address names a record twice' } };
  const values = (writeData.endsWith('|') ? writeData.slice(0, -1) : writeData).split('|');
  if (values.length !== tags.length) {
    return { ok: false, code: C.badParameter, text: { zh: `写入数据有 ${values.length} 项，文件地址有 ${tags.length} 个记录：每个记录一项，以“|”分隔`, en: `the data has ${values.length} values for ${tags.length} records: one value per record, each followed by "|"` } };
  }
  const writes: { tag: number; value: Buffer }[] = [];
  for (const [i, tag] of tags.entries()) {
    const f = fieldSpec(0xef06, tag)!;
    let text = values[i]!;
    if (f.format === 'date') {
      if (!/^\d{8}$/.test(text)) return { ok: false, code: C.dataInvalid, text: { zh: `${f.zh}须为 8 位日期 YYYYMMDD`, en: `${f.en} must be a date YYYYMMDD` } };
      text = `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6)}`;
    }
    try {
      writes.push({ tag, value: encodeField(tag, text) });
    } catch (e) {
      return { ok: false, code: C.dataInvalid, text: isSsCardError(e) ? e.text : { zh: `${f.zh}的值无效`, en: `the value of ${f.en} is invalid` } };
    }
  }
  return { ok: true, writes };
}
