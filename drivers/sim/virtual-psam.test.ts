import { inspect } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { diversify, encryptBlocks, mac } from '../../apdu/crypto.js';
import { toHex } from '../../apdu/hex.js';
import { loadPsamProfile, psamFixture } from './profile.js';
import type { PsamProfile } from './profile.js';
import { VirtualPsam } from './virtual-psam.js';

let profile: PsamProfile;
beforeAll(async () => {
  profile = await loadPsamProfile(psamFixture('psam-test'));
});

const FACTOR = '0102030405060708';

function make(change: Partial<PsamProfile> = {}): VirtualPsam & { tx(hex: string): string } {
  const p = new VirtualPsam({ ...profile, ...change });
  p.powerOn();
  return Object.assign(p, { tx: (hex: string) => toHex(p.process(Buffer.from(hex.replace(/\s+/g, ''), 'hex'))) });
}

function sessionKey(name: `${'3DES' | 'SM4'}:${string}:${string}`): Buffer {
  const alg = name.startsWith('SM4') ? 'SM4' : '3DES';
  return diversify(alg, profile.masterKeys.get(name)!, Buffer.from(FACTOR, 'hex'));
}

describe('VirtualPsam', () => {
  it('selects its application DFs and the MF; unknown DF → 6A82', () => {
    const p = make();
    expect(p.tx('00A40000021001')).toBe('9000');
    expect(p.tx('00A40000021002')).toBe('9000');
    expect(p.tx('00A40000023F00')).toBe('9000');
    expect(p.tx('00A40000022001')).toBe('6A82');
    expect(p.tx('00A4040002 1001')).toBe('6A86');
  });

  it('reads the terminal number by SFI 16 (T=0: exact Le, else 6C06)', () => {
    const p = make();
    expect(p.tx('00B0960006')).toBe('4101000000019000');
    expect(p.tx('00B0960000')).toBe('6C06');
    expect(p.tx('00B0970006')).toBe('6A82');
    expect(p.tx('00B0000006')).toBe('6986');
    expect(p.terminalNumber).toBe('410100000001');
  });

  it('INIT needs an application DF (6985) and a known key (6A88)', () => {
    const p = make();
    expect(p.tx(`801A880108${FACTOR}`)).toBe('6985');
    p.tx('00A40000021001');
    expect(p.tx(`801A880508${FACTOR}`)).toBe('6A88');
    expect(p.tx('801A88010401020304')).toBe('6700');
    expect(p.tx(`801A880108${FACTOR}`)).toBe('9000');
  });

  it('COMPUTE without INIT → 6985', () => {
    const p = make();
    p.tx('00A40000021001');
    expect(p.tx('80FA000008' + '11'.repeat(8))).toBe('6985');
  });

  it('3DES: encrypts with the diversified key (61xx + GET RESPONSE on T=0)', () => {
    const p = make();
    p.tx('00A40000021001');
    expect(p.tx(`801A820A08${FACTOR}`)).toBe('9000');
    const data = Buffer.alloc(8, 0x11);
    expect(p.tx(`80FA000008${toHex(data)}`)).toBe('6108');
    expect(p.tx('00C0000008')).toBe(`${toHex(encryptBlocks('3DES', sessionKey('3DES:82:0A'), data))}9000`);
    expect(p.tx('80FA000005' + '11'.repeat(5))).toBe('6700');
  });

  it('SM4: the MAC of IV ‖ message (PSAM pads) equals the card-side MAC', () => {
    const p = make({ protocol: 'T1' });
    p.tx('00A40000021002');
    expect(p.tx(`801A180108${FACTOR}`)).toBe('9000');
    const iv = Buffer.alloc(16, 0x22);
    const msg = Buffer.from('8418000004', 'hex');
    const expected = mac('SM4', sessionKey('SM4:18:01'), iv, msg);
    expect(p.tx(`80FA0500${(16 + 5).toString(16).padStart(2, '0')}${toHex(iv)}${toHex(msg)}`)).toBe(`${toHex(expected)}9000`);
    expect(p.tx('80FA050004' + '00'.repeat(4))).toBe('6700');
    expect(p.tx('80FA0300081122334455667788')).toBe('6A86');
  });

  it('selecting another DF ends the session', () => {
    const p = make();
    p.tx('00A40000021001');
    p.tx(`801A880108${FACTOR}`);
    p.tx('00A40000021002');
    expect(p.tx('80FA000010' + '11'.repeat(16))).toBe('6985');
  });

  it('power cycle ends the session and deselects the DF', () => {
    const p = make();
    p.tx('00A40000021001');
    p.tx(`801A880108${FACTOR}`);
    p.reset();
    expect(p.tx('80FA000008' + '11'.repeat(8))).toBe('6985');
    expect(p.tx(`801A880108${FACTOR}`)).toBe('6985');
  });

  it('CLA / INS it does not know', () => {
    const p = make();
    expect(p.tx('90A40000023F00')).toBe('6E00');
    expect(p.tx('00CA000000')).toBe('6D00');
    expect(p.tx('80CA000000')).toBe('6D00');
  });

  it('inspecting the PSAM shows no master key', () => {
    const p = make();
    p.tx('00A40000021001');
    p.tx(`801A880108${FACTOR}`);
    const shown = inspect(p, { depth: 10, showHidden: true }).replace(/\s/g, '').toUpperCase();
    for (const key of profile.masterKeys.values()) expect(shown).not.toContain(toHex(key).slice(0, 16));
  });
});
