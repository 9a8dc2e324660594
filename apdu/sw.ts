/**
 * Status words (SW1 SW2), ISO/IEC 7816-4:2020 §5.6 (tables 5–6), the social security card's
 * SSSE/PBOC additions (9302, 9303) and the PC/SC Part 10 PIN pad answers (64 00..03).
 *
 * Every description is for an operator at a kiosk or counter: zh-CN first, English second, and
 * where there is something to do, it says what.
 */
import type { ResponseApdu } from './apdu.js';
import type { BilingualText } from '../core/text.js';
import { ErrorCode, fail } from '../core/errors.js';

export type SwCategory =
  | 'success'
  | 'warning'
  | 'moreData'
  | 'wrongLength'
  | 'checkingError'
  | 'pinRetry'
  | 'pinBlocked'
  | 'securityError'
  | 'fileError'
  | 'macError'
  | 'locked'
  | 'unknown';

export interface SwInfo {
  readonly sw: number;
  /** Four upper-case hex digits, e.g. "6A82". */
  readonly hex: string;
  readonly category: SwCategory;
  readonly zh: string;
  readonly en: string;
  /** 63Cx: verification attempts left (x). */
  readonly triesLeft?: number;
  /** 61xx: bytes still available (GET RESPONSE Le); 6Cxx: the exact Le to re-send with. 00 means 256. */
  readonly length?: number;
}

/** 9000: normal processing (ISO/IEC 7816-4:2020 §5.6 table 5). */
export const SW_OK = 0x9000;
/** 6983: authentication method blocked — the PIN has no tries left (ISO/IEC 7816-4:2020 §5.6 table 6). */
export const SW_PIN_BLOCKED = 0x6983;

/** 63Cx: a wrong PIN, `left` tries left (ISO/IEC 7816-4:2020 §5.6 table 6: counter); the inverse of {@link triesLeft}. */
export function swWrongPin(left: number): number {
  return 0x63c0 | (left & 0x0f);
}

/** "6A82" */
export function swHex(sw: number): string {
  return (sw & 0xffff).toString(16).toUpperCase().padStart(4, '0');
}

/** 63Cx → x (ISO 7816-4 §5.6: counter), otherwise undefined. */
export function triesLeft(sw: number): number | undefined {
  return (sw & 0xfff0) === 0x63c0 ? sw & 0x0f : undefined;
}

type Entry = readonly [SwCategory, string, string];

/** Exact status words. */
const EXACT: ReadonlyMap<number, Entry> = new Map<number, Entry>([
  [0x9000, ['success', '成功', 'success']],
  // 62xx: warning, non-volatile memory unchanged
  [0x6200, ['warning', '警告：无进一步信息（存储区未改变）', 'warning: no information given (memory unchanged)']],
  [0x6281, ['warning', '警告：返回的数据可能有误', 'warning: part of the returned data may be corrupted']],
  [0x6282, ['warning', '警告：文件或记录已结束，数据不足 Le 字节', 'warning: end of file or record reached before reading Le bytes']],
  [
    0x6283,
    [
      'warning',
      '所选应用或文件已失效：卡片未启用或已临时锁定，请持卡人到社保经办机构启用或解锁',
      'selected application or file is deactivated: the card is not activated or temporarily locked; the holder should have it activated or unblocked at a social security office',
    ],
  ],
  [0x6284, ['warning', '警告：文件控制信息格式不符', 'warning: file control information not formatted according to ISO 7816-4']],
  [0x6285, ['warning', '所选文件处于终止状态', 'selected file is in termination state']],
  [0x6286, ['warning', '警告：传感器无可用输入数据', 'warning: no input data available from a sensor on the card']],
  // 63xx: warning, non-volatile memory changed
  [
    0x6300,
    [
      'securityError',
      '认证失败：卡片不认可终端的密钥或密文，请检查 PSAM 卡与卡片是否匹配',
      'authentication failed: the card rejected the terminal cryptogram; check that the PSAM matches the card',
    ],
  ],
  [0x6381, ['warning', '警告：文件已写满', 'warning: file filled up by the last write']],
  // 64xx: execution error, memory unchanged; 6400..6403 are also the PC/SC Part 10 PIN pad answers
  [0x6400, ['checkingError', '密码键盘输入超时：持卡人未在规定时间内输入密码，请重试', 'PIN pad input timed out: the holder did not enter the PIN in time; try again']],
  [0x6401, ['checkingError', '持卡人在密码键盘上取消了输入', 'PIN entry was cancelled on the PIN pad by the holder']],
  [0x6402, ['checkingError', '两次输入的新密码不一致，请重新输入', 'the two new PIN entries differ; enter them again']],
  [0x6403, ['checkingError', '输入的密码位数不符合要求（应为 6 位数字），请重新输入', 'the PIN entered has the wrong length (6 digits are required); enter it again']],
  // 65xx: execution error, memory changed
  [0x6581, ['checkingError', '卡片存储器写入失败：卡片可能已损坏，请更换卡片', 'card memory failure during write: the card may be damaged; replace the card']],
  // 67xx / 6Cxx: length
  [0x6700, ['wrongLength', '长度错误：命令的 Lc 或 Le 不正确（密码位数不对时也会返回）', 'wrong length: Lc or Le is wrong (also returned for a PIN of the wrong length)']],
  // 68xx
  [0x6881, ['checkingError', '卡片不支持该逻辑通道', 'logical channel not supported']],
  [0x6882, ['macError', '卡片不支持安全报文', 'secure messaging not supported']],
  [0x6883, ['checkingError', '链式命令的最后一条缺失', 'last command of the chain expected']],
  [0x6884, ['checkingError', '卡片不支持命令链', 'command chaining not supported']],
  // 69xx: command not allowed
  [0x6981, ['fileError', '命令与文件结构不兼容（对该文件不能使用此命令）', 'command incompatible with file structure']],
  [
    0x6982,
    [
      'securityError',
      '安全状态不满足：需要先校验个人密码或完成外部认证',
      'security status not satisfied: verify the PIN or complete external authentication first',
    ],
  ],
  [
    0x6983,
    [
      'pinBlocked',
      '密码已锁定（认证方法被锁定）：请持卡人携带身份证到社保经办机构办理密码重置或解锁',
      'PIN is blocked (authentication method blocked): the holder must bring an ID card to a social security office to have the PIN reset or unblocked',
    ],
  ],
  [0x6984, ['securityError', '引用数据不可用（如随机数已失效），请重新取随机数后再试', 'reference data not usable (e.g. the challenge expired); get a new challenge and retry']],
  [
    0x6985,
    [
      'securityError',
      '使用条件不满足（如未取随机数，或卡片未启用）',
      'conditions of use not satisfied (e.g. no challenge requested first, or the card is not activated)',
    ],
  ],
  [0x6986, ['fileError', '命令不允许：未选择当前文件', 'command not allowed: no current EF selected']],
  [0x6987, ['macError', '安全报文数据对象缺失（缺少 MAC）', 'expected secure messaging data objects missing (no MAC)']],
  [0x6988, ['macError', '安全报文数据对象不正确（MAC 错误），请检查 PSAM 卡与密钥版本', 'secure messaging data objects incorrect (MAC error); check the PSAM and key version']],
  // 6Axx: wrong parameters P1-P2
  [0x6a80, ['checkingError', '数据域参数不正确（如密码不是数字）', 'incorrect parameters in the data field (e.g. the PIN is not numeric)']],
  [0x6a81, ['checkingError', '卡片不支持此功能（或应用已锁定）', 'function not supported (or the application is locked)']],
  [0x6a82, ['fileError', '文件或应用未找到：可能不是社会保障卡，或卡片类型不匹配', 'file or application not found: possibly not a social security card, or a different card type']],
  [0x6a83, ['fileError', '记录未找到', 'record not found']],
  [0x6a84, ['fileError', '文件存储空间不足', 'not enough memory space in the file']],
  [0x6a85, ['checkingError', 'Lc 与 TLV 结构不一致', 'Nc inconsistent with TLV structure']],
  [0x6a86, ['checkingError', '参数 P1 P2 不正确', 'incorrect parameters P1-P2']],
  [0x6a87, ['checkingError', 'Lc 与 P1 P2 不一致', 'Nc inconsistent with parameters P1-P2']],
  [0x6a88, ['fileError', '引用的数据或密钥未找到（如 PSAM 中没有该密钥）', 'referenced data or key not found (e.g. the key is missing from the PSAM)']],
  [0x6a89, ['fileError', '文件已存在', 'file already exists']],
  [0x6a8a, ['fileError', '专用文件名称已存在', 'DF name already exists']],
  // single-value families
  [0x6b00, ['checkingError', '参数 P1 P2 错误（如偏移量超出文件范围）', 'wrong parameters P1-P2 (e.g. offset outside the file)']],
  [0x6d00, ['checkingError', '卡片不支持该指令（INS 无效）', 'instruction code not supported or invalid']],
  [0x6e00, ['checkingError', '卡片不支持该命令类别（CLA 无效）', 'class not supported']],
  [0x6f00, ['checkingError', '卡片内部错误，无具体诊断：请重新插卡再试', 'internal card error, no precise diagnosis: re-insert the card and retry']],
  // SSSE / PBOC
  [0x9302, ['macError', 'MAC 校验失败：请检查 PSAM 卡与卡片是否匹配', 'MAC invalid: check that the PSAM matches the card']],
  [0x9303, ['locked', '应用已永久锁定：此卡无法继续使用，请持卡人到社保经办机构补换卡', 'application permanently locked: this card can no longer be used; the holder must apply for a replacement card']],
]);

/** Families (SW1 only) for what EXACT does not name. */
const FAMILY: ReadonlyMap<number, Entry> = new Map<number, Entry>([
  [0x62, ['warning', '警告（存储区未改变）', 'warning (memory unchanged)']],
  [0x63, ['warning', '警告（存储区已改变）', 'warning (memory changed)']],
  [0x64, ['checkingError', '执行错误（存储区未改变）', 'execution error (memory unchanged)']],
  [0x65, ['checkingError', '执行错误（存储区已改变）', 'execution error (memory changed)']],
  [0x66, ['securityError', '安全相关错误', 'security-related issue']],
  [0x67, ['wrongLength', '长度错误', 'wrong length']],
  [0x68, ['checkingError', '卡片不支持命令类别中的功能', 'functions in CLA not supported']],
  [0x69, ['checkingError', '命令不允许', 'command not allowed']],
  [0x6a, ['checkingError', '参数 P1 P2 错误', 'wrong parameters P1-P2']],
  [0x6b, ['checkingError', '参数 P1 P2 错误', 'wrong parameters P1-P2']],
  [0x6d, ['checkingError', '卡片不支持该指令（INS 无效）', 'instruction code not supported or invalid']],
  [0x6e, ['checkingError', '卡片不支持该命令类别（CLA 无效）', 'class not supported']],
  [0x6f, ['checkingError', '卡片内部错误，无具体诊断', 'internal card error, no precise diagnosis']],
]);

function info(sw: number, hex: string, e: Entry, extra?: { triesLeft?: number; length?: number }): SwInfo {
  const [category, zh, en] = e;
  return { sw, hex, category, zh, en, ...extra };
}

/** Describe a status word for an operator. Never throws; unknown values get a generic text. */
export function describeSw(sw: number): SwInfo {
  const v = Number.isInteger(sw) ? sw & 0xffff : 0;
  const hex = swHex(v);
  const sw1 = v >> 8;
  const sw2 = v & 0xff;

  const exact = EXACT.get(v);
  if (exact) return info(v, hex, exact);

  if (sw1 === 0x61) {
    const n = sw2 === 0 ? 256 : sw2;
    return info(v, hex, ['moreData', `还有 ${n} 字节响应数据，需用 GET RESPONSE（00 C0 00 00 ${hex.slice(2)}）取回`, `${n} more response bytes available: fetch them with GET RESPONSE (00 C0 00 00 ${hex.slice(2)})`], { length: n });
  }
  if (sw1 === 0x6c) {
    const n = sw2 === 0 ? 256 : sw2;
    return info(v, hex, ['wrongLength', `Le 不正确：应以 Le=${hex.slice(2)}（${n} 字节）重发该命令`, `wrong Le: re-send the command with Le=${hex.slice(2)} (${n} bytes)`], { length: n });
  }
  const tries = triesLeft(v);
  if (tries !== undefined) {
    if (tries === 0) {
      return info(
        v,
        hex,
        ['pinBlocked', '密码错误，已无剩余尝试次数，密码已锁定：请持卡人到社保经办机构办理解锁', 'wrong PIN and no tries left: the PIN is now blocked; the holder must have it unblocked at a social security office'],
        { triesLeft: 0 },
      );
    }
    return info(v, hex, ['pinRetry', `密码错误，还可尝试 ${tries} 次`, `wrong PIN, ${tries} ${tries === 1 ? 'try' : 'tries'} left`], { triesLeft: tries });
  }

  const family = FAMILY.get(sw1);
  if (family) {
    const [category, zh, en] = family;
    return info(v, hex, [category, `${zh}（${hex}）`, `${en} (${hex})`]);
  }
  return info(v, hex, ['unknown', `未知状态字 ${hex}`, `unknown status word ${hex}`]);
}

/**
 * Return the response data on 9000; otherwise throw an SsCardError naming `what` failed and why.
 * 6983 and 63C0 → Card_PinBlocked; 63C1..63CF → Card_WrongPin with `triesLeft` in the context;
 * everything else (including warnings and an unfetched 61xx) → Card_Status. Context always has `sw`.
 */
export function checkSw(res: ResponseApdu, what: string | BilingualText): Buffer {
  if (res.sw === 0x9000) return res.data;
  const d = describeSw(res.sw);
  const whatZh = typeof what === 'string' ? what : what.zh;
  const whatEn = typeof what === 'string' ? what : what.en;
  const zh = `${whatZh}失败：卡片返回 ${d.hex}（${d.zh}）`;
  const en = `${whatEn} failed: the card answered ${d.hex} (${d.en})`;
  const context: Record<string, unknown> = { sw: res.sw, swHex: d.hex, category: d.category };
  if (d.triesLeft !== undefined) context['triesLeft'] = d.triesLeft;
  if (d.category === 'pinBlocked') fail(ErrorCode.Card_PinBlocked, zh, en, context);
  if (d.category === 'pinRetry') fail(ErrorCode.Card_WrongPin, zh, en, context);
  fail(ErrorCode.Card_Status, zh, en, context);
}
