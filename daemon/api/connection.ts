/**
 * One WebSocket client of the local API: reads its frames, validates them, runs its commands and
 * answers in the XFS4IoT envelope (protocol.ts). Every frame gets an answer — a malformed one an
 * `acknowledge` with the problem, a command an `acknowledge`, its events and one `completion` —
 * and no frame can throw out of here: every handler runs inside a wrapper that turns an
 * unexpected exception into `internalError` with the stack logged, never sent.
 *
 * Logs name commands and request ids, never payloads: a payload may hold a passphrase, a token,
 * a touch key or an APDU.
 */
import type { RawData, WebSocket } from 'ws';
export { MAX_RUNNING_PER_CLIENT } from './protocol.js';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import type { BilingualText } from '../../core/text.js';
import { capability } from '../../state/roles.js';
import type { CommandDef, ConnectionControl, RunContext } from './commands.js';
import { PUBLISHER_TABLE, SERVICE_TABLE } from './commands.js';
import type { ApiContext } from './context.js';
import { duplicateKeyText, findDuplicateKey } from './json-keys.js';
import { COMMAND_NAME, MAX_RUNNING_PER_CLIENT, acknowledge, commandMessage, completion, errorCodeName, event, isAbortLike, issuePaths, issuesText, outcomeOfError, payloadParts } from './protocol.js';
import type { AckStatus, CommandHeader, OutMessage, Outcome, PayloadParts } from './protocol.js';

/** Default of `maxSendBufferBytes`: a client that does not read its answers is dropped when this much is queued for it. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Socket errors that only mean the client went away: logged at debug, without a stack. */
const GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT']);

export type Endpoint = 'service' | 'publisher';
type StopReason = 'cancel' | 'timeout' | 'disconnect';

interface Running {
  readonly requestId: number;
  readonly name: string;
  readonly timeoutMs: number;
  readonly controller: AbortController;
  stop: StopReason | null;
  timer: NodeJS.Timeout | null;
  graceTimer: NodeJS.Timeout | null;
  giveUp: () => void;
  done: boolean;
}

const TEXT = {
  binary: { zh: '不接受二进制帧：请以文本帧发送 JSON 消息', en: 'binary frames are not accepted: send the JSON message as a text frame' },
  json: { zh: '消息不是有效的 JSON：请发送 XFS4IoT 格式的 JSON 消息', en: 'the message is not valid JSON: send an XFS4IoT JSON message' },
  object: { zh: '消息必须是 JSON 对象 {"header":{…},"payload":{…}}', en: 'the message must be a JSON object {"header":{…},"payload":{…}}' },
  duplicate: (id: number): BilingualText => ({ zh: `请求号 ${id} 的命令还在执行：请换一个请求号`, en: `a command with requestId ${id} is still running: use another requestId` }),
  tooMany: { zh: `同时执行的命令太多（最多 ${MAX_RUNNING_PER_CLIENT} 个）：请等前面的命令完成`, en: `too many commands running at once (at most ${MAX_RUNNING_PER_CLIENT}): wait for earlier ones to complete` },
  unsupported: (name: string, publisher: boolean): BilingualText =>
    publisher
      ? { zh: `服务发布端点只支持 ServicePublisher.GetServices、Common.Status 和 Common.Capabilities，不支持 ${name}：请连接 GetServices 返回的服务地址`, en: `the publisher endpoint serves ServicePublisher.GetServices, Common.Status and Common.Capabilities only, not ${name}: connect to the service URI GetServices returns` }
      : { zh: `不支持命令 ${name}：可用的命令见 Common.Capabilities`, en: `command ${name} is not supported: see Common.Capabilities for the commands there are` },
  busy: { zh: '另一项卡操作正在进行，一次只能进行一项：请等它完成后再试', en: 'another card operation is running and only one can run at a time: try again when it has completed' },
  authRequired: { zh: '此命令需要经办人员登录：请先 Operator.Login，或在 payload 中带上有效的 token', en: 'this command needs an operator: log in with Operator.Login first, or give a valid token in the payload' },
  canceled: { zh: '命令已取消', en: 'the command was cancelled' },
  timeout: (ms: number): BilingualText => ({ zh: `命令超时（${ms} 毫秒），已取消`, en: `the command timed out after ${ms} ms and was cancelled` }),
  otherReader: (reader: string): BilingualText => ({
    zh: `此端点只服务读卡器“${reader}”：payload.reader 请省略或写这个读卡器；其他读卡器请连接它自己的端点或共用的服务端点`,
    en: `this endpoint serves the reader "${reader}" only: leave payload.reader out or name that reader; for another reader connect to its own endpoint or the shared service endpoint`,
  }),
  notConfirmed: { zh: '（终端尚未确认已停止；在它停止之前，新的卡操作会被拒绝）', en: ' (the terminal has not confirmed it stopped; new card operations are refused until it does)' },
} as const;

/** Raw chip access: what a configured chip client may run without an operator (docs/config.md `api.chipClients`). */
const RAW_CHIP: ReadonlySet<string> = new Set(['CardReader.ChipIO', 'CardReader.ChipPower', 'CardReader.Reset']);

const STOP_LIKE = new Set<ErrorCode>([ErrorCode.PinPad_Cancelled, ErrorCode.PinPad_Timeout, ErrorCode.Flow_Timeout, ErrorCode.Flow_PinNotEntered, ErrorCode.IdCard_Cancelled]);

let nextConnectionId = 1;

/** The payload fields a command defines (its schema's shape), so that none of them is taken for the envelope's. */
function knownFields(d: CommandDef | undefined): ReadonlySet<string> {
  const shape = (d?.payload as { shape?: Record<string, unknown> } | undefined)?.shape;
  return new Set(shape === undefined ? [] : Object.keys(shape));
}

export class Connection implements ConnectionControl {
  public readonly id: string;
  private readonly running = new Map<number, Running>();
  private token: string | null = null;
  private closed = false;

  public constructor(
    private readonly ws: WebSocket,
    private readonly api: ApiContext,
    public readonly endpoint: Endpoint,
    private readonly remote: string,
    /** Who the client is (access.ts: `client:<name>`, `origin:<origin>`, `loopback`…). */
    public readonly identity: string,
    /** The stored hash of its client token, when it came with one (a revocation closes it). */
    public readonly clientHash: string | null = null,
    /**
     * The card reader of a reader's service endpoint (gate.ts), null on the shared one: its
     * commands run on that reader, and it gets that reader's events only (fan-out.ts).
     */
    public readonly reader: string | null = null,
  ) {
    this.id = `c${nextConnectionId++}`;
    ws.on('message', (data, isBinary) => this.safely(() => this.onFrame(data, isBinary)));
    ws.on('close', (code) => this.onClose(code));
    ws.on('error', (e: Error & { code?: string }) => {
      // ws reports an oversized frame here (it then closes with 1009), and protocol errors (1002).
      const tooBig = e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
      const gone = e.code !== undefined && GONE.has(e.code);
      this.api.throttle.log(
        this.identity,
        gone ? 'debug' : 'warn',
        tooBig ? 'API client sent a frame larger than maxFrameBytes; closed with 1009' : gone ? 'API client went away' : 'API client connection error',
        { client: this.id, identity: this.identity, remote: this.remote, code: e.code ?? null, ...(tooBig ? { maxFrameBytes: this.api.maxFrameBytes } : {}) },
        e.code ?? 'error',
        'connection errors',
      );
    });
  }

  // ---- ConnectionControl ----

  public get operatorToken(): string | null {
    return this.token;
  }

  public bindOperator(token: string | null): void {
    this.token = token;
  }

  public cancel(ids: readonly number[] | undefined, self: number): { canceled: number[]; notRunning: number[] } {
    const canceled: number[] = [];
    const notRunning: number[] = [];
    const targets = ids ?? [...this.running.keys()].filter((id) => id !== self);
    for (const id of targets) {
      const r = this.running.get(id);
      if (r === undefined || id === self || r.done) notRunning.push(id);
      else {
        this.stop(r, 'cancel');
        canceled.push(id);
      }
    }
    return { canceled, notRunning };
  }

  // ---- life ----

  public send(msg: OutMessage): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    const text = JSON.stringify(msg);
    // Answers queue in memory while the client does not read them: past the cap it is dropped
    // (its commands are aborted by the close) rather than let it grow the daemon without bound.
    if (this.ws.bufferedAmount + Buffer.byteLength(text) > this.api.maxSendBufferBytes) {
      this.api.throttle.log(
        this.identity,
        'warn',
        'API client does not read its messages; dropping it',
        { client: this.id, identity: this.identity, buffered: this.ws.bufferedAmount, maxSendBufferBytes: this.api.maxSendBufferBytes },
        'send buffer full',
        'dropped non-reading connections',
      );
      this.ws.terminate();
      return;
    }
    try {
      this.ws.send(text);
    } catch (e) {
      this.api.logger.warn('API could not send to a client', { client: this.id, error: e instanceof Error ? e.message : String(e) });
    }
  }

  /** Server shutdown: stop everything and say goodbye. */
  public shutdown(): void {
    for (const r of this.running.values()) this.stop(r, 'disconnect');
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(1001, 'server closing');
  }

  /** Its client credential was revoked: stop everything and close with 1008 (policy violation, RFC 6455 §7.4.1). */
  public revoke(): void {
    for (const r of this.running.values()) this.stop(r, 'disconnect');
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(1008, 'client credential revoked');
  }

  /** Call `f` once the socket has closed (at once if it has). */
  public onceClosed(f: () => void): void {
    if (this.ws.readyState === this.ws.CLOSED) f();
    else this.ws.once('close', () => f());
  }

  public terminate(): void {
    this.ws.terminate();
  }

  public runningCount(): number {
    return this.running.size;
  }

  private onClose(code: number): void {
    if (this.closed) return;
    this.closed = true;
    const n = this.running.size;
    for (const r of this.running.values()) this.stop(r, 'disconnect');
    this.api.throttle.log(this.identity, 'info', 'API client disconnected', { client: this.id, identity: this.identity, code, aborted: n }, 'disconnected', 'connection lines');
  }

  private safely(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.api.logger.error('API frame handler failed', { client: this.id, error: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
    }
  }

  // ---- frames ----

  private reject(name: string | null, requestId: number | null, status: Exclude<AckStatus, null>, problem: BilingualText, why: string, fields?: string[]): void {
    // At most a few lines per client and 10 s, then one summary when the window ends (a flood must
    // not rotate the log away). Counted per client identity, not per connection, and not summed up
    // at a close: a client that reconnects after every few bad frames gets no fresh budget. Its
    // connection lines (connected, dropped, gone) have a budget of their own, so a flood of bad
    // frames cannot hide that the client was dropped.
    this.api.throttle.log(`${this.identity}/messages`, 'warn', 'API message refused', { client: this.id, identity: this.identity, status, why, name, requestId, ...(fields === undefined ? {} : { fields }) }, why);
    this.send(acknowledge(name, requestId, status, problem));
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    if (isBinary) return this.reject(null, null, 'invalidMessage', TEXT.binary, 'binary frame');
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.reject(null, null, 'invalidMessage', TEXT.json, 'not JSON');
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return this.reject(null, null, 'invalidMessage', TEXT.object, 'not an object');
    const dup = findDuplicateKey(text);
    if (dup !== null) return this.reject(null, null, 'invalidMessage', duplicateKeyText(dup), 'duplicate key');
    const parsed = commandMessage.safeParse(json, { reportInput: true });
    if (!parsed.success) {
      const h = (json as { header?: unknown }).header;
      const hdr = typeof h === 'object' && h !== null ? (h as Record<string, unknown>) : {};
      const rid = hdr['requestId'];
      const requestId = typeof rid === 'number' && Number.isSafeInteger(rid) && rid > 0 ? rid : null;
      const nm = hdr['name'];
      const name = typeof nm === 'string' && COMMAND_NAME.test(nm) ? nm : null;
      return this.reject(name, requestId, 'invalidMessage', issuesText(parsed.error, ''), 'bad envelope', issuePaths(parsed.error));
    }
    const { header } = parsed.data;
    const existing = this.running.get(header.requestId);
    if (existing !== undefined) return this.reject(header.name, header.requestId, 'invalidRequestID', TEXT.duplicate(header.requestId), 'duplicate requestId');
    if (this.running.size >= MAX_RUNNING_PER_CLIENT) return this.reject(header.name, header.requestId, 'tooManyRequests', TEXT.tooMany, 'too many running');
    this.send(acknowledge(header.name, header.requestId, null, undefined, header.version));
    const table = this.endpoint === 'publisher' ? PUBLISHER_TABLE : SERVICE_TABLE;
    const d = table.get(header.name);
    const known = knownFields(d);
    const parts = payloadParts(parsed.data.payload ?? {}, known);
    this.start(d, header, this.reader === null || !known.has('reader') ? parts : this.onReader(parts, this.reader));
  }

  /** On a reader's endpoint, a command that takes `reader` runs on that reader: named by default, another one refused. */
  private onReader(parts: PayloadParts, reader: string): PayloadParts {
    const p = parts.payload;
    if (parts.problem !== undefined || typeof p !== 'object' || p === null || Array.isArray(p)) return parts;
    const named = (p as Record<string, unknown>)['reader'];
    if (named === undefined) return { ...parts, payload: { ...p, reader } };
    return named === reader ? parts : { ...parts, problem: TEXT.otherReader(reader) };
  }

  private start(d: CommandDef | undefined, header: CommandHeader, parts: PayloadParts): void {
    // The header's timeout (XFS4IoT 2023 on), else the payload's (2021-1).
    const timeoutMs = header.timeout ?? parts.timeout ?? 0;
    const payload = parts.payload;
    let giveUp!: () => void;
    const gaveUp = new Promise<'gaveUp'>((resolve) => (giveUp = () => resolve('gaveUp')));
    const run: Running = { requestId: header.requestId, name: header.name, timeoutMs, controller: new AbortController(), stop: null, timer: null, graceTimer: null, giveUp, done: false };
    this.running.set(run.requestId, run);
    if (timeoutMs > 0) run.timer = setTimeout(() => this.stop(run, 'timeout'), timeoutMs);
    const meta = { client: this.id, name: run.name, requestId: run.requestId };
    this.api.logger.debug('API command', meta);
    const privileged = { value: false, operatorId: '' };
    void (parts.problem === undefined ? this.execute(d, run, payload, privileged, gaveUp) : Promise.resolve<Outcome>({ code: 'invalidData', description: parts.problem, errorCode: 'invalidData' }))
      .catch((e: unknown): Outcome => {
        this.api.logger.error('API command wrapper failed', { ...meta, error: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
        return outcomeOfError(e);
      })
      .then((o) => {
        run.done = true;
        if (run.timer !== null) clearTimeout(run.timer);
        if (run.graceTimer !== null) clearTimeout(run.graceTimer);
        this.running.delete(run.requestId);
        const outcome: Outcome = { code: o.code, ...(o.payload === undefined ? {} : { payload: o.payload }), ...(o.description === undefined ? {} : { description: o.description }), ...(o.errorCode === undefined ? {} : { errorCode: o.errorCode }) };
        this.api.logger.debug('API completion', { ...meta, completionCode: outcome.code, errorCode: outcome.errorCode ?? null });
        if (privileged.value) {
          this.api.journal({ operatorId: privileged.operatorId, command: run.name, requestId: run.requestId, outcome: outcome.errorCode === undefined ? outcome.code : `${outcome.code}:${outcome.errorCode}` });
        }
        this.send(completion(run.name, run.requestId, outcome));
      });
  }

  private stop(run: Running, reason: StopReason): void {
    if (run.done || run.controller.signal.aborted) return;
    run.stop = reason;
    if (run.timer !== null) clearTimeout(run.timer);
    run.controller.abort(reason === 'timeout' ? new DOMException('the command timed out', 'TimeoutError') : new DOMException('the command was cancelled', 'AbortError'));
    run.graceTimer = setTimeout(() => run.giveUp(), this.api.abortGraceMs);
  }

  private stopped(run: Running): Outcome | null {
    if (run.stop === null) return null;
    return run.stop === 'timeout' ? { code: 'timeOut', description: TEXT.timeout(run.timeoutMs) } : { code: 'canceled', description: TEXT.canceled };
  }

  private async execute(d: CommandDef | undefined, run: Running, payload: unknown, privileged: { value: boolean; operatorId: string }, gaveUp: Promise<'gaveUp'>): Promise<Outcome> {
    if (d === undefined) return { code: 'unsupportedCommand', description: TEXT.unsupported(run.name, this.endpoint === 'publisher') };
    if (d.privilege === 'always') privileged.value = true;
    const p = d.payload.safeParse(payload, { reportInput: true });
    if (!p.success) {
      this.api.throttle.log(`${this.identity}/messages`, 'warn', 'API command payload refused', { client: this.id, identity: this.identity, name: run.name, requestId: run.requestId, fields: issuePaths(p.error) }, 'payload refused');
      return { code: 'invalidData', description: issuesText(p.error, 'payload'), errorCode: 'invalidData' };
    }
    const data = p.data;

    if (d.service !== undefined) {
      const caps = this.api.terminal.capabilities();
      const may = capability(caps.role, d.service, caps.services);
      if (may.privileged) privileged.value = true;
      // The role decides before the terminal is touched: a kiosk refuses unblock even with a valid operator.
      if (!may.allowed) return { code: 'commandErrorCode', description: may.reason, errorCode: 'serviceNotOffered' };
    }

    // The operator: a token in the payload, else the connection's login.
    const given = typeof data['token'] === 'string' ? data['token'] : undefined;
    const token = given ?? this.token ?? undefined;
    let operatorId: string | undefined;
    if (token !== undefined) {
      try {
        operatorId = this.api.auth.check(token);
      } catch (e) {
        // A session that expired stays bound, so the connection keeps hearing auth.sessionExpired
        // (log in again) rather than auth.required; an unknown token is dropped.
        if (given === undefined && token === this.token && !(isSsCardError(e) && e.code === ErrorCode.Auth_SessionExpired)) this.token = null;
        if (privileged.value || given !== undefined) {
          if (isSsCardError(e)) return { code: 'authorisationRequired', description: e.text, errorCode: errorCodeName(e.code) };
          throw e;
        }
      }
    }
    if (privileged.value && operatorId === undefined) {
      // Raw chip access for a credentialed client the configuration names (an XFS4IoT client cannot
      // log in as an operator); journaled under that client. PIN-bearing APDUs stay refused by the terminal.
      if (RAW_CHIP.has(d.name) && this.api.chipClients?.has(this.identity) === true) privileged.operatorId = this.identity;
      else return { code: 'authorisationRequired', description: TEXT.authRequired, errorCode: 'auth.required' };
    }
    if (operatorId !== undefined) privileged.operatorId = operatorId;

    let release: (() => void) | null = null;
    if (d.cardOp) {
      const key = d.name === 'Keyboard.PinEntry' ? 'pinpad' : typeof data['reader'] === 'string' ? data['reader'] : '';
      release = this.api.sequencer.acquire(
        {
          owner: `${this.id}#${run.requestId}`,
          service: d.service !== undefined,
          abort: () => this.stop(run, 'cancel'),
          event: (name, payload) => {
            if (!run.done) this.send(event(name, run.requestId, payload));
          },
        },
        key,
      );
      if (release === null) return { code: 'sequenceError', description: TEXT.busy, errorCode: 'api.sequenceError' };
    }

    const ctx: RunContext = {
      api: this.api,
      signal: run.controller.signal,
      requestId: run.requestId,
      timeoutMs: run.timeoutMs,
      operatorId,
      conn: this,
      event: (name, payload) => {
        if (!run.done) this.send(event(name, run.requestId, payload));
      },
      stopped: () => this.stopped(run),
    };

    const work = (async (): Promise<Outcome> => {
      try {
        return await d.run(ctx, data);
      } catch (e) {
        return this.errorOutcome(e, run);
      }
    })();
    const settled = work.finally(() => release?.());
    const first = await Promise.race([settled, gaveUp]);
    if (first !== 'gaveUp') return first;
    this.api.logger.warn('API command did not stop within the grace period; completing it anyway', { client: this.id, name: run.name, requestId: run.requestId, graceMs: this.api.abortGraceMs });
    void settled.then((late) => this.api.logger.info('API command stopped late', { client: this.id, name: run.name, requestId: run.requestId, completionCode: late.code }));
    const s = this.stopped(run)!;
    return { ...s, description: { zh: s.description!.zh + TEXT.notConfirmed.zh, en: s.description!.en + TEXT.notConfirmed.en } };
  }

  private errorOutcome(e: unknown, run: Running): Outcome {
    const stop = this.stopped(run);
    if (stop !== null && (isAbortLike(e) || (isSsCardError(e) && STOP_LIKE.has(e.code)))) return stop;
    const o = outcomeOfError(e);
    const meta = { client: this.id, name: run.name, requestId: run.requestId };
    if (o.internal) this.api.logger.error('API command failed unexpectedly', { ...meta, error: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
    else this.api.logger.debug('API command refused by the terminal', { ...meta, errorCode: o.errorCode ?? null });
    return { code: o.code, ...(o.description === undefined ? {} : { description: o.description }), ...(o.errorCode === undefined ? {} : { errorCode: o.errorCode }) };
  }
}
