/**
 * The kiosk's own words (zh-CN first). Service names follow state/roles.ts. The advice after a PIN
 * was set (seed 001_bf9ce8a90a3e7ce5.txt line 85, 000_1700379f35991b5f.txt lines 321–327) is the
 * daemon's, in the result's next step (state/pin-advice.ts): the kiosk shows that, once.
 */
import { bi, type BilingualText } from '../../core/text.js';
import type { PinPrompt, ServiceKind } from '../client/messages.js';

export const SERVICE_NAME: Readonly<Record<ServiceKind, BilingualText>> = {
  verify: bi('社保卡密码校验', 'Check the card PIN'),
  change: bi('社保卡密码修改', 'Change the card PIN'),
  reset: bi('社保卡密码重置', 'Reset the card PIN'),
  unblock: bi('社保卡密码解锁', 'Unblock the card PIN'),
  activate: bi('社保卡启用', 'Activate the card'),
};

export const SERVICE_HINT: Readonly<Record<ServiceKind, BilingualText>> = {
  verify: bi('确认您记得的密码是否正确', 'Make sure the PIN you remember is right'),
  change: bi('先输入原密码，再输入两次新密码', 'Enter the current PIN, then the new PIN twice'),
  reset: bi('忘记密码时，凭本人身份证设置新密码', 'Forgot the PIN? Set a new one with your resident ID card'),
  unblock: bi('请到服务窗口办理', 'At a service counter'),
  activate: bi('请到服务窗口办理', 'At a service counter'),
};

/** What each kiosk service needs before it starts (一次性告知: everything at once). */
export const SERVICE_NEEDS: Readonly<Record<ServiceKind, readonly BilingualText[]>> = {
  verify: [bi('本人社会保障卡（已插入）', 'Your social security card (inserted)'), bi('您的 6 位密码', 'Your 6-digit PIN')],
  change: [bi('本人社会保障卡（已插入）', 'Your social security card (inserted)'), bi('原密码', 'The current PIN'), bi('新的 6 位密码，输入两次', 'A new 6-digit PIN, entered twice')],
  reset: [
    bi('本人社会保障卡（已插入）', 'Your social security card (inserted)'),
    bi('本人有效居民身份证原件：按提示放在身份证阅读区', 'Your own valid resident ID card (original): place it on the ID card reader when asked'),
    bi('新的 6 位密码，输入两次', 'A new 6-digit PIN, entered twice'),
  ],
  unblock: [],
  activate: [],
};

/** The PINs each service asks for, after the materials (the catalog names those). */
export const PIN_NEEDS: Readonly<Record<ServiceKind, readonly BilingualText[]>> = {
  verify: [bi('您的 6 位密码', 'Your 6-digit PIN')],
  change: [bi('原密码', 'The current PIN'), bi('新的 6 位密码，输入两次', 'A new 6-digit PIN, entered twice')],
  reset: [bi('新的 6 位密码，输入两次', 'A new 6-digit PIN, entered twice')],
  unblock: [bi('新的 6 位密码，输入两次', 'A new 6-digit PIN, entered twice')],
  activate: [bi('新的 6 位密码，输入两次', 'A new 6-digit PIN, entered twice')],
};

export const PROMPT: Readonly<Record<PinPrompt, BilingualText>> = {
  enterPin: bi('请输入密码', 'Enter your PIN'),
  enterOldPin: bi('请输入原密码', 'Enter your current PIN'),
  enterNewPin: bi('请输入新密码（6 位数字）', 'Enter the new PIN (6 digits)'),
  confirmNewPin: bi('请再次输入新密码', 'Enter the new PIN again'),
};

/** New-PIN rules, shown before a new PIN is typed (state/pin-policy.ts). */
export const PIN_RULES: readonly BilingualText[] = [
  bi('6 位阿拉伯数字', '6 digits'),
  bi('不能全部相同（如 111111）', 'not all the same (like 111111)'),
  bi('不能是连续数字（如 123456、654321）', 'not a run (like 123456 or 654321)'),
  bi('不能是出生日期或手机号码中的数字', 'not your birth date or digits of your phone number'),
];

export const KEY_LABEL: Readonly<Record<'clear' | 'enter' | 'backspace' | 'cancel', BilingualText>> = {
  clear: bi('清除', 'Clear'),
  enter: bi('确认', 'OK'),
  backspace: bi('退格', 'Back'),
  cancel: bi('取消', 'Cancel'),
};

export const T = {
  title: bi('社会保障卡自助服务', 'Social Security Card Self-Service'),
  attract: bi('轻触屏幕开始办理', 'Touch the screen to start'),
  attractSub: bi('密码校验 · 密码修改 · 密码重置', 'Check · change · reset your card PIN'),
  insert: bi('请插入社会保障卡', 'Please insert your social security card'),
  insertSub: bi('芯片朝上，插入读卡口', 'Chip up, into the card slot'),
  reading: bi('正在读卡，请勿拔卡…', 'Reading the card, do not remove it…'),
  hello: bi('您好', 'Hello'),
  cardNumber: bi('卡号', 'Card number'),
  triesLeft: (n: number): BilingualText => bi(`剩余密码尝试次数：${n}`, `PIN tries left: ${n}`),
  chooseService: bi('请选择要办理的业务', 'Choose a service'),
  noService: bi('本终端暂未开通可办理的业务，请到服务窗口办理', 'No service is available at this terminal; please go to a service counter'),
  locked: bi('此卡当前不能在自助终端办理', 'This card cannot be served at a self-service terminal now'),
  lockedNext: bi('请携带社会保障卡和本人身份证原件到社保服务窗口办理（密码解锁、启用或解挂）。', 'Take the card and your resident ID card (original) to a social security service counter (PIN unblock, activation, or cancelling a loss report).'),
  lowTries: (n: number): BilingualText => bi(`密码只剩 ${n} 次尝试机会，为防止锁卡，自助终端不再受理密码校验和修改。`, `Only ${n} PIN ${n === 1 ? 'try is' : 'tries are'} left: to keep the card from locking, this kiosk does not check or change the PIN.`),
  needs: bi('办理前请准备好以下全部材料', 'Please have all of these ready before you start'),
  start: bi('开始办理', 'Start'),
  back: bi('返回', 'Back'),
  finish: bi('完成，退出', 'Done, exit'),
  tryAgain: bi('重新办理', 'Try again'),
  useHardwarePad: bi('请在密码键盘上输入，按「确认」结束', 'Type on the PIN pad and press Enter'),
  waitingPad: bi('正在准备密码键盘…', 'Getting the PIN pad ready…'),
  coverPad: bi('输入时请用手遮挡', 'Shield the keys with your hand while typing'),
  pinRules: bi('新密码要求', 'New PIN rules'),
  resultOk: bi('办理成功', 'Done'),
  resultFail: bi('未能办理', 'Not done'),
  nextStep: bi('下一步', 'Next step'),
  printReceipt: bi('打印回执', 'Print a receipt'),
  receipt: bi('业务回执', 'Receipt'),
  receiptService: bi('业务', 'Service'),
  receiptTime: bi('时间', 'Time'),
  receiptResult: bi('结果', 'Result'),
  receiptCard: bi('卡号', 'Card'),
  receiptOperation: bi('业务流水号', 'Operation id'),
  idCardWaiting: bi('请将本人居民身份证放在身份证阅读区', 'Place your own resident ID card on the ID card reader'),
  idCardRead: bi('身份证已核验', 'ID card checked'),
  missingTitle: bi('还需要以下材料（请一次备齐）', 'Still needed (bring all of these)'),
  whereAddress: bi('办理地址', 'Address'),
  consultPhone: bi('咨询电话', 'Enquiries'),
  complaintPhone: bi('投诉电话', 'Complaints'),
  timeLimits: bi('办理时限', 'Time limits'),
  receiptItem: bi('服务事项', 'Service item'),
  receiptItemCode: bi('事项编码', 'Item code'),
  removed: bi('社会保障卡已取出', 'The card was removed'),
  removedSub: bi('本次办理已结束。需要时请重新插卡。', 'This session has ended. Insert the card again to start over.'),
  unavailable: bi('服务暂时不可用', 'Temporarily unavailable'),
  unavailableSub: bi('终端正在恢复，请稍候，无需操作', 'The terminal is recovering; please wait, there is nothing to do'),
  countdown: (s: number): BilingualText => bi(`${s} 秒后将退出`, `Leaving in ${s} s`),
  moreTime: bi('需要更多时间', 'More time'),
  help: bi('帮助', 'Help'),
  helpTitle: bi('帮助与咨询', 'Help'),
  helpBody: [
    bi('插卡后按屏幕提示操作；密码只在密码键盘或屏幕键盘上输入，屏幕只显示圆点。', 'After inserting the card, follow the screen. The PIN is typed on the PIN pad or the on-screen keypad only; the screen shows dots.'),
    bi('密码连续输错会被锁定，锁定后请到社保服务窗口办理解锁。', 'Too many wrong PINs lock the card; a locked PIN is unblocked at a service counter.'),
  ] as readonly BilingualText[],
  /** When the terminal's catalog names no phone line or time limit. */
  helpPosted: bi('咨询电话和办理时限请见服务大厅公示。', 'The consultation phone number and time limits are posted in the service hall.'),
  elder: bi('大字模式', 'Large text'),
  elderOff: bi('标准模式', 'Standard'),
  langToggle: bi('English', '中文'),
} as const;
