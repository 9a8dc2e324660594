import { describe, expect, it } from 'vitest';
import type { Completion } from '../client/api-client.js';
import { msgOfEvent, msgOfStatus } from './controller.js';
import { idCardReportOf, operationsOf } from './wire.js';
import { catalogOf } from '../client/catalog.js';
import { serviceResultOf as resultOf } from '../client/read.js';

describe('payloads the counter reads', () => {
  it('SSCard.Catalog: services and items with their materials; malformed entries dropped', () => {
    const c = catalogOf({
      role: 'financial-counter',
      services: [
        { kind: 'activate', name: { zh: '社会保障卡启用', en: 'card activation' }, itemId: 'card-activation', operatorRequired: true, materials: [{ material: 'socialSecurityCard', zh: '社保卡', en: 'card' }] },
        { kind: 'fly', name: { zh: '?', en: '?' } },
      ],
      items: [
        {
          id: 'card-activation',
          itemCode: '11411082005756085T400201401000202',
          name: { zh: '社会保障卡启用', en: 'Social security card activation' },
          kinds: ['activate', 'nonsense'],
          materials: [{ material: 'socialSecurityCard', zh: '社保卡', en: 'card' }, { material: 1 }],
          steps: [{ zh: '收件', en: 'Receive materials', handler: { zh: '窗口', en: 'the window' } }],
          legalLimitDays: 1,
          committedLimitDays: 1,
          address: null,
          consultPhone: '0374-1234567',
          complaintPhone: null,
          advice: [],
        },
        { id: 'no-name' },
      ],
    })!;
    expect(c.role).toBe('financial-counter');
    expect(c.services.map((s) => s.kind)).toEqual(['activate']);
    expect(c.items).toHaveLength(1);
    expect(c.items[0]!.kinds).toEqual(['activate']);
    expect(c.items[0]!.materials).toEqual([{ material: 'socialSecurityCard', zh: '社保卡', en: 'card' }]);
    expect(c.items[0]!.steps[0]).toEqual({ zh: '收件', en: 'Receive materials', handler: { zh: '窗口', en: 'the window' }, timeLimit: null });
    expect(c.items[0]!.consultPhone).toBe('0374-1234567');
    expect(catalogOf({ errorCode: 'x' })).toBeNull();
  });

  it('IdCard.Read: the masked ID card, the match and the mismatch reason', () => {
    expect(idCardReportOf({ read: true, idCard: { nameMasked: '王**', idNumberMasked: '411082********0054', idNumberValid: true, validFrom: '2012-09-01', validTo: '2032-09-01' }, matchesCard: false, cardNumberMasked: 'X0****019', mismatch: { zh: '不一致', en: 'no match' } })).toEqual({
      read: true,
      idCard: { documentType: 'residentId', nameMasked: '王**', idNumberMasked: '411082********0054', idNumberValid: true, validFrom: '2012-09-01', validTo: '2032-09-01' },
      matchesCard: false,
      cardNumberMasked: 'X0****019',
      mismatch: { zh: '不一致', en: 'no match' },
    });
    // The document read (docs/api.md "Counter"); a daemon that does not name one read a resident ID card.
    expect(idCardReportOf({ read: true, idCard: { documentType: 'residencePermit', nameMasked: '陈**', idNumberMasked: '810000********0021', idNumberValid: true, validFrom: '2022-03-15', validTo: '2027-03-15' }, matchesCard: true, cardNumberMasked: 'X0****088' })?.idCard?.documentType).toBe('residencePermit');
    expect(idCardReportOf({ read: true, idCard: { nameMasked: '王**', idNumberMasked: '411082********0054', idNumberValid: true, validFrom: '2012-09-01', validTo: '2032-09-01' }, matchesCard: true, cardNumberMasked: null })?.idCard?.documentType).toBe('residentId');
    expect(idCardReportOf({ read: false, idCard: null, matchesCard: null, cardNumberMasked: null })).toEqual({ read: false, idCard: null, matchesCard: null, cardNumberMasked: null, mismatch: null });
    expect(idCardReportOf({})).toBeNull();
  });

  it('IdCard.Read of an expired ID card: `expired`, the reason zh and en (受理标准 材料真实有效, seed 001 line 59); malformed → left out', () => {
    const expired = { zh: '您的居民身份证有效期至 2016-05-01，已过期', en: 'Your resident ID card expired on 2016-05-01' };
    expect(idCardReportOf({ read: true, idCard: null, matchesCard: true, cardNumberMasked: null, expired })?.expired).toEqual(expired);
    expect(idCardReportOf({ read: true, idCard: null, matchesCard: true, cardNumberMasked: null, expired: true })).not.toHaveProperty('expired');
    expect(idCardReportOf({ read: true, idCard: null, matchesCard: true, cardNumberMasked: null })).not.toHaveProperty('expired');
  });

  it('SSCard.Operations: rows kept as sent, malformed ones dropped', () => {
    const rows = operationsOf({
      operations: [
        { id: 'a', kind: 'unblock', itemCode: 'X', state: 'completed', outcome: 'ok', reason: null, startedAt: 1, endedAt: 2, cardNumberMasked: 'W0****588', synced: false, syncState: 'unsynced', operatorId: 'op1' },
        { id: 'b' },
      ],
    })!;
    expect(rows).toEqual([{ id: 'a', kind: 'unblock', itemCode: 'X', state: 'completed', outcome: 'ok', reason: null, startedAt: 1, endedAt: 2, cardNumberMasked: 'W0****588', synced: false, syncState: 'unsynced', operatorId: 'op1' }]);
    expect(operationsOf({})).toBeNull();
  });

  it('a service result with the financial counter\'s bank request', () => {
    const r = resultOf({ code: 'activate.ok', kind: 'activate', outcome: 'ok', zh: '已启用', en: 'activated', triesLeft: null, nextStep: { zh: '好', en: 'ok' }, bank: { zh: '已提交银行', en: 'sent to the bank', attempted: true } })!;
    expect(r.bank).toEqual({ zh: '已提交银行', en: 'sent to the bank', attempted: true });
    expect(resultOf({ code: 1 })).toBeNull();
  });
});

describe('API messages → model messages', () => {
  it('CardIdentifiedEvent carries the name in full: the model masks it (nameIsMasked false); Common.Status\'s is masked already', () => {
    expect(msgOfEvent('SSCard.CardIdentifiedEvent', { cardNumberMasked: 'X0****019', name: '王志强', specVersion: '2.00', triesLeft: 6, cardState: 'active', authentic: true })).toEqual({
      type: 'cardIdentified',
      name: '王志强',
      nameIsMasked: false,
      cardNumberMasked: 'X0****019',
      triesLeft: 6,
      cardState: 'active',
    });
    const status = (card: unknown): Completion => ({ name: 'Common.Status', requestId: 1, code: 'success', ok: true, errorCode: null, description: null, payload: { sscard: { card } } });
    expect(msgOfStatus(status({ present: true, identified: true, cardNumberMasked: 'X0****019', nameMasked: '王**', triesLeft: 6, cardState: 'active' }))).toMatchObject({ type: 'cardIdentified', name: '王**', nameIsMasked: true });
    expect(msgOfStatus(status({ present: false, identified: false }))).toEqual({ type: 'cardRemoved' });
    expect(msgOfEvent('SSCard.PinDigitsEvent', { count: 4 })).toEqual({ type: 'pinDigits', count: 4 });
    expect(msgOfEvent('SSCard.PinEntryStartedEvent', { prompt: 'enterNewPin' })).toEqual({ type: 'pinEntryStarted', prompt: 'enterNewPin' });
    expect(msgOfEvent('SSCard.PinEntryStartedEvent', { prompt: 'tellMeThePin' })).toBeNull();
  });
});
