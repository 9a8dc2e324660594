/**
 * Terminal roles and the capability matrix: which service a terminal of each role may run, with
 * which materials, and whether an authenticated operator is required.
 *
 * Seeds: 000 = 社会保障卡启用 (docs/service-items/000_1700379f35991b5f.txt),
 *        001 = 社会保障卡密码修改与重置 (docs/service-items/001_bf9ce8a90a3e7ce5.txt).
 *
 * | kind     | kiosk                               | counter      | financial-counter | materials       |
 * |----------|-------------------------------------|--------------|-------------------|-----------------|
 * | verify   | yes                                 | yes          | yes               | card            |
 * | change   | yes                                 | yes, operator| yes, operator     | card            |
 * | reset    | only when configured (`offered`)    | yes, operator| yes, operator     | card + ID card  |
 * | unblock  | never                               | yes, operator| yes, operator     | card + ID card  |
 * | activate | never                               | yes, operator| yes, operator     | card + ID card  |
 *
 * Readings of the seeds (each pinned by a test in roles.test.ts):
 * - verify / change at a kiosk: seed 001 是否支持自助终端办理 是 (line 26). verify is the PIN check
 *   itself and never needs an operator; change proves the holder by the old PIN, which the card
 *   checks, so it needs only the card (seed 001 lists the ID card for the item as a whole; that is
 *   read here as the reset half's identity proof).
 * - reset: seed 001 申请材料 (lines 59–60) and seed 000 FAQ 「社保账户的密码重置，须持本人社保卡、
 *   身份证」 (line 353): the card and the ID card. Seed 001 allows self-service terminals, but a
 *   kiosk needs an ID reader and a PSAM for it, so it is allowed at a kiosk only when the terminal's
 *   configuration offers it (off by default); at a counter it is a window service.
 * - unblock: seed 000 FAQ 「锁卡后须持本人社保卡、身份证到社保卡服务窗口办理社保账户密码解锁手续」
 *   (lines 347–351): counter roles only, operator required, card and ID card.
 * - activate: seed 000 是否支持自助终端办理 否 (lines 92–96): never at a kiosk; counter roles with an
 *   operator; 申请材料 1–2 (lines 244–264): card and ID card.
 * - operator at counter roles: the seeds name the window as 办理人 (seed 000 line 307 「办理人：窗口」,
 *   seed 001 lines 72–75 「办理人：大厅制卡窗口」), so every state-changing service run on a counter
 *   terminal is done by an authenticated operator. A kiosk never has one.
 * - bank account activation: seed 000 行使内容 2 (lines 60–66) 「非金融窗口无法办理银行账户激活；
 *   金融窗口可以办理银行账户激活」: only a financial-counter (see {@link bankAccountActivation}).
 * - privileged (docs/api.md "Privileged"): a call needs an operator token and is journaled with the
 *   operator when the service needs an operator, and for unblock always — on every role, so that a
 *   kiosk's refusal of an unblock is journaled too (docs/security.md 9: a kiosk never unblocks).
 * - `offered` is the terminal's configured service list (README 「which services a terminal offers is
 *   configuration, per terminal」); a kind not offered is not allowed. Without it, each role's
 *   {@link defaultServices} apply.
 */
import { ErrorCode, fail } from '../core/errors.js';
import { bi, type BilingualText } from '../core/text.js';
import type { Material } from './materials.js';

export type { Material };

export type Role = 'kiosk' | 'counter' | 'financial-counter';
export type ServiceKind = 'activate' | 'verify' | 'change' | 'reset' | 'unblock';

export const ROLES: readonly Role[] = Object.freeze(['kiosk', 'counter', 'financial-counter'] as const);
export const SERVICE_KINDS: readonly ServiceKind[] = Object.freeze(['activate', 'verify', 'change', 'reset', 'unblock'] as const);

export const ROLE_NAMES: Readonly<Record<Role, BilingualText>> = Object.freeze({
  kiosk: bi('自助终端', 'self-service kiosk'),
  counter: bi('社保卡服务窗口', 'social security card service window'),
  'financial-counter': bi('金融窗口', 'financial (bank) window'),
});

export const SERVICE_NAMES: Readonly<Record<ServiceKind, BilingualText>> = Object.freeze({
  activate: bi('社会保障卡启用', 'card activation'),
  verify: bi('密码校验', 'PIN check'),
  change: bi('密码修改', 'PIN change'),
  reset: bi('密码重置', 'PIN reset'),
  unblock: bi('密码解锁', 'PIN unblock'),
});

/**
 * The one answer to "may this terminal run this service, and how": the API (both its WebSocket
 * and its HTTP path), the session machine and the test terminal all ask {@link capability}.
 */
export type Capability = Allowed | Refused;

interface CapabilityBase {
  /** Materials checked at 收件; when not allowed, what the holder should bring to a window. */
  readonly materials: readonly Material[];
  /**
   * A call asking for it must carry an authenticated operator, and is journaled with the operator
   * (docs/api.md "Privileged": `SSCard.UnblockPin` / `iUnblockPIN` always, the others when
   * `operatorRequired`). Unblock is privileged even where it is refused (a kiosk): that refusal
   * is journaled too.
   */
  readonly privileged: boolean;
}

export interface Allowed extends CapabilityBase {
  /** The terminal may run this service. */
  readonly allowed: true;
  /** An authenticated operator must run it (the service actor supplies the operator id). */
  readonly operatorRequired: boolean;
  readonly reason?: undefined;
}

export interface Refused extends CapabilityBase {
  readonly allowed: false;
  readonly operatorRequired: false;
  /** Why not, and where to go instead (bilingual, zh-CN first). */
  readonly reason: BilingualText;
}

/** Always privileged, whatever the role (docs/api.md "Privileged"; docs/security.md 9: a kiosk never unblocks). */
const ALWAYS_PRIVILEGED: ReadonlySet<ServiceKind> = new Set(['unblock']);

const CARD: readonly Material[] = Object.freeze(['socialSecurityCard'] as const);
const CARD_AND_ID: readonly Material[] = Object.freeze(['socialSecurityCard', 'residentIdCard'] as const);

/** Materials per service kind (see the module doc for the seed lines). */
export const SERVICE_MATERIALS: Readonly<Record<ServiceKind, readonly Material[]>> = Object.freeze({
  verify: CARD,
  change: CARD,
  reset: CARD_AND_ID,
  unblock: CARD_AND_ID,
  activate: CARD_AND_ID,
});

const isCounter = (role: Role): boolean => role === 'counter' || role === 'financial-counter';

const NEVER_AT_KIOSK: Readonly<Partial<Record<ServiceKind, BilingualText>>> = Object.freeze({
  // seed 000 lines 347–351
  unblock: bi(
    '自助终端不能办理密码解锁：锁卡后须持本人社保卡、身份证到社保卡服务窗口办理社保账户密码解锁手续',
    'A self-service kiosk cannot unblock a locked card: take your social security card and resident ID card to a social security card service window to have the PIN unlocked',
  ),
  // seed 000 lines 92–96
  activate: bi(
    '社会保障卡启用不支持自助终端办理，请持本人社保卡、身份证到社保卡服务窗口办理',
    'Card activation is not available at a self-service kiosk: take your social security card and resident ID card to a social security card service window',
  ),
});

/** The services a terminal of `role` offers when its configuration does not say. */
export function defaultServices(role: Role): readonly ServiceKind[] {
  checkRole(role);
  return role === 'kiosk' ? ['verify', 'change'] : [...SERVICE_KINDS];
}

/** Whether `role` may ever offer `kind` (the matrix before the terminal's configuration). */
export function roleMayOffer(role: Role, kind: ServiceKind): boolean {
  return isCounter(role) || NEVER_AT_KIOSK[kind] === undefined;
}

function checkRole(role: unknown): asserts role is Role {
  if (!(ROLES as readonly unknown[]).includes(role)) {
    fail(ErrorCode.Input_BadOption, `role 必须是 ${ROLES.join(' / ')} 之一`, `role must be one of ${ROLES.join(' / ')}`, { argument: 'role' });
  }
}

function checkKind(kind: unknown, argument = 'kind'): asserts kind is ServiceKind {
  if (!(SERVICE_KINDS as readonly unknown[]).includes(kind)) {
    fail(ErrorCode.Input_BadOption, `${argument} 必须是 ${SERVICE_KINDS.join(' / ')} 之一`, `${argument} must be one of ${SERVICE_KINDS.join(' / ')}`, {
      argument,
    });
  }
}

/**
 * The capability matrix (module doc): may a `role` terminal whose configuration offers `offered`
 * run `kind`, with which materials, with an operator or not. Throws Input_BadOption for an unknown
 * role or kind (a programming error).
 */
export function capability(role: Role, kind: ServiceKind, offered?: readonly ServiceKind[]): Capability {
  checkRole(role);
  checkKind(kind);
  const materials = SERVICE_MATERIALS[kind];
  const always = ALWAYS_PRIVILEGED.has(kind);
  const never = role === 'kiosk' ? NEVER_AT_KIOSK[kind] : undefined;
  if (never !== undefined) return { allowed: false, operatorRequired: false, privileged: always, materials, reason: { ...never } };
  const list = offered ?? defaultServices(role);
  if (!list.includes(kind)) {
    const name = SERVICE_NAMES[kind];
    const reason =
      role === 'kiosk'
        ? bi(
            `本自助终端未开通${name.zh}，请持本人${materials.length > 1 ? '社保卡、身份证' : '社保卡'}到社保卡服务窗口办理`,
            `This kiosk does not offer ${name.en}: take your ${materials.length > 1 ? 'social security card and resident ID card' : 'social security card'} to a social security card service window`,
          )
        : bi(`本终端未开通${name.zh}，请到开通该服务的窗口办理`, `This terminal does not offer ${name.en}; please go to a window that does`);
    return { allowed: false, operatorRequired: false, privileged: always, materials, reason };
  }
  const operatorRequired = isCounter(role) && kind !== 'verify';
  return { allowed: true, operatorRequired, privileged: always || operatorRequired, materials };
}

/**
 * Validate a terminal's configured service list eagerly: an array of known kinds, none that the
 * role may never offer (unblock or activate on a kiosk). Throws Config_Invalid naming the key path.
 */
export function parseOfferedServices(role: Role, json: unknown, path = 'terminal.services'): ServiceKind[] {
  checkRole(role);
  if (!Array.isArray(json)) {
    fail(ErrorCode.Config_Invalid, `${path} 必须是服务名称的数组（${SERVICE_KINDS.join('、')}）`, `${path} must be an array of service kinds (${SERVICE_KINDS.join(', ')})`, {
      path,
    });
  }
  const out: ServiceKind[] = [];
  (json as unknown[]).forEach((k, i) => {
    const at = `${path}[${i}]`;
    if (!(SERVICE_KINDS as readonly unknown[]).includes(k)) {
      fail(ErrorCode.Config_Invalid, `${at} 不是已知的服务（可用：${SERVICE_KINDS.join('、')}）`, `${at} is not a known service (known: ${SERVICE_KINDS.join(', ')})`, { path: at });
    }
    const kind = k as ServiceKind;
    if (!roleMayOffer(role, kind)) {
      const why = NEVER_AT_KIOSK[kind]!;
      fail(ErrorCode.Config_Invalid, `${at}：${ROLE_NAMES[role].zh}不能提供${SERVICE_NAMES[kind].zh}（${why.zh}）`, `${at}: a ${ROLE_NAMES[role].en} cannot offer ${SERVICE_NAMES[kind].en} (${why.en})`, {
        path: at,
      });
    }
    if (!out.includes(kind)) out.push(kind);
  });
  return out;
}

/**
 * Bank-account activation after a card activation (seed 000 行使内容 2, lines 60–66): attempted
 * only on a financial-counter, as a separate request for the bank; on other roles never, and the
 * text says where to go.
 */
export function bankAccountActivation(role: Role): { attempted: boolean; zh: string; en: string } {
  checkRole(role);
  return role === 'financial-counter'
    ? {
        attempted: true,
        // What is attempted, not what happened: the session replaces it by what did (state/results.ts
        // bankRecorded, bankNotRecorded) once the request is recorded or could not be.
        zh: '金融窗口可以办理银行账户激活：另行登记为给银行的单独申请',
        en: 'A financial window can activate the bank account: as a separate request for the bank',
      }
    : {
        attempted: false,
        zh: '非金融窗口无法办理银行账户激活，请持本人社保卡、身份证到金融窗口（合作银行网点）办理银行账户激活',
        en: 'A non-financial window cannot activate the bank account: take your social security card and resident ID card to a financial window (a partner bank branch) to activate it',
      };
}
