/**
 * The kiosk screen against the real daemon (README "Quick start": `npm start`, then a browser on
 * http://127.0.0.1:<port>/kiosk): the daemon simulating (virtual card and PSAM through pcscd +
 * vpcd, touchscreen keypad), its own pages from dist/web (`npm run build`), Debian's Chromium
 * driven by playwright-core. The card is pulled and put back with `sscard sim-control`, as a
 * technician would on a demo machine.
 *
 * Flows: a page opened with the card already in → its holder's menu; insert → the masked holder and
 * only the kiosk's services; verify with the right PIN (verify.ok, the receipt in print); a wrong
 * PIN (the tries left shown, one try spent on the card); the card pulled at the PIN screen (back to
 * the start); zh/en and elder mode; inactivity (countdown, more time, back to the start); the daemon
 * and pcscd restarting (temporarily unavailable, then back without a reload); reset with the simulated ID
 * card (its advice, the receipt's item code and journal row); change refused by the PIN policy,
 * then done; wrong PINs down to the kiosk's tries floor (nothing offered, the window's address);
 * a locked card (where to go). After each: no PIN digit sequence in the DOM, the storage, the
 * console, or any frame the page sent but single-key Keyboard.TouchKey messages. Screenshots in
 * var/test-output/web/daemon-*.png.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoPinLeft, recordPages, requireBrowserStack, simControl, waitCardPresent } from './helpers/browser-daemon.js';
import { DaemonProcess } from './helpers/daemon.js';
import { restartPcscd, ROOT, settleAfterRemoval } from './helpers/stack.js';
import { launchChromiumContext, SHOTS } from './helpers/web-harness.js';

const PIN = '123456'; // fixtures/cards/card-2.0.json
const WRONG = '975310';
const NAME = '王志强';
const NEW_PIN = '802461'; // set by the reset below
const NEXT_PIN = '135790'; // set by the change below
const TEST_PINS = [PIN, WRONG, NEW_PIN, NEXT_PIN, '111111'];
/** The PIN item's 业务办理项编码 (fixtures/catalog/service-items.json, seed 001). */
const PIN_ITEM_CODE = '11410402785096902M500201401000601';

const dir = mkdtempSync(path.join(tmpdir(), 'sscard-kiosk-daemon-'));
let daemon: DaemonProcess;
let context: BrowserContext;
/** The console and the WebSocket frames of every kiosk page. */
const record = recordPages();
const { consoleLines, framesSent } = record;
let apiPort = 0;

async function openKiosk(query = ''): Promise<Page> {
  const page = await context.newPage();
  record.watch(page);
  await page.goto(`http://127.0.0.1:${daemon.port}/kiosk?shuffle=off${query}`);
  await page.getByTestId('unavailable').waitFor({ state: 'detached' });
  return page;
}

/** With the card out: the page opens on attract → touch → insert card → (the card goes in) → menu. */
async function openToMenu(query = ''): Promise<Page> {
  await simControl(daemon, 'remove');
  await waitCardPresent(daemon, false);
  const page = await openKiosk(query);
  await page.locator('[data-screen="attract"]').click();
  await page.locator('[data-screen="insertCard"]').waitFor();
  await simControl(daemon, 'insert');
  await page.locator('[data-screen="menu"]').waitFor({ timeout: 20_000 });
  return page;
}

async function typePin(page: Page, pin: string, prompt = '请输入密码'): Promise<void> {
  await page.locator('.prompt', { hasText: prompt }).waitFor({ timeout: 20_000 });
  for (const [i, d] of [...pin].entries()) {
    await page.locator('.keypad button', { hasText: new RegExp(`^${d}$`) }).click();
    if (i < pin.length - 1) await expect.poll(() => page.getByTestId('pin-dots').innerText()).toBe('●'.repeat(i + 1));
  }
  // No Enter: the daemon asks for exactly 6 digits (minLength = maxLength = 6,
  // daemon/flows/session-actors.ts), so the entry ends with the sixth key.
}

/** No test PIN in the DOM, the storage, the console or a frame sent; the keypad sent TouchKeys of one key each. */
const expectNoPin = (page: Page): Promise<void> => expectNoPinLeft(page, record, TEST_PINS, 'required');

/** From the menu: the service's prepare screen → start → (its PIN entries) → the result screen. */
async function runService(page: Page, kind: string, entries: readonly [prompt: string, pin: string][]): Promise<string> {
  await page.getByTestId(`service-${kind}`).click();
  await page.locator('[data-screen="prepare"]').waitFor();
  await page.getByTestId('start').click();
  for (const [prompt, pin] of entries) await typePin(page, pin, prompt);
  await page.locator('[data-screen="result"]').waitFor({ timeout: 20_000 });
  return page.getByTestId('result-text').innerText();
}

async function triesLeft(): Promise<number | undefined> {
  return ((await (await daemon.fetch('/status')).json()) as { card: { triesLeft?: number } }).card.triesLeft;
}

const startDaemon = (): Promise<DaemonProcess> =>
  DaemonProcess.start(
    {
      config: { simulate: 'on', services: ['verify', 'change', 'reset'], api: { port: apiPort }, log: { level: 'info', file: 'log/sscard.log', console: false }, simulator: { stateDir: 'var/sim' } },
      entry: 'sscardd',
    },
    dir,
  );

beforeAll(async () => {
  await requireBrowserStack('kiosk');
  daemon = await startDaemon();
  // The daemon restarted below takes the same port: the open page knows that address.
  apiPort = daemon.port;
  await waitCardPresent(daemon, true);
  context = await launchChromiumContext(path.join(dir, 'profile'), { viewport: { width: 1024, height: 768 }, locale: 'zh-CN' });
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
    await simControl(daemon, 'remove');
    await page.locator('[data-screen="removed"]').waitFor({ timeout: 20_000 });
    await page.screenshot({ path: path.join(SHOTS, 'daemon-removed.png') });
    await page.locator('[data-screen="attract"]').waitFor({ timeout: 30_000 });
    await simControl(daemon, 'insert');
    await waitCardPresent(daemon, true);
    await expectNoPin(page);
    await page.close();
  });

  it('zh/en and elder mode: one tap each; targets ≥ 48 px (64 px in elder mode); both back to the defaults for the next holder', async () => {
    const page = await openToMenu();
    await page.getByTestId('toggle-lang').click();
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.locator('[data-screen="menu"] h1').innerText()).toBe('Choose a service');
    const heights = (): Promise<number[]> => page.locator('main button').evaluateAll((bs: readonly { getBoundingClientRect(): { height: number } }[]) => bs.map((b) => b.getBoundingClientRect().height));
    expect(Math.min(...(await heights()))).toBeGreaterThanOrEqual(48);
    await page.getByTestId('toggle-elder').click();
    expect(await page.locator('.kiosk').getAttribute('class')).toContain('elder');
    expect(Math.min(...(await heights()))).toBeGreaterThanOrEqual(64);
    await page.screenshot({ path: path.join(SHOTS, 'daemon-menu-en-elder.png') });
    await page.locator('[data-screen="menu"] .btn.primary').click(); // done, exit
    await page.locator('[data-screen="attract"]').waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    expect(await page.locator('.kiosk').getAttribute('class')).not.toContain('elder');
    await page.close();
  });

  it('inactivity: a visible countdown with "more time", then back to the start, the session ended', async () => {
    const page = await openToMenu('&idle=5&countdown=5');
    const bar = page.getByTestId('countdown');
    await bar.waitFor({ timeout: 15_000 });
    expect(await bar.innerText()).toMatch(/\d+ 秒后将退出/);
    await page.screenshot({ path: path.join(SHOTS, 'daemon-countdown.png') });
    await bar.getByRole('button').click();
    await bar.waitFor({ state: 'detached' });
    expect(await page.locator('[data-screen="menu"]').count()).toBe(1);
    await bar.waitFor({ timeout: 15_000 });
    await page.locator('[data-screen="attract"]').waitFor({ timeout: 15_000 });
    // The kiosk ended the holder's session (SSCard.End) rather than leave it for the next one.
    expect(framesSent.some((f) => f.includes('"SSCard.End"'))).toBe(true);
    await page.close();
  });

  it('the daemon restarting: "temporarily unavailable", then the holder\'s screen again without a reload', async () => {
    const page = await openToMenu();
    await page.evaluate('window.__sameDocument = true');
    await daemon.stop();
    await page.getByTestId('unavailable').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('unavailable').innerText()).toContain('服务暂时不可用');
    await page.screenshot({ path: path.join(SHOTS, 'daemon-unavailable.png') });
    daemon = await startDaemon();
    await page.getByTestId('unavailable').waitFor({ state: 'detached', timeout: 30_000 });
    // The simulator puts the card back in at start: the page greets it as it comes.
    await page.locator('[data-screen="menu"]').waitFor({ timeout: 30_000 });
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    await page.close();
  });

  it('reset with the resident ID card (seed 001): the ID card checked, the new PIN twice, the advice, the receipt with the item code and the journal row', async () => {
    const page = await openToMenu();
    await page.getByTestId('service-reset').click();
    const needs = await page.locator('[data-screen="prepare"] .needs').innerText();
    // Everything at once (一次性告知): both originals, then the new PIN.
    expect(needs).toMatch(/社会保障卡[\s\S]*身份证[\s\S]*新的 6 位密码/);
    await page.screenshot({ path: path.join(SHOTS, 'daemon-reset-prepare.png') });
    await page.getByTestId('start').click();
    await page.locator('.id-ok').waitFor({ timeout: 20_000 });
    await typePin(page, NEW_PIN, '请输入新密码');
    await page.screenshot({ path: path.join(SHOTS, 'daemon-reset-pin.png') });
    await typePin(page, NEW_PIN, '请再次输入新密码');
    await page.locator('[data-screen="result"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('[data-screen="result"] h1').innerText()).toBe('办理成功');
    expect(await page.locator('.next').innerText()).toMatch(/医院或药店/);
    await page.emulateMedia({ media: 'print' });
    const receipt = await page.locator('.receipt').innerText();
    expect(receipt).toContain(PIN_ITEM_CODE);
    expect(receipt).toContain('社会保障卡密码修改与重置');
    expect(receipt).toContain('X0****019');
    expect(receipt).not.toContain(NAME);
    expect(await page.getByTestId('receipt-operation').innerText()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    await page.screenshot({ path: path.join(SHOTS, 'daemon-reset-receipt-print.png') });
    await page.emulateMedia({ media: 'screen' });
    await page.screenshot({ path: path.join(SHOTS, 'daemon-reset-ok.png') });
    expect(await triesLeft()).toBe(6);
    await expectNoPin(page);
    await page.getByTestId('finish').click();
    await page.close();
  });

  it('change: a new PIN the policy refuses (same digits) is explained and nothing spent; try again → done', async () => {
    const page = await openToMenu();
    const refused = await runService(page, 'change', [
      ['请输入原密码', NEW_PIN],
      ['请输入新密码', '111111'],
      ['请再次输入新密码', '111111'],
    ]);
    expect(refused).toMatch(/新密码不符合要求/);
    expect(refused).toMatch(/相同/);
    await page.screenshot({ path: path.join(SHOTS, 'daemon-change-policy.png') });
    expect(await triesLeft()).toBe(6);
    await page.getByRole('button', { name: '重新办理' }).click();
    await page.getByTestId('start').click();
    for (const [prompt, pin] of [['请输入原密码', NEW_PIN], ['请输入新密码', NEXT_PIN], ['请再次输入新密码', NEXT_PIN]] as const) await typePin(page, pin, prompt);
    await page.locator('[data-screen="result"] h1', { hasText: '办理成功' }).waitFor({ timeout: 20_000 });
    await page.screenshot({ path: path.join(SHOTS, 'daemon-change-ok.png') });
    await expectNoPin(page);
    await page.getByTestId('finish').click();
    await page.close();
  });

  it('wrong PINs down to the kiosk\'s tries floor: tries left each time, then no check or change offered and the window to go to', async () => {
    let page = await openToMenu();
    for (let left = 5; left >= 1; left--) {
      const text = await runService(page, 'verify', [['请输入密码', WRONG]]);
      expect(text).toContain(String(left));
      expect(await triesLeft()).toBe(left);
      if (left > 1) {
        await page.getByRole('button', { name: '重新办理' }).click();
        await page.locator('[data-screen="prepare"]').waitFor();
        await page.getByRole('button', { name: '返回' }).click();
        await page.locator('[data-screen="menu"]').waitFor();
      }
    }
    // One try left: the daemon would refuse a check here (verify.belowFloor), so the kiosk offers no retry.
    expect(await page.getByRole('button', { name: '重新办理' }).count()).toBe(0);
    await page.getByTestId('finish').click();
    await page.close();
    page = await openToMenu();
    // Reset is still offered (it needs no old PIN); check and change are not.
    expect(await page.getByTestId('service-verify').count()).toBe(0);
    expect(await page.getByTestId('service-change').count()).toBe(0);
    expect(await page.getByTestId('service-reset').count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'daemon-below-floor.png') });
    await expectNoPin(page);
    await page.close();
  });

  it('a locked card: where to go (the window\'s address and phone from the catalog), no service offered', async () => {
    await simControl(daemon, 'swap', path.join(ROOT, 'fixtures', 'cards', 'card-locked.json'));
    const page = await openKiosk();
    await page.locator('[data-screen="locked"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('[data-screen="locked"] .service').count()).toBe(0);
    expect(await page.getByTestId('where').innerText()).toContain('西高皇街道');
    expect(await page.locator('[data-screen="locked"]').innerText()).toContain('0375-6182813');
    await page.screenshot({ path: path.join(SHOTS, 'daemon-locked.png') });
    await page.close();
  });

  it('pcscd restarting: "temporarily unavailable" while PC/SC is gone, then the holder\'s screen again without a reload', async () => {
    await simControl(daemon, 'swap', path.join(ROOT, 'fixtures', 'cards', 'card-2.0.json'));
    const page = await openToMenu();
    await page.evaluate('window.__sameDocument = true');
    const down = page.getByTestId('unavailable').waitFor({ timeout: 20_000 });
    await restartPcscd(1500);
    await down;
    await page.getByTestId('unavailable').waitFor({ state: 'detached', timeout: 30_000 });
    await page.locator('[data-screen="menu"]').waitFor({ timeout: 30_000 });
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    await page.close();
  });
});

