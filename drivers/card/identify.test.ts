/**
 * SsseCard.identify and SsseCard.pinState against the virtual cards (and the test PSAM): the basics,
 * the PIN's tries left and the card's state (state/card-state.ts) in one read — active, not
 * activated, PIN blocked, and 9303 (APPLICATION BLOCK, docs/domain.md §1) → appLocked — with the
 * exact APDUs sent.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../core/errors.js';
import { Psam } from '../psam/psam.js';
import type { VirtualCardDevice } from '../sim/device.js';
import { cardFixture, psamFixture } from '../sim/profile.js';
import type { SimCommandEvent } from '../sim/sim-transport.js';
import { SimTransport } from '../sim/sim-transport.js';
import { VirtualSsCard } from '../sim/virtual-card.js';
import { VirtualPsam } from '../sim/virtual-psam.js';
import { SsseCard } from './ssse-card.js';
import { verifyPin } from './ssse-operations.js';

const SELECT_SSSE = /^00A404000F7378312E73682EC9E7BBE1B1A3D5CF/;
/** VERIFY without data: asks for the tries left, spends none. */
const VERIFY_QUERY = '00200000';

/** The virtual card, with `answer` overriding the card's reply to some commands (hex in, hex out). */
function withAnswers(dev: VirtualCardDevice, answer: (hex: string) => string | undefined): VirtualCardDevice {
  return {
    label: dev.label,
    atr: dev.atr,
    powerOn: () => dev.powerOn(),
    powerOff: () => dev.powerOff(),
    reset: () => dev.reset(),
    process: (c) => {
      const a = answer(c.toString('hex').toUpperCase());
      return a === undefined ? dev.process(c) : Buffer.from(a, 'hex');
    },
  };
}

async function rig(profile: string, o: { psam?: boolean; answer?: (hex: string) => string | undefined } = {}) {
  const vcard = await VirtualSsCard.fromFile(cardFixture(profile));
  const sent: string[] = [];
  const dev = o.answer === undefined ? vcard : withAnswers(vcard, o.answer);
  // The commands the card driver sent (the transport's own GET RESPONSE left out).
  const onCommand = (e: SimCommandEvent): void => {
    const c = Buffer.from(e.command).toString('hex').toUpperCase();
    if (e.phase === 'before' && !c.startsWith('00C00000')) sent.push(c);
  };
  const transport = new SimTransport(dev, { onCommand });
  let psam: Psam | undefined;
  if (o.psam === true) {
    psam = new Psam(new SimTransport(await VirtualPsam.fromFile(psamFixture('psam-test'))));
    await psam.open();
  }
  const randoms: number[] = [];
  const random = (n: number): Buffer => {
    randoms.push(n);
    return Buffer.alloc(n, 0x5a);
  };
  return { vcard, card: new SsseCard(transport), sent, psam, random, randoms };
}

describe('SsseCard.identify', () => {
  it('an active 2.0 card with the PSAM: basics, genuine, 6 tries, active; SELECT afresh before the tries query', async () => {
    const { card, sent, psam, random, randoms } = await rig('card-2.0', { psam: true });
    const id = await card.identify(psam, random);
    expect(id).toMatchObject({ algorithm: '3DES', activated: true, authentic: true, triesLeft: 6, cardState: 'active' });
    expect(id.issuer).toMatchObject({ cardNumber: 'X00000019', specVersion: '2.00' });
    expect(id.holder).toMatchObject({ socialSecurityNumber: '411082198503120038', name: '王志强' });
    // INTERNAL AUTHENTICATE over one random of the 3DES block size.
    expect(randoms).toEqual([8]);
    expect(sent[0]).toMatch(SELECT_SSSE);
    expect(sent.slice(-2)[0]).toMatch(SELECT_SSSE);
    expect(sent.at(-1)).toBe(VERIFY_QUERY);
  });

  it('a 3.0 (SM4) card with the PSAM: EF06 behind EXTERNAL AUTHENTICATE, a 16-byte random', async () => {
    const { card, psam, random, randoms } = await rig('card-3.0', { psam: true });
    const id = await card.identify(psam, random);
    expect(id).toMatchObject({ algorithm: 'SM4', authentic: true, triesLeft: 6, cardState: 'active' });
    expect(randoms).toEqual([16]);
  });

  it('without a PSAM: not checked (authentic undefined), no random asked for', async () => {
    const { card, random, randoms } = await rig('card-2.0');
    await expect(card.identify(undefined, random)).resolves.toMatchObject({ authentic: undefined, triesLeft: 6, cardState: 'active' });
    expect(randoms).toEqual([]);
  });

  it('not activated (SELECT 6283): notActivated, no tries, and no VERIFY sent', async () => {
    const { card, sent, psam } = await rig('card-not-activated', { psam: true });
    const id = await card.identify(psam);
    expect(id).toMatchObject({ activated: false, triesLeft: undefined, cardState: 'notActivated' });
    expect(sent.some((c) => c.startsWith('0020'))).toBe(false);
  });

  it('PIN blocked (6983): pinBlocked with 0 tries left', async () => {
    const { card, vcard } = await rig('card-locked');
    await expect(card.identify()).resolves.toMatchObject({ activated: true, triesLeft: 0, cardState: 'pinBlocked' });
    expect(vcard.pinTriesLeft).toBe(0);
  });

  it('the tries query answered 9303 (APPLICATION BLOCK): appLocked, tries unknown', async () => {
    const { card } = await rig('card-2.0', { answer: (c) => (c === VERIFY_QUERY ? '9303' : undefined) });
    await expect(card.identify()).resolves.toMatchObject({ activated: true, triesLeft: undefined, cardState: 'appLocked' });
  });

  it('any other status word of the tries query is an error, not a state', async () => {
    const { card } = await rig('card-2.0', { answer: (c) => (c === VERIFY_QUERY ? '6A88' : undefined) });
    await expect(card.identify()).rejects.toMatchObject({ code: ErrorCode.Card_Status, context: { sw: '6A88' } });
  });

  it('spends no PIN try', async () => {
    const { card, vcard } = await rig('card-2.0');
    await card.identify();
    await card.identify();
    expect(vcard.pinTriesLeft).toBe(6);
  });
});

/** INS of the commands that would spend a try, authenticate or change the card (docs/domain.md §2). */
const NOT_TO_A_LOCKED_CARD = new Set(['20', '24', '5E', '1E', '18', 'DC', '82', '88', '84']);

describe('an application-locked card (SELECT 9303, docs/domain.md §2)', () => {
  it('card-app-locked: identified as appLocked from EF05 — no EF06, no authentication, no VERIFY', async () => {
    const { card, sent, psam, vcard } = await rig('card-app-locked', { psam: true });
    const id = await card.identify(psam);
    expect(id).toMatchObject({ algorithm: '3DES', cardState: 'appLocked', triesLeft: undefined, authentic: undefined });
    expect(id.issuer).toMatchObject({ cardId: '410204D1560000057C2E91A4D35B0862', cardNumber: 'W00000624', regionCode: '410204', expiryDate: '2027-08-31' });
    expect(id.holder).toMatchObject({ socialSecurityNumber: '', name: '' });
    expect(sent.filter((c) => NOT_TO_A_LOCKED_CARD.has(c.slice(2, 4)))).toEqual([]);
    expect(sent.some((c) => c.startsWith('00A4020002EF06'))).toBe(false);
    expect(vcard.pinTriesLeft).toBe(6);
  });

  it('EF05 refused as well (9303 to READ RECORD): still appLocked, with a blank issuer', async () => {
    const { card } = await rig('card-app-locked', { answer: (c) => (c.startsWith('00B2') ? '9303' : undefined) });
    const id = await card.identify();
    expect(id).toMatchObject({ cardState: 'appLocked', triesLeft: undefined });
    expect(id.issuer).toMatchObject({ cardId: '', cardNumber: '', expiryDate: '' });
  });

  it('pinState on a locked card answers appLocked from the SELECT alone', async () => {
    const { card, sent } = await rig('card-app-locked');
    await expect(card.pinState()).resolves.toEqual({ triesLeft: undefined, cardState: 'appLocked' });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(SELECT_SSSE);
  });

  it('a card without the application (6A82 twice) is still not a social security card', async () => {
    const { card } = await rig('card-2.0', { answer: (c) => (SELECT_SSSE.test(c) || c.startsWith('00A40000023F00') ? '6A82' : undefined) });
    await expect(card.identify()).rejects.toMatchObject({ code: ErrorCode.Card_NotSsse });
  });
});

describe('names in GB18030 (docs/card-conventions.md "Names")', () => {
  it('card-rare-name (3.0, EF06 behind EXTERNAL AUTHENTICATE): the four-byte characters 𠀾 and 㛃 come out whole', async () => {
    const { card, psam } = await rig('card-rare-name', { psam: true });
    const id = await card.identify(psam);
    expect(id).toMatchObject({ algorithm: 'SM4', authentic: true, cardState: 'active', triesLeft: 6 });
    expect(id.holder.name).toBe('张𠀾㛃');
    expect(id.holder.undecodable).toBeUndefined();
  });

  it('a name that is not GB18030: the name is empty and named undecodable, the card identifies and VERIFY still works', async () => {
    // READ RECORD by tag 09 (Le 32): a lead byte with no trail byte.
    const { card, vcard } = await rig('card-2.0', { answer: (c) => (c === '00B2090020' ? `091E${'D5C581'}${'00'.repeat(27)}9000` : undefined) });
    const id = await card.identify();
    expect(id).toMatchObject({ cardState: 'active', triesLeft: 6 });
    expect(id.holder).toMatchObject({ name: '', undecodable: ['name'], socialSecurityNumber: '411082198503120038', birthDate: '1985-03-12' });
    expect(await verifyPin(card, Buffer.from('123456'))).toMatchObject({ status: 'answered', sw: 0x9000 });
    expect(vcard.pinTriesLeft).toBe(6);
  });
});

describe('SsseCard.pinState', () => {
  it('SELECTs afresh, then asks the tries (the state after a wrong VERIFY)', async () => {
    const { card, sent } = await rig('card-2.0');
    expect(await verifyPin(card, Buffer.from('999999'))).toMatchObject({ status: 'answered', triesLeft: 5 });
    sent.length = 0;
    await expect(card.pinState()).resolves.toEqual({ triesLeft: 5, cardState: 'active' });
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatch(SELECT_SSSE);
    expect(sent[1]).toBe(VERIFY_QUERY);
  });
});
