/**
 * `sscard hsm-answer` (cmd-hsm.ts): the simulator's encryption machine answers a Step1 made by the
 * card driver on the virtual 3.0 card, and the card takes the answer — INTERNAL AUTHENTICATE as the
 * card gave it, EXTERNAL AUTHENTICATE accepted, EF06 read; a malformed Step1 is a usage error.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { toHex } from '../apdu/hex.js';
import { HSM_ALGORITHM_IDS, formatHsmChallenge } from '../daemon/api/vendor.js';
import { SsseCard } from '../drivers/card/ssse-card.js';
import { SimTransport } from '../drivers/sim/sim-transport.js';
import { VirtualSsCard } from '../drivers/sim/virtual-card.js';
import { hsmAnswerCommand } from './cmd-hsm.js';
import { projectRoot } from './cli-util.js';
import path from 'node:path';

afterEach(() => vi.restoreAllMocks());

function capture(): { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  return { out: () => out, err: () => err };
}

describe('sscard hsm-answer', () => {
  it('answers a Step1 of the virtual 3.0 card with what the card accepts', async () => {
    const device = await VirtualSsCard.fromFile(path.join(projectRoot(), 'fixtures', 'cards', 'card-3.0.json'));
    const card = new SsseCard(new SimTransport(device));
    const b = await card.hsmBegin();
    const step1 = formatHsmChallenge({ region: b.issuer.regionCode, atr: toHex(device.atr), algorithm: b.algorithm, cardId: b.issuer.cardId, cardNumber: b.issuer.cardNumber, internalFactor: toHex(b.processFactor), internalData: toHex(b.data), externalFactor: toHex(b.factor), externalData: toHex(b.challenge), terminalId: '410100000001' });
    expect(step1.split('|')[2]).toBe(HSM_ALGORITHM_IDS.SM4);
    const io = capture();
    expect(await hsmAnswerCommand(step1, {})).toBe(0);
    const [internal, external] = io.out().trim().split('|');
    expect(Buffer.from(internal!, 'hex').equals(b.answer)).toBe(true);
    const r = await card.hsmFinish(Buffer.from(external!, 'hex'));
    expect(r.holder.name).not.toBe('');
  });

  it('a Step1 that is not one: exit 2 with a bilingual reason', async () => {
    const io = capture();
    expect(await hsmAnswerCommand('410402|3B|03|', {})).toBe(2);
    expect(io.err()).toContain('应为 9 个字段');
    expect(io.err()).toContain('expected 9 fields');
    expect(await hsmAnswerCommand('1|2|03|ZZ|||0000000000000000|11|X|', {})).toBe(2);
    expect(io.err()).toContain('卡识别码不是十六进制');
    expect(await hsmAnswerCommand('x', { factorOffset: '9' })).toBe(2);
  });
});
