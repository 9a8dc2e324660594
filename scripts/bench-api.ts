/**
 * npm run bench:api — the daemon's local API under load (docs/benchmarks.md): flows/s and per-flow
 * p50/p99 latency of SSCard.ReadBasic + SSCard.VerifyPin (the PIN typed with Keyboard.TouchKey)
 * over the XFS4IoT WebSocket, with 1, 4 and 8 card readers busy at once; the same flow run
 * straight on the driver (PcscService + SsseCard + verifyPin, the same APDUs) in the same run, so
 * that the API's overhead is the difference; the daemon's RSS idle and under load; its start-up
 * time to ready (pcscd already running).
 *
 * The readers: a PRIVATE pcscd started by the bench with its own reader.conf of five vpcd devices
 * (8 card slots + 1 PSAM slot), so the system pcscd and whoever tests against it are left alone
 * (bench/pcsc-stack.ts says how). When that is not possible the bench says why and falls back to
 * the system pcscd's two vpcd readers (one card reader only). Results and how to read them:
 * docs/benchmarks.md.
 *
 * The cards (one VirtualSsCard per slot, PIN 123456, and the VirtualPsam) run in a child process
 * (bench/cards-process.ts), the same for both paths. Per reader count the two paths alternate their
 * --reps repetitions of --duration-ms (all readers concurrently) in the ABBA order: driver, API,
 * API, driver, driver, API … Each run of driver repetitions opens the channels (the daemon holds
 * the cards exclusively while it runs) and warms up (--warmup-ms the first time, 1 s after);
 * each run of API repetitions starts a fresh daemon (start-up and idle RSS measured), warms it up
 * for --warmup-ms, runs the flows (one WebSocket client per reader) with its RSS sampled every
 * 100 ms, and stops it (bench/api/measure.ts). Medians over the repetitions, of successful flows only.
 *
 * What went wrong is reported, per path and reader count: failed flows by reason, the errors the
 * card process saw, and every reader given up after 20 failed flows in a row (it is not counted
 * among the readers that completed that repetition). A target is met only when no error stands
 * against its figures; any error or reader given up makes the run exit 1 after its report.
 *
 *   node dist/scripts/bench-api.js [--reps 5] [--duration-ms 5000] [--warmup-ms 8000] [--readers 1,4,8]
 *     [--idle-ms 2000] [--card fixtures/cards/card-2.0.json] [--psam fixtures/psam/psam-test.json]
 *     [--system-pcscd] [--daemon-prof] [--slow-fsync-ms 20] [--shared-endpoint] [--keep] [--json]
 *
 * With --slow-fsync-ms the daemon runs with native/slow-fsync preloaded: each of its fsync and
 * fdatasync calls takes that much longer (the journal's durable commits on slow storage). During
 * the API repetitions a second client sends Common.Status every 20 ms, and the daemon's event-loop
 * delay is read from its metrics (bench/api/responsiveness.ts).
 *
 * Each flow's client connects to its reader's own service endpoint (docs/api.md "WebSocket
 * endpoints"), as a kiosk UI of one reader would; with --shared-endpoint to the shared one (and
 * then gets every reader's events), as every client did before reader endpoints existed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PcscService } from '../drivers/pcsc/pcsc-service.js';
import { alternation, runsOf } from './bench/alternation.js';
import { ApiFindings, measureReaders } from './bench/api/measure.js';
import type { MeasureContext } from './bench/api/measure.js';
import { addClient, writeDaemonConfig } from './bench/api/config.js';
import type { Row } from './bench/api/path-run.js';
import { apiResult, apiText } from './bench/api/report.js';
import { Cards } from './bench/cards.js';
import { Daemon, daemonStartupMs, entryScript } from './bench/daemon.js';
import { reasonOf } from './bench/errors.js';
import { pcscdVersion, privateStack, quickAckOn, requireVpcd, systemStack } from './bench/pcsc-stack.js';
import type { Stack } from './bench/pcsc-stack.js';
import { reportOf, writeOut } from './bench/report.js';
import { intOption, step } from './bench/run.js';
import { BenchScratch } from './bench/scratch.js';
import { watchdog } from './bench/watchdog.js';
import { projectRoot } from './cli-util.js';

interface Options {
  readonly reps: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly idleMs: number;
  /** --readers: the reader counts, in order. */
  readonly counts: readonly number[];
  /** The driver's warm-up after its first. */
  readonly settleMs: number;
  /** --card and --psam as given, and resolved. */
  readonly card: string;
  readonly psam: string;
  readonly cardFile: string;
  readonly psamFile: string;
  readonly systemPcscd: boolean;
  readonly daemonProf: boolean;
  /** Every fsync/fdatasync of the daemon slowed by this much (native/slow-fsync). */
  readonly slowFsyncMs: number;
  /** --shared-endpoint: the flows' clients on the shared service endpoint, not their readers'. */
  readonly sharedEndpoint: boolean;
  readonly keep: boolean;
  readonly json: boolean;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      reps: { type: 'string', default: '5' },
      'duration-ms': { type: 'string', default: '5000' },
      // A fresh daemon needs some thousand flows before V8 has optimised its hot paths.
      'warmup-ms': { type: 'string', default: '8000' },
      readers: { type: 'string', default: '1,4,8' },
      'idle-ms': { type: 'string', default: '2000' },
      card: { type: 'string', default: 'fixtures/cards/card-2.0.json' },
      psam: { type: 'string', default: 'fixtures/psam/psam-test.json' },
      'system-pcscd': { type: 'boolean', default: false },
      'daemon-prof': { type: 'boolean', default: false },
      'slow-fsync-ms': { type: 'string', default: '0' },
      'shared-endpoint': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const warmupMs = intOption('warmup-ms', values['warmup-ms'], 0);
  const root = projectRoot();
  return {
    reps: intOption('reps', values.reps, 1),
    durationMs: intOption('duration-ms', values['duration-ms'], 100),
    warmupMs,
    idleMs: intOption('idle-ms', values['idle-ms'], 0),
    counts: (values.readers ?? '').split(',').map((s) => intOption('readers', s.trim(), 1)),
    // The driver's code stays warm in this process between its groups: after the first warm-up,
    // a short settling run on the freshly opened channels is enough.
    settleMs: Math.min(warmupMs, 1000),
    card: values.card,
    psam: values.psam,
    cardFile: path.resolve(root, values.card),
    psamFile: path.resolve(root, values.psam),
    systemPcscd: values['system-pcscd'],
    daemonProf: values['daemon-prof'],
    slowFsyncMs: intOption('slow-fsync-ms', values['slow-fsync-ms'], 0),
    sharedEndpoint: values['shared-endpoint'],
    keep: values.keep,
    json: values.json,
  };
}

/** What the bench needs installed and built; pcscd's version. */
function checkInstalled(): string {
  requireVpcd();
  const version = pcscdVersion();
  if (version === undefined) throw new Error('pcscd is not installed: run ./scripts/setup.sh');
  if (!existsSync(entryScript('sscard'))) throw new Error(`${entryScript('sscard')} is missing: npm run build first`);
  return version;
}

/** The private pcscd, or the system one (with its reason) and then one card reader only. */
async function openStack(o: Options, scratch: BenchScratch): Promise<{ stack: Stack; counts: readonly number[] }> {
  let stack: Stack;
  if (o.systemPcscd) stack = systemStack('--system-pcscd given');
  else {
    try {
      stack = await privateStack(scratch.dir);
    } catch (e) {
      stack = systemStack(`the private pcscd could not run: ${reasonOf(e)}`);
    }
  }
  scratch.steps.push(() => stack.stop());
  let counts = o.counts;
  if (stack.mode === 'system') {
    process.stderr.write(`bench:api: FALLBACK to the system pcscd (${stack.fallbackReason}); 1 card reader only\n`);
    counts = counts.filter((n) => n <= 1);
    if (counts.length === 0) counts = [1];
  }
  const maxReaders = stack.cardReaders.length;
  for (const n of counts) if (n > maxReaders) throw new Error(`--readers ${n}: only ${maxReaders} card slots`);
  // Every pcsclite client of the bench (this process, the cards, the daemon) finds our pcscd here;
  // libpcsclite reads it when the first context is made, so before any PcscService starts.
  if (stack.socket !== undefined) process.env['PCSCLITE_CSOCK_NAME'] = stack.socket;
  return { stack, counts };
}

/**
 * The driver's PC/SC service, for the whole bench: between its groups only the channels are
 * closed, so that the daemon can take the cards (it holds them exclusively).
 */
async function benchService(stack: Stack, slots: number, cards: Cards, scratch: BenchScratch): Promise<PcscService> {
  const svc = new PcscService();
  svc.start();
  // The cards out first: their removal wakes the addon's status threads that the service's close() joins.
  scratch.steps.push(async () => {
    await cards.stop();
    await svc.stop();
  });
  await step('PC/SC service (bench)', 10_000, svc.ready(5000));
  const missing = [...stack.cardReaders.slice(0, slots), stack.psamReader].filter((r) => svc.reader(r) === undefined);
  if (missing.length > 0) throw new Error(`pcscd does not list ${missing.map((r) => `"${r}"`).join(', ')}; it lists ${svc.readers().map((r) => `"${r.name}"`).join(', ') || '(none)'}`);
  return svc;
}

/** Start-up times of every daemon started: spawn→ready (wall) and the daemon's own startupMs. */
interface Startups {
  readonly wall: number[];
  readonly daemon: number[];
}

/** A fresh daemon, ready, its start-up recorded; it is stopped at clean-up whatever happens. */
async function startDaemon(o: Options, files: { configFile: string; logFile: string }, env: NodeJS.ProcessEnv, scratch: BenchScratch, startups: Startups, progress: (s: string) => void): Promise<Daemon> {
  // --daemon-prof: a V8 CPU profile of every daemon, written when it stops (kept with --keep).
  const { daemon, wallMs } = await Daemon.start(files.configFile, env, o.daemonProf ? ['--cpu-prof', '--cpu-prof-dir', path.join(scratch.dir, 'prof')] : []);
  scratch.steps.push(() => daemon.stop());
  const own = daemonStartupMs(files.logFile);
  if (own && !own.ready) throw new Error(`the daemon started but is not ready: ${JSON.stringify(own.reasons)}`);
  startups.wall.push(wallMs);
  if (own) startups.daemon.push(own.startupMs);
  progress(`daemon up: spawn→ready ${wallMs.toFixed(0)} ms, startupMs ${own?.startupMs ?? '?'}`);
  return daemon;
}

/** native/slow-fsync built with the machine's C compiler into `dir` (as setup.sh installs it). */
function slowFsyncLibrary(dir: string): string {
  const out = path.join(dir, 'slow_fsync.so');
  const r = spawnSync('cc', ['-O2', '-fPIC', '-shared', '-o', out, path.join(projectRoot(), 'native', 'slow-fsync', 'slow_fsync.c'), '-ldl'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building native/slow-fsync failed: ${r.stderr || r.error?.message || String(r.status)}`);
  return out;
}

async function main(): Promise<void> {
  const o = parseOptions();
  const progress = (s: string): void => {
    if (!o.json) process.stderr.write(`  … ${s}\n`);
    dog.refresh();
  };
  // A run that hangs (a wedged pcscd, the addon stuck in a native call) ends with an error, not silence.
  const dog = watchdog(180_000, 'bench:api: no progress for 180 s — giving up', { graceMs: 30_000, onExpire: () => void cleanup().finally(() => process.exit(1)) });
  const version = checkInstalled();
  const quick = quickAckOn();

  const scratch = new BenchScratch('bench:api', 'sscard-bench-api-', o.keep);
  const cleanup = (): Promise<void> => scratch.run();

  try {
    const { stack, counts } = await openStack(o, scratch);
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };

    // The cards: one per slot used, and the PSAM.
    const slots = Math.max(...counts);
    const cards = Cards.start(env);
    scratch.steps.push(() => cards.stop());
    await cards.insert({ host: '127.0.0.1', cardPorts: stack.cardPorts.slice(0, slots), psamPort: stack.psamPort, card: o.cardFile, psam: o.psamFile });
    progress(`${stack.mode} pcscd ${version}: ${slots} virtual card(s) + PSAM inserted`);

    const files = writeDaemonConfig(scratch.dir, stack);
    // Slow storage for the daemon alone: its journal's fsyncs as a kiosk's eMMC or SD card makes them.
    const daemonEnv: NodeJS.ProcessEnv = o.slowFsyncMs > 0 ? { ...env, LD_PRELOAD: slowFsyncLibrary(scratch.dir), SLOW_FSYNC_MS: String(o.slowFsyncMs) } : env;
    if (o.slowFsyncMs > 0) progress(`slow storage: every fsync of the daemon +${o.slowFsyncMs} ms`);
    const token = addClient(files.configFile);
    const startups: Startups = { wall: [], daemon: [] };
    const svc = await benchService(stack, slots, cards, scratch);

    const ctx: MeasureContext = {
      stack,
      svc,
      cards,
      token,
      logFile: files.logFile,
      reps: o.reps,
      durationMs: o.durationMs,
      warmupMs: o.warmupMs,
      settleMs: o.settleMs,
      idleMs: o.idleMs,
      order: runsOf(alternation(o.reps, 'ABBA')),
      progress,
      startDaemon: () => startDaemon(o, files, daemonEnv, scratch, startups, progress),
      sharedEndpoint: o.sharedEndpoint,
    };
    const found = new ApiFindings();
    const rows: Row[] = [];
    for (const n of counts) rows.push(await measureReaders(ctx, found, n));
    // At least three start-ups for the median.
    while (startups.wall.length < 3) {
      const d = await step('daemon start', 40_000, ctx.startDaemon());
      await d.stop();
    }

    const facts = { slowFsyncMs: o.slowFsyncMs, sharedEndpoint: o.sharedEndpoint, stack, version, quick, card: o.card, psam: o.psam, reps: o.reps, durationMs: o.durationMs, warmupMs: o.warmupMs, settleMs: o.settleMs, slots, order: ctx.order, readerField: found.readerField, rows, startWall: startups.wall, startDaemon: startups.daemon, idleRss: found.idleRss };
    const result = apiResult(facts);
    await writeOut(reportOf(o.json, result, () => apiText(facts, result)));
    // Figures were made, but something failed: say so to a script or CI too.
    if (result.errors > 0 || result.droppedReaders > 0) process.exitCode = 1;
    scratch.failed = false;
  } finally {
    dog.refresh({ ms: 60_000, message: 'bench:api: cleaning up took more than 60 s' });
    await cleanup();
    dog.stop();
  }
}

// Exit explicitly: the pcsclite addon's watcher threads can outlive a failed run.
main().then(
  () => process.exit(),
  (err: unknown) => {
    process.stderr.write(`bench:api failed: ${reasonOf(err)}\n(需要 pcscd 与 vpcd / needs pcscd with vpcd: ./scripts/setup.sh; then npm run build)\n`);
    process.exit(1);
  },
);
