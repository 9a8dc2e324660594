/**
 * `sscard daemon`: run the kiosk daemon (daemon/main.ts) until SIGTERM or SIGINT. `npm start`
 * runs it with the default configuration — on a machine with no physical reader that is the
 * simulator. A bad configuration stops it at once with the key, the value and what is allowed.
 */
import type { Command } from 'commander';
import { loadConfig } from '../daemon/config/load.js';
import { startDaemon } from '../daemon/main.js';
import { action } from './cli-util.js';

export interface DaemonOptions {
  config?: string;
}

export async function daemonCommand(opts: DaemonOptions): Promise<number> {
  const config = loadConfig({ ...(opts.config === undefined ? {} : { path: opts.config }), env: process.env, cwd: process.cwd() });
  const daemon = await startDaemon({ config });
  process.stderr.write(
    `sscard 守护进程已启动 daemon running — API ${daemon.api.address}:${daemon.api.port}${daemon.simulated ? '（模拟模式 simulating）' : ''}；Ctrl-C 或 SIGTERM 停止 to stop\n`,
  );
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  // A second signal while stopping: stop at once (the journal is crash-safe; pending rows turn
  // `interrupted` at the next start).
  const hard = (): void => process.exit(130);
  process.once('SIGINT', hard);
  process.once('SIGTERM', hard);
  await daemon.stop(signal);
  return 0;
}

export function register(program: Command): void {
  program
    .command('daemon')
    .description('运行自助服务守护进程（本地 API、读卡器、密码键盘、业务日志与同步）/ run the kiosk daemon (local API, readers, PIN pad, journal and sync)')
    .option('--config <file>', 'configuration file, JSON or TOML (default: $SSCARD_CONFIG, else built-in defaults)')
    .action(action((opts: DaemonOptions) => daemonCommand(opts)));
}
