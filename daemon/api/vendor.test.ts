import { describe, expect, it } from 'vitest';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { RESULT_CODES, results } from '../../state/results.js';
import type { ServiceResult } from '../../state/results.js';
import { FAKE_CARD } from '../../testing/fake-terminal.js';
import { encodeField } from '../../apdu/records.js';
import { RESULT_CODE_TABLE, VENDOR_CODES, cardInfoMatches, formatCardBas, formatHsmChallenge, formatRecords, iTypeCode, parseCardInfo, parseFileAddress, parseHsmKey, swCode, vendorCodeOfError, vendorCodeOfResult } from './vendor.js';

const e = (code: ErrorCode, context?: Record<string, unknown>) => new SsCardError(code, { zh: '测试', en: 'test' }, context);

describe('SSCardDriver return codes (docs/domain.md §4)', () => {
  it('−(SW as decimal)', () => {
    expect(swCode(0x6a82)).toBe(-27266);
    expect(swCode(0x6983)).toBe(-27011);
  });

  it.each([
    [1, 0],
    [2, -1],
    [3, 0],
    [4, 0],
    [0, -1],
    [5, -1],
    [-1, -1],
  ])('iType %i → %i', (iType, code) => expect(iTypeCode(iType)).toBe(code));

  it.each([
    [ErrorCode.Flow_NoCard, undefined, -2],
    [ErrorCode.Pcsc_NoCard, undefined, -2],
    [ErrorCode.Pcsc_CardRemoved, undefined, -2],
    [ErrorCode.Pcsc_NotConnected, undefined, -3],
    [ErrorCode.Pcsc_Unresponsive, undefined, -4],
    [ErrorCode.Pcsc_Timeout, undefined, -4],
    [ErrorCode.Pcsc_ReaderNotFound, undefined, -11],
    [ErrorCode.Pcsc_ServiceUnavailable, undefined, -11],
    [ErrorCode.Pcsc_TransmitFailed, undefined, -11],
    [ErrorCode.Pcsc_SharingViolation, undefined, -12],
    [ErrorCode.Flow_Busy, undefined, -12],
    [ErrorCode.PinPad_Unsupported, undefined, -13],
    [ErrorCode.Input_BadOption, undefined, -14],
    [ErrorCode.Card_NotSsse, { sw: '6A82' }, -1],
    [ErrorCode.Card_NotAuthentic, undefined, -21],
    [ErrorCode.Input_BadRecord, undefined, -1],
    [ErrorCode.Input_BadTlv, undefined, -1],
    [ErrorCode.Crypto_BadData, undefined, -23],
    [ErrorCode.Psam_KeyNotFound, undefined, -24],
    [ErrorCode.Auth_Required, undefined, -24],
    [ErrorCode.PinPad_NotFound, undefined, -11],
    [ErrorCode.PinPad_Timeout, undefined, -32],
    [ErrorCode.PinPad_Cancelled, undefined, -31],
    [ErrorCode.PinPad_Mismatch, undefined, -34],
    [ErrorCode.PinPad_BadLength, undefined, -33],
    [ErrorCode.Input_BadPinFormat, undefined, -33],
    [ErrorCode.PinPad_DeviceError, undefined, -11],
    [ErrorCode.Card_WrongPin, { sw: 0x63c3, triesLeft: 3 }, -51],
    [ErrorCode.Card_PinBlocked, { sw: 0x6983 }, -52],
    [ErrorCode.Psam_Missing, undefined, -2201],
    [ErrorCode.Card_Status, { sw: 0x6a82 }, -27266],
    [ErrorCode.Card_Status, { sw: '6A82' }, -27266],
    [ErrorCode.Card_Status, { sw: 'zz' }, -23],
    [ErrorCode.Card_Status, undefined, -23],
    [ErrorCode.Psam_Status, { sw: 0x6985 }, -27013],
    [ErrorCode.Psam_Status, undefined, -24],
    [ErrorCode.Flow_NotSent, { sw: 0x6982 }, -27010],
    [ErrorCode.Flow_NotSent, undefined, -4],
    [ErrorCode.Journal_Corrupt, undefined, -999],
  ] as const)('error %i %j → %i', (code, context, want) => {
    expect(vendorCodeOfError(e(code, context))).toBe(want);
  });

  it('a non-SsCardError (a bug) is −999, unknown error', () => {
    expect(vendorCodeOfError(new Error('x'))).toBe(-999);
    expect(vendorCodeOfError('x')).toBe(-999);
  });

  const table: [string, ServiceResult, number][] = [
    ['verifyOk', results.verifyOk(6), 0],
    ['changeOk', results.changeOk(6), 0],
    ['resetOk', results.resetOk(6), 0],
    ['unblockOk', results.unblockOk(6), 0],
    ['verifyWrong', results.verifyWrong(2, 0x63c2), -51],
    ['changeWrong', results.changeWrong(2, 0x63c2), -51],
    ['locked', results.locked('verify', 0x6983), -52],
    ['cardLocked', results.cardLocked('change'), -52],
    ['belowFloor', results.belowFloor('verify', 1), -24],
    ['operatorRequired', results.operatorRequired('reset'), -24],
    ['roleNotAllowed', results.roleNotAllowed('unblock', undefined), -13],
    ['materialsMissing', results.materialsMissing('reset', ['residentIdCard'], { zh: '缺', en: 'missing' }), -23],
    ['identityMismatch', results.identityMismatch('reset'), -22],
    ['identityExpired', results.identityExpired('reset', '2016-05-01'), -23],
    ['identityUnsupported', results.identityUnsupported('reset'), -23],
    ['idReaderFault', results.idReaderFault('reset'), -11],
    ['agentNotAllowed', results.agentNotAllowed('reset', { zh: '不行', en: 'no' }), -24],
    ['agentIsHolder', results.agentIsHolder('activate'), -23],
    ['pinPadUnsupported', results.pinPadUnsupported('reset'), -13],
    ['pinPadPolicyUnchecked', results.pinPadPolicyUnchecked('change'), -13],
    ['changeOk, policy not checked', results.changeOk(6, false), 0],
    ['pinMismatch', results.pinMismatch('change'), -34],
    ['pinPolicy', results.pinPolicy('change', [{ code: 'sequence', zh: '连号', en: 'sequence' }]), -36],
    ['pinTimeout', results.pinTimeout('verify'), -32],
    ['sessionTimeout', results.sessionTimeout('verify'), -32],
    ['pinEntryFailed', results.pinEntryFailed('verify'), -11],
    ['cancelled', results.cancelled('verify'), -31],
    ['cardRemoved', results.cardRemoved('verify'), -2],
    ['cardUnreadable', results.cardUnreadable(), -1],
    ['cardError 6A82', results.cardError('reset', 0x6a82, 3), -27266],
    ['cardNotBlocked', results.cardNotBlocked(3), -23],
    ['cardAppLocked', results.cardAppLocked('verify'), -23],
    ['cardAppLocked with 9303', { ...results.cardAppLocked('verify'), sw: 0x9303 }, -37635],
    ['notSent', results.notSent('reset', 3), -4],
    ['notSent with SW', { ...results.notSent('reset', 3), sw: 0x6988 }, -27016],
    ['unknown', results.unknown('reset', 3), -4],
  ];
  it.each(table)('result %s → %i', (_name, r, want) => expect(vendorCodeOfResult(r)).toBe(want));

  it('a result code it does not know maps by its outcome', () => {
    const r = (outcome: ServiceResult['outcome'], sw?: number) => ({ code: 'something.new' as ServiceResult['code'], outcome, ...(sw === undefined ? {} : { sw }) });
    expect(vendorCodeOfResult(r('ok'))).toBe(0);
    expect(vendorCodeOfResult(r('refused'))).toBe(-24);
    expect(vendorCodeOfResult(r('cancelled'))).toBe(-31);
    expect(vendorCodeOfResult(r('unknown'))).toBe(-4);
    expect(vendorCodeOfResult(r('failed'))).toBe(-23);
    expect(vendorCodeOfResult(r('failed', 0x6581))).toBe(-25985);
  });

  it('every result code the terminal has is in the table (none falls back by outcome unnoticed)', () => {
    for (const code of RESULT_CODES) expect(Object.keys(RESULT_CODE_TABLE), code).toContain(code);
  });

  it('names each code once', () => {
    const values = Object.values(VENDOR_CODES);
    expect(new Set(values).size).toBe(values.length);
  });
});

describe('iReadCardBas output', () => {
  it('区划|社会保障号码|卡号|卡识别码|姓名|ATR historical bytes|规范版本|发卡日期|有效期|终端机编号|终端设备号| with a trailing |', () => {
    expect(formatCardBas(FAKE_CARD)).toBe('410402|410402199001011234|X00000019|410402D156000005AAAAAAAAAAAAAAAA|张三|0080318065B08701000083|3.00|20200101|20300101|T0001|D0001|');
  });

  it('refuses a field holding the separator or a line break (→ −1)', () => {
    for (const name of ['张|三', '张\n三']) {
      let err: unknown;
      try {
        formatCardBas({ ...FAKE_CARD, name });
      } catch (x) {
        err = x;
      }
      expect(err).toBeInstanceOf(SsCardError);
      expect(vendorCodeOfError(err)).toBe(-1);
      expect((err as SsCardError).message).toContain('name');
      expect((err as SsCardError).message).not.toContain('张');
    }
  });
});

describe('cardInfo 卡识别码|卡号|', () => {
  it.each([
    ['410402D156000005AAAAAAAAAAAAAAAA|X00000019|', { cardId: '410402D156000005AAAAAAAAAAAAAAAA', cardNumber: 'X00000019' }],
    ['410402d156000005aaaaaaaaaaaaaaaa|x00000019', { cardId: '410402D156000005AAAAAAAAAAAAAAAA', cardNumber: 'X00000019' }],
    [' 410402D156000005AAAAAAAAAAAAAAAA|X00000019| ', { cardId: '410402D156000005AAAAAAAAAAAAAAAA', cardNumber: 'X00000019' }],
    ['410402D156000005AAAAAAAAAAAAAAA|X00000019|', null],
    ['410402D156000005AAAAAAAAAAAAAAAA||', null],
    ['410402D156000005AAAAAAAAAAAAAAAA|X00000019|extra|', null],
    ['', null],
  ])('%j → %j', (s, want) => expect(parseCardInfo(s)).toEqual(want));

  it('matches the card in the reader, case-insensitively, both parts', () => {
    const info = parseCardInfo('410402d156000005aaaaaaaaaaaaaaaa|X00000019|')!;
    expect(cardInfoMatches(info, FAKE_CARD)).toBe(true);
    expect(cardInfoMatches(info, { ...FAKE_CARD, cardNumber: 'X00000020' })).toBe(false);
    expect(cardInfoMatches(info, { ...FAKE_CARD, cardId: '410402D156000005BBBBBBBBBBBBBBBB' })).toBe(false);
  });
});

describe('iReadCard file addresses (docs/domain.md §4)', () => {
  it.each([
    ['3F00EF06|08|09|4E|0A|0B|0C|0D|$', [{ ef: 0xef06, tags: [0x08, 0x09, 0x4e, 0x0a, 0x0b, 0x0c, 0x0d] }]],
    ['DDF1EF05|01|07|$DDF1EF06|08|$', [{ ef: 0xef05, tags: [0x01, 0x07] }, { ef: 0xef06, tags: [0x08] }]],
    [' ddf1ef05|03|$ ', [{ ef: 0xef05, tags: [0x03] }]],
  ])('%s', (addr, files) => {
    expect(parseFileAddress(addr)).toEqual({ ok: true, files });
  });

  it.each([
    ['', -14, 'is empty'],
    ['DDF1EF06|08|', -14, 'must end with $'],
    ['DDF1EF06|08$', -14, 'followed by "|"'],
    ['DDF1EF06|$', -14, 'no record tag'],
    ['DDF1EF06|8|$', -14, 'two-digit hex'],
    ['EF06|08|$', -14, 'not a directory and file'],
    ['DDF1EF06|08|$DDF1EF06|08|$DDF1EF06|08|$DDF1EF06|08|$DDF1EF06|08|$', -14, 'at most 4 files'],
    [`DDF1EF06|${'08|'.repeat(17)}$`, -14, 'at most 16 records'],
    ['DDF1EF07|01|$', -13, 'not EF07'],
    ['DDF1EF06|01|$', -13, 'no record 01'],
  ])('%s → %i', (addr, code, text) => {
    const r = parseFileAddress(addr);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe(code);
    expect(r.text.en).toContain(text);
    expect(r.text.zh).toMatch(/[\u4e00-\u9fff]/);
  });

  it('values as the vendors give them: text, digits, dates YYYYMMDD, binary as hex; absent or undecodable empty', () => {
    const files = [{ ef: 0xef05, tags: [0x01, 0x05, 0x07] }, { ef: 0xef06, tags: [0x09, 0x0a, 0x4e] }] as const;
    const values = [[encodeField(0x01, '410402D156000005AAAAAAAAAAAAAAAA'), encodeField(0x05, '2020-01-01'), encodeField(0x07, 'X00000019')], [encodeField(0x09, '张三'), Buffer.from([0xff]), undefined]];
    expect(formatRecords(files, values)).toBe('410402D156000005AAAAAAAAAAAAAAAA|20200101|X00000019|张三|||');
  });
});

describe('iReadCardBas_HSM (docs/domain.md §4)', () => {
  it('Step1: 区划|ATR|算法标识|卡识别码|内认证过程因子|内认证原始数据|外认证过程因子|外认证原始数据|终端号|', () => {
    const c = { region: '410402', atr: '3B6C', algorithm: 'SM4' as const, cardId: 'A'.repeat(32), cardNumber: 'X00000019', internalFactor: '11'.repeat(8), internalData: '22'.repeat(8), externalFactor: '33'.repeat(8), externalData: '44'.repeat(16), terminalId: '000000000001' };
    expect(formatHsmChallenge(c)).toBe(`410402|3B6C|03|${'A'.repeat(32)}|${'11'.repeat(8)}|${'22'.repeat(8)}|${'33'.repeat(8)}|${'44'.repeat(16)}|000000000001|`);
    expect(formatHsmChallenge({ ...c, algorithm: '3DES' }).split('|')[2]).toBe('01');
  });

  it('Step2 key: two blocks in hex, trailing | optional', () => {
    expect(parseHsmKey('0011223344556677|8899aabbccddeeff0011223344556677|')).toEqual({ ok: true, internal: Buffer.from('0011223344556677', 'hex'), external: Buffer.from('8899aabbccddeeff0011223344556677', 'hex') });
    expect(parseHsmKey('0011223344556677|0011223344556677')).toMatchObject({ ok: true });
    expect(parseHsmKey('0011 2233|')).toMatchObject({ ok: false, code: -41 });
    expect(parseHsmKey('')).toMatchObject({ ok: false, code: -42 });
    expect(parseHsmKey('0011223344556677|0011223344556677|0011223344556677|')).toMatchObject({ ok: false, code: -42 });
  });

  it('the machine disagreeing with the card is −25, a card that is not genuine otherwise −21', () => {
    expect(vendorCodeOfError(e(ErrorCode.Card_NotAuthentic, { hsm: 'internalAuth' }))).toBe(VENDOR_CODES.hsmMismatch);
    expect(vendorCodeOfError(e(ErrorCode.Card_NotAuthentic))).toBe(-21);
  });
});
