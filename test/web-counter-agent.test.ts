/**
 * The counter screen with someone applying for the holder (state/agents.ts), in Debian's Chromium
 * against the real simulating daemon (counter role, pcscd + vpcd): a hall catalog whose activation
 * item lists an attorney's materials (fixtures/catalog/README.md "Agents"). The clerk chooses the
 * attorney, confirms the four originals (the 授权委托书 among them), accepts; the page asks for the
 * attorney's own document when the daemon does, the technician lays it on the simulated ID reader
 * (`sscard sim-control idcard`), the holder types the new PIN; the card is activated and the day's
 * operations name the agent masked. With the shipped catalog (the seeds: no agent) the choice is
 * not shown at all — test/web-counter.test.ts runs that daemon.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassphrase } from '../daemon/auth/passphrase.js';
import type { TestClient } from '../testing/api-test-client.js';
import { hallCatalogJson } from '../testing/hall-catalog.js';
import { expectNoPinLeft, recordPages, requireBrowserStack, simControl } from './helpers/browser-daemon.js';
import { connectClient, DaemonProcess } from './helpers/daemon.js';
import { ROOT, settleAfterRemoval } from './helpers/stack.js';
import { launchChromiumContext, saveShot } from './helpers/web-harness.js';

const AXE = path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');
const PASSPHRASE = 'counter agent passphrase';
const NEW_PIN = '285174';
/** The holder's and the attorney's numbers in full (fixtures/idcards): never on the page. */
const FULL = ['410102200111230054', '410105199001010011', '张伟', '赵一鸣'];
const fixture = (p: string): string => path.join(ROOT, 'fixtures', p);

const dir = mkdtempSync(path.join(tmpdir(), 'sscard-counter-agent-'));
let daemon: DaemonProcess;
let context: BrowserContext;
let pad: TestClient;
const record = recordPages();

beforeAll(async () => {
  await requireBrowserStack('counter');
  const catalog = hallCatalogJson();
  (catalog.items[0] as Record<string, unknown>)['agents'] = [
    { basis: 'powerOfAttorney', kinds: ['activate'], materials: ['socialSecurityCard', 'residentIdCard', 'agentIdCard', 'powerOfAttorney'] },
  ];
  writeFileSync(path.join(dir, 'hall.json'), JSON.stringify(catalog));
  daemon = await DaemonProcess.start(
    {
      config: {
        simulate: 'on',
        role: 'counter',
        terminalId: 'E2E-COUNTER-AGENT',
        catalog: 'hall.json',
        api: { port: 0 },
        log: { level: 'info', file: 'log/sscard.log', console: false },
        simulator: { stateDir: 'var/sim', card: fixture('cards/card-not-activated.json') },
        journal: { path: 'journal.db', keyFile: 'journal.key' },
        session: { inactivityMs: 60_000 },
        operators: { sessionTtlMs: 600_000, accounts: [{ id: 'op1', name: '张三', hash: hashPassphrase(Buffer.from(PASSPHRASE), { N: 1024 }) }] },
      },
      entry: 'sscardd',
    },
    dir,
  );
  await daemon.waitIdentified();
  pad = await connectClient(daemon.port);
  context = await launchChromiumContext(path.join(dir, 'profile'), { viewport: { width: 1280, height: 900 }, locale: 'zh-CN', bypassCSP: true });
}, 120_000);

afterAll(async () => {
  pad?.ws.close();
  await context?.close();
  await daemon?.stop();
  await settleAfterRemoval();
  rmSync(dir, { recursive: true, force: true });
});

async function holderTypes(page: Page, prompt: RegExp, pin: string): Promise<void> {
  await expect.poll(() => page.getByTestId('prompt').innerText(), { timeout: 30_000 }).toMatch(prompt);
  for (const d of pin) expect((await pad.command('Keyboard.TouchKey', { key: d })).completion.header.completionCode).toBe('success');
}

describe('the counter screen: an attorney applies for the holder (Chromium, simulating daemon)', () => {
  it('the clerk chooses the attorney, confirms the originals, the page asks for the attorney\'s document; the card is activated and the operation names the agent masked', async () => {
    const page = await context.newPage();
    record.watch(page);
    await page.goto(`http://127.0.0.1:${daemon.port}/counter`);
    await page.getByTestId('operator-id').fill('op1');
    await page.getByTestId('passphrase').fill(PASSPHRASE);
    await page.getByTestId('login').click();
    await page.getByTestId('read-id').click();
    await expect.poll(() => page.getByTestId('match').getAttribute('data-tone'), { timeout: 20_000 }).toBe('ok');

    // A PIN service of this hall lists no agent: no choice shown.
    await page.getByTestId('service-reset').click();
    expect(await page.getByTestId('applicant').count()).toBe(0);

    await page.getByTestId('service-activate').click();
    await page.getByTestId('applicant-powerOfAttorney').check();
    const boxes = page.getByTestId('checklist').locator('input[type=checkbox]');
    const rows: string[] = [];
    for (let i = 0; i < (await boxes.count()); i++) rows.push((await boxes.nth(i).getAttribute('data-testid')) ?? '');
    expect(rows).toEqual(['confirm-socialSecurityCard', 'confirm-residentIdCard', 'confirm-agentIdCard', 'confirm-powerOfAttorney']);
    // axe on the form with the applicant choice.
    await page.addScriptTag({ path: AXE });
    const bad = await page.evaluate<{ id: string }[]>(`(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ id: v.id })))()`);
    expect(bad).toEqual([]);
    expect(await page.getByTestId('material-agentIdCard').innerText()).toContain('受理后读取');
    expect(await page.getByTestId('material-powerOfAttorney').innerText()).toContain('由窗口核验原件');
    for (const r of rows) await page.getByTestId(r).check();
    await saveShot(page, 'counter-agent');

    await page.getByTestId('accept').click();
    await expect.poll(() => page.getByTestId('prompt').innerText(), { timeout: 30_000 }).toMatch(/代办人/);
    await simControl(daemon, 'idcard', fixture('idcards/id-mismatch-other.json'));
    await holderTypes(page, /输入新密码/, NEW_PIN);
    await holderTypes(page, /再次输入新密码/, NEW_PIN);
    await expect.poll(() => page.getByTestId('result-text').getAttribute('data-outcome'), { timeout: 30_000 }).toBe('ok');

    const ops = await pad.command('Operator.Login', { operatorId: 'op1', passphrase: PASSPHRASE }).then(() => pad.command('SSCard.Operations', { limit: 5 }));
    const last = (ops.completion.payload as { operations: { kind: string; outcome: string; agent: { basis: string; idNumberMasked: string } | null }[] }).operations[0]!;
    expect(last).toMatchObject({ kind: 'activate', outcome: 'ok', agent: { basis: 'powerOfAttorney', idNumberMasked: '410105********0011' } });
    await expectNoPinLeft(page, record, [NEW_PIN], 'forbidden');
    const html = await page.content();
    for (const n of FULL) expect(html).not.toContain(n);
  }, 120_000);
});
