/**
 * bench:api's report (report.ts, path-run.ts) on made-up figures: the --json shape docs/benchmarks.md
 * describes, targets met only without errors, and the text's table and verdicts.
 */
import { describe, expect, it } from 'vitest';
import type { Cards } from '../cards.js';
import { ErrorTally } from '../errors.js';
import { repOf } from '../loops.js';
import type { Rep } from '../loops.js';
import { systemStack } from '../pcsc-stack.js';
import { PathRun, repLine } from './path-run.js';
import type { Row } from './path-run.js';
import { apiResult, apiText } from './report.js';
import type { ApiBenchFacts } from './report.js';

/** A repetition of `flows` flows of `ms` each on one reader in one second, with `errors` failed ones. */
function rep(flows: number, ms: number, errors = 0): Rep {
  return repOf([{ flows, latencies: Array.from({ length: flows }, () => ms), errors: errors > 0 ? new ErrorTally().add('VerifyPin: timeOut', errors) : new ErrorTally() }], 1000);
}

/** A card process that answered `apdus` card APDUs and 3 PSAM APDUs per call of counts() after the first. */
function cards(apdus: number): Cards {
  let n = 0;
  return { counts: () => Promise.resolve({ card: apdus * n, psam: 3 * n++, errors: 0 }) } as unknown as Cards;
}

async function pathRow(reps: Rep[]): Promise<PathRun> {
  const p = new PathRun();
  const queue = [...reps];
  await p.group(reps.length, () => Promise.resolve(queue.shift()!), cards(29 * 100), 'driver', [], () => undefined);
  return p;
}

async function row(driver: Rep[], api: Rep[]): Promise<Row> {
  const d = (await pathRow(driver)).row();
  const a = { ...(await pathRow(api)).row(), rssMaxMB: 110.2, readerField: true, responsiveness: { statusP50Ms: 1.2, statusP99Ms: 4.5, statusMaxMs: 9.9, statusCount: 250, loopP50Ms: 10.1, loopP99Ms: 12.3, loopMaxMs: 30.4, keyP50Ms: 2.1, keyP99Ms: 6.5, keyMaxMs: 11.9, keyCount: 1200 } };
  const overheadMs = Math.round((a.p50Ms - d.p50Ms) * 100) / 100;
  const errors = d.errors + a.errors;
  return { readers: 1, driver: d, api: a, overheadMs, ratio: Math.round((a.p50Ms / d.p50Ms) * 100) / 100, errors, overheadTarget: { met: errors > 0 ? false : overheadMs <= 5, within: overheadMs <= 5, errors } };
}

function facts(rows: Row[]): ApiBenchFacts {
  return { stack: systemStack('test'), version: '1.9.9', quick: true, card: 'fixtures/cards/card-2.0.json', psam: 'fixtures/psam/psam-test.json', reps: 1, durationMs: 1000, warmupMs: 1000, settleMs: 1000, slots: 1, order: [['A', 1], ['B', 1]], readerField: true, rows, startWall: [700.26, 650, 800], startDaemon: [120, 110, 130], idleRss: [70_000], slowFsyncMs: 0, sharedEndpoint: false };
}

describe('bench:api report', () => {
  it('PathRun counts APDUs per successful flow and repLine says how a repetition went', async () => {
    const r = (await pathRow([rep(100, 8)])).row();
    expect(r).toMatchObject({ flowsPerSecond: 100, p50Ms: 8, flows: 100, errors: 0, apdusPerFlow: { card: 29, psam: 0 }, cardProcessErrors: 0 });
    expect(repLine(rep(10, 8, 2))).toBe('10 flows, 2 errors (2× VerifyPin: timeOut)');
  });

  it('has the --json shape of docs/benchmarks.md', async () => {
    const result = apiResult(facts([await row([rep(100, 8)], [rep(90, 11)])]));
    expect(Object.keys(result)).toEqual(['benchmark', 'flow', 'stack', 'loopbackQuickAck', 'cpus', 'node', 'card', 'psam', 'slowFsyncMs', 'endpoint', 'repetitions', 'durationMs', 'warmupMs', 'order', 'readerField', 'errors', 'droppedReaders', 'results', 'startup', 'rss', 'targets']);
    expect(Object.keys(result.results[0]!)).toEqual(['readers', 'driver', 'api', 'overheadMs', 'ratio', 'errors', 'overheadTarget']);
    expect(Object.keys(result.results[0]!.api!)).toEqual(['flowsPerSecond', 'p50Ms', 'p99Ms', 'flows', 'errors', 'errorReasons', 'readersCompleted', 'dropped', 'runs', 'cpuMsPerFlow', 'apdusPerFlow', 'cardProcessErrors', 'rssMaxMB', 'readerField', 'responsiveness']);
    expect(Object.keys(result.targets)).toEqual(['overheadMs', 'throughputRisesWithReaders', 'idleRssMB', 'startupMs']);
    expect(result.order).toBe('driver, API per reader count (ABBA; a fresh daemon for each run of API repetitions)');
    expect(result.startup.wallMs).toEqual({ median: 700.3, runs: [700.3, 650, 800] });
    expect(result.rss.idleMB).toEqual({ median: 68.4, runs: [68.4] });
    expect(result.targets.overheadMs).toEqual({ target: 5, met: true, within: true, errors: 0 });
    expect(result.targets.throughputRisesWithReaders).toEqual({ met: null, within: null, errors: 0 });
  });

  it('a run with errors meets no target and says so in its text', async () => {
    const f = facts([await row([rep(100, 8)], [rep(90, 11, 4)])]);
    const result = apiResult(f);
    expect(result.errors).toBe(4);
    expect(result.targets.overheadMs.met).toBe(false);
    const text = apiText(f, result);
    expect(text).toContain('SYSTEM pcscd 1.9.9 — fallback: test');
    expect(text).toContain('\n      1 |           100.0     8.00     8.00      0 |         90.0    11.00    11.00      4 |               0 / 0 |     +3.00 ms    1.38 | 110.2 MB\n');
    expect(text).toContain('  API errors ×1: 4× VerifyPin: timeOut');
    expect(text).toContain('ERRORS: 4 in all — the figures above come from a run that did not go cleanly');
    expect(text).toContain('×1 +3.00 ms NOT met: 4 errors in the run (the figure alone is within)');
    expect(text).toContain("×1 during the API flows: a second client's Common.Status p50 1.20 / p99 4.50 / max 9.90 ms (250 round trips); event-loop delay p50 10.10 / p99 12.30 / max 30.40 ms");
    expect(text).toContain('a key from TouchKey to its PinDigitsEvent p50 2.10 / p99 6.50 / max 11.90 ms (1200 keys)');
    expect(text).toContain("each flow's client on its reader's own service endpoint\n");
    expect(result.endpoint).toBe('perReader');
  });
});
