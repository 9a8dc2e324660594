/**
 * Simulator conformance: the virtual card, driven the way a terminal drives a real one — through
 * a CardTransport (SimTransport), with every secret computed by the PSAM client over the virtual
 * PSAM. Each scenario is a rule of docs/card-conventions.md.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeResponse, encodeCommand } from '../../apdu/apdu.js';
import type { ResponseApdu } from '../../apdu/apdu.js';
import { blockSize, macEquals } from '../../apdu/crypto.js';
import type { Algorithm } from '../../apdu/crypto.js';
import { pinToBcd } from '../../apdu/pin.js';
import { KeyUsage } from '../../apdu/psam.js';
import { decodeEf05, decodeEf06, EF05_FIELDS, EF06_FIELDS, encodeField, parseSimpleTlv } from '../../apdu/records.js';
import {
  appBlock,
  appUnblock,
  changePin,
  externalAuth,
  FID,
  getChallenge,
  internalAuth,
  macInput,
  pinUnblock,
  readRecordByNumber,
  readRecordByTag,
  reloadPinPboc,
  reloadPinSsse3,
  selectAid,
  selectFile,
  updateRecord,
  verify,
  verifyQuery,
} from '../../apdu/ssse.js';
import { Psam } from '../psam/psam.js';
import { cardFixture, diversificationFactor, loadCardProfile, loadPsamProfile, PHONE_TAG, psamFixture } from './profile.js';
import type { CardProfile, PsamProfile } from './profile.js';
import { SimTransport } from './sim-transport.js';
import { VirtualSsCard } from './virtual-card.js';
import { VirtualPsam } from './virtual-psam.js';

type CardName = 'card-2.0' | 'card-3.0' | 'card-not-activated' | 'card-locked';
const PINS: Record<CardName, string> = { 'card-2.0': '123456', 'card-3.0': '246810', 'card-not-activated': '123456', 'card-locked': '135790' };

let psamProfile: PsamProfile;
const profiles = {} as Record<CardName, CardProfile>;

beforeAll(async () => {
  psamProfile = await loadPsamProfile(psamFixture('psam-test'));
  for (const name of Object.keys(PINS) as CardName[]) profiles[name] = await loadCardProfile(cardFixture(name));
});

const pin = (digits: string): Buffer => Buffer.from(digits, 'latin1');

/** A terminal: card reader + PSAM, both simulated. */
class Terminal {
  public readonly alg: Algorithm;
  public readonly bs: 8 | 16;
  public factor: Buffer = Buffer.alloc(0);
  private constructor(
    public readonly card: VirtualSsCard,
    public readonly reader: SimTransport,
    public readonly psam: Psam,
  ) {
    this.alg = card.algorithm;
    this.bs = blockSize(this.alg);
  }

  public static async open(card: VirtualSsCard | CardName, change: Partial<CardProfile> = {}): Promise<Terminal> {
    const c = typeof card === 'string' ? new VirtualSsCard({ ...profiles[card], ...change }) : card;
    const reader = new SimTransport(c, { protocol: c.toProfile().protocol });
    const psam = new Psam(new SimTransport(new VirtualPsam(psamProfile), { protocol: 'T0' }));
    await psam.open();
    const t = new Terminal(c, reader, psam);
    await t.identify();
    return t;
  }

  public async tx(apdu: Buffer): Promise<ResponseApdu> {
    return decodeResponse(await this.reader.transmit(apdu));
  }

  public async sw(apdu: Buffer): Promise<string> {
    return (await this.tx(apdu)).sw.toString(16).toUpperCase();
  }

  /** Select SSSE and read the card identification code: the diversification factor. */
  public async identify(): Promise<void> {
    const sel = await this.tx(selectAid());
    expect([0x9000, 0x6283, 0x9303]).toContain(sel.sw);
    expect((await this.tx(selectFile(FID.EF05))).sw).toBe(0x9000);
    const r = await this.tx(readRecordByNumber(1, 16));
    expect(r.sw).toBe(0x9000);
    this.factor = diversificationFactor(parseSimpleTlv(r.data).value, { offset: 8, length: 8 });
  }

  public async challenge(): Promise<Buffer> {
    const r = await this.tx(getChallenge(this.bs));
    expect(r.sw).toBe(0x9000);
    return r.data;
  }

  /** GET CHALLENGE, then the PSAM's MAC over `CLA INS P1 P2 Lc ‖ body`. */
  public async mac(cla: number, ins: number, p1: number, p2: number, body: Buffer, usage: number): Promise<Buffer> {
    const ch = await this.challenge();
    return this.psam.commandMac(this.alg, usage, this.factor, ch, macInput(cla, ins, p1, p2, body));
  }

  public async externalAuth(keyId: number, corrupt = false): Promise<string> {
    const ch = await this.challenge();
    const crypt = await this.psam.externalAuthCryptogram(this.alg, keyId, this.factor, ch);
    if (corrupt) crypt[0] = crypt[0]! ^ 0x01;
    return this.sw(externalAuth(keyId, crypt));
  }

  public async appUnblock(corrupt = false): Promise<string> {
    const m = await this.mac(0x84, 0x18, 0x00, 0x00, Buffer.alloc(0), KeyUsage.AppBlockUnblock);
    if (corrupt) m[3] = m[3]! ^ 0x80;
    return this.sw(appUnblock(m));
  }

  public async appBlock(): Promise<string> {
    return this.sw(appBlock(await this.mac(0x84, 0x1e, 0x00, 0x00, Buffer.alloc(0), KeyUsage.AppBlockUnblock)));
  }

  public async reloadPboc(newPin: string, corrupt = false): Promise<string> {
    const m = await this.mac(0x80, 0x5e, 0x00, 0x00, pinToBcd(pin(newPin)), KeyUsage.ReloadPin);
    if (corrupt) m[0] = m[0]! ^ 0x01;
    return this.sw(reloadPinPboc(pin(newPin), m));
  }

  /** PIN UNBLOCK (p2 00) or 3.0 RELOAD (p2 01): PSAM-encrypted PIN block ‖ MAC, both with the usage-24 key. */
  public async pinBlockCommand(p2: 0 | 1, newPin: string, corrupt = false): Promise<string> {
    const block = await this.psam.encryptPinBlock(this.alg, this.factor, pin(newPin));
    const m = await this.mac(0x84, 0x24, 0x00, p2, block, KeyUsage.PinUnblock);
    if (corrupt) m[2] = m[2]! ^ 0x10;
    return this.sw(p2 === 0 ? pinUnblock(block, m) : reloadPinSsse3(block, m));
  }

  public async readRecords(fields: typeof EF05_FIELDS, byTag: boolean): Promise<Map<number, Buffer>> {
    const out = new Map<number, Buffer>();
    for (const f of fields) {
      const r = await this.tx(byTag ? readRecordByTag(f.tag, f.length) : readRecordByNumber(f.record, f.length));
      expect(r.sw, `${f.zh} (${byTag ? 'tag' : 'record'} ${byTag ? f.tag : f.record})`).toBe(0x9000);
      const tlv = parseSimpleTlv(r.data);
      expect(tlv.tag).toBe(f.tag);
      out.set(tlv.tag, tlv.value);
    }
    return out;
  }
}

describe('PIN tries', () => {
  it('count down 63C5 … 63C0, then 6983, even for the right PIN', async () => {
    const t = await Terminal.open('card-2.0');
    expect(await t.sw(verifyQuery())).toBe('63C6');
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(await t.sw(verify(pin('000000'))));
    expect(seen).toEqual(['63C5', '63C4', '63C3', '63C2', '63C1', '63C0']);
    expect(await t.sw(verify(pin(PINS['card-2.0'])))).toBe('6983');
    expect(await t.sw(verifyQuery())).toBe('6983');
    expect(await t.sw(changePin(pin(PINS['card-2.0']), pin('111111')))).toBe('6983');
  });

  it('the lock survives power cycles, save and load', async () => {
    const t = await Terminal.open('card-2.0');
    for (let i = 0; i < 6; i++) await t.tx(verify(pin('000000')));
    await t.reader.reset();
    await t.identify();
    expect(await t.sw(verifyQuery())).toBe('6983');
    t.reader.remove();
    t.reader.insert();
    await t.identify();
    expect(await t.sw(verify(pin(PINS['card-2.0'])))).toBe('6983');
    const dir = await mkdtemp(path.join(tmpdir(), 'sscard-conf-'));
    try {
      const file = path.join(dir, 'locked.json');
      await t.card.save(file);
      const u = await Terminal.open(await VirtualSsCard.fromFile(file));
      expect(u.card.pinTriesLeft).toBe(0);
      expect(await u.sw(verify(pin(PINS['card-2.0'])))).toBe('6983');
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('the right PIN resets the counter', async () => {
    const t = await Terminal.open('card-3.0');
    expect(await t.sw(verify(pin('000000')))).toBe('63C5');
    expect(await t.sw(verify(pin('000000')))).toBe('63C4');
    expect(await t.sw(verify(pin(PINS['card-3.0'])))).toBe('9000');
    await t.reader.reset();
    await t.identify();
    expect(await t.sw(verifyQuery())).toBe('63C6');
  });

  it('wrong PIN length → 6700 and no try spent', async () => {
    const t = await Terminal.open('card-2.0');
    expect(await t.sw(encodeCommand({ cla: 0, ins: 0x20, p1: 0, p2: 0, data: Buffer.from('1234', 'hex') }))).toBe('6700');
    expect(await t.sw(encodeCommand({ cla: 0, ins: 0x20, p1: 0, p2: 0, data: Buffer.from('12345678', 'hex') }))).toBe('6700');
    expect(await t.sw(verify(pin('12345')))).toBe('6700');
    expect(await t.sw(verifyQuery())).toBe('63C6');
  });
});

describe('CHANGE PIN', () => {
  it('with the right old PIN: the new PIN works, the old one no longer', async () => {
    const t = await Terminal.open('card-2.0');
    expect(await t.sw(changePin(pin('123456'), pin('802211')))).toBe('9000');
    expect(await t.sw(verify(pin('123456')))).toBe('63C5');
    expect(await t.sw(verify(pin('802211')))).toBe('9000');
    expect(t.card.toProfile().pin.toString()).toBe('802211');
  });

  it('with a wrong old PIN: a try is spent and the PIN is unchanged', async () => {
    const t = await Terminal.open('card-3.0');
    expect(await t.sw(changePin(pin('000000'), pin('802211')))).toBe('63C5');
    expect(await t.sw(verify(pin('802211')))).toBe('63C4');
    expect(await t.sw(verify(pin(PINS['card-3.0'])))).toBe('9000');
  });
});

describe('secured commands (MAC with a PSAM)', () => {
  it('PBOC RELOAD PIN on a 2.0 card: new PIN, tries back to 6', async () => {
    const t = await Terminal.open('card-2.0');
    await t.tx(verify(pin('000000')));
    expect(await t.reloadPboc('909090')).toBe('9000');
    expect(await t.sw(verifyQuery())).toBe('63C6');
    expect(await t.sw(verify(pin('909090')))).toBe('9000');
  });

  it('PBOC RELOAD PIN on a blocked PIN → 6983 (PIN UNBLOCK is the way)', async () => {
    const t = await Terminal.open('card-locked');
    expect(await t.reloadPboc('909090')).toBe('6983');
  });

  it.each([
    ['RELOAD PIN (PBOC)', (t: Terminal) => t.reloadPboc('909090', true)],
    ['PIN UNBLOCK', (t: Terminal) => t.pinBlockCommand(0, '909090', true)],
    ['APP UNBLOCK', (t: Terminal) => t.appUnblock(true)],
  ])('%s with a wrong MAC → 6988, nothing changes', async (_what, run) => {
    const t = await Terminal.open('card-locked');
    expect(await run(t)).toBe('6988');
    expect(t.card.pinTriesLeft).toBe(0);
    expect(t.card.toProfile().pin.toString()).toBe(PINS['card-locked']);
    expect(t.card.cardState).toBe('active');
  });

  it('3.0 RELOAD PIN with a wrong MAC → 6988', async () => {
    const t = await Terminal.open('card-3.0');
    expect(await t.externalAuth(0x06)).toBe('9000');
    expect(await t.pinBlockCommand(1, '909090', true)).toBe('6988');
  });

  it('no challenge → 6985; the challenge serves the next command only', async () => {
    const t = await Terminal.open('card-2.0');
    const m = await t.psam.commandMac(t.alg, KeyUsage.AppBlockUnblock, t.factor, Buffer.alloc(8), macInput(0x84, 0x18, 0, 0, Buffer.alloc(0)));
    expect(await t.sw(appUnblock(m))).toBe('6985');
    const ch = await t.challenge();
    const m2 = await t.psam.commandMac(t.alg, KeyUsage.AppBlockUnblock, t.factor, ch, macInput(0x84, 0x18, 0, 0, Buffer.alloc(0)));
    expect(await t.sw(selectFile(FID.EF05))).toBe('9000'); // spends the challenge
    expect(await t.sw(appUnblock(m2))).toBe('6985');
    expect(await t.sw(externalAuth(0x0a, Buffer.alloc(8)))).toBe('6985');
  });

  it('PIN UNBLOCK with a PSAM-encrypted PIN block restores the tries and sets the PIN', async () => {
    const t = await Terminal.open('card-locked');
    expect(await t.sw(verifyQuery())).toBe('6983');
    expect(await t.pinBlockCommand(0, '314159')).toBe('9000');
    expect(await t.sw(verifyQuery())).toBe('63C6');
    expect(await t.sw(verify(pin(PINS['card-locked'])))).toBe('63C5');
    expect(await t.sw(verify(pin('314159')))).toBe('9000');
  });

  it('3.0 RELOAD PIN needs external auth with key 06 (6982 before)', async () => {
    const t = await Terminal.open('card-3.0');
    expect(await t.pinBlockCommand(1, '909090')).toBe('6982');
    expect(await t.externalAuth(0x06)).toBe('9000');
    expect(await t.pinBlockCommand(1, '909090')).toBe('9000');
    expect(await t.sw(verify(pin('909090')))).toBe('9000');
  });

  it('APP BLOCK (挂失) → 9303 for PIN commands, EF05 still readable; APP UNBLOCK (解挂) restores', async () => {
    const t = await Terminal.open('card-2.0');
    expect(await t.appBlock()).toBe('9000');
    expect(t.card.cardState).toBe('appLocked');
    expect(await t.sw(verify(pin(PINS['card-2.0'])))).toBe('9303');
    await t.identify(); // SELECT answers FCI ‖ 9303; EF05 readable
    expect(await t.sw(selectAid())).toBe('9303');
    expect(await t.sw(selectFile(FID.EF06))).toBe('9000');
    expect(await t.sw(readRecordByNumber(1, 18))).toBe('9303');
    expect(await t.appUnblock()).toBe('9000');
    expect(await t.sw(selectAid())).toBe('9000');
    expect(await t.sw(verify(pin(PINS['card-2.0'])))).toBe('9000');
  });
});

describe('a card that is not activated', () => {
  it('6283 on SELECT, 6985 for VERIFY; APP UNBLOCK activates it; after RELOAD the PIN verifies', async () => {
    const t = await Terminal.open('card-not-activated');
    const sel = await t.tx(selectAid());
    expect(sel.sw).toBe(0x6283);
    expect(sel.data[0]).toBe(0x6f);
    expect(await t.sw(verifyQuery())).toBe('6985');
    expect(await t.sw(verify(pin(PINS['card-not-activated'])))).toBe('6985');
    expect(await t.sw(changePin(pin('123456'), pin('654321')))).toBe('6985');
    expect(await t.pinBlockCommand(0, '654321')).toBe('6985');
    // EF05 and (after external auth 0A) EF06 identify the card before activation.
    await t.identify();
    expect(await t.externalAuth(0x0a)).toBe('9000');
    await t.tx(selectFile(FID.EF06));
    expect(decodeEf06(await t.readRecords(EF06_FIELDS, false)).name).toBe('赵一鸣');
    // activation
    expect(await t.appUnblock()).toBe('9000');
    expect(t.card.cardState).toBe('active');
    expect(await t.sw(selectAid())).toBe('9000');
    expect(await t.externalAuth(0x06)).toBe('9000');
    expect(await t.pinBlockCommand(1, '270514')).toBe('9000');
    expect(await t.sw(verify(pin('270514')))).toBe('9000');
  });

  it('activation is persistent', async () => {
    const t = await Terminal.open('card-not-activated');
    expect(await t.appUnblock()).toBe('9000');
    const p = t.card.toProfile();
    expect(p.state).toBe('active');
    const u = await Terminal.open(new VirtualSsCard(p));
    expect(await u.sw(selectAid())).toBe('9000');
  });
});

describe('authentication', () => {
  it('3.0: EF06 answers 6982 until external auth with key 0A via the PSAM', async () => {
    const t = await Terminal.open('card-3.0');
    await t.tx(selectFile(FID.EF06));
    expect(await t.sw(readRecordByNumber(1, 18))).toBe('6982');
    expect(await t.externalAuth(0x0a, true)).toBe('6300');
    expect(await t.sw(readRecordByNumber(1, 18))).toBe('6982');
    expect(await t.externalAuth(0x0a)).toBe('9000');
    const ef06 = decodeEf06(await t.readRecords(EF06_FIELDS, false));
    expect(ef06.socialSecurityNumber).toBe('410402199207080047');
    // security status is volatile
    await t.reader.reset();
    await t.identify();
    await t.tx(selectFile(FID.EF06));
    expect(await t.sw(readRecordByNumber(1, 18))).toBe('6982');
  });

  it.each(['card-2.0', 'card-3.0'] as CardName[])('%s: INTERNAL AUTH matches the PSAM; a card with another key does not', async (name) => {
    const t = await Terminal.open(name);
    const random = Buffer.alloc(t.bs, 0x3c);
    const expected = await t.psam.internalAuthExpected(t.alg, t.factor, random);
    const r = await t.tx(internalAuth(0x00, random));
    expect(r.sw).toBe(0x9000);
    expect(macEquals(r.data, expected)).toBe(true);

    const keys = new Map(profiles[name].keys);
    keys.set('88:01', Buffer.alloc(16, 0x42));
    const fake = await Terminal.open(name, { keys });
    const f = await fake.tx(internalAuth(0x00, random));
    expect(f.sw).toBe(0x9000);
    expect(macEquals(f.data, expected)).toBe(false);
  });
});

describe('reading', () => {
  it.each(['card-2.0', 'card-3.0'] as CardName[])('%s: both READ RECORD addressing modes give the same EF05/EF06', async (name) => {
    const t = await Terminal.open(name);
    const byNumber = await t.readRecords(EF05_FIELDS, false);
    const byTag = await t.readRecords(EF05_FIELDS, true);
    expect(byTag).toEqual(byNumber);
    expect(decodeEf05(byNumber)).toEqual({ ...profiles[name].issuer, regionCode: profiles[name].issuer.cardId.slice(0, 6) });
    if (profiles[name].ef06NeedsExternalAuth) expect(await t.externalAuth(0x0a)).toBe('9000');
    await t.tx(selectFile(FID.EF06));
    const h1 = await t.readRecords(EF06_FIELDS, false);
    const h2 = await t.readRecords(EF06_FIELDS, true);
    expect(h2).toEqual(h1);
    expect(decodeEf06(h1)).toEqual(profiles[name].holder);
  });

  it('6A82 for files the card does not have', async () => {
    const t = await Terminal.open('card-2.0');
    expect(await t.sw(selectFile(0xef09))).toBe('6A82');
    expect(await t.sw(selectFile(FID.DF03, 0x00))).toBe('6A82');
    expect(await t.sw(selectAid(Buffer.from('A000000333010101', 'hex')))).toBe('6A82');
  });

  it('DF01 phone number after VERIFY only', async () => {
    const t = await Terminal.open('card-2.0');
    expect(await t.sw(selectFile(FID.DF01, 0x00))).toBe('9000');
    expect(await t.sw(selectFile(FID.EF06))).toBe('9000');
    expect(await t.sw(readRecordByTag(PHONE_TAG, 15))).toBe('6982');
    expect(await t.sw(verify(pin(PINS['card-2.0'])))).toBe('9000');
    const r = await t.tx(readRecordByTag(PHONE_TAG, 15));
    expect(r.sw).toBe(0x9000);
    expect(parseSimpleTlv(r.data).value.toString('latin1').replace(/\0+$/, '')).toBe('13000000019');
  });
});

describe('UPDATE RECORD', () => {
  it('needs external auth with the file write key; the record is written and saved', async () => {
    const t = await Terminal.open('card-2.0');
    await t.tx(selectFile(FID.EF06));
    const name = encodeField(0x09, '王志刚');
    expect(await t.sw(updateRecord(2, 0x09, name))).toBe('6982');
    expect(await t.externalAuth(0x04)).toBe('9000'); // EF05's key, not EF06's
    expect(await t.sw(updateRecord(2, 0x09, name))).toBe('6982');
    expect(await t.externalAuth(0x84)).toBe('9000');
    expect(await t.sw(updateRecord(2, 0x0a, name))).toBe('6A80'); // tag of another record
    expect(await t.sw(updateRecord(2, 0x09, name.subarray(0, 10)))).toBe('6700'); // field length
    expect(await t.sw(updateRecord(9, 0x09, name))).toBe('6A83');
    expect(await t.sw(updateRecord(2, 0x09, name))).toBe('9000');
    expect(decodeEf06(await t.readRecords(EF06_FIELDS, false)).name).toBe('王志刚');
    expect(t.card.toProfile().holder.name).toBe('王志刚');
  });
});

describe('robustness (fast-check)', () => {
  const cases = Object.keys(PINS) as CardName[];

  it.each(cases)('%s: any bytes → a response of ≥ 2 bytes, never an exception', (name) => {
    const card = new VirtualSsCard(profiles[name]);
    card.powerOn();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (bytes) => {
        const r = card.process(Buffer.from(bytes));
        return Buffer.isBuffer(r) && r.length >= 2;
      }),
      { numRuns: 500 },
    );
  });

  it.each(cases)('%s: well-formed APDUs of its command set in any order → ≥ 2 bytes, state stays consistent', (name) => {
    const card = new VirtualSsCard(profiles[name]);
    card.powerOn();
    const header = fc.record({
      cla: fc.constantFrom(0x00, 0x80, 0x84, 0x0c, 0xff),
      ins: fc.constantFrom(0xa4, 0xb0, 0xb2, 0x84, 0x88, 0x82, 0x20, 0x5e, 0x24, 0x1e, 0x18, 0xdc, 0xc0, 0xca),
      p1: fc.oneof(fc.constantFrom(0x00, 0x01, 0x02, 0x04, 0x07, 0x96), fc.integer({ min: 0, max: 255 })),
      p2: fc.oneof(fc.constantFrom(0x00, 0x01, 0x04, 0x0c, 0x2c, 0x34), fc.integer({ min: 0, max: 255 })),
    });
    const apdu = fc.record({
      h: header,
      data: fc.oneof(fc.constant(Buffer.from('EF05', 'hex')), fc.constant(Buffer.from('7378312E73682EC9E7BBE1B1A3D5CF', 'hex')), fc.uint8Array({ maxLength: 40 })),
      le: fc.option(fc.integer({ min: 1, max: 256 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(apdu, { maxLength: 30 }), (seq) => {
        for (const a of seq) {
          const r = card.process(
            encodeCommand({ ...a.h, data: Buffer.from(a.data), ...(a.le === undefined ? {} : { le: a.le }) }),
          );
          if (r.length < 2) return false;
          if (card.pinTriesLeft < 0 || card.pinTriesLeft > 6) return false;
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it('the PSAM: any bytes → a response of ≥ 2 bytes', () => {
    const p = new VirtualPsam(psamProfile);
    p.powerOn();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => p.process(Buffer.from(bytes)).length >= 2),
      { numRuns: 500 },
    );
  });
});
