import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import type { CommandApdu } from './apdu.js';
import { apduCase, command, decodeCommand, decodeResponse, encodeCommand, encodeResponse, isSuccess, PIN_BEARING_INS, traceCommand } from './apdu.js';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import { parseHex, toHex } from './hex.js';

/** The SSSE AID, 15 bytes: "sx1.sh." ‖ GBK "社会保障". */
const AID = parseHex('7378312E73682EC9E7BBE1B1A3D5CF');

function hex(b: Uint8Array): string {
  return toHex(b, ' ');
}

const d300 = Buffer.alloc(300, 0x5a);
const d256 = Buffer.alloc(256, 0xa5);

// ISO 7816-4 §5.2: the four cases, short and extended. Each row: name, command, encoding.
const GOLDEN: [string, CommandApdu, string][] = [
  // case 1: CLA INS P1 P2, no body
  ['case 1', command(0x00, 0xa4, 0x00, 0x00), '00 A4 00 00'],
  // case 2S: GET CHALLENGE, Le = 08
  ['case 2S GET CHALLENGE', command(0x00, 0x84, 0x00, 0x00, undefined, 8), '00 84 00 00 08'],
  // case 2S: Le = 256 is encoded as 00
  ['case 2S Le=256', command(0x00, 0xb0, 0x00, 0x00, undefined, 256), '00 B0 00 00 00'],
  // case 3S: SELECT EF05, Lc = 02, data EF 05
  ['case 3S SELECT EF05', command(0x00, 0xa4, 0x02, 0x00, parseHex('EF05')), '00 A4 02 00 02 EF 05'],
  // case 4S: SELECT SSSE by AID, Lc = 0F, AID, Le = 00 (256)
  ['case 4S SELECT AID', command(0x00, 0xa4, 0x04, 0x00, AID, 256), `00 A4 04 00 0F ${hex(AID)} 00`],
  // case 4S: READ RECORD-like with Lc 1 and Le 255
  ['case 4S Le=255', command(0x80, 0xca, 0x01, 0x02, parseHex('AA'), 255), '80 CA 01 02 01 AA FF'],
  // case 2E: Le = 257 needs 00 ‖ 01 01
  ['case 2E Le=257', command(0x00, 0xb0, 0x00, 0x00, undefined, 257), '00 B0 00 00 00 01 01'],
  // case 2E: Le = 65536 is encoded as 00 ‖ 00 00
  ['case 2E Le=65536', command(0x00, 0xb0, 0x00, 0x00, undefined, 65536), '00 B0 00 00 00 00 00'],
  // case 2E forced: Le = 8 as 00 ‖ 00 08
  ['case 2E forced', { ...command(0x00, 0x84, 0x00, 0x00, undefined, 8), extended: true }, '00 84 00 00 00 00 08'],
  // case 3E: 256 bytes need Lc = 00 ‖ 01 00
  ['case 3E Nc=256', command(0x00, 0xd6, 0x00, 0x00, d256), `00 D6 00 00 00 01 00 ${hex(d256)}`],
  // case 4E: Lc = 00 01 2C (300), data, Le = 00 00 (65536) without the leading 00
  ['case 4E Nc=300 Le=65536', command(0x00, 0xda, 0x00, 0x00, d300, 65536), `00 DA 00 00 00 01 2C ${hex(d300)} 00 00`],
  // case 4E because of Le alone: Lc = 00 00 02, Le = 01 01
  ['case 4E Le=257', command(0x00, 0xcb, 0x3f, 0xff, parseHex('5C00'), 257), '00 CB 3F FF 00 00 02 5C 00 01 01'],
  // case 4E: Nc=300 with Le=256 → Le 01 00
  ['case 4E Le=256', command(0x00, 0xda, 0x00, 0x00, d300, 256), `00 DA 00 00 00 01 2C ${hex(d300)} 01 00`],
  // case 3E forced with a short body
  ['case 3E forced', { ...command(0x00, 0xa4, 0x02, 0x00, parseHex('EF06')), extended: true }, '00 A4 02 00 00 00 02 EF 06'],
];

describe('encodeCommand / decodeCommand: golden bytes', () => {
  it.each(GOLDEN)('encode %s', (_name, c, expected) => {
    expect(hex(encodeCommand(c))).toBe(expected);
  });

  it.each(GOLDEN)('decode %s', (_name, c, bytes) => {
    const d = decodeCommand(parseHex(bytes));
    expect([d.cla, d.ins, d.p1, d.p2, toHex(d.data), d.le]).toEqual([c.cla, c.ins, c.p1, c.p2, toHex(c.data), c.le]);
    expect(apduCase(d)).toBe(apduCase(c));
    // decode → encode gives the same bytes back
    expect(hex(encodeCommand(d))).toBe(bytes);
  });

  it('a forced-extended case 1 has no length fields', () => {
    expect(hex(encodeCommand({ ...command(0, 0xa4, 0, 0), extended: true }))).toBe('00 A4 00 00');
  });

  it.each([
    [command(0, 0xa4, 0, 0), 1],
    [command(0, 0x84, 0, 0, undefined, 8), 2],
    [command(0, 0xa4, 2, 0, parseHex('EF05')), 3],
    [command(0, 0xa4, 4, 0, AID, 256), 4],
  ])('apduCase %#', (c, n) => expect(apduCase(c)).toBe(n));
});

describe('encodeCommand: bad fields', () => {
  it.each<[string, CommandApdu, RegExp]>([
    ['CLA 256', command(0x100, 0xa4, 0, 0), /field CLA must be an integer 0..255, got 256/],
    ['P1 -1', command(0, 0xa4, -1, 0), /field P1/],
    ['P2 1.5', command(0, 0xa4, 0, 1.5), /field P2/],
    ['Le 0', command(0, 0xb0, 0, 0, undefined, 0), /Le must be 1..65536, got 0/],
    ['Le 65537', command(0, 0xb0, 0, 0, undefined, 65537), /Le must be 1..65536/],
    ['INS 61', command(0, 0x61, 0, 0), /INS 61 is invalid/],
    ['INS 9F', command(0, 0x9f, 0, 0), /INS 9F is invalid/],
    ['Nc 65536', command(0, 0xd6, 0, 0, Buffer.alloc(65536)), /data field too long: 65536 bytes/],
  ])('%s', (_name, c, fragment) => {
    expect(() => encodeCommand(c)).toThrow(fragment);
    expect(() => encodeCommand(c)).toThrow(expect.objectContaining({ code: ErrorCode.Input_BadApdu }) as Error);
  });
});

describe('decodeCommand: malformed bytes', () => {
  it.each([
    ['', /0 bytes, at least 4/],
    ['00 A4 04', /3 bytes, at least 4/],
    ['00 A4 04 00 05 01 02', /Lc=5 but 2 bytes follow/], // short Lc larger than the data
    ['00 A4 04 00 01 01 02 03', /Lc=1 but 3 bytes follow/], // data + more than one Le byte
    ['00 A4 04 00 00 01', /truncated extended length field/],
    ['00 A4 04 00 00 00 00 01', /extended Lc is 0/],
    ['00 A4 04 00 00 00 03 01 02', /extended Lc=3 but 2 bytes follow/],
    ['00 A4 04 00 00 00 01 AA 00', /extended Lc=1 but 2 bytes follow/], // a 1-byte Le after an extended Lc
  ])('%s', (h, fragment) => {
    let caught: unknown;
    try {
      decodeCommand(parseHex(h));
    } catch (e) {
      caught = e;
    }
    expect(isSsCardError(caught, ErrorCode.Input_BadApdu)).toBe(true);
    expect((caught as Error).message).toMatch(fragment);
    expect((caught as Error).message).toMatch(/^命令 APDU 格式错误：/);
  });
});

describe('responses', () => {
  it.each([
    // 9000: no data
    ['90 00', '', 0x9000],
    // READ RECORD of EF05 tag 03: 03 04 "3.00" ‖ 9000
    ['03 04 33 2E 30 30 90 00', '03 04 33 2E 30 30', 0x9000],
    // 6A82: file not found
    ['6A 82', '', 0x6a82],
  ])('decodeResponse %s', (bytes, data, sw) => {
    const r = decodeResponse(parseHex(bytes));
    expect([hex(r.data), r.sw, r.sw1, r.sw2]).toEqual([data, sw, sw >> 8, sw & 0xff]);
    expect(hex(encodeResponse(r.data, r.sw))).toBe(bytes);
  });

  it.each(['', '90'])('rejects %j: no status word', (h) => {
    expect(() => decodeResponse(parseHex(h))).toThrow(expect.objectContaining({ code: ErrorCode.Input_BadResponse }) as Error);
  });

  it.each([
    [0x9000, true],
    [0x6110, true],
    [0x6100, true],
    [0x6283, false],
    [0x63c2, false],
    [0x6a82, false],
  ])('isSuccess(%s) = %s', (sw, ok) => expect(isSuccess(sw)).toBe(ok));
});

describe('traceCommand hides PIN data', () => {
  it.each([
    // VERIFY 00 20 00 00 03 + PIN 123456 as BCD
    ['VERIFY', '00 20 00 00 03 12 34 56', '00 20 00 00 03 [3 bytes redacted]', '12 34 56'],
    // CHANGE PIN 80 5E 01 00 07 + old 123456 ‖ FF ‖ new 654321
    ['CHANGE PIN', '80 5E 01 00 07 12 34 56 FF 65 43 21', '80 5E 01 00 07 [7 bytes redacted]', '65 43 21'],
    // PBOC RELOAD PIN 80 5E 00 00 07 + new ‖ MAC(4)
    ['RELOAD PIN', '80 5E 00 00 07 65 43 21 01 02 03 04', '80 5E 00 00 07 [7 bytes redacted]', '65 43 21'],
    // 3.0 RELOAD / PIN UNBLOCK 84 24 00 01 14 + encrypted PIN block(16) ‖ MAC(4)
    ['PIN UNBLOCK', `84 24 00 01 14 ${'AB '.repeat(20).trim()}`, '84 24 00 01 14 [20 bytes redacted]', 'AB AB'],
    // RESET RETRY COUNTER 2C
    ['RESET RETRY COUNTER', '00 2C 00 00 03 12 34 56', '00 2C 00 00 03 [3 bytes redacted]', '12 34 56'],
    // extended VERIFY: the whole Lc 00 00 03 is shown, the PIN is not
    ['extended VERIFY', '00 20 00 00 00 00 03 12 34 56', '00 20 00 00 00 00 03 [3 bytes redacted]', '12 34 56'],
  ])('%s', (_name, bytes, expected, secret) => {
    const t = traceCommand(parseHex(bytes));
    expect(t).toBe(expected);
    expect(t).not.toContain(secret);
  });

  it('shows VERIFY without data (tries-left query) in full', () => {
    expect(traceCommand(parseHex('00 20 00 00'))).toBe('00 20 00 00');
  });

  it('shows other commands in full, unless marked sensitive', () => {
    expect(traceCommand(parseHex('00 A4 02 00 02 EF 05'))).toBe('00 A4 02 00 02 EF 05');
    // a PSAM encrypting a PIN block: the caller marks it
    expect(traceCommand(parseHex('80 FA 00 00 08 21 23 45 6F FF FF FF FF'), true)).toBe('80 FA 00 00 08 [8 bytes redacted]');
  });

  it('never shows a PIN, whatever the digits, CLA, P1/P2 or length form', () => {
    const bcd = fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 6, maxLength: 12 }).map((ds) => {
      const s = ds.join('') + (ds.length % 2 === 1 ? 'F' : '');
      return parseHex(s);
    });
    fc.assert(
      fc.property(
        fc.constantFrom(...PIN_BEARING_INS),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        bcd,
        fc.boolean(),
        (ins, cla, p1, pin, extended) => {
          const bytes = encodeCommand({ ...command(cla, ins, p1, 0, pin), extended });
          const t = traceCommand(bytes);
          // header and Lc only: 5 bytes (short) or 7 (extended), then the count of hidden bytes
          const shown = extended ? 7 : 5;
          expect(t).toBe(`${hex(bytes.subarray(0, shown))} [${pin.length} bytes redacted]`);
        },
      ),
    );
  });
});

// ---- property tests ----

const validIns = fc.integer({ min: 0, max: 255 }).filter((i) => (i & 0xf0) !== 0x60 && (i & 0xf0) !== 0x90);
const commandArb: fc.Arbitrary<CommandApdu> = fc
  .record({
    cla: fc.integer({ min: 0, max: 255 }),
    ins: validIns,
    p1: fc.integer({ min: 0, max: 255 }),
    p2: fc.integer({ min: 0, max: 255 }),
    data: fc.oneof(fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ minLength: 250, maxLength: 600 })),
    le: fc.option(fc.oneof(fc.integer({ min: 1, max: 256 }), fc.constantFrom(1, 255, 256, 257, 65535, 65536), fc.integer({ min: 1, max: 65536 })), { nil: undefined }),
    extended: fc.boolean(),
  })
  .map(({ data, le, ...rest }) => ({ ...rest, data: Buffer.from(data), ...(le === undefined ? {} : { le }) }));

describe('APDU properties', () => {
  it('encode → decode round trip (cases 1–4, short and extended)', () => {
    fc.assert(
      fc.property(commandArb, (c) => {
        const bytes = encodeCommand(c);
        const d = decodeCommand(bytes);
        expect([d.cla, d.ins, d.p1, d.p2, toHex(d.data), d.le]).toEqual([c.cla, c.ins, c.p1, c.p2, toHex(c.data), c.le]);
        expect(toHex(encodeCommand(d))).toBe(toHex(bytes));
        const needsExtended = c.data.length > 255 || (c.le ?? 0) > 256 || (c.extended === true && apduCase(c) !== 1);
        expect(d.extended === true).toBe(needsExtended);
      }),
      { numRuns: 1000 },
    );
  });

  it('decodeCommand on random bytes: an APDU or SsCardError(Input_BadApdu); what decodes re-encodes identically', () => {
    const apduish = fc.oneof(
      fc.uint8Array({ maxLength: 12 }),
      // a header then a body that starts like a length field
      fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.constantFrom(0x00, 0x01, 0x02, 0xff), fc.uint8Array({ maxLength: 8 })).map(([h, l, rest]) => Buffer.from([...h, l, ...rest])),
      fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 3 }), fc.uint8Array({ maxLength: 6 })).map(([h, lc, rest]) => Buffer.from([...h, 0, 0, lc, ...rest])),
    );
    fc.assert(
      fc.property(apduish, (bytes) => {
        let d: CommandApdu;
        try {
          d = decodeCommand(bytes);
        } catch (e) {
          expect(isSsCardError(e, ErrorCode.Input_BadApdu)).toBe(true);
          return;
        }
        if ((d.ins & 0xf0) === 0x60 || (d.ins & 0xf0) === 0x90) return; // decodes (a card answers 6D00), cannot be encoded
        expect(toHex(encodeCommand(d))).toBe(toHex(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it('decodeResponse: any 2+ bytes split into data and SW, and re-encode identically', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          const r = decodeResponse(bytes);
          expect(toHex(encodeResponse(r.data, r.sw))).toBe(toHex(bytes));
          expect(r.sw).toBe((r.sw1 << 8) | r.sw2);
        } catch (e) {
          expect(bytes.length).toBeLessThan(2);
          expect(isSsCardError(e, ErrorCode.Input_BadResponse)).toBe(true);
        }
      }),
    );
  });
});
