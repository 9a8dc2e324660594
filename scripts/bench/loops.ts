/**
 * The loops of bench:api (docs/benchmarks.md, "bench:api"): readers side by side, each running a
 * flow until a repetition's time is over; a reader that only fails is given up and reported; the
 * figures are of successful flows only.
 */
import { ErrorTally, reasonOf } from './errors.js';
import { latencyStats, median, r1, r2 } from './stats.js';


/** One loop (one reader) of a repetition. */
export interface LoopOutcome {
  readonly flows: number;
  readonly latencies: readonly number[];
  readonly errors: ErrorTally;
  /** Set when the loop gave up before the end of the repetition. */
  readonly dropped?: { readonly afterMs: number; readonly reason: string };
}

/** A repetition: `readers` loops side by side. */
export interface Rep {
  readonly readers: number;
  /** Readers whose loop ran to the end of the repetition. */
  readonly readersCompleted: number;
  /** Index and why of each reader given up during the repetition. */
  readonly dropped: readonly { readonly reader: number; readonly afterMs: number; readonly reason: string }[];
  /** Successful flows only. */
  readonly flows: number;
  readonly errors: ErrorTally;
  readonly elapsedMs: number;
  /** Latencies of the successful flows. */
  readonly latencies: readonly number[];
}

export function repOf(loops: readonly LoopOutcome[], elapsedMs: number): Rep {
  const dropped = loops.flatMap((l, reader) => (l.dropped ? [{ reader, ...l.dropped }] : []));
  return {
    readers: loops.length,
    readersCompleted: loops.length - dropped.length,
    dropped,
    flows: loops.reduce((a, l) => a + l.flows, 0),
    errors: ErrorTally.sum(loops.map((l) => l.errors)),
    elapsedMs,
    latencies: loops.flatMap((l) => l.latencies),
  };
}

export interface LoopOptions {
  /** A reader that fails this many flows in a row is given up for the repetition (default 20). */
  readonly dropAfter?: number;
  /** Pause after a failed flow, so that a failing reader does not spin (default 20 ms). */
  readonly pauseMs?: number;
}

/**
 * `n` loops side by side, each running `flow(i)` until `durationMs` are over; a flow started in
 * time is finished. A flow fails when it throws or returns a reason. A reader that fails
 * `dropAfter` flows in a row is given up: it is then reported as dropped and is not counted
 * among the readers that completed the repetition.
 */
export async function runLoops(n: number, durationMs: number, flow: (i: number) => Promise<string | undefined>, options: LoopOptions = {}): Promise<Rep> {
  const dropAfter = options.dropAfter ?? 20;
  const pauseMs = options.pauseMs ?? 20;
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  const loops = await Promise.all(
    Array.from({ length: n }, async (_, i): Promise<LoopOutcome> => {
      const latencies: number[] = [];
      const errors = new ErrorTally();
      let flows = 0;
      let inARow = 0;
      while (performance.now() < deadline) {
        const t = performance.now();
        let why: string | undefined;
        try {
          why = await flow(i);
        } catch (e) {
          why = reasonOf(e);
        }
        if (why === undefined) {
          latencies.push(performance.now() - t);
          flows++;
          inARow = 0;
          continue;
        }
        errors.add(why);
        if (++inARow >= dropAfter) return { flows, latencies, errors, dropped: { afterMs: performance.now() - t0, reason: why } };
        if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
      }
      return { flows, latencies, errors };
    }),
  );
  return repOf(loops, performance.now() - t0);
}

/** One path's figures over its repetitions (bench:api). */
export interface Summary {
  /** Medians over the repetitions of successful flows per second and of their p50 / p99. */
  readonly flowsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Successful flows and failed ones, over all repetitions. */
  readonly flows: number;
  readonly errors: number;
  readonly errorReasons: Record<string, number>;
  /** The fewest readers that completed a repetition, and every reader given up. */
  readonly readersCompleted: number;
  readonly dropped: readonly { readonly rep: number; readonly reader: number; readonly afterMs: number; readonly reason: string }[];
  readonly runs: readonly { flowsPerSecond: number; p50Ms: number; p99Ms: number; flows: number; errors: number; readersCompleted: number }[];
}

export function summarise(reps: readonly Rep[]): Summary {
  const runs = reps.map((r) => {
    const l = latencyStats(r.latencies);
    return { flowsPerSecond: r1(r.flows / (r.elapsedMs / 1000)), p50Ms: r2(l.p50Ms), p99Ms: r2(l.p99Ms), flows: r.flows, errors: r.errors.count, readersCompleted: r.readersCompleted };
  });
  const errors = ErrorTally.sum(reps.map((r) => r.errors));
  return {
    flowsPerSecond: r1(median(runs.map((r) => r.flowsPerSecond))),
    p50Ms: r2(median(runs.map((r) => r.p50Ms))),
    p99Ms: r2(median(runs.map((r) => r.p99Ms))),
    flows: reps.reduce((a, r) => a + r.flows, 0),
    errors: errors.count,
    errorReasons: errors.toRecord(),
    readersCompleted: reps.length === 0 ? 0 : Math.min(...reps.map((r) => r.readersCompleted)),
    dropped: reps.flatMap((r, rep) => r.dropped.map((d) => ({ rep, ...d, afterMs: Math.round(d.afterMs) }))),
    runs,
  };
}
