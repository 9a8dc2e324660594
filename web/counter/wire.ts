/**
 * The counter page's payloads (docs/api.md "SSCard": `SSCard.Catalog`, service completions; "Counter":
 * `IdCard.Read`, `SSCard.Operations`), read from what the daemon sent: checked shapes in, typed
 * values out, anything unexpected dropped rather than trusted. Pure, unit-tested.
 */
import { bi, type BilingualText } from '../../core/text.js';
import type { Payload, PinPrompt, ServiceKind, ServiceResult } from '../client/messages.js';

export const KINDS: readonly ServiceKind[] = ['activate', 'verify', 'change', 'reset', 'unblock'];
export const PROMPTS: readonly PinPrompt[] = ['enterPin', 'enterOldPin', 'enterNewPin', 'confirmNewPin'];

/** The command that runs each service (docs/api.md "SSCard"). */
export const SERVICE_COMMAND: Readonly<Record<ServiceKind, string>> = {
  verify: 'SSCard.VerifyPin',
  change: 'SSCard.ChangePin',
  reset: 'SSCard.ResetPin',
  unblock: 'SSCard.UnblockPin',
  activate: 'SSCard.Activate',
};

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

/** IdCard.Read's completion: the ID card masked and whether it is the card holder's. */
export interface IdCardReport {
  readonly read: boolean;
  readonly idCard: { readonly nameMasked: string; readonly idNumberMasked: string; readonly idNumberValid: boolean; readonly validFrom: string; readonly validTo: string } | null;
  readonly matchesCard: boolean | null;
  readonly cardNumberMasked: string | null;
  readonly mismatch: BilingualText | null;
}

/** One row of SSCard.Operations. */
export interface OperationRow {
  readonly id: string;
  readonly kind: string;
  readonly itemCode: string;
  readonly state: string;
  readonly outcome: string | null;
  readonly reason: string | null;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly cardNumberMasked: string | null;
  readonly synced: boolean;
  readonly syncState: string;
  readonly operatorId: string | null;
}

/** A service result with the bank-account request of a financial counter (docs/api.md "Service completion"). */
export interface CounterResult extends ServiceResult {
  readonly bank?: { readonly zh: string; readonly en: string; readonly attempted: boolean };
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): x is string => typeof x === 'string';
const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const intOrNull = (x: unknown): number | null => (typeof x === 'number' && Number.isInteger(x) && x >= 0 ? x : null);
const strOrNull = (x: unknown): string | null => (str(x) ? x : null);
const list = (x: unknown): readonly unknown[] => (Array.isArray(x) ? x : []);

function text(x: unknown): BilingualText | null {
  return isObj(x) && str(x['zh']) && str(x['en']) ? bi(x['zh'], x['en']) : null;
}

function material(x: unknown): MaterialText | null {
  return isObj(x) && str(x['material']) && str(x['zh']) && str(x['en']) ? { material: x['material'], zh: x['zh'], en: x['en'] } : null;
}

const kinds = (x: unknown): ServiceKind[] => KINDS.filter((k) => list(x).includes(k));
const defined = <T>(xs: readonly (T | null)[]): T[] => xs.filter((v): v is T => v !== null);

/** `SSCard.Catalog`'s completion; null when it is not one. */
export function catalogOf(p: Payload): Catalog | null {
  if (!str(p['role']) || !Array.isArray(p['services']) || !Array.isArray(p['items'])) return null;
  const services = defined(
    p['services'].map((s): CatalogService | null => {
      if (!isObj(s)) return null;
      const kind = KINDS.find((k) => k === s['kind']);
      const name = text(s['name']);
      if (kind === undefined || name === null) return null;
      return { kind, name, itemId: strOrNull(s['itemId']), operatorRequired: s['operatorRequired'] === true, materials: defined(list(s['materials']).map(material)) };
    }),
  );
  const items = defined(
    p['items'].map((i): CatalogItem | null => {
      if (!isObj(i) || !str(i['id']) || !str(i['itemCode'])) return null;
      const name = text(i['name']);
      if (name === null) return null;
      return {
        id: i['id'],
        itemCode: i['itemCode'],
        name,
        kinds: kinds(i['kinds']),
        materials: defined(list(i['materials']).map(material)),
        steps: defined(
          list(i['steps']).map((s) => (isObj(s) && str(s['zh']) && str(s['en']) ? { zh: s['zh'], en: s['en'], handler: text(s['handler']), timeLimit: text(s['timeLimit']) } : null)),
        ),
        legalLimitDays: num(i['legalLimitDays']) ? i['legalLimitDays'] : 0,
        committedLimitDays: num(i['committedLimitDays']) ? i['committedLimitDays'] : 0,
        address: text(i['address']),
        consultPhone: strOrNull(i['consultPhone']),
        complaintPhone: strOrNull(i['complaintPhone']),
        advice: defined(list(i['advice']).map(text)),
      };
    }),
  );
  return { role: p['role'], services, items };
}

/** `IdCard.Read`'s completion; null when it is not one. */
export function idCardReportOf(p: Payload): IdCardReport | null {
  if (typeof p['read'] !== 'boolean') return null;
  const c = p['idCard'];
  const idCard =
    isObj(c) && str(c['nameMasked']) && str(c['idNumberMasked']) && str(c['validFrom']) && str(c['validTo'])
      ? { nameMasked: c['nameMasked'], idNumberMasked: c['idNumberMasked'], idNumberValid: c['idNumberValid'] === true, validFrom: c['validFrom'], validTo: c['validTo'] }
      : null;
  const m = p['matchesCard'];
  return { read: p['read'], idCard, matchesCard: typeof m === 'boolean' ? m : null, cardNumberMasked: strOrNull(p['cardNumberMasked']), mismatch: text(p['mismatch']) };
}

/** `SSCard.Operations`' completion; null when it is not one. */
export function operationsOf(p: Payload): OperationRow[] | null {
  if (!Array.isArray(p['operations'])) return null;
  return defined(
    p['operations'].map((o): OperationRow | null => {
      if (!isObj(o) || !str(o['id']) || !str(o['kind']) || !num(o['startedAt'])) return null;
      return {
        id: o['id'],
        kind: o['kind'],
        itemCode: str(o['itemCode']) ? o['itemCode'] : '',
        state: str(o['state']) ? o['state'] : '',
        outcome: strOrNull(o['outcome']),
        reason: strOrNull(o['reason']),
        startedAt: o['startedAt'],
        endedAt: num(o['endedAt']) ? o['endedAt'] : null,
        cardNumberMasked: strOrNull(o['cardNumberMasked']),
        synced: o['synced'] === true,
        syncState: str(o['syncState']) ? o['syncState'] : o['synced'] === true ? 'synced' : 'unsynced',
        operatorId: strOrNull(o['operatorId']),
      };
    }),
  );
}

/** A service result from a ResultEvent or a completion's `result`; null when it is not one. */
export function resultOf(x: unknown): CounterResult | null {
  if (!isObj(x) || !str(x['code']) || !str(x['zh']) || !str(x['en']) || !str(x['outcome'])) return null;
  const outcome = (['ok', 'failed', 'refused', 'cancelled', 'unknown'] as const).find((o) => o === x['outcome']) ?? 'unknown';
  const strings = (v: unknown): readonly string[] | undefined => (Array.isArray(v) && v.every(str) ? v : undefined);
  const violations = strings(x['violations']);
  const missing = strings(x['missing']);
  const bank = isObj(x['bank']) && str(x['bank']['zh']) && str(x['bank']['en']) ? { zh: x['bank']['zh'], en: x['bank']['en'], attempted: x['bank']['attempted'] === true } : undefined;
  return {
    code: x['code'],
    kind: KINDS.find((k) => k === x['kind']) ?? null,
    outcome,
    zh: x['zh'],
    en: x['en'],
    triesLeft: intOrNull(x['triesLeft']),
    nextStep: text(x['nextStep']) ?? bi('', ''),
    ...(str(x['sw']) ? { sw: x['sw'] } : {}),
    ...(violations === undefined ? {} : { violations }),
    ...(missing === undefined ? {} : { missing }),
    ...(bank === undefined ? {} : { bank }),
  };
}
