/**
 * The resident ID card's validity (state/id-card-validity.ts): seed 001 line 59 (居民身份证, 受理标准
 * 材料真实有效), line 86 (有效的二代身份证); seed 000 lines 262–280 (材料齐全内容真实有效).
 */
import { describe, expect, it } from 'vitest';
import { LONG_TERM, idCardExpiredText, idCardValidity, terminalDate } from './id-card-validity.js';

describe('idCardValidity (seed 001 line 59 / seed 000 lines 278–280: 真实有效)', () => {
  it.each([
    ['2026-05-01', '2026-05-01', 'valid'], // valid until today: still valid today
    ['2026-05-02', '2026-05-01', 'valid'],
    ['2026-04-30', '2026-05-01', 'expired'], // the day after its end date
    ['2016-05-01', '2026-05-01', 'expired'],
    ['2025-12-31', '2026-01-01', 'expired'],
    [LONG_TERM, '2099-12-31', 'valid'], // 长期: no end date
    [' 长期', '2026-05-01', 'valid'],
    ['', '2026-05-01', 'unreadable'],
    ['20360501', '2026-05-01', 'unreadable'],
    ['2026-02-30', '2026-01-01', 'unreadable'],
  ] as const)('validTo %j on %s: %s', (validTo, today, expected) => {
    expect(idCardValidity(validTo, today)).toBe(expected);
  });

  it('terminalDate: the local calendar date of the terminal’s clock', () => {
    expect(terminalDate(new Date(2026, 4, 1, 0, 0, 0))).toBe('2026-05-01');
    expect(terminalDate(new Date(2026, 4, 1, 23, 59, 59))).toBe('2026-05-01');
    expect(terminalDate(new Date(2026, 0, 9, 12))).toBe('2026-01-09');
  });

  it('the refusal names the end date and what to do, zh and en; never an ID number', () => {
    const t = idCardExpiredText('2016-05-01');
    expect(t.zh).toBe('您的居民身份证有效期至 2016-05-01，已过期，不能作为办理材料：请到公安机关换领居民身份证，或携带有效的居民身份证办理。');
    expect(t.en).toMatch(/^Your resident ID card expired on 2016-05-01.*renew it at the public security bureau, or bring a valid resident ID card\.$/);
    const u = idCardExpiredText('????');
    expect(u.zh).not.toContain('????');
    expect(u.en).toMatch(/cannot be read/);
  });
});
