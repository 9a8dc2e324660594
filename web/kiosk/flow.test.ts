import { describe, expect, it } from 'vitest';
import type { CardIdentified, ServiceResult } from '../client/messages.js';
import { countdown, DEFAULT_CONFIG, initialState, offeredServices, step, unavailable, type Effect, type KioskState, type Msg } from './flow.js';

const CARD: CardIdentified = { cardNumberMasked: 'X0****019', name: '王志强', triesLeft: 3, cardState: 'active', authentic: true };
const T0 = 1_000_000;

/** Runs messages one after another at `now`, collecting the effects. */
function run(s: KioskState, msgs: readonly Msg[], now = T0): { state: KioskState; effects: Effect[] } {
  const effects: Effect[] = [];
  for (const m of msgs) {
    const r = step(s, m, now);
    s = r.state;
    effects.push(...r.effects);
  }
  return { state: s, effects };
}

/** A kiosk connected, PC/SC up, offering verify and change with a touchscreen pad. */
function ready(extra: Partial<KioskState> = {}): KioskState {
  return run({ ...initialState(), ...extra }, [
    { type: 'connection', open: true },
    { type: 'device', online: true },
    { type: 'capabilities', services: ['verify', 'change', 'unblock'], touchKeys: true, idReader: true, triesFloor: 1 },
  ]).state;
}

const result = (code: string, outcome: ServiceResult['outcome'], triesLeft: number | null = null): ServiceResult => ({
  code,
  kind: 'verify',
  outcome,
  zh: '中',
  en: 'en',
  triesLeft,
  nextStep: { zh: '请取回您的社保卡。', en: 'Please take your card.' },
});

describe('kiosk flow', () => {
  it('attract → insert card → reading → menu with the masked card and only the offered kiosk services', () => {
    let s = ready();
    expect(s.screen.name).toBe('attract');
    s = run(s, [{ type: 'touch' }]).state;
    expect(s.screen.name).toBe('insertCard');
    s = run(s, [{ type: 'cardInserted' }]).state;
    expect(s.screen.name).toBe('reading');
    s = run(s, [{ type: 'cardIdentified', card: CARD }]).state;
    expect(s.screen.name).toBe('menu');
    expect(s.card).toEqual({ nameMasked: '王**', cardNumberMasked: 'X0****019', triesLeft: 3, cardState: 'active' });
    // unblock is never a kiosk service (state/roles.ts), whatever the capabilities list
    expect(offeredServices(s)).toEqual(['verify', 'change']);
  });

  it('never keeps the full name', () => {
    const s = run(ready(), [{ type: 'cardInserted' }, { type: 'cardIdentified', card: CARD }]).state;
    expect(JSON.stringify(s)).not.toContain('王志强');
  });

  it('a card inserted on the attract screen goes straight to reading and the menu', () => {
    const s = run(ready(), [{ type: 'cardInserted' }, { type: 'cardIdentified', card: CARD }]).state;
    expect(s.screen.name).toBe('menu');
  });

  it.each([
    ['no tries left', { triesLeft: 0 }],
    ['PIN blocked', { cardState: 'pinBlocked' }],
    ['application locked (挂失)', { cardState: 'appLocked' }],
    ['not activated', { cardState: 'notActivated' }],
  ])('a card with %s gets the locked screen and no service', (_what, patch) => {
    let s = run(ready(), [{ type: 'cardInserted' }, { type: 'cardIdentified', card: { ...CARD, ...patch } }]).state;
    expect(s.screen.name).toBe('locked');
    expect(offeredServices(s)).toEqual([]);
    s = run(s, [{ type: 'chooseService', kind: 'verify' }]).state;
    expect(s.screen.name).toBe('locked');
  });

  it('a service not offered cannot be chosen', () => {
    const s = run(ready(), [{ type: 'cardInserted' }, { type: 'cardIdentified', card: CARD }, { type: 'chooseService', kind: 'reset' }]).state;
    expect(s.screen.name).toBe('menu');
  });

  it('verify: prepare → pin (runs the service) → one dot per counted key → result with tries left', () => {
    let r = run(ready(), [{ type: 'cardInserted' }, { type: 'cardIdentified', card: CARD }, { type: 'chooseService', kind: 'verify' }]);
    expect(r.state.screen).toEqual({ name: 'prepare', kind: 'verify' });
    r = run(r.state, [{ type: 'startService' }]);
    expect(r.effects).toEqual([{ type: 'runService', kind: 'verify' }]);
    expect(r.state.screen).toMatchObject({ name: 'pin', prompt: null, count: 0 });
    // before the pad is ready a key does nothing
    expect(run(r.state, [{ type: 'key', key: '5' }]).effects).toEqual([]);
    r = run(r.state, [{ type: 'pinEntryStarted', prompt: 'enterPin' }, { type: 'key', key: '5' }, { type: 'pinDigits', count: 1 }, { type: 'key', key: '7' }, { type: 'pinDigits', count: 2 }]);
    expect(r.effects).toEqual([
      { type: 'touchKey', key: '5' },
      { type: 'touchKey', key: '7' },
    ]);
    expect(r.state.screen).toMatchObject({ name: 'pin', prompt: 'enterPin', count: 2 });
    // the state keeps the count only, never a key
    expect(Object.keys(r.state.screen).sort()).toEqual(['count', 'idCard', 'keypad', 'kind', 'name', 'prompt']);
    r = run(r.state, [{ type: 'serviceResult', result: { ...result('verify.wrongPin', 'failed', 2), operationId: 'op-1' } }], T0 + 5);
    expect(r.state.screen).toMatchObject({ name: 'result', kind: 'verify', at: T0 + 5, result: { code: 'verify.wrongPin', operationId: 'op-1' } });
    expect(r.state.card?.triesLeft).toBe(2);
    // try again: back to prepare, same service
    r = run(r.state, [{ type: 'tryAgain' }]);
    expect(r.state.screen).toEqual({ name: 'prepare', kind: 'verify' });
  });

  it('after the last wrong PIN the card is locked: no try again, back leads to the locked screen', () => {
    // A kiosk configured to let the holder spend every try (session.triesFloor = 0).
    let s = run(ready(), [{ type: 'capabilities', services: ['verify', 'change'], touchKeys: true, idReader: true, triesFloor: 0 }, { type: 'cardInserted' }, { type: 'cardIdentified', card: { ...CARD, triesLeft: 1 } }, { type: 'chooseService', kind: 'verify' }, { type: 'startService' }]).state;
    s = run(s, [{ type: 'serviceResult', result: result('verify.locked', 'failed', 0) }]).state;
    expect(run(s, [{ type: 'tryAgain' }]).state.screen.name).toBe('result');
    expect(run(s, [{ type: 'back' }]).state.screen.name).toBe('locked');
  });

  it('at or below the tries floor a kiosk offers no check or change (the daemon would refuse): only reset, or the locked screen', () => {
    const low = { ...CARD, triesLeft: 1 };
    let s = run(ready(), [{ type: 'cardInserted' }, { type: 'cardIdentified', card: low }]).state;
    expect(offeredServices(s)).toEqual([]);
    expect(s.screen.name).toBe('locked');
    s = run(ready(), [{ type: 'capabilities', services: ['verify', 'change', 'reset'], touchKeys: true, idReader: true, triesFloor: 1 }, { type: 'cardInserted' }, { type: 'cardIdentified', card: low }]).state;
    expect(s.screen.name).toBe('menu');
    expect(offeredServices(s)).toEqual(['reset']);
    // A wrong PIN that takes the card down to the floor: no "try again" for the check.
    s = run(ready(), [{ type: 'cardInserted' }, { type: 'cardIdentified', card: { ...CARD, triesLeft: 2 } }, { type: 'chooseService', kind: 'verify' }, { type: 'startService' }, { type: 'serviceResult', result: result('verify.wrongPin', 'failed', 1) }]).state;
    expect(s.screen.name).toBe('result');
    expect(run(s, [{ type: 'tryAgain' }]).state.screen.name).toBe('result');
    expect(run(s, [{ type: 'back' }]).state.screen.name).toBe('locked');
  });

  it('a new PIN entry (old, new, confirm) clears the dots and deals a new keypad', () => {
    const shuffled = ready({ config: { ...DEFAULT_CONFIG, shuffleKeypad: true } });
    let s = run(shuffled, [{ type: 'cardInserted' }, { type: 'cardIdentified', card: CARD }, { type: 'chooseService', kind: 'change' }, { type: 'startService' }, { type: 'pinEntryStarted', prompt: 'enterOldPin' }, { type: 'pinDigits', count: 6 }]).state;
    const layouts = new Set<string>();
    for (const p of ['enterNewPin', 'confirmNewPin', 'enterNewPin', 'confirmNewPin', 'enterNewPin'] as const) {
      s = run(s, [{ type: 'pinEntryStarted', prompt: p }]).state;
      expect(s.screen).toMatchObject({ name: 'pin', prompt: p, count: 0 });
      if (s.screen.name === 'pin') layouts.add(s.screen.keypad.join(''));
    }
    // five shuffles of ten digits all alike: 1 in (10!)^4
    expect(layouts.size).toBeGreaterThan(1);
  });

  it('without a touchscreen pad the screen sends no keys (the holder uses the hardware pad)', () => {
    const s = run(ready(), [{ type: 'capabilities', services: ['verify'], touchKeys: false, idReader: false, triesFloor: 1 }, { type: 'cardInserted' }, { type: 'cardIdentified', card: CARD }, { type: 'chooseService', kind: 'verify' }, { type: 'startService' }, { type: 'pinEntryStarted', prompt: 'enterPin' }]).state;
    expect(run(s, [{ type: 'key', key: '1' }]).effects).toEqual([]);
  });

  it('back during PIN entry cancels on the pad (the flow ends with its result)', () => {
    const s = run(ready(), [{ type: 'cardInserted' }, { type: 'cardIdentified', card: CARD }, { type: 'chooseService', kind: 'verify' }, { type: 'startService' }, { type: 'pinEntryStarted', prompt: 'enterPin' }]).state;
    expect(run(s, [{ type: 'back' }]).effects).toEqual([{ type: 'touchKey', key: 'cancel' }]);
  });

  it('a flow that ends without a result (device, connection) shows the failure and lets the holder try again', () => {
    let s = run(ready(), [{ type: 'cardInserted' }, { type: 'cardIdentified', card: CARD }, { type: 'chooseService', kind: 'verify' }, { type: 'startService' }]).state;
    s = run(s, [{ type: 'serviceFailed', text: { zh: '密码键盘未连接', en: 'PIN pad not connected' } }]).state;
    expect(s.screen).toMatchObject({ name: 'failed', kind: 'verify' });
    expect(run(s, [{ type: 'tryAgain' }]).state.screen.name).toBe('prepare');
  });

  it.each(['menu', 'prepare', 'pin', 'result', 'help'] as const)('card removed on %s → removed, then the attract screen after the message', (where) => {
    const path: Msg[] = [{ type: 'cardInserted' }, { type: 'cardIdentified', card: CARD }];
    if (where !== 'menu' && where !== 'help') path.push({ type: 'chooseService', kind: 'verify' });
    if (where === 'pin' || where === 'result') path.push({ type: 'startService' }, { type: 'pinEntryStarted', prompt: 'enterPin' });
    if (where === 'result') path.push({ type: 'serviceResult', result: result('verify.ok', 'ok', 3) });
    if (where === 'help') path.push({ type: 'help' });
    let s = run(ready(), path).state;
    expect(s.screen.name).toBe(where);
    s = run(s, [{ type: 'cardRemoved' }], T0 + 10).state;
    expect(s.screen.name).toBe('removed');
    expect(s.card).toBeNull();
    expect(run(s, [{ type: 'tick' }], T0 + 10 + DEFAULT_CONFIG.removedMs - 1).state.screen.name).toBe('removed');
    expect(run(s, [{ type: 'tick' }], T0 + 10 + DEFAULT_CONFIG.removedMs).state.screen.name).toBe('attract');
  });

  it('inactivity: the countdown shows in the last 20 s, "more time" restarts it, then back to attract ending the session', () => {
    let s = run(ready(), [{ type: 'cardInserted' }, { type: 'cardIdentified', card: CARD }, { type: 'toggleElder' }, { type: 'toggleLang' }]).state;
    const { idleMs, countdownMs } = DEFAULT_CONFIG;
    expect(countdown(s, T0 + idleMs - 1)).toBeNull();
    expect(countdown(s, T0 + idleMs)).toBe(20);
    expect(countdown(s, T0 + idleMs + countdownMs - 1500)).toBe(2);
    s = run(s, [{ type: 'moreTime' }], T0 + idleMs + 5000).state;
    expect(countdown(s, T0 + idleMs + 5000)).toBeNull();
    const r = run(s, [{ type: 'tick' }], T0 + 2 * idleMs + countdownMs + 5000);
    expect(r.state.screen.name).toBe('attract');
    expect(r.effects).toEqual([{ type: 'endSession' }]);
    // the next holder starts in Chinese, normal mode
    expect(r.state).toMatchObject({ lang: 'zh', elder: false, card: null });
  });

  it('the attract screen never times out', () => {
    const s = ready();
    expect(run(s, [{ type: 'tick' }], T0 + 10 * 3600_000).state).toBe(s);
  });

  it('the daemon gone: unavailable, start over; back: available again on the attract screen', () => {
    let s = run(ready(), [{ type: 'cardInserted' }, { type: 'cardIdentified', card: CARD }, { type: 'chooseService', kind: 'verify' }, { type: 'startService' }]).state;
    s = run(s, [{ type: 'connection', open: false }]).state;
    expect(unavailable(s)).toBe(true);
    expect(s.screen.name).toBe('attract');
    s = run(s, [{ type: 'connection', open: true }]).state;
    expect(unavailable(s)).toBe(false);
  });

  it('PC/SC gone (device offline) is unavailable too, and comes back', () => {
    let s = run(ready(), [{ type: 'device', online: false }]).state;
    expect(unavailable(s)).toBe(true);
    s = run(s, [{ type: 'device', online: true }]).state;
    expect(unavailable(s)).toBe(false);
  });

  it('finish ends the session and goes back to attract', () => {
    const r = run(ready(), [{ type: 'cardInserted' }, { type: 'cardIdentified', card: CARD }, { type: 'finish' }]);
    expect(r.effects).toEqual([{ type: 'endSession' }]);
    expect(r.state.screen.name).toBe('attract');
  });

  it('zh first; the toggle switches to en and back', () => {
    let s = ready();
    expect(s.lang).toBe('zh');
    s = run(s, [{ type: 'toggleLang' }]).state;
    expect(s.lang).toBe('en');
    s = run(s, [{ type: 'toggleLang' }]).state;
    expect(s.lang).toBe('zh');
  });

  it('a reset asks for the ID card while the flow waits for it, shows it checked, then the PIN prompt', () => {
    let r = run(ready({ services: [] }), [{ type: 'capabilities', services: ['verify', 'change', 'reset'], touchKeys: true, idReader: true, triesFloor: 1 }, { type: 'cardInserted' }, { type: 'cardIdentified', card: CARD }]);
    r = run(r.state, [{ type: 'chooseService', kind: 'reset' }, { type: 'startService' }]);
    expect(r.state.screen).toMatchObject({ name: 'pin', kind: 'reset', prompt: null, idCard: null });
    r = run(r.state, [{ type: 'idCardRequested' }]);
    expect(r.state.screen).toMatchObject({ name: 'pin', prompt: null, idCard: 'waiting' });
    r = run(r.state, [{ type: 'idCardRead', read: true, matches: true }, { type: 'pinEntryStarted', prompt: 'enterNewPin' }]);
    expect(r.state.screen).toMatchObject({ name: 'pin', prompt: 'enterNewPin', idCard: 'read' });
  });

  it('an ID card not read or not the holder\'s leaves the step as it is: the daemon\'s result says what to do', () => {
    let r = run(ready({ services: [] }), [{ type: 'capabilities', services: ['reset'], touchKeys: true, idReader: true, triesFloor: 1 }, { type: 'cardInserted' }, { type: 'cardIdentified', card: CARD }]);
    r = run(r.state, [{ type: 'chooseService', kind: 'reset' }, { type: 'startService' }, { type: 'idCardRequested' }]);
    // Never shown as checked: not read, not the holder's, or the holder's but expired (受理标准 材料真实有效, seed 001 line 59).
    for (const m of [{ type: 'idCardRead', read: false, matches: null }, { type: 'idCardRead', read: true, matches: false }, { type: 'idCardRead', read: true, matches: true, expired: true }] as const) expect(run(r.state, [m]).state.screen).toMatchObject({ idCard: 'waiting' });
    // ID card events outside a running service change nothing
    const menu = run(ready(), [{ type: 'cardInserted' }, { type: 'cardIdentified', card: CARD }]).state;
    expect(run(menu, [{ type: 'idCardRequested' }]).state).toBe(menu);
  });

  it('the catalog is kept for the screens, and kept across holders', () => {
    const catalog = { role: 'kiosk', services: [], items: [] };
    let s = run(ready(), [{ type: 'catalog', catalog }]).state;
    expect(s.catalog).toBe(catalog);
    s = run(s, [{ type: 'cardInserted' }, { type: 'cardIdentified', card: CARD }, { type: 'finish' }]).state;
    expect(s.catalog).toBe(catalog);
  });
});
