/**
 * The hall the terminal stands in (state/hall.ts): which province's cards it serves — 申请条件 二
 * 「已办理过我省社会保障卡」 (seed 000 line 224, seed 001 line 47; 000_1700379f35991b5f.txt,
 * 001_bf9ce8a90a3e7ce5.txt) — and where a holder it sends away goes: the window, hours and
 * consultation phone from the catalog, on every refusal that sends the holder elsewhere.
 */
import { readFileSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Psam } from '../drivers/psam/psam.js';
import type { CardProfile } from '../drivers/sim/profile.js';
import { cardFixture, loadCardProfile, psamFixture } from '../drivers/sim/profile.js';
import { SimTransport } from '../drivers/sim/sim-transport.js';
import { VirtualSsCard } from '../drivers/sim/virtual-card.js';
import { VirtualPsam } from '../drivers/sim/virtual-psam.js';
import type { Journal } from '../daemon/journal/journal.js';
import { openTestJournal, tempJournalDir } from '../testing/journal.js';
import type { Rig } from '../testing/services-rig.js';
import { createRig } from '../testing/services-rig.js';
import { parseCatalog, type ServiceItem } from './catalog.js';
import { cardProvince, catalogProvince, isProvinceCode, provinceName, whereItem, whereOf, withWhere } from './hall.js';
import { results, sendsElsewhere, type ServiceResult } from './results.js';
import type { ServiceKind } from './roles.js';
import type { SessionConfig } from './session.js';

const CATALOG: readonly ServiceItem[] = parseCatalog(JSON.parse(readFileSync(new URL('../fixtures/catalog/service-items.json', import.meta.url), 'utf8')));
const ACTIVATION = CATALOG.find((i) => i.id === 'card-activation')!;
const PIN = CATALOG.find((i) => i.id === 'pin-change-reset')!;
/** This hall's catalog as a deployment would have it: one window, with office hours. */
const HALL: readonly ServiceItem[] = CATALOG.map((it) => ({ ...it, hours: { zh: '周一至周五 8:30–17:30', en: 'Mon–Fri 8:30–17:30' } }));

describe('province of a card and of a catalog', () => {
  it('the card’s province is the first two digits of the region code opening the 卡识别码 (docs/domain.md §1, EF05 tag 01)', () => {
    expect(cardProvince('411082D156000005B342125825DF90C3')).toBe('41');
    expect(cardProvince('440300D156000005B342125825DF90C3')).toBe('44');
    expect(cardProvince('D156000005B342125825DF90C3')).toBeUndefined();
  });

  it('GB/T 2260 province codes: 41 河南, 44 广东, 82 澳门 are; 00, 47, 99 are not', () => {
    expect(['41', '44', '82'].every(isProvinceCode)).toBe(true);
    expect(['00', '47', '99', '4', '410'].some(isProvinceCode)).toBe(false);
    expect(provinceName('44')).toBe('广东省');
  });

  it('the catalog’s province is its 实施主体编码’s region (GB 32100 characters 3–8): seed 000 lines 204–206 411082 长葛, seed 001 line 41 410402 新华区 → 41', () => {
    expect(catalogProvince(CATALOG)).toBe('41');
    expect(catalogProvince([])).toBeUndefined();
  });
});

describe('where the holder goes: every result that sends the holder elsewhere names the window and the phone', () => {
  const sent: [string, ServiceResult, ServiceItem][] = [
    ['NEXT.counter: a wrong PIN with one try left', results.verifyWrong(1, 0x63c1), PIN],
    ['NEXT.unblock: the PIN locked (seed 000 lines 347–351) → the unblocking item', results.locked('verify', 0x6983), PIN],
    ['card.locked → the unblocking item', results.cardLocked('change'), PIN],
    ['NEXT.replace: the application locked', results.cardAppLocked('change'), PIN],
    ['card.notActivated → the activation item (seed 000)', results.cardNotActivated('change'), ACTIVATION],
    ['belowFloor', results.belowFloor('verify', 1), PIN],
    ['role.notAllowed: activation at a kiosk (seed 000 是否支持自助终端办理 否)', results.roleNotAllowed('activate', undefined), ACTIVATION],
    ['materials.missing (一次性告知, seed 001 line 75)', results.materialsMissing('reset', ['residentIdCard'], { zh: '缺少身份证', en: 'no ID card' }), PIN],
    ['pinPad.unsupported', results.pinPadUnsupported('reset'), PIN],
    ['activate.pinNotSet → the reset item', results.activatePinNotSet(6), PIN],
    ['card.otherProvince', results.cardOtherProvince('change', '广东省'), PIN],
    ['operator.required', results.operatorRequired('unblock'), PIN],
  ];

  it.each(sent)('%s', (_what, result, item) => {
    expect(sendsElsewhere(result)).toBe(true);
    const r = withWhere(result, HALL);
    expect(r.where).toMatchObject({ office: item.implementer, address: item.address, consultPhone: item.consultPhone, complaintPhone: item.complaintPhone, hours: { zh: '周一至周五 8:30–17:30' } });
    // The next step still says what to do, then where and whom to ask.
    expect(r.nextStep.zh.startsWith(result.nextStep.zh)).toBe(true);
    expect(r.nextStep.zh).toContain(item.address!.zh);
    expect(r.nextStep.zh).toContain(`咨询电话：${item.consultPhone!}`);
    expect(r.nextStep.en).toContain(`enquiries: ${item.consultPhone!}`);
    expect(r.nextStep.zh).toContain('办公时间：周一至周五 8:30–17:30');
    // Once: a second pass changes nothing.
    expect(withWhere(r, HALL)).toBe(r);
  });

  it.each<[string, ServiceResult]>([
    ['verify.ok', results.verifyOk(6)],
    ['a wrong PIN with tries to spare (NEXT.retry)', results.verifyWrong(4, 0x63c4)],
    ['reset.ok (seed 001 line 85 advice)', results.resetOk(6)],
    ['cancelled', results.cancelled('change')],
  ])('a result that sends nobody away is left as it is: %s', (_what, result) => {
    expect(sendsElsewhere(result)).toBe(false);
    expect(withWhere(result, HALL)).toBe(result);
  });

  it('no catalog: the result as it was', () => {
    const r = results.cardLocked('verify');
    expect(withWhere(r, [])).toBe(r);
  });

  it('a PIN check, which has no item, goes to the PIN item’s window; without an address the office alone is named', () => {
    expect(whereItem(CATALOG, 'verify')).toBe(PIN);
    const bare = { ...PIN, address: undefined, hours: undefined };
    delete (bare as Record<string, unknown>)['address'];
    delete (bare as Record<string, unknown>)['hours'];
    expect(whereOf(bare as ServiceItem).text.zh).toBe('办理地点：西高皇街道办事处；咨询电话：0375-6182813。');
  });
});

// ---- the session machine over the simulator ----

const rigs: Rig[] = [];
const journals: { j: Journal; dir: string }[] = [];
afterEach(() => {
  for (const r of rigs.splice(0)) r.stop();
  for (const { j, dir } of journals.splice(0)) {
    j.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function session(config: SessionConfig, change: Partial<CardProfile> = {}, journal?: Journal) {
  const base = await loadCardProfile(cardFixture('card-2.0'));
  const profile = { ...base, ...change };
  const vcard = new VirtualSsCard(profile);
  const commands: Buffer[] = [];
  const transport = new SimTransport(vcard, { onCommand: (e) => void (e.phase === 'before' && commands.push(Buffer.from(e.command))) });
  const psam = new Psam(new SimTransport(await VirtualPsam.fromFile(psamFixture('psam-test'))));
  await psam.open();
  const rig = await createRig({ transport: () => transport, psam, config, ...(journal === undefined ? {} : { journal }) });
  rigs.push(rig);
  return { rig, vcard, commands, profile };
}

async function run(rig: Rig, kind: ServiceKind, pins: string[]): Promise<ServiceResult> {
  rig.actor.send({ type: 'CARD_INSERTED' });
  await rig.settle('identified', 'ended');
  rig.pins.push(...pins);
  rig.actor.send({ type: 'SELECT_SERVICE', kind });
  return (await rig.settle('done', 'ended')).context.result!;
}

/** The shipped card with the region code of its 卡识别码 in Guangdong (440300 深圳). */
async function guangdongCard(): Promise<Partial<CardProfile>> {
  const base = await loadCardProfile(cardFixture('card-2.0'));
  return { issuer: { ...base.issuer, cardId: `440300${base.issuer.cardId.slice(6)}` } };
}

describe('申请条件 二 「已办理过我省社会保障卡」 (seed 000 line 224, seed 001 line 47): a card of another province is refused', () => {
  it.each<ServiceKind>(['verify', 'change'])('%s: card.otherProvince before any PIN is asked, nothing sent to the card after identification, the refusal journaled, and where to go', async (kind) => {
    const dir = tempJournalDir();
    const journal = openTestJournal(dir, () => Date.now());
    journals.push({ j: journal, dir });
    const { rig, vcard, commands } = await session({ role: 'kiosk', province: '41', catalog: HALL }, await guangdongCard(), journal);
    const triesBefore = vcard.pinTriesLeft;
    rig.actor.send({ type: 'CARD_INSERTED' });
    await rig.settle('identified', 'ended');
    const sentBefore = commands.length;
    rig.actor.send({ type: 'SELECT_SERVICE', kind });
    const r = (await rig.settle('done', 'ended')).context.result!;
    expect(r).toMatchObject({ code: 'card.otherProvince', outcome: 'refused', kind });
    expect(r.zh).toContain('广东省');
    expect(r.nextStep.zh).toContain('发卡地（广东省）');
    expect(r.where).toMatchObject({ office: PIN.implementer, consultPhone: '0375-6182813' });
    expect(rig.emitted.some((e) => e.type === 'pin.entryStarted')).toBe(false);
    expect(commands.length).toBe(sentBefore);
    expect(vcard.pinTriesLeft).toBe(triesBefore);
    const rows = journal.list();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kind, outcome: 'refused', reason: 'card-other-province' });
  });

  it('a card of this province is served (seed 000 line 224: 411082 长葛 is in 41 河南)', async () => {
    const { rig } = await session({ role: 'kiosk', province: '41', catalog: HALL });
    expect((await run(rig, 'verify', ['123456'])).code).toBe('verify.ok');
  });

  it('a hall in Guangdong serves the Guangdong card and refuses the Henan one', async () => {
    const gd = await session({ role: 'kiosk', province: '44' }, await guangdongCard());
    expect((await run(gd.rig, 'verify', ['123456'])).code).toBe('verify.ok');
    const ha = await session({ role: 'kiosk', province: '44' });
    const r = await run(ha.rig, 'verify', ['123456']);
    expect(r.code).toBe('card.otherProvince');
    expect(r.zh).toContain('河南省');
    // Without a catalog the text stands alone: no where.
    expect(r.where).toBeUndefined();
  });

  it('no province configured: not checked', async () => {
    const { rig } = await session({ role: 'kiosk' }, await guangdongCard());
    expect((await run(rig, 'verify', ['123456'])).code).toBe('verify.ok');
  });
});

describe('the session names the hall on its refusals', () => {
  it('a kiosk below the tries floor sends the holder to the PIN item’s window, with hours and phone', async () => {
    const { rig } = await session({ role: 'kiosk', catalog: HALL }, { pinTriesLeft: 1 });
    const r = await run(rig, 'verify', ['111111']);
    expect(r.code).toBe('verify.belowFloor');
    expect(r.where).toMatchObject({ office: '西高皇街道办事处', consultPhone: '0375-6182813', hours: { en: 'Mon–Fri 8:30–17:30' } });
    expect(r.nextStep.zh).toContain('平顶山市新华区（县）西高皇街道');
  });

  it('a card not activated sends the holder to the activation item’s window (seed 000 申请条件 三)', async () => {
    const base = await loadCardProfile(cardFixture('card-not-activated'));
    const vcard = new VirtualSsCard(base);
    const psam = new Psam(new SimTransport(await VirtualPsam.fromFile(psamFixture('psam-test'))));
    await psam.open();
    const rig = await createRig({ transport: () => new SimTransport(vcard), psam, config: { role: 'kiosk', catalog: HALL } });
    rigs.push(rig);
    const r = await run(rig, 'change', []);
    expect(r.code).toBe('card.notActivated');
    expect(r.where).toMatchObject({ office: '长葛市人力资源和社会保障局', consultPhone: '0374-6566168' });
  });

  it('a result that sends nobody away has no where', async () => {
    const { rig } = await session({ role: 'kiosk', catalog: HALL });
    const r = await run(rig, 'verify', ['123456']);
    expect(r.code).toBe('verify.ok');
    expect(r.where).toBeUndefined();
  });
});

describe('the API sends where (docs/api.md "Service completion")', () => {
  it('resultPayload writes where out field by field; a result without one has none', async () => {
    const { resultPayload } = await import('../daemon/api/commands.js');
    const r = withWhere(results.cardLocked('verify'), HALL);
    expect(resultPayload(r)['where']).toEqual({
      office: '西高皇街道办事处',
      address: { zh: PIN.address!.zh, en: PIN.address!.en },
      hours: { zh: '周一至周五 8:30–17:30', en: 'Mon–Fri 8:30–17:30' },
      consultPhone: '0375-6182813',
      complaintPhone: '0375-2208399',
      zh: r.where!.text.zh,
      en: r.where!.text.en,
    });
    expect(resultPayload(results.verifyOk(6))).not.toHaveProperty('where');
  });
});
