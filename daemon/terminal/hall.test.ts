/**
 * A terminal serving another hall's catalog (docs/config.md `catalog`, `province`), over the PC/SC
 * service with the fake addon: the journal rows carry that hall's 业务办理项编码 (a plain PIN check
 * none: seed 001 line 7 事项名称 社会保障卡密码修改与重置 is change and reset), SSCard.Catalog shows
 * its codes and window, /status says it is not the demo, and a card of another province is refused
 * (申请条件 二 「已办理过我省社会保障卡」, seed 000 line 224) with this hall's window and phone.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { PcscService } from '../../drivers/pcsc/pcsc-service.js';
import { TouchPinPad } from '../../drivers/pinpad/touch-pinpad.js';
import type { CardProfile } from '../../drivers/sim/profile.js';
import { loadCardProfile, loadPsamProfile } from '../../drivers/sim/profile.js';
import { VirtualSsCard } from '../../drivers/sim/virtual-card.js';
import { VirtualPsam } from '../../drivers/sim/virtual-psam.js';
import { parseCatalog } from '../../state/catalog.js';
import { FakePcsc } from '../../testing/fake-pcsc-addon.js';
import { HALL_ADDRESS, HALL_CONSULT_PHONE, HALL_IMPLEMENTER, HALL_PIN_ITEM, hallCatalogJson } from '../../testing/hall-catalog.js';
import { openTestJournal, tempJournalDir } from '../../testing/journal.js';
import { catalogPayload } from '../api/catalog-payload.js';
import type { Journal } from '../journal/journal.js';
import { PIN_CHECK_SERVICE_ITEM } from '../sync/wire.js';
import { Terminal } from './terminal.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixture = (f: string): string => path.join(root, 'fixtures', f);
const CARD = 'Fake Card Reader 00';
const SAM = 'Fake SAM Reader 01';
const HALL = parseCatalog(hallCatalogJson());

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function terminalWith(o: { change?: Partial<CardProfile>; province?: string }): Promise<{ terminal: Terminal; journal: Journal; pad: TouchPinPad; insert(): void }> {
  const fake = new FakePcsc();
  fake.readerNames = [CARD, SAM];
  const pcsc = new PcscService({ addon: fake.factory });
  pcsc.start();
  await pcsc.ready(2000);
  const card = new VirtualSsCard({ ...(await loadCardProfile(fixture('cards/card-2.0.json'))), ...o.change });
  fake.reader(CARD).respond = (apdu) => card.process(apdu);
  const psam = new VirtualPsam(await loadPsamProfile(fixture('psam/psam-test.json')));
  psam.powerOn();
  fake.reader(SAM).respond = (apdu) => psam.process(apdu);
  fake.reader(SAM).setCard(psam.atr);
  const pad = new TouchPinPad({ allowTouchscreen: true });
  await pad.open();
  const dir = tempJournalDir();
  const journal = openTestJournal(dir, () => Date.now());
  const terminal = new Terminal({
    terminalId: 'T-HALL',
    deviceId: 'D-HALL',
    role: 'kiosk',
    version: '0.0.0-test',
    simulated: true,
    pcsc,
    isPsamReader: (n) => n === SAM,
    pinPad: pad,
    journal,
    catalog: HALL,
    demoCatalog: false,
    ...(o.province === undefined ? {} : { province: o.province }),
    session: { inactivityMs: 60_000, pinEntryMs: 30_000 },
  });
  terminal.start();
  await terminal.settled();
  cleanups.push(async () => {
    await terminal.stop(1000);
    await pcsc.stop();
    await pad.close();
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    terminal,
    journal,
    pad,
    insert: () => {
      card.powerOn();
      fake.reader(CARD).setCard(card.atr);
    },
  };
}

async function identified(t: Terminal): Promise<void> {
  const end = Date.now() + 3000;
  while (!t.status().card.identified) {
    if (Date.now() > end) throw new Error('card not identified');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function run(r: { terminal: Terminal; pad: TouchPinPad }, kind: 'verify' | 'change', pins: string[]) {
  const queue = [...pins];
  return r.terminal.runService({ kind }, (e) => {
    const pin = e.type === 'pin.entryStarted' ? queue.shift() : undefined;
    if (pin !== undefined) setImmediate(() => {
      for (const k of pin) r.pad.input(k);
    });
  }, new AbortController().signal);
}

describe('a terminal with another hall’s catalog', () => {
  it('journals that hall’s 业务办理项编码 (a PIN check: the no-item marker), and SSCard.Catalog and /status show that hall', async () => {
    const r = await terminalWith({});
    r.insert();
    await identified(r.terminal);
    expect((await run(r, 'change', ['123456', '246813', '246813'])).code).toBe('change.ok');
    expect((await run(r, 'verify', ['246813'])).code).toBe('verify.ok');
    const rows = r.journal.list().sort((a, b) => a.seq - b.seq);
    expect(rows.map((x) => [x.kind, x.serviceItem])).toEqual([
      ['change', HALL_PIN_ITEM],
      ['verify', PIN_CHECK_SERVICE_ITEM],
    ]);
    const payload = catalogPayload('kiosk', ['verify', 'change'], r.terminal.catalog()) as { items: { itemCode: string; implementer: string }[]; services: { kind: string; guide: { window: { office: string; address: { zh: string } | null; hours: { zh: string } | null }; consultPhone: string } }[] };
    expect(payload.items.map((i) => i.itemCode)).toContain(HALL_PIN_ITEM);
    expect(new Set(payload.items.map((i) => i.implementer))).toEqual(new Set([HALL_IMPLEMENTER]));
    expect(payload.services[1]!.guide).toMatchObject({ window: { office: HALL_IMPLEMENTER, address: { zh: HALL_ADDRESS.zh }, hours: { zh: '周一至周五 8:30–12:00，14:30–17:30' } }, consultPhone: HALL_CONSULT_PHONE });
    expect(r.terminal.status().catalog).toEqual({ demo: false, province: '41', implementers: [HALL_IMPLEMENTER] });
  });

  it('申请条件 二 (seed 000 line 224): a card from Guangdong is refused at this Henan hall, told this hall’s window and phone; the refusal is journaled under the hall’s code', async () => {
    const base = await loadCardProfile(fixture('cards/card-2.0.json'));
    const r = await terminalWith({ change: { issuer: { ...base.issuer, cardId: `440300${base.issuer.cardId.slice(6)}` } } });
    r.insert();
    await identified(r.terminal);
    const result = await run(r, 'change', ['123456', '246813', '246813']);
    expect(result).toMatchObject({ code: 'card.otherProvince', outcome: 'refused' });
    expect(result.zh).toContain('广东省');
    expect(result.where).toMatchObject({ office: HALL_IMPLEMENTER, consultPhone: HALL_CONSULT_PHONE });
    expect(result.nextStep.zh).toContain(HALL_ADDRESS.zh);
    expect(result.nextStep.zh).toContain(`咨询电话：${HALL_CONSULT_PHONE}`);
    expect(r.journal.list().map((x) => [x.kind, x.serviceItem, x.outcome, x.reason])).toEqual([['change', HALL_PIN_ITEM, 'refused', 'card-other-province']]);
  });

  it('the demo catalog by default: /status says so', async () => {
    const fake = new FakePcsc();
    fake.readerNames = [CARD];
    const pcsc = new PcscService({ addon: fake.factory });
    pcsc.start();
    await pcsc.ready(2000);
    const t = new Terminal({ terminalId: 'T', deviceId: 'D', role: 'kiosk', version: '0', simulated: true, pcsc });
    cleanups.push(async () => {
      await t.stop(1000);
      await pcsc.stop();
    });
    expect(t.status().catalog).toEqual({ demo: true, province: '41', implementers: ['长葛市人力资源和社会保障局', '西高皇街道办事处'] });
  });
});
