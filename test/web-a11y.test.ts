/**
 * Accessibility of the pages in Chromium: axe-core on every screen, no serious or critical
 * violation (WCAG 2.1 AA rules as axe-core 4.14 checks them). The harness of test/web-pages.test.ts
 * (test/helpers/web-harness.ts: the pages built and served, the API on a FakeTerminal, Debian's
 * Chromium), with bypassCSP for this suite only: the pages' strict Content-Security-Policy
 * (script-src 'self') would refuse the injected axe-core, and the other suites check that the
 * CSP lets the bundle run.
 *
 * Every screen reachable with the fake terminal is checked as the holder sees it: the start page;
 * the kiosk's attract, help, insert card, menu (a card inserted), prepare, PIN entry on the
 * on-screen keypad (keys typed), result (right PIN, then a wrong one: tries left), card removed;
 * the same walk in English and in elder mode (适老化: its own colours); a reset (all materials,
 * the ID card checked, the receipt in print), a result naming a missing material, the locked
 * screen (where to go); the "temporarily unavailable" overlay. axe.run(document) on each; a serious or critical violation fails the test
 * with its rule, impact, help and target nodes (so does a prohibited ARIA attribute axe only flags
 * for review); the milder ones and the rest of axe's "needs review" are printed once at the end
 * (today: the PIN dots' contrast, which axe cannot measure on non-text characters — #1a1a1a on
 * #f6f7f9, white on black in elder mode).
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebHarness, type WebHarness } from './helpers/web-harness.js';

const AXE = join(process.cwd(), 'node_modules', 'axe-core', 'axe.min.js');
const PIN = '147258'; // testing/fake-terminal.ts default
const WRONG = '975310';

interface Violation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly helpUrl: string;
  readonly nodes: readonly { readonly target: readonly unknown[]; readonly failureSummary: string }[];
}

let web: WebHarness;
/** Moderate and minor findings and what axe could not decide, printed once at the end (they do not fail the suite). */
const milder: string[] = [];

beforeAll(async () => {
  web = await startWebHarness({ bypassCSP: true });
}, 120_000);

afterAll(async () => {
  if (milder.length > 0) console.log(`axe-core, moderate/minor findings and checks to review (not failing):\n${milder.join('\n')}`);
  await web?.close();
});

function describeViolations(screen: string, vs: readonly Violation[]): string {
  return vs
    .map((v) => `[${screen}] ${v.id} (${v.impact ?? '?'}): ${v.help} — ${v.helpUrl}\n${v.nodes.map((n) => `    ${JSON.stringify(n.target)}: ${n.failureSummary.replace(/\n/g, ' / ')}`).join('\n')}`)
    .join('\n');
}

/** axe-core (injected once per page) on the whole document as it is now: its violations, and the checks it could not decide. */
async function runAxe(page: Page): Promise<{ violations: Violation[]; incomplete: Violation[] }> {
  if (!(await page.evaluate<boolean>(`typeof window.axe === 'object'`))) await page.addScriptTag({ path: AXE });
  // A string: the root tsconfig has no DOM types (the browser runs it).
  return page.evaluate<{ violations: Violation[]; incomplete: Violation[] }>(`(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    const plain = (vs) => vs.map((v) => ({
      id: v.id, impact: v.impact ?? null, help: v.help, helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary ?? '' })),
    }));
    return { violations: plain(r.violations), incomplete: plain(r.incomplete) };
  })()`);
}

const serious = (v: Violation): boolean => v.impact === 'serious' || v.impact === 'critical';

/** axe on the screen shown; serious or critical → a (soft) failure naming the screen, the rest noted for the end. */
async function axeCheck(page: Page, screen: string): Promise<void> {
  const { violations, incomplete } = await runAxe(page);
  // An ARIA attribute axe calls unsupported where it stands ("needs review" only because the
  // element has text) is ours to decide, and we decided: it fails too (the PIN dots had one).
  const ariaMisused = incomplete.filter((v) => v.id === 'aria-prohibited-attr');
  const bad = [...violations.filter(serious), ...ariaMisused];
  const rest = violations.filter((v) => !serious(v));
  const review = incomplete.filter((v) => !ariaMisused.includes(v));
  if (rest.length > 0) milder.push(describeViolations(screen, rest));
  if (review.length > 0) milder.push(describeViolations(`${screen}, needs review`, review));
  expect.soft(bad, describeViolations(screen, bad)).toEqual([]);
}

/** The kiosk on attract, the slot empty (a card left in by a failed test would open on the menu). */
async function openKiosk(path = '/kiosk?shuffle=off'): Promise<Page> {
  web.terminal.removeCard();
  const page = await web.openPage(path);
  await page.locator('[data-screen="attract"]').waitFor();
  await page.getByTestId('unavailable').waitFor({ state: 'detached' });
  return page;
}

/** Digits on the on-screen keypad, `typed` already entered: one more dot per key. */
async function typeKeys(page: Page, keys: string, typed = 0): Promise<void> {
  await page.locator('.keypad button:not([disabled])').first().waitFor();
  for (const [i, d] of [...keys].entries()) {
    await page.locator('.keypad button', { hasText: new RegExp(`^${d}$`) }).click();
    await expect.poll(() => page.getByTestId('pin-dots').innerText()).toBe('●'.repeat(typed + i + 1));
  }
}

/** Verify on the keypad from the menu: prepare → PIN (axe after 3 keys when `check`) → enter → result. */
async function verifyFromMenu(page: Page, pin: string, check: ((screen: string) => Promise<void>) | null): Promise<void> {
  await page.getByTestId('service-verify').click();
  await page.locator('[data-screen="prepare"]').waitFor();
  await check?.('prepare');
  await page.getByTestId('start').click();
  await typeKeys(page, pin.slice(0, 3));
  await check?.('pin (keypad, 3 keys)');
  await typeKeys(page, pin.slice(3), 3);
  await page.locator('.keypad button.key-enter').click();
  await page.locator('[data-screen="result"]').waitFor();
}

/**
 * attract → help → insert card → menu → prepare → PIN (keys typed) → result (right PIN); finish,
 * card out and in again → a wrong PIN → result (tries left) → the card pulled → "card removed".
 * axe on each screen; `mode` is applied after the page opens and after finish (which resets the
 * language and elder mode to the defaults, web/kiosk/flow.ts reset). `tag` names the screens in the report.
 */
async function walkKiosk(page: Page, tag: string, mode: (page: Page) => Promise<void>): Promise<void> {
  const check = (screen: string): Promise<void> => axeCheck(page, `${tag} ${screen}`);
  await mode(page);
  await check('attract');
  await page.locator('.bar .tool').nth(2).click();
  await page.locator('[data-screen="help"]').waitFor();
  await check('help');
  await page.locator('[data-screen="help"] .btn').click(); // back, no card yet → insert card
  await page.locator('[data-screen="insertCard"]').waitFor();
  await check('insertCard');
  web.terminal.insertCard({ name: '王志强' });
  await page.locator('[data-screen="menu"]').waitFor();
  await check('menu');
  await verifyFromMenu(page, PIN, check);
  await check('result (ok)');

  await page.getByTestId('finish').click();
  await page.locator('[data-screen="attract"]').waitFor();
  web.terminal.removeCard();
  await mode(page);
  await page.locator('[data-screen="attract"]').click();
  await page.locator('[data-screen="insertCard"]').waitFor();
  web.terminal.insertCard({ name: '王志强' });
  await page.locator('[data-screen="menu"]').waitFor();
  await verifyFromMenu(page, WRONG, null);
  expect(await page.locator('.result .tries').count()).toBe(1);
  await check('result (wrong PIN, tries left)');

  web.terminal.removeCard();
  await page.locator('[data-screen="removed"]').waitFor();
  await check('card removed');
  await page.locator('[data-screen="attract"]').waitFor({ timeout: 15_000 });
}

describe('accessibility (axe-core): no serious or critical violation on any screen', () => {
  it('the check itself: planted violations are found (axe runs, the CSP bypass works)', async () => {
    const page = await web.openPage('/');
    await page.getByTestId('link-kiosk').waitFor();
    await page.evaluate(`(() => {
      const b = document.createElement('button');
      document.querySelector('main').append(b);
      const p = document.createElement('p');
      p.textContent = 'planted';
      p.style.color = '#bbbbbb';
      p.style.background = '#ffffff';
      document.querySelector('main').append(p);
    })()`);
    const found = (await runAxe(page)).violations.filter(serious).map((v) => v.id);
    expect(found).toEqual(expect.arrayContaining(['button-name', 'color-contrast']));
    await page.close();
  });

  it('the start page', async () => {
    const page = await web.openPage('/');
    await page.getByTestId('link-kiosk').waitFor();
    await axeCheck(page, 'start');
    await page.close();
  });

  it('the kiosk, zh: attract, help, insert card, menu, prepare, PIN keypad, results', async () => {
    const page = await openKiosk();
    await walkKiosk(page, 'zh', () => Promise.resolve());
    await page.close();
  });

  it('the kiosk in English: the same walk', async () => {
    const page = await openKiosk();
    await walkKiosk(page, 'en', async (p) => {
      await p.getByTestId('toggle-lang').click();
      await expect.poll(() => p.locator('html').getAttribute('lang')).toBe('en');
    });
    await page.close();
  });

  it('the kiosk in elder mode (适老化): the same walk in its own colours', async () => {
    const page = await openKiosk();
    await walkKiosk(page, 'elder', async (p) => {
      await p.getByTestId('toggle-elder').click();
      await p.locator('.kiosk.elder').waitFor();
    });
    await page.close();
  });

  it('the kiosk\'s reset, a material missing, and a card sent to a window: ID card step, receipt in print, the missing list, the locked screen', async () => {
    web.terminal.services = ['verify', 'change', 'reset'];
    const page = await openKiosk();
    await page.locator('[data-screen="attract"]').click();
    web.terminal.insertCard({ name: '王志强' });
    await page.getByTestId('service-reset').click();
    await page.locator('[data-screen="prepare"]').waitFor();
    await axeCheck(page, 'reset prepare (all materials)');
    await page.getByTestId('start').click();
    await page.locator('.id-ok').waitFor();
    await typeKeys(page, PIN.slice(0, 3));
    await axeCheck(page, 'reset PIN (ID card checked)');
    await typeKeys(page, PIN.slice(3), 3);
    await page.locator('.keypad button.key-enter').click();
    await page.locator('.prompt', { hasText: '请再次输入新密码' }).waitFor();
    await typeKeys(page, PIN);
    await page.locator('.keypad button.key-enter').click();
    await page.locator('[data-screen="result"] h1', { hasText: '办理成功' }).waitFor();
    await page.emulateMedia({ media: 'print' });
    await axeCheck(page, 'receipt (print)');
    await page.emulateMedia({ media: 'screen' });
    await page.getByTestId('finish').click();

    // After "done" the holder takes the card; the next one puts theirs in.
    const nextHolder = async (): Promise<void> => {
      web.terminal.removeCard();
      await page.locator('[data-screen="attract"]').click();
      await page.locator('[data-screen="insertCard"]').waitFor();
      web.terminal.insertCard({ name: '王志强' });
    };
    // No ID card on the reader: the result names what is missing, in words.
    web.terminal.idCard = null;
    await nextHolder();
    await page.getByTestId('service-reset').click();
    await page.getByTestId('start').click();
    await page.locator('.missing li').waitFor();
    expect(await page.locator('.missing li').innerText()).toContain('身份证');
    await axeCheck(page, 'result (materials missing)');
    await page.getByTestId('finish').click();

    // Wrong PINs down to the kiosk's tries floor: the card is sent to a window.
    for (let i = 0; i < 5; i++) {
      await nextHolder();
      await verifyFromMenu(page, WRONG, null);
      await page.getByTestId('finish').click();
    }
    await nextHolder();
    // One try left: only reset (no old PIN needed) is offered here …
    await page.locator('[data-screen="menu"]').waitFor();
    expect(await page.locator('.service').count()).toBe(1);
    await page.getByTestId('service-reset').waitFor();
    await page.close();
    // … and a kiosk without reset sends the holder to a window.
    web.terminal.services = ['verify', 'change'];
    const again = await web.openPage('/kiosk?shuffle=off');
    await again.locator('[data-screen="locked"]').waitFor();
    await axeCheck(again, 'locked (below the floor, where to go)');
    await again.close();
  });

  it('the "temporarily unavailable" overlay', async () => {
    const page = await openKiosk();
    await web.stopApi();
    await page.getByTestId('unavailable').waitFor();
    await axeCheck(page, 'unavailable');
    await web.startApi();
    await page.getByTestId('unavailable').waitFor({ state: 'detached', timeout: 15_000 });
    await page.close();
  });
});
