/**
 * `sscard idcard read [--port …] [--full]`: read the resident ID card on the reader and print its
 * fields; the ID number is masked (411082********0038) unless --full. `--sim <fixture>` runs the
 * reader simulator on a pty with a fixture card (fixtures/idcards/<name>.json) instead of a device.
 */
import { UndoStack } from '../core/undo.js';
import type { Command } from 'commander';
import { ErrorCode, SsCardError } from '../core/errors.js';
import type { IdCardInfo } from '../drivers/idcard/info.js';
import { maskIdNumber } from '../core/mask.js';
import { SerialIdCardReader } from '../drivers/idcard/reader.js';
import { idCardFixtureNames, loadIdCardFixture } from '../drivers/sim/idcard-fixtures.js';
import { IdReaderSimulator } from '../drivers/sim/idcard-reader.js';
import { PtyPair } from '../drivers/sim/pty.js';
import { action } from './cli-util.js';

export interface IdcardReadOptions {
  port?: string;
  baud?: string;
  full?: boolean;
  wait?: string;
  sim?: string;
  json?: boolean;
}

/** The printable view: ID number masked unless `full`; the photo as its size only. */
export function idCardView(info: IdCardInfo, full: boolean): Record<string, string | number | boolean> {
  return {
    name: info.name,
    sex: `${info.sex} ${info.sexText}`,
    nation: `${info.nation} ${info.nationText}`,
    birthDate: info.birthDate,
    address: info.address,
    idNumber: full ? info.idNumber : maskIdNumber(info.idNumber),
    idNumberValid: info.idNumberValid,
    authority: info.authority,
    validFrom: info.validFrom,
    validTo: info.validTo,
    photoBytes: info.photo.length,
  };
}

const LABELS: Record<string, string> = {
  name: '姓名 name',
  sex: '性别 sex',
  nation: '民族 nation',
  birthDate: '出生 birth',
  address: '住址 address',
  idNumber: '公民身份号码 ID number',
  idNumberValid: '校验位 check digit ok',
  authority: '签发机关 authority',
  validFrom: '有效期起 valid from',
  validTo: '有效期至 valid to',
  photoBytes: '照片 photo (WLT bytes)',
};

export async function idcardReadCommand(opts: IdcardReadOptions): Promise<number> {
  const undo = new UndoStack();
  try {
    let port = opts.port;
    if (opts.sim !== undefined) {
      if (!idCardFixtureNames().includes(opts.sim)) {
        throw new SsCardError(
          ErrorCode.Input_BadOption,
          { zh: `没有名为“${opts.sim}”的身份证样例；可用：${idCardFixtureNames().join('、')}`, en: `no ID card fixture "${opts.sim}"; available: ${idCardFixtureNames().join(', ')}` },
          { option: 'sim' },
        );
      }
      const pty = await PtyPair.open();
      undo.push(() => pty.close());
      const sim = new IdReaderSimulator({ path: pty.b });
      await sim.start();
      undo.push(() => sim.stop());
      sim.place(loadIdCardFixture(opts.sim));
      port = pty.a;
    }
    if (port === undefined) {
      throw new SsCardError(
        ErrorCode.Input_BadOption,
        { zh: '请用 --port 指定身份证读卡器的串口（如 /dev/ttyUSB0），或用 --sim <样例> 使用模拟器', en: 'give the ID reader serial port with --port (e.g. /dev/ttyUSB0), or --sim <fixture> for the simulator' },
        { option: 'port' },
      );
    }
    const baud = opts.baud === undefined ? 115200 : Number(opts.baud);
    const wait = opts.wait === undefined ? 0 : Number(opts.wait);
    if (!Number.isInteger(wait) || wait < 0 || wait > 600) {
      throw new SsCardError(ErrorCode.Input_BadOption, { zh: `选项 --wait 必须是 0–600 秒，实际为“${opts.wait}”`, en: `option --wait must be 0..600 seconds, got "${opts.wait}"` }, { option: 'wait' });
    }
    const reader = new SerialIdCardReader({ path: port, baudRate: baud });
    await reader.open();
    undo.push(() => reader.close());
    const info = wait > 0 ? await reader.waitForCard({ timeoutMs: wait * 1000 }) : await reader.readCard();
    const view = idCardView(info, opts.full === true);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ reader: reader.name, card: view }, null, 2)}\n`);
    } else {
      for (const [k, v] of Object.entries(view)) process.stdout.write(`${(LABELS[k] ?? k).padEnd(24)} ${String(v)}\n`);
      if (!info.idNumberValid) process.stdout.write('警告：公民身份号码校验位不对 / warning: the ID number check character is wrong\n');
    }
    return 0;
  } finally {
    await undo.run();
  }
}

export function register(program: Command): void {
  const idcard = program.command('idcard').description('居民身份证读卡器 / resident ID card reader');
  idcard
    .command('read')
    .description('读身份证并显示信息（号码默认打码）/ read the ID card and print its fields (ID number masked unless --full)')
    .option('--port <path>', 'serial port of the reader, e.g. /dev/ttyUSB0')
    .option('--baud <n>', 'baud rate (default 115200)')
    .option('--full', 'show the full ID number')
    .option('--wait <s>', 'wait up to this many seconds for a card (default: read now)')
    .option('--sim <fixture>', 'use the simulator with fixtures/idcards/<fixture>.json')
    .option('--json', 'JSON output')
    .action(action((opts: IdcardReadOptions) => idcardReadCommand(opts)));
}
