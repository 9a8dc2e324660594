import { describe, expect, it } from 'vitest';
import { ApiError, type Completion } from '../client/api-client.js';
import { cardOfStatus, msgOfCapabilities, msgOfCatalog, msgOfEvent, msgOfServiceCompletion, msgOfServiceError, msgOfStatus } from './api-map.js';
import { serviceResultOf as resultOf } from '../client/read.js';

const completion = (over: Partial<Completion>): Completion => ({ name: 'X.Y', requestId: 1, code: 'success', ok: true, errorCode: null, description: null, payload: {}, ...over });

const RESULT = { code: 'verify.wrongPin', kind: 'verify', outcome: 'failed', zh: '密码错误', en: 'wrong PIN', triesLeft: 2, nextStep: { zh: '请重试', en: 'try again' }, sw: '63C2' };

describe('kiosk api-map', () => {
  it.each([
    ['SSCard.CardInsertedEvent', 'SSCard.CardInsertedEvent', {}, { type: 'cardInserted' }],
    ['SSCard.CardRemovedEvent', 'SSCard.CardRemovedEvent', { reader: 'r' }, { type: 'cardRemoved' }],
    ['SSCard.CardIdentifiedEvent', 'SSCard.CardIdentifiedEvent', { cardNumberMasked: 'X0****019', name: '王志强', triesLeft: 3, cardState: 'active', authentic: true, reader: 'r' }, { type: 'cardIdentified', card: { cardNumberMasked: 'X0****019', name: '王志强', triesLeft: 3, cardState: 'active', authentic: true } }],
    ['SSCard.CardIdentifiedEvent (tries unknown)', 'SSCard.CardIdentifiedEvent', { cardNumberMasked: 'X0****019', name: '王', triesLeft: null, cardState: 'active', authentic: null }, { type: 'cardIdentified', card: { cardNumberMasked: 'X0****019', name: '王', triesLeft: null, cardState: 'active', authentic: null } }],
    ['SSCard.CardIdentifiedEvent (malformed)', 'SSCard.CardIdentifiedEvent', { name: '王' }, null],
    ['SSCard.PinEntryStartedEvent', 'SSCard.PinEntryStartedEvent', { prompt: 'confirmNewPin' }, { type: 'pinEntryStarted', prompt: 'confirmNewPin' }],
    ['SSCard.PinEntryStartedEvent (unknown prompt)', 'SSCard.PinEntryStartedEvent', { prompt: 'other' }, null],
    ['SSCard.PinDigitsEvent', 'SSCard.PinDigitsEvent', { count: 4 }, { type: 'pinDigits', count: 4 }],
    ['SSCard.PinDigitsEvent (not a count)', 'SSCard.PinDigitsEvent', { count: '4' }, null],
    ['Common.StatusChangedEvent pcsc down', 'Common.StatusChangedEvent', { sscardDevice: { component: 'pcsc', connected: false, problem: null } }, { type: 'device', online: false }],
    ['Common.StatusChangedEvent pcsc up', 'Common.StatusChangedEvent', { sscardDevice: { component: 'pcsc', connected: true, problem: null } }, { type: 'device', online: true }],
    ['Common.StatusChangedEvent PIN pad', 'Common.StatusChangedEvent', { sscardDevice: { component: 'pinPad', connected: false, problem: null } }, null],
    ['SSCard.SessionEndedEvent', 'SSCard.SessionEndedEvent', {}, null],
    ['SSCard.IdCardRequestedEvent', 'SSCard.IdCardRequestedEvent', {}, { type: 'idCardRequested' }],
    ['SSCard.IdCardReadEvent (the holder\'s)', 'SSCard.IdCardReadEvent', { whose: 'holder', read: true, matches: true, expired: false }, { type: 'idCardRead', read: true, matches: true, expired: false }],
    ['SSCard.IdCardReadEvent (the holder\'s, expired)', 'SSCard.IdCardReadEvent', { whose: 'holder', read: true, matches: true, expired: true }, { type: 'idCardRead', read: true, matches: true, expired: true }],
    ['SSCard.IdCardReadEvent (not read)', 'SSCard.IdCardReadEvent', { read: false, matches: null }, { type: 'idCardRead', read: false, matches: null, expired: null }],
    ['SSCard.IdCardReadEvent (malformed)', 'SSCard.IdCardReadEvent', { read: 'yes' }, null],
  ])('%s', (_label, name, payload, msg) => {
    expect(msgOfEvent(name, payload)).toEqual(msg);
  });

  it('Common.Status: online and deviceBusy are usable; offline, noDevice and a failed status are not', () => {
    for (const [device, online] of [['online', true], ['deviceBusy', true], ['offline', false], ['noDevice', false]] as const) {
      expect(msgOfStatus(completion({ payload: { common: { device } } }))).toEqual({ type: 'device', online });
    }
    expect(msgOfStatus(completion({ ok: false, code: 'internalError', payload: {} }))).toEqual({ type: 'device', online: false });
  });

  it('Common.Status: a card already identified is the holder\'s, greeted by the masked name; none, unidentified or failed: nothing', () => {
    const card = { present: true, identified: true, cardNumberMasked: 'X0****019', nameMasked: '王**', specVersion: '2.00', triesLeft: 6, cardState: 'active', session: 'identified' };
    expect(cardOfStatus(completion({ payload: { common: { device: 'online' }, sscard: { card } } }))).toEqual({
      type: 'cardIdentified',
      card: { cardNumberMasked: 'X0****019', name: '王**', triesLeft: 6, cardState: 'active', authentic: null },
    });
    expect(cardOfStatus(completion({ payload: { sscard: { card: { ...card, identified: false, cardNumberMasked: null, nameMasked: null } } } }))).toBeNull();
    expect(cardOfStatus(completion({ payload: { sscard: { card: { ...card, nameMasked: null } } } }))).toBeNull();
    expect(cardOfStatus(completion({ payload: {} }))).toBeNull();
    expect(cardOfStatus(completion({ ok: false, code: 'internalError', payload: { sscard: { card } } }))).toBeNull();
  });

  it('Common.Capabilities: services (known kinds only) and the touchscreen pad', () => {
    const c = completion({ payload: { sscard: { role: 'kiosk', services: ['verify', 'change', 'bogus'], pinPad: { kind: 'touch', touchKeys: true }, idReader: false } } });
    // A daemon that does not name its floor: the default (docs/config.md session.triesFloor = 1).
    expect(msgOfCapabilities(c)).toEqual({ type: 'capabilities', services: ['verify', 'change'], touchKeys: true, idReader: false, triesFloor: 1 });
    const floor0 = completion({ payload: { sscard: { services: ['verify'], pinPad: {}, idReader: true, triesFloor: 0 } } });
    expect(msgOfCapabilities(floor0)).toMatchObject({ triesFloor: 0 });
    expect(msgOfCapabilities(completion({ ok: false, code: 'internalError' }))).toBeNull();
  });

  it('a service completion with a result → serviceResult, whatever its completion code', () => {
    const m = msgOfServiceCompletion(completion({ ok: false, code: 'commandErrorCode', errorCode: 'verify.wrongPin', payload: { result: RESULT, errorCode: 'verify.wrongPin' } }));
    expect(m).toEqual({ type: 'serviceResult', result: { ...RESULT, nextStep: { zh: '请重试', en: 'try again' } } });
  });

  it('a policy refusal keeps its violations; a materials refusal its missing items', () => {
    const r = resultOf({ ...RESULT, code: 'pin.policy', violations: ['PIN_SEQUENCE'], missing: ['居民身份证'], sw: undefined });
    expect(r).toMatchObject({ code: 'pin.policy', violations: ['PIN_SEQUENCE'], missing: ['居民身份证'] });
    expect(r).not.toHaveProperty('sw');
  });

  it('a service completion without a result (deviceNotReady …) → serviceFailed with the daemon’s text, or a generic one', () => {
    expect(msgOfServiceCompletion(completion({ ok: false, code: 'deviceNotReady', description: { zh: '未找到密码键盘', en: 'no PIN pad' } }))).toEqual({ type: 'serviceFailed', text: { zh: '未找到密码键盘', en: 'no PIN pad' } });
    expect(msgOfServiceCompletion(completion({ ok: false, code: 'internalError' }))).toMatchObject({ type: 'serviceFailed', text: { zh: expect.any(String), en: expect.any(String) } });
  });

  it('a lost connection → serviceFailed with the client’s text', () => {
    const e = new ApiError('connectionLost', { zh: '连接中断', en: 'lost' });
    expect(msgOfServiceError(e)).toEqual({ type: 'serviceFailed', text: { zh: '连接中断', en: 'lost' } });
  });

  it.each([null, 'x', { code: 1 }, { code: 'a', zh: 'b' }])('not a result: %j', (x) => {
    expect(resultOf(x)).toBeNull();
  });

  it('a result says whether a new PIN was checked against the PIN rules (policyChecked; false after a PC/SC Part 10 secure change)', () => {
    expect(resultOf({ ...RESULT, code: 'change.ok', outcome: 'ok', policyChecked: false })?.policyChecked).toBe(false);
    expect(resultOf({ ...RESULT, code: 'change.ok', outcome: 'ok', policyChecked: true })?.policyChecked).toBe(true);
    expect(resultOf(RESULT)).not.toHaveProperty('policyChecked');
    expect(resultOf({ ...RESULT, policyChecked: 'no' })).not.toHaveProperty('policyChecked');
  });

  it('a result names its journal row (operationId) when it has one', () => {
    expect(resultOf({ ...RESULT, operationId: '0190a8f2-0000-7000-8000-000000000001' })?.operationId).toBe('0190a8f2-0000-7000-8000-000000000001');
    expect(resultOf(RESULT)).not.toHaveProperty('operationId');
    expect(resultOf({ ...RESULT, operationId: 7 })).not.toHaveProperty('operationId');
  });

  it('a result that sends the holder elsewhere says where (the hall’s window and phones); a malformed where is dropped', () => {
    const where = { office: '西高皇街道办事处', address: { zh: '平顶山市新华区（县）西高皇街道', en: 'Xigaohuang' }, hours: null, consultPhone: '0375-6182813', complaintPhone: null, zh: '办理地点：西高皇街道办事处。', en: 'Where: Xigaohuang.' };
    expect(resultOf({ ...RESULT, where })?.where).toEqual({ office: where.office, address: where.address, hours: null, consultPhone: '0375-6182813', complaintPhone: null, text: { zh: where.zh, en: where.en } });
    expect(resultOf(RESULT)).not.toHaveProperty('where');
    expect(resultOf({ ...RESULT, where: { office: 7 } })).not.toHaveProperty('where');
  });

  it('SSCard.Catalog: services with their materials, items with codes, limits and contacts; malformed entries dropped', () => {
    const m = msgOfCatalog(
      completion({
        payload: {
          role: 'kiosk',
          services: [
            { kind: 'reset', name: { zh: '密码重置', en: 'PIN reset' }, itemId: 'pin', operatorRequired: false, materials: [{ material: 'residentIdCard', zh: '身份证', en: 'ID card' }, { material: 5 }] },
            { kind: 'pay', name: { zh: 'x', en: 'x' } },
          ],
          items: [
            { id: 'pin', itemCode: 'C33', name: { zh: '密码修改与重置', en: 'PIN' }, kinds: ['verify', 'reset', 'fly'], steps: [{ zh: '收件', en: 'Receive', timeLimit: { zh: '即时', en: 'at once' } }, { zh: '受理', en: 'Accept' }], committedLimitDays: 1, address: { zh: '西高皇街道', en: 'Xigaohuang' }, consultPhone: '0375-6182813', complaintPhone: null },
            { id: 'broken' },
          ],
        },
      }),
    );
    // web/client/catalog.ts reads it (the counter too); arrays match element by element, so the malformed entries must be gone.
    expect(m).toMatchObject({
      type: 'catalog',
      catalog: {
        services: [{ kind: 'reset', name: { zh: '密码重置', en: 'PIN reset' }, itemId: 'pin', materials: [{ material: 'residentIdCard', zh: '身份证', en: 'ID card' }] }],
        items: [
          {
            id: 'pin',
            itemCode: 'C33',
            name: { zh: '密码修改与重置', en: 'PIN' },
            kinds: ['verify', 'reset'],
            steps: [
              { zh: '收件', en: 'Receive', timeLimit: { zh: '即时', en: 'at once' } },
              { zh: '受理', en: 'Accept', timeLimit: null },
            ],
            committedLimitDays: 1,
            address: { zh: '西高皇街道', en: 'Xigaohuang' },
            consultPhone: '0375-6182813',
            complaintPhone: null,
          },
        ],
      },
    });
    expect(msgOfCatalog(completion({ ok: false, code: 'unsupportedCommand' }))).toBeNull();
  });

  it('SSCard.Catalog: each service’s 办事指南 (申请条件, materials with 受理标准, fee, window, hours, phones) for 一次性告知 (seed 001 line 75); absent from an older daemon', () => {
    const guide = {
      conditions: [{ zh: '已办理过我省社会保障卡；', en: 'a card of this province' }, 'bare'],
      materials: [{ material: 'residentIdCard', zh: '身份证', en: 'ID card', standard: { zh: '材料真实有效', en: 'genuine' } }, { material: 'socialSecurityCard', zh: '社保卡', en: 'card', standard: null }],
      committedLimitDays: 1,
      fee: { free: true, zh: '不收费', en: 'no fee' },
      window: { office: '西高皇街道办事处', address: { zh: '西高皇街道', en: 'Xigaohuang' }, directions: null, hours: null },
      consultPhone: '0375-6182813',
      complaintPhone: null,
    };
    const svc = { kind: 'reset', name: { zh: '密码重置', en: 'PIN reset' }, itemId: 'pin', operatorRequired: false, materials: [] };
    const m = msgOfCatalog(completion({ payload: { role: 'kiosk', services: [{ ...svc, guide }, { ...svc, kind: 'change' }], items: [] } }));
    const services = (m as unknown as { catalog: { services: { guide?: unknown }[] } }).catalog.services;
    expect(services[0]!.guide).toEqual({
      conditions: [{ zh: '已办理过我省社会保障卡；', en: 'a card of this province' }],
      materials: [
        { material: 'residentIdCard', zh: '身份证', en: 'ID card', standard: { zh: '材料真实有效', en: 'genuine' } },
        { material: 'socialSecurityCard', zh: '社保卡', en: 'card', standard: null },
      ],
      committedLimitDays: 1,
      fee: { zh: '不收费', en: 'no fee', free: true },
      office: '西高皇街道办事处',
      address: { zh: '西高皇街道', en: 'Xigaohuang' },
      hours: null,
      consultPhone: '0375-6182813',
      complaintPhone: null,
    });
    expect(services[1]).not.toHaveProperty('guide');
  });
});
