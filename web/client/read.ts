/**
 * Reading the API's answers defensively (docs/api.md), for every page: checked shapes in, typed
 * values out, anything unexpected dropped rather than trusted. The service kinds, PIN prompts and
 * service commands of the wire, and the service result every flow ends with.
 */
import { bi, type BilingualText } from '../../core/text.js';
import type { PinPrompt, ResultWhere, ServiceKind, ServiceResult } from './messages.js';

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

export const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
export const str = (x: unknown): x is string => typeof x === 'string';
export const intOrNull = (x: unknown): number | null => (typeof x === 'number' && Number.isInteger(x) && x >= 0 ? x : null);
export const strOrNull = (x: unknown): string | null => (str(x) ? x : null);

/** `{ zh, en }`, or null. */
export function textOf(x: unknown): BilingualText | null {
  return isObj(x) && str(x['zh']) && str(x['en']) ? bi(x['zh'], x['en']) : null;
}

/** A result's `where`, when it is one. */
function whereOf(w: unknown): { where?: ResultWhere } {
  if (!isObj(w) || !str(w['office'])) return {};
  const text = textOf(w);
  if (text === null) return {};
  return {
    where: { office: w['office'], address: textOf(w['address']), hours: textOf(w['hours']), consultPhone: strOrNull(w['consultPhone']), complaintPhone: strOrNull(w['complaintPhone']), text },
  };
}

/** A service result from a ResultEvent or a completion payload's `result` (docs/api.md "Service completion"); null when it is not one. */
export function serviceResultOf(x: unknown): ServiceResult | null {
  if (!isObj(x) || !str(x['code']) || !str(x['zh']) || !str(x['en']) || !str(x['outcome'])) return null;
  const outcome = (['ok', 'failed', 'refused', 'cancelled', 'unknown'] as const).find((o) => o === x['outcome']) ?? 'unknown';
  const strings = (v: unknown): readonly string[] | undefined => (Array.isArray(v) && v.every(str) ? v : undefined);
  const violations = strings(x['violations']);
  const missing = strings(x['missing']);
  const bankText = textOf(x['bank']);
  const bank = bankText === null ? undefined : { ...bankText, attempted: isObj(x['bank']) && x['bank']['attempted'] === true };
  return {
    code: x['code'],
    kind: KINDS.find((k) => k === x['kind']) ?? null,
    outcome,
    zh: x['zh'],
    en: x['en'],
    triesLeft: intOrNull(x['triesLeft']),
    nextStep: textOf(x['nextStep']) ?? bi('', ''),
    ...(str(x['sw']) ? { sw: x['sw'] } : {}),
    ...(violations === undefined ? {} : { violations }),
    ...(missing === undefined ? {} : { missing }),
    ...(bank === undefined ? {} : { bank }),
    ...(str(x['operationId']) ? { operationId: x['operationId'] } : {}),
    ...whereOf(x['where']),
    ...(typeof x['policyChecked'] === 'boolean' ? { policyChecked: x['policyChecked'] } : {}),
  };
}
