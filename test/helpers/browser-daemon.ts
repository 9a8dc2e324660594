/**
 * What the browser suites on the real daemon share (test/web-kiosk-daemon.test.ts,
 * test/web-status.test.ts, test/web-counter.test.ts): the daemon simulating over pcscd + vpcd and
 * serving its own pages from dist/web, Debian's Chromium (test/helpers/web-harness.ts) on them.
 *
 * - requireBrowserStack: pcscd + vpcd, Chromium and the built page, or a message saying how to get them.
 * - simControl / waitCardPresent: the simulated card pulled, put back or swapped as a technician
 *   would (`sscard sim-control`, README "Commands"), and the daemon's `GET /status` (docs/api.md
 *   "HTTP") polled until the card is identified or gone.
 * - freePort: a port for a daemon that must come back at the same address after a restart.
 * - recordPages / expectNoPinLeft: what the pages said on the console and sent or received on their
 *   WebSockets, and the check that no PIN is anywhere a page could keep or pass it (docs/api.md: a
 *   PIN digit crosses the API only as one key of `Keyboard.TouchKey`, docs/security.md).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import type { DaemonProcess } from './daemon.js';
import { requireStack, ROOT, runCli } from './stack.js';
import { requireChromium, SHOTS } from './web-harness.js';

/**
 * Before a suite: pcscd with vpcd running (requireStack), Chromium installed, the daemon's page
 * `page` built into dist/web (`npm run build`; the daemon serves it from there), and the
 * screenshot folder made. Throws, saying what to run, when something is missing.
 */
export async function requireBrowserStack(page: 'kiosk' | 'status' | 'counter'): Promise<void> {
  await requireStack();
  requireChromium();
  if (!existsSync(path.join(ROOT, 'dist', 'web', page, 'index.html'))) throw new Error('dist/web is not built: run npm run build');
  await mkdir(SHOTS, { recursive: true });
}

/**
 * `sscard sim-control <args…> --config <the daemon's config>` (README "Commands": remove, insert,
 * swap FILE, idcard FILE|none) on the running simulating daemon; expects exit code 0.
 */
export async function simControl(daemon: DaemonProcess, ...args: string[]): Promise<void> {
  const r = await runCli(['sim-control', ...args, '--config', daemon.configFile]);
  expect(r.code, r.stderr).toBe(0);
}

/**
 * Poll the daemon's `GET /status` (docs/api.md "HTTP") every 50 ms, up to 15 s, until the card is
 * in and identified with its session at rest (`identified` or `done`) — or, with `present` false,
 * until no card is in the reader. Throws with the last card status when it does not come.
 */
export async function waitCardPresent(daemon: DaemonProcess, present: boolean): Promise<void> {
  const end = Date.now() + 15_000;
  for (;;) {
    const c = ((await (await daemon.fetch('/status')).json()) as { card: { present: boolean; identified?: boolean; session?: string } }).card;
    if (present ? c.identified === true && /^(identified|done)$/.test(c.session ?? '') : !c.present) return;
    if (Date.now() > end) throw new Error(`card ${present ? 'not identified' : 'still present'}: ${JSON.stringify(c)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A TCP port free on 127.0.0.1 just now (the kernel's pick, the listener closed again). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** What the pages a suite watches said and sent, in order, across all of them. */
export interface PageRecord {
  /** Console lines (`<type>: <text>`) and uncaught errors (`pageerror: <message>`). */
  readonly consoleLines: string[];
  /** Every WebSocket frame the pages sent, as text. */
  readonly framesSent: string[];
  /** Every WebSocket frame the pages received, as text. */
  readonly framesReceived: string[];
  /** Record `page` from now on (call before its goto, so nothing of the load is missed). */
  watch(page: Page): void;
}

/** An empty record; a test may empty its arrays (`length = 0`) to look at its own pages only. */
export function recordPages(): PageRecord {
  const consoleLines: string[] = [];
  const framesSent: string[] = [];
  const framesReceived: string[] = [];
  const text = (payload: string | Buffer): string => (typeof payload === 'string' ? payload : payload.toString('utf8'));
  return {
    consoleLines,
    framesSent,
    framesReceived,
    watch(page: Page): void {
      page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
      page.on('websocket', (ws) => {
        ws.on('framesent', (f) => framesSent.push(text(f.payload)));
        ws.on('framereceived', (f) => framesReceived.push(text(f.payload)));
      });
    },
  };
}

/** The keys of the on-screen keypad a `Keyboard.TouchKey` may carry (docs/api.md "Keyboard"). */
const TOUCH_KEY = /^([0-9]|enter|backspace|clear|cancel)$/;

/**
 * No PIN left anywhere the page could keep or pass one (docs/api.md: a PIN digit crosses the API
 * only as a key of `Keyboard.TouchKey`):
 *
 * - none of `pins` in the page's DOM, its localStorage or sessionStorage, or `record`'s console lines;
 * - every `Keyboard.TouchKey` frame sent carries one key and nothing else (`{ key }`, a keypad key);
 * - every other frame sent holds none of `pins` and no `"key":` field at all;
 * - `touchKeys`: 'required' — the page sent at least one TouchKey (the kiosk's keypad was used);
 *   'allowed' — it may have; 'forbidden' — it sent none (the counter page has no keypad: the
 *   holder's keys come from the pad).
 */
export async function expectNoPinLeft(page: Page, record: PageRecord, pins: readonly string[], touchKeys: 'required' | 'allowed' | 'forbidden'): Promise<void> {
  const html = await page.content();
  const stored = await page.evaluate<string>('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })');
  const consoleText = record.consoleLines.join('\n');
  for (const pin of pins) {
    expect(html).not.toContain(pin);
    expect(stored).not.toContain(pin);
    expect(consoleText).not.toContain(pin);
  }
  for (const f of record.framesSent) {
    const msg = JSON.parse(f) as { header: { name: string }; payload?: Record<string, unknown> };
    if (msg.header.name === 'Keyboard.TouchKey') {
      expect(Object.keys(msg.payload ?? {}), f).toEqual(['key']);
      expect(String(msg.payload!['key'])).toMatch(TOUCH_KEY);
      continue;
    }
    for (const pin of pins) expect(f).not.toContain(pin);
    expect(f).not.toMatch(/"key"\s*:/);
  }
  if (touchKeys === 'required') expect(record.framesSent.some((f) => f.includes('Keyboard.TouchKey'))).toBe(true);
  if (touchKeys === 'forbidden') expect(record.framesSent.join('\n')).not.toContain('Keyboard.TouchKey');
}
