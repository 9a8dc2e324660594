import { describe, expect, it } from 'vitest';
import type { Catalog } from '../client/catalog.js';
import { helpItems, itemOf, materialName, needsOf, whereToGo } from './catalog-view.js';
import { SERVICE_NEEDS } from './text.js';

const ID = { material: 'residentIdCard', zh: '居民身份证（原件）', en: 'resident ID card (original)' };
const CARD = { material: 'socialSecurityCard', zh: '社会保障卡（原件）', en: 'social security card (original)' };

/** As the daemon answers SSCard.Catalog for a kiosk with the shipped catalog (fixtures/catalog/service-items.json). */
const CATALOG: Catalog = {
  role: 'kiosk',
  services: [
    { kind: 'verify', name: { zh: '密码校验', en: 'PIN check' }, itemId: 'pin-change-reset', operatorRequired: false, materials: [CARD] },
    { kind: 'reset', name: { zh: '密码重置', en: 'PIN reset' }, itemId: 'pin-change-reset', operatorRequired: false, materials: [CARD, ID] },
  ],
  items: [
    { id: 'card-activation', itemCode: '11411082005756085T400201401000202', name: { zh: '社会保障卡启用', en: 'activation' }, kinds: ['activate'], steps: [{ zh: '收件', en: 'Receive', handler: null, timeLimit: { zh: '1 天', en: '1 day' } }], legalLimitDays: 1, committedLimitDays: 1, materials: [], advice: [], address: { zh: '长葛区行政服务大厅', en: 'Changge hall' }, consultPhone: '0374-6566168', complaintPhone: '0374-6123133' },
    {
      id: 'pin-change-reset',
      itemCode: '11410402785096902M500201401000601',
      name: { zh: '社会保障卡密码修改与重置', en: 'PIN change and reset' },
      kinds: ['verify', 'change', 'reset', 'unblock'],
      steps: [
        { zh: '收件', en: 'Receive', handler: null, timeLimit: { zh: '即时', en: 'immediately' } },
        { zh: '受理', en: 'Accept', handler: null, timeLimit: { zh: '即时', en: 'immediately' } },
      ],
      legalLimitDays: 1, committedLimitDays: 1, materials: [], advice: [],
      address: { zh: '平顶山市新华区（县）西高皇街道', en: 'Xigaohuang' },
      consultPhone: '0375-6182813',
      complaintPhone: '0375-2208399',
    },
  ],
};

describe('catalog-view', () => {
  it('needsOf: every material the daemon names for this service here, then the PINs — all at once (一次性告知)', () => {
    expect(needsOf(CATALOG, 'reset').map((n) => n.zh)).toEqual(['社会保障卡（原件）', '居民身份证（原件）', '新的 6 位密码，输入两次']);
    expect(needsOf(CATALOG, 'verify').map((n) => n.zh)).toEqual(['社会保障卡（原件）', '您的 6 位密码']);
  });

  it('needsOf: without the catalog (or a service it does not list) the kiosk\'s own list stands in', () => {
    expect(needsOf(null, 'reset')).toBe(SERVICE_NEEDS.reset);
    expect(needsOf(CATALOG, 'change')).toBe(SERVICE_NEEDS.change);
  });

  it('itemOf: the receipt\'s item name and 业务办理项编码, by the service\'s item id, else by kind', () => {
    expect(itemOf(CATALOG, 'reset')?.itemCode).toBe('11410402785096902M500201401000601');
    expect(itemOf(CATALOG, 'change')?.id).toBe('pin-change-reset');
    expect(itemOf(CATALOG, 'activate')?.id).toBe('card-activation');
    expect(itemOf(null, 'reset')).toBeNull();
  });

  it('materialName: a missing material in words; an unknown code as it came', () => {
    expect(materialName(CATALOG, 'residentIdCard')).toEqual({ zh: '居民身份证（原件）', en: 'resident ID card (original)' });
    expect(materialName(CATALOG, 'photo')).toEqual({ zh: 'photo', en: 'photo' });
  });

  it('whereToGo: a locked PIN → the unblocking item\'s window; a card not active → the activation item\'s', () => {
    expect(whereToGo(CATALOG, 'pinBlocked')).toEqual({ address: CATALOG.items[1]!.address, phone: '0375-6182813' });
    expect(whereToGo(CATALOG, 'notActivated')).toEqual({ address: CATALOG.items[0]!.address, phone: '0374-6566168' });
    expect(whereToGo(null, 'pinBlocked')).toEqual({ address: null, phone: null });
  });

  it('helpItems: each item behind the offered services once, with step limits, the committed limit and the phone lines', () => {
    const items = helpItems(CATALOG, ['verify', 'change', 'reset']);
    expect(items).toHaveLength(1);
    expect(items[0]!.limits.map((l) => l.zh)).toEqual(['收件：即时', '受理：即时', '承诺办理时限：1 个工作日']);
    expect(items[0]).toMatchObject({ consultPhone: '0375-6182813', complaintPhone: '0375-2208399' });
    expect(helpItems(null, ['verify'])).toEqual([]);
  });
});
