/**
 * The card session and its services as one xstate v5 machine:
 *
 *   idle → identifying → identified → service (routing → [operator] → [materials] → [querying]
 *   → pinEntry… → [checkingNew] → journaling → sending → send<Command> → refreshing → completing
 *   → [bank]) → done → (card removed) → removed → idle
 *
 * Every side effect is a named actor (state/actors.ts) supplied with `machine.provide`; this file
 * imports no driver, database or network. The context and events are in state/session-context.ts,
 * what a flow's answers come to in state/session-outcome.ts. PIN digits never enter the machine:
 * `enterPin` fills a vault slot and sends back a digit count; the card-operation actors take the
 * PINs from the vault.
 *
 * Safety (docs/architecture.md "Habits": never retry a command that spends a PIN try or changes
 * card state): a state-changing command is invoked once, never re-entered; the journal's `pending`
 * row is written before it (`journaling`); a card removal or transport error while it is in flight
 * ends the flow with outcome `unknown`, and the tries left / state are re-read (`refreshing`, and on
 * re-insertion `identifying`) before anything else on that card. A card taken out before the
 * command provably went (the removal seen during `journaling`, or the actor's `notSent` with
 * Pcsc_CardRemoved: drivers/card/ssse-operations.ts) ends `card.removed`, its pending row
 * completed `failed` / `card-removed`: nothing was done, nothing is left to reconcile.
 */
import { assign, emit, enqueueActions, fromCallback, fromPromise, setup } from 'xstate';
import type { DoneActorEvent } from 'xstate';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import type {
  ActivationOutput,
  BankActivationInput,
  CardIdentification,
  CardOpOutput,
  CheckNewPinInput,
  CheckNewPinOutput,
  EnterPinInput,
  JournalBeginInput,
  JournalCompleteInput,
  JournalRefusalInput,
  OperatorOutput,
  PinState,
  ReadIdCardInput,
  ReadIdCardOutput,
} from './actors.js';
import { cardProvince, provinceName, withWhere } from './hall.js';
import { agentDecision, applyIdRead, idReadEvent, requiredMaterials } from './session-identity.js';
import { checkMaterials } from './materials.js';
import type { ServiceKind, ServiceResult } from './results.js';
import { results } from './results.js';
import { bankAccountActivation, capability } from './roles.js';
import type { SessionConfig, SessionContext, SessionEmitted, SessionEvent } from './session-context.js';
import { PIN_ENTRY_PLANS, initialContext } from './session-context.js';
import {
  ACTIVATION_LOST,
  NOT_SENT_CARD_GONE,
  applyOp,
  journalOutcome,
  lastSwOf,
  lostOp,
  pinStateRefusal,
  reasonOf,
  refusalCard,
  refusalMissing,
  removalResult,
  resultOf,
  withOperation,
} from './session-outcome.js';

export type { SessionConfig, SessionContext, SessionEmitted, SessionEvent } from './session-context.js';
export { DEFAULT_INACTIVITY_MS, DEFAULT_PIN_ENTRY_MS, DEFAULT_TRIES_FLOOR } from './session-context.js';
export { resultOf } from './session-outcome.js';

function missing(name: string): never {
  throw new Error(`session actor "${name}" was not provided (machine.provide({ actors }))`);
}

function capabilityOf(ctx: SessionContext) {
  return capability(ctx.config.role, ctx.kind!, ctx.config.offered);
}

/** The card's province when it is not the configured one (申请条件 二); undefined when it is, or nothing is configured. */
function otherProvinceOf(ctx: SessionContext): string | undefined {
  const want = ctx.config.province;
  const got = ctx.card === undefined ? undefined : cardProvince(ctx.card.cardId);
  return want === undefined || got === undefined || got === want ? undefined : got;
}

/**
 * A reset on a blocked PIN goes on only where the card make's RELOAD sets a blocked PIN and a window
 * runs it (the unlock needs 本人社保卡、身份证 at a window: seed 000 FAQ lines 347–351).
 */
function resetOnBlocked(ctx: SessionContext): boolean {
  return ctx.card?.reloadsBlockedPin === true && ctx.config.role !== 'kiosk';
}

function needsIdCard(ctx: SessionContext): boolean {
  return requiredMaterials(ctx).includes('residentIdCard');
}

/** Services that send a new PIN the PSAM encrypts or MACs: the digits must come to the terminal. */
const SETS_PIN_BY_PSAM: ReadonlySet<ServiceKind> = new Set(['reset', 'unblock', 'activate']);

const session = setup({
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
    journalRefusal: fromPromise<string, JournalRefusalInput>(() => missing('journalRefusal')),
    requestBankActivation: fromPromise<string, BankActivationInput>(() => missing('requestBankActivation')),
  },
  actions: {
    /** Wipe every PIN slot of the session's vault (daemon/flows provides it). */
    wipePins: () => {},
    /** Every result: one that sends the holder elsewhere names the hall's window (state/hall.ts). */
    setResult: assign({ result: ({ context }, r: ServiceResult) => withWhere(r, context.config.catalog) }),
    emitResult: emit(({ context }) => ({ type: 'result' as const, result: context.result! })),
    markGone: assign({ cardGone: true }),
    /** A SELECT_SERVICE: the service, the caller's phones, and who applies (state/agents.ts). */
    takeRequest: assign(({ event }) => {
      const e = event as Extract<SessionEvent, { type: 'SELECT_SERVICE' }>;
      return { kind: e.kind, result: undefined, requestPhones: e.phones ?? [], agent: e.agent };
    }),
  },
  guards: {
    otherProvince: ({ context }) => otherProvinceOf(context) !== undefined,
    roleRefuses: ({ context }) => !capabilityOf(context).allowed,
    appLocked: ({ context }) => context.cardState === 'appLocked',
    expiredRefused: ({ context }) => context.card?.expired === true && context.config.expiredCard === 'refuse',
    activateOnActive: ({ context }) => context.kind === 'activate' && context.cardState !== 'notActivated',
    notActivated: ({ context }) => context.kind !== 'activate' && context.cardState === 'notActivated',
    pinStateRefuses: ({ context }) => pinStateRefusal(context.kind!, context.cardState, context.triesLeft, resetOnBlocked(context)) !== undefined,
    operatorRequired: ({ context }) => capabilityOf(context).operatorRequired && context.operatorId === undefined,
    needsIdCard: ({ context }) => needsIdCard(context),
    agentRefused: ({ context }) => context.agent !== undefined && !agentDecision(context).allowed,
    spendsTry: ({ context }) => context.kind === 'verify' || context.kind === 'change',
    belowFloor: ({ context }) => context.config.role === 'kiosk' && context.triesLeft !== undefined && context.triesLeft <= context.config.triesFloor,
    moreEntries: ({ context }) => context.step + 1 < context.plan.length,
    hasNewPin: ({ context }) => context.kind !== 'verify',
    isKind: ({ context }, kind: ServiceKind) => context.kind === kind,
    bankRequest: ({ context }) => context.kind === 'activate' && context.result?.code === 'activate.ok' && bankAccountActivation(context.config.role).attempted,
    padCannotSetPin: ({ context }) => !context.config.pinEntry.plain && SETS_PIN_BY_PSAM.has(context.kind!),
    // docs/security.md "PIN policy and secure PIN entry": a change made inside the reader is never checked.
    padSkipsPolicy: ({ context }) => context.kind === 'change' && context.config.requirePinPolicy && context.config.pinEntry.secureChange === true,
  },
  delays: {
    inactivity: ({ context }) => context.config.inactivityMs,
    pinEntry: ({ context }) => context.config.pinEntryMs,
  },
});

/** While a pending row or a state-changing command is under way: CANCEL is ignored, a removal is noted and the flow runs to its end. */
const RUNS_TO_ITS_END = { CANCEL: {}, CARD_REMOVED: { actions: 'markGone' } } as const;

/**
 * The state-changing PIN commands, one state each (the state names are what tests and logs see):
 * each invokes its actor once, never re-entered, then re-reads the card (`refreshing`).
 * Activation (two commands) has its own state below.
 */
const SEND_PIN = {
  verify: { state: 'sendVerify', actor: 'verifyPin' },
  change: { state: 'sendChange', actor: 'changePin' },
  reset: { state: 'sendReload', actor: 'reloadPin' },
  unblock: { state: 'sendUnblock', actor: 'unblockPin' },
} as const;
type PinCommandKind = keyof typeof SEND_PIN;
const PIN_COMMAND_KINDS = Object.keys(SEND_PIN) as PinCommandKind[];

/** One send state of {@link SEND_PIN}. */
function sendPinState(kind: PinCommandKind) {
  return session.createStateConfig({
    on: RUNS_TO_ITS_END,
    invoke: {
      src: SEND_PIN[kind].actor,
      onDone: { target: 'refreshing', actions: assign(({ context, event }: { context: SessionContext; event: DoneActorEvent<CardOpOutput> }) => applyOp(context, event.output)) },
      onError: { target: 'refreshing', actions: assign(lostOp) },
    },
  });
}

export const sessionMachine = session.createMachine({
  id: 'session',
  context: ({ input }) => initialContext(input),
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
              expiryDate: context.card!.expiryDate,
              expired: context.card!.expired,
              profile: context.card!.profile ?? 'default',
            })),
          ],
        },
        onError: {
          target: 'ended',
          // Without the PSAM the card is not at fault: the terminal says so (and re-reads the card once its PSAM is up).
          actions: [{ type: 'setResult', params: ({ event }) => (isSsCardError(event.error, ErrorCode.Psam_Missing) ? results.psamUnavailable() : results.cardUnreadable()) }, 'emitResult'],
        },
      },
    },
    identified: {
      after: { inactivity: { target: 'ended', actions: [{ type: 'setResult', params: results.sessionTimeout(undefined) }, 'emitResult'] } },
      on: {
        SELECT_SERVICE: { target: 'service', actions: 'takeRequest' },
      },
    },
    service: {
      initial: 'routing',
      entry: [
        emit(({ context }) => ({ type: 'service.started' as const, kind: context.kind! })),
        assign({ plan: ({ context }) => PIN_ENTRY_PLANS[context.kind!], step: 0, digits: 0, materials: ({ context }) => ['socialSecurityCard' as const, ...(context.agent?.presented ?? [])], idRefusal: undefined, agentIdentity: undefined, policyChecked: true, lastOp: undefined, activation: undefined, completedOperationId: undefined }),
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
            // 申请条件 二 (seed 000 line 224, seed 001 line 47): a card of this province only.
            { guard: 'otherProvince', target: 'refusing', actions: { type: 'setResult', params: ({ context }) => results.cardOtherProvince(context.kind!, provinceName(otherProvinceOf(context)!)) } },
            { guard: 'roleRefuses', target: 'refusing', actions: { type: 'setResult', params: ({ context }) => results.roleNotAllowed(context.kind!, capabilityOf(context).reason) } },
            // state/agents.ts: an agent only at a counter, where the hall's catalog lists materials for one.
            { guard: 'agentRefused', target: 'refusing', actions: { type: 'setResult', params: ({ context }) => { const d = agentDecision(context); return results.agentNotAllowed(context.kind!, d.allowed ? { zh: '', en: '' } : d.reason); } } },
            { guard: 'appLocked', target: 'refusing', actions: { type: 'setResult', params: ({ context }) => results.cardAppLocked(context.kind) } },
            // Seed 001 line 60 (001_bf9ce8a90a3e7ce5.txt): the card must be 真实有效; docs/config.md session.expiredCard.
            { guard: 'expiredRefused', target: 'refusing', actions: { type: 'setResult', params: ({ context }) => results.cardExpired(context.kind!, context.card!.expiryDate) } },
            { guard: 'activateOnActive', target: 'refusing', actions: { type: 'setResult', params: () => results.cardAlreadyActive() } },
            { guard: 'notActivated', target: 'refusing', actions: { type: 'setResult', params: ({ context }) => results.cardNotActivated(context.kind!) } },
            { guard: 'pinStateRefuses', target: 'refusing', actions: { type: 'setResult', params: ({ context }) => pinStateRefusal(context.kind!, context.cardState, context.triesLeft, resetOnBlocked(context))! } },
            // Before the operator, the ID card or any PIN: this pad could never bring the new PIN.
            { guard: 'padCannotSetPin', target: 'refusing', actions: { type: 'setResult', params: ({ context }) => results.pinPadUnsupported(context.kind!) } },
            { guard: 'padSkipsPolicy', target: 'refusing', actions: { type: 'setResult', params: ({ context }) => results.pinPadPolicyUnchecked(context.kind!) } },
            { target: 'operatorCheck' },
          ],
        },
        // The states that invoke an actor only some services need (the operator, an ID card, the
        // PIN state before entry, the bank) are entered only through a choice in front of them: a
        // state entered and left at once by an eventless transition would still make its actor and
        // arm its timers (xstate creates a state's invoked actors on entry and stops them on exit).
        operatorCheck: {
          always: [{ guard: 'operatorRequired', target: 'operator' }, { target: 'idCardCheck' }],
        },
        operator: {
          after: { inactivity: { target: 'refusing', actions: { type: 'setResult', params: ({ context }) => results.sessionTimeout(context.kind) } } },
          invoke: {
            src: 'authenticateOperator',
            onDone: { target: 'idCardCheck', actions: assign({ operatorId: ({ event }) => event.output.operatorId }) },
            onError: { target: 'refusing', actions: { type: 'setResult', params: ({ context }) => results.operatorRequired(context.kind!) } },
          },
        },
        idCardCheck: {
          always: [{ guard: 'needsIdCard', target: 'materials' }, { target: 'agentCheck' }],
        },
        materials: {
          entry: emit({ type: 'idCard.requested' as const, whose: 'holder' as const }),
          invoke: {
            src: 'readIdCard',
            input: ({ context }) => ({ socialSecurityNumber: context.card!.socialSecurityNumber, timeoutMs: context.config.inactivityMs, whose: 'holder' as const }),
            onDone: {
              target: 'agentCheck',
              actions: [assign(({ context, event }) => applyIdRead(context, event.output, 'holder')), emit(({ context, event }) => idReadEvent(context, event.output, 'holder'))],
            },
            onError: { target: 'agentCheck', actions: emit(({ context }) => idReadEvent(context, { read: false }, 'holder')) },
          },
        },
        // Someone applies for the holder (state/agents.ts): their own document, after the holder's.
        agentCheck: {
          always: [{ guard: ({ context }) => context.agent !== undefined && context.idRefusal === undefined, target: 'agentDocument' }, { target: 'materialsCheck' }],
        },
        agentDocument: {
          entry: emit({ type: 'idCard.requested' as const, whose: 'agent' as const }),
          invoke: {
            src: 'readIdCard',
            input: ({ context }) => ({ socialSecurityNumber: context.card!.socialSecurityNumber, timeoutMs: context.config.inactivityMs, whose: 'agent' as const, another: context.materials.includes('residentIdCard') }),
            onDone: {
              target: 'materialsCheck',
              actions: [assign(({ context, event }) => applyIdRead(context, event.output, 'agent')), emit(({ context, event }) => idReadEvent(context, event.output, 'agent'))],
            },
            onError: { target: 'materialsCheck', actions: emit(({ context }) => idReadEvent(context, { read: false }, 'agent')) },
          },
        },
        materialsCheck: {
          always: [
            { guard: ({ context }) => context.idRefusal !== undefined, target: 'refusing', actions: { type: 'setResult', params: ({ context }) => context.idRefusal! } },
            {
              guard: ({ context }) => !checkMaterials(requiredMaterials(context), context.materials).complete,
              target: 'refusing',
              actions: {
                type: 'setResult',
                params: ({ context }) => {
                  const m = checkMaterials(requiredMaterials(context), context.materials);
                  return results.materialsMissing(context.kind!, m.missing.map((x) => x.material), { zh: m.zh, en: m.en });
                },
              },
            },
            { target: 'triesCheck' },
          ],
        },
        triesCheck: {
          always: [{ guard: 'spendsTry', target: 'querying' }, { target: 'pinEntry' }],
        },
        querying: {
          invoke: {
            src: 'readPinStatus',
            onDone: { target: 'floorCheck', actions: assign(({ event }) => ({ triesLeft: event.output.triesLeft, cardState: event.output.cardState })) },
            onError: { target: 'refusing', actions: { type: 'setResult', params: () => results.cardUnreadable() } },
          },
        },
        floorCheck: {
          always: [
            // verify / change only (spendsTry): the PIN read just now may be blocked.
            { guard: 'pinStateRefuses', target: 'refusing', actions: { type: 'setResult', params: ({ context }) => pinStateRefusal(context.kind!, context.cardState, context.triesLeft, resetOnBlocked(context))! } },
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
              // A check the wiring could not make (secure change) where the terminal requires it: a
              // second guard behind routing's padSkipsPolicy, before the pending row and any APDU.
              {
                guard: ({ context, event }) => event.output.ok && event.output.policyChecked === false && context.config.requirePinPolicy,
                target: 'refusing',
                actions: { type: 'setResult', params: ({ context }) => results.pinPadPolicyUnchecked(context.kind!) },
              },
              { guard: ({ event }) => event.output.ok, target: 'journaling', actions: assign({ policyChecked: ({ event }) => !(event.output.ok && event.output.policyChecked === false) }) },
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
          on: RUNS_TO_ITS_END,
          invoke: {
            src: 'journalBegin',
            input: ({ context }) => ({
              kind: context.kind!,
              role: context.config.role,
              ...(context.operatorId === undefined ? {} : { operatorId: context.operatorId }),
              card: { cardId: context.card!.cardId, cardNumber: context.card!.cardNumber, socialSecurityNumber: context.card!.socialSecurityNumber, name: context.card!.name },
              materials: context.materials,
              ...(context.agentIdentity === undefined ? {} : { agent: context.agentIdentity }),
            }),
            onDone: { target: 'sending', actions: assign({ operationId: ({ event }) => event.output }) },
            onError: {
              target: 'finish',
              actions: {
                type: 'setResult',
                params: ({ context, event }) =>
                  withOperation(
                    results.cardRefused(context.kind!, isSsCardError(event.error) ? event.error.text : { zh: '无法记录业务日志，业务未办理。', en: 'The operation could not be journaled; nothing was done.' }),
                    // A hotlisted card: the journal wrote the refusal's row (Journal_CardHotlisted, its context's refusalId).
                    isSsCardError(event.error) && typeof event.error.context?.['refusalId'] === 'string' ? event.error.context['refusalId'] : undefined,
                  ),
              },
            },
          },
        },
        sending: {
          on: RUNS_TO_ITS_END,
          entry: assign({ inFlight: true }),
          always: [
            { guard: ({ context }) => context.cardGone, target: 'completing', actions: assign({ inFlight: false, lastOp: NOT_SENT_CARD_GONE, activation: { appUnblock: NOT_SENT_CARD_GONE } }) },
            ...PIN_COMMAND_KINDS.map((kind) => ({ guard: { type: 'isKind' as const, params: kind }, target: SEND_PIN[kind].state })),
            { target: 'sendActivate' },
          ],
        },
        sendVerify: sendPinState('verify'),
        sendChange: sendPinState('change'),
        sendReload: sendPinState('reset'),
        sendUnblock: sendPinState('unblock'),
        sendActivate: {
          on: RUNS_TO_ITS_END,
          invoke: {
            src: 'activateCard',
            onDone: {
              target: 'refreshing',
              actions: assign(({ event }) => ({ activation: event.output, inFlight: false, needsRefresh: event.output.appUnblock.status === 'unknown' || event.output.pin?.status === 'unknown' })),
            },
            onError: { target: 'refreshing', actions: assign({ activation: ACTIVATION_LOST, inFlight: false, needsRefresh: true }) },
          },
        },
        refreshing: {
          on: RUNS_TO_ITS_END,
          always: { guard: ({ context }) => context.cardGone, target: 'completing', actions: assign({ triesLeft: ({ context }) => (context.needsRefresh ? undefined : context.triesLeft) }) },
          invoke: {
            src: 'readPinStatus',
            onDone: { target: 'completing', actions: assign(({ event }) => ({ triesLeft: event.output.triesLeft, cardState: event.output.cardState, needsRefresh: false })) },
            onError: { target: 'completing' },
          },
        },
        completing: {
          on: RUNS_TO_ITS_END,
          entry: { type: 'setResult', params: ({ context }) => withOperation(resultOf(context), context.operationId) },
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
            onDone: { target: 'bankCheck', actions: assign(({ context }) => ({ completedOperationId: context.operationId, operationId: undefined })) },
            onError: { target: 'bankCheck', actions: assign(({ context }) => ({ completedOperationId: context.operationId, operationId: undefined })) },
          },
        },
        bankCheck: {
          always: [{ guard: 'bankRequest', target: 'bank' }, { target: 'finish' }],
        },
        bank: {
          on: RUNS_TO_ITS_END,
          invoke: {
            src: 'requestBankActivation',
            input: ({ context }) => ({
              card: { cardId: context.card!.cardId, cardNumber: context.card!.cardNumber, socialSecurityNumber: context.card!.socialSecurityNumber, name: context.card!.name },
              ...(context.operatorId === undefined ? {} : { operatorId: context.operatorId }),
              ...(context.completedOperationId === undefined ? {} : { operationId: context.completedOperationId }),
            }),
            onDone: {
              target: 'finish',
              actions: { type: 'setResult', params: ({ context }) => results.bankRecorded(context.result!) },
            },
            onError: { target: 'finish', actions: { type: 'setResult', params: ({ context }) => results.bankNotRecorded(context.result!) } },
          },
        },
        refusing: {
          on: RUNS_TO_ITS_END,
          invoke: {
            src: 'journalRefusal',
            input: ({ context }) => ({
              kind: context.kind!,
              role: context.config.role,
              ...(context.operatorId === undefined ? {} : { operatorId: context.operatorId }),
              ...refusalCard(context),
              materials: context.materials,
              missing: refusalMissing(context),
              reason: reasonOf(context.result!),
              ...(context.triesLeft === undefined ? {} : { triesLeft: context.triesLeft }),
              ...(context.agentIdentity === undefined ? {} : { agent: context.agentIdentity }),
            }),
            // The refusal's row names the 办件 on a receipt too (docs/api.md operationId).
            onDone: { target: 'finish', actions: assign({ result: ({ context, event }) => withOperation(context.result!, event.output) }) },
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
        SELECT_SERVICE: { target: 'service', actions: 'takeRequest' },
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
          const result = withOperation(withWhere(removalResult(context), context.config.catalog), context.operationId);
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
