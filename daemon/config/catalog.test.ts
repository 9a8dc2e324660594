/**
 * docs/config.md `catalog` and `province`: which hall's service catalog the daemon serves and
 * whose cards (申请条件 二 「已办理过我省社会保障卡」, seed 000 line 224, seed 001 line 47).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../core/errors.js';
import { HALL_ACTIVATION_ITEM, HALL_PIN_ITEM, hallCatalogJson } from '../../testing/hall-catalog.js';
import { assertSsCardError } from '../../testing/util.js';
import { loadHallCatalog } from './catalog.js';
import { loadConfig } from './load.js';
import { projectRoot } from './root.js';

const SHIPPED = path.join(projectRoot(), 'fixtures/catalog/service-items.json');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'sscard-hall-'));
  dirs.push(d);
  return d;
}
type Raw = { version: number; items: Record<string, unknown>[] };
const shipped = (): Raw => JSON.parse(readFileSync(SHIPPED, 'utf8')) as Raw;

describe('catalog: the hall’s own file, else the demo', () => {
  it('absent: the shipped demo catalog, said to be the demo; the province is the catalog’s (41, Henan: 长葛 411082, 新华区 410402)', () => {
    const cfg = loadConfig({ env: {}, cwd: tmp() });
    expect(cfg.catalog).toEqual({ file: SHIPPED, demo: true });
    expect(cfg.province).toBeUndefined();
    const hall = loadHallCatalog(cfg);
    expect(hall).toMatchObject({ demo: true, province: '41', file: SHIPPED });
    expect(hall.items.map((i) => i.implementer)).toEqual(['长葛市人力资源和社会保障局', '西高皇街道办事处']);
  });

  it('a relative path resolves against the config file’s folder, like every other path; the hall’s codes are read', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'hall.json'), JSON.stringify(hallCatalogJson()));
    writeFileSync(path.join(dir, 'sscard.toml'), 'catalog = "hall.json"\nprovince = "41"\n');
    const cfg = loadConfig({ path: path.join(dir, 'sscard.toml'), env: {}, cwd: '/' });
    expect(cfg.catalog).toEqual({ file: path.join(dir, 'hall.json'), demo: false });
    const hall = loadHallCatalog(cfg);
    expect(hall.demo).toBe(false);
    expect(hall.items.map((i) => i.itemCode)).toEqual([HALL_ACTIVATION_ITEM, HALL_PIN_ITEM]);
    expect(hall.items[0]!.hours?.zh).toBe('周一至周五 8:30–12:00，14:30–17:30');
    expect(hall.province).toBe('41');
  });

  it.each<[string, (c: Raw) => unknown, string]>([
    ['a code broken at the line break (seed 000 lines 204–206)', (c) => (c.items[0]!.implementerCode = '1141108200575608'), 'items[0].implementerCode'],
    ['a wrong check character', (c) => (c.items[1]!.implementerCode = '11410402785096902A'), 'items[1].implementerCode'],
    ['a service kind no item covers', (c) => (c.items = [c.items[1]!]), 'activate'],
  ])('a bad file stops the start with Config_Invalid naming the key catalog, the file and what is wrong: %s', (_what, mutate, inner) => {
    const dir = tmp();
    const c = shipped();
    mutate(c);
    writeFileSync(path.join(dir, 'hall.json'), JSON.stringify(c));
    writeFileSync(path.join(dir, 'sscard.json'), JSON.stringify({ catalog: 'hall.json' }));
    const cfg = loadConfig({ path: path.join(dir, 'sscard.json'), env: {} });
    const e = assertSsCardError(() => loadHallCatalog(cfg), ErrorCode.Config_Invalid);
    expect(e.context).toMatchObject({ path: ['catalog'] });
    for (const t of [e.text.zh, e.text.en]) {
      expect(t).toMatch(/^\s*catalog = /m);
      expect(t).toContain('hall.json');
      expect(t).toContain(inner);
    }
    expect(e.text.zh).toContain('服务目录无效');
    expect(e.text.en).toContain('the service catalog is not valid');
  });

  it('a missing file and a file that is not JSON name the key too', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'bad.json'), '{ nope');
    for (const file of ['missing.json', 'bad.json']) {
      writeFileSync(path.join(dir, 'sscard.json'), JSON.stringify({ catalog: file }));
      const e = assertSsCardError(() => loadHallCatalog(loadConfig({ path: path.join(dir, 'sscard.json'), env: {} })), ErrorCode.Config_Invalid);
      expect(e.context).toMatchObject({ path: ['catalog'] });
      expect(e.text.en).toContain(file);
    }
  });

  it('catalog must be a non-empty path string', () => {
    const e = assertSsCardError(() => loadConfig({ path: writeConfig({ catalog: '' }), env: {} }), ErrorCode.Config_Invalid);
    expect(e.text.en).toMatch(/catalog = "": must be a non-empty file path string/);
  });
});

function writeConfig(o: Record<string, unknown>): string {
  const f = path.join(tmp(), 'sscard.json');
  writeFileSync(f, JSON.stringify(o));
  return f;
}

describe('province: 2-digit GB/T 2260 province code (申请条件 二, seed 000 line 224)', () => {
  it.each(['41', '11', '65', '82'])('%s is accepted', (p) => {
    expect(loadConfig({ path: writeConfig({ province: p }), env: {} }).province).toBe(p);
  });

  it.each<[unknown]>([['4'], ['410'], ['00'], ['99'], ['47'], [41], ['河南']])('%j is refused with what is allowed', (p) => {
    const e = assertSsCardError(() => loadConfig({ path: writeConfig({ province: p }), env: {} }), ErrorCode.Config_Invalid);
    expect(e.text.zh).toContain('2 位省级行政区划代码（GB/T 2260）');
    expect(e.text.en).toContain('a 2-digit GB/T 2260 province code as a string, e.g. "41" (Henan)');
    expect(e.context).toMatchObject({ path: ['province'] });
  });

  it('configured: wins over the catalog’s', () => {
    const hall = loadHallCatalog(loadConfig({ path: writeConfig({ province: '42' }), env: {} }));
    expect(hall.province).toBe('42');
  });

  it('absent with implementers in two provinces: the start stops asking for province', () => {
    const dir = tmp();
    const c = shipped();
    // 91 + 440300 (Shenzhen) + organization code + check character: a 实施主体编码 in Guangdong.
    Object.assign(c.items[0]!, {
      implementerCode: '91440300MA5DCLW0X8',
      implementationCode: '91440300MA5DCLW0X84002014010002',
      itemCode: '91440300MA5DCLW0X8400201401000202',
      localCode: 'MA5DCLW0XGG22770002',
    });
    writeFileSync(path.join(dir, 'hall.json'), JSON.stringify(c));
    const e = assertSsCardError(() => loadHallCatalog(loadConfig({ path: writeConfig({ catalog: path.join(dir, 'hall.json') }), env: {} })), ErrorCode.Config_Invalid);
    expect(e.context).toMatchObject({ path: ['province'] });
    expect(e.text.en).toContain('set province');
    // With province set, the same catalog is served.
    expect(loadHallCatalog(loadConfig({ path: writeConfig({ catalog: path.join(dir, 'hall.json'), province: '44' }), env: {} })).province).toBe('44');
  });
});
