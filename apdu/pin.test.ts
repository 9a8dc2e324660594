import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decryptBlocks } from './crypto.js';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import { bcdToPin, encryptPinBlock, parsePinBlock, pinBlock, pinToBcd, wipe } from './pin.js';
import { ascii, caught, h, hex } from '../testing/util.js';



describe('pinToBcd / bcdToPin', () => {
  it.each([
    ['123456', '123456'],
    ['12345', '12345F'],
    ['0000', '0000'],
    ['987654321098', '987654321098'],
  ])('%s → %s', (pin, bcd) => {
    expect(hex(pinToBcd(ascii(pin)))).toBe(bcd);
    expect(bcdToPin(h(bcd))?.toString('ascii')).toBe(pin);
  });

  it.each([
    ['empty', ''],
    ['A nibble', '12A456'],
    ['F in the middle', '12F456'],
    ['FF at the end (two fill nibbles)', '1234FF'],
    ['F in the high nibble of the last byte', '1234F5'],
  ])('bcdToPin rejects %s', (_what, bcd) => {
    expect(bcdToPin(h(bcd))).toBeUndefined();
  });

  it.each([
    // Digits 7 and 8 only: the messages quote 4–12, 0–9, 6 and E106, never these.
    ['too short', '787'],
    ['too long', '7878787878787'],
    ['a letter', '78a878'],
    ['a space', '787 78'],
    ['a non-ASCII byte', '78\u00ff878'],
  ])('pinToBcd rejects %s with Input_BadPinFormat and no digits in the error', (_what, pin) => {
    const e = caught(() => pinToBcd(Buffer.from(pin, 'latin1')));
    expect(isSsCardError(e, ErrorCode.Input_BadPinFormat)).toBe(true);
    if (!isSsCardError(e)) return;
    expect(e.message).not.toMatch(/[78]/);
    expect(JSON.stringify(e.context ?? {})).not.toMatch(/[78]/);
  });

  it('rejects a string (strings cannot be wiped)', () => {
    expect(isSsCardError(caught(() => pinToBcd('123456' as unknown as Uint8Array)), ErrorCode.Input_BadPinFormat)).toBe(true);
  });

  it('errors never contain a digit of the PIN, whatever the PIN', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 20 }), (bytes) => {
        try {
          wipe(pinToBcd(bytes));
        } catch (e) {
          expect(isSsCardError(e, ErrorCode.Input_BadPinFormat)).toBe(true);
          if (!isSsCardError(e)) return;
          // Messages may quote the allowed range (4–12, 0–9, 6); never a run of the PIN's digits.
          const digits = Buffer.from(bytes).toString('latin1').replace(/[^0-9]/g, '');
          if (digits.length >= 3) expect(e.message).not.toContain(digits);
          const text = Buffer.from(bytes).toString('latin1');
          if (text.length >= 3) expect(JSON.stringify(e.context)).not.toContain(text);
        }
      }),
    );
  });

  it('round trip for every valid PIN', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{4,12}$/), (pin) => {
        const bcd = pinToBcd(ascii(pin));
        expect(bcd.length).toBe(Math.ceil(pin.length / 2));
        expect(bcdToPin(bcd)?.toString('ascii')).toBe(pin);
      }),
    );
  });

  it('bcdToPin: any bytes give digits or undefined, never an exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), (bytes) => {
        const pin = bcdToPin(bytes);
        if (pin !== undefined) expect(pin.toString('ascii')).toMatch(/^[0-9]+$/);
      }),
    );
  });
});

describe('pinBlock / parsePinBlock (ISO 9564-1 format 2)', () => {
  it.each([
    // 2 = format 2, 6 = six digits, 12 34 56 = digits, FF… = fill
    ['123456', 8, '26 123456 FFFFFFFF'],
    ['1234', 8, '24 1234 FFFFFFFFFF'],
    ['12345', 8, '25 12345F FFFFFFFF'],
    ['123456789012', 8, '2C 123456789012 FF'],
    // SM4: the 8-byte format 2 block right-padded with FF to 16 bytes
    ['123456', 16, '26 123456 FFFFFFFF FFFFFFFFFFFFFFFF'],
  ] as const)('%s, block %i → %s', (pin, bs, block) => {
    expect(hex(pinBlock(ascii(pin), bs))).toBe(block.replace(/\s/g, ''));
    expect(parsePinBlock(h(block))?.toString('ascii')).toBe(pin);
  });

  it.each([
    ['format 0', '06123456FFFFFFFF'],
    ['L = 3', '23123FFFFFFFFFFF'],
    ['L = 13', '2D1234567890123F'],
    ['non-digit', '2612345AFFFFFFFF'],
    ['bad fill', '2612345600FFFFFF'],
    ['7 bytes', '26123456FFFFFF'],
    ['bad 16-byte tail', '26123456FFFFFFFF00FFFFFFFFFFFFFF'],
  ])('parsePinBlock rejects %s', (_what, block) => {
    expect(parsePinBlock(h(block))).toBeUndefined();
  });

  it('rejects a block size other than 8 or 16', () => {
    expect(isSsCardError(caught(() => pinBlock(ascii('123456'), 12 as 8)), ErrorCode.Input_BadOption)).toBe(true);
  });

  it('parsePinBlock: any bytes give digits or undefined, never an exception', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => {
        b[0] = 0x20 | (b[0]! & 0x0f);
        return b;
      })), (bytes) => {
        const pin = parsePinBlock(bytes);
        if (pin !== undefined) expect(pin.toString('ascii')).toMatch(/^[0-9]{4,12}$/);
      }),
    );
  });

  it('round trip', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{4,12}$/), fc.constantFrom(8 as const, 16 as const), (pin, bs) => {
        expect(parsePinBlock(pinBlock(ascii(pin), bs))?.toString('ascii')).toBe(pin);
      }),
    );
  });
});

describe('encryptPinBlock', () => {
  const key = h('0123456789ABCDEFFEDCBA9876543210');
  it.each(['3DES', 'SM4'] as const)('%s: decrypts back to the format 2 block', (alg) => {
    const enc = encryptPinBlock(alg, key, ascii('123456'));
    expect(enc.length).toBe(alg === 'SM4' ? 16 : 8);
    expect(parsePinBlock(decryptBlocks(alg, key, enc))?.toString('ascii')).toBe('123456');
  });

  it('golden (3DES and SM4, key 0123…3210, PIN 123456)', () => {
    expect(hex(encryptPinBlock('3DES', key, ascii('123456')))).toBe('9B470B2F1BC0C72B');
    expect(hex(encryptPinBlock('SM4', key, ascii('123456')))).toBe('45747431D3846A76893173A2D2CAD3D6');
  });
});

describe('wipe', () => {
  it('zeros every buffer and skips undefined', () => {
    const a = ascii('123456');
    const b = new Uint8Array([1, 2, 3]);
    wipe(a, undefined, b);
    expect([...a, ...b].every((x) => x === 0)).toBe(true);
  });
});
