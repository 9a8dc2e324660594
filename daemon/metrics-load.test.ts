/**
 * prom-client is loaded at the first scrape, not when the daemon starts (metrics.ts; docs/benchmarks.md
 * "Idle"), and what happened before that scrape is counted all the same.
 */
import { describe, expect, it, vi } from 'vitest';
import { results } from '../state/results.js';
import { FAKE_READER, FakeTerminal } from '../testing/fake-terminal.js';
import { DaemonMetrics } from './metrics.js';

const loads = vi.hoisted(() => ({ n: 0 }));
vi.mock('prom-client', async (importOriginal) => {
  loads.n += 1;
  return importOriginal();
});

describe('daemon metrics, loading', () => {
  it('load prom-client at the first scrape, once, and report every count made before it', async () => {
    const terminal = new FakeTerminal();
    const m = new DaemonMetrics();
    m.watch(terminal);
    for (let i = 0; i < 3; i++) terminal.emit({ type: 'session', reader: FAKE_READER, event: { type: 'result', result: results.verifyOk(6) } });
    m.apduTiming(FAKE_READER, 3);
    await new Promise((r) => setTimeout(r, 10));
    expect(loads.n).toBe(0);
    const [a, b] = await Promise.all([m.scrape(), m.scrape()]);
    expect(loads.n).toBe(1);
    for (const t of [a.text, b.text]) expect(t).toContain('sscard_flows_total{service="verify",result="verify.ok"} 3');
    expect(a.text).toContain(`sscard_apdu_duration_seconds_count{reader="${FAKE_READER}"} 1`);
    terminal.emit({ type: 'session', reader: FAKE_READER, event: { type: 'result', result: results.verifyOk(6) } });
    expect((await m.scrape()).text).toContain('sscard_flows_total{service="verify",result="verify.ok"} 4');
    expect(loads.n).toBe(1);
    m.stop();
  });
});

describe('daemon metrics, a load that fails', () => {
  it('fails that scrape, loads again at the next, and stops without an unhandled rejection', async () => {
    let calls = 0;
    const m = new DaemonMetrics(async () => {
      calls += 1;
      if (calls === 1) throw new Error('prom-client could not be loaded');
      return (await import('prom-client')).default;
    });
    m.watch(new FakeTerminal());
    await expect(m.scrape()).rejects.toThrow('prom-client could not be loaded');
    expect((await m.scrape()).text).toContain('# TYPE sscard_flows_total counter');
    expect(calls).toBe(2);
    m.stop();
    const failing = new DaemonMetrics(() => Promise.reject(new Error('prom-client could not be loaded')));
    // Stopped while the load is under way: its failure is the scrape's alone.
    const scraping = failing.scrape();
    failing.stop();
    await expect(scraping).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 10));
  });
});
