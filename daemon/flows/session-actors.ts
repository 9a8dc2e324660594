/**
 * The wiring of the card session (state/session.ts): the named actors built from the drivers —
 * SsseCard over the card's transport, the PSAM client (or an HSM hook of the same shape), a PIN
 * pad, the ID card reader, an operator source and the journal. One {@link PinVault} per session
 * carries the digits from the PIN pad to the card command; the machine sees counts only.
 *
 * Use: `sessionMachine.provide(sessionImplementations(deps))`.
 */
import { randomBytes } from 'node:crypto';
import { fromCallback, fromPromise } from 'xstate';
import { ErrorCode, isSsCardError } from '../../apdu/errors.js';
import { wipe } from '../../apdu/pin.js';
import { triesLeft as swTriesLeft } from '../../apdu/sw.js';
import type { SsseCard } from '../../drivers/card/ssse-card.js';
import type { OperationOutcome, ReloadOptions, SecureModule } from '../../drivers/card/ssse-operations.js';
import { activate, changePin, reloadPin, unblockPin, verifyPin } from '../../drivers/card/ssse-operations.js';
import { matchesSocialSecurityNumber } from '../../drivers/idcard/info.js';
import type { IdCardReader } from '../../drivers/idcard/reader.js';
import type { PinPad, SecurePinResult } from '../../drivers/pinpad/pinpad.js';
import type { Journal } from '../journal/journal.js';
import type { LoggerLike, MaterialType, OperationRow, ReconcileInput, TerminalRole as JournalRole } from '../journal/types.js';
import { SERVICE_ITEMS, SILENT_LOGGER } from '../journal/types.js';
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
  PinEntryEvent,
  PinSlot,
  PinState,
  PresentedMaterial,
  ReadIdCardInput,
  ReadIdCardOutput,
  TerminalRole,
} from '../../state/actors.js';
import { checkPinPolicy } from '../../state/pin-policy.js';
import type { PinVault } from '../../state/pin-vault.js';
import { createPinVault } from '../../state/pin-vault.js';
import type { ServiceKind } from '../../state/roles.js';

export interface SessionDeps {
  /** The card in the reader (a new SsseCard per inserted card). */
  readonly card: () => SsseCard;
  /** The PSAM client or an HSM hook; without it 3.0 cards cannot be identified and no MAC can be made. */
  readonly secureModule?: SecureModule;
  readonly pinPad: PinPad;
  readonly idReader?: IdCardReader;
  /** The operator at a counter (login, badge…): resolves with the operator id. */
  readonly authenticateOperator?: (signal: AbortSignal) => Promise<string>;
  readonly journal?: Journal;
  /** Service item code per kind (业务办理项编码); default the two seed items. */
  readonly serviceItem?: (kind: ServiceKind) => string;
  /** Where the bank-account activation request goes (financial counter only); resolves with a request id. */
  readonly bankRequests?: (request: BankActivationInput) => Promise<string>;
  readonly reload?: ReloadOptions;
  /** Random for INTERNAL AUTHENTICATE (tests). */
  readonly random?: (n: number) => Buffer;
  /** Where journal trouble that must not stop the session is reported (no card identity in it). */
  readonly logger?: LoggerLike;
}

const ROLE_TO_JOURNAL: Record<TerminalRole, JournalRole> = { kiosk: 'self-service', counter: 'window', 'financial-counter': 'financial-window' };
const MATERIAL_TO_JOURNAL: Record<PresentedMaterial, MaterialType> = { socialSecurityCard: 'social-security-card', residentIdCard: 'resident-id-card' };

function defaultServiceItem(kind: ServiceKind): string {
  return kind === 'activate' ? SERVICE_ITEMS.activation : SERVICE_ITEMS.pinChangeAndReset;
}

function toOutput(o: OperationOutcome): CardOpOutput {
  if (o.status === 'answered') return { status: 'answered', sw: o.sw, blocked: o.blocked, ...(o.triesLeft === undefined ? {} : { triesLeft: o.triesLeft }) };
  return { status: o.status, code: o.error.code };
}

function taken(vault: PinVault, slot: PinSlot): Buffer {
  const b = vault.take(slot);
  if (b === undefined) {
    throw Object.assign(new Error('PIN not entered'), { code: ErrorCode.Flow_PinNotEntered });
  }
  return b;
}

/** Pad refusals raised before the reader took any key: nothing reached the card. */
const SECURE_NOT_STARTED: ReadonlySet<number> = new Set([ErrorCode.PinPad_NotFound, ErrorCode.PinPad_Busy, ErrorCode.PinPad_Unsupported, ErrorCode.Input_BadOption]);

/**
 * Secure PIN entry (PC/SC Part 10): the reader takes the PIN and sends VERIFY / CHANGE PIN itself;
 * only the card's SW comes back. Called once, never retried. The reader's own outcomes (6400–6403,
 * 6B80: the error carries `sw`) and refusals before the entry mean the card got nothing; any other
 * failure (unplugged, no answer in time) may have come after the command went: unknown.
 */
async function secureOp(run: () => Promise<SecurePinResult>): Promise<CardOpOutput> {
  try {
    const { sw } = await run();
    const left = sw === 0x6983 ? 0 : swTriesLeft(sw);
    return { status: 'answered', sw, blocked: sw === 0x6983 || left === 0, ...(left === undefined ? {} : { triesLeft: left }) };
  } catch (e) {
    if (!isSsCardError(e)) return { status: 'unknown', code: ErrorCode.Flow_OutcomeUnknown };
    const notSent = typeof e.context?.['sw'] === 'number' || SECURE_NOT_STARTED.has(e.code);
    return { status: notSent ? 'notSent' : 'unknown', code: e.code };
  }
}

async function pinState(card: SsseCard): Promise<PinState> {
  const sel = await card.select();
  if (!sel.activated) return { triesLeft: undefined, cardState: 'notActivated' };
  try {
    const st = await card.pinStatus();
    return { triesLeft: st.triesLeft, cardState: st.blocked ? 'pinBlocked' : 'active' };
  } catch (e) {
    if (isSsCardError(e) && e.context?.['sw'] === '9303') return { triesLeft: undefined, cardState: 'appLocked' };
    throw e;
  }
}

/**
 * What the re-read card state says about an interrupted operation. Only activation and unblock
 * leave a mark the card shows (activated / no longer blocked); a VERIFY, CHANGE or RELOAD that may
 * or may not have run looks the same either way, so it stays `unknown` with the state recorded.
 */
export function reconciledOutcome(kind: OperationRow['kind'], st: PinState): Pick<ReconcileInput, 'outcome' | 'reason'> {
  if (kind === 'activate') return st.cardState === 'notActivated' ? { outcome: 'failed', reason: 'card-shows-not-done' } : { outcome: 'ok', reason: 'card-shows-done' };
  if (kind === 'unblock') return st.cardState === 'pinBlocked' ? { outcome: 'failed', reason: 'card-shows-not-done' } : { outcome: 'ok', reason: 'card-shows-done' };
  return { outcome: 'unknown', reason: 'card-state-reread' };
}

/**
 * When a card is identified: its operations interrupted by a stop of the daemon (`pending` rows
 * turned `interrupted` at start-up) are reconciled from the state just re-read, before anything
 * else is done with the card (journal issue §1, services issue §5). A journal failure here does
 * not refuse the card (its state was re-read, which is what safety needs): the row stays
 * unreconciled and is tried again the next time the card is seen.
 */
function reconcileInterrupted(journal: Journal, cardId: string, st: PinState, log: LoggerLike): void {
  try {
    for (const row of journal.findUnreconciled(cardId)) {
      const id = journal.reconcile(row.id, {
        ...reconciledOutcome(row.kind, st),
        ...(st.triesLeft === undefined ? {} : { triesLeft: st.triesLeft }),
        cardState: st.cardState,
      });
      log.info('interrupted operation reconciled on identification', { interruptedId: row.id, id, kind: row.kind });
    }
  } catch (e) {
    log.error('could not reconcile interrupted operations of the identified card; will retry when it is seen again', {
      code: isSsCardError(e) ? e.code : undefined,
      message: isSsCardError(e) ? e.text.en : 'unexpected error',
    });
  }
}

/** The actors and the `wipePins` action for `sessionMachine.provide(...)`. */
export function sessionImplementations(deps: SessionDeps, vault: PinVault = createPinVault()) {
  const random = deps.random ?? ((n: number) => randomBytes(n));
  let current: SsseCard | undefined;
  const card = (): SsseCard => (current ??= deps.card());
  const needModule = (): SecureModule => {
    if (deps.secureModule === undefined) throw Object.assign(new Error('no PSAM'), { code: ErrorCode.Psam_Missing });
    return deps.secureModule;
  };
  const journalRole = (role: TerminalRole): JournalRole => ROLE_TO_JOURNAL[role];
  const item = deps.serviceItem ?? defaultServiceItem;
  // Secure entry of the running service, chosen at its first PIN step when the pad can do it: the
  // entry steps then hold no digits and verifyPin / changePin have the reader take the PIN.
  let secure: { readonly kind: 'verify' | 'change'; readonly timeoutMs: number } | undefined;
  const secureOptions = (s: { readonly timeoutMs: number }, prompt: 'enterPin' | 'enterOldPin') => ({ minLength: 6, maxLength: 6, timeoutMs: s.timeoutMs, prompt });

  return {
    actions: {
      wipePins: () => {
        secure = undefined;
        vault.wipe();
      },
    },
    actors: {
      identifyCard: fromPromise<CardIdentification>(async () => {
        current = deps.card();
        const c = current;
        const b = await c.readBasics(deps.secureModule, deps.secureModule ? () => random(c.selectedAlgorithm === 'SM4' ? 16 : 8) : undefined);
        if (b.authentic === false) throw Object.assign(new Error('card not authentic'), { code: ErrorCode.Card_NotAuthentic });
        const st = await pinState(c);
        if (deps.journal !== undefined) reconcileInterrupted(deps.journal, b.issuer.cardId, st, deps.logger ?? SILENT_LOGGER);
        return {
          cardId: b.issuer.cardId,
          cardNumber: b.issuer.cardNumber,
          specVersion: b.issuer.specVersion,
          algorithm: b.algorithm,
          socialSecurityNumber: b.holder.socialSecurityNumber,
          name: b.holder.name,
          birthDate: b.holder.birthDate,
          authentic: b.authentic,
          ...(deps.journal?.isHotlisted(b.issuer.cardId) === true ? { hotlisted: true } : {}),
          ...st,
        };
      }),
      readPinStatus: fromPromise<PinState>(() => pinState(card())),
      enterPin: fromCallback<{ type: 'noop' }, EnterPinInput>(({ input, sendBack: send }) => {
        const sendBack = (e: PinEntryEvent): void => send(e);
        const caps = deps.pinPad.capabilities;
        if (input.slot === 'pin' && caps.secureVerify) secure = { kind: 'verify', timeoutMs: input.timeoutMs };
        else if (input.slot === 'oldPin' && caps.secureChange) secure = { kind: 'change', timeoutMs: input.timeoutMs };
        if (secure !== undefined) {
          // The reader takes this PIN when the command goes (verifyPin / changePin): nothing to hold.
          let stopped = false;
          queueMicrotask(() => {
            if (!stopped) sendBack({ type: 'PIN.ENTERED', slot: input.slot, length: 0 });
          });
          return () => {
            stopped = true;
          };
        }
        const ac = new AbortController();
        let done = false;
        deps.pinPad
          .enterPin({ prompt: input.prompt, timeoutMs: input.timeoutMs, minLength: 6, maxLength: 6, onKey: (k) => sendBack({ type: 'PIN.KEY', count: k.count }) }, ac.signal)
          .then(
            (r) => {
              if (done) {
                wipe(r.pin);
                return;
              }
              vault.put(input.slot, r.pin);
              sendBack({ type: 'PIN.ENTERED', slot: input.slot, length: r.length });
            },
            (e: unknown) => {
              if (done) return;
              const reason = isSsCardError(e, ErrorCode.PinPad_Timeout) ? 'timeout' : isSsCardError(e, ErrorCode.PinPad_Cancelled) ? 'cancelled' : 'device';
              sendBack({ type: 'PIN.FAILED', reason });
            },
          );
        return () => {
          done = true;
          ac.abort();
        };
      }),
      checkNewPin: fromPromise<CheckNewPinOutput, CheckNewPinInput>(({ input }) => {
        // Secure change: the reader compares the two new PINs (6402); the digits never come here.
        if (secure?.kind === 'change') return Promise.resolve({ ok: true } as const);
        const a = vault.peek('newPin');
        const b = vault.peek('confirmPin');
        if (a === undefined || b === undefined || a.length !== b.length || !a.equals(b)) {
          vault.wipe('newPin');
          vault.wipe('confirmPin');
          return Promise.resolve({ ok: false, mismatch: true } as const);
        }
        vault.wipe('confirmPin');
        const violations = checkPinPolicy(a, input.policy);
        if (violations.length > 0) {
          vault.wipe('newPin');
          return Promise.resolve({ ok: false, mismatch: false, violations: violations.map((v) => ({ code: v.code, zh: v.zh, en: v.en })) } as const);
        }
        return Promise.resolve({ ok: true } as const);
      }),
      verifyPin: fromPromise<CardOpOutput>(async ({ signal }) => {
        const s = secure;
        if (s?.kind === 'verify') return secureOp(() => deps.pinPad.secureVerify(secureOptions(s, 'enterPin'), signal));
        return toOutput(await verifyPin(card(), taken(vault, 'pin')));
      }),
      changePin: fromPromise<CardOpOutput>(async ({ signal }) => {
        const s = secure;
        if (s?.kind === 'change') return secureOp(() => deps.pinPad.secureChange(secureOptions(s, 'enterOldPin'), signal));
        const oldPin = taken(vault, 'oldPin');
        const newPin = vault.take('newPin');
        if (newPin === undefined) {
          wipe(oldPin);
          return taken(vault, 'newPin') as never;
        }
        return toOutput(await changePin(card(), oldPin, newPin));
      }),
      reloadPin: fromPromise<CardOpOutput>(async () => toOutput(await reloadPin(card(), needModule(), taken(vault, 'newPin'), deps.reload))),
      unblockPin: fromPromise<CardOpOutput>(async () => toOutput(await unblockPin(card(), needModule(), taken(vault, 'newPin')))),
      activateCard: fromPromise<ActivationOutput>(async () => {
        const o = await activate(card(), needModule(), taken(vault, 'newPin'), deps.reload);
        return { appUnblock: toOutput(o.appUnblock), ...(o.pin === undefined ? {} : { pin: toOutput(o.pin) }) };
      }),
      readIdCard: fromPromise<ReadIdCardOutput, ReadIdCardInput>(async ({ input, signal }) => {
        if (deps.idReader === undefined) return { read: false };
        try {
          const info = await deps.idReader.waitForCard({ timeoutMs: input.timeoutMs }, signal);
          return { read: true, matches: matchesSocialSecurityNumber(info, input.socialSecurityNumber) };
        } catch {
          return { read: false };
        }
      }),
      authenticateOperator: fromPromise<OperatorOutput>(async ({ signal }) => {
        if (deps.authenticateOperator === undefined) throw Object.assign(new Error('no operator source'), { code: ErrorCode.Flow_Refused });
        return { operatorId: await deps.authenticateOperator(signal) };
      }),
      journalBegin: fromPromise<string, JournalBeginInput>(({ input }) => {
        if (deps.journal === undefined) return Promise.resolve('unjournaled');
        return Promise.resolve(
          deps.journal.beginOperation({
            serviceItem: item(input.kind),
            kind: input.kind,
            role: journalRole(input.role),
            ...(input.operatorId === undefined ? {} : { operatorId: input.operatorId }),
            card: input.card,
            materials: input.materials.map((m) => MATERIAL_TO_JOURNAL[m]),
          }),
        );
      }),
      journalComplete: fromPromise<void, JournalCompleteInput>(({ input }) => {
        if (deps.journal === undefined || input.operationId === 'unjournaled') return Promise.resolve();
        const { operationId, ...rest } = input;
        deps.journal.completeOperation(operationId, rest);
        return Promise.resolve();
      }),
      journalRefusal: fromPromise<void, JournalRefusalInput>(({ input }) => {
        if (deps.journal === undefined) return Promise.resolve();
        deps.journal.recordRefusal({
          serviceItem: item(input.kind),
          kind: input.kind,
          role: journalRole(input.role),
          ...(input.operatorId === undefined ? {} : { operatorId: input.operatorId }),
          ...(input.card === undefined ? {} : { card: input.card }),
          materials: input.materials.map((m) => MATERIAL_TO_JOURNAL[m]),
          missing: input.missing.map((m) => MATERIAL_TO_JOURNAL[m]),
          reason: input.reason,
          ...(input.triesLeft === undefined ? {} : { triesLeft: input.triesLeft }),
        });
        return Promise.resolve();
      }),
      requestBankActivation: fromPromise<string, BankActivationInput>(({ input }) => (deps.bankRequests ? deps.bankRequests(input) : Promise.resolve('not-configured'))),
    },
  };
}
