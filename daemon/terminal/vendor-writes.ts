/**
 * iWriteCard (docs/api.md "SSCardDriver calls"): records of EF06 written at a counter, by an
 * operator, as every card-changing operation is (README "Rules of the craft"): the card read and
 * checked against the caller's cardInfo, EF06 opened with the PSAM (its write key), the write
 * journaled `pending` (kind `write`) before the first UPDATE RECORD, each UPDATE RECORD sent once and
 * never retried, the row completed with the outcome — `unknown` when the transport failed during a
 * write, which the daemon reconciles from the card as it does any unknown operation.
 */
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { bi } from '../../core/text.js';
import { fieldSpec } from '../../apdu/records.js';
import { profileFor } from '../../drivers/card/card-profiles.js';
import { SsseCard } from '../../drivers/card/ssse-card.js';
import { updateRecord, type OperationOutcome } from '../../drivers/card/ssse-operations.js';
import type { Journal } from '../journal/journal.js';
import { CARD_WRITE_SERVICE_ITEM } from '../sync/wire.js';
import type { Role } from '../../state/roles.js';
import type { ReadBasicOptions } from './read-basic.js';
import type { RecordsWrite, WriteOutcome } from './port.js';

export interface WriteOptions extends ReadBasicOptions {
  readonly role: Role;
  readonly journal: Journal | undefined;
  /** A journal row was written (the sync is woken). */
  readonly onResult?: () => void;
}

export async function writeRecords(o: WriteOptions, w: RecordsWrite, signal: AbortSignal, reader?: string): Promise<WriteOutcome> {
  const journal = o.journal;
  if (journal === undefined) {
    throw new SsCardError(ErrorCode.Flow_Refused, bi('本终端没有交易日志：改写卡片数据前必须先记录，请配置 journal', 'this terminal has no journal: a write of the card is recorded before it is made; configure the journal'));
  }
  const slot = o.slots.slotFor(reader);
  const unlock = slot.lock('iWriteCard');
  try {
    if (!slot.present) throw slot.noCard();
    await slot.identified(0, signal);
    const channel = slot.channel;
    if (channel === undefined) throw slot.noCard();
    const psam = o.psam();
    if (psam === undefined) {
      throw new SsCardError(ErrorCode.Psam_Missing, bi('写卡需要 PSAM 卡的外部认证：请插入 PSAM 卡或配置 PSAM 读卡器', 'writing the card needs external authentication with the PSAM: insert the PSAM or configure its reader'));
    }
    const card = new SsseCard(channel, profileFor(o.cardProfiles ?? [], slot.atr ?? channel.atr).read);
    await card.select();
    const issuer = await card.readIssuer();
    if (issuer.cardId.toUpperCase() !== w.cardId.toUpperCase() || issuer.cardNumber.toUpperCase() !== w.cardNumber.toUpperCase()) return { status: 'mismatch' };
    const holder = await card.readHolder(psam);
    if (signal.aborted) return { status: 'notSent', error: new SsCardError(ErrorCode.Flow_Timeout, bi('请求已取消', 'the request was cancelled')) };
    try {
      await card.prepareEf06Write(psam);
    } catch (e) {
      return { status: 'notSent', error: e instanceof SsCardError ? e : new SsCardError(ErrorCode.Flow_NotSent, bi('写卡前的外部认证失败', 'the external authentication before the write failed'), undefined, { cause: e }) };
    }
    // Nothing lost: the row is durable before the first UPDATE RECORD.
    const id = journal.beginOperation({
      serviceItem: CARD_WRITE_SERVICE_ITEM,
      kind: 'write',
      role: o.role,
      operatorId: w.operatorId,
      card: {
        cardId: issuer.cardId,
        ...(issuer.cardNumber === '' ? {} : { cardNumber: issuer.cardNumber }),
        ...(holder.socialSecurityNumber === '' ? {} : { socialSecurityNumber: holder.socialSecurityNumber }),
        ...(holder.name === '' ? {} : { name: holder.name }),
      },
    });
    await journal.durable();
    let last: OperationOutcome | undefined;
    let written = 0;
    for (const { tag, value } of w.writes) {
      // The records were checked against the table by the caller (vendor.ts parseWriteData).
      last = await updateRecord(card, fieldSpec(0xef06, tag)!.record, tag, value);
      if (last.status !== 'answered' || last.sw !== 0x9000) break;
      written++;
    }
    let outcome: WriteOutcome;
    if (last === undefined || (last.status === 'answered' && last.sw === 0x9000)) {
      journal.completeOperation(id, { outcome: 'ok', lastSw: 0x9000 });
      outcome = { status: 'written', records: written };
    } else if (last.status === 'answered') {
      journal.completeOperation(id, { outcome: 'failed', lastSw: last.sw, ...(written > 0 ? { reason: 'partly-written' } : {}) });
      outcome = { status: 'refused', sw: last.sw, records: written };
    } else if (last.status === 'notSent') {
      journal.completeOperation(id, { outcome: 'failed', reason: written > 0 ? 'partly-written' : 'not-sent' });
      outcome = { status: 'notSent', error: last.error };
    } else {
      // The card may or may not have taken the record: reconciled from the card when it is seen again.
      journal.completeOperation(id, { outcome: 'unknown' });
      outcome = { status: 'unknown', error: last.error };
    }
    o.onResult?.();
    return outcome;
  } finally {
    unlock();
  }
}
