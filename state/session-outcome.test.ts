/**
 * What the session makes of a flow's answers (state/session-outcome.ts), as pure functions of the
 * context: the machine's own tests (session*.test.ts) run them through whole flows; these pin each
 * answer → result row, the status words by ISO/IEC 7816-4:2020 §5.6 (9000, 63Cx, 6983).
 */
import { describe, expect, it } from 'vitest';
import { SW_OK, SW_PIN_BLOCKED, swWrongPin } from '../apdu/sw.js';
import { ErrorCode } from '../core/errors.js';
import type { ActivationOutput, CardOpOutput } from './actors.js';
import type { ResultCode, ServiceKind } from './results.js';
import type { SessionContext } from './session-context.js';
import { initialContext } from './session-context.js';
import {
  ACTIVATION_LOST,
  ANSWER_LOST,
  NOT_SENT_CARD_GONE,
  applyOp,
  cardStateAfter,
  journalOutcome,
  lostOp,
  pinStateRefusal,
  reasonOf,
  removalResult,
  resultOf,
} from './session-outcome.js';
import type { CardState } from './card-state.js';

function ctx(over: Partial<SessionContext>): SessionContext {
  return { ...initialContext({ role: 'financial-counter' }), triesLeft: 6, cardState: 'active', ...over };
}

const answered = (sw: number, extra: { triesLeft?: number; blocked?: boolean } = {}): CardOpOutput => ({ status: 'answered', sw, blocked: extra.blocked ?? false, ...extra });

describe('resultOf: a PIN command’s answer → the flow’s result', () => {
  it.each<[string, ServiceKind, CardOpOutput | undefined, ResultCode]>([
    ['9000 verify', 'verify', answered(SW_OK), 'verify.ok'],
    ['9000 change', 'change', answered(SW_OK), 'change.ok'],
    ['9000 reset', 'reset', answered(SW_OK), 'reset.ok'],
    ['9000 unblock', 'unblock', answered(SW_OK), 'unblock.ok'],
    ['63C5 verify', 'verify', answered(swWrongPin(5), { triesLeft: 5 }), 'verify.wrongPin'],
    ['63C5 change', 'change', answered(swWrongPin(5), { triesLeft: 5 }), 'change.wrongPin'],
    ['6983', 'verify', answered(SW_PIN_BLOCKED, { blocked: true }), 'verify.locked'],
    ['another SW', 'reset', answered(0x6a82), 'card.error'],
    ['no answer', 'verify', ANSWER_LOST, 'operation.unknown'],
    ['never ran', 'verify', undefined, 'operation.unknown'],
    ['not sent: card gone', 'change', NOT_SENT_CARD_GONE, 'card.removed'],
    ['not sent: no card', 'change', { status: 'notSent', code: ErrorCode.Pcsc_NoCard }, 'card.removed'],
    ['not sent: other', 'change', { status: 'notSent', code: ErrorCode.Flow_NotSent }, 'operation.notSent'],
    ['refused by the policy', 'change', { status: 'refused', sw: SW_OK, violations: [] }, 'pin.policy'],
  ])('%s (%s) → %s', (_what, kind, lastOp, code) => {
    expect(resultOf(ctx({ kind, lastOp })).code).toBe(code);
  });
});

describe('resultOf: activation', () => {
  it.each<[string, ActivationOutput | undefined, ResultCode]>([
    ['both 9000', { appUnblock: answered(SW_OK), pin: answered(SW_OK) }, 'activate.ok'],
    ['PIN not set', { appUnblock: answered(SW_OK), pin: answered(0x6a82) }, 'activate.pinNotSet'],
    ['APP UNBLOCK refused', { appUnblock: answered(0x6985) }, 'card.error'],
    ['APP UNBLOCK lost', ACTIVATION_LOST, 'operation.unknown'],
    ['PIN lost', { appUnblock: answered(SW_OK), pin: ANSWER_LOST }, 'operation.unknown'],
    ['card gone before sending', { appUnblock: NOT_SENT_CARD_GONE }, 'card.removed'],
  ])('%s → %s', (_what, activation, code) => {
    expect(resultOf(ctx({ kind: 'activate', activation })).code).toBe(code);
  });
});

describe('the named outcomes', () => {
  it('ANSWER_LOST is Flow_OutcomeUnknown, NOT_SENT_CARD_GONE is Pcsc_CardRemoved', () => {
    expect(ANSWER_LOST).toEqual({ status: 'unknown', code: 800 });
    expect(ACTIVATION_LOST).toEqual({ appUnblock: { status: 'unknown', code: 800 } });
    expect(NOT_SENT_CARD_GONE).toEqual({ status: 'notSent', code: 203 });
  });

  it('lostOp: unknown, not in flight, to be re-read', () => {
    expect(lostOp()).toEqual({ lastOp: ANSWER_LOST, inFlight: false, needsRefresh: true });
  });
});

describe('applyOp: tries left from the answer at once', () => {
  it.each<[string, ServiceKind, CardOpOutput, number | undefined, string | undefined]>([
    ['63C2 → 2 left', 'verify', answered(swWrongPin(2), { triesLeft: 2 }), 2, 'active'],
    ['63C0 → 0 left, PIN blocked', 'verify', answered(swWrongPin(0), { triesLeft: 0 }), 0, 'pinBlocked'],
    ['9000 verify keeps the count read before', 'verify', answered(SW_OK), 6, 'active'],
    ['9000 reset: the count is re-read', 'reset', answered(SW_OK), undefined, 'active'],
  ])('%s', (_what, kind, op, left, state) => {
    const c = applyOp(ctx({ kind, inFlight: true }), op);
    expect(c).toMatchObject({ lastOp: op, inFlight: false, triesLeft: left, cardState: state });
  });

  it('an unknown answer asks for a re-read and keeps the tries', () => {
    expect(applyOp(ctx({ kind: 'verify' }), ANSWER_LOST)).toEqual({ lastOp: ANSWER_LOST, inFlight: false, needsRefresh: true });
  });
});

describe('the journal’s words and the removal result', () => {
  it('card.removed and refusals are failed; reasons are lower-case words', () => {
    const removed = resultOf(ctx({ kind: 'verify', lastOp: NOT_SENT_CARD_GONE }));
    expect(journalOutcome(removed)).toBe('failed');
    expect(reasonOf(removed)).toBe('card-removed');
    const wrong = resultOf(ctx({ kind: 'verify', lastOp: answered(swWrongPin(5), { triesLeft: 5 }) }));
    expect(journalOutcome(wrong)).toBe('failed');
    expect(reasonOf(wrong)).toBe('verify-wrong-pin');
  });

  it('removal: in flight → unknown; before anything was sent → card.removed', () => {
    expect(removalResult(ctx({ kind: 'change', inFlight: true })).code).toBe('operation.unknown');
    expect(removalResult(ctx({ kind: 'change' })).code).toBe('card.removed');
    expect(removalResult(ctx({ kind: 'verify', lastOp: answered(SW_OK) })).code).toBe('verify.ok');
  });
});

describe('the PIN’s state before a service', () => {
  it.each<[ServiceKind, CardState | undefined, ResultCode | undefined]>([
    ['unblock', 'pinBlocked', undefined],
    ['unblock', 'active', 'card.notBlocked'],
    ['unblock', undefined, 'card.notBlocked'],
    ['verify', 'pinBlocked', 'card.locked'],
    ['reset', 'pinBlocked', 'card.locked'],
    ['verify', 'active', undefined],
    ['activate', 'notActivated', undefined],
  ])('%s on a %s card → %s', (kind, state, code) => {
    expect(pinStateRefusal(kind, state, 3)?.code).toBe(code);
  });

  it.each<[number | undefined, CardState | undefined, CardState | undefined]>([
    [0, 'active', 'pinBlocked'],
    [3, 'pinBlocked', 'active'],
    [3, 'active', 'active'],
    [undefined, 'pinBlocked', 'pinBlocked'],
    [2, 'notActivated', 'notActivated'],
  ])('cardStateAfter(%s tries, %s) = %s', (left, prev, next) => {
    expect(cardStateAfter(left, prev)).toBe(next);
  });
});
