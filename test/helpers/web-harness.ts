/**
 * The harness of the browser suites on the fake terminal (test/web-pages.test.ts,
 * test/web-a11y.test.ts): the pages of web/ built with Vite into a temporary folder, served by
 * daemon/api/static-files.ts on loopback, talking to the API (startTestApi with a FakeTerminal)
 * through the page's own origin — the page server passes WebSocket upgrades on to the API, as the
 * daemon does when it serves the pages itself — and Debian's Chromium driven by playwright-core
 * (a browser download does not work on these machines; scripts/setup.sh installs /usr/bin/chromium).
 *
 * Also the Chromium every browser suite launches (CHROMIUM, CHROMIUM_ARGS, requireChromium,
 * launchChromium, launchChromiumContext) and where their screenshots go (SHOTS, saveShot); the
 * suites on the real daemon add test/helpers/browser-daemon.ts.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { openStaticSite, type StaticSite } from '../../daemon/api/static-files.js';
import { startTestApi, type TestApi } from '../../testing/api-test-client.js';
import { FakeTerminal } from '../../testing/fake-terminal.js';

/** Debian's Chromium (scripts/setup.sh installs it; playwright's own browser download does not work here). */
export const CHROMIUM = '/usr/bin/chromium';
/**
 * The flags every suite starts Chromium with: no sandbox (the suites may run as root), no GPU, and
 * none of the browser's own network traffic (QUIC, first-run, background fetches, component
 * updates, sync) beside the pages' requests to loopback.
 */
export const CHROMIUM_ARGS: readonly string[] = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Screenshots of the browser suites (looked at by a person: Chinese renders, nothing overlaps). */
export const SHOTS = join(process.cwd(), 'var', 'test-output', 'web');

/** Throw, saying how to get it, when Chromium is not installed (the suites fail rather than skip). */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed (${CHROMIUM} missing): run ./scripts/setup.sh`);
}

/** Chromium headless with CHROMIUM_ARGS and `extraArgs` after them, for a suite that opens its own contexts. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** What a suite chooses of a context launched with launchChromiumContext (playwright's option of the same name). */
export interface ChromiumContextOptions {
  readonly viewport?: { readonly width: number; readonly height: number };
  readonly locale?: string;
  /** Let the test inject scripts (axe-core) the pages' Content-Security-Policy would refuse. */
  readonly bypassCSP?: boolean;
}

/**
 * Chromium headless on its own profile folder (a persistent context: nothing shared with another
 * suite's browser), with CHROMIUM_ARGS and `--headless` besides playwright's `headless: true`.
 */
export function launchChromiumContext(profile: string, options: ChromiumContextOptions = {}): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ['--headless', ...CHROMIUM_ARGS], ...options });
}

/** A full-page screenshot of `page` to var/test-output/web/<name>.png. */
export async function saveShot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

export interface WebHarnessOptions {
  /**
   * Let the tests inject scripts the pages' strict Content-Security-Policy would refuse (axe-core
   * in test/web-a11y.test.ts). Off by default: the other suites check that the CSP lets the bundle run.
   */
  readonly bypassCSP?: boolean;
}

export interface WebHarness {
  /** http://127.0.0.1:<port> of the page server. */
  readonly origin: string;
  /** The fake terminal behind the API; a new one after each startApi(). */
  readonly terminal: FakeTerminal;
  /** Console lines and page errors of every page opened with openPage, in order. */
  readonly consoleLines: string[];
  readonly context: BrowserContext;
  /** A new tab on origin + path, its console recorded in consoleLines. */
  openPage(path: string): Promise<Page>;
  /** A full-page screenshot to var/test-output/web/<name>.png. */
  shot(page: Page, name: string): Promise<void>;
  /** The API goes away (the page server stays): upgrades are refused until startApi(). */
  stopApi(): Promise<void>;
  /** A new API with a new FakeTerminal (no card) behind the same page server. */
  startApi(): Promise<void>;
  close(): Promise<void>;
}

export async function startWebHarness(options: WebHarnessOptions = {}): Promise<WebHarness> {
  requireChromium();
  const outDir = await mkdtemp(join(tmpdir(), 'sscard-web-build-'));
  const profile = await mkdtemp(join(tmpdir(), 'sscard-web-profile-'));
  await mkdir(SHOTS, { recursive: true });
  let api: TestApi | null = null;
  let terminal = new FakeTerminal({ card: null });
  let origin = '';
  let server: http.Server | undefined;
  let context: BrowserContext | undefined;
  const consoleLines: string[] = [];

  const startApi = async (): Promise<void> => {
    terminal = new FakeTerminal({ card: null });
    api = await startTestApi({ terminal, allowUnauthenticatedLoopback: false, allowedOrigins: [origin] });
  };

  /** Pass a WebSocket upgrade on to the API's port, byte for byte. */
  const proxyUpgrade = (req: http.IncomingMessage, socket: net.Socket, head: Buffer): void => {
    if (api === null) return void socket.destroy();
    const port = Number(new URL(api.base).port);
    const upstream = net.connect(port, '127.0.0.1', () => {
      const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]!}: ${req.rawHeaders[i + 1]!}`);
      upstream.write(lines.join('\r\n') + '\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  };

  const close = async (): Promise<void> => {
    await context?.close();
    await api?.close();
    api = null;
    await new Promise<void>((r) => (server === undefined ? r() : server.close(() => r())));
    await rm(outDir, { recursive: true, force: true });
    await rm(profile, { recursive: true, force: true });
  };

  try {
    await build({ configFile: join(process.cwd(), 'web', 'vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    const site: StaticSite = await openStaticSite({ root: outDir, socketOrigins: [] });
    const srv = http.createServer((req, res) => {
      if (!site.handle(req, res)) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('not found');
      }
    });
    server = srv;
    srv.on('upgrade', proxyUpgrade);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    origin = `http://127.0.0.1:${port}`;
    site.setSocketOrigins([`ws://127.0.0.1:${port}`]);
    await startApi();
    context = await launchChromiumContext(profile, { viewport: { width: 1024, height: 768 }, locale: 'zh-CN', bypassCSP: options.bypassCSP ?? false });
  } catch (e) {
    await close();
    throw e;
  }
  const ctx = context;

  return {
    get origin() {
      return origin;
    },
    get terminal() {
      return terminal;
    },
    consoleLines,
    context: ctx,
    async openPage(path: string): Promise<Page> {
      const page = await ctx.newPage();
      page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
      await page.goto(origin + path);
      return page;
    },
    shot: saveShot,
    async stopApi(): Promise<void> {
      const a = api;
      api = null;
      await a?.close();
    },
    startApi,
    close,
  };
}
