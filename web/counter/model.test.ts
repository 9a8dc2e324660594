import { describe, expect, it } from 'vitest';
import { checklistOf, initialState, LOGGED_OUT, offered, SESSION_EXPIRED, SESSION_INVALID, startOfDay, step, type CounterState, type Effect, type Msg } from './model.js';
import type { IdCardReport } from './wire.js';
import type { Catalog } from '../client/catalog.js';
import type { ServiceResult } from '../client/messages.js';

const T0 = new Date(2026, 11, 2, 10, 0, 0).getTime();
const TTL = 15 * 60_000;

const CATALOG: Catalog = {
  role: 'counter',
  services: [],
  items: [
    {
      id: 'pin-change-reset',
      itemCode: '11410402785096902M500201401000601',
      name: { zh: '社会保障卡密码修改与重置', en: 'Social security card PIN change and reset' },
      kinds: ['verify', 'change', 'reset', 'unblock'],
      materials: [
        { material: 'residentIdCard', zh: '中华人民共和国居民身份证或其他有效身份证件（港澳台居民居住证、外国人永久居留身份证）（原件）', en: 'the resident identity card of the PRC or another valid identity document (residence permit for Hong Kong, Macao and Taiwan residents, foreign permanent resident ID card) (original)' },
        { material: 'socialSecurityCard', zh: '中华人民共和国社会保障卡（原件）', en: 'the social security card of the PRC (original)' },
      ],
      steps: [],
      legalLimitDays: 1,
      committedLimitDays: 1,
      address: null,
      consultPhone: null,
      complaintPhone: null,
      advice: [],
    },
  ],
};

const MATCH: IdCardReport = {
  read: true,
  idCard: { documentType: 'residentId', nameMasked: '陈**', idNumberMasked: '410305********0022', idNumberValid: true, validFrom: '2015-03-02', validTo: '长期' },
  matchesCard: true,
  cardNumberMasked: 'W0****588',
  mismatch: null,
};

/** Run messages from `s` at `at`, collecting the effects. */
function run(s: CounterState, msgs: readonly Msg[], at = T0): { state: CounterState; effects: Effect[] } {
  const effects: Effect[] = [];
  for (const m of msgs) {
    const r = step(s, m, at);
    s = r.state;
    effects.push(...r.effects);
  }
  return { state: s, effects };
}

const CARD: Msg = { type: 'cardIdentified', name: '陈桂兰', nameIsMasked: false, cardNumberMasked: 'W0****588', triesLeft: 0, cardState: 'pinBlocked' };

/** Connected, a counter with every service, the catalog, an operator logged in at T0, a card in. */
function desk(): CounterState {
  return run(initialState(), [
    { type: 'connection', open: true },
    { type: 'capabilities', role: 'counter', services: ['activate', 'verify', 'change', 'reset', 'unblock'], idReader: true },
    { type: 'catalog', catalog: CATALOG },
    { type: 'loginOk', operatorId: 'op1', expiresAt: T0 + TTL },
    CARD,
  ]).state;
}

describe('operator session', () => {
  it('login: who and until when; today\'s operations are loaded; the passphrase is never in the state', () => {
    const s0 = run(initialState(), [{ type: 'connection', open: true }, { type: 'loginSent' }]).state;
    expect(s0.login.busy).toBe(true);
    const r = step(s0, { type: 'loginOk', operatorId: 'op1', expiresAt: T0 + TTL }, T0);
    expect(r.state.operator).toEqual({ operatorId: 'op1', expiresAt: T0 + TTL, ttlMs: TTL });
    expect(r.effects).toEqual([{ type: 'loadOperations', since: startOfDay(T0) }]);
    expect(JSON.stringify(r.state)).not.toMatch(/passphrase|horse/);
  });

  it('a failed login keeps the form with the daemon\'s bilingual reason', () => {
    const text = { zh: '经办人员编号或口令不正确', en: 'wrong operator id or passphrase' };
    const s = run(initialState(), [{ type: 'loginSent' }, { type: 'loginFailed', text }]).state;
    expect(s.operator).toBeNull();
    expect(s.login).toEqual({ busy: false, error: text, notice: null });
  });

  it('each privileged answer slides the estimate by the session length; the estimate running out logs out with a clear message', () => {
    let s = desk();
    s = step(s, { type: 'privilegedOk' }, T0 + 10 * 60_000).state;
    expect(s.operator!.expiresAt).toBe(T0 + 10 * 60_000 + TTL);
    expect(step(s, { type: 'tick' }, T0 + 10 * 60_000 + TTL - 1).state.operator).not.toBeNull();
    const r = step(s, { type: 'tick' }, T0 + 10 * 60_000 + TTL);
    expect(r.state.operator).toBeNull();
    expect(r.state.login.notice).toEqual(SESSION_EXPIRED);
    expect(r.effects).toEqual([{ type: 'logout' }]);
    // nothing of the holder stays for the next login
    expect(r.state.idCard).toEqual({ status: 'none' });
    expect(r.state.selected).toBeNull();
  });

  it('a running service is not cut by the page\'s estimate (the daemon checked the token when it started)', () => {
    let s = run(desk(), [{ type: 'readIdCard' }, { type: 'idCardRead', report: MATCH }, { type: 'select', kind: 'unblock' }, { type: 'clerkCheck', material: 'residentIdCard', checked: true }, { type: 'clerkCheck', material: 'socialSecurityCard', checked: true }, { type: 'accept' }]).state;
    expect(s.flow?.phase).toBe('running');
    s = step(s, { type: 'tick' }, T0 + TTL + 1).state;
    expect(s.operator).not.toBeNull();
  });

  it('auth.sessionExpired and auth.invalidToken answers go back to the login form, each with its message', () => {
    const expired = step(desk(), { type: 'authLost', errorCode: 'auth.sessionExpired' }, T0).state;
    expect(expired.operator).toBeNull();
    expect(expired.login.notice).toEqual(SESSION_EXPIRED);
    expect(step(desk(), { type: 'authLost', errorCode: 'auth.invalidToken' }, T0).state.login.notice).toEqual(SESSION_INVALID);
    const out = step(desk(), { type: 'logout' }, T0);
    expect(out.state.login.notice).toEqual(LOGGED_OUT);
    expect(out.effects).toEqual([{ type: 'logout' }]);
  });
});

describe('the holder’s phone for the PIN policy (seed 000 line 323: 电话号码; docs/security.md "The phone rule in reset, unblock and activation")', () => {
  const ready = (kind: 'unblock' | 'verify', phone: string): CounterState =>
    run(desk(), [
      { type: 'readIdCard' },
      { type: 'idCardRead', report: MATCH },
      { type: 'select', kind },
      { type: 'clerkCheck', material: 'residentIdCard', checked: true },
      { type: 'clerkCheck', material: 'socialSecurityCard', checked: true },
      { type: 'phone', value: phone },
    ]).state;

  it('an unblock (no PIN known: the card’s phone cannot be read) sends the number the clerk entered', () => {
    const s = ready('unblock', '130-0000-0019');
    expect(s.phone).toBe('130-0000-0019');
    expect(step(s, { type: 'accept' }, T0).effects).toEqual([{ type: 'runService', kind: 'unblock', phones: ['130-0000-0019'] }]);
  });

  it('no number, or a service that sets no PIN: no phones', () => {
    expect(step(ready('unblock', ''), { type: 'accept' }, T0).effects).toEqual([{ type: 'runService', kind: 'unblock' }]);
    expect(step(ready('unblock', ' - '), { type: 'accept' }, T0).effects).toEqual([{ type: 'runService', kind: 'unblock' }]);
    expect(step(ready('verify', '13000000019'), { type: 'accept' }, T0).effects).toEqual([{ type: 'runService', kind: 'verify' }]);
  });

  it('only a phone’s characters are kept (what the API accepts), at most 20; a new card forgets it', () => {
    let s = ready('unblock', '+86 (130) 0000.0019 ext 12345678901234');
    expect(s.phone).toMatch(/^[0-9+\- ]{1,20}$/);
    expect(s.phone.startsWith('+86 130')).toBe(true);
    s = step(s, { type: 'cardIdentified', name: '王**', nameIsMasked: true, cardNumberMasked: 'X0****019', triesLeft: 6, cardState: 'active' }, T0).state;
    expect(s.phone).toBe('');
    expect(step(ready('unblock', '13000000019'), { type: 'logout' }, T0).state.phone).toBe('');
  });
});

describe('the card and the ID card', () => {
  it('the name from an event is masked before it is kept; a new card forgets the last one\'s ID card and ticks', () => {
    let s = run(desk(), [{ type: 'readIdCard' }, { type: 'idCardRead', report: MATCH }, { type: 'clerkCheck', material: 'residentIdCard', checked: true }]).state;
    expect(s.card).toEqual({ nameMasked: '陈**', cardNumberMasked: 'W0****588', triesLeft: 0, cardState: 'pinBlocked' });
    expect(JSON.stringify(s)).not.toContain('陈桂兰');
    s = step(s, { type: 'cardIdentified', name: '王**', nameIsMasked: true, cardNumberMasked: 'X0****019', triesLeft: 6, cardState: 'active' }, T0).state;
    expect(s.idCard).toEqual({ status: 'none' });
    expect(s.clerk).toEqual({});
    expect(step(s, { type: 'cardRemoved' }, T0).state.card).toBeNull();
  });

  it('reading the ID card is one request at a time and needs an operator', () => {
    const r = step(desk(), { type: 'readIdCard' }, T0);
    expect(r.effects).toEqual([{ type: 'readIdCard' }]);
    expect(step(r.state, { type: 'readIdCard' }, T0).effects).toEqual([]);
    expect(step(initialState(), { type: 'readIdCard' }, T0).effects).toEqual([]);
  });
});

describe('受理', () => {
  it('only the services offered, window services first', () => {
    expect(offered(desk())).toEqual(['unblock', 'reset', 'activate', 'change', 'verify']);
    const s = step(desk(), { type: 'capabilities', role: 'counter', services: ['reset', 'unblock'], idReader: true }, T0).state;
    expect(offered(s)).toEqual(['unblock', 'reset']);
    expect(step(s, { type: 'select', kind: 'activate' }, T0).state.selected).toBeNull();
  });

  it('materials incomplete: the 一次性告知 notice, no command', () => {
    const r = run(desk(), [{ type: 'select', kind: 'unblock' }, { type: 'accept' }]);
    expect(r.effects).toEqual([]);
    expect(r.state.flow).toMatchObject({ phase: 'refused', kind: 'unblock' });
    if (r.state.flow?.phase !== 'refused') throw new Error('not refused');
    expect(r.state.flow.notice.items.map((i) => i.name.zh)).toEqual(['中华人民共和国居民身份证或其他有效身份证件（港澳台居民居住证、外国人永久居留身份证）（原件）', '中华人民共和国社会保障卡（原件）']);
  });

  it('complete: the service runs; prompts and counts, never a digit; the result refreshes operations and the card', () => {
    let s = run(desk(), [{ type: 'readIdCard' }, { type: 'idCardRead', report: MATCH }, { type: 'select', kind: 'unblock' }]).state;
    expect(checklistOf(s)!.complete).toBe(false);
    s = run(s, [{ type: 'clerkCheck', material: 'residentIdCard', checked: true }, { type: 'clerkCheck', material: 'socialSecurityCard', checked: true }]).state;
    expect(checklistOf(s)!.complete).toBe(true);
    const r = step(s, { type: 'accept' }, T0);
    expect(r.effects).toEqual([{ type: 'runService', kind: 'unblock' }]);
    s = run(r.state, [{ type: 'pinEntryStarted', prompt: 'enterNewPin' }, { type: 'pinDigits', count: 3 }]).state;
    expect(s.flow).toEqual({ phase: 'running', kind: 'unblock', prompt: 'enterNewPin', count: 3, cancelling: false, document: null });
    // nothing else starts while it runs
    expect(step(s, { type: 'select', kind: 'reset' }, T0).state.selected).toBe('unblock');
    expect(step(s, { type: 'accept' }, T0).effects).toEqual([]);
    const c = step(s, { type: 'cancelService' }, T0);
    expect(c.effects).toEqual([{ type: 'cancelService' }]);
    expect(step(c.state, { type: 'cancelService' }, T0).effects).toEqual([]);
    const result: ServiceResult = { code: 'unblock.ok', kind: 'unblock', outcome: 'ok', zh: '密码已解锁。', en: 'The PIN is unblocked.', triesLeft: 6, nextStep: { zh: '请取回社保卡。', en: 'Take the card.' } };
    const done = step(s, { type: 'serviceResult', result }, T0 + 5000);
    expect(done.state.flow).toEqual({ phase: 'result', kind: 'unblock', result, at: T0 + 5000 });
    expect(done.state.card!.triesLeft).toBe(6);
    expect(done.effects).toEqual([{ type: 'loadOperations', since: startOfDay(T0) }, { type: 'refreshStatus' }]);
    expect(step(done.state, { type: 'dismiss' }, T0).state.flow).toBeNull();
  });

  it('without the catalog the page cannot list the materials and says so instead of running', () => {
    const s = run(initialState(), [
      { type: 'connection', open: true },
      { type: 'capabilities', role: 'counter', services: ['unblock'], idReader: true },
      { type: 'catalog', catalog: null },
      { type: 'loginOk', operatorId: 'op1', expiresAt: T0 + TTL },
      CARD,
      { type: 'select', kind: 'unblock' },
    ]).state;
    const r = step(s, { type: 'accept' }, T0);
    expect(r.effects).toEqual([]);
    expect(r.state.flow).toMatchObject({ phase: 'failed' });
    expect(s.catalogProblem!.zh).toContain('服务目录不可用');
  });

  it('the connection lost ends the operator session on this page', () => {
    const s = step(desk(), { type: 'connection', open: false }, T0).state;
    expect(s.operator).toBeNull();
    expect(s.login.notice!.en).toMatch(/connection/);
  });
});

describe('someone applying for the holder (state/agents.ts; the hall catalog\'s agents)', () => {
  const GUARDIAN = { basis: 'guardianship', name: { zh: '监护人代办（未成年人）', en: 'a guardian (the holder is a minor)' }, materials: [
    { material: 'socialSecurityCard', zh: '社保卡', en: 'card' },
    { material: 'householdRegister', zh: '户口簿', en: 'household register' },
    { material: 'agentIdCard', zh: '代办人证件', en: 'agent\u2019s document' },
  ] };
  const withAgents: Catalog = { ...CATALOG, services: [{ kind: 'reset', name: { zh: '密码重置', en: 'PIN reset' }, itemId: 'pin-change-reset', operatorRequired: true, materials: [], agents: [GUARDIAN] }] };
  const start = (): CounterState => run(desk(), [{ type: 'catalog', catalog: withAgents }, { type: 'select', kind: 'reset' }]).state;

  it('offers only what the catalog lists for the service, and the holder\'s materials until one is chosen', () => {
    const s = start();
    expect(checklistOf(s)!.rows.map((r) => r.material)).toEqual(['residentIdCard', 'socialSecurityCard']);
    expect(run(s, [{ type: 'agent', basis: 'powerOfAttorney' }]).state.agent).toBeNull();
    const g = run(s, [{ type: 'agent', basis: 'guardianship' }]).state;
    expect(checklistOf(g)!.rows.map((r) => r.material)).toEqual(['socialSecurityCard', 'householdRegister', 'agentIdCard']);
    // The agent's document is read during the service: the row says so until the clerk saw the original.
    expect(checklistOf(g)!.rows.find((r) => r.material === 'agentIdCard')!.problem!.en).toContain('asks the agent to place it on the ID card reader');
  });

  it('accepts with the paper the clerk saw sent as `presented`, never a card; a new service or card forgets the choice', () => {
    const g = run(start(), [
      { type: 'agent', basis: 'guardianship' },
      { type: 'clerkCheck', material: 'socialSecurityCard', checked: true },
      { type: 'clerkCheck', material: 'householdRegister', checked: true },
      { type: 'clerkCheck', material: 'agentIdCard', checked: true },
      { type: 'accept' },
    ]);
    expect(g.effects).toEqual([{ type: 'runService', kind: 'reset', agent: { basis: 'guardianship', presented: ['householdRegister'] } }]);
    const waiting = run(g.state, [{ type: 'idCardRequested', whose: 'agent' }]).state;
    expect(waiting.flow).toMatchObject({ phase: 'running', document: 'agent' });
    expect(run(waiting, [{ type: 'pinEntryStarted', prompt: 'enterNewPin' }]).state.flow).toMatchObject({ document: null, prompt: 'enterNewPin' });
    const chosen = run(start(), [{ type: 'agent', basis: 'guardianship' }]).state;
    expect(run(chosen, [{ type: 'select', kind: 'unblock' }]).state.agent).toBeNull();
    expect(run(chosen, [{ type: 'cardRemoved' }]).state.agent).toBeNull();
  });
});
