/**
 * Golden byte tests of the card OS, straight through `process()` (no transport): what a reader
 * would see on the wire. Protocol scenarios with the PSAM are in conformance.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { beforeEach, describe, expect, it } from 'vitest';
import { toHex } from '../../apdu/hex.js';
import { cardFixture, loadCardProfile } from './profile.js';
import type { CardProfile } from './profile.js';
import { VirtualSsCard } from './virtual-card.js';

const AID = '7378312E73682EC9E7BBE1B1A3D5CF';
/** 6F 19 | 84 0F <AID> | A5 06 | 9F0C 03 86 01 <alg> */
const fci = (alg: '01' | '03'): string => `6F19840F${AID}A5069F0C038601${alg}`;

let profiles: Record<string, CardProfile>;

beforeEach(async () => {
  profiles = {};
  for (const name of ['card-2.0', 'card-3.0', 'card-not-activated', 'card-locked']) {
    profiles[name] = await loadCardProfile(cardFixture(name));
  }
});

function make(name: string, change: Partial<CardProfile> = {}): VirtualSsCard & { tx(hex: string): string } {
  const card = new VirtualSsCard({ ...profiles[name]!, ...change }, { random: (n) => Buffer.alloc(n, 0xa5) });
  card.powerOn();
  return Object.assign(card, { tx: (hex: string) => toHex(card.process(Buffer.from(hex.replace(/\s+/g, ''), 'hex'))) });
}

describe('SELECT', () => {
  it('T=1 3.0 card: FCI with 9F0C 86 01 03 (SM4) directly', () => {
    expect(make('card-3.0').tx(`00A404000F${AID}00`)).toBe(`${fci('03')}9000`);
  });

  it('T=1 without Le still answers the FCI', () => {
    expect(make('card-3.0').tx(`00A404000F${AID}`)).toBe(`${fci('03')}9000`);
  });

  it('T=0 2.0 card: 611B, then GET RESPONSE in pieces (61xx for the rest, 6Cxx for a long Le)', () => {
    const c = make('card-2.0');
    expect(c.tx(`00A404000F${AID}`)).toBe('611B');
    expect(c.tx('00C0000020')).toBe('6C1B');
    expect(c.tx('00C0000010')).toBe(`${fci('01').slice(0, 32)}610B`);
    expect(c.tx('00C000000B')).toBe(`${fci('01').slice(32)}9000`);
    expect(c.tx('00C000000B')).toBe('6985'); // nothing pending any more
  });

  it('any other command discards unfetched response data', () => {
    const c = make('card-2.0');
    expect(c.tx(`00A404000F${AID}`)).toBe('611B');
    expect(c.tx('00A4020002EF05')).toBe('9000');
    expect(c.tx('00C000001B')).toBe('6985');
  });

  it('P2=0C: no FCI', () => {
    expect(make('card-2.0').tx(`00A4040C0F${AID}`)).toBe('9000');
  });

  it('without the algorithm tag the A5 template is empty', () => {
    expect(make('card-3.0', { fciAlgorithmTag: false }).tx(`00A404000F${AID}`)).toBe(`6F13840F${AID}A5009000`);
  });

  it('not activated: 6283 with the FCI (T=0: as the final status of GET RESPONSE)', () => {
    const c = make('card-not-activated');
    expect(c.tx(`00A404000F${AID}`)).toBe('611B');
    expect(c.tx('00C000001B')).toBe(`${fci('03')}6283`);
  });

  it('application locked: FCI with 9303', () => {
    expect(make('card-2.0', { state: 'appLocked', protocol: 'T1' }).tx(`00A404000F${AID}`)).toBe(`${fci('01')}9303`);
  });

  it.each([
    ['unknown AID', `00A404000AA00000000300000000000`, '6A82'],
    ['EF05 from the MF (application not selected)', '00A4020002EF05', '6A82'],
    ['unknown EF', '00A4020002EF09', '6A82'],
    ['DF02 (not modelled)', '00A4000002DF02', '6A82'],
    ['Lc 1', '00A400000101', '6700'],
    ['bad P1', '00A4080002EF05', '6A86'],
    ['bad P2', '00A4000102EF05', '6A86'],
  ])('%s → %s', (_what, apdu, sw) => {
    const c = make('card-3.0');
    expect(c.tx(apdu.length % 2 === 0 ? apdu : `${apdu}0`).slice(-4)).toBe(sw);
  });

  it('MF, then the application, then EFs and DF01 (EF06 in DF01 is the phone file)', () => {
    const c = make('card-2.0');
    expect(c.tx('00A40000023F00')).toBe('9000');
    expect(c.tx(`00A4040C0F${AID}`)).toBe('9000');
    expect(c.tx('00A4000002DF01')).toBe('9000');
    expect(c.tx('00A4020002EF06')).toBe('9000');
    // the phone record needs a verified PIN
    expect(c.tx('00B2010411')).toBe('6982');
    // back to the application's EF05 from DF01 (P1=00 searches the parent too)
    expect(c.tx('00A4000002EF05')).toBe('9000');
    expect(c.tx('00B207040B')).toBe(`0709${Buffer.from('X00000019').toString('hex').toUpperCase()}9000`);
  });
});

describe('READ RECORD / READ BINARY', () => {
  const cardNumberTlv = `0709${Buffer.from('X00000019').toString('hex').toUpperCase()}`;

  it('by record number and by tag give the same record', () => {
    const c = make('card-3.0');
    c.tx(`00A4040C0F${AID}`);
    c.tx('00A4020002EF05');
    expect(c.tx('00B207040B')).toBe(c.tx('00B207000B'));
    // EF06 record 2 is tag 09 (name, 30 bytes GBK)
    expect(make('card-2.0').tx('00B20204' + '20')).toBe('6986');
  });

  it('EF06 record numbers differ from the tags: record 1 = 08, record 2 = 09, record 7 = 0D', () => {
    const c = make('card-2.0', { protocol: 'T1' });
    c.tx(`00A4040C0F${AID}`);
    c.tx('00A4020002EF06');
    expect(c.tx('00B2010414').slice(0, 4)).toBe('0812');
    expect(c.tx('00B2020420').slice(0, 4)).toBe('091E');
    expect(c.tx('00B2070406')).toBe('0D04198503129000');
    expect(c.tx('00B20D0006')).toBe('0D04198503129000');
  });

  it('by SFI in P2 (EF05 = SFI 5) without selecting the EF', () => {
    const c = make('card-2.0');
    c.tx(`00A4040C0F${AID}`);
    expect(c.tx('00B2072C0B')).toBe(`${cardNumberTlv}9000`);
  });

  it('T=0: a wrong Le gets 6Cxx; T=1: a short Le gets 6Cxx, Le 00 gets the record', () => {
    const t0 = make('card-2.0');
    t0.tx(`00A4040C0F${AID}`);
    t0.tx('00A4020002EF05');
    expect(t0.tx('00B2070400')).toBe('6C0B');
    expect(t0.tx('00B2070420')).toBe('6C0B');
    expect(t0.tx('00B20704')).toBe('6C0B');
    const t1 = make('card-2.0', { protocol: 'T1' });
    t1.tx(`00A4040C0F${AID}`);
    t1.tx('00A4020002EF05');
    expect(t1.tx('00B2070405')).toBe('6C0B');
    expect(t1.tx('00B2070400')).toBe(`${cardNumberTlv}9000`);
  });

  it.each([
    ['record 9 of EF05', '00B209040B', '6A83'],
    ['unknown tag', '00B230000B', '6A83'],
    ['record 0', '00B200040B', '6A83'],
    ['bad addressing mode', '00B207050B', '6A86'],
    ['READ BINARY of a record file', '00B0000010', '6981'],
  ])('%s → %s', (_what, apdu, sw) => {
    const c = make('card-2.0', { protocol: 'T1' });
    c.tx(`00A4040C0F${AID}`);
    c.tx('00A4020002EF05');
    expect(c.tx(apdu)).toBe(sw);
  });

  it('without a current EF: 6986', () => {
    const c = make('card-2.0');
    c.tx(`00A4040C0F${AID}`);
    expect(c.tx('00B207040B')).toBe('6986');
  });

  it('READ BINARY reads the photo in pieces; past the end 6B00; READ RECORD on it 6981', () => {
    const p = profiles['card-2.0']!;
    const c = make('card-2.0', { protocol: 'T1' });
    c.tx(`00A4040C0F${AID}`);
    expect(c.tx('00A4020002EF08')).toBe('9000');
    const parts: string[] = [];
    for (let off = 0; off < p.photo.length; off += 0x40) {
      const r = c.tx(`00B0${off.toString(16).padStart(4, '0')}40`);
      expect(r.slice(-4)).toBe('9000');
      parts.push(r.slice(0, -4));
    }
    expect(parts.join('')).toBe(toHex(p.photo));
    expect(c.tx(`00B0${p.photo.length.toString(16).padStart(4, '0')}10`)).toBe('6B00');
    expect(c.tx('00B2010400')).toBe('6981');
    // SFI form: 00 B0 88 00: SFI 8 (EF08), offset 0
    expect(c.tx('00B0880004')).toBe('FFD8FFE09000');
  });

  it('no fingerprint in the profile: EF07 does not exist', () => {
    const c = make('card-2.0');
    c.tx(`00A4040C0F${AID}`);
    expect(c.tx('00A4020002EF07')).toBe('6A82');
    const f = make('card-2.0', { fingerprint: Buffer.from('0102', 'hex'), protocol: 'T1' });
    f.tx(`00A4040C0F${AID}`);
    expect(f.tx('00A4020002EF07')).toBe('9000');
    expect(f.tx('00B0000000')).toBe('01029000');
  });

  it('the phone (DF01 EF06 tag 28): 6982 until the PIN is verified (default), then the 15-byte AN record', () => {
    const phoneTlv = `280F${Buffer.from('13000000019').toString('hex').toUpperCase()}00000000`;
    const c = make('card-2.0', { protocol: 'T1' });
    c.tx(`00A4040C0F${AID}`);
    c.tx('00A4000002DF01');
    c.tx('00A4020002EF06');
    expect(c.tx('00B2280011')).toBe('6982');
    expect(c.tx('0020000003111111')).toBe('63C5');
    expect(c.tx('00B2280011')).toBe('6982');
    expect(c.tx('0020000003123456')).toBe('9000');
    expect(c.tx('00B2280011')).toBe(`${phoneTlv}9000`);
    expect(c.tx('00B2010411')).toBe(`${phoneTlv}9000`);
    // Re-selecting the application drops the verified state.
    c.tx(`00A4040C0F${AID}`);
    c.tx('00A4000002DF01');
    c.tx('00A4020002EF06');
    expect(c.tx('00B2280011')).toBe('6982');
  });

  it('phoneAccess "open": the phone reads without a PIN; a bad option is refused by name', () => {
    const c = new VirtualSsCard(profiles['card-3.0']!, { phoneAccess: 'open' });
    c.powerOn();
    const tx = (hex: string): string => toHex(c.process(Buffer.from(hex, 'hex')));
    tx(`00A4040C0F${AID}`);
    tx('00A4000002DF01');
    tx('00A4020002EF06');
    expect(tx('00B2280011')).toBe(`280F${Buffer.from('13000000327').toString('hex').toUpperCase()}000000009000`);
    expect(() => new VirtualSsCard(profiles['card-3.0']!, { phoneAccess: 'sometimes' as 'open' })).toThrow(/phoneAccess/);
  });

  it('3.0: EF06 needs external auth (6982); EF05 does not', () => {
    const c = make('card-3.0');
    c.tx(`00A4040C0F${AID}`);
    expect(c.tx('00B2012C12')).toBe(`0110${profiles['card-3.0']!.issuer.cardId}9000`);
    expect(c.tx('00B2013414')).toBe('6982');
  });
});

describe('status words of the command set', () => {
  it.each([
    ['unknown INS', '00CA000000', '6D00'],
    ['unknown CLA', 'A0A40000023F00', '6E00'],
    ['unknown proprietary INS', '80CA000000', '6D00'],
    ['too short to be an APDU', '00A4', '6700'],
    ['Lc longer than the data', '00A4000005EF05', '6700'],
    ['GET CHALLENGE with data', '008400000101', '6700'],
    ['GET CHALLENGE bad P1', '0084010008', '6A86'],
    ['GET CHALLENGE Le 5', '0084000005', '6700'],
    ['GET RESPONSE with P1', '00C0010000', '6A86'],
    ['EXTERNAL AUTH without challenge', '0082000A08' + '00'.repeat(8), '6985'],
    ['EXTERNAL AUTH wrong length', '0082000A04' + '00'.repeat(4), '6700'],
    ['INTERNAL AUTH wrong length', '0088000004' + '00'.repeat(4), '6700'],
    ['INTERNAL AUTH unknown key', '0088000508' + '00'.repeat(8), '6A88'],
    ['APP UNBLOCK without challenge', '8418000004' + '00'.repeat(4), '6985'],
    ['VERIFY wrong PIN length', '0020000002' + '1234', '6700'],
    ['VERIFY 5 digits in 3 bytes', '002000000312345F', '6700'],
    ['VERIFY not BCD', '00200000031234AB', '6A80'],
    ['VERIFY bad P2', '0020000103123456', '6A86'],
    ['CHANGE PIN wrong length', '805E0100061234561234', '6700'],
    ['CHANGE PIN no separator', '805E01000712345600123456', '6A80'],
    ['PBOC RELOAD wrong length', '805E000003123456', '6700'],
    ['3.0 RELOAD on a PBOC card', '84240001' + '0C' + '00'.repeat(12), '6A86'],
    ['PIN UNBLOCK wrong length', '84240000' + '08' + '00'.repeat(8), '6700'],
    ['UPDATE RECORD without current EF', '00DC070403070101', '6986'],
  ])('%s → %s', (_what, apdu, sw) => {
    const c = make('card-2.0', { protocol: 'T1' });
    c.tx(`00A4040C0F${AID}`);
    expect(c.tx(apdu)).toBe(sw);
  });

  it('GET CHALLENGE: 4, 8 or 16 bytes; T=0 with Le 00 → 6C08 (block size); T=1 Le 00 → 8 bytes', () => {
    const t0 = make('card-2.0');
    expect(t0.tx('0084000004')).toBe('A5A5A5A59000');
    expect(t0.tx('0084000010')).toBe(`${'A5'.repeat(16)}9000`);
    expect(t0.tx('0084000000')).toBe('6C08');
    const t1 = make('card-3.0');
    expect(t1.tx('0084000000')).toBe(`${'A5'.repeat(16)}9000`);
  });

  it('VERIFY without data: tries left, 9000 once verified', () => {
    const c = make('card-2.0');
    c.tx(`00A4040C0F${AID}`);
    expect(c.tx('00200000')).toBe('63C6');
    expect(c.tx('0020000003123456')).toBe('9000');
    expect(c.tx('00200000')).toBe('9000');
  });
});

describe('persistent and volatile state', () => {
  it('tries survive powerOff/powerOn; the selected file, challenge and verified flag do not', () => {
    const c = make('card-2.0', { protocol: 'T1' });
    c.tx(`00A4040C0F${AID}`);
    expect(c.tx('0020000003000000')).toBe('63C5');
    expect(c.tx('0020000003123456')).toBe('9000');
    expect(c.tx('0020000003000000')).toBe('63C5');
    c.tx('00A4000002DF01');
    c.tx('00A4020002EF06');
    c.tx('0084000008');
    c.powerOff();
    c.powerOn();
    expect(c.pinTriesLeft).toBe(5);
    expect(c.tx('00B2010411')).toBe('6986');
    expect(c.tx('0082000A08' + '00'.repeat(8))).toBe('6985');
    c.tx(`00A4040C0F${AID}`);
    expect(c.tx('00200000')).toBe('63C5');
  });

  it('reset() is powerOff + powerOn', () => {
    const c = make('card-2.0', { protocol: 'T1' });
    c.tx(`00A4040C0F${AID}`);
    c.tx('00A4020002EF05');
    c.reset();
    expect(c.tx('00B207040B')).toBe('6986');
  });

  it('save() and fromFile() carry PIN, tries and state', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sscard-card-'));
    try {
      const c = make('card-2.0');
      c.tx(`00A4040C0F${AID}`);
      c.tx('0020000003000000');
      c.tx('0020000003000000');
      const file = path.join(dir, 'card.json');
      await c.save(file);
      const d = await VirtualSsCard.fromFile(file);
      expect(d.pinTriesLeft).toBe(4);
      expect(d.cardState).toBe('active');
      expect(d.toProfile().pin.toString()).toBe('123456');
      expect(d.label).toBe(c.label);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('inspecting a card shows neither the PIN nor a key', () => {
    const c = make('card-2.0');
    const shown = inspect(c, { depth: 10, showHidden: true });
    expect(shown).not.toContain('31 32 33 34 35 36'); // the PIN "123456" as bytes
    for (const key of profiles['card-2.0']!.keys.values()) {
      expect(shown.replace(/\s/g, '').toUpperCase()).not.toContain(toHex(key).slice(0, 16));
    }
    expect(JSON.stringify(c)).not.toContain('123456');
  });
});
