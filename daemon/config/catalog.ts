/**
 * This hall's service catalog at start (docs/config.md `catalog`, `province`): the file the
 * configuration names — else the shipped demo, fixtures/catalog/service-items.json — read and
 * validated by daemon/flows/catalog.ts (state/catalog.ts `parseCatalog`: codes and check
 * characters), and the province whose cards are served (申请条件 二 「已办理过我省社会保障卡」,
 * seed 000 line 224): `province`, else the catalog's own (its 实施主体编码's region code). A bad
 * file is one Config_Invalid naming the key `catalog`, the file and the key path inside it, like
 * every other configuration problem (problems.ts).
 */
import { isSsCardError } from '../../core/errors.js';
import type { ServiceItem } from '../../state/catalog.js';
import { catalogProvince } from '../../state/hall.js';
import { catalogServiceItems, loadServiceCatalog } from '../flows/catalog.js';
import type { DaemonConfig } from './config.js';
import { invalid } from './problems.js';

export interface HallCatalog {
  readonly items: readonly ServiceItem[];
  /** The file read (absolute). */
  readonly file: string;
  /** The shipped demo catalog: the configuration names none. */
  readonly demo: boolean;
  /** GB/T 2260 province code whose cards are served. */
  readonly province: string;
}

/** Read and check the configured catalog; throws Config_Invalid at `catalog` (or `province`). */
export function loadHallCatalog(cfg: Pick<DaemonConfig, 'catalog' | 'province' | 'configFile'>): HallCatalog {
  const source = cfg.configFile ?? '(defaults)';
  const raw = { catalog: cfg.catalog.file, ...(cfg.province === undefined ? {} : { province: cfg.province }) };
  let items: ServiceItem[];
  try {
    items = loadServiceCatalog(cfg.catalog.file);
    // Every kind but a PIN check needs an item whose code the journal accepts.
    catalogServiceItems(items);
  } catch (e) {
    if (!isSsCardError(e)) throw e;
    throw invalid(raw, source, [{ path: ['catalog'], text: { zh: `服务目录无效：${e.text.zh}`, en: `the service catalog is not valid: ${e.text.en}` } }]);
  }
  const province = cfg.province ?? catalogProvince(items);
  if (province === undefined) {
    throw invalid(raw, source, [
      {
        path: ['province'],
        text: {
          zh: '服务目录中各事项的实施主体不在同一省份，无法推定本厅所在省份：请设置 province（2 位省级行政区划代码，如 "41"）',
          en: 'the catalog\'s implementers are in different provinces, so the hall\'s province cannot be told: set province (a 2-digit province code, e.g. "41")',
        },
      },
    ]);
  }
  return { items, file: cfg.catalog.file, demo: cfg.catalog.demo, province };
}
