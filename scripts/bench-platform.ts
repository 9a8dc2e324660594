/**
 * npm run bench:platform — how fast the reference platform takes operations (docs/benchmarks.md
 * "npm run bench:platform"): pushers on loopback POST batches of fresh operations (the wire form
 * of a real journal row, a new UUIDv7 each) to the platform's nodes as fast as the nodes answer,
 * for `--seconds`, `--reps` times; PostgreSQL with two nodes (a throwaway cluster,
 * scripts/bench/pg-cluster.ts) and, for comparison, the embedded SQLite with one node. Reported:
 * operations acknowledged per second, the batch acknowledgement's p50/p99, each node's CPU and
 * peak RSS; medians of the repetitions.
 *
 *   node dist/scripts/bench-platform.js [--seconds 10] [--reps 3] [--pushers 16] [--batch 200] [--json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UuidV7Generator } from '../core/uuid.js';
import { Journal } from '../daemon/journal/journal.js';
import { toWire } from '../daemon/sync/to-wire.js';
import { PROTOCOL_VERSION } from '../daemon/sync/wire.js';
import type { WireOperation } from '../daemon/sync/wire.js';
import { PgCluster } from './bench/pg-cluster.js';
import { cpuMsOf, rssKb } from './bench/processes.js';
import { latencyStats, median, r1, r2 } from './bench/stats.js';
import { PlatformNode } from './fleet/node.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    reps: { type: 'string', default: '3' },
    pushers: { type: 'string', default: '16' },
    batch: { type: 'string', default: '200' },
    json: { type: 'boolean', default: false },
  },
});
const int = (name: string, v: string | undefined, min: number, max: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`--${name} 应为 ${min} 到 ${max} 的整数 / --${name} must be an integer from ${min} to ${max}\n`);
    process.exit(2);
  }
  return n;
};
const seconds = int('seconds', values.seconds, 1, 3600);
const reps = int('reps', values.reps, 1, 20);
const pushers = int('pushers', values.pushers, 1, 256);
const batch = int('batch', values.batch, 1, 1000);
const say = (m: string): void => void process.stderr.write(`  … ${m}\n`);

/** The wire form of one real journal row: what every pushed operation is a copy of (with its own id). */
function template(dir: string): WireOperation {
  const j = Journal.open({ path: path.join(dir, 'template.db'), keyFile: path.join(dir, 'template.key'), terminalId: 'BENCH-T' });
  try {
    const id = j.beginOperation({ serviceItem: '11410402785096902M500201401000601', kind: 'change', role: 'kiosk', card: { cardId: '410402D15600000593F973FB1A6CB5A0', cardNumber: 'Y00000327', name: '李晓红' }, materials: ['socialSecurityCard'] });
    j.completeOperation(id, { outcome: 'ok', lastSw: 0x9000, triesLeft: 6 });
    return toWire(j.unsyncedPage(0, 1, false)[0]!, 'masked');
  } finally {
    j.close();
  }
}

interface Run {
  readonly opsPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly nodeCpuPct: number[];
  readonly nodeRssMb: number[];
}

async function run(nodes: readonly PlatformNode[], op: WireOperation): Promise<Run> {
  const ids = new UuidV7Generator();
  const latencies: number[] = [];
  let acked = 0;
  let errors = 0;
  const cpu0 = nodes.map((n) => cpuMsOf(n.pid ?? 0) ?? 0);
  const rssMax = nodes.map(() => 0);
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const sampler = setInterval(() => nodes.forEach((n, i) => (rssMax[i] = Math.max(rssMax[i]!, (rssKb(n.pid ?? 0) ?? 0) / 1024))), 200);
  await Promise.all(
    Array.from({ length: pushers }, async (_, p) => {
      const node = nodes[p % nodes.length]!;
      const terminalId = `BENCH-${String(p).padStart(3, '0')}`;
      while (performance.now() < end) {
        const operations = Array.from({ length: batch }, () => ({ ...op, id: ids.next() }));
        const body = JSON.stringify({ protocol: PROTOCOL_VERSION, terminalId, batchId: ids.next(), operations });
        const s = performance.now();
        try {
          const res = await fetch(new URL('v1/operations', node.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          const answer = (await res.json()) as { accepted?: string[] };
          if (res.status !== 200 || answer.accepted?.length !== batch) errors++;
          else {
            acked += batch;
            latencies.push(performance.now() - s);
          }
        } catch {
          errors++;
        }
      }
    }),
  );
  clearInterval(sampler);
  const wall = performance.now() - t0;
  const cpu = nodes.map((n, i) => (((cpuMsOf(n.pid ?? 0) ?? 0) - cpu0[i]!) / wall) * 100);
  const l = latencyStats(latencies);
  return { opsPerS: (acked / wall) * 1000, p50Ms: l.p50Ms, p99Ms: l.p99Ms, errors, nodeCpuPct: cpu, nodeRssMb: rssMax };
}

const dir = mkdtempSync(path.join(tmpdir(), 'sscard-bench-platform-'));
let cluster: PgCluster | undefined;
const started: PlatformNode[] = [];
const report: Record<string, unknown>[] = [];
let failed = false;
try {
  const op = template(dir);
  cluster = await PgCluster.start(['sscard_platform']);
  const setups: [string, () => Promise<PlatformNode[]>][] = [
    ['PostgreSQL, 2 nodes', async () => Promise.all([0, 1].map(() => PlatformNode.start(['--database-url', cluster!.url('sscard_platform')])))],
    ['SQLite (embedded), 1 node', async () => [await PlatformNode.start(['--db', path.join(dir, 'central.sqlite')])]],
  ];
  for (const [name, start] of setups) {
    const nodes = await start();
    started.push(...nodes);
    // A short warm-up: the nodes' code optimised, PostgreSQL's first partition made.
    await run(nodes, op).catch(() => undefined);
    const runs: Run[] = [];
    for (let i = 0; i < reps; i++) {
      const r = await run(nodes, op);
      runs.push(r);
      say(`${name} rep ${i + 1}/${reps}: ${r1(r.opsPerS)} ops/s, ack p50 ${r2(r.p50Ms)} / p99 ${r2(r.p99Ms)} ms, ${r.errors} errors, node CPU ${r.nodeCpuPct.map(r1).join(' + ')} %`);
    }
    const row = {
      store: name,
      opsPerS: r1(median(runs.map((r) => r.opsPerS))),
      ackP50Ms: r2(median(runs.map((r) => r.p50Ms))),
      ackP99Ms: r2(median(runs.map((r) => r.p99Ms))),
      errors: runs.reduce((n, r) => n + r.errors, 0),
      nodeCpuPct: nodes.map((_, i) => r1(median(runs.map((r) => r.nodeCpuPct[i]!)))),
      nodeRssMaxMb: nodes.map((_, i) => r1(Math.max(...runs.map((r) => r.nodeRssMb[i]!)))),
    };
    report.push(row);
    if (row.errors > 0) failed = true;
    for (const n of nodes) await n.stop();
  }
  if (values.json) process.stdout.write(JSON.stringify({ seconds, reps, pushers, batch, report }, null, 2) + '\n');
  else {
    process.stdout.write(`bench:platform — ${pushers} pushers × batches of ${batch}, ${seconds} s × ${reps} (medians); loopback; 2 CPUs shared by pushers, nodes and the database\n`);
    for (const r of report) {
      process.stdout.write(`  ${String(r['store'])}: ${String(r['opsPerS'])} ops/s, ack p50 ${String(r['ackP50Ms'])} / p99 ${String(r['ackP99Ms'])} ms, errors ${String(r['errors'])}, node CPU ${JSON.stringify(r['nodeCpuPct'])} %, node RSS max ${JSON.stringify(r['nodeRssMaxMb'])} MB\n`);
    }
    const pgRow = report[0]!;
    const met = Number(pgRow['opsPerS']) >= 20_000 && Number(pgRow['ackP99Ms']) <= 250 && pgRow['errors'] === 0;
    process.stdout.write(`  target (PostgreSQL, 2 nodes: ≥ 20,000 ops/s, p99 ack ≤ 250 ms, no error): ${met ? 'met' : 'NOT met'}\n`);
  }
  process.exitCode = failed ? 1 : 0;
} catch (e) {
  process.stderr.write(`bench:platform failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
} finally {
  for (const n of started) await n.stop();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}
