/**
 * `SSCard.Catalog` (docs/api.md "SSCard"): the public facts a screen shows about the services —
 * which this terminal offers, what each needs at its role (the 申请材料 the flow checks), the
 * service guide (办事指南) of each before it starts so a screen can tell everything at once
 * (一次性告知, seed 001 line 75): 申请条件, 申请材料 with their 受理标准, 办理时限, 收费, the window,
 * its hours and phones — and the service items they belong to (docs/service-items/: 事项名称 and
 * 业务办理项编码 for the receipt, 办理流程 and 办理时限, 办理地址 and the consultation and complaint
 * lines for the help screen). Nothing about a card or a person: any admitted client may read it.
 */
import { AGENT_BASIS_NAMES } from '../../state/agents.js';
import { agentRulesFor, hasServiceItem, type ServiceItem } from '../../state/catalog.js';
import { whereItem } from '../../state/hall.js';
import { MATERIAL_NAMES, type Material } from '../../state/materials.js';
import { capability, SERVICE_NAMES, type Role, type ServiceKind } from '../../state/roles.js';
import type { BilingualText } from '../../core/text.js';

const text = (t: BilingualText): { zh: string; en: string } => ({ zh: t.zh, en: t.en });
const textOrNull = (t: BilingualText | undefined): { zh: string; en: string } | null => (t === undefined ? null : text(t));
const material = (m: Material): { material: Material; zh: string; en: string } => ({ material: m, ...text(MATERIAL_NAMES[m]) });

const FREE = { zh: '不收费', en: 'no fee' };

/** The item a kind reports under, if any (a plain PIN check has none). */
function itemOf(items: readonly ServiceItem[], kind: ServiceKind): ServiceItem | undefined {
  return hasServiceItem(kind) ? items.find((it) => (it.kinds as readonly ServiceKind[]).includes(kind)) : undefined;
}

/**
 * The 办事指南 of one service at this terminal: conditions and time limits from its item (none for
 * a PIN check, which is no item), the materials this role asks for with their 受理标准, the fee,
 * and where the window is (the item's, else the hall's PIN item: state/hall.ts `whereItem`).
 */
function guide(role: Role, kind: ServiceKind, offered: readonly ServiceKind[], items: readonly ServiceItem[]): Record<string, unknown> {
  const item = itemOf(items, kind);
  const place = whereItem(items, kind);
  const cap = capability(role, kind, offered);
  return {
    conditions: (item?.conditions ?? []).map(text),
    materials: cap.materials.map((m) => ({ ...material(m), standard: textOrNull(item?.materialStandards[m]) })),
    onTheSpot: item?.onTheSpot ?? null,
    legalLimitDays: item?.legalLimitDays ?? null,
    committedLimitDays: item?.committedLimitDays ?? null,
    fee: item === undefined ? null : item.free ? { free: true, ...FREE } : { free: false, zh: '收费', en: 'a fee applies' },
    scope: textOrNull(item?.scope),
    window: place === undefined ? null : { office: place.implementer, address: textOrNull(place.address), directions: textOrNull(place.directions), hours: textOrNull(place.hours) },
    consultPhone: place?.consultPhone ?? null,
    complaintPhone: place?.complaintPhone ?? null,
  };
}

export function catalogPayload(role: Role, offered: readonly ServiceKind[], items: readonly ServiceItem[]): Record<string, unknown> {
  return {
    role,
    services: offered.map((kind) => {
      const cap = capability(role, kind, offered);
      const item = itemOf(items, kind);
      return {
        kind,
        name: text(SERVICE_NAMES[kind]),
        itemId: item?.id ?? null,
        operatorRequired: cap.operatorRequired,
        materials: cap.materials.map(material),
        // Who may apply for the holder at this terminal (state/agents.ts): none at a kiosk, and
        // only what the hall's catalog lists (the shipped one, from the seeds, lists none).
        agents: role === 'kiosk' ? [] : agentRulesFor(items, kind).map((a) => ({ basis: a.basis, name: text(AGENT_BASIS_NAMES[a.basis]), materials: a.materials.map(material) })),
        guide: guide(role, kind, offered, items),
      };
    }),
    items: items.map((it) => ({
      id: it.id,
      itemCode: it.itemCode,
      name: text(it.name),
      implementer: it.implementer,
      kinds: [...it.kinds],
      materials: it.materials.map(material),
      steps: it.steps.map((s) => ({
        zh: s.zh,
        en: s.en,
        ...(s.handler === undefined ? {} : { handler: text(s.handler) }),
        ...(s.timeLimit === undefined ? {} : { timeLimit: text(s.timeLimit) }),
      })),
      onTheSpot: it.onTheSpot,
      legalLimitDays: it.legalLimitDays,
      committedLimitDays: it.committedLimitDays,
      free: it.free,
      address: textOrNull(it.address),
      directions: textOrNull(it.directions),
      hours: textOrNull(it.hours),
      scope: textOrNull(it.scope),
      conditions: it.conditions.map(text),
      consultPhone: it.consultPhone ?? null,
      complaintPhone: it.complaintPhone ?? null,
      advice: it.advice.map(text),
    })),
  };
}
