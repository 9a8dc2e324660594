import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import type { SerialPadItem } from './serial-protocol.js';
import { encodeFrame, lrc, zt598, Zt598Parser } from './zt598.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/[^0-9a-fA-F]/g, ''), 'hex');

function parseAll(chunks: Uint8Array[]): SerialPadItem[] {
  const p = new Zt598Parser();
  return chunks.flatMap((c) => p.push(c));
}

/** Items without the error objects (compare structure only). */
const shape = (items: SerialPadItem[]): unknown[] => items.map((i) => (i.type === 'frame' ? ['F', i.payload.toString('hex')] : i.type === 'key' ? ['K', i.byte] : ['E']));

describe('ZT598 framing', () => {
  it('encodes the plaintext-input-on command (golden)', () => {
    // 02            STX
    // 30 30 34      LEN "004": four bytes of CMD+DATA
    // 35 30 33 33   "5033": control (5), misc (0), value '3' as ASCII hex "33" = input on
    // 03            ETX
    // 33 32         LRC "32": 30^30^34^35^30^33^33^03 = 0x32, as two ASCII hex digits
    expect(zt598.encode('plainInputOn')).toEqual(hex('02 30 30 34 35 30 33 33 03 33 32'));
    expect(lrc(hex('30 30 34 35 30 33 33 03'))).toBe(0x32);
  });

  it('encodes the probe and reset (golden)', () => {
    // 02 | "001" | "3" | 03 | LRC 30^30^31^33^03 = 0x01 → "01"
    expect(zt598.encode('probe')).toEqual(hex('02 30 30 31 33 03 30 31'));
    // 02 | "004" | "5030" | 03 | LRC 30^30^34^35^30^33^30^03 = 0x31 → "31" (33 31)
    expect(zt598.encode('reset')).toEqual(hex('02 30 30 34 35 30 33 30 03 33 31'));
  });

  it('parses a success answer and an EE error (golden)', () => {
    // 02 | "001" | 04 (success status) | 03 | LRC 30^30^31^04^03 = 0x36 → "36" (33 36)
    const ok = hex('02 30 30 31 04 03 33 36');
    const [item] = parseAll([ok]);
    expect(item).toEqual({ type: 'frame', payload: hex('04') });
    expect(zt598.interpret(hex('04'))).toEqual({ ok: true, data: Buffer.alloc(0) });
    expect(zt598.interpret(hex('EE'))).toMatchObject({ ok: false, code: 0xee, en: 'input timed out' });
  });

  it('keys outside frames are key items, also between frames', () => {
    const frame = encodeFrame(hex('04'));
    expect(shape(parseAll([Buffer.from('12'), frame, Buffer.from([0x0d])]))).toEqual([
      ['K', 0x31],
      ['K', 0x32],
      ['F', '04'],
      ['K', 0x0d],
    ]);
  });

  it('decodes key bytes: digits, Enter, Cancel, Backspace; ignores the rest', () => {
    expect(zt598.decodeKey(0x37)).toEqual({ type: 'digit', digit: 7 });
    expect(zt598.decodeKey(0x0d)).toEqual({ type: 'enter' });
    expect(zt598.decodeKey(0x1b)).toEqual({ type: 'cancel' });
    expect(zt598.decodeKey(0x80)).toEqual({ type: 'cancel' });
    expect(zt598.decodeKey(0x08)).toEqual({ type: 'backspace' });
    expect(zt598.decodeKey(0x2e)).toBeUndefined();
  });

  it.each([
    ['a wrong LRC', '02 30 30 31 04 03 33 37'],
    ['a missing ETX', '02 30 30 31 04 04 33 36'],
    ['a non-digit length', '02 30 41 31 04 03 33 36'],
    ['a non-hex LRC', '02 30 30 31 04 03 5A 5A'],
  ])('%s yields a PinPad_Protocol error item, never a frame', (_n, h) => {
    const items = parseAll([hex(h)]);
    expect(items.some((i) => i.type === 'frame')).toBe(false);
    const err = items.find((i) => i.type === 'error');
    expect(err && err.type === 'error' && isSsCardError(err.error, ErrorCode.PinPad_Protocol)).toBe(true);
  });

  it('resynchronises on an STX inside a bad length', () => {
    const good = encodeFrame(hex('04'));
    const items = parseAll([Buffer.concat([hex('02 30'), good])]);
    expect(shape(items)).toEqual([['E'], ['F', '04']]);
  });

  it('a truncated frame waits (no item), and reset() forgets it', () => {
    const p = new Zt598Parser();
    const f = encodeFrame(Buffer.from('ABC'));
    expect(p.push(f.subarray(0, f.length - 1))).toEqual([]);
    p.reset();
    expect(shape(p.push(encodeFrame(hex('04'))))).toEqual([['F', '04']]);
  });

  const payload = fc.uint8Array({ maxLength: 40 });
  const item = fc.oneof(
    payload.map((p) => ({ kind: 'frame' as const, bytes: encodeFrame(p), p })),
    fc.constantFrom(0x30, 0x35, 0x39, 0x0d, 0x1b, 0x08).map((b) => ({ kind: 'key' as const, bytes: Buffer.from([b]), p: Buffer.from([b]) })),
  );

  it('property: merged and split arbitrarily, frames and keys come out the same and in order', () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 20 }), (items, cuts) => {
        const stream = Buffer.concat(items.map((i) => i.bytes));
        const chunks: Buffer[] = [];
        let at = 0;
        for (let k = 0; at < stream.length; k++) {
          const n = cuts[k % cuts.length]!;
          chunks.push(stream.subarray(at, at + n));
          at += n;
        }
        const expected = items.map((i) => (i.kind === 'frame' ? ['F', Buffer.from(i.p).toString('hex')] : ['K', i.bytes[0]]));
        expect(shape(parseAll([stream]))).toEqual(expected);
        expect(shape(parseAll(chunks))).toEqual(expected);
      }),
    );
  });

  it('property: garbage, corrupted and truncated streams yield only frame/key/typed-error items, chunking-independent, never throwing', () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 8 }), fc.uint8Array({ maxLength: 60 }), fc.nat(), fc.nat(), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 5 }), (items, garbage, flipAt, cutAt, cuts) => {
        let stream = Buffer.concat([...items.map((i) => i.bytes), garbage]);
        if (stream.length > 0) {
          stream = Buffer.from(stream);
          stream[flipAt % stream.length]! ^= 0x41;
          stream = stream.subarray(0, stream.length - (cutAt % Math.min(stream.length, 9)));
        }
        const whole = parseAll([stream]);
        const chunks: Buffer[] = [];
        for (let at = 0, k = 0; at < stream.length; k++) {
          const n = cuts[k % cuts.length]!;
          chunks.push(stream.subarray(at, at + n));
          at += n;
        }
        const split = parseAll(chunks);
        expect(shape(split)).toEqual(shape(whole));
        for (const i of whole) {
          if (i.type === 'error') expect(isSsCardError(i.error, ErrorCode.PinPad_Protocol)).toBe(true);
          else expect(['frame', 'key']).toContain(i.type);
        }
      }),
    );
  });

  it('property: encode → parse round trip for any payload up to 999 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 999 }), (p) => {
        expect(parseAll([encodeFrame(p)])).toEqual([{ type: 'frame', payload: Buffer.from(p) }]);
      }),
      { numRuns: 50 },
    );
  });

  it('refuses to frame more than 999 bytes (Input_BadLength)', () => {
    expect(() => encodeFrame(Buffer.alloc(1000))).toThrow(expect.objectContaining({ code: ErrorCode.Input_BadLength }));
  });
});
