import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import { parseHex, toHex } from './hex.js';

describe('parseHex', () => {
  it.each([
    ['00 A4 04 00', '00A40400'],
    ['00:a4:04:00', '00A40400'],
    ['00-A4-04-00', '00A40400'],
    ['0x00A4', '00A4'],
    ['0X00a4', '00A4'],
    ['  0x00 A4', '00A4'], // leading blanks before 0x
    ['\t00\nA4\r\n', '00A4'],
    ['', ''],
    ['3B8F8001', '3B8F8001'],
  ])('%j → %s', (text, hex) => {
    expect(toHex(parseHex(text))).toBe(hex);
  });

  it.each([
    // position is where the character is in the text as typed
    ['00 A4 G4', 'G', 6],
    ['0x00 0xA4', 'x', 6], // 0x only at the start
    ['00,A4', ',', 2],
    ['9000h', 'h', 4],
    ['  0x1Z', 'Z', 5],
  ])('%j: bad character %s at %s', (text, ch, position) => {
    let caught: unknown;
    try {
      parseHex(text, 'APDU');
    } catch (e) {
      caught = e;
    }
    expect(isSsCardError(caught, ErrorCode.Input_BadHex)).toBe(true);
    if (!isSsCardError(caught)) return;
    expect(caught.context).toEqual({ what: 'APDU', position });
    expect(caught.text.en).toBe(`APDU contains a non-hex character "${ch}" at position ${position}: use 0-9, A-F and spaces only`);
    expect(caught.text.zh).toContain(`“${ch}”（位置 ${position}）`);
  });

  it('rejects an odd number of digits', () => {
    expect(() => parseHex('00 A')).toThrow(/odd number of hex digits \(3\)/);
    expect(() => parseHex('0x0')).toThrow(expect.objectContaining({ code: ErrorCode.Input_BadHex }) as Error);
  });
});

describe('toHex', () => {
  it.each<[Uint8Array | number[], string, string]>([
    [[0x00, 0xa4, 0x04, 0x00], '', '00A40400'],
    [[0x00, 0xa4, 0x04, 0x00], ' ', '00 A4 04 00'],
    [[0x90, 0x00], ':', '90:00'],
    [[0xab], ' ', 'AB'],
    [[], ' ', ''],
    [new Uint8Array([1, 2, 3]).subarray(1), ' ', '02 03'], // a view: only its own bytes
  ])('%j sep %j → %s', (bytes, sep, hex) => {
    expect(toHex(bytes, sep)).toBe(hex);
  });
});

describe('hex properties', () => {
  it('toHex → parseHex round trip with any separator', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom('', ' ', ':', '-', '  ', '\n'), (bytes, sep) => {
        expect(Buffer.compare(parseHex(toHex(bytes, sep)), Buffer.from(bytes))).toBe(0);
        expect(Buffer.compare(parseHex(`0x${toHex(bytes)}`), Buffer.from(bytes))).toBe(0);
      }),
    );
  });

  it('random text: bytes or SsCardError(Input_BadHex), never anything else', () => {
    const hexish = fc.string({ unit: fc.constantFrom('0', '9', 'a', 'F', ' ', ':', '-', 'x', 'g', '\t', '0x'), maxLength: 40 });
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), hexish), (text) => {
        try {
          const b = parseHex(text);
          expect(toHex(b).length).toBe(b.length * 2);
        } catch (e) {
          expect(isSsCardError(e, ErrorCode.Input_BadHex)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
