/**
 * `sscard hsm-answer STEP1`: the simulator's stand-in for the online encryption machine
 * (drivers/sim/encryption-machine.ts) from the command line — given iReadCardBas_HSM_Step1's (or
 * iReadCard_HSM_Step1's) output, it prints the pKey that Step2 takes (docs/api.md "SSCardDriver
 * calls"), computed with a simulated PSAM's keys. For demos and integrators' tests against the
 * simulating daemon; a real encryption machine is the province's.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { ErrorCode, SsCardError } from '../core/errors.js';
import { SimEncryptionMachine } from '../drivers/sim/encryption-machine.js';
import { action, EXIT_USAGE, projectRoot } from './cli-util.js';

export interface HsmAnswerOptions {
  psam?: string;
  factorOffset?: string;
}

export async function hsmAnswerCommand(step1: string, opts: HsmAnswerOptions): Promise<number> {
  const offset = Number(opts.factorOffset ?? '8');
  if (!Number.isInteger(offset) || offset < 0 || offset > 8) {
    process.stderr.write('--factor-offset 必须是 0 到 8 的整数 / --factor-offset must be an integer 0..8\n');
    return EXIT_USAGE;
  }
  const psam = path.resolve(projectRoot(), opts.psam ?? 'fixtures/psam/psam-test.json');
  try {
    const machine = await SimEncryptionMachine.fromPsamProfile(psam, { factorOffset: offset });
    process.stdout.write(`${await machine.answer(step1.trim())}\n`);
    return 0;
  } catch (e) {
    if (e instanceof SsCardError && e.code === ErrorCode.Input_BadOption) {
      process.stderr.write(`${e.text.zh} / ${e.text.en}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}

export function register(program: Command): void {
  program
    .command('hsm-answer <step1>')
    .description('模拟加密机：由 iReadCardBas_HSM_Step1 的输出算出第二步的 pKey / the simulator\'s encryption machine: the pKey for Step2 from a Step1 output')
    .option('--psam <file>', 'the simulated PSAM whose keys the machine holds', 'fixtures/psam/psam-test.json')
    .option('--factor-offset <n>', 'where the card make\'s diversification factor starts in the 卡识别码 (cardProfiles[].factorOffset)', '8')
    .action(action((step1: string, opts: HsmAnswerOptions) => hsmAnswerCommand(step1, opts)));
}
