/**
 * How a bench puts out its report (docs/benchmarks.md, "How the benches report"): the result
 * object as JSON with --json, its text form otherwise; numbers that could not be made are "—".
 */
import { r1 } from './stats.js';

/** `x` with `d` decimals, or "—" when there is no figure (null, undefined, NaN, ±Infinity). */
export function fixed(x: number | null | undefined, d = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d);
}

/** kB in MB, to 0.1. */
export function megabytes(kb: number): number {
  return r1(kb / 1024);
}

/** Counts by kind, one a line ("    1234  kind"), the first `limit` and how many more. */
export function countTable(o: Record<string, number>, limit = 40): string {
  return (
    Object.entries(o)
      .slice(0, limit)
      .map(([k, v]) => `    ${String(v).padStart(7)}  ${k}`)
      .join('\n') + (Object.keys(o).length > limit ? `\n    … ${Object.keys(o).length - limit} more` : '')
  );
}

/** The report: `result` as indented JSON (one line end) with --json, else its text. */
export function reportOf(json: boolean, result: unknown, text: () => string): string {
  return json ? `${JSON.stringify(result, null, 2)}\n` : text();
}

/** Writes to stdout and resolves once it is handed over (before a teardown that may block the main thread). */
export function writeOut(text: string): Promise<void> {
  return new Promise<void>((resolve) => process.stdout.write(text, () => resolve()));
}
