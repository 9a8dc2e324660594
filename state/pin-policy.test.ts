/**
 * PIN policy. Each table cites the seed line it enforces: seed 000 = docs/service-items/000_1700379f35991b5f.txt,
 * 常见问题 "密码设置应注意哪些问题？" lines 321–323:
 * 「密码必须设为６位阿拉伯数字。请尽量不要设置六位相同数字、连续数字、出生日期、电话号码作为用户密码」.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../core/errors.js';
import { ascii, assertSsCardError } from '../testing/util.js';
import {
  PIN_RULE_CODES,
  PIN_RULE_SOURCE,
  PIN_RULE_TEXT,
  birthDateForms,
  checkPinPolicy,
  hasPinLength,
  holderBirthDate,
  inDenyList,
  isAllDigits,
  isSameDigits,
  isSequence,
  isSixDigits,
  matchesBirthDate,
  matchesPhone,
  parseDenyList,
  phoneDigits,
  type PinPolicyContext,
  type PinRuleCode,
} from './pin-policy.js';

/** The holder of fixtures/cards/card-2.0.json: 王志强, born 1985-03-12. */
const SSN = '411082198503120038';
const codes = (pin: string | Uint8Array, ctx?: PinPolicyContext): PinRuleCode[] =>
  checkPinPolicy(typeof pin === 'string' ? ascii(pin) : pin, ctx).map((r) => r.code);

describe('seed 000 line 321 「密码必须设为６位阿拉伯数字」: exactly 6 ASCII digits', () => {
  it.each([
    ['empty', '', ['PIN_LENGTH']],
    ['5 digits', '13579', ['PIN_LENGTH']],
    ['7 digits', '1357924', ['PIN_LENGTH']],
    ['12 digits', '135792468013', ['PIN_LENGTH']],
    ['a letter', '13579a', ['PIN_NOT_DIGITS']],
    ['a space', '135 79', ['PIN_NOT_DIGITS']],
    ['full-width ６ (UTF-8, 8 bytes)', '13579６', ['PIN_LENGTH', 'PIN_NOT_DIGITS']],
    ['short and not digits', '1a', ['PIN_LENGTH', 'PIN_NOT_DIGITS']],
    ['6 good digits', '135790', []],
  ] as const)('%s', (_what, pin, expected) => {
    expect(codes(Buffer.from(pin, 'utf8'))).toEqual(expected);
    expect(isSixDigits(Buffer.from(pin, 'utf8'))).toBe(expected.length === 0);
  });

  it.each([
    ['NUL byte', [0x31, 0x32, 0x33, 0x00, 0x35, 0x36]],
    ["'/' (0x2F, just below '0')", [0x31, 0x32, 0x33, 0x2f, 0x35, 0x37]],
    ["':' (0x3A, just above '9')", [0x31, 0x32, 0x33, 0x3a, 0x35, 0x37]],
    ['BCD, not ASCII', [0x01, 0x03, 0x05, 0x07, 0x09, 0x00]],
  ])('%s → PIN_NOT_DIGITS only', (_what, bytes) => {
    expect(codes(Uint8Array.from(bytes))).toEqual(['PIN_NOT_DIGITS']);
    expect(isAllDigits(Uint8Array.from(bytes))).toBe(false);
    expect(hasPinLength(Uint8Array.from(bytes))).toBe(true);
  });

  it('a string instead of a Buffer is refused as not digits, without throwing', () => {
    expect(checkPinPolicy('135790' as unknown as Uint8Array).map((r) => r.code)).toEqual(['PIN_NOT_DIGITS']);
    expect(checkPinPolicy(undefined as unknown as Uint8Array).map((r) => r.code)).toEqual(['PIN_NOT_DIGITS']);
  });

  it('pattern rules are not applied to a PIN of the wrong shape (1111111 is only PIN_LENGTH)', () => {
    expect(codes('1111111')).toEqual(['PIN_LENGTH']);
    expect(isSameDigits(ascii('1111111'))).toBe(false);
    expect(isSequence(ascii('1234567'))).toBe(false);
  });
});

describe('seed 000 line 321 「六位相同数字」: six identical digits', () => {
  it.each(['000000', '111111', '555555', '888888', '999999'])('%s is refused', (pin) => {
    expect(codes(pin)).toEqual(['PIN_SAME_DIGITS']);
    expect(isSameDigits(ascii(pin))).toBe(true);
  });
  it.each(['111112', '211111', '888898', '121212'])('%s is not six identical digits', (pin) => {
    expect(isSameDigits(ascii(pin))).toBe(false);
  });
});

describe('seed 000 line 323 「连续数字」: ascending and descending runs', () => {
  it.each([
    ['ascending', '012345'],
    ['ascending', '123456'],
    ['ascending', '456789'],
    ['descending', '987654'],
    ['descending', '654321'],
    ['descending', '543210'],
    ['ascending through 9→0 (decision: wrap-around counts)', '567890'],
    ['ascending through 9→0 (decision: wrap-around counts)', '890123'],
    ['ascending through 9→0 (decision: wrap-around counts)', '901234'],
    ['descending through 0→9 (decision: wrap-around counts)', '098765'],
    ['descending through 0→9 (decision: wrap-around counts)', '321098'],
    ['descending through 0→9 (decision: wrap-around counts)', '432109'],
  ])('%s %s is refused', (_what, pin) => {
    expect(codes(pin)).toEqual(['PIN_SEQUENCE']);
  });

  it.each([
    ['step 2', '135790'],
    ['step 2', '246810'],
    ['one digit off', '123457'],
    ['a repeat inside', '112345'],
    ['up then down', '123321'],
    ['two short runs', '123789'],
  ])('%s %s is not a run', (_what, pin) => {
    expect(isSequence(ascii(pin))).toBe(false);
  });

  it('wrapAround: false keeps only the 10 plain runs', () => {
    expect(isSequence(ascii('890123'), { wrapAround: false })).toBe(false);
    expect(isSequence(ascii('098765'), { wrapAround: false })).toBe(false);
    expect(isSequence(ascii('123456'), { wrapAround: false })).toBe(true);
  });

  it('exactly 20 of the 10^6 PINs are runs (10 plain, 10 through 9/0); 10 without wrap-around', () => {
    const pin = Buffer.alloc(6);
    let wrap = 0;
    let plain = 0;
    for (let n = 0; n < 1_000_000; n++) {
      pin.write(String(n).padStart(6, '0'), 'ascii');
      if (isSequence(pin)) wrap++;
      if (isSequence(pin, { wrapAround: false })) plain++;
    }
    expect([wrap, plain]).toEqual([20, 10]);
  });
});

describe('seed 000 line 323 「出生日期」: the holder’s birth date in its usual forms', () => {
  const fromSsn: PinPolicyContext = { socialSecurityNumber: SSN };
  it.each([
    ['YYMMDD (= the tail of YYYYMMDD)', '850312'],
    ['MMDDYY', '031285'],
    ['DDMMYY', '120385'],
    ['YYYYMM (a typed YYYYMMDD cut at 6)', '198503'],
    ['MMDD then two digits', '031247'],
    ['two digits then MMDD', '470312'],
  ])('%s %s, from the 社会保障号码 (positions 7–14)', (_what, pin) => {
    expect(codes(pin, fromSsn)).toEqual(['PIN_BIRTH_DATE']);
  });

  it.each([
    ['YYDDMM is not a usual form', '851203'],
    ['DDMM then two digits is not MMDD-based', '120347'],
    ['another date', '850313'],
  ])('%s (%s) is accepted', (_what, pin) => {
    expect(codes(pin, fromSsn)).toEqual([]);
  });

  it('birthDate (YYYY-MM-DD) wins over the 社会保障号码; without either there is no birth-date rule', () => {
    const ctx = { socialSecurityNumber: SSN, birthDate: '1992-07-08' };
    expect(matchesBirthDate(ascii('920708'), ctx)).toBe(true);
    expect(matchesBirthDate(ascii('850312'), ctx)).toBe(false);
    expect(matchesBirthDate(ascii('850312'), {})).toBe(false);
    expect(matchesBirthDate(ascii('850312'))).toBe(false);
  });

  it.each([
    ['birthDate not a real date → falls back to the number', { birthDate: '1985-02-30', socialSecurityNumber: SSN }, '19850312'],
    ['birthDate YYYYMMDD accepted', { birthDate: '19850312' }, '19850312'],
    ['check character X', { socialSecurityNumber: '41108219850312003X' }, '19850312'],
    ['15-character legacy number: no date', { socialSecurityNumber: '411082850312003' }, undefined],
    ['number with an impossible date', { socialSecurityNumber: '411082198513120038' }, undefined],
    ['garbage', { socialSecurityNumber: 'not a number', birthDate: 'soon' }, undefined],
  ])('holderBirthDate: %s', (_what, ctx, expected) => {
    expect(holderBirthDate(ctx)).toBe(expected);
  });

  it('birthDateForms lists YYMMDD, MMDDYY, DDMMYY, YYYYMM', () => {
    expect(birthDateForms({ socialSecurityNumber: SSN })).toEqual(['850312', '031285', '120385', '198503']);
    expect(birthDateForms({})).toEqual([]);
  });
});

describe('seed 000 line 323 「电话号码」: any 6 consecutive digits of a phone number', () => {
  const ctx = { phones: ['13912876540', '0374-6566168'] };
  it.each([
    ['mobile, first window', '139128'],
    ['mobile, middle window', '128765'],
    ['mobile, last window', '876540'],
    ['landline across the area code', '037465'],
    ['landline, last window', '566168'],
  ])('%s (%s) is refused', (_what, pin) => {
    expect(codes(pin, ctx)).toEqual(['PIN_PHONE']);
  });

  it.each([
    ['+86 country code is not part of the number', { phones: ['+86 139 1287 6540'] }, '861391', false],
    ['+86 country code stripped, number still matched', { phones: ['+86 139 1287 6540'] }, '391287', true],
    ['0086 country code stripped', { phones: ['0086-13912876540'] }, '008613', false],
    ['shorter than 6 digits never matches', { phones: ['12345'] }, '123450', false],
    ['a non-string entry is ignored', { phones: [13912876540 as unknown as string] }, '139128', false],
    ['no phones', {}, '139128', false],
  ])('%s', (_what, c, pin, expected) => {
    expect(matchesPhone(ascii(pin), c)).toBe(expected);
  });

  it('phoneDigits keeps the digits and drops the country code', () => {
    expect(phoneDigits(' +86 (139) 1287-6540 ')).toBe('13912876540');
    expect(phoneDigits('0374-6566168')).toBe('03746566168');
  });
});

describe('docs/config.md session.denyList: a configurable deny list', () => {
  const ctx = { denyList: ['520520', '147258', '12345', 'abcdef'] };
  it.each([
    ['520520', true],
    ['147258', true],
    ['520521', false],
    ['123450', false],
  ])('%s on the list: %s', (pin, expected) => {
    expect(inDenyList(ascii(pin), ctx)).toBe(expected);
    expect(codes(pin, ctx)).toEqual(expected ? ['PIN_DENY_LIST'] : []);
  });

  it('parseDenyList validates eagerly and names the key path, never quoting an entry', () => {
    expect(parseDenyList(['520520', '147258'])).toEqual(['520520', '147258']);
    const e = assertSsCardError(() => parseDenyList(['520520', '14725'], 'terminal.pinPolicy.denyList'), ErrorCode.Config_Invalid);
    expect(e.message).toContain('terminal.pinPolicy.denyList[1]');
    expect(e.message).not.toContain('14725');
    assertSsCardError(() => parseDenyList('520520'), ErrorCode.Config_Invalid);
  });
});

describe('all rules together', () => {
  it('every broken rule is reported, in PIN_RULE_CODES order', () => {
    // 123456 is a run, the holder's phone digits and on the deny list.
    expect(codes('123456', { phones: ['13000123456'], denyList: ['123456'] })).toEqual(['PIN_SEQUENCE', 'PIN_PHONE', 'PIN_DENY_LIST']);
    // 000000: identical digits and a window of a placeholder phone.
    expect(codes('000000', { phones: ['13000000099'] })).toEqual(['PIN_SAME_DIGITS', 'PIN_PHONE']);
  });

  it.each(PIN_RULE_CODES.map((c) => [c]))('%s has a stable zh-CN/en reason without digits runs, and a source', (code) => {
    const t = PIN_RULE_TEXT[code];
    expect(t.zh).toMatch(/[\u4e00-\u9fff]/);
    expect(t.en).toMatch(/^The PIN|^This PIN/);
    expect(`${t.zh} ${t.en}`).not.toMatch(/\d{2,}/);
    expect(PIN_RULE_SOURCE[code]).toMatch(/seed 000 line 32[13]|docs\/config\.md session\.denyList/);
  });
});

/** Independent oracle, written with strings (fine in a test): which rules a 6-digit PIN breaks. */
function oracle(pin: string, date: string /* YYYYMMDD */): Set<PinRuleCode> {
  const out = new Set<PinRuleCode>();
  if (/^(\d)\1{5}$/.test(pin)) out.add('PIN_SAME_DIGITS');
  const up = '01234567890123456';
  const down = '98765432109876543';
  if (up.includes(pin) || down.includes(pin)) out.add('PIN_SEQUENCE');
  const [y4, y2, m, d] = [date.slice(0, 4), date.slice(2, 4), date.slice(4, 6), date.slice(6, 8)];
  if ([y2 + m + d, m + d + y2, d + m + y2, y4 + m].includes(pin) || pin.startsWith(m + d) || pin.endsWith(m + d)) {
    out.add('PIN_BIRTH_DATE');
  }
  return out;
}

const dateArb = fc
  .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
  .map((dt) => dt.toISOString().slice(0, 10));
const digitsArb = fc.stringMatching(/^\d{6}$/);

describe('properties (fast-check)', () => {
  it('checkPinPolicy never throws for any bytes and any context; non-digits give PIN_NOT_DIGITS', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 16 }),
        fc.record(
          {
            socialSecurityNumber: fc.string(),
            birthDate: fc.string(),
            phones: fc.array(fc.string()),
            denyList: fc.array(fc.string()),
          },
          { requiredKeys: [] },
        ),
        (bytes, ctx) => {
          const got = codes(bytes, ctx);
          const allDigits = bytes.length > 0 && bytes.every((b) => b >= 0x30 && b <= 0x39);
          expect(got.includes('PIN_NOT_DIGITS')).toBe(bytes.length > 0 && !allDigits);
          expect(got.includes('PIN_LENGTH')).toBe(bytes.length !== 6);
        },
      ),
    );
  });

  it('a 6-digit PIN is refused exactly when it is identical digits, a run or a birth-date form (accepted ⇒ none of them)', () => {
    const pinFor = (date: string): fc.Arbitrary<string> => {
      const [y4, y2, m, d] = [date.slice(0, 4), date.slice(2, 4), date.slice(5, 7), date.slice(8, 10)];
      return fc.oneof(
        digitsArb,
        fc.constantFrom(y2 + m + d, m + d + y2, d + m + y2, y4 + m),
        fc.stringMatching(/^\d{2}$/).chain((xx) => fc.constantFrom(m + d + xx, xx + m + d)),
        fc.integer({ min: 0, max: 9 }).chain((s) =>
          fc.constantFrom(
            Array.from({ length: 6 }, (_, i) => String((s + i) % 10)).join(''),
            Array.from({ length: 6 }, (_, i) => String((s + 10 - i) % 10)).join(''),
            String(s).repeat(6),
          ),
        ),
      );
    };
    fc.assert(
      fc.property(
        dateArb.chain((date) => fc.tuple(fc.constant(date), pinFor(date))),
        ([date, pin]) => {
          const got = new Set(codes(pin, { birthDate: date }));
          expect(got).toEqual(oracle(pin, date.replace(/-/g, '')));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a PIN made of 6 consecutive digits of a phone is always refused; one not in the phone is never refused for it', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^1[3-9]\d{9}$/), fc.nat(5), digitsArb, (phone, at, other) => {
        expect(matchesPhone(ascii(phone.slice(at, at + 6)), { phones: [phone] })).toBe(true);
        expect(matchesPhone(ascii(other), { phones: [phone] })).toBe(phone.includes(other));
      }),
    );
  });

  it('no reason ever holds the PIN; the PIN is never changed', () => {
    fc.assert(
      fc.property(digitsArb, dateArb, (pin, date) => {
        const buf = ascii(pin);
        const rejections = checkPinPolicy(buf, { birthDate: date, phones: [`139${pin}00`], denyList: [pin] });
        expect(rejections.map((r) => r.code)).toContain('PIN_PHONE');
        expect(JSON.stringify(rejections)).not.toContain(pin);
        expect(buf.toString('ascii')).toBe(pin);
      }),
    );
  });
});

describe('the PIN is never decoded or copied', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('checkPinPolicy makes no string and no buffer from the PIN bytes', () => {
    const pin = ascii('850312');
    const ctx = { socialSecurityNumber: SSN, phones: ['13912876540'], denyList: ['520520'] };
    const spies = [
      vi.spyOn(Buffer.prototype, 'toString'),
      vi.spyOn(Buffer, 'from'),
      vi.spyOn(Buffer, 'alloc'),
      vi.spyOn(Buffer, 'allocUnsafe'),
      vi.spyOn(Uint8Array.prototype, 'slice'),
      vi.spyOn(Uint8Array.prototype, 'subarray'),
      vi.spyOn(String, 'fromCharCode'),
      vi.spyOn(TextDecoder.prototype, 'decode'),
    ];
    const got = checkPinPolicy(pin, ctx).map((r) => r.code);
    const calls = spies.map((s) => s.mock.calls.length);
    vi.restoreAllMocks();
    expect(got).toEqual(['PIN_BIRTH_DATE']);
    expect(calls).toEqual(spies.map(() => 0));
  });
});
