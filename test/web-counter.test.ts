/**
 * The counter screen (/counter) against the real daemon: `sscardd` simulating as a counter terminal
 * (role counter; virtual card and PSAM through pcscd + vpcd; the simulated ID card reader on a pty;
 * the touchscreen PIN pad), its own pages from dist/web (`npm run build`), Debian's Chromium driven
 * by playwright-core. The clerk uses the page; the holder's PIN pad is a separate API client of the
 * test sending `Keyboard.TouchKey` — what the touchscreen pad of the simulation takes, and the only
 * way keys reach it without the page: the counter page offers the clerk no digit keypad, so the
 * keys must come from elsewhere, as a real PIN pad's come from the pad and never through the page.
 * The cards and ID cards are swapped with `sscard sim-control swap` / `idcard` (docs/api.md,
 * daemon/terminal/sim-control.ts).
 *
 * Flows: login (a wrong passphrase refused; the passphrase field cleared); unblock a locked card with
 * its holder's ID card (the checklist first refuses with the 一次性告知 notice until the clerk checks
 * the originals; the notice alone prints); activate a card not yet activated; a namesake's ID card
 * (same name, another number): the match indicator says mismatch and 受理 is refused with the
 * notice, and the daemon itself refuses the service (identity.mismatch); logout; the operator
 * session ending — its token logged out elsewhere (auth.invalidToken answer) and the page's own
 * estimate running out (the browser clock moved on) — back to the login form. After each: axe on
 * the screen (injected, so this context bypasses the page's CSP, as test/web-a11y.test.ts does; a
 * first page in a context that keeps the CSP checks that the counter's bundle runs under it), no PIN in the DOM, the storage, the console or any frame the page sent (and no
 * Keyboard.TouchKey from the page at all). Then a financial counter (another daemon, role
 * financial-counter): an activation also records the bank-account request for the bank (seed 000 行使内容 2).
 * Screenshots in var/test-output/web/counter-*.png.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { hashPassphrase } from '../daemon/auth/passphrase.js';
import type { TestClient } from '../testing/api-test-client.js';
import { expectNoPinLeft, recordPages, requireBrowserStack, simControl } from './helpers/browser-daemon.js';
import { connectClient, DaemonProcess } from './helpers/daemon.js';
import { ROOT, settleAfterRemoval } from './helpers/stack.js';
import { launchChromiumContext, saveShot, SHOTS } from './helpers/web-harness.js';

const AXE = path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');
const PASSPHRASE = 'counter test passphrase';
const NEW_PIN = '285174';
const OTHER_PIN = '396150';
/** Every PIN of the cards used (fixtures/cards) and every PIN typed: none may show up on the page's side. */
const PINS = [NEW_PIN, OTHER_PIN, '135790', '123456'];
/** Identity numbers in full (fixtures): never on the page, nor in any frame it received. */
const FULL_NUMBERS = ['410305196801300022', '410102200111230054', '411082198503120038', '411082198503120054', 'W00000588', 'Z00001042', 'X00000019'];
/**
 * Holders' names in full: never on the page. SSCard.CardIdentifiedEvent carries the name (docs/api.md
 * "SSCard": a UI greets the holder); the page masks it before it keeps it.
 */
const FULL_NAMES = ['陈桂兰', '赵一鸣', '王志强'];
const fixture = (p: string): string => path.join(ROOT, 'fixtures', p);

const dir = mkdtempSync(path.join(tmpdir(), 'sscard-counter-web-'));
let daemon: DaemonProcess;
let context: BrowserContext;
/** The holder's PIN pad: Keyboard.TouchKey from its own API client. */
let pad: TestClient;
/** The console and the WebSocket frames, both ways, of every counter page. */
const record = recordPages();
const { consoleLines, framesSent: sentFrames, framesReceived: receivedFrames } = record;

async function openCounter(opts: { clock?: boolean; in?: BrowserContext } = {}): Promise<Page> {
  const page = await (opts.in ?? context).newPage();
  record.watch(page);
  if (opts.clock === true) await page.clock.install();
  await page.goto(`http://127.0.0.1:${daemon.port}/counter`);
  await page.locator('[data-screen="login"]').waitFor();
  await page.getByTestId('unavailable').waitFor({ state: 'detached' });
  return page;
}

async function login(page: Page, passphrase = PASSPHRASE): Promise<void> {
  await page.getByTestId('operator-id').fill('op1');
  await page.getByTestId('passphrase').fill(passphrase);
  // Cleared as the login goes, whatever its answer: read in the same task as the click (the form is
  // gone once a login succeeds).
  const left = await page.evaluate<string>(`(() => {
    document.querySelector('[data-testid="login"]').click();
    return document.querySelector('[data-testid="passphrase"]').value;
  })()`);
  expect(left).toBe('');
}

/** axe-core on the screen as it is: no serious or critical violation. */
async function axe(page: Page, screen: string): Promise<void> {
  if (!(await page.evaluate<boolean>(`typeof window.axe === 'object'`))) await page.addScriptTag({ path: AXE });
  const bad = await page.evaluate<{ id: string; impact: string; help: string; nodes: string[] }[]>(`(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => JSON.stringify(n.target)) }));
  })()`);
  expect.soft(bad, `axe on ${screen}: ${JSON.stringify(bad, null, 2)}`).toEqual([]);
}

/** A full-page screenshot to var/test-output/web/counter-<name>.png. */
const shot = (page: Page, name: string): Promise<void> => saveShot(page, `counter-${name}`);

/** No PIN and no identity in full in the DOM, the storage or the console; no PIN in any frame the page sent, and no key at all. */
async function expectNoPin(page: Page): Promise<void> {
  await expectNoPinLeft(page, record, PINS, 'forbidden');
  const html = await page.content();
  for (const n of [...FULL_NUMBERS, ...FULL_NAMES]) expect(html).not.toContain(n);
  for (const n of FULL_NUMBERS) expect(receivedFrames.join('\n')).not.toContain(n);
  expect(consoleLines.filter((l) => /Content Security Policy|pageerror/i.test(l))).toEqual([]);
}

/** The holder types `pin` on the pad when the page shows `prompt`; the page shows one more dot per key. */
async function holderTypes(page: Page, prompt: RegExp, pin: string, halfway?: () => Promise<void>): Promise<void> {
  await expect.poll(() => page.getByTestId('prompt').innerText(), { timeout: 20_000 }).toMatch(prompt);
  for (const [i, d] of [...pin].entries()) {
    const r = await pad.command('Keyboard.TouchKey', { key: d });
    expect(r.completion.header.completionCode).toBe('success');
    if (i < pin.length - 1) await expect.poll(() => page.getByTestId('pin-dots').innerText()).toBe('●'.repeat(i + 1));
    if (i === 2) await halfway?.();
  }
}

/** The card in the slot identified as `masked` on the page. */
async function cardShown(page: Page, masked: string): Promise<void> {
  await expect.poll(() => page.getByTestId('ss-card').innerText(), { timeout: 20_000 }).toContain(masked);
}

async function readIdCard(page: Page, tone: 'ok' | 'fail'): Promise<void> {
  await page.getByTestId('read-id').click();
  await expect.poll(() => page.getByTestId('match').getAttribute('data-tone'), { timeout: 20_000 }).toBe(tone);
}

async function confirmOriginals(page: Page): Promise<void> {
  await page.getByTestId('confirm-residentIdCard').check();
  await page.getByTestId('confirm-socialSecurityCard').check();
}

/**
 * The simulating daemon as a `role` terminal with `card` in its reader (its holder's ID card on the
 * simulated reader: matchesCard, daemon/config/simulation.ts), and the holder's pad connected.
 */
async function startDaemon(role: 'counter' | 'financial-counter', card: string, folder: string): Promise<void> {
  daemon = await DaemonProcess.start(
    {
      config: {
        simulate: 'on',
        role,
        terminalId: 'E2E-COUNTER-WEB',
        api: { port: 0 },
        log: { level: 'info', file: 'log/sscard.log', console: false },
        simulator: { stateDir: 'var/sim', card: fixture(card) },
        operators: { sessionTtlMs: 600_000, accounts: [{ id: 'op1', name: '张三', hash: hashPassphrase(Buffer.from(PASSPHRASE), { N: 1024 }) }] },
      },
      entry: 'sscardd',
    },
    folder,
  );
  await daemon.waitIdentified();
  pad = await connectClient(daemon.port);
}

beforeAll(async () => {
  await requireBrowserStack('counter');
  await startDaemon('counter', 'cards/card-locked.json', dir);
  // axe-core is injected as a script (see the module doc).
  context = await launchChromiumContext(path.join(dir, 'profile'), { viewport: { width: 1280, height: 900 }, locale: 'zh-CN', bypassCSP: true });
}, 120_000);

afterAll(async () => {
  pad?.ws.close();
  await context?.close();
  await daemon?.stop();
  await settleAfterRemoval();
  rmSync(dir, { recursive: true, force: true });
});

describe('the counter screen on the real daemon (counter role, simulating, pcscd + vpcd, Chromium)', () => {
  let page: Page;

  it('the page runs under the daemon\'s Content-Security-Policy (no inline script or style)', async () => {
    const strict = await launchChromiumContext(path.join(dir, 'profile-csp'), { locale: 'zh-CN' });
    try {
      const p = await strict.newPage();
      const own = recordPages();
      own.watch(p);
      await p.goto(`http://127.0.0.1:${daemon.port}/counter`);
      await p.locator('[data-screen="login"]').waitFor();
      await p.getByTestId('unavailable').waitFor({ state: 'detached' });
      expect(own.consoleLines.filter((l) => /Content Security Policy|pageerror|error:/i.test(l))).toEqual([]);
    } finally {
      await strict.close();
    }
  });

  it('login: a wrong passphrase is refused in Chinese; the right one shows who is logged in and until when', async () => {
    page = await openCounter();
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    await axe(page, 'login');
    await shot(page, 'login');
    await login(page, 'not the passphrase');
    await expect.poll(() => page.getByTestId('login-error').innerText()).toContain('不正确');
    await shot(page, 'login-refused');
    await login(page);
    await page.locator('[data-screen="desk"]').waitFor();
    expect(await page.getByTestId('operator').innerText()).toMatch(/经办人员：op1[\s\S]*会话有效至 \d{2}:\d{2}:\d{2}/);
    expect(sentFrames.join('\n')).toContain('Operator.Login');
  });

  it('unblock a locked card: the ID card matches; 受理 first refused with the 一次性告知 notice (it alone prints); with the originals checked the holder sets a new PIN on the pad', async () => {
    await cardShown(page, 'W0****588');
    expect(await page.getByTestId('ss-card').innerText()).toContain('陈**');
    expect(await page.getByTestId('card-state').innerText()).toBe('密码已锁定');
    await readIdCard(page, 'ok');
    expect(await page.getByTestId('id-number').innerText()).toContain('410305********0022');
    expect(await page.getByTestId('match').innerText()).toContain('一致');
    await page.getByTestId('service-unblock').click();
    expect(await page.getByTestId('item').innerText()).toContain('11410402785096902M500201401000601');
    await axe(page, 'desk');
    await shot(page, 'desk-match');

    await page.getByTestId('accept').click();
    await page.locator('[data-screen="refused"]').waitFor();
    const items = await page.getByTestId('notice-items').innerText();
    expect(items).toContain('中华人民共和国居民身份证或其他有效身份证件（港澳台居民居住证、外国人永久居留身份证）（原件）');
    expect(items).toContain('中华人民共和国社会保障卡（原件）');
    expect(items).toContain('窗口尚未核验原件');
    expect(await page.getByTestId('notice').innerText()).toContain('应当一次性告知申请人需要补正的全部内容');
    await axe(page, 'notice');
    await shot(page, 'notice');
    await page.emulateMedia({ media: 'print' });
    expect(await page.getByTestId('notice').isVisible()).toBe(true);
    const printed = await page.evaluate<string[]>(`[...document.querySelectorAll('h1, [data-testid="operations"], [data-testid="print"], [data-testid="ss-card"]')].map((e) => getComputedStyle(e).visibility + '/' + getComputedStyle(e).display)`);
    for (const v of printed) expect(v).toMatch(/^hidden\/|\/none$/);
    await page.screenshot({ path: path.join(SHOTS, 'counter-notice-print.png') });
    await page.emulateMedia({ media: 'screen' });
    await page.getByTestId('done').click();

    await confirmOriginals(page);
    expect(await page.getByTestId('material-residentIdCard').getAttribute('data-satisfied')).toBe('yes');
    await page.getByTestId('accept').click();
    await page.locator('[data-screen="running"]').waitFor();
    await holderTypes(page, /输入新密码/, NEW_PIN);
    await holderTypes(page, /再次输入新密码/, NEW_PIN, async () => {
      // Three keys in: three dots and the prompt, no digit.
      expect(await page.getByTestId('pin-dots').getAttribute('aria-label')).toBe('已输入 3 位');
      await shot(page, 'running');
      await axe(page, 'running');
      await expectNoPin(page);
    });
    await page.locator('[data-screen="result"]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('result-code').innerText()).toContain('unblock.ok');
    expect(await page.getByTestId('result-text').getAttribute('data-outcome')).toBe('ok');
    await expect.poll(() => page.getByTestId('operations').innerText(), { timeout: 10_000 }).toMatch(/密码解锁[\s\S]*W0\*\*\*\*588[\s\S]*成功[\s\S]*op1/);
    await expect.poll(() => page.getByTestId('card-state').innerText(), { timeout: 10_000 }).toBe('正常');
    await axe(page, 'result');
    await shot(page, 'unblock-ok');
    await expectNoPin(page);
    await page.getByTestId('done').click();
  });

  it('activate a card not yet activated (swapped in with its holder\'s ID card); a counter is not a financial window: the bank account is the holder\'s next stop', async () => {
    await simControl(daemon, 'swap', fixture('cards/card-not-activated.json'));
    await simControl(daemon, 'idcard', fixture('idcards/id-card-not-activated.json'));
    await cardShown(page, 'Z0****042');
    expect(await page.getByTestId('card-state').innerText()).toBe('未启用');
    // A new card: nothing read or checked for the last one holds.
    expect(await page.getByTestId('match').getAttribute('data-tone')).toBe('none');
    await readIdCard(page, 'ok');
    await page.getByTestId('service-activate').click();
    expect(await page.getByTestId('item').innerText()).toContain('11411082005756085T400201401000202');
    await confirmOriginals(page);
    await page.getByTestId('accept').click();
    await holderTypes(page, /输入新密码/, OTHER_PIN);
    await holderTypes(page, /再次输入新密码/, OTHER_PIN);
    await page.locator('[data-screen="result"]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('result-code').innerText()).toContain('activate.ok');
    expect(await page.getByTestId('bank').innerText()).toContain('非金融窗口无法办理银行账户激活');
    await expect.poll(() => page.getByTestId('operations').innerText(), { timeout: 10_000 }).toMatch(/社会保障卡启用[\s\S]*Z0\*\*\*\*042/);
    await shot(page, 'activate-ok');
    await expectNoPin(page);
    await page.getByTestId('done').click();
  });

  it('a namesake\'s ID card (same name, another number): mismatch shown; 受理 refused with the notice; the daemon refuses the service too (identity.mismatch)', async () => {
    await simControl(daemon, 'swap', fixture('cards/card-2.0.json'));
    await simControl(daemon, 'idcard', fixture('idcards/id-mismatch-same-name.json'));
    await cardShown(page, 'X0****019');
    await readIdCard(page, 'fail');
    const match = await page.getByTestId('match').innerText();
    expect(match).toContain('不一致');
    expect(match).toContain('身份证号码与社保卡的社会保障号码不一致，不能办理。');
    expect(await page.getByTestId('match').locator('.icon').innerText()).toBe('✖');
    expect(await page.getByTestId('id-number').innerText()).toContain('411082********0054');
    expect(await page.getByTestId('id-card').innerText()).toContain('王**');
    await page.getByTestId('service-reset').click();
    await confirmOriginals(page);
    expect(await page.getByTestId('material-residentIdCard').getAttribute('data-satisfied')).toBe('no');
    await axe(page, 'desk-mismatch');
    await shot(page, 'desk-mismatch');
    await page.getByTestId('accept').click();
    await page.locator('[data-screen="refused"]').waitFor();
    const items = await page.getByTestId('notice-items').innerText();
    expect(items).toContain('不是持卡人本人的身份证');
    expect(items).not.toContain('社会保障卡（原件）');
    await shot(page, 'notice-mismatch');
    await page.getByTestId('done').click();

    // The terminal itself: the same service asked by another operator client is refused before any PIN.
    const other = await connectClient(daemon.port);
    try {
      const l = await other.command('Operator.Login', { operatorId: 'op1', passphrase: PASSPHRASE });
      expect(l.completion.header.completionCode).toBe('success');
      const r = await other.command('SSCard.ResetPin');
      expect(r.completion.payload).toMatchObject({ errorCode: 'identity.mismatch', result: { code: 'identity.mismatch', outcome: 'refused' } });
      expect(r.events.some((e) => e.header.name === 'SSCard.PinEntryStartedEvent')).toBe(false);
    } finally {
      other.ws.close();
    }
    await page.getByTestId('refresh-operations').click();
    await expect.poll(() => page.locator('[data-testid="operations"] tr[data-kind="reset"]').first().getAttribute('data-outcome'), { timeout: 10_000 }).toBe('refused');
    expect(await page.getByTestId('operations').innerText()).toContain('不予办理');
    await shot(page, 'operations');
    await expectNoPin(page);
  });

  it('in English on the toggle; logout goes back to the login form', async () => {
    await page.getByTestId('lang').click();
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.getByTestId('match').innerText()).toContain('Mismatch');
    await axe(page, 'desk-en');
    await shot(page, 'desk-en');
    await page.getByTestId('lang').click();
    await page.getByTestId('logout').click();
    await page.locator('[data-screen="login"]').waitFor();
    expect(await page.getByTestId('login-notice').innerText()).toContain('已退出登录');
    expect(await page.locator('[data-screen="desk"]').count()).toBe(0);
    await expectNoPin(page);
    await page.close();
  });

  it('the session gone: its token logged out elsewhere → the next answer (auth.invalidToken) brings back the login form', async () => {
    page = await openCounter();
    const before = receivedFrames.length;
    await login(page);
    await page.locator('[data-screen="desk"]').waitFor();
    const token = receivedFrames
      .slice(before)
      .map((f) => JSON.parse(f) as { header: { name: string; type: string }; payload?: { token?: string } })
      .find((m) => m.header.type === 'completion' && m.header.name === 'Operator.Login')?.payload?.token;
    expect(token).toBeTypeOf('string');
    const other = await connectClient(daemon.port);
    try {
      expect((await other.command('Operator.Logout', { token })).completion.payload).toEqual({ loggedOut: true });
    } finally {
      other.ws.close();
    }
    await page.getByTestId('refresh-operations').click();
    await page.locator('[data-screen="login"]').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('login-notice').innerText()).toContain('请重新登录');
    await page.close();
  });

  it('the session expiring (the browser clock past expiresAt): back to the login form, saying so', async () => {
    // A context of its own: a fake clock is the whole context's (playwright's BrowserContext.clock).
    const own = await launchChromiumContext(path.join(dir, 'profile-clock'), { viewport: { width: 1280, height: 900 }, locale: 'zh-CN', bypassCSP: true });
    onTestFinished(() => own.close());
    page = await openCounter({ clock: true, in: own });
    await login(page);
    await page.locator('[data-screen="desk"]').waitFor();
    await page.clock.fastForward(600_000 + 2000);
    await page.locator('[data-screen="login"]').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('login-notice').innerText()).toContain('操作员会话已超时，请重新登录');
    await axe(page, 'expired');
    await shot(page, 'expired');
    await expectNoPin(page);
    await page.close();
  });

  it('the holder\'s expired ID card (受理标准 材料真实有效, seed 001 line 59): the check says expired; 受理 refused with the notice; the daemon refuses the service too (identity.expired)', async () => {
    // The card moved before the page opens: the page sees it identified, never a removal midway.
    await simControl(daemon, 'swap', fixture('cards/card-2.0.json'));
    await simControl(daemon, 'idcard', fixture('idcards/id-expired-card-2.0.json'));
    page = await openCounter();
    await login(page);
    await page.locator('[data-screen="desk"]').waitFor();
    await cardShown(page, 'X0****019');
    await readIdCard(page, 'fail');
    const match = await page.getByTestId('match').innerText();
    expect(match).toContain('身份证已过期');
    expect(match).toContain('有效期至 2016-05-01，已过期');
    expect(await page.getByTestId('match').locator('.icon').innerText()).toBe('✖');
    await page.getByTestId('service-reset').click();
    // A PIN-setting service asks for the holder's phone (the card's cannot be read without a PIN).
    expect(await page.getByTestId('phone').isVisible()).toBe(true);
    await confirmOriginals(page);
    expect(await page.getByTestId('material-residentIdCard').getAttribute('data-satisfied')).toBe('no');
    await axe(page, 'desk-expired');
    await shot(page, 'desk-expired');
    await page.getByTestId('accept').click();
    await page.locator('[data-screen="refused"]').waitFor();
    expect(await page.getByTestId('notice-items').innerText()).toContain('请到公安机关换领居民身份证');
    await page.getByTestId('done').click();

    const other = await connectClient(daemon.port);
    try {
      const l = await other.command('Operator.Login', { operatorId: 'op1', passphrase: PASSPHRASE });
      expect(l.completion.header.completionCode).toBe('success');
      const r = await other.command('SSCard.ResetPin');
      expect(r.completion.payload).toMatchObject({ errorCode: 'identity.expired', result: { code: 'identity.expired', outcome: 'refused', missing: ['residentIdCard'] } });
      expect(r.events.some((e) => e.header.name === 'SSCard.PinEntryStartedEvent')).toBe(false);
    } finally {
      other.ws.close();
    }
    await expectNoPin(page);
    await page.close();
  });
});

describe('at a financial counter (金融窗口)', () => {
  beforeAll(async () => {
    pad.ws.close();
    await daemon.stop();
    await settleAfterRemoval();
    // Started on the 2.0 card, then the card not yet activated swapped in, as in the counter's flows.
    await startDaemon('financial-counter', 'cards/card-2.0.json', mkdtempSync(path.join(dir, 'financial-')));
    await simControl(daemon, 'swap', fixture('cards/card-not-activated.json'));
    await simControl(daemon, 'idcard', fixture('idcards/id-card-not-activated.json'));
  }, 120_000);

  it('activation also records the bank-account request, and the result says it goes to the bank via the platform', async () => {
    const page = await openCounter();
    await login(page);
    await page.locator('[data-screen="desk"]').waitFor();
    await cardShown(page, 'Z0****042');
    await readIdCard(page, 'ok');
    await page.getByTestId('service-activate').click();
    await confirmOriginals(page);
    await page.getByTestId('accept').click();
    await holderTypes(page, /输入新密码/, NEW_PIN);
    await holderTypes(page, /再次输入新密码/, NEW_PIN);
    await page.locator('[data-screen="result"]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('result-code').innerText()).toContain('activate.ok');
    // Seed 000 (000_1700379f35991b5f.txt) lines 64–66: recorded here, to the bank via the platform — not "submitted to the bank".
    expect(await page.getByTestId('bank').innerText()).toContain('金融窗口可以办理银行账户激活：银行账户激活申请已登记，将经省级平台转送银行办理（排队发送中）');
    await axe(page, 'financial-result');
    await shot(page, 'financial-activate-ok');
    await expectNoPin(page);
    await page.close();
  });
});
