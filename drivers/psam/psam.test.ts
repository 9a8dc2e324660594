import { beforeAll, describe, expect, it } from 'vitest';
import type { Algorithm } from '../../apdu/crypto.js';
import { decryptBlocks, diversify, encryptBlocks, mac } from '../../apdu/crypto.js';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import { parsePinBlock } from '../../apdu/pin.js';
import { KeyUsage } from '../../apdu/psam.js';
import { macInput } from '../../apdu/ssse.js';
import { loadPsamProfile, masterKeyName, psamFixture } from '../sim/profile.js';
import type { PsamProfile } from '../sim/profile.js';
import { SimTransport } from '../sim/sim-transport.js';
import { VirtualPsam } from '../sim/virtual-psam.js';
import type { CardTransport, TransmitOptions } from '../transport.js';
import { Psam } from './psam.js';

let profile: PsamProfile;
beforeAll(async () => {
  profile = await loadPsamProfile(psamFixture('psam-test'));
});

const FACTOR = Buffer.from('B342125825DF90C3', 'hex');

function cardKey(alg: Algorithm, usage: number, p2: number): Buffer {
  return diversify(alg, profile.masterKeys.get(masterKeyName(alg, usage, p2))!, FACTOR);
}

interface Sent {
  command: Buffer;
  copy: Buffer;
  options: TransmitOptions | undefined;
}

/** SimTransport over the test PSAM, recording what the client sends. */
function setup(change: Partial<PsamProfile> = {}): { psam: Psam; sent: Sent[]; sim: SimTransport } {
  const sim = new SimTransport(new VirtualPsam({ ...profile, ...change }), { protocol: 'T0' });
  const sent: Sent[] = [];
  const spy: CardTransport = {
    get readerName() {
      return sim.readerName;
    },
    get atr() {
      return sim.atr;
    },
    get protocol() {
      return sim.protocol;
    },
    get isOpen() {
      return sim.isOpen;
    },
    transmit: (command, options) => {
      sent.push({ command: command as Buffer, copy: Buffer.from(command), options });
      return sim.transmit(command, options);
    },
    control: (c, d, m) => sim.control(c, d, m),
    reset: () => sim.reset(),
    close: (d) => sim.close(d),
  };
  return { psam: new Psam(spy), sent, sim };
}

async function error(p: Promise<unknown>): Promise<{ code: number; context: Record<string, unknown>; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isSsCardError(e)) return { code: e.code, context: { ...e.context }, message: e.message };
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('Psam', () => {
  it('open() selects the 3DES application and reads the terminal number', async () => {
    const { psam, sent } = setup();
    expect(await psam.open()).toEqual({ terminalNumber: '410100000001' });
    expect(psam.terminalNumber).toBe('410100000001');
    expect(sent.map((s) => s.copy.toString('hex'))).toEqual(['00a40000021001', '00b0960006']);
  });

  it.each(['3DES', 'SM4'] as Algorithm[])('%s: internal auth expectation = E(K88, random)', async (alg) => {
    const { psam } = setup();
    await psam.open();
    const random = Buffer.alloc(alg === 'SM4' ? 16 : 8, 0x5a);
    expect((await psam.internalAuthExpected(alg, FACTOR, random)).toString('hex')).toBe(
      encryptBlocks(alg, cardKey(alg, 0x88, 0x01), random).toString('hex'),
    );
  });

  it.each(['3DES', 'SM4'] as Algorithm[])('%s: external auth cryptogram (a 4-byte challenge is zero-padded)', async (alg) => {
    const { psam } = setup();
    await psam.open();
    const challenge = Buffer.from('01020304', 'hex');
    const padded = Buffer.alloc(alg === 'SM4' ? 16 : 8);
    challenge.copy(padded);
    expect((await psam.externalAuthCryptogram(alg, 0x0a, FACTOR, challenge)).toString('hex')).toBe(
      encryptBlocks(alg, cardKey(alg, 0x82, 0x0a), padded).toString('hex'),
    );
  });

  it.each(['3DES', 'SM4'] as Algorithm[])('%s: command MAC = the card-side MAC', async (alg) => {
    const { psam } = setup();
    const challenge = Buffer.alloc(alg === 'SM4' ? 16 : 8, 0x33);
    const input = macInput(0x84, 0x18, 0x00, 0x00, Buffer.alloc(0));
    const got = await psam.commandMac(alg, KeyUsage.AppBlockUnblock, FACTOR, challenge, input);
    expect(got.toString('hex')).toBe(mac(alg, cardKey(alg, 0x18, 0x01), challenge, input).toString('hex'));
  });

  it.each(['3DES', 'SM4'] as Algorithm[])('%s: encrypted PIN block decrypts to a format-2 block of the PIN; sent as sensitive and wiped', async (alg) => {
    const { psam, sent } = setup();
    await psam.open();
    const enc = await psam.encryptPinBlock(alg, FACTOR, Buffer.from('654321'));
    const block = decryptBlocks(alg, cardKey(alg, 0x24, 0x01), enc);
    expect(parsePinBlock(block)?.toString()).toBe('654321');
    const compute = sent.find((s) => s.copy[0] === 0x80 && s.copy[1] === 0xfa)!;
    expect(compute.options?.sensitive).toBe(true);
    expect(compute.command.every((b) => b === 0)).toBe(true);
  });

  it('selects the DF of the algorithm only when it changes', async () => {
    const { psam, sent } = setup();
    await psam.open();
    const r8 = Buffer.alloc(8);
    const r16 = Buffer.alloc(16);
    await psam.internalAuthExpected('3DES', FACTOR, r8);
    await psam.internalAuthExpected('SM4', FACTOR, r16);
    await psam.internalAuthExpected('SM4', FACTOR, r16);
    await psam.internalAuthExpected('3DES', FACTOR, r8);
    const selects = sent.filter((s) => s.copy[1] === 0xa4).map((s) => s.copy.subarray(5).toString('hex'));
    expect(selects).toEqual(['1001', '1002', '1001']);
  });

  it('concurrent operations do not interleave their INIT and COMPUTE', async () => {
    const { psam } = setup();
    await psam.open();
    const r8 = Buffer.alloc(8, 1);
    const r16 = Buffer.alloc(16, 2);
    const [a, b, c] = await Promise.all([
      psam.internalAuthExpected('3DES', FACTOR, r8),
      psam.internalAuthExpected('SM4', FACTOR, r16),
      psam.externalAuthCryptogram('3DES', 0x84, FACTOR, r8),
    ]);
    expect(a.equals(encryptBlocks('3DES', cardKey('3DES', 0x88, 0x01), r8))).toBe(true);
    expect(b.equals(encryptBlocks('SM4', cardKey('SM4', 0x88, 0x01), r16))).toBe(true);
    expect(c.equals(encryptBlocks('3DES', cardKey('3DES', 0x82, 0x84), r8))).toBe(true);
  });

  it('a missing key is Psam_KeyNotFound (6A88), without key material in the error', async () => {
    const { psam } = setup();
    await psam.open();
    const e = await error(psam.externalAuthCryptogram('3DES', 0x99, FACTOR, Buffer.alloc(8)));
    expect(e.code).toBe(ErrorCode.Psam_KeyNotFound);
    expect(e.context).toMatchObject({ step: 'INIT', sw: 0x6a88, usage: '82', p2: '99', alg: '3DES' });
    expect(e.message).toMatch(/PSAM.*\/.*PSAM/);
    expect(e.message).not.toContain(FACTOR.toString('hex').toUpperCase());
  });

  it('a PSAM without an SM4 application: the SELECT fails with Psam_Status 6A82', async () => {
    const { psam } = setup({ applications: { '3DES': 0x1001 } });
    await psam.open();
    const e = await error(psam.internalAuthExpected('SM4', FACTOR, Buffer.alloc(16)));
    expect(e.code).toBe(ErrorCode.Psam_Status);
    expect(e.context).toMatchObject({ step: 'SELECT', sw: 0x6a82, df: '1002' });
  });

  it('a client configured without an SM4 application refuses before sending anything', async () => {
    const sim = new SimTransport(new VirtualPsam(profile));
    const psam = new Psam(sim, { applications: { '3DES': 0x1001 } });
    expect((await error(psam.internalAuthExpected('SM4', FACTOR, Buffer.alloc(16)))).code).toBe(ErrorCode.Psam_KeyNotFound);
  });

  it('after the PSAM lost power, the next operation selects the DF again', async () => {
    const { psam, sim } = setup();
    await psam.open();
    sim.remove();
    expect((await error(psam.internalAuthExpected('3DES', FACTOR, Buffer.alloc(8)))).code).toBe(ErrorCode.Pcsc_CardRemoved);
    sim.insert();
    const r = await psam.internalAuthExpected('3DES', FACTOR, Buffer.alloc(8));
    expect(r.length).toBe(8);
  });

  it('validates its arguments and options eagerly', async () => {
    const sim = new SimTransport(new VirtualPsam(profile));
    expect(() => new Psam(sim, { keyVersion: 300 })).toThrow(/keyVersion/);
    expect(() => new Psam(sim, { applications: { AES: 1 } as never })).toThrow(/applications/);
    const psam = new Psam(sim);
    expect((await error(psam.internalAuthExpected('3DES', FACTOR, Buffer.alloc(16)))).code).toBe(ErrorCode.Input_BadLength);
    expect((await error(psam.internalAuthExpected('3DES', Buffer.alloc(4), Buffer.alloc(8)))).code).toBe(ErrorCode.Input_BadLength);
  });
});
