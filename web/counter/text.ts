/**
 * The counter page's own words (zh-CN first). Service names follow state/roles.ts `SERVICE_NAMES`;
 * the prompts tell the clerk what the holder is asked on the PIN pad — the clerk's screen never
 * shows a digit, only one dot per key the daemon counted (docs/security.md).
 */
import { bi, type BilingualText } from '../../core/text.js';
import type { PinPrompt, ServiceKind } from '../client/messages.js';

export const SERVICE_NAME: Readonly<Record<ServiceKind, BilingualText>> = {
  activate: bi('社会保障卡启用', 'Card activation'),
  verify: bi('密码校验', 'PIN check'),
  change: bi('密码修改', 'PIN change'),
  reset: bi('密码重置', 'PIN reset'),
  unblock: bi('密码解锁', 'PIN unblock'),
};

/** Journal kinds beyond the services (daemon/journal/types.ts OPERATION_KINDS). */
export const KIND_NAME: Readonly<Record<string, BilingualText>> = {
  ...SERVICE_NAME,
  lockout: bi('锁卡', 'Lockout'),
  read: bi('读卡', 'Card read'),
  write: bi('写卡（信息更正）', 'Card write (data correction)'),
};

export const HOLDER_PROMPT: Readonly<Record<PinPrompt, BilingualText>> = {
  enterPin: bi('请持卡人在密码键盘上输入密码', 'Ask the holder to enter the PIN on the PIN pad'),
  enterOldPin: bi('请持卡人在密码键盘上输入原密码', 'Ask the holder to enter the current PIN on the PIN pad'),
  enterNewPin: bi('请持卡人在密码键盘上输入新密码（6 位数字）', 'Ask the holder to enter the new PIN (6 digits) on the PIN pad'),
  confirmNewPin: bi('请持卡人在密码键盘上再次输入新密码', 'Ask the holder to enter the new PIN again on the PIN pad'),
};

export const OUTCOME_NAME: Readonly<Record<string, BilingualText>> = {
  ok: bi('成功', 'Done'),
  failed: bi('失败', 'Failed'),
  refused: bi('不予办理', 'Refused'),
  cancelled: bi('已取消', 'Cancelled'),
  unknown: bi('结果未知', 'Outcome unknown'),
};

export const STATE_NAME: Readonly<Record<string, BilingualText>> = {
  pending: bi('办理中', 'In progress'),
  completed: bi('已完成', 'Completed'),
  interrupted: bi('已中断', 'Interrupted'),
};

export const SYNC_NAME: Readonly<Record<string, BilingualText>> = {
  synced: bi('已上传', 'Synced'),
  unsynced: bi('待上传', 'Not yet synced'),
  rejected: bi('平台拒收', 'Rejected by the platform'),
};

export const CARD_STATE_NAME: Readonly<Record<string, BilingualText>> = {
  active: bi('正常', 'Active'),
  notActivated: bi('未启用', 'Not activated'),
  pinBlocked: bi('密码已锁定', 'PIN locked'),
  appLocked: bi('应用已锁定', 'Application locked'),
};

export const T = {
  title: bi('社保卡服务窗口', 'Social security card service window'),
  lang: bi('English', '中文'),
  langLabel: bi('切换到英文', 'Switch to Chinese'),
  unavailable: bi('终端服务暂时不可用，正在重新连接…', 'The terminal service is temporarily unavailable; reconnecting…'),
  loginTitle: bi('经办人员登录', 'Operator login'),
  operatorId: bi('经办人员编号', 'Operator ID'),
  passphrase: bi('口令', 'Passphrase'),
  login: bi('登录', 'Log in'),
  loggingIn: bi('正在登录…', 'Logging in…'),
  logout: bi('退出登录', 'Log out'),
  operator: (id: string) => bi(`经办人员：${id}`, `Operator: ${id}`),
  expires: (time: string) => bi(`会话有效至 ${time}`, `Session valid until ${time}`),
  identity: bi('证件核验', 'Identity check'),
  ssCard: bi('社会保障卡', 'Social security card'),
  idCard: bi('居民身份证', 'Resident ID card'),
  name: bi('姓名', 'Name'),
  cardNumber: bi('社保卡号', 'Card number'),
  idNumber: bi('公民身份号码', 'ID number'),
  validity: bi('有效期限', 'Valid'),
  cardState: bi('卡片状态', 'Card state'),
  triesLeft: bi('密码剩余次数', 'PIN tries left'),
  noCard: bi('未插卡：请持卡人插入社保卡', 'No card: ask the holder to insert the social security card'),
  readIdCard: bi('读取身份证', 'Read the ID card'),
  readingIdCard: bi('正在读取身份证…', 'Reading the ID card…'),
  idNotRead: bi('尚未读取：请把身份证放在阅读区后点“读取身份证”', 'Not read yet: place the ID card on the reader, then press “Read the ID card”'),
  noIdCard: bi('读卡器上没有身份证', 'There is no ID card on the reader'),
  idNumberInvalid: bi('（号码校验位不正确）', '(the number\u2019s check digit is wrong)'),
  services: bi('办理事项', 'Services'),
  item: bi('事项', 'Item'),
  itemCode: bi('业务办理项编码', 'Service item code'),
  timeLimit: (legal: number, committed: number) => bi(`法定时限 ${legal} 个工作日，承诺时限 ${committed} 个工作日`, `legal time limit ${legal} working day(s), committed ${committed}`),
  address: (a: string) => bi(`办理地址：${a}`, `Where: ${a}`),
  materials: bi('申请材料（收件）', 'Application materials (receive)'),
  terminalRead: bi('终端读取', 'Terminal'),
  clerkConfirm: bi('原件已核验', 'Original checked'),
  readOk: bi('已读取，符合', 'Read, matches'),
  readMissing: bi('未读取', 'Not read'),
  readMismatch: bi('不符', 'Does not match'),
  readExpired: bi('已过期', 'Expired'),
  clerkOnly: bi('终端不读取，由窗口核验原件', 'not read by the terminal; the window checks the original'),
  readInService: bi('受理后读取（请代办人届时放上证件）', 'read once accepted (the agent places it then)'),
  accept: bi('受理并办理', 'Accept and run'),
  phone: bi('持卡人电话号码（选填）', 'Holder’s phone number (optional)'),
  applicant: bi('申请人', 'Applicant'),
  applicantHolder: bi('持卡人本人', 'The holder in person'),
  applicantHint: bi('代办依据本厅服务目录：只列出本业务允许的代办方式；监护人代办仅限未成年持卡人。', 'Applying for the holder follows the hall’s service catalog: only the ways this service allows are listed; a guardian only for a holder under 18.'),
  placeHolderId: bi('请持卡人把本人身份证件放在身份证阅读区', 'The holder: place your own identity document on the ID card reader'),
  placeAgentId: bi('请代办人把本人身份证件放在身份证阅读区（请先取走持卡人的证件）', 'The agent: place your own identity document on the ID card reader (take the holder’s off first)'),
  phoneHint: bi(
    '新密码不能取自电话号码中连续的 6 位数字；重置、解锁、启用时终端读不到卡内的电话，请询问持卡人后填写。号码只用于本次检查，不保存。',
    'The new PIN must not be 6 consecutive digits of a phone number; in a reset, unblock or activation the terminal cannot read the phone on the card, so ask the holder. Used for this check only, never stored.',
  ),
  chooseService: bi('请选择办理事项', 'Choose a service'),
  kioskRole: bi(
    '本终端配置为自助终端（role = "kiosk"）：密码解锁和社保卡启用只在柜台终端办理。请以柜台角色运行守护进程（role = "counter"，见 docs/config.md）。',
    'This terminal is configured as a kiosk (role = "kiosk"): PIN unblock and card activation run only at a counter terminal. Run the daemon with role = "counter" (docs/config.md).',
  ),
  notice: bi('一次性告知书', 'Notice of everything to supply'),
  print: bi('打印告知书', 'Print the notice'),
  running: bi('正在办理', 'Running'),
  waitingPad: bi('请稍候，正在准备密码键盘…', 'Please wait, preparing the PIN pad…'),
  pinDots: (n: number) => bi(`已输入 ${n} 位`, `${n} keys entered`),
  cancel: bi('取消办理', 'Cancel the service'),
  cancelling: bi('正在取消…', 'Cancelling…'),
  result: bi('办理结果', 'Result'),
  nextStep: bi('下一步', 'Next step'),
  bank: bi('银行账户激活', 'Bank account activation'),
  resultCode: bi('结果代码', 'Result code'),
  done: bi('完成', 'Done'),
  operations: bi('今日业务', 'Today\u2019s operations'),
  refresh: bi('刷新', 'Refresh'),
  noOperations: bi('今日尚无业务', 'No operations today'),
  time: bi('时间', 'Time'),
  kind: bi('业务', 'Service'),
  card: bi('卡号', 'Card'),
  outcome: bi('结果', 'Outcome'),
  sync: bi('上传状态', 'Sync'),
  by: bi('经办人', 'Operator'),
  noticeDate: (d: string) => bi(`告知日期：${d}`, `Date: ${d}`),
  consult: (p: string) => bi(`咨询电话：${p}`, `Enquiries: ${p}`),
  complaint: (p: string) => bi(`投诉电话：${p}`, `Complaints: ${p}`),
} as const;
