/**
 * The benches' one small shared toolkit (scripts/bench-apdu.ts, bench-api.ts, bench-journal.ts):
 * statistics over repetitions, error accounting, the rule for "target met", the order in which
 * two paths alternate, and the loops of bench:api. What is pure here is unit-tested beside it
 * (bench-kit.test.ts). How the benches report, and why: docs/benchmarks.md.
 *
 * The rules the benches share (docs/benchmarks.md, "How the benches report"):
 * - a figure is labelled for what it is: a median of per-run values is not a maximum;
 * - an answer or flow that failed is an error, counted by reason and reported per path; it is
 *   never timed as if it had succeeded;
 * - a target is met only when the figure is within it AND the run that made the figure had no
 *   error at all;
 * - two paths compared in one run alternate their repetitions (ABBA), so that drift on a shared
 *   machine hits both.
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { isSsCardError } from '../core/errors.js';
import { swHex } from '../apdu/sw.js';
import type { CardsReply, CardsRequest } from './bench-api-cards.js';

// ---------------------------------------------------------------- statistics

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

// ---------------------------------------------------------------- errors

/** Errors counted by reason. */
export class ErrorTally {
  private readonly byReason = new Map<string, number>();
  private total = 0;

  add(reason: string, n = 1): this {
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + n);
    this.total += n;
    return this;
  }

  addAll(other: ErrorTally): this {
    for (const [k, v] of other.byReason) this.add(k, v);
    return this;
  }

  get count(): number {
    return this.total;
  }

  /** The commonest reason and its count. */
  top(): readonly [string, number] | undefined {
    return [...this.byReason].sort((a, b) => b[1] - a[1])[0];
  }

  /** Commonest first. */
  toRecord(): Record<string, number> {
    return Object.fromEntries([...this.byReason].sort((a, b) => b[1] - a[1]));
  }

  /** "3× SW 6A82; 1× timeout" (commonest first), or "" for none. */
  toString(): string {
    return Object.entries(this.toRecord())
      .map(([k, v]) => `${v}× ${k}`)
      .join('; ');
  }

  static sum(tallies: Iterable<ErrorTally>): ErrorTally {
    const t = new ErrorTally();
    for (const x of tallies) t.addAll(x);
    return t;
  }
}

/** The text of anything thrown (the English text of the house's errors). */
export function reasonOf(e: unknown): string {
  if (isSsCardError(e)) return e.text.en;
  return e instanceof Error ? e.message : String(e);
}

/** The status word ending a response APDU, or undefined when it has fewer than 2 bytes. */
export function statusWord(answer: Uint8Array): number | undefined {
  return answer.length < 2 ? undefined : (answer[answer.length - 2]! << 8) | answer[answer.length - 1]!;
}

/** Why an answer counts as an error ("SW 6A82"), or undefined when it ends with 9000. */
export function answerError(answer: Uint8Array): string | undefined {
  const sw = statusWord(answer);
  if (sw === undefined) return `answer of ${answer.length} byte${answer.length === 1 ? '' : 's'}, no status word`;
  return sw === 0x9000 ? undefined : `SW ${swHex(sw)}`;
}

// ---------------------------------------------------------------- targets

/** What went wrong on one path of a comparison: failed flows or answers, and errors the card process saw. */
export interface PathErrors {
  readonly errors: number;
  readonly cardProcessErrors?: number;
}

/** All the errors that stand against a figure made from these paths. */
export function errorsOf(paths: readonly (PathErrors | null | undefined)[]): number {
  return paths.reduce((a, p) => a + (p ? p.errors + (p.cardProcessErrors ?? 0) : 0), 0);
}

/**
 * A target's verdict. `within`: the figure is within the target (null: it could not be judged,
 * e.g. a comparison needs two rows). `met` only when within AND the run had no error; a run with
 * errors meets no target, even one that could not be judged.
 */
export interface Verdict {
  readonly met: boolean | null;
  readonly within: boolean | null;
  readonly errors: number;
}

export function judge(within: boolean | null, errors: number): Verdict {
  return { met: errors > 0 ? false : within, within, errors };
}

/** "met", "NOT met", "NOT met: 3 errors in the run (the figure alone is within)", … or "n/a". */
export function verdictText(v: Verdict): string {
  if (v.met === null) return 'n/a';
  if (v.met) return 'met';
  if (v.errors === 0) return 'NOT met';
  const errors = `${v.errors} error${v.errors === 1 ? '' : 's'} in the run`;
  if (v.within === null) return `NOT met: ${errors}`;
  return v.within ? `NOT met: ${errors} (the figure alone is within)` : `NOT met (and ${errors})`;
}

// ---------------------------------------------------------------- alternation

export type PathName = 'A' | 'B';

/**
 * The order of `reps` repetitions of each of two paths. ABBA (A B B A A B B A …) cancels a linear
 * drift of the machine between the two paths and lets runs of the same path come in pairs; ABAB
 * alternates strictly. Either way no path runs all its repetitions before the other starts.
 */
export function alternation(reps: number, pattern: 'ABBA' | 'ABAB' = 'ABBA'): PathName[] {
  if (!Number.isInteger(reps) || reps < 0) throw new Error(`alternation: reps must be an integer ≥ 0, got ${reps}`);
  const ab: readonly PathName[] = ['A', 'B'];
  const ba: readonly PathName[] = ['B', 'A'];
  return Array.from({ length: reps }, (_, i) => (pattern === 'ABBA' && i % 2 === 1 ? ba : ab)).flat();
}

/** Consecutive equal items as [item, count] runs: A B B A → [A,1] [B,2] [A,1]. */
export function runsOf<T>(order: readonly T[]): [T, number][] {
  const out: [T, number][] = [];
  for (const x of order) {
    const last = out.at(-1);
    if (last !== undefined && last[0] === x) last[1]++;
    else out.push([x, 1]);
  }
  return out;
}

// ---------------------------------------------------------------- loops (bench:api)

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

// ---------------------------------------------------------------- run helpers

/** A step that takes longer than `ms` fails with its name: a hang says where it is. */
export async function step<T>(name: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${name}: no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** An integer option ≥ `min`, or an error that names the option. */
export function intOption(name: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got "${String(value)}"`);
  return n;
}

/** Is loopback quick ACK on (README: each APDU through vpcd costs ~0.2 ms instead of ~40 ms)? */
export function quickAckOn(): boolean {
  try {
    return /127\.0\.0\.1.*quickack 1/.test(execFileSync('ip', ['route', 'show', 'table', 'local'], { encoding: 'utf8' }));
  } catch {
    return false;
  }
}

/** The watchdog's thread: on time-out it says why, asks the bench to clean up, and after a grace kills the process. */
const WATCHDOG_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
let timer;
let { ms, message } = workerData;
const arm = () => {
  clearTimeout(timer);
  timer = setTimeout(() => {
    writeSync(2, message + '\\n');
    parentPort.postMessage('expired');
    setTimeout(() => {
      writeSync(2, 'the bench did not end within ' + workerData.graceMs + ' ms of that: killed\\n');
      process.kill(process.pid, 'SIGKILL');
    }, workerData.graceMs);
  }, ms);
};
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearTimeout(timer);
    parentPort.close();
    return;
  }
  if (m !== null && typeof m === 'object') ({ ms, message } = m);
  arm();
});
arm();
`;

export interface Watchdog {
  /** Progress was made: start counting again (from now on with another limit and message, if given). */
  refresh(next?: { ms: number; message: string }): void;
  stop(): void;
}

/**
 * A watchdog that works even when the main thread is stuck in a native call: the pcsclite addon's
 * close() joins its status thread, which hangs when that thread missed its SCardCancel (the race
 * scripts/sscard.ts works around; the main thread then never runs a timer again). After `ms`
 * without {@link Watchdog.refresh} it writes `message` to stderr and calls `onExpire` (a clean
 * up, if the main thread still runs); `graceMs` later it kills the process, which frees whatever
 * it held (the vpcd ports' lock, a card) and ends its children that have a death signal.
 */
export function watchdog(ms: number, message: string, options: { graceMs?: number; onExpire?: () => void } = {}): Watchdog {
  // execArgv: the bench's own flags (--input-type, a loader) are not for this plain CommonJS thread.
  const w = new Worker(WATCHDOG_THREAD, { eval: true, execArgv: [], workerData: { ms, message, graceMs: options.graceMs ?? 15_000 } });
  w.on('message', () => options.onExpire?.());
  w.unref();
  return {
    refresh: (next) => w.postMessage(next ?? 'refresh'),
    stop: () => w.postMessage('stop'),
  };
}

/** SIGTERM, then SIGKILL after `ms`; resolves when the child has ended. */
export async function stopChild(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(t);
}

/**
 * The virtual cards in a child process (bench-api-cards.ts), one VirtualSsCard per card port and
 * the VirtualPsam. Never in the bench's own process: the pcsclite addon holds a reader's mutex
 * for the whole SCardTransmit while its status callback on the main thread waits for that mutex,
 * so a card answered by the main thread deadlocks the first time pcscd reports a status change
 * during a transmit.
 */
export class Cards {
  private readonly waiting: ((m: CardsReply) => void)[] = [];
  private exited: string | undefined;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: CardsReply) => this.waiting.shift()?.(m));
    child.on('exit', (code, sig) => {
      this.exited = `the card process ended (${sig ?? String(code)})`;
      for (const w of this.waiting.splice(0)) w({ type: 'error', message: this.exited });
    });
  }

  static start(env: NodeJS.ProcessEnv): Cards {
    const self = fileURLToPath(import.meta.url);
    const script = path.join(path.dirname(self), `bench-api-cards${path.extname(self)}`);
    return new Cards(fork(script, [], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  request(m: CardsRequest, ms = 20_000): Promise<CardsReply> {
    if (this.exited !== undefined) return Promise.reject(new Error(this.exited));
    return step(
      `card process (${m.type})`,
      ms,
      new Promise<CardsReply>((resolve) => {
        this.waiting.push(resolve);
        this.child.send(m);
      }),
    );
  }

  /** Insert the cards; throws with the card process's reason. */
  async insert(m: Omit<Extract<CardsRequest, { type: 'insert' }>, 'type'>): Promise<void> {
    const r = await this.request({ type: 'insert', ...m });
    if (r.type !== 'inserted') throw new Error(`inserting the virtual cards: ${r.type === 'error' ? r.message : r.type}`);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** APDUs the cards and the PSAM have answered, and the errors the card process has seen, so far. */
  async counts(): Promise<{ card: number; psam: number; errors: number }> {
    const r = await this.request({ type: 'counts' });
    if (r.type !== 'counts') throw new Error(`card process: ${r.type === 'error' ? r.message : r.type}`);
    return r;
  }

  async stop(): Promise<void> {
    if (this.exited === undefined) await this.request({ type: 'remove' }, 5000).catch(() => undefined);
    await stopChild(this.child, 2000);
  }
}

/**
 * A bench's temporary folder (logs, config, journal) and what to undo: the steps run once, in
 * reverse order, at the end, on SIGINT/SIGTERM (then exit 130) or when a watchdog gives up. The
 * folder is removed unless the run failed or `keep` is set, and then its path is printed.
 */
export class BenchScratch {
  public readonly dir: string;
  /** Undo steps, in the order they were taken (they run last first). */
  public readonly steps: (() => Promise<void> | void)[] = [];
  /** Set to false when the run succeeded; a failed run keeps its folder to look at. */
  public failed = true;
  private running: Promise<void> | undefined;

  public constructor(
    private readonly name: string,
    prefix: string,
    private readonly keep: boolean,
  ) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), prefix));
    const onSignal = (sig: NodeJS.Signals): void => {
      process.stderr.write(`${name}: ${sig}, cleaning up\n`);
      void this.run().finally(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }

  /** Undo everything (best effort; once, whoever asks first). */
  public run(): Promise<void> {
    return (this.running ??= (async () => {
      for (const step of this.steps.splice(0).reverse()) {
        try {
          await step();
        } catch {
          // best effort
        }
      }
      if (this.failed || this.keep) process.stderr.write(`${this.name}: files (logs, config, journal) kept in ${this.dir}\n`);
      else rmSync(this.dir, { recursive: true, force: true });
    })());
  }
}
