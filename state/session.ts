/**
 * The card session and its services as one xstate v5 machine:
 *
 *   idle → identifying → identified → service (routing → [operator] → [materials] → [querying]
 *   → pinEntry… → [checkingNew] → journaling → send* → refreshing → completing → [bank]) → done
 *   → (card removed) → removed → idle
 *
 * Every side effect is a named actor (state/actors.ts) supplied with `machine.provide`; this file
 * imports no driver, database or network. PIN digits never enter the machine: `enterPin` fills a
 * vault slot and sends back a digit count; the card-operation actors take the PINs from the vault.
 *
 * Safety (§5): a state-changing command is invoked once, never re-entered; the journal's `pending`
 * row is written before it (`journaling`); a card removal or transport error while it is in flight
 * ends the flow with outcome `unknown`, and the tries left / state are re-read (`refreshing`, and on
 * re-insertion `identifying`) before anything else on that card. A card taken out before the
 * command provably went (the removal seen during `journaling`, or the actor's `notSent` with
 * Pcsc_CardRemoved: drivers/card/ssse-operations.ts) ends `card.removed`, its pending row
 * completed `failed` / `card-removed`: nothing was done, nothing is left to reconcile.
 */
import { assign, emit, enqueueActions, fromCallback, fromPromise, not, setup } from 'xstate';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import type {
  ActivationOutput,
  CardIdentification,
  CardOpOutput,
  CardRef,
  CheckNewPinInput,
  CheckNewPinOutput,
  EnterPinInput,
  JournalBeginInput,
  JournalCompleteInput,
  JournalRefusalInput,
  BankActivationInput,
  OperatorOutput,
  PinEntryEvent,
  PinSlot,
  PinState,
  PresentedMaterial,
  ReadIdCardInput,
  ReadIdCardOutput,
  CardState,
} from './actors.js';
import { checkMaterials } from './materials.js';
import type { ResultOutcome, ServiceKind, ServiceResult } from './results.js';
import { results } from './results.js';
import { bankAccountActivation, capability } from './roles.js';
import type { Role } from './roles.js';

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
   */
  readonly pinEntry?: { readonly plain: boolean };
}

export const DEFAULT_INACTIVITY_MS = 60_000;
export const DEFAULT_PIN_ENTRY_MS = 30_000;
export const DEFAULT_TRIES_FLOOR = 1;

type ResolvedConfig = Required<Omit<SessionConfig, 'offered'>> & { readonly offered: readonly ServiceKind[] | undefined };

interface EntryStep {
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
  readonly idMismatch: boolean;
  readonly plan: readonly EntryStep[];
  readonly step: number;
  /** Digits typed in the running entry (a count, never a digit). */
  readonly digits: number;
  /** Journal row of the running state-changing operation, until completed. */
  /** Phone numbers the caller gave with the running request (PIN policy). */
  readonly requestPhones: readonly string[];
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
  | { type: 'SELECT_SERVICE'; kind: ServiceKind; phones?: readonly string[] }
  | { type: 'CANCEL' }
  | PinEntryEvent;

/** Events a UI can render (docs/api.md "SSCard", events of a flow): no PIN digit in any. */
export type SessionEmitted =
  | { type: 'card.inserted' }
  | { type: 'card.identified'; cardNumber: string; name: string; specVersion: string; triesLeft: number | undefined; cardState: CardState; authentic: boolean | undefined }
  | { type: 'service.started'; kind: ServiceKind }
  | { type: 'pin.entryStarted'; prompt: EnterPinInput['prompt'] }
  | { type: 'pin.digits'; count: number }
  | { type: 'result'; result: ServiceResult }
  | { type: 'session.ended' }
  | { type: 'card.removed' };

function missing(name: string): never {
  throw new Error(`session actor "${name}" was not provided (machine.provide({ actors }))`);
}

const plans: Record<ServiceKind, readonly EntryStep[]> = {
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

function capabilityOf(ctx: SessionContext) {
  return capability(ctx.config.role, ctx.kind!, ctx.config.offered);
}

function needsIdCard(ctx: SessionContext): boolean {
  return (capabilityOf(ctx).materials as readonly string[]).includes('residentIdCard');
}

function stateOf(left: number | undefined, prev: CardState | undefined): CardState | undefined {
  if (left === 0) return 'pinBlocked';
  if (left !== undefined && prev === 'pinBlocked') return 'active';
  return prev;
}

/** A command not sent because the card had been taken out (daemon/flows: Pcsc_CardRemoved / Pcsc_NoCard). */
function removedBeforeSending(op: CardOpOutput | undefined): boolean {
  return op?.status === 'notSent' && (op.code === (ErrorCode.Pcsc_CardRemoved as number) || op.code === (ErrorCode.Pcsc_NoCard as number));
}

/** The result of a completed state-changing flow, from the card's answer and the re-read state. */
export function resultOf(ctx: SessionContext): ServiceResult {
  const kind = ctx.kind!;
  const left = ctx.triesLeft;
  if (kind === 'activate') {
    const a = ctx.activation;
    const app = a?.appUnblock;
    if (app === undefined || app.status === 'unknown' || (a?.pin?.status === 'unknown')) return results.unknown(kind, left);
    if (removedBeforeSending(app)) return results.cardRemoved(kind);
    if (app.status === 'notSent') return results.notSent(kind, left);
    if (app.sw !== 0x9000) return results.cardError(kind, app.sw, left);
    const pin = a!.pin;
    if (pin === undefined || pin.status !== 'answered' || pin.sw !== 0x9000) return results.activatePinNotSet(left);
    return results.activateOk(left, bankAccountActivation(ctx.config.role));
  }
  const op = ctx.lastOp;
  if (op === undefined || op.status === 'unknown') return results.unknown(kind, left);
  if (removedBeforeSending(op)) return results.cardRemoved(kind);
  if (op.status === 'notSent') return results.notSent(kind, left);
  if (op.status === 'refused') return results.pinPolicy(kind, op.violations);
  const sw = op.sw;
  if (sw === 0x9000) {
    if (kind === 'verify') return results.verifyOk(left);
    if (kind === 'change') return results.changeOk(left);
    if (kind === 'reset') return results.resetOk(left);
    return results.unblockOk(left);
  }
  if (op.blocked) return results.locked(kind, sw);
  if (op.triesLeft !== undefined) return kind === 'change' ? results.changeWrong(op.triesLeft, sw) : results.verifyWrong(op.triesLeft, sw);
  return results.cardError(kind, sw, left);
}

/** Context changes from a card operation's answer: tries left from 63Cx / 6983 at once. */
function applyOp(ctx: SessionContext, op: CardOpOutput): Partial<SessionContext> {
  if (op.status !== 'answered') return { lastOp: op, inFlight: false, needsRefresh: op.status === 'unknown' };
  const left = op.triesLeft ?? (op.sw === 0x9000 && ctx.kind !== 'verify' && ctx.kind !== 'change' ? undefined : ctx.triesLeft);
  return { lastOp: op, inFlight: false, triesLeft: left, cardState: stateOf(left, ctx.cardState) };
}

/** The operation actor failed without an outcome: treat as unknown (it may have sent the command). */
function lostOp(): Partial<SessionContext> {
  return { lastOp: { status: 'unknown', code: 800 }, inFlight: false, needsRefresh: true };
}

/** The result when the card is taken out during a service. */
function removalResult(ctx: SessionContext): ServiceResult {
  if (ctx.result !== undefined) return ctx.result;
  const kind = ctx.kind!;
  if (ctx.inFlight) return results.unknown(kind, undefined);
  if (ctx.lastOp !== undefined || ctx.activation !== undefined) return resultOf(ctx);
  return results.cardRemoved(kind);
}

/** The last status word the card answered in this flow (the journal's lastSw), whatever the result says. */
function lastSwOf(ctx: SessionContext): { lastSw?: number } {
  const a = ctx.activation;
  const op = a === undefined ? ctx.lastOp : a.pin !== undefined && a.pin.status === 'answered' ? a.pin : a.appUnblock;
  if (op?.status === 'answered' || op?.status === 'refused') return { lastSw: op.sw };
  return ctx.result?.sw === undefined ? {} : { lastSw: ctx.result.sw };
}

function journalOutcome(r: ServiceResult): JournalCompleteInput['outcome'] {
  // A pending row ends card.removed only when its command was never sent (resultOf): like
  // operation.notSent it is `failed` (not done), with the reason card-removed, and not unknown.
  if (r.code === 'card.removed') return 'failed';
  const o: ResultOutcome = r.outcome;
  return o === 'refused' ? 'failed' : o;
}

function reasonOf(r: ServiceResult): string {
  return r.code.replace(/([A-Z])/g, '-$1').replace(/\./g, '-').toLowerCase();
}

/** Services that send a new PIN the PSAM encrypts or MACs: the digits must come to the terminal. */
const SETS_PIN_BY_PSAM: ReadonlySet<ServiceKind> = new Set(['reset', 'unblock', 'activate']);

function refusalMissing(ctx: SessionContext): PresentedMaterial[] {
  return ctx.result?.missing === undefined ? [] : (ctx.result.missing.filter((m) => m === 'socialSecurityCard' || m === 'residentIdCard'));
}

export const sessionMachine = setup({
  types: {
    context: {} as SessionContext,
    events: {} as SessionEvent,
    input: {} as SessionConfig,
    emitted: {} as SessionEmitted,
  },
  actors: {
    identifyCard: fromPromise<CardIdentification>(() => missing('identifyCard')),
    readPinStatus: fromPromise<PinState>(() => missing('readPinStatus')),
    enterPin: fromCallback<{ type: 'noop' }, EnterPinInput>(() => missing('enterPin')),
    checkNewPin: fromPromise<CheckNewPinOutput, CheckNewPinInput>(() => missing('checkNewPin')),
    verifyPin: fromPromise<CardOpOutput>(() => missing('verifyPin')),
    changePin: fromPromise<CardOpOutput>(() => missing('changePin')),
    reloadPin: fromPromise<CardOpOutput>(() => missing('reloadPin')),
    unblockPin: fromPromise<CardOpOutput>(() => missing('unblockPin')),
    activateCard: fromPromise<ActivationOutput>(() => missing('activateCard')),
    readIdCard: fromPromise<ReadIdCardOutput, ReadIdCardInput>(() => missing('readIdCard')),
    authenticateOperator: fromPromise<OperatorOutput>(() => missing('authenticateOperator')),
    journalBegin: fromPromise<string, JournalBeginInput>(() => missing('journalBegin')),
    journalComplete: fromPromise<void, JournalCompleteInput>(() => missing('journalComplete')),
    journalRefusal: fromPromise<void, JournalRefusalInput>(() => missing('journalRefusal')),
    requestBankActivation: fromPromise<string, BankActivationInput>(() => missing('requestBankActivation')),
  },
  actions: {
    /** Wipe every PIN slot of the session's vault (daemon/flows provides it). */
    wipePins: () => {},
    setResult: assign({ result: (_, r: ServiceResult) => r }),
    emitResult: emit(({ context }) => ({ type: 'result' as const, result: context.result! })),
    markGone: assign({ cardGone: true }),
  },
  guards: {
    roleRefuses: ({ context }) => !capabilityOf(context).allowed,
    appLocked: ({ context }) => context.cardState === 'appLocked',
    activateOnActive: ({ context }) => context.kind === 'activate' && context.cardState !== 'notActivated',
    notActivated: ({ context }) => context.kind !== 'activate' && context.cardState === 'notActivated',
    unblockNotBlocked: ({ context }) => context.kind === 'unblock' && context.cardState !== 'pinBlocked',
    blockedNotUnblock: ({ context }) => context.kind !== 'unblock' && context.cardState === 'pinBlocked',
    operatorRequired: ({ context }) => capabilityOf(context).operatorRequired && context.operatorId === undefined,
    needsIdCard: ({ context }) => needsIdCard(context),
    spendsTry: ({ context }) => context.kind === 'verify' || context.kind === 'change',
    belowFloor: ({ context }) => context.config.role === 'kiosk' && context.triesLeft !== undefined && context.triesLeft <= context.config.triesFloor,
    moreEntries: ({ context }) => context.step + 1 < context.plan.length,
    hasNewPin: ({ context }) => context.kind !== 'verify',
    isKind: ({ context }, kind: ServiceKind) => context.kind === kind,
    bankRequest: ({ context }) => context.kind === 'activate' && context.result?.code === 'activate.ok' && bankAccountActivation(context.config.role).attempted,
    padCannotSetPin: ({ context }) => !context.config.pinEntry.plain && SETS_PIN_BY_PSAM.has(context.kind!),
  },
  delays: {
    inactivity: ({ context }) => context.config.inactivityMs,
    pinEntry: ({ context }) => context.config.pinEntryMs,
  },
}).createMachine({
  id: 'session',
  context: ({ input }) => ({
    config: {
      role: input.role,
      inactivityMs: input.inactivityMs ?? DEFAULT_INACTIVITY_MS,
      pinEntryMs: input.pinEntryMs ?? DEFAULT_PIN_ENTRY_MS,
      triesFloor: input.triesFloor ?? DEFAULT_TRIES_FLOOR,
      offered: input.offered,
      denyList: input.denyList ?? [],
      phones: input.phones ?? [],
      pinEntry: { plain: input.pinEntry?.plain ?? true },
    },
    card: undefined,
    triesLeft: undefined,
    cardState: undefined,
    kind: undefined,
    operatorId: undefined,
    materials: [],
    idMismatch: false,
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
  }),
  initial: 'idle',
  on: {
    CARD_REMOVED: { target: '.removed' },
  },
  states: {
    idle: {
      entry: ['wipePins', assign({ card: undefined, triesLeft: undefined, cardState: undefined, kind: undefined, operatorId: undefined, result: undefined, operationId: undefined, inFlight: false, lastOp: undefined, activation: undefined, cardGone: false })],
      on: {
        CARD_INSERTED: { target: 'identifying', actions: emit({ type: 'card.inserted' as const }) },
        CARD_REMOVED: {},
      },
    },
    identifying: {
      invoke: {
        src: 'identifyCard',
        onDone: {
          target: 'identified',
          actions: [
            assign(({ event }) => {
              const { triesLeft, cardState, ...card } = event.output;
              return { card, triesLeft, cardState, needsRefresh: false };
            }),
            emit(({ context }) => ({
              type: 'card.identified' as const,
              cardNumber: context.card!.cardNumber,
              name: context.card!.name,
              specVersion: context.card!.specVersion,
              triesLeft: context.triesLeft,
              cardState: context.cardState!,
              authentic: context.card!.authentic,
            })),
          ],
        },
        onError: { target: 'ended', actions: [{ type: 'setResult', params: results.cardUnreadable() }, 'emitResult'] },
      },
    },
    identified: {
      after: { inactivity: { target: 'ended', actions: [{ type: 'setResult', params: results.sessionTimeout(undefined) }, 'emitResult'] } },
      on: {
        SELECT_SERVICE: { target: 'service', actions: assign({ kind: ({ event }) => event.kind, result: undefined, requestPhones: ({ event }) => event.phones ?? [] }) },
      },
    },
    service: {
      initial: 'routing',
      entry: [
        emit(({ context }) => ({ type: 'service.started' as const, kind: context.kind! })),
        assign({ plan: ({ context }) => plans[context.kind!], step: 0, digits: 0, materials: ['socialSecurityCard'], idMismatch: false, lastOp: undefined, activation: undefined, completedOperationId: undefined }),
      ],
      exit: ['wipePins'],
      on: {
        // Before the pending row nothing was done and nothing refused: the holder stopped. Not a
        // journal row (the journal's `refused` means the terminal said no). Once the pending row
        // is written, the states from `journaling` on ignore CANCEL: the operation runs to its end.
        CANCEL: { target: '.finish', actions: { type: 'setResult', params: ({ context }) => results.cancelled(context.kind) } },
      },
      onDone: [{ guard: ({ context }) => context.cardGone, target: 'removed' }, { target: 'done' }],
      states: {
        routing: {
          always: [
            // Hotlisted: straight to the journal, which refuses, journals the refusal and says why
            // (journaling → finish with its bilingual text); no PIN is asked for, nothing is sent.
            { guard: ({ context }) => context.card?.hotlisted === true, target: 'journaling' },
            { guard: 'roleRefuses', target: 'refusing', actions: { type: 'setResult', params: ({ context }) => results.roleNotAllowed(context.kind!, capabilityOf(context).reason) } },
            { guard: 'appLocked', target: 'refusing', actions: { type: 'setResult', params: ({ context }) => results.cardAppLocked(context.kind) } },
            { guard: 'activateOnActive', target: 'refusing', actions: { type: 'setResult', params: () => results.cardAlreadyActive() } },
            { guard: 'notActivated', target: 'refusing', actions: { type: 'setResult', params: ({ context }) => results.cardNotActivated(context.kind!) } },
            { guard: 'unblockNotBlocked', target: 'refusing', actions: { type: 'setResult', params: ({ context }) => results.cardNotBlocked(context.triesLeft) } },
            { guard: 'blockedNotUnblock', target: 'refusing', actions: { type: 'setResult', params: ({ context }) => results.cardLocked(context.kind!) } },
            // Before the operator, the ID card or any PIN: this pad could never bring the new PIN.
            { guard: 'padCannotSetPin', target: 'refusing', actions: { type: 'setResult', params: ({ context }) => results.pinPadUnsupported(context.kind!) } },
            { target: 'operator' },
          ],
        },
        operator: {
          always: { guard: not('operatorRequired'), target: 'materials' },
          after: { inactivity: { target: 'refusing', actions: { type: 'setResult', params: ({ context }) => results.sessionTimeout(context.kind) } } },
          invoke: {
            src: 'authenticateOperator',
            onDone: { target: 'materials', actions: assign({ operatorId: ({ event }) => event.output.operatorId }) },
            onError: { target: 'refusing', actions: { type: 'setResult', params: ({ context }) => results.operatorRequired(context.kind!) } },
          },
        },
        materials: {
          always: { guard: not('needsIdCard'), target: 'querying' },
          invoke: {
            src: 'readIdCard',
            input: ({ context }) => ({ socialSecurityNumber: context.card!.socialSecurityNumber, timeoutMs: context.config.inactivityMs }),
            onDone: {
              target: 'materialsCheck',
              actions: assign(({ context, event }) => ({
                materials: event.output.read && event.output.matches ? [...context.materials, 'residentIdCard' as const] : context.materials,
                idMismatch: event.output.read && !event.output.matches,
              })),
            },
            onError: { target: 'materialsCheck' },
          },
        },
        materialsCheck: {
          always: [
            { guard: ({ context }) => context.idMismatch, target: 'refusing', actions: { type: 'setResult', params: ({ context }) => results.identityMismatch(context.kind!) } },
            {
              guard: ({ context }) => !checkMaterials(capabilityOf(context).materials, context.materials).complete,
              target: 'refusing',
              actions: {
                type: 'setResult',
                params: ({ context }) => {
                  const m = checkMaterials(capabilityOf(context).materials, context.materials);
                  return results.materialsMissing(context.kind!, m.missing.map((x) => x.material), { zh: m.zh, en: m.en });
                },
              },
            },
            { target: 'querying' },
          ],
        },
        querying: {
          always: { guard: not('spendsTry'), target: 'pinEntry' },
          invoke: {
            src: 'readPinStatus',
            onDone: { target: 'floorCheck', actions: assign(({ event }) => ({ triesLeft: event.output.triesLeft, cardState: event.output.cardState })) },
            onError: { target: 'refusing', actions: { type: 'setResult', params: () => results.cardUnreadable() } },
          },
        },
        floorCheck: {
          always: [
            { guard: 'blockedNotUnblock', target: 'refusing', actions: { type: 'setResult', params: ({ context }) => results.cardLocked(context.kind!) } },
            { guard: 'belowFloor', target: 'refusing', actions: { type: 'setResult', params: ({ context }) => results.belowFloor(context.kind!, context.triesLeft!) } },
            { target: 'pinEntry' },
          ],
        },
        pinEntry: {
          entry: [assign({ digits: 0 }), emit(({ context }) => ({ type: 'pin.entryStarted' as const, prompt: context.plan[context.step]!.prompt }))],
          invoke: {
            src: 'enterPin',
            input: ({ context }) => ({ slot: context.plan[context.step]!.slot, prompt: context.plan[context.step]!.prompt, timeoutMs: context.config.pinEntryMs }),
          },
          after: { pinEntry: { target: 'finish', actions: { type: 'setResult', params: ({ context }) => results.pinTimeout(context.kind) } } },
          on: {
            'PIN.KEY': { actions: [assign({ digits: ({ event }) => event.count }), emit(({ event }) => ({ type: 'pin.digits' as const, count: event.count }))] },
            'PIN.ENTERED': [
              { guard: 'moreEntries', target: 'pinEntry', reenter: true, actions: assign({ step: ({ context }) => context.step + 1 }) },
              { guard: 'hasNewPin', target: 'checkingNew' },
              { target: 'journaling' },
            ],
            'PIN.FAILED': {
              target: 'finish',
              actions: { type: 'setResult', params: ({ context, event }) => (event.reason === 'timeout' ? results.pinTimeout(context.kind) : results.pinEntryFailed(context.kind)) },
            },
          },
        },
        checkingNew: {
          invoke: {
            src: 'checkNewPin',
            input: ({ context }) => ({
              kind: context.kind!,
              policy: { socialSecurityNumber: context.card!.socialSecurityNumber, birthDate: context.card!.birthDate, phones: [...context.config.phones, ...context.requestPhones], denyList: context.config.denyList },
            }),
            onDone: [
              { guard: ({ event }) => event.output.ok, target: 'journaling' },
              {
                target: 'finish',
                actions: {
                  type: 'setResult',
                  params: ({ context, event }) => {
                    const o = event.output;
                    return o.ok || o.mismatch ? results.pinMismatch(context.kind!) : results.pinPolicy(context.kind!, o.violations);
                  },
                },
              },
            ],
            onError: { target: 'finish', actions: { type: 'setResult', params: ({ context }) => results.pinEntryFailed(context.kind) } },
          },
        },
        journaling: {
          on: { CANCEL: {}, CARD_REMOVED: { actions: 'markGone' } },
          invoke: {
            src: 'journalBegin',
            input: ({ context }) => ({
              kind: context.kind!,
              role: context.config.role,
              ...(context.operatorId === undefined ? {} : { operatorId: context.operatorId }),
              card: { cardId: context.card!.cardId, cardNumber: context.card!.cardNumber, socialSecurityNumber: context.card!.socialSecurityNumber, name: context.card!.name },
              materials: context.materials,
            }),
            onDone: { target: 'sending', actions: assign({ operationId: ({ event }) => event.output }) },
            onError: {
              target: 'finish',
              actions: {
                type: 'setResult',
                params: ({ context, event }) =>
                  results.cardRefused(context.kind!, isSsCardError(event.error) ? (event.error.text) : { zh: '无法记录业务日志，业务未办理。', en: 'The operation could not be journaled; nothing was done.' }),
              },
            },
          },
        },
        sending: {
          on: { CANCEL: {}, CARD_REMOVED: { actions: 'markGone' } },
          entry: assign({ inFlight: true }),
          always: [
            { guard: ({ context }) => context.cardGone, target: 'completing', actions: assign({ inFlight: false, lastOp: { status: 'notSent', code: 203 }, activation: { appUnblock: { status: 'notSent', code: 203 } } }) },
            { guard: { type: 'isKind', params: 'verify' }, target: 'sendVerify' },
            { guard: { type: 'isKind', params: 'change' }, target: 'sendChange' },
            { guard: { type: 'isKind', params: 'reset' }, target: 'sendReload' },
            { guard: { type: 'isKind', params: 'unblock' }, target: 'sendUnblock' },
            { target: 'sendActivate' },
          ],
        },
        sendVerify: {
          on: { CANCEL: {}, CARD_REMOVED: { actions: 'markGone' } },
          invoke: { src: 'verifyPin', onDone: { target: 'refreshing', actions: assign(({ context, event }) => applyOp(context, event.output)) }, onError: { target: 'refreshing', actions: assign(lostOp) } },
        },
        sendChange: {
          on: { CANCEL: {}, CARD_REMOVED: { actions: 'markGone' } },
          invoke: { src: 'changePin', onDone: { target: 'refreshing', actions: assign(({ context, event }) => applyOp(context, event.output)) }, onError: { target: 'refreshing', actions: assign(lostOp) } },
        },
        sendReload: {
          on: { CANCEL: {}, CARD_REMOVED: { actions: 'markGone' } },
          invoke: { src: 'reloadPin', onDone: { target: 'refreshing', actions: assign(({ context, event }) => applyOp(context, event.output)) }, onError: { target: 'refreshing', actions: assign(lostOp) } },
        },
        sendUnblock: {
          on: { CANCEL: {}, CARD_REMOVED: { actions: 'markGone' } },
          invoke: { src: 'unblockPin', onDone: { target: 'refreshing', actions: assign(({ context, event }) => applyOp(context, event.output)) }, onError: { target: 'refreshing', actions: assign(lostOp) } },
        },
        sendActivate: {
          on: { CANCEL: {}, CARD_REMOVED: { actions: 'markGone' } },
          invoke: {
            src: 'activateCard',
            onDone: {
              target: 'refreshing',
              actions: assign(({ event }) => ({ activation: event.output, inFlight: false, needsRefresh: event.output.appUnblock.status === 'unknown' || event.output.pin?.status === 'unknown' })),
            },
            onError: { target: 'refreshing', actions: assign({ activation: { appUnblock: { status: 'unknown', code: 800 } }, inFlight: false, needsRefresh: true }) },
          },
        },
        refreshing: {
          on: { CANCEL: {}, CARD_REMOVED: { actions: 'markGone' } },
          always: { guard: ({ context }) => context.cardGone, target: 'completing', actions: assign({ triesLeft: ({ context }) => (context.needsRefresh ? undefined : context.triesLeft) }) },
          invoke: {
            src: 'readPinStatus',
            onDone: { target: 'completing', actions: assign(({ event }) => ({ triesLeft: event.output.triesLeft, cardState: event.output.cardState, needsRefresh: false })) },
            onError: { target: 'completing' },
          },
        },
        completing: {
          on: { CANCEL: {}, CARD_REMOVED: { actions: 'markGone' } },
          entry: { type: 'setResult', params: ({ context }) => resultOf(context) },
          invoke: {
            src: 'journalComplete',
            input: ({ context }) => ({
              operationId: context.operationId!,
              outcome: journalOutcome(context.result!),
              reason: reasonOf(context.result!),
              ...lastSwOf(context),
              ...(context.triesLeft === undefined ? {} : { triesLeft: context.triesLeft }),
              ...(context.cardState === undefined ? {} : { cardState: context.cardState }),
            }),
            onDone: { target: 'bank', actions: assign(({ context }) => ({ completedOperationId: context.operationId, operationId: undefined })) },
            onError: { target: 'bank', actions: assign(({ context }) => ({ completedOperationId: context.operationId, operationId: undefined })) },
          },
        },
        bank: {
          on: { CANCEL: {}, CARD_REMOVED: { actions: 'markGone' } },
          always: { guard: not('bankRequest'), target: 'finish' },
          invoke: {
            src: 'requestBankActivation',
            input: ({ context }) => ({
              card: { cardId: context.card!.cardId, cardNumber: context.card!.cardNumber, socialSecurityNumber: context.card!.socialSecurityNumber, name: context.card!.name },
              ...(context.operatorId === undefined ? {} : { operatorId: context.operatorId }),
              ...(context.completedOperationId === undefined ? {} : { operationId: context.completedOperationId }),
            }),
            onDone: {
              target: 'finish',
              actions: { type: 'setResult', params: ({ context }) => ({ ...context.result!, bank: { ...context.result!.bank!, recorded: true } }) },
            },
            onError: { target: 'finish', actions: { type: 'setResult', params: ({ context }) => results.bankNotRecorded(context.result!) } },
          },
        },
        refusing: {
          on: { CANCEL: {}, CARD_REMOVED: { actions: 'markGone' } },
          invoke: {
            src: 'journalRefusal',
            input: ({ context }) => ({
              kind: context.kind!,
              role: context.config.role,
              ...(context.operatorId === undefined ? {} : { operatorId: context.operatorId }),
              ...(context.card === undefined ? {} : { card: { cardId: context.card.cardId, cardNumber: context.card.cardNumber, socialSecurityNumber: context.card.socialSecurityNumber, name: context.card.name } }),
              materials: context.materials,
              missing: refusalMissing(context),
              reason: reasonOf(context.result!),
              ...(context.triesLeft === undefined ? {} : { triesLeft: context.triesLeft }),
            }),
            onDone: { target: 'finish' },
            onError: { target: 'finish' },
          },
        },
        finish: { type: 'final' },
      },
    },
    done: {
      entry: ['emitResult', assign({ kind: undefined })],
      after: { inactivity: { target: 'ended' } },
      on: {
        SELECT_SERVICE: { target: 'service', actions: assign({ kind: ({ event }) => event.kind, result: undefined, requestPhones: ({ event }) => event.phones ?? [] }) },
      },
    },
    ended: {
      entry: emit({ type: 'session.ended' as const }),
    },
    removed: {
      entry: [
        'wipePins',
        assign(({ context }) => {
          if (context.kind === undefined) return {};
          const result = removalResult(context);
          return { result, triesLeft: context.inFlight || context.needsRefresh ? undefined : context.triesLeft };
        }),
        enqueueActions(({ context, enqueue }) => {
          if (context.kind !== undefined) enqueue.emit({ type: 'result' as const, result: context.result! });
          enqueue.emit({ type: 'card.removed' as const });
        }),
      ],
      // The journal row is completed only when one is open: the invoke lives in its own state so
      // its input is never computed without a row (or a result, e.g. removal with no service).
      initial: 'checking',
      states: {
        checking: {
          always: [{ guard: ({ context }) => context.operationId === undefined || context.result === undefined, target: '#session.idle' }, { target: 'journaling' }],
        },
        journaling: {
          invoke: {
            src: 'journalComplete',
            input: ({ context }) => ({
              operationId: context.operationId!,
              outcome: journalOutcome(context.result!),
              reason: context.inFlight ? 'card-removed-in-flight' : reasonOf(context.result!),
            }),
            onDone: { target: '#session.idle' },
            onError: { target: '#session.idle' },
          },
        },
      },
    },
  },
});

export type SessionMachine = typeof sessionMachine;
