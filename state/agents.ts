/**
 * Someone applying for the card holder: an attorney (授权委托) or a minor's guardian (监护人).
 *
 * The seeds allow it for neither of their services. Seed 000's 申请材料 (lines 244–264) and seed
 * 001's (lines 59–60) list the holder's own card and ID card only; seed 000's FAQ allows an agent for
 * a card replacement (补换卡, lines 333–337: 委托他人办理的，应出具委托人的身份证…以及被委托人的
 * 身份证…), which this terminal does not do, and says the PIN reset and unblock need 本人社保卡、
 * 身份证 (lines 347–353). So with the shipped catalog an agent is refused everywhere, saying why and
 * where to go. A hall whose own service item lists agent materials (its catalog's `agents`,
 * fixtures/catalog/README.md) gets the agent's flow, at a counter only:
 * - the basis: `powerOfAttorney` (授权委托: the holder signed a 授权委托书) or `guardianship` (the
 *   holder is a minor; the guardian shows the 居民户口簿);
 * - the clerk declares the paper materials seen (`presented`: 授权委托书, 户口簿); the cards are read
 *   (the social security card by the card reader, the holder's and the agent's identity documents by
 *   the ID reader), never declared;
 * - the agent's document must be valid and must not be the holder's; a guardian's holder must be
 *   under 18 on the terminal's date (the card's 出生日期, EF06 tag 0D);
 * - never at a kiosk, whatever the catalog: a kiosk cannot see a paper or a person
 *   (docs/security.md); never a plain PIN check, which is no service item.
 */
import { ErrorCode, fail } from '../core/errors.js';
import { bi, type BilingualText } from '../core/text.js';
import { isMaterial, PAPER_MATERIALS, type Material } from './materials.js';
import type { Role, ServiceKind } from './roles.js';

export type AgentBasis = 'powerOfAttorney' | 'guardianship';
export const AGENT_BASES: readonly AgentBasis[] = Object.freeze(['powerOfAttorney', 'guardianship'] as const);

export const AGENT_BASIS_NAMES: Readonly<Record<AgentBasis, BilingualText>> = Object.freeze({
  powerOfAttorney: bi('受托人代办（授权委托）', 'an attorney (power of attorney)'),
  guardianship: bi('监护人代办（未成年人）', 'a guardian (the holder is a minor)'),
});

/** What the basis needs beyond the card and the agent's ID: the paper that makes the agent one. */
export const BASIS_MATERIAL: Readonly<Record<AgentBasis, Material>> = Object.freeze({
  powerOfAttorney: 'powerOfAttorney',
  guardianship: 'householdRegister',
});

/** A service request made by someone for the holder (a counter's request; SELECT_SERVICE `agent`). */
export interface AgentRequest {
  readonly basis: AgentBasis;
  /** Paper materials the clerk saw (PAPER_MATERIALS only). */
  readonly presented: readonly Material[];
}

/** One catalog rule: who may apply for the holder, for which of the item's services, with which materials. */
export interface AgentRule {
  readonly basis: AgentBasis;
  readonly kinds: readonly ServiceKind[];
  /** 申请材料 when this agent applies, in the hall's order; always the card, the agent's ID and the basis' paper. */
  readonly materials: readonly Material[];
}

/** The agent's identity as the ID reader read it (journaled encrypted, daemon/journal/identity.ts). */
export interface AgentIdentity {
  readonly basis: AgentBasis;
  /** The document's number (居民身份证号码, 居住证号码 or 永久居留证号码). */
  readonly idNumber: string;
  readonly name: string;
}

export function isAgentBasis(x: unknown): x is AgentBasis {
  return typeof x === 'string' && (AGENT_BASES as readonly string[]).includes(x);
}

/** Check a request's `agent` (a programming or API caller's error, named in zh and en). */
export function checkAgentRequest(x: unknown): AgentRequest {
  const o = x as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null) fail(ErrorCode.Input_BadOption, 'agent 必须是对象', 'agent must be an object', { argument: 'agent' });
  if (!isAgentBasis(o.basis)) {
    fail(ErrorCode.Input_BadOption, `agent.basis 必须是 ${AGENT_BASES.join(' 或 ')}`, `agent.basis must be ${AGENT_BASES.join(' or ')}`, { argument: 'agent.basis' });
  }
  const presented = o.presented ?? [];
  if (!Array.isArray(presented) || presented.some((m) => !isMaterial(m) || !PAPER_MATERIALS.includes(m))) {
    fail(
      ErrorCode.Input_BadOption,
      `agent.presented 只能列窗口人员看到的纸质材料（${PAPER_MATERIALS.join('、')}）；证件由读卡器读取，不能声明`,
      `agent.presented lists only the paper materials the clerk saw (${PAPER_MATERIALS.join(', ')}); cards are read by the readers, never declared`,
      { argument: 'agent.presented' },
    );
  }
  return Object.freeze({ basis: o.basis, presented: Object.freeze([...new Set(presented as Material[])]) });
}

/** The age in whole years on `today` of someone born on `birthDate` (YYYY-MM-DD); undefined when it is no date. */
export function ageOn(birthDate: string, today: Date): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate);
  if (m === null) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const born = new Date(Date.UTC(y, mo - 1, d));
  if (born.getUTCFullYear() !== y || born.getUTCMonth() !== mo - 1 || born.getUTCDate() !== d) return undefined;
  const [ty, tm, td] = [today.getFullYear(), today.getMonth() + 1, today.getDate()];
  const age = ty - y - (tm < mo || (tm === mo && td < d) ? 1 : 0);
  return age < 0 ? undefined : age;
}

/** 《民法典》第十七条: 十八周岁以上的自然人为成年人. */
export const ADULT_AGE = 18;

export type AgentDecision = { readonly allowed: true; readonly rule: AgentRule } | { readonly allowed: false; readonly reason: BilingualText };

const IN_PERSON = bi('请持卡人本人携带社保卡和本人身份证件办理。', 'The holder must come in person with the card and their own identity document.');

/**
 * May this agent apply for this service here? `rules`: the catalog item's `agents` for the kind
 * (empty: the item allows none — the shipped catalog, see the file comment).
 */
export function decideAgent(input: {
  readonly role: Role;
  readonly kind: ServiceKind;
  readonly basis: AgentBasis;
  readonly rules: readonly AgentRule[];
  /** The holder's 出生日期 (YYYY-MM-DD; '' when the card gave none). */
  readonly birthDate: string;
  readonly today: Date;
}): AgentDecision {
  const name = AGENT_BASIS_NAMES[input.basis];
  if (input.role === 'kiosk') {
    return { allowed: false, reason: bi(`自助终端不能代办：${name.zh}须到服务窗口办理，由工作人员核验代办材料。`, `No one can apply for the holder at a self-service kiosk: ${name.en} applies at a service window, where a clerk checks the materials.`) };
  }
  const rule = input.rules.find((r) => r.basis === input.basis && r.kinds.includes(input.kind));
  if (rule === undefined) {
    return {
      allowed: false,
      reason: bi(`本厅服务目录未列此业务的代办材料，不能由${name.zh}办理。${IN_PERSON.zh}`, `The hall's service catalog lists no materials for ${name.en} for this service, so it cannot be done that way. ${IN_PERSON.en}`),
    };
  }
  if (input.basis === 'guardianship') {
    const age = ageOn(input.birthDate, input.today);
    if (age === undefined) {
      return { allowed: false, reason: bi(`社保卡上没有可用的出生日期，无法确认持卡人未成年，不能由监护人代办。${IN_PERSON.zh}`, `The card gives no usable birth date, so the holder cannot be shown to be a minor and a guardian cannot apply. ${IN_PERSON.en}`) };
    }
    if (age >= ADULT_AGE) {
      return { allowed: false, reason: bi(`持卡人已满 ${ADULT_AGE} 周岁，不能由监护人代办。${IN_PERSON.zh}`, `The holder is ${ADULT_AGE} or older, so a guardian cannot apply. ${IN_PERSON.en}`) };
    }
  }
  return { allowed: true, rule };
}

/** The agent's document is the holder's own: the holder is here, not an agent. */
export const AGENT_IS_HOLDER: BilingualText = bi(
  '代办人的证件就是持卡人本人的证件：持卡人本人办理时请不要选择代办，重新开始即可。',
  'The agent’s document is the holder’s own: when the holder applies in person, start again without choosing an agent.',
);
