/**
 * `SSCard.Catalog` (docs/api.md "SSCard"): the public facts a screen shows about the services —
 * which this terminal offers, what each needs at its role (the 申请材料 the flow checks), and the
 * service items they belong to (docs/service-items/: 事项名称 and 业务办理项编码 for the receipt,
 * 办理流程 and 办理时限, 办理地址 and the consultation and complaint lines for the help screen).
 * Nothing about a card or a person: any admitted client may read it.
 */
import type { ServiceItem } from '../../state/catalog.js';
import { MATERIAL_NAMES, type Material } from '../../state/materials.js';
import { capability, SERVICE_NAMES, type Role, type ServiceKind } from '../../state/roles.js';
import type { BilingualText } from '../../core/text.js';

const text = (t: BilingualText): { zh: string; en: string } => ({ zh: t.zh, en: t.en });
const material = (m: Material): { material: Material; zh: string; en: string } => ({ material: m, ...text(MATERIAL_NAMES[m]) });

export function catalogPayload(role: Role, offered: readonly ServiceKind[], items: readonly ServiceItem[]): Record<string, unknown> {
  return {
    role,
    services: offered.map((kind) => {
      const cap = capability(role, kind, offered);
      const item = items.find((it) => (it.kinds as readonly ServiceKind[]).includes(kind));
      return {
        kind,
        name: text(SERVICE_NAMES[kind]),
        itemId: item?.id ?? null,
        operatorRequired: cap.operatorRequired,
        materials: cap.materials.map(material),
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
      address: it.address === undefined ? null : text(it.address),
      directions: it.directions === undefined ? null : text(it.directions),
      consultPhone: it.consultPhone ?? null,
      complaintPhone: it.complaintPhone ?? null,
      advice: it.advice.map(text),
    })),
  };
}
