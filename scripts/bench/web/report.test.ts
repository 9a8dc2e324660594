import { describe, expect, it } from 'vitest';
import { slope, webResult, webText, type MemorySample, type WebFacts } from './report.js';

const mem = (flows: number, heapBytes: number, nodes = 300, listeners = 40): MemorySample => ({ flows, heapBytes, nodes, listeners });

const facts = (over: Partial<WebFacts> = {}): WebFacts => ({
  bundle: { page: 'kiosk', files: [{ file: 'kiosk/index.html', bytes: 600, gzip: 400 }, { file: 'assets/k.js', bytes: 50_000, gzip: 17_000 }], bytes: 50_600, gzip: 17_400 },
  driverRuns: [
    [100, 110, 120],
    [105, 115, 125],
  ],
  pageDomRuns: [
    [110, 120, 130],
    [115, 125, 135],
  ],
  pagePaintRuns: [
    [120, 130, 140],
    [125, 135, 145],
  ],
  driverFromRequest: [[500, 510]],
  pageFromRequest: [[520, 530]],
  memory: [mem(10, 9e6), mem(100, 5e6), mem(200, 5.1e6), mem(300, 5.05e6)],
  warmupFlows: 100,
  failures: [],
  quickAck: true,
  stack: 'private pcscd',
  ...over,
});

describe('bench:web report', () => {
  it('bundle: gzipped kB against 150 kB', () => {
    expect(webResult(facts()).bundle).toEqual({ gzipKb: 17, bytesKb: 49.4, targetKb: 150, met: true });
    expect(webResult(facts({ bundle: { page: 'kiosk', files: [], bytes: 400_000, gzip: 160_000 } })).bundle.met).toBe(false);
  });

  it('insertion: the page at the next frame minus the driver, medians of the runs\' p50', () => {
    const r = webResult(facts()).insertion;
    expect(r.driver.p50MedianMs).toBe(112.5);
    expect(r.pagePaint.p50MedianMs).toBe(132.5);
    expect(r.overheadMs).toBe(20);
    expect(r.met).toBe(true);
    expect(webResult(facts({ pagePaintRuns: [[200, 200, 200]] })).insertion.met).toBe(false);
    // Figures made with failures meet no target.
    expect(webResult(facts({ failures: ['x'] })).insertion.met).toBe(false);
  });

  it('memory: the heap from the first sample after the warm-up to the last; nodes and listeners too', () => {
    const r = webResult(facts()).memory;
    expect(r.baseline?.flows).toBe(100);
    expect(r.heapGrowth).toBe(0.01);
    expect(r.met).toBe(true);
    expect(webResult(facts({ memory: [mem(100, 5e6), mem(500, 6e6)] })).memory.met).toBe(false);
    expect(webResult(facts({ memory: [mem(100, 5e6, 300), mem(500, 5e6, 900)] })).memory.met).toBe(false);
    expect(webResult(facts({ memory: [mem(100, 5e6, 300, 40), mem(500, 5e6, 300, 400)] })).memory.met).toBe(false);
    expect(webResult(facts({ memory: [] })).memory).toMatchObject({ baseline: null, met: false });
  });

  it('slope: least squares, bytes per flow', () => {
    expect(slope([mem(0, 100), mem(10, 200), mem(20, 300)])).toBe(10);
    expect(slope([mem(0, 100)])).toBeNull();
  });

  it('the text names every figure with its verdict', () => {
    const t = webText(facts(), webResult(facts()));
    expect(t).toMatch(/kiosk bundle: 17\.0 kB gzipped .* target ≤ 150 kB: met/);
    expect(t).toMatch(/page − driver: 20\.0 ms .* target ≤ 50 ms: met/);
    expect(t).toMatch(/JS heap .* no growth|no growth/);
  });
});
