/**
 * The actor contracts of the card session (state/session.ts): every side effect of the session
 * machine — card I/O, the PSAM, PIN entry, the ID card reader, the operator, the journal — is a
 * named actor supplied by the caller (`machine.provide({ actors })`). This file holds their types
 * only; daemon/flows builds them from the drivers, and the tests build them over the simulator.
 *
 * No type here can carry a PIN digit: PIN entry puts the digits into a {@link PinVault} slot the
 * actors share, and the machine sees the slot name and a digit count.
 */
import type { PinPolicyContext } from './pin-policy.js';
import type { PinSlot } from './pin-vault.js';
import type { CardState } from './card-state.js';
import type { Material } from './materials.js';
import type { Role, ServiceKind } from './roles.js';
import type { IdDocumentText } from './id-card-validity.js';
import type { AgentIdentity } from './agents.js';

export type { PinSlot };

/** Terminal roles (state/roles.ts). */

/** Identity materials presented (收件, state/materials.ts). */
export type PresentedMaterial = Material;

/** The card's state (state/card-state.ts). */
export type { CardState } from './card-state.js';

/** Tries left and state, read without spending a try (VERIFY without data, SELECT). */
export interface PinState {
  /** Undefined when the card does not say (e.g. not activated). */
  readonly triesLeft: number | undefined;
  readonly cardState: CardState;
}

/** What `identifyCard` found: SSSE selected, EF05/EF06 read (external auth on 3.0), internal auth. */
export interface CardIdentification extends PinState {
  /** 卡识别码 (32 hex digits). */
  readonly cardId: string;
  readonly cardNumber: string;
  readonly specVersion: string;
  readonly algorithm: '3DES' | 'SM4';
  /** 社会保障号码 (the holder's; equals the resident ID number). */
  readonly socialSecurityNumber: string;
  readonly name: string;
  /** YYYY-MM-DD. */
  readonly birthDate: string;
  /** 卡有效期 (EF05 tag 06), YYYY-MM-DD; '' when the card gave none. */
  readonly expiryDate: string;
  /** Past its validity on the day it was identified (state/card-state.ts isCardExpired). */
  readonly expired: boolean;
  /** INTERNAL AUTHENTICATE checked by the PSAM; undefined without a PSAM. */
  readonly authentic: boolean | undefined;
  /** The card-make profile the terminal chose by the ATR (docs/card-conventions.md "Card-make profiles"; 'default' when none matched). */
  readonly profile?: string;
  /** This card make's RELOAD PIN sets a blocked PIN (a profile setting; default false). */
  readonly reloadsBlockedPin?: boolean;
  /**
   * On the lost-card hotlist (挂失名单) the terminal holds. A hotlisted card is refused before any
   * PIN entry; the refusal itself is made and journaled by `journalBegin` (the journal is the
   * authority on the hotlist). Absent: not known to be hotlisted.
   */
  readonly hotlisted?: boolean;
}

/** The outcome of one state-changing card command, as the machine keeps it (no error object). */
export type CardOpOutput =
  | { readonly status: 'answered'; readonly sw: number; readonly triesLeft?: number; readonly blocked: boolean }
  /** Not sent: the card is unchanged. `code` is an ErrorCode. */
  | { readonly status: 'notSent'; readonly code: number }
  /** Sent, no answer: the card may have changed. */
  | { readonly status: 'unknown'; readonly code: number }
  /**
   * Not sent: a VERIFY of the holder's PIN went first and answered `sw` (9000), and what it opened
   * on the card (the phone number in DF01, state/pin-policy.ts PIN_PHONE) refuses the new PIN. The
   * card's PIN is unchanged (its tries are back to the limit, as after any right PIN).
   */
  | { readonly status: 'refused'; readonly sw: number; readonly violations: readonly PolicyViolation[] };

/** A PIN policy rule the new PIN breaks: its code and fixed reason (never a digit). */
export interface PolicyViolation {
  readonly code: string;
  readonly zh: string;
  readonly en: string;
}

export interface ActivationOutput {
  readonly appUnblock: CardOpOutput;
  readonly pin?: CardOpOutput;
}

/** What a PIN entry asks the holder for (the screen's and the pad's prompt). */
export type PinPrompt = 'enterPin' | 'enterOldPin' | 'enterNewPin' | 'confirmNewPin';

/** Input of `enterPin`: which slot to fill, which prompt to show, how long to wait. */
export interface EnterPinInput {
  readonly slot: PinSlot;
  readonly prompt: PinPrompt;
  readonly timeoutMs: number;
}

/**
 * What `enterPin` (a callback actor) sends back to the session: key counts while the holder types,
 * then ENTERED (the digits are in the vault slot) or FAILED. Never a digit.
 */
export type PinEntryEvent =
  | { readonly type: 'PIN.KEY'; readonly count: number }
  | { readonly type: 'PIN.ENTERED'; readonly slot: PinSlot; readonly length: number }
  | { readonly type: 'PIN.FAILED'; readonly reason: 'timeout' | 'cancelled' | 'device' };

/**
 * Input of `checkNewPin`: the policy context; the actor compares `newPin` with `confirmPin` and
 * applies the policy. The actor adds the card's own phone number (DF01) to `policy.phones` when
 * the card lets it be read; the number never comes back to the machine.
 */
export interface CheckNewPinInput {
  readonly policy: PinPolicyContext;
  /** The running service (the wiring decides from it what it can still read from the card). */
  readonly kind?: ServiceKind;
}

export type CheckNewPinOutput =
  /** `policyChecked` false: the digits never came here (PC/SC Part 10 secure change), no rule was applied. Absent: checked. */
  | { readonly ok: true; readonly policyChecked?: boolean }
  | { readonly ok: false; readonly mismatch: true }
  | { readonly ok: false; readonly mismatch: false; readonly violations: readonly PolicyViolation[] };

/** Input of `readIdCard`: the card's number to match and how long to wait for the ID card. */
export interface ReadIdCardInput {
  readonly socialSecurityNumber: string;
  readonly timeoutMs: number;
  /**
   * Whose document the flow waits for: the holder's (default) or the agent's (state/agents.ts).
   * Only for the agent does the output carry the document's number and name (to be journaled).
   */
  readonly whose?: IdCardOwner;
  /**
   * The holder's document was read just before and may still lie on the reader: wait for another
   * (one whose number is not the card's 社会保障号码) until the time runs out.
   */
  readonly another?: boolean;
}

/** Whose identity document the ID reader is asked for. */
export type IdCardOwner = 'holder' | 'agent';

/**
 * Why no document was read: none placed before the wait ran out (`none`); a document the reader
 * read but the terminal cannot check (`unsupported`, IdCard_UnsupportedDocument); the reader
 * failed or is missing (`fault`).
 */
export type IdCardNotRead = 'none' | 'unsupported' | 'fault';

/**
 * Whether an ID card was read and whether its number equals the card's 社会保障号码 (the number itself
 * stays out), and its 有效期截止 (YYYY-MM-DD or 长期; drivers/idcard/info.ts `validTo`) for the
 * session to check against the terminal's date (state/id-card-validity.ts).
 */
export type ReadIdCardOutput =
  | {
      readonly read: true;
      readonly matches: boolean;
      readonly validTo: string;
      /** The document read (default the resident ID card). */
      readonly document?: IdDocumentText;
      /** The agent's document only (`whose: 'agent'`): its number and name, for the journal. */
      readonly person?: { readonly idNumber: string; readonly name: string };
    }
  | { readonly read: false; readonly reason?: IdCardNotRead };

export interface OperatorOutput {
  readonly operatorId: string;
}

/** What `journalBegin` resolves with when the terminal keeps no journal: no row, nothing to name on a receipt. */
export const NO_JOURNAL_ROW = 'unjournaled';

/** The journal's `pending` row, written before the first state-changing APDU. */
export interface JournalBeginInput {
  readonly kind: ServiceKind;
  readonly role: Role;
  readonly operatorId?: string;
  readonly card: CardRef;
  readonly materials: readonly PresentedMaterial[];
  /** Someone applied for the holder (state/agents.ts): who, as the ID reader read them. */
  readonly agent?: AgentIdentity;
}

export interface CardRef {
  readonly cardId: string;
  readonly cardNumber: string;
  readonly socialSecurityNumber: string;
  readonly name: string;
}

export interface JournalCompleteInput {
  readonly operationId: string;
  readonly outcome: 'ok' | 'failed' | 'cancelled' | 'unknown';
  /** Lower-case words and hyphens (journal REASON_PATTERN). */
  readonly reason?: string;
  readonly lastSw?: number;
  readonly triesLeft?: number;
  readonly cardState?: CardState;
}

export interface JournalRefusalInput {
  readonly kind: ServiceKind;
  readonly role: Role;
  readonly operatorId?: string;
  readonly card?: CardRef;
  readonly materials: readonly PresentedMaterial[];
  readonly missing: readonly PresentedMaterial[];
  readonly reason: string;
  readonly triesLeft?: number;
  /** Someone applied for the holder and their document was read (state/agents.ts). */
  readonly agent?: AgentIdentity;
}

export interface BankActivationInput {
  readonly card: CardRef;
  readonly operatorId?: string;
  /** The journal row of the activation the request follows (absent when it was not journaled). */
  readonly operationId?: string;
}

/**
 * The actors by name, as `setup({ actors })` declares them. daemon/flows/session-actors.ts builds
 * each from the drivers; the machine's defaults throw, so a missing one fails loudly.
 *
 * | name | kind | input → output |
 * |---|---|---|
 * | identifyCard | promise | – → {@link CardIdentification} |
 * | readPinStatus | promise | – → {@link PinState} |
 * | enterPin | callback | {@link EnterPinInput} → sends {@link PinEntryEvent} |
 * | checkNewPin | promise | {@link CheckNewPinInput} → {@link CheckNewPinOutput} |
 * | verifyPin / changePin / reloadPin / unblockPin | promise | – → {@link CardOpOutput} (PINs from the vault) |
 * | activateCard | promise | – → {@link ActivationOutput} |
 * | readIdCard | promise | {@link ReadIdCardInput} → {@link ReadIdCardOutput} |
 * | authenticateOperator | promise | – → {@link OperatorOutput} |
 * | journalBegin | promise | {@link JournalBeginInput} → operation id ({@link NO_JOURNAL_ROW} without a journal) |
 * | journalComplete | promise | {@link JournalCompleteInput} → – |
 * | journalRefusal | promise | {@link JournalRefusalInput} → the refusal's row id ({@link NO_JOURNAL_ROW} without a journal) |
 * | requestBankActivation | promise | {@link BankActivationInput} → request id |
 */
export type ActorNames =
  | 'identifyCard'
  | 'readPinStatus'
  | 'enterPin'
  | 'checkNewPin'
  | 'verifyPin'
  | 'changePin'
  | 'reloadPin'
  | 'unblockPin'
  | 'activateCard'
  | 'readIdCard'
  | 'authenticateOperator'
  | 'journalBegin'
  | 'journalComplete'
  | 'journalRefusal'
  | 'requestBankActivation';
