/**
 * What the kiosk's screens take from `SSCard.Catalog` (docs/api.md "SSCard"), as pure functions:
 * the materials a service needs at this terminal (all of them at once — 一次性告知, seed
 * 001_bf9ce8a90a3e7ce5.txt 受理 审查标准), the service item a receipt names (事项名称 and
 * 业务办理项编码), where a holder goes with a card the kiosk cannot serve (办理地址, 咨询电话), and
 * the help screen's time limits and phone lines. Until the catalog is read (or from a daemon
 * without it) the kiosk's own wording stands in, and nothing is invented.
 */
import { bi, type BilingualText } from '../../core/text.js';
import type { Catalog, CatalogItem } from '../client/catalog.js';
import type { ServiceKind } from '../client/messages.js';
import { PIN_NEEDS, SERVICE_NEEDS } from './text.js';

/** Everything the holder must have before the service starts: the materials, then the PINs to type. */
export function needsOf(catalog: Catalog | null, kind: ServiceKind): readonly BilingualText[] {
  const service = catalog?.services.find((s) => s.kind === kind);
  if (service === undefined || service.materials.length === 0) return SERVICE_NEEDS[kind];
  return [...service.materials.map((m) => bi(m.zh, m.en)), ...PIN_NEEDS[kind]];
}

/** The service item a kind belongs to (the receipt's name and code). */
export function itemOf(catalog: Catalog | null, kind: ServiceKind): CatalogItem | null {
  if (catalog === null) return null;
  const id = catalog.services.find((s) => s.kind === kind)?.itemId;
  return catalog.items.find((it) => (id === undefined || id === null ? it.kinds.includes(kind) : it.id === id)) ?? null;
}

/** A material code the daemon named as missing, in words (the catalog's name, else the code itself). */
export function materialName(catalog: Catalog | null, code: string): BilingualText {
  for (const s of catalog?.services ?? []) {
    const m = s.materials.find((x) => x.material === code);
    if (m !== undefined) return bi(m.zh, m.en);
  }
  return bi(code, code);
}

/**
 * Where a holder goes with a card this kiosk cannot serve: the item that unblocks a PIN (or
 * activates a card not yet active) — its address and consultation line — when the catalog has them.
 */
export function whereToGo(catalog: Catalog | null, cardState: string): { readonly address: BilingualText | null; readonly phone: string | null } {
  const kind: ServiceKind = cardState === 'notActivated' ? 'activate' : 'unblock';
  const item = catalog?.items.find((it) => it.kinds.includes(kind)) ?? null;
  return { address: item?.address ?? null, phone: item?.consultPhone ?? null };
}

export interface HelpItem {
  readonly name: BilingualText;
  /** 办理时限 of each step ("收件: 即时"), then the committed limit in working days. */
  readonly limits: readonly BilingualText[];
  readonly address: BilingualText | null;
  readonly consultPhone: string | null;
  readonly complaintPhone: string | null;
}

/** The help screen: for each item behind the services offered here, its time limits and contacts. */
export function helpItems(catalog: Catalog | null, offered: readonly ServiceKind[]): readonly HelpItem[] {
  if (catalog === null) return [];
  const seen = new Set<string>();
  const out: HelpItem[] = [];
  for (const kind of offered) {
    const it = itemOf(catalog, kind);
    if (it === null || seen.has(it.id)) continue;
    seen.add(it.id);
    const limits = it.steps.flatMap((s) => (s.timeLimit === null ? [] : [bi(`${s.zh}：${s.timeLimit.zh}`, `${s.en}: ${s.timeLimit.en}`)]));
    limits.push(bi(`承诺办理时限：${it.committedLimitDays} 个工作日`, `Committed time limit: ${it.committedLimitDays} working day${it.committedLimitDays === 1 ? '' : 's'}`));
    out.push({ name: it.name, limits, address: it.address, consultPhone: it.consultPhone, complaintPhone: it.complaintPhone });
  }
  return out;
}
