/**
 * The wire of the local API as a browser page sees it (docs/api.md "Envelope", "Commands"): the
 * XFS4IoT envelope (CEN CWA 17852) and the payloads the pages use. These are the public messages
 * any client sends and reads — a kiosk vendor's UI can copy this file — not the daemon's own types.
 */
import type { BilingualText } from '../../core/text.js';

export type { BilingualText };

/** docs/api.md "Completion codes". */
export type CompletionCode =
  | 'success'
  | 'commandErrorCode'
  | 'canceled'
  | 'timeOut'
  | 'sequenceError'
  | 'authorisationRequired'
  | 'invalidData'
  | 'unsupportedData'
  | 'unsupportedCommand'
  | 'deviceNotReady'
  | 'hardwareError'
  | 'internalError';

/** Acknowledge statuses: null = accepted (docs/api.md "Envelope" 1). */
export type AckStatus = null | 'invalidMessage' | 'invalidRequestID' | 'tooManyRequests';

export interface CommandHeader {
  readonly type: 'command';
  readonly name: string;
  readonly requestId: number;
  readonly timeout?: number;
}

export interface AckHeader {
  readonly type: 'acknowledge';
  readonly name: string | null;
  readonly requestId: number | null;
  /** Absent when accepted (docs/api.md "Envelope"). */
  readonly status?: AckStatus;
  /** With a refusal only. */
  readonly errorDescription?: string;
}

export interface EventHeader {
  readonly type: 'event';
  readonly name: string;
  readonly requestId: number;
}

export interface CompletionHeader {
  readonly type: 'completion';
  readonly name: string;
  readonly requestId: number;
  readonly completionCode: CompletionCode;
  /** Absent on a success. */
  readonly errorDescription?: string;
}

export interface UnsolicitedHeader {
  readonly type: 'unsolicited';
  readonly name: string;
}

export type Payload = Readonly<Record<string, unknown>>;

export type InMessage =
  | { readonly header: AckHeader; readonly payload?: Payload }
  | { readonly header: EventHeader; readonly payload: Payload }
  | { readonly header: CompletionHeader; readonly payload: Payload }
  | { readonly header: UnsolicitedHeader; readonly payload: Payload };

// ---- payloads the pages read ----

export type ServiceKind = 'activate' | 'verify' | 'change' | 'reset' | 'unblock';

/** `Common.Capabilities` completion, the part the pages use. */
export interface Capabilities {
  readonly sscard: {
    readonly role: string;
    readonly services: readonly ServiceKind[];
    readonly operatorRequired: readonly ServiceKind[];
    readonly pinPad: { readonly kind: string; readonly touchKeys: boolean };
    readonly idReader: boolean;
    readonly psam: boolean;
    readonly simulated: boolean;
  };
}

/** `Common.Status` completion, the part the pages use. */
export interface CommonStatus {
  readonly common: { readonly device: 'online' | 'offline' | 'noDevice' | 'deviceBusy' };
  readonly cardReader: { readonly media: 'present' | 'notPresent' | 'unknown' };
  readonly keyboard: { readonly device: 'online' | 'offline' | 'noDevice' };
}

/** `SSCard.CardIdentifiedEvent`: never the social security number or the full card number. */
export interface CardIdentified {
  readonly cardNumberMasked: string;
  readonly name: string;
  readonly triesLeft: number | null;
  readonly cardState: string;
  readonly authentic: boolean | null;
}

export type PinPrompt = 'enterPin' | 'enterOldPin' | 'enterNewPin' | 'confirmNewPin';

/** A card service's result (docs/api.md "Service completion"). */
export interface ServiceResult {
  readonly code: string;
  readonly kind: ServiceKind | null;
  readonly outcome: 'ok' | 'failed' | 'refused' | 'cancelled' | 'unknown';
  readonly zh: string;
  readonly en: string;
  readonly triesLeft: number | null;
  readonly nextStep: BilingualText;
  readonly sw?: string;
  readonly violations?: readonly string[];
  readonly missing?: readonly string[];
  /** Bank-account activation at a financial counter: what was done or where to go. */
  readonly bank?: { readonly zh: string; readonly en: string; readonly attempted: boolean };
  /** The flow's journal row, for a receipt (absent when none was written). */
  readonly operationId?: string;
  /** A new PIN was set: false when the terminal could not check it against the PIN rules (PC/SC Part 10 secure change). */
  readonly policyChecked?: boolean;
  /** Where a holder sent elsewhere goes: the hall's window and phones (also in `nextStep`). */
  readonly where?: ResultWhere;
}

/** A result's `where` (docs/api.md "Service completion"). */
export interface ResultWhere {
  readonly office: string;
  readonly address: BilingualText | null;
  readonly hours: BilingualText | null;
  readonly consultPhone: string | null;
  readonly complaintPhone: string | null;
  /** All of it in one sentence. */
  readonly text: BilingualText;
}

/** Keys of the on-screen keypad (`Keyboard.TouchKey`). */
export type TouchKey = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | 'enter' | 'backspace' | 'clear' | 'cancel';

/** The service endpoint (docs/api.md "WebSocket endpoints"), on the page's own origin. */
export const SERVICE_PATH = '/xfs4iot/v1.0/sscard';

/** ws://host:port/xfs4iot/v1.0/sscard for a page at http://host:port/… (wss for https). */
export function serviceUrl(location: { readonly protocol: string; readonly host: string }): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${SERVICE_PATH}`;
}
