/**
 * The pages of web/ in a real browser (Debian's Chromium driven by playwright-core): built with
 * Vite into a temporary folder, served by daemon/api/static-files.ts on loopback, and talking to
 * the API (startTestApi with a FakeTerminal) through the page's own origin — the page server
 * passes WebSocket upgrades on to the API, as the daemon will when it serves the pages itself.
 *
 * A smoke test of the foundation: the start page and the kiosk render Chinese (fonts-noto-cjk,
 * scripts/setup.sh), the CSP lets the bundle run, a card shows masked, a PIN check on the
 * on-screen keypad shows dots and ends in a result, the en toggle and elder mode switch, and the
 * API going away shows "temporarily unavailable" and recovers without a reload. Screenshots go to
 * var/test-output/web/ (looked at by a person: Chinese renders, nothing overlaps).
 * Full flows against the daemon over pcscd + vpcd: test/web-kiosk-daemon.test.ts. The harness
 * (build, page server, WebSocket proxy, Chromium) is test/helpers/web-harness.ts, shared with
 * test/web-a11y.test.ts.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebHarness, type WebHarness } from './helpers/web-harness.js';

const PIN = '147258';

let web: WebHarness;
const openPage = (path: string): Promise<Page> => web.openPage(path);
const shot = (page: Page, name: string): Promise<void> => web.shot(page, name);

beforeAll(async () => {
  web = await startWebHarness();
}, 120_000);

afterAll(async () => {
  await web?.close();
});

/** Whether Chinese text is drawn with a CJK font (not tofu): the glyphs of 社 and 会 differ in width from the missing-glyph box. */
async function cjkRenders(page: Page): Promise<boolean> {
  // A string: the root tsconfig has no DOM types (the browser runs it).
  return page.evaluate<boolean>(`(() => {
    const c = document.createElement('canvas').getContext('2d');
    c.font = "32px 'Noto Sans CJK SC', sans-serif";
    return document.fonts.check("32px 'Noto Sans CJK SC'", '社') && c.measureText('社会保障卡').width > 100;
  })()`);
}

describe('web pages in Chromium', () => {
  it('the start page links the kiosk, the counter and the status page, in Chinese first', async () => {
    const page = await openPage('/');
    await expect.poll(() => page.title()).toContain('社会保障卡终端');
    for (const [id, href] of [['link-kiosk', '/kiosk'], ['link-counter', '/counter'], ['link-status', '/status/']] as const) {
      expect(await page.getByTestId(id).getAttribute('href')).toBe(href);
    }
    expect(await page.locator('h1').innerText()).toContain('社会保障卡终端');
    expect(await cjkRenders(page)).toBe(true);
    await shot(page, 'start');
    await page.close();
  });

  it('/kiosk: the attract screen in Chinese, connected (no "unavailable"), CSP satisfied', async () => {
    web.consoleLines.length = 0;
    const page = await openPage('/kiosk');
    await page.locator('[data-screen="attract"]').waitFor();
    expect(await page.locator('[data-screen="attract"]').innerText()).toContain('轻触屏幕开始办理');
    await page.getByTestId('unavailable').waitFor({ state: 'detached' });
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    await shot(page, 'kiosk-attract');
    expect(web.consoleLines.filter((l) => /Content Security Policy|pageerror|error:/i.test(l))).toEqual([]);
    await page.close();
  });

  it('/kiosk: insert card → the masked holder and the kiosk services; a PIN check on the keypad shows dots, never a digit', async () => {
    const page = await openPage('/kiosk?shuffle=off');
    await page.getByTestId('unavailable').waitFor({ state: 'detached' });
    await page.locator('[data-screen="attract"]').click();
    await page.locator('[data-screen="insertCard"]').waitFor();
    await shot(page, 'kiosk-insert');
    web.terminal.insertCard({ name: '王志强' });
    await page.locator('[data-screen="menu"]').waitFor();
    const card = await page.getByTestId('card').innerText();
    expect(card).toContain('王**');
    expect(card).toContain('X0****019');
    expect(await page.content()).not.toContain('王志强');
    expect(await page.getByTestId('service-verify').count()).toBe(1);
    expect(await page.getByTestId('service-change').count()).toBe(1);
    expect(await page.getByTestId('service-reset').count()).toBe(0);
    await shot(page, 'kiosk-menu');

    await page.getByTestId('service-verify').click();
    await page.locator('[data-screen="prepare"]').waitFor();
    await shot(page, 'kiosk-prepare');
    await page.getByTestId('start').click();
    await page.locator('.prompt', { hasText: '请输入密码' }).waitFor();
    for (const [i, d] of [...PIN].entries()) {
      await page.locator('.keypad button', { hasText: new RegExp(`^${d}$`) }).click();
      await expect.poll(() => page.getByTestId('pin-dots').innerText()).toBe('●'.repeat(i + 1));
    }
    expect(await page.locator('main').innerText()).not.toContain(PIN);
    await shot(page, 'kiosk-pin');
    await page.locator('.keypad button.key-enter').click();
    await page.locator('[data-screen="result"]').waitFor();
    expect(await page.getByTestId('result-text').innerText()).not.toBe('');
    await shot(page, 'kiosk-result');
    const html = await page.content();
    expect(html).not.toContain(PIN);
    const stored = await page.evaluate<string>('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })');
    expect(stored).not.toContain(PIN);

    // The printable receipt (CSS print): service, time, result, masked card; no PIN, no name.
    await page.emulateMedia({ media: 'print' });
    const receipt = page.locator('.receipt');
    expect(await receipt.isVisible()).toBe(true);
    expect(await page.getByTestId('finish').isVisible()).toBe(false);
    const printed = await receipt.innerText();
    expect(printed).toContain('社保卡密码校验');
    expect(printed).toContain('X0****019');
    expect(printed).toContain('verify.ok');
    expect(printed).not.toContain(PIN);
    expect(printed).not.toContain('王');
    await shot(page, 'kiosk-receipt-print');
    await page.emulateMedia({ media: 'screen' });

    await page.getByTestId('finish').click();
    await page.locator('[data-screen="attract"]').waitFor();
    web.terminal.removeCard();
    await page.close();
  });

  it('/kiosk: the en toggle and elder mode', async () => {
    const page = await openPage('/kiosk');
    await page.getByTestId('unavailable').waitFor({ state: 'detached' });
    await page.getByTestId('toggle-lang').click();
    expect(await page.locator('[data-screen="attract"]').innerText()).toContain('Touch the screen to start');
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await page.getByTestId('toggle-lang').click();
    await page.getByTestId('toggle-elder').click();
    expect(await page.locator('.kiosk.elder').count()).toBe(1);
    const box = await page.getByTestId('toggle-elder').boundingBox();
    expect(box?.height).toBeGreaterThanOrEqual(64);
    await shot(page, 'kiosk-elder');
    await page.close();
  });

  it('/kiosk: the API going away shows "temporarily unavailable"; it comes back without a reload', async () => {
    const page = await openPage('/kiosk');
    await page.getByTestId('unavailable').waitFor({ state: 'detached' });
    await page.evaluate('window.marker = 42');
    await web.stopApi();
    await page.getByTestId('unavailable').waitFor();
    expect(await page.getByTestId('unavailable').innerText()).toContain('服务暂时不可用');
    await shot(page, 'kiosk-unavailable');
    await web.startApi();
    await page.getByTestId('unavailable').waitFor({ state: 'detached', timeout: 15_000 });
    expect(await page.evaluate<number>('window.marker')).toBe(42);
    await page.close();
  });
});
