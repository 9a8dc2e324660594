/**
 * npm run bench:idle — an idle daemon costs nothing (docs/benchmarks.md "Idle"): the daemon's CPU
 * time over --idle-ms of doing nothing (utime + stime from /proc/<pid>/stat, as a share of one
 * core), with one card inserted and identified, and with no card; and its RSS with 8 identified
 * cards. Nobody is connected to its API during the windows (a connected client has a heartbeat).
 *
 * The readers are a private pcscd's (bench/pcsc-stack.ts, as bench:api has them; the system pcscd
 * with one card reader when that cannot run), the cards a child process (bench/cards-process.ts).
 * Each window is cut in --reps parts: the share of each part, their median, and the whole.
 *
 *   node dist/scripts/bench-idle.js [--idle-ms 60000] [--reps 3] [--settle-ms 5000] [--card fixtures/cards/card-2.0.json]
 *     [--psam fixtures/psam/psam-test.json] [--system-pcscd] [--keep] [--json]
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { addClient, writeDaemonConfig } from './bench/api/config.js';
import { Cards } from './bench/cards.js';
import { Daemon } from './bench/daemon.js';
import { reasonOf } from './bench/errors.js';
import { privateStack, systemStack, type Stack } from './bench/pcsc-stack.js';
import { cpuMsOf, rssKb } from './bench/processes.js';
import { intOption, step } from './bench/run.js';
import { BenchScratch } from './bench/scratch.js';
import { median } from './bench/stats.js';
import { projectRoot } from './cli-util.js';

interface Options {
  readonly idleMs: number;
  readonly reps: number;
  readonly settleMs: number;
  readonly card: string;
  readonly psam: string;
  readonly systemPcscd: boolean;
  readonly keep: boolean;
  readonly json: boolean;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      'idle-ms': { type: 'string' },
      reps: { type: 'string' },
      'settle-ms': { type: 'string' },
      card: { type: 'string' },
      psam: { type: 'string' },
      'system-pcscd': { type: 'boolean' },
      keep: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  return {
    idleMs: values['idle-ms'] === undefined ? 60_000 : intOption('idle-ms', values['idle-ms'], 1000),
    reps: values.reps === undefined ? 3 : intOption('reps', values.reps, 1),
    settleMs: values['settle-ms'] === undefined ? 5000 : intOption('settle-ms', values['settle-ms'], 0),
    card: values.card ?? 'fixtures/cards/card-2.0.json',
    psam: values.psam ?? 'fixtures/psam/psam-test.json',
    systemPcscd: values['system-pcscd'] ?? false,
    keep: values.keep ?? false,
    json: values.json ?? false,
  };
}

interface Window {
  readonly what: string;
  /** Share of one core, per part, in %. */
  readonly parts: readonly number[];
  readonly medianPct: number;
  readonly wholePct: number;
  readonly rssMb: number;
}

/** The daemon's CPU over `ms`, cut in `reps` parts. */
async function idleWindow(what: string, pid: number, ms: number, reps: number): Promise<Window> {
  const part = Math.floor(ms / reps);
  const parts: number[] = [];
  const start = cpuMsOf(pid);
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) {
    const c0 = cpuMsOf(pid);
    const w0 = performance.now();
    await sleep(part);
    const c1 = cpuMsOf(pid);
    if (c0 === undefined || c1 === undefined) throw new Error('the daemon went away during the idle window');
    parts.push((100 * (c1 - c0)) / (performance.now() - w0));
  }
  const end = cpuMsOf(pid)!;
  return { what, parts, medianPct: median(parts), wholePct: (100 * (end - start!)) / (performance.now() - t0), rssMb: (rssKb(pid) ?? 0) / 1024 };
}

/** Until /status shows `n` readers with a card and none busy, and the user slot's card identified. */
async function untilIdentified(port: number, token: string, n: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await fetch(`http://127.0.0.1:${port}/status`, { headers: { authorization: `Bearer ${token}` } });
    const s = (await r.json()) as { readers: { cardPresent: boolean; busy: boolean }[]; card: { identified: boolean } };
    const present = s.readers.filter((x) => x.cardPresent).length;
    if ((n === 0 ? present === 0 : present >= n && s.card.identified) && !s.readers.some((x) => x.busy)) return;
    if (Date.now() > deadline) throw new Error(`the daemon did not show ${n} identified card(s) within 30 s: ${JSON.stringify(s.readers)}`);
    await sleep(200);
  }
}

async function main(): Promise<void> {
  const o = parseOptions();
  const say = (s: string): void => {
    if (!o.json) process.stderr.write(`  … ${s}\n`);
  };
  const scratch = new BenchScratch('bench:idle', 'sscard-bench-idle-', o.keep);
  try {
    let stack: Stack;
    try {
      stack = o.systemPcscd ? systemStack('--system-pcscd given') : await privateStack(scratch.dir);
    } catch (e) {
      stack = systemStack(`the private pcscd could not run: ${reasonOf(e)}`);
    }
    scratch.steps.push(() => stack.stop());
    if (stack.socket !== undefined) process.env['PCSCLITE_CSOCK_NAME'] = stack.socket;
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    const root = projectRoot();
    const many = Math.min(8, stack.cardReaders.length);
    const insert = async (n: number): Promise<Cards> => {
      const c = Cards.start(env);
      scratch.steps.push(() => c.stop());
      await c.insert({ host: '127.0.0.1', cardPorts: stack.cardPorts.slice(0, n), psamPort: stack.psamPort, card: path.resolve(root, o.card), psam: path.resolve(root, o.psam) });
      return c;
    };
    const files = writeDaemonConfig(scratch.dir, stack);
    const token = addClient(files.configFile);

    // 8 cards: RSS (and CPU) once all are identified.
    let cards = await insert(many);
    const { daemon } = await Daemon.start(files.configFile, env);
    scratch.steps.push(() => daemon.stop());
    await step('identification', 40_000, untilIdentified(daemon.port, token, many));
    await sleep(o.settleMs);
    say(`${many} cards identified; idle for ${o.idleMs} ms`);
    const windows: Window[] = [await idleWindow(`${many} cards identified`, daemon.pid, o.idleMs, o.reps)];

    // One card.
    await cards.stop();
    await step('cards out', 30_000, untilIdentified(daemon.port, token, 0));
    cards = await insert(1);
    await step('identification', 40_000, untilIdentified(daemon.port, token, 1));
    await sleep(o.settleMs);
    say(`1 card identified; idle for ${o.idleMs} ms`);
    windows.push(await idleWindow('1 card identified', daemon.pid, o.idleMs, o.reps));

    // None.
    await cards.stop();
    await step('cards out', 30_000, untilIdentified(daemon.port, token, 0));
    await sleep(o.settleMs);
    say(`no card; idle for ${o.idleMs} ms`);
    windows.push(await idleWindow('no card', daemon.pid, o.idleMs, o.reps));

    const result = { stack: stack.mode, ...(stack.fallbackReason === undefined ? {} : { fallback: stack.fallbackReason }), idleMs: o.idleMs, reps: o.reps, windows };
    if (o.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      process.stdout.write(`bench:idle — ${stack.mode} pcscd; each window ${o.idleMs} ms in ${o.reps} parts; daemon CPU as % of one core\n`);
      process.stdout.write('| state | CPU % per part | median | whole window | RSS MB |\n|---|---|---|---|---|\n');
      for (const w of windows) process.stdout.write(`| ${w.what} | ${w.parts.map((p) => p.toFixed(3)).join(' / ')} | ${w.medianPct.toFixed(3)} | ${w.wholePct.toFixed(3)} | ${w.rssMb.toFixed(1)} |\n`);
    }
    scratch.failed = false;
  } finally {
    await scratch.run();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:idle: ${reasonOf(e)}\n`);
  process.exit(1);
});
