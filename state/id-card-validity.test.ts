/**
 * The resident ID card's validity (state/id-card-validity.ts): seed 001 line 59 (居民身份证, 受理标准
 * 材料真实有效), line 86 (有效的二代身份证); seed 000 lines 262–280 (材料齐全内容真实有效).
 */
import { describe, expect, it } from 'vitest';
import { LONG_TERM, idCardExpiredText, idCardValidity, terminalDate } from './id-card-validity.js';
import { results } from './results.js';

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

describe('the expired document is named as it is (seed 000 line 222: holders with a residence permit or a foreigners\' card; the names and offices are drivers/idcard/info.ts idDocumentText\'s)', () => {
  it('a residence permit past its date is named, renewed at the public security bureau; a foreigners\' card at the immigration administration', () => {
    const permit = idCardExpiredText('2026-03-15', { name: { zh: '港澳台居民居住证', en: 'residence permit for Hong Kong, Macao and Taiwan residents' }, renewAt: { zh: '公安机关', en: 'the public security bureau' } });
    expect(permit.zh).toBe('您的港澳台居民居住证有效期至 2026-03-15，已过期，不能作为办理材料：请到公安机关换领港澳台居民居住证，或携带有效的港澳台居民居住证办理。');
    expect(permit.en).toMatch(/^Your residence permit for Hong Kong, Macao and Taiwan residents expired on 2026-03-15/);
    const foreign = results.identityExpired('reset', '2025-01-10', { name: { zh: '外国人永久居留身份证', en: 'foreign permanent resident ID card' }, renewAt: { zh: '移民管理机构', en: 'the immigration administration' } });
    expect(foreign.zh).toContain('请到移民管理机构换领外国人永久居留身份证');
    expect(foreign.nextStep.en).toBe('Come again with your own valid foreign permanent resident ID card.');
    // Without a document named, the resident ID card (what every reader reported before).
    expect(results.identityExpired('reset', '2016-05-01').nextStep.zh).toBe('请携带有效的本人居民身份证重新办理。');
  });
});

