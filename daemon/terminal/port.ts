/**
 * The terminal as the local API sees it: one object that knows the readers,
 * the card session, the PIN pad, the ID reader, the journal and the sync worker. The API layer
 * (daemon/api/) talks only to this interface; daemon/terminal/terminal.ts implements it over the
 * real devices (or the simulator), and the API's unit tests implement it with a fake.
 *
 * Nothing that crosses this interface carries a PIN digit: PIN entry reports counts and masks,
 * results carry tries left and status words only.
 */
import type { HotlistCheck } from '../sync/status.js';
import type { AgentBasis, AgentRequest } from '../../state/agents.js';
import type { SsCardError } from '../../core/errors.js';
import type { ServiceResult } from '../../state/results.js';
import type { ServiceItem } from '../../state/catalog.js';
import type { Role, ServiceKind } from '../../state/roles.js';
import type { SessionEmitted } from '../../state/session.js';
import type { IdDocumentType } from '../../drivers/idcard/info.js';

export type { Role, ServiceKind, ServiceResult, SessionEmitted };

/** Which reader slot a reader serves. */
export type ReaderSlot = 'card' | 'psam' | 'other';

export interface ReaderStatus {
  readonly name: string;
  readonly slot: ReaderSlot;
  readonly cardPresent: boolean;
  /** Hex, when a card is present. */
  readonly atr: string | null;
  /** A card operation (service, ReadBasic, ChipIO) is running on this reader. */
  readonly busy: boolean;
}

export interface DeviceStatus {
  /** Configured kind ('none' when not configured). */
  readonly kind: string;
  readonly name: string | null;
  readonly connected: boolean;
  /** Why it is not usable, bilingual, when it is not. */
  readonly problem: { readonly zh: string; readonly en: string } | null;
}

export interface TerminalStatusReport {
  readonly terminalId: string;
  readonly deviceId: string;
  readonly role: Role;
  readonly services: readonly ServiceKind[];
  readonly version: string;
  readonly uptimeMs: number;
  readonly simulated: boolean;
  readonly pcsc: { readonly up: boolean; readonly problem: { readonly zh: string; readonly en: string } | null };
  readonly readers: readonly ReaderStatus[];
  /** The card in the user slot: identification without the holder's personal data. */
  readonly card: {
    readonly present: boolean;
    readonly identified: boolean;
    readonly cardNumberMasked: string | null;
    /** The holder's name masked (core/mask.ts: 王**), for a screen opened while the card is in. */
    readonly nameMasked: string | null;
    readonly specVersion: string | null;
    readonly triesLeft: number | null;
    readonly cardState: string | null;
    /** Past its 卡有效期 when identified (state/card-state.ts isCardExpired); null when not identified. */
    readonly expired: boolean | null;
    /** The session machine's state (e.g. "identified", "service.pinEntry"). */
    readonly session: string;
  };
  readonly psam: DeviceStatus & { readonly terminalNumber: string | null };
  readonly pinPad: DeviceStatus & { readonly secureEntry: boolean };
  readonly idReader: DeviceStatus;
  /**
   * The hall's service catalog (docs/config.md `catalog`): `demo` when it is the shipped demo (the
   * seeds' two offices, not this hall's), the province whose cards are served, the 实施主体 named.
   */
  readonly catalog: { readonly demo: boolean; readonly province: string | null; readonly implementers: readonly string[] };
  readonly journal: { readonly open: boolean; readonly pending: number; readonly unsynced: number; readonly rows: number };
  readonly sync: {
    readonly enabled: boolean;
    readonly lastSuccessAt: number | null;
    readonly lastError: { readonly code: number; readonly zh: string; readonly en: string } | null;
    readonly backlog: number;
    /** What the last hotlist pull's signature said (docs/sync-protocol.md): verified, unchecked, or refused (the list in force kept). */
    readonly hotlistCheck: HotlistCheck | null;
    /** This terminal's clock minus the platform's, from the last heartbeat (ms). */
    readonly clockOffsetMs: number | null;
    readonly lastHeartbeatAt: number | null;
  };
  /** The lost-card hotlist pulled from the platform (daemon/journal/hotlist.ts): its version, when it was applied, how many cards. */
  readonly hotlist: { readonly version: string | null; readonly updatedAt: number | null; readonly entries: number };
  /**
   * A financial window's bank-account activation requests (seed 000, docs/service-items/000_1700379f35991b5f.txt
   * lines 60–66; docs/sync-protocol.md "Push bank requests"): `pending` recorded and waiting for the platform's
   * acknowledgement, `sent` acknowledged; when the oldest pending one was recorded and how long ago (ms).
   */
  readonly bankRequests: { readonly pending: number; readonly sent: number; readonly oldestPendingAt: number | null; readonly oldestPendingAgeMs: number | null };
}

export interface Health {
  readonly live: true;
  readonly ready: boolean;
  /** Why not ready (empty when ready), bilingual. */
  readonly reasons: readonly { readonly component: string; readonly zh: string; readonly en: string }[];
}

/** The basic data of the card in the slot, as iReadCardBas returns it (docs/domain.md §4). */
export interface CardBasicInfo {
  /** 发卡地区行政区划代码 (6 digits). */
  readonly region: string;
  readonly socialSecurityNumber: string;
  readonly cardNumber: string;
  /** 卡识别码 (32 hex). */
  readonly cardId: string;
  readonly name: string;
  readonly sex: string;
  readonly nation: string;
  readonly birthDate: string;
  /** ATR historical bytes, hex. */
  readonly atrHistorical: string;
  readonly specVersion: string;
  /** YYYYMMDD */
  readonly issueDate: string;
  /** YYYYMMDD */
  readonly expiryDate: string;
  /** Past the expiry date on the terminal's local date (the card is valid through it); null when the card gave no date. */
  readonly expired: boolean | null;
  readonly terminalId: string;
  readonly deviceId: string;
  readonly triesLeft: number | null;
  readonly cardState: string;
  /** True / false when the PSAM checked it (INTERNAL AUTHENTICATE), null when it could not. */
  readonly authentic: boolean | null;
  /**
   * The fields above the card holds in a form the terminal could not decode (e.g. `["name"]`: not
   * GB18030); each of them is ''. Empty when every field decoded (docs/card-conventions.md "Names").
   */
  readonly undecodable: readonly string[];
  /** The card-make profile chosen for the card by its ATR (docs/config.md `cardProfiles`; 'default' when none matched). */
  readonly cardProfile: string;
}

/** iReadCard's read (daemon/terminal/vendor-reads.ts): the card's identification and the records asked for, raw. */
export interface RecordsRead {
  /** 卡识别码 (32 hex) and 卡号 of the card read, for the caller's cardInfo. */
  readonly cardId: string;
  readonly cardNumber: string;
  /** Per file asked, per record asked: its value, or undefined where the card has no such record. */
  readonly files: readonly (readonly (Buffer | undefined)[])[];
}

/** iWriteCard's request (daemon/terminal/vendor-writes.ts): the card it is for, the operator, the EF06 records to write. */
export interface RecordsWrite {
  readonly cardId: string;
  readonly cardNumber: string;
  readonly operatorId: string;
  /** Each record of EF06 by tag, its value encoded as the card holds it (apdu/records.ts encodeField). */
  readonly writes: readonly { readonly tag: number; readonly value: Buffer }[];
}

/** How iWriteCard ended. */
export type WriteOutcome =
  | { readonly status: 'written'; readonly records: number }
  /** Another card is in the reader than the request names: nothing read or written. */
  | { readonly status: 'mismatch' }
  /** The card refused an UPDATE RECORD (its SW); `records` were written before it. */
  | { readonly status: 'refused'; readonly sw: number; readonly records: number }
  /** Not sent: the card is unchanged by the record that failed. */
  | { readonly status: 'notSent'; readonly error: SsCardError }
  /** The transport failed during an UPDATE RECORD: the card may have taken it (journaled `unknown`). */
  | { readonly status: 'unknown'; readonly error: SsCardError };

/** iReadCard_HSM_Step2's read: as iReadCard's, with the file address Step1 was given. */
export interface HsmRecordsRead extends RecordsRead {
  readonly request: readonly { readonly ef: 0xef05 | 0xef06; readonly tags: readonly number[] }[];
}

/** iReadCardBas_HSM_Step1's data for the online encryption machine (docs/domain.md §4); hex strings. */
export interface HsmChallenge {
  readonly region: string;
  /** The whole ATR. */
  readonly atr: string;
  readonly algorithm: '3DES' | 'SM4';
  readonly cardId: string;
  /** 卡号 (not in Step1's output; for the caller's cardInfo). */
  readonly cardNumber: string;
  /** INTERNAL AUTHENTICATE's process factor and data (two GET CHALLENGEs of the card). */
  readonly internalFactor: string;
  readonly internalData: string;
  /** EXTERNAL AUTHENTICATE's diversification factor (from the 卡识别码) and the card's challenge. */
  readonly externalFactor: string;
  readonly externalData: string;
  /** The PSAM's terminal number, or the configured terminal id without one. */
  readonly terminalId: string;
}

/** What happens on the terminal, fanned out to every API client. No PIN digit in any. */
export type TerminalEvent =
  | { readonly type: 'mediaInserted'; readonly reader: string; readonly atr: string }
  | { readonly type: 'mediaRemoved'; readonly reader: string }
  | { readonly type: 'session'; readonly reader: string; readonly event: SessionEmitted }
  | { readonly type: 'device'; readonly component: 'pcsc' | 'pinPad' | 'idReader' | 'psam'; readonly connected: boolean; readonly problem: { readonly zh: string; readonly en: string } | null };

export interface ServiceRequest {
  readonly kind: ServiceKind;
  /** The operator authenticated for this request (counter roles); checked by the API layer. */
  readonly operatorId?: string;
  /**
   * Phone numbers the caller knows for the PIN policy (seed 000 line 323, docs/service-items/: no 6
   * consecutive digits of them).
   */
  readonly phones?: readonly string[];
  /** How long to wait for a card to be inserted and identified (ms); default 0: a card must be there. */
  readonly waitForCardMs?: number;
  /** The card reader (exact name or unique substring); default the card slot holding a card. */
  readonly reader?: string;
  /** Someone applies for the holder (a counter's request; state/agents.ts): the basis and the paper the clerk saw. */
  readonly agent?: AgentRequest;
}

export interface PinEntryRequest {
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly autoEnd?: boolean;
  readonly timeoutMs?: number;
}

export interface PinKeyReport {
  readonly key: 'digit' | 'enter' | 'backspace' | 'clear' | 'cancel';
  readonly count: number;
  readonly mask: string;
}

export type ChipPowerAction = 'cold' | 'warm' | 'off';

export interface Capabilities {
  readonly role: Role;
  readonly services: readonly ServiceKind[];
  /** Services that need an authenticated operator at this role. */
  readonly operatorRequired: readonly ServiceKind[];
  readonly pinPad: { readonly kind: string; readonly secureVerify: boolean; readonly secureChange: boolean; readonly plainEntry: boolean; readonly touchKeys: boolean };
  readonly idReader: boolean;
  readonly psam: boolean;
  readonly simulated: boolean;
  /** At a kiosk, PIN check and change are refused with this many tries left or fewer (docs/config.md `session.triesFloor`). */
  readonly triesFloor: number;
}

/** IdCard.Read (docs/api.md "Counter"): how long to wait for an ID card, which card slot's card to compare with. */
export interface IdCardReadRequest {
  /** 0 (default): read the ID card on the reader now; else wait up to this long (ms) for one. */
  readonly waitMs?: number;
  /** The card slot whose identified card the ID card is compared with (default the slot holding a card). */
  readonly reader?: string;
}

/**
 * The resident ID card on the ID reader, masked (core/mask.ts), compared by number with the card
 * identified in the slot (drivers/idcard/info.ts `matchesSocialSecurityNumber`, the comparison the
 * session's `readIdCard` makes). The full ID number never crosses this interface.
 */
export interface IdCardReport {
  /** An ID card was on the reader and was read. */
  readonly read: boolean;
  readonly idCard: {
    /** Which identity document was read (drivers/idcard/info.ts): the resident ID card, the residence permit, a foreigners' card. */
    readonly documentType: IdDocumentType;
    readonly nameMasked: string;
    readonly idNumberMasked: string;
    /** The number has its document's form and, where it has one, the right ISO 7064 check character. */
    readonly idNumberValid: boolean;
    /** YYYY-MM-DD */
    readonly validFrom: string;
    /** YYYY-MM-DD or 长期 */
    readonly validTo: string;
  } | null;
  /** The ID number equals the identified card's 社会保障号码; null when nothing to compare (no ID card read, no card identified). */
  readonly matchesCard: boolean | null;
  /** The card it was compared with, masked; null when no card is identified. */
  readonly cardNumberMasked: string | null;
  /**
   * Present when the ID card read is not valid on the terminal's date: its 有效期截止 (YYYY-MM-DD,
   * or what the card held), the same check a service makes (state/id-card-validity.ts; 受理标准
   * 材料真实有效, seed 001 line 59). Absent when valid or nothing was read.
   */
  readonly expiredOn?: string;
}

/** SSCard.Operations: which journal rows (newest first). */
export interface OperationsQuery {
  /** Only operations started at or after this time (ms since epoch). */
  readonly since?: number;
  /** At most this many (1…200). */
  readonly limit: number;
}

/** One journal row as a counter sees it: masked card number, no other identity. */
export interface OperationReport {
  readonly id: string;
  readonly kind: string;
  /** 业务办理项编码 */
  readonly itemCode: string;
  readonly state: 'pending' | 'completed' | 'interrupted';
  readonly outcome: 'ok' | 'failed' | 'refused' | 'cancelled' | 'unknown' | null;
  /** The journal's reason word (e.g. "wrong-pin", "identity-mismatch"), null when none. */
  readonly reason: string | null;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly cardNumberMasked: string | null;
  readonly syncState: 'unsynced' | 'synced' | 'rejected';
  readonly operatorId: string | null;
  /**
   * A financial window's activation: its bank-account request (docs/sync-protocol.md "Push bank
   * requests") `pending` (recorded, waiting for the platform's acknowledgement) or `sent`; null
   * for any other row.
   */
  readonly bankRequest: 'pending' | 'sent' | null;
  /** Someone applied for the holder (state/agents.ts): the basis and the masked identity the journal keeps; null when the holder applied. */
  readonly agent: { readonly basis: AgentBasis; readonly idNumberMasked: string; readonly nameMasked: string } | null;
}

export interface TerminalPort {
  readonly terminalId: string;
  readonly deviceId: string;
  readonly role: Role;

  health(): Health;
  status(): TerminalStatusReport;
  capabilities(): Capabilities;
  /** The service catalog the terminal's flows report under (state/catalog.ts): public facts for the screens. */
  catalog(): readonly ServiceItem[];

  /** Every terminal event, to every subscriber. Returns the unsubscribe function. */
  subscribe(listener: (event: TerminalEvent) => void): () => void;

  /**
   * Read the card's basic data (EF05/EF06, PIN tries, internal authentication when a PSAM is
   * there). Rejects SsCardError: Card_Absent (no card), Flow_Busy (a service is running), card errors.
   */
  readBasic(signal: AbortSignal, reader?: string): Promise<CardBasicInfo>;

  /**
   * iReadCard (docs/api.md): records of EF05/EF06 by tag, raw, EF06 authenticated with the PSAM
   * where the card needs it. Rejects as readBasic does.
   */
  readRecords(files: readonly { readonly ef: 0xef05 | 0xef06; readonly tags: readonly number[] }[], signal: AbortSignal, reader?: string): Promise<RecordsRead>;

  /**
   * iReadCardBas_HSM_Step1 (docs/domain.md §4): the card's data for the online encryption machine;
   * the card stays reserved for Step2 (at most 60 s). Needs no PSAM. With `files`, iReadCard_HSM_Step1:
   * Step2 is hsmReadRecordsFinish.
   */
  hsmReadBegin(signal: AbortSignal, reader?: string, files?: readonly { readonly ef: 0xef05 | 0xef06; readonly tags: readonly number[] }[]): Promise<HsmChallenge>;

  /**
   * iReadCardBas_HSM_Step2: the machine's INTERNAL AUTHENTICATE answer (compared with the card's:
   * Card_NotAuthentic with context `hsm` otherwise) and EXTERNAL AUTHENTICATE cryptogram → the
   * basic data. Without a Step1: Api_SequenceError.
   */
  hsmReadFinish(key: { readonly internal: Buffer; readonly external: Buffer }, signal: AbortSignal): Promise<CardBasicInfo>;

  /**
   * iWriteCard: EF06 records written at a counter (daemon/terminal/vendor-writes.ts): journaled
   * `pending` before the first UPDATE RECORD, never retried. Rejects as readBasic does, and
   * Psam_Missing without a PSAM, Flow_Refused without a journal.
   */
  writeRecords(w: RecordsWrite, signal: AbortSignal, reader?: string): Promise<WriteOutcome>;

  /** Abandon a Step1 (the card is freed at once). */
  hsmReadEnd(): void;

  /** iReadCard_HSM_Step2: as hsmReadFinish, for a Step1 given `files`: the records, raw (as readRecords). */
  hsmReadRecordsFinish(key: { readonly internal: Buffer; readonly external: Buffer }, signal: AbortSignal): Promise<HsmRecordsRead>;

  /**
   * Run one service of the card session machine to its result. `onEvent` gets the session's
   * events of this flow (PIN entry started, digit counts…). Aborting `signal` cancels the flow
   * (CANCEL: ignored once the state-changing command is on its way, which then runs to its end).
   * Resolves with the typed result (refusals, wrong PINs and unknown outcomes are results, not
   * rejections). Rejects SsCardError only when no flow could start: Card_Absent, Flow_Busy,
   * Flow_Refused (service not offered / operator missing — also results when the machine decides).
   */
  runService(request: ServiceRequest, onEvent: (event: SessionEmitted) => void, signal: AbortSignal): Promise<ServiceResult>;

  /** End the card session (the holder is done): a running flow is cancelled; the card must be taken out. */
  endSession(reader?: string): Promise<void>;

  /**
   * A plain PIN entry on the configured pad (XFS4IoT Keyboard.PinEntry): keys reported masked,
   * the PIN itself wiped at once. Resolves with the number of digits.
   */
  pinEntry(request: PinEntryRequest, onKey: (key: PinKeyReport) => void, signal: AbortSignal): Promise<{ readonly digits: number; readonly completion: 'enter' | 'auto' }>;

  /**
   * A key of the on-screen keypad, for a touchscreen (development) pad only; throws
   * SsCardError PinPad_Unsupported otherwise. Keys: '0'..'9', 'enter', 'backspace', 'clear', 'cancel'.
   * `reader` picks the slot's own keypad when each slot has one; default the keypad waiting for keys.
   * A key while no entry runs throws Api_SequenceError (never dropped silently).
   */
  touchKey(key: string, reader?: string): void;

  /** Technician: send one APDU to the card in `reader` (default the user slot). PIN-bearing commands are refused. */
  chipIo(apdu: Buffer, reader: string | undefined, signal: AbortSignal): Promise<Buffer>;

  /** Technician: power the card in `reader` (default the user slot). Resolves with the ATR (none after 'off'). */
  chipPower(action: ChipPowerAction, reader: string | undefined, signal: AbortSignal): Promise<{ readonly atr: Buffer | null }>;

  /**
   * Counter: read the resident ID card and compare it with the identified card (IdCardReport).
   * Rejects SsCardError: IdCard_ReaderNotFound (no ID reader), Flow_Busy (the ID reader is in use),
   * IdCard_* reader failures. No card on the reader is `read: false`, not an error.
   */
  readIdCard(request: IdCardReadRequest, signal: AbortSignal): Promise<IdCardReport>;

  /** Counter: this terminal's journal rows, newest first, masked. Rejects Journal_OpenFailed without a journal. */
  operations(query: OperationsQuery): readonly OperationReport[];
}

/** The operator side of the API (daemon/auth/): the API asks it, the terminal only sees operator ids. */
export interface OperatorAuthPort {
  /** Resolves with a session token; rejects SsCardError Auth_* (bad credentials, locked, unknown). */
  login(operatorId: string, passphrase: Buffer): Promise<{ readonly token: string; readonly operatorId: string; readonly expiresAt: number }>;
  /** The operator id of a live session; throws SsCardError Auth_SessionExpired / Auth_InvalidToken. */
  check(token: string): string;
  logout(token: string): void;
}

export type { SsCardError };
