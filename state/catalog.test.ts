/**
 * The service catalog fixture and its loader. Seed 000 = docs/service-items/000_1700379f35991b5f.txt
 * (社会保障卡启用), seed 001 = docs/service-items/001_bf9ce8a90a3e7ce5.txt (社会保障卡密码修改与重置).
 * The seed text breaks codes across lines or with a space; the expected values below are the joined
 * pieces, cited by line.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../core/errors.js';
import { assertSsCardError } from '../testing/util.js';
import * as catalogModule from './catalog.js';
import { AFTER_RESET_ADVICE, hasServiceItem, isUnifiedSocialCreditCode, ITEM_KINDS, parseCatalog, serviceItemFor, type ItemKind, type ServiceItem } from './catalog.js';
import * as roles from './roles.js';
import { SERVICE_KINDS, capability } from './roles.js';

const FIXTURE = new URL('../fixtures/catalog/service-items.json', import.meta.url);
type RawCatalog = { version: number; items: Record<string, unknown>[] };
const raw = (): RawCatalog => JSON.parse(readFileSync(FIXTURE, 'utf8')) as RawCatalog;
const catalog = parseCatalog(raw());
const byId = (id: string): ServiceItem => catalog.find((i) => i.id === id)!;
const activation = byId('card-activation');
const pinItem = byId('pin-change-reset');

describe('codes copied from the seeds (编码信息), pieces joined', () => {
  it.each<[string, ServiceItem, keyof ServiceItem, string]>([
    ['seed 000 lines 204–206 实施主体编码 1141108200575608 + 5T', activation, 'implementerCode', '11411082005756085T'],
    ['seed 000 lines 208–210 实施编码 11411082005756085 + T4002014010002', activation, 'implementationCode', '11411082005756085T4002014010002'],
    ['seed 000 lines 212–214 地方实施编码 005756085GG22770 + 002', activation, 'localCode', '005756085GG22770002'],
    ['seed 000 lines 216–218 业务办理项编码 11411082005756085 + T400201401000202', activation, 'itemCode', '11411082005756085T400201401000202'],
    ['seed 001 line 41 实施主体编码 1141040278509690 + 2M', pinItem, 'implementerCode', '11410402785096902M'],
    ['seed 001 line 41 实施编码 11410402785096902 + M5002014010006', pinItem, 'implementationCode', '11410402785096902M5002014010006'],
    ['seed 001 line 42 地方实施编码 785096902GG002Y + 3001', pinItem, 'localCode', '785096902GG002Y3001'],
    ['seed 001 line 42 业务办理项编码 11410402785096902 + M500201401000601', pinItem, 'itemCode', '11410402785096902M500201401000601'],
  ])('%s', (_seed, item, key, expected) => {
    expect(item[key]).toBe(expected);
  });

  it('lengths: 实施主体编码 18 (with a valid GB 32100 check character), 实施编码 31, 业务办理项编码 33, 地方实施编码 19', () => {
    for (const it of catalog) {
      expect([it.implementerCode.length, it.implementationCode.length, it.itemCode.length, it.localCode.length]).toEqual([18, 31, 33, 19]);
      expect(isUnifiedSocialCreditCode(it.implementerCode)).toBe(true);
    }
  });

  it.each([
    ['11411082005756085T', true],
    ['11410402785096902M', true],
    ['11411082005756085A', false],
    ['1141108200575608', false],
    ['11411082005756085I', false],
  ])('isUnifiedSocialCreditCode(%s) = %s', (code, ok) => {
    expect(isUnifiedSocialCreditCode(code)).toBe(ok);
  });
});

describe('the rest of each record', () => {
  it.each<[string, () => unknown, unknown]>([
    ['seed 000 line 2 事项名称', () => activation.name.zh, '社会保障卡启用'],
    ['seed 001 line 3 事项名称', () => pinItem.name.zh, '社会保障卡密码修改与重置'],
    ['seed 000 lines 8–10 实施主体', () => activation.implementer, '长葛市人力资源和社会保障局'],
    ['seed 001 line 8 实施主体', () => pinItem.implementer, '西高皇街道办事处'],
    ['seed 000 lines 244–264 申请材料 1 社会保障卡, 2 居民身份证', () => activation.materials, ['socialSecurityCard', 'residentIdCard']],
    ['seed 001 lines 59–60 申请材料 1 居民身份证, 2 社会保障卡', () => pinItem.materials, ['residentIdCard', 'socialSecurityCard']],
    ['seed 000 line 307 办理流程: 收件 only', () => activation.steps.map((s) => s.zh), ['收件']],
    ['seed 001 lines 72–75 办理流程: 收件 → 受理', () => pinItem.steps.map((s) => s.zh), ['收件', '受理']],
    ['seed 000 line 307 收件 办理人：窗口', () => activation.steps[0]!.handler?.zh, '窗口'],
    ['seed 001 line 75 受理: 一次性告知', () => pinItem.steps[1]!.standard?.zh.includes('一次性告知申请人需要补正的全部内容'), true],
    ['seed 000 line 26 办理形式 窗口办理、网上办理', () => activation.channels, ['window', 'online']],
    ['seed 001 line 13 办理形式 窗口办理、网上办理', () => pinItem.channels, ['window', 'online']],
    ['seed 000 lines 92–96 是否支持自助终端办理 否', () => activation.selfService, false],
    ['seed 001 line 26 是否支持自助终端办理 是', () => pinItem.selfService, true],
    ['seed 000 line 14 法定/承诺办理时限 1 个工作日', () => [activation.legalLimitDays, activation.committedLimitDays], [1, 1]],
    ['seed 001 line 9 法定/承诺办理时限 1 个工作日', () => [pinItem.legalLimitDays, pinItem.committedLimitDays], [1, 1]],
    ['seed 000 line 12 / seed 001 line 8 办件类型 即办件', () => [activation.onTheSpot, pinItem.onTheSpot], [true, true]],
    ['seed 000 line 46 / seed 001 line 16 最多到现场办事次数 0 次', () => [activation.maxVisits, pinItem.maxVisits], [0, 0]],
    ['seed 000 lines 286–296 / seed 001 lines 64–68 收费 无', () => [activation.free, pinItem.free], [true, true]],
    ['seed 000 file', () => activation.seed, '000_1700379f35991b5f.txt'],
    ['seed 001 file', () => pinItem.seed, '001_bf9ce8a90a3e7ce5.txt'],
  ])('%s', (_seed, get, expected) => {
    expect(get()).toEqual(expected);
  });

  it('seed 001 line 85: the after-reset advice in the catalog is AFTER_RESET_ADVICE', () => {
    expect(pinItem.advice[0]).toEqual(AFTER_RESET_ADVICE);
  });

  it.each<[string, string, string, string, RegExp]>([
    ['card-activation', 'seed 000 lines 122–131, 144–150, 162–163', '0374-6566168', '0374-6123133', /^许昌市长葛区（县）葛天大道街道行政服务大厅 1 楼社保综合室/],
    ['pin-change-reset', 'seed 001 lines 29, 34', '0375-6182813', '0375-2208399', /^平顶山市新华区（县）西高皇街道$/],
  ])('%s (%s): 办理地址, 咨询电话 and 投诉电话 as the seed prints them', (id, _seed, consult, complaint, address) => {
    const it = catalog.find((i) => i.id === id)!;
    expect(it.consultPhone).toBe(consult);
    expect(it.complaintPhone).toBe(complaint);
    expect(it.address?.zh).toMatch(address);
    expect(it.address?.en).not.toBe('');
    expect(it.directions?.zh).toMatch(/路|乘坐/);
  });

  it.each<[string, ServiceItem, string[]]>([
    ['seed 000 lines 220–226', activation, ['在我省居住的中国公民', '已办理过我省社会保障卡；', '社会保障卡未做领卡启用的。']],
    ['seed 001 lines 44–48', pinItem, ['在我省居住的中国公民', '已办理过我省社会保障卡；', '因密码外泄需要修改，或因密码遗忘、社保卡锁定等需要重置。']],
  ])('%s 申请条件, in order, each with English', (_seed, item, starts) => {
    expect(item.conditions.map((c) => c.zh.slice(0, starts[item.conditions.indexOf(c)]!.length))).toEqual(starts);
    for (const c of item.conditions) expect(c.en).not.toBe('');
  });

  it.each<[string, () => unknown, unknown]>([
    ['seed 000 lines 254–258 受理标准 of the card: 持有社保卡但未启用社保卡时', () => activation.materialStandards.socialSecurityCard?.zh, '持有社保卡但未启用社保卡时。'],
    ['seed 000 lines 278–280 受理标准 of the ID card: 材料齐全内容真实有效', () => activation.materialStandards.residentIdCard?.zh, '材料齐全内容真实有效'],
    ['seed 001 lines 59–60 受理标准: 材料真实有效', () => [pinItem.materialStandards.residentIdCard?.zh, pinItem.materialStandards.socialSecurityCard?.zh], ['材料真实有效', '材料真实有效']],
    ['seed 000 line 40 通办范围 全国', () => activation.scope?.zh, '全国'],
    ['seed 001 line 14 通办范围 全镇（乡、街道）级', () => pinItem.scope?.zh, '全镇（乡、街道）级'],
    ['the seeds print no office hours', () => [activation.hours, pinItem.hours], [undefined, undefined]],
  ])('%s', (_seed, get, expected) => {
    expect(get()).toEqual(expected);
  });

  it('hours, scope, conditions and materialStandards are optional; hours is read when given', () => {
    const c = raw();
    for (const k of ['conditions', 'materialStandards', 'scope']) delete (c.items[0] as Record<string, unknown>)[k];
    c.items[1]!.hours = { zh: '周一至周五 8:30–12:00，14:30–17:30', en: 'Mon–Fri 8:30–12:00, 14:30–17:30' };
    const [first, second] = parseCatalog(c);
    expect([first!.conditions, first!.materialStandards, 'scope' in first!]).toEqual([[], {}, false]);
    expect(second!.hours?.zh).toBe('周一至周五 8:30–12:00，14:30–17:30');
  });

  it('address, directions and phones are optional: an item without them is valid and has none', () => {
    const c = raw();
    for (const k of ['address', 'directions', 'consultPhone', 'complaintPhone']) delete (c.items[0] as Record<string, unknown>)[k];
    const first = parseCatalog(c)[0]!;
    expect('address' in first || 'consultPhone' in first).toBe(false);
  });

  it('seed 000 lines 321–323 and 347–351: activation advice repeats the PIN rules and the lockout', () => {
    expect(activation.advice.map((a) => a.zh).join('')).toMatch(/六位相同数字、连续数字、出生日期、电话号码[\s\S]*连续 6 次输入错误密码/);
  });
});

describe('serviceItemFor: the item a service kind reports upstream', () => {
  it.each<[ItemKind, string, string]>([
    ['activate', 'card-activation', 'seed 000 事项名称 社会保障卡启用'],
    ['change', 'pin-change-reset', 'seed 001 申请条件 三 因密码外泄需要修改'],
    ['reset', 'pin-change-reset', 'seed 001 申请条件 三 因密码遗忘…需要重置'],
    ['unblock', 'pin-change-reset', 'seed 001 申请条件 三 社保卡锁定等需要重置'],
  ])('%s → %s (%s)', (kind, id) => {
    expect(serviceItemFor(catalog, kind).id).toBe(id);
  });

  it('seed 001 line 7 事项名称 社会保障卡密码修改与重置: a plain PIN check (verify) is no item — no kind list holds it, and a catalog that lists it is refused', () => {
    expect(pinItem.name.zh).toBe('社会保障卡密码修改与重置');
    expect(hasServiceItem('verify')).toBe(false);
    expect(ITEM_KINDS).not.toContain('verify');
    expect(catalog.flatMap((i) => i.kinds)).not.toContain('verify');
    const c = raw();
    c.items[1]!.kinds = ['verify', 'change', 'reset', 'unblock'];
    const e = assertSsCardError(() => parseCatalog(c), ErrorCode.Config_Invalid);
    expect(e.context).toEqual({ path: 'items[1].kinds[0]' });
    expect(e.text.zh).toContain('不是服务事项');
    expect(e.text.en).toContain('no service item');
  });

  it('a kind no item covers is a configuration error naming the kind', () => {
    const e = assertSsCardError(() => serviceItemFor([activation], 'reset'), ErrorCode.Config_Invalid);
    expect(e.message).toContain('密码重置');
    expect(e.message).toContain('reset');
  });
});

describe('the catalog agrees with the capability matrix', () => {
  it.each(ITEM_KINDS.map((k) => [k]))('%s: the matrix materials are among the item’s materials', (kind) => {
    const item = serviceItemFor(catalog, kind);
    for (const m of capability('counter', kind).materials) expect(item.materials).toContain(m);
  });

  it('an item without self-service (seed 000) has no kind a kiosk may run; one with it (seed 001) has', () => {
    for (const item of catalog) {
      const anyAtKiosk = item.kinds.some((k) => capability('kiosk', k, SERVICE_KINDS).allowed);
      expect(anyAtKiosk).toBe(item.selfService);
    }
  });

  it('catalog.ts re-exports the roles API, so either import path works', () => {
    expect(catalogModule.capability).toBe(roles.capability);
    expect(catalogModule.bankAccountActivation).toBe(roles.bankAccountActivation);
    expect(typeof catalogModule.checkMaterials).toBe('function');
  });
});

describe('parseCatalog: validation with bilingual errors naming the key path', () => {
  type Mutate = (c: RawCatalog) => void;
  it.each<[string, Mutate, string]>([
    ['a code left broken at the line break (seed 000 lines 204–206)', (c) => (c.items[0]!.implementerCode = '1141108200575608'), 'items[0].implementerCode'],
    ['a wrong check character', (c) => (c.items[0]!.implementerCode = '11411082005756085A'), 'items[0].implementerCode'],
    ['实施编码 without its tail (seed 000 lines 208–210)', (c) => (c.items[0]!.implementationCode = '11411082005756085'), 'items[0].implementationCode'],
    ['实施编码 of another implementer', (c) => (c.items[1]!.implementationCode = '11411082005756085T5002014010006'), 'items[1].implementationCode'],
    ['业务办理项编码 not extending the 实施编码', (c) => (c.items[1]!.itemCode = '11410402785096902M500201401000701'), 'items[1].itemCode'],
    ['地方实施编码 broken at the space (seed 001 line 42)', (c) => (c.items[1]!.localCode = '785096902GG002Y'), 'items[1].localCode'],
    ['地方实施编码 of another organization', (c) => (c.items[1]!.localCode = '005756085GG22770002'), 'items[1].localCode'],
    ['an unknown kind', (c) => (c.items[0]!.kinds = ['activate', 'pay']), 'items[0].kinds[1]'],
    ['a kind in two items', (c) => (c.items[0]!.kinds = ['activate', 'reset']), 'items[1].kinds'],
    ['a duplicate id', (c) => (c.items[1]!.id = 'card-activation'), 'items[1].id'],
    ['an unknown material', (c) => (c.items[1]!.materials = ['residentIdCard', 'photo']), 'items[1].materials[1]'],
    ['an unknown channel', (c) => (c.items[0]!.channels = ['window', 'fax']), 'items[0].channels[1]'],
    ['no steps', (c) => (c.items[0]!.steps = []), 'items[0].steps'],
    ['a step without its English name', (c) => ((c.items[1]!.steps as Record<string, unknown>[])[1]!.en = ''), 'items[1].steps[1].en'],
    ['a name without zh', (c) => (c.items[0]!.name = { en: 'x' }), 'items[0].name.zh'],
    ['committed limit over the legal one', (c) => (c.items[0]!.committedLimitDays = 2), 'items[0].committedLimitDays'],
    ['a negative limit', (c) => (c.items[0]!.legalLimitDays = -1), 'items[0].legalLimitDays'],
    ['selfService not a boolean', (c) => (c.items[1]!.selfService = '是'), 'items[1].selfService'],
    ['a seed that is not a seed file name', (c) => (c.items[0]!.seed = 'seed.txt'), 'items[0].seed'],
    ['a phone with the web address the seed prints beside it', (c) => (c.items[1]!.consultPhone = '0375-6182813 http://was.hnzwfw.gov.cn'), 'items[1].consultPhone'],
    ['a phone without its area code', (c) => (c.items[0]!.complaintPhone = '6123133'), 'items[0].complaintPhone'],
    ['an address without English', (c) => (c.items[0]!.address = { zh: '长葛市' }), 'items[0].address.en'],
    ['a 受理标准 for a material the item does not ask for', (c) => (c.items[0]!.materialStandards = { photo: { zh: '清晰', en: 'clear' } }), 'items[0].materialStandards.photo'],
    ['a 受理标准 without English', (c) => (c.items[1]!.materialStandards = { residentIdCard: { zh: '材料真实有效' } }), 'items[1].materialStandards.residentIdCard.en'],
    ['a 申请条件 that is a bare string', (c) => (c.items[1]!.conditions = ['已办理过我省社会保障卡；']), 'items[1].conditions[0]'],
    ['empty conditions', (c) => (c.items[1]!.conditions = []), 'items[1].conditions'],
    ['hours without English', (c) => (c.items[0]!.hours = { zh: '工作日' }), 'items[0].hours.en'],
    ['version 2', (c) => (c.version = 2), 'version'],
    ['items not an array', (c) => ((c as Record<string, unknown>).items = {}), '(root).items'],
  ])('%s → %s', (_what, mutate, path) => {
    const c = raw();
    mutate(c);
    const e = assertSsCardError(() => parseCatalog(c), ErrorCode.Config_Invalid);
    expect(e.text.zh).toContain(path);
    expect(e.text.en).toContain(path);
    expect(e.context).toEqual({ path });
  });

  it('accepts the bare items array and freezes what it returns', () => {
    const items = parseCatalog(raw().items);
    expect(items.map((i) => i.id)).toEqual(['card-activation', 'pin-change-reset']);
    expect(Object.isFrozen(items[0])).toBe(true);
    expect(Object.isFrozen(items[0]!.kinds)).toBe(true);
  });

  it.each([null, 42, 'catalog', { version: 1 }])('rejects %j', (json) => {
    assertSsCardError(() => parseCatalog(json), ErrorCode.Config_Invalid);
  });
});
