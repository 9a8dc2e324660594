/**
 * `sscard sim-control remove | insert | swap FILE | status | idcard FILE|none`: take the simulated
 * card out of a running simulating daemon (`npm start` on a machine without a reader), put it back,
 * swap it for another card profile, ask what is in the readers, or lay another resident ID card
 * (an ID card fixture) on the simulated ID reader / take it away — what `sscard sim` takes on its standard
 * input, for the daemon's own simulator. It talks to the daemon's control socket
 * (daemon/terminal/sim-control.ts), `<simulator.stateDir>/control.sock` of the daemon's
 * configuration (`--config FILE` or $SSCARD_CONFIG as for `sscard daemon`, or `--socket PATH`).
 * A daemon on real readers has no such socket: the command says so and exits 1.
 */
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Command } from 'commander';
import { ErrorCode, SsCardError } from '../core/errors.js';
import { loadConfig } from '../daemon/config/load.js';
import type { SimControlAnswer, SimControlRequest } from '../daemon/terminal/sim-control.js';
import { NO_ID_CARD, SIM_CONTROL_COMMANDS, SIM_CONTROL_SOCKET } from '../daemon/terminal/sim-control.js';
import { action, EXIT_FAILED, EXIT_USAGE, projectRoot } from './cli-util.js';

export interface SimControlOptions {
  config?: string;
  socket?: string;
  json?: boolean;
  timeout?: string;
}

/** A profile path relative to the working directory when it exists there, else to the project (as `sscard sim`). */
function resolveProfile(file: string): string {
  const here = path.resolve(process.cwd(), file);
  return existsSync(here) ? here : path.resolve(projectRoot(), file);
}

function socketPath(opts: SimControlOptions): string {
  if (opts.socket !== undefined) return path.resolve(process.cwd(), opts.socket);
  const cfg = loadConfig({ ...(opts.config === undefined ? {} : { path: opts.config }), env: process.env, cwd: process.cwd() });
  return path.join(cfg.simulator.stateDir, SIM_CONTROL_SOCKET);
}

function request(command: string, file: string | undefined): SimControlRequest {
  if (!(SIM_CONTROL_COMMANDS as readonly string[]).includes(command)) {
    throw new SsCardError(
      ErrorCode.Input_BadOption,
      { zh: `未知命令“${command}”：可用 remove、insert、swap 文件、status、idcard 文件|none`, en: `unknown command "${command}": use remove, insert, swap FILE, status or idcard FILE|none` },
      { option: 'command' },
    );
  }
  if (command === 'idcard') {
    if (file === undefined) throw new SsCardError(ErrorCode.Input_BadOption, { zh: 'idcard 需要身份证配置文件路径（或 none）', en: 'idcard needs an ID card fixture path (or none)' }, { option: 'file' });
    return { command, file: file === NO_ID_CARD ? NO_ID_CARD : resolveProfile(file) };
  }
  if (command === 'swap') {
    if (file === undefined) throw new SsCardError(ErrorCode.Input_BadOption, { zh: 'swap 需要卡片配置文件路径', en: 'swap needs a card profile path' }, { option: 'file' });
    return { command, file: resolveProfile(file) };
  }
  if (file !== undefined) throw new SsCardError(ErrorCode.Input_BadOption, { zh: `${command} 不带参数`, en: `${command} takes no argument` }, { option: 'file' });
  return { command: command as SimControlRequest['command'] };
}

/** Send one request to the control socket and read its one-line answer. */
export function askSimulator(socket: string, req: SimControlRequest, timeoutMs = 15_000): Promise<SimControlAnswer> {
  if (!existsSync(socket)) {
    return Promise.reject(
      new SsCardError(
        ErrorCode.Sim_Bridge,
        {
          zh: `没有找到模拟器控制接口 ${socket}：守护进程没有运行，或没有在模拟（只有模拟模式的守护进程才能这样取卡、插卡）`,
          en: `no simulator control socket at ${socket}: the daemon is not running, or not simulating (only a simulating daemon's card can be moved this way)`,
        },
        { path: socket },
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const s = net.connect(socket);
    let text = '';
    let settled = false;
    const fail = (e: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      reject(
        new SsCardError(
          ErrorCode.Sim_Bridge,
          { zh: `无法与模拟器控制接口 ${socket} 通信：${e.message}`, en: `cannot talk to the simulator control socket ${socket}: ${e.message}` },
          { path: socket },
          { cause: e },
        ),
      );
    };
    const timer = setTimeout(() => fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    s.setEncoding('utf8');
    s.on('connect', () => s.write(`${JSON.stringify(req)}\n`));
    s.on('data', (chunk: string) => {
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl < 0 || settled) return;
      settled = true;
      clearTimeout(timer);
      s.end();
      try {
        resolve(JSON.parse(text.slice(0, nl)) as SimControlAnswer);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
    s.on('error', fail);
    s.on('close', () => fail(new Error('the daemon closed the connection')));
  });
}

export async function simControlCommand(command: string, file: string | undefined, opts: SimControlOptions): Promise<number> {
  const req = request(command, file);
  const timeoutMs = opts.timeout === undefined ? 15_000 : Number(opts.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new SsCardError(ErrorCode.Input_BadOption, { zh: `选项 --timeout 必须是正整数（毫秒），实际为 “${opts.timeout}”`, en: `option --timeout must be a positive integer (ms), got "${opts.timeout}"` }, { option: '--timeout' });
  }
  const answer = await askSimulator(socketPath(opts), req, timeoutMs);
  if (opts.json === true) process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
  if (!answer.ok) {
    const e = answer.error;
    if (opts.json !== true) process.stderr.write(`错误 E${e.code}：${e.zh}\nError E${e.code}: ${e.en}\n`);
    return e.code >= 100 && e.code < 200 ? EXIT_USAGE : EXIT_FAILED;
  }
  if (opts.json !== true) {
    const st = answer.status;
    process.stdout.write(
      `${answer.zh} ${answer.en} — 卡片 card: ${st.card.inserted ? '已插入 inserted' : '已取出 removed'} (${st.card.label}, ${st.card.profile}); PSAM: ${st.psam.inserted ? '已插入 inserted' : '无 none'}${
        st.idCard === undefined ? '' : `; 身份证 ID card: ${st.idCard.fixture ?? '无 none'}`
      }\n`,
    );
  }
  return 0;
}

export function register(program: Command): void {
  program
    .command('sim-control')
    .description('取出、插入或更换模拟守护进程中的模拟卡，或更换模拟身份证 / remove, insert or swap the simulating daemon\'s virtual card, or lay another ID card on its ID reader')
    .argument('<command>', 'remove | insert | swap | status | idcard')
    .argument('[file]', 'swap: the card profile to put in (e.g. fixtures/cards/card-3.0.json); idcard: the ID card fixture (e.g. fixtures/idcards/id-mismatch-same-name.json) or none')
    .option('--config <file>', 'the daemon\'s configuration (default: $SSCARD_CONFIG, else built-in defaults): its simulator.stateDir holds the socket')
    .option('--socket <path>', 'the control socket itself (default: <simulator.stateDir>/control.sock)')
    .option('--timeout <ms>', 'how long to wait for the daemon (default 15000)')
    .option('--json', 'print the daemon\'s answer as JSON')
    .action(action((command: string, file: string | undefined, opts: SimControlOptions) => simControlCommand(command, file, opts)));
}
