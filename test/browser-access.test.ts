/**
 * Who may talk to the daemon, tried from a real browser (docs/security.md): Debian's Chromium
 * driven by playwright-core, against the real daemon over pcscd + vpcd with the virtual card.
 *
 * - A page from another origin (another loopback port) tries the WebSocket API, fetch() and a
 *   cross-site form POST to /sscard/iVerifyPIN: each is refused by the daemon (not only by the
 *   browser's CORS), and no PIN entry starts — a native client watching sees no PIN prompt.
 * - A page from an allowed origin (api.allowedOrigins) uses the WebSocket API and fetch() and reads
 *   the card.
 * - DNS rebinding: a name that resolves to 127.0.0.1 but is not one of the daemon's names is
 *   refused (421) — on the pages' own requests and when the browser navigates there.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestClient } from '../testing/api-test-client.js';
import { DaemonProcess, connectClient } from './helpers/daemon.js';
import { CARD_READER, PSAM_READER, requireStack } from './helpers/stack.js';
import { VirtualReaders } from './helpers/virtual-readers.js';
import { launchChromium, requireChromium } from './helpers/web-harness.js';

/** A name that resolves to the daemon's address (as after DNS rebinding) but is none of its names. */
const REBOUND = 'rebind.attacker.test';

let daemon: DaemonProcess;
let readers: VirtualReaders;
let browser: Browser;
let watcher: TestClient;
const pages: http.Server[] = [];
let allowedOrigin = '';
let foreignOrigin = '';

/** A plain page server on its own loopback port: one origin. */
async function pageServer(title: string): Promise<string> {
  const s = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><meta charset="utf-8"><title>${title}</title><body>${title}</body>`);
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  pages.push(s);
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

async function open(url: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(url);
  return page;
}

/** In the page: open the service WebSocket; 'open' (then Common.Status + ReadBasic), or how it failed. */
async function tryWebSocket(page: Page, port: number): Promise<{ opened: boolean; status?: string; readBasic?: string; name?: string }> {
  return page.evaluate(async (p) => {
    return new Promise<{ opened: boolean; status?: string; readBasic?: string; name?: string }>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${p}/xfs4iot/v1.0/sscard`);
      const out: { opened: boolean; status?: string; readBasic?: string; name?: string } = { opened: false };
      ws.onopen = () => {
        out.opened = true;
        ws.send(JSON.stringify({ header: { type: 'command', name: 'Common.Status', requestId: 1, version: '2.0' }, payload: {} }));
      };
      ws.onmessage = (m) => {
        const msg = JSON.parse(String(m.data)) as { header: { type: string; requestId: number; completionCode?: string }; payload?: { card?: { name?: string } } };
        if (msg.header.type !== 'completion') return;
        if (msg.header.requestId === 1) {
          out.status = msg.header.completionCode;
          ws.send(JSON.stringify({ header: { type: 'command', name: 'SSCard.ReadBasic', requestId: 2, version: '2.0', timeout: 30000 }, payload: {} }));
        } else if (msg.header.requestId === 2) {
          out.readBasic = msg.header.completionCode;
          out.name = JSON.stringify(msg.payload);
          ws.close();
          resolve(out);
        }
      };
      ws.onerror = () => resolve(out);
      ws.onclose = () => resolve(out);
      setTimeout(() => resolve(out), 20_000);
    });
  }, port);
}

/** In the page: the vendors' JSON socket at /sscard (docs/api.md "SSCardDriver over WebSocket"): the answer to iReadCardBas, or null when it did not open. */
async function tryVendorSocket(page: Page, port: number): Promise<{ functionName: string; success: boolean; pOutInfo: string } | null> {
  return page.evaluate(async (p) => {
    return new Promise<{ functionName: string; success: boolean; pOutInfo: string } | null>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${p}/sscard`);
      ws.onopen = () => ws.send(JSON.stringify({ function: 'iReadCardBas', iType: 3 }));
      ws.onmessage = (m) => {
        ws.close();
        resolve(JSON.parse(String(m.data)) as { functionName: string; success: boolean; pOutInfo: string });
      };
      ws.onerror = () => resolve(null);
      setTimeout(() => resolve(null), 20_000);
    });
  }, port);
}

/** In the page: fetch() and what the page could see of the answer. */
async function tryFetch(page: Page, url: string, init: RequestInit): Promise<{ ok: boolean; status?: number; body?: string; error?: string; type?: string }> {
  return page.evaluate(
    async ([u, i]) => {
      try {
        const r = await fetch(u, i);
        return { ok: true, status: r.status, type: r.type, body: r.type === 'opaque' ? '' : await r.text() };
      } catch (e) {
        return { ok: false, error: String(e) };
      }
    },
    [url, init] as const,
  );
}

/** How the daemon answers a request as Chromium would send it from `origin` (status only; never reaches a page). */
function rawStatus(p: string, headers: Record<string, string>, method = 'GET', body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: daemon.port, path: p, method, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  await requireStack();
  requireChromium();
  allowedOrigin = await pageServer('vendor kiosk UI (allowed)');
  foreignOrigin = await pageServer('some web page (foreign)');
  readers = await VirtualReaders.insert('card-2.0');
  daemon = await DaemonProcess.start({
    config: {
      terminalId: 'E2E-BROWSER-1',
      role: 'kiosk',
      simulate: 'off',
      readers: { card: CARD_READER, psam: PSAM_READER },
      pinPad: { kind: 'touchscreen', allowTouchscreen: true },
      idReader: { kind: 'none' },
      journal: { path: 'journal.db', keyFile: 'journal.key' },
      api: { port: 0, allowedOrigins: [allowedOrigin] },
      log: { level: 'info', file: 'log/sscard.log', console: false },
    },
  });
  watcher = await connectClient(daemon.port);
  await daemon.waitIdentified();
  browser = await launchChromium([`--host-resolver-rules=MAP ${REBOUND} 127.0.0.1`]);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  watcher?.close();
  await daemon?.stop();
  for (const s of pages) s.close();
  await readers?.remove();
});

/** No PIN entry was started by anything the browser did (the watcher sees every flow as unsolicited). */
function expectNoPinEntry(): void {
  expect(watcher.messages.filter((m) => m.header.name === 'SSCard.PinEntryStartedEvent' || m.header.name === 'SSCard.ServiceStartedEvent')).toEqual([]);
}

describe('a page from a foreign origin cannot drive the card', () => {
  it('the WebSocket handshake is refused (no open, no ReadBasic)', async () => {
    const page = await open(foreignOrigin);
    const r = await tryWebSocket(page, daemon.port);
    expect(r).toEqual({ opened: false });
    expect(await tryVendorSocket(page, daemon.port)).toBeNull();
    // What Chromium sent, the daemon refuses itself (403), before any credential.
    expect(await rawStatus('/xfs4iot/v1.0/sscard', { origin: foreignOrigin, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' })).toBe(403);
    await page.close();
  });

  it('fetch() of /status and of a vendor call gets nothing; the daemon answers such requests 403', async () => {
    const page = await open(foreignOrigin);
    const status = await tryFetch(page, `http://127.0.0.1:${daemon.port}/status`, {});
    expect(status.ok).toBe(false);
    const read = await tryFetch(page, `http://127.0.0.1:${daemon.port}/sscard/iReadCardBas`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"iType":1}' });
    expect(read.ok).toBe(false);
    // A "simple" request needs no preflight: it reaches the daemon, which refuses it by its Origin
    // (and its Cross-Origin-Resource-Policy keeps even the opaque answer from the page).
    const simple = await tryFetch(page, `http://127.0.0.1:${daemon.port}/sscard/iVerifyPIN`, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{"iType":1}' });
    expect(simple.ok).toBe(false);
    expect(await rawStatus('/sscard/iVerifyPIN', { origin: foreignOrigin, 'content-type': 'text/plain' }, 'POST', '{"iType":1}')).toBe(403);
    expect(await rawStatus('/status', { origin: foreignOrigin })).toBe(403);
    expect(await rawStatus('/status', { origin: 'null' })).toBe(403);
    await page.close();
    expectNoPinEntry();
  });

  it('a cross-site form POST to /sscard/iVerifyPIN is refused (403) and starts no PIN entry', async () => {
    const page = await open(foreignOrigin);
    const answer = page.waitForResponse((r) => r.url().includes('/sscard/iVerifyPIN'));
    // A plain HTML form, as any site can post one (written as page script: this file has no DOM types).
    await page.evaluate(`(() => {
      const f = document.createElement('form');
      f.method = 'POST';
      f.action = 'http://127.0.0.1:${daemon.port}/sscard/iVerifyPIN';
      f.enctype = 'application/x-www-form-urlencoded';
      const i = document.createElement('input');
      i.name = 'iType';
      i.value = '1';
      f.appendChild(i);
      document.body.appendChild(f);
      f.submit();
    })()`);
    const res = await answer;
    expect(res.status()).toBe(403);
    expect(res.headers()['x-sscard-return']).toBeUndefined();
    await page.close();
    // Give a flow that would have started time to prompt; none may.
    await new Promise((r) => setTimeout(r, 500));
    expectNoPinEntry();
    // The same form from a page the daemon trusts is still no way in: forms are not JSON (415).
    expect(await rawStatus('/sscard/iVerifyPIN', { origin: allowedOrigin, 'content-type': 'application/x-www-form-urlencoded' }, 'POST', 'iType=1')).toBe(415);
    expectNoPinEntry();
  });
});

describe('a page from an allowed origin works', () => {
  it('uses the WebSocket API: Common.Status and SSCard.ReadBasic succeed with the card data', async () => {
    const page = await open(allowedOrigin);
    const r = await tryWebSocket(page, daemon.port);
    expect(r).toMatchObject({ opened: true, status: 'success', readBasic: 'success' });
    expect(r.name).toContain('王志强');
    await page.close();
  });

  it('uses the vendors\' JSON socket as a Decard-style kiosk page does: {"function":"iReadCardBas","iType":3}', async () => {
    const page = await open(allowedOrigin);
    const r = await tryVendorSocket(page, daemon.port);
    expect(r).toMatchObject({ functionName: 'iReadCardBas', success: true, sscardReturn: 0 });
    expect(r!.pOutInfo.split('|')[4]).toBe('王志强');
    await page.close();
  });

  it('uses fetch(): /status and iReadCardBas answer with CORS for that origin only', async () => {
    const page = await open(allowedOrigin);
    const status = await tryFetch(page, `http://127.0.0.1:${daemon.port}/status`, {});
    expect(status).toMatchObject({ ok: true, status: 200 });
    expect(JSON.parse(status.body!)).toMatchObject({ terminalId: 'E2E-BROWSER-1', card: { identified: true, cardNumberMasked: 'X0****019' } });
    const read = await tryFetch(page, `http://127.0.0.1:${daemon.port}/sscard/iReadCardBas`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"iType":1}' });
    expect(read).toMatchObject({ ok: true, status: 200 });
    expect(read.body!.split('|')[4]).toBe('王志强');
    await page.close();
  });
});

describe('DNS rebinding', () => {
  it('a page whose name was rebound to 127.0.0.1 gets 421 from the daemon, and so does a navigation there', async () => {
    const nav = await browser.newPage();
    const res = await nav.goto(`http://${REBOUND}:${daemon.port}/health`);
    expect(res?.status()).toBe(421);
    // Same-origin requests from the rebound page carry the attacker's Host: refused too.
    const same = await tryFetch(nav, `http://${REBOUND}:${daemon.port}/status`, {});
    expect(same).toMatchObject({ ok: true, status: 421 });
    const vendor = await tryFetch(nav, `http://${REBOUND}:${daemon.port}/sscard/iVerifyPIN`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"iType":1}' });
    expect(vendor).toMatchObject({ ok: true, status: 421 });
    expect(vendor.body).not.toContain('王志强');
    await nav.close();
    expectNoPinEntry();
  });
});
