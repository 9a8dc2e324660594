/**
 * The vendors' reads beyond iReadCardBas (docs/api.md "SSCardDriver calls"): records by file
 * address (iReadCard) and the online encryption machine's form of both reads
 * (iReadCardBas_HSM_Step1 / _Step2 and iReadCard_HSM_Step1 / _Step2, docs/domain.md §4), which
 * integrators take when the terminal's PSAM is missing or lacks the key. Both run under the slot's lock, as ReadBasic does; between the
 * two HSM steps the lock stays taken (nothing else may talk to the card: another GET CHALLENGE would
 * replace the one the card keeps for the encryption machine's cryptogram), at most
 * {@link HSM_STEP_TTL_MS}.
 */
import { toHex } from '../../apdu/hex.js';
import type { Algorithm } from '../../apdu/crypto.js';
import type { CardIssuerData, EfId } from '../../apdu/records.js';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { bi } from '../../core/text.js';
import { profileFor } from '../../drivers/card/card-profiles.js';
import { SsseCard } from '../../drivers/card/ssse-card.js';
import type { PcscChannel } from '../../drivers/pcsc/channel.js';
import { cancelled, type CardSlot } from './card-slot.js';
import type { CardBasicInfo, HsmChallenge, HsmRecordsRead, RecordsRead } from './port.js';
import { basicInfo, type ReadBasicOptions } from './read-basic.js';

/** How long Step1's card stays reserved for Step2 (the encryption machine answers in seconds). */
export const HSM_STEP_TTL_MS = 60_000;

/** The slot's identified card and its channel, under `what`'s lock (released by the caller). */
async function lockedCard(o: ReadBasicOptions, what: string, signal: AbortSignal, reader: string | undefined): Promise<{ slot: CardSlot; channel: PcscChannel; card: SsseCard; profile: string; atr: Buffer; unlock: () => void }> {
  const slot = o.slots.slotFor(reader);
  const unlock = slot.lock(what);
  try {
    if (!slot.present) throw slot.noCard();
    await slot.identified(0, signal);
    const channel = slot.channel;
    if (channel === undefined) throw slot.noCard();
    const atr = slot.atr ?? channel.atr;
    const profile = profileFor(o.cardProfiles ?? [], atr);
    return { slot, channel, card: new SsseCard(channel, profile.read), profile: profile.name, atr, unlock };
  } catch (e) {
    unlock();
    throw e;
  }
}

/** iReadCard: EF05's identification (for the caller's cardInfo) and the records asked for, raw. */
export async function readRecords(o: ReadBasicOptions, files: readonly RecordFile[], signal: AbortSignal, reader?: string): Promise<RecordsRead> {
  const c = await lockedCard(o, 'iReadCard', signal, reader);
  try {
    await c.card.select();
    const issuer = await c.card.readIssuer();
    const out: (Buffer | undefined)[][] = [];
    for (const f of files) {
      if (signal.aborted) throw cancelled();
      out.push(await c.card.readRecords(f.ef, f.tags, o.psam()));
    }
    return { cardId: issuer.cardId, cardNumber: issuer.cardNumber, files: out };
  } finally {
    c.unlock();
  }
}

/** What Step2 reads: the basic data (iReadCardBas_HSM), or records by file address (iReadCard_HSM). */
export type HsmPurpose = { readonly kind: 'basic' } | { readonly kind: 'records'; readonly files: readonly RecordFile[] };

export interface RecordFile {
  readonly ef: EfId;
  readonly tags: readonly number[];
}

interface PendingHsm {
  readonly purpose: HsmPurpose;
  readonly slot: CardSlot;
  readonly channel: PcscChannel;
  readonly card: SsseCard;
  readonly profile: string;
  readonly atr: Buffer;
  readonly issuer: CardIssuerData;
  readonly algorithm: Algorithm;
  /** The card's answer to INTERNAL AUTHENTICATE, to compare with the machine's. */
  readonly answer: Buffer;
  readonly unlock: () => void;
  readonly timer: NodeJS.Timeout;
}

/** The card's state between iReadCardBas_HSM_Step1 and _Step2: one at a time per terminal. */
export class HsmReads {
  private pending: PendingHsm | undefined;

  public constructor(
    /** The terminal's read options, asked for at each step. */
    private readonly options: () => ReadBasicOptions,
    private readonly ttlMs = HSM_STEP_TTL_MS,
  ) {}

  /** Step1: the card's authentication data for the encryption machine. A Step1 replaces an unfinished one. */
  public async begin(signal: AbortSignal, reader?: string, purpose: HsmPurpose = { kind: 'basic' }): Promise<HsmChallenge> {
    this.end();
    const c = await lockedCard(this.options(), 'iReadCardBas_HSM', signal, reader);
    try {
      const b = await c.card.hsmBegin();
      const timer = setTimeout(() => this.end(), this.ttlMs);
      timer.unref();
      this.pending = { purpose, slot: c.slot, channel: c.channel, card: c.card, profile: c.profile, atr: c.atr, issuer: b.issuer, algorithm: b.algorithm, answer: b.answer, unlock: c.unlock, timer };
      return {
        region: b.issuer.regionCode,
        atr: toHex(c.atr),
        algorithm: b.algorithm,
        cardId: b.issuer.cardId,
        cardNumber: b.issuer.cardNumber,
        internalFactor: toHex(b.processFactor),
        internalData: toHex(b.data),
        externalFactor: toHex(b.factor),
        externalData: toHex(b.challenge),
        terminalId: this.options().psam()?.terminalNumber ?? this.options().terminalId,
      };
    } catch (e) {
      c.unlock();
      throw e;
    }
  }

  /**
   * Step2: the machine's INTERNAL AUTHENTICATE answer compared with the card's (Card_NotAuthentic
   * with context `hsm` when they differ: the vendors' −25), its cryptogram for EXTERNAL
   * AUTHENTICATE, then the basic data as ReadBasic gives it. Without a Step1 (or after its time
   * ran out, or a card change): Api_SequenceError.
   */
  public async finish(key: { readonly internal: Buffer; readonly external: Buffer }, signal: AbortSignal): Promise<CardBasicInfo> {
    return this.step2('basic', key, signal, async (p) => {
      const r = await p.card.hsmFinish(key.external);
      return basicInfo(this.options(), p.atr, p.profile, { issuer: p.issuer, holder: r.holder, triesLeft: r.triesLeft, cardState: r.cardState, authentic: true });
    });
  }

  /** iReadCard_HSM_Step2: as {@link finish}, then the records Step1 was asked for, raw. */
  public async finishRecords(key: { readonly internal: Buffer; readonly external: Buffer }, signal: AbortSignal): Promise<HsmRecordsRead> {
    return this.step2('records', key, signal, async (p) => {
      await p.card.hsmAuthenticate(key.external);
      const files = p.purpose.kind === 'records' ? p.purpose.files : [];
      const out: (Buffer | undefined)[][] = [];
      for (const f of files) out.push(await p.card.readRecords(f.ef, f.tags));
      return { cardId: p.issuer.cardId, cardNumber: p.issuer.cardNumber, files: out, request: files };
    });
  }

  private async step2<T>(kind: HsmPurpose['kind'], key: { readonly internal: Buffer }, signal: AbortSignal, read: (p: PendingHsm) => Promise<T>): Promise<T> {
    const p = this.pending;
    if (p === undefined || p.purpose.kind !== kind) {
      throw new SsCardError(
        ErrorCode.Api_SequenceError,
        p === undefined
          ? bi('没有进行中的加密机读卡：请先调用第一步（Step1）并在 60 秒内调用第二步', 'no encryption-machine read is under way: call Step1 first, and Step2 within 60 s of it')
          : bi('进行中的加密机读卡是由另一个函数的第一步开始的：请用与第一步相同的函数的第二步', "the encryption-machine read under way was begun by another function's Step1: call the Step2 of the same function"),
      );
    }
    this.pending = undefined;
    clearTimeout(p.timer);
    try {
      if (signal.aborted) throw cancelled();
      if (!p.slot.present || p.slot.channel !== p.channel) throw p.slot.noCard();
      if (!key.internal.equals(p.answer)) {
        throw new SsCardError(ErrorCode.Card_NotAuthentic, bi('加密机的内部认证结果与卡片的不一致：卡片可能不是真卡，或加密机的应答不属于这次读卡', "the encryption machine's internal-authentication result differs from the card's: the card may not be genuine, or the answer is not for this read"), { hsm: 'internalAuth' });
      }
      return await read(p);
    } finally {
      p.unlock();
    }
  }

  /** Forget an unfinished Step1 and free the card. */
  public end(): void {
    const p = this.pending;
    if (p === undefined) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.unlock();
  }
}
