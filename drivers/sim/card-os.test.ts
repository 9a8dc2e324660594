/**
 * The card OS frame on its own, with a toy card whose one command (INS 0xCA) answers P1 bytes of
 * data: the T=0 and T=1 response rules and GET RESPONSE (ISO/IEC 7816-3 §10.3, 7816-4 §5.3.4), and
 * `process` never throwing. The virtual card's and PSAM's own commands are in their tests.
 */
import { describe, expect, it } from 'vitest';
import type { CommandApdu } from '../../apdu/apdu.js';
import { toHex } from '../../apdu/hex.js';
import { ok, SimCardOs, sw } from './card-os.js';
import type { Reply } from './card-os.js';
import type { SimProtocol } from './profile.js';

class ToyCard extends SimCardOs {
  public readonly label = 'toy';
  public readonly atr = Buffer.from('3B00', 'hex');
  public cleared = 0;

  public constructor(protected readonly protocol: SimProtocol) {
    super();
  }

  protected execute(c: CommandApdu): Reply {
    if (c.ins === 0xee) throw new Error('a bug in a handler');
    if (c.ins !== 0xca) return sw(0x6d00);
    if (c.p1 === 0) return sw(0x9000);
    return ok(Buffer.from(Array.from({ length: c.p1 }, (_, i) => i)), c.p2 === 1 ? 0x6283 : 0x9000);
  }

  protected clearVolatile(): void {
    this.cleared++;
  }

  public tx(hex: string): string {
    return toHex(this.process(Buffer.from(hex.replace(/\s+/g, ''), 'hex')));
  }
}

describe('the card OS frame', () => {
  it.each<[string, SimProtocol, string, string]>([
    ['a command of fewer than 4 bytes', 'T0', '00CA00', '6700'],
    ['an Lc that does not match the data', 'T1', '00CA0000 05 0102', '6700'],
    ['a handler that throws', 'T1', '00EE0000', '6F00'],
    ['an unknown instruction', 'T0', '00120000', '6D00'],
    ['no data: the status word alone', 'T0', '00CA0000', '9000'],
    ['T=0 case 2 with the exact Le', 'T0', '00CA0300 03', '0001029000'],
    ['T=0 case 2 with another Le: 6Cxx', 'T0', '00CA0300 05', '6C03'],
    ['T=1 with a short Le: 6Cxx', 'T1', '00CA0300 02', '6C03'],
    ['T=1 with a longer Le or none: the data', 'T1', '00CA0300 10', '0001029000'],
    ['T=1 keeps the final status word', 'T1', '00CA0301', '0001026283'],
    ['GET RESPONSE with nothing pending', 'T0', '00C0000002', '6985'],
  ])('%s (%s): %s → %s', (_what, protocol, command, answer) => {
    expect(new ToyCard(protocol).tx(command)).toBe(answer);
  });

  it('T=0 case 4: 61xx, then GET RESPONSE in pieces; the last piece carries the final status word', () => {
    const card = new ToyCard('T0');
    expect(card.tx('00CA0501 01 FF')).toBe('6105');
    expect(card.tx('00C0000008')).toBe('6C05');
    expect(card.tx('00C0000002')).toBe('00016103');
    expect(card.tx('00C0000003')).toBe('0203046283');
    expect(card.tx('00C0000001')).toBe('6985');
  });

  it('any other command discards the data not yet fetched; GET RESPONSE with P1 P2 not 00 00 too (6A86)', () => {
    const card = new ToyCard('T0');
    expect(card.tx('00CA0300 01 FF')).toBe('6103');
    expect(card.tx('00CA0000')).toBe('9000');
    expect(card.tx('00C0000003')).toBe('6985');
    expect(card.tx('00CA0300 01 FF')).toBe('6103');
    expect(card.tx('00C0010003')).toBe('6A86');
    expect(card.tx('00C0000003')).toBe('6985');
  });

  it('power off, power on and reset clear the volatile state and what was pending', () => {
    const card = new ToyCard('T0');
    card.powerOn();
    expect(card.tx('00CA0300 01 FF')).toBe('6103');
    card.reset();
    expect(card.cleared).toBe(3);
    expect(card.tx('00C0000003')).toBe('6985');
    expect(card.transmissionProtocol).toBe('T0');
  });
});
