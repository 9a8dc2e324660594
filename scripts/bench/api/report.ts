/**
 * bench:api's report (docs/benchmarks.md, "bench:api"): the --json result and its text form.
 */
import os from 'node:os';
import type { PathName } from '../alternation.js';
import { DEVICES, readerName } from '../pcsc-stack.js';
import type { Stack } from '../pcsc-stack.js';
import { fixed, megabytes } from '../report.js';
import { median, r1 } from '../stats.js';
import { errorsOf, judge, verdictText } from '../verdict.js';
import { PIN } from './config.js';
import type { PathRow, Row } from './path-run.js';

/** What a run found, and how it was run: the makings of the report. */
export interface ApiBenchFacts {
  readonly stack: Stack;
  /** pcscd's version. */
  readonly version: string;
  readonly quick: boolean;
  /** --card and --psam as given. */
  readonly card: string;
  readonly psam: string;
  readonly reps: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly settleMs: number;
  /** Card slots in use (the most readers of a count). */
  readonly slots: number;
  readonly order: readonly (readonly [PathName, number])[];
  readonly readerField: boolean | undefined;
  readonly rows: readonly Row[];
  /** Spawn→ready of every daemon started (ms). */
  readonly startWall: readonly number[];
  /** The daemons' own startupMs. */
  readonly startDaemon: readonly number[];
  /** The daemons' idle RSS (kB). */
  readonly idleRss: readonly number[];
  /** --slow-fsync-ms: each fsync/fdatasync of the daemon slowed by this much (0: the machine's storage). */
  readonly slowFsyncMs: number;
  /** --shared-endpoint: the flows' clients on the shared service endpoint (else each on its reader's). */
  readonly sharedEndpoint: boolean;
}

export type ApiResult = ReturnType<typeof apiResult>;

/** The --json result. */
export function apiResult(f: ApiBenchFacts) {
  const mb = megabytes;
  const apiRows = f.rows.filter((r) => r.api !== null);
  const rising = apiRows.length >= 2 ? apiRows.every((r, i) => i === 0 || r.api!.flowsPerSecond > apiRows[i - 1]!.api!.flowsPerSecond) : null;
  const rssMaxAll = Math.max(0, ...apiRows.map((r) => r.api!.rssMaxMB ?? 0));
  const allErrors = f.rows.reduce((x, r) => x + r.errors, 0);
  const droppedAll = f.rows.reduce((x, r) => x + r.driver.dropped.length + (r.api?.dropped.length ?? 0), 0);
  const result = {
    benchmark: 'api',
    flow: 'SSCard.ReadBasic + SSCard.VerifyPin (PIN typed with 6× Keyboard.TouchKey) per reader; driver: identify(PSAM) + PIN state + VERIFY + PIN state',
    stack: { mode: f.stack.mode, pcscd: f.version, ...(f.stack.fallbackReason ? { fallbackReason: f.stack.fallbackReason } : {}), cardReaders: f.stack.cardReaders.slice(0, f.slots), psamReader: f.stack.psamReader },
    loopbackQuickAck: f.quick,
    cpus: os.cpus().length,
    node: process.version,
    card: f.card,
    psam: f.psam,
    slowFsyncMs: f.slowFsyncMs,
    endpoint: f.sharedEndpoint ? 'shared' : 'perReader',
    repetitions: f.reps,
    durationMs: f.durationMs,
    warmupMs: f.warmupMs,
    order: `${f.order.map(([p, k]) => (p === 'A' ? 'driver' : 'API').concat(k > 1 ? ` ×${k}` : '')).join(', ')} per reader count (ABBA; a fresh daemon for each run of API repetitions)`,
    readerField: f.readerField ?? null,
    errors: allErrors,
    droppedReaders: droppedAll,
    results: f.rows,
    startup: {
      wallMs: { median: r1(median(f.startWall)), runs: f.startWall.map(r1) },
      daemonStartupMs: { median: r1(median(f.startDaemon)), runs: f.startDaemon },
    },
    rss: { idleMB: { median: mb(median(f.idleRss)), runs: f.idleRss.map(mb) }, maxUnderLoadMB: rssMaxAll || null },
    targets: {
      overheadMs: { target: 5, ...judge(apiRows.length === 0 || apiRows.some((r) => r.overheadMs === null) ? null : apiRows.every((r) => r.overheadMs! <= 5), allErrors) },
      throughputRisesWithReaders: judge(rising, errorsOf(apiRows.flatMap((r) => [r.driver, r.api]))),
      // Measured on idle daemons and at start-up, not during the flows: the flows' errors do not stand against them.
      idleRssMB: { target: 80, met: mb(median(f.idleRss)) <= 80 },
      startupMs: { target: 500, daemonMet: median(f.startDaemon) <= 500, wallMet: median(f.startWall) <= 500 },
    },
  };
  return result;
}

/** The text report. */
export function apiText(facts: ApiBenchFacts, result: ApiResult): string {
  const apiRows = facts.rows.filter((r) => r.api !== null);
  const f = fixed;
  const pad = (s: string, w: number): string => s.padStart(w);
  const lines = [
    `bench:api — ${result.flow}`,
    `${facts.stack.mode === 'private' ? `private pcscd ${facts.version} (own mount namespace, ${DEVICES} vpcd devices: ${facts.stack.cardReaders.length} card slots + PSAM)` : `SYSTEM pcscd ${facts.version} — fallback: ${facts.stack.fallbackReason}`}; loopback quick ACK ${facts.quick ? 'on' : 'OFF (each APDU costs ~40 ms)'}; ${result.cpus} CPUs; node ${result.node}`,
    `${facts.reps} repetitions × ${facts.durationMs} ms per path and reader count, in the order ${result.order}; warm-up ${facts.warmupMs} ms per daemon and before the driver's first repetition (${facts.settleMs} ms before its later ones)`,
    `medians over repetitions of successful flows only; ${facts.card}, PIN ${'*'.repeat(PIN.length)}, ${facts.psam}`,
    facts.sharedEndpoint ? "the flows' clients on the shared service endpoint (--shared-endpoint): each gets every reader's events" : "each flow's client on its reader's own service endpoint",
    facts.slowFsyncMs > 0 ? `SLOW STORAGE: every fsync/fdatasync of the daemon takes ${facts.slowFsyncMs} ms more (native/slow-fsync, LD_PRELOAD)` : "the machine's own storage (fsync as it is)",
    '',
    `readers | driver: flows/s   p50 ms   p99 ms errors | API: flows/s   p50 ms   p99 ms errors | card process errors | overhead p50   ratio | daemon RSS max`,
  ];
  const done = (r: Row): string => {
    const least = Math.min(r.driver.readersCompleted, r.api?.readersCompleted ?? r.readers);
    return least < r.readers ? `${r.readers} (${least})` : String(r.readers);
  };
  for (const r of facts.rows) {
    const a = r.api;
    lines.push(
      [
        pad(done(r), 7),
        `${pad(f(r.driver.flowsPerSecond), 15)} ${pad(f(r.driver.p50Ms, 2), 8)} ${pad(f(r.driver.p99Ms, 2), 8)} ${pad(String(r.driver.errors), 6)}`,
        a ? `${pad(f(a.flowsPerSecond), 12)} ${pad(f(a.p50Ms, 2), 8)} ${pad(f(a.p99Ms, 2), 8)} ${pad(String(a.errors), 6)}` : pad('skipped', 37),
        pad(`${r.driver.cardProcessErrors} / ${a ? a.cardProcessErrors : '—'}`, 19),
        `${pad(r.overheadMs === null ? '—' : `${r.overheadMs >= 0 ? '+' : ''}${r.overheadMs.toFixed(2)} ms`, 12)} ${pad(f(r.ratio, 2), 7)}`,
        a?.rssMaxMB ? `${f(a.rssMaxMB)} MB` : '—',
      ].join(' | '),
    );
  }
  lines.push('', 'errors: flows that failed (not counted in flows/s or latency); card process errors: what it saw during the driver / API repetitions');
  for (const r of facts.rows) {
    const q = r.api?.responsiveness;
    if (!q) continue;
    lines.push(
      `×${r.readers} during the API flows: a second client's Common.Status p50 ${f(q.statusP50Ms, 2)} / p99 ${f(q.statusP99Ms, 2)} / max ${f(q.statusMaxMs, 2)} ms (${q.statusCount} round trips); ` +
        `event-loop delay p50 ${q.loopP50Ms === null ? '—' : f(q.loopP50Ms, 2)} / p99 ${q.loopP99Ms === null ? '—' : f(q.loopP99Ms, 2)} / max ${q.loopMaxMs === null ? '—' : f(q.loopMaxMs, 2)} ms (monitorEventLoopDelay at 500 ms: the delay beyond it); ` +
        `a key from TouchKey to its PinDigitsEvent p50 ${f(q.keyP50Ms, 2)} / p99 ${f(q.keyP99Ms, 2)} / max ${f(q.keyMaxMs, 2)} ms (${q.keyCount} keys)`,
    );
  }
  if (result.droppedReaders > 0) lines.push('readers "4 (3)": readers were given up after 20 failed flows in a row, and only 3 completed every repetition');
  const apdu = (x: PathRow | null): string => (x?.apdusPerFlow ? `${x.apdusPerFlow.card}+${x.apdusPerFlow.psam}` : '—');
  const cpu = (c: Record<string, number> | null | undefined): string => {
    if (!c) return '—';
    const parts = Object.entries(c).map(([k, v]) => `${k} ${v.toFixed(2)}`);
    return `${parts.join(' + ')} = ${Object.values(c).reduce((x, y) => x + y, 0).toFixed(2)}`;
  };
  lines.push('', 'per flow: APDUs to the card + PSAM (driver / API); CPU ms of each process (2 CPUs shared by all)');
  for (const r of facts.rows) {
    lines.push(`  ×${r.readers}: APDUs ${apdu(r.driver)} / ${apdu(r.api)}; CPU driver run: ${cpu(r.driver.cpuMsPerFlow)}; API run: ${cpu(r.api?.cpuMsPerFlow)}`);
  }
  for (const r of facts.rows) {
    if (r.apiSkipped) lines.push(`  ${r.readers} readers over the API skipped: ${r.apiSkipped}`);
    for (const [name, p] of [['driver', r.driver], ['API', r.api]] as const) {
      if (!p) continue;
      const reasons = Object.entries(p.errorReasons);
      if (reasons.length > 0) lines.push(`  ${name} errors ×${r.readers}: ${reasons.map(([k, v]) => `${v}× ${k}`).join('; ')}`);
      if (p.cardProcessErrors > 0) lines.push(`  card process errors during the ${name} repetitions ×${r.readers}: ${p.cardProcessErrors}`);
      for (const x of p.dropped) {
        lines.push(`  ${name} ×${r.readers} rep ${x.rep + 1}: reader "${readerName(facts.stack, x.reader)}" given up after ${x.afterMs} ms (20 failed flows in a row, the last: ${x.reason})`);
      }
    }
  }
  for (const r of facts.rows) {
    const run = (x: PathRow['runs'][number]): string => `${x.flowsPerSecond}/s p50 ${f(x.p50Ms, 2)}${x.errors > 0 ? ` !${x.errors} errors` : ''}${x.readersCompleted < r.readers ? ` (${x.readersCompleted} readers)` : ''}`;
    lines.push(`  runs ×${r.readers}: driver ${r.driver.runs.map(run).join(', ')}${r.api ? `; API ${r.api.runs.map(run).join(', ')}` : ''}`);
  }
  const t = result.targets;
  const met = (b: boolean | null): string => (b === null ? 'n/a' : b ? 'met' : 'NOT met');
  lines.push(
    '',
    `start-up to ready (pcscd running): spawn→"daemon running" median ${f(result.startup.wallMs.median, 0)} ms (${facts.startWall.map((x) => x.toFixed(0)).join(', ')}); daemon's own startupMs median ${f(result.startup.daemonStartupMs.median, 0)} ms (${facts.startDaemon.join(', ')}) — target ≤ 500 ms: daemon ${met(t.startupMs.daemonMet)}, wall ${met(t.startupMs.wallMet)}`,
    `daemon RSS: idle ${f(result.rss.idleMB.median)} MB median (${result.rss.idleMB.runs.join(', ')}) — target ≤ 80 MB: ${met(t.idleRssMB.met)}; max under load ${f(result.rss.maxUnderLoadMB)} MB`,
    `API overhead ≤ 5 ms per flow (API p50 − driver p50), met only without errors: ${apiRows.map((r) => `×${r.readers} ${r.overheadMs === null ? '—' : `${r.overheadMs >= 0 ? '+' : ''}${r.overheadMs.toFixed(2)} ms`} ${verdictText(r.overheadTarget)}`).join('; ') || '—'} — overall ${verdictText(t.overheadMs)}`,
    `throughput rising with readers: ${verdictText(t.throughputRisesWithReaders)}${apiRows.length >= 2 ? ` (${apiRows.map((r) => `${r.readers}: ${r.api!.flowsPerSecond}/s`).join(' → ')})` : ''}`,
    ...(result.errors > 0 || result.droppedReaders > 0
      ? [`ERRORS: ${result.errors} in all${result.droppedReaders > 0 ? `, ${result.droppedReaders} reader(s) given up` : ''} — the figures above come from a run that did not go cleanly`]
      : ['errors: none (driver, API and card process, every reader count)']),
    '',
  );
  return lines.join('\n');
}
