import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import { idCardFixture, idCardFixtureNames, loadIdCardFixture, parseIdCardFixture } from '../sim/idcard-fixtures.js';
import { cardFixture } from '../sim/profile.js';
import type { IdFrameItem } from './frame.js';
import { encodeFrame, encodeRequest, encodeResponse, IdFrameParser, xor } from './frame.js';
import { encodeBaseInfo, idCheckChar, idDocumentText, isValidIdNumber, matchesSocialSecurityNumber, parseBaseInfo, PHOTO_LENGTH } from './info.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ''), 'hex');
const shape = (items: IdFrameItem[]): string[] => items.map((i) => (i.type === 'frame' ? `F:${i.body.toString('hex')}` : 'E'));

function parseChunks(chunks: Uint8Array[]): IdFrameItem[] {
  const p = new IdFrameParser();
  return chunks.flatMap((c) => p.push(c));
}

describe('ID SAM frames', () => {
  it('encodes FIND CARD (golden)', () => {
    // AA AA AA 96 69   preamble
    // 00 03            LEN 3: CMD + PARA + CHK
    // 20 01            find card
    // 22               CHK = 00 ^ 03 ^ 20 ^ 01
    expect(encodeRequest(0x20, 0x01)).toEqual(hex('AAAAAA9669 0003 2001 22'));
  });

  it('encodes the status and read commands (golden)', () => {
    // 00 03 | 11 FF | CHK 00^03^11^FF = ED
    expect(encodeRequest(0x11, 0xff)).toEqual(hex('AAAAAA9669 0003 11FF ED'));
    // 00 03 | 30 01 | CHK 00^03^30^01 = 32
    expect(encodeRequest(0x30, 0x01)).toEqual(hex('AAAAAA9669 0003 3001 32'));
  });

  it('parses a "card found" response (golden)', () => {
    // AA AA AA 96 69 | 00 08 LEN: SW(3) + data(4) + CHK | 00 00 9F SW1 SW2 SW3 | 00 00 00 00 | CHK 00^08^9F = 97
    const r = hex('AAAAAA9669 0008 00009F 00000000 97');
    expect(encodeResponse(0x9f, Buffer.alloc(4))).toEqual(r);
    expect(parseChunks([r])).toEqual([{ type: 'frame', body: hex('00009F00000000') }]);
  });

  it('skips leading garbage; a wrong checksum is IdCard_Protocol; a bad LEN resynchronises', () => {
    const good = encodeResponse(0x90);
    const badChk = Buffer.from(good);
    badChk[badChk.length - 1]! ^= 1;
    const badLen = hex('AAAAAA9669 FFFF');
    const items = parseChunks([Buffer.concat([hex('01 02 AA AA'), badChk, badLen, good])]);
    expect(shape(items)).toEqual(['E', 'E', `F:${hex('000090').toString('hex')}`]);
    for (const i of items) if (i.type === 'error') expect(isSsCardError(i.error, ErrorCode.IdCard_Protocol)).toBe(true);
  });

  it('a truncated frame waits; reset forgets it', () => {
    const p = new IdFrameParser();
    const f = encodeResponse(0x90, Buffer.alloc(20));
    expect(p.push(f.subarray(0, 10))).toEqual([]);
    p.reset();
    expect(shape(p.push(encodeResponse(0x90)))).toEqual(['F:000090']);
  });

  const body = fc.uint8Array({ minLength: 2, maxLength: 60 });
  it('property: merged and split arbitrarily, the frames come out the same and in order', () => {
    fc.assert(
      fc.property(fc.array(body, { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 6 }), (bodies, cuts) => {
        const stream = Buffer.concat(bodies.map((b) => encodeFrame(b)));
        const chunks: Buffer[] = [];
        for (let at = 0, k = 0; at < stream.length; k++) {
          chunks.push(stream.subarray(at, at + cuts[k % cuts.length]!));
          at += cuts[k % cuts.length]!;
        }
        const expected = bodies.map((b) => `F:${Buffer.from(b).toString('hex')}`);
        expect(shape(parseChunks([stream]))).toEqual(expected);
        expect(shape(parseChunks(chunks))).toEqual(expected);
      }),
    );
  });

  it('property: garbage, corruption and truncation give frames or IdCard_Protocol items, independent of chunking, never throwing', () => {
    fc.assert(
      fc.property(fc.array(body, { maxLength: 5 }), fc.uint8Array({ maxLength: 40 }), fc.nat(), fc.nat(), fc.array(fc.integer({ min: 1, max: 11 }), { minLength: 1, maxLength: 5 }), (bodies, garbage, flip, cut, cuts) => {
        let s = Buffer.concat([garbage, ...bodies.map((b) => encodeFrame(b))]);
        if (s.length > 0) {
          s = Buffer.from(s);
          s[flip % s.length]! ^= 0x5a;
          s = s.subarray(0, s.length - (cut % Math.min(s.length, 12)));
        }
        const whole = parseChunks([s]);
        const chunks: Buffer[] = [];
        for (let at = 0, k = 0; at < s.length; k++) {
          chunks.push(s.subarray(at, at + cuts[k % cuts.length]!));
          at += cuts[k % cuts.length]!;
        }
        expect(shape(parseChunks(chunks))).toEqual(shape(whole));
        for (const i of whole) if (i.type === 'error') expect(isSsCardError(i.error, ErrorCode.IdCard_Protocol)).toBe(true);
      }),
    );
  });

  it('xor is over LEN..data', () => {
    const f = encodeRequest(0x10, 0xff);
    expect(f[f.length - 1]).toBe(xor(f, 5, f.length - 1));
  });
});

describe('base info', () => {
  const fx = loadIdCardFixture('id-card-2.0');

  it('encodes the UCS-2LE text in fixed widths (golden start) and parses it back', () => {
    const data = encodeBaseInfo(fx, fx.photo);
    // 01 00 | 04 00   text length 256, photo length 1024 (big-endian)
    expect(data.subarray(0, 4)).toEqual(hex('0100 0400'));
    // 王 U+738B → 8B 73, 志 U+5FD7 → D7 5F, 强 U+5F3A → 3A 5F, then spaces (20 00) to 30 bytes
    expect(data.subarray(4, 10)).toEqual(hex('8B73 D75F 3A5F'));
    expect(data.subarray(10, 34)).toEqual(Buffer.from(' '.repeat(12), 'utf16le'));
    // sex at byte 30 of the text: "1" → 31 00
    expect(data.subarray(34, 36)).toEqual(hex('3100'));
    expect(data.length).toBe(4 + 256 + PHOTO_LENGTH);
    const info = parseBaseInfo(data);
    expect(info).toMatchObject({
      name: '王志强',
      sex: '1',
      sexText: '男',
      nation: '01',
      nationText: '汉',
      birthDate: '1985-03-12',
      address: '河南省长葛市建设路100号',
      idNumber: '411082198503120038',
      idNumberValid: true,
      authority: '长葛市公安局',
      validFrom: '2016-05-01',
      validTo: '2036-05-01',
    });
    expect(info.photo).toEqual(fx.photo);
  });

  it('long-term validity (长期) and an X check character', () => {
    expect(parseBaseInfo(encodeBaseInfo(loadIdCardFixture('id-card-locked'))).validTo).toBe('长期');
    const x = parseBaseInfo(encodeBaseInfo(loadIdCardFixture('id-mismatch-x')));
    expect(x.idNumber.endsWith('X')).toBe(true);
    expect(x.idNumberValid).toBe(true);
  });

  it.each([
    ['too short', (d: Buffer) => d.subarray(0, 3)],
    ['text length not 256', (d: Buffer) => Buffer.concat([hex('0200'), d.subarray(2)])],
    ['truncated photo', (d: Buffer) => d.subarray(0, d.length - 1)],
    ['ID number not digits', (d: Buffer) => Buffer.concat([d.subarray(0, 4 + 122), Buffer.from('ABCDEFGHIJKLMNOPQR', 'utf16le'), d.subarray(4 + 158)])],
    ['birth date not a date', (d: Buffer) => Buffer.concat([d.subarray(0, 4 + 36), Buffer.from('1985031X', 'utf16le'), d.subarray(4 + 52)])],
  ])('%s → IdCard_BadData with a bilingual message', (_n, mutate) => {
    const d = mutate(encodeBaseInfo(fx));
    try {
      parseBaseInfo(d);
      expect.unreachable();
    } catch (e) {
      expect(isSsCardError(e, ErrorCode.IdCard_BadData)).toBe(true);
      expect((e as Error).message).toMatch(/身份证.*\/.*ID card/);
    }
  });

  it('property: any bytes → info, IdCard_BadData or IdCard_UnsupportedDocument', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 256, maxLength: 256 }).map((t) => Buffer.concat([hex('0100 0000'), t]))), (b) => {
        try {
          parseBaseInfo(b);
        } catch (e) {
          expect(isSsCardError(e, ErrorCode.IdCard_BadData) || isSsCardError(e, ErrorCode.IdCard_UnsupportedDocument)).toBe(true);
        }
      }),
    );
  });

  it('refuses a field too long to encode', () => {
    expect(() => encodeBaseInfo({ ...fx, name: '名'.repeat(16) })).toThrow(expect.objectContaining({ code: ErrorCode.Input_BadLength }));
  });
});

/**
 * The other documents the ID SAM reads (info.ts): seed 000_1700379f35991b5f.txt 申请条件 一 (line 222; 001_bf9ce8a90a3e7ce5.txt line 46)
 * names residents of Hong Kong, Macao and Taiwan and foreigners among those who apply; its FAQ (lines
 * 329–331) accepts 本人身份证或其他有效身份证件.
 */
describe('identity documents other than the resident ID card', () => {
  const fx2 = () => loadIdCardFixture('id-card-2.0');
  it('港澳台居民居住证 (flag J): the resident ID card\'s fields, no nation, the pass number and issue count', () => {
    const data = encodeBaseInfo(loadIdCardFixture('id-permit-hk'));
    // The flag: text bytes 248–249 ("J" in UCS-2LE).
    expect(data.subarray(4 + 248, 4 + 250)).toEqual(Buffer.from('J', 'utf16le'));
    expect(parseBaseInfo(data)).toMatchObject({
      documentType: 'residencePermit',
      name: '陈嘉欣',
      sex: '2',
      nation: '',
      nationText: '',
      birthDate: '1994-08-23',
      idNumber: '810000199408230021',
      idNumberValid: true,
      authority: '郑州市公安局',
      validTo: '2027-03-15',
      passNumber: 'H60123456',
      issueCount: '01',
    });
  });

  it('外国人永久居留身份证, 2023 edition (flag Y): Chinese name, the English name joined from its two fields, nationality, an 18-character number', () => {
    const fx = loadIdCardFixture('id-foreign-2023');
    const data = encodeBaseInfo(fx);
    expect(data.subarray(4 + 248, 4 + 250)).toEqual(Buffer.from('Y', 'utf16le'));
    // English name characters 1–35 at text bytes 52–121, 36–46 at 220–241.
    expect(data.subarray(4 + 52, 4 + 122).toString('utf16le')).toBe('SMITH, MARK ALEXANDER WILLIAMSON-HA');
    expect(data.subarray(4 + 220, 4 + 242).toString('utf16le').trimEnd()).toBe('RRINGTON');
    expect(parseBaseInfo(data)).toMatchObject({
      documentType: 'foreignPermanent2023',
      name: '马克',
      englishName: 'SMITH, MARK ALEXANDER WILLIAMSON-HARRINGTON',
      nationality: 'USA',
      address: '',
      authority: '',
      idNumber: '941840198806150019',
      idNumberValid: true,
      birthDate: '1988-06-15',
      validTo: '2034-01-10',
    });
  });

  it('外国人永久居留身份证, 2017 edition (flag I): a 15-character number; the English name stands for a Chinese name the card does not hold', () => {
    const data = encodeBaseInfo(loadIdCardFixture('id-foreign-2017'));
    expect(data.subarray(4 + 248, 4 + 250)).toEqual(Buffer.from('I', 'utf16le'));
    expect(parseBaseInfo(data)).toMatchObject({
      documentType: 'foreignPermanent2017',
      name: 'DUBOIS, CLAIRE',
      englishName: 'DUBOIS, CLAIRE',
      nationality: 'FRA',
      idNumber: 'FRA410079110201',
      idNumberValid: true,
      authority: '4100',
      birthDate: '1979-11-02',
      validFrom: '2018-05-20',
    });
  });

  it('each document is named for the holder with where it is renewed (state/id-card-validity.ts idCardExpiredText)', () => {
    expect(idDocumentText('residencePermit')).toEqual({ name: { zh: '港澳台居民居住证', en: 'residence permit for Hong Kong, Macao and Taiwan residents' }, renewAt: { zh: '公安机关', en: 'the public security bureau' } });
    expect(idDocumentText('foreignPermanent2023').renewAt.zh).toBe('移民管理机构');
    expect(idDocumentText('residentId').name.zh).toBe('居民身份证');
  });

  it('the resident ID card reads as before, flag space (its reserved field)', () => {
    const data = encodeBaseInfo(fx2());
    expect(data.subarray(4 + 248, 4 + 250)).toEqual(Buffer.from(' ', 'utf16le'));
    expect(parseBaseInfo(data).documentType).toBe('residentId');
  });

  it.each([
    ['a flag this terminal does not know', 'Z', /类型标识 Z/],
    ['a control character as the flag', '\u0001', /类型标识 U\+0001/],
  ])('%s → IdCard_UnsupportedDocument saying which documents can be checked', (_n, flag, zh) => {
    const data = encodeBaseInfo(fx2());
    Buffer.from(flag, 'utf16le').copy(data, 4 + 248);
    try {
      parseBaseInfo(data);
      expect.unreachable();
    } catch (e) {
      expect(isSsCardError(e, ErrorCode.IdCard_UnsupportedDocument)).toBe(true);
      expect((e as Error).message).toMatch(zh);
      expect((e as Error).message).toContain('港澳台居民居住证');
      expect((e as Error).message).toContain('foreign permanent resident ID card');
    }
  });

  it.each([
    ['a residence permit number not starting 81–83', 'id-permit-hk', '110000199408230021'],
    ['a 2023 permanent residence number not starting 9', 'id-foreign-2023', '141840198806150019'],
    ['a 2017 permanent residence number not 3 letters and 12 digits', 'id-foreign-2017', 'FR4410079110201'],
  ])('%s → IdCard_BadData', (_n, name, number) => {
    const d = encodeBaseInfo({ ...loadIdCardFixture(name), idNumber: number });
    expect(() => parseBaseInfo(d)).toThrow(expect.objectContaining({ code: ErrorCode.IdCard_BadData }));
  });

  it('a residence permit fixture whose number does not start 81–83 is refused (Sim_BadProfile naming idNumber)', () => {
    const json = JSON.parse(readFileSync(idCardFixture('id-permit-hk'), 'utf8')) as Record<string, unknown>;
    expect(() => parseIdCardFixture({ ...json, idNumber: '410105199408230028' }, 't.json')).toThrow(/idNumber/);
  });
});

describe('公民身份号码', () => {
  it('ISO 7064 MOD 11-2 check characters', () => {
    expect(idCheckChar('11010519491231002')).toBe('X'); // the GB 11643 example
    expect(isValidIdNumber('11010519491231002X')).toBe(true);
    expect(isValidIdNumber('11010519491231002x')).toBe(true);
    expect(isValidIdNumber('110105194912310021')).toBe(false);
    expect(isValidIdNumber('1101051949123100')).toBe(false);
  });

  it('property: changing one digit of a valid number breaks the check', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{17}$/), fc.integer({ min: 0, max: 16 }), fc.integer({ min: 1, max: 9 }), (first17, pos, delta) => {
        const id = first17 + idCheckChar(first17)!;
        expect(isValidIdNumber(id)).toBe(true);
        const d = (Number(first17[pos]) + delta) % 10;
        const changed = first17.slice(0, pos) + String(d) + first17.slice(pos + 1);
        expect(isValidIdNumber(changed + id[17]!)).toBe(false);
      }),
    );
  });
});

describe('fixture ID cards', () => {
  const names = idCardFixtureNames();

  it('has the profile holders and mismatching cards', () => {
    expect(names.filter((n) => loadIdCardFixture(n).matchesCard !== null).length).toBeGreaterThanOrEqual(5);
    expect(names.filter((n) => loadIdCardFixture(n).matchesCard === null).length).toBeGreaterThanOrEqual(2);
  });

  it.each(names)('%s: valid number; matches exactly its card profile (社会保障号码, name, sex, birth date)', (name) => {
    const fx = loadIdCardFixture(name);
    // The 2017 foreigners' card has no check character: its number's form is checked on load.
    expect(fx.documentType === 'foreignPermanent2017' || isValidIdNumber(fx.idNumber)).toBe(true);
    for (const card of ['card-2.0', 'card-3.0', 'card-locked', 'card-not-activated', 'card-hk-resident']) {
      const profile = JSON.parse(readFileSync(cardFixture(card), 'utf8')) as { holder: Record<string, string> };
      const same = matchesSocialSecurityNumber(fx, profile.holder['社会保障号码']!);
      expect(same).toBe(fx.matchesCard === card);
      if (same) {
        expect(fx.name).toBe(profile.holder['姓名']);
        expect(fx.sex).toBe(profile.holder['性别']);
        expect(fx.birthDate).toBe(profile.holder['出生日期']);
      }
    }
  });

  it('a fixture with a wrong check character is refused (Sim_BadProfile naming idNumber)', () => {
    const fx = JSON.parse(readFileSync(`${cardFixture('x').replace(/cards\/x\.json$/, 'idcards/id-card-2.0.json')}`, 'utf8')) as Record<string, unknown>;
    try {
      parseIdCardFixture({ ...fx, idNumber: '411082198503120039' }, 't.json');
      expect.unreachable();
    } catch (e) {
      expect(isSsCardError(e, ErrorCode.Sim_BadProfile)).toBe(true);
      expect((e as Error).message).toContain('idNumber');
    }
  });
});
