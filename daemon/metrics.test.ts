/**
 * The daemon's Prometheus metrics (metrics.ts; docs/api.md "Metrics"): flows, PIN-pad events,
 * reconnects, APDU latency and the status gauges, in the exposition format, with no card number,
 * identity or PIN in any label; and `GET /metrics` behind the API's access rules.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { results } from '../state/results.js';
import { apiPerTest } from '../testing/api-test-client.js';
import { FAKE_CARD, FAKE_READER, FakeTerminal } from '../testing/fake-terminal.js';
import { DaemonMetrics } from './metrics.js';

const start = apiPerTest();
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('daemon metrics', () => {
  it('count flows by service and result, PIN-pad timeouts and cancels, reconnects, APDU times; read the journal, sync and hotlist from the status', async () => {
    const terminal = new FakeTerminal();
    const m = new DaemonMetrics();
    m.watch(terminal);
    const result = (r: ReturnType<typeof results.verifyOk>) => terminal.emit({ type: 'session', reader: FAKE_READER, event: { type: 'result', result: r } });
    result(results.verifyOk(6));
    result(results.verifyOk(6));
    result(results.verifyWrong(5, 0x63c5));
    result(results.pinTimeout('change'));
    result(results.cancelled('verify'));
    terminal.emit({ type: 'device', component: 'pcsc', connected: true, problem: null });
    terminal.emit({ type: 'device', component: 'pcsc', connected: false, problem: { zh: '停', en: 'down' } });
    terminal.emit({ type: 'device', component: 'pcsc', connected: true, problem: null });
    m.apduTiming('Virtual PCD 00 00', 1.5);
    m.apduTiming('Virtual PCD 00 00', 30);
    const { contentType, text } = await m.scrape();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toContain('sscard_flows_total{service="verify",result="verify.ok"} 2');
    expect(text).toContain('sscard_flows_total{service="verify",result="verify.wrongPin"} 1');
    expect(text).toContain('sscard_pinpad_events_total{event="timeout"} 1');
    expect(text).toContain('sscard_pinpad_events_total{event="cancel"} 1');
    expect(text).toContain('sscard_reconnects_total{component="pcsc"} 1');
    expect(text).toContain('sscard_apdu_duration_seconds_count{reader="Virtual PCD 00 00"} 2');
    expect(text).toContain('sscard_apdu_duration_seconds_bucket{le="0.002",reader="Virtual PCD 00 00"} 1');
    expect(text).toMatch(/^sscard_journal_pending \d+$/m);
    expect(text).toMatch(/^sscard_hotlist_entries \d+$/m);
    expect(text).toMatch(/^sscard_up [01]$/m);
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toContain('process_resident_memory_bytes');
    // Nothing of the card or the holder.
    for (const secret of [FAKE_CARD.cardNumber, FAKE_CARD.cardId, FAKE_CARD.socialSecurityNumber, FAKE_CARD.name]) expect(text).not.toContain(secret);
    m.stop();
  });

  it("give the APDU times as prom-client's own Histogram gives the same observations", async () => {
    const times = [0, 0.5, 0.50001, 1, 1.5, 2, 30, 99.9, 100, 4999, 5000, 5001, 60000];
    const m = new DaemonMetrics();
    const ref = new client.Registry();
    const h = new client.Histogram({ name: 'sscard_apdu_duration_seconds', help: 'APDU round trips (command to response) per reader', labelNames: ['reader'], buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5], registers: [ref] });
    for (const [i, ms] of times.entries()) {
      const reader = i % 3 === 0 ? 'Virtual PCD 00 00' : 'reader "b"\\1';
      m.apduTiming(reader, ms);
      h.observe({ reader }, ms / 1000);
    }
    const apduLines = (text: string) => text.split('\n').filter((l) => l.includes('sscard_apdu_duration_seconds'));
    expect(apduLines((await m.scrape()).text)).toEqual(apduLines(await ref.metrics()));
    expect(apduLines(await ref.metrics()).length).toBe(2 + 2 * 16);
    m.stop();
  });

  it('GET /metrics: the exposition to a client with a credential; 401 without one; 404 where the daemon serves none', async () => {
    const m = new DaemonMetrics();
    const api = await start({ allowUnauthenticatedLoopback: false, metrics: () => m.scrape() });
    m.watch(api.terminal);
    const anon = await api.http('GET', '/metrics', undefined);
    expect(anon.status).toBe(401);
    const r = await api.http('GET', '/metrics', undefined, { authorization: `Bearer ${api.clientToken}` });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.text).toContain('# TYPE sscard_flows_total counter');
    expect((await api.http('POST', '/metrics', '', { authorization: `Bearer ${api.clientToken}` })).status).toBe(405);
    m.stop();
    await api.close();
    const none = await start();
    expect((await none.http('GET', '/metrics', undefined)).status).toBe(404);
  });
});

describe('docs/grafana-dashboard.json', () => {
  it('is a dashboard whose every query names only metrics the daemon exports', async () => {
    const dash = JSON.parse(readFileSync(path.join(ROOT, 'docs', 'grafana-dashboard.json'), 'utf8')) as { title: string; panels: { title: string; targets: { expr: string }[] }[] };
    expect(dash.panels.length).toBeGreaterThanOrEqual(10);
    const m = new DaemonMetrics();
    m.watch(new FakeTerminal());
    m.apduTiming('r', 1);
    const exported = new Set((await m.scrape()).text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]!));
    m.stop();
    for (const p of dash.panels) {
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets) {
        const names = [...t.expr.matchAll(/\b((?:sscard|nodejs|process)_[a-z0-9_]+?)(?:_bucket)?\b(?=[{[ )]|$)/g)].map((x) => x[1]!);
        expect(names.length, t.expr).toBeGreaterThan(0);
        for (const n of names) expect(exported.has(n), `${p.title}: ${n}`).toBe(true);
      }
    }
  });
});
