/**
 * The counter's reads (counter-reads.ts): the ID card compared by number with the card identified
 * in the slot, masked; the ID reader one read at a time and never while a service's 收件 reads it;
 * journal rows masked and bounded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, SsCardError, isSsCardError } from '../../core/errors.js';
import type { IdCardInfo } from '../../drivers/idcard/info.js';
import type { IdCardReader } from '../../drivers/idcard/reader.js';
import { ACTIVATION_ITEM, BEGIN, expectCode, openTestJournal } from '../../testing/journal.js';
import type { CardSlots } from './card-slots.js';
import { CounterReads, operationsOf } from './counter-reads.js';

const HOLDER = '411082198503120038';
const ID: IdCardInfo = {
  documentType: 'residentId',
  name: '王志强',
  sex: '1',
  sexText: '男',
  nation: '01',
  nationText: '汉',
  birthDate: '1985-03-12',
  address: '河南省长葛市和平路9号',
  idNumber: HOLDER,
  idNumberValid: true,
  authority: '长葛市公安局',
  validFrom: '2012-09-01',
  validTo: '2032-09-01',
  photo: Buffer.alloc(0),
};

/** A reader that answers `readCard` with `next` (an ID card, or an error). */
function reader(next: () => Promise<IdCardInfo>): IdCardReader & { reads: number } {
  const r = {
    name: 'stub ID reader',
    connected: true,
    reads: 0,
    open: () => Promise.resolve(),
    close: () => Promise.resolve(),
    reset: () => Promise.resolve(),
    status: () => Promise.resolve(),
    samId: () => Promise.resolve(''),
    readCard: () => {
      r.reads++;
      return next();
    },
    waitForCard: () => {
      r.reads++;
      return next();
    },
    onStatus: () => () => undefined,
  };
  return r;
}

/** One slot whose session is in `state` with `card` identified (or none). */
function slots(card: { cardNumber: string; socialSecurityNumber: string } | undefined, state = 'identified'): CardSlots {
  const slot = {
    name: 'Virtual PCD 00 00',
    present: card !== undefined,
    actor: { getSnapshot: () => ({ context: { card }, matches: (v: unknown) => JSON.stringify(v) === JSON.stringify(state) }) },
  };
  return { slotFor: () => slot, all: () => [slot] } as unknown as CardSlots;
}

const CARD = { cardNumber: 'X00000019', socialSecurityNumber: HOLDER };
const signal = new AbortController().signal;

describe('CounterReads.readIdCard', () => {
  it('the holder\'s ID card: matches, masked; the full number is not in the report', async () => {
    const r = await new CounterReads({ idReader: reader(() => Promise.resolve(ID)), slots: slots(CARD) }).readIdCard({}, signal);
    expect(r).toEqual({
      read: true,
      idCard: { documentType: 'residentId', nameMasked: '王**', idNumberMasked: '411082********0038', idNumberValid: true, validFrom: '2012-09-01', validTo: '2032-09-01' },
      matchesCard: true,
      cardNumberMasked: 'X0****019',
    });
    expect(JSON.stringify(r)).not.toContain(HOLDER);
  });

  it('a Hong Kong resident\'s residence permit (seed 000_1700379f35991b5f.txt line 222): the document named, its number matched with the card\'s', async () => {
    const permit: IdCardInfo = { ...ID, documentType: 'residencePermit', name: '陈嘉欣', nation: '', nationText: '', idNumber: '810000199408230021', passNumber: 'H60123456', issueCount: '01' };
    const r = await new CounterReads({ idReader: reader(() => Promise.resolve(permit)), slots: slots({ cardNumber: 'X00000088', socialSecurityNumber: '810000199408230021' }) }).readIdCard({}, signal);
    expect(r.idCard).toMatchObject({ documentType: 'residencePermit', nameMasked: '陈**', idNumberMasked: '810000********0021' });
    expect(r.matchesCard).toBe(true);
    expect(JSON.stringify(r)).not.toContain('H60123456');
  });

  it('a document the ID SAM returns with an unknown type flag: the read fails with the reason, nothing is compared', async () => {
    const e = new SsCardError(ErrorCode.IdCard_UnsupportedDocument, { zh: '不是本终端能核验的证件', en: 'not a document this terminal can check' });
    const err = await new CounterReads({ idReader: reader(() => Promise.reject(e)), slots: slots(CARD) }).readIdCard({}, signal).catch((x: unknown) => x);
    expect(isSsCardError(err, ErrorCode.IdCard_UnsupportedDocument)).toBe(true);
  });

  it('a namesake (same name and birth date, another number) does not match: by number, never by name', async () => {
    const r = await new CounterReads({ idReader: reader(() => Promise.resolve({ ...ID, idNumber: '411082198503120054' })), slots: slots(CARD) }).readIdCard({}, signal);
    expect(r.matchesCard).toBe(false);
    expect(r.idCard?.nameMasked).toBe('王**');
  });

  it('no ID card on the reader (or none placed within waitMs) is read: false; a reader that does not answer is an error', async () => {
    const noCard = new SsCardError(ErrorCode.IdCard_NoCard, { zh: '没有身份证', en: 'no ID card' });
    expect(await new CounterReads({ idReader: reader(() => Promise.reject(noCard)), slots: slots(CARD) }).readIdCard({}, signal)).toEqual({
      read: false,
      idCard: null,
      matchesCard: null,
      cardNumberMasked: 'X0****019',
    });
    const waited = new SsCardError(ErrorCode.IdCard_Timeout, { zh: '没有放上身份证', en: 'no ID card was placed' }, { reader: 'x', timeoutMs: 10 });
    expect((await new CounterReads({ idReader: reader(() => Promise.reject(waited)), slots: slots(CARD) }).readIdCard({ waitMs: 10 }, signal)).read).toBe(false);
    const silent = new SsCardError(ErrorCode.IdCard_Timeout, { zh: '读卡器没有应答', en: 'the reader did not answer' }, { reader: 'x', command: '20 1', timeoutMs: 3000 });
    await expect(new CounterReads({ idReader: reader(() => Promise.reject(silent)), slots: slots(CARD) }).readIdCard({}, signal)).rejects.toMatchObject({ code: ErrorCode.IdCard_Timeout });
  });

  it('the holder\'s expired ID card (受理标准 材料真实有效, seed 001 line 59): matches, and expiredOn names its end date; valid until today is not expired', async () => {
    const on = (y: number, m: number, d: number) => () => new Date(y, m - 1, d, 12);
    const read = (validTo: string, now: () => Date) => new CounterReads({ idReader: reader(() => Promise.resolve({ ...ID, validTo })), slots: slots(CARD), now }).readIdCard({}, signal);
    expect(await read('2032-09-01', on(2032, 9, 2))).toMatchObject({ read: true, matchesCard: true, expiredOn: '2032-09-01' });
    expect(await read('2032-09-01', on(2032, 9, 1))).not.toHaveProperty('expiredOn');
    expect(await read('长期', on(2099, 1, 1))).not.toHaveProperty('expiredOn');
  });

  it('no card identified in the slot: matchesCard null', async () => {
    const r = await new CounterReads({ idReader: reader(() => Promise.resolve(ID)), slots: slots(undefined, 'idle') }).readIdCard({}, signal);
    expect(r).toMatchObject({ read: true, matchesCard: null, cardNumberMasked: null });
  });

  it('no ID reader → IdCard_ReaderNotFound; waitMs out of bounds → Input_BadOption', async () => {
    await expect(new CounterReads({ idReader: undefined, slots: slots(CARD) }).readIdCard({}, signal)).rejects.toMatchObject({ code: ErrorCode.IdCard_ReaderNotFound });
    await expect(new CounterReads({ idReader: reader(() => Promise.resolve(ID)), slots: slots(CARD) }).readIdCard({ waitMs: 60_001 }, signal)).rejects.toMatchObject({ code: ErrorCode.Input_BadOption });
  });

  it('one read at a time, and none while a service reads the ID card for its 收件 (Flow_Busy); the reader is not touched', async () => {
    let release!: (i: IdCardInfo) => void;
    const r = reader(() => new Promise<IdCardInfo>((res) => (release = res)));
    const reads = new CounterReads({ idReader: r, slots: slots(CARD) });
    const first = reads.readIdCard({}, signal);
    await expect(reads.readIdCard({}, signal)).rejects.toMatchObject({ code: ErrorCode.Flow_Busy });
    release(ID);
    expect((await first).matchesCard).toBe(true);
    const during = reader(() => Promise.resolve(ID));
    const inService = new CounterReads({ idReader: during, slots: slotsInMaterials() });
    await expect(inService.readIdCard({}, signal)).rejects.toMatchObject({ code: ErrorCode.Flow_Busy });
    expect(during.reads).toBe(0);
  });
});

/** A slot whose session is in service.materials (the session's readIdCard is running). */
function slotsInMaterials(): CardSlots {
  const slot = {
    name: 'Virtual PCD 00 00',
    present: true,
    actor: { getSnapshot: () => ({ context: { card: CARD }, matches: (v: unknown) => JSON.stringify(v) === JSON.stringify({ service: 'materials' }) }) },
  };
  return { slotFor: () => slot, all: () => [slot] } as unknown as CardSlots;
}

describe('operationsOf', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('rows newest first with the card number masked and no other identity; limit bounded; no journal refused', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sscard-counter-reads-'));
    dirs.push(dir);
    let t = 1_700_000_000_000;
    const j = openTestJournal(dir, () => t);
    const a = j.beginOperation(BEGIN);
    t += 1000;
    j.completeOperation(a, { outcome: 'ok' });
    const b = j.beginOperation(BEGIN);
    const rows = operationsOf(j, { limit: 10 });
    expect(rows.map((r) => r.id)).toEqual([b, a]);
    expect(rows[1]).toMatchObject({ kind: 'change', state: 'completed', outcome: 'ok', startedAt: 1_700_000_000_000, endedAt: 1_700_000_001_000, syncState: 'unsynced' });
    expect(rows[1]!.cardNumberMasked).toMatch(/^\w{2}\*+\w{3}$/);
    expect(JSON.stringify(rows)).not.toContain(BEGIN.card.cardNumber!);
    expect(operationsOf(j, { limit: 10, since: 1_700_000_001_000 }).map((r) => r.id)).toEqual([b]);
    expect(rows.map((r) => r.bankRequest)).toEqual([null, null]);
    expectCode(() => operationsOf(j, { limit: 201 }), ErrorCode.Input_BadOption);
    expectCode(() => operationsOf(j, { limit: 0 }), ErrorCode.Input_BadOption);
    j.close();
    expectCode(() => operationsOf(j, { limit: 1 }), ErrorCode.Journal_OpenFailed);
    expectCode(() => operationsOf(undefined, { limit: 1 }), ErrorCode.Journal_OpenFailed);
  });

  it('a financial window’s activation shows its bank-account request pending, then sent once the platform acknowledged it (seed 000_1700379f35991b5f.txt lines 64–66)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sscard-counter-reads-'));
    dirs.push(dir);
    const j = openTestJournal(dir, () => 1_700_000_000_000);
    const op = j.beginOperation({ ...BEGIN, serviceItem: ACTIVATION_ITEM, kind: 'activate', role: 'financial-counter' });
    j.completeOperation(op, { outcome: 'ok' });
    const other = j.beginOperation(BEGIN);
    j.completeOperation(other, { outcome: 'ok' });
    expect(operationsOf(j, { limit: 10 }).find((r) => r.id === op)!.bankRequest).toBeNull();
    const req = j.recordBankRequest({ operationId: op, card: BEGIN.card });
    expect(operationsOf(j, { limit: 10 }).map((r) => [r.id, r.bankRequest])).toEqual([[other, null], [op, 'pending']]);
    j.markBankRequestSent(req);
    expect(operationsOf(j, { limit: 10 }).find((r) => r.id === op)!.bankRequest).toBe('sent');
    j.close();
  });
});
