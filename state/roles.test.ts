/**
 * Terminal roles and the capability matrix. Seed 000 = docs/service-items/000_1700379f35991b5f.txt
 * (社会保障卡启用), seed 001 = docs/service-items/001_bf9ce8a90a3e7ce5.txt (社会保障卡密码修改与重置).
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../core/errors.js';
import { assertSsCardError } from '../testing/util.js';
import {
  ROLES,
  SERVICE_KINDS,
  bankAccountActivation,
  capability,
  defaultServices,
  parseOfferedServices,
  roleMayOffer,
  type Role,
  type ServiceKind,
} from './roles.js';

const CARD = ['socialSecurityCard'];
const BOTH = ['socialSecurityCard', 'residentIdCard'];

describe('the capability matrix with each role’s default services', () => {
  // privileged (docs/api.md "Privileged"): the call needs an operator token and is journaled with
  // it — unblock always (even at a kiosk, where the refusal is journaled), else when operatorRequired.
  it.each<[string, Role, ServiceKind, boolean, boolean, string[], boolean]>([
    // seed 001 line 26 是否支持自助终端办理 是: PIN check and change at a kiosk, no operator
    ['seed 001 line 26 自助终端 是', 'kiosk', 'verify', true, false, CARD, false],
    ['seed 001 line 26 自助终端 是', 'kiosk', 'change', true, false, CARD, false],
    // reset at a kiosk only when configured (below); off by default
    ['seed 001 line 26 + configuration: reset off by default', 'kiosk', 'reset', false, false, BOTH, false],
    // seed 000 lines 347–351 锁卡后须持本人社保卡、身份证到社保卡服务窗口办理社保账户密码解锁手续
    ['seed 000 lines 347–351 解锁到服务窗口', 'kiosk', 'unblock', false, false, BOTH, true],
    // seed 000 lines 92–96 是否支持自助终端办理 否
    ['seed 000 lines 92–96 自助终端 否', 'kiosk', 'activate', false, false, BOTH, false],
    // verify never needs an operator
    ['verify is the PIN check itself', 'counter', 'verify', true, false, CARD, false],
    ['verify is the PIN check itself', 'financial-counter', 'verify', true, false, CARD, false],
    // seed 001 lines 72–75 办理人：大厅制卡窗口
    ['seed 001 lines 72–75 办理人：大厅制卡窗口', 'counter', 'change', true, true, CARD, true],
    ['seed 001 lines 72–75 办理人：大厅制卡窗口', 'financial-counter', 'change', true, true, CARD, true],
    // seed 001 lines 59–60 申请材料 身份证 + 社保卡; seed 000 line 353 密码重置须持本人社保卡、身份证
    ['seed 001 lines 59–60, seed 000 line 353', 'counter', 'reset', true, true, BOTH, true],
    ['seed 001 lines 59–60, seed 000 line 353', 'financial-counter', 'reset', true, true, BOTH, true],
    // seed 000 lines 347–351: unblock at the service window with card and ID card
    ['seed 000 lines 347–351', 'counter', 'unblock', true, true, BOTH, true],
    ['seed 000 lines 347–351', 'financial-counter', 'unblock', true, true, BOTH, true],
    // seed 000 申请材料 lines 244–264 社保卡 + 身份证; 办理人：窗口 line 307
    ['seed 000 lines 244–264, 307', 'counter', 'activate', true, true, BOTH, true],
    ['seed 000 lines 244–264, 307', 'financial-counter', 'activate', true, true, BOTH, true],
  ])('%s: %s / %s → allowed %s, operator %s, materials %j, privileged %s', (_seed, role, kind, allowed, operator, materials, privileged) => {
    const c = capability(role, kind);
    expect(c.allowed).toBe(allowed);
    expect(c.operatorRequired).toBe(operator);
    expect(c.materials).toEqual(materials);
    expect(c.privileged).toBe(privileged);
    // a reason exactly when refused, bilingual, naming where to go
    if (allowed) expect(c.reason).toBeUndefined();
    else {
      expect(c.reason?.zh).toMatch(/窗口/);
      expect(c.reason?.en).toMatch(/window/);
    }
  });

  it('covers every role × kind', () => {
    for (const role of ROLES) for (const kind of SERVICE_KINDS) expect(() => capability(role, kind)).not.toThrow();
    expect(ROLES.length * SERVICE_KINDS.length).toBe(15);
  });
});

describe('the terminal’s configuration (docs/service-items/README.md: which services a terminal offers is configuration)', () => {
  it('seed 001 line 26 自助终端 是: a kiosk configured for reset may run it, without an operator, with card and ID card', () => {
    const c = capability('kiosk', 'reset', ['verify', 'change', 'reset']);
    expect(c).toEqual({ allowed: true, operatorRequired: false, privileged: false, materials: BOTH });
  });

  it.each<[string, Role, ServiceKind, readonly ServiceKind[]]>([
    ['seed 000 lines 92–96: configuration cannot put activation on a kiosk', 'kiosk', 'activate', ['activate']],
    ['seed 000 lines 347–351: configuration cannot put unblock on a kiosk', 'kiosk', 'unblock', ['unblock']],
  ])('%s', (_seed, role, kind, offered) => {
    const c = capability(role, kind, offered);
    expect(c.allowed).toBe(false);
    expect(c.reason?.zh).toMatch(/社保卡、身份证到社保卡服务窗口/);
  });

  it.each<[Role, ServiceKind, readonly ServiceKind[], RegExp]>([
    ['kiosk', 'change', ['verify'], /本自助终端未开通密码修改/],
    ['kiosk', 'verify', [], /本自助终端未开通密码校验/],
    ['counter', 'activate', ['verify', 'change', 'reset', 'unblock'], /本终端未开通社会保障卡启用/],
    ['financial-counter', 'unblock', ['activate'], /本终端未开通密码解锁/],
  ])('%s not offering %s: refused with a reason (unblock still privileged)', (role, kind, offered, zh) => {
    const c = capability(role, kind, offered);
    expect(c.allowed).toBe(false);
    expect(c.operatorRequired).toBe(false);
    expect(c.privileged).toBe(kind === 'unblock');
    expect(c.reason?.zh).toMatch(zh);
    expect(c.reason?.en).toMatch(/does not offer/);
  });

  it('defaultServices: a kiosk offers verify and change; counters offer everything', () => {
    expect(defaultServices('kiosk')).toEqual(['verify', 'change']);
    expect(defaultServices('counter')).toEqual(SERVICE_KINDS);
    expect(defaultServices('financial-counter')).toEqual(SERVICE_KINDS);
  });

  it('roleMayOffer matches the matrix', () => {
    expect(SERVICE_KINDS.filter((k) => roleMayOffer('kiosk', k))).toEqual(['verify', 'change', 'reset']);
    expect(SERVICE_KINDS.filter((k) => roleMayOffer('counter', k))).toEqual(SERVICE_KINDS);
  });

  it('parseOfferedServices validates eagerly and names the key path', () => {
    expect(parseOfferedServices('kiosk', ['verify', 'change', 'reset', 'change'])).toEqual(['verify', 'change', 'reset']);
    expect(parseOfferedServices('counter', ['unblock', 'activate'])).toEqual(['unblock', 'activate']);
    const e1 = assertSsCardError(() => parseOfferedServices('kiosk', ['verify', 'unblock'], 'terminals.k1.services'), ErrorCode.Config_Invalid);
    expect(e1.message).toContain('terminals.k1.services[1]');
    expect(e1.message).toContain('自助终端不能提供密码解锁');
    const e2 = assertSsCardError(() => parseOfferedServices('counter', ['verify', 'pay']), ErrorCode.Config_Invalid);
    expect(e2.message).toContain('terminal.services[1]');
    assertSsCardError(() => parseOfferedServices('counter', 'verify'), ErrorCode.Config_Invalid);
  });

  it('an unknown role or kind is a programming error', () => {
    assertSsCardError(() => capability('atm' as Role, 'verify'), ErrorCode.Input_BadOption);
    assertSsCardError(() => capability('kiosk', 'pay' as ServiceKind), ErrorCode.Input_BadOption);
  });
});

describe('seed 000 行使内容 2 (lines 60–66): 非金融窗口无法办理银行账户激活；金融窗口可以办理银行账户激活', () => {
  it.each<[Role, boolean, RegExp]>([
    ['financial-counter', true, /金融窗口可以办理银行账户激活/],
    ['counter', false, /非金融窗口无法办理银行账户激活.*到金融窗口/],
    ['kiosk', false, /非金融窗口无法办理银行账户激活.*到金融窗口/],
  ])('%s: attempted %s', (role, attempted, zh) => {
    const r = bankAccountActivation(role);
    expect(r.attempted).toBe(attempted);
    expect(r.zh).toMatch(zh);
    expect(r.en).toMatch(attempted ? /separate request/ : /financial window/);
    // What is attempted: never that the request reached the bank (state/results.ts words what happened).
    expect(r.zh).not.toMatch(/已.*提交银行/);
    expect(r.en).not.toMatch(/has been sent|submitted/);
  });
});
