#!/usr/bin/env node
/**
 * sscard: the technician's command line. commander parses the arguments (help, unknown options
 * and missing arguments are reported for us); each command lives in its own cmd-*.ts file that
 * exports `register(program)`.
 */
import { Command, CommanderError } from 'commander';
import { register as registerApdu } from './cmd-apdu.js';
import { register as registerClient } from './cmd-client.js';
import { register as registerDaemon } from './cmd-daemon.js';
import { register as registerHsm } from './cmd-hsm.js';
import { register as registerIdcard } from './cmd-idcard.js';
import { register as registerJournal } from './cmd-journal.js';
import { register as registerOperator } from './cmd-operator.js';
import { register as registerPinpad } from './cmd-pinpad.js';
import { register as registerRead } from './cmd-read.js';
import { register as registerReaders } from './cmd-readers.js';
import { register as registerSim } from './cmd-sim.js';
import { register as registerSimControl } from './cmd-sim-control.js';
import { register as registerSync } from './cmd-sync.js';
import { EXIT_USAGE, packageVersionOf, reportError } from './cli-util.js';

const program = new Command();
program
  .name('sscard')
  .description('社会保障卡终端驱动与自助服务守护程序 / terminal driver and kiosk daemon for the social security card')
  .version(packageVersionOf(), '-V, --version', '显示版本 / print the version')
  .exitOverride()
  .showHelpAfterError();

for (const register of [registerDaemon, registerReaders, registerRead, registerApdu, registerSim, registerSimControl, registerJournal, registerSync, registerPinpad, registerIdcard, registerOperator, registerClient, registerHsm]) {
  register(program);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // commander already printed the message (or the help); --help and --version exit 0.
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
  } else {
    process.exitCode = reportError(err);
  }
}

// The command is done. The pcsclite addon's status threads can miss their SCardCancel when pcscd
// is busy with a card change (santigimeno/node-pcsclite#70, LudovicRousseau/PCSC#160) and then
// keep the event loop alive until the next reader event: a finished command must not hang.
setTimeout(() => process.exit(), 1500).unref();
