/**
 * The terminal's PSAM client: every secret the terminal needs (card authentication, external
 * authentication cryptograms, command MACs, encrypted PIN blocks) is computed by the PSAM with
 * keys that never leave it (docs/domain.md §3, docs/card-conventions.md "PSAM commands").
 * Works over any CardTransport: a PC/SC reader slot or the simulator's {@link SimTransport}.
 *
 * Algorithm selection: the PSAM holds one application DF per algorithm (default 3DES `1001`,
 * SM4 `1002`; UNCONFIRMED, option `applications`), and an INIT uses the keys of the DF selected
 * last. The client selects the right DF before an INIT when the algorithm changes.
 *
 * Each operation (SELECT? → INIT → COMPUTE) runs as one unit: concurrent callers are queued, so
 * one caller's INIT is never followed by another's COMPUTE.
 */
import type { Algorithm } from '../../apdu/crypto.js';
import { blockSize, MAC_LENGTH } from '../../apdu/crypto.js';
import { decodeResponse } from '../../apdu/apdu.js';
import { ErrorCode, fail } from '../../core/errors.js';
import { pinBlock } from '../../apdu/pin.js';
import { isSecret, wipe } from '../../core/secret.js';
import { KeyUsage, psamEncrypt, psamInit, psamMac, psamReadTerminalNumber, psamSelect } from '../../apdu/psam.js';
import { swHex } from '../../apdu/sw.js';
import type { CardTransport } from '../transport.js';

export interface PsamOptions {
  /** Application DF per algorithm (default 3DES 0x1001, SM4 0x1002). */
  readonly applications?: Readonly<Partial<Record<Algorithm, number>>>;
  /** P2 of INIT for the usages keyed by version (88, 18, 24, 5E): default 0x01. */
  readonly keyVersion?: number;
  /** Per-command timeout passed to the transport. */
  readonly timeoutMs?: number;
}

export const PSAM_DEFAULT_APPLICATIONS: Readonly<Record<Algorithm, number>> = { '3DES': 0x1001, SM4: 0x1002 };

type Step = 'SELECT' | 'READ TERMINAL NUMBER' | 'INIT' | 'COMPUTE' | 'COMPUTE MAC';

const STEP_ZH: Record<Step, string> = {
  SELECT: '选择应用',
  'READ TERMINAL NUMBER': '读取终端机编号',
  INIT: '初始化（密钥分散）',
  COMPUTE: '加密计算',
  'COMPUTE MAC': 'MAC 计算',
};

export class Psam {
  private readonly transport: CardTransport;
  private readonly applications: Readonly<Partial<Record<Algorithm, number>>>;
  private readonly keyVersion: number;
  private readonly timeoutMs: number | undefined;
  private currentDf: number | undefined;
  private terminal: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  public constructor(transport: CardTransport, options: PsamOptions = {}) {
    const kv = options.keyVersion ?? 0x01;
    if (!Number.isInteger(kv) || kv < 0 || kv > 0xff) {
      fail(ErrorCode.Input_BadOption, `选项 keyVersion 必须是 0..255 的整数，实际为 ${String(kv)}`, `Option keyVersion must be an integer 0..255, got ${String(kv)}`, {
        option: 'keyVersion',
      });
    }
    const apps = options.applications ?? PSAM_DEFAULT_APPLICATIONS;
    for (const [alg, df] of Object.entries(apps)) {
      if (alg !== '3DES' && alg !== 'SM4') {
        fail(ErrorCode.Input_BadOption, `选项 applications 的键只能是 "3DES" 或 "SM4"，实际为 "${alg}"`, `Option applications accepts the keys "3DES" and "SM4" only, got "${alg}"`, {
          option: 'applications',
        });
      }
      if (!Number.isInteger(df) || df < 0 || df > 0xffff) {
        fail(ErrorCode.Input_BadOption, `选项 applications.${alg} 必须是 0..0xFFFF 的文件标识`, `Option applications.${alg} must be a file identifier 0..0xFFFF`, {
          option: `applications.${alg}`,
        });
      }
    }
    this.transport = transport;
    this.applications = apps;
    this.keyVersion = kv;
    this.timeoutMs = options.timeoutMs;
  }

  /** 终端机编号 (12 digits) read by {@link open}. */
  public get terminalNumber(): string | undefined {
    return this.terminal;
  }

  /**
   * Select the PSAM application (the first configured, normally 3DES) and read the terminal
   * number. Call once after the PSAM was powered; safe to call again after a reset.
   */
  public open(): Promise<{ terminalNumber: string }> {
    return this.exclusive(async () => {
      this.currentDf = undefined;
      const first = (Object.keys(this.applications) as Algorithm[])[0];
      if (first !== undefined) await this.selectFor(first);
      const data = await this.run('READ TERMINAL NUMBER', psamReadTerminalNumber());
      const digits = data.toString('hex').toUpperCase();
      if (data.length !== 6 || !/^\d{12}$/.test(digits)) {
        fail(
          ErrorCode.Psam_Status,
          `PSAM 返回的终端机编号格式不对（应为 6 字节 BCD，实际 ${data.length} 字节）：请检查 PSAM 卡`,
          `The PSAM returned a malformed terminal number (expected 6 bytes BCD, got ${data.length}): check the PSAM`,
          { step: 'READ TERMINAL NUMBER', length: data.length },
        );
      }
      this.terminal = digits;
      return { terminalNumber: digits };
    });
  }

  /**
   * What a genuine card answers to INTERNAL AUTHENTICATE with `random`: E(K88, random), K88 the
   * card's internal-auth key diversified with `factor`. Compare with {@link macEquals}.
   */
  public internalAuthExpected(alg: Algorithm, factor: Uint8Array, random: Uint8Array, processFactor?: Uint8Array): Promise<Buffer> {
    return this.exclusive(async () => {
      const data = padBlock(alg, random, 'random');
      // The integrators' form: a second level of diversification, by the process factor (PBOC INIT with two factors).
      await this.init(alg, KeyUsage.InternalAuth, this.keyVersion, processFactor === undefined ? factor : Buffer.concat([factor, processFactor]));
      return this.run('COMPUTE', psamEncrypt(data));
    });
  }

  /** EXTERNAL AUTHENTICATE cryptogram for the card key `keyId` (0A, 04, 84, 86, 06): E(K82[keyId], challenge). */
  public externalAuthCryptogram(alg: Algorithm, keyId: number, factor: Uint8Array, challenge: Uint8Array): Promise<Buffer> {
    return this.exclusive(async () => {
      const data = padBlock(alg, challenge, 'challenge');
      await this.init(alg, KeyUsage.ExternalAuth, keyId, factor);
      return this.run('COMPUTE', psamEncrypt(data));
    });
  }

  /**
   * The 4-byte MAC of a secured card command: IV = the card challenge (zero-padded to the block
   * size), message = `macInput(...)` from apdu/ssse.ts; key = the card's key for `usage`.
   */
  public commandMac(alg: Algorithm, usage: number, factor: Uint8Array, challenge: Uint8Array, macInputBytes: Uint8Array): Promise<Buffer> {
    return this.exclusive(async () => {
      const iv = padBlock(alg, challenge, 'challenge');
      await this.init(alg, usage, this.keyVersion, factor);
      const out = await this.run('COMPUTE MAC', psamMac(iv, macInputBytes));
      if (out.length !== MAC_LENGTH) {
        fail(ErrorCode.Psam_Status, `PSAM 返回的 MAC 长度不对：${out.length} 字节（应为 4）`, `The PSAM returned a MAC of ${out.length} bytes (expected 4)`, {
          step: 'COMPUTE MAC',
          length: out.length,
        });
      }
      return out;
    });
  }

  /**
   * The PIN block (ISO 9564-1 format 2, block size of `alg`) of `pin` (ASCII digits), encrypted
   * with the card's usage-24 key, for PIN UNBLOCK / 3.0 RELOAD PIN. The command carrying the clear
   * block is marked sensitive and wiped; the caller wipes `pin`.
   */
  public encryptPinBlock(alg: Algorithm, factor: Uint8Array, pin: Uint8Array): Promise<Buffer> {
    return this.exclusive(async () => {
      await this.init(alg, KeyUsage.PinUnblock, this.keyVersion, factor);
      let block: Buffer | undefined;
      let apdu: Buffer | undefined;
      try {
        block = pinBlock(pin, blockSize(alg));
        apdu = psamEncrypt(block);
        return await this.run('COMPUTE', apdu, true);
      } finally {
        wipe(block, apdu);
      }
    });
  }

  private exclusive<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(f, f);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async selectFor(alg: Algorithm): Promise<void> {
    const df = this.applications[alg];
    if (df === undefined) {
      fail(
        ErrorCode.Psam_KeyNotFound,
        `PSAM 没有配置 ${alg} 应用：无法为该代社保卡计算密钥，请检查 PSAM 配置`,
        `The PSAM has no ${alg} application configured: it cannot compute keys for this card generation; check the PSAM settings`,
        { alg },
      );
    }
    if (this.currentDf === df) return;
    this.currentDf = undefined;
    await this.run('SELECT', psamSelect(df), false, { df: df.toString(16).toUpperCase().padStart(4, '0') });
    this.currentDf = df;
  }

  private async init(alg: Algorithm, usage: number, p2: number, factor: Uint8Array): Promise<void> {
    await this.selectFor(alg);
    await this.run('INIT', psamInit(usage, p2, factor), false, { alg, usage: hex(usage), p2: hex(p2) });
  }

  /** Transmit one PSAM command; any status other than 9000 is a typed error naming the step. */
  private async run(step: Step, apdu: Buffer, sensitive = false, context: Record<string, unknown> = {}): Promise<Buffer> {
    let raw: Buffer;
    try {
      raw = await this.transport.transmit(apdu, { sensitive, ...(this.timeoutMs === undefined ? {} : { timeoutMs: this.timeoutMs }) });
    } catch (e) {
      this.currentDf = undefined; // outcome unknown: select again next time
      throw e;
    } finally {
      // A COMPUTE MAC over a RELOAD PIN's data carries the new PIN (core/secret.ts marks it).
      if (isSecret(apdu)) wipe(apdu);
    }
    const res = decodeResponse(raw);
    if (res.sw === 0x9000) return res.data;
    const h = swHex(res.sw);
    if (step === 'SELECT') this.currentDf = undefined;
    if (res.sw === 0x6a88) {
      fail(
        ErrorCode.Psam_KeyNotFound,
        `PSAM 中没有所需的密钥（${STEP_ZH[step]}返回 ${h}）：该 PSAM 不能为此卡服务，请联系发卡机构更换或授权 PSAM`,
        `The PSAM does not hold the required key (${step} answered ${h}): this PSAM cannot serve this card; ask the card issuer for an authorised PSAM`,
        { step, sw: res.sw, swHex: h, ...context },
      );
    }
    fail(
      ErrorCode.Psam_Status,
      `PSAM ${STEP_ZH[step]}失败，返回状态字 ${h}：请检查 PSAM 卡是否插好，必要时重启终端`,
      `PSAM ${step} failed with status word ${h}: check that the PSAM is seated; restart the terminal if it persists`,
      { step, sw: res.sw, swHex: h, ...context },
    );
  }
}

function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

/** Right-pad a challenge/random with zeros to the block size of `alg` (a 4-byte challenge is PBOC practice). */
function padBlock(alg: Algorithm, data: Uint8Array, what: string): Buffer {
  const bs = blockSize(alg);
  if (!(data instanceof Uint8Array) || data.length === 0 || data.length > bs) {
    const n = data instanceof Uint8Array ? data.length : 0;
    fail(ErrorCode.Input_BadLength, `参数 ${what} 的长度应为 1..${bs} 字节（${alg}），实际为 ${n} 字节`, `Argument ${what} must be 1..${bs} bytes (${alg}), got ${n}`, {
      argument: what,
      actual: n,
    });
  }
  const out = Buffer.alloc(bs);
  out.set(data, 0);
  return out;
}
