/**
 * What bench:api collects per path (driver, API) and reader count, and the one-line progress of a
 * repetition (docs/benchmarks.md, "bench:api").
 */
import type { Cards } from '../cards.js';
import type { Responsiveness } from './responsiveness.js';
import type { Rep, Summary } from '../loops.js';
import { summarise } from '../loops.js';
import { addCpu, cpuNow } from '../processes.js';
import { r1, r2 } from '../stats.js';
import type { Verdict } from '../verdict.js';

/** CPU ms per flow of each process. */
function cpuPerFlow(total: Map<string, number>, flows: number): Record<string, number> | null {
  if (flows === 0 || total.size === 0) return null;
  return Object.fromEntries([...total].map(([k, v]) => [k, r2(v / flows)]));
}

/** One path's figures for one reader count. */
export type PathRow = Summary & {
  /** CPU time per successful flow of each process (driver = this process; clients = this process's WebSocket clients). */
  cpuMsPerFlow: Record<string, number> | null;
  /** APDUs to the card and the PSAM per flow, counted by the card process; only when no flow failed (a failed one sends fewer). */
  apdusPerFlow: { card: number; psam: number } | null;
  /** Errors the card process saw during this path's repetitions. */
  cardProcessErrors: number;
};

export interface Row {
  readers: number;
  driver: PathRow;
  api: (PathRow & { rssMaxMB: number | null; readerField: boolean; responsiveness: Responsiveness | null }) | null;
  apiSkipped?: string;
  overheadMs: number | null;
  ratio: number | null;
  /** Everything that stands against this row's figures: failed flows and the card process's errors, both paths. */
  errors: number;
  /** API overhead p50 ≤ 5 ms, met only without errors. */
  overheadTarget: Verdict;
}

/** What a path collects over its groups of repetitions (a group: consecutive repetitions of one path in the ABBA order). */
export class PathRun {
  readonly reps: Rep[] = [];
  readonly cpu = new Map<string, number>();
  apdus = { card: 0, psam: 0 };
  cardProcessErrors = 0;

  /** Runs `count` repetitions of `flow` on `n` readers, measuring CPU of `procs` and what the card process counts. */
  async group(
    count: number,
    run: () => Promise<Rep>,
    cards: Cards,
    self: string,
    procs: readonly (readonly [string, number | undefined])[],
    after: (rep: Rep) => void,
  ): Promise<void> {
    const before = await cards.counts();
    const cpu0 = cpuNow(self, procs);
    for (let r = 0; r < count; r++) {
      const rep = await run();
      this.reps.push(rep);
      after(rep);
    }
    const cpu1 = cpuNow(self, procs);
    const end = await cards.counts();
    addCpu(this.cpu, cpu0, cpu1);
    this.apdus = { card: this.apdus.card + end.card - before.card, psam: this.apdus.psam + end.psam - before.psam };
    this.cardProcessErrors += end.errors - before.errors;
  }

  row(): PathRow {
    const s = summarise(this.reps);
    return {
      ...s,
      cpuMsPerFlow: cpuPerFlow(this.cpu, s.flows),
      apdusPerFlow: s.flows > 0 && s.errors === 0 ? { card: r1(this.apdus.card / s.flows), psam: r1(this.apdus.psam / s.flows) } : null,
      cardProcessErrors: this.cardProcessErrors,
    };
  }
}

/** "123 flows, 0 errors" (with the commonest error's text, and the readers given up, when there are some). */
export function repLine(r: Rep): string {
  const top = r.errors.top();
  const dropped = r.dropped.length > 0 ? `; ${r.dropped.length} of ${r.readers} readers given up, ${r.readersCompleted} completed` : '';
  return `${r.flows} flows, ${r.errors.count} errors${top ? ` (${top[1]}× ${top[0]})` : ''}${dropped}`;
}
