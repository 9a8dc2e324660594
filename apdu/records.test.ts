import fc from 'fast-check';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import type { CardIssuerData, HolderData } from './records.js';
import {
  decodeEf05,
  decodeEf06,
  decodeField,
  EF05_FIELDS,
  EF06_FIELDS,
  encodeEf05,
  encodeEf06,
  encodeField,
  encodeSimpleTlv,
  fieldByRecord,
  fieldSpec,
  GENDER_NAMES,
  NATION_NAMES,
  parseCardId,
  parseSimpleTlv,
  parseSimpleTlvList,
} from './records.js';
import { caught, h, hex } from '../testing/util.js';



/** Run f; pass if it returns or throws an SsCardError, fail on any other exception. */
function valueOrSsCardError(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!isSsCardError(e)) throw e;
  }
}

// 110100 Beijing | D156000005 China RID + PIX | 8-byte serial
const CARD_ID = '110100D1560000051234567890ABCDEF';

const issuer: CardIssuerData = {
  cardId: CARD_ID,
  regionCode: '110100',
  cardType: '3',
  specVersion: '3.00',
  initOrgCode: '110100000000000000000001',
  issueDate: '2021-06-30',
  expiryDate: '2031-06-30',
  cardNumber: 'X00000019',
};

const holder: HolderData = {
  socialSecurityNumber: '11010519491231002X',
  name: '欧阳娜娜',
  gender: '2',
  nation: '01',
  birthPlace: '110105',
  birthDate: '1949-12-31',
};

describe('simple TLV', () => {
  it('parses one record: 07 09 "X00000019"', () => {
    // 07 tag (卡号) | 09 length | 58 30 30 30 30 30 30 31 39 "X00000019"
    const tlv = parseSimpleTlv(h('07 09 583030303030303139'));
    expect(tlv.tag).toBe(0x07);
    expect(tlv.value.toString('latin1')).toBe('X00000019');
  });

  it('encodes tag len value, and FF hi lo for ≥ 255 bytes', () => {
    expect(hex(encodeSimpleTlv(0x03, Buffer.from('3.00')))).toBe('0304332E3030');
    expect(hex(encodeSimpleTlv(0x4e, Buffer.alloc(0)))).toBe('4E00');
    const long = encodeSimpleTlv(0x01, Buffer.alloc(300, 0xaa));
    expect(hex(long.subarray(0, 4))).toBe('01FF012C');
    expect(parseSimpleTlv(long).value.length).toBe(300);
  });

  it.each([
    ['empty', ''],
    ['tag only', '07'],
    ['length too long', '07 0A 583030303030303139'],
    ['trailing bytes', '07 09 583030303030303139 00'],
    ['tag 00', '00 01 01'],
    ['tag FF', 'FF 01 01'],
    ['truncated FF length', '01 FF 01'],
  ])('rejects %s with Input_BadTlv', (_what, bytes) => {
    expect(isSsCardError(caught(() => parseSimpleTlv(h(bytes))), ErrorCode.Input_BadTlv)).toBe(true);
  });

  it('parses a list, ignoring trailing padding', () => {
    const items = parseSimpleTlvList(h('0201 33 0304 332E3030 0000'));
    expect(items.map((i) => [i.tag, i.value.toString('latin1')])).toEqual([
      [0x02, '3'],
      [0x03, '3.00'],
    ]);
  });

  it('property: round trip', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0xfe }), fc.uint8Array({ maxLength: 400 }), (tag, value) => {
        const back = parseSimpleTlv(encodeSimpleTlv(tag, value));
        expect(back.tag).toBe(tag);
        expect(hex(back.value)).toBe(hex(value));
      }),
    );
  });

  it('property: random bytes give a record or an SsCardError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (b) => valueOrSsCardError(() => parseSimpleTlv(b))));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (b) => valueOrSsCardError(() => parseSimpleTlvList(b))));
  });
});

describe('field tables', () => {
  it('EF05: record number = tag; EF06: records 1..7 → 08 09 4E 0A 0B 0C 0D', () => {
    expect(EF05_FIELDS.map((f) => [f.tag, f.record])).toEqual([1, 2, 3, 4, 5, 6, 7].map((t) => [t, t]));
    expect(EF06_FIELDS.map((f) => f.tag)).toEqual([0x08, 0x09, 0x4e, 0x0a, 0x0b, 0x0c, 0x0d]);
    expect(EF06_FIELDS.map((f) => f.record)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(fieldByRecord(0xef06, 3)?.tag).toBe(0x4e);
  });

  it.each([
    [0xef05, 0x01, 16, 'B'],
    [0xef05, 0x03, 4, 'AN'],
    [0xef05, 0x04, 12, 'CN'],
    [0xef05, 0x07, 9, 'AN'],
    [0xef06, 0x08, 18, 'AN'],
    [0xef06, 0x09, 30, 'GB18030'],
    [0xef06, 0x4e, 20, 'GB18030'],
    [0xef06, 0x0b, 1, 'CN'],
    [0xef06, 0x0c, 3, 'CN'],
    [0xef06, 0x0d, 4, 'CN'],
  ] as const)('fieldSpec(%s, %s): %i bytes %s', (ef, tag, length, encoding) => {
    expect(fieldSpec(ef, tag)).toMatchObject({ length, encoding });
  });

  it('fieldSpec is per EF', () => {
    expect(fieldSpec(0xef06, 0x01)).toBeUndefined();
    expect(fieldSpec(0xef05, 0x09)).toBeUndefined();
    expect(fieldSpec(0xef05, 0x99)).toBeUndefined();
  });
});

describe('field codecs: golden bytes', () => {
  it.each([
    // B: 16 bytes = 110100 (region, BCD) | D156000005 | serial
    [0x01, CARD_ID, CARD_ID],
    // AN, exact length: "3.00"
    [0x03, '3.00', '332E3030'],
    // AN, 00-padded right: "X123" in 9 bytes
    [0x07, 'X123', '58313233 0000000000'],
    // CN: 24 digits in 12 bytes
    [0x04, '110100000000000000000001', '110100000000000000000001'],
    // CN, F-padded right: 5 digits in 12 bytes
    [0x04, '12345', '12345F' + 'FF'.repeat(9)],
    // CN date: 2021-06-30 → 20 21 06 30
    [0x05, '2021-06-30', '20210630'],
    // GBK: 张三 = D5C5 C8FD, 00-padded to 30 bytes
    [0x09, '张三', 'D5C5C8FD' + '00'.repeat(26)],
    // AN gender '1' = 31
    [0x0a, '1', '31'],
    // CN nation 01
    [0x0b, '01', '01'],
    // CN birthplace 110105
    [0x0c, '110105', '110105'],
  ])('tag %s: "%s" ↔ %s', (tag, text, bytes) => {
    expect(hex(encodeField(tag, text))).toBe(bytes.replace(/\s/g, ''));
    expect(decodeField(tag, h(bytes))).toBe(text);
  });

  it.each([
    ['all zero', '00000000'],
    ['F-filled', 'FFFFFFFF'],
    ['empty value', ''],
  ])('a date that is %s decodes as ""', (_what, bytes) => {
    expect(decodeField(0x0d, h(bytes))).toBe('');
  });

  it('AN accepts 20 padding and FF fill', () => {
    expect(decodeField(0x07, h('5831323320 20202020'))).toBe('X123');
    expect(decodeField(0x07, h('FFFFFFFFFFFFFFFFFF'))).toBe('');
  });

  it('leap days', () => {
    expect(decodeField(0x0d, h('20000229'))).toBe('2000-02-29');
    expect(isSsCardError(caught(() => decodeField(0x0d, h('19000229'))), ErrorCode.Input_BadRecord)).toBe(true);
  });

  it.each([
    ['month 13', 0x05, '20211301'],
    ['day 32', 0x06, '20210132'],
    ['day 0', 0x0d, '20210100'],
    ['A nibble in CN', 0x0c, '11A105'],
    ['digit after F in CN', 0x04, '12F4' + 'FF'.repeat(10)],
    ['control byte in AN', 0x07, '5801'],
    ['too long', 0x02, '3333'],
    ['short card id', 0x01, '110100'],
    ['invalid GBK', 0x09, '81'],
  ])('rejects %s with Input_BadRecord', (_what, tag, bytes) => {
    expect(isSsCardError(caught(() => decodeField(tag, h(bytes))), ErrorCode.Input_BadRecord)).toBe(true);
  });

  it.each([
    ['unknown tag', 0x99, 'x'],
    ['AN too long', 0x02, '33'],
    ['non-ASCII in AN', 0x07, 'X中'],
    ['letters in CN', 0x0c, '11010A'],
    ['bad date', 0x0d, '2021-02-30'],
    ['a lone surrogate (no GB18030 code)', 0x09, '张\ud800'],
    ['GBK too long', 0x4e, '一二三四五六七八九十一'],
    ['short card id', 0x01, '1101'],
  ])('encodeField rejects %s', (_what, tag, text) => {
    expect(isSsCardError(caught(() => encodeField(tag, text)), ErrorCode.Input_BadRecord)).toBe(true);
  });

  it('property: decodeField on any tag and bytes gives text or an SsCardError', () => {
    const tags = [...EF05_FIELDS, ...EF06_FIELDS].map((f) => f.tag);
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...tags), fc.integer({ min: -1, max: 300 })), fc.uint8Array({ maxLength: 32 }), (tag, v) =>
        valueOrSsCardError(() => decodeField(tag, v)),
      ),
      { numRuns: 2000 },
    );
  });

  it('property: encode → decode round trip for CN digits', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{0,24}$/), (digits) => {
        expect(decodeField(0x04, encodeField(0x04, digits))).toBe(digits);
      }),
    );
  });
});

describe('card identification code', () => {
  it('splits region, marker and serial', () => {
    const p = parseCardId(h(CARD_ID));
    expect(p.regionCode).toBe('110100');
    expect(p.hasMarker).toBe(true);
    expect(hex(p.serial)).toBe('1234567890ABCDEF');
    expect(parseCardId(h('110100FFFFFFFFFF1234567890ABCDEF')).hasMarker).toBe(false);
  });

  it('a non-BCD region is an error', () => {
    expect(isSsCardError(caught(() => parseCardId(h('1A0100D1560000051234567890ABCDEF'))), ErrorCode.Input_BadRecord)).toBe(true);
  });
});

describe('EF05', () => {
  it('round trip', () => {
    const fields = encodeEf05(issuer);
    expect([...fields.keys()]).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const [tag, v] of fields) expect(v.length).toBe(fieldSpec(0xef05, tag)!.length);
    expect(decodeEf05(fields)).toEqual(issuer);
  });

  it('regionCode comes from the card id; a mismatch is refused when encoding', () => {
    expect(decodeEf05(new Map([[0x01, h(CARD_ID)]])).regionCode).toBe('110100');
    expect(isSsCardError(caught(() => encodeEf05({ ...issuer, regionCode: '310000' })), ErrorCode.Input_BadRecord)).toBe(true);
    expect(decodeEf05(encodeEf05({ ...issuer, regionCode: '' })).regionCode).toBe('110100');
  });

  it('missing fields decode as ""', () => {
    expect(decodeEf05(new Map())).toEqual({
      cardId: '', regionCode: '', cardType: '', specVersion: '', initOrgCode: '', issueDate: '', expiryDate: '', cardNumber: '',
    });
  });

  it('from READ RECORD responses', () => {
    const records = ['01 10 ' + CARD_ID, '02 01 33', '03 04 332E3030', '05 04 20210630', '06 04 20310630', '07 09 583030303030303139'];
    const fields = new Map(records.map((r) => parseSimpleTlv(h(r))).map((t) => [t.tag, t.value] as const));
    expect(decodeEf05(fields)).toMatchObject({ regionCode: '110100', specVersion: '3.00', issueDate: '2021-06-30', cardNumber: 'X00000019' });
  });

  it('property: random field maps give data or an SsCardError', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 0x10 }), fc.uint8Array({ maxLength: 20 })), { maxLength: 8 }), (entries) =>
        valueOrSsCardError(() => decodeEf05(new Map(entries))),
      ),
      { numRuns: 1000 },
    );
  });
});

describe('EF06', () => {
  it('round trip with a 4-character name (no spill)', () => {
    const fields = encodeEf06(holder);
    expect([...fields.keys()]).toEqual([0x08, 0x09, 0x4e, 0x0a, 0x0b, 0x0c, 0x0d]);
    // 欧阳娜娜 = C5B7 D1F4 C4C8 C4C8, 00-padded to 30 bytes; 4E all zero
    expect(hex(fields.get(0x09)!)).toBe('C5B7D1F4C4C8C4C8' + '00'.repeat(22));
    expect(hex(fields.get(0x4e)!)).toBe('00'.repeat(20));
    expect(decodeEf06(fields)).toEqual(holder);
  });

  it('a long name spills from 09 into 4E at a character boundary', () => {
    const name = '买买提·艾力·阿不都热合曼·吐尔逊·阿布都拉'; // 22 characters, 44 GBK bytes
    expect(iconv.encode(name, 'gbk').length).toBe(44);
    const fields = encodeEf06({ ...holder, name });
    expect(iconv.decode(fields.get(0x09)!, 'gbk')).toBe('买买提·艾力·阿不都热合曼·吐');
    expect(iconv.decode(fields.get(0x4e)!, 'gbk').replace(/\0+$/, '')).toBe('尔逊·阿布都拉');
    expect(decodeEf06(fields).name).toBe(name);
  });

  it('a name of mixed ASCII and GBK splits on bytes, not characters', () => {
    const name = 'A' + '一'.repeat(15); // 31 bytes: 'A' + 14 chars fit in 29 bytes, 1 char spills
    const fields = encodeEf06({ ...holder, name });
    expect(iconv.decode(fields.get(0x4e)!, 'gbk').replace(/\0+$/, '')).toBe('一');
    expect(decodeEf06(fields).name).toBe(name);
  });

  it('a name over 50 GBK bytes is refused', () => {
    expect(isSsCardError(caught(() => encodeEf06({ ...holder, name: '一'.repeat(26) })), ErrorCode.Input_BadRecord)).toBe(true);
  });

  it('without 4E (1.0 cards) the name is 09 alone', () => {
    const fields = encodeEf06(holder);
    fields.delete(0x4e);
    expect(decodeEf06(fields).name).toBe('欧阳娜娜');
  });

  it('property: random field maps give data or an SsCardError', () => {
    const tags = [0x08, 0x09, 0x4e, 0x0a, 0x0b, 0x0c, 0x0d];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.oneof(fc.constantFrom(...tags), fc.integer({ min: 0, max: 0xff })), fc.uint8Array({ maxLength: 32 })), { maxLength: 8 }),
        (entries) => valueOrSsCardError(() => decodeEf06(new Map(entries))),
      ),
      { numRuns: 1000 },
    );
  });

  it('property: round trip for generated holders', () => {
    const gbkChar = fc.constantFrom(...'张王李赵欧阳娜明华·买提艾力阿不都热合曼');
    fc.assert(
      fc.property(
        fc.record({
          socialSecurityNumber: fc.stringMatching(/^[0-9]{17}[0-9X]$/),
          name: fc.array(gbkChar, { minLength: 1, maxLength: 25 }).map((a) => a.join('')),
          gender: fc.constantFrom('0', '1', '2', '9'),
          nation: fc.constantFrom(...Object.keys(NATION_NAMES)),
          birthPlace: fc.stringMatching(/^[0-9]{6}$/),
          birthDate: fc.date({ min: new Date('1900-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
        }),
        (data) => {
          expect(decodeEf06(encodeEf06(data))).toEqual(data);
        },
      ),
    );
  });
});

/**
 * Names in GB18030 (docs/domain.md §1; docs/card-conventions.md "Names"): rare characters of names
 * exist only as GB18030 four-byte sequences, GBK and GB2312 being its two-byte subset. Golden
 * bytes from GB 18030-2022's four-byte mapping (the same in GB 18030-2005 for these two):
 * 㛃 U+36C3 (CJK Extension A) = 82 30 B7 31, 𠀾 U+2003E (Extension B) = 95 32 88 38.
 */
describe('EF06 names in GB18030', () => {
  it('four-byte characters ↔ their golden bytes (09: 张 D5C5, 𠀾 95328838, 㛃 8230B731)', () => {
    expect(hex(encodeField(0x09, '张𠀾㛃'))).toBe('D5C5' + '95328838' + '8230B731' + '00'.repeat(20));
    expect(decodeField(0x09, h('D5C5953288388230B731' + '00'.repeat(20)))).toBe('张𠀾㛃');
    const fields = encodeEf06({ ...holder, name: '张𠀾㛃' });
    expect(decodeEf06(fields)).toEqual({ ...holder, name: '张𠀾㛃' });
    expect(decodeEf06(fields, 'lenient')).toEqual({ ...holder, name: '张𠀾㛃' });
  });

  it('GBK text decodes as before (GBK is GB18030\'s two-byte part)', () => {
    const name = '买买提·艾力';
    expect(decodeField(0x09, iconv.encode(name, 'gbk'))).toBe(name);
  });

  it('a four-byte character the card cut between 09 and 4E decodes from the joined bytes', () => {
    // 14 two-byte characters (28 bytes) and the first half of 𠀾 fill 09; 4E starts with its second half.
    const head = '一'.repeat(14);
    const fields = encodeEf06(holder);
    fields.set(0x09, Buffer.concat([iconv.encode(head, 'gbk'), h('9532')]));
    fields.set(0x4e, Buffer.concat([h('8838'), Buffer.alloc(18)]));
    expect(decodeEf06(fields).name).toBe(`${head}𠀾`);
  });

  it('a four-byte character crossing 09\'s 30 bytes goes whole into 4E when encoding', () => {
    const name = '一'.repeat(14) + '𠀾㛃';
    const fields = encodeEf06({ ...holder, name });
    expect(hex(fields.get(0x09)!)).toBe(hex(iconv.encode('一'.repeat(14), 'gbk')) + '0000');
    expect(hex(fields.get(0x4e)!)).toBe('953288388230B731' + '00'.repeat(12));
    expect(decodeEf06(fields).name).toBe(name);
  });

  it.each([
    ['a lead byte without its trail', 'D5C581'],
    ['a four-byte sequence cut short', 'D5C59532'],
    ['a four-byte sequence beyond U+10FFFF', 'FE39FE39'],
    ['a lead byte before 7F, which is no trail byte', 'D5C5FE7F'],
  ])('invalid bytes (%s): strict decoding throws Input_BadRecord; lenient leaves the name empty and names it, the rest is read', (_what, bytes) => {
    const fields = encodeEf06(holder);
    fields.set(0x09, Buffer.concat([h(bytes), Buffer.alloc(30 - bytes.length / 2)]));
    fields.set(0x4e, Buffer.alloc(20));
    expect(isSsCardError(caught(() => decodeEf06(fields)), ErrorCode.Input_BadRecord)).toBe(true);
    expect(decodeEf06(fields, 'lenient')).toEqual({ ...holder, name: '', undecodable: ['name'] });
  });

  it('lenient EF05: a bad date is empty and named, the card id and number are read', () => {
    const fields = encodeEf05(issuer);
    fields.set(0x06, h('20211301'));
    expect(decodeEf05(fields, 'lenient')).toEqual({ ...issuer, expiryDate: '', undecodable: ['expiryDate'] });
    expect(isSsCardError(caught(() => decodeEf05(fields)), ErrorCode.Input_BadRecord)).toBe(true);
  });

  it('property: lenient decoding of any field map never throws', () => {
    const tags = [0x08, 0x09, 0x4e, 0x0a, 0x0b, 0x0c, 0x0d];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...tags), fc.uint8Array({ maxLength: 32 })), { maxLength: 8 }), (entries) => {
        const d = decodeEf06(new Map(entries), 'lenient');
        for (const k of d.undecodable ?? []) expect(d[k as keyof HolderData]).toBe('');
      }),
      { numRuns: 1000 },
    );
  });
});

describe('display labels', () => {
  it('gender codes (GB/T 2261.1)', () => {
    expect(GENDER_NAMES['1']).toBe('男');
    expect(GENDER_NAMES['2']).toBe('女');
    expect(Object.keys(GENDER_NAMES)).toEqual(['0', '1', '2', '9']);
  });

  it('ethnic group codes (GB 3304): 56 groups, 97 and 98', () => {
    expect(Object.keys(NATION_NAMES)).toHaveLength(58);
    expect(NATION_NAMES['01']).toBe('汉族');
    expect(NATION_NAMES['56']).toBe('基诺族');
    expect(NATION_NAMES['97']).toBe('其他');
    expect(NATION_NAMES['98']).toMatch(/^外国血统/);
  });
});
