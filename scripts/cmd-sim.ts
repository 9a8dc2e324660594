/**
 * `sscard sim`: put a virtual card (and the test PSAM) into pcscd's vpcd readers and keep them
 * there until interrupted. Standard input takes commands: `remove`, `insert`, `swap FILE`,
 * `status`, `help`. Without standard input (CI, systemd) it just serves.
 */
import { oneLine } from '../core/text.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { ErrorCode, SsCardError, isSsCardError } from '../core/errors.js';
import { toHex } from '../apdu/hex.js';
import type { VirtualCardDevice } from '../drivers/sim/device.js';
import { loadPsamProfile } from '../drivers/sim/profile.js';
import { VirtualSsCard } from '../drivers/sim/virtual-card.js';
import { VirtualPsam } from '../drivers/sim/virtual-psam.js';
import { VpcdBridge } from '../drivers/sim/vpcd-bridge.js';
import type { Command } from 'commander';
import { action, projectRoot } from './cli-util.js';

export interface SimOptions {
  card: string;
  psam: string | false;
  host: string;
  cardPort: string;
  psamPort: string;
  save?: boolean;
}

function port(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new SsCardError(ErrorCode.Input_BadOption, { zh: `选项 ${option} 必须是 1..65535 的端口号，实际为 “${value}”`, en: `option ${option} must be a port number 1..65535, got "${value}"` }, { option });
  }
  return n;
}

/** A profile path relative to the working directory when it exists there, else to the project (so `npm start` works from anywhere). */
function resolveProfile(file: string): string {
  const here = path.resolve(process.cwd(), file);
  return existsSync(here) ? here : path.resolve(projectRoot(), file);
}

function describe(card: VirtualSsCard): string {
  return `${card.label}  ATR ${toHex(card.atr, ' ')}`;
}

export async function simCommand(opts: SimOptions): Promise<number> {
  const cardPort = port(opts.cardPort, '--card-port');
  const psamPort = port(opts.psamPort, '--psam-port');
  let cardFile = resolveProfile(opts.card);
  let card = await VirtualSsCard.fromFile(cardFile);
  const cardBridge = new VpcdBridge(card, { host: opts.host, port: cardPort, autoReconnect: true });
  let psamBridge: VpcdBridge | undefined;

  if (opts.psam !== false) {
    const psam: VirtualCardDevice = new VirtualPsam(await loadPsamProfile(resolveProfile(opts.psam)));
    psamBridge = new VpcdBridge(psam, { host: opts.host, port: psamPort, autoReconnect: true });
    await psamBridge.insert();
    process.stdout.write(`PSAM 已插入 inserted → vpcd ${opts.host}:${psamPort}: ${psam.label}  ATR ${toHex(psam.atr, ' ')}\n`);
  }
  await cardBridge.insert();
  process.stdout.write(`卡片已插入 card inserted → vpcd ${opts.host}:${cardPort}: ${describe(card)}\n`);
  cardBridge.on('removed', (why) => {
    if (why === 'peer-closed') process.stdout.write('读卡器断开了连接（pcscd 重启？），正在重连 / the reader closed the connection (pcscd restarted?); reconnecting\n');
  });
  cardBridge.on('reconnected', () => process.stdout.write('卡片已重新插入 card back in the reader\n'));
  process.stdout.write('命令 commands: remove | insert | swap FILE | status | help — Ctrl-C 退出 to quit\n');

  const save = async (): Promise<void> => {
    if (opts.save) {
      await card.save(cardFile);
      process.stdout.write(`卡片状态已保存 card state saved to ${cardFile}\n`);
    }
  };

  const handle = async (line: string): Promise<void> => {
    const [cmd, ...rest] = line.trim().split(/\s+/);
    try {
      switch (cmd) {
        case '':
        case undefined:
          return;
        case 'remove':
          await cardBridge.remove();
          process.stdout.write('卡片已取出 card removed\n');
          return;
        case 'insert':
          await cardBridge.insert();
          process.stdout.write(`卡片已插入 card inserted: ${describe(card)}\n`);
          return;
        case 'swap': {
          const file = rest.join(' ');
          if (!file) throw new SsCardError(ErrorCode.Input_BadOption, { zh: 'swap 需要卡片配置文件路径', en: 'swap needs a card profile path' });
          const next = await VirtualSsCard.fromFile(resolveProfile(file));
          await save();
          await cardBridge.remove();
          cardBridge.setCard(next);
          card = next;
          cardFile = resolveProfile(file);
          await cardBridge.insert();
          process.stdout.write(`已换卡 swapped: ${describe(card)}\n`);
          return;
        }
        case 'status':
          process.stdout.write(`card: ${cardBridge.inserted ? 'inserted' : 'removed'} — ${describe(card)}; PSAM: ${psamBridge?.inserted ? 'inserted' : 'none'}\n`);
          return;
        case 'help':
          process.stdout.write('remove | insert | swap FILE | status\n');
          return;
        default:
          process.stdout.write(`未知命令 unknown command "${cmd}": remove | insert | swap FILE | status\n`);
      }
    } catch (err) {
      const msg = isSsCardError(err) ? `${oneLine(err.text)}` : String(err);
      process.stdout.write(`错误 error: ${msg}\n`);
    }
  };

  // Commands may come from a terminal or a pipe (tests); EOF just means no more commands.
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  let queue = Promise.resolve();
  rl.on('line', (line) => {
    queue = queue.then(() => handle(line));
  });

  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  rl.close();
  await queue;
  await save();
  await cardBridge.remove();
  await psamBridge?.remove();
  process.stdout.write('模拟器已停止 simulator stopped\n');
  return 0;
}

export function register(program: Command): void {
  program
    .command('sim')
    .description('运行虚拟社会保障卡与 PSAM（经 pcscd + vpcd）/ run the virtual card and PSAM through pcscd + vpcd')
    .option('--card <file>', 'card profile', 'fixtures/cards/card-2.0.json')
    .option('--psam <file>', 'PSAM profile', 'fixtures/psam/psam-test.json')
    .option('--no-psam', 'do not insert a PSAM')
    .option('--host <host>', 'vpcd host', '127.0.0.1')
    .option('--card-port <port>', 'vpcd port of the card reader', '35963')
    .option('--psam-port <port>', 'vpcd port of the PSAM reader', '35964')
    .option('--save', 'write the card state back to its profile file on exit')
    .action(action((opts: SimOptions) => simCommand(opts)));
}
