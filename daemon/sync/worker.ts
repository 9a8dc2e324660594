/**
 * The sync worker: pushes finished journal rows to the provincial platform and pulls the
 * lost-card hotlist (挂失名单).
 *
 * - Batches of `batchSize` (default 200) read page by page from SQLite (a seq cursor over a partial
 *   index), so a backlog of 100k rows costs one page of memory.
 * - Each operation carries its UUIDv7 id; the platform deduplicates on it. A row is marked synced
 *   only when the platform's answer names its id (accepted or duplicate); ids the answer leaves out
 *   stay unsynced and go again in the next pass; ids it rejects are kept as `rejected`.
 * - After the operations, the bank-account activation requests of a financial window (seed 000,
 *   docs/service-items/000_1700379f35991b5f.txt lines 60–66) go the same way to `v1/bank-requests`
 *   (docs/sync-protocol.md "Push bank requests"): a request is marked `sent` only when the answer
 *   names its id; anything else leaves it `pending`, sent again in the next pass.
 * - Failures back off exponentially with jitter (backoff.ts) and never give up.
 * - {@link SyncWorker.status} is what the daemon's API and `sscard sync` show.
 */
import type { Logger } from '../../core/logger.js';
import { SILENT_LOGGER } from '../../core/logger.js';
import { randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { ErrorCode, SsCardError, isSsCardError } from '../../core/errors.js';
import type { Journal } from '../journal/journal.js';
import { backoffDelay, checkBackoff } from '../../core/backoff.js';
import type { BackoffOptions } from '../../core/backoff.js';
import { clockOffset, heartbeatOf } from './heartbeat.js';
import type { HeartbeatSource } from './heartbeat.js';
import { hotlistSignatureValid } from './hotlist-signature.js';
import { META_HOTLIST_CHECK, META_LAST_ERROR, META_LAST_HOTLIST, META_LAST_SUCCESS, readSyncStatus } from './status.js';
import type { HotlistCheck, SyncErrorInfo, SyncStatus } from './status.js';

import { JsonClient } from './http.js';
import type { TlsOptions } from './http.js';
import { bankRequestToWire, toWire } from './to-wire.js';
import { BANK_REQUESTS_PATH, HEARTBEAT_PATH, PROTOCOL_REVISION, PROTOCOL_VERSION, TERMINAL_HEADER, hotlistEtag, parseHeartbeatAnswer, parseHotlistResponse, parsePushResponse } from './wire.js';
import type { BankPushRequest, IdentityMode, PushRequest, WireBankRequest, WireOperation } from './wire.js';
export { readSyncStatus };
export type { HeartbeatSource, HotlistCheck, SyncErrorInfo, SyncStatus };

export interface SyncOptions {
  /** Base URL of the platform, e.g. https://platform.example/sscard/ (from config). */
  readonly endpoint: string;
  /**
   * Other nodes of the same platform, tried in turn when the current one does not answer or answers
   * 5xx (docs/sync-protocol.md "Several platform nodes"): batches are idempotent, so a batch whose
   * answer was lost on one node is taken as duplicates by the next.
   */
  readonly alternateEndpoints?: readonly string[];
  /** This terminal's id, sent in a header and in every batch. */
  readonly terminalId: string;
  /** Operations per request, 1..1000 (default 200). */
  readonly batchSize?: number;
  /** Deadline per request in ms (default 15 s). */
  readonly timeoutMs?: number;
  /** mTLS: client certificate and key, platform CA (PEM contents). */
  readonly tls?: TlsOptions;
  /** What identity goes upstream (default `full`: the platform books the service to the card). */
  readonly identity?: IdentityMode;
  readonly backoff?: BackoffOptions;
  /** Background loop: how often to look for new rows when idle (default 30 s; {@link SyncWorker.wake} cuts it short). */
  readonly intervalMs?: number;
  /** Background loop: how often to pull the hotlist (default 5 min). */
  readonly hotlistIntervalMs?: number;
  /**
   * The platform's hotlist key (Ed25519): a hotlist whose signature does not verify with it is
   * refused and the list in force kept. Without it lists are applied unchecked (status says so).
   */
  readonly hotlistPublicKey?: KeyObject;
  /**
   * What the terminal says of itself in its heartbeat (docs/sync-protocol.md "Heartbeat"), sent
   * after each pass of the background loop; absent: no heartbeat (the CLI's one-off syncs).
   */
  readonly heartbeat?: () => HeartbeatSource;
  readonly logger?: Logger;
  /** Jitter source (tests make it deterministic). */
  readonly random?: () => number;
  /** Called before each backoff wait (tests and the daemon's log observe the backoff). */
  readonly onRetry?: (info: { readonly failures: number; readonly delayMs: number; readonly error: SsCardError }) => void;
  readonly now?: () => number;
}



export interface SyncProgress {
  /** Rows acknowledged so far in this run. */
  readonly done: number;
  /** Backlog at the start of this run (grows if rows arrive meanwhile). */
  readonly total: number;
}

export interface SyncReport {
  readonly sent: number;
  readonly accepted: number;
  readonly duplicates: number;
  readonly rejected: readonly { readonly id: string; readonly code: string; readonly message: string }[];
  /** Rows sent but left out of the answers (they are retried). */
  readonly unacknowledged: number;
  readonly requests: number;
  readonly remaining: number;
  /** The bank-account activation requests of this run (docs/sync-protocol.md "Push bank requests"). */
  readonly bankRequests: BankPushReport;
}

export interface BankPushReport {
  readonly sent: number;
  /** Acknowledged (stored now or held already): marked `sent`. */
  readonly acknowledged: number;
  /** Refused by the platform: they stay `pending` on the terminal (not offered again by this worker). */
  readonly rejected: readonly { readonly id: string; readonly code: string; readonly message: string }[];
  readonly requests: number;
  /** Still pending after the run. */
  readonly remaining: number;
  /** False: the platform does not take bank requests (an earlier revision of protocol 1: HTTP 404); they wait. */
  readonly supported: boolean;
}

export interface HotlistReport {
  readonly version: string;
  readonly full: boolean;
  readonly added: number;
  readonly removed: number;
}


function toSsCardError(err: unknown): SsCardError {
  if (isSsCardError(err)) return err;
  return new SsCardError(ErrorCode.Internal, { zh: '同步时发生内部错误', en: `internal error while syncing: ${err instanceof Error ? err.message : String(err)}` }, {}, { cause: err });
}

export class SyncWorker {
  private readonly journal: Journal;
  /** One client per endpoint: the configured one first, then the alternates (docs/sync-protocol.md "Several platform nodes"). */
  private readonly clients: readonly JsonClient[];
  private current = 0;
  private readonly batchSize: number;
  private readonly identity: IdentityMode;
  private readonly backoff: Required<BackoffOptions>;
  private readonly intervalMs: number;
  private readonly hotlistIntervalMs: number;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly opts: SyncOptions;

  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private busy: Promise<unknown> = Promise.resolve();
  private failures = 0;
  /** wake() was called: the next turn of the loop syncs even before its interval is up. */
  private woken = false;
  private lastAttemptAt: number | null = null;
  private nextAttemptAt: number | null = null;
  private lastHotlistAt: number | null = null;
  private clockOffsetMs: number | null = null;
  private lastHeartbeatAt: number | null = null;
  private heartbeatUnsupported = false;
  /** Bank requests the platform refused: kept pending, not offered again by this worker (docs/sync-protocol.md). */
  private readonly bankRefused = new Set<string>();

  public constructor(journal: Journal, opts: SyncOptions) {
    this.opts = opts;
    const batch = opts.batchSize ?? 200;
    if (!Number.isInteger(batch) || batch < 1 || batch > 1000) {
      throw new SsCardError(ErrorCode.Sync_Config, { zh: `同步设置 batchSize 应为 1 到 1000 的整数，实际为 ${String(batch)}`, en: `sync option batchSize must be an integer from 1 to 1000, got ${String(batch)}` }, { option: 'batchSize' });
    }
    const timeout = opts.timeoutMs ?? 15_000;
    if (!Number.isFinite(timeout) || timeout < 1) {
      throw new SsCardError(ErrorCode.Sync_Config, { zh: '同步设置 timeoutMs 应为正数', en: 'sync option timeoutMs must be positive' }, { option: 'timeoutMs' });
    }
    const identity = opts.identity ?? 'full';
    if (!['full', 'masked', 'none'].includes(identity)) {
      throw new SsCardError(ErrorCode.Sync_Config, { zh: '同步设置 identity 应为 full、masked 或 none', en: 'sync option identity must be full, masked or none' }, { option: 'identity' });
    }
    this.journal = journal;
    this.batchSize = batch;
    this.identity = identity;
    this.backoff = checkBackoff(opts.backoff ?? {}, { code: ErrorCode.Sync_Config });
    this.intervalMs = opts.intervalMs ?? 30_000;
    this.hotlistIntervalMs = opts.hotlistIntervalMs ?? 300_000;
    this.log = opts.logger ?? SILENT_LOGGER;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
    const endpoints = [opts.endpoint, ...(opts.alternateEndpoints ?? [])];
    this.clients = endpoints.map((e) => new JsonClient(e, timeout, { [TERMINAL_HEADER]: opts.terminalId }, opts.tls));
  }

  /** The endpoint requests go to now. */
  private get client(): JsonClient {
    return this.clients[this.current]!;
  }

  /** The endpoint requests go to now (the configured one, or an alternate after it failed). */
  public get endpoint(): string {
    return [this.opts.endpoint, ...(this.opts.alternateEndpoints ?? [])][this.current]!;
  }

  /**
   * The platform node did not answer, or answered 5xx: the next attempt goes to the next endpoint.
   * A refusal (4xx) is not the node's fault, and another node would say the same.
   */
  private failOver(e: SsCardError): void {
    if (this.clients.length < 2) return;
    const status = e.context?.['status'];
    const nodeFault = e.code === ErrorCode.Sync_Unreachable || e.code === ErrorCode.Sync_Timeout || (e.code === ErrorCode.Sync_HttpStatus && typeof status === 'number' && status >= 500) || e.code === ErrorCode.Sync_BadResponse;
    if (!nodeFault) return;
    const from = this.endpoint;
    this.current = (this.current + 1) % this.clients.length;
    this.log.warn('platform node failed; the next attempt goes to the next endpoint', { from, to: this.endpoint, code: e.code });
  }

  // ---------------------------------------------------------------------------------------------
  // one-shot operations (the CLI, and the background loop)
  // ---------------------------------------------------------------------------------------------

  /**
   * Push the whole backlog once, in batches, page by page. Passes repeat while they make progress
   * (ids an answer left out are retried). Throws the first transport/platform error (the rows
   * stay unsynced); rows the platform rejects are in the report (and kept as `rejected`).
   */
  public syncNow(onProgress?: (p: SyncProgress) => void): Promise<SyncReport> {
    return this.exclusive(() => this.drain(onProgress));
  }

  /** Pull the hotlist changes since our version (the whole list the first time). */
  public pullHotlist(): Promise<HotlistReport> {
    return this.exclusive(() => this.hotlist());
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.busy.then(fn, fn);
    this.busy = run.catch(() => undefined);
    return run;
  }

  private async drain(onProgress?: (p: SyncProgress) => void): Promise<SyncReport> {
    let total = this.journal.backlog().count;
    let sent = 0;
    let accepted = 0;
    let duplicates = 0;
    let requests = 0;
    let unacknowledged = 0;
    const rejected: { id: string; code: string; message: string }[] = [];
    onProgress?.({ done: 0, total });
    this.lastAttemptAt = this.now();
    try {
      for (;;) {
        let progressed = 0;
        let cursor = 0;
        let passUnacked = 0;
        for (;;) {
          // Only what is on storage leaves the terminal: a row the platform holds must not be
          // lost to a power cut here (the journal's fsyncs run off the loop: durability.ts).
          await this.journal.durable();
          const page = this.journal.unsyncedPage(cursor, this.batchSize, this.identity === 'full');
          if (page.length === 0) break;
          cursor = page[page.length - 1]!.row.seq;
          const ops: WireOperation[] = page.map((r) => toWire(r, this.identity));
          const batchId = randomUUID();
          const req: PushRequest = { protocol: PROTOCOL_VERSION, terminalId: this.opts.terminalId, batchId, operations: ops };
          requests++;
          sent += ops.length;
          const res = await this.client.request('POST', 'v1/operations', req);
          const ack = parsePushResponse(res.body);
          const inBatch = new Set(ops.map((o) => o.id));
          // Only ids of this batch count: an answer naming other ids is not trusted for them.
          const acked = [...ack.accepted, ...ack.duplicates].filter((id) => inBatch.has(id));
          const rej = ack.rejected.filter((r) => inBatch.has(r.id));
          const marked = this.journal.markSynced(acked);
          if (rej.length > 0) this.journal.markRejected(rej.map((r) => r.id));
          accepted += ack.accepted.filter((id) => inBatch.has(id)).length;
          duplicates += ack.duplicates.filter((id) => inBatch.has(id)).length;
          rejected.push(...rej);
          const leftOut = ops.length - new Set([...acked, ...rej.map((r) => r.id)]).size;
          passUnacked += leftOut;
          progressed += marked + rej.length;
          if (leftOut > 0) this.log.warn('platform left operations unacknowledged; they will be sent again', { batchId, count: leftOut });
          if (total < accepted + duplicates + rejected.length) total = accepted + duplicates + rejected.length;
          onProgress?.({ done: accepted + duplicates + rejected.length, total });
        }
        unacknowledged += passUnacked;
        if (passUnacked === 0 || progressed === 0) {
          if (passUnacked > 0) {
            throw new SsCardError(
              ErrorCode.Sync_BadResponse,
              {
                zh: `省级平台没有确认已发送的 ${passUnacked} 条记录；记录保留在本机，稍后自动重试`,
                en: `the platform acknowledged none of the ${passUnacked} operations sent; they stay on this terminal and will be retried`,
              },
              { unacknowledged: passUnacked },
            );
          }
          break;
        }
      }
      const bank = await this.pushBankRequests();
      this.succeeded();
      if (rejected.length > 0) {
        this.log.error('platform rejected operations', { count: rejected.length, codes: [...new Set(rejected.map((r) => r.code))] });
        this.recordError(
          new SsCardError(
            ErrorCode.Sync_Refused,
            { zh: `省级平台拒收了 ${rejected.length} 条记录（已标记为 rejected，不会自动删除）；请用 sscard journal list 查看并联系平台`, en: `the platform refused ${rejected.length} operations (kept as rejected, never purged); see sscard journal list and contact the platform` },
            { rejected: rejected.length },
          ),
        );
      }
      this.reportBankTrouble(bank);
      return { sent, accepted, duplicates, rejected, unacknowledged, requests, remaining: this.journal.backlog().count, bankRequests: bank };
    } catch (err) {
      const e = toSsCardError(err);
      this.recordError(e);
      throw e;
    }
  }

  /**
   * Push the pending bank requests, page by page, like the operations: each marked `sent`
   * (markBankRequestSent) only when the answer names its id; passes repeat while they make progress.
   * Transport and platform errors are thrown (the requests stay pending and go again after the
   * backoff). Nothing of a request is logged but counts and ids: it names the holder.
   */
  private async pushBankRequests(): Promise<BankPushReport> {
    let sent = 0;
    let acknowledged = 0;
    let requests = 0;
    const rejected: { id: string; code: string; message: string }[] = [];
    const remaining = (): number => this.journal.bankBacklog().count;
    for (;;) {
      let progressed = 0;
      let passUnacked = 0;
      let cursor = 0;
      for (;;) {
        await this.journal.durable();
        const page = this.journal.pendingBankRequests(cursor, this.batchSize);
        if (page.length === 0) break;
        cursor = page[page.length - 1]!.row.seq;
        const out: WireBankRequest[] = page.filter((r) => !this.bankRefused.has(r.row.id)).map((r) => bankRequestToWire(r));
        if (out.length === 0) continue;
        const batchId = randomUUID();
        const req: BankPushRequest = { protocol: PROTOCOL_VERSION, revision: PROTOCOL_REVISION, terminalId: this.opts.terminalId, batchId, bankRequests: out };
        requests++;
        sent += out.length;
        let body: unknown;
        try {
          body = (await this.client.request('POST', BANK_REQUESTS_PATH, req)).body;
        } catch (err) {
          // A platform of an earlier revision has no such path: the requests wait for one that has.
          if (isSsCardError(err, ErrorCode.Sync_HttpStatus) && err.context?.['status'] === 404) {
            this.log.warn('the platform does not take bank requests (HTTP 404); they stay pending', { pending: remaining() });
            return { sent, acknowledged, rejected, requests, remaining: remaining(), supported: false };
          }
          throw err;
        }
        const ack = parsePushResponse(body);
        const inBatch = new Set(out.map((r) => r.id));
        const acked = [...new Set([...ack.accepted, ...ack.duplicates])].filter((id) => inBatch.has(id));
        const rej = [...new Map(ack.rejected.filter((r) => inBatch.has(r.id) && !acked.includes(r.id)).map((r) => [r.id, r])).values()];
        // Marked sent only now, on the platform's acknowledgement, in one transaction (one fsync).
        const marked = this.journal.transaction(() => acked.filter((id) => this.journal.markBankRequestSent(id)).length);
        for (const r of rej) this.bankRefused.add(r.id);
        acknowledged += acked.length;
        rejected.push(...rej);
        const leftOut = out.length - acked.length - rej.length;
        passUnacked += leftOut;
        progressed += marked + rej.length;
        if (leftOut > 0) this.log.warn('platform left bank requests unacknowledged; they will be sent again', { batchId, count: leftOut });
      }
      if (passUnacked === 0 || progressed === 0) {
        if (passUnacked > 0) {
          throw new SsCardError(
            ErrorCode.Sync_BadResponse,
            {
              zh: `省级平台没有确认已发送的 ${passUnacked} 条银行账户激活申请；申请保留在本机（待发送），稍后自动重试`,
              en: `the platform acknowledged none of the ${passUnacked} bank-account activation requests sent; they stay pending on this terminal and will be retried`,
            },
            { unacknowledged: passUnacked },
          );
        }
        break;
      }
    }
    if (acknowledged > 0) this.log.info('bank requests sent', { acknowledged });
    return { sent, acknowledged, rejected, requests, remaining: remaining(), supported: true };
  }

  /** A platform without bank requests, or refusing some: the status says so (after the run's success). */
  private reportBankTrouble(bank: BankPushReport): void {
    if (!bank.supported) {
      this.recordError(
        new SsCardError(
          ErrorCode.Sync_HttpStatus,
          {
            zh: `省级平台不接收银行账户激活申请（${BANK_REQUESTS_PATH} 应答 HTTP 404，平台的协议修订版本低于 ${PROTOCOL_REVISION}）；${bank.remaining} 条申请保留在本机待发送，请联系平台升级`,
            en: `the platform does not take bank-account activation requests (${BANK_REQUESTS_PATH} answered HTTP 404: its protocol revision is below ${PROTOCOL_REVISION}); ${bank.remaining} requests stay pending on this terminal; ask the platform to upgrade`,
          },
          { status: 404, pending: bank.remaining },
        ),
      );
    } else if (bank.rejected.length > 0) {
      this.log.error('platform rejected bank requests', { count: bank.rejected.length, codes: [...new Set(bank.rejected.map((r) => r.code))] });
      this.recordError(
        new SsCardError(
          ErrorCode.Sync_Refused,
          {
            zh: `省级平台拒收了 ${bank.rejected.length} 条银行账户激活申请（仍为待发送，保留在本机）；请联系平台，必要时由经办人员另行提交银行办理`,
            en: `the platform refused ${bank.rejected.length} bank-account activation requests (still pending, kept on this terminal); contact the platform, and have the operator submit them to the bank by hand if need be`,
          },
          { rejected: bank.rejected.length },
        ),
      );
    }
  }

  private async hotlist(): Promise<HotlistReport> {
    try {
      const since = this.journal.hotlistVersion();
      const res = await this.client.request('GET', `v1/hotlist${since === null ? '' : `?since=${encodeURIComponent(since)}`}`, undefined, since === null ? {} : { 'if-none-match': hotlistEtag(since) });
      if (res.status === 304) {
        // Nothing new since the version in force (its signature was checked when it came).
        this.lastHotlistAt = this.now();
        this.journal.setMeta(META_LAST_HOTLIST, String(this.lastHotlistAt));
        return { version: since!, full: false, added: 0, removed: 0 };
      }
      const h = parseHotlistResponse(res.body);
      const key = this.opts.hotlistPublicKey;
      if (key !== undefined && !hotlistSignatureValid(key, h, since, h.signature)) {
        // Not applied: the list in force stays, and the status says so until a list verifies.
        const check: HotlistCheck = { state: 'refused', offered: h.version, inForce: since, at: this.now() };
        this.journal.setMeta(META_HOTLIST_CHECK, JSON.stringify(check));
        this.log.error('hotlist refused: its signature does not verify with sync.hotlistPublicKey', { offered: h.version, inForce: since, signed: h.signature !== undefined });
        throw new SsCardError(
          ErrorCode.Sync_BadSignature,
          {
            zh: `省级平台发来的挂失名单（版本 ${h.version}）${h.signature === undefined ? '没有签名' : '签名验证不通过'}，未采用；本机继续使用版本 ${since ?? '（无）'} 的名单。下一步：确认 sync.hotlistPublicKey 是平台的挂失名单公钥，并检查与平台之间的网络（代理、中间人）`,
            en: `the platform's hotlist (version ${h.version}) ${h.signature === undefined ? 'is not signed' : 'does not verify'} and was not applied; this terminal keeps the list of version ${since ?? '(none)'}. Next: check that sync.hotlistPublicKey is the platform's hotlist key, and the network path to the platform (proxies, interception)`,
          },
          { offered: h.version, inForce: since },
        );
      }
      this.journal.applyHotlist({ version: h.version, full: h.full, add: h.add, remove: h.remove });
      this.lastHotlistAt = this.now();
      this.journal.setMeta(META_LAST_HOTLIST, String(this.lastHotlistAt));
      const check: HotlistCheck = { state: key === undefined ? 'unchecked' : 'verified', offered: h.version, inForce: h.version, at: this.lastHotlistAt };
      this.journal.setMeta(META_HOTLIST_CHECK, JSON.stringify(check));
      this.log.info('hotlist pulled', { version: h.version, full: h.full, added: h.add.length, removed: h.remove.length, signature: check.state });
      return { version: h.version, full: h.full, added: h.add.length, removed: h.remove.length };
    } catch (err) {
      const e = toSsCardError(err);
      this.recordError(e);
      throw e;
    }
  }

  private succeeded(): void {
    const at = this.now();
    this.journal.setMeta(META_LAST_SUCCESS, String(at));
  }

  private recordError(e: SsCardError): void {
    const info: SyncErrorInfo = { code: e.code, zh: e.text.zh, en: e.text.en, at: this.now() };
    this.journal.setMeta(META_LAST_ERROR, JSON.stringify(info));
  }

  // ---------------------------------------------------------------------------------------------
  // status
  // ---------------------------------------------------------------------------------------------

  public status(): SyncStatus {
    return readSyncStatus(this.journal, {
      running: this.running,
      lastAttemptAt: this.lastAttemptAt,
      consecutiveFailures: this.failures,
      nextAttemptAt: this.nextAttemptAt,
      lastHotlistAt: this.lastHotlistAt,
      clockOffsetMs: this.clockOffsetMs,
      lastHeartbeatAt: this.lastHeartbeatAt,
    });
  }

  /**
   * Send the heartbeat now (docs/sync-protocol.md "Heartbeat"): the terminal's software, role,
   * services and device health with its backlog, hotlist and clock offset. A platform without the
   * heartbeat (404, revision < 3) is told once in the log and not asked again.
   */
  public heartbeatNow(): Promise<void> {
    return this.exclusive(() => this.sendHeartbeat());
  }

  private async sendHeartbeat(): Promise<void> {
    const source = this.opts.heartbeat;
    if (source === undefined || this.heartbeatUnsupported) return;
    const t0 = this.now();
    const hb = heartbeatOf(source(), this.journal, this.opts.terminalId, t0, this.clockOffsetMs);
    try {
      const res = await this.client.request('POST', HEARTBEAT_PATH, hb);
      const t1 = this.now();
      this.clockOffsetMs = clockOffset(t0, t1, parseHeartbeatAnswer(res.body));
      this.lastHeartbeatAt = t1;
    } catch (err) {
      if (isSsCardError(err, ErrorCode.Sync_HttpStatus) && err.context?.['status'] === 404) {
        this.heartbeatUnsupported = true;
        this.log.warn(`the platform has no ${HEARTBEAT_PATH} (protocol revision below ${PROTOCOL_REVISION}): this terminal sends no heartbeat`);
        return;
      }
      throw err;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // background loop (the daemon)
  // ---------------------------------------------------------------------------------------------

  /** Start the background loop: drain, pull the hotlist when due, wait; back off on failure. */
  public start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** New rows are waiting: cut the idle wait short (not a backoff wait). */
  public wake(): void {
    if (this.failures !== 0) return;
    this.woken = true;
    this.wakeUp?.();
  }

  /** Stop the loop, wait for the request in flight, release sockets. */
  public async stop(): Promise<void> {
    this.running = false;
    this.wakeUp?.();
    await this.loop;
    await this.busy;
    for (const c of this.clients) c.close();
  }

  /** Release sockets of a worker that was never started (the CLI). */
  public close(): void {
    for (const c of this.clients) c.close();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(t);
        this.wakeUp = undefined;
        resolve();
      };
    });
  }

  /**
   * The loop: a sync pass (push, then the heartbeat) every `intervalMs` or when woken, and a hotlist
   * pull every `hotlistIntervalMs` — each on its own clock, so a hotlist interval shorter than the
   * sync interval is kept (a lost card reaches every terminal within it; docs/sync-protocol.md
   * "Hotlist"). A failure of either backs both off, and the turn after the backoff does both.
   */
  private async run(): Promise<void> {
    let hotlistDue = 0;
    let syncDue = 0;
    while (this.running) {
      try {
        if (this.now() >= hotlistDue) {
          await this.pullHotlist();
          hotlistDue = this.now() + this.hotlistIntervalMs;
          this.failures = 0;
        }
        if (this.woken || this.now() >= syncDue) {
          this.woken = false;
          const report = await this.syncNow();
          // With each pass, also when there was nothing to sync; its failure is not the sync's.
          await this.heartbeatNow().catch((e: unknown) => this.log.warn('heartbeat not taken by the platform', { error: toSsCardError(e).text.en }));
          this.failures = 0;
          if (report.sent > 0) this.log.info('operations synced', { sent: report.sent, accepted: report.accepted, duplicates: report.duplicates, rejected: report.rejected.length });
          syncDue = this.now() + this.intervalMs;
        }
        if (!this.running) break;
        this.nextAttemptAt = syncDue;
        if (!this.woken) await this.sleep(Math.max(0, Math.min(syncDue, hotlistDue) - this.now()));
      } catch (err) {
        const e = toSsCardError(err);
        this.failures++;
        this.failOver(e);
        // After the backoff, a whole pass again: a failed hotlist pull may have come before a sync that is not yet due.
        syncDue = 0;
        const delayMs = backoffDelay(this.failures, this.backoff, this.random);
        this.nextAttemptAt = this.now() + delayMs;
        this.log.warn('sync failed; backing off', { code: e.code, en: e.text.en, failures: this.failures, delayMs });
        this.opts.onRetry?.({ failures: this.failures, delayMs, error: e });
        if (!this.running) break;
        await this.sleep(delayMs);
      }
    }
    this.nextAttemptAt = null;
  }
}
