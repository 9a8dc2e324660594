/**
 * How responsive the daemon stays while the flows run (docs/benchmarks.md "bench:api"): a second
 * client's `Common.Status` round trips, one after the other (work unrelated to the cards, which
 * waits for every stall of the daemon's event loop), and the event loop's own delay from the
 * daemon's metrics (`nodejs_eventloop_lag_*`, perf_hooks monitorEventLoopDelay sampled every
 * 500 ms; prom-client resets its histogram at each scrape, so a scrape before the load and one
 * after give the delay during it). A 500 ms sample sees only the stalls that cover its moment: the
 * Status round trips are the finer measure; the loop's figures bound the longest stalls. And the
 * keypad's latency as the holder feels it: each key from its Keyboard.TouchKey to the
 * SSCard.PinDigitsEvent that shows its dot (api-flow.ts), over the flows' own keys.
 */
import { sleep } from '../run.js';
import { latencyStats, r2 } from '../stats.js';
import type { XfsClient } from '../xfs-client.js';

export interface Responsiveness {
  /** Common.Status round trips during the load, ms. */
  readonly statusP50Ms: number;
  readonly statusP99Ms: number;
  readonly statusMaxMs: number;
  readonly statusCount: number;
  /** The event loop's delay during the load (ms), from the daemon's metrics; null when it serves none. */
  readonly loopP50Ms: number | null;
  readonly loopP99Ms: number | null;
  readonly loopMaxMs: number | null;
  /** Keys typed during the load: TouchKey sent → its PinDigitsEvent received, ms. */
  readonly keyP50Ms: number;
  readonly keyP99Ms: number;
  readonly keyMaxMs: number;
  readonly keyCount: number;
}

const PACE_MS = 20;

/** The daemon's /metrics text, or null. */
export async function scrapeMetrics(port: number, token: string): Promise<string | null> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    return r.ok ? await r.text() : null;
  } catch {
    return null;
  }
}

/** The daemon's monitorEventLoopDelay resolution (daemon/metrics.ts): each sample is that plus the delay. */
const LOOP_RESOLUTION_MS = 500;

/** A `nodejs_eventloop_lag_*_seconds` gauge as the delay beyond the sampling interval, ms. */
function loopDelayMs(text: string | null, name: string): number | null {
  const m = text === null ? null : new RegExp(`^${name} ([0-9.eE+-]+)$`, 'm').exec(text);
  return m === null || !Number.isFinite(Number(m[1])) || Number(m[1]) === 0 ? null : r2(Math.max(0, Number(m[1]) * 1000 - LOOP_RESOLUTION_MS));
}

/**
 * Runs Common.Status round trips on `client` until `done` settles; then reads the loop's delay.
 * `keyMs`: the key latencies the flows collected meanwhile.
 */
export async function probeWhile(client: XfsClient, port: number, token: string, done: Promise<unknown>, keyMs: readonly number[]): Promise<Responsiveness> {
  await scrapeMetrics(port, token);
  let over = false;
  void done.finally(() => (over = true)).catch(() => undefined);
  const rtts: number[] = [];
  while (!over) {
    const t0 = performance.now();
    const r = await client.command('Common.Status', {});
    if (r.header.completionCode !== 'success') break;
    rtts.push(performance.now() - t0);
    // Paced, so that the probe is not itself a load on the daemon (about 50 a second).
    await sleep(PACE_MS);
  }
  const text = await scrapeMetrics(port, token);
  const status = latencyStats(rtts);
  const keys = latencyStats(keyMs);
  return {
    statusP50Ms: r2(status.p50Ms),
    statusP99Ms: r2(status.p99Ms),
    statusMaxMs: r2(status.maxMs),
    statusCount: rtts.length,
    loopP50Ms: loopDelayMs(text, 'nodejs_eventloop_lag_p50_seconds'),
    loopP99Ms: loopDelayMs(text, 'nodejs_eventloop_lag_p99_seconds'),
    loopMaxMs: loopDelayMs(text, 'nodejs_eventloop_lag_max_seconds'),
    keyP50Ms: r2(keys.p50Ms),
    keyP99Ms: r2(keys.p99Ms),
    keyMaxMs: r2(keys.maxMs),
    keyCount: keyMs.length,
  };
}
