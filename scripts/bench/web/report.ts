/**
 * bench:web's figures and targets (docs/benchmarks.md "bench:web"), pure: the kiosk bundle's
 * gzipped size (≤ 150 kB), the time from a card's insertion to the holder's name on the kiosk
 * minus the same identification on the driver (≤ 50 ms, medians of the runs' p50), and the page's
 * memory over many holder flows in one session (no growth after the warm-up).
 */
import { fixed } from '../report.js';
import { latencyAcrossRuns, latencyStats, r1, type LatencyAcrossRuns } from '../stats.js';
import type { Bundle } from './bundle.js';

export const BUNDLE_TARGET_KB = 150;
export const OVERHEAD_TARGET_MS = 50;
/** The page's heap may end at most this much above its level after the warm-up (GC noise, caches that fill once). */
export const HEAP_GROWTH_LIMIT = 0.1;

/** One sample of the page after a forced garbage collection (Chrome DevTools Protocol Performance.getMetrics). */
export interface MemorySample {
  readonly flows: number;
  readonly heapBytes: number;
  readonly nodes: number;
  readonly listeners: number;
}

export interface WebFacts {
  readonly bundle: Bundle;
  /** Insertion → identified on the driver, one list per driver run (ms). */
  readonly driverRuns: readonly (readonly number[])[];
  /** Insertion → the name in the page's DOM / at the next frame after it, one list per daemon run (ms). */
  readonly pageDomRuns: readonly (readonly number[])[];
  readonly pagePaintRuns: readonly (readonly number[])[];
  /** Driver and page (next frame) timed from asking the card process for the insertion: pcscd's detection included. */
  readonly driverFromRequest: readonly (readonly number[])[];
  readonly pageFromRequest: readonly (readonly number[])[];
  readonly memory: readonly MemorySample[];
  /** Flows run before the memory baseline. */
  readonly warmupFlows: number;
  readonly failures: readonly string[];
  readonly quickAck: boolean;
  readonly stack: string;
}

export interface WebResult {
  readonly bundle: { readonly gzipKb: number; readonly bytesKb: number; readonly targetKb: number; readonly met: boolean };
  readonly insertion: {
    readonly driver: LatencyAcrossRuns;
    readonly pageDom: LatencyAcrossRuns;
    readonly pagePaint: LatencyAcrossRuns;
    readonly driverFromRequest: LatencyAcrossRuns;
    readonly pageFromRequest: LatencyAcrossRuns;
    /** pagePaint p50 − driver p50 (medians over the runs). */
    readonly overheadMs: number;
    readonly ratio: number;
    readonly targetMs: number;
    readonly met: boolean;
    readonly samples: number;
  };
  readonly memory: {
    readonly baseline: MemorySample | null;
    readonly last: MemorySample | null;
    readonly heapGrowth: number | null;
    readonly bytesPerFlow: number | null;
    readonly met: boolean;
  };
  readonly failures: number;
}

const runsOf = (runs: readonly (readonly number[])[]): LatencyAcrossRuns => latencyAcrossRuns(runs.filter((r) => r.length > 0).map(latencyStats));

/** Least-squares slope of heap bytes over flows (bytes per flow). */
export function slope(samples: readonly MemorySample[]): number | null {
  if (samples.length < 2) return null;
  const mx = samples.reduce((s, x) => s + x.flows, 0) / samples.length;
  const my = samples.reduce((s, x) => s + x.heapBytes, 0) / samples.length;
  let num = 0;
  let den = 0;
  for (const x of samples) {
    num += (x.flows - mx) * (x.heapBytes - my);
    den += (x.flows - mx) ** 2;
  }
  return den === 0 ? null : num / den;
}

export function webResult(f: WebFacts): WebResult {
  const gzipKb = f.bundle.gzip / 1024;
  const driver = runsOf(f.driverRuns);
  const pageDom = runsOf(f.pageDomRuns);
  const pagePaint = runsOf(f.pagePaintRuns);
  const overheadMs = pagePaint.p50MedianMs - driver.p50MedianMs;
  const after = f.memory.filter((m) => m.flows >= f.warmupFlows);
  const baseline = after[0] ?? null;
  const last = after.at(-1) ?? null;
  const heapGrowth = baseline !== null && last !== null && last !== baseline ? last.heapBytes / baseline.heapBytes - 1 : null;
  const nodesGrow = baseline !== null && last !== null && last.nodes > baseline.nodes * (1 + HEAP_GROWTH_LIMIT);
  const listenersGrow = baseline !== null && last !== null && last.listeners > baseline.listeners * (1 + HEAP_GROWTH_LIMIT);
  const clean = f.failures.length === 0;
  return {
    bundle: { gzipKb: r1(gzipKb), bytesKb: r1(f.bundle.bytes / 1024), targetKb: BUNDLE_TARGET_KB, met: gzipKb <= BUNDLE_TARGET_KB },
    insertion: {
      driver,
      pageDom,
      pagePaint,
      driverFromRequest: runsOf(f.driverFromRequest),
      pageFromRequest: runsOf(f.pageFromRequest),
      overheadMs: r1(overheadMs),
      ratio: Math.round((pagePaint.p50MedianMs / driver.p50MedianMs) * 100) / 100,
      targetMs: OVERHEAD_TARGET_MS,
      met: clean && Number.isFinite(overheadMs) && overheadMs <= OVERHEAD_TARGET_MS,
      samples: f.pagePaintRuns.reduce((s, r) => s + r.length, 0),
    },
    memory: {
      baseline,
      last,
      heapGrowth: heapGrowth === null ? null : Math.round(heapGrowth * 1000) / 1000,
      bytesPerFlow: after.length < 2 ? null : Math.round(slope(after) ?? 0),
      met: clean && heapGrowth !== null && heapGrowth <= HEAP_GROWTH_LIMIT && !nodesGrow && !listenersGrow,
    },
    failures: f.failures.length,
  };
}

const verdict = (met: boolean): string => (met ? 'met' : 'NOT met');
const mb = (b: number): string => `${fixed(b / 1024 / 1024, 2)} MB`;

export function webText(f: WebFacts, r: WebResult): string {
  const i = r.insertion;
  const lines = [
    `bench:web — ${f.stack}; loopback quick ACK ${f.quickAck ? 'on' : 'off'}`,
    '',
    `kiosk bundle: ${fixed(r.bundle.gzipKb)} kB gzipped (${fixed(r.bundle.bytesKb)} kB raw, ${f.bundle.files.length} files) — target ≤ ${r.bundle.targetKb} kB: ${verdict(r.bundle.met)}`,
    ...f.bundle.files.map((x) => `  ${x.file}: ${fixed(x.gzip / 1024)} kB gz`),
    '',
    `card inserted (PC/SC event) → holder's name (medians of ${f.pagePaintRuns.length} runs' p50 / p99; ${i.samples} insertions on the page):`,
    `  driver (PC/SC + identify, same card): p50 ${fixed(i.driver.p50MedianMs)} ms, p99 ${fixed(i.driver.p99MedianMs)} ms`,
    `  kiosk page, name in the DOM:          p50 ${fixed(i.pageDom.p50MedianMs)} ms, p99 ${fixed(i.pageDom.p99MedianMs)} ms`,
    `  kiosk page, next frame after it:      p50 ${fixed(i.pagePaint.p50MedianMs)} ms, p99 ${fixed(i.pagePaint.p99MedianMs)} ms, max ${fixed(i.pagePaint.maxMs)} ms`,
    `  page − driver: ${fixed(i.overheadMs)} ms (×${fixed(i.ratio, 2)}) — target ≤ ${i.targetMs} ms: ${verdict(i.met)}`,
    `  from asking for the insertion (pcscd's detection of the vpcd card included): driver p50 ${fixed(i.driverFromRequest.p50MedianMs)} ms, page p50 ${fixed(i.pageFromRequest.p50MedianMs)} ms`,
    '',
  ];
  const m = r.memory;
  if (m.baseline === null || m.last === null) lines.push('page memory: not measured');
  else {
    lines.push(
      `page memory over ${m.last.flows} holder flows (after GC; baseline after ${m.baseline.flows} flows):`,
      `  JS heap ${mb(m.baseline.heapBytes)} → ${mb(m.last.heapBytes)} (${m.heapGrowth === null ? '?' : `${fixed(m.heapGrowth * 100)} %`}, slope ${m.bytesPerFlow ?? '?'} B/flow); DOM nodes ${m.baseline.nodes} → ${m.last.nodes}; listeners ${m.baseline.listeners} → ${m.last.listeners}`,
      `  no growth (≤ ${HEAP_GROWTH_LIMIT * 100} % heap, nodes, listeners): ${verdict(m.met)}`,
    );
  }
  if (f.failures.length > 0) lines.push('', `failures (${f.failures.length}):`, ...f.failures.slice(0, 20).map((x) => `  ${x}`));
  return `${lines.join('\n')}\n`;
}
