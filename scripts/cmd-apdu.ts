/**
 * `sscard apdu [--reader NAME] HEX...`: send APDUs in order and show each answer with its SW
 * meaning. Every argument is validated before anything is sent, so a typo never leaves the card
 * half-way through a sequence. PIN-bearing command data is shown redacted.
 */
import { decodeCommand, decodeResponse, traceCommand } from '../apdu/apdu.js';
import { SsCardError, isSsCardError } from '../core/errors.js';
import { parseHex, toHex } from '../apdu/hex.js';
import { describeSw } from '../apdu/sw.js';
import type { Command } from 'commander';
import { action, chooseCardReader, openService } from './cli-util.js';

export interface ApduExchange {
  command: string;
  response: string;
  data: string;
  sw: string;
  zh: string;
  en: string;
}

export async function apduCommand(hexArgs: string[], opts: { reader?: string; json?: boolean; exclusive?: boolean }): Promise<number> {
  const commands = hexArgs.map((h, i) => {
    const what = `APDU #${i + 1}`;
    const bytes = parseHex(h, what);
    try {
      decodeCommand(bytes); // validates the length fields
    } catch (err) {
      if (!isSsCardError(err)) throw err;
      throw new SsCardError(err.code, { zh: `${what}：${err.text.zh}`, en: `${what}: ${err.text.en}` }, err.context);
    }
    return bytes;
  });
  const service = await openService();
  try {
    const reader = chooseCardReader(service, opts.reader);
    const channel = await service.connect(reader.name, { share: opts.exclusive ? 'exclusive' : 'shared' });
    const results: ApduExchange[] = [];
    try {
      for (const cmd of commands) {
        const res = decodeResponse(await channel.transmit(cmd));
        const info = describeSw(res.sw);
        const ex: ApduExchange = {
          command: traceCommand(cmd),
          response: toHex(Buffer.concat([res.data, Buffer.from([res.sw1, res.sw2])]), ' '),
          data: toHex(res.data, ' '),
          sw: info.hex,
          zh: info.zh,
          en: info.en,
        };
        results.push(ex);
        if (!opts.json) {
          process.stdout.write(`> ${ex.command}\n< ${ex.response}\n  ${ex.sw}: ${ex.zh} / ${ex.en}\n`);
        }
      }
    } finally {
      await channel.close();
    }
    if (opts.json) process.stdout.write(`${JSON.stringify({ reader: reader.name, exchanges: results }, null, 2)}\n`);
    return 0;
  } finally {
    await service.stop();
  }
}

export function register(program: Command): void {
  program
    .command('apdu')
    .description('按顺序发送 APDU 并显示应答 / send APDUs in order and show the answers')
    .argument('<hex...>', 'command APDUs in hex, one argument each ("00 A4 04 00 0F ..." or 00A40400...)')
    .option('--reader <name>', 'card reader (name or unique part of it)')
    .option('--exclusive', 'hold the card exclusively while sending')
    .option('--json', 'JSON output')
    .action(action((hex: string[], opts: { reader?: string; json?: boolean; exclusive?: boolean }) => apduCommand(hex, opts)));
}
