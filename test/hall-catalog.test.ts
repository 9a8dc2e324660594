/**
 * A daemon serving another hall (docs/config.md `catalog`, `province`), end to end over pcscd +
 * vpcd with the simulator: the hall's catalog file named in the configuration, a simulated card
 * issued in Guangdong (its 卡识别码 opens with 440300). SSCard.Catalog and /status name the hall;
 * every service on that card is refused with card.otherProvince (申请条件 二 「已办理过我省社会保障卡」,
 * seed 000 line 224) naming this hall's window and phone; the refusals are journaled with the hall's
 * 业务办理项编码, the PIN check with the no-item marker (seed 001 line 7: 社会保障卡密码修改与重置
 * is change and reset).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../daemon/journal/journal.js';
import { PIN_CHECK_SERVICE_ITEM } from '../daemon/sync/wire.js';
import { HALL_ADDRESS, HALL_CONSULT_PHONE, HALL_IMPLEMENTER, HALL_PIN_ITEM, writeHallCatalog } from '../testing/hall-catalog.js';
import type { CommandResult } from '../testing/api-test-client.js';
import { DaemonProcess, connectClient } from './helpers/daemon.js';
import { ROOT, requireStack, settleAfterRemoval } from './helpers/stack.js';

let daemon: DaemonProcess;
const dir = mkdtempSync(path.join(tmpdir(), 'sscard-hall-'));

beforeAll(async () => {
  await requireStack();
  writeHallCatalog(path.join(dir, 'hall.json'));
  const card = JSON.parse(readFileSync(path.join(ROOT, 'fixtures/cards/card-2.0.json'), 'utf8')) as { issuer: Record<string, string>; label?: string };
  card.issuer['卡识别码'] = `440300${card.issuer['卡识别码']!.slice(6)}`;
  writeFileSync(path.join(dir, 'card-guangdong.json'), JSON.stringify(card));
  daemon = await DaemonProcess.start(
    {
      config: {
        api: { port: 0 },
        catalog: 'hall.json',
        journal: { path: 'journal.db', keyFile: 'journal.key' },
        simulator: { card: 'card-guangdong.json' },
        log: { level: 'info', file: null, console: true },
      },
      entry: 'sscardd',
    },
    dir,
  );
  const end = Date.now() + 20_000;
  for (;;) {
    const s = (await (await daemon.fetch('/status')).json()) as { card: { identified: boolean } };
    if (s.card.identified) break;
    if (Date.now() > end) throw new Error(`card not identified: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await settleAfterRemoval();
});

const resultOf = (o: CommandResult): { code: string; nextStep: { zh: string }; where?: { office: string; consultPhone: string | null } } =>
  (o.completion.payload as { result: { code: string; nextStep: { zh: string }; where?: { office: string; consultPhone: string | null } } }).result;

describe('a daemon with another hall’s catalog', () => {
  it('says it serves that hall, not the demo: /status and SSCard.Catalog', async () => {
    expect(daemon.stderr).not.toMatch(/demo service catalog/);
    const s = (await (await daemon.fetch('/status')).json()) as { catalog: unknown };
    expect(s.catalog).toEqual({ demo: false, province: '41', implementers: [HALL_IMPLEMENTER] });
    const c = await connectClient(daemon.port);
    try {
      const p = (await c.command('SSCard.Catalog')).completion.payload as { items: { itemCode: string }[]; services: { kind: string; guide: { window: { office: string; address: { zh: string } } } }[] };
      expect(p.items.map((i) => i.itemCode)).toContain(HALL_PIN_ITEM);
      expect(p.services.find((x) => x.kind === 'change')!.guide.window).toMatchObject({ office: HALL_IMPLEMENTER, address: { zh: HALL_ADDRESS.zh } });
    } finally {
      c.close();
    }
  });

  it('refuses a card issued in Guangdong before any PIN (申请条件 二, seed 000 line 224), names this hall’s window and phone, journals the hall’s code', async () => {
    const c = await connectClient(daemon.port);
    try {
      for (const name of ['SSCard.VerifyPin', 'SSCard.ChangePin']) {
        const r = await c.command(name, {}, { timeout: 30_000 }, 40_000);
        expect(r.events.map((e) => e.header.name)).not.toContain('SSCard.PinEntryStartedEvent');
        const result = resultOf(r);
        expect(result.code, name).toBe('card.otherProvince');
        expect(result.where).toMatchObject({ office: HALL_IMPLEMENTER, consultPhone: HALL_CONSULT_PHONE });
        expect(result.nextStep.zh).toContain(`咨询电话：${HALL_CONSULT_PHONE}`);
      }
    } finally {
      c.close();
    }
    const j = Journal.open({ path: path.join(dir, 'journal.db'), keyFile: path.join(dir, 'journal.key'), readOnly: true });
    try {
      expect(j.list({}).sort((a, b) => a.seq - b.seq).map((r) => [r.kind, r.serviceItem, r.outcome, r.reason])).toEqual([
        ['verify', PIN_CHECK_SERVICE_ITEM, 'refused', 'card-other-province'],
        ['change', HALL_PIN_ITEM, 'refused', 'card-other-province'],
      ]);
    } finally {
      j.close();
    }
  }, 60_000);
});
