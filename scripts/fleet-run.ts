/**
 * npm run fleet — a fleet of virtual terminals against two platform nodes on PostgreSQL, through
 * the scenarios of docs/sync-protocol.md "A fleet on one machine" (scripts/fleet/fleet.ts; the
 * same at 50 terminals is test/fleet.test.ts):
 *
 *   node dist/scripts/fleet-run.js [--terminals 500] [--rate 1] [--steady-s 60] [--outage-s 60]
 *     [--outage-ops N] [--database-url postgres://…] [--sync-interval-ms 60000]
 *     [--hotlist-interval-ms N] [--json]
 *
 * --outage-ops N: instead of making operations at --rate while the nodes are down, each terminal
 * journals N at once when they go down — the backlog of a long outage without waiting it out
 * (30 at --rate 1 is a 30-minute outage's). The drain is timed from the nodes' return.
 *
 * Also measured: the CPU of each node, of PostgreSQL (the postmaster and its backends) and of
 * this process over the steady scenario, as a share of one core; the peak RSS of every process.
 *
 * Without --database-url a throwaway cluster is made (scripts/bench/pg-cluster.ts; needs Debian's
 * postgresql, and root or a user that may run it). Each scenario ends with the drain and the
 * check: every finished operation of every journal held exactly once, counts per terminal equal.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_HOTLIST_INTERVAL_MS } from '../daemon/config/schema.js';
import { PgStore } from '../platform/store/pg-store.js';
import { PgCluster } from './bench/pg-cluster.js';
import { addCpu, cpuNow, peakRssKb, rssKb, withChildren } from './bench/processes.js';
import { Fleet } from './fleet/fleet.js';
import type { FleetCheck } from './fleet/fleet.js';
import { PlatformNode } from './fleet/node.js';

const { values } = parseArgs({
  options: {
    terminals: { type: 'string', default: '500' },
    rate: { type: 'string', default: '1' },
    'steady-s': { type: 'string', default: '60' },
    'outage-s': { type: 'string', default: '60' },
    'sync-interval-ms': { type: 'string', default: '60000' },
    'outage-ops': { type: 'string' },
    'hotlist-interval-ms': { type: 'string' },
    'database-url': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

function num(name: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) {
    process.stderr.write(`--${name} 应为不小于 ${min} 的数 / --${name} must be a number ≥ ${min}\n`);
    process.exit(2);
  }
  return n;
}

const terminals = num('terminals', values.terminals, 1);
const rate = num('rate', values.rate, 0);
const steadyMs = num('steady-s', values['steady-s'], 1) * 1000;
const outageMs = num('outage-s', values['outage-s'], 1) * 1000;
const syncIntervalMs = num('sync-interval-ms', values['sync-interval-ms'], 100);
/**
 * How often each terminal asks for the hotlist. Default: the daemon's own (`sync.hotlistIntervalMs`),
 * or with each sync pass when those are more often (the short runs), at most once a second.
 */
const hotlistIntervalMs = num('hotlist-interval-ms', values['hotlist-interval-ms'] ?? String(Math.max(Math.min(syncIntervalMs, DEFAULT_HOTLIST_INTERVAL_MS), 1000)), 1000);
const outageOps = values['outage-ops'] === undefined ? undefined : num('outage-ops', values['outage-ops'], 0);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const say = (m: string): void => void process.stderr.write(`  … ${m}\n`);

interface ScenarioResult {
  readonly scenario: string;
  readonly journaled: number;
  readonly drainMs: number;
  readonly check: FleetCheck;
  readonly exactlyOnce: boolean;
}

const results: ScenarioResult[] = [];
/** Peak resident set (kB) of each process, sampled every second and from VmHWM before a process ends. */
const peakRss = new Map<string, number>();
const dir = mkdtempSync(path.join(tmpdir(), 'sscard-fleet-run-'));
let cluster: PgCluster | undefined;
const nodes: PlatformNode[] = [];
let fleet: Fleet | undefined;
let store: PgStore | undefined;

try {
  let url = values['database-url'];
  if (url === undefined) {
    cluster = await PgCluster.start(['sscard_platform']);
    url = cluster.url('sscard_platform');
    say(`throwaway PostgreSQL on port ${cluster.port}`);
  }
  const s = await PgStore.open({ url });
  store = s;
  const key = generateKeyPairSync('ed25519');
  const keyFile = path.join(dir, 'hotlist.key');
  writeFileSync(keyFile, key.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(`${keyFile}.pub`, key.publicKey.export({ type: 'spki', format: 'pem' }));
  for (let i = 0; i < 2; i++) nodes.push(await PlatformNode.start(['--database-url', url, '--hotlist-key', keyFile]));
  const f = Fleet.create({ dir, terminals, endpoints: nodes.map((n) => n.url), ratePerMinute: rate, syncIntervalMs, hotlistIntervalMs, hotlistPublicKey: key.publicKey });
  fleet = f;
  say(`${terminals} terminals, ${rate} operations per terminal per minute, sync every ${syncIntervalMs} ms, hotlist every ${hotlistIntervalMs} ms, 2 nodes`);

  /** The processes measured: the nodes and every PostgreSQL process (named pg:<pid>). */
  const watched = (): [string, number | undefined][] => {
    const pg = cluster?.pid;
    return [...nodes.map((n, i): [string, number | undefined] => [`node ${i + 1}`, n.pid]), ...(pg === undefined ? [] : withChildren(pg).map((p): [string, number] => [`pg:${p}`, p]))];
  };
  const notePeak = (name: string, kb: number | undefined): void => {
    const key = name.startsWith('pg:') ? 'PostgreSQL (largest process)' : name;
    if (kb !== undefined && kb > (peakRss.get(key) ?? 0)) peakRss.set(key, kb);
  };
  const sampleRss = (peak = false): void => {
    for (const [name, pid] of watched()) if (pid !== undefined) notePeak(name, peak ? peakRssKb(pid) : rssKb(pid));
    notePeak('fleet (this process)', process.resourceUsage().maxRSS);
  };
  const sampler = setInterval(() => sampleRss(), 1000);
  sampler.unref();
  const killNode = async (n: PlatformNode): Promise<void> => {
    sampleRss(true);
    await n.kill();
  };

  const drain = async (scenario: string): Promise<void> => {
    f.pause();
    f.wakeAll();
    const t0 = Date.now();
    while (f.backlog() > 0) {
      if (Date.now() - t0 > 30 * 60_000) throw new Error(`${scenario}: the backlog did not drain in 30 min`);
      await sleep(200);
    }
    const drainMs = Date.now() - t0;
    const check = f.verify(await s.operationCopies(), await s.operationsPerTerminal());
    const exactlyOnce = check.missing === 0 && check.unknown === 0 && check.countMismatches.length === 0;
    results.push({ scenario, journaled: check.journaled, drainMs, check, exactlyOnce });
    say(`${scenario}: ${check.journaled} operations journaled, drained in ${drainMs} ms, exactly once: ${exactlyOnce ? 'yes' : `NO (${JSON.stringify(check)})`}`);
  };

  f.start();
  const cpu0 = cpuNow('fleet', watched());
  const wall0 = Date.now();
  await sleep(steadyMs);
  const cpuTotal = new Map<string, number>();
  addCpu(cpuTotal, cpu0, cpuNow('fleet', watched()));
  const wall = Date.now() - wall0;
  const steadyCpu: Record<string, number> = {};
  for (const [name, ms] of cpuTotal) {
    const key = name.startsWith('pg:') ? 'PostgreSQL' : name;
    steadyCpu[key] = (steadyCpu[key] ?? 0) + (100 * ms) / wall;
  }
  say(`steady CPU, % of one core: ${Object.entries(steadyCpu).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
  await drain('steady');

  if (outageOps === undefined) f.start();
  else f.pause();
  await Promise.all(nodes.map((n) => killNode(n)));
  if (outageOps !== undefined) f.operateEach(outageOps);
  await sleep(outageMs);
  await Promise.all(nodes.map((n) => n.up()));
  await drain(outageOps === undefined ? `outage of ${outageMs / 1000} s, then the drain` : `outage with ${outageOps} operations per terminal journaled, then the drain`);

  f.start();
  await sleep(Math.min(steadyMs, 10_000));
  await killNode(nodes[0]!);
  await sleep(Math.min(steadyMs, 10_000));
  await drain('an ingest node killed with SIGKILL');
  await nodes[0]!.up();

  f.start();
  await sleep(Math.min(steadyMs, 10_000));
  if (cluster !== undefined) {
    sampleRss(true);
    cluster.restart('fast');
    await sleep(Math.min(steadyMs, 10_000));
    await drain('PostgreSQL restarted mid-ingest');
  }

  const before = await s.hotlistVersion();
  for (let i = 0; i < 1000; i++) await s.hotlistChange({ cardId: `410402D1560000${String(i).padStart(18, '0')}`, action: 'add' }, Date.now());
  const version = String(before + 1000);
  const t0 = Date.now();
  // No wake-up: each terminal finds the new version at its next hotlist pull (--hotlist-interval-ms), as in the field.
  while (f.hotlistVersions().get(version) !== terminals) {
    if (Date.now() - t0 > 10 * 60_000) break;
    await sleep(100);
  }
  const fanOutMs = Date.now() - t0;
  say(`hotlist delta of 1,000 cards: ${f.hotlistVersions().get(version) ?? 0}/${terminals} terminals on version ${version} after ${fanOutMs} ms; checks ${JSON.stringify([...f.hotlistChecks()])}`);

  sampleRss(true);
  clearInterval(sampler);
  const rssMb = Object.fromEntries([...peakRss].map(([k, kb]) => [k, Math.round(kb / 102.4) / 10]));
  const ok = results.every((r) => r.exactlyOnce) && f.hotlistVersions().get(version) === terminals;
  if (values.json) process.stdout.write(JSON.stringify({ terminals, rate, syncIntervalMs, hotlistIntervalMs, steadyCpuPercent: steadyCpu, peakRssMb: rssMb, results, hotlist: { cards: 1000, fanOutMs, onNewVersion: f.hotlistVersions().get(version) ?? 0 } }, null, 2) + '\n');
  else {
    process.stdout.write(`fleet: ${terminals} terminals, 2 nodes, PostgreSQL\n`);
    for (const r of results) process.stdout.write(`  ${r.scenario}: ${r.journaled} operations, drain ${r.drainMs} ms, exactly once ${r.exactlyOnce ? 'yes' : 'NO'}\n`);
    process.stdout.write(`  hotlist fan-out of 1,000 cards: ${fanOutMs} ms\n`);
    process.stdout.write(`  steady CPU, % of one core: ${Object.entries(steadyCpu).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}\n`);
    process.stdout.write(`  peak RSS, MB: ${Object.entries(rssMb).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
  }
  process.exitCode = ok ? 0 : 1;
} catch (e) {
  process.stderr.write(`fleet failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
} finally {
  await fleet?.stop();
  for (const n of nodes) await n.stop();
  await store?.close();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}
