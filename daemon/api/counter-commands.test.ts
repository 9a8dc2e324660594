/**
 * The counter's commands over the API (counter-commands.ts; docs/api.md "Counter"): IdCard.Read and
 * SSCard.Operations — privileged, journaled, masked, bounded.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { FakeOperatorAuth } from '../../testing/fake-operator-auth.js';
import { FAKE_ID_CARD, FakeTerminal } from '../../testing/fake-terminal.js';
import { apiPerTest, login } from '../../testing/api-test-client.js';

const start = apiPerTest();
const counter = (opts: ConstructorParameters<typeof FakeTerminal>[0] = {}) => new FakeTerminal({ role: 'counter', ...opts });
/** FAKE_ID_CARD's number, which must never cross the API in full. */
const FULL_ID = FAKE_ID_CARD.idNumber;

describe('IdCard.Read', () => {
  it('needs a live operator (auth.required), and the refusal is journaled', async () => {
    const api = await start({ terminal: counter() });
    const c = await api.connect();
    const r = await c.command('IdCard.Read');
    expect(r.completion.header.completionCode).toBe('authorisationRequired');
    expect(r.completion.payload).toEqual({ sscardErrorCode: 'auth.required' });
    expect(api.terminal.calls.some((x) => x.method === 'readIdCard')).toBe(false);
    expect(api.journal.map((j) => [j.operatorId, j.command, j.outcome])).toEqual([['', 'IdCard.Read', 'authorisationRequired:auth.required']]);
  });

  it('the holder\'s own ID card: masked, matchesCard true, no mismatch text; the full number nowhere in the frames', async () => {
    const api = await start({ terminal: counter() });
    const c = await api.connect();
    await login(c);
    const r = await c.command('IdCard.Read');
    expect(r.completion.header.completionCode).toBe('success');
    expect(r.completion.payload).toEqual({
      read: true,
      idCard: { documentType: 'residentId', nameMasked: '张*', idNumberMasked: '410402********1234', idNumberValid: false, validFrom: '2015-01-01', validTo: '2035-01-01' },
      matchesCard: true,
      cardNumberMasked: 'X0****019',
    });
    expect(JSON.stringify(c.messages)).not.toContain(FULL_ID);
    expect(JSON.stringify(c.messages)).not.toContain('张三');
    expect(api.logger.text()).not.toContain(FULL_ID);
    expect(api.journal.map((j) => [j.operatorId, j.command, j.outcome])).toEqual([['op1', 'IdCard.Read', 'success']]);
  });

  it('a namesake\'s ID card (same name, another number): matchesCard false with the bilingual reason the service would give', async () => {
    const api = await start({ terminal: counter({ idCard: { ...FAKE_ID_CARD, idNumber: '410402199001015678' } }) });
    const c = await api.connect();
    await login(c);
    const r = await c.command('IdCard.Read');
    expect(r.completion.payload).toMatchObject({ read: true, matchesCard: false, idCard: { nameMasked: '张*', idNumberMasked: '410402********5678' } });
    expect(r.completion.payload!['mismatch']).toEqual({
      zh: '身份证号码与社保卡的社会保障号码不一致，不能办理。',
      en: 'The resident ID number does not match the card’s social security number; the service cannot go on.',
    });
  });

  it('the holder\'s expired ID card: matchesCard true, and `expired` with the words the service would give (identity.expired)', async () => {
    const api = await start({ terminal: counter({ idCard: { ...FAKE_ID_CARD, validTo: '2016-05-01' } }) });
    const c = await api.connect();
    await login(c);
    const p = (await c.command('IdCard.Read')).completion.payload!;
    expect(p).toMatchObject({ read: true, matchesCard: true, idCard: { validTo: '2016-05-01' } });
    expect(p['expired']).toEqual({
      zh: '您的居民身份证有效期至 2016-05-01，已过期，不能作为办理材料：请到公安机关换领居民身份证，或携带有效的居民身份证办理。',
      en: 'Your resident ID card expired on 2016-05-01, so it cannot be accepted: renew it at the public security bureau, or bring a valid resident ID card.',
    });
    expect(p).not.toHaveProperty('mismatch');
  });

  it('no ID card on the reader: read false; no card in the slot: matchesCard null', async () => {
    const api = await start({ terminal: counter({ idCard: null }) });
    const c = await api.connect();
    await login(c);
    expect((await c.command('IdCard.Read')).completion.payload).toEqual({ read: false, idCard: null, matchesCard: null, cardNumberMasked: 'X0****019' });
    api.terminal.idCard = FAKE_ID_CARD;
    api.terminal.removeCard();
    expect((await c.command('IdCard.Read')).completion.payload).toMatchObject({ read: true, matchesCard: null, cardNumberMasked: null });
  });

  it('waitMs and reader go to the terminal; waitMs is bounded (0…60000) and the payload strict', async () => {
    const api = await start({ terminal: counter() });
    const c = await api.connect();
    await login(c);
    await c.command('IdCard.Read', { waitMs: 5000, reader: 'Fake' });
    expect(api.terminal.last('readIdCard').request).toEqual({ waitMs: 5000, reader: 'Fake' });
    for (const bad of [{ waitMs: 60_001 }, { waitMs: -1 }, { waitMs: 1.5 }, { idNumber: '1' }]) {
      const r = await c.command('IdCard.Read', bad);
      expect(r.completion.header.completionCode, JSON.stringify(bad)).toBe('invalidData');
    }
  });

  it('no ID reader → deviceNotReady; the ID reader busy → sequenceError', async () => {
    const api = await start({ terminal: counter({ idReader: false }) });
    const c = await api.connect();
    await login(c);
    const none = await c.command('IdCard.Read');
    expect(none.completion.header.completionCode).toBe('deviceNotReady');
    expect(none.completion.payload).toEqual({ sscardErrorCode: 'idCard.readerNotFound' });
    api.terminal.failNext = { method: 'readIdCard', error: new SsCardError(ErrorCode.Flow_Busy, { zh: '身份证读卡器正在使用中', en: 'the ID card reader is in use' }) };
    const busy = await c.command('IdCard.Read');
    expect(busy.completion.header.completionCode).toBe('sequenceError');
  });

  it('is listed under its interface in Common.Capabilities', async () => {
    const api = await start({ terminal: counter() });
    const c = await api.connect();
    // Our own interfaces are listed in the vendor block (Capabilities' interfaces names only the specification's).
    const caps = (await c.command('Common.Capabilities')).completion.payload as { sscard: { interfaces: { name: string; commands: Record<string, unknown> }[] } };
    expect(Object.keys(caps.sscard.interfaces.find((i) => i.name === 'IdCard')!.commands)).toEqual(['IdCard.Read']);
    expect(Object.keys(caps.sscard.interfaces.find((i) => i.name === 'SSCard')!.commands)).toContain('SSCard.Operations');
  });
});

describe('SSCard.Operations', () => {
  it('needs a live operator; an expired session answers auth.sessionExpired', async () => {
    let now = 1_700_000_000_000;
    const auth = new FakeOperatorAuth({ ttlMs: 60_000, now: () => now });
    const api = await start({ terminal: counter(), auth });
    const c = await api.connect();
    expect((await c.command('SSCard.Operations')).completion.payload).toEqual({ sscardErrorCode: 'auth.required' });
    await login(c);
    expect((await c.command('SSCard.Operations')).completion.header.completionCode).toBe('success');
    now += 61_000;
    const late = await c.command('SSCard.Operations');
    expect(late.completion.header.completionCode).toBe('authorisationRequired');
    expect(late.completion.payload).toEqual({ sscardErrorCode: 'auth.sessionExpired' });
  });

  it('the terminal\'s rows newest first, masked, with outcome, item code and sync state; since and limit apply', async () => {
    const api = await start({ terminal: counter({ triesLeft: 0 }) });
    const c = await api.connect();
    await login(c);
    const before = Date.now();
    api.terminal.holderTypes('369258', '369258');
    await c.command('SSCard.UnblockPin');
    api.terminal.holderTypes('000000');
    await c.command('SSCard.VerifyPin');
    const r = await c.command('SSCard.Operations', { since: before });
    const ops = (r.completion.payload as { operations: Record<string, unknown>[] }).operations;
    expect(ops.map((o) => [o['kind'], o['outcome']])).toEqual([
      ['verify', 'failed'],
      ['unblock', 'ok'],
    ]);
    expect(ops[1]).toMatchObject({ state: 'completed', itemCode: '11410402785096902M500201401000601', cardNumberMasked: 'X0****019', synced: false, syncState: 'unsynced', operatorId: 'op1' });
    expect(Object.keys(ops[1]!).sort()).toEqual(['agent', 'bankRequest', 'cardNumberMasked', 'endedAt', 'id', 'itemCode', 'kind', 'operatorId', 'outcome', 'reason', 'startedAt', 'state', 'syncState', 'synced']);
    expect(JSON.stringify(ops)).not.toContain('X00000019');
    expect(((await c.command('SSCard.Operations', { limit: 1 })).completion.payload as { operations: unknown[] }).operations).toHaveLength(1);
    expect(((await c.command('SSCard.Operations', { since: Date.now() + 60_000 })).completion.payload as { operations: unknown[] }).operations).toEqual([]);
  });

  it('limit is bounded (1…200), since a non-negative integer, unknown fields refused', async () => {
    const api = await start({ terminal: counter() });
    const c = await api.connect();
    await login(c);
    for (const bad of [{ limit: 0 }, { limit: 201 }, { since: -5 }, { since: 'today' }, { cardNumber: 'X' }]) {
      expect((await c.command('SSCard.Operations', bad)).completion.header.completionCode, JSON.stringify(bad)).toBe('invalidData');
    }
    expect((await c.command('SSCard.Operations', { limit: 200 })).completion.header.completionCode).toBe('success');
  });

  it('no journal → deviceNotReady', async () => {
    const api = await start({ terminal: counter() });
    const c = await api.connect();
    await login(c);
    api.terminal.failNext = { method: 'operations', error: new SsCardError(ErrorCode.Journal_OpenFailed, { zh: '业务日志不可用', en: 'the journal is not available' }) };
    expect((await c.command('SSCard.Operations')).completion.header.completionCode).toBe('deviceNotReady');
  });
});
