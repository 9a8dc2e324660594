/**
 * Is the resident ID card still valid? The service items accept the 居民身份证 only when it is
 * 真实有效 (real and valid):
 * - seed 001 (docs/service-items/001_bf9ce8a90a3e7ce5.txt) 申请材料 line 59: 中华人民共和国居民身份证,
 *   原件, 受理标准 「材料真实有效」; 常见问题 line 86: 「办事群众需提供有效的二代身份证和社会保障卡」;
 * - seed 000 (000_1700379f35991b5f.txt) 申请材料 2, lines 262–280: 居民身份证, 原件, 受理标准
 *   「材料齐全内容真实有效」, 来源渠道 公安机关.
 *
 * The card itself says how long it is valid: 有效期截止 (drivers/idcard/info.ts `validTo`), a date
 * YYYY-MM-DD or 长期 (long-term: no end date). Decisions (each pinned by id-card-validity.test.ts):
 * - the date is compared with the terminal's own clock, as a local calendar date (the terminal
 *   stands where the card is used; docs/config.md has no time zone of its own);
 * - the end date itself is still a valid day: an ID card valid until today is accepted today and
 *   refused from tomorrow;
 * - 长期 never expires;
 * - anything else (the driver never gives it: it parses the field strictly) is not shown valid
 *   and is refused like an expired card, with its own words.
 * Pure: no clock is read here; the caller passes the date.
 */
import { bi, type BilingualText } from '../core/text.js';

/** 有效期截止 of a long-term ID card (GA 467: the field holds 长期). */
export const LONG_TERM = '长期';

export type IdCardValidity = 'valid' | 'expired' | 'unreadable';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function isRealDate(s: string): boolean {
  const m = DATE.exec(s);
  if (m === null) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

/** The terminal's calendar date of `now`, local time, as YYYY-MM-DD. */
export function terminalDate(now: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(now.getFullYear(), 4)}-${p(now.getMonth() + 1)}-${p(now.getDate())}`;
}

/**
 * The ID card's validity on `today` (YYYY-MM-DD, {@link terminalDate}): `valid` through its end date
 * inclusive and for ever when 长期, `expired` the day after, `unreadable` when `validTo` is neither.
 */
export function idCardValidity(validTo: string, today: string): IdCardValidity {
  if (typeof validTo !== 'string') return 'unreadable';
  const v = validTo.trim();
  if (v === LONG_TERM) return 'valid';
  if (!isRealDate(v)) return 'unreadable';
  return v < today ? 'expired' : 'valid';
}

/**
 * The identity document the ID reader read, as the holder is told about it: its name and where it
 * is renewed (drivers/idcard/info.ts `DOCUMENTS`; passed in as data, state/ reads no driver).
 */
export interface IdDocumentText {
  readonly name: BilingualText;
  readonly renewAt: BilingualText;
}

/** The resident ID card: the document unless the reader said otherwise. */
export const RESIDENT_ID_CARD: IdDocumentText = Object.freeze({ name: bi('居民身份证', 'resident ID card'), renewAt: bi('公安机关', 'the public security bureau') });

/** What the holder is told about an ID card that is not valid (never its number). */
export function idCardExpiredText(validTo: string, doc: IdDocumentText = RESIDENT_ID_CARD): BilingualText {
  const n = doc.name;
  if (!isRealDate(validTo.trim())) {
    return bi(
      `无法确认您的${n.zh}在有效期内（有效期无法识别），不能作为办理材料：请携带有效的${n.zh}办理。`,
      `Your ${n.en} cannot be shown to be valid (its validity date cannot be read), so it cannot be accepted: bring a valid ${n.en}.`,
    );
  }
  return bi(
    `您的${n.zh}有效期至 ${validTo}，已过期，不能作为办理材料：请到${doc.renewAt.zh}换领${n.zh}，或携带有效的${n.zh}办理。`,
    `Your ${n.en} expired on ${validTo}, so it cannot be accepted: renew it at ${doc.renewAt.en}, or bring a valid ${n.en}.`,
  );
}
