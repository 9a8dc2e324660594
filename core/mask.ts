/**
 * How identity numbers are shown wherever a person or a log sees them (status, events, logs, the
 * journal's masked copy, `sscard journal list`, `sscard idcard read`, masked sync payloads): one
 * rule per kind of number, here and nowhere else.
 *
 * | what | rule | example |
 * |---|---|---|
 * | 社会保障号码 / 公民身份号码 (18 characters) | first 6 (the region) and last 4 kept | 411082********0038 |
 * | 社会保障卡卡号 (9 characters) | first 2 and last 3 kept | X0****019 |
 * | 卡识别码 (32 hex digits) | first 6 and last 4 kept | 411082**********************90C3 |
 * | name | first character kept | 李** |
 *
 * A value too short for its rule is masked whole (one character or two: all stars).
 */

function maskMiddle(s: string, keepStart: number, keepEnd: number): string {
  if (s.length <= keepStart + keepEnd) return s.length <= 2 ? '*'.repeat(s.length) : `${s[0]!}${'*'.repeat(s.length - 1)}`;
  return s.slice(0, keepStart) + '*'.repeat(s.length - keepStart - keepEnd) + s.slice(s.length - keepEnd);
}

/** 李晓红 → 李**, Zhang San → Z********. */
export function maskName(name: string): string {
  const chars = [...name];
  return chars.length <= 1 ? '*' : chars[0]! + '*'.repeat(chars.length - 1);
}

/** X00000019 → X0****019: the social security card number. */
export function maskCardNumber(cardNumber: string): string {
  return maskMiddle(cardNumber, 2, 3);
}

/** 411082198503120038 → 411082********0038: the 社会保障号码, which is the holder's 公民身份号码. */
export function maskIdNumber(id: string): string {
  return maskMiddle(id, 6, 4);
}

/** The 卡识别码: first 6 and last 4 hex digits kept. */
export function maskCardId(cardId: string): string {
  return maskMiddle(cardId, 6, 4);
}
