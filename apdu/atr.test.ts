import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parseAtr, ATR_MAX_LENGTH, DI_TABLE, FI_TABLE } from './atr.js';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import { parseHex, toHex } from './hex.js';

/**
 * Resident Identity Card of the PRC, 2nd generation, through a PC/SC contactless reader
 * (smartcard_list.txt):
 *   3B        TS: direct convention
 *   88        T0: Y1 = 1000 (TD1 only), K = 8 historical bytes
 *   80        TD1: Y2 = 1000 (TD2 only), T = 0
 *   01        TD2: Y3 = 0000, T = 1
 *   D1 03 86 05 00 80 80 00   historical bytes (K = 8)
 *   58        TCK: T=1 is offered, so present; XOR of 88..58 = 00
 */
const ID_CARD = '3B 88 80 01 D1 03 86 05 00 80 80 00 58';

/**
 * Japanese My Number card (smartcard_list.txt), contact T=1:
 *   3B        TS
 *   DA        T0: Y1 = 1101 (TA1, TC1, TD1), K = 10
 *   13        TA1: Fi index 1 (372, 5 MHz), Di index 3 (4): 93 clocks per ETU
 *   FF        TC1: N = 255 (minimum guard time)
 *   81        TD1: Y2 = 1000 (TD2), T = 1
 *   31        TD2: Y3 = 0011 (TA3, TB3), T = 1
 *   FB        TA3: T=1 IFSC = 251
 *   46        TB3: T=1 BWI = 4, CWI = 6
 *   80 12 39 2F 31 C1 73 C6 01 C0   historical bytes
 *   3B        TCK
 */
const MY_NUMBER = '3B DA 13 FF 81 31 FB 46 80 12 39 2F 31 C1 73 C6 01 C0 3B';

/**
 * Dai Nippon Printing Standard-J (smartcard_list.txt): T=0 with T=15 global bytes.
 *   3B        TS
 *   90        T0: Y1 = 1001 (TA1, TD1), K = 0
 *   95        TA1: Fi index 9 (512, 5 MHz), Di index 5 (16)
 *   80        TD1: Y2 = 1000 (TD2), T = 0
 *   1F        TD2: Y3 = 0001 (TA3), T = 15 → global bytes; TCK now required
 *   C3        TA3 (T=15): clock stop no preference (11), classes A and B (000011)
 *   59        TCK
 */
const DNP = '3B 90 95 80 1F C3 59';

/**
 * Spanish social insurance card (smartcard_list.txt), T=0 only:
 *   3B        TS
 *   26        T0: Y1 = 0010 (TB1), K = 6
 *   00        TB1: VPP not connected
 *   11 06 23 03 90 00   historical bytes
 *   (no TCK: only T=0)
 */
const SPAIN = '3B 26 00 11 06 23 03 90 00';

/**
 * Inverse convention card (smartcard_list.txt line `3F 65 25 00 2[2C] 09 [F6]9 90 00`):
 *   3F        TS: inverse convention
 *   65        T0: Y1 = 0110 (TB1, TC1), K = 5
 *   25        TB1
 *   00        TC1: N = 0
 *   2C 09 69 90 00   historical bytes; no TCK
 */
const INVERSE = '3F 65 25 00 2C 09 69 90 00';

describe('parseAtr: golden ATRs', () => {
  it('PRC resident ID card (T=0, T=1, TCK)', () => {
    const a = parseAtr(ID_CARD);
    expect(a).toMatchObject({ ts: 0x3b, convention: 'direct', t0: 0x88, y1: 0b1000, k: 8, protocols: [0, 1], t15: false, tck: 0x58, tckValid: true });
    expect(a.groups).toEqual([
      { i: 1, t: undefined, td: 0x80 },
      { i: 2, t: 0, td: 0x01 },
      { i: 3, t: 1 },
    ]);
    expect(toHex(a.historical)).toBe('D103860500808000');
    // no TA1: the defaults Fi 372, Di 1, 5 MHz
    expect([a.fi, a.di, a.fMaxMHz]).toEqual([372, 1, 5]);
    expect(a.hex).toBe(ID_CARD);
  });

  it('My Number card (TA1, TC1, T=1 IFSC/BWI)', () => {
    const a = parseAtr(MY_NUMBER);
    expect(a).toMatchObject({ k: 10, protocols: [1], fi: 372, di: 4, fMaxMHz: 5, extraGuardTime: 255, ifsc: 251, tckValid: true });
    expect(a.groups[2]).toEqual({ i: 3, t: 1, ta: 0xfb, tb: 0x46 });
    const s = a.summary();
    expect(s).toContain('  TA1=13: Fi=372, f max=5 MHz, Di=4, 93 时钟/ETU (cycles/ETU), 43010 bit/s @ 4 MHz');
    expect(s).toContain('  TA3=FB: T=1 IFSC=251');
    expect(s).toContain('  TB3=46: T=1 BWI=4, CWI=6');
    expect(s).toContain('TCK=3B: 校验正确 / checksum correct');
  });

  it('T=0 with T=15 global bytes needs a TCK', () => {
    const a = parseAtr(DNP);
    expect(a).toMatchObject({ protocols: [0], t15: true, fi: 512, di: 16, tck: 0x59, tckValid: true, k: 0 });
    expect(a.groups[2]).toEqual({ i: 3, t: 15, ta: 0xc3 });
    expect(a.toString()).toContain('时钟停止 / clock stop: 无偏好 / no preference; 电压等级 / classes: A 5V, B 3V');
  });

  it('T=0 only: no TCK, tckValid undefined', () => {
    const a = parseAtr(SPAIN);
    expect(a).toMatchObject({ protocols: [0], tck: undefined, tckValid: undefined, k: 6 });
    expect(a.groups).toEqual([{ i: 1, t: undefined, tb: 0 }]);
    expect(a.toString()).toContain('TCK: 无（仅 T=0）/ none (T=0 only)');
  });

  it('inverse convention', () => {
    const a = parseAtr(parseHex(INVERSE));
    expect(a).toMatchObject({ ts: 0x3f, convention: 'inverse', extraGuardTime: 0 });
    expect(a.summary()[1]).toBe('TS=3F: 反向约定 / inverse convention');
  });

  it('reports a wrong TCK without throwing', () => {
    const a = parseAtr('3B 88 80 01 D1 03 86 05 00 80 80 00 59');
    expect(a.tckValid).toBe(false);
    expect(a.toString()).toContain('TCK=59: 校验错误 / WRONG checksum');
  });

  it('TA2: specific mode', () => {
    // 3B | 90: TA1, TD1, K=0 | 11: TA1 | 10: TD1, Y2 = 0001 (TA2), T=0 | 81: TA2, cannot change, T=1
    // Only T=0 is indicated by a TD byte, so there is no TCK.
    const a = parseAtr('3B 90 11 10 81');
    expect(a.specificMode).toEqual({ protocol: 1, canChange: false, implicit: false });
    expect(a.protocols).toEqual([0]);
    expect(a.tckValid).toBeUndefined();
    expect(a.toString()).toContain('TA2=81: 特定模式 / specific mode: T=1, 不可切换 / cannot change');
  });

  it('shows mostly printable historical bytes as text', () => {
    // 3B 05 | "HELLO"
    expect(parseAtr('3B 05 48 45 4C 4C 4F').toString()).toContain('"HELLO"');
  });
});

describe('Fi/Di tables (ISO 7816-3 tables 7 and 8)', () => {
  it.each([
    [0x11, 372, 1, 5],
    [0x13, 372, 4, 5],
    [0x18, 372, 12, 5],
    [0x94, 512, 8, 5],
    [0x96, 512, 32, 5],
    [0xa7, 768, 64, 7.5],
    [0xd9, 2048, 20, 20],
    [0x71, undefined, 1, undefined], // Fi RFU
    [0x1a, 372, undefined, 5], // Di RFU
  ])('TA1=%s → Fi %s, Di %s, f max %s', (ta1, fi, di, fMax) => {
    // 3B 10 TA1: only TA1, K = 0, T=0 only → no TCK
    const a = parseAtr(Buffer.from([0x3b, 0x10, ta1]));
    expect([a.fi, a.di, a.fMaxMHz]).toEqual([fi, di, fMax]);
    expect(a.toString()).toContain(`TA1=${toHex([ta1])}`);
  });

  it('has 16 entries each', () => {
    expect(FI_TABLE).toHaveLength(16);
    expect(DI_TABLE).toHaveLength(16);
  });
});

describe('parseAtr: errors', () => {
  it.each([
    ['', /empty/],
    ['3C 00', /TS=3C/],
    ['3B', /truncated at T0/],
    ['3B 80', /truncated at TD1/],
    ['3B 81 80', /truncated at TD2/], // TD1 = 80 announces TD2
    ['3B 30 11', /truncated at TB1/],
    ['3B 02 01', /truncated: T0 announces 2 historical bytes, so 4 bytes are expected, got 3/],
    ['3B 88 80 01 D1 03 86 05 00 80 80 00', /and a TCK is required/], // ID card without its TCK
    ['3B 26 00 11 06 23 03 90 00 FF', /too long: 9 bytes expected, got 10 \(there is no TCK/],
    [`3B 0F ${'00 '.repeat(15)}00`, /too long/],
    [`3B ${'00 '.repeat(33)}`, /more than the maximum of 33/],
  ])('%s', (hex, fragment) => {
    let caught: unknown;
    try {
      parseAtr(hex);
    } catch (e) {
      caught = e;
    }
    expect(isSsCardError(caught, ErrorCode.Input_BadAtr)).toBe(true);
    if (!isSsCardError(caught)) return;
    expect(caught.text.en).toMatch(fragment);
    expect(caught.text.zh).toMatch(/^ATR 无效：/);
  });

  it('bad hex text is an Input_BadHex error', () => {
    expect(() => parseAtr('3B ZZ')).toThrow(expect.objectContaining({ code: ErrorCode.Input_BadHex }) as Error);
  });
});

// ---- property tests ----

/** A structurally valid ATR built from its parts, TCK computed when required. */
const validAtr = fc
  .record({
    ts: fc.constantFrom(0x3b, 0x3f),
    groups: fc.array(
      fc.record({
        ta: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
        tb: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
        tc: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
        t: fc.constantFrom(0, 1, 15, 2, 14),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    historical: fc.uint8Array({ maxLength: 15 }),
  })
  .map(({ ts, groups, historical }) => {
    // group j's TD (if any) announces group j+1 and carries its T
    const y = (g: { ta?: number; tb?: number; tc?: number }, td: boolean): number =>
      (g.ta === undefined ? 0 : 1) | (g.tb === undefined ? 0 : 2) | (g.tc === undefined ? 0 : 4) | (td ? 8 : 0);
    const bytes: number[] = [ts, (y(groups[0]!, groups.length > 1) << 4) | historical.length];
    const ts_: number[] = [];
    groups.forEach((g, j) => {
      for (const v of [g.ta, g.tb, g.tc]) if (v !== undefined) bytes.push(v);
      const next = groups[j + 1];
      if (next) {
        bytes.push((y(next, j + 2 < groups.length) << 4) | g.t);
        ts_.push(g.t);
      }
    });
    bytes.push(...historical);
    const hasTck = ts_.some((t) => t !== 0);
    if (hasTck) bytes.push(bytes.slice(1).reduce((x, b) => x ^ b, 0));
    return { bytes: Buffer.from(bytes), indicated: ts_, historical: Buffer.from(historical), hasTck, groups: groups.length };
  })
  .filter((x) => x.bytes.length <= ATR_MAX_LENGTH);

describe('ATR properties', () => {
  it('valid ATRs parse back to their parts, TCK valid', () => {
    fc.assert(
      fc.property(validAtr, ({ bytes, indicated, historical, hasTck, groups }) => {
        const a = parseAtr(bytes);
        expect(toHex(a.historical)).toBe(toHex(historical));
        expect(a.groups).toHaveLength(groups);
        expect(a.tckValid).toBe(hasTck ? true : undefined);
        const expected = [...new Set(indicated.length === 0 ? [0] : indicated)].filter((t) => t !== 15);
        expect(a.protocols).toEqual(expected);
        expect(a.t15).toBe(indicated.includes(15));
        expect(a.summary().length).toBeGreaterThan(3);
        if (hasTck) {
          const broken = Buffer.from(bytes);
          broken[broken.length - 1]! ^= 0x01;
          expect(parseAtr(broken).tckValid).toBe(false);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('random bytes: an Atr or an SsCardError(Input_BadAtr), never anything else', () => {
    const atrish = fc.tuple(fc.constantFrom(0x3b, 0x3f, 0x3c), fc.uint8Array({ maxLength: 40 })).map(([ts, rest]) => Buffer.from([ts, ...rest]));
    fc.assert(
      fc.property(fc.oneof(atrish, fc.uint8Array({ maxLength: 40 })), (bytes) => {
        try {
          const a = parseAtr(bytes);
          expect(a.raw.length).toBeLessThanOrEqual(ATR_MAX_LENGTH);
          expect(a.toString()).toContain('ATR: ');
        } catch (e) {
          expect(isSsCardError(e, ErrorCode.Input_BadAtr)).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('truncating a valid ATR is always an error', () => {
    fc.assert(
      fc.property(validAtr, fc.nat(), ({ bytes }, cut) => {
        const n = cut % bytes.length;
        expect(() => parseAtr(bytes.subarray(0, n))).toThrow(expect.objectContaining({ code: ErrorCode.Input_BadAtr }) as Error);
      }),
    );
  });
});
