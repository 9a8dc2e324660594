/**
 * npm run bench:apdu — APDU round trips through this project's PC/SC driver (PcscService +
 * PcscChannel: queue, 61xx/6Cxx handling, timeout, trace hook) versus a bare `pcsclite` transmit
 * loop, on the same pcscd + vpcd and the same virtual card, in one run. Repetitions alternate
 * bare/driver (ABBA) so that drift on a shared machine hits both; we report medians and the ratio.
 * Every answer's status word is checked: one that is not 9000 (or a transmit that fails) is an
 * error, counted by reason per path. A repetition with errors is flagged and left out of the
 * medians, and the target is met only when no answer failed (docs/benchmarks.md).
 *
 *   node dist/scripts/bench-apdu.js [--reps 7] [--apdus 400] [--apdu 0084000008] [--card fixtures/cards/card-2.0.json]
 *     [--psam fixtures/psam/psam-test.json] [--json]
 *
 * The card is served by a child process (bench/cards-process.ts, as for bench:api; see Cards in
 * bench/cards.ts for why never by this one), which also puts the PSAM into "Virtual PCD 00 01".
 *
 * --apdu sends another command (one that changes nothing on the card, please); one the card
 * refuses shows how a run with errors is reported.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { reentered } from '../drivers/native-callback.js';
import { PcscService } from '../drivers/pcsc/pcsc-service.js';
import { alternation } from './bench/alternation.js';
import { Cards } from './bench/cards.js';
import { ErrorTally, answerError, reasonOf } from './bench/errors.js';
import { SYSTEM_VPCD, quickAckOn } from './bench/pcsc-stack.js';
import { reportOf, writeOut } from './bench/report.js';
import { intOption, step } from './bench/run.js';
import { cleanMedian } from './bench/stats.js';
import type { RunFigure } from './bench/stats.js';
import { judge, verdictText } from './bench/verdict.js';
import { watchdog } from './bench/watchdog.js';
import { projectRoot } from './cli-util.js';

/** The system pcscd's card reader; the card process puts the PSAM into its neighbour. */
const READER = SYSTEM_VPCD.cardReader;
/** GET CHALLENGE (case 2): answered directly with data ‖ 9000 on T=0 and T=1 alike, changes nothing. */
const DEFAULT_APDU = '0084000008';

interface BareReader {
  name: string;
  connect(o: { share_mode: number; protocol: number }, cb: (e: Error | null, p: number) => void): void;
  transmit(d: Buffer, len: number, p: number, cb: (e: Error | null, r: Buffer) => void): void;
  disconnect(d: number, cb: (e: Error | null) => void): void;
  close(): void;
  on(ev: 'status', l: (s: { state: number }) => void): void;
}
interface BareContext {
  on(ev: 'reader', l: (r: BareReader) => void): void;
  on(ev: 'error', l: (e: Error) => void): void;
  close(): void;
}

/** One repetition of a path: its wall time and the answers that were errors. */
interface Timed {
  readonly ms: number;
  readonly errors: ErrorTally;
}

interface PathUnderTest {
  run(n: number): Promise<Timed>;
  close(): Promise<void>;
}

/** `n` APDUs one after the other, timed; each answer that does not end with 9000 (or does not come) is an error. */
async function timeAnswers(n: number, send: () => Promise<Buffer>): Promise<Timed> {
  const errors = new ErrorTally();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    let why: string | undefined;
    try {
      why = answerError(await send());
    } catch (e) {
      why = reasonOf(e);
    }
    if (why !== undefined) errors.add(why);
  }
  return { ms: performance.now() - t0, errors };
}

/**
 * The baseline: pcsclite as its README shows it, nothing else — but each callback re-enters
 * through setImmediate as the driver's do (drivers/native-callback.ts): without that, on
 * Node 26.4 and later a promise settled in the addon's callback waits for an unrelated event.
 */
async function bareSetup(apdu: Buffer): Promise<PathUnderTest> {
  const require = createRequire(import.meta.url);
  const pcsc = (require('pcsclite') as () => BareContext)();
  // Every reader the wrapper opens has a watcher thread that keeps the process alive until closed.
  const all: BareReader[] = [];
  const reader = await new Promise<BareReader>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`bare pcsclite: reader ${READER} not seen`)), 5000);
    pcsc.on('error', reject);
    pcsc.on('reader', (r) => {
      all.push(r);
      if (r.name === READER) {
        clearTimeout(t);
        resolve(r);
      }
    });
  });
  const protocol = await step(
    'bare pcsclite connect',
    10_000,
    new Promise<number>((resolve, reject) => reader.connect({ share_mode: 2 /* SHARED */, protocol: 3 }, reentered((e: Error | null, p: number) => (e ? reject(e) : resolve(p))))),
  );
  return {
    run: (n) => timeAnswers(n, () => new Promise<Buffer>((resolve, reject) => reader.transmit(apdu, 258, protocol, reentered((e: Error | null, r: Buffer) => (e ? reject(e) : resolve(r)))))),
    close: async () => {
      await new Promise<void>((resolve) => reader.disconnect(0, reentered(() => resolve())));
      for (const r of all) r.close();
      pcsc.close();
    },
  };
}

async function driverSetup(service: PcscService, apdu: Buffer): Promise<PathUnderTest> {
  await service.waitForCard(READER, 5000);
  const channel = await service.connect(READER);
  return {
    run: (n) => timeAnswers(n, () => channel.transmit(apdu)),
    close: async () => {
      await channel.close();
      await service.stop();
    },
  };
}

/** One path's figures: ms/APDU of its clean repetitions, and its errors. */
function figures(runs: readonly Timed[], apdus: number): {
  medianMsPerApdu: number | null;
  apdusPerSecond: number | null;
  cleanRuns: number;
  runsWithErrors: number;
  errors: number;
  errorReasons: Record<string, number>;
  runs: { msPerApdu: number; errors: number }[];
} {
  const per: RunFigure[] = runs.map((r) => ({ value: r.ms / apdus, errors: r.errors.count }));
  const c = cleanMedian(per);
  const ok = Number.isFinite(c.median);
  return {
    medianMsPerApdu: ok ? +c.median.toFixed(4) : null,
    apdusPerSecond: ok ? +(1000 / c.median).toFixed(1) : null,
    cleanRuns: c.clean,
    runsWithErrors: c.flagged,
    errors: c.errors,
    errorReasons: ErrorTally.sum(runs.map((r) => r.errors)).toRecord(),
    runs: per.map((r) => ({ msPerApdu: +r.value.toFixed(4), errors: r.errors })),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      reps: { type: 'string', default: '7' },
      apdus: { type: 'string' },
      apdu: { type: 'string', default: DEFAULT_APDU },
      card: { type: 'string', default: 'fixtures/cards/card-2.0.json' },
      psam: { type: 'string', default: 'fixtures/psam/psam-test.json' },
      json: { type: 'boolean', default: false },
    },
  });
  const reps = intOption('reps', values.reps, 1);
  const quick = quickAckOn();
  const apdus = values.apdus !== undefined ? intOption('apdus', values.apdus, 1) : quick ? 1000 : 60;
  const hex = values.apdu.replace(/\s/g, '');
  if (!/^([0-9a-fA-F]{2}){4,}$/.test(hex)) throw new Error(`--apdu must be a command APDU in hex (at least 4 bytes), got "${values.apdu}"`);
  const apdu = Buffer.from(hex, 'hex');

  // A run that hangs (a wedged pcscd, or the addon's close() stuck in its thread join) ends with
  // an error, not silence, and does not keep the vpcd readers from the next user.
  const dog = watchdog(180_000, 'bench:apdu: no progress for 180 s (is pcscd wedged? restart it)', { graceMs: 5000, onExpire: () => process.exit(1) });

  const service = new PcscService();
  service.start();
  await service.ready(5000);
  // pcscd notices a removal only on its next presence poll (400 ms): start from an empty reader,
  // or pcscd may never power up our card after a previous run's.
  await service.waitForRemoval(READER, 5000);
  const cards = Cards.start(process.env);
  let driver: PathUnderTest | undefined;
  let bare: PathUnderTest | undefined;
  try {
    await cards.insert({ host: '127.0.0.1', cardPorts: [SYSTEM_VPCD.cardPort], psamPort: SYSTEM_VPCD.psamPort, card: path.resolve(projectRoot(), values.card), psam: path.resolve(projectRoot(), values.psam) });
    driver = await step('driver connect', 20_000, driverSetup(service, apdu)); // waits until pcscd reports the card
    bare = await step('bare pcsclite setup', 20_000, bareSetup(apdu));
    // Warm-up: the first thousand calls through either path run colder code (JIT); medians
    // should compare steady states. Its errors are reported, its times are not.
    const warm = ErrorTally.sum([
      (await step('warm-up (bare)', 60_000, bare.run(quick ? 1000 : 20))).errors,
      (await step('warm-up (driver)', 60_000, driver.run(quick ? 1000 : 20))).errors,
    ]);
    const runs: Record<'bare' | 'driver', Timed[]> = { bare: [], driver: [] };
    const cardErrors = { bare: 0, driver: 0 };
    for (const p of alternation(reps, 'ABBA')) {
      const name = p === 'A' ? 'bare' : 'driver';
      const before = await cards.counts();
      const timed = await (p === 'A' ? bare : driver).run(apdus);
      const seen = (await cards.counts()).errors - before.errors;
      // An error of the card process during a repetition is that repetition's error too.
      if (seen > 0) timed.errors.add('the card process saw an error', seen);
      cardErrors[name] += seen;
      runs[name].push(timed);
      dog.refresh();
    }
    const b = { ...figures(runs.bare, apdus), cardProcessErrors: cardErrors.bare };
    const d = { ...figures(runs.driver, apdus), cardProcessErrors: cardErrors.driver };
    const ratio = b.medianMsPerApdu !== null && d.medianMsPerApdu !== null ? +(d.medianMsPerApdu / b.medianMsPerApdu).toFixed(3) : null;
    const errors = b.errors + d.errors;
    const target = { ratio: 1.1, ...judge(ratio === null ? null : ratio <= 1.1, errors) };
    const result = {
      benchmark: 'apdu',
      apdu: apdu.toString('hex').toUpperCase(),
      card: values.card,
      loopbackQuickAck: quick,
      repetitions: reps,
      apdusPerRepetition: apdus,
      order: 'ABBA (bare first)',
      warmupErrors: warm.count,
      bare: b,
      driver: d,
      ratio,
      target,
      node: process.version,
    };
    const text = reportOf(values.json, result, () => {
      const line = (label: string, f: typeof b): string => {
        const med =
          f.medianMsPerApdu === null
            ? `no median: all ${f.runs.length} runs had errors`
            : `median ${f.medianMsPerApdu.toFixed(4)} ms/APDU  (${f.apdusPerSecond!.toFixed(0)} APDUs/s)${f.runsWithErrors > 0 ? ` of ${f.cleanRuns} clean runs, ${f.runsWithErrors} with errors left out` : ''}`;
        const all = f.runs.map((r) => (r.errors > 0 ? `${r.msPerApdu.toFixed(3)}!(${r.errors} errors)` : r.msPerApdu.toFixed(3))).join(' ');
        return `  ${label}: ${med}   errors ${f.errors}${f.cardProcessErrors > 0 ? ` (${f.cardProcessErrors} seen by the card process)` : ''}   runs ${all}`;
      };
      const reasons = ErrorTally.sum([...runs.bare, ...runs.driver].map((r) => r.errors));
      return [
        `APDU ${result.apdu} on "${READER}" (${values.card}); loopback quick ACK ${quick ? 'on' : 'off'}; ${reps} repetitions × ${apdus} APDUs per path, alternating ABBA; an answer other than 9000 is an error`,
        line('bare pcsclite loop ', b),
        line('sscard driver      ', d),
        `  ratio driver/bare  : ${ratio ?? '—'}  (target ≤ ${target.ratio}: ${verdictText(target)})`,
        ...(errors > 0 ? [`  ERRORS — the run is flagged: bare ${b.errors}, driver ${d.errors}: ${reasons.toString()}`] : []),
        ...(warm.count > 0 ? [`  warm-up errors (not timed): ${warm.toString()}`] : []),
        '',
      ].join('\n');
    });
    // Out before the teardown, whose native calls may block this thread (see watchdog).
    await writeOut(text);
    // Figures were made, but something failed: say so to a script or CI too.
    if (errors > 0 || warm.count > 0) process.exitCode = 1;
  } finally {
    dog.refresh({ ms: 20_000, message: 'bench:apdu: closing the readers took more than 20 s (the pcsclite addon missed its cancel)' });
    // The card out first: its removal wakes the addon's status threads that close() joins.
    await cards.stop();
    await driver?.close().catch(() => undefined);
    await bare?.close().catch(() => undefined);
    dog.stop();
  }
}

// Exit explicitly: the pcsclite addon's watcher threads can outlive the run.
main().then(
  () => process.exit(),
  (err: unknown) => {
    process.stderr.write(`bench:apdu failed: ${err instanceof Error ? err.message : String(err)}\n(需要 pcscd 与 vpcd / needs pcscd with vpcd: ./scripts/setup.sh)\n`);
    process.exit(1);
  },
);
