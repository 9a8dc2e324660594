/**
 * The simulator's control socket: the daemon's simulated card can be taken out, put back and
 * swapped like `sscard sim` does on its standard input, so that a demo, a UI test or a tester can
 * pull the card from a running `npm start`. It exists only while the daemon simulates (the
 * Simulator creates it; a daemon on real readers has none), as a Unix socket in the simulator's
 * state folder, mode 0600 in a 0700 folder: only the daemon's own user reaches it. It is not part
 * of the local API (docs/api.md), which never moves a card.
 *
 * Protocol: one request per line, one JSON answer per line.
 * - request: `remove`, `insert`, `swap <profile file>`, `status` (as typed into `sscard sim`),
 *   `idcard <ID card fixture file>` (lay that resident ID card on the simulated ID reader, e.g. a
 *   namesake's for a counter test) or `idcard none` (take it away), or the same as JSON:
 *   `{"command":"swap","file":"/abs/card-3.0.json"}`;
 * - answer: `{"ok":true,"command":"remove","zh":…,"en":…,"status":{card, psam}}`, or
 *   `{"ok":false,"command":…,"error":{"code":501,"zh":…,"en":…}}`.
 * `sscard sim-control` (scripts/cmd-sim-control.ts) is its client.
 */
import type { Logger } from '../../core/logger.js';
import { chmodSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import type { BilingualText } from '../../core/text.js';
import { ErrorCode, SsCardError, isSsCardError } from '../../core/errors.js';


/** The control socket's file name in the simulator's state folder. */
export const SIM_CONTROL_SOCKET = 'control.sock';

/** Longest request line accepted (a swap names a file path). */
const MAX_LINE = 4096;

export const SIM_CONTROL_COMMANDS = ['remove', 'insert', 'swap', 'status', 'idcard'] as const;
/** `idcard none`: take the ID card off the simulated ID reader. */
export const NO_ID_CARD = 'none';
export type SimControlCommand = (typeof SIM_CONTROL_COMMANDS)[number];

export interface SimControlRequest {
  readonly command: SimControlCommand;
  /** swap: the card profile to put in; idcard: the ID card fixture, or `none` (an absolute path; the client resolves it). */
  readonly file?: string;
}

/** What the simulator is doing, as a status answer shows it (no holder data). */
export interface SimStatus {
  readonly card: { readonly inserted: boolean; readonly label: string; readonly profile: string };
  readonly psam: { readonly inserted: boolean };
  /** The ID card on the simulated ID reader: its fixture's file name, or null (none, or no ID reader). */
  readonly idCard?: { readonly fixture: string | null };
}

export type SimControlAnswer =
  | ({ readonly ok: true; readonly command: SimControlCommand; readonly status: SimStatus } & BilingualText)
  | { readonly ok: false; readonly command: string | null; readonly error: { readonly code: number } & BilingualText };

/** What the control socket drives: daemon/terminal/simulator.ts. */
export interface SimControlTarget {
  removeCard(): Promise<void>;
  insertCard(): Promise<void>;
  swapCard(file: string): Promise<void>;
  /** Lay the ID card of this fixture file on the simulated ID reader; null takes it away. */
  placeIdCard(file: string | null): Promise<void>;
  simStatus(): SimStatus;
}

const bad = (zh: string, en: string): SsCardError => new SsCardError(ErrorCode.Input_BadOption, { zh, en }, { option: 'command' });

/** A request line: a word command (as `sscard sim` takes) or its JSON form. Throws Input_BadOption. */
export function parseSimControlRequest(line: string): SimControlRequest {
  const text = line.trim();
  let command: unknown;
  let file: unknown;
  if (text.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw bad('控制命令不是有效的 JSON', 'the control command is not valid JSON');
    }
    // A text starting with "{" that parses is an object.
    const extra = Object.keys(json as object).filter((k) => k !== 'command' && k !== 'file');
    if (extra.length > 0) throw bad(`控制命令含有未知字段（${extra.length} 个）`, `the control command has ${extra.length} unknown field(s)`);
    ({ command, file } = json as { command?: unknown; file?: unknown });
  } else {
    const [word, ...rest] = text.split(/\s+/);
    command = word;
    file = rest.length > 0 ? rest.join(' ') : undefined;
  }
  if (typeof command !== 'string' || !(SIM_CONTROL_COMMANDS as readonly string[]).includes(command)) {
    throw bad('未知的控制命令：可用 remove、insert、swap 文件、status、idcard 文件|none', 'unknown control command: use remove, insert, swap FILE, status or idcard FILE|none');
  }
  if (command === 'swap') {
    if (typeof file !== 'string' || file.length === 0) throw bad('swap 需要卡片配置文件路径', 'swap needs a card profile path');
    return { command, file };
  }
  if (command === 'idcard') {
    if (typeof file !== 'string' || file.length === 0) throw bad('idcard 需要身份证配置文件路径（或 none）', 'idcard needs an ID card fixture path (or none)');
    return { command, file };
  }
  if (file !== undefined) throw bad(`${command} 不带参数`, `${command} takes no argument`);
  return { command: command as SimControlCommand };
}

const DONE: Record<SimControlCommand, BilingualText> = {
  remove: { zh: '卡片已取出', en: 'card removed' },
  insert: { zh: '卡片已插入', en: 'card inserted' },
  swap: { zh: '已换卡', en: 'card swapped' },
  status: { zh: '模拟器状态', en: 'simulator status' },
  idcard: { zh: '身份证已放置', en: 'ID card placed' },
};
const ID_CARD_TAKEN: BilingualText = { zh: '身份证已取走', en: 'ID card taken away' };

export class SimControlServer {
  private readonly sockets = new Set<net.Socket>();
  /** Card moves run one after the other, in the order they came. */
  private work: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly server: net.Server,
    /** The socket's path. */
    public readonly path: string,
    private readonly target: SimControlTarget,
    private readonly log: Logger,
  ) {}

  /**
   * Listen on `socketPath` (a stale socket file left by a crash is replaced; anything else there
   * is an error). The socket is made 0600 before the first connection is taken.
   */
  public static async listen(target: SimControlTarget, socketPath: string, log: Logger): Promise<SimControlServer> {
    if (existsSync(socketPath)) {
      if (!lstatSync(socketPath).isSocket()) {
        throw new SsCardError(ErrorCode.Sim_Bridge, { zh: `模拟器控制接口的位置已有其他文件：${socketPath}`, en: `another file is in the simulator control socket's place: ${socketPath}` }, { path: socketPath });
      }
      if (await answers(socketPath)) {
        throw new SsCardError(
          ErrorCode.Sim_Bridge,
          { zh: `另一个模拟中的守护进程正在使用 ${socketPath}：请先停止它`, en: `another simulating daemon is using ${socketPath}: stop it first` },
          { path: socketPath },
        );
      }
      unlinkSync(socketPath);
    }
    const server = net.createServer({ pauseOnConnect: true });
    const control = new SimControlServer(server, socketPath, target, log);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // A Unix socket is bound inside listen(): under umask 177 it is born 0600, so no other user
      // can connect even before the chmod below (which covers a umask refused, e.g. in a worker).
      const umask = setUmask(0o177);
      try {
        server.listen(socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        if (umask !== undefined) setUmask(umask);
      }
    });
    chmodSync(socketPath, 0o600);
    server.on('connection', (s) => control.serve(s));
    server.on('error', (e) => log.error('simulator control socket failed', { message: e.message }));
    return control;
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setEncoding('utf8');
    let buffered = '';
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim().length > 0) void this.answer(socket, line);
      }
      if (buffered.length > MAX_LINE) {
        socket.end(`${JSON.stringify(failure(null, bad(`控制命令过长（超过 ${MAX_LINE} 字节）`, `control command too long (over ${MAX_LINE} bytes)`)))}\n`);
        buffered = '';
      }
    });
    socket.resume();
  }

  private answer(socket: net.Socket, line: string): Promise<void> {
    const run = this.work.then(async (): Promise<SimControlAnswer> => {
      let request: SimControlRequest;
      try {
        request = parseSimControlRequest(line);
      } catch (e) {
        return failure(null, e);
      }
      try {
        if (request.command === 'remove') await this.target.removeCard();
        else if (request.command === 'insert') await this.target.insertCard();
        else if (request.command === 'swap') await this.target.swapCard(request.file!);
        else if (request.command === 'idcard') await this.target.placeIdCard(request.file === NO_ID_CARD ? null : request.file!);
        this.log.info(`simulator control: ${request.command}`, request.command === 'status' ? {} : { status: this.target.simStatus().card });
        const done = request.command === 'idcard' && request.file === NO_ID_CARD ? ID_CARD_TAKEN : DONE[request.command];
        return { ok: true, command: request.command, ...done, status: this.target.simStatus() };
      } catch (e) {
        this.log.warn(`simulator control: ${request.command} failed`, { message: isSsCardError(e) ? e.text.en : e instanceof Error ? e.message : String(e) });
        return failure(request.command, e);
      }
    });
    this.work = run.catch(() => undefined);
    return run.then((a) => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(a)}\n`);
    });
  }

  /** Stop listening, drop the clients and remove the socket file. */
  public async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}

function failure(command: string | null, e: unknown): SimControlAnswer {
  if (isSsCardError(e)) return { ok: false, command, error: { code: e.code, zh: e.text.zh, en: e.text.en } };
  const detail = e instanceof Error ? e.message : String(e);
  return { ok: false, command, error: { code: ErrorCode.Sim_Bridge, zh: `模拟器操作失败：${detail}`, en: `the simulator failed: ${detail}` } };
}

/** process.umask(mask), returning the previous mask; undefined where a thread may not change it. */
function setUmask(mask: number): number | undefined {
  try {
    return process.umask(mask);
  } catch {
    return undefined;
  }
}

/** Does something listen on this socket (a running daemon), or is the file stale? */
function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
