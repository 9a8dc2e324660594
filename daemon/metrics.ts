/**
 * The daemon's Prometheus metrics (docs/api.md "Metrics"), served at `GET /metrics` with the
 * API's access rules: flows by service and result, APDU latency per reader, PIN-pad timeouts and
 * cancels, reconnects of pcscd and the devices, the journal's pending and unsynced rows, the sync's
 * backlog and lag, the hotlist's age, and prom-client's process and Node.js metrics (event-loop
 * delay among them). prom-client (the Prometheus client most Node services use) keeps the registry
 * and the exposition format.
 *
 * No label carries a card number, an identity or a PIN: labels are service kinds, result codes,
 * reader names, device components and event names, each from a closed set of the code (a reader
 * name is what pcscd calls the device).
 */
import client from 'prom-client';
import type { TerminalEvent, TerminalPort } from './terminal/port.js';

/** APDU round trips (s): from a fast contact card's ~1 ms to a slow one's seconds. */
const APDU_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];

export class DaemonMetrics {
  public readonly registry = new client.Registry();
  private readonly flows: client.Counter<'service' | 'result'>;
  private readonly apdu: client.Histogram<'reader'>;
  private readonly pinPad: client.Counter<'event'>;
  private readonly reconnects: client.Counter<'component'>;
  /** Devices seen disconnected, whose next connection is a reconnect. */
  private readonly down = new Set<string>();
  private unsubscribe: (() => void) | undefined;

  public constructor() {
    const r = this.registry;
    // Event-loop delay sampled every 500 ms (prom-client's default is 10 ms, a hundred wake-ups a
    // second): measured with bench:idle, 10 ms cost an idle daemon 0.17 % of a core, 500 ms 0.03–0.07 %
    // (docs/benchmarks.md "Idle"). A stall longer than 500 ms is still measured whole.
    client.collectDefaultMetrics({ register: r, eventLoopMonitoringPrecision: 500 });
    this.flows = new client.Counter({ name: 'sscard_flows_total', help: 'Card service flows ended, by service and result code', labelNames: ['service', 'result'], registers: [r] });
    this.apdu = new client.Histogram({ name: 'sscard_apdu_duration_seconds', help: 'APDU round trips (command to response) per reader', labelNames: ['reader'], buckets: APDU_BUCKETS, registers: [r] });
    this.pinPad = new client.Counter({ name: 'sscard_pinpad_events_total', help: 'PIN entries that timed out or were cancelled by the holder', labelNames: ['event'], registers: [r] });
    this.reconnects = new client.Counter({ name: 'sscard_reconnects_total', help: 'pcscd, the PSAM, the PIN pad and the ID reader coming back after being lost', labelNames: ['component'], registers: [r] });
  }

  /** One APDU's round trip on `reader` (drivers/pcsc/channel.ts `timing`). */
  public apduTiming(reader: string, ms: number): void {
    this.apdu.observe({ reader }, ms / 1000);
  }

  /** Count the terminal's events, and read its status at each scrape. */
  public watch(terminal: TerminalPort): void {
    this.unsubscribe?.();
    this.unsubscribe = terminal.subscribe((e) => this.onEvent(e));
    const status = () => terminal.status();
    const gauge = (name: string, help: string, value: (s: ReturnType<typeof status>) => number | null) =>
      new client.Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const v = value(status());
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
    gauge('sscard_up', '1 when the terminal is ready for the holder (GET /health)', () => (terminal.health().ready ? 1 : 0));
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
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  public stop(): void {
    this.unsubscribe?.();
    this.registry.clear();
  }
}
