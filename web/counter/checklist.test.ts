import { describe, expect, it } from 'vitest';
import { checklist, matchIndicator, notice, terminalCheck, type Facts } from './checklist.js';
import type { IdCardReport } from './wire.js';
import type { MaterialText } from '../client/catalog.js';

const SS: MaterialText = { material: 'socialSecurityCard', zh: '中华人民共和国社会保障卡（原件）', en: 'the social security card of the PRC (original)' };
const ID: MaterialText = { material: 'residentIdCard', zh: '中华人民共和国居民身份证或其他有效身份证件（港澳台居民居住证、外国人永久居留身份证）（原件）', en: 'the resident identity card of the PRC or another valid identity document (residence permit for Hong Kong, Macao and Taiwan residents, foreign permanent resident ID card) (original)' };
const BOTH = [ID, SS];

const report = (matchesCard: boolean | null, read = true): IdCardReport => ({
  read,
  idCard: read ? { documentType: 'residentId', nameMasked: '王**', idNumberMasked: '411082********0038', idNumberValid: true, validFrom: '2012-09-01', validTo: '2032-09-01' } : null,
  matchesCard,
  cardNumberMasked: 'X0****019',
  mismatch: matchesCard === false ? { zh: '身份证号码与社保卡的社会保障号码不一致，不能办理。', en: 'The resident ID number does not match the card’s social security number; the service cannot go on.' } : null,
});

const facts = (cardIdentified: boolean, idCard: IdCardReport | null): Facts => ({ cardIdentified, idCard });
const ALL_CONFIRMED = { socialSecurityCard: true, residentIdCard: true };

describe('terminalCheck', () => {
  it.each([
    ['socialSecurityCard', facts(true, null), 'ok'],
    ['socialSecurityCard', facts(false, null), 'missing'],
    ['residentIdCard', facts(true, null), 'missing'],
    ['residentIdCard', facts(true, report(null, false)), 'missing'],
    ['residentIdCard', facts(true, report(true)), 'ok'],
    ['residentIdCard', facts(true, report(false)), 'mismatch'],
    ['residentIdCard', facts(false, report(null)), 'missing'],
    ['householdRegister', facts(true, report(true)), null],
  ] as const)('%s with %j → %s', (m, f, want) => {
    expect(terminalCheck(m, f)).toBe(want);
  });
});

describe('checklist (收件 → 受理)', () => {
  it('complete only when the terminal read each material right and the clerk confirmed each original', () => {
    const c = checklist(BOTH, facts(true, report(true)), ALL_CONFIRMED);
    expect(c.complete).toBe(true);
    expect(c.rows.map((r) => [r.material, r.terminal, r.clerk, r.satisfied])).toEqual([
      ['residentIdCard', 'ok', true, true],
      ['socialSecurityCard', 'ok', true, true],
    ]);
    expect(notice(c)).toBeNull();
    expect(checklist(BOTH, facts(true, report(true)), { socialSecurityCard: true }).complete).toBe(false);
  });

  it('a namesake\'s ID card is a mismatch that the clerk cannot tick away', () => {
    const c = checklist(BOTH, facts(true, report(false)), ALL_CONFIRMED);
    expect(c.complete).toBe(false);
    expect(c.rows[0]).toMatchObject({ terminal: 'mismatch', clerk: true, satisfied: false });
    expect(c.rows[0]!.problem!.zh).toContain('不是持卡人本人的身份证');
  });

  it('the 一次性告知 notice names every missing material at once, each with why, and cites the 受理 standard', () => {
    const n = notice(checklist(BOTH, facts(false, null), {}))!;
    expect(n.items.map((i) => i.name.zh)).toEqual([ID.zh, SS.zh]);
    expect(n.items[0]!.problem.zh).toContain('未读取到居民身份证');
    expect(n.items[1]!.problem.zh).toContain('未插入社会保障卡');
    expect(n.heading.zh).toContain('一次性补正以下全部内容');
    expect(n.basis.zh).toContain('应当一次性告知申请人需要补正的全部内容');
    // read and right, but the original not checked by the window
    const unconfirmed = notice(checklist(BOTH, facts(true, report(true)), { residentIdCard: true }))!;
    expect(unconfirmed.items).toEqual([{ name: { zh: SS.zh, en: SS.en }, problem: { zh: '窗口尚未核验原件', en: 'the window has not checked the original' } }]);
  });

  it('a material the terminal cannot read is the clerk\'s alone; an empty list is never complete', () => {
    const other: MaterialText = { material: 'householdRegister', zh: '户口簿', en: 'household register' };
    expect(checklist([other], facts(true, null), {}).rows[0]).toMatchObject({ terminal: 'missing', satisfied: false });
    expect(checklist([other], facts(true, null), { householdRegister: true }).rows[0]).toMatchObject({ terminal: 'ok', satisfied: true });
    expect(checklist([], facts(true, null), {}).complete).toBe(false);
  });
});

/** The holder's ID card, past its 有效期截止 (IdCard.Read's `expired`). */
const EXPIRED_TEXT = { zh: '您的居民身份证有效期至 2016-05-01，已过期，不能作为办理材料：请到公安机关换领居民身份证，或携带有效的居民身份证办理。', en: 'Your resident ID card expired on 2016-05-01, so it cannot be accepted.' };
const expiredReport = (): IdCardReport => ({ ...report(true), expired: EXPIRED_TEXT });

describe('an expired ID card (受理标准 材料真实有效: seed 001 line 59, seed 000 lines 278–280)', () => {
  it('is the terminal’s “expired”, not satisfied even when the clerk ticks it, and the notice says why in the terminal’s words', () => {
    expect(terminalCheck('residentIdCard', facts(true, expiredReport()))).toBe('expired');
    const c = checklist(BOTH, facts(true, expiredReport()), ALL_CONFIRMED);
    expect(c.rows[0]).toMatchObject({ material: 'residentIdCard', terminal: 'expired', clerk: true, satisfied: false, problem: EXPIRED_TEXT });
    expect(c.complete).toBe(false);
    expect(notice(c)!.items).toEqual([{ name: { zh: ID.zh, en: ID.en }, problem: EXPIRED_TEXT }]);
  });

  it('the match indicator says expired (fail, with text and icon), with the reason as detail', () => {
    const m = matchIndicator(facts(true, expiredReport()));
    expect(m).toMatchObject({ tone: 'fail', icon: '✖', detail: EXPIRED_TEXT });
    expect(m.text.zh).toContain('身份证已过期');
    expect(m.text.en).toMatch(/^Expired ID card/);
  });

  it('someone else’s expired ID card is a mismatch first', () => {
    expect(terminalCheck('residentIdCard', facts(true, { ...report(false), expired: EXPIRED_TEXT }))).toBe('mismatch');
  });
});

describe('matchIndicator', () => {
  it('match, mismatch and nothing to compare each have text and an icon, not colour alone', () => {
    const ok = matchIndicator(facts(true, report(true)));
    expect(ok).toMatchObject({ tone: 'ok', icon: '✔' });
    expect(ok.text.zh).toContain('一致');
    expect(ok.text.en).toMatch(/^Match/);
    const bad = matchIndicator(facts(true, report(false)));
    expect(bad).toMatchObject({ tone: 'fail', icon: '✖' });
    expect(bad.text.zh).toContain('不一致');
    expect(bad.text.en).toMatch(/^Mismatch/);
    expect(bad.detail!.zh).toBe('身份证号码与社保卡的社会保障号码不一致，不能办理。');
    for (const f of [facts(false, report(true)), facts(true, null), facts(true, report(null, false)), facts(true, report(null))]) {
      const n = matchIndicator(f);
      expect(n.tone).toBe('none');
      expect(n.icon).toBe('—');
      expect(n.text.zh.length).toBeGreaterThan(0);
      expect(n.text.en.length).toBeGreaterThan(0);
    }
  });
});

describe('who checks a material', () => {
  it('the terminal reads the card and the holder\'s ID card; the agent\'s document during the service (state/agents.ts); paper only the clerk', () => {
    const mats = ['socialSecurityCard', 'residentIdCard', 'agentIdCard', 'powerOfAttorney'].map((m) => ({ material: m, zh: m, en: m }));
    const c = checklist(mats, { cardIdentified: true, idCard: null }, { agentIdCard: true, powerOfAttorney: true });
    expect(c.rows.map((r) => [r.material, r.checkedBy, r.satisfied])).toEqual([
      ['socialSecurityCard', 'terminal', false],
      ['residentIdCard', 'terminal', false],
      ['agentIdCard', 'service', true],
      ['powerOfAttorney', 'clerk', true],
    ]);
  });
});
