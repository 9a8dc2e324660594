/**
 * What the holder is told after a PIN was set — by change, reset, unblock or activation — taken from
 * the service items' 常见问题 (FAQ; docs/service-items/):
 * - seed 001 (001_bf9ce8a90a3e7ce5.txt) line 85, 「修改社会保障卡密码后需要注意什么？」:
 *   「办理过社会保障卡密码修改或重置后，申请人可以到就近的医院或药店测试密码，并修改初始密码，避免受到损失」
 *   — after a change or a reset: try the PIN at a hospital or pharmacy; change an initial PIN;
 * - seed 000 (000_1700379f35991b5f.txt) lines 321–327, 「密码设置应注意哪些问题？」: six digits, not six
 *   identical digits, a run, the birth date or a phone number; 「怀疑密码泄露时，要及时修改密码」.
 *
 * Which advice after which service (each pinned by pin-advice.test.ts):
 * - reset: the seed's words as they stand ({@link AFTER_RESET_ADVICE}, state/catalog.ts);
 * - change: try the new PIN (line 85 names 修改 too); keep it to yourself and change it again when it
 *   may have leaked (seed 000 lines 325–327). "Change the initial PIN" does not apply: the holder
 *   has just chosen it;
 * - unblock and activation set a new PIN like a reset does (the holder types it at the terminal):
 *   try it at a hospital or pharmacy, as after a reset, and change it when it may have leaked;
 * - a change the terminal could not check against the PIN rules (PC/SC Part 10 secure change: the
 *   digits never reach it, docs/security.md) also gets the rules of seed 000 lines 321–323, and is
 *   asked to change the PIN again if it breaks one ({@link UNCHECKED_CHANGE_NOTE}).
 */
import { bi, type BilingualText } from '../core/text.js';
import { AFTER_RESET_ADVICE } from './catalog.js';

export { AFTER_RESET_ADVICE };

/** Seed 001 line 85: try the new PIN where the card is used. */
const TRY_IT = bi('可以到就近的医院或药店测试新密码', 'You can try the new PIN at a nearby hospital or pharmacy');

/** Seed 000 lines 325–327: 怀疑密码泄露时，要及时修改密码 (and the PIN is the holder's alone). */
const KEEP_IT = bi('请牢记新密码，不要告诉他人；怀疑密码泄露时，要及时修改密码', 'keep it to yourself, and change it as soon as you suspect it has leaked');

/** After a change (seed 001 line 85; seed 000 lines 325–327). */
export const AFTER_CHANGE_ADVICE: BilingualText = bi(`${TRY_IT.zh}；${KEEP_IT.zh}。`, `${TRY_IT.en}; ${KEEP_IT.en}.`);

/** After an unblock or an activation: a new PIN, tried as after a reset (seed 001 line 85), kept secret (seed 000 lines 325–327). */
export const AFTER_NEW_PIN_ADVICE: BilingualText = bi(
  `请先到就近的医院或药店测试新密码，避免受到损失；${KEEP_IT.zh}。`,
  `Try the new PIN at a nearby hospital or pharmacy first, to avoid any loss; ${KEEP_IT.en}.`,
);

/** The PIN rules of seed 000 lines 321–323, as the holder reads them. */
export const PIN_RULES: BilingualText = bi(
  '密码为 6 位数字，不能是六位相同数字、连续数字、出生日期或电话号码',
  'the PIN is 6 digits and must not be six identical digits, consecutive digits, your date of birth or a phone number',
);

/**
 * Said with a change the terminal could not check (PC/SC Part 10 secure change): the rules, and
 * what to do when the new PIN breaks one.
 */
export const UNCHECKED_CHANGE_NOTE: BilingualText = bi(
  `新密码由读卡器的密码键盘直接送入卡片，终端无法按密码规则检查（${PIN_RULES.zh}）。如新密码不符合这些规则，请尽快再修改一次。`,
  `The new PIN went from the reader’s keypad straight to the card, so the terminal could not check it against the PIN rules (${PIN_RULES.en}). If it breaks one of them, change it again soon.`,
);

/** `first` then `then`, one sentence after the other (zh without, en with a space). */
export function followedBy(first: BilingualText, then: BilingualText): BilingualText {
  return bi(`${first.zh}${then.zh}`, `${first.en} ${then.en}`);
}
