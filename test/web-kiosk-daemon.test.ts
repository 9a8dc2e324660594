/**
 * The kiosk screen against the real daemon (README "Quick start": `npm start`, then a browser on
 * http://127.0.0.1:<port>/kiosk): the daemon simulating (virtual card and PSAM through pcscd +
 * vpcd, touchscreen keypad), its own pages from dist/web (`npm run build`), Debian's Chromium
 * driven by playwright-core. The card is pulled and put back with `sscard sim-control`, as a
 * technician would on a demo machine.
 *
 * Flows: a page opened with the card already in → its holder's menu; insert → the masked holder and only the kiosk's services; verify with the right PIN
 * (verify.ok); a wrong PIN (the tries left shown, one try spent on the card); the card pulled at
 * the PIN screen (back to the start). After each: no PIN digit sequence in the DOM, the storage or
 * the console. Screenshots in var/test-output/web/daemon-*.png.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess } from './helpers/daemon.js';
import { requireStack, ROOT, runCli, settleAfterRemoval } from './helpers/stack.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(ROOT, 'var', 'test-output', 'web');
const PIN = '123456'; // fixtures/cards/card-2.0.json
const WRONG = '975310';
const NAME = '王志强';

const dir = mkdtempSync(path.join(tmpdir(), 'sscard-kiosk-daemon-'));
let daemon: DaemonProcess;
let context: BrowserContext;
const consoleLines: string[] = [];

const simControl = async (...args: string[]): Promise<void> => {
  const r = await runCli(['sim-control', ...args, '--config', daemon.configFile]);
  expect(r.code, r.stderr).toBe(0);
};

async function cardPresent(present: boolean): Promise<void> {
  const end = Date.now() + 15_000;
  for (;;) {
    const c = ((await (await daemon.fetch('/status')).json()) as { card: { present: boolean; identified?: boolean; session?: string } }).card;
    if (present ? c.identified === true && /^(identified|done)$/.test(c.session ?? '') : !c.present) return;
    if (Date.now() > end) throw new Error(`card ${present ? 'not identified' : 'still present'}: ${JSON.stringify(c)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function openKiosk(): Promise<Page> {
  const page = await context.newPage();
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  await page.goto(`http://127.0.0.1:${daemon.port}/kiosk?shuffle=off`);
  await page.getByTestId('unavailable').waitFor({ state: 'detached' });
  return page;
}

/** With the card out: the page opens on attract → touch → insert card → (the card goes in) → menu. */
async function openToMenu(): Promise<Page> {
  await simControl('remove');
  await cardPresent(false);
  const page = await openKiosk();
  await page.locator('[data-screen="attract"]').click();
  await page.locator('[data-screen="insertCard"]').waitFor();
  await simControl('insert');
  await page.locator('[data-screen="menu"]').waitFor({ timeout: 20_000 });
  return page;
}

async function typePin(page: Page, pin: string): Promise<void> {
  await page.locator('.prompt', { hasText: '请输入密码' }).waitFor({ timeout: 20_000 });
  for (const [i, d] of [...pin].entries()) {
    await page.locator('.keypad button', { hasText: new RegExp(`^${d}$`) }).click();
    if (i < pin.length - 1) await expect.poll(() => page.getByTestId('pin-dots').innerText()).toBe('●'.repeat(i + 1));
  }
  // No Enter: the daemon asks for exactly 6 digits (minLength = maxLength = 6,
  // daemon/flows/session-actors.ts), so the entry ends with the sixth key.
}

async function expectNoPin(page: Page): Promise<void> {
  const html = await page.content();
  const stored = await page.evaluate<string>('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })');
  for (const pin of [PIN, WRONG]) {
    expect(html).not.toContain(pin);
    expect(stored).not.toContain(pin);
    expect(consoleLines.join('\n')).not.toContain(pin);
  }
}

beforeAll(async () => {
  await requireStack();
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: run scripts/setup.sh`);
  if (!existsSync(path.join(ROOT, 'dist', 'web', 'kiosk', 'index.html'))) throw new Error('dist/web is not built: run npm run build');
  await mkdir(SHOTS, { recursive: true });
  daemon = await DaemonProcess.start(
    {
      config: { simulate: 'on', api: { port: 0 }, log: { level: 'info', file: 'log/sscard.log', console: false }, simulator: { stateDir: 'var/sim' } },
      entry: 'sscardd',
    },
    dir,
  );
  await cardPresent(true);
  context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1024, height: 768 },
    locale: 'zh-CN',
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await daemon?.stop();
  await settleAfterRemoval();
  rmSync(dir, { recursive: true, force: true });
});

describe('the kiosk screen on the real daemon (simulating, pcscd + vpcd, Chromium)', () => {
  it('a page opened while the card is already in (the daemon started with it): the holder\'s menu at once', async () => {
    const page = await openKiosk();
    await page.locator('[data-screen="menu"]').waitFor({ timeout: 20_000 });
    const card = await page.getByTestId('card').innerText();
    expect(card).toContain('王**');
    expect(card).toContain('X0****019');
    expect(await page.content()).not.toContain(NAME);
    await page.screenshot({ path: path.join(SHOTS, 'daemon-card-already-in.png') });
    await page.close();
  });

  it('insert → the masked holder and the kiosk services; verify with the right PIN → verify.ok', async () => {
    consoleLines.length = 0;
    const page = await openToMenu();
    const card = await page.getByTestId('card').innerText();
    expect(card).toContain('王**');
    expect(card).toContain('X0****019');
    expect(await page.content()).not.toContain(NAME);
    expect(await page.getByTestId('service-verify').count()).toBe(1);
    expect(await page.getByTestId('service-change').count()).toBe(1);
    expect(await page.getByTestId('service-unblock').count()).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, 'daemon-menu.png') });
    await page.getByTestId('service-verify').click();
    await page.getByTestId('start').click();
    await typePin(page, PIN);
    await page.locator('[data-screen="result"]').waitFor({ timeout: 20_000 });
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('.receipt').innerText()).toContain('verify.ok');
    await page.emulateMedia({ media: 'screen' });
    await page.screenshot({ path: path.join(SHOTS, 'daemon-verify-ok.png') });
    await expectNoPin(page);
    expect(consoleLines.filter((l) => /Content Security Policy|pageerror/i.test(l))).toEqual([]);
    await page.getByTestId('finish').click();
    await page.locator('[data-screen="attract"]').waitFor();
    await page.close();
  });

  it('a wrong PIN: the result names the tries left, and the card spent one', async () => {
    const page = await openToMenu();
    await page.getByTestId('service-verify').click();
    await page.getByTestId('start').click();
    await typePin(page, WRONG);
    await page.locator('[data-screen="result"]').waitFor({ timeout: 20_000 });
    const text = await page.getByTestId('result-text').innerText();
    expect(text).toMatch(/5/);
    await page.screenshot({ path: path.join(SHOTS, 'daemon-verify-wrong.png') });
    const status = (await (await daemon.fetch('/status')).json()) as { card: { triesLeft?: number } };
    expect(status.card.triesLeft).toBe(5);
    await expectNoPin(page);
    await page.getByTestId('finish').click();
    await page.close();
  });

  it('the card pulled at the PIN screen: the kiosk says so and goes back to the start', async () => {
    const page = await openToMenu();
    await page.getByTestId('service-verify').click();
    await page.getByTestId('start').click();
    await page.locator('.prompt', { hasText: '请输入密码' }).waitFor({ timeout: 20_000 });
    await page.locator('.keypad button', { hasText: /^1$/ }).click();
    await simControl('remove');
    await page.locator('[data-screen="removed"]').waitFor({ timeout: 20_000 });
    await page.screenshot({ path: path.join(SHOTS, 'daemon-removed.png') });
    await page.locator('[data-screen="attract"]').waitFor({ timeout: 30_000 });
    await simControl('insert');
    await cardPresent(true);
    await expectNoPin(page);
    await page.close();
  });
});
