/**
 * `sscard client add NAME | list | revoke NAME [--config FILE] [--json]`: the client credentials
 * of the daemon's API (docs/security.md "Native clients").
 *
 * - `add` makes a token, prints it once on stdout (one line, so `TOKEN=$(sscard client add x)`
 *   works) and stores only its SHA-256 in the clients file the configuration names
 *   (`api.clientsFile`, default var/api-clients.json next to the configuration). A running daemon
 *   rereads the file within a second; no restart.
 * - `list` shows names, when they were made and revoked — never a hash.
 * - `revoke` marks the client revoked: its token is refused at once and its open connections are
 *   closed by the daemon. The entry stays, so the list says what happened.
 *
 * The file is changed under a lock file and replaced atomically (daemon/auth/clients.ts), so two
 * commands at once do not lose an entry and the daemon never reads half a file.
 */
import { closeSync, mkdirSync, openSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ErrorCode, SsCardError } from '../core/errors.js';
import { CLIENT_NAME, clientInfo, clientTokenHash, newClientToken, readClientsFile, writeClientsFile } from '../daemon/auth/clients.js';
import type { ClientEntry, ClientInfo } from '../daemon/auth/clients.js';
import { loadConfig } from '../daemon/config/load.js';
import { action } from './cli-util.js';

export interface ClientOptions {
  config?: string;
  json?: boolean;
}

export interface ClientIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly now?: () => Date;
}

const processIo: ClientIo = { stdout: process.stdout, stderr: process.stderr };

function usage(zh: string, en: string, argument: string): SsCardError {
  return new SsCardError(ErrorCode.Input_BadOption, { zh, en }, { argument });
}

/** The clients file of the configuration (--config, else $SSCARD_CONFIG, else the defaults in the current folder). */
export function clientsFileOf(opts: ClientOptions, io: ClientIo = processIo): string {
  return loadConfig({ ...(opts.config === undefined ? {} : { path: opts.config }), ...(io.env === undefined ? {} : { env: io.env }), ...(io.cwd === undefined ? {} : { cwd: io.cwd }) }).api.clientsFile;
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !CLIENT_NAME.test(name)) {
    throw usage('客户端名称须为 1 到 32 个字母、数字、点、_ 或 -', 'the client name must be 1 to 32 letters, digits, dots, _ or -', 'name');
  }
  return name;
}

/** Run `f` holding `<file>.lock` (created exclusively; a lock older than 30 s is stale). */
async function locked<T>(file: string, f: () => T): Promise<T> {
  const lock = `${file}.lock`;
  const end = Date.now() + 5000;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        // the folder does not exist yet (first client): make it for the lock
        mkdirSync(path.dirname(file), { recursive: true });
        continue;
      }
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 30_000) rmSync(lock, { force: true });
      } catch {
        // gone meanwhile
      }
      if (Date.now() > end) throw new SsCardError(ErrorCode.Config_Invalid, { zh: `客户端文件 ${file} 被另一个命令锁定：请稍后重试`, en: `the clients file ${file} is locked by another command: try again shortly` }, { file });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return f();
  } finally {
    rmSync(lock, { force: true });
  }
}

export async function clientAdd(nameArg: string, opts: ClientOptions, io: ClientIo = processIo): Promise<number> {
  const name = checkName(nameArg);
  const file = clientsFileOf(opts, io);
  const token = newClientToken();
  await locked(file, () => {
    const entries = readClientsFile(file);
    if (entries.some((e) => e.name === name && e.revoked === undefined)) {
      throw usage(`已有名为 ${name} 的有效客户端：请换一个名称，或先 sscard client revoke ${name}`, `there is already a valid client named ${name}: choose another name, or sscard client revoke ${name} first`, 'name');
    }
    const entry: ClientEntry = { name, hash: clientTokenHash(token), created: (io.now?.() ?? new Date()).toISOString() };
    writeClientsFile(file, [...entries, entry]);
  });
  if (opts.json) {
    io.stdout.write(`${JSON.stringify({ name, token, clientsFile: file }, null, 2)}\n`);
  } else {
    io.stdout.write(`${token}\n`);
    io.stderr.write(
      `客户端 ${name} 的令牌如上，只显示这一次（${file} 中只保存其散列）；客户端以 Authorization: Bearer <令牌> 发送。\n` +
        `the token of client ${name} is above and is shown this once (${file} keeps only its hash); the client sends it as Authorization: Bearer <token>.\n`,
    );
  }
  return 0;
}

export function clientList(opts: ClientOptions, io: ClientIo = processIo): number {
  const file = clientsFileOf(opts, io);
  const list: ClientInfo[] = readClientsFile(file).map(clientInfo);
  if (opts.json) {
    io.stdout.write(`${JSON.stringify({ clientsFile: file, clients: list }, null, 2)}\n`);
    return 0;
  }
  if (list.length === 0) {
    io.stdout.write(`没有客户端凭据（${file}）/ no client credentials (${file})\n`);
    return 0;
  }
  const width = Math.max(4, ...list.map((c) => c.name.length));
  io.stdout.write(`${'name'.padEnd(width)}  created                   revoked\n`);
  for (const c of list) io.stdout.write(`${c.name.padEnd(width)}  ${c.created.padEnd(24)}  ${c.revoked ?? '-'}\n`);
  return 0;
}

export async function clientRevoke(nameArg: string, opts: ClientOptions, io: ClientIo = processIo): Promise<number> {
  const name = checkName(nameArg);
  const file = clientsFileOf(opts, io);
  const when = (io.now?.() ?? new Date()).toISOString();
  await locked(file, () => {
    const entries = readClientsFile(file);
    let count = 0;
    const next = entries.map((e) => {
      if (e.name !== name || e.revoked !== undefined) return e;
      count++;
      return { ...e, revoked: when };
    });
    if (count === 0) throw usage(`没有名为 ${name} 的有效客户端（sscard client list 列出全部）`, `there is no valid client named ${name} (sscard client list shows them all)`, 'name');
    writeClientsFile(file, next);
  });
  if (opts.json) io.stdout.write(`${JSON.stringify({ name, revoked: when, clientsFile: file }, null, 2)}\n`);
  else io.stdout.write(`已吊销客户端 ${name}；运行中的守护程序在一秒内拒绝其令牌并断开其连接 / client ${name} revoked; a running daemon refuses its token and closes its connections within a second\n`);
  return 0;
}

export function register(program: Command): void {
  const client = program.command('client').description('本地接口的客户端凭据 / client credentials of the local API (docs/security.md)');
  client
    .command('add <name>')
    .description('生成客户端令牌（只显示一次，只保存散列）/ make a client token (shown once, only its hash is stored)')
    .option('--config <file>', 'the daemon configuration (default $SSCARD_CONFIG)')
    .option('--json', 'JSON output')
    .action(action((name: string, opts: ClientOptions) => clientAdd(name, opts)));
  client
    .command('list')
    .description('列出客户端（不显示散列）/ list the clients (never their hashes)')
    .option('--config <file>', 'the daemon configuration (default $SSCARD_CONFIG)')
    .option('--json', 'JSON output')
    .action(action((opts: ClientOptions) => Promise.resolve(clientList(opts))));
  client
    .command('revoke <name>')
    .description('吊销客户端令牌（立即生效）/ revoke a client token (takes effect at once)')
    .option('--config <file>', 'the daemon configuration (default $SSCARD_CONFIG)')
    .option('--json', 'JSON output')
    .action(action((name: string, opts: ClientOptions) => clientRevoke(name, opts)));
}
