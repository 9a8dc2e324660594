import { describe, expect, it } from 'vitest';
import { decodeCommand } from './apdu.js';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import { KeyUsage, PSAM_DEFAULT_DF, psamEncrypt, psamInit, psamMac, psamReadTerminalNumber, psamSelect } from './psam.js';
import { caught, h, hex } from '../testing/util.js';

const spaced = (s: string): string => s.replace(/\s/g, '');


describe('PSAM builders: golden bytes', () => {
  it.each([
    // 00 CLA | A4 SELECT | 00 00 by FID | 02 Lc | 10 01 DF
    ['SELECT DF 1001', () => psamSelect(PSAM_DEFAULT_DF), '00 A4 00 00 02 1001'],
    // 00 | B0 READ BINARY | 96 = 1001 0110: b8=1 → SFI in b5..b1 = 0x16 | 00 offset | 06 Le
    ['READ BINARY SFI 16 (terminal number)', () => psamReadTerminalNumber(), '00 B0 96 00 06'],
    // 80 proprietary | 1A INIT | 88 usage: internal auth | 01 key version | 08 Lc | factor
    ['INIT internal auth', () => psamInit(KeyUsage.InternalAuth, 0x01, h('1122334455667788')), '80 1A 88 01 08 1122334455667788'],
    ['INIT internal auth with a process factor (two levels)', () => psamInit(KeyUsage.InternalAuth, 0x01, h('1122334455667788AABBCCDDEEFF0011')), '80 1A 88 01 10 1122334455667788AABBCCDDEEFF0011'],
    // 82 external auth, P2 = the card key id 0A (read key)
    ['INIT external auth key 0A', () => psamInit(KeyUsage.ExternalAuth, 0x0a, h('0000000000000001')), '80 1A 82 0A 08 0000000000000001'],
    ['INIT app block/unblock', () => psamInit(KeyUsage.AppBlockUnblock, 0x01, h('0102030405060708')), '80 1A 18 01 08 0102030405060708'],
    ['INIT PIN unblock', () => psamInit(KeyUsage.PinUnblock, 0x01, h('0102030405060708')), '80 1A 24 01 08 0102030405060708'],
    ['INIT reload PIN', () => psamInit(KeyUsage.ReloadPin, 0x01, h('0102030405060708')), '80 1A 5E 01 08 0102030405060708'],
    // 80 | FA COMPUTE | 00 encrypt | 00 | 08 Lc | one block
    ['COMPUTE encrypt 1 block', () => psamEncrypt(h('26123456FFFFFFFF')), '80 FA 00 00 08 26123456FFFFFFFF'],
    ['COMPUTE encrypt 16 bytes', () => psamEncrypt(Buffer.alloc(16, 0xab)), `80 FA 00 00 10 ${'AB'.repeat(16)}`],
    // 80 | FA | 05 MAC | 00 | 0D Lc = 8 IV + 5 message | IV | 84 18 00 00 04 (APP UNBLOCK header)
    ['COMPUTE MAC 3DES', () => psamMac(h('0102030405060708'), h('8418000004')), '80 FA 05 00 0D 0102030405060708 8418000004'],
    // 15 Lc = 16 IV + 5 message
    ['COMPUTE MAC SM4', () => psamMac(Buffer.alloc(16, 0x11), h('841E000004')), `80 FA 05 00 15 ${'11'.repeat(16)} 841E000004`],
  ])('%s', (_what, f, expected) => {
    const apdu = f();
    expect(hex(apdu)).toBe(spaced(expected));
    expect(() => decodeCommand(apdu)).not.toThrow();
  });
});

describe('PSAM builders: arguments', () => {
  it.each([
    ['df out of range', () => psamSelect(0x10000), 'df', ErrorCode.Input_BadOption],
    ['usage not a byte', () => psamInit(0x100, 1, Buffer.alloc(8)), 'usage', ErrorCode.Input_BadOption],
    ['p2 not an integer', () => psamInit(0x88, 1.5, Buffer.alloc(8)), 'p2', ErrorCode.Input_BadOption],
    ['factor of 12 bytes (one 8-byte factor per level: 8 or 16)', () => psamInit(0x88, 1, Buffer.alloc(12)), 'factor', ErrorCode.Input_BadLength],
    ['encrypt of 7 bytes', () => psamEncrypt(Buffer.alloc(7)), 'data', ErrorCode.Input_BadLength],
    ['encrypt of nothing', () => psamEncrypt(Buffer.alloc(0)), 'data', ErrorCode.Input_BadLength],
    ['MAC IV of 4 bytes', () => psamMac(Buffer.alloc(4), Buffer.alloc(5)), 'iv', ErrorCode.Input_BadLength],
    ['MAC message too long', () => psamMac(Buffer.alloc(16), Buffer.alloc(240)), 'message', ErrorCode.Input_BadLength],
  ] as const)('%s → error naming %s', (_what, f, arg, code) => {
    const e = caught(f);
    expect(isSsCardError(e, code)).toBe(true);
    expect(isSsCardError(e) && e.context?.['argument']).toBe(arg);
    expect(isSsCardError(e) && e.message).toContain(arg);
  });

  it('KeyUsage values are the INS of the served card command', () => {
    expect(KeyUsage).toEqual({ InternalAuth: 0x88, ExternalAuth: 0x82, AppBlockUnblock: 0x18, PinUnblock: 0x24, ReloadPin: 0x5e });
  });
});
