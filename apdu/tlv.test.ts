import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import { parseHex, toHex } from './hex.js';
import type { TlvInput, TlvNode } from './tlv.js';
import { encodeBerTlv, findAllTags, findPath, findTag, formatBerTlv, MAX_TLV_DEPTH, parseBerTlv } from './tlv.js';

/** The SSSE AID: "sx1.sh." ‖ GBK "社会保障". */
const AID = '7378312E73682EC9E7BBE1B1A3D5CF';

/**
 * FCI of the SSSE application on a 3rd-generation card (docs/domain.md §1):
 *   6F 19                 FCI template, constructed (b6 of 6F set), 25 bytes
 *     84 0F <AID>         DF name, 15 bytes
 *     A5 06               FCI proprietary template, constructed, 6 bytes
 *       9F 0C 03          two-byte tag 9F0C (9F: b5..b1 = 11111 → more tag bytes; 0C: b8 = 0 → last), 3 bytes
 *         86 01 03        algorithm 03 = SM4
 */
const FCI = `6F 19 84 0F ${AID} A5 06 9F 0C 03 86 01 03`;

/** Compare trees ignoring offsets. */
function shape(nodes: readonly TlvNode[]): unknown[] {
  return nodes.map((n) => (n.children ? { tag: n.tag, children: shape(n.children) } : { tag: n.tag, value: toHex(n.value) }));
}

function shapeInput(nodes: readonly TlvInput[]): unknown[] {
  return nodes.map((n) => (n.children ? { tag: n.tag, children: shapeInput(n.children) } : { tag: n.tag, value: toHex(n.value ?? Buffer.alloc(0)) }));
}

function expectTlvError(hex: string, offset: number, fragment: RegExp): void {
  let caught: unknown;
  try {
    parseBerTlv(parseHex(hex));
  } catch (e) {
    caught = e;
  }
  expect(isSsCardError(caught, ErrorCode.Input_BadTlv)).toBe(true);
  if (!isSsCardError(caught)) return;
  expect(caught.context?.['offset']).toBe(offset);
  expect(caught.text.zh).toContain(`偏移 ${offset}`);
  expect(caught.text.en).toMatch(fragment);
}

describe('parseBerTlv: golden bytes', () => {
  it('parses the SSSE FCI recursively', () => {
    const nodes = parseBerTlv(FCI);
    expect(nodes).toHaveLength(1);
    const fci = nodes[0]!;
    expect(fci).toMatchObject({ tag: 0x6f, tagHex: '6F', constructed: true, offset: 0, end: 27 });
    expect(fci.children!.map((n) => n.tagHex)).toEqual(['84', 'A5']);
    expect(toHex(fci.children![0]!.value)).toBe(AID);
    const alg = findTag(nodes, 0x9f0c)!;
    expect(alg).toMatchObject({ tag: 0x9f0c, tagHex: '9F0C', constructed: false, offset: 21 });
    expect(toHex(alg.value)).toBe('860103');
    expect(findTag(nodes, '9F 0C')).toBe(alg);
    expect(findPath(nodes, [0x6f, 0xa5, 0x9f0c])).toBe(alg);
    expect(findPath(nodes, [0x6f, 0x9f0c])).toBeUndefined();
    expect(findTag(nodes, 0x88)).toBeUndefined();
  });

  it.each([
    // 5F 2D: two-byte tag; 81 80: long form, one length byte, 128
    ['5F2D 81 80', 128, 0x5f2d, 4],
    // 82 01 00: long form, two length bytes, 256
    ['C1 82 0100', 256, 0xc1, 4],
    // 83 00 00 02: long form, three bytes, 2 (not minimal: BER allows it)
    ['C2 83 000002', 2, 0xc2, 5],
    // 84 00 00 00 01: long form, four bytes, 1
    ['C3 84 00000001', 1, 0xc3, 6],
    // DF 81 01: three-byte tag (DF: private, primitive, more bytes; 81: b8 = 1, more; 01: last)
    ['DF8101 01', 1, 0xdf8101, 4],
    // 9F 81 81 01: four-byte tag
    ['9F818101 00', 0, 0x9f818101, 5],
  ])('length and tag forms: %s', (head, len, tag, headerLen) => {
    const bytes = Buffer.concat([parseHex(head), Buffer.alloc(len, 0xab)]);
    const [n] = parseBerTlv(bytes);
    expect(n).toMatchObject({ tag, offset: 0, end: headerLen + len });
    expect(n!.value.length).toBe(len);
  });

  it('skips 00 and FF padding before, between and after objects (ISO 7816-4 §6.3)', () => {
    // 00 00 | 84 01 AA | FF FF | 85 01 BB | 00
    const nodes = parseBerTlv('00 00 84 01 AA FF FF 85 01 BB 00');
    expect(nodes.map((n) => [n.tagHex, toHex(n.value), n.offset])).toEqual([
      ['84', 'AA', 2],
      ['85', 'BB', 7],
    ]);
    expect(parseBerTlv('')).toEqual([]);
    expect(parseBerTlv('FF 00 FF')).toEqual([]);
  });

  it('parses an empty constructed object and padding inside one', () => {
    const nodes = parseBerTlv('E1 00 E2 04 00 81 01 01');
    expect(shape(nodes)).toEqual([
      { tag: 0xe1, children: [] },
      { tag: 0xe2, children: [{ tag: 0x81, value: '01' }] },
    ]);
  });

  it('findAllTags walks the whole tree in document order', () => {
    const nodes = parseBerTlv('70 06 5A 01 01 5A 01 02 5A 01 03');
    expect(findAllTags(nodes, 0x5a).map((n) => toHex(n.value))).toEqual(['01', '02', '03']);
  });

  it('formats a tree for a technician', () => {
    expect(formatBerTlv(parseBerTlv('A5 06 9F 0C 03 86 01 03'))).toEqual(['A5 (len 6)', '  9F0C (len 3): 86 01 03']);
  });
});

describe('parseBerTlv: errors say where and what', () => {
  it.each([
    ['30 80 00 00', 1, /indefinite length form \(80\)/],
    ['9F', 0, /tag 9F is truncated/],
    ['84 01 AA 9F 8C', 3, /tag 9F8C is truncated/],
    ['84', 0, /tag 84 has no length field/],
    ['84 05 01 02', 0, /length 5 but only 2 bytes are left/],
    ['84 82 01', 1, /needs 2 more bytes/],
    ['84 85 00 00 00 00 01', 1, /starts with 85/],
    ['9F 81 81 81 01 00', 0, /longer than 4 bytes/],
    // error inside a constructed object: offset is absolute
    ['E1 03 84 05 00', 2, /length 5 but only 1 bytes are left/],
  ])('%s → offset %s', (hex, offset, fragment) => expectTlvError(hex, offset, fragment));

  it(`rejects nesting deeper than ${MAX_TLV_DEPTH}`, () => {
    // E1 00 wrapped 40 times: each level adds E1 <len>.
    let b = Buffer.from([0xe1, 0x00]);
    for (let i = 0; i < 40; i++) b = Buffer.concat([Buffer.from([0xe1, b.length]), b]);
    expect(() => parseBerTlv(b)).toThrow(/nested deeper/);
  });
});

describe('encodeBerTlv', () => {
  it('encodes the FCI byte for byte', () => {
    const fci: TlvInput[] = [
      {
        tag: 0x6f,
        children: [
          { tag: 0x84, value: parseHex(AID) },
          { tag: 0xa5, children: [{ tag: 0x9f0c, value: parseHex('860103') }] },
        ],
      },
    ];
    expect(toHex(encodeBerTlv(fci))).toBe(toHex(parseHex(FCI)));
  });

  it.each([
    [0, '00'],
    [0x7f, '7F'],
    [0x80, '8180'],
    [0xff, '81FF'],
    [0x100, '820100'],
    [0xffff, '82FFFF'],
    [0x10000, '83010000'],
  ])('length %s → %s (shortest form)', (len, lenHex) => {
    const enc = encodeBerTlv([{ tag: 0x04, value: Buffer.alloc(len) }]);
    expect(toHex(enc.subarray(1, 1 + lenHex.length / 2))).toBe(lenHex);
  });

  it.each([
    [0x1f, /announcing more tag bytes/], // single byte with b5..b1 = 11111
    [0x9f8f, /b8 = 1 except the last/], // last byte has b8 set
    [0x0f1f, /b5..b1 = 11111/], // multi-byte without 1F in the first
    [0xff01, /cannot be FF/], // FF is padding
    [0, /1 to 4 bytes/],
    [0x1_0000_0000, /1 to 4 bytes/],
    [1.5, /1 to 4 bytes/],
  ])('rejects tag %s', (tag, fragment) => {
    expect(() => encodeBerTlv([{ tag, value: Buffer.alloc(0) }])).toThrow(fragment);
  });

  it('rejects children under a primitive tag', () => {
    expect(() => encodeBerTlv([{ tag: 0x84, children: [] }])).toThrow(/primitive/);
  });
});

// ---- property tests ----

const tagArb: fc.Arbitrary<number> = fc.oneof(
  // one byte: class (b8 b7), constructed (b6), number 0..30 (not 11111); not 00
  fc
    .tuple(fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.integer({ min: 0, max: 30 }))
    .map(([cls, c, n]) => (cls << 6) | (c ? 0x20 : 0) | n)
    .filter((t) => t !== 0),
  // two to four bytes: first xx1F (not FF), then b8 = 1 bytes, then a last byte with b8 = 0
  fc
    .tuple(
      fc.integer({ min: 0, max: 3 }),
      fc.boolean(),
      fc.array(fc.integer({ min: 0x80, max: 0xff }), { maxLength: 2 }),
      fc.integer({ min: 0, max: 0x7f }),
    )
    .filter(([cls, c]) => !(cls === 3 && c)) // first byte FF is padding, not a tag
    .map(([cls, c, mid, last]) => [(cls << 6) | (c ? 0x20 : 0) | 0x1f, ...mid, last].reduce((a, b) => a * 256 + b, 0)),
);

const isConstructed = (tag: number): boolean => {
  let first = tag;
  while (first > 0xff) first = Math.floor(first / 256);
  return (first & 0x20) !== 0;
};

const { tree } = fc.letrec<{ tree: TlvInput[]; node: TlvInput }>((tie) => ({
  tree: fc.array(tie('node'), { maxLength: 4 }),
  node: tagArb.chain((tag) =>
    isConstructed(tag)
      ? fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.constant<TlvInput>({ tag, children: [] }), tie('tree').map((children): TlvInput => ({ tag, children })))
      : fc.uint8Array({ maxLength: 300 }).map((value): TlvInput => ({ tag, value: Buffer.from(value) })),
  ),
}));

describe('BER-TLV properties', () => {
  it('encode → parse gives the same tree', () => {
    fc.assert(
      fc.property(tree, (nodes) => {
        expect(shape(parseBerTlv(encodeBerTlv(nodes)))).toEqual(shapeInput(nodes));
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes: a tree or an SsCardError(Input_BadTlv), never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        let nodes: TlvNode[];
        try {
          nodes = parseBerTlv(bytes);
        } catch (e) {
          expect(isSsCardError(e, ErrorCode.Input_BadTlv)).toBe(true);
          return;
        }
        // and whatever parses re-encodes to something that parses to the same tree
        expect(shape(parseBerTlv(encodeBerTlv(nodes)))).toEqual(shape(nodes));
      }),
      { numRuns: 2000 },
    );
  });

  it('random bytes biased towards TLV structure', () => {
    const tlvish = fc.array(fc.constantFrom(0x00, 0xff, 0x1f, 0x9f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0xe1, 0x6f, 0x01, 0x02, 0x7f), { maxLength: 64 });
    fc.assert(
      fc.property(tlvish, (arr) => {
        try {
          parseBerTlv(Buffer.from(arr));
        } catch (e) {
          expect(isSsCardError(e, ErrorCode.Input_BadTlv)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
