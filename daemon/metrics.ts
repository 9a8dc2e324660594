/**
 * The daemon's Prometheus metrics (docs/api.md "Metrics"), served at `GET /metrics` with the
 * API's access rules: flows by service and result, APDU latency per reader, PIN-pad timeouts and
 * cancels, reconnects of pcscd and the devices, the journal's pending and unsynced rows, the sync's
 * backlog and lag, the hotlist's age, and prom-client's process and Node.js metrics (event-loop
 * delay among them). prom-client (the Prometheus client most Node services use) keeps the registry
 * and the exposition format.
 *
 * prom-client is loaded at the first scrape, not at start: most terminals are never scraped, and
 * there its code (0.7 MB of the daemon's heap) and its event-loop monitor's wake-ups are not worth
 * having (docs/benchmarks.md "Idle"). Until then the daemon's own counts are kept here in
 * plain maps — every flow, PIN-pad event, reconnect and APDU time since start, so the first scrape
 * reports the same totals an eager registry would. The process and Node.js metrics start with that
 * scrape (the event-loop delay histogram covers the time since; Prometheus reads rates from the
 * differences between scrapes, so nothing it uses is lost).
 *
 * No label carries a card number, an identity or a PIN: labels are service kinds, result codes,
 * reader names, device components and event names, each from a closed set of the code (a reader
 * name is what pcscd calls the device).
 */
import type { Histogram, Registry } from 'prom-client';
import type { TerminalEvent, TerminalPort } from './terminal/port.js';

/** APDU round trips (s): from a fast contact card's ~1 ms to a slow one's seconds. */
const APDU_BUCKETS: readonly number[] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];
const APDU_NAME = 'sscard_apdu_duration_seconds';
const APDU_HELP = 'APDU round trips (command to response) per reader';

type Labels = Readonly<Record<string, string>>;

/** prom-client, loaded when first wanted. */
const loadPromClient = async () => (await import('prom-client')).default;

/** A counter's totals by label set, from start. */
class Tally {
  private readonly counts = new Map<string, { readonly labels: Labels; n: number }>();

  public inc(labels: Labels): void {
    const key = JSON.stringify(labels);
    const c = this.counts.get(key);
    if (c === undefined) this.counts.set(key, { labels, n: 1 });
    else c.n += 1;
  }

  public entries(): Iterable<{ readonly labels: Labels; readonly n: number }> {
    return this.counts.values();
  }
}

/** Per reader: the count in each of APDU_BUCKETS (not cumulative; the last slot is +Inf), sum and count. */
interface ReaderTimes {
  readonly buckets: number[];
  sum: number;
  count: number;
}

export class DaemonMetrics {
  private readonly flows = new Tally();
  private readonly pinPad = new Tally();
  private readonly reconnects = new Tally();
  private readonly apdu = new Map<string, ReaderTimes>();
  /** Devices seen disconnected, whose next connection is a reconnect. */
  private readonly down = new Set<string>();
  private terminal: TerminalPort | undefined;
  private unsubscribe: (() => void) | undefined;
  /** The registry, built at the first scrape. */
  private registry: Promise<Registry> | undefined;
  private stopped = false;

  /** @param load how prom-client is loaded (a test gives one that fails) */
  public constructor(private readonly load: typeof loadPromClient = loadPromClient) {}

  /** One APDU's round trip on `reader` (drivers/pcsc/channel.ts `timing`). */
  public apduTiming(reader: string, ms: number): void {
    let t = this.apdu.get(reader);
    if (t === undefined) {
      t = { buckets: new Array<number>(APDU_BUCKETS.length + 1).fill(0), sum: 0, count: 0 };
      this.apdu.set(reader, t);
    }
    const s = ms / 1000;
    let i = 0;
    while (i < APDU_BUCKETS.length && s > APDU_BUCKETS[i]!) i += 1;
    t.buckets[i]! += 1;
    t.sum += s;
    t.count += 1;
  }

  /** Count the terminal's events, and read its status at each scrape. */
  public watch(terminal: TerminalPort): void {
    this.unsubscribe?.();
    this.terminal = terminal;
    this.unsubscribe = terminal.subscribe((e) => this.onEvent(e));
  }

  private onEvent(e: TerminalEvent): void {
    if (e.type === 'session' && e.event.type === 'result') {
      const r = e.event.result;
      this.flows.inc({ service: r.kind ?? 'none', result: r.code });
      if (r.code === 'pin.timeout') this.pinPad.inc({ event: 'timeout' });
      if (r.code === 'cancelled') this.pinPad.inc({ event: 'cancel' });
    } else if (e.type === 'device') {
      if (!e.connected) this.down.add(e.component);
      else if (this.down.delete(e.component)) this.reconnects.inc({ component: e.component });
    }
  }

  /** The exposition text and its content type. */
  public async scrape(): Promise<{ readonly contentType: string; readonly text: string }> {
    const building = (this.registry ??= this.build());
    let registry: Registry;
    try {
      registry = await building;
    } catch (e) {
      // Not kept as the answer of every later scrape: the next one loads it again.
      if (this.registry === building) this.registry = undefined;
      throw e;
    }
    return { contentType: registry.contentType, text: await registry.metrics() };
  }

  public stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    void this.registry?.then(
      (r) => r.clear(),
      () => undefined,
    );
  }

  private async build(): Promise<Registry> {
    const client = await this.load();
    const r = new client.Registry();
    // After stop() no default metrics start (their event-loop monitor would outlive the daemon).
    if (this.stopped) return r;
    // Event-loop delay sampled every 500 ms (prom-client's default is 10 ms, a hundred wake-ups a
    // second): measured with bench:idle, 10 ms cost an idle daemon 0.17 % of a core, 500 ms 0.03–0.07 %
    // (docs/benchmarks.md "Idle"). A stall longer than 500 ms is still measured whole.
    client.collectDefaultMetrics({ register: r, eventLoopMonitoringPrecision: 500 });
    const counter = (name: string, help: string, labelNames: readonly string[], tally: Tally) =>
      new client.Counter({
        name,
        help,
        labelNames,
        registers: [r],
        collect() {
          this.reset();
          for (const { labels, n } of tally.entries()) this.inc(labels, n);
        },
      });
    counter('sscard_flows_total', 'Card service flows ended, by service and result code', ['service', 'result'], this.flows);
    counter('sscard_pinpad_events_total', 'PIN entries that timed out or were cancelled by the holder', ['event'], this.pinPad);
    counter('sscard_reconnects_total', 'pcscd, the PSAM, the PIN pad and the ID reader coming back after being lost', ['component'], this.reconnects);
    r.registerMetric(this.apduHistogram());
    const watched = () => this.terminal;
    type Status = ReturnType<TerminalPort['status']>;
    const gauge = (name: string, help: string, value: (s: Status, t: TerminalPort) => number | null) =>
      new client.Gauge({
        name,
        help,
        registers: [r],
        collect() {
          const t = watched();
          const v = t === undefined ? null : value(t.status(), t);
          if (v === null) this.reset();
          else this.set(v);
        },
      });
    gauge('sscard_journal_pending', 'Journal rows written ahead of the card and not completed', (s) => s.journal.pending);
    gauge('sscard_journal_unsynced', 'Completed journal rows not yet taken by the platform', (s) => s.journal.unsynced);
    gauge('sscard_sync_backlog', 'Rows the sync has still to send', (s) => (s.sync.enabled ? s.sync.backlog : null));
    gauge('sscard_sync_last_success_age_seconds', 'Seconds since the last successful sync', (s) => (s.sync.lastSuccessAt === null ? null : (Date.now() - s.sync.lastSuccessAt) / 1000));
    gauge('sscard_sync_failing', '1 while the last sync attempt failed', (s) => (s.sync.enabled ? (s.sync.lastError === null ? 0 : 1) : null));
    gauge('sscard_hotlist_age_seconds', 'Seconds since the lost-card hotlist was last applied', (s) => (s.hotlist.updatedAt === null ? null : (Date.now() - s.hotlist.updatedAt) / 1000));
    gauge('sscard_hotlist_entries', 'Cards on the lost-card hotlist', (s) => s.hotlist.entries);
    gauge('sscard_readers', 'Card readers pcscd lists', (s) => s.readers.length);
    gauge('sscard_up', '1 when the terminal is ready for the holder (GET /health)', (_, t) => (t.health().ready ? 1 : 0));
    return r;
  }

  /**
   * The APDU times as a histogram in prom-client's registry: the registry reads a metric's name and
   * the values of its `get()` (prom-client lib/registry.js `getMetricsAsString`), which here come
   * from the counts kept since start, in the form prom-client's own Histogram gives them
   * (lib/histogram.js: cumulative `_bucket` values by `le`, then `+Inf`, `_sum`, `_count`).
   */
  private apduHistogram(): Histogram {
    const values = () =>
      [...this.apdu].flatMap(([reader, t]) => {
        let acc = 0;
        const buckets = APDU_BUCKETS.map((le, i) => {
          acc += t.buckets[i]!;
          return { labels: { le, reader }, value: acc, metricName: `${APDU_NAME}_bucket` };
        });
        return [
          ...buckets,
          { labels: { le: '+Inf', reader }, value: t.count, metricName: `${APDU_NAME}_bucket` },
          { labels: { reader }, value: t.sum, metricName: `${APDU_NAME}_sum` },
          { labels: { reader }, value: t.count, metricName: `${APDU_NAME}_count` },
        ];
      });
    const metric = {
      name: APDU_NAME,
      help: APDU_HELP,
      type: 'histogram',
      aggregator: 'sum',
      get: () => Promise.resolve({ name: APDU_NAME, help: APDU_HELP, type: 'histogram', aggregator: 'sum', values: values() }),
      reset: () => this.apdu.clear(),
    };
    return metric as unknown as Histogram;
  }
}
