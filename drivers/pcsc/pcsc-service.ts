/**
 * The PC/SC service: one long-lived watcher of pcscd that keeps an up-to-date list of readers and
 * cards and emits what changes. It never exits on its own: pcscd absent at start, or restarted
 * while we run, makes it tear down the addon's context (the addon stops watching after any
 * SCardGetStatusChange error, docs/domain.md §8) and build a new one with exponential
 * backoff and jitter, re-discovering readers and cards.
 */
import { backoffDelay, checkBackoff } from '../../core/backoff.js';
import type { BackoffOptions } from '../../core/backoff.js';
import { EventEmitter } from 'node:events';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import type { AddonContext, AddonFactory, AddonReader } from './addon.js';
import { Scard, realAddon } from './addon.js';
import { PcscChannel, type ChannelOptions, type TraceEntry } from './channel.js';
import { toPcscError } from './errors.js';

export interface ReaderInfo {
  readonly name: string;
  /** Raw SCARD_STATE_* flags of the last status report. */
  readonly state: number;
  readonly cardPresent: boolean;
  readonly atr: Buffer | undefined;
  /** The card does not answer (SCARD_STATE_MUTE). */
  readonly mute: boolean;
  /** Another process holds the card exclusively. */
  readonly exclusive: boolean;
}

export interface PcscServiceOptions {
  /** The addon factory; tests pass a fake one. Default: the `pcsclite` addon. */
  readonly addon?: AddonFactory;
  /** First retry delay after pcscd is lost (ms); default 200. */
  readonly backoffInitialMs?: number;
  /** Longest retry delay (ms); default 5000. */
  readonly backoffMaxMs?: number;
  /** APDU trace sink (PIN-bearing data already redacted). */
  readonly trace?: (entry: TraceEntry) => void;
  /** Whether `trace` wants entries now; default always. */
  readonly traceEnabled?: () => boolean;
  /** Each APDU's round trip in ms, per reader (metrics). */
  readonly timing?: (reader: string, ms: number) => void;
  /** Default transmit timeout of channels (ms); default 15000. */
  readonly transmitTimeoutMs?: number;
  /**
   * How long a channel whose exchange failed waits for pcscd to say whether the card is still in
   * the reader (ms; default 1000, see channel.ts).
   */
  readonly removalSettleMs?: number;
}

export interface PcscServiceEvents {
  /** A context is established and the first reader list is known. */
  'service-up': [];
  /** pcscd went away (or is absent); the service retries in `retryInMs`. */
  'service-down': [error: SsCardError, retryInMs: number];
  'reader-attached': [reader: string];
  'reader-detached': [reader: string];
  'card-inserted': [reader: string, atr: Buffer];
  'card-removed': [reader: string];
}

interface ReaderEntry {
  info: ReaderInfo;
  addon: AddonReader;
  /** The first status report arrived. */
  reported: boolean;
}

type ReaderMatch = string | RegExp | ((name: string) => boolean);

function matches(name: string, m: ReaderMatch): boolean {
  if (typeof m === 'string') return name === m || name.includes(m);
  if (m instanceof RegExp) return m.test(name);
  return m(name);
}

export class PcscService extends EventEmitter<PcscServiceEvents> {
  private readonly addonFactory: AddonFactory;
  private context: AddonContext | undefined;
  private readonly entries = new Map<string, ReaderEntry>();
  private readonly queues = new Map<string, { busy: boolean; waiting: (() => void)[] }>();
  private up = false;
  private listed = false;
  private running = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private lastError: SsCardError | undefined;
  private generation = 0;
  private readonly backoff: Required<BackoffOptions>;
  /** Internal: fires on every change of the picture, for the waitFor* helpers. */
  private readonly changes = new EventEmitter();

  constructor(private readonly options: PcscServiceOptions = {}) {
    super();
    this.addonFactory = options.addon ?? realAddon;
    // Waiters: ready/waitFor* callers and channels waiting for a removal to show (one per reader).
    this.changes.setMaxListeners(0);
    this.backoff = checkBackoff(
      { baseMs: options.backoffInitialMs ?? 200, maxMs: options.backoffMaxMs ?? 5000 },
      { name: (o) => (o === 'baseMs' ? 'backoffInitialMs' : o === 'maxMs' ? 'backoffMaxMs' : o) },
    );
  }

  /** True while a context is established and watching. */
  get isUp(): boolean {
    return this.up;
  }

  /** Why the service is down, when it is. */
  get downReason(): SsCardError | undefined {
    return this.up ? undefined : this.lastError;
  }

  /** Start watching. Idempotent; never throws because pcscd is missing (it retries instead). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.establish();
  }

  /** Stop watching and release everything. */
  stop(): Promise<void> {
    this.running = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.teardown(false);
    return Promise.resolve();
  }

  readers(): ReaderInfo[] {
    return [...this.entries.values()].map((e) => e.info);
  }

  reader(name: string): ReaderInfo | undefined {
    return this.entries.get(name)?.info;
  }

  /**
   * Resolves once the service is up and every reader it lists has reported its first status,
   * so that `readers()` is a true picture. Rejects with the reason when pcscd stays unreachable.
   */
  ready(timeoutMs = 3000, failFast = true): Promise<void> {
    return this.waitUntil(
      () => this.up && this.listed && [...this.entries.values()].every((e) => e.reported),
      timeoutMs,
      () =>
        this.lastError ??
        new SsCardError(ErrorCode.Pcsc_Timeout, { zh: `等待智能卡服务就绪超时（${timeoutMs} 毫秒）`, en: `timed out after ${timeoutMs} ms waiting for the smart card service` }, { timeoutMs }),
      failFast ? () => (this.up ? undefined : this.lastError) : undefined,
    );
  }

  /** Find a reader by exact name, substring or pattern; wait up to `timeoutMs` for it to appear. */
  async waitForReader(match: ReaderMatch, timeoutMs = 5000): Promise<ReaderInfo> {
    const find = (): ReaderInfo | undefined => [...this.entries.values()].find((e) => e.reported && matches(e.info.name, match))?.info;
    await this.waitUntil(() => find() !== undefined, timeoutMs, () => this.readerNotFound(match));
    return find()!;
  }

  /** Wait for a card in the reader; resolves with its ATR. */
  async waitForCard(readerName: string, timeoutMs = 5000): Promise<Buffer> {
    const atr = (): Buffer | undefined => {
      const i = this.entries.get(readerName)?.info;
      return i?.cardPresent && i.atr && i.atr.length > 0 ? i.atr : undefined;
    };
    await this.waitUntil(() => atr() !== undefined, timeoutMs, () =>
      new SsCardError(ErrorCode.Pcsc_NoCard, { zh: `读卡器“${readerName}”中没有卡片：请插入社会保障卡`, en: `no card in "${readerName}": insert the social security card` }, { reader: readerName }),
    );
    return atr()!;
  }

  /** Wait until the reader reports no card. */
  async waitForRemoval(readerName: string, timeoutMs = 5000): Promise<void> {
    await this.waitUntil(() => !this.entries.get(readerName)?.info.cardPresent, timeoutMs, () =>
      new SsCardError(ErrorCode.Pcsc_Timeout, { zh: `等待取卡超时（${readerName}）`, en: `timed out waiting for the card to be removed from "${readerName}"` }, { reader: readerName }),
    );
  }

  /**
   * Open a channel to the card in `readerName` (exact name). Shared mode by default so that a
   * technician's tool can look at the same card; pass `share: 'exclusive'` to lock others out.
   */
  async connect(readerName: string, options: Omit<ChannelOptions, 'queue'> = {}): Promise<PcscChannel> {
    if (!this.up) throw this.lastError ?? this.serviceDown();
    const entry = this.entries.get(readerName);
    if (!entry) throw this.readerNotFound(readerName);
    const generation = this.generation;
    const channel = new PcscChannel(entry.addon, entry.info.atr ?? Buffer.alloc(0), {
      ...(this.options.trace ? { trace: this.options.trace } : {}),
      ...(this.options.timing ? { timing: this.options.timing } : {}),
      ...(this.options.traceEnabled ? { traceEnabled: this.options.traceEnabled } : {}),
      ...(this.options.transmitTimeoutMs ? { timeoutMs: this.options.transmitTimeoutMs } : {}),
      ...(this.options.removalSettleMs === undefined ? {} : { removalSettleMs: this.options.removalSettleMs }),
      ...options,
      queue: (job) => this.enqueue(readerName, job),
      currentAtr: () => this.entries.get(readerName)?.info.atr,
      isAlive: () => this.generation === generation && this.entries.get(readerName)?.addon === entry.addon,
      // The state SCardStatus would report (pcscd's reader state and card event count), as the
      // watcher last saw it: only for this reader's watcher of this context.
      readerState: () => {
        const e = this.entries.get(readerName);
        return this.generation === generation && e?.addon === entry.addon && e.reported ? e.info.state : undefined;
      },
      stateChange: (ms) => this.nextChange(ms),
    });
    await channel.open();
    return channel;
  }

  /**
   * One operation at a time per reader, across every channel to it: a FIFO of waiters. An idle
   * reader runs the job at once (no promise chain is built on the hot path).
   */
  private async enqueue<T>(reader: string, job: () => Promise<T>): Promise<T> {
    let q = this.queues.get(reader);
    if (!q) {
      q = { busy: false, waiting: [] };
      this.queues.set(reader, q);
    }
    if (q.busy) {
      const queue = q;
      await new Promise<void>((resume) => queue.waiting.push(resume));
    }
    q.busy = true;
    try {
      return await job();
    } finally {
      const next = q.waiting.shift();
      if (next) next();
      else q.busy = false;
    }
  }

  /** Resolves at the next change of the picture (any reader's status, a reader or the service), or after `ms`. */
  private nextChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.changes.off('change', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.changes.on('change', done);
    });
  }

  private readerNotFound(match: ReaderMatch): SsCardError {
    const known = [...this.entries.keys()];
    const list = known.length ? known.map((n) => `“${n}”`).join('、') : '（无）';
    const listEn = known.length ? known.map((n) => `"${n}"`).join(', ') : '(none)';
    return new SsCardError(
      ErrorCode.Pcsc_ReaderNotFound,
      { zh: `找不到读卡器 ${String(match)}；当前读卡器：${list}（运行 sscard readers 查看）`, en: `reader ${String(match)} not found; readers present: ${listEn} (run sscard readers)` },
      { match: String(match), readers: known },
    );
  }

  private serviceDown(): SsCardError {
    return toPcscError(new Error('(0x8010001D)'), 'connect');
  }

  private waitUntil(done: () => boolean, timeoutMs: number, onTimeout: () => Error, failed?: () => Error | undefined): Promise<void> {
    if (done()) return Promise.resolve();
    const early = failed?.();
    if (early) return Promise.reject(early);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (done()) finish();
        else {
          const err = failed?.();
          if (err) finish(err);
        }
      };
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        this.changes.off('change', check);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => finish(onTimeout()), timeoutMs);
      this.changes.on('change', check);
    });
  }

  private establish(): void {
    if (!this.running) return;
    let ctx: AddonContext;
    try {
      ctx = this.addonFactory();
    } catch (err) {
      this.onContextError(err);
      return;
    }
    const generation = ++this.generation;
    this.context = ctx;
    this.listed = false;
    ctx.on('error', (err: unknown) => {
      if (generation === this.generation) this.onContextError(err);
    });
    ctx.on('reader', (reader: AddonReader) => {
      if (generation !== this.generation) return;
      this.addReader(reader);
    });
    ctx.on('readers', () => {
      if (generation !== this.generation || this.listed) return;
      this.listed = true;
      this.up = true;
      this.attempt = 0;
      this.lastError = undefined;
      this.emit('service-up');
      this.changes.emit('change');
    });
  }

  private addReader(reader: AddonReader): void {
    const name = reader.name;
    const entry: ReaderEntry = {
      addon: reader,
      reported: false,
      info: { name, state: 0, cardPresent: false, atr: undefined, mute: false, exclusive: false },
    };
    this.entries.set(name, entry);
    reader.on('error', (err: unknown) => {
      // A reader watcher failing usually means pcscd went away; the context error follows.
      // If it does not (reader-specific failure), the reader is dropped on its 'end'.
      void err;
    });
    reader.on('status', (status: { state: number; atr?: Buffer }) => {
      if (this.entries.get(name) !== entry) return;
      const present = (status.state & Scard.STATE_PRESENT) !== 0;
      const was = entry.info.cardPresent;
      const atr = present && status.atr && status.atr.length > 0 ? Buffer.from(status.atr) : present ? entry.info.atr : undefined;
      entry.info = {
        name,
        state: status.state,
        cardPresent: present,
        atr,
        mute: (status.state & Scard.STATE_MUTE) !== 0,
        exclusive: (status.state & Scard.STATE_EXCLUSIVE) !== 0,
      };
      entry.reported = true;
      if (present && !was && atr) this.emit('card-inserted', name, atr);
      else if (!present && was) this.emit('card-removed', name);
      this.changes.emit('change');
    });
    reader.on('end', () => {
      if (this.entries.get(name) !== entry) return;
      this.dropReader(name);
    });
    this.emit('reader-attached', name);
    this.changes.emit('change');
  }

  private dropReader(name: string): void {
    const entry = this.entries.get(name);
    if (!entry) return;
    this.entries.delete(name);
    if (entry.info.cardPresent) this.emit('card-removed', name);
    this.emit('reader-detached', name);
    this.changes.emit('change');
  }

  private onContextError(err: unknown): void {
    const error = toPcscError(err, 'watch');
    this.lastError = error.code === ErrorCode.Pcsc_ServiceUnavailable ? error : toPcscError(new Error('(0x8010001D)'), 'watch');
    this.teardown(true);
    if (!this.running) return;
    this.attempt = Math.min(this.attempt + 1, 20);
    const delay = backoffDelay(this.attempt, this.backoff);
    this.emit('service-down', this.lastError, delay);
    this.changes.emit('change');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.establish();
    }, delay);
  }

  private teardown(announce: boolean): void {
    this.generation++;
    this.up = false;
    this.listed = false;
    const ctx = this.context;
    this.context = undefined;
    for (const name of [...this.entries.keys()]) {
      const entry = this.entries.get(name)!;
      if (announce) this.dropReader(name);
      else this.entries.delete(name);
      try {
        entry.addon.close();
      } catch {
        // already closed by the addon
      }
    }
    try {
      ctx?.close();
    } catch {
      // the addon's thread already ended
    }
  }
}
