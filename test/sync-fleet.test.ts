/**
 * Heartbeats and the fleet view end to end over loopback HTTP (docs/sync-protocol.md "Heartbeat",
 * "Fleet view"): the terminal's sync worker sends its heartbeat after each pass, the reference
 * platform keeps the latest per terminal and lists the fleet with its alarms; a platform of an
 * earlier revision (404) is told once, a malformed heartbeat is refused naming the field.
 */
import { rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogEntry } from '../testing/api-test-client.js';
import { captureLogger } from '../testing/api-test-client.js';
import { Journal } from '../daemon/journal/journal.js';
import { SyncWorker } from '../daemon/sync/worker.js';
import type { HeartbeatSource } from '../daemon/sync/worker.js';
import { CentralServer } from '../platform/server.js';
import { tempDir } from './journal/fixtures.js';

let dir: string;
let journal: Journal;
const closing: (() => Promise<void>)[] = [];

beforeEach(() => {
  dir = tempDir('sscard-fleet-');
  journal = Journal.open({ path: path.join(dir, 'j.sqlite'), keyFile: path.join(dir, 'j.key'), terminalId: 'KIOSK-7' });
});
afterEach(async () => {
  for (const c of closing.splice(0)) await c();
  journal.close();
  rmSync(dir, { recursive: true, force: true });
});

const source = (psam: 'ok' | 'problem' = 'ok'): HeartbeatSource => ({
  software: '0.1.0',
  role: 'kiosk',
  services: ['verify', 'change', 'reset'],
  health: { pcsc: true, cardReaders: 1, psam, pinPad: 'ok', idReader: 'none' },
});

async function post(url: string, p: string, body: string): Promise<{ status: number; text: string }> {
  const r = await fetch(new URL(p, url), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: r.status, text: await r.text() };
}

describe('heartbeat and fleet view', () => {
  it('the worker\'s heartbeat reaches the fleet view; the clock offset is measured; a device problem is an alarm', async () => {
    const central = await CentralServer.start();
    closing.push(() => central.close());
    let psam: 'ok' | 'problem' = 'ok';
    const w = new SyncWorker(journal, { endpoint: central.url, terminalId: 'KIOSK-7', heartbeat: () => source(psam) });
    closing.push(() => w.stop());
    for (let i = 0; i < 3; i++) {
      const id = journal.beginOperation({ serviceItem: '11410402785096902M500201401000601', kind: 'change', role: 'kiosk', card: { cardId: '410402D15600000593F973FB1A6CB5A0' }, materials: ['socialSecurityCard'] });
      journal.completeOperation(id, { outcome: 'ok', lastSw: 0x9000 });
    }
    await w.heartbeatNow();
    expect(w.status().clockOffsetMs).toEqual(expect.any(Number));
    expect(Math.abs(w.status().clockOffsetMs!)).toBeLessThan(1000);
    expect(w.status().lastHeartbeatAt).toEqual(expect.any(Number));
    let fleet = await central.fleet();
    expect(fleet.terminals).toHaveLength(1);
    expect(fleet.terminals[0]).toMatchObject({ terminalId: 'KIOSK-7', software: '0.1.0', role: 'self-service', services: ['verify', 'change', 'reset'], backlog: 3, previousBacklog: null, alarms: [] });

    await w.syncNow();
    psam = 'problem';
    await w.heartbeatNow();
    fleet = (await (await fetch(new URL('fleet', central.url))).json()) as typeof fleet;
    expect(fleet.terminals[0]).toMatchObject({ backlog: 0, previousBacklog: 3, alarms: ['device'] });
    expect(fleet.alarms.device).toBe(1);

    // Silent once the threshold passes (the view at a later clock).
    expect((await central.fleet(Date.now() + 11 * 60_000)).terminals[0]!.alarms).toEqual(['silent', 'device']);

    const page = await fetch(new URL('fleet.html', central.url));
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await page.text()).toContain('KIOSK-7');
  });

  it('a malformed heartbeat is refused naming the field; nothing is kept', async () => {
    const central = await CentralServer.start();
    closing.push(() => central.close());
    const good = { protocol: 1, terminalId: 'K-1', sentAt: new Date().toISOString(), software: '0.1.0', role: 'self-service', services: ['verify'], health: { pcsc: true, cardReaders: 1, psam: 'ok', pinPad: 'ok', idReader: 'none' }, backlog: { operations: 0, oldestUnsyncedAt: null, bankRequests: 0 }, hotlist: { version: null, check: null }, clockOffsetMs: null };
    expect((await post(central.url, 'v1/heartbeat', JSON.stringify(good))).status).toBe(200);
    for (const [bad, field] of [
      [{ ...good, terminalId: '../etc' }, 'terminalId'],
      [{ ...good, role: 'admin' }, 'role'],
      [{ ...good, services: ['format-disk'] }, 'services'],
      [{ ...good, health: { ...good.health, psam: 'fine' } }, 'health.psam'],
      [{ ...good, backlog: { operations: -1, oldestUnsyncedAt: null, bankRequests: 0 } }, 'backlog'],
      [{ ...good, sentAt: 'yesterday' }, 'sentAt'],
    ] as const) {
      const r = await post(central.url, 'v1/heartbeat', JSON.stringify(bad));
      expect(r.status, field).toBe(400);
      expect(r.text).toContain(field);
    }
    expect((await post(central.url, 'v1/heartbeat', 'x'.repeat(20_000))).status).toBe(413);
    expect((await central.fleet()).terminals.map((t) => t.terminalId)).toEqual(['K-1']);
  });

  it('a platform without the heartbeat (revision 2: 404) is told once in the log and not asked again', async () => {
    let asked = 0;
    const old = http.createServer((req, res) => {
      if (req.url?.includes('heartbeat') === true) asked++;
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"no route"}');
    });
    await new Promise<void>((r) => old.listen(0, '127.0.0.1', r));
    closing.push(() => new Promise((r) => old.close(() => r())));
    const logger = captureLogger();
    const w = new SyncWorker(journal, { endpoint: `http://127.0.0.1:${(old.address() as AddressInfo).port}/`, terminalId: 'KIOSK-7', heartbeat: () => source(), logger });
    closing.push(() => w.stop());
    await w.heartbeatNow();
    await w.heartbeatNow();
    expect(asked).toBe(1);
    expect(logger.entries.filter((e: LogEntry) => e.message.includes('sends no heartbeat'))).toHaveLength(1);
    expect(w.status().lastHeartbeatAt).toBeNull();
  });
});
