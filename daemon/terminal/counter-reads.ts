/**
 * What a counter reads besides the card services (docs/api.md "Counter"): the resident ID card on
 * the ID reader, compared with the card identified in a slot, and the terminal's journal rows.
 *
 * The comparison is the session's own (daemon/flows/session-actors.ts `readIdCard`):
 * drivers/idcard/info.ts `matchesSocialSecurityNumber` — by number, never by name (a namesake's ID
 * card does not match) — and its validity the session's own too (state/id-card-validity.ts: an ID
 * card past its 有效期截止 on the terminal's date is reported `expiredOn`). What leaves here is masked (core/mask.ts): the name and the ID number, never
 * in full; nothing of the ID card is logged.
 */
import { ErrorCode, SsCardError, isSsCardError } from '../../core/errors.js';
import { maskIdNumber, maskCardNumber, maskName } from '../../core/mask.js';
import { bi } from '../../core/text.js';
import type { IdCardInfo } from '../../drivers/idcard/info.js';
import { matchesSocialSecurityNumber } from '../../drivers/idcard/info.js';
import { idCardValidity, terminalDate } from '../../state/id-card-validity.js';
import type { IdCardReader } from '../../drivers/idcard/reader.js';
import type { Journal } from '../journal/journal.js';
import type { CardSlots } from './card-slots.js';
import type { IdCardReadRequest, IdCardReport, OperationReport, OperationsQuery } from './port.js';

/** Longest wait for an ID card a client may ask for (ms): bounded time for anything a client can trigger. */
export const MAX_ID_WAIT_MS = 60_000;
/** Most journal rows one SSCard.Operations answers. */
export const MAX_OPERATIONS = 200;

export interface IdCardReadOptions {
  readonly idReader: IdCardReader | undefined;
  readonly slots: CardSlots;
  /** The terminal's clock, for the ID card's validity (default the system clock). */
  readonly now?: () => Date;
}

/** The ID reader is in use by a read of the counter or by a service's 收件 (the session's `materials` state). */
function idReaderBusy(slots: CardSlots): boolean {
  return slots.all().some((s) => s.actor.getSnapshot().matches({ service: 'materials' }));
}

/** Reads of the counter, one at a time (the ID reader serves one command at a time). */
export class CounterReads {
  private reading = false;

  public constructor(private readonly o: IdCardReadOptions) {}

  public async readIdCard(request: IdCardReadRequest, signal: AbortSignal): Promise<IdCardReport> {
    const reader = this.o.idReader;
    if (reader === undefined) {
      throw new SsCardError(ErrorCode.IdCard_ReaderNotFound, bi('本终端没有配置身份证读卡器', 'this terminal has no resident ID card reader configured'));
    }
    const waitMs = request.waitMs ?? 0;
    if (!Number.isInteger(waitMs) || waitMs < 0 || waitMs > MAX_ID_WAIT_MS) {
      throw new SsCardError(ErrorCode.Input_BadOption, bi(`waitMs 必须是 0 到 ${MAX_ID_WAIT_MS} 的整数`, `waitMs must be an integer from 0 to ${MAX_ID_WAIT_MS}`), { option: 'waitMs' });
    }
    // The slot first: an unknown reader name is refused before the ID reader is touched.
    const slot = this.o.slots.slotFor(request.reader);
    if (this.reading || idReaderBusy(this.o.slots)) {
      throw new SsCardError(ErrorCode.Flow_Busy, bi('身份证读卡器正在使用中（正在办理的业务在读身份证），请稍后再试', 'the ID card reader is in use (a running service is reading the ID card); try again when it is done'));
    }
    this.reading = true;
    let info: IdCardInfo | undefined;
    try {
      info = waitMs > 0 ? await reader.waitForCard({ timeoutMs: waitMs }, signal) : await reader.readCard(signal);
    } catch (e) {
      // No ID card on the reader (or taken away mid-read, or none placed within the wait): nothing read.
      // IdCard_Timeout with a `command` in its context is the reader not answering: a device error.
      const noCard =
        isSsCardError(e, ErrorCode.IdCard_NoCard) || isSsCardError(e, ErrorCode.IdCard_CardRemoved) || (isSsCardError(e, ErrorCode.IdCard_Timeout) && e.context?.['command'] === undefined);
      if (!noCard) throw e;
    } finally {
      this.reading = false;
    }
    const ctx = slot.actor.getSnapshot().context;
    const card = slot.present ? ctx.card : undefined;
    const cardNumberMasked = card === undefined ? null : maskCardNumber(card.cardNumber);
    if (info === undefined) return { read: false, idCard: null, matchesCard: null, cardNumberMasked };
    const valid = idCardValidity(info.validTo, terminalDate((this.o.now ?? (() => new Date()))())) === 'valid';
    return {
      read: true,
      idCard: {
        documentType: info.documentType,
        nameMasked: maskName(info.name),
        idNumberMasked: maskIdNumber(info.idNumber),
        idNumberValid: info.idNumberValid,
        validFrom: info.validFrom,
        validTo: info.validTo,
      },
      matchesCard: card === undefined ? null : matchesSocialSecurityNumber(info, card.socialSecurityNumber),
      cardNumberMasked,
      ...(valid ? {} : { expiredOn: info.validTo }),
    };
  }
}

/** The journal's rows as a counter sees them (OperationReport): newest first, the card number masked, no other identity. */
export function operationsOf(journal: Journal | undefined, q: OperationsQuery): OperationReport[] {
  if (journal === undefined || !journal.isOpen) {
    throw new SsCardError(ErrorCode.Journal_OpenFailed, bi('业务日志不可用，无法列出今日业务', 'the journal is not available; today\u2019s operations cannot be listed'));
  }
  if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > MAX_OPERATIONS) {
    throw new SsCardError(ErrorCode.Input_BadOption, bi(`limit 必须是 1 到 ${MAX_OPERATIONS} 的整数`, `limit must be an integer from 1 to ${MAX_OPERATIONS}`), { option: 'limit' });
  }
  const rows = journal.list({ limit: q.limit, ...(q.since === undefined ? {} : { since: q.since }) });
  // Only activations can have one: one indexed look-up each (bank_requests_operation).
  const bank = journal.bankRequestStatusOf(rows.filter((r) => r.kind === 'activate').map((r) => r.id));
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    itemCode: r.serviceItem,
    state: r.state,
    outcome: r.outcome,
    reason: r.reason,
    startedAt: r.startedAt,
    endedAt: r.finishedAt,
    // Masked by the journal when it was written (daemon/journal/identity.ts maskIdentity).
    cardNumberMasked: r.card?.cardNumber ?? null,
    syncState: r.syncState,
    operatorId: r.operatorId,
    bankRequest: bank.get(r.id) ?? null,
    // Masked by the journal too (identity.ts maskAgent).
    agent: r.agent === null ? null : { basis: r.agent.basis, idNumberMasked: r.agent.idNumber, nameMasked: r.agent.name },
  }));
}
