/**
 * What the card session makes of a flow's answers (state/session.ts): the result of a finished
 * state-changing flow, the context changes from a card command's answer, the result when the card
 * is taken out, and the words the journal keeps. Pure functions of the session's context.
 */
import { SW_OK } from '../apdu/sw.js';
import { ErrorCode } from '../core/errors.js';
import { isMaterial } from './materials.js';
import type { ActivationOutput, CardOpOutput, CardRef, CardState, JournalCompleteInput, PresentedMaterial } from './actors.js';
import { NO_JOURNAL_ROW } from './actors.js';
import type { ResultOutcome, ServiceKind, ServiceResult } from './results.js';
import { results } from './results.js';
import { bankAccountActivation } from './roles.js';
import type { SessionContext } from './session-context.js';

/**
 * A state-changing command's actor failed without telling what became of the command: it may have
 * been sent, so the outcome is unknown (core/errors.ts Flow_OutcomeUnknown) and the card is re-read.
 */
export const ANSWER_LOST: CardOpOutput = Object.freeze({ status: 'unknown', code: ErrorCode.Flow_OutcomeUnknown });

/** The same for card activation: its first command's outcome is unknown. */
export const ACTIVATION_LOST: ActivationOutput = Object.freeze({ appUnblock: ANSWER_LOST });

/**
 * The card was seen taken out before the command was sent (the removal arrived while the journal
 * row was being written): not sent, core/errors.ts Pcsc_CardRemoved — the card is unchanged.
 */
export const NOT_SENT_CARD_GONE: CardOpOutput = Object.freeze({ status: 'notSent', code: ErrorCode.Pcsc_CardRemoved });

/**
 * The card's state once its PIN tries left are known (state/card-state.ts): no tries left is
 * `pinBlocked` (6983), tries again after that `active`; otherwise the state stays what it was.
 */
export function cardStateAfter(left: number | undefined, prev: CardState | undefined): CardState | undefined {
  if (left === 0) return 'pinBlocked';
  if (left !== undefined && prev === 'pinBlocked') return 'active';
  return prev;
}

/**
 * The PIN's state refuses the service: unblock needs a blocked PIN (card.notBlocked), every other
 * service one that is not blocked (card.locked). Undefined: the PIN's state allows it.
 */
export function pinStateRefusal(kind: ServiceKind, cardState: CardState | undefined, triesLeft: number | undefined, resetOnBlocked = false): ServiceResult | undefined {
  if (kind === 'unblock') return cardState === 'pinBlocked' ? undefined : results.cardNotBlocked(triesLeft);
  // A card make whose RELOAD sets a blocked PIN (profile reloadOnBlockedPin) may be reset at a
  // window: the same operator and ID card as an unblock (seed 000 FAQ lines 347–351).
  if (kind === 'reset' && resetOnBlocked) return undefined;
  return cardState === 'pinBlocked' ? results.cardLocked(kind) : undefined;
}

/** A command not sent because the card had been taken out (daemon/flows: Pcsc_CardRemoved / Pcsc_NoCard). */
export function removedBeforeSending(op: CardOpOutput | undefined): boolean {
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
    if (app.sw !== SW_OK) return results.cardError(kind, app.sw, left);
    const pin = a!.pin;
    if (pin === undefined || pin.status !== 'answered' || pin.sw !== SW_OK) return results.activatePinNotSet(left);
    return results.activateOk(left, bankAccountActivation(ctx.config.role));
  }
  const op = ctx.lastOp;
  if (op === undefined || op.status === 'unknown') return results.unknown(kind, left);
  if (removedBeforeSending(op)) return results.cardRemoved(kind);
  if (op.status === 'notSent') return results.notSent(kind, left);
  if (op.status === 'refused') return results.pinPolicy(kind, op.violations);
  const sw = op.sw;
  if (sw === SW_OK) {
    if (kind === 'verify') return results.verifyOk(left);
    if (kind === 'change') return results.changeOk(left, ctx.policyChecked);
    if (kind === 'reset') return results.resetOk(left);
    return results.unblockOk(left);
  }
  if (op.blocked) return results.locked(kind, sw);
  if (op.triesLeft !== undefined) return kind === 'change' ? results.changeWrong(op.triesLeft, sw) : results.verifyWrong(op.triesLeft, sw);
  return results.cardError(kind, sw, left);
}

/** Context changes from a card operation's answer: tries left from 63Cx / 6983 at once. */
export function applyOp(ctx: SessionContext, op: CardOpOutput): Partial<SessionContext> {
  if (op.status !== 'answered') return { lastOp: op, inFlight: false, needsRefresh: op.status === 'unknown' };
  const left = op.triesLeft ?? (op.sw === SW_OK && ctx.kind !== 'verify' && ctx.kind !== 'change' ? undefined : ctx.triesLeft);
  return { lastOp: op, inFlight: false, triesLeft: left, cardState: cardStateAfter(left, ctx.cardState) };
}

/** The operation actor failed without an outcome: treat as unknown (it may have sent the command). */
export function lostOp(): Partial<SessionContext> {
  return { lastOp: ANSWER_LOST, inFlight: false, needsRefresh: true };
}

/** The result when the card is taken out during a service. */
/** The result with the flow's journal row named (the holder's receipt and a clerk's lookup use it). */
export function withOperation(r: ServiceResult, operationId: string | undefined): ServiceResult {
  return operationId === undefined || operationId === NO_JOURNAL_ROW ? r : { ...r, operationId };
}

export function removalResult(ctx: SessionContext): ServiceResult {
  if (ctx.result !== undefined) return ctx.result;
  const kind = ctx.kind!;
  if (ctx.inFlight) return results.unknown(kind, undefined);
  if (ctx.lastOp !== undefined || ctx.activation !== undefined) return resultOf(ctx);
  return results.cardRemoved(kind);
}

/** The last status word the card answered in this flow (the journal's lastSw), whatever the result says. */
export function lastSwOf(ctx: SessionContext): { lastSw?: number } {
  const a = ctx.activation;
  const op = a === undefined ? ctx.lastOp : a.pin !== undefined && a.pin.status === 'answered' ? a.pin : a.appUnblock;
  if (op?.status === 'answered' || op?.status === 'refused') return { lastSw: op.sw };
  return ctx.result?.sw === undefined ? {} : { lastSw: ctx.result.sw };
}

export function journalOutcome(r: ServiceResult): JournalCompleteInput['outcome'] {
  // A pending row ends card.removed only when its command was never sent (resultOf): like
  // operation.notSent it is `failed` (not done), with the reason card-removed, and not unknown.
  if (r.code === 'card.removed') return 'failed';
  const o: ResultOutcome = r.outcome;
  return o === 'refused' ? 'failed' : o;
}

export function reasonOf(r: ServiceResult): string {
  return r.code.replace(/([A-Z])/g, '-$1').replace(/\./g, '-').toLowerCase();
}

export function refusalMissing(ctx: SessionContext): PresentedMaterial[] {
  return ctx.result?.missing === undefined ? [] : ctx.result.missing.filter(isMaterial);
}

/**
 * The card a refusal is journaled against: none when the card gave no 卡识别码 (an
 * application-locked card may refuse even EF05, docs/domain.md §2), else its identity as read.
 */
export function refusalCard(ctx: SessionContext): { card?: CardRef } {
  const c = ctx.card;
  if (c === undefined || c.cardId === '') return {};
  return { card: { cardId: c.cardId, cardNumber: c.cardNumber, socialSecurityNumber: c.socialSecurityNumber, name: c.name } };
}
