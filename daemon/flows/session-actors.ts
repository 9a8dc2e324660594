/**
 * The wiring of the card session (state/session.ts): the named actors built from the drivers —
 * SsseCard over the card's transport, the PSAM client (or an HSM hook of the same shape), a PIN
 * pad, the ID card reader, an operator source and the journal. One {@link PinVault} per session
 * carries the digits from the PIN pad to the card command; the machine sees counts only.
 *
 * Use: `sessionMachine.provide(sessionImplementations(deps))`, with the session's input built as
 * `{ ...config, pinEntry: pinEntryOf(pinPad) }` so a keypad reader that cannot hand out a new PIN
 * is refused at routing.
 *
 * The card's phone (DF01 EF06 tag 28) for the PIN policy's phone rule (seed 000 line 323: 电话号码;
 * docs/service-items/):
 * `checkNewPin` reads it and adds it to the caller's `phones`. The conventions
 * (docs/card-conventions.md) have the card refuse that read (6982) until the holder's PIN is
 * verified. Then:
 * - change (the old PIN is known): the change VERIFYs the old PIN first — after the pending row,
 *   as the first state-changing command — reads the phone, and refuses a new PIN taken from it
 *   (`refused` with PIN_PHONE) before CHANGE PIN is sent; a wrong old PIN spends the one try the
 *   CHANGE PIN would have spent;
 * - reset, unblock, activate: no PIN of the holder is known (that is why they are done), so the
 *   card's phone cannot be read and the caller's `phones` (SessionConfig) are all the rule has;
 * - secure change on a PC/SC keypad reader: the digits never come here, no policy applies;
 *   `checkNewPin` says so (`policyChecked: false`), the result carries it, and a terminal with
 *   `session.requirePinPolicy` refuses such a change (docs/security.md).
 * Cards that let anyone read DF01 have their phone checked before the pending row in every flow.
 */
import type { Logger } from '../../core/logger.js';
import { SILENT_LOGGER } from '../../core/logger.js';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fromCallback, fromPromise } from 'xstate';
import { ErrorCode, SsCardError, isSsCardError } from '../../core/errors.js';
import { wipe } from '../../apdu/pin.js';
import { triesLeft as swTriesLeft } from '../../apdu/sw.js';
import type { PhoneRead, SsseCard } from '../../drivers/card/ssse-card.js';
import type { OperationOutcome, ReloadOptions, SecureModule } from '../../drivers/card/ssse-operations.js';
import { activate, changePin, changePinAfterVerify, reloadPin, removedBeforeSending, unblockPin, verifyPin } from '../../drivers/card/ssse-operations.js';
import { idDocumentText, matchesSocialSecurityNumber } from '../../drivers/idcard/info.js';
import type { IdCardReader } from '../../drivers/idcard/reader.js';
import type { PinPad, SecurePinResult } from '../../drivers/pinpad/pinpad.js';
import type { Journal } from '../journal/journal.js';
import type { CardIdentity } from '../journal/identity.js';
import type { OperationRow, ReconcileInput } from '../journal/types.js';

import { catalogServiceItems, shippedCatalog } from './catalog.js';
import type {
  ActivationOutput,
  BankActivationInput,
  CardIdentification,
  CardOpOutput,
  CardRef,
  CheckNewPinInput,
  CheckNewPinOutput,
  EnterPinInput,
  JournalBeginInput,
  JournalCompleteInput,
  JournalRefusalInput,
  OperatorOutput,
  PinEntryEvent,
  PinPrompt,
  PinSlot,
  PinState,
  PolicyViolation,
  IdCardNotRead,
  ReadIdCardInput,
  ReadIdCardOutput,
} from '../../state/actors.js';
import { NO_JOURNAL_ROW } from '../../state/actors.js';
import { isCardExpired, localDate } from '../../state/card-state.js';
import type { ServiceItem } from '../../state/catalog.js';
import type { PinPolicyContext } from '../../state/pin-policy.js';
import { checkPinPolicy } from '../../state/pin-policy.js';
import type { PinVault } from '../../state/pin-vault.js';
import { createPinVault } from '../../state/pin-vault.js';
import type { ServiceKind } from '../../state/roles.js';
import type { SessionConfig } from '../../state/session.js';

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
  /** Service item code per kind (业务办理项编码); default: from `catalog`. */
  readonly serviceItem?: (kind: ServiceKind) => string;
  /** The service catalog (state/catalog.ts); default the shipped fixtures/catalog/service-items.json. */
  readonly catalog?: readonly ServiceItem[];
  /**
   * Where the bank-account activation request goes (financial counter only); resolves with a
   * request id. Default: the journal's `bank_requests` table (Journal.recordBankRequest) when a
   * journal is given; with neither, the request cannot be recorded and the result says so.
   */
  readonly bankRequests?: (request: BankActivationInput) => Promise<string>;
  /**
   * The card's own phone for the PIN policy (module doc): `verify` (default) reads it where the
   * card allows and, in a change, VERIFYs the old PIN first when the card wants that; `open` only
   * reads it where no PIN is needed; `off` never reads it.
   */
  readonly cardPhone?: 'verify' | 'open' | 'off';
  readonly reload?: ReloadOptions;
  /** Random for INTERNAL AUTHENTICATE (tests). */
  readonly random?: (n: number) => Buffer;
  /** The clock whose local date decides whether the card is past its 卡有效期 (default Date.now). */
  readonly now?: () => number;
  /** Where journal trouble that must not stop the session is reported (no card identity in it). */
  readonly logger?: Logger;
}

/**
 * The session's `pinEntry` for a pad: a pad without plain entry (PC/SC keypad reader) cannot set a
 * new PIN; a pad with secure change changes the PIN inside the reader, unchecked by the PIN policy.
 */
export function pinEntryOf(pad: PinPad): NonNullable<SessionConfig['pinEntry']> {
  return { plain: pad.capabilities.plainEntry, secureChange: pad.capabilities.secureChange };
}

/** Log fields of an error: its code and English text, never a card identity or a PIN. */
function errorMeta(e: unknown): { code: number | undefined; message: string } {
  return isSsCardError(e) ? { code: e.code, message: e.text.en } : { code: undefined, message: e instanceof Error ? e.message : 'unexpected error' };
}

/**
 * The machine's view of an operation's outcome. A command not sent because the card had been
 * taken out carries Pcsc_CardRemoved as its code: the session ends that flow card.removed (nothing
 * was done, nothing to reconcile), not operation.notSent.
 */
function toOutput(o: OperationOutcome): CardOpOutput {
  if (o.status === 'answered') return { status: 'answered', sw: o.sw, blocked: o.blocked, ...(o.triesLeft === undefined ? {} : { triesLeft: o.triesLeft }) };
  if (removedBeforeSending(o)) return { status: 'notSent', code: ErrorCode.Pcsc_CardRemoved };
  return { status: o.status, code: o.error.code };
}

function taken(vault: PinVault, slot: PinSlot): Buffer {
  const b = vault.take(slot);
  if (b === undefined) {
    throw new SsCardError(ErrorCode.Flow_PinNotEntered, { zh: '没有输入密码：请在密码键盘上输入后再继续', en: 'no PIN was entered: enter it on the PIN pad to go on' });
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

/**
 * What the re-read card state says about an interrupted or unknown operation. Only activation and
 * unblock leave a mark the card shows (activated / no longer blocked); a VERIFY, CHANGE or RELOAD
 * that may or may not have run looks the same either way, so it stays `unknown` with the state
 * recorded. When another operation on the card finished after it (`superseded`), the state shows
 * that one, not this: `unknown` too.
 */
export function reconciledOutcome(kind: OperationRow['kind'], st: PinState, superseded = false): Pick<ReconcileInput, 'outcome' | 'reason'> {
  if (superseded) return { outcome: 'unknown', reason: 'later-operation-on-card' };
  if (kind === 'activate') return st.cardState === 'notActivated' ? { outcome: 'failed', reason: 'card-shows-not-done' } : { outcome: 'ok', reason: 'card-shows-done' };
  if (kind === 'unblock') return st.cardState === 'pinBlocked' ? { outcome: 'failed', reason: 'card-shows-not-done' } : { outcome: 'ok', reason: 'card-shows-done' };
  return { outcome: 'unknown', reason: 'card-state-reread' };
}

/**
 * When a card is identified: its operations whose outcome only the card can tell — `interrupted`
 * by a stop of the daemon, or completed `unknown` because the card was pulled or the transport
 * failed mid-command — are reconciled from the state just re-read, before anything else is done
 * with the card (the reconciling row: docs/sync-protocol.md, `reconciles`). A journal failure
 * here does not refuse the card (its state was re-read, which is what safety needs): the row stays
 * unreconciled and is tried again the next time the card is seen.
 */
function reconcileUnsettled(journal: Journal, cardId: string, st: PinState, log: Logger): void {
  try {
    const rows = journal.findUnreconciled(cardId);
    if (rows.length === 0) return;
    const history = journal.findByCard(cardId);
    for (const row of rows) {
      const superseded = history.some((h) => h.seq > row.seq && h.reconciles === null && h.outcome !== 'refused');
      const id = journal.reconcile(row.id, {
        ...reconciledOutcome(row.kind, st, superseded),
        ...(st.triesLeft === undefined ? {} : { triesLeft: st.triesLeft }),
        cardState: st.cardState,
      });
      log.info('operation reconciled on identification', { reconciledId: row.id, was: row.state === 'interrupted' ? 'interrupted' : 'unknown', id, kind: row.kind });
    }
  } catch (e) {
    log.error('could not reconcile the identified card\'s interrupted or unknown operations; will retry when it is seen again', errorMeta(e));
  }
}

/**
 * The card as the journal keeps it: the fields the card gave. One it did not ('' — a field that
 * did not decode, or an application-locked card's EF06) is left out, not stored as empty.
 */
function journalCard(card: CardRef): CardIdentity {
  return {
    cardId: card.cardId,
    ...(card.cardNumber === '' ? {} : { cardNumber: card.cardNumber }),
    ...(card.socialSecurityNumber === '' ? {} : { socialSecurityNumber: card.socialSecurityNumber }),
    ...(card.name === '' ? {} : { name: card.name }),
  };
}

/** The actors and the `wipePins` action for `sessionMachine.provide(...)`. */
export function sessionImplementations(deps: SessionDeps, vault: PinVault = createPinVault()) {
  const random = deps.random ?? ((n: number) => randomBytes(n));
  const log = deps.logger ?? SILENT_LOGGER;
  let current: SsseCard | undefined;
  const card = (): SsseCard => (current ??= deps.card());
  const needModule = (): SecureModule => {
    if (deps.secureModule === undefined) throw new SsCardError(ErrorCode.Psam_Missing, { zh: '终端没有可用的 PSAM 卡：无法计算安全报文，请联系技术人员', en: 'the terminal has no PSAM: secured commands cannot be made; call a technician' });
    return deps.secureModule;
  };
  // Checked now, not at the first journal row: a catalog without an item for some kind is a configuration error.
  const item = deps.serviceItem ?? catalogServiceItems(deps.catalog ?? shippedCatalog());
  const phoneUse = deps.cardPhone ?? 'verify';
  if (phoneUse !== 'verify' && phoneUse !== 'open' && phoneUse !== 'off') {
    throw new SsCardError(ErrorCode.Input_BadOption, { zh: 'cardPhone 必须是 verify、open 或 off', en: 'cardPhone must be verify, open or off' }, { option: 'cardPhone' });
  }
  // Secure entry of the running service, chosen at its first PIN step when the pad can do it: the
  // entry steps then hold no digits and verifyPin / changePin have the reader take the PIN.
  let secure: { readonly kind: 'verify' | 'change'; readonly timeoutMs: number } | undefined;
  const secureOptions = (s: { readonly timeoutMs: number }, prompt: Extract<PinPrompt, 'enterPin' | 'enterOldPin'>) => ({ minLength: 6, maxLength: 6, timeoutMs: s.timeoutMs, prompt });
  // A change whose card keeps its phone behind the PIN: the policy to apply once VERIFY opened it.
  let phoneAfterVerify: PinPolicyContext | undefined;

  /** A journal call whose failure the machine turns into a result: logged here (code and text only), then rethrown. */
  const journaled = <T>(what: string, f: (j: Journal) => T): T => {
    try {
      return f(deps.journal!);
    } catch (e) {
      if (!isSsCardError(e, ErrorCode.Journal_CardHotlisted)) log.error(`journal: ${what} failed`, errorMeta(e));
      throw e;
    }
  };

  /** {@link journaled}, then wait until the write is on storage (Journal.durable). */
  const durably = async <T>(what: string, f: (j: Journal) => T): Promise<T> => {
    const result = journaled(what, f);
    try {
      await deps.journal!.durable();
    } catch (e) {
      log.error(`journal: ${what}: not on storage`, errorMeta(e));
      throw e;
    }
    return result;
  };

  /** The card's phone as far as it can be read now (no PIN verified), never throwing. */
  const readCardPhone = async (): Promise<PhoneRead | undefined> => {
    if (phoneUse === 'off') return undefined;
    try {
      return await card().readPhoneRecord();
    } catch (e) {
      // The card went away or the reader failed: the flow finds out on its next command.
      log.warn('could not read the card\'s phone number for the PIN policy', errorMeta(e));
      return undefined;
    }
  };

  const violationsOf = (pin: Uint8Array, policy: PinPolicyContext): PolicyViolation[] => checkPinPolicy(pin, policy).map((v) => ({ code: v.code, zh: v.zh, en: v.en }));
  const withPhone = (policy: PinPolicyContext, phone: string): PinPolicyContext => ({ ...policy, phones: [...(policy.phones ?? []), phone] });

  return {
    actions: {
      wipePins: () => {
        secure = undefined;
        phoneAfterVerify = undefined;
        vault.wipe();
      },
    },
    actors: {
      identifyCard: fromPromise<CardIdentification>(async () => {
        current = deps.card();
        let b: Awaited<ReturnType<typeof current.identify>>;
        try {
          b = await current.identify(deps.secureModule, random);
        } catch (e) {
          // The result says only "cannot be read": the technician needs the why (code and text, no data).
          log.warn('card identification failed', errorMeta(e));
          throw e;
        }
        if (b.authentic === false) throw new SsCardError(ErrorCode.Card_NotAuthentic, { zh: '卡片未通过内部认证，可能不是真实的社保卡：请到社保经办机构核验', en: 'the card failed internal authentication and may not be a genuine social security card: have it checked at a social insurance office' });
        const undecodable = [...(b.issuer.undecodable ?? []), ...(b.holder.undecodable ?? [])];
        // Which fields, never their bytes or text: the card still identifies, those fields are ''.
        if (undecodable.length > 0) log.warn('card fields could not be decoded and are left empty', { fields: undecodable });
        const st: PinState = { triesLeft: b.triesLeft, cardState: b.cardState };
        let hotlisted = false;
        // An application-locked card may not even let its EF05 be read: no 卡识别码, nothing to look up.
        if (deps.journal !== undefined && b.issuer.cardId !== '') {
          reconcileUnsettled(deps.journal, b.issuer.cardId, st, log);
          try {
            hotlisted = deps.journal.isHotlisted(b.issuer.cardId);
          } catch (e) {
            // journalBegin asks the journal again before any state-changing command, and refuses.
            log.error('journal: hotlist look-up failed on identification', errorMeta(e));
          }
        }
        return {
          cardId: b.issuer.cardId,
          cardNumber: b.issuer.cardNumber,
          specVersion: b.issuer.specVersion,
          algorithm: b.algorithm,
          socialSecurityNumber: b.holder.socialSecurityNumber,
          name: b.holder.name,
          birthDate: b.holder.birthDate,
          expiryDate: b.issuer.expiryDate,
          expired: isCardExpired(b.issuer.expiryDate, localDate((deps.now ?? Date.now)())),
          authentic: b.authentic,
          profile: current.profileName,
          ...(current.reloadsBlockedPin ? { reloadsBlockedPin: true } : {}),
          ...(hotlisted ? { hotlisted: true } : {}),
          ...st,
        };
      }),
      readPinStatus: fromPromise<PinState>(() => card().pinState()),
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
      checkNewPin: fromPromise<CheckNewPinOutput, CheckNewPinInput>(async ({ input }) => {
        phoneAfterVerify = undefined;
        // Secure change: the reader compares the two new PINs (6402); the digits never come here, so
        // no policy rule can be applied (docs/security.md "PIN policy and secure PIN entry").
        if (secure?.kind === 'change') return { ok: true, policyChecked: false } as const;
        const a = vault.peek('newPin');
        const b = vault.peek('confirmPin');
        if (a === undefined || b === undefined || a.length !== b.length || !a.equals(b)) {
          vault.wipe('newPin');
          vault.wipe('confirmPin');
          return { ok: false, mismatch: true } as const;
        }
        vault.wipe('confirmPin');
        const phone = await readCardPhone();
        // Taken again after the card I/O: a cancel or a removal meanwhile wiped the vault.
        const pin = vault.peek('newPin');
        if (pin === undefined) return { ok: false, mismatch: true } as const;
        const policy = phone?.status === 'read' ? withPhone(input.policy, phone.phone) : input.policy;
        const violations = violationsOf(pin, policy);
        if (violations.length > 0) {
          vault.wipe('newPin');
          return { ok: false, mismatch: false, violations } as const;
        }
        if (phone?.status === 'denied' && phoneUse === 'verify' && input.kind === 'change' && vault.has('oldPin')) phoneAfterVerify = policy;
        return { ok: true } as const;
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
        const policy = phoneAfterVerify;
        phoneAfterVerify = undefined;
        if (policy === undefined) return toOutput(await changePin(card(), oldPin, newPin));
        // The card shows its phone to a verified PIN only: VERIFY, read it, check, then CHANGE PIN.
        const o = await changePinAfterVerify(card(), oldPin, newPin, async (c, next) => {
          const phone = await c.readPhoneRecord();
          if (phone.status !== 'read') return undefined;
          const v = violationsOf(next, withPhone(policy, phone.phone));
          return v.length > 0 ? v : undefined;
        });
        return o.status === 'refused' ? { status: 'refused', sw: o.sw, violations: o.reason } : toOutput(o);
      }),
      reloadPin: fromPromise<CardOpOutput>(async () => toOutput(await reloadPin(card(), needModule(), taken(vault, 'newPin'), deps.reload ?? card().reload))),
      unblockPin: fromPromise<CardOpOutput>(async () => toOutput(await unblockPin(card(), needModule(), taken(vault, 'newPin')))),
      activateCard: fromPromise<ActivationOutput>(async () => {
        const o = await activate(card(), needModule(), taken(vault, 'newPin'), deps.reload ?? card().reload);
        return { appUnblock: toOutput(o.appUnblock), ...(o.pin === undefined ? {} : { pin: toOutput(o.pin) }) };
      }),
      readIdCard: fromPromise<ReadIdCardOutput, ReadIdCardInput>(async ({ input, signal }) => {
        if (deps.idReader === undefined) return { read: false };
        const reader = deps.idReader;
        try {
          const end = Date.now() + input.timeoutMs;
          let info = await reader.waitForCard({ timeoutMs: input.timeoutMs }, signal);
          // The holder's document, still on the reader: wait for the agent's (state/agents.ts).
          while (input.another === true && matchesSocialSecurityNumber(info, input.socialSecurityNumber)) {
            await sleep(ANOTHER_DOCUMENT_POLL_MS, undefined, { signal });
            const left = end - Date.now();
            if (left <= 0) return { read: false, reason: 'none' };
            info = await reader.waitForCard({ timeoutMs: Math.max(1, Math.round(left)) }, signal);
          }
          return {
            read: true,
            matches: matchesSocialSecurityNumber(info, input.socialSecurityNumber),
            validTo: info.validTo,
            document: idDocumentText(info.documentType),
            // The agent's number and name go to the journal (encrypted); the holder's are the card's.
            ...(input.whose === 'agent' ? { person: { idNumber: info.idNumber, name: info.name } } : {}),
          };
        } catch (e) {
          return { read: false, reason: idCardNotRead(e) };
        }
      }),
      authenticateOperator: fromPromise<OperatorOutput>(async ({ signal }) => {
        if (deps.authenticateOperator === undefined) throw new SsCardError(ErrorCode.Flow_Refused, { zh: '本终端没有操作员登录方式：此业务须由窗口操作员办理', en: 'this terminal has no way for an operator to log in: this service needs a counter operator' });
        return { operatorId: await deps.authenticateOperator(signal) };
      }),
      journalBegin: fromPromise<string, JournalBeginInput>(async ({ input }) => {
        if (deps.journal === undefined) return NO_JOURNAL_ROW;
        // Nothing lost: the pending row is on storage before the first state-changing APDU
        // (the journal's fsyncs run off the event loop: daemon/journal/durability.ts).
        return durably('writing the pending row', (j) =>
          j.beginOperation({
            serviceItem: item(input.kind),
            kind: input.kind,
            role: input.role,
            ...(input.operatorId === undefined ? {} : { operatorId: input.operatorId }),
            card: journalCard(input.card),
            materials: input.materials,
            ...(input.agent === undefined ? {} : { agent: input.agent }),
          }),
        );
      }),
      journalComplete: fromPromise<void, JournalCompleteInput>(({ input }) => {
        if (deps.journal === undefined || input.operationId === NO_JOURNAL_ROW) return Promise.resolve();
        const { operationId, ...rest } = input;
        journaled('completing an operation', (j) => j.completeOperation(operationId, rest));
        return Promise.resolve();
      }),
      journalRefusal: fromPromise<string, JournalRefusalInput>(async ({ input }) => {
        if (deps.journal === undefined) return NO_JOURNAL_ROW;
        return durably('recording a refusal', (j) =>
          j.recordRefusal({
            serviceItem: item(input.kind),
            kind: input.kind,
            role: input.role,
            ...(input.operatorId === undefined ? {} : { operatorId: input.operatorId }),
            // Fields the card did not give (''; an application-locked card's EF06) are left out.
            ...(input.card === undefined ? {} : { card: journalCard(input.card) }),
            materials: input.materials,
            missing: input.missing,
            reason: input.reason,
            ...(input.triesLeft === undefined ? {} : { triesLeft: input.triesLeft }),
            ...(input.agent === undefined ? {} : { agent: input.agent }),
          }),
        );
      }),
      requestBankActivation: fromPromise<string, BankActivationInput>(({ input }) => {
        const operationId = input.operationId === NO_JOURNAL_ROW ? undefined : input.operationId;
        if (deps.bankRequests !== undefined) {
          const { operationId: _, ...rest } = input;
          return deps.bankRequests(operationId === undefined ? rest : { ...rest, operationId });
        }
        if (deps.journal === undefined || operationId === undefined) {
          log.error('bank-account activation request not recorded: no journal and no bankRequests destination', { operator: input.operatorId !== undefined });
          return Promise.reject(new SsCardError(ErrorCode.Flow_Refused, { zh: '没有登记银行账户激活申请的地方（未配置交易日志）', en: 'there is nowhere to record the bank-account activation request (no journal configured)' }));
        }
        // On storage before the holder is told it is recorded (docs/sync-protocol.md).
        return durably('recording the bank request', (j) =>
          j.recordBankRequest({ operationId, card: journalCard(input.card), ...(input.operatorId === undefined ? {} : { operatorId: input.operatorId }) }),
        );
      }),
    },
  };
}

/** How often the ID reader is read again while the holder's document still lies on it. */
const ANOTHER_DOCUMENT_POLL_MS = 300;

/**
 * Why the ID reader read nothing: no document placed in time (or the wait was stopped) is a
 * missing material; a document of a kind the module cannot read is `unsupported`; anything else —
 * the reader missing, disconnected, failing — is a `fault`, never blamed on the holder.
 */
export function idCardNotRead(e: unknown): IdCardNotRead {
  if (e instanceof Error && e.name === 'AbortError') return 'none';
  if (!isSsCardError(e)) return 'fault';
  if (e.code === ErrorCode.IdCard_UnsupportedDocument) return 'unsupported';
  return e.code === ErrorCode.IdCard_Timeout || e.code === ErrorCode.IdCard_NoCard || e.code === ErrorCode.IdCard_Cancelled || e.code === ErrorCode.IdCard_CardRemoved ? 'none' : 'fault';
}
