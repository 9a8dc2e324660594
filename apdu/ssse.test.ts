import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { decodeCommand } from './apdu.js';
import { mac } from './crypto.js';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import {
  appBlock,
  appUnblock,
  changePin,
  externalAuth,
  FID,
  getChallenge,
  getResponse,
  internalAuth,
  macInput,
  pinUnblock,
  readBinary,
  readRecordByNumber,
  readRecordByTag,
  reloadPinPboc,
  reloadPinSsse3,
  selectAid,
  selectFile,
  selectMf,
  SSSE_AID,
  updateRecord,
  verify,
  verifyQuery,
} from './ssse.js';
import { ascii, caught, h, hex } from '../testing/util.js';

const spaced = (s: string): string => s.replace(/\s/g, '');


describe('SSSE_AID', () => {
  it('is "sx1.sh." in ASCII followed by GBK 社会保障', () => {
    expect(SSSE_AID.length).toBe(15);
    expect(SSSE_AID.subarray(0, 7).toString('ascii')).toBe('sx1.sh.');
    // C9E7 社 | BBE1 会 | B1A3 保 | D5CF 障
    expect(iconv.decode(SSSE_AID.subarray(7), 'gbk')).toBe('社会保障');
  });
});

describe('card command builders: golden bytes', () => {
  const mac4 = h('A1B2C3D4');
  it.each([
    // 00 CLA | A4 SELECT | 04 by DF name | 00 first/only | 0F Lc = 15 | AID
    ['SELECT SSSE', () => selectAid(), '00 A4 04 00 0F 73 78 31 2E 73 68 2E C9 E7 BB E1 B1 A3 D5 CF'],
    // … | 00 Le: return the FCI (case 4)
    ['SELECT SSSE with Le', () => selectAid(SSSE_AID, true), '00 A4 04 00 0F 7378312E73682EC9E7BBE1B1A3D5CF 00'],
    ['SELECT another AID', () => selectAid(h('A000000003')), '00 A4 04 00 05 A000000003'],
    // 00 | A4 | 00 00 by FID | 02 Lc | 3F00 MF
    ['SELECT MF', () => selectMf(), '00 A4 00 00 02 3F00'],
    // 00 | A4 | 02 EF under current DF | 00 | 02 Lc | EF05
    ['SELECT EF05', () => selectFile(FID.EF05), '00 A4 02 00 02 EF05'],
    ['SELECT EF06', () => selectFile(0xef06, 0x02), '00 A4 02 00 02 EF06'],
    // 00 by FID (DFs)
    ['SELECT DF01', () => selectFile(FID.DF01, 0x00), '00 A4 00 00 02 DF01'],
    // 00 | B2 READ RECORD | 01 record 1 | 04 P1 is a record number | 12 Le = 16 + 2 (卡识别码)
    ['READ RECORD 1 of EF05', () => readRecordByNumber(1, 16), '00 B2 01 04 12'],
    // 07 record 7 | 0B Le = 9 + 2 (卡号)
    ['READ RECORD 7 (card number)', () => readRecordByNumber(7, 9), '00 B2 07 04 0B'],
    // 00 | B2 | 08 tag 08 | 00 P1 is a tag | 14 Le = 18 + 2 (社会保障号码)
    ['READ RECORD tag 08', () => readRecordByTag(0x08, 18), '00 B2 08 00 14'],
    // 4E tag name extension | 16 Le = 20 + 2
    ['READ RECORD tag 4E', () => readRecordByTag(0x4e, 20), '00 B2 4E 00 16'],
    // 00 | B0 READ BINARY | 01 00 offset 256 | 00 Le = 256
    ['READ BINARY 256 at 0x100', () => readBinary(0x100, 256), '00 B0 01 00 00'],
    ['READ BINARY 0x80 at 0', () => readBinary(0, 0x80), '00 B0 00 00 80'],
    // 00 | 84 GET CHALLENGE | 00 00 | 08 / 10 Le
    ['GET CHALLENGE 8', () => getChallenge(8), '00 84 00 00 08'],
    ['GET CHALLENGE 16', () => getChallenge(16), '00 84 00 00 10'],
    // 00 | 88 INTERNAL AUTH | 00 | 00 key id | 08 Lc | random
    ['INTERNAL AUTH', () => internalAuth(0x00, h('0102030405060708')), '00 88 00 00 08 0102030405060708'],
    // 00 | 82 EXTERNAL AUTH | 00 | 0A key id (read) | 08 Lc | cryptogram
    ['EXTERNAL AUTH 0A', () => externalAuth(0x0a, h('1122334455667788')), '00 82 00 0A 08 1122334455667788'],
    // 00 | 82 | 00 | 06 key id (PIN reload) | 10 Lc | SM4 cryptogram
    ['EXTERNAL AUTH 06 (SM4)', () => externalAuth(0x06, Buffer.alloc(16, 0x22)), `00 82 00 06 10 ${'22'.repeat(16)}`],
    // 00 | 20 VERIFY | 00 00 | no data: ask for tries left
    ['VERIFY (query)', () => verifyQuery(), '00 20 00 00'],
    // 00 | 20 | 00 00 | 03 Lc | 12 34 56 BCD
    ['VERIFY 123456', () => verify(ascii('123456')), '00 20 00 00 03 123456'],
    // 5 digits: F-padded
    ['VERIFY 12345', () => verify(ascii('12345')), '00 20 00 00 03 12345F'],
    // 80 | 5E CHANGE PIN | 01 change | 00 | 07 Lc | 123456 old | FF separator | 654321 new
    ['CHANGE PIN', () => changePin(ascii('123456'), ascii('654321')), '80 5E 01 00 07 123456 FF 654321'],
    // 80 | 5E | 00 reload | 00 | 07 Lc | 888888 new | MAC(4)
    ['RELOAD PIN (PBOC)', () => reloadPinPboc(ascii('888888'), mac4), '80 5E 00 00 07 888888 A1B2C3D4'],
    // 84 secure messaging | 24 | 00 | 01 reload (3.0) | 14 Lc = 16 + 4 | E(PIN block) | MAC
    ['RELOAD PIN (3.0, SM4)', () => reloadPinSsse3(Buffer.alloc(16, 0xee), mac4), `84 24 00 01 14 ${'EE'.repeat(16)} A1B2C3D4`],
    // 84 | 24 | 00 | 00 unblock | 0C Lc = 8 + 4
    ['PIN UNBLOCK (3DES)', () => pinUnblock(Buffer.alloc(8, 0xee), mac4), `84 24 00 00 0C ${'EE'.repeat(8)} A1B2C3D4`],
    ['PIN UNBLOCK (SM4)', () => pinUnblock(Buffer.alloc(16, 0xee), mac4), `84 24 00 00 14 ${'EE'.repeat(16)} A1B2C3D4`],
    // 84 | 1E APP BLOCK | 00 00 | 04 Lc | MAC
    ['APP BLOCK', () => appBlock(mac4), '84 1E 00 00 04 A1B2C3D4'],
    // 84 | 18 APP UNBLOCK | 00 00 | 04 Lc | MAC
    ['APP UNBLOCK', () => appUnblock(mac4), '84 18 00 00 04 A1B2C3D4'],
    // 00 | DC UPDATE RECORD | 07 record | 04 by number | 0B Lc | 07 tag | 09 len | "X00000019"
    ['UPDATE RECORD 7', () => updateRecord(7, 0x07, ascii('X00000019')), '00 DC 07 04 0B 07 09 583030303030303139'],
    // 00 | C0 GET RESPONSE | 00 00 | 12 Le
    ['GET RESPONSE 0x12', () => getResponse(0x12), '00 C0 00 00 12'],
    ['GET RESPONSE 256', () => getResponse(256), '00 C0 00 00 00'],
  ])('%s', (_what, f, expected) => {
    const apdu = f();
    expect(hex(apdu)).toBe(spaced(expected));
    expect(() => decodeCommand(apdu)).not.toThrow();
  });
});

describe('macInput', () => {
  it('APP UNBLOCK: header and Lc = 4 (MAC only)', () => {
    expect(hex(macInput(0x84, 0x18, 0x00, 0x00, Buffer.alloc(0)))).toBe('8418000004');
  });
  it('PBOC RELOAD PIN: Lc counts the BCD PIN and the 4 MAC bytes', () => {
    expect(hex(macInput(0x80, 0x5e, 0x00, 0x00, h('888888')))).toBe('805E000007888888');
  });
  it('3.0 RELOAD PIN: Lc 14 = 16-byte block + MAC', () => {
    expect(hex(macInput(0x84, 0x24, 0x00, 0x01, Buffer.alloc(16, 0xee)))).toBe(`8424000114${'EE'.repeat(16)}`);
  });
  it('macLength 0 gives the plain header', () => {
    expect(hex(macInput(0x00, 0xdc, 0x01, 0x04, h('0102'), 0))).toBe('00DC0104020102');
  });
  it('end to end: the card would check mac(alg, key, challenge, macInput(...)) against the APDU tail', () => {
    const key = h('0123456789ABCDEFFEDCBA9876543210');
    const challenge = h('0102030405060708');
    const m = mac('3DES', key, challenge, macInput(0x84, 0x18, 0x00, 0x00, Buffer.alloc(0)));
    const apdu = appUnblock(m);
    expect(hex(apdu.subarray(5))).toBe(hex(m));
  });
});

describe('argument checks', () => {
  it.each([
    ['aid too short', () => selectAid(h('A000')), 'aid', ErrorCode.Input_BadLength],
    ['aid too long', () => selectAid(Buffer.alloc(17)), 'aid', ErrorCode.Input_BadLength],
    ['fid', () => selectFile(0x1_0000), 'fid', ErrorCode.Input_BadOption],
    ['p1', () => selectFile(0xef05, 0x04 as 0x02), 'p1', ErrorCode.Input_BadOption],
    ['record 0', () => readRecordByNumber(0, 4), 'record', ErrorCode.Input_BadOption],
    ['record FF', () => readRecordByNumber(0xff, 4), 'record', ErrorCode.Input_BadOption],
    ['fieldLength', () => readRecordByNumber(1, 255), 'fieldLength', ErrorCode.Input_BadOption],
    ['tag 00', () => readRecordByTag(0, 4), 'tag', ErrorCode.Input_BadOption],
    ['offset', () => readBinary(0x8000, 1), 'offset', ErrorCode.Input_BadOption],
    ['le', () => readBinary(0, 0), 'le', ErrorCode.Input_BadOption],
    ['challenge length', () => getChallenge(4 as 8), 'length', ErrorCode.Input_BadOption],
    ['internal auth data', () => internalAuth(0, Buffer.alloc(0)), 'data', ErrorCode.Input_BadLength],
    ['keyId', () => externalAuth(-1, Buffer.alloc(8)), 'keyId', ErrorCode.Input_BadOption],
    ['cryptogram', () => externalAuth(0x0a, Buffer.alloc(12)), 'cryptogram', ErrorCode.Input_BadLength],
    ['mac4', () => appBlock(Buffer.alloc(8)), 'mac4', ErrorCode.Input_BadLength],
    ['encryptedBlock', () => pinUnblock(Buffer.alloc(12), Buffer.alloc(4)), 'encryptedBlock', ErrorCode.Input_BadLength],
    ['update value', () => updateRecord(1, 1, Buffer.alloc(254)), 'value', ErrorCode.Input_BadLength],
    ['macInput data', () => macInput(0x84, 0x24, 0, 0, Buffer.alloc(252)), 'data', ErrorCode.Input_BadLength],
    ['getResponse le', () => getResponse(257), 'le', ErrorCode.Input_BadOption],
  ] as const)('%s → error naming the argument', (_what, f, arg, code) => {
    const e = caught(f);
    expect(isSsCardError(e, code)).toBe(true);
    expect(isSsCardError(e) && e.context?.['argument']).toBe(arg);
    expect(isSsCardError(e) && e.message).toContain(arg);
  });

  it.each([
    ['verify', () => verify(ascii('78a878'))],
    ['changePin old', () => changePin(ascii('787'), ascii('787878'))],
    ['changePin new', () => changePin(ascii('787878'), ascii('78787'.repeat(3)))],
    ['reloadPinPboc', () => reloadPinPboc(ascii('7878 8'), Buffer.alloc(4))],
  ])('%s: bad PIN → Input_BadPinFormat without its digits', (_what, f) => {
    const e = caught(f);
    expect(isSsCardError(e, ErrorCode.Input_BadPinFormat)).toBe(true);
    expect(isSsCardError(e) && e.message).not.toMatch(/[78]/);
  });

  it('reloadPinPboc checks the MAC before touching the PIN', () => {
    const e = caught(() => reloadPinPboc(ascii('123456'), Buffer.alloc(3)));
    expect(isSsCardError(e, ErrorCode.Input_BadLength)).toBe(true);
  });

  it('does not change the caller\'s PIN buffers', () => {
    const a = ascii('123456');
    const b = ascii('654321');
    changePin(a, b);
    verify(a);
    expect(a.toString()).toBe('123456');
    expect(b.toString()).toBe('654321');
  });
});
