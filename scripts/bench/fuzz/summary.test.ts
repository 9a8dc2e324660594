/**
 * bench:fuzz's report (summary.ts) on made-up figures: the --json shape docs/benchmarks.md
 * describes, the messages by channel, and the failures in the text.
 */
import { describe, expect, it } from 'vitest';
import type { FuzzReport } from './report.js';
import { fuzzResult, fuzzText } from './summary.js';
import type { FuzzFacts } from './summary.js';

const report: FuzzReport = {
  seed: 7,
  messages: 1000,
  bytesSent: 2_500_000,
  durationMs: 4000,
  sent: { 'ws wrongTypes': 500, 'ws touchKey digit': 100, 'http originNull': 300, 'upgrade token': 100 },
  answers: { 'http 403': 300, 'ws completion success': 20 },
  refusals: { 'http 403': 300 },
  completions: {},
  acceptedCommands: 20,
  connectionsOpened: 110,
  poolConnections: 10,
  vendor: {},
  framesLostToClose: 0,
  keysReplaced: 3,
  anomalies: { count: 0, byKind: {}, examples: [] },
};

const facts = (failures: string[]): FuzzFacts => ({
  seed: 7,
  logLevel: 'info',
  scryptN: 1024,
  daemonNodeArgs: [],
  report,
  rssKb: { idle: 80 * 1024, after: 90 * 1024, max: 100 * 1024 },
  timeline: [],
  logBytesWritten: 5000,
  logLines: { lines: 10, byMessage: [{ what: 'API warn refused', lines: 10, bytes: 5000 }] },
  auditRows: { before: 1, after: 4 },
  checks: { alive: true, health: { status: 200, ready: true, reasons: [] }, readBasic: { completionCode: 'success', holderMatches: true, triesLeft: 6 }, cardBusyAfterMs: 0, triesLeft: 6, verifyPin: { completionCode: 'success', result: { code: 'verify.ok', triesLeft: 6 } } },
  failures,
});

describe('bench:fuzz report', () => {
  it('has the --json shape of docs/benchmarks.md and sums the messages by channel', () => {
    const r = fuzzResult(facts([]));
    expect(Object.keys(r)).toEqual(['benchmark', 'seed', 'node', 'cpus', 'logLevel', 'scryptN', 'daemonNodeArgs', 'messages', 'bytesSent', 'durationS', 'messagesPerSecond', 'acceptedCommands', 'connectionsOpened', 'refusalsTotal', 'channels', 'rss', 'log', 'auditRowsWritten', 'checks', 'failures', 'report']);
    expect(r.channels).toEqual({ 'WebSocket frames': 500, 'touch keys': 100, 'HTTP requests': 300, upgrades: 100 });
    expect(r.rss).toEqual({ idleMB: 80, afterMB: 90, maxMB: 100, timeline: [] });
    expect(r.log).toEqual({ bytesWritten: 5000, lines: 10, bytesPerMessage: 5, top: [{ what: 'API warn refused', lines: 10, bytes: 5000 }] });
    expect([r.messagesPerSecond, r.durationS, r.refusalsTotal, r.auditRowsWritten]).toEqual([250, 4, 300, 3]);
    expect(fuzzText(r)).toContain('\nno failure\n');
  });

  it('prints every failure', () => {
    const text = fuzzText(fuzzResult(facts(['the daemon exited (SIGSEGV)'])));
    expect(text).toContain('FAILURES:\n    the daemon exited (SIGSEGV)\n');
    expect(text).toContain('refusals, by kind (300 in all):\n        300  http 403\n');
  });
});
