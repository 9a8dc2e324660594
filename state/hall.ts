/**
 * The hall this terminal stands in, as the holder is told about it: which province's cards it
 * serves (申请条件 二 「已办理过我省社会保障卡」, seed 000 line 224, seed 001 line 47) and where a
 * holder it cannot serve goes — the window's address, office hours and consultation phone from the
 * catalog (state/catalog.ts, fixtures/catalog/README.md). Pure data in, data out: the catalog is
 * passed in, never read here.
 */
import { bi, type BilingualText } from '../core/text.js';
import type { ServiceItem } from './catalog.js';
import { sendsElsewhere, type ServiceResult } from './results.js';
import type { ServiceKind } from './roles.js';

/**
 * The province-level codes of GB/T 2260 (行政区划代码, first two digits): 11–15 华北, 21–23 东北,
 * 31–37 华东, 41–46 中南, 50–54 西南, 61–65 西北, 71 台湾, 81 香港, 82 澳门.
 */
export const PROVINCE_CODES: readonly string[] = Object.freeze([
  '11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37',
  '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65', '71', '81', '82',
]);

/** Chinese names of the provinces, for the refusal's text. */
const PROVINCE_NAMES: Readonly<Record<string, string>> = Object.freeze({
  '11': '北京市', '12': '天津市', '13': '河北省', '14': '山西省', '15': '内蒙古自治区', '21': '辽宁省', '22': '吉林省', '23': '黑龙江省',
  '31': '上海市', '32': '江苏省', '33': '浙江省', '34': '安徽省', '35': '福建省', '36': '江西省', '37': '山东省',
  '41': '河南省', '42': '湖北省', '43': '湖南省', '44': '广东省', '45': '广西壮族自治区', '46': '海南省',
  '50': '重庆市', '51': '四川省', '52': '贵州省', '53': '云南省', '54': '西藏自治区',
  '61': '陕西省', '62': '甘肃省', '63': '青海省', '64': '宁夏回族自治区', '65': '新疆维吾尔自治区',
  '71': '台湾省', '81': '香港特别行政区', '82': '澳门特别行政区',
});

/** Whether `code` is a 2-digit GB/T 2260 province code. */
export function isProvinceCode(code: string): boolean {
  return PROVINCE_CODES.includes(code);
}

/** The province's name in Chinese (the code itself when unknown). */
export function provinceName(code: string): string {
  return PROVINCE_NAMES[code] ?? code;
}

/**
 * The province a card was issued in: the first two digits of the 6-digit region code that opens
 * the 卡识别码 (docs/domain.md §1, EF05 tag 01: region (BCD) + D156000005 + 8 bytes). Undefined
 * when the code does not start with 6 digits.
 */
export function cardProvince(cardId: string): string | undefined {
  return /^\d{6}/.test(cardId) ? cardId.slice(0, 2) : undefined;
}

/**
 * The province of the catalog's 实施主体: characters 3–8 of a unified social credit code (GB 32100)
 * are the registering authority's region code, e.g. 11411082005756085T → 411082 (长葛) → 41.
 * Undefined when the items disagree or there are none.
 */
export function catalogProvince(catalog: readonly ServiceItem[]): string | undefined {
  const found = new Set(catalog.map((it) => it.implementerCode.slice(2, 4)));
  return found.size === 1 ? [...found][0] : undefined;
}

/** Where the holder goes: the window that handles what this terminal cannot, from the catalog. */
export interface Where {
  /** 实施主体 */
  readonly office: string;
  /** 办理地址 */
  readonly address?: BilingualText;
  /** Office hours. */
  readonly hours?: BilingualText;
  /** 办理系统咨询电话 */
  readonly consultPhone?: string;
  /** 监督投诉电话 */
  readonly complaintPhone?: string;
  /** The same in one sentence for the holder, zh-CN and en. */
  readonly text: BilingualText;
}

/**
 * The item whose window a holder refused for `kind` is sent to: the unblocking item for a locked
 * PIN, the activation item for a card not activated, the reset item when activation set no PIN;
 * otherwise the item of the service asked for; else (a PIN check, no item) the PIN item, else the
 * first item with an address.
 */
export function whereItem(catalog: readonly ServiceItem[], kind: ServiceKind | undefined, goFor?: ServiceKind): ServiceItem | undefined {
  const covering = (k: ServiceKind | undefined): ServiceItem | undefined => (k === undefined ? undefined : catalog.find((it) => (it.kinds as readonly ServiceKind[]).includes(k)));
  return covering(goFor) ?? covering(kind) ?? covering('change') ?? catalog.find((it) => it.address !== undefined) ?? catalog[0];
}

/** The {@link Where} of an item. */
export function whereOf(item: ServiceItem): Where {
  const zh: string[] = [`办理地点：${item.implementer}`];
  const en: string[] = [`Where: ${item.implementer}`];
  if (item.address !== undefined) {
    zh[0] = `${zh[0]}，${item.address.zh}`;
    en[0] = `${en[0]}, ${item.address.en}`;
  }
  if (item.hours !== undefined) {
    zh.push(`办公时间：${item.hours.zh}`);
    en.push(`office hours: ${item.hours.en}`);
  }
  if (item.consultPhone !== undefined) {
    zh.push(`咨询电话：${item.consultPhone}`);
    en.push(`enquiries: ${item.consultPhone}`);
  }
  return {
    office: item.implementer,
    ...(item.address === undefined ? {} : { address: item.address }),
    ...(item.hours === undefined ? {} : { hours: item.hours }),
    ...(item.consultPhone === undefined ? {} : { consultPhone: item.consultPhone }),
    ...(item.complaintPhone === undefined ? {} : { complaintPhone: item.complaintPhone }),
    text: bi(`${zh.join('；')}。`, `${en.join('; ')}.`),
  };
}

/** The service a refused holder is sent to do, when it is not the one asked for. */
const GO_FOR: Readonly<Partial<Record<string, ServiceKind>>> = Object.freeze({
  'verify.locked': 'unblock',
  'card.locked': 'unblock',
  'card.notActivated': 'activate',
  'activate.pinNotSet': 'reset',
});

/**
 * A result that sends the holder to a window (state/results.ts `sendsElsewhere`) with the hall's
 * {@link Where} from the catalog: as the `where` field, and appended to `nextStep` so every screen
 * that shows the next step names the place and the phone. Any other result, or an empty catalog:
 * unchanged. Applied once (a result that has its `where` is left as it is).
 */
export function withWhere(result: ServiceResult, catalog: readonly ServiceItem[]): ServiceResult {
  if (result.where !== undefined || catalog.length === 0 || !sendsElsewhere(result)) return result;
  const item = whereItem(catalog, result.kind, GO_FOR[result.code]);
  if (item === undefined) return result;
  const where = whereOf(item);
  return { ...result, where, nextStep: bi(`${result.nextStep.zh}${where.text.zh}`, `${result.nextStep.en} ${where.text.en}`) };
}
