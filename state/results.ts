/**
 * Typed results of the card services (docs/api.md "SSCard", service completion): every flow ends in
 * one of these — a stable code, zh-CN and en text, the tries left where they matter, and the
 * holder's next step. Nothing here can carry a PIN digit: the only numbers are tries left and
 * status words.
 */
import type { BilingualText } from '../core/text.js';
import { AFTER_RESET_ADVICE } from './catalog.js';
import { bi } from '../core/text.js';
import { RESIDENT_ID_CARD, idCardExpiredText } from './id-card-validity.js';
import type { IdDocumentText } from './id-card-validity.js';
import { AFTER_CHANGE_ADVICE, AFTER_NEW_PIN_ADVICE, UNCHECKED_CHANGE_NOTE, followedBy } from './pin-advice.js';

import { AGENT_IS_HOLDER } from './agents.js';
import type { Where } from './hall.js';
import type { ServiceKind } from './roles.js';

export type { ServiceKind };

/** ok: done; failed: the card said no; refused: not attempted; cancelled; unknown: outcome not known. */
export type ResultOutcome = 'ok' | 'failed' | 'refused' | 'cancelled' | 'unknown';

/** Every result code, in one list (docs/api.md "Service completion"). */
export const RESULT_CODES = [
  'verify.ok',
  'verify.wrongPin',
  'verify.locked',
  'verify.belowFloor',
  'change.ok',
  'change.wrongPin',
  'reset.ok',
  'unblock.ok',
  'activate.ok',
  'activate.pinNotSet',
  'pin.mismatch',
  'pin.policy',
  'pin.timeout',
  'pin.entryFailed',
  'pinPad.unsupported',
  'pinPad.policyUnchecked',
  'materials.missing',
  'identity.mismatch',
  'identity.expired',
  'identity.unsupported',
  'idReader.fault',
  'agent.notAllowed',
  'agent.isHolder',
  'operator.required',
  'role.notAllowed',
  'card.locked',
  'card.notActivated',
  'card.otherProvince',
  'card.alreadyActive',
  'card.notBlocked',
  'card.appLocked',
  'card.expired',
  'card.refused',
  'card.error',
  'card.unreadable',
  'psam.unavailable',
  'card.removed',
  'operation.notSent',
  'operation.unknown',
  'session.timeout',
  'cancelled',
] as const;

export type ResultCode = (typeof RESULT_CODES)[number];

export interface ServiceResult {
  readonly code: ResultCode;
  readonly kind: ServiceKind | undefined;
  readonly outcome: ResultOutcome;
  readonly zh: string;
  readonly en: string;
  /** PIN tries left after the flow, when known. */
  readonly triesLeft?: number;
  /** What the holder does next. */
  readonly nextStep: BilingualText;
  /** The last status word of the card, when one answered. */
  readonly sw?: number;
  /** PIN policy rule codes that rejected the new PIN (state/pin-policy.ts), never the PIN. */
  readonly violations?: readonly string[];
  /** Materials still missing, all of them (一次性告知). */
  readonly missing?: readonly string[];
  /**
   * Bank-account activation: recorded as a separate request (financial counter) or where to go.
   * `recorded`: the request was stored (true) or could not be (false); absent when not attempted.
   */
  readonly bank?: BilingualText & { readonly attempted: boolean; readonly recorded?: boolean };
  /** The journal row of this flow (a receipt names it), once one was written; absent when the flow never reached the journal. */
  readonly operationId?: string;
  /** Where the holder goes when sent elsewhere: the hall's window and phones from the catalog (state/hall.ts `withWhere`, also appended to `nextStep`). */
  readonly where?: Where;
  /**
   * A new PIN was set: whether the terminal checked it against the PIN policy (state/pin-policy.ts).
   * false after a PC/SC Part 10 secure change, whose digits never reach the terminal
   * (docs/security.md "PIN policy and secure PIN entry"); absent when no PIN was set.
   */
  readonly policyChecked?: boolean;
}

/**
 * The resident ID card is not the holder's (its number differs from the card's 社会保障号码): the
 * service is refused (`identity.mismatch`), and a counter's ID card check (IdCard.Read) says the same.
 */
export const IDENTITY_MISMATCH: BilingualText = Object.freeze(
  bi('身份证号码与社保卡的社会保障号码不一致，不能办理。', 'The resident ID number does not match the card’s social security number; the service cannot go on.'),
);

const NEXT = {
  none: bi('请取回您的社保卡。', 'Please take your card.'),
  retry: bi('请取回社保卡，需要时重新办理。', 'Take your card and start again if needed.'),
  counter: bi('请携带社保卡和本人身份证原件到社保服务窗口办理。', 'Take the card and your resident ID card (original) to a social security service counter.'),
  unblock: bi('密码已锁定：请携带社保卡和本人身份证原件到社保服务窗口办理密码解锁。', 'The PIN is locked: take the card and your resident ID card (original) to a social security service counter to have it unblocked.'),
  /** Seed 001 FAQ (line 85, docs/service-items/): try the new PIN (hospital / pharmacy), then change the initial PIN. */
  afterReset: bi(`请取回您的社保卡。${AFTER_RESET_ADVICE.zh}。`, `Please take your card. ${AFTER_RESET_ADVICE.en}.`),
  /** After a change, an unblock, an activation: state/pin-advice.ts (seed 001 line 85; seed 000 lines 321–327). */
  afterChange: followedBy(bi('请取回您的社保卡。', 'Please take your card.'), AFTER_CHANGE_ADVICE),
  afterNewPin: followedBy(bi('请取回您的社保卡。', 'Please take your card.'), AFTER_NEW_PIN_ADVICE),
  reinsert: bi('请重新插入社保卡：终端会先核对卡片状态，请勿重复办理。', 'Insert the card again: the terminal checks the card first; do not repeat the service until then.'),
  replace: bi('此卡应用已锁定：请持身份证到社保服务窗口办理补换卡或解挂。', 'The card application is locked: take your ID card to a service counter for a replacement or to cancel the loss report.'),
  /** The terminal's PSAM is missing: a technician's matter, the card is fine. */
  psam: bi('请稍候重新插卡；若仍无法读取，请联系工作人员检查终端。', 'Insert the card again in a moment; if it still cannot be read, ask the staff to check the terminal.'),
  staff: bi('请联系工作人员检查身份证阅读器，修复后重新办理。', 'Ask the staff to check the ID card reader, then start again.'),
  otherDocument: bi('请持本人有效的居民身份证、港澳台居民居住证或外国人永久居留身份证重新办理。', 'Come again with a valid resident ID card, residence permit for Hong Kong, Macao and Taiwan residents or foreign permanent resident ID card.'),
  renew: bi('请携带社保卡和本人身份证原件到社保服务窗口办理换卡。', 'Take the card and your resident ID card (original) to a social security service counter to have the card replaced.'),
} as const;

/**
 * The next steps that send the holder to a window (and the codes whose own next step does): a
 * result carrying one gets the hall's address, hours and consultation phone (state/hall.ts
 * `withWhere`). A new text that sends the holder elsewhere joins this set.
 */
const ELSEWHERE: ReadonlySet<BilingualText> = new Set<BilingualText>([NEXT.counter, NEXT.unblock, NEXT.replace]);
const ELSEWHERE_CODES: ReadonlySet<ResultCode> = new Set<ResultCode>(['activate.pinNotSet', 'pinPad.unsupported', 'card.otherProvince', 'card.expired', 'agent.notAllowed']);

/** Whether the result sends the holder to a service window. */
export function sendsElsewhere(result: ServiceResult): boolean {
  return ELSEWHERE.has(result.nextStep) || ELSEWHERE_CODES.has(result.code);
}

const prefixed = (head: BilingualText, t: BilingualText): BilingualText => bi(head.zh + t.zh, head.en + t.en);

function r(code: ResultCode, kind: ServiceKind | undefined, outcome: ResultOutcome, text: BilingualText, nextStep: BilingualText, extra: Partial<ServiceResult> = {}): ServiceResult {
  return { code, kind, outcome, zh: text.zh, en: text.en, nextStep, ...extra };
}

const tries = (n: number | undefined): { triesLeft?: number } => (n === undefined ? {} : { triesLeft: n });

export const results = {
  verifyOk: (left: number | undefined) => r('verify.ok', 'verify', 'ok', bi('密码校验成功。', 'The PIN is correct.'), NEXT.none, tries(left)),
  verifyWrong: (left: number, sw: number) =>
    r('verify.wrongPin', 'verify', 'failed', bi(`密码错误，还可尝试 ${left} 次。`, `Wrong PIN: ${left} ${left === 1 ? 'try' : 'tries'} left.`), left <= 1 ? NEXT.counter : NEXT.retry, { triesLeft: left, sw }),
  locked: (kind: ServiceKind, sw: number | undefined) =>
    r('verify.locked', kind, 'failed', bi('连续输错密码，密码已锁定。', 'Too many wrong PINs: the PIN is now locked.'), NEXT.unblock, { triesLeft: 0, ...(sw === undefined ? {} : { sw }) }),
  belowFloor: (kind: ServiceKind, left: number) =>
    r(
      'verify.belowFloor',
      kind,
      'refused',
      bi(`密码只剩 ${left} 次尝试机会，为防止锁卡，自助终端不再受理。`, `Only ${left} PIN ${left === 1 ? 'try is' : 'tries are'} left; to keep the card from locking, this self-service terminal does not go on.`),
      NEXT.counter,
      { triesLeft: left },
    ),
  /** `policyChecked` false: a PC/SC Part 10 secure change (the digits never reached the terminal); the text says so, with the rules. */
  changeOk: (left: number | undefined, policyChecked = true) =>
    r(
      'change.ok',
      'change',
      'ok',
      policyChecked ? bi('密码修改成功，请牢记新密码。', 'The PIN was changed; remember the new one.') : followedBy(bi('密码修改成功。', 'The PIN was changed.'), UNCHECKED_CHANGE_NOTE),
      NEXT.afterChange,
      { ...tries(left), policyChecked },
    ),
  changeWrong: (left: number, sw: number) =>
    r('change.wrongPin', 'change', 'failed', bi(`原密码错误，还可尝试 ${left} 次，密码未修改。`, `The old PIN is wrong (${left} ${left === 1 ? 'try' : 'tries'} left); the PIN was not changed.`), left <= 1 ? NEXT.counter : NEXT.retry, { triesLeft: left, sw }),
  resetOk: (left: number | undefined) => r('reset.ok', 'reset', 'ok', bi('密码已重置。', 'The PIN has been reset.'), NEXT.afterReset, { ...tries(left), policyChecked: true }),
  unblockOk: (left: number | undefined) =>
    r('unblock.ok', 'unblock', 'ok', bi('密码已解锁并设置为您刚输入的新密码。', 'The PIN is unblocked and set to the new PIN you entered.'), NEXT.afterNewPin, { ...tries(left), policyChecked: true }),
  activateOk: (left: number | undefined, bank: BilingualText & { attempted: boolean }) =>
    r('activate.ok', 'activate', 'ok', bi('社保卡已启用，密码已设置。', 'The card is activated and its PIN set.'), bank.attempted ? NEXT.afterNewPin : followedBy(NEXT.afterNewPin, bank), { ...tries(left), bank, policyChecked: true }),
  activatePinNotSet: (left: number | undefined) =>
    r('activate.pinNotSet', 'activate', 'failed', bi('社保卡已启用，但密码没有设置成功。', 'The card is activated but its PIN was not set.'), bi('请到社保服务窗口办理密码重置。', 'Have the PIN reset at a social security service counter.'), tries(left)),
  pinMismatch: (kind: ServiceKind) => r('pin.mismatch', kind, 'failed', bi('两次输入的新密码不一致，密码未修改。', 'The two new PIN entries differ; nothing was changed.'), NEXT.retry),
  pinPolicy: (kind: ServiceKind, violations: readonly { code: string; zh: string; en: string }[]) =>
    r(
      'pin.policy',
      kind,
      'failed',
      bi(`新密码不符合要求：${violations.map((v) => v.zh).join('；')}`, `The new PIN is not allowed: ${violations.map((v) => v.en).join('; ')}`),
      bi('请换一个密码重新办理。', 'Start again with a different PIN.'),
      { violations: violations.map((v) => v.code) },
    ),
  pinTimeout: (kind: ServiceKind | undefined) => r('pin.timeout', kind, 'cancelled', bi('输入密码超时，业务已取消。', 'PIN entry timed out; the service was cancelled.'), NEXT.retry),
  /**
   * Reset, unblock and activation send a new PIN the PSAM must encrypt or MAC, so the digits must
   * come to the terminal; a PC/SC keypad reader (Part 10) never gives them out. Refused at routing.
   */
  pinPadUnsupported: (kind: ServiceKind) =>
    r(
      'pinPad.unsupported',
      kind,
      'refused',
      bi(
        '本终端的密码键盘只能在读卡器内校验或修改密码，不能设置新密码（密码重置、解锁和社保卡启用需要由 PSAM 加密新密码）。',
        'This terminal’s PIN pad checks and changes PINs inside the reader only and cannot set a new PIN (a PIN reset, unblock or card activation needs the new PIN encrypted by the PSAM).',
      ),
      bi('请到配有可设置密码的密码键盘的社保服务窗口办理。', 'Go to a social security service counter whose PIN pad can set a new PIN.'),
    ),
  /**
   * An activation at a financial window whose bank-account request is recorded (seed 000,
   * 000_1700379f35991b5f.txt lines 64–66: 金融窗口可以办理银行账户激活): durable in the journal, it goes
   * to the bank via the provincial platform with the sync (docs/sync-protocol.md "Push bank
   * requests") — queued, not at the bank yet, so the text says no more than that.
   */
  bankRecorded: (done: ServiceResult): ServiceResult => {
    const text = bi(
      '金融窗口可以办理银行账户激活：银行账户激活申请已登记，将经省级平台转送银行办理（排队发送中）。',
      'A financial window can activate the bank account: the bank-account activation request is recorded and will be sent to the bank via the provincial platform (queued).',
    );
    return { ...done, bank: { ...text, attempted: true, recorded: true } };
  },
  /**
   * The terminal must check every new PIN against the policy (docs/config.md `session.requirePinPolicy`),
   * and this pad changes the PIN inside the reader (PC/SC Part 10): the change is refused at routing,
   * before any PIN entry or APDU.
   */
  pinPadPolicyUnchecked: (kind: ServiceKind) =>
    r(
      'pinPad.policyUnchecked',
      kind,
      'refused',
      bi(
        '本终端的密码键盘在读卡器内修改密码，新密码不经过终端，无法按密码规则（不能是六位相同数字、连续数字、出生日期或电话号码）检查；本终端规定新密码必须经过检查，因此不在此办理密码修改。',
        'This terminal’s PIN pad changes the PIN inside the reader: the new PIN never reaches the terminal, so it cannot be checked against the PIN rules (not six identical digits, consecutive digits, a date of birth or a phone number); this terminal requires that check, so it does not change PINs.',
      ),
      bi('请到配有可检查新密码的密码键盘的终端或社保服务窗口办理密码修改。', 'Change the PIN at a terminal or social security service counter whose PIN pad lets the new PIN be checked.'),
    ),
  /** An activation whose bank-account request could not be recorded: the operator submits it by hand. */
  bankNotRecorded: (done: ServiceResult): ServiceResult => {
    const text = bi('银行账户激活申请未能登记，请经办人员另行提交银行办理。', 'The bank-account activation request could not be recorded: the operator must submit it to the bank separately.');
    return { ...done, bank: { ...text, attempted: true, recorded: false }, nextStep: followedBy(NEXT.afterNewPin, text) };
  },
  pinEntryFailed: (kind: ServiceKind | undefined) => r('pin.entryFailed', kind, 'cancelled', bi('密码输入未完成，业务已取消。', 'PIN entry did not finish; the service was cancelled.'), NEXT.retry),
  materialsMissing: (kind: ServiceKind, missing: readonly string[], text: BilingualText) => r('materials.missing', kind, 'refused', text, NEXT.counter, { missing }),
  identityMismatch: (kind: ServiceKind) =>
    r('identity.mismatch', kind, 'refused', IDENTITY_MISMATCH, bi('请持卡人本人携带本人身份证办理。', 'The holder must come with their own resident ID card.')),
  /** The holder's resident ID card is past its 有效期截止 (state/id-card-validity.ts; seed 001 line 59 材料真实有效). */
  identityExpired: (kind: ServiceKind, validTo: string, doc: IdDocumentText = RESIDENT_ID_CARD, whose: 'holder' | 'agent' = 'holder') =>
    whose === 'holder'
      ? r('identity.expired', kind, 'refused', idCardExpiredText(validTo, doc), bi(`请携带有效的本人${doc.name.zh}重新办理。`, `Come again with your own valid ${doc.name.en}.`), { missing: ['residentIdCard'] })
      : r('identity.expired', kind, 'refused', prefixed(bi('代办人的证件：', 'The agent’s document: '), idCardExpiredText(validTo, doc)), bi(`请代办人携带有效的${doc.name.zh}重新办理。`, `The agent should come again with a valid ${doc.name.en}.`), { missing: ['agentIdCard'] }),
  /** The ID reader read a document type this terminal cannot check (IdCard_UnsupportedDocument, drivers/idcard/info.ts). */
  identityUnsupported: (kind: ServiceKind) =>
    r('identity.unsupported', kind, 'refused', bi('身份证阅读器读到的证件类型本终端无法核验。', 'The ID reader read a kind of document this terminal cannot check.'), NEXT.otherDocument),
  /** The ID reader failed or is missing: the holder did nothing wrong, and is not told a material is missing. */
  idReaderFault: (kind: ServiceKind) => r('idReader.fault', kind, 'refused', bi('身份证阅读器故障，未能读取证件，业务未办理。', 'The ID card reader failed and read no document; nothing was done.'), NEXT.staff),
  /** Someone applied for the holder where it is not allowed (state/agents.ts `decideAgent`). */
  agentNotAllowed: (kind: ServiceKind, reason: BilingualText) => r('agent.notAllowed', kind, 'refused', reason, NEXT.counter),
  agentIsHolder: (kind: ServiceKind) => r('agent.isHolder', kind, 'refused', AGENT_IS_HOLDER, NEXT.retry),
  operatorRequired: (kind: ServiceKind) => r('operator.required', kind, 'refused', bi('此业务需要经办人员登录确认。', 'This service needs an authenticated operator.'), NEXT.counter),
  roleNotAllowed: (kind: ServiceKind, reason: BilingualText | undefined) =>
    r('role.notAllowed', kind, 'refused', reason ?? bi('本终端不提供此业务。', 'This terminal does not offer this service.'), NEXT.counter),
  cardLocked: (kind: ServiceKind) => r('card.locked', kind, 'refused', bi('密码已锁定，只能办理密码解锁。', 'The PIN is locked; only unblocking is possible.'), NEXT.unblock, { triesLeft: 0 }),
  cardNotActivated: (kind: ServiceKind) => r('card.notActivated', kind, 'refused', bi('此卡尚未启用，请先办理社保卡启用。', 'This card is not activated yet; have it activated first.'), NEXT.counter),
  /**
   * 申请条件 二 「已办理过我省社会保障卡」 (seed 000 line 224, seed 001 line 47): a card issued in
   * another province (`province`: its name, from the region code of the 卡识别码) is not served here.
   */
  cardOtherProvince: (kind: ServiceKind, province: string) =>
    r(
      'card.otherProvince',
      kind,
      'refused',
      bi(`此卡由${province}发行，本终端只办理本省发行的社会保障卡。`, `This card was issued in another province (${province}); this terminal serves only cards issued in this province.`),
      bi(`请到发卡地（${province}）的社会保障卡服务机构办理，或向本厅窗口咨询。`, `Have it served by the social security card service of the province that issued it (${province}), or ask at this hall's window.`),
    ),
  cardAlreadyActive: () => r('card.alreadyActive', 'activate', 'refused', bi('此卡已经启用，无需再次启用。', 'This card is already activated.'), NEXT.none),
  cardNotBlocked: (left: number | undefined) => r('card.notBlocked', 'unblock', 'refused', bi('密码没有锁定，无需解锁。', 'The PIN is not locked; there is nothing to unblock.'), NEXT.none, tries(left)),
  cardAppLocked: (kind: ServiceKind | undefined) => r('card.appLocked', kind, 'refused', bi('此卡应用已锁定（挂失或永久锁定）。', 'The card application is locked (reported lost or permanently locked).'), NEXT.replace),
  /** Past its 卡有效期 (EF05 tag 06): the materials must be 真实有效 (seed 001 line 60, 001_bf9ce8a90a3e7ce5.txt). */
  cardExpired: (kind: ServiceKind, expiryDate: string) =>
    r('card.expired', kind, 'refused', bi(`此社保卡已超过有效期（有效期至 ${expiryDate}），不能办理。`, `This card is past its validity (valid until ${expiryDate}); the service cannot go on.`), NEXT.renew),
  cardRefused: (kind: ServiceKind, text: BilingualText) => r('card.refused', kind, 'refused', text, NEXT.counter),
  cardError: (kind: ServiceKind, sw: number, left: number | undefined) =>
    r('card.error', kind, 'failed', bi(`卡片拒绝了此操作（状态字 ${sw.toString(16).toUpperCase().padStart(4, '0')}）。`, `The card refused the operation (status word ${sw.toString(16).toUpperCase().padStart(4, '0')}).`), NEXT.counter, { sw, ...tries(left) }),
  cardUnreadable: () => r('card.unreadable', undefined, 'failed', bi('无法读取此卡：请确认插入的是社会保障卡，并正确插卡。', 'The card cannot be read: check that it is a social security card, inserted the right way.'), NEXT.retry),
  /** Identification needed the PSAM (INTERNAL AUTHENTICATE, a 3.0 card's EF06: docs/domain.md §1) and the terminal has none open. */
  psamUnavailable: () => r('psam.unavailable', undefined, 'failed', bi('终端的安全模块（PSAM）暂不可用，无法读取此卡；您的卡片没有问题。', 'The terminal\'s security module (PSAM) is not available, so the card cannot be read; nothing is wrong with your card.'), NEXT.psam),
  cardRemoved: (kind: ServiceKind | undefined) => r('card.removed', kind, 'cancelled', bi('卡片已被取出，业务已结束。', 'The card was removed; the service has ended.'), NEXT.retry),
  notSent: (kind: ServiceKind, left: number | undefined) =>
    r('operation.notSent', kind, 'failed', bi('操作未能执行（准备步骤失败），卡片未改变。', 'The operation could not run (a preparatory step failed); the card is unchanged.'), NEXT.retry, tries(left)),
  unknown: (kind: ServiceKind, left: number | undefined) =>
    r('operation.unknown', kind, 'unknown', bi('操作结果未知：命令已发出但没有收到卡片应答。', 'The outcome is unknown: the command was sent but the card did not answer.'), NEXT.reinsert, tries(left)),
  sessionTimeout: (kind: ServiceKind | undefined) => r('session.timeout', kind, 'cancelled', bi('长时间无操作，业务已结束。', 'No activity for too long; the session has ended.'), NEXT.none),
  cancelled: (kind: ServiceKind | undefined) => r('cancelled', kind, 'cancelled', bi('业务已取消。', 'The service was cancelled.'), NEXT.none),
} as const;
