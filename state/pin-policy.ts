/**
 * The PIN policy for a PIN the holder sets (activate, change, reset, unblock): a pure module with
 * one function per rule and {@link checkPinPolicy} that runs them all.
 *
 * Source: seed 000 (社会保障卡启用, docs/service-items/000_1700379f35991b5f.txt), 常见问题
 * "密码设置应注意哪些问题？" (lines 321–323):
 * 「密码必须设为６位阿拉伯数字。请尽量不要设置六位相同数字、连续数字、出生日期、电话号码作为用户密码，
 * 建议将几个常用数字简单组合成密码使用。」 The seed says 请尽量不要 ("try not to"); this terminal
 * enforces it. The deny list is the terminal's own configuration (docs/config.md
 * `session.denyList`), not a seed rule.
 *
 * Decisions (each one pinned by a test in pin-policy.test.ts):
 * - **Length and digits first.** A PIN that is not exactly 6 ASCII digits gets `PIN_LENGTH` and/or
 *   `PIN_NOT_DIGITS` and nothing else: the pattern rules are defined on 6 digits only.
 * - **Consecutive runs** are six digits each one more (123456) or each one less (654321) than the
 *   one before, **including wrap-arounds** through 9→0 / 0→9 (890123, 901234, 321098, 109876):
 *   on the keypad and when counting aloud 0 follows 9, so these are as guessable as 123456. That
 *   adds 10 PINs to the 10 plain runs. Steps other than ±1 (135790, 246810) are not runs.
 * - **Birth date** forms, from `birthDate` (YYYY-MM-DD; YYYYMMDD accepted) or, when that is absent or
 *   not a real date, from the 18-character 社会保障号码 (GB 11643: birth date YYYYMMDD at positions
 *   7–14): YYMMDD (= the 6-digit tail of YYYYMMDD), MMDDYY, DDMMYY, YYYYMM (what a 6-digit pad keeps
 *   of a typed YYYYMMDD) and the MMDD-based ones: MMDD followed by any two digits, or any two digits
 *   followed by MMDD (MMDD0000-style padding, MMDD plus a lucky number, …). Both `birthDate` and the
 *   number are holder data, not secrets; no form ever appears in a reason text.
 * - **Phone numbers**: every window of 6 consecutive digits of each phone (DF01 or caller supplied),
 *   after dropping non-digits and a leading country code `+86` / `0086`.
 * - **Deny list**: exact 6-digit entries; other entries can never match (validate configuration
 *   with {@link parseDenyList}).
 * - All rejections are reported, in the order of {@link PIN_RULE_CODES}, so the holder learns every
 *   problem at once.
 *
 * PIN handling (docs/architecture.md "Habits", README "PIN secrecy"): the PIN is a Buffer of ASCII
 * digits owned and wiped by the caller. This module compares its bytes in place: it never decodes
 * the PIN into a string, never copies it into another buffer, never changes it, and never puts a
 * digit of it (or a form of the birth date or phone number) into a reason. `checkPinPolicy` never
 * throws.
 */
import { ErrorCode, fail } from '../core/errors.js';
import { bi, type BilingualText } from '../core/text.js';

export type PinRuleCode = 'PIN_LENGTH' | 'PIN_NOT_DIGITS' | 'PIN_SAME_DIGITS' | 'PIN_SEQUENCE' | 'PIN_BIRTH_DATE' | 'PIN_PHONE' | 'PIN_DENY_LIST';

export interface PinPolicyContext {
  /** The holder's 社会保障号码 (18 characters); the birth date is taken from it when `birthDate` is not given. */
  readonly socialSecurityNumber?: string;
  /** YYYY-MM-DD (EF06 tag 0D as decoded by apdu/records.ts). */
  readonly birthDate?: string;
  /** Phone numbers: the card's (DF01 EF06 tag 28) and any the caller supplies. */
  readonly phones?: readonly string[];
  /** The terminal's configured deny list: 6-digit PINs refused as they are. */
  readonly denyList?: readonly string[];
}

export interface PinRejection {
  readonly code: PinRuleCode;
  readonly zh: string;
  readonly en: string;
}

/** The PIN length of the social security card (seed 000 line 321: 密码必须设为６位阿拉伯数字). */
export const PIN_LENGTH = 6;

/** Every rule code, in the order checkPinPolicy reports them. */
export const PIN_RULE_CODES: readonly PinRuleCode[] = Object.freeze([
  'PIN_LENGTH',
  'PIN_NOT_DIGITS',
  'PIN_SAME_DIGITS',
  'PIN_SEQUENCE',
  'PIN_BIRTH_DATE',
  'PIN_PHONE',
  'PIN_DENY_LIST',
] as const);

const ADVICE = bi('建议将几个常用数字简单组合成密码', 'a simple combination of a few numbers you use often is a good choice');

/** The fixed reason for each rule. No reason holds a digit of the PIN or of the holder's data. */
export const PIN_RULE_TEXT: Readonly<Record<PinRuleCode, BilingualText>> = Object.freeze({
  PIN_LENGTH: bi('密码必须是 6 位阿拉伯数字，请重新输入', 'The PIN must be exactly 6 digits; please enter it again'),
  PIN_NOT_DIGITS: bi('密码只能由阿拉伯数字 0–9 组成，请重新输入', 'The PIN may contain only the digits 0–9; please enter it again'),
  PIN_SAME_DIGITS: bi(
    `密码不能是六位相同的数字，请换一个密码；${ADVICE.zh}`,
    `The PIN must not be six identical digits; please choose another (${ADVICE.en})`,
  ),
  PIN_SEQUENCE: bi(
    `密码不能是连续数字（逐位递增或递减，含 9 与 0 相接），请换一个密码；${ADVICE.zh}`,
    `The PIN must not be consecutive digits (each one up or down by one, 9 and 0 counting as neighbours); please choose another (${ADVICE.en})`,
  ),
  PIN_BIRTH_DATE: bi(
    `密码不能使用出生日期（包括年月日、月日年、日月年等写法），请换一个密码；${ADVICE.zh}`,
    `The PIN must not be your date of birth in any usual form (year-month-day, month-day-year, day-month-year…); please choose another (${ADVICE.en})`,
  ),
  PIN_PHONE: bi(
    `密码不能使用电话号码中任意连续的 6 位数字，请换一个密码；${ADVICE.zh}`,
    `The PIN must not be any 6 consecutive digits of your phone number; please choose another (${ADVICE.en})`,
  ),
  PIN_DENY_LIST: bi(
    `该密码过于常见，本终端不允许使用，请换一个密码；${ADVICE.zh}`,
    `This PIN is too common and is not allowed on this terminal; please choose another (${ADVICE.en})`,
  ),
});

/** Where each rule comes from (for documentation, logs and the tests). */
export const PIN_RULE_SOURCE: Readonly<Record<PinRuleCode, string>> = Object.freeze({
  PIN_LENGTH: 'seed 000 line 321: 密码必须设为６位阿拉伯数字',
  PIN_NOT_DIGITS: 'seed 000 line 321: 密码必须设为６位阿拉伯数字',
  PIN_SAME_DIGITS: 'seed 000 line 321: 请尽量不要设置六位相同数字',
  PIN_SEQUENCE: 'seed 000 line 323: 连续数字',
  PIN_BIRTH_DATE: 'seed 000 line 323: 出生日期',
  PIN_PHONE: 'seed 000 line 323: 电话号码',
  PIN_DENY_LIST: 'docs/config.md session.denyList: a configurable deny list (terminal configuration)',
});

function rejection(code: PinRuleCode): PinRejection {
  const t = PIN_RULE_TEXT[code];
  return { code, zh: t.zh, en: t.en };
}

const isDigitByte = (b: number): boolean => b >= 0x30 && b <= 0x39;

function isBytes(pin: unknown): pin is Uint8Array {
  return pin instanceof Uint8Array;
}

/** True when `pin` has exactly {@link PIN_LENGTH} bytes (PIN_LENGTH rule). */
export function hasPinLength(pin: Uint8Array): boolean {
  return isBytes(pin) && pin.length === PIN_LENGTH;
}

/** True when every byte of `pin` is an ASCII digit; false for an empty PIN (PIN_NOT_DIGITS rule). */
export function isAllDigits(pin: Uint8Array): boolean {
  if (!isBytes(pin) || pin.length === 0) return false;
  for (let i = 0; i < pin.length; i++) if (!isDigitByte(pin[i]!)) return false;
  return true;
}

/** Exactly 6 ASCII digits (seed 000 line 321: 密码必须设为６位阿拉伯数字). */
export function isSixDigits(pin: Uint8Array): boolean {
  return hasPinLength(pin) && isAllDigits(pin);
}

/** Six identical digits, 000000 … 999999 (seed 000 line 321: 六位相同数字). False unless 6 digits. */
export function isSameDigits(pin: Uint8Array): boolean {
  if (!isSixDigits(pin)) return false;
  for (let i = 1; i < pin.length; i++) if (pin[i] !== pin[0]) return false;
  return true;
}

export interface SequenceOptions {
  /** Count runs through 9→0 / 0→9 (890123, 109876) as consecutive. Default true (see the module doc). */
  readonly wrapAround?: boolean;
}

/**
 * An ascending or descending run of six digits (seed 000 line 323: 连续数字): 012345 … 456789,
 * 987654 … 543210 and, unless `wrapAround` is false, 678901 … 901234 and 210987 … 109876 / 321098.
 * False unless 6 digits.
 */
export function isSequence(pin: Uint8Array, options: SequenceOptions = {}): boolean {
  if (!isSixDigits(pin)) return false;
  const wrap = options.wrapAround ?? true;
  let up = true;
  let down = true;
  for (let i = 1; i < pin.length; i++) {
    const step = pin[i]! - pin[i - 1]!;
    if (!(step === 1 || (wrap && step === -9))) up = false;
    if (!(step === -1 || (wrap && step === 9))) down = false;
  }
  return up || down;
}

/** `pin` equals the 6-character string `s` (compared byte by byte; the PIN is not decoded). */
function equalsAscii(pin: Uint8Array, s: string, at = 0): boolean {
  if (at + pin.length > s.length) return false;
  for (let i = 0; i < pin.length; i++) if (pin[i] !== s.charCodeAt(at + i)) return false;
  return true;
}

function isRealDate(y: number, m: number, d: number): boolean {
  if (y < 1800 || y > 2199 || m < 1 || m > 12 || d < 1) return false;
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return d <= days;
}

/** YYYYMMDD of a real date from `YYYY-MM-DD` / `YYYYMMDD`, else undefined. */
function normalizeDate(s: unknown): string | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(s.trim());
  if (m === null) return undefined;
  const y = m[1]!;
  const mo = m[2]!;
  const d = m[3]!;
  return isRealDate(Number(y), Number(mo), Number(d)) ? `${y}${mo}${d}` : undefined;
}

/**
 * The holder's birth date as YYYYMMDD: `birthDate` when it is a real date, else positions 7–14 of
 * an 18-character 社会保障号码 (17 digits and a check digit or X; GB 11643) when they are a real
 * date, else undefined.
 */
export function holderBirthDate(ctx: PinPolicyContext | undefined): string | undefined {
  const given = normalizeDate(ctx?.birthDate);
  if (given !== undefined) return given;
  const ssn = ctx?.socialSecurityNumber;
  if (typeof ssn !== 'string' || !/^\d{17}[\dXx]$/.test(ssn)) return undefined;
  return normalizeDate(ssn.slice(6, 14));
}

/**
 * The birth-date forms refused, in a fixed order: YYMMDD, MMDDYY, DDMMYY, YYYYMM. The MMDD-based
 * forms (MMDD followed or preceded by any two digits) are a pattern, checked by
 * {@link matchesBirthDate}, and not listed. [] when no birth date is known.
 */
export function birthDateForms(ctx: PinPolicyContext | undefined): string[] {
  const date = holderBirthDate(ctx);
  if (date === undefined) return [];
  const yyyy = date.slice(0, 4);
  const yy = date.slice(2, 4);
  const mm = date.slice(4, 6);
  const dd = date.slice(6, 8);
  return [...new Set([`${yy}${mm}${dd}`, `${mm}${dd}${yy}`, `${dd}${mm}${yy}`, `${yyyy}${mm}`])];
}

/** The PIN is a form of the holder's birth date (seed 000 line 323: 出生日期). False unless 6 digits. */
export function matchesBirthDate(pin: Uint8Array, ctx?: PinPolicyContext): boolean {
  if (!isSixDigits(pin)) return false;
  const date = holderBirthDate(ctx);
  if (date === undefined) return false;
  if (birthDateForms(ctx).some((f) => equalsAscii(pin, f))) return true;
  // MMDD-based: MMDD?? or ??MMDD.
  const mmdd = date.slice(4, 8);
  const head = pin[0] === mmdd.charCodeAt(0) && pin[1] === mmdd.charCodeAt(1) && pin[2] === mmdd.charCodeAt(2) && pin[3] === mmdd.charCodeAt(3);
  const tail = pin[2] === mmdd.charCodeAt(0) && pin[3] === mmdd.charCodeAt(1) && pin[4] === mmdd.charCodeAt(2) && pin[5] === mmdd.charCodeAt(3);
  return head || tail;
}

/** The digits of a phone number, without a leading +86 / 0086 country code. */
export function phoneDigits(phone: string): string {
  const trimmed = phone.trim();
  let digits = trimmed.replace(/\D/g, '');
  if (trimmed.startsWith('+86')) digits = digits.slice(2);
  else if (digits.startsWith('0086')) digits = digits.slice(4);
  return digits;
}

/** The PIN is 6 consecutive digits of one of the phones (seed 000 line 323: 电话号码). False unless 6 digits. */
export function matchesPhone(pin: Uint8Array, ctx?: PinPolicyContext): boolean {
  if (!isSixDigits(pin)) return false;
  const phones = ctx?.phones;
  if (!Array.isArray(phones)) return false;
  for (const phone of phones as readonly unknown[]) {
    if (typeof phone !== 'string') continue;
    const digits = phoneDigits(phone);
    for (let at = 0; at + PIN_LENGTH <= digits.length; at++) if (equalsAscii(pin, digits, at)) return true;
  }
  return false;
}

/**
 * The PIN is on the terminal's deny list (docs/config.md `session.denyList`). Entries other than
 * 6 digits never match.
 */
export function inDenyList(pin: Uint8Array, ctx?: PinPolicyContext): boolean {
  if (!isSixDigits(pin)) return false;
  const list = ctx?.denyList;
  if (!Array.isArray(list)) return false;
  return (list as readonly unknown[]).some((e) => typeof e === 'string' && e.length === PIN_LENGTH && equalsAscii(pin, e));
}

/**
 * Validate a configured deny list eagerly: an array of 6-digit strings. Throws Config_Invalid
 * naming the key path of the first bad entry (`path[3]`); the message quotes no entry.
 */
export function parseDenyList(json: unknown, path = 'pinPolicy.denyList'): string[] {
  if (!Array.isArray(json)) {
    fail(ErrorCode.Config_Invalid, `${path} 必须是 6 位数字字符串的数组`, `${path} must be an array of 6-digit strings`, { path });
  }
  return (json as unknown[]).map((e, i) => {
    if (typeof e !== 'string' || !/^\d{6}$/.test(e)) {
      fail(
        ErrorCode.Config_Invalid,
        `${path}[${i}] 必须是 6 位数字的字符串`,
        `${path}[${i}] must be a string of exactly 6 digits`,
        { path: `${path}[${i}]` },
      );
    }
    return e;
  });
}

/**
 * Every rule the PIN breaks, in {@link PIN_RULE_CODES} order; [] means acceptable. A PIN that is
 * not 6 ASCII digits gets only PIN_LENGTH and/or PIN_NOT_DIGITS (any non-Uint8Array input counts as
 * not digits). Never throws, never changes or copies `pin`; the caller still wipes it.
 */
export function checkPinPolicy(pin: Uint8Array, ctx?: PinPolicyContext): PinRejection[] {
  try {
    if (!isBytes(pin)) return [rejection('PIN_NOT_DIGITS')];
    const out: PinRejection[] = [];
    if (!hasPinLength(pin)) out.push(rejection('PIN_LENGTH'));
    if (pin.length > 0 && !isAllDigits(pin)) out.push(rejection('PIN_NOT_DIGITS'));
    if (out.length > 0) return out;
    if (isSameDigits(pin)) out.push(rejection('PIN_SAME_DIGITS'));
    if (isSequence(pin)) out.push(rejection('PIN_SEQUENCE'));
    if (matchesBirthDate(pin, ctx)) out.push(rejection('PIN_BIRTH_DATE'));
    if (matchesPhone(pin, ctx)) out.push(rejection('PIN_PHONE'));
    if (inDenyList(pin, ctx)) out.push(rejection('PIN_DENY_LIST'));
    return out;
  } catch {
    // Only a hostile context (a throwing getter) gets here; refuse rather than accept.
    return [rejection('PIN_NOT_DIGITS')];
  }
}
