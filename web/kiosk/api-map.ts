/**
 * What the API says, as the kiosk flow's messages (docs/api.md "SSCard": events, unsolicited,
 * service completion; "Common": status, capabilities, StatusChangedEvent). Pure: checked shapes in,
 * messages out; anything unexpected is dropped rather than trusted.
 */
import type { ApiError, Completion } from '../client/api-client.js';
import { catalogOf } from '../client/catalog.js';
import type { CardIdentified, Payload } from '../client/messages.js';
import { bi } from '../../core/text.js';
import { intOrNull, isObj, KINDS, PROMPTS, serviceResultOf, str } from '../client/read.js';
import type { Msg } from './flow.js';

function cardOf(p: Payload): CardIdentified | null {
  if (!str(p['cardNumberMasked']) || !str(p['name']) || !str(p['cardState'])) return null;
  return { cardNumberMasked: p['cardNumberMasked'], name: p['name'], triesLeft: intOrNull(p['triesLeft']), cardState: p['cardState'], authentic: typeof p['authentic'] === 'boolean' ? p['authentic'] : null };
}


/** `SSCard.Catalog`: the services with what each needs here, and the items (names, codes, limits, contacts). */
export function msgOfCatalog(c: Completion): Msg | null {
  const catalog = c.ok ? catalogOf(c.payload) : null;
  return catalog === null ? null : { type: 'catalog', catalog };
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
      return typeof p['read'] === 'boolean'
        ? { type: 'idCardRead', read: p['read'], matches: typeof p['matches'] === 'boolean' ? p['matches'] : null, expired: typeof p['expired'] === 'boolean' ? p['expired'] : null }
        : null;
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
    {
      // The device change that caused it, when one did (docs/api.md "Unsolicited events").
      const d = isObj(p['sscardDevice']) ? p['sscardDevice'] : null;
      return d !== null && d['component'] === 'pcsc' && typeof d['connected'] === 'boolean' ? { type: 'device', online: d['connected'] } : null;
    }
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
  const result = serviceResultOf(c.payload['result']);
  if (result !== null) return { type: 'serviceResult', result };
  return { type: 'serviceFailed', text: c.description ?? NO_RESULT };
}

/** A service command that got no completion (connection lost, refused). */
export function msgOfServiceError(e: ApiError): Msg {
  return { type: 'serviceFailed', text: e.text };
}
