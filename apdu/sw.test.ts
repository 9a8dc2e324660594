import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { decodeResponse } from './apdu.js';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import type { SwCategory } from './sw.js';
import { SW_OK, SW_PIN_BLOCKED, checkSw, describeSw, swHex, swWrongPin, triesLeft } from './sw.js';

const CJK = /[\u4e00-\u9fff]/;

describe('describeSw', () => {
  // Every status word docs/domain.md §2 and §6 names, with the category an operator screen keys on.
  it.each<[number, SwCategory]>([
    [0x9000, 'success'],
    [0x6283, 'warning'], // not-activated card answers SELECT AID with this (+FCI)
    [0x6300, 'securityError'], // EXTERNAL AUTH failed
    [0x6400, 'checkingError'], // PIN pad: timeout
    [0x6401, 'checkingError'], // PIN pad: cancelled
    [0x6402, 'checkingError'], // PIN pad: new PINs differ
    [0x6403, 'checkingError'], // PIN pad: length out of range
    [0x6581, 'checkingError'],
    [0x6700, 'wrongLength'],
    [0x6981, 'fileError'],
    [0x6982, 'securityError'],
    [0x6983, 'pinBlocked'],
    [0x6984, 'securityError'],
    [0x6985, 'securityError'],
    [0x6986, 'fileError'],
    [0x6988, 'macError'],
    [0x6a80, 'checkingError'],
    [0x6a81, 'checkingError'],
    [0x6a82, 'fileError'],
    [0x6a83, 'fileError'],
    [0x6a84, 'fileError'],
    [0x6a85, 'checkingError'],
    [0x6a86, 'checkingError'],
    [0x6a87, 'checkingError'],
    [0x6a88, 'fileError'],
    [0x6b00, 'checkingError'],
    [0x6d00, 'checkingError'],
    [0x6e00, 'checkingError'],
    [0x6f00, 'checkingError'],
    [0x9302, 'macError'],
    [0x9303, 'locked'],
  ])('%s', (sw, category) => {
    const d = describeSw(sw);
    expect(d.category).toBe(category);
    expect(d.sw).toBe(sw);
    expect(d.hex).toBe(swHex(sw));
    expect(d.zh).toMatch(CJK);
    expect(d.en).toMatch(/^[\x20-\x7e]+$/);
    expect(d.triesLeft).toBeUndefined();
  });

  it('gives each of 6A80..6A88 its own text', () => {
    const texts = new Set([0x6a80, 0x6a81, 0x6a82, 0x6a83, 0x6a84, 0x6a85, 0x6a86, 0x6a87, 0x6a88].map((sw) => describeSw(sw).en));
    expect(texts.size).toBe(9);
  });

  it('tells the operator what 6983 means and what to do', () => {
    const d = describeSw(0x6983);
    expect(d.zh).toContain('密码已锁定');
    expect(d.en).toContain('PIN is blocked');
  });

  it.each([1, 2, 3, 5, 15])('63C%s: wrong PIN, tries left', (x) => {
    const d = describeSw(0x63c0 | x);
    expect(d).toMatchObject({ category: 'pinRetry', triesLeft: x });
    expect(d.zh).toContain(`还可尝试 ${x} 次`);
    expect(d.en).toContain(`${x} ${x === 1 ? 'try' : 'tries'} left`);
  });

  it('63C0: no tries left is a blocked PIN', () => {
    expect(describeSw(0x63c0)).toMatchObject({ category: 'pinBlocked', triesLeft: 0 });
  });

  it.each([
    [0x6110, 16],
    [0x6100, 256], // 00 = 256 bytes
  ])('61xx %s: more data, GET RESPONSE Le', (sw, n) => {
    const d = describeSw(sw);
    expect(d).toMatchObject({ category: 'moreData', length: n });
    expect(d.en).toContain(`00 C0 00 00 ${swHex(sw).slice(2)}`);
  });

  it('6Cxx: wrong Le, re-send with xx', () => {
    expect(describeSw(0x6c08)).toMatchObject({ category: 'wrongLength', length: 8 });
    expect(describeSw(0x6c08).en).toContain('Le=08');
  });

  it.each<[number, SwCategory]>([
    [0x6201, 'warning'],
    [0x6310, 'warning'],
    [0x6410, 'checkingError'],
    [0x6502, 'checkingError'],
    [0x6800, 'checkingError'],
    [0x6999, 'checkingError'],
    [0x6a99, 'checkingError'],
  ])('family fallback %s', (sw, category) => {
    const d = describeSw(sw);
    expect(d.category).toBe(category);
    expect(d.zh).toContain(swHex(sw));
    expect(d.en).toContain(swHex(sw));
  });

  it('describes unknown status words', () => {
    expect(describeSw(0x6f12)).toMatchObject({ category: 'checkingError' });
    expect(describeSw(0x9401)).toMatchObject({ category: 'unknown', zh: '未知状态字 9401', en: 'unknown status word 9401' });
    expect(describeSw(0x1234)).toMatchObject({ category: 'unknown', hex: '1234' });
  });

  it('never throws, for any 16-bit value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), (sw) => {
        const d = describeSw(sw);
        expect(d.hex).toBe(swHex(sw));
        expect(d.zh.length).toBeGreaterThan(0);
        expect(d.en.length).toBeGreaterThan(0);
      }),
    );
  });
});

describe('triesLeft / swHex', () => {
  it.each([
    [0x63c3, 3],
    [0x63c0, 0],
    [0x63cf, 15],
    [0x6300, undefined],
    [0x6983, undefined],
    [0x9000, undefined],
  ])('triesLeft(%s) = %s', (sw, n) => expect(triesLeft(sw)).toBe(n));

  it('swWrongPin is the inverse of triesLeft; SW_OK and SW_PIN_BLOCKED are what describeSw calls success and pinBlocked', () => {
    for (let n = 0; n <= 15; n++) expect(triesLeft(swWrongPin(n))).toBe(n);
    expect(swWrongPin(5)).toBe(0x63c5);
    expect(describeSw(SW_OK).category).toBe('success');
    expect(describeSw(SW_PIN_BLOCKED).category).toBe('pinBlocked');
  });

  it('pads to four upper-case digits', () => {
    expect(swHex(0x9000)).toBe('9000');
    expect(swHex(0x6a82)).toBe('6A82');
    expect(swHex(0x0001)).toBe('0001');
  });
});

describe('checkSw', () => {
  const res = (hex: string): ReturnType<typeof decodeResponse> => decodeResponse(Buffer.from(hex, 'hex'));

  it('returns the data on 9000', () => {
    expect(checkSw(res('01029000'), '读记录')).toEqual(Buffer.from([1, 2]));
  });

  it('throws Card_Status with the SW description and context', () => {
    try {
      checkSw(res('6A82'), { zh: '选择文件 EF05', en: 'SELECT EF05' });
      expect.unreachable();
    } catch (e) {
      expect(isSsCardError(e, ErrorCode.Card_Status)).toBe(true);
      if (!isSsCardError(e)) throw e;
      expect(e.context).toMatchObject({ sw: 0x6a82 });
      expect(e.text.zh).toContain('选择文件 EF05失败');
      expect(e.text.zh).toContain('6A82');
      expect(e.text.en).toContain('SELECT EF05 failed');
      expect(e.message).toContain('E300');
    }
  });

  it.each([
    ['6983', ErrorCode.Card_PinBlocked, undefined],
    ['63C0', ErrorCode.Card_PinBlocked, 0],
    ['63C2', ErrorCode.Card_WrongPin, 2],
    ['6982', ErrorCode.Card_Status, undefined],
    ['6283', ErrorCode.Card_Status, undefined], // a warning is not success
    ['6110', ErrorCode.Card_Status, undefined], // unfetched response data
  ])('%s → E%s', (hex, code, tries) => {
    let caught: unknown;
    try {
      checkSw(res(hex), 'VERIFY');
    } catch (e) {
      caught = e;
    }
    expect(isSsCardError(caught, code)).toBe(true);
    if (!isSsCardError(caught)) return;
    expect(caught.context?.['sw']).toBe(parseInt(hex, 16));
    expect(caught.context?.['triesLeft']).toBe(tries);
  });
});
