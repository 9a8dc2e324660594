/**
 * The SM4 MAC's last-block fold as a profile setting (`sm4MacFold`, docs/card-conventions.md "MACs on
 * card commands"): both profiles validate it, and a card and a PSAM that fold differently disagree
 * (`6988`), so a wrong rule cannot pass a flow silently while the rule is UNCONFIRMED.
 */
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeResponse } from '../../apdu/apdu.js';
import { SM4_MAC_FOLDS } from '../../apdu/crypto.js';
import type { Sm4MacFold } from '../../apdu/crypto.js';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import { KeyUsage } from '../../apdu/psam.js';
import { appBlock, appUnblock, getChallenge, macInput, selectAid } from '../../apdu/ssse.js';
import { caught } from '../../testing/util.js';
import { Psam } from '../psam/psam.js';
import {
  cardFactor,
  cardFixture,
  cardProfileToJson,
  loadCardProfile,
  loadPsamProfile,
  parseCardProfile,
  parsePsamProfile,
  psamFixture,
  psamProfileToJson,
} from './profile.js';
import type { CardProfile, PsamProfile } from './profile.js';
import { SimTransport } from './sim-transport.js';
import { VirtualSsCard } from './virtual-card.js';
import { VirtualPsam } from './virtual-psam.js';

const json = async (file: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;

let card3: CardProfile;
let card2: CardProfile;
let psamProfile: PsamProfile;

beforeAll(async () => {
  card3 = await loadCardProfile(cardFixture('card-3.0'));
  card2 = await loadCardProfile(cardFixture('card-2.0'));
  psamProfile = await loadPsamProfile(psamFixture('psam-test'));
});

function badProfile(f: () => unknown): { message: string; path: unknown } {
  const e = caught(f);
  if (isSsCardError(e, ErrorCode.Sim_BadProfile)) return { message: e.message, path: e.context?.['path'] };
  throw new Error(`expected Sim_BadProfile, got ${String(e)}`);
}

describe('sm4MacFold in the card profile', () => {
  it('the SM4 fixtures name today\'s rule; a profile without it gets the default xor-words', async () => {
    expect(card3.sm4MacFold).toBe('xor-words');
    expect((await loadCardProfile(cardFixture('card-not-activated'))).sm4MacFold).toBe('xor-words');
    const raw = await json(cardFixture('card-3.0'));
    delete raw['sm4MacFold'];
    expect(parseCardProfile(raw, 'card-3.0.json').sm4MacFold).toBe('xor-words');
  });

  it.each(SM4_MAC_FOLDS)('"%s" is accepted and written back', async (fold) => {
    const raw = await json(cardFixture('card-3.0'));
    raw['sm4MacFold'] = fold;
    const p = parseCardProfile(raw, 'card-3.0.json');
    expect(p.sm4MacFold).toBe(fold);
    expect(cardProfileToJson(p)).toEqual(raw);
  });

  it('a 3DES card leaves it out unless it is not the default', () => {
    expect(cardProfileToJson(card2)).not.toHaveProperty('sm4MacFold');
    expect(cardProfileToJson({ ...card2, sm4MacFold: 'left4' })).toHaveProperty('sm4MacFold', 'left4');
  });

  it.each([['xor-halves'], ['LEFT4'], [4], [null]])('%j → Sim_BadProfile naming sm4MacFold and the allowed values', async (value) => {
    const raw = await json(cardFixture('card-3.0'));
    raw['sm4MacFold'] = value;
    const err = badProfile(() => parseCardProfile(raw, 'card-3.0.json'));
    expect(err.path).toBe('sm4MacFold');
    expect(err.message).toContain('sm4MacFold');
    expect(err.message).toContain('"xor-words", "left4"');
  });
});

describe('sm4MacFold in the PSAM profile', () => {
  it('the test PSAM names today\'s rule; without it the default xor-words', async () => {
    expect(psamProfile.sm4MacFold).toBe('xor-words');
    const raw = await json(psamFixture('psam-test'));
    delete raw['sm4MacFold'];
    expect(parsePsamProfile(raw).sm4MacFold).toBe('xor-words');
  });

  it('"left4" is accepted and written back; a 3DES-only PSAM leaves the default out', async () => {
    const raw = await json(psamFixture('psam-test'));
    raw['sm4MacFold'] = 'left4';
    const p = parsePsamProfile(raw);
    expect(p.sm4MacFold).toBe('left4');
    expect(psamProfileToJson(p)).toEqual(raw);
    expect(psamProfileToJson({ ...p, applications: { '3DES': 0x1001 }, sm4MacFold: 'xor-words' })).not.toHaveProperty('sm4MacFold');
  });

  it('an unknown rule → Sim_BadProfile naming sm4MacFold, no key in the message', async () => {
    const raw = await json(psamFixture('psam-test'));
    raw['sm4MacFold'] = 'pboc';
    const err = badProfile(() => parsePsamProfile(raw, 'psam-test.json'));
    expect(err.path).toBe('sm4MacFold');
    expect(err.message).toContain('"xor-words", "left4"');
    for (const k of Object.values(raw['masterKeys'] as Record<string, string>)) expect(err.message).not.toContain(k);
  });
});

describe('a profile built in code is checked when the card or PSAM is made', () => {
  it.each([
    ['VirtualSsCard', () => new VirtualSsCard({ ...card3, sm4MacFold: 'xor-halves' as Sm4MacFold })],
    ['VirtualPsam', () => new VirtualPsam({ ...psamProfile, sm4MacFold: undefined as unknown as Sm4MacFold })],
  ])('%s → Input_BadOption naming sm4MacFold', (_what, make) => {
    const e = caught(make);
    expect(isSsCardError(e, ErrorCode.Input_BadOption) && e.context?.['option']).toBe('sm4MacFold');
  });
});

/** APPLICATION BLOCK then UNBLOCK, each MAC computed by the PSAM client over the virtual PSAM. */
async function blockThenUnblock(card: CardProfile, psamFold: Sm4MacFold): Promise<[string, string]> {
  const c = new VirtualSsCard(card);
  const reader = new SimTransport(c, { protocol: card.protocol });
  const psam = new Psam(new SimTransport(new VirtualPsam({ ...psamProfile, sm4MacFold: psamFold }), { protocol: psamProfile.protocol }));
  await psam.open();
  const tx = async (apdu: Buffer): Promise<{ sw: number; data: Buffer }> => decodeResponse(await reader.transmit(apdu));
  expect((await tx(selectAid())).sw).toBe(0x9000);
  const bs = card.algorithm === 'SM4' ? 16 : 8;
  const send = async (ins: 0x1e | 0x18): Promise<string> => {
    const challenge = await tx(getChallenge(bs));
    expect(challenge.sw).toBe(0x9000);
    const m = await psam.commandMac(card.algorithm, KeyUsage.AppBlockUnblock, cardFactor(card), challenge.data, macInput(0x84, ins, 0x00, 0x00, Buffer.alloc(0)));
    return (await tx(ins === 0x1e ? appBlock(m) : appUnblock(m))).sw.toString(16).toUpperCase();
  };
  return [await send(0x1e), await send(0x18)];
}

describe('card and PSAM with the same rule agree; with different rules the card refuses the MAC', () => {
  const pairs = SM4_MAC_FOLDS.flatMap((cardFold) => SM4_MAC_FOLDS.map((psamFold) => [cardFold, psamFold] as const));

  it.each(pairs)('SM4 card %s, PSAM %s', async (cardFold, psamFold) => {
    const [block, unblock] = await blockThenUnblock({ ...card3, sm4MacFold: cardFold }, psamFold);
    if (cardFold === psamFold) {
      expect([block, unblock]).toEqual(['9000', '9000']);
    } else {
      expect([block, unblock]).toEqual(['6988', '6988']);
    }
  });

  it('a 3DES card is not touched by the rule (retail MAC)', async () => {
    expect(await blockThenUnblock({ ...card2, sm4MacFold: 'xor-words' }, 'left4')).toEqual(['9000', '9000']);
  });
});
