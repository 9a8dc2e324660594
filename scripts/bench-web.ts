/**
 * npm run bench:web — the screens' costs (docs/benchmarks.md "bench:web"), in Debian's Chromium
 * (playwright-core, /usr/bin/chromium) against the daemon's own pages (dist/web) and a virtual card:
 *
 * 1. the kiosk bundle: the page and everything it loads, gzipped (target ≤ 150 kB);
 * 2. card inserted → the holder's (masked) name on the kiosk screen, minus the same identification
 *    on the driver (PcscService + SsseCard.identify with the PSAM, in this process), target ≤ 50 ms
 *    at the p50. Both are timed from the card's insertion event — PC/SC's card-inserted as this
 *    process's own PcscService sees it, watching the same pcscd as the daemon — so that pcscd's
 *    polling of the vpcd reader (some hundred ms, and jittery) is in neither; the time from asking
 *    the card process for the insertion is reported beside. They end when the card is identified
 *    (driver) or the name is in the page's DOM and at the next animation frame after it (page). The
 *    two paths alternate in the ABBA order, --inserts insertions per run, --reps runs each; medians
 *    of the runs' p50;
 * 3. the kiosk page's memory over --flows whole holder flows in one page (insert → menu → verify
 *    with the on-screen keypad → result → done → card out), sampled after a forced garbage
 *    collection every --sample-every flows (Chrome DevTools Protocol: JS heap, DOM nodes,
 *    listeners); no growth after the first tenth (the warm-up) is the target.
 *
 * The readers: a private pcscd (bench/pcsc-stack.ts, as bench:api) with one card slot used and the
 * PSAM, the cards in their own process (bench/cards-process.ts); the daemon is `sscardd` from the
 * build with bench:api's kiosk configuration (touchscreen pad, journal).
 *
 *   node dist/scripts/bench-web.js [--reps 3] [--inserts 20] [--flows 500] [--sample-every 50]
 *     [--card fixtures/cards/card-2.0.json] [--psam fixtures/psam/psam-test.json] [--system-pcscd] [--keep] [--json]
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { SsseCard } from '../drivers/card/ssse-card.js';
import { PcscService } from '../drivers/pcsc/pcsc-service.js';
import { Psam } from '../drivers/psam/psam.js';
import { alternation } from './bench/alternation.js';
import { PIN, writeDaemonConfig } from './bench/api/config.js';
import { Cards } from './bench/cards.js';
import { Daemon, entryScript } from './bench/daemon.js';
import { reasonOf } from './bench/errors.js';
import { pcscdVersion, privateStack, quickAckOn, requireVpcd, systemStack, type Stack } from './bench/pcsc-stack.js';
import { reportOf, writeOut } from './bench/report.js';
import { intOption, step } from './bench/run.js';
import { BenchScratch } from './bench/scratch.js';
import { watchdog } from './bench/watchdog.js';
import { measureBundle } from './bench/web/bundle.js';
import { webResult, webText, type MemorySample } from './bench/web/report.js';
import { median } from './bench/stats.js';
import { projectRoot } from './cli-util.js';

const CHROMIUM = '/usr/bin/chromium';
const now = (): number => performance.timeOrigin + performance.now();

interface Options {
  readonly reps: number;
  readonly inserts: number;
  readonly flows: number;
  readonly sampleEvery: number;
  readonly cardFile: string;
  readonly psamFile: string;
  readonly systemPcscd: boolean;
  readonly keep: boolean;
  readonly json: boolean;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      reps: { type: 'string', default: '3' },
      inserts: { type: 'string', default: '20' },
      flows: { type: 'string', default: '500' },
      'sample-every': { type: 'string', default: '50' },
      card: { type: 'string', default: 'fixtures/cards/card-2.0.json' },
      psam: { type: 'string', default: 'fixtures/psam/psam-test.json' },
      'system-pcscd': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const root = projectRoot();
  return {
    reps: intOption('reps', values.reps, 1),
    inserts: intOption('inserts', values.inserts, 3),
    flows: intOption('flows', values.flows, 0),
    sampleEvery: intOption('sample-every', values['sample-every'], 1),
    cardFile: path.resolve(root, values.card),
    psamFile: path.resolve(root, values.psam),
    systemPcscd: values['system-pcscd'],
    keep: values.keep,
    json: values.json,
  };
}

/** The page's own clock when the masked name is in the DOM, and at the next frame after it (installed before the insertion). */
const WATCH_NAME = `window.__benchName = new Promise((resolve) => {
  const has = () => { const el = document.querySelector('[data-testid="card"]'); return el !== null && el.textContent.includes('*'); };
  const done = () => { const dom = performance.timeOrigin + performance.now(); requestAnimationFrame(() => resolve({ dom, paint: performance.timeOrigin + performance.now() })); };
  if (has()) { done(); return; }
  const mo = new MutationObserver(() => { if (has()) { mo.disconnect(); done(); } });
  mo.observe(document.body, { subtree: true, childList: true, characterData: true });
})`;

/** The kiosk with no card shown (attract, insert card or "card removed"). */
async function noCardShown(page: Page): Promise<void> {
  // Locators, not waitForFunction: the page's CSP (script-src 'self') refuses the eval behind a string predicate.
  await page.getByTestId('card').waitFor({ state: 'detached', timeout: 20_000 });
  await page.getByTestId('unavailable').waitFor({ state: 'detached', timeout: 20_000 });
}

class Bench {
  public readonly driverRuns: number[][] = [];
  public readonly pageDomRuns: number[][] = [];
  public readonly pagePaintRuns: number[][] = [];
  /** The same, timed from asking the card process for the insertion (pcscd's detection included). */
  public readonly driverFromRequest: number[][] = [];
  public readonly pageFromRequest: number[][] = [];
  /** When this process's PcscService last saw the card go in. */
  private insertedAt: number | undefined;
  public readonly memory: MemorySample[] = [];
  public readonly failures: string[] = [];

  constructor(
    private readonly o: Options,
    private readonly stack: Stack,
    private readonly cards: Cards,
    private readonly svc: PcscService,
    private readonly browser: Browser,
    private readonly startDaemon: () => Promise<Daemon>,
    private readonly progress: (s: string) => void,
  ) {
    svc.on('card-inserted', (reader) => {
      if (reader === this.reader) this.insertedAt = now();
    });
  }

  /** Put the card in; resolves with the request's time. */
  private async cardIn(): Promise<number> {
    this.insertedAt = undefined;
    const t0 = now();
    await this.cards.move('in');
    return t0;
  }

  /** The PC/SC insertion event's time (waits for it: the daemon may see the card first). */
  private async insertionEvent(): Promise<number> {
    await this.svc.waitForCard(this.reader, 10_000);
    for (let i = 0; this.insertedAt === undefined && i < 100; i++) await new Promise((r) => setTimeout(r, 10));
    if (this.insertedAt === undefined) throw new Error(`no card-inserted event for ${this.reader}`);
    return this.insertedAt;
  }

  private get reader(): string {
    return this.stack.cardReaders[0]!;
  }

  /** Card out, and pcscd has seen it go. */
  private async cardOut(): Promise<void> {
    await this.cards.move('out');
    await this.svc.waitForRemoval(this.reader, 10_000).catch(() => undefined);
  }

  /** A: insertion → identified, straight on the driver. */
  async driverRun(): Promise<void> {
    const out: number[] = [];
    const fromRequest: number[] = [];
    const psamCh = await this.svc.connect(this.stack.psamReader, { share: 'exclusive' });
    try {
      const psam = new Psam(psamCh);
      await step('PSAM open', 10_000, psam.open());
      for (let i = 0; i < this.o.inserts; i++) {
        await this.cardOut();
        const t0 = await this.cardIn();
        const tEvent = await this.insertionEvent();
        const ch = await this.svc.connect(this.reader, { share: 'exclusive' });
        try {
          const b = await new SsseCard(ch).identify(psam);
          if (!b.holder.name) this.failures.push('driver: no holder name');
          const t1 = now();
          out.push(t1 - tEvent);
          fromRequest.push(t1 - t0);
        } finally {
          await ch.close('leave').catch(() => undefined);
        }
      }
    } finally {
      await psamCh.close('leave').catch(() => undefined);
    }
    this.driverRuns.push(out);
    this.driverFromRequest.push(fromRequest);
    this.progress(`driver run ${this.driverRuns.length}: p50 ${median(out).toFixed(1)} ms`);
  }

  private async kioskPage(daemon: Daemon): Promise<Page> {
    const context = await this.browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'zh-CN' });
    const page = await context.newPage();
    page.on('pageerror', (e) => this.failures.push(`page error: ${e.message}`));
    await page.goto(`http://127.0.0.1:${daemon.port}/kiosk?shuffle=off`);
    await page.getByTestId('unavailable').waitFor({ state: 'detached', timeout: 20_000 });
    return page;
  }

  /** B: insertion → the name on the kiosk, through the daemon. */
  async pageRun(): Promise<void> {
    const dom: number[] = [];
    const paint: number[] = [];
    const fromRequest: number[] = [];
    await this.cardOut();
    const daemon = await this.startDaemon();
    try {
      const page = await this.kioskPage(daemon);
      for (let i = 0; i < this.o.inserts; i++) {
        await this.cardOut();
        await noCardShown(page);
        // `; 0`: evaluate would otherwise wait for the promise the assignment yields.
        await page.evaluate(`${WATCH_NAME}; 0`);
        const t0 = await this.cardIn();
        const seen = await step('the name on the kiosk', 20_000, page.evaluate<{ dom: number; paint: number }>('window.__benchName'));
        const tEvent = await this.insertionEvent();
        dom.push(seen.dom - tEvent);
        paint.push(seen.paint - tEvent);
        fromRequest.push(seen.paint - t0);
      }
      await page.context().close();
    } finally {
      await daemon.stop();
    }
    this.pageDomRuns.push(dom);
    this.pagePaintRuns.push(paint);
    this.pageFromRequest.push(fromRequest);
    this.progress(`page run ${this.pagePaintRuns.length}: p50 ${median(paint).toFixed(1)} ms (DOM ${median(dom).toFixed(1)} ms)`);
  }

  /** The page's memory over many whole holder flows in one session. */
  async memoryRun(): Promise<void> {
    if (this.o.flows === 0) return;
    await this.cardOut();
    const daemon = await this.startDaemon();
    try {
      const page = await this.kioskPage(daemon);
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Performance.enable');
      const sample = async (flows: number): Promise<void> => {
        await cdp.send('HeapProfiler.collectGarbage');
        const { metrics } = await cdp.send('Performance.getMetrics');
        const get = (n: string): number => metrics.find((m) => m.name === n)?.value ?? NaN;
        this.memory.push({ flows, heapBytes: get('JSHeapUsedSize'), nodes: get('Nodes'), listeners: get('JSEventListeners') });
      };
      for (let i = 1; i <= this.o.flows; i++) {
        await noCardShown(page);
        await this.cards.move('in');
        await page.locator('[data-screen="menu"]').waitFor({ timeout: 20_000 });
        await page.getByTestId('service-verify').click();
        await page.getByTestId('start').click();
        await page.locator('.keypad button:not([disabled])').first().waitFor({ timeout: 20_000 });
        for (const d of PIN) await page.locator('.keypad button', { hasText: new RegExp(`^${d}$`) }).click();
        await page.locator('[data-screen="result"]').waitFor({ timeout: 20_000 });
        const code = await page.locator('.receipt dd').nth(-3).textContent();
        if (!code?.includes('verify.ok')) this.failures.push(`flow ${i}: ${code ?? '(no result)'}`);
        await page.getByTestId('finish').click();
        await this.cardOut();
        if (i === 1 || i % this.o.sampleEvery === 0) {
          await sample(i);
          this.progress(`memory: ${i} flows, heap ${(this.memory.at(-1)!.heapBytes / 1048576).toFixed(2)} MB`);
        }
      }
      await page.context().close();
    } finally {
      await daemon.stop();
    }
  }
}

async function main(): Promise<void> {
  const o = parseOptions();
  const progress = (s: string): void => {
    if (!o.json) process.stderr.write(`  … ${s}\n`);
    dog.refresh();
  };
  const dog = watchdog(180_000, 'bench:web: no progress for 180 s — giving up', { graceMs: 30_000, onExpire: () => void scratch.run().finally(() => process.exit(1)) });
  requireVpcd();
  if (pcscdVersion() === undefined) throw new Error('pcscd is not installed: run ./scripts/setup.sh');
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run ./scripts/setup.sh`);
  const webRoot = path.join(projectRoot(), 'dist', 'web');
  if (!existsSync(path.join(webRoot, 'kiosk', 'index.html')) || !existsSync(entryScript('sscardd'))) throw new Error('dist/ is not built: npm run build first');
  const scratch = new BenchScratch('bench:web', 'sscard-bench-web-', o.keep);
  try {
    const bundle = measureBundle(webRoot, 'kiosk');
    let stack: Stack;
    if (o.systemPcscd) stack = systemStack('--system-pcscd given');
    else {
      try {
        stack = await privateStack(scratch.dir);
      } catch (e) {
        stack = systemStack(`the private pcscd could not run: ${reasonOf(e)}`);
        process.stderr.write(`bench:web: FALLBACK to the system pcscd (${stack.fallbackReason})\n`);
      }
    }
    scratch.steps.push(() => stack.stop());
    if (stack.socket !== undefined) process.env['PCSCLITE_CSOCK_NAME'] = stack.socket;
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    const cards = Cards.start(env);
    scratch.steps.push(() => cards.stop());
    await cards.insert({ host: '127.0.0.1', cardPorts: stack.cardPorts.slice(0, 1), psamPort: stack.psamPort, card: o.cardFile, psam: o.psamFile });
    const svc = new PcscService();
    svc.start();
    scratch.steps.push(() => svc.stop());
    await step('PC/SC service (bench)', 10_000, svc.ready(5000));
    const files = writeDaemonConfig(scratch.dir, stack);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
    scratch.steps.push(() => browser.close());
    const startDaemon = async (): Promise<Daemon> => (await Daemon.start(files.configFile, env)).daemon;
    const bench = new Bench(o, stack, cards, svc, browser, startDaemon, progress);
    for (const p of alternation(o.reps, 'ABBA')) await (p === 'A' ? bench.driverRun() : bench.pageRun());
    await bench.memoryRun();
    const facts = {
      bundle,
      driverRuns: bench.driverRuns,
      pageDomRuns: bench.pageDomRuns,
      pagePaintRuns: bench.pagePaintRuns,
      driverFromRequest: bench.driverFromRequest,
      pageFromRequest: bench.pageFromRequest,
      memory: bench.memory,
      warmupFlows: Math.max(1, Math.floor(o.flows / 10)),
      failures: bench.failures,
      quickAck: quickAckOn(),
      stack: stack.mode === 'private' ? 'private pcscd' : `system pcscd (${stack.fallbackReason ?? ''})`,
    };
    const result = webResult(facts);
    await writeOut(reportOf(o.json, result, () => webText(facts, result)));
    if (result.failures > 0) process.exitCode = 1;
    scratch.failed = false;
  } finally {
    dog.refresh({ ms: 60_000, message: 'bench:web: cleaning up took more than 60 s' });
    await scratch.run();
    dog.stop();
  }
}

main().then(
  () => process.exit(),
  (err: unknown) => {
    process.stderr.write(`bench:web failed: ${reasonOf(err)}\n(需要 pcscd、vpcd 与 Chromium / needs pcscd, vpcd and Chromium: ./scripts/setup.sh; then npm run build)\n`);
    process.exit(1);
  },
);
