/**
 * npm run bench:fuzz — hostile traffic against a running daemon (docs/security.md, "A hostile
 * client costs nothing"): at least 100 000 fast-check generated WebSocket frames, upgrades and HTTP
 * requests (scripts/api-fuzz.ts) against `sscardd` at a counter, with the virtual 2.0 card and the
 * test PSAM in the system pcscd's vpcd readers (the card process, bench/cards-process.ts) and the ID
 * card reader simulator on a pty. It reports the messages sent by kind, the answers and refusals by
 * kind (HTTP status codes and return codes, acknowledge statuses, completion codes, closes), the
 * daemon's RSS before, after and at its highest (with a timeline), the log bytes and lines written
 * and what they were, the audit rows the refused privileged calls left, the duration, and whether
 * /health, a ReadBasic, the card's tries and a VerifyPin are as they should be afterwards. Anything
 * that is not — an anomaly of the traffic, a daemon that died, a check that failed — is printed and
 * makes the bench exit 1; nothing is hidden. Figures: docs/benchmarks.md.
 *
 * It uses the shared vpcd readers (TCP 35963/35964): run it as
 * `flock /tmp/sscard-vpcd.lock npm run bench:fuzz`, after `npm run build`.
 *
 *   node dist/scripts/bench-fuzz.js [--seed 20261202] [--messages 100000] [--log-level info]
 *     [--scrypt-n 32768] [--deadline-ms 1200000] [--card fixtures/cards/card-2.0.json]
 *     [--psam fixtures/psam/psam-test.json] [--daemon-node-arg=--max-old-space-size=64 ...] [--keep] [--json]
 *
 * `--daemon-node-arg` (repeatable): an option for the daemon's Node.js, e.g. a V8 heap limit, to see
 * what the daemon keeps rather than how late V8 collects (docs/benchmarks.md, bench:fuzz).
 *
 * `--scrypt-n`: the scrypt cost of the operator's passphrase hash, by default the daemon's own
 * default (what `sscard operator hash` writes); the traffic's logins pay it. 1024 is what the
 * end-to-end suites use.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { clientTokenHash, newClientToken, writeClientsFile } from '../daemon/auth/clients.js';
import { DEFAULT_SCRYPT, hashPassphrase } from '../daemon/auth/passphrase.js';
import { loadIdCardFixture } from '../drivers/sim/idcard-fixtures.js';
import { IdReaderSimulator } from '../drivers/sim/idcard-reader.js';
import { PtyPair } from '../drivers/sim/pty.js';
import { daemonPages, runFuzz } from './api-fuzz.js';
import type { FuzzReport } from './api-fuzz.js';
import { Cards } from './bench/cards.js';
import { Daemon, entryScript } from './bench/daemon.js';
import { reasonOf } from './bench/errors.js';
import { checksAfter } from './bench/fuzz/checks.js';
import { fuzzResult, fuzzText } from './bench/fuzz/summary.js';
import { auditRows, logBytes, logLines } from './bench/fuzz/traces.js';
import { SYSTEM_VPCD, listening, requireVpcd } from './bench/pcsc-stack.js';
import { rssKb } from './bench/processes.js';
import { megabytes, reportOf, writeOut } from './bench/report.js';
import { intOption, sleep, step } from './bench/run.js';
import { BenchScratch } from './bench/scratch.js';
import { r1 } from './bench/stats.js';
import { watchdog } from './bench/watchdog.js';
import { commandOnce } from './bench/xfs-client.js';
import { projectRoot } from './cli-util.js';

const MAX_FRAME = 65_536;

const mb = (kb: number | undefined): number | null => (kb === undefined ? null : megabytes(kb));

interface Options {
  readonly seed: number;
  readonly messages: number;
  readonly deadlineMs: number;
  readonly scryptN: number;
  readonly logLevel: string;
  readonly cardFile: string;
  readonly psamFile: string;
  readonly daemonNodeArgs: readonly string[];
  readonly keep: boolean;
  readonly json: boolean;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '20261202' },
      messages: { type: 'string', default: '100000' },
      'log-level': { type: 'string', default: 'info' },
      'scrypt-n': { type: 'string', default: String(DEFAULT_SCRYPT.N) },
      'deadline-ms': { type: 'string', default: '1200000' },
      card: { type: 'string', default: 'fixtures/cards/card-2.0.json' },
      psam: { type: 'string', default: 'fixtures/psam/psam-test.json' },
      'daemon-node-arg': { type: 'string', multiple: true, default: [] },
      keep: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const seed = intOption('seed', values.seed, 0);
  const messages = intOption('messages', values.messages, 1);
  const deadlineMs = intOption('deadline-ms', values['deadline-ms'], 1000);
  const scryptN = intOption('scrypt-n', values['scrypt-n'], 1024);
  const logLevel = values['log-level'] ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new Error(`--log-level must be debug, info, warn or error, got "${logLevel}"`);
  const daemonNodeArgs = values['daemon-node-arg'] ?? [];
  for (const a of daemonNodeArgs) if (!a.startsWith('--')) throw new Error(`--daemon-node-arg takes one Node.js option such as --max-old-space-size=64, got "${a}"`);
  const root = projectRoot();
  return { seed, messages, deadlineMs, scryptN, logLevel, cardFile: path.resolve(root, values.card), psamFile: path.resolve(root, values.psam), daemonNodeArgs, keep: values.keep, json: values.json };
}

/** pcscd with its vpcd readers running, and the build there. */
function checkInstalled(): void {
  requireVpcd();
  if (spawnSync('pgrep', ['-x', 'pcscd']).status !== 0) throw new Error('pcscd is not running: run ./scripts/setup.sh (or sudo pcscd)');
  if (!listening(SYSTEM_VPCD.cardPort)) throw new Error(`vpcd is not listening on 127.0.0.1:${SYSTEM_VPCD.cardPort}: is /etc/reader.conf.d/vpcd present? run ./scripts/setup.sh`);
  if (!existsSync(entryScript('sscardd'))) throw new Error(`${entryScript('sscardd')} is missing: npm run build first`);
}

/** The virtual card and PSAM in the system pcscd's vpcd readers, the ID card reader simulator on a pty; the pty's daemon side. */
async function placeDevices(o: Options, scratch: BenchScratch): Promise<string> {
  // The cards in their own process; pcscd needs one presence poll (400 ms) to see them go at the end.
  const cards = Cards.start({ ...process.env, NO_COLOR: '1' });
  scratch.steps.push(async () => {
    await cards.stop();
    await sleep(1200);
  });
  await cards.insert({ host: '127.0.0.1', cardPorts: [SYSTEM_VPCD.cardPort], psamPort: SYSTEM_VPCD.psamPort, card: o.cardFile, psam: o.psamFile });
  const pty = await PtyPair.open({ dir: path.join(scratch.dir) });
  scratch.steps.push(() => pty.close());
  const idSim = new IdReaderSimulator({ path: pty.b });
  await idSim.start();
  scratch.steps.push(() => idSim.stop());
  idSim.place(loadIdCardFixture('id-card-2.0'));
  return pty.a;
}

/** The daemon's configuration (a counter) and a client token for the traffic. */
function writeDaemonConfig(o: Options, dir: string, idReaderPath: string): { configFile: string; token: string } {
  const token = newClientToken();
  const clientsFile = path.join(dir, 'api-clients.json');
  writeClientsFile(clientsFile, [{ name: 'bench', hash: clientTokenHash(token), created: new Date().toISOString() }]);
  const configFile = path.join(dir, 'bench-fuzz.json');
  writeFileSync(
    configFile,
    JSON.stringify(
      {
        terminalId: 'BENCH-FUZZ-1',
        deviceId: 'DEV-FUZZ',
        role: 'counter',
        simulate: 'off',
        readers: { card: SYSTEM_VPCD.cardReader, psam: SYSTEM_VPCD.psamReader },
        pinPad: { kind: 'touchscreen', allowTouchscreen: true },
        idReader: { kind: 'serial', path: idReaderPath },
        journal: { path: 'journal.db', keyFile: 'journal.key' },
        // The API's bounds at their defaults (docs/api.md "What a client may cost"), spelled out.
        api: { port: 0, maxFrameBytes: MAX_FRAME, maxClients: 16, maxConnectionsPerClient: 8, clientsFile },
        // An operator hashed as `sscard operator hash` does (unless --scrypt-n): a login costs what it costs at a counter.
        operators: { accounts: [{ id: 'op1', name: '张三', hash: hashPassphrase(Buffer.from('bench operator passphrase'), { N: o.scryptN }) }] },
        // Nothing rotates during the run, so the bytes written are the growth of one file.
        log: { level: o.logLevel, file: 'log/sscard.log', console: false, maxSizeBytes: 1024 * 1024 * 1024 },
        session: { inactivityMs: 3_600_000 },
      },
      null,
      2,
    ),
  );
  return { configFile, token };
}

/** Ready (the ID card reader answered, the card identified) and a first ReadBasic, before anything is measured. */
async function waitReady(daemon: Daemon, token: string): Promise<void> {
  const base = `http://127.0.0.1:${daemon.port}`;
  const end = Date.now() + 30_000;
  for (;;) {
    const s = (await (await fetch(`${base}/status`, { headers: { authorization: `Bearer ${token}` } })).json()) as { card: { identified: boolean } };
    const h = await fetch(`${base}/health`);
    if (h.status === 200 && s.card.identified) break;
    if (Date.now() > end) throw new Error(`the daemon was not ready with the card identified within 30 s: ${await h.text()}`);
    await sleep(100);
  }
  const first = await commandOnce(daemon.port, token, 'SSCard.ReadBasic', {});
  if (first.header.completionCode !== 'success') throw new Error(`ReadBasic before the traffic: ${JSON.stringify(first.header)}`);
}

/** The traffic, with the daemon's RSS sampled every 100 ms and at every 10 000 messages. */
async function sendTraffic(o: Options, daemon: Daemon, token: string, rssIdle: number | undefined, progress: (s: string) => void): Promise<{ report: FuzzReport; rssMax: number; timeline: { messages: number; rssMB: number | null; seconds: number }[] }> {
  let rssMax = rssIdle ?? 0;
  const timeline: { messages: number; rssMB: number | null; seconds: number }[] = [];
  const t0 = performance.now();
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssKb(daemon.pid) ?? 0)), 100);
  try {
    const report = await runFuzz(
      { host: '127.0.0.1', port: daemon.port, token, maxFrameBytes: MAX_FRAME, reader: SYSTEM_VPCD.cardReader, page: await daemonPages() },
      {
        seed: o.seed,
        messages: o.messages,
        deadlineMs: o.deadlineMs,
        onProgress: (n) => {
          if (n % 10_000 !== 0) return;
          const rss = rssKb(daemon.pid);
          timeline.push({ messages: n, rssMB: mb(rss), seconds: r1((performance.now() - t0) / 1000) });
          progress(`${n} messages, RSS ${mb(rss)} MB`);
        },
      },
    );
    return { report, rssMax, timeline };
  } finally {
    clearInterval(sampler);
  }
}

async function main(): Promise<void> {
  const o = parseOptions();
  const progress = (s: string): void => {
    if (!o.json) process.stderr.write(`  … ${s}\n`);
    dog.refresh();
  };
  const dog = watchdog(180_000, 'bench:fuzz: no progress for 180 s — giving up', { graceMs: 30_000, onExpire: () => void cleanup().finally(() => process.exit(1)) });
  checkInstalled();

  const scratch = new BenchScratch('bench:fuzz', 'sscard-bench-fuzz-', o.keep);
  const { dir } = scratch;
  const cleanup = (): Promise<void> => scratch.run();
  scratch.steps.push(() => dog.stop());

  try {
    const idReaderPath = await placeDevices(o, scratch);
    progress('virtual card, PSAM and ID card reader in place');
    const { configFile, token } = writeDaemonConfig(o, dir, idReaderPath);
    const logDir = path.join(dir, 'log');
    const { daemon } = await step('daemon start', 40_000, Daemon.start(configFile, { ...process.env, NO_COLOR: '1' }, o.daemonNodeArgs));
    scratch.steps.push(() => daemon.stop());
    await waitReady(daemon, token);
    await sleep(2000);
    const rssIdle = rssKb(daemon.pid);
    const logFile = path.join(logDir, 'sscard.log');
    const log0 = logBytes(logDir);
    const audit0 = auditRows(path.join(dir, 'journal.db'));
    progress(`daemon ready on port ${daemon.port}, RSS ${mb(rssIdle)} MB, log at ${o.logLevel}; sending ${o.messages} messages (seed ${o.seed})`);

    const { report, rssMax, timeline } = await sendTraffic(o, daemon, token, rssIdle, progress);
    await sleep(2000);
    const rssAfter = rssKb(daemon.pid);
    progress(`traffic done in ${r1(report.durationMs / 1000)} s; checking the daemon`);
    const { checks, failures } = await checksAfter(daemon, token);
    await daemon.stop();
    const log1 = logBytes(logDir);
    const lines = existsSync(logFile) ? logLines(logFile, log0) : { lines: 0, byMessage: [] };
    const audit1 = auditRows(path.join(dir, 'journal.db'));
    if (report.anomalies.count > 0) failures.unshift(`${report.anomalies.count} anomalies: ${JSON.stringify(report.anomalies.byKind)}`);
    if (report.messages < o.messages) failures.push(`only ${report.messages} of ${o.messages} messages were sent before the deadline`);

    const result = fuzzResult({
      seed: o.seed,
      logLevel: o.logLevel,
      scryptN: o.scryptN,
      daemonNodeArgs: o.daemonNodeArgs,
      report,
      rssKb: { idle: rssIdle, after: rssAfter, max: rssMax },
      timeline,
      logBytesWritten: log1 - log0,
      logLines: lines,
      auditRows: { before: audit0, after: audit1 },
      checks,
      failures,
    });
    await writeOut(reportOf(o.json, result, () => fuzzText(result)));
    if (failures.length > 0) process.exitCode = 1;
    scratch.failed = failures.length > 0;
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(),
  (err: unknown) => {
    process.stderr.write(`bench:fuzz failed: ${reasonOf(err)}\n(需要 pcscd 与 vpcd / needs pcscd with vpcd: ./scripts/setup.sh; then npm run build; run it under flock /tmp/sscard-vpcd.lock)\n`);
    process.exit(1);
  },
);
