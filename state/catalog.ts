/**
 * The service catalog: the two published service items (docs/service-items/) as data
 * (fixtures/catalog/service-items.json, documented in fixtures/catalog/README.md), validated by
 * {@link parseCatalog}, and which item a service kind reports upstream ({@link serviceItemFor}).
 *
 * Transactions reported upstream carry the item's 业务办理项编码 (docs/service-items/README.md).
 * The codes are checked for shape, not just presence, because the seed text breaks them across lines:
 * - 实施主体编码: an 18-character unified social credit code (GB 32100) whose check character is
 *   verified, e.g. seed 000 lines 204–206 「1141108200575608 / 5T」 → 11411082005756085T;
 * - 实施编码: the 实施主体编码 followed by 13 characters (31 in all);
 * - 业务办理项编码: the 实施编码 followed by 2 digits (33 in all);
 * - 地方实施编码: 19 characters starting with the 9-character organization code inside the
 *   实施主体编码 (its characters 9–17).
 * The loader reads no file: the caller (daemon, tests) passes the parsed JSON, so state/ stays free
 * of I/O.
 */
import { ErrorCode, fail } from '../core/errors.js';
import { bi, type BilingualText } from '../core/text.js';
import { AGENT_BASES, BASIS_MATERIAL, isAgentBasis, type AgentRule } from './agents.js';
import { isMaterial, MATERIALS, type Material } from './materials.js';
import { SERVICE_KINDS, SERVICE_NAMES, type ServiceKind } from './roles.js';

export type { Material, MaterialsCheck } from './materials.js';
export { checkMaterials, MATERIAL_NAMES, MATERIALS } from './materials.js';
export type { Capability, Role, ServiceKind } from './roles.js';
export { bankAccountActivation, capability, defaultServices, parseOfferedServices, ROLES, SERVICE_KINDS, SERVICE_NAMES } from './roles.js';

/** One step of the 办理流程 (收件, 受理). `zh`/`en` is the step's name. */
export interface ServiceStep {
  readonly zh: string;
  readonly en: string;
  /** 办理人 */
  readonly handler?: BilingualText;
  /** 办理时限 */
  readonly timeLimit?: BilingualText;
  /** 审查标准 */
  readonly standard?: BilingualText;
  /** 办理结果 */
  readonly result?: BilingualText;
}

export interface ServiceItem {
  /** Stable id within the catalog ('card-activation', 'pin-change-reset'). */
  readonly id: string;
  /** 业务办理项编码: reported upstream with each transaction. */
  readonly itemCode: string;
  /** 实施编码 */
  readonly implementationCode: string;
  /** 地方实施编码 */
  readonly localCode: string;
  /** 实施主体 (name). */
  readonly implementer: string;
  /** 实施主体编码 (unified social credit code). */
  readonly implementerCode: string;
  /** 事项名称 */
  readonly name: { zh: string; en: string };
  /** The service kinds this item covers (never `verify`: {@link ITEM_KINDS}). */
  readonly kinds: readonly ItemKind[];
  /** 申请材料, in the seed's order. */
  readonly materials: readonly Material[];
  /** 办理流程 */
  readonly steps: readonly ServiceStep[];
  /** 办理形式: 'window' (窗口办理), 'online' (网上办理). */
  readonly channels: readonly string[];
  /** 是否支持自助终端办理 */
  readonly selfService: boolean;
  /** 办件类型 即办件 (done on the spot). */
  readonly onTheSpot: boolean;
  /** 法定办理时限, working days. */
  readonly legalLimitDays: number;
  /** 承诺办理时限, working days. */
  readonly committedLimitDays: number;
  /** 最多到现场办事次数 */
  readonly maxVisits: number;
  /** 收费信息: no fee. */
  readonly free: boolean;
  /** Advice for the holder from the item's 常见问题. */
  readonly advice: readonly BilingualText[];
  /** 办理地址: where the holder goes (the window that handles what a kiosk cannot). */
  readonly address?: BilingualText;
  /** 交通指引 */
  readonly directions?: BilingualText;
  /** 办理系统咨询电话 (the fixed line). */
  readonly consultPhone?: string;
  /** 监督投诉电话 (the fixed line). */
  readonly complaintPhone?: string;
  /** Office hours of the window (the seeds print none; a hall's own catalog says them). */
  readonly hours?: BilingualText;
  /** 通办范围: where the item can be handled (seed 000 line 40 全国, seed 001 line 14 全镇（乡、街道）级). */
  readonly scope?: BilingualText;
  /** 申请条件, in the seed's order (seed 000 lines 220–226, seed 001 lines 44–48); empty when not copied. */
  readonly conditions: readonly BilingualText[];
  /** 受理标准 of each 申请材料 (seed 000 lines 244–280, seed 001 lines 59–60), for the materials that have one. */
  readonly materialStandards: Readonly<Partial<Record<Material, BilingualText>>>;
  /**
   * Who may apply for the holder, for which of the item's services, with which 申请材料
   * (state/agents.ts). Empty: the holder in person only — both seeds' items (seed 000 lines
   * 244–264 and 347–353, seed 001 lines 59–60).
   */
  readonly agents: readonly AgentRule[];
  /** The seed file the item was copied from. */
  readonly seed: string;
}

/**
 * A plain PIN check is no service item: seed 001's 事项名称 (line 7) is 社会保障卡密码修改与重置,
 * PIN change and reset, and seed 000's is 社会保障卡启用. `verify` is journaled under its own kind
 * with no item code (docs/sync-protocol.md `serviceItem` null); every other service kind reports
 * under the item whose `kinds` list it.
 */
export const KINDS_WITHOUT_ITEM = Object.freeze(['verify'] as const);
export type ItemKind = Exclude<ServiceKind, (typeof KINDS_WITHOUT_ITEM)[number]>;
/** The service kinds a catalog item may cover. */
export const ITEM_KINDS: readonly ItemKind[] = Object.freeze(SERVICE_KINDS.filter((k): k is ItemKind => !(KINDS_WITHOUT_ITEM as readonly string[]).includes(k)));

/** Whether `kind` reports under a service item (every kind but a plain PIN check). */
export function hasServiceItem(kind: ServiceKind): kind is ItemKind {
  return (ITEM_KINDS as readonly string[]).includes(kind);
}

/** Known channels (办理形式). */
export const CHANNELS: readonly string[] = Object.freeze(['window', 'online']);

/**
 * What the holder is told after a reset or change (seed 001 常见问题, line 85): try the PIN at a
 * hospital or pharmacy and change the initial PIN.
 */
export const AFTER_RESET_ADVICE: BilingualText = bi(
  '办理过社会保障卡密码修改或重置后，申请人可以到就近的医院或药店测试密码，并修改初始密码，避免受到损失',
  'After a PIN change or reset, try the PIN at a nearby hospital or pharmacy and change the initial PIN, to avoid any loss',
);

const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** A unified social credit code (GB 32100-2015): 18 characters with a valid check character. */
export function isUnifiedSocialCreditCode(code: string): boolean {
  if (!/^[0-9A-HJ-NPQRTUWXY]{18}$/.test(code)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += USCC_CHARS.indexOf(code[i]!) * USCC_WEIGHTS[i]!;
  return code[17] === USCC_CHARS[(31 - (sum % 31)) % 31];
}

function bad(path: string, zh: string, en: string): never {
  fail(ErrorCode.Config_Invalid, `服务目录 ${path}：${zh}`, `service catalog ${path}: ${en}`, { path });
}

function obj(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(path, '必须是对象', 'must be an object');
  return v as Record<string, unknown>;
}

function str(o: Record<string, unknown>, key: string, path: string, re?: RegExp, shape?: BilingualText): string {
  const v = o[key];
  const at = `${path}.${key}`;
  if (typeof v !== 'string' || v.trim() === '') bad(at, '必须是非空字符串', 'must be a non-empty string');
  if (re !== undefined && !re.test(v)) bad(at, `格式不对，应为${shape?.zh ?? re.source}`, `has the wrong shape, expected ${shape?.en ?? re.source}`);
  return v;
}

function bool(o: Record<string, unknown>, key: string, path: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') bad(`${path}.${key}`, '必须是 true 或 false', 'must be true or false');
  return v;
}

function count(o: Record<string, unknown>, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) bad(`${path}.${key}`, '必须是非负整数', 'must be a non-negative integer');
  return v;
}

function text(v: unknown, path: string): BilingualText {
  const o = obj(v, path);
  return bi(str(o, 'zh', path), str(o, 'en', path));
}

function arr(o: Record<string, unknown>, key: string, path: string, nonEmpty = true): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) bad(`${path}.${key}`, '必须是数组', 'must be an array');
  if (nonEmpty && v.length === 0) bad(`${path}.${key}`, '不能为空', 'must not be empty');
  return v as unknown[];
}

function optText(o: Record<string, unknown>, key: string, path: string): BilingualText | undefined {
  return o[key] === undefined ? undefined : text(o[key], `${path}.${key}`);
}

/** A fixed-line number as the seeds print it: area code, hyphen, number (0375-6182813). */
const PHONE = /^0\d{2,3}-\d{7,8}$/;

function optPhone(o: Record<string, unknown>, key: string, path: string): string | undefined {
  return o[key] === undefined ? undefined : str(o, key, path, PHONE, bi('区号-号码（如 0375-6182813）', 'area code-number (e.g. 0375-6182813)'));
}

function step(v: unknown, path: string): ServiceStep {
  const o = obj(v, path);
  const s: { -readonly [K in keyof ServiceStep]: ServiceStep[K] } = { zh: str(o, 'zh', path), en: str(o, 'en', path) };
  for (const k of ['handler', 'timeLimit', 'standard', 'result'] as const) {
    const t = optText(o, k, path);
    if (t !== undefined) s[k] = t;
  }
  return Object.freeze(s);
}

/** `{ [key]: value }` when the value is there, else nothing (exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function item(v: unknown, path: string): ServiceItem {
  const o = obj(v, path);
  const implementerCode = str(o, 'implementerCode', path, /^[0-9A-HJ-NPQRTUWXY]{18}$/, bi('18 位统一社会信用代码', 'an 18-character unified social credit code'));
  if (!isUnifiedSocialCreditCode(implementerCode)) {
    bad(`${path}.implementerCode`, '统一社会信用代码校验位不对（是否漏抄了折行的字符？）', 'the check character of the unified social credit code is wrong (a character lost at a line break?)');
  }
  const implementationCode = str(o, 'implementationCode', path, /^[0-9A-Z]{31}$/, bi('31 位（实施主体编码 + 13 位）', '31 characters (the 实施主体编码 and 13 more)'));
  if (!implementationCode.startsWith(implementerCode)) {
    bad(`${path}.implementationCode`, '必须以实施主体编码开头', 'must start with the implementerCode');
  }
  const itemCode = str(o, 'itemCode', path, /^[0-9A-Z]{31}\d{2}$/, bi('33 位（实施编码 + 2 位数字）', '33 characters (the 实施编码 and 2 digits)'));
  if (!itemCode.startsWith(implementationCode)) bad(`${path}.itemCode`, '必须以实施编码开头', 'must start with the implementationCode');
  const localCode = str(o, 'localCode', path, /^[0-9A-Z]{19}$/, bi('19 位字母数字', '19 letters and digits'));
  if (!localCode.startsWith(implementerCode.slice(8, 17))) {
    bad(`${path}.localCode`, '必须以实施主体编码中的组织机构代码（第 9–17 位）开头', 'must start with the organization code inside the implementerCode (its characters 9–17)');
  }
  const kinds = arr(o, 'kinds', path).map((k, i) => {
    if (k === 'verify') {
      bad(
        `${path}.kinds[${i}]`,
        '单纯的密码校验（verify）不是服务事项：“社会保障卡密码修改与重置”只包括修改与重置，请删去 verify',
        'a plain PIN check (verify) is no service item: 社会保障卡密码修改与重置 is PIN change and reset only; remove verify',
      );
    }
    if (!(ITEM_KINDS as readonly unknown[]).includes(k)) bad(`${path}.kinds[${i}]`, `不是已知的服务（可用：${ITEM_KINDS.join('、')}）`, `is not a known service kind (known: ${ITEM_KINDS.join(', ')})`);
    return k as ItemKind;
  });
  const materials = arr(o, 'materials', path).map((m, i) => {
    if (!isMaterial(m)) bad(`${path}.materials[${i}]`, '不是已知的申请材料（socialSecurityCard、residentIdCard）', 'is not a known material (socialSecurityCard, residentIdCard)');
    return m;
  });
  const channels = arr(o, 'channels', path).map((c, i) => {
    if (typeof c !== 'string' || !CHANNELS.includes(c)) bad(`${path}.channels[${i}]`, `不是已知的办理形式（${CHANNELS.join('、')}）`, `is not a known channel (${CHANNELS.join(', ')})`);
    return c;
  });
  const agents = o.agents === undefined ? [] : arr(o, 'agents', path, false).map((a, i) => agentRule(a, `${path}.agents[${i}]`, kinds));
  agents.forEach((a, i) => {
    const j = agents.findIndex((b) => b.basis === a.basis && b.kinds.some((k) => a.kinds.includes(k)));
    if (j !== i) bad(`${path}.agents[${i}]`, `与 agents[${j}] 的 basis 和业务重复`, `repeats the basis and a service of agents[${j}]`);
  });
  const standardsRaw = o.materialStandards === undefined ? {} : obj(o.materialStandards, `${path}.materialStandards`);
  const materialStandards: Partial<Record<Material, BilingualText>> = {};
  for (const [m, t] of Object.entries(standardsRaw)) {
    if (!isMaterial(m) || !(materials.includes(m) || agents.some((a) => a.materials.includes(m)))) bad(`${path}.materialStandards.${m}`, '不是此事项的申请材料（materials 中没有）', 'is not one of this item\'s materials (not in materials)');
    materialStandards[m] = text(t, `${path}.materialStandards.${m}`);
  }
  const legalLimitDays = count(o, 'legalLimitDays', path);
  const committedLimitDays = count(o, 'committedLimitDays', path);
  if (committedLimitDays > legalLimitDays) bad(`${path}.committedLimitDays`, '承诺办理时限不能超过法定办理时限', 'must not exceed legalLimitDays');
  return Object.freeze({
    id: str(o, 'id', path, /^[a-z0-9][a-z0-9-]*$/, bi('小写字母、数字和连字符', 'lower-case letters, digits and hyphens')),
    itemCode,
    implementationCode,
    localCode,
    implementer: str(o, 'implementer', path),
    implementerCode,
    name: text(o.name, `${path}.name`),
    kinds: Object.freeze(kinds),
    materials: Object.freeze(materials),
    steps: Object.freeze(arr(o, 'steps', path).map((s, i) => step(s, `${path}.steps[${i}]`))),
    channels: Object.freeze(channels),
    selfService: bool(o, 'selfService', path),
    onTheSpot: bool(o, 'onTheSpot', path),
    legalLimitDays,
    committedLimitDays,
    maxVisits: count(o, 'maxVisits', path),
    free: bool(o, 'free', path),
    advice: Object.freeze(arr(o, 'advice', path, false).map((a, i) => text(a, `${path}.advice[${i}]`))),
    conditions: Object.freeze(o.conditions === undefined ? [] : arr(o, 'conditions', path).map((c, i) => text(c, `${path}.conditions[${i}]`))),
    materialStandards: Object.freeze(materialStandards),
    agents: Object.freeze(agents),
    seed: str(o, 'seed', path, /^\d{3}_[0-9a-f]{16}\.txt$/, bi('种子文件名（如 000_….txt）', 'a seed file name (000_….txt)')),
    ...optional('address', optText(o, 'address', path)),
    ...optional('directions', optText(o, 'directions', path)),
    ...optional('consultPhone', optPhone(o, 'consultPhone', path)),
    ...optional('complaintPhone', optPhone(o, 'complaintPhone', path)),
    ...optional('hours', optText(o, 'hours', path)),
    ...optional('scope', optText(o, 'scope', path)),
  });
}

/** One entry of an item's `agents` (fixtures/catalog/README.md "Agents"). */
function agentRule(v: unknown, path: string, itemKinds: readonly ItemKind[]): AgentRule {
  const o = obj(v, path);
  for (const k of Object.keys(o)) if (!['basis', 'kinds', 'materials'].includes(k)) bad(`${path}.${k}`, '不是已知的键（basis、kinds、materials）', 'is not a known key (basis, kinds, materials)');
  if (!isAgentBasis(o.basis)) bad(`${path}.basis`, `必须是 ${AGENT_BASES.join(' 或 ')}`, `must be ${AGENT_BASES.join(' or ')}`);
  const basis = o.basis;
  const kinds = arr(o, 'kinds', path).map((k, i) => {
    if (!(itemKinds as readonly unknown[]).includes(k)) bad(`${path}.kinds[${i}]`, `不是此事项的业务（kinds 中有：${itemKinds.join('、')}）`, `is not a service of this item (its kinds: ${itemKinds.join(', ')})`);
    return k as ItemKind;
  });
  const materials = arr(o, 'materials', path).map((m, i) => {
    if (!isMaterial(m)) bad(`${path}.materials[${i}]`, `不是已知的申请材料（${MATERIALS.join('、')}）`, `is not a known material (${MATERIALS.join(', ')})`);
    return m;
  });
  for (const need of ['socialSecurityCard', 'agentIdCard', BASIS_MATERIAL[basis]] as const) {
    if (!materials.includes(need)) bad(`${path}.materials`, `必须包含 ${need}（社保卡、代办人证件和代办依据缺一不可）`, `must include ${need} (the card, the agent's identity document and the basis are all needed)`);
  }
  return Object.freeze({ basis, kinds: Object.freeze([...new Set(kinds)]), materials: Object.freeze([...new Set(materials)]) });
}

/** The agent rules of `kind` in the catalog (the item that covers it); none for a kind without an item. */
export function agentRulesFor(catalog: readonly ServiceItem[], kind: ServiceKind): readonly AgentRule[] {
  const rules = catalog.find((it) => (it.kinds as readonly ServiceKind[]).includes(kind))?.agents ?? [];
  return rules.filter((r) => r.kinds.includes(kind));
}

/**
 * Validate a parsed catalog (`{ "version": 1, "items": [...] }`, or the bare items array) and return
 * its items. Throws Config_Invalid whose bilingual message names the key path
 * (`items[1].implementationCode`). Ids and item codes are unique; each service kind belongs to at
 * most one item.
 */
export function parseCatalog(json: unknown): ServiceItem[] {
  let list: unknown[];
  let base: string;
  if (Array.isArray(json)) {
    list = json as unknown[];
    base = '';
  } else {
    const root = obj(json, '(root)');
    if (root.version !== 1) bad('version', '必须是 1', 'must be 1');
    list = arr(root, 'items', '(root)');
    base = 'items';
  }
  const items = list.map((v, i) => item(v, `${base}[${i}]`));
  const seen = new Map<string, string>();
  items.forEach((it, i) => {
    for (const [key, value] of [['id', it.id], ['itemCode', it.itemCode], ...it.kinds.map((k) => ['kinds', k] as const)] as const) {
      const tag = `${key}:${value}`;
      const first = seen.get(tag);
      if (first !== undefined) bad(`${base}[${i}].${key}`, `与 ${first} 重复`, `duplicates ${first}`);
      seen.set(tag, `${base}[${i}].${key}`);
    }
  });
  return items;
}

/**
 * The item a service kind reports upstream: activate → seed 000 (社会保障卡启用); change, reset,
 * unblock → seed 001 (社会保障卡密码修改与重置; its 申请条件 三 「因密码外泄需要修改，或因密码
 * 遗忘、社保卡锁定等需要重置」 covers the locked card). A plain PIN check has none
 * ({@link KINDS_WITHOUT_ITEM}). Throws Config_Invalid when no item covers it.
 */
export function serviceItemFor(catalog: readonly ServiceItem[], kind: ItemKind): ServiceItem {
  const found = catalog.find((it) => it.kinds.includes(kind));
  if (found === undefined) {
    const name = SERVICE_NAMES[kind] ?? bi(String(kind), String(kind));
    fail(
      ErrorCode.Config_Invalid,
      `服务目录中没有覆盖“${name.zh}”（${String(kind)}）的服务事项，请检查服务目录配置`,
      `the service catalog has no item covering ${name.en} (${String(kind)}); check the catalog configuration`,
      { kind },
    );
  }
  return found;
}
