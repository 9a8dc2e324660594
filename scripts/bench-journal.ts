/**
 * npm run bench:journal — the journal's durable append rate and latency as it grows, and the
 * drain rate of a backlog to the reference platform on loopback (docs/benchmarks.md).
 *
 * - Appends: `beginOperation` (one row, card identity encrypted, one fsynced commit under WAL +
 *   synchronous=FULL) at journal sizes 0, 100k and 1M rows; `--runs` runs of `--appends` each.
 *   Reported: the median over the runs of appends/s, of each run's p50 and of its p99; the
 *   largest latency of all runs (the true maximum) beside the median of the runs' maxima. Also a
 *   whole operation (begin + complete: two commits), median operations/s. And at each size what
 *   the daemon's status reads of the journal (Journal.summary, on every Status, status change and
 *   metrics scrape) against the full stats() of `sscard journal stats`: median ms of 51 and 3 calls.
 * - Drain: a backlog of `--backlog` rows pushed with SyncWorker.syncNow (batches of 200) to the
 *   reference server running in its own process; `--drain-runs` runs, median records/s; peak RSS
 *   (VmHWM) of the syncing process and of the server.
 *
 *   node dist/scripts/bench-journal.js [--sizes 0,100000,1000000] [--runs 5] [--appends 2000]
 *     [--backlog 100000] [--drain-runs 3] [--dir DIR] [--json]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { shippedServiceItemCode } from '../daemon/flows/catalog.js';
import { Journal } from '../daemon/journal/journal.js';
import type { BeginInput } from '../daemon/journal/types.js';
import { SyncWorker } from '../daemon/sync/worker.js';
import { intOption } from './bench/run.js';
import type { LatencyAcrossRuns, LatencyStats } from './bench/stats.js';
import { latencyAcrossRuns, latencyStats, median } from './bench/stats.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const EXT = path.extname(fileURLToPath(import.meta.url));

/** 社会保障卡密码修改与重置, from the shipped catalog. */
const PIN_ITEM = shippedServiceItemCode('change');

function input(i: number): BeginInput {
  return {
    serviceItem: PIN_ITEM,
    kind: 'change',
    role: 'kiosk',
    card: {
      cardId: `410402D156000005${(i & 0xffffffff).toString(16).toUpperCase().padStart(16, '0')}`,
      cardNumber: `Y${String(i % 1e8).padStart(8, '0')}`,
      socialSecurityNumber: '410402199207080047',
      name: '李晓红',
    },
    materials: ['socialSecurityCard'],
  };
}

function openAt(dir: string): Journal {
  return Journal.open({ path: path.join(dir, 'journal.sqlite'), keyFile: path.join(dir, 'journal.key'), terminalId: 'T-BENCH', check: 'none' });
}

/** Bulk-load `n` completed, synced rows (10k per transaction) so the journal has that size. */
function prefill(j: Journal, n: number, synced: boolean): void {
  const chunk = 10_000;
  for (let done = 0; done < n; done += chunk) {
    const ids: string[] = [];
    j.transaction(() => {
      for (let i = done; i < Math.min(n, done + chunk); i++) {
        const id = j.beginOperation(input(i));
        j.completeOperation(id, { outcome: 'ok', lastSw: 0x9000, triesLeft: 6 });
        ids.push(id);
      }
      if (synced) j.markSynced(ids);
    });
    if (done % 200_000 === 0 && n >= 200_000) process.stderr.write(`  prefill ${done}/${n}\r`);
  }
  if (n >= 200_000) process.stderr.write('\n');
}

interface AppendFigures extends LatencyAcrossRuns {
  size: number;
  runs: number;
  /** Median over the runs. */
  appendsPerSec: number;
  /** Median over the runs of begin + complete. */
  operationsPerSec: number;
  /** Journal.summary() and Journal.stats() at this size, median ms. */
  summaryMs: number;
  statsMs: number;
}

/** Median ms of `n` calls of `f`. */
function medianCallMs(n: number, f: () => unknown): number {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    f();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

function benchAppends(size: number, runs: number, appends: number, base: string): AppendFigures {
  const dir = mkdtempSync(path.join(base, `bench-${size}-`));
  try {
    let j = openAt(dir);
    if (size > 0) {
      process.stderr.write(`journal of ${size} rows: filling…\n`);
      prefill(j, size, true);
      j.close();
      j = openAt(dir);
    }
    const rates: number[] = [];
    const latency: LatencyStats[] = [];
    const opRates: number[] = [];
    let k = size;
    // Warm-up (JIT, page cache), not counted.
    j.transaction(() => undefined);
    for (let i = 0; i < 200; i++) j.completeOperation(j.beginOperation(input(k++)), { outcome: 'ok' });
    for (let r = 0; r < runs; r++) {
      const lat: number[] = new Array<number>(appends);
      const pending: string[] = [];
      const t0 = performance.now();
      for (let i = 0; i < appends; i++) {
        const a = performance.now();
        pending.push(j.beginOperation(input(k++)));
        lat[i] = performance.now() - a;
      }
      const dt = performance.now() - t0;
      // Complete them (not timed as appends) so the journal stays realistic.
      j.transaction(() => {
        for (const id of pending) j.completeOperation(id, { outcome: 'ok', lastSw: 0x9000 });
      });
      rates.push((appends / dt) * 1000);
      latency.push(latencyStats(lat));
      // Whole operations: begin, then complete, each its own durable commit.
      const n = Math.max(1, Math.floor(appends / 2));
      const t1 = performance.now();
      for (let i = 0; i < n; i++) {
        const id = j.beginOperation(input(k++));
        j.completeOperation(id, { outcome: 'ok', lastSw: 0x9000, triesLeft: 6 });
      }
      opRates.push((n / (performance.now() - t1)) * 1000);
    }
    const summaryMs = medianCallMs(51, () => j.summary());
    const statsMs = medianCallMs(3, () => j.stats());
    j.close();
    return { size, runs, appendsPerSec: median(rates), ...latencyAcrossRuns(latency), operationsPerSec: median(opRates), summaryMs, statsMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function vmHwmKb(pid: number | 'self'): number {
  try {
    const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

interface CentralProc {
  url: string;
  pid: number;
  stop(): Promise<number>;
}

function startCentral(): Promise<CentralProc> {
  const script = path.join(HERE, `central${EXT}`);
  const child = spawn(process.execPath, [...process.execArgv, script, '--memory', '--port', '0', '--no-admin'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('error', reject);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      const m = /(http:\/\/\S+\/)/.exec(out);
      if (m) {
        child.stdout.removeAllListeners('data');
        resolve({
          url: m[1]!,
          pid: child.pid!,
          stop: () =>
            new Promise<number>((res) => {
              const hwm = vmHwmKb(child.pid!);
              child.on('exit', () => res(hwm));
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.on('exit', (code) => reject(new Error(`central exited (${String(code)}) before listening: ${out}`)));
  });
}

interface DrainFigures {
  backlog: number;
  /** Median over the runs. */
  recordsPerSec: number;
  runs: number[];
  peakRssWorkerMiB: number;
  peakRssServerMiB: number;
}

/** In a fresh process (so its peak RSS is the worker's own): drain the backlog `runs` times. */
async function drainChild(dir: string, runs: number): Promise<void> {
  const rates: number[] = [];
  let serverHwm = 0;
  for (let r = 0; r < runs; r++) {
    // Every run starts from the full backlog.
    const raw = new Database(path.join(dir, 'journal.sqlite'));
    raw.pragma('journal_mode = WAL');
    raw.prepare("UPDATE operations SET sync_state = 'unsynced', synced_at = NULL").run();
    raw.close();
    const central = await startCentral();
    const j = openAt(dir);
    const w = new SyncWorker(j, { endpoint: central.url, terminalId: 'T-BENCH', batchSize: 200, timeoutMs: 30_000 });
    const n = j.backlog().count;
    const t0 = performance.now();
    const report = await w.syncNow();
    const dt = performance.now() - t0;
    w.close();
    j.close();
    serverHwm = Math.max(serverHwm, await central.stop());
    if (report.remaining !== 0 || report.accepted !== n) throw new Error(`drain incomplete: ${JSON.stringify(report)}`);
    rates.push((n / dt) * 1000);
  }
  process.stdout.write(`${JSON.stringify({ rates, workerHwmKb: vmHwmKb('self'), serverHwmKb: serverHwm })}\n`);
}

async function benchDrain(backlog: number, runs: number, base: string): Promise<DrainFigures> {
  const dir = mkdtempSync(path.join(base, 'bench-drain-'));
  try {
    process.stderr.write(`drain: filling a backlog of ${backlog}…\n`);
    const j = openAt(dir);
    prefill(j, backlog, false);
    j.close();
    const self = fileURLToPath(import.meta.url);
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [...process.execArgv, self, '--drain-child', dir, '--drain-runs', String(runs)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let s = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d: string) => (s += d));
      child.on('exit', (code) => (code === 0 ? resolve(s) : reject(new Error(`drain child failed (${String(code)})`))));
    });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { rates: number[]; workerHwmKb: number; serverHwmKb: number };
    return { backlog, recordsPerSec: median(r.rates), runs: r.rates.map(Math.round), peakRssWorkerMiB: r.workerHwmKb / 1024, peakRssServerMiB: r.serverHwmKb / 1024 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '0,100000,1000000' },
      runs: { type: 'string', default: '5' },
      appends: { type: 'string', default: '2000' },
      backlog: { type: 'string', default: '100000' },
      'drain-runs': { type: 'string', default: '3' },
      dir: { type: 'string' },
      json: { type: 'boolean', default: false },
      'drain-child': { type: 'string' },
    },
  });
  const drainRuns = intOption('drain-runs', values['drain-runs'], 1);
  if (values['drain-child'] !== undefined) {
    await drainChild(values['drain-child'], drainRuns);
    return;
  }
  const base = values.dir ?? tmpdir();
  const sizes = values.sizes.split(',').map((s) => intOption('sizes', s, 0));
  const runs = intOption('runs', values.runs, 1);
  const appends = intOption('appends', values.appends, 1);
  const backlog = intOption('backlog', values.backlog, 1);
  const appendFigures: AppendFigures[] = [];
  if (!values.json) {
    process.stdout.write(
      `appends: ${runs} runs × ${appends} per journal size; appends/s, p50 and p99 are medians over the runs; ` +
        `max is the largest latency of all runs, "a run's max" the median of the runs' maxima\n`,
    );
  }
  for (const size of sizes) {
    const f = benchAppends(size, runs, appends, base);
    appendFigures.push(f);
    if (!values.json) {
      process.stdout.write(
        `journal ${String(size).padStart(8)} rows: ${f.appendsPerSec.toFixed(0).padStart(6)} appends/s  p50 ${f.p50MedianMs.toFixed(2)} ms  p99 ${f.p99MedianMs.toFixed(2)} ms  ` +
          `max ${f.maxMs.toFixed(2)} ms (a run's max: median ${f.maxMedianMs.toFixed(2)} ms)  (begin+complete: ${f.operationsPerSec.toFixed(0)} operations/s)  ` +
          `status: summary() ${f.summaryMs.toFixed(3)} ms, stats() ${f.statsMs.toFixed(2)} ms\n`,
      );
    }
  }
  const drain = await benchDrain(backlog, drainRuns, base);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ node: process.version, appends: appendFigures, drain }, null, 2)}\n`);
  } else {
    process.stdout.write(
      `drain of ${drain.backlog} to the reference server on loopback: median ${drain.recordsPerSec.toFixed(0)} records/s over ${drain.runs.length} runs (${drain.runs.join(', ')}); ` +
        `peak RSS: worker ${drain.peakRssWorkerMiB.toFixed(0)} MiB, server ${drain.peakRssServerMiB.toFixed(0)} MiB\n`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:journal failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
