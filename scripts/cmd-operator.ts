/**
 * `sscard operator hash`: read an operator's passphrase and print the scrypt hash to put into the
 * daemon's configuration (`operators.accounts[].hash`, docs/config.md).
 *
 * - On a terminal it asks twice, in raw mode so nothing is echoed (Backspace works, Ctrl-C / Esc
 *   cancel), and refuses when the two differ.
 * - From a pipe (`printf '%s\n' "$PW" | sscard operator hash`) it reads all of stdin and drops one
 *   trailing line break.
 *
 * The passphrase only ever lives in Buffers, which are wiped once hashed; it is never printed, not
 * even in an error. Only the hash goes to stdout (so `… > file` captures just that line).
 */
import type { Command } from 'commander';
import { ErrorCode, SsCardError } from '../core/errors.js';
import { wipe } from '../apdu/pin.js';
import { hashPassphrase } from '../daemon/auth/passphrase.js';
import { action } from './cli-util.js';

export const MIN_PASSPHRASE_BYTES = 8;
export const MAX_PASSPHRASE_BYTES = 1024;

export interface OperatorHashOptions {
  /** log2 of scrypt's N (default 15). */
  cost?: string;
  json?: boolean;
}

/** What the command reads from and writes to (process streams by default; tests pass their own). */
export interface OperatorIo {
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

function usage(zh: string, en: string, argument: string): SsCardError {
  return new SsCardError(ErrorCode.Input_BadOption, { zh, en }, { argument });
}

function parseCost(raw: string | undefined): number {
  if (raw === undefined) return 15;
  const n = /^\d{1,2}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 14 && n <= 20)) throw usage('--cost 必须是 14 到 20 之间的整数（scrypt 的 N = 2^cost）', '--cost must be an integer from 14 to 20 (scrypt N = 2^cost)', 'cost');
  return n;
}

/** All of a piped stdin, one trailing "\n" or "\r\n" dropped. The chunks read are wiped. */
export async function readPiped(input: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const c of input) {
      const chunk = typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
      chunks.push(chunk);
      total += chunk.length;
      if (total > MAX_PASSPHRASE_BYTES + 2) throw usage(`口令过长（最多 ${MAX_PASSPHRASE_BYTES} 字节）`, `the passphrase is too long (at most ${MAX_PASSPHRASE_BYTES} bytes)`, 'passphrase');
    }
    const all = Buffer.concat(chunks);
    let end = all.length;
    if (end > 0 && all[end - 1] === 0x0a) end--;
    if (end > 0 && all[end - 1] === 0x0d && end < all.length) end--;
    const out = Buffer.from(all.subarray(0, end));
    wipe(all);
    return out;
  } finally {
    wipe(...chunks);
  }
}

/**
 * Lines typed on a terminal in raw mode, one per prompt, echoing nothing. Backspace/Delete remove
 * the last character (a whole UTF-8 sequence); Ctrl-C, Ctrl-D on an empty line and Esc cancel;
 * other control characters and terminal escape sequences (arrow keys) are ignored.
 */
export function readHiddenLines(io: OperatorIo, prompts: readonly string[]): Promise<Buffer[]> {
  const input = io.stdin;
  const lines: Buffer[] = [];
  const buf = Buffer.alloc(MAX_PASSPHRASE_BYTES);
  let len = 0;
  let escape = 0; // 0 none, 1 after ESC, 2 inside CSI
  return new Promise<Buffer[]>((resolve, reject) => {
    const done = (err?: SsCardError): void => {
      input.removeListener('data', onData);
      input.setRawMode?.(false);
      input.pause();
      wipe(buf);
      io.stderr.write('\n');
      if (err !== undefined) {
        wipe(...lines);
        reject(err);
      } else {
        resolve(lines);
      }
    };
    const onData = (c: Buffer | string): void => {
      const chunk = typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
      try {
        for (const byte of chunk) {
          if (escape === 1) {
            escape = byte === 0x5b ? 2 : 0; // ESC [ …: a CSI sequence (arrow keys); ESC alone cancels below
            if (escape === 0) return done(usage('已取消，未生成散列', 'cancelled: no hash was made', 'passphrase'));
            continue;
          }
          if (escape === 2) {
            if (byte >= 0x40 && byte <= 0x7e) escape = 0;
            continue;
          }
          if (byte === 0x03 || (byte === 0x04 && len === 0)) return done(usage('已取消，未生成散列', 'cancelled: no hash was made', 'passphrase'));
          if (byte === 0x1b) {
            escape = 1;
            continue;
          }
          if (byte === 0x0d || byte === 0x0a) {
            lines.push(Buffer.from(buf.subarray(0, len)));
            buf.fill(0, 0, len);
            len = 0;
            io.stderr.write('\n');
            if (lines.length === prompts.length) return done();
            io.stderr.write(prompts[lines.length]!);
            continue;
          }
          if (byte === 0x7f || byte === 0x08) {
            while (len > 0 && (buf[len - 1]! & 0xc0) === 0x80) buf[--len] = 0; // UTF-8 continuation bytes
            if (len > 0) buf[--len] = 0;
            continue;
          }
          if (byte < 0x20) continue;
          if (len >= buf.length) return done(usage(`口令过长（最多 ${MAX_PASSPHRASE_BYTES} 字节）`, `the passphrase is too long (at most ${MAX_PASSPHRASE_BYTES} bytes)`, 'passphrase'));
          buf[len++] = byte;
        }
      } finally {
        wipe(chunk);
      }
    };
    io.stderr.write(prompts[0]!);
    input.setRawMode?.(true);
    input.on('data', onData);
    input.resume();
  });
}

function checkPassphrase(p: Buffer): void {
  if (p.length === 0) throw usage('没有读到口令：请在提示后输入，或用管道传入', 'no passphrase was read: type it at the prompt or pipe it in', 'passphrase');
  if (p.length < MIN_PASSPHRASE_BYTES) throw usage(`口令太短：至少 ${MIN_PASSPHRASE_BYTES} 个字符`, `the passphrase is too short: at least ${MIN_PASSPHRASE_BYTES} characters`, 'passphrase');
  if (p.length > MAX_PASSPHRASE_BYTES) throw usage(`口令过长（最多 ${MAX_PASSPHRASE_BYTES} 字节）`, `the passphrase is too long (at most ${MAX_PASSPHRASE_BYTES} bytes)`, 'passphrase');
}

export async function operatorHashCommand(opts: OperatorHashOptions, io: OperatorIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const cost = parseCost(opts.cost);
  const interactive = io.stdin.isTTY === true && typeof io.stdin.setRawMode === 'function';
  let passphrase: Buffer | undefined;
  try {
    if (interactive) {
      const [first, second] = await readHiddenLines(io, ['操作员口令 / operator passphrase: ', '再输入一次 / again: ']);
      try {
        if (!first!.equals(second!)) throw usage('两次输入的口令不一致，请重新运行', 'the two passphrases differ; run the command again', 'passphrase');
        passphrase = Buffer.from(first!);
      } finally {
        wipe(first, second);
      }
    } else {
      passphrase = await readPiped(io.stdin);
    }
    checkPassphrase(passphrase);
    const hash = hashPassphrase(passphrase, { N: 2 ** cost });
    io.stdout.write(opts.json ? `${JSON.stringify({ hash }, null, 2)}\n` : `${hash}\n`);
    if (interactive && !opts.json) {
      io.stderr.write('把这一行填入配置 operators.accounts[].hash / put this line into the configuration as operators.accounts[].hash\n');
    }
    return 0;
  } finally {
    wipe(passphrase);
  }
}

export function register(program: Command): void {
  const operator = program.command('operator').description('操作员账户 / operator accounts of the daemon');
  operator
    .command('hash')
    .description('读取口令（终端上不回显，或从管道读入），输出写入配置的散列 / read a passphrase (no echo on a terminal, or from a pipe) and print the hash for the configuration')
    .option('--cost <n>', 'scrypt N = 2^n (14..20)', '15')
    .option('--json', 'JSON output')
    .action(action((opts: OperatorHashOptions) => operatorHashCommand(opts)));
}
