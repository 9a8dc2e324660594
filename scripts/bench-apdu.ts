/**
 * npm run bench:apdu — APDU round trips through this project's PC/SC driver (PcscService +
 * PcscChannel: queue, 61xx/6Cxx handling, timeout, trace hook) versus a bare `pcsclite` transmit
 * loop, on the same pcscd + vpcd and the same virtual card, in one run. Repetitions alternate
 * bare/driver so that drift on a shared machine hits both; we report medians and the ratio.
 *
 *   node dist/scripts/bench-apdu.js [--reps 7] [--apdus 400] [--card fixtures/cards/card-2.0.json] [--json]
 */
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { VirtualSsCard } from '../drivers/sim/virtual-card.js';
import { VpcdBridge } from '../drivers/sim/vpcd-bridge.js';
import { PcscService } from '../drivers/pcsc/pcsc-service.js';
import { projectRoot } from './cli-util.js';

const READER = 'Virtual PCD 00 00';
/** GET CHALLENGE (case 2): answered directly with data ‖ 9000 on T=0 and T=1 alike, changes nothing. */
const APDU = Buffer.from('0084000008', 'hex');

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

/** A setup step that takes longer than `ms` fails with its name: a hang says where it is. */
async function step<T>(name: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${name}: no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function quickAckOn(): boolean {
  try {
    return /127\.0\.0\.1.*quickack 1/.test(execFileSync('ip', ['route', 'show', 'table', 'local'], { encoding: 'utf8' }));
  } catch {
    return false;
  }
}

/** The baseline: pcsclite as its README shows it, nothing else. */
async function bareSetup(): Promise<{ run: (n: number) => Promise<number>; close: () => Promise<void> }> {
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
    new Promise<number>((resolve, reject) => reader.connect({ share_mode: 2 /* SHARED */, protocol: 3 }, (e, p) => (e ? reject(e) : resolve(p)))),
  );
  return {
    run: async (n) => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        await new Promise<Buffer>((resolve, reject) => reader.transmit(APDU, 258, protocol, (e, r) => (e ? reject(e) : resolve(r))));
      }
      return performance.now() - t0;
    },
    close: async () => {
      await new Promise<void>((resolve) => reader.disconnect(0, () => resolve()));
      for (const r of all) r.close();
      pcsc.close();
    },
  };
}

async function driverSetup(service: PcscService): Promise<{ run: (n: number) => Promise<number>; close: () => Promise<void> }> {
  await service.waitForCard(READER, 5000);
  const channel = await service.connect(READER);
  return {
    run: async (n) => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await channel.transmit(APDU);
      return performance.now() - t0;
    },
    close: async () => {
      await channel.close();
      await service.stop();
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      reps: { type: 'string', default: '7' },
      apdus: { type: 'string' },
      card: { type: 'string', default: 'fixtures/cards/card-2.0.json' },
      json: { type: 'boolean', default: false },
    },
  });
  const reps = Number(values.reps);
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps must be a positive integer, got "${values.reps}"`);
  const quick = quickAckOn();
  const apdus = values.apdus !== undefined ? Number(values.apdus) : quick ? 1000 : 60;
  if (!Number.isInteger(apdus) || apdus < 1) throw new Error(`--apdus must be a positive integer, got "${values.apdus}"`);

  // A whole run that hangs (a wedged pcscd) ends with an error, not silence.
  const watchdog = setTimeout(() => {
    process.stderr.write('bench:apdu: no progress for 180 s (is pcscd wedged? restart it)\n');
    process.exit(1);
  }, 180_000);
  watchdog.unref();

  const service = new PcscService();
  service.start();
  await service.ready(5000);
  // pcscd notices a removal only on its next presence poll (400 ms): start from an empty reader,
  // or pcscd may never power up our card after a previous run's.
  await service.waitForRemoval(READER, 5000);
  const card = await VirtualSsCard.fromFile(path.resolve(projectRoot(), values.card));
  const bridge = new VpcdBridge(card);
  await step('inserting the virtual card into vpcd', 10_000, bridge.insert());
  const driver = await step('driver connect', 20_000, driverSetup(service)); // waits until pcscd reports the card
  const bare = await step('bare pcsclite setup', 20_000, bareSetup());
  try {
    // warm-up
    // Warm-up: the first thousand calls through either path run colder code (JIT); medians
    // should compare steady states.
    await step('warm-up (bare)', 60_000, bare.run(quick ? 1000 : 20));
    await step('warm-up (driver)', 60_000, driver.run(quick ? 1000 : 20));
    const bareMs: number[] = [];
    const driverMs: number[] = [];
    for (let r = 0; r < reps; r++) {
      bareMs.push((await bare.run(apdus)) / apdus);
      driverMs.push((await driver.run(apdus)) / apdus);
    }
    const mb = median(bareMs);
    const md = median(driverMs);
    const result = {
      benchmark: 'apdu',
      apdu: APDU.toString('hex').toUpperCase(),
      card: values.card,
      loopbackQuickAck: quick,
      repetitions: reps,
      apdusPerRepetition: apdus,
      bare: { medianMsPerApdu: +mb.toFixed(4), apdusPerSecond: +(1000 / mb).toFixed(1), runs: bareMs.map((x) => +x.toFixed(4)) },
      driver: { medianMsPerApdu: +md.toFixed(4), apdusPerSecond: +(1000 / md).toFixed(1), runs: driverMs.map((x) => +x.toFixed(4)) },
      ratio: +(md / mb).toFixed(3),
      target: 1.1,
      node: process.version,
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      process.stdout.write(
        [
          `APDU ${result.apdu} on "${READER}" (${values.card}); loopback quick ACK ${quick ? 'on' : 'off'}; ${reps} repetitions × ${apdus} APDUs, alternating`,
          `  bare pcsclite loop : median ${mb.toFixed(4)} ms/APDU  (${(1000 / mb).toFixed(0)} APDUs/s)   runs ${bareMs.map((x) => x.toFixed(3)).join(' ')}`,
          `  sscard driver      : median ${md.toFixed(4)} ms/APDU  (${(1000 / md).toFixed(0)} APDUs/s)   runs ${driverMs.map((x) => x.toFixed(3)).join(' ')}`,
          `  ratio driver/bare  : ${result.ratio}  (target ≤ ${result.target}: ${result.ratio <= result.target ? 'met' : 'NOT met'})`,
          '',
        ].join('\n'),
      );
    }
  } finally {
    await driver.close();
    await bare.close();
    await bridge.remove();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:apdu failed: ${err instanceof Error ? err.message : String(err)}\n(需要 pcscd 与 vpcd / needs pcscd with vpcd: ./scripts/setup.sh)\n`);
  process.exitCode = 1;
});
