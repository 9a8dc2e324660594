/**
 * The card session's data: its configuration, context, events in and events out, and the PIN
 * entries each service asks for. The machine (state/session.ts) and the results it computes
 * (state/session-outcome.ts) share them; no PIN digit is in any of them (a count at most).
 */
import type {
  ActivationOutput,
  CardIdentification,
  CardOpOutput,
  CardRef,
  CardState,
  EnterPinInput,
  IdCardNotRead,
  IdCardOwner,
  PinEntryEvent,
  PinSlot,
  PresentedMaterial,
} from './actors.js';
import { DEFAULT_EXPIRED_CARD_RULE, type ExpiredCardRule } from './card-state.js';
import type { ServiceItem } from './catalog.js';
import type { ServiceKind, ServiceResult } from './results.js';
import type { Role } from './roles.js';
import type { AgentIdentity, AgentRequest } from './agents.js';

export interface SessionConfig {
  readonly role: Role;
  /** Inactivity timeout (default 60 000 ms). */
  readonly inactivityMs?: number;
  /** PIN-entry timeout per entry (default 30 000 ms). */
  readonly pinEntryMs?: number;
  /** At a kiosk, refuse VERIFY / CHANGE when tries left ≤ this (default 1). */
  readonly triesFloor?: number;
  /** The services this terminal offers (its configuration); default: what the role allows. */
  readonly offered?: readonly ServiceKind[];
  /**
   * PIN policy: deny list and phone numbers the caller knows. The card's own phone (DF01) is added
   * by the `checkNewPin` actor where the card lets it be read (see daemon/flows/session-actors.ts);
   * where it needs a verified PIN and no PIN is known (reset, unblock, activate) the caller's
   * `phones` are all the phone rule has.
   */
  readonly denyList?: readonly string[];
  readonly phones?: readonly string[];
  /**
   * What the PIN pad can do. `plain: false` — a PC/SC keypad reader (Part 10) that only runs
   * VERIFY / CHANGE PIN itself and never gives out digits: reset, unblock and activate (a new PIN
   * the PSAM must encrypt) are refused at routing with `pinPad.unsupported`. Default `{ plain: true }`.
   * `secureChange`: the pad changes the PIN inside the reader (PC/SC Part 10 MODIFY PIN DIRECT), so
   * the new PIN is never checked against the PIN policy (docs/security.md).
   */
  readonly pinEntry?: { readonly plain: boolean; readonly secureChange?: boolean };
  /** A card past its validity: refused (`card.expired`, the default) or only reported (docs/config.md `session.expiredCard`). */
  readonly expiredCard?: ExpiredCardRule;
  /**
   * The hall's service catalog (state/catalog.ts; data, never a file read here): a result that
   * sends the holder elsewhere names its window and phones (state/hall.ts `withWhere`). Default none.
   */
  readonly catalog?: readonly ServiceItem[];
  /**
   * GB/T 2260 province code whose cards are served (申请条件 二 「已办理过我省社会保障卡」, seed 000
   * line 224): a card whose 卡识别码 region is in another province is refused. Default: not checked.
   */
  readonly province?: string;
  /**
   * Every new PIN must have been checked against the PIN policy (docs/config.md
   * `session.requirePinPolicy`): a change the pad would make inside the reader, unchecked, is refused
   * at routing with `pinPad.policyUnchecked`. Default false (the change goes on, and its result says
   * `policyChecked: false`).
   */
  readonly requirePinPolicy?: boolean;
  /**
   * The terminal's clock: the resident ID card's 有效期截止 is compared with its date
   * (state/id-card-validity.ts). Default the system clock.
   */
  readonly now?: () => Date;
}

/** The defaults of docs/config.md `session.*` (inactivityMs, pinEntryMs, triesFloor). */
export const DEFAULT_INACTIVITY_MS = 60_000;
export const DEFAULT_PIN_ENTRY_MS = 30_000;
export const DEFAULT_TRIES_FLOOR = 1;

export type ResolvedConfig = Required<Omit<SessionConfig, 'offered' | 'province'>> & { readonly offered: readonly ServiceKind[] | undefined; readonly province: string | undefined };

export interface EntryStep {
  readonly slot: PinSlot;
  readonly prompt: EnterPinInput['prompt'];
}

export interface SessionContext {
  readonly config: ResolvedConfig;
  readonly card: (Omit<CardIdentification, 'triesLeft' | 'cardState'> & CardRef) | undefined;
  readonly triesLeft: number | undefined;
  readonly cardState: CardState | undefined;
  readonly kind: ServiceKind | undefined;
  readonly operatorId: string | undefined;
  readonly materials: readonly PresentedMaterial[];
  /**
   * What the identity documents read refuse: not the holder's, expired (state/id-card-validity.ts),
   * a document the terminal cannot check, a failed reader, the agent's being the holder's own.
   */
  readonly idRefusal: ServiceResult | undefined;
  /** Someone applies for the holder (a counter's request, state/agents.ts); undefined: the holder in person. */
  readonly agent: AgentRequest | undefined;
  /** The agent's document as read (journaled encrypted). */
  readonly agentIdentity: AgentIdentity | undefined;
  /** The new PIN of the running flow was checked against the PIN policy (false: a PC/SC Part 10 secure change). */
  readonly policyChecked: boolean;
  readonly plan: readonly EntryStep[];
  readonly step: number;
  /** Digits typed in the running entry (a count, never a digit). */
  readonly digits: number;
  /** Phone numbers the caller gave with the running request (PIN policy). */
  readonly requestPhones: readonly string[];
  /** Journal row of the running state-changing operation, until completed. */
  readonly operationId: string | undefined;
  /** Journal row of the flow's operation once completed (the bank request refers to it). */
  readonly completedOperationId: string | undefined;
  /** A state-changing command is in flight. */
  readonly inFlight: boolean;
  readonly lastOp: CardOpOutput | undefined;
  readonly activation: ActivationOutput | undefined;
  readonly result: ServiceResult | undefined;
  /** The last flow's outcome was unknown: re-read before anything else (done by refreshing / identifying). */
  readonly needsRefresh: boolean;
  /**
   * The card was removed while the journal row or a state-changing command was under way: the
   * flow finishes first (the transport fails at once without the card), so the outcome is exact —
   * not sent, answered, or unknown — and the session then ends.
   */
  readonly cardGone: boolean;
}

export type SessionEvent =
  | { type: 'CARD_INSERTED' }
  | { type: 'CARD_REMOVED' }
  /** `phones`: numbers the caller knows for this request (PIN policy: no 6 consecutive digits of them). */
  | { type: 'SELECT_SERVICE'; kind: ServiceKind; phones?: readonly string[]; /** A counter's request made by someone for the holder (state/agents.ts). */ agent?: AgentRequest }
  | { type: 'CANCEL' }
  | PinEntryEvent;

/** Events a UI can render (docs/api.md "SSCard", events of a flow): no PIN digit in any. */
export type SessionEmitted =
  | { type: 'card.inserted' }
  | { type: 'card.identified'; cardNumber: string; name: string; specVersion: string; triesLeft: number | undefined; cardState: CardState; authentic: boolean | undefined; expiryDate: string; expired: boolean; /** The card-make profile chosen by the ATR. */ profile: string }
  | { type: 'service.started'; kind: ServiceKind }
  /** The flow waits for an identity document on the ID reader: the holder's, or the agent's (state/agents.ts). */
  | { type: 'idCard.requested'; whose: IdCardOwner }
  /**
   * The document was read (or not: `reason`); `matches`: its number is the card's 社会保障号码 (null
   * when not read; for the agent's document a match is a refusal); `expired`: read, and past its
   * 有效期截止 on the terminal's date (null when not read).
   */
  | { type: 'idCard.read'; whose: IdCardOwner; read: boolean; matches: boolean | null; expired: boolean | null; reason?: IdCardNotRead }
  | { type: 'pin.entryStarted'; prompt: EnterPinInput['prompt'] }
  | { type: 'pin.digits'; count: number }
  | { type: 'result'; result: ServiceResult }
  | { type: 'session.ended' }
  | { type: 'card.removed' };

/**
 * The PIN entries each service asks for, in order (docs/domain.md §2: VERIFY takes the PIN, CHANGE
 * PIN the old and the new, RELOAD PIN / PIN UNBLOCK / activation a new PIN); a new PIN is typed
 * twice.
 */
export const PIN_ENTRY_PLANS: Readonly<Record<ServiceKind, readonly EntryStep[]>> = {
  verify: [{ slot: 'pin', prompt: 'enterPin' }],
  change: [
    { slot: 'oldPin', prompt: 'enterOldPin' },
    { slot: 'newPin', prompt: 'enterNewPin' },
    { slot: 'confirmPin', prompt: 'confirmNewPin' },
  ],
  reset: [
    { slot: 'newPin', prompt: 'enterNewPin' },
    { slot: 'confirmPin', prompt: 'confirmNewPin' },
  ],
  unblock: [
    { slot: 'newPin', prompt: 'enterNewPin' },
    { slot: 'confirmPin', prompt: 'confirmNewPin' },
  ],
  activate: [
    { slot: 'newPin', prompt: 'enterNewPin' },
    { slot: 'confirmPin', prompt: 'confirmNewPin' },
  ],
};

/** The context a new session starts with. */
export function initialContext(input: SessionConfig): SessionContext {
  return {
    config: {
      role: input.role,
      inactivityMs: input.inactivityMs ?? DEFAULT_INACTIVITY_MS,
      pinEntryMs: input.pinEntryMs ?? DEFAULT_PIN_ENTRY_MS,
      triesFloor: input.triesFloor ?? DEFAULT_TRIES_FLOOR,
      offered: input.offered,
      denyList: input.denyList ?? [],
      phones: input.phones ?? [],
      pinEntry: { plain: input.pinEntry?.plain ?? true, secureChange: input.pinEntry?.secureChange ?? false },
      expiredCard: input.expiredCard ?? DEFAULT_EXPIRED_CARD_RULE,
      catalog: input.catalog ?? [],
      province: input.province,
      requirePinPolicy: input.requirePinPolicy ?? false,
      now: input.now ?? (() => new Date()),
    },
    card: undefined,
    triesLeft: undefined,
    cardState: undefined,
    kind: undefined,
    operatorId: undefined,
    materials: [],
    idRefusal: undefined,
    agent: undefined,
    agentIdentity: undefined,
    policyChecked: true,
    plan: [],
    step: 0,
    digits: 0,
    operationId: undefined,
    completedOperationId: undefined,
    requestPhones: [],
    inFlight: false,
    lastOp: undefined,
    activation: undefined,
    result: undefined,
    needsRefresh: false,
    cardGone: false,
  };
}
