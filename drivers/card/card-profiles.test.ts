/**
 * Card-make profiles (docs/card-conventions.md "Card-make profiles"): ATR patterns, the choice per
 * card, and a second card make (fixtures/cards/card-make-b.json) served only with its profile —
 * factor at the start of the 卡识别码, INTERNAL AUTHENTICATE in the integrators' form (docs/domain.md
 * §4: two GET CHALLENGEs, `00 88 00 00 10` + factor ‖ data), the 3.0 RELOAD on a 3DES card, and a
 * RELOAD that sets a blocked PIN.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { run, setup, stopRigs } from '../../testing/session-setup.js';
import { atrMatches, atrPatternsOverlap, DEFAULT_CARD_PROFILE, parseAtrPattern, profileFor, type CardMakeProfile } from './card-profiles.js';
import type { CardReadOptions } from './ssse-card.js';

afterEach(() => stopRigs());

const MAKE_B: CardReadOptions = { profile: 'make-b', factorOffset: 0, internalAuth: 'challenge', reloadOnBlockedPin: true, reload: { form: 'ssse3' } };

describe('ATR patterns', () => {
  it('parse hex with xx wildcards; refuse anything else', () => {
    expect(parseAtrPattern('3B 6C xx 00')).toEqual([0x3b, 0x6c, null, 0x00]);
    expect(parseAtrPattern('3b6cXX')).toEqual([0x3b, 0x6c, null]);
    for (const bad of ['', '3B 6', 'zz', '3B 6C 0']) expect(parseAtrPattern(bad), bad).toBeUndefined();
  });

  it('match the start of the ATR; the first matching profile wins, else the default', () => {
    const atr = Buffer.from('3B6C0000535343', 'hex');
    expect(atrMatches(parseAtrPattern('3B 6C xx 00')!, atr)).toBe(true);
    expect(atrMatches(parseAtrPattern('3B 6D')!, atr)).toBe(false);
    expect(atrMatches(parseAtrPattern('3B6C0000535343FF')!, atr)).toBe(false);
    const a: CardMakeProfile = { name: 'a', atr: parseAtrPattern('3B 6C 00 00 53')!, read: {}, reload: {} };
    const b: CardMakeProfile = { name: 'b', atr: parseAtrPattern('3B 6C')!, read: {}, reload: {} };
    expect(profileFor([a, b], atr).name).toBe('a');
    expect(profileFor([a, b], Buffer.from('3B6C11', 'hex')).name).toBe('b');
    expect(profileFor([a], Buffer.from('3B8F', 'hex'))).toBe(DEFAULT_CARD_PROFILE);
    expect(profileFor([a], undefined)).toBe(DEFAULT_CARD_PROFILE);
    expect(atrPatternsOverlap(a.atr, b.atr)).toBe(true);
    expect(atrPatternsOverlap(a.atr, parseAtrPattern('3B 6D')!)).toBe(false);
  });
});

describe('a second card make, through the session over the simulator', () => {
  it('with its profile: identified, genuine by the challenge-form INTERNAL AUTHENTICATE, the profile named', async () => {
    const { rig, commands } = await setup({ profile: 'card-make-b', config: { role: 'counter' }, cardOptions: MAKE_B });
    rig.actor.send({ type: 'CARD_INSERTED' });
    const s = await rig.settle('identified', 'ended');
    expect(s.value).toBe('identified');
    expect(s.context.card).toMatchObject({ authentic: true, profile: 'make-b', reloadsBlockedPin: true });
    const ia = commands.find((c) => c[1] === 0x88)!;
    // 00 88 00 00 10 + process factor ‖ data, after two GET CHALLENGEs of 8.
    expect([...ia.subarray(0, 5)]).toEqual([0x00, 0x88, 0x00, 0x00, 0x10]);
    const i = commands.indexOf(ia);
    expect(commands.slice(i - 2, i).map((c) => c.toString('hex'))).toEqual(['0084000008', '0084000008']);
  });

  it('without it (the defaults: random form, factor at byte 8): the card is not identified — its INTERNAL AUTHENTICATE answers 6700', async () => {
    const { rig } = await setup({ profile: 'card-make-b', config: { role: 'counter' } });
    rig.actor.send({ type: 'CARD_INSERTED' });
    const s = await rig.settle('identified', 'ended');
    expect(s.value).toBe('ended');
    expect(s.context.result?.code).toBe('card.unreadable');
  });

  it('a blocked PIN reset at a window with the card make\'s RELOAD (3.0 form), which sets a blocked PIN; a kiosk still sends the holder to the window (seed 000 FAQ lines 347–351)', async () => {
    const counter = await setup({ profile: 'card-make-b', config: { role: 'counter' }, cardOptions: MAKE_B, operatorId: 'op-1', idNumber: 'holder' });
    const r = await run(counter.rig, 'reset', ['802461', '802461']);
    expect(r.code).toBe('reset.ok');
    expect(counter.vcard.pinTriesLeft).toBe(6);
    expect(counter.commands.some((c) => c.subarray(0, 4).toString('hex') === '84240001')).toBe(true);
    const kiosk = await setup({ profile: 'card-make-b', config: { role: 'kiosk', offered: ['verify', 'change', 'reset'] }, cardOptions: MAKE_B, idNumber: 'holder' });
    expect((await run(kiosk.rig, 'reset', [])).code).toBe('card.locked');
  });

  it('notActivatedSw null: a card make without a "not activated" status word refuses the SELECT that answers 6283 as an error, not as a new card', async () => {
    const { rig } = await setup({ profile: 'card-not-activated', config: { role: 'counter' }, cardOptions: { notActivatedSw: null } });
    rig.actor.send({ type: 'CARD_INSERTED' });
    expect((await rig.settle('identified', 'ended')).context.result?.code).toBe('card.unreadable');
  });
});
