/**
 * `SSCard.Catalog` as the pages read it (docs/api.md "SSCard"): the services this terminal offers
 * with what each needs at its role, and the service items (names, codes, steps and time limits,
 * address and phone lines, advice). Public facts, no card data; malformed entries are dropped.
 */
import type { BilingualText } from '../../core/text.js';
import type { Payload, ServiceKind } from './messages.js';
import { isObj, KINDS, str, strOrNull, textOf } from './read.js';

export interface MaterialText {
  /** state/materials.ts's word: socialSecurityCard, residentIdCard. */
  readonly material: string;
  readonly zh: string;
  readonly en: string;
}

export interface CatalogService {
  readonly kind: ServiceKind;
  readonly name: BilingualText;
  readonly itemId: string | null;
  readonly operatorRequired: boolean;
  readonly materials: readonly MaterialText[];
  /**
   * Who may apply for the holder here, and with what (state/agents.ts): the hall's rules; empty at a
   * kiosk, where the hall lists none, and from a daemon without agents.
   */
  readonly agents?: readonly AgentRuleText[];
  /** The 办事指南 to show before the service starts (一次性告知); absent from a daemon without it. */
  readonly guide?: ServiceGuide;
}

/** One way someone may apply for the holder: `powerOfAttorney` (授权委托) or `guardianship` (a minor's guardian). */
export interface AgentRuleText {
  readonly basis: string;
  readonly name: BilingualText;
  /** The 申请材料 when this agent applies. */
  readonly materials: readonly MaterialText[];
}

/** `services[].guide` of SSCard.Catalog (docs/api.md "SSCard"). */
export interface ServiceGuide {
  /** 申请条件 */
  readonly conditions: readonly BilingualText[];
  /** What this terminal asks for, each with its 受理标准 when the catalog has one. */
  readonly materials: readonly (MaterialText & { readonly standard: BilingualText | null })[];
  readonly committedLimitDays: number | null;
  /** 收费: null when the service has no item (a PIN check). */
  readonly fee: (BilingualText & { readonly free: boolean }) | null;
  readonly office: string | null;
  readonly address: BilingualText | null;
  readonly hours: BilingualText | null;
  readonly consultPhone: string | null;
  readonly complaintPhone: string | null;
}

export interface CatalogStep {
  readonly zh: string;
  readonly en: string;
  readonly handler: BilingualText | null;
  readonly timeLimit: BilingualText | null;
}

export interface CatalogItem {
  readonly id: string;
  /** 业务办理项编码 */
  readonly itemCode: string;
  readonly name: BilingualText;
  readonly kinds: readonly ServiceKind[];
  /** The item's 申请材料, in the seed's order. */
  readonly materials: readonly MaterialText[];
  readonly steps: readonly CatalogStep[];
  readonly legalLimitDays: number;
  readonly committedLimitDays: number;
  readonly address: BilingualText | null;
  readonly consultPhone: string | null;
  readonly complaintPhone: string | null;
  readonly advice: readonly BilingualText[];
}

export interface Catalog {
  readonly role: string;
  readonly services: readonly CatalogService[];
  readonly items: readonly CatalogItem[];
}

const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const list = (x: unknown): readonly unknown[] => (Array.isArray(x) ? x : []);


function material(x: unknown): MaterialText | null {
  return isObj(x) && str(x['material']) && str(x['zh']) && str(x['en']) ? { material: x['material'], zh: x['zh'], en: x['en'] } : null;
}

const kinds = (x: unknown): ServiceKind[] => KINDS.filter((k) => list(x).includes(k));
const defined = <T>(xs: readonly (T | null)[]): T[] => xs.filter((v): v is T => v !== null);

function guideOf(g: unknown): ServiceGuide | null {
  if (!isObj(g)) return null;
  const w: Record<string, unknown> = isObj(g['window']) ? g['window'] : {};
  const feeText = textOf(g['fee']);
  return {
    conditions: defined(list(g['conditions']).map(textOf)),
    materials: defined(list(g['materials']).map((m) => {
      const base = material(m);
      return base === null ? null : { ...base, standard: isObj(m) ? textOf(m['standard']) : null };
    })),
    committedLimitDays: num(g['committedLimitDays']) ? g['committedLimitDays'] : null,
    fee: feeText === null ? null : { ...feeText, free: isObj(g['fee']) && g['fee']['free'] === true },
    office: strOrNull(w['office']),
    address: textOf(w['address']),
    hours: textOf(w['hours']),
    consultPhone: strOrNull(g['consultPhone']),
    complaintPhone: strOrNull(g['complaintPhone']),
  };
}

/** `SSCard.Catalog`'s completion; null when it is not one. */
export function catalogOf(p: Payload): Catalog | null {
  if (!str(p['role']) || !Array.isArray(p['services']) || !Array.isArray(p['items'])) return null;
  const services = defined(
    p['services'].map((s): CatalogService | null => {
      if (!isObj(s)) return null;
      const kind = KINDS.find((k) => k === s['kind']);
      const name = textOf(s['name']);
      if (kind === undefined || name === null) return null;
      const guide = guideOf(s['guide']);
      const agents = defined(
        list(s['agents']).map((a): AgentRuleText | null => {
          const n = isObj(a) ? textOf(a['name']) : null;
          return isObj(a) && str(a['basis']) && n !== null ? { basis: a['basis'], name: n, materials: defined(list(a['materials']).map(material)) } : null;
        }),
      );
      return { kind, name, itemId: strOrNull(s['itemId']), operatorRequired: s['operatorRequired'] === true, materials: defined(list(s['materials']).map(material)), agents, ...(guide === null ? {} : { guide }) };
    }),
  );
  const items = defined(
    p['items'].map((i): CatalogItem | null => {
      if (!isObj(i) || !str(i['id']) || !str(i['itemCode'])) return null;
      const name = textOf(i['name']);
      if (name === null) return null;
      return {
        id: i['id'],
        itemCode: i['itemCode'],
        name,
        kinds: kinds(i['kinds']),
        materials: defined(list(i['materials']).map(material)),
        steps: defined(
          list(i['steps']).map((s) => (isObj(s) && str(s['zh']) && str(s['en']) ? { zh: s['zh'], en: s['en'], handler: textOf(s['handler']), timeLimit: textOf(s['timeLimit']) } : null)),
        ),
        legalLimitDays: num(i['legalLimitDays']) ? i['legalLimitDays'] : 0,
        committedLimitDays: num(i['committedLimitDays']) ? i['committedLimitDays'] : 0,
        address: textOf(i['address']),
        consultPhone: strOrNull(i['consultPhone']),
        complaintPhone: strOrNull(i['complaintPhone']),
        advice: defined(list(i['advice']).map(textOf)),
      };
    }),
  );
  return { role: p['role'], services, items };
}
