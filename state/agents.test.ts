/**
 * Who may apply for the holder (state/agents.ts) and the catalog's `agents` (state/catalog.ts).
 * Seed 000 申请材料 (lines 244–264) and seed 001 申请材料 (lines 59–60) list the holder's own card and
 * ID card only; seed 000's FAQ allows an agent for 补换卡 only (lines 333–337).
 */
import { describe, expect, it } from 'vitest';
import { isSsCardError } from '../core/errors.js';
import { hallCatalogJson, shippedCatalogJson } from '../testing/hall-catalog.js';
import { ADULT_AGE, ageOn, checkAgentRequest, decideAgent, type AgentRule } from './agents.js';
import { agentRulesFor, parseCatalog } from './catalog.js';

const TODAY = new Date(2026, 11, 2);
const RULES: AgentRule[] = [
  { basis: 'powerOfAttorney', kinds: ['activate'], materials: ['socialSecurityCard', 'agentIdCard', 'powerOfAttorney'] },
  { basis: 'guardianship', kinds: ['activate', 'reset'], materials: ['socialSecurityCard', 'agentIdCard', 'householdRegister'] },
];

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isSsCardError(e)) return `${e.text.zh} | ${e.text.en}`;
    throw e;
  }
  throw new Error('no error');
}

describe('ageOn', () => {
  it('counts whole years: the day before the birthday is one less', () => {
    expect(ageOn('2008-12-02', TODAY)).toBe(ADULT_AGE);
    expect(ageOn('2008-12-03', TODAY)).toBe(ADULT_AGE - 1);
    expect(ageOn('2008-02-29', new Date(2026, 1, 28))).toBe(17);
    expect(ageOn('2008-02-29', new Date(2026, 2, 1))).toBe(18);
  });

  it('is undefined for what is no date', () => {
    for (const d of ['', '2015-02-30', '20150601', '2030-01-01']) expect(ageOn(d, TODAY), d).toBeUndefined();
  });
});

describe('decideAgent', () => {
  const base = { role: 'counter' as const, kind: 'activate' as const, rules: RULES, birthDate: '1985-03-12', today: TODAY };

  it('allows what the hall\'s rules list, at a counter', () => {
    expect(decideAgent({ ...base, basis: 'powerOfAttorney' })).toMatchObject({ allowed: true, rule: RULES[0] });
    expect(decideAgent({ ...base, role: 'financial-counter', basis: 'powerOfAttorney' }).allowed).toBe(true);
  });

  it('never at a kiosk, even where the rules list it', () => {
    const d = decideAgent({ ...base, role: 'kiosk', basis: 'powerOfAttorney' });
    expect(d.allowed).toBe(false);
    if (!d.allowed) expect(d.reason.zh).toContain('自助终端不能代办');
  });

  it('refuses a basis or service the rules do not list (the shipped catalog lists none)', () => {
    expect(decideAgent({ ...base, kind: 'reset', basis: 'powerOfAttorney' }).allowed).toBe(false);
    expect(decideAgent({ ...base, rules: [], basis: 'guardianship' }).allowed).toBe(false);
  });

  it('a guardian only for a minor: under 18 on the terminal\'s date, known from the card\'s birth date', () => {
    expect(decideAgent({ ...base, basis: 'guardianship', birthDate: '2010-01-01' }).allowed).toBe(true);
    expect(decideAgent({ ...base, basis: 'guardianship', birthDate: '2008-12-02' }).allowed).toBe(false);
    const none = decideAgent({ ...base, basis: 'guardianship', birthDate: '' });
    expect(none.allowed).toBe(false);
    if (!none.allowed) expect(none.reason.en).toContain('no usable birth date');
  });
});

describe('checkAgentRequest', () => {
  it('takes a known basis and the paper materials only', () => {
    expect(checkAgentRequest({ basis: 'guardianship', presented: ['householdRegister', 'householdRegister'] })).toEqual({ basis: 'guardianship', presented: ['householdRegister'] });
    expect(checkAgentRequest({ basis: 'powerOfAttorney' })).toEqual({ basis: 'powerOfAttorney', presented: [] });
  });

  it('refuses a card declared as seen: the readers read cards', () => {
    expect(problem(() => checkAgentRequest({ basis: 'guardianship', presented: ['agentIdCard'] }))).toContain('cards are read by the readers');
    expect(problem(() => checkAgentRequest({ basis: 'friend' }))).toContain('agent.basis must be powerOfAttorney or guardianship');
  });
});

describe('the catalog\'s agents', () => {
  it('the shipped catalog (the seeds) lists none: every service is the holder\'s in person', () => {
    const items = parseCatalog(shippedCatalogJson());
    for (const it of items) expect(it.agents, it.id).toEqual([]);
    for (const kind of ['activate', 'change', 'reset', 'unblock', 'verify'] as const) expect(agentRulesFor(items, kind)).toEqual([]);
  });

  function withAgents(agents: unknown, item = 0) {
    const c = hallCatalogJson();
    (c.items[item] as Record<string, unknown>)['agents'] = agents;
    return () => parseCatalog(c);
  }

  it('a hall\'s rules are read and found by service', () => {
    const items = withAgents([{ basis: 'guardianship', kinds: ['reset'], materials: ['socialSecurityCard', 'householdRegister', 'agentIdCard'] }], 1)();
    expect(agentRulesFor(items, 'reset')).toEqual([{ basis: 'guardianship', kinds: ['reset'], materials: ['socialSecurityCard', 'householdRegister', 'agentIdCard'] }]);
    expect(agentRulesFor(items, 'unblock')).toEqual([]);
  });

  it('refuses a rule that could not be checked or is not the item\'s, naming the key path', () => {
    expect(problem(withAgents([{ basis: 'guardianship', kinds: ['activate'], materials: ['socialSecurityCard', 'agentIdCard'] }]))).toContain('items[0].agents[0].materials');
    expect(problem(withAgents([{ basis: 'powerOfAttorney', kinds: ['reset'], materials: ['socialSecurityCard', 'agentIdCard', 'powerOfAttorney'] }]))).toContain('items[0].agents[0].kinds[0]');
    expect(problem(withAgents([{ basis: 'neighbour', kinds: ['activate'], materials: [] }]))).toContain('items[0].agents[0].basis');
    expect(problem(withAgents([{ basis: 'powerOfAttorney', kinds: ['activate'], materials: ['socialSecurityCard', 'agentIdCard', 'powerOfAttorney'], note: 1 }]))).toContain('items[0].agents[0].note');
    const twice = { basis: 'powerOfAttorney', kinds: ['activate'], materials: ['socialSecurityCard', 'agentIdCard', 'powerOfAttorney'] };
    expect(problem(withAgents([twice, twice]))).toContain('items[0].agents[1]');
  });
});
