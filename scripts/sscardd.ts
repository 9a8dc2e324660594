#!/usr/bin/env node
/**
 * sscardd: the daemon alone (`sscard daemon` without the technician commands), for `npm start`
 * and the systemd unit. The technician commands pull in drivers the daemon loads only when
 * configured (serialport, node-hid, the simulators); leaving them out keeps the idle daemon small.
 */
import { Command, CommanderError } from 'commander';
import { EXIT_USAGE, packageVersionOf, reportError } from './cli-util.js';
import { register } from './cmd-daemon.js';

const program = new Command();
program
  .name('sscardd')
  .description('社会保障卡自助服务守护进程 / the social security card kiosk daemon')
  .version(packageVersionOf(), '-V, --version', '显示版本 / print the version')
  .exitOverride()
  .showHelpAfterError();
register(program);

try {
  await program.parseAsync(['daemon', ...process.argv.slice(2)], { from: 'user' });
} catch (err) {
  if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
  else process.exitCode = reportError(err);
}

// The command is done. The pcsclite addon's status threads can miss their SCardCancel when pcscd
// is busy with a card change (santigimeno/node-pcsclite#70, LudovicRousseau/PCSC#160) and then
// keep the event loop alive until the next reader event: a finished command must not hang.
setTimeout(() => process.exit(), 1500).unref();
