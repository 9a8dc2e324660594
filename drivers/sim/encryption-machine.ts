/**
 * A stand-in for the province's online encryption machine (加密机, docs/domain.md §4), for tests and
 * demos of iReadCardBas_HSM_Step1 / _Step2 on a terminal without a PSAM. It holds the master keys
 * of a simulated PSAM (a PSAM profile, fixtures/psam/) and answers Step1's output with the pKey that
 * Step2 takes (docs/api.md "SSCardDriver calls"): what the card should have answered to INTERNAL
 * AUTHENTICATE, and the EXTERNAL AUTHENTICATE cryptogram (key 0A) over the card's challenge. It
 * computes through the PSAM driver on a virtual PSAM, the cryptography the terminal's PSAM path
 * is tested with; the diversification factor it takes from the 卡识别码 itself (at the card make's
 * offset, 8 by default), not from the terminal's word.
 */
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { Psam } from '../psam/psam.js';
import { SimTransport } from './sim-transport.js';
import { VirtualPsam } from './virtual-psam.js';

/** EF06's read key (docs/domain.md §1), as the card profiles' `ef06AuthKeyId` defaults it. */
const EF06_AUTH_KEY = 0x0a;

function badStep1(zh: string, en: string): never {
  throw new SsCardError(ErrorCode.Input_BadOption, { zh: `不是 iReadCardBas_HSM_Step1 的输出：${zh}`, en: `not an iReadCardBas_HSM_Step1 output: ${en}` });
}

export interface EncryptionMachineOptions {
  /** Where in the 卡识别码 the card make's diversification factor starts (card profiles' `factorOffset`; default 8). */
  readonly factorOffset?: number;
}

export class SimEncryptionMachine {
  private constructor(
    private readonly psam: Psam,
    private readonly factorOffset: number,
  ) {}

  public static async fromPsamProfile(file: string, options: EncryptionMachineOptions = {}): Promise<SimEncryptionMachine> {
    return new SimEncryptionMachine(new Psam(new SimTransport(await VirtualPsam.fromFile(file))), options.factorOffset ?? 8);
  }

  /** Step1's output (区划|ATR|算法标识|卡识别码|内认证过程因子|内认证原始数据|外认证过程因子|外认证原始数据|终端号|) → Step2's pKey. */
  public async answer(step1: string): Promise<string> {
    const f = step1.split('|');
    if (f.length !== 10 || f[9] !== '') badStep1('应为 9 个字段，每个字段后跟“|”', 'expected 9 fields each followed by "|"');
    const [, , algId, cardId, internalFactor, internalData, , externalData] = f as [string, string, string, string, string, string, string, string];
    const hex = (s: string, zh: string, en: string) => (/^(?:[0-9A-Fa-f]{2})+$/.test(s) ? Buffer.from(s, 'hex') : badStep1(`${zh}不是十六进制`, `${en} is not hex`));
    const alg = algId === '03' ? 'SM4' : algId === '01' ? '3DES' : badStep1(`算法标识 ${algId.slice(0, 8)} 未知`, `unknown algorithm ${algId.slice(0, 8)}`);
    const id = hex(cardId, '卡识别码', 'the card identification code');
    if (id.length !== 16) badStep1('卡识别码不是 16 字节', 'the card identification code is not 16 bytes');
    const factor = id.subarray(this.factorOffset, this.factorOffset + 8);
    // No process factor: the card make's one-block form (drivers/card/ssse-card.ts InternalAuthForm).
    const processFactor = internalFactor === '' ? undefined : hex(internalFactor, '内认证过程因子', 'the internal-authentication factor');
    const internal = await this.psam.internalAuthExpected(alg, factor, hex(internalData, '内认证原始数据', 'the internal-authentication data'), processFactor);
    const external = await this.psam.externalAuthCryptogram(alg, EF06_AUTH_KEY, factor, hex(externalData, '外认证原始数据', 'the external-authentication data'));
    return `${internal.toString('hex').toUpperCase()}|${external.toString('hex').toUpperCase()}|`;
  }
}
