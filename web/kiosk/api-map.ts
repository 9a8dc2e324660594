/**
 * What the API says, as the kiosk flow's messages (docs/api.md "SSCard": events, unsolicited,
 * service completion; "Common": status, capabilities, StatusChangedEvent). Pure: checked shapes in,
 * messages out; anything unexpected is dropped rather than trusted.
 */
import type { ApiError, Completion } from '../client/api-client.js';
import type { CardIdentified, CatalogInfo, CatalogItemInfo, MaterialInfo, Payload, PinPrompt, ServiceKind, ServiceResult } from '../client/messages.js';
import { bi, type BilingualText } from '../../core/text.js';
import type { Msg } from './flow.js';

/** The command that runs each kiosk service. */
export const SERVICE_COMMAND: Readonly<Record<ServiceKind, string>> = {
  verify: 'SSCard.VerifyPin',
  change: 'SSCard.ChangePin',
  reset: 'SSCard.ResetPin',
  unblock: 'SSCard.UnblockPin',
  activate: 'SSCard.Activate',
};

const PROMPTS: readonly PinPrompt[] = ['enterPin', 'enterOldPin', 'enterNewPin', 'confirmNewPin'];
const KINDS: readonly ServiceKind[] = ['activate', 'verify', 'change', 'reset', 'unblock'];

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): x is string => typeof x === 'string';
const intOrNull = (x: unknown): number | null => (typeof x === 'number' && Number.isInteger(x) && x >= 0 ? x : null);

function cardOf(p: Payload): CardIdentified | null {
  if (!str(p['cardNumberMasked']) || !str(p['name']) || !str(p['cardState'])) return null;
  return { cardNumberMasked: p['cardNumberMasked'], name: p['name'], triesLeft: intOrNull(p['triesLeft']), cardState: p['cardState'], authentic: typeof p['authentic'] === 'boolean' ? p['authentic'] : null };
}

/** A service result from a ResultEvent or a completion payload's `result`; null when it is not one. */
export function resultOf(x: unknown): ServiceResult | null {
  if (!isObj(x) || !str(x['code']) || !str(x['zh']) || !str(x['en']) || !str(x['outcome'])) return null;
  const next = isObj(x['nextStep']) && str(x['nextStep']['zh']) && str(x['nextStep']['en']) ? bi(x['nextStep']['zh'], x['nextStep']['en']) : bi('', '');
  const outcome = (['ok', 'failed', 'refused', 'cancelled', 'unknown'] as const).find((o) => o === x['outcome']) ?? 'unknown';
  const strings = (v: unknown): readonly string[] | undefined => (Array.isArray(v) && v.every(str) ? v : undefined);
  const violations = strings(x['violations']);
  const missing = strings(x['missing']);
  return {
    code: x['code'],
    kind: KINDS.find((k) => k === x['kind']) ?? null,
    outcome,
    zh: x['zh'],
    en: x['en'],
    triesLeft: intOrNull(x['triesLeft']),
    nextStep: next,
    ...(str(x['sw']) ? { sw: x['sw'] } : {}),
    ...(violations === undefined ? {} : { violations }),
    ...(missing === undefined ? {} : { missing }),
    ...(str(x['operationId']) ? { operationId: x['operationId'] } : {}),
  };
}

const textOf = (x: unknown): BilingualText | null => (isObj(x) && str(x['zh']) && str(x['en']) ? bi(x['zh'], x['en']) : null);
const strOrNull = (x: unknown): string | null => (str(x) ? x : null);

function materialOf(x: unknown): MaterialInfo | null {
  return isObj(x) && str(x['material']) && str(x['zh']) && str(x['en']) ? { material: x['material'], zh: x['zh'], en: x['en'] } : null;
}

function itemOf(x: unknown): CatalogItemInfo | null {
  if (!isObj(x) || !str(x['id']) || !str(x['itemCode'])) return null;
  const name = textOf(x['name']);
  if (name === null) return null;
  const steps = Array.isArray(x['steps']) ? x['steps'].filter(isObj).flatMap((s) => (str(s['zh']) && str(s['en']) ? [{ zh: s['zh'], en: s['en'], timeLimit: textOf(s['timeLimit']) }] : [])) : [];
  return {
    id: x['id'],
    itemCode: x['itemCode'],
    name,
    kinds: Array.isArray(x['kinds']) ? KINDS.filter((k) => (x['kinds'] as unknown[]).includes(k)) : [],
    steps,
    committedLimitDays: intOrNull(x['committedLimitDays']) ?? 0,
    address: textOf(x['address']),
    consultPhone: strOrNull(x['consultPhone']),
    complaintPhone: strOrNull(x['complaintPhone']),
  };
}

/** `SSCard.Catalog`: the services with what each needs here, and the items (names, codes, limits, contacts). */
export function msgOfCatalog(c: Completion): Msg | null {
  if (!c.ok) return null;
  const services = Array.isArray(c.payload['services'])
    ? c.payload['services'].filter(isObj).flatMap((s) => {
        const kind = KINDS.find((k) => k === s['kind']);
        const name = textOf(s['name']);
        if (kind === undefined || name === null) return [];
        const materials = Array.isArray(s['materials']) ? s['materials'].map(materialOf).filter((m): m is MaterialInfo => m !== null) : [];
        return [{ kind, name, itemId: strOrNull(s['itemId']), materials }];
      })
    : [];
  const items = Array.isArray(c.payload['items']) ? c.payload['items'].map(itemOf).filter((i): i is CatalogItemInfo => i !== null) : [];
  const catalog: CatalogInfo = { services, items };
  return { type: 'catalog', catalog };
}

/**
 * A card or flow event, unsolicited or as a command's event (the names are the same; the card
 * events come unsolicited to every client, the flow events to the flow's caller as events).
 */
export function msgOfEvent(name: string, p: Payload): Msg | null {
  switch (name) {
    case 'SSCard.CardInsertedEvent':
      return { type: 'cardInserted' };
    case 'SSCard.CardIdentifiedEvent': {
      const card = cardOf(p);
      return card === null ? null : { type: 'cardIdentified', card };
    }
    case 'SSCard.CardRemovedEvent':
      return { type: 'cardRemoved' };
    case 'SSCard.IdCardRequestedEvent':
      return { type: 'idCardRequested' };
    case 'SSCard.IdCardReadEvent':
      return typeof p['read'] === 'boolean' ? { type: 'idCardRead', read: p['read'], matches: typeof p['matches'] === 'boolean' ? p['matches'] : null } : null;
    case 'SSCard.PinEntryStartedEvent': {
      const prompt = PROMPTS.find((x) => x === p['prompt']);
      return prompt === undefined ? null : { type: 'pinEntryStarted', prompt };
    }
    case 'SSCard.PinDigitsEvent': {
      const count = intOrNull(p['count']);
      return count === null ? null : { type: 'pinDigits', count };
    }
    case 'Common.StatusChangedEvent':
      // PC/SC is what a kiosk cannot work without; the other devices show up as a flow's result.
      return p['component'] === 'pcsc' && typeof p['connected'] === 'boolean' ? { type: 'device', online: p['connected'] } : null;
    default:
      return null;
  }
}

/**
 * `Common.Status`'s card (docs/api.md "Common"): a card already identified when the page connects
 * (the daemon started with it in, or the page was reloaded) is the holder's, greeted by the masked
 * name the report carries; null when there is none.
 */
export function cardOfStatus(c: Completion): Msg | null {
  const ss = isObj(c.payload['sscard']) ? c.payload['sscard'] : null;
  const card = ss !== null && isObj(ss['card']) ? ss['card'] : null;
  if (!c.ok || card === null || card['identified'] !== true) return null;
  if (!str(card['cardNumberMasked']) || !str(card['nameMasked']) || !str(card['cardState'])) return null;
  return { type: 'cardIdentified', card: { cardNumberMasked: card['cardNumberMasked'], name: card['nameMasked'], triesLeft: intOrNull(card['triesLeft']), cardState: card['cardState'], authentic: null } };
}

/** `Common.Status`: the card slot's reader reachable (not `offline` = PC/SC down, not `noDevice`). */
export function msgOfStatus(c: Completion): Msg {
  const common = isObj(c.payload['common']) ? c.payload['common'] : {};
  return { type: 'device', online: c.ok && (common['device'] === 'online' || common['device'] === 'deviceBusy') };
}

/** `Common.Capabilities`: the services offered and whether the PIN pad takes keys from the screen. */
export function msgOfCapabilities(c: Completion): Msg | null {
  const ss = isObj(c.payload['sscard']) ? c.payload['sscard'] : null;
  if (!c.ok || ss === null) return null;
  const services = Array.isArray(ss['services']) ? KINDS.filter((k) => (ss['services'] as unknown[]).includes(k)) : [];
  const pinPad = isObj(ss['pinPad']) ? ss['pinPad'] : {};
  // A daemon that does not say keeps the default floor (docs/config.md session.triesFloor = 1).
  return { type: 'capabilities', services, touchKeys: pinPad['touchKeys'] === true, idReader: ss['idReader'] === true, triesFloor: intOrNull(ss['triesFloor']) ?? 1 };
}

const NO_RESULT = bi('终端未能完成本次办理，请稍后重试', 'the terminal could not complete this service; try again later');

/** A service command's end: its result when it carries one, else the daemon's description. */
export function msgOfServiceCompletion(c: Completion): Msg {
  const result = resultOf(c.payload['result']);
  if (result !== null) return { type: 'serviceResult', result };
  return { type: 'serviceFailed', text: c.description ?? NO_RESULT };
}

/** A service command that got no completion (connection lost, refused). */
export function msgOfServiceError(e: ApiError): Msg {
  return { type: 'serviceFailed', text: e.text };
}
