/**
 * Another hall's catalog for the tests (docs/config.md `catalog`): the shipped catalog's two items
 * (fixtures/catalog/service-items.json) served by one made-up 实施主体 in 平顶山市新华区 (region
 * 410402, province 41) with codes of its own — valid shapes and check character (fixtures/catalog/
 * README.md), none of the seeds' — one window, office hours and phones. Not a real office.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../daemon/config/root.js';

export type RawCatalog = { version: number; items: Record<string, unknown>[] };

export const HALL_IMPLEMENTER = '平顶山市新华区社会保障卡服务中心（测试用）';
/** GB 32100: 1 2 (机构编制, 事业单位) + 410402 + MB0000001 + check character H. */
export const HALL_IMPLEMENTER_CODE = '12410402MB0000001H';
export const HALL_ACTIVATION_ITEM = '12410402MB0000001H400201401000202';
export const HALL_PIN_ITEM = '12410402MB0000001H500201401000601';
export const HALL_CONSULT_PHONE = '0375-1234567';
export const HALL_ADDRESS = { zh: '平顶山市新华区示例路 1 号政务服务大厅 3 号窗口', en: 'Xinhua district, Pingdingshan: government service hall, 1 Example Road, window 3' };
export const HALL_HOURS = { zh: '周一至周五 8:30–12:00，14:30–17:30', en: 'Mon–Fri 8:30–12:00, 14:30–17:30' };

/** The shipped catalog as JSON. */
export function shippedCatalogJson(): RawCatalog {
  return JSON.parse(readFileSync(path.join(projectRoot(), 'fixtures/catalog/service-items.json'), 'utf8')) as RawCatalog;
}

/** The test hall's catalog as JSON. */
export function hallCatalogJson(): RawCatalog {
  const c = shippedCatalogJson();
  const [act, pin] = c.items as [Record<string, unknown>, Record<string, unknown>];
  for (const it of [act, pin]) {
    Object.assign(it, {
      implementer: HALL_IMPLEMENTER,
      implementerCode: HALL_IMPLEMENTER_CODE,
      address: HALL_ADDRESS,
      hours: HALL_HOURS,
      consultPhone: HALL_CONSULT_PHONE,
      complaintPhone: '0375-7654321',
      scope: { zh: '全市通办', en: 'anywhere in the city' },
    });
    delete it['directions'];
  }
  Object.assign(act, { implementationCode: '12410402MB0000001H4002014010002', itemCode: HALL_ACTIVATION_ITEM, localCode: 'MB0000001GG22770002' });
  Object.assign(pin, { implementationCode: '12410402MB0000001H5002014010006', itemCode: HALL_PIN_ITEM, localCode: 'MB0000001GG002Y3001' });
  return c;
}

/** Write the test hall's catalog to `file`; returns `file`. */
export function writeHallCatalog(file: string): string {
  writeFileSync(file, JSON.stringify(hallCatalogJson(), null, 2));
  return file;
}
