/**
 * Statistics over a bench's repetitions (docs/benchmarks.md, "How the benches report"): a figure
 * is labelled for what it is — a median of per-run values is not a maximum — and a run with
 * errors is left out of a median rather than counted as if its answers had succeeded.
 */

/** The median; NaN for no values. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile of an ascending array (p in 0…100); NaN for no values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The largest value; NaN for no values (Math.max would say -Infinity). */
export function maximum(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : Math.max(...xs);
}

export const r1 = (x: number): number => Math.round(x * 10) / 10;
export const r2 = (x: number): number => Math.round(x * 100) / 100;

/** p50, p99 and the maximum of one run's latencies (in any order). */
export interface LatencyStats {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export function latencyStats(latencies: readonly number[]): LatencyStats {
  const s = [...latencies].sort((a, b) => a - b);
  return { p50Ms: percentile(s, 50), p99Ms: percentile(s, 99), maxMs: s.length === 0 ? NaN : s[s.length - 1]! };
}

/**
 * Latency figures over several runs, each named for what it is: the medians of the runs' p50
 * and p99, and of the maxima the worst one (the true maximum of all runs) beside their median.
 */
export interface LatencyAcrossRuns {
  readonly p50MedianMs: number;
  readonly p99MedianMs: number;
  /** The largest latency of all runs. */
  readonly maxMs: number;
  /** The median of the runs' maxima: how bad a typical run's worst case is. */
  readonly maxMedianMs: number;
}

export function latencyAcrossRuns(runs: readonly LatencyStats[]): LatencyAcrossRuns {
  return {
    p50MedianMs: median(runs.map((r) => r.p50Ms)),
    p99MedianMs: median(runs.map((r) => r.p99Ms)),
    maxMs: maximum(runs.map((r) => r.maxMs)),
    maxMedianMs: median(runs.map((r) => r.maxMs)),
  };
}

/** One repetition's figure and the errors seen while making it. */
export interface RunFigure {
  readonly value: number;
  readonly errors: number;
}

/**
 * The median over the runs without errors only: a run with errors is flagged and left out,
 * so that no figure counts failed answers as if they had succeeded. NaN when no run was clean.
 */
export function cleanMedian(runs: readonly RunFigure[]): { median: number; clean: number; flagged: number; errors: number } {
  const clean = runs.filter((r) => r.errors === 0);
  return { median: median(clean.map((r) => r.value)), clean: clean.length, flagged: runs.length - clean.length, errors: runs.reduce((a, r) => a + r.errors, 0) };
}
