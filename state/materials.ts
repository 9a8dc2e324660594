/**
 * The application materials (申请材料) and the 收件 (receive materials) step.
 *
 * Seed 001 (docs/service-items/001_bf9ce8a90a3e7ce5.txt), 办理流程 受理 (line 75):
 * 「申请材料不齐全或者不符合法定形式的，应当一次性告知申请人需要补正的全部内容」
 * and 「材料提供不全的及时告知所需提供资料」. So {@link checkMaterials} reports every missing item
 * at once, in one sentence, never one by one. The materials themselves: seed 000 申请材料 1–2
 * (lines 244–264) and seed 001 申请材料 1–2 (lines 59–60): the social security card and the
 * resident ID card, originals (原件). The holders 申请条件 一 names (seed 000 line 222, seed 001 line
 * 46) include residents of Hong Kong, Macao and Taiwan and foreigners, who hold no resident ID card;
 * seed 000's FAQ (lines 329–331) accepts 本人身份证或其他有效身份证件, so `residentIdCard` is the
 * holder's identity document: the resident ID card or the documents the ID reader also reads
 * (drivers/idcard/info.ts).
 */
import { ErrorCode, fail } from '../core/errors.js';
import { bi, listEn, listZh, type BilingualText } from '../core/text.js';

export type Material = 'socialSecurityCard' | 'residentIdCard' | 'agentIdCard' | 'powerOfAttorney' | 'householdRegister';

/** Every material, in a fixed order. */
export const MATERIALS: readonly Material[] = Object.freeze(['socialSecurityCard', 'residentIdCard', 'agentIdCard', 'powerOfAttorney', 'householdRegister'] as const);

/**
 * The materials a clerk sees and declares (paper the terminal cannot read); the cards are read by
 * the card reader and the ID reader, never declared (state/agents.ts).
 */
export const PAPER_MATERIALS: readonly Material[] = Object.freeze(['powerOfAttorney', 'householdRegister'] as const);

/** Names as the seeds write them (材料名称, 材料类型 原件). */
export const MATERIAL_NAMES: Readonly<Record<Material, BilingualText>> = Object.freeze({
  socialSecurityCard: bi('中华人民共和国社会保障卡（原件）', 'the social security card of the PRC (original)'),
  residentIdCard: bi('中华人民共和国居民身份证或其他有效身份证件（港澳台居民居住证、外国人永久居留身份证）（原件）', 'the resident identity card of the PRC or another valid identity document (residence permit for Hong Kong, Macao and Taiwan residents, foreign permanent resident ID card) (original)'),
  // Someone applying for the holder (state/agents.ts): seed 000 FAQ lines 333–337 names 被委托人的身份证或其他有效身份证件.
  agentIdCard: bi('代办人（受托人或监护人）的居民身份证或其他有效身份证件（原件）', 'the identity card or other valid identity document of the person applying for the holder (the attorney or the guardian) (original)'),
  powerOfAttorney: bi('持卡人签署的授权委托书（原件）', 'the power of attorney signed by the holder (original)'),
  householdRegister: bi('载明持卡人与监护人关系的居民户口簿（原件）', 'the household register showing the holder and the guardian (original)'),
});

export function isMaterial(x: unknown): x is Material {
  return typeof x === 'string' && (MATERIALS as readonly string[]).includes(x);
}

export interface MaterialsCheck {
  /** Every required material was presented. */
  readonly complete: boolean;
  /** Every missing material, in the order `required` lists them, each once. */
  readonly missing: readonly { material: Material; zh: string; en: string }[];
  /** One sentence: accepted, or every missing item (一次性告知). */
  readonly zh: string;
  readonly en: string;
}

function checkList(list: unknown, argument: string): asserts list is readonly Material[] {
  if (!Array.isArray(list)) {
    fail(ErrorCode.Input_BadOption, `${argument} 必须是材料名称的数组`, `${argument} must be an array of material names`, { argument });
  }
  (list as unknown[]).forEach((m, i) => {
    if (!isMaterial(m)) {
      fail(
        ErrorCode.Input_BadOption,
        `${argument}[${i}] 不是已知的申请材料（可用：${MATERIALS.join('、')}）`,
        `${argument}[${i}] is not a known material (known: ${MATERIALS.join(', ')})`,
        { argument: `${argument}[${i}]` },
      );
    }
  });
}

/**
 * The 收件 check: which of `required` are not among `presented`. All of them are reported at once
 * (seed 001 line 75, 一次性告知). Extra presented materials are ignored. Throws Input_BadOption for
 * a name that is not a {@link Material} (a programming error, not a holder's).
 */
export function checkMaterials(required: readonly Material[], presented: readonly Material[]): MaterialsCheck {
  checkList(required, 'required');
  checkList(presented, 'presented');
  const missing = [...new Set(required)]
    .filter((m) => !presented.includes(m))
    .map((material) => ({ material, zh: MATERIAL_NAMES[material].zh, en: MATERIAL_NAMES[material].en }));
  if (missing.length === 0) {
    return {
      complete: true,
      missing: [],
      zh: '申请材料齐全，予以受理',
      en: 'All required materials are present; the application is accepted',
    };
  }
  return {
    complete: false,
    missing,
    zh: `申请材料不齐全，请一并补正以下全部材料：${listZh(missing.map((m) => m.zh))}`,
    en: `The materials are incomplete; please bring all of the following: ${listEn(missing.map((m) => m.en))}`,
  };
}
