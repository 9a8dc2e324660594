import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import {
  CM_IOCTL_GET_FEATURE_REQUEST,
  decodePinModify,
  decodePinVerify,
  encodeFeatures,
  encodePinModify,
  encodePinVerify,
  encodeTlvProperties,
  Feature,
  parseFeatures,
  parsePinProperties,
  parseTlvProperties,
  Property,
  secureOutcome,
  ssseModifyStructure,
  ssseVerifyStructure,
} from './part10.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/[^0-9a-fA-F]/g, ''), 'hex');

/** Runs `f`; passes when it returns or throws an SsCardError, fails on anything else. */
function valueOrTyped(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!isSsCardError(e)) throw e;
  }
}

describe('feature discovery', () => {
  it('CM_IOCTL_GET_FEATURE_REQUEST is SCARD_CTL_CODE(3400) on pcsc-lite', () => {
    expect(CM_IOCTL_GET_FEATURE_REQUEST).toBe(0x42000d48);
  });

  it('parses the list a libccid pinpad reader answers (golden)', () => {
    // 06 04 42 33 00 06   FEATURE_VERIFY_PIN_DIRECT → 0x42330006 (SCARD_CTL_CODE(0x330000 + 6), big-endian)
    // 07 04 42 33 00 07   FEATURE_MODIFY_PIN_DIRECT → 0x42330007
    // 0A 04 42 33 00 0A   FEATURE_IFD_PIN_PROPERTIES
    // 12 04 42 33 00 12   FEATURE_GET_TLV_PROPERTIES
    const raw = hex('06 04 42 33 00 06  07 04 42 33 00 07  0A 04 42 33 00 0A  12 04 42 33 00 12');
    const f = parseFeatures(raw);
    expect([...f]).toEqual([
      [Feature.VERIFY_PIN_DIRECT, 0x42330006],
      [Feature.MODIFY_PIN_DIRECT, 0x42330007],
      [Feature.IFD_PIN_PROPERTIES, 0x4233000a],
      [Feature.GET_TLV_PROPERTIES, 0x42330012],
    ]);
    expect(encodeFeatures(f)).toEqual(raw);
  });

  it('an empty answer means no features', () => {
    expect(parseFeatures(Buffer.alloc(0)).size).toBe(0);
  });

  it.each([
    ['truncated TLV', '06 04 42 33 00'],
    ['length not 4', '06 02 42 33'],
    ['lone tag', '06'],
  ])('rejects a %s with PinPad_Protocol', (_n, h) => {
    expect(() => parseFeatures(hex(h))).toThrow(expect.objectContaining({ code: ErrorCode.PinPad_Protocol }));
  });

  it('property: any bytes → a map or PinPad_Protocol; round trip of valid lists', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => valueOrTyped(() => parseFeatures(b))));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 0x13 }), fc.integer({ min: 0, max: 0xffffffff })), { maxLength: 10 }), (list) => {
        const m = new Map(list);
        expect(parseFeatures(encodeFeatures(m))).toEqual(m);
      }),
    );
  });
});

describe('PIN_VERIFY_STRUCTURE', () => {
  it('lays out fields exactly as pcsc-lite/libccid (the scardcontrol example structure, golden)', () => {
    // The PIN_VERIFY_STRUCTURE of pcsc-lite's scardcontrol sample (a Belpic-style card):
    const expected = hex(
      [
        '0F', //       bTimerOut 15 s
        '05', //       bTimerOut2 5 s
        '89', //       bmFormatString: bytes, PIN at position 1, left, BCD
        '07', //       bmPINBlockString: 0-bit length field, 7-byte block
        '10', //       bmPINLengthFormat: bytes, position 0
        '08 04', //    wPINMaxExtraDigit 0x0408 little-endian: max 8, min 4
        '02', //       bEntryValidationCondition: validation key
        '01', //       bNumberMessage
        '04 09', //    wLangId 0x0904 little-endian
        '00', //       bMsgIndex
        '00 00 00', // bTeoPrologue
        '0D 00 00 00', // ulDataLength 13, little-endian
        '00 20 00 81 08 25 FF FF FF FF FF FF FF', // abData: VERIFY template
      ].join(' '),
    );
    const built = encodePinVerify({
      timerOut: 15,
      timerOut2: 5,
      formatString: 0x89,
      pinBlockString: 0x07,
      pinLengthFormat: 0x10,
      minPinDigits: 4,
      maxPinDigits: 8,
      entryValidationCondition: 0x02,
      numberMessage: 0x01,
      langId: 0x0904,
      msgIndex: 0,
      teoPrologue: [0, 0, 0],
      apdu: hex('00 20 00 81 08 25 FF FF FF FF FF FF FF'),
    });
    expect(built).toEqual(expected);
    expect(decodePinVerify(expected).maxPinDigits).toBe(8);
    expect(decodePinVerify(expected).minPinDigits).toBe(4);
  });

  it('OpenSC builds the same header for a BCD PIN of 6 (reader-pcsc.c part10_build_verify_pin_block)', () => {
    // OpenSC: bTimerOut = bTimerOut2 = SC_CCID_PIN_TIMEOUT (30), bmFormatString = BCD | units bytes (0x81),
    // bmPINBlockString 0, bmPINLengthFormat 0, min<<8|max, validation 0x02, no display → bNumberMessage 0,
    // wLangId 0, bMsgIndex 0, prologue 0.
    const built = encodePinVerify({
      timerOut: 30,
      timerOut2: 30,
      formatString: 0x81,
      pinBlockString: 0,
      pinLengthFormat: 0,
      minPinDigits: 6,
      maxPinDigits: 6,
      entryValidationCondition: 0x02,
      numberMessage: 0,
      langId: 0,
      msgIndex: 0,
      teoPrologue: [0, 0, 0],
      apdu: hex('00 20 00 00 03 FF FF FF'),
    });
    expect(built).toEqual(hex('1E 1E 81 00 00 06 06 02 00 00 00 00 00 00 00 08 00 00 00  00 20 00 00 03 FF FF FF'));
  });

  it('the SSSE VERIFY structure, byte by byte', () => {
    expect(ssseVerifyStructure()).toEqual(
      hex(
        [
          '1E', //         bTimerOut 30 s
          '1E', //         bTimerOut2 30 s
          '81', //         bmFormatString: units bytes, PIN at data offset 0, left-justified, BCD
          '03', //         bmPINBlockString: no length field, 3-byte block (6 digits BCD)
          '00', //         bmPINLengthFormat: no length in the APDU
          '06 06', //      wPINMaxExtraDigit: max 6, min 6
          '02', //         bEntryValidationCondition: validation key pressed
          '00', //         bNumberMessage: no display
          '04 08', //      wLangId 0x0804 (zh-CN), little-endian
          '00', //         bMsgIndex
          '00 00 00', //   bTeoPrologue (T=1 only)
          '08 00 00 00', // ulDataLength 8
          '00 20 00 00 03 FF FF FF', // VERIFY, Lc 3, the block the reader fills with BCD digits
        ].join(' '),
      ),
    );
  });

  it('timeouts and display options change exactly their bytes', () => {
    const s = ssseVerifyStructure({ timeoutS: 60, display: true });
    expect(s[0]).toBe(60);
    expect(s[1]).toBe(60);
    expect(s[8]).toBe(1);
  });

  it.each([[5], [3], [14], [6.5]])('rejects pinLength %s with Input_BadOption', (n) => {
    expect(() => ssseVerifyStructure({ pinLength: n })).toThrow(expect.objectContaining({ code: ErrorCode.Input_BadOption }));
  });

  it('property: decode(any bytes) → a structure or PinPad_Protocol; encode/decode round trip', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => valueOrTyped(() => decodePinVerify(b))));
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 40 }), fc.integer({ min: 1, max: 255 }), fc.integer({ min: 1, max: 12 }), (apdu, t, len) => {
        const s = {
          timerOut: t,
          timerOut2: t,
          formatString: 0x81,
          pinBlockString: 3,
          pinLengthFormat: 0,
          minPinDigits: len,
          maxPinDigits: len,
          entryValidationCondition: 2,
          numberMessage: 0,
          langId: 0x0804,
          msgIndex: 0,
          teoPrologue: [0, 0, 0] as [number, number, number],
          apdu: Buffer.from(apdu),
        };
        expect(decodePinVerify(encodePinVerify(s))).toEqual(s);
      }),
    );
  });

  it('a structure whose ulDataLength disagrees with the bytes is PinPad_Protocol', () => {
    const s = ssseVerifyStructure();
    expect(() => decodePinVerify(s.subarray(0, s.length - 1))).toThrow(expect.objectContaining({ code: ErrorCode.PinPad_Protocol }));
  });
});

describe('PIN_MODIFY_STRUCTURE', () => {
  it('the SSSE CHANGE PIN structure, byte by byte', () => {
    expect(ssseModifyStructure()).toEqual(
      hex(
        [
          '1E 1E', //      bTimerOut, bTimerOut2: 30 s
          '81', //         bmFormatString: bytes, offset 0, left, BCD
          '03', //         bmPINBlockString: 3-byte blocks
          '00', //         bmPINLengthFormat
          '00', //         bInsertionOffsetOld: old PIN at data offset 0
          '04', //         bInsertionOffsetNew: new PIN after old(3) ‖ FF(1)
          '06 06', //      wPINMaxExtraDigit: 6..6
          '03', //         bConfirmPIN: enter the current PIN, confirm the new one
          '02', //         bEntryValidationCondition: validation key
          '00', //         bNumberMessage: no display
          '04 08', //      wLangId zh-CN
          '00 01 02', //   bMsgIndex1..3
          '00 00 00', //   bTeoPrologue
          '0C 00 00 00', // ulDataLength 12
          '80 5E 01 00 07 FF FF FF FF FF FF FF', // CHANGE PIN template: old ‖ FF ‖ new
        ].join(' '),
      ),
    );
  });

  it('property: decode(any bytes) → a structure or PinPad_Protocol; round trip', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => valueOrTyped(() => decodePinModify(b))));
    const s = decodePinModify(ssseModifyStructure({ timeoutS: 9 }));
    expect(encodePinModify(s)).toEqual(ssseModifyStructure({ timeoutS: 9 }));
  });
});

describe('properties', () => {
  it('PIN_PROPERTIES_STRUCTURE (golden): 00 00 | 07 | 00 → no LCD, all validation conditions', () => {
    expect(parsePinProperties(hex('00 00 07 00'))).toEqual({ lcdLayout: 0, entryValidationCondition: 7, timeOut2: 0 });
    expect(parsePinProperties(hex('10 02 02 05')).lcdLayout).toBe(0x0210); // 2 lines × 16 characters
  });

  it('GET_TLV_PROPERTIES (golden, a Cherry-like reader)', () => {
    const raw = hex(
      [
        '01 02 00 00', //  wLcdLayout 0
        '02 01 07', //     bEntryValidationCondition 7
        '06 01 04', //     bMinPINSize 4
        '07 01 0C', //     bMaxPINSize 12
        '08 04 41 42 43 44', // sFirmwareID "ABCD"
        '0B 02 6A 04', //  wIdVendor 0x046A, little-endian
        '0C 02 3E 00', //  wIdProduct 0x003E
      ].join(' '),
    );
    const p = parseTlvProperties(raw);
    expect(p).toMatchObject({ lcdLayout: 0, minPinSize: 4, maxPinSize: 12, firmwareId: 'ABCD', vendorId: 0x046a, productId: 0x003e });
    expect(p.numbers.get(Property.bEntryValidationCondition)).toBe(7);
    const again = encodeTlvProperties(new Map([...p.numbers]), p.strings);
    expect(parseTlvProperties(again)).toMatchObject({ minPinSize: 4, maxPinSize: 12, vendorId: 0x046a, productId: 0x003e, firmwareId: 'ABCD' });
  });

  it('property: any bytes → properties or PinPad_Protocol', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => valueOrTyped(() => parseTlvProperties(b))));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 8 }), (b) => valueOrTyped(() => parsePinProperties(b))));
  });
});

describe('secure outcome', () => {
  it.each([
    [0x6400, ErrorCode.PinPad_Timeout],
    [0x6401, ErrorCode.PinPad_Cancelled],
    [0x6402, ErrorCode.PinPad_Mismatch],
    [0x6403, ErrorCode.PinPad_BadLength],
    [0x6b80, ErrorCode.PinPad_Protocol],
  ])('%s → error %s, with a bilingual message', (sw, code) => {
    try {
      secureOutcome('R', Buffer.from([sw >> 8, sw & 0xff]));
      expect.unreachable();
    } catch (e) {
      expect(isSsCardError(e, code)).toBe(true);
      expect((e as Error).message).toMatch(/[\u4e00-\u9fff].* \/ [A-Za-z]/);
    }
  });

  it('card status words come back as the SW', () => {
    expect(secureOutcome('R', hex('90 00'))).toBe(0x9000);
    expect(secureOutcome('R', hex('63 C5'))).toBe(0x63c5);
    expect(secureOutcome('R', hex('69 83'))).toBe(0x6983);
  });

  it('property: any answer → an SW or a typed error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 6 }), (b) => valueOrTyped(() => secureOutcome('R', b))));
  });
});
