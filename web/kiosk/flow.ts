/**
 * The kiosk's screens as a pure step function: (state, message, now) → (state, effects). The page
 * feeds it what the holder touched, what the API said (unsolicited card events, a flow's events,
 * its completion) and clock ticks; it performs the effects (commands) and renders the state.
 * Nothing here talks to the network or the DOM, so every path is unit-tested.
 *
 * Screens (docs/api.md "SSCard", the holder alone at a kiosk):
 * attract → insertCard → reading → menu (only the services this terminal offers) → prepare (what
 * the service needs; for a reset the resident ID card) → pin (touch keypad or hardware pad) →
 * result (what happens next, a printable receipt) → attract. A locked card gets `locked` (where to
 * go) and no service that cannot work. Card removed at any moment → `removed` → attract. No touch
 * for a while → a countdown with "more time?" → attract. The daemon or PC/SC gone → the page says
 * "temporarily unavailable" over whatever it shows and comes back by itself.
 *
 * The state holds no PIN digit and no identity number: the card arrives masked from the daemon
 * (`cardNumberMasked`) and the name is masked here (core/mask.ts) before it is kept.
 */
import { maskName } from '../../core/mask.js';
import type { Catalog } from '../client/catalog.js';
import type { CardIdentified, PinPrompt, ServiceKind, ServiceResult, TouchKey } from '../client/messages.js';
import type { BilingualText } from '../../core/text.js';
import { keypadLayout, type KeypadLayout } from './keypad.js';

/** The services a kiosk may run, in the order the menu shows them (state/roles.ts: verify, change, reset). */
export const KIOSK_SERVICES: readonly ServiceKind[] = Object.freeze(['verify', 'change', 'reset'] as const);

export interface KioskCard {
  readonly nameMasked: string;
  readonly cardNumberMasked: string;
  readonly triesLeft: number | null;
  readonly cardState: string;
}

export type Screen =
  | { readonly name: 'attract' }
  | { readonly name: 'insertCard' }
  | { readonly name: 'reading' }
  | { readonly name: 'menu' }
  | { readonly name: 'locked' }
  | { readonly name: 'help' }
  | { readonly name: 'prepare'; readonly kind: ServiceKind }
  | { readonly name: 'pin'; readonly kind: ServiceKind; readonly prompt: PinPrompt | null; readonly count: number; readonly keypad: KeypadLayout; readonly idCard: IdCardStep }
  | { readonly name: 'result'; readonly kind: ServiceKind; readonly result: ServiceResult; readonly at: number }
  | { readonly name: 'failed'; readonly kind: ServiceKind; readonly text: BilingualText }
  | { readonly name: 'removed' };

/**
 * Where the service is with the holder's resident ID card (SSCard.IdCardRequestedEvent /
 * IdCardReadEvent): not asked for (null), waiting on the ID reader, read and the holder's.
 * A card not read or not the holder's ends the flow with the daemon's result, which says so.
 */
export type IdCardStep = null | 'waiting' | 'read';

export interface KioskConfig {
  /** No touch for this long → the countdown (ms). */
  readonly idleMs: number;
  /** How long the countdown runs before the kiosk goes back to the attract screen (ms). */
  readonly countdownMs: number;
  /** How long the "card removed" message stays (ms). */
  readonly removedMs: number;
  /** Shuffle the on-screen keypad's digits for every PIN entry. */
  readonly shuffleKeypad: boolean;
}

export const DEFAULT_CONFIG: KioskConfig = Object.freeze({ idleMs: 60_000, countdownMs: 20_000, removedMs: 5_000, shuffleKeypad: true });

export interface KioskState {
  readonly screen: Screen;
  readonly card: KioskCard | null;
  /** Services this terminal offers to holders (Common.Capabilities ∩ KIOSK_SERVICES). */
  readonly services: readonly ServiceKind[];
  /** SSCard.Catalog: what each service needs here, the item names and codes, limits and contacts (null until read). */
  readonly catalog: Catalog | null;
  /** The PIN pad takes keys from the screen (`Keyboard.TouchKey`); else the holder uses the hardware pad. */
  readonly touchKeys: boolean;
  readonly idReader: boolean;
  /** PIN check and change are refused with this many tries left or fewer (Common.Capabilities `triesFloor`). */
  readonly triesFloor: number;
  /** The API connection is up and PC/SC is there. */
  readonly connected: boolean;
  readonly deviceOnline: boolean;
  readonly lang: 'zh' | 'en';
  readonly elder: boolean;
  /** When the current screen gives up waiting for a touch (ms since epoch); null = never. */
  readonly deadline: number | null;
  readonly config: KioskConfig;
}

export type Msg =
  // the API
  | { readonly type: 'connection'; readonly open: boolean }
  | { readonly type: 'capabilities'; readonly services: readonly ServiceKind[]; readonly touchKeys: boolean; readonly idReader: boolean; readonly triesFloor: number }
  | { readonly type: 'catalog'; readonly catalog: Catalog }
  | { readonly type: 'idCardRequested' }
  /** `expired`: read and not valid on the terminal's date (docs/api.md SSCard.IdCardReadEvent); null when unknown. */
  | { readonly type: 'idCardRead'; readonly read: boolean; readonly matches: boolean | null; readonly expired?: boolean | null }
  | { readonly type: 'device'; readonly online: boolean }
  | { readonly type: 'cardInserted' }
  | { readonly type: 'cardIdentified'; readonly card: CardIdentified }
  | { readonly type: 'cardRemoved' }
  | { readonly type: 'pinEntryStarted'; readonly prompt: PinPrompt }
  | { readonly type: 'pinDigits'; readonly count: number }
  | { readonly type: 'serviceResult'; readonly result: ServiceResult }
  | { readonly type: 'serviceFailed'; readonly text: BilingualText }
  // the holder
  | { readonly type: 'touch' }
  | { readonly type: 'chooseService'; readonly kind: ServiceKind }
  | { readonly type: 'startService' }
  | { readonly type: 'key'; readonly key: TouchKey }
  | { readonly type: 'tryAgain' }
  | { readonly type: 'finish' }
  | { readonly type: 'back' }
  | { readonly type: 'help' }
  | { readonly type: 'moreTime' }
  | { readonly type: 'toggleLang' }
  | { readonly type: 'toggleElder' }
  // the clock
  | { readonly type: 'tick' };

export type Effect =
  | { readonly type: 'runService'; readonly kind: ServiceKind }
  | { readonly type: 'touchKey'; readonly key: TouchKey }
  /** SSCard.End: stops a running flow and ends the card session. */
  | { readonly type: 'endSession' };

export interface Step {
  readonly state: KioskState;
  readonly effects: readonly Effect[];
}

export function initialState(config: KioskConfig = DEFAULT_CONFIG): KioskState {
  return { screen: { name: 'attract' }, card: null, services: [], catalog: null, touchKeys: false, idReader: false, triesFloor: 1, connected: false, deviceOnline: false, lang: 'zh', elder: false, deadline: null, config };
}

/** The card is usable for no service here: its PIN has no tries left, or the application is blocked or not active. */
export function cardLocked(card: KioskCard): boolean {
  return card.triesLeft === 0 || card.cardState === 'pinBlocked' || card.cardState === 'appLocked' || card.cardState === 'notActivated';
}

/** The card has too few tries left for a check or a change here (the daemon would refuse: verify.belowFloor). */
export function belowFloor(s: KioskState): boolean {
  return s.card !== null && s.card.triesLeft !== null && s.card.triesLeft <= s.triesFloor;
}

/** The services the menu offers for this card: nothing that cannot work — none for a locked card, no check or change below the floor. */
export function offeredServices(s: KioskState): readonly ServiceKind[] {
  if (s.card === null || cardLocked(s.card)) return [];
  const low = belowFloor(s);
  return KIOSK_SERVICES.filter((k) => s.services.includes(k) && !(low && (k === 'verify' || k === 'change')));
}

/** Nothing this kiosk offers can serve the card: it is sent to a window (the `locked` screen). */
function sentToWindow(s: KioskState): boolean {
  return s.card !== null && (cardLocked(s.card) || (belowFloor(s) && offeredServices(s).length === 0));
}

/** Whether the page must show "temporarily unavailable". */
export function unavailable(s: KioskState): boolean {
  return !s.connected || !s.deviceOnline;
}

/** Seconds left on the countdown when it is showing, else null. */
export function countdown(s: KioskState, now: number): number | null {
  if (s.deadline === null || s.screen.name === 'removed') return null;
  const left = s.deadline - now;
  return left <= s.config.countdownMs ? Math.max(0, Math.ceil(left / 1000)) : null;
}

/** Screens that wait for the holder and give up after idle + countdown. */
function idleDeadline(screen: Screen, now: number, c: KioskConfig): number | null {
  switch (screen.name) {
    case 'attract':
      return null;
    case 'removed':
      return now + c.removedMs;
    default:
      return now + c.idleMs + c.countdownMs;
  }
}

function go(s: KioskState, screen: Screen, now: number, effects: readonly Effect[] = []): Step {
  return { state: { ...s, screen, deadline: idleDeadline(screen, now, s.config) }, effects };
}

/** Back to the attract screen for the next holder: language and elder mode back to their defaults. */
function reset(s: KioskState, effects: readonly Effect[] = []): Step {
  return { state: { ...s, screen: { name: 'attract' }, card: null, lang: 'zh', elder: false, deadline: null }, effects };
}

function afterIdentified(s: KioskState, now: number): Step {
  if (s.card === null) return go(s, { name: 'reading' }, now);
  return go(s, { name: sentToWindow(s) ? 'locked' : 'menu' }, now);
}

const stay = (s: KioskState): Step => ({ state: s, effects: [] });

export function step(s: KioskState, m: Msg, now: number): Step {
  const sc = s.screen;
  switch (m.type) {
    case 'connection':
      if (m.open) return stay({ ...s, connected: true });
      // Whatever ran has ended (the client does not resend): start over once the daemon is back.
      return reset({ ...s, connected: false });
    case 'capabilities':
      return stay({ ...s, services: KIOSK_SERVICES.filter((k) => m.services.includes(k)), touchKeys: m.touchKeys, idReader: m.idReader, triesFloor: m.triesFloor });
    case 'device':
      return m.online ? stay({ ...s, deviceOnline: true }) : reset({ ...s, deviceOnline: false });
    case 'cardInserted':
      if (sc.name === 'attract' || sc.name === 'insertCard' || sc.name === 'removed') return go({ ...s, card: null }, { name: 'reading' }, now);
      return stay(s);
    case 'cardIdentified': {
      const card: KioskCard = { nameMasked: maskName(m.card.name), cardNumberMasked: m.card.cardNumberMasked, triesLeft: m.card.triesLeft, cardState: m.card.cardState };
      const next = { ...s, card };
      if (sc.name === 'attract' || sc.name === 'insertCard' || sc.name === 'reading' || sc.name === 'removed') return afterIdentified(next, now);
      return stay(next);
    }
    case 'cardRemoved':
      if (sc.name === 'attract') return stay({ ...s, card: null });
      return go({ ...s, card: null }, { name: 'removed' }, now);
    case 'catalog':
      return stay({ ...s, catalog: m.catalog });
    case 'idCardRequested':
      if (sc.name !== 'pin') return stay(s);
      return go(s, { ...sc, idCard: 'waiting' }, now);
    case 'idCardRead':
      // Not read, not the holder's, or past its validity (受理标准 材料真实有效, seed 001 line 59): never
      // shown as checked — the flow ends and its result says what to do.
      if (sc.name !== 'pin' || !m.read || m.matches !== true || m.expired === true) return stay(s);
      return go(s, { ...sc, idCard: 'read' }, now);
    case 'pinEntryStarted':
      if (sc.name !== 'pin') return stay(s);
      // A new entry (old PIN, new PIN, its confirmation): no dots yet, and a fresh keypad layout.
      return go(s, { ...sc, prompt: m.prompt, count: 0, keypad: keypadLayout(s.config.shuffleKeypad) }, now);
    case 'pinDigits':
      if (sc.name !== 'pin') return stay(s);
      return go(s, { ...sc, count: m.count }, now);
    case 'serviceResult': {
      if (sc.name !== 'pin' && sc.name !== 'prepare') return stay(s);
      const tries = m.result.triesLeft;
      const card = s.card === null || tries === null ? s.card : { ...s.card, triesLeft: tries };
      return go({ ...s, card }, { name: 'result', kind: sc.kind, result: m.result, at: now }, now);
    }
    case 'serviceFailed':
      if (sc.name !== 'pin' && sc.name !== 'prepare') return stay(s);
      return go(s, { name: 'failed', kind: sc.kind, text: m.text }, now);
    case 'touch':
      if (sc.name === 'attract') return s.card === null ? go(s, { name: 'insertCard' }, now) : afterIdentified(s, now);
      return go(s, sc, now);
    case 'chooseService':
      if (sc.name !== 'menu' || !offeredServices(s).includes(m.kind)) return stay(s);
      return go(s, { name: 'prepare', kind: m.kind }, now);
    case 'startService':
      if (sc.name !== 'prepare') return stay(s);
      return go(s, { name: 'pin', kind: sc.kind, prompt: null, count: 0, keypad: keypadLayout(s.config.shuffleKeypad), idCard: null }, now, [{ type: 'runService', kind: sc.kind }]);
    case 'key':
      // One frame per key; the dots follow the daemon's count, not this press.
      if (sc.name !== 'pin' || sc.prompt === null || !s.touchKeys) return stay(s);
      return go(s, sc, now, [{ type: 'touchKey', key: m.key }]);
    case 'tryAgain':
      if ((sc.name !== 'result' && sc.name !== 'failed') || !offeredServices(s).includes(sc.kind)) return stay(s);
      return go(s, { name: 'prepare', kind: sc.kind }, now);
    case 'back':
      if (sc.name === 'prepare' || sc.name === 'help') return s.card === null ? go(s, { name: 'insertCard' }, now) : afterIdentified(s, now);
      if (sc.name === 'result' || sc.name === 'failed') return afterIdentified(s, now);
      if (sc.name === 'pin') return go(s, sc, now, [{ type: 'touchKey', key: 'cancel' }]);
      return stay(s);
    case 'finish':
      return reset(s, s.card === null ? [] : [{ type: 'endSession' }]);
    case 'help':
      if (sc.name === 'pin') return stay(s);
      return go(s, { name: 'help' }, now);
    case 'moreTime':
      return go(s, sc, now);
    case 'toggleLang':
      return { state: { ...s, lang: s.lang === 'zh' ? 'en' : 'zh', deadline: sc.name === 'attract' ? null : idleDeadline(sc, now, s.config) }, effects: [] };
    case 'toggleElder':
      return { state: { ...s, elder: !s.elder, deadline: sc.name === 'attract' ? null : idleDeadline(sc, now, s.config) }, effects: [] };
    case 'tick':
      if (s.deadline === null || now < s.deadline) return stay(s);
      // Timed out: a running flow is stopped and the session ended; the next holder starts afresh.
      return reset(s, s.card === null && sc.name !== 'pin' ? [] : [{ type: 'endSession' }]);
  }
}
