/**
 * One reader count of bench:api (docs/benchmarks.md, "bench:api"): the driver path and the API path
 * alternate their repetitions in the ABBA order. Each run of driver repetitions opens the channels
 * (the daemon holds the cards exclusively while it runs) and warms up; each run of API repetitions
 * starts a fresh daemon (idle RSS measured), warms it up, runs the flows (one WebSocket client per
 * reader) with its RSS sampled every 100 ms, and stops it.
 */
import { readerServicePath } from '../../../daemon/api/gate.js';
import type { PcscChannel } from '../../../drivers/pcsc/channel.js';
import type { PcscService } from '../../../drivers/pcsc/pcsc-service.js';
import { Psam } from '../../../drivers/psam/psam.js';
import type { PathName } from '../alternation.js';
import type { Cards } from '../cards.js';
import type { Daemon } from '../daemon.js';
import { lastStop } from '../daemon.js';
import { reasonOf } from '../errors.js';
import { runLoops } from '../loops.js';
import type { Stack } from '../pcsc-stack.js';
import { rssKb } from '../processes.js';
import { sleep, step } from '../run.js';
import { median, r1, r2 } from '../stats.js';
import { errorsOf, judge } from '../verdict.js';
import { XfsClient } from '../xfs-client.js';
import { apiFlow, cardReady } from './api-flow.js';
import { driverFlow } from './driver-flow.js';
import { PathRun, repLine } from './path-run.js';
import { probeWhile, type Responsiveness } from './responsiveness.js';
import type { Row } from './path-run.js';

/** What every reader count shares: the stack, the cards, the bench's own PC/SC service, the options. */
export interface MeasureContext {
  readonly stack: Stack;
  /** The driver's PC/SC service, for the whole bench. */
  readonly svc: PcscService;
  readonly cards: Cards;
  /** The bench's client token. */
  readonly token: string;
  /** The daemon's log file (why it stopped, if it did). */
  readonly logFile: string;
  readonly reps: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  /** The driver's warm-up after its first (its code stays warm in this process). */
  readonly settleMs: number;
  readonly idleMs: number;
  /** Runs of repetitions: [path, count] in the ABBA order (A: driver, B: API). */
  readonly order: readonly (readonly [PathName, number])[];
  readonly progress: (s: string) => void;
  /** A fresh daemon, its start-up recorded. */
  readonly startDaemon: () => Promise<Daemon>;
  /**
   * --shared-endpoint: every flow's client on the shared service endpoint, as before there were
   * reader endpoints (each client then gets every reader's events); else each on its reader's.
   */
  readonly sharedEndpoint: boolean;
}

/** What the API path learns across reader counts. */
export class ApiFindings {
  /** The daemons' RSS (kB) when idle, before their flows. */
  public readonly idleRss: number[] = [];
  /** Does the API take `reader` in SSCard.* / Keyboard.TouchKey? Probed once. */
  public readerField: boolean | undefined;
}

async function connectWhenFree(svc: PcscService, reader: string): Promise<PcscChannel> {
  const end = Date.now() + 15_000;
  for (;;) {
    try {
      await svc.waitForCard(reader, 10_000);
      return await svc.connect(reader, { share: 'exclusive' });
    } catch (e) {
      // The daemon that held the card exclusively may still be letting go.
      if (Date.now() > end) throw new Error(`driver: cannot connect to "${reader}": ${reasonOf(e)}`);
      await sleep(100);
    }
  }
}

/**
 * A flow's client: on `reader`'s own service endpoint (docs/api.md "WebSocket endpoints"), or the shared one.
 * A reader's endpoint opens once the daemon lists the reader: tried for up to 10 s.
 */
async function connectFlowClient(port: number, token: string, reader: string | undefined): Promise<XfsClient> {
  if (reader === undefined) return XfsClient.connect(port, token);
  const end = Date.now() + 10_000;
  for (;;) {
    try {
      return await XfsClient.connect(port, token, undefined, readerServicePath(reader));
    } catch (e) {
      if (Date.now() > end) throw new Error(`the daemon did not open the endpoint of "${reader}" within 10 s: ${reasonOf(e)}`);
      await sleep(100);
    }
  }
}

/** Both paths' repetitions on `n` readers, in the ABBA order; the row of the report. */
export async function measureReaders(ctx: MeasureContext, found: ApiFindings, n: number): Promise<Row> {
  const m = new ReaderCount(ctx, found, n);
  // ABBA: driver, API, API, driver, driver, API …; consecutive API repetitions share a daemon.
  for (const [p, count] of ctx.order) {
    if (p === 'A') await m.driverGroup(count);
    else if (m.apiSkipped === undefined) await m.apiGroup(count);
  }
  return m.row();
}

/** The API groups' responsiveness: medians of their p50s and p99s, the largest maximum. */
function mergeProbes(ps: readonly Responsiveness[]): Responsiveness | null {
  if (ps.length === 0) return null;
  const med = (f: (p: Responsiveness) => number | null): number | null => {
    const xs = ps.map(f).filter((x): x is number => x !== null && Number.isFinite(x));
    return xs.length === 0 ? null : r2(median(xs));
  };
  const max = (f: (p: Responsiveness) => number | null): number | null => {
    const xs = ps.map(f).filter((x): x is number => x !== null && Number.isFinite(x));
    return xs.length === 0 ? null : Math.max(...xs);
  };
  return {
    statusP50Ms: med((p) => p.statusP50Ms) ?? NaN,
    statusP99Ms: med((p) => p.statusP99Ms) ?? NaN,
    statusMaxMs: max((p) => p.statusMaxMs) ?? NaN,
    statusCount: ps.reduce((n, p) => n + p.statusCount, 0),
    loopP50Ms: med((p) => p.loopP50Ms),
    loopP99Ms: med((p) => p.loopP99Ms),
    loopMaxMs: max((p) => p.loopMaxMs),
    keyP50Ms: med((p) => p.keyP50Ms) ?? NaN,
    keyP99Ms: med((p) => p.keyP99Ms) ?? NaN,
    keyMaxMs: max((p) => p.keyMaxMs) ?? NaN,
    keyCount: ps.reduce((n, p) => n + p.keyCount, 0),
  };
}

class ReaderCount {
  private readonly readers: readonly string[];
  private readonly driver = new PathRun();
  private readonly api = new PathRun();
  public apiSkipped: string | undefined;
  private driverWarm = false;
  private apiRss = 0;
  /** Each API group's responsiveness during its flows. */
  private readonly probes: Responsiveness[] = [];

  public constructor(
    private readonly ctx: MeasureContext,
    private readonly found: ApiFindings,
    private readonly n: number,
  ) {
    this.readers = ctx.stack.cardReaders.slice(0, n);
  }

  /** The driver, in this process: `count` repetitions on freshly opened channels. */
  public async driverGroup(count: number): Promise<void> {
    const { ctx, n, driver } = this;
    const opened: PcscChannel[] = [];
    try {
      const psamCh = await connectWhenFree(ctx.svc, ctx.stack.psamReader);
      opened.push(psamCh);
      const psam = new Psam(psamCh);
      await step('PSAM open', 10_000, psam.open());
      const channels: PcscChannel[] = [];
      for (const r of this.readers) {
        channels.push(await connectWhenFree(ctx.svc, r));
        opened.push(channels.at(-1)!);
      }
      const flow = (i: number): Promise<string | undefined> => driverFlow(channels[i]!, psam);
      await runLoops(n, this.driverWarm ? ctx.settleMs : ctx.warmupMs, flow);
      this.driverWarm = true;
      await driver.group(count, () => runLoops(n, ctx.durationMs, flow), ctx.cards, 'driver', [['pcscd', ctx.stack.pcscdPid], ['cards', ctx.cards.pid]], (rep) =>
        ctx.progress(`driver ×${n} rep ${driver.reps.length}/${ctx.reps}: ${repLine(rep)}`),
      );
    } finally {
      await Promise.all(opened.map((c) => c.close('leave').catch(() => undefined)));
    }
  }

  /** The same flow over the API: `count` repetitions on a fresh daemon. */
  public async apiGroup(count: number): Promise<void> {
    const { ctx, found, n, api, readers } = this;
    const daemon = await step('daemon start', 40_000, ctx.startDaemon());
    const clients: XfsClient[] = [];
    try {
      await sleep(ctx.idleMs);
      const idle = rssKb(daemon.pid);
      if (idle !== undefined) found.idleRss.push(idle);
      for (let i = 0; i < n; i++) clients.push(await connectFlowClient(daemon.port, ctx.token, ctx.sharedEndpoint ? undefined : readers[i]));
      if (found.readerField === undefined) {
        // Does the API take `reader` yet? (Waits for the card's identification, too.)
        const probe = await clients[0]!.command('SSCard.ReadBasic', { reader: readers[0] });
        const text = `${probe.header.errorDescription ?? ''}`;
        found.readerField = !(probe.header.completionCode === 'invalidData' || probe.header.status === 'invalidMessage') || !/reader/i.test(text);
        if (!found.readerField) ctx.progress('the API does not take `reader` yet: one reader only, without the field');
      }
      if (!found.readerField && n > 1) {
        this.apiSkipped = 'the API does not take `reader` in SSCard.* / Keyboard.TouchKey yet: one card operation at a time';
        return;
      }
      const at = (i: number): string | undefined => (found.readerField ? readers[i] : undefined);
      // Every reader's card identified by this daemon before the warm-up starts.
      await Promise.all(clients.map((c, i) => cardReady(c, at(i))));
      await runLoops(n, Math.max(ctx.warmupMs, 1), (i) => apiFlow(clients[i]!, at(i)));
      let rssMax = rssKb(daemon.pid) ?? 0;
      const sampler = setInterval(() => {
        rssMax = Math.max(rssMax, rssKb(daemon.pid) ?? 0);
      }, 100);
      // A second client's Common.Status while the flows run, and the loop's delay (responsiveness.ts).
      const watcher = await XfsClient.connect(daemon.port, ctx.token);
      clients.push(watcher);
      let loadOver!: () => void;
      const load = new Promise<void>((resolve) => (loadOver = resolve));
      const keyMs: number[] = [];
      const probe = probeWhile(watcher, daemon.port, ctx.token, load, keyMs);
      try {
        await api.group(
          count,
          () => runLoops(n, ctx.durationMs, (i) => apiFlow(clients[i]!, at(i), keyMs)),
          ctx.cards,
          'clients',
          [['daemon', daemon.pid], ['pcscd', ctx.stack.pcscdPid], ['cards', ctx.cards.pid]],
          (rep) => {
            ctx.progress(`API ×${n} rep ${api.reps.length}/${ctx.reps}: ${repLine(rep)}`);
            if (!daemon.alive) throw new Error(`the daemon ended during the run: ${daemon.exitReason ?? ''}${lastStop(ctx.logFile)}`);
          },
        );
      } finally {
        clearInterval(sampler);
        this.apiRss = Math.max(this.apiRss, rssMax);
        loadOver();
        this.probes.push(await probe);
      }
    } finally {
      for (const c of clients) c.close();
      await daemon.stop();
    }
  }

  /** Both paths' figures, the API's overhead over the driver and its target. */
  public row(): Row {
    const { apiRss, apiSkipped } = this;
    const d = this.driver.row();
    const a = this.api.reps.length > 0 ? { ...this.api.row(), rssMaxMB: apiRss > 0 ? r1(apiRss / 1024) : null, readerField: this.found.readerField ?? false, responsiveness: mergeProbes(this.probes) } : null;
    const overhead = a && Number.isFinite(a.p50Ms) && Number.isFinite(d.p50Ms) ? r2(a.p50Ms - d.p50Ms) : null;
    const errors = errorsOf([d, a]);
    return {
      readers: this.n,
      driver: d,
      api: a,
      ...(apiSkipped ? { apiSkipped } : {}),
      overheadMs: overhead,
      ratio: a ? r2(a.p50Ms / d.p50Ms) : null,
      errors,
      overheadTarget: judge(overhead === null ? null : overhead <= 5, errors),
    };
  }
}
