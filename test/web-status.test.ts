/**
 * The technician page (/status/) against the real daemon (README "Quick start"): the daemon
 * simulating (virtual card and PSAM through pcscd + vpcd, simulated ID reader on a pty,
 * touchscreen pad), its own pages from dist/web (`npm run build`), Debian's Chromium driven by
 * playwright-core. The card is pulled and put back with `sscard sim-control`.
 *
 * What it shows: the simulated devices (both virtual readers, the card's ATR, the PSAM's terminal
 * number, the touchscreen pad, the ID reader, the journal counts); the card leaving and coming
 * back identified without a reload; the PIN pad test (a * per key on the on-screen keypad, the
 * completion, never a digit in the DOM, the storage, the console or any frame the page sent other
 * than one-key `Keyboard.TouchKey`s); the recent log after an operator login, with no PIN in it —
 * neither on the page nor in `SSCard.RecentLog` after a VerifyPin typed on the touch keypad, with
 * the APDU traces at debug; axe-core in both languages; the connection dropping (the daemon
 * restarted) and the page recovering without a reload. Screenshots in var/test-output/web/status-*.png.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassphrase } from '../daemon/auth/passphrase.js';
import { expectNoPinLeft, freePort, recordPages, requireBrowserStack, simControl, waitCardPresent } from './helpers/browser-daemon.js';
import { DaemonProcess, connectClient } from './helpers/daemon.js';
import { CARD_READER, PSAM_READER, ROOT, settleAfterRemoval } from './helpers/stack.js';
import { launchChromium, saveShot } from './helpers/web-harness.js';

const AXE = path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');
const CARD_PIN = '123456'; // fixtures/cards/card-2.0.json
const PAD_KEYS = '86420975'; // typed in the PIN pad test
const ATR = '3B6C00005353432D53494D20322E3030'; // fixtures/cards/card-2.0.json
const PSAM_NUMBER = '410100000001'; // fixtures/psam/psam-test.json
const NAME = '王志强';
const OPERATOR = 'tech1';
const PASSPHRASE = 'status page test passphrase';
/** How long a poll may wait for the page (an upper bound for slow machines, not a timing assertion). */
const POLL = { timeout: 15_000 };

const dir = mkdtempSync(path.join(tmpdir(), 'sscard-status-page-'));
let daemon: DaemonProcess;
let config: Record<string, unknown>;
let browser: Browser;
let context: BrowserContext;
let axeContext: BrowserContext;
/** The console and the WebSocket frames of every status page. */
const record = recordPages();
const { consoleLines, framesSent } = record;

async function openStatus(ctx: BrowserContext = context): Promise<Page> {
  const page = await ctx.newPage();
  record.watch(page);
  await page.goto(`http://127.0.0.1:${daemon.port}/status/`);
  await page.locator(`[data-reader="${CARD_READER}"]`).waitFor({ timeout: 20_000 });
  return page;
}

const fieldText = (page: Page, key: string): Promise<string> => page.locator(`[data-field="${key}"] dd`).innerText();

/** A full-page screenshot to var/test-output/web/status-<name>.png. */
const shot = (page: Page, name: string): Promise<void> => saveShot(page, `status-${name}`);

/** No digit sequence of a test PIN anywhere the page could keep it, and no frame but a one-key TouchKey carrying a digit of it. */
const expectNoPin = (page: Page): Promise<void> => expectNoPinLeft(page, record, [CARD_PIN, PAD_KEYS], 'allowed');

const serious = (v: { impact: string | null }): boolean => v.impact === 'serious' || v.impact === 'critical';

async function axeCheck(page: Page, screen: string): Promise<void> {
  if (!(await page.evaluate<boolean>(`typeof window.axe === 'object'`))) await page.addScriptTag({ path: AXE });
  const r = await page.evaluate<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[]; incomplete: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }>(`(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    const plain = (vs) => vs.map((v) => ({ id: v.id, impact: v.impact ?? null, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
    return { violations: plain(r.violations), incomplete: plain(r.incomplete) };
  })()`);
  const bad = [...r.violations.filter(serious), ...r.incomplete.filter((v) => v.id === 'aria-prohibited-attr')];
  expect.soft(bad, `[${screen}] ${JSON.stringify(bad)}`).toEqual([]);
}

async function login(page: Page): Promise<void> {
  await page.locator('input[name="operatorId"]').fill(OPERATOR);
  await page.locator('input[name="passphrase"]').fill(PASSPHRASE);
  await page.getByTestId('login').locator('button[type="submit"]').click();
  await page.getByTestId('operator').waitFor({ timeout: 20_000 });
  // Logged in: the form is gone, nothing on the page holds the passphrase (the field was emptied when sent).
  expect(await page.locator('input[name="passphrase"]').count()).toBe(0);
  expect(await page.content()).not.toContain(PASSPHRASE);
}

beforeAll(async () => {
  await requireBrowserStack('status');
  config = {
    simulate: 'on',
    // A fixed port: the last test restarts the daemon and the page must find it again at the same address.
    api: { port: await freePort() },
    // APDU traces at debug: the ring then holds the VERIFY command's trace, which must show no PIN.
    log: { level: 'info', levels: { APDU: 'debug' }, file: 'log/sscard.log', console: false },
    simulator: { stateDir: 'var/sim' },
    operators: { accounts: [{ id: OPERATOR, name: 'Technician', hash: hashPassphrase(Buffer.from(PASSPHRASE, 'utf8')) }] },
  };
  daemon = await DaemonProcess.start({ config, entry: 'sscardd' }, dir);
  await waitCardPresent(daemon, true);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
  // axe-core is injected, which the pages' CSP (script-src 'self') would refuse: its own context.
  axeContext = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN', bypassCSP: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
  await settleAfterRemoval();
  rmSync(dir, { recursive: true, force: true });
});

describe('the technician page on the real daemon (simulating, pcscd + vpcd, Chromium)', () => {
  it('shows the simulated devices: both virtual readers, the card ATR, PSAM number, touchscreen pad, ID reader, journal counts', async () => {
    consoleLines.length = 0;
    const page = await openStatus();
    expect(await page.locator(`[data-reader="${PSAM_READER}"]`).innerText()).toContain('PSAM 卡座');
    const card = await page.locator(`[data-reader="${CARD_READER}"]`).innerText();
    expect(card).toContain('用户卡座');
    expect(card).toContain(ATR);
    await expect.poll(() => fieldText(page, 'identified'), POLL).toBe('是');
    expect(await fieldText(page, 'cardNumber')).toBe('X0****019');
    expect(await fieldText(page, 'holder')).toBe('王**');
    expect(await page.content()).not.toContain(NAME);
    expect(await fieldText(page, 'psamNumber')).toBe(PSAM_NUMBER);
    expect(await fieldText(page, 'psam')).toContain('已连接');
    expect(await fieldText(page, 'pinPad')).toMatch(/^已连接 · touchscreen/);
    expect(await fieldText(page, 'idReader')).toMatch(/^已连接 · serial/);
    expect(await fieldText(page, 'simulated')).toBe('是');
    expect(await fieldText(page, 'pcsc')).toBe('正常运行');
    for (const k of ['rows', 'pending', 'unsynced', 'hotlistEntries']) expect(await fieldText(page, k), k).toMatch(/^\d+$/);
    expect(await fieldText(page, 'journal')).toBe('已打开');
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    await shot(page, 'overview');
    // The same report as the JSON route (GET /status, a credential needed) beside the page (/status/, open).
    const report = (await (await daemon.fetch('/status')).json()) as { psam: { terminalNumber: string }; hotlist: unknown };
    expect(report.psam.terminalNumber).toBe(PSAM_NUMBER);
    expect(report.hotlist).toMatchObject({ entries: expect.any(Number) as number });
    expect((await fetch(daemon.url('/status'))).status).toBe(401);
    await page.getByTestId('lang').click();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await fieldText(page, 'pinPad')).toMatch(/^connected · touchscreen/);
    expect(await page.locator(`[data-reader="${CARD_READER}"]`).innerText()).toContain('card slot');
    await shot(page, 'overview-en');
    expect(consoleLines.filter((l) => /Content Security Policy|pageerror|error:/i.test(l))).toEqual([]);
    await page.close();
  });

  it('the card pulled → gone from the page without a reload; put back → identified again', async () => {
    const page = await openStatus();
    await page.evaluate('window.__noReload = true');
    await expect.poll(() => fieldText(page, 'identified'), POLL).toBe('是');
    await simControl(daemon, 'remove');
    await expect.poll(() => fieldText(page, 'present'), { timeout: 20_000 }).toBe('否');
    expect(await fieldText(page, 'cardNumber')).toBe('无');
    expect(await page.locator(`[data-reader="${CARD_READER}"]`).innerText()).toContain('无卡');
    await shot(page, 'card-removed');
    await simControl(daemon, 'insert');
    await expect.poll(() => fieldText(page, 'identified'), { timeout: 20_000 }).toBe('是');
    await expect.poll(() => fieldText(page, 'cardNumber'), POLL).toBe('X0****019');
    expect(await page.locator(`[data-reader="${CARD_READER}"]`).innerText()).toContain(ATR);
    expect(await page.evaluate<boolean>('window.__noReload === true')).toBe(true);
    await waitCardPresent(daemon, true);
    await page.close();
  });

  it('the PIN pad test: a * per key on the on-screen keypad, the completion, never a digit', async () => {
    consoleLines.length = 0;
    framesSent.length = 0;
    const page = await openStatus();
    expect(await page.getByTestId('pad-keypad').count()).toBe(0);
    await page.getByTestId('pad-start').click();
    await page.getByTestId('pad-keypad').waitFor();
    await shot(page, 'pad-started');
    for (const [i, d] of [...PAD_KEYS].entries()) {
      await page.getByTestId('pad-keypad').locator('button', { hasText: new RegExp(`^${d}$`) }).click();
      await expect.poll(() => page.getByTestId('pad-stars').innerText(), POLL).toBe('*'.repeat(i + 1));
    }
    await page.getByTestId('pad-keypad').locator('button', { hasText: /^退格$/ }).click();
    await expect.poll(() => page.getByTestId('pad-stars').innerText(), POLL).toBe('*'.repeat(PAD_KEYS.length - 1));
    await shot(page, 'pad-keys');
    await page.getByTestId('pad-keypad').locator('button', { hasText: /^确认$/ }).click();
    await expect.poll(() => page.getByTestId('pad-result').innerText(), POLL).toBe(`测试完成：${PAD_KEYS.length - 1} 位，结束方式：确认键`);
    expect(await page.getByTestId('pad-keypad').count()).toBe(0);
    await shot(page, 'pad-done');
    // Started again and stopped from the page: Common.Cancel, and the panel says it stopped.
    await page.getByTestId('pad-start').click();
    await page.getByTestId('pad-keypad').waitFor();
    await page.getByTestId('pad-stop').click();
    await expect.poll(() => page.getByTestId('pad-result').innerText(), POLL).toBe('测试未完成：已停止');
    expect(await page.getByTestId('pad-keypad').count()).toBe(0);
    expect(framesSent.some((f) => f.includes('"Common.Cancel"'))).toBe(true);
    const touchKeys = framesSent.filter((f) => f.includes('"Keyboard.TouchKey"'));
    expect(touchKeys).toHaveLength(PAD_KEYS.length + 2);
    expect(framesSent.some((f) => f.includes('"Keyboard.PinEntry"'))).toBe(true);
    await expectNoPin(page);
    await page.close();
  });

  it('the recent log behind an operator login: lines shown, no PIN in them after a VerifyPin typed on the touch keypad', async () => {
    consoleLines.length = 0;
    framesSent.length = 0;
    // A holder's VerifyPin through the API, the PIN typed on the touch keypad (one TouchKey per digit).
    const c = await connectClient(daemon.port);
    try {
      const r = await c.command('SSCard.VerifyPin', {}, { timeout: 60_000 }, 60_000, (m) => {
        if (m.header.name === 'SSCard.PinEntryStartedEvent') for (const k of CARD_PIN) c.send('Keyboard.TouchKey', { key: k });
      });
      expect(r.completion.header.completionCode).toBe('success');
      const page = await openStatus();
      expect(await page.getByTestId('log-lines').count()).toBe(0);
      await shot(page, 'log-login');
      await login(page);
      await page.getByTestId('log-lines').waitFor({ timeout: 20_000 });
      const text = await page.getByTestId('log-lines').innerText();
      expect(text).toContain('FLOW');
      expect(text).toMatch(/card identified|service result/);
      await shot(page, 'log');
      // The card pulled: the page re-reads the log on the card events (no timer), and the new lines show.
      await simControl(daemon, 'remove');
      await expect.poll(async () => (await page.getByTestId('log-lines').innerText()).includes('simulator control: remove'), { timeout: 20_000 }).toBe(true);
      await simControl(daemon, 'insert');
      await waitCardPresent(daemon, true);
      await expectNoPin(page);
      expect(await page.content()).not.toContain(NAME);
      // The ring itself, read by another client as an operator: no PIN in any form (the VERIFY trace is there, redacted).
      const token = await (async () => {
        const l = await c.command('Operator.Login', { operatorId: OPERATOR, passphrase: PASSPHRASE }, {}, 20_000);
        expect(l.completion.header.completionCode).toBe('success');
        return l.completion.payload!['token'] as string;
      })();
      const log = await c.command('SSCard.RecentLog', { token }, {}, 10_000);
      const lines = log.completion.payload!['lines'] as { at: number; seq: number; component: string; message: string }[];
      expect(lines.length).toBeGreaterThan(10);
      expect(lines.some((l) => l.component === 'APDU')).toBe(true);
      const all = JSON.stringify(lines.map((l) => ({ ...l, at: 0, seq: 0 })));
      expect(all).not.toMatch(new RegExp(CARD_PIN.split('').join('\\D{0,3}')));
      expect(all).not.toContain(Buffer.from(CARD_PIN, 'ascii').toString('hex'));
      expect(all).not.toContain(PAD_KEYS);
      expect(all).not.toContain(PASSPHRASE);
      await page.close();
    } finally {
      c.close();
    }
  });

  it('axe-core: no serious or critical violation, in Chinese and English, with the pad test and the log open', async () => {
    const page = await openStatus(axeContext);
    await axeCheck(page, 'overview zh');
    await page.getByTestId('pad-start').click();
    await page.getByTestId('pad-keypad').waitFor();
    await page.getByTestId('pad-keypad').locator('button', { hasText: /^1$/ }).click();
    await expect.poll(() => page.getByTestId('pad-stars').innerText(), POLL).toBe('*');
    await axeCheck(page, 'pad running zh');
    await page.getByTestId('pad-keypad').locator('button', { hasText: /^取消$/ }).click();
    await page.getByTestId('pad-result').waitFor();
    await login(page);
    await page.getByTestId('log-lines').waitFor({ timeout: 20_000 });
    await axeCheck(page, 'log zh');
    await page.getByTestId('lang').click();
    await axeCheck(page, 'log en');
    await page.close();
  });

  it('the connection dropping (the daemon restarted): "temporarily unavailable", then back without a reload', async () => {
    const page = await openStatus();
    await page.evaluate('window.__noReload = true');
    await daemon.stop();
    await page.getByTestId('unavailable').waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('unavailable').innerText()).toContain('终端服务暂时不可用');
    await shot(page, 'unavailable');
    await settleAfterRemoval();
    daemon = await DaemonProcess.start({ config, entry: 'sscardd' }, dir);
    await waitCardPresent(daemon, true);
    await page.getByTestId('unavailable').waitFor({ state: 'detached', timeout: 30_000 });
    await expect.poll(() => fieldText(page, 'identified'), { timeout: 20_000 }).toBe('是');
    expect(await page.evaluate<boolean>('window.__noReload === true')).toBe(true);
    await page.close();
  });
});
