/** `sscard readers`: every reader, whether it holds a card, the ATR and what the ATR says. */
import { parseAtr } from '../apdu/atr.js';
import { isSsCardError } from '../core/errors.js';
import { toHex } from '../apdu/hex.js';
import { identify } from '../drivers/pcsc/atr-list.js';
import type { Command } from 'commander';
import { action, openService } from './cli-util.js';

export interface ReaderReport {
  name: string;
  cardPresent: boolean;
  mute: boolean;
  atr: string | null;
  protocols: string[];
  historicalBytes: string | null;
  atrProblem: string | null;
  identified: string[];
}

export async function readersCommand(opts: { json?: boolean }): Promise<number> {
  const service = await openService();
  try {
    const reports: ReaderReport[] = service.readers().map((r) => {
      const report: ReaderReport = {
        name: r.name,
        cardPresent: r.cardPresent,
        mute: r.mute,
        atr: r.atr ? toHex(r.atr, ' ') : null,
        protocols: [],
        historicalBytes: null,
        atrProblem: null,
        identified: [],
      };
      if (r.atr && r.atr.length > 0) {
        try {
          const atr = parseAtr(r.atr);
          report.protocols = atr.protocols.map((p) => `T=${p}`);
          report.historicalBytes = toHex(atr.historical, ' ');
        } catch (err) {
          report.atrProblem = isSsCardError(err) ? err.text.en : String(err);
        }
        report.identified = identify(r.atr);
      }
      return report;
    });
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ readers: reports }, null, 2)}\n`);
      return 0;
    }
    if (reports.length === 0) {
      process.stdout.write('没有读卡器 / no readers\n');
      return 0;
    }
    for (const r of reports) {
      process.stdout.write(`${r.name}\n`);
      process.stdout.write(`  卡片 card:        ${r.cardPresent ? (r.mute ? '有（无应答） present (mute)' : '有 present') : '无 absent'}\n`);
      if (r.atr) {
        process.stdout.write(`  ATR:              ${r.atr}\n`);
        if (r.atrProblem) process.stdout.write(`  ATR 问题 problem: ${r.atrProblem}\n`);
        else process.stdout.write(`  协议 protocols:   ${r.protocols.join(', ')}; 历史字节 historical: ${r.historicalBytes || '-'}\n`);
        process.stdout.write(`  识别 identified:  ${r.identified.length ? r.identified.join(' | ') : '未知 unknown'}\n`);
      }
    }
    return 0;
  } finally {
    await service.stop();
  }
}

export function register(program: Command): void {
  program
    .command('readers')
    .description('列出读卡器、卡片与 ATR / list readers, cards and ATRs')
    .option('--json', 'JSON output')
    .action(action((opts: { json?: boolean }) => readersCommand(opts)));
}
