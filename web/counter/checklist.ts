/**
 * 收件 → 受理 at the window (docs/service-items/001_bf9ce8a90a3e7ce5.txt, 办理流程: 收件, then 受理
 * with its 审查标准 「申请材料不齐全或者不符合法定形式的，应当一次性告知申请人需要补正的全部内容」):
 * the item's 申请材料 from the catalog, each checked twice — by what the terminal read (the card in
 * the slot identified; the resident ID card read and matching it by number) and by the clerk, who
 * confirms the original (原件) was presented — and, when anything is missing, one notice naming all
 * of it at once (一次性告知), never item by item.
 *
 * Also the match indicator between the social security card and the ID card: text, colour and
 * icon, never colour alone (WCAG 1.4.1). Pure, unit-tested.
 */
import { bi, type BilingualText } from '../../core/text.js';
import type { IdCardReport } from './wire.js';
import type { MaterialText } from '../client/catalog.js';

/** What the terminal read, as the checklist needs it. */
export interface Facts {
  /** The social security card is in the slot and identified. */
  readonly cardIdentified: boolean;
  /** The last IdCard.Read (null: not read since the card came). */
  readonly idCard: IdCardReport | null;
}

/**
 * The terminal's side of one material: read and right, not presented, presented but not the
 * holder's, or the holder's but past its validity (受理标准 材料真实有效: seed 001 line 59, seed 000
 * lines 278–280).
 */
export type TerminalCheck = 'ok' | 'missing' | 'mismatch' | 'expired';

export interface ChecklistRow {
  readonly material: string;
  readonly name: BilingualText;
  readonly terminal: TerminalCheck;
  /**
   * Who checks it: the terminal before the service (the card, the holder's ID card), the terminal
   * during it (the agent's document: state/agents.ts), or the clerk alone (paper).
   */
  readonly checkedBy: 'terminal' | 'service' | 'clerk';
  /** The clerk confirmed the original was presented. */
  readonly clerk: boolean;
  readonly satisfied: boolean;
  /** Why it is not satisfied (null when it is). */
  readonly problem: BilingualText | null;
}

export interface Checklist {
  readonly rows: readonly ChecklistRow[];
  readonly complete: boolean;
}

const NOT_PRESENTED: Readonly<Record<string, BilingualText>> = {
  socialSecurityCard: bi('未插入社会保障卡，或卡片未能识别', 'the social security card is not inserted, or it was not identified'),
  residentIdCard: bi('未读取到居民身份证（请放在身份证阅读区后读取）', 'no resident ID card was read (place it on the ID card reader and read it)'),
};
const MISMATCH = bi('所读身份证的号码与社保卡不一致（不是持卡人本人的身份证）', 'the ID card read does not match the social security card (it is not the holder\u2019s own)');
const EXPIRED = bi('所读身份证已过有效期，不能作为办理材料', 'the ID card read is past its validity and cannot be accepted');
const NOT_CONFIRMED = bi('窗口尚未核验原件', 'the window has not checked the original');
const UNKNOWN_MATERIAL = bi('终端无法核验此材料，请窗口核验原件', 'the terminal cannot check this material; the window checks the original');
/** Materials the clerk checks first and the terminal reads during the service (state/agents.ts). */
const READ_IN_SERVICE: Readonly<Record<string, BilingualText>> = {
  agentIdCard: bi('请窗口核验代办人证件原件；受理后终端会请代办人把证件放在身份证阅读区读取核对', 'the window checks the agent\u2019s original document; once accepted, the terminal asks the agent to place it on the ID card reader and reads it'),
};

/** What the terminal says about one material. Materials it cannot read are left to the clerk alone. */
export function terminalCheck(material: string, f: Facts): TerminalCheck | null {
  if (material === 'socialSecurityCard') return f.cardIdentified ? 'ok' : 'missing';
  if (material === 'residentIdCard') {
    if (f.idCard === null || !f.idCard.read) return 'missing';
    if (f.idCard.matchesCard === true) return f.idCard.expired === undefined ? 'ok' : 'expired';
    return f.idCard.matchesCard === false ? 'mismatch' : 'missing';
  }
  return null;
}

/** The checklist of `materials` (the catalog item's 申请材料) from the facts and the clerk's ticks. */
export function checklist(materials: readonly MaterialText[], f: Facts, clerk: Readonly<Record<string, boolean>>): Checklist {
  const rows = materials.map((m): ChecklistRow => {
    const t = terminalCheck(m.material, f);
    const confirmed = clerk[m.material] === true;
    const terminal: TerminalCheck = t ?? (confirmed ? 'ok' : 'missing');
    const problem =
      t === 'mismatch' ? MISMATCH : t === 'expired' ? (f.idCard?.expired ?? EXPIRED) : t === 'missing' ? (NOT_PRESENTED[m.material] ?? UNKNOWN_MATERIAL) : !confirmed ? (t === null ? (READ_IN_SERVICE[m.material] ?? UNKNOWN_MATERIAL) : NOT_CONFIRMED) : null;
    const checkedBy = t !== null ? 'terminal' : READ_IN_SERVICE[m.material] === undefined ? 'clerk' : 'service';
    return { material: m.material, name: bi(m.zh, m.en), terminal, checkedBy, clerk: confirmed, satisfied: problem === null, problem };
  });
  return { rows, complete: rows.length > 0 && rows.every((r) => r.satisfied) };
}

/** The 一次性告知 notice: every material still to be supplied, each with why, in one notice. */
export interface Notice {
  readonly heading: BilingualText;
  /** The seed's 审查标准 the notice follows. */
  readonly basis: BilingualText;
  readonly items: readonly { readonly name: BilingualText; readonly problem: BilingualText }[];
}

export function notice(c: Checklist): Notice | null {
  const missing = c.rows.filter((r) => !r.satisfied);
  if (missing.length === 0) return null;
  return {
    heading: bi('申请材料不齐全或者不符合法定形式，本次不予受理。请一次性补正以下全部内容：', 'The materials are incomplete or not in the legal form, so the application is not accepted this time. Please supply all of the following:'),
    basis: bi(
      '依据：受理审查标准「申请材料不齐全或者不符合法定形式的，应当一次性告知申请人需要补正的全部内容」',
      'Basis: the acceptance standard \u201cwhen the materials are incomplete or not in the legal form, tell the applicant everything to be supplied in one go\u201d',
    ),
    items: missing.map((r) => ({ name: r.name, problem: r.problem! })),
  };
}

export type Tone = 'ok' | 'fail' | 'none';

export interface MatchIndicator {
  readonly tone: Tone;
  /** A symbol beside the text (the text carries the meaning; the icon is decoration). */
  readonly icon: string;
  readonly text: BilingualText;
  readonly detail: BilingualText | null;
}

/** The social security card against the ID card: match, mismatch, or nothing to compare yet. */
export function matchIndicator(f: Facts): MatchIndicator {
  const r = f.idCard;
  if (!f.cardIdentified) return { tone: 'none', icon: '\u2014', text: bi('无法比对：请先插入社保卡', 'Cannot compare: insert the social security card first'), detail: null };
  if (r === null) return { tone: 'none', icon: '\u2014', text: bi('尚未读取身份证', 'The ID card has not been read yet'), detail: null };
  if (!r.read) return { tone: 'none', icon: '\u2014', text: bi('读卡器上没有身份证', 'There is no ID card on the reader'), detail: null };
  if (r.matchesCard === true && r.expired !== undefined) {
    return { tone: 'fail', icon: '\u2716', text: bi('身份证已过期：与社保卡属于同一人，但不能作为办理材料', 'Expired ID card: it is the card holder\u2019s, but it cannot be accepted'), detail: r.expired };
  }
  if (r.matchesCard === true) return { tone: 'ok', icon: '\u2714', text: bi('一致：身份证与社保卡属于同一人', 'Match: the ID card and the card belong to the same person'), detail: null };
  if (r.matchesCard === false) {
    return {
      tone: 'fail',
      icon: '\u2716',
      text: bi('不一致：身份证与社保卡不是同一人', 'Mismatch: the ID card and the card are not the same person\u2019s'),
      detail: r.mismatch ?? MISMATCH,
    };
  }
  return { tone: 'none', icon: '\u2014', text: bi('无法比对', 'Cannot compare'), detail: null };
}
