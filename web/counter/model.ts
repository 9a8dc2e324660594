/**
 * The counter page as a pure step function: (state, message, now) → (state, effects). The page feeds
 * it what the clerk did, what the API answered (docs/api.md "Operators", "SSCard", "Counter") and
 * clock ticks; the controller performs the effects (commands) and the view renders the state.
 *
 * - Operator session (docs/api.md "Operators"): the page shows who is logged in and until when. The
 *   daemon's session slides (it ends `sessionTtlMs` after its last use), so each privileged answer
 *   moves the page's estimate on by the length the login gave; when the estimate runs out, or any
 *   answer says `auth.sessionExpired` / `auth.invalidToken` / `auth.required`, the page goes back to
 *   the login form with a bilingual message. The passphrase never enters the state.
 * - The card and the ID card side by side, both masked (the card as the daemon sends it, the name
 *   masked here with core/mask.ts; the ID card masked by the daemon), with the match indicator.
 * - Materials (checklist.ts): 受理 runs the service only when the checklist is complete; otherwise
 *   the 一次性告知 notice.
 * - The holder's phone number, when the clerk asks for it, goes with a service that sets a PIN
 *   (`phones`, docs/api.md): on a card that shows its own phone only after a verified PIN, reset,
 *   unblock and activation cannot read it, so the PIN policy's phone rule (seed 000 line 323) has
 *   what the clerk enters and nothing else (docs/security.md "The phone rule in reset, unblock and
 *   activation"). Kept for the card in the slot only, never logged.
 * - A running service shows only its prompt and one dot per key the daemon counted; the holder types
 *   on the PIN pad. Results in zh/en with the next step; the day's operations refreshed after each.
 */
import { maskName } from '../../core/mask.js';
import { bi, type BilingualText } from '../../core/text.js';
import type { PinPrompt, ServiceKind } from '../client/messages.js';
import type { Lang } from '../common/i18n.js';
import { checklist, notice, type Checklist, type Facts, type Notice } from './checklist.js';
import type { IdCardReport, OperationRow } from './wire.js';
import type { AgentRuleText, Catalog, CatalogItem } from '../client/catalog.js';
import type { ServiceResult } from '../client/messages.js';

export interface CounterCard {
  readonly nameMasked: string;
  readonly cardNumberMasked: string;
  readonly triesLeft: number | null;
  readonly cardState: string;
}

export interface Operator {
  readonly operatorId: string;
  /** The page's estimate of the session's end (ms since epoch). */
  readonly expiresAt: number;
  /** The session's length as the login gave it: each privileged answer moves `expiresAt` to now + this. */
  readonly ttlMs: number;
}

export type IdCardView =
  | { readonly status: 'none' }
  | { readonly status: 'reading' }
  | { readonly status: 'read'; readonly report: IdCardReport }
  | { readonly status: 'failed'; readonly text: BilingualText };

export type Flow =
  | {
      readonly phase: 'running';
      readonly kind: ServiceKind;
      readonly prompt: PinPrompt | null;
      readonly count: number;
      readonly cancelling: boolean;
      /** The daemon waits for an identity document on the ID reader: the holder's or the agent's (state/agents.ts); null when not. */
      readonly document: 'holder' | 'agent' | null;
    }
  | { readonly phase: 'result'; readonly kind: ServiceKind; readonly result: ServiceResult; readonly at: number }
  | { readonly phase: 'failed'; readonly kind: ServiceKind; readonly text: BilingualText }
  | { readonly phase: 'refused'; readonly kind: ServiceKind; readonly notice: Notice; readonly at: number };

export interface CounterState {
  readonly lang: Lang;
  readonly connected: boolean;
  readonly role: string | null;
  readonly services: readonly ServiceKind[];
  readonly idReader: boolean;
  readonly catalog: Catalog | null;
  readonly catalogProblem: BilingualText | null;
  readonly operator: Operator | null;
  readonly login: { readonly busy: boolean; readonly error: BilingualText | null; readonly notice: BilingualText | null };
  readonly card: CounterCard | null;
  readonly idCard: IdCardView;
  readonly selected: ServiceKind | null;
  /** The clerk's confirmations of the originals, per material. */
  readonly clerk: Readonly<Record<string, boolean>>;
  /** The holder's phone number as the clerk typed it (digits, +, - and spaces only): for the PIN policy, sent with the service. */
  readonly phone: string;
  /**
   * Who applies: null the holder in person, else the basis of someone applying for the holder
   * (`powerOfAttorney`, `guardianship`: state/agents.ts), one of the selected service's `agents`.
   */
  readonly agent: string | null;
  readonly flow: Flow | null;
  readonly operations: { readonly rows: readonly OperationRow[]; readonly loading: boolean; readonly problem: BilingualText | null; readonly at: number | null };
}

export type Msg =
  | { readonly type: 'connection'; readonly open: boolean }
  | { readonly type: 'capabilities'; readonly role: string; readonly services: readonly ServiceKind[]; readonly idReader: boolean }
  | { readonly type: 'catalog'; readonly catalog: Catalog | null; readonly problem?: BilingualText }
  | { readonly type: 'lang'; readonly lang: Lang }
  | { readonly type: 'loginSent' }
  | { readonly type: 'loginOk'; readonly operatorId: string; readonly expiresAt: number }
  | { readonly type: 'loginFailed'; readonly text: BilingualText }
  | { readonly type: 'logout' }
  | { readonly type: 'authLost'; readonly errorCode: string }
  | { readonly type: 'privilegedOk' }
  | { readonly type: 'tick' }
  /** A card identified (event or status): the name as sent is masked before it is kept. */
  | { readonly type: 'cardIdentified'; readonly name: string; readonly nameIsMasked: boolean; readonly cardNumberMasked: string; readonly triesLeft: number | null; readonly cardState: string }
  | { readonly type: 'cardRemoved' }
  | { readonly type: 'readIdCard' }
  | { readonly type: 'idCardRead'; readonly report: IdCardReport }
  | { readonly type: 'idCardFailed'; readonly text: BilingualText }
  | { readonly type: 'select'; readonly kind: ServiceKind }
  | { readonly type: 'clerkCheck'; readonly material: string; readonly checked: boolean }
  | { readonly type: 'phone'; readonly value: string }
  | { readonly type: 'agent'; readonly basis: string | null }
  | { readonly type: 'idCardRequested'; readonly whose: 'holder' | 'agent' }
  | { readonly type: 'accept' }
  | { readonly type: 'pinEntryStarted'; readonly prompt: PinPrompt }
  | { readonly type: 'pinDigits'; readonly count: number }
  | { readonly type: 'serviceResult'; readonly result: ServiceResult }
  | { readonly type: 'serviceFailed'; readonly text: BilingualText }
  | { readonly type: 'cancelService' }
  | { readonly type: 'dismiss' }
  | { readonly type: 'refreshOperations' }
  | { readonly type: 'operations'; readonly rows: readonly OperationRow[] }
  | { readonly type: 'operationsFailed'; readonly text: BilingualText };

export type Effect =
  | { readonly type: 'logout' }
  | { readonly type: 'readIdCard' }
  /** `phones`: the holder's number the clerk entered, for the PIN policy (absent when none). */
  | { readonly type: 'runService'; readonly kind: ServiceKind; readonly phones?: readonly string[]; readonly agent?: { readonly basis: string; readonly presented: readonly string[] } }
  | { readonly type: 'cancelService' }
  | { readonly type: 'loadOperations'; readonly since: number }
  | { readonly type: 'refreshStatus' };

export interface Step {
  readonly state: CounterState;
  readonly effects: readonly Effect[];
}

export const SESSION_EXPIRED = bi('操作员会话已超时，请重新登录', 'The operator session has expired; please log in again');
export const SESSION_INVALID = bi('登录已失效（已在别处退出或令牌无效），请重新登录', 'The login is no longer valid (logged out elsewhere, or the token is not valid); please log in again');
export const LOGGED_OUT = bi('已退出登录', 'Logged out');
const NO_CATALOG = bi('服务目录不可用：无法列出申请材料，请联系技术人员', 'The service catalog is not available: the materials cannot be listed; call a technician');

/** Services a counter offers, in the order the clerk sees them (window services first). */
export const COUNTER_ORDER: readonly ServiceKind[] = ['unblock', 'reset', 'activate', 'change', 'verify'];

export function initialState(lang: Lang = 'zh'): CounterState {
  return {
    lang,
    connected: false,
    role: null,
    services: [],
    idReader: false,
    catalog: null,
    catalogProblem: null,
    operator: null,
    login: { busy: false, error: null, notice: null },
    card: null,
    idCard: { status: 'none' },
    selected: null,
    clerk: {},
    phone: '',
    agent: null,
    flow: null,
    operations: { rows: [], loading: false, problem: null, at: null },
  };
}

/** The paper an agent brings, which the clerk declares (state/materials.ts PAPER_MATERIALS); the cards are read. */
export const PAPER_MATERIALS: readonly string[] = ['powerOfAttorney', 'householdRegister'];

/** The ways someone may apply for the holder in the selected service (the hall's catalog; none for most). */
export function agentRulesOf(s: CounterState): readonly AgentRuleText[] {
  if (s.selected === null) return [];
  return s.catalog?.services.find((x) => x.kind === s.selected)?.agents ?? [];
}

/** The rule of the agent chosen, if one is and the service has it. */
export function agentRuleOf(s: CounterState): AgentRuleText | null {
  return s.agent === null ? null : (agentRulesOf(s).find((r) => r.basis === s.agent) ?? null);
}

/** Services that set a PIN: the ones the phone goes with (the PIN policy applies to the new PIN). */
export const SETS_PIN: ReadonlySet<ServiceKind> = new Set(['change', 'reset', 'unblock', 'activate']);

/** Longest phone the page keeps (the API takes 32 characters a number). */
export const PHONE_MAX = 20;

/** What the clerk typed, kept to the characters a phone number has (digits, +, - and spaces; docs/api.md `phones`). */
export function phoneInput(value: string): string {
  return value.replace(/[^0-9+\- ]/g, '').slice(0, PHONE_MAX);
}

/** Local midnight of `now`'s day: "today's operations" start there. */
export function startOfDay(now: number): number {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** The services offered here, in the counter's order. */
export function offered(s: CounterState): ServiceKind[] {
  return COUNTER_ORDER.filter((k) => s.services.includes(k));
}

/** The catalog item of a service (the one whose kinds list it). */
export function itemOf(s: CounterState, kind: ServiceKind): CatalogItem | null {
  return s.catalog?.items.find((i) => i.kinds.includes(kind)) ?? null;
}

export function factsOf(s: CounterState): Facts {
  return { cardIdentified: s.card !== null, idCard: s.idCard.status === 'read' ? s.idCard.report : null };
}

/** The checklist of the selected service's item (null when none is selected or the catalog has no item for it). */
export function checklistOf(s: CounterState): Checklist | null {
  if (s.selected === null) return null;
  const item = itemOf(s, s.selected);
  if (item === null) return null;
  // Someone applying for the holder brings what the hall's rule lists (state/agents.ts).
  const rule = agentRuleOf(s);
  return checklist(rule?.materials ?? item.materials, factsOf(s), s.clerk);
}

/** A privileged command is in flight or the clerk may act: anything but a running service. */
export function busy(s: CounterState): boolean {
  return s.flow?.phase === 'running';
}

const AUTH_LOST: ReadonlySet<string> = new Set(['auth.sessionExpired', 'auth.invalidToken', 'auth.required']);

/** Whether an errorCode means the operator session is gone. */
export function isAuthLost(errorCode: string | null): boolean {
  return errorCode !== null && AUTH_LOST.has(errorCode);
}

function loggedOut(s: CounterState, noticeText: BilingualText | null): CounterState {
  return {
    ...s,
    operator: null,
    login: { busy: false, error: null, notice: noticeText },
    // Nothing of the last holder stays on the screen for the next login.
    idCard: { status: 'none' },
    selected: null,
    clerk: {},
    phone: '',
    agent: null,
    flow: null,
    operations: { rows: [], loading: false, problem: null, at: null },
  };
}

/** A new card (or none): what was read and confirmed for the last one no longer holds. */
function withCard(s: CounterState, card: CounterCard | null): CounterState {
  const same = s.card !== null && card !== null && s.card.cardNumberMasked === card.cardNumberMasked;
  if (same) return { ...s, card };
  return { ...s, card, idCard: { status: 'none' }, clerk: {}, phone: '', agent: null, flow: s.flow?.phase === 'running' ? s.flow : null };
}

export function step(s: CounterState, m: Msg, now: number): Step {
  const none = (state: CounterState): Step => ({ state, effects: [] });
  switch (m.type) {
    case 'connection':
      // A lost connection ends a running flow on the daemon's side (docs/api.md "Cancel, timeout,
      // disconnect"); the session stays (it is bound to the token, not the socket), but this page's
      // connection no longer carries it: log in again.
      if (!m.open && s.operator !== null) return none({ ...loggedOut(s, bi('与终端服务的连接中断，请重新登录', 'The connection to the terminal service was lost; please log in again')), connected: false });
      return none({ ...s, connected: m.open });
    case 'capabilities':
      return none({ ...s, role: m.role, services: m.services, idReader: m.idReader });
    case 'catalog':
      return none({ ...s, catalog: m.catalog, catalogProblem: m.catalog === null ? (m.problem ?? NO_CATALOG) : null });
    case 'lang':
      return none({ ...s, lang: m.lang });
    case 'loginSent':
      return none({ ...s, login: { busy: true, error: null, notice: null } });
    case 'loginOk': {
      const ttlMs = Math.max(0, m.expiresAt - now);
      return {
        state: { ...s, operator: { operatorId: m.operatorId, expiresAt: m.expiresAt, ttlMs }, login: { busy: false, error: null, notice: null } },
        effects: [{ type: 'loadOperations', since: startOfDay(now) }],
      };
    }
    case 'loginFailed':
      return none({ ...s, login: { busy: false, error: m.text, notice: null } });
    case 'logout':
      if (s.operator === null) return none(s);
      return { state: loggedOut(s, LOGGED_OUT), effects: [{ type: 'logout' }] };
    case 'authLost':
      if (s.operator === null) return none(s);
      return none(loggedOut(s, m.errorCode === 'auth.sessionExpired' ? SESSION_EXPIRED : SESSION_INVALID));
    case 'privilegedOk':
      if (s.operator === null) return none(s);
      return none({ ...s, operator: { ...s.operator, expiresAt: Math.max(s.operator.expiresAt, now + s.operator.ttlMs) } });
    case 'tick':
      // A service the holder is typing for keeps the session in use: the daemon checked the token when it started.
      if (s.operator !== null && now >= s.operator.expiresAt && !busy(s)) return { state: loggedOut(s, SESSION_EXPIRED), effects: [{ type: 'logout' }] };
      return none(s);
    case 'cardIdentified':
      return none(withCard(s, { nameMasked: m.nameIsMasked ? m.name : maskName(m.name), cardNumberMasked: m.cardNumberMasked, triesLeft: m.triesLeft, cardState: m.cardState }));
    case 'cardRemoved':
      return none(withCard(s, null));
    case 'readIdCard':
      if (s.operator === null || s.idCard.status === 'reading' || busy(s)) return none(s);
      return { state: { ...s, idCard: { status: 'reading' } }, effects: [{ type: 'readIdCard' }] };
    case 'idCardRead':
      return none({ ...s, idCard: { status: 'read', report: m.report } });
    case 'idCardFailed':
      return none({ ...s, idCard: { status: 'failed', text: m.text } });
    case 'select':
      if (busy(s) || !s.services.includes(m.kind)) return none(s);
      return none({ ...s, selected: m.kind, flow: null, agent: s.selected === m.kind ? s.agent : null });
    case 'clerkCheck':
      if (busy(s)) return none(s);
      return none({ ...s, clerk: { ...s.clerk, [m.material]: m.checked } });
    case 'phone':
      if (busy(s)) return none(s);
      return none({ ...s, phone: phoneInput(m.value) });
    case 'agent':
      if (busy(s) || (m.basis !== null && !agentRulesOf(s).some((r) => r.basis === m.basis))) return none(s);
      return none({ ...s, agent: m.basis, flow: null });
    case 'idCardRequested':
      if (s.flow?.phase !== 'running') return none(s);
      return none({ ...s, flow: { ...s.flow, document: m.whose } });
    case 'accept': {
      if (s.operator === null || s.selected === null || busy(s)) return none(s);
      const c = checklistOf(s);
      if (c === null) return none({ ...s, flow: { phase: 'failed', kind: s.selected, text: s.catalogProblem ?? NO_CATALOG } });
      const n = notice(c);
      if (n !== null) return none({ ...s, flow: { phase: 'refused', kind: s.selected, notice: n, at: now } });
      const phone = s.phone.trim();
      const phones = SETS_PIN.has(s.selected) && /\d/.test(phone) ? { phones: [phone] } : {};
      const rule = agentRuleOf(s);
      const agent = rule === null ? {} : { agent: { basis: rule.basis, presented: rule.materials.map((x) => x.material).filter((x) => PAPER_MATERIALS.includes(x) && s.clerk[x] === true) } };
      return {
        state: { ...s, flow: { phase: 'running', kind: s.selected, prompt: null, count: 0, cancelling: false, document: null } },
        effects: [{ type: 'runService', kind: s.selected, ...phones, ...agent }],
      };
    }
    case 'pinEntryStarted':
      if (s.flow?.phase !== 'running') return none(s);
      return none({ ...s, flow: { ...s.flow, prompt: m.prompt, count: 0, document: null } });
    case 'pinDigits':
      if (s.flow?.phase !== 'running') return none(s);
      return none({ ...s, flow: { ...s.flow, count: m.count } });
    case 'serviceResult': {
      if (s.flow?.phase !== 'running') return none(s);
      const card = s.card !== null && m.result.triesLeft !== null ? { ...s.card, triesLeft: m.result.triesLeft } : s.card;
      return {
        state: { ...s, card, flow: { phase: 'result', kind: s.flow.kind, result: m.result, at: now } },
        effects: [{ type: 'loadOperations', since: startOfDay(now) }, { type: 'refreshStatus' }],
      };
    }
    case 'serviceFailed':
      if (s.flow?.phase !== 'running') return none(s);
      return { state: { ...s, flow: { phase: 'failed', kind: s.flow.kind, text: m.text } }, effects: [{ type: 'loadOperations', since: startOfDay(now) }] };
    case 'cancelService':
      if (s.flow?.phase !== 'running' || s.flow.cancelling) return none(s);
      return { state: { ...s, flow: { ...s.flow, cancelling: true } }, effects: [{ type: 'cancelService' }] };
    case 'dismiss':
      if (busy(s)) return none(s);
      return none({ ...s, flow: null });
    case 'refreshOperations':
      if (s.operator === null) return none(s);
      return { state: { ...s, operations: { ...s.operations, loading: true, problem: null } }, effects: [{ type: 'loadOperations', since: startOfDay(now) }] };
    case 'operations':
      return none({ ...s, operations: { rows: m.rows, loading: false, problem: null, at: now } });
    case 'operationsFailed':
      return none({ ...s, operations: { ...s.operations, loading: false, problem: m.text } });
  }
}

/** Which effects go through a privileged command (their answers slide the session). */
export const PRIVILEGED_EFFECTS: ReadonlySet<Effect['type']> = new Set(['readIdCard', 'runService', 'loadOperations']);
