/**
 * bench:fuzz's report (docs/benchmarks.md, "bench:fuzz"): the --json result and its text form.
 */
import os from 'node:os';
import { countTable, megabytes } from '../report.js';
import { r1 } from '../stats.js';
import type { Checks } from './checks.js';
import type { FuzzReport } from './report.js';
import type { logLines } from './traces.js';

const mb = (kb: number | undefined): number | null => (kb === undefined ? null : megabytes(kb));

/** What a run found: the makings of the report. */
export interface FuzzFacts {
  readonly seed: number;
  readonly logLevel: string;
  readonly scryptN: number;
  /** Options given to the daemon's Node.js (--daemon-node-arg). */
  readonly daemonNodeArgs: readonly string[];
  readonly report: FuzzReport;
  /** The daemon's RSS before the traffic, after it, and its highest. */
  readonly rssKb: { readonly idle: number | undefined; readonly after: number | undefined; readonly max: number };
  readonly timeline: readonly { messages: number; rssMB: number | null; seconds: number }[];
  readonly logBytesWritten: number;
  readonly logLines: ReturnType<typeof logLines>;
  readonly auditRows: { readonly before: number | null; readonly after: number | null };
  readonly checks: Checks;
  readonly failures: readonly string[];
}

export type FuzzResult = ReturnType<typeof fuzzResult>;

/** The --json result. */
export function fuzzResult(f: FuzzFacts) {
  const refusals = Object.values(f.report.refusals).reduce((a, b) => a + b, 0);
  const channels: Record<string, number> = {};
  for (const [k, v] of Object.entries(f.report.sent)) {
    const ch = k.startsWith('ws touchKey') ? 'touch keys' : k.startsWith('ws ') ? 'WebSocket frames' : k.startsWith('http ') ? 'HTTP requests' : 'upgrades';
    channels[ch] = (channels[ch] ?? 0) + v;
  }
  const result = {
    benchmark: 'fuzz',
    seed: f.seed,
    node: process.version,
    cpus: os.cpus().length,
    logLevel: f.logLevel,
    scryptN: f.scryptN,
    daemonNodeArgs: f.daemonNodeArgs,
    messages: f.report.messages,
    bytesSent: f.report.bytesSent,
    durationS: r1(f.report.durationMs / 1000),
    messagesPerSecond: Math.round(f.report.messages / (f.report.durationMs / 1000)),
    acceptedCommands: f.report.acceptedCommands,
    connectionsOpened: f.report.connectionsOpened,
    refusalsTotal: refusals,
    channels,
    rss: { idleMB: mb(f.rssKb.idle), afterMB: mb(f.rssKb.after), maxMB: mb(f.rssKb.max), timeline: f.timeline },
    log: { bytesWritten: f.logBytesWritten, lines: f.logLines.lines, bytesPerMessage: r1((f.logBytesWritten) / f.report.messages), top: f.logLines.byMessage.slice(0, 12) },
    auditRowsWritten: f.auditRows.before === null || f.auditRows.after === null ? null : f.auditRows.after - f.auditRows.before,
    checks: f.checks,
    failures: f.failures,
    report: f.report,
  };
  return result;
}

/** The text report. */
export function fuzzText(result: FuzzResult): string {
  const out = [
    `bench:fuzz — seed ${result.seed}, ${result.report.messages} messages (${(result.report.bytesSent / 1e6).toFixed(1)} MB) in ${result.durationS} s (${result.messagesPerSecond}/s); node ${result.node}, ${result.cpus} CPUs; daemon log at ${result.logLevel}; operator hash scrypt N = ${result.scryptN}${result.daemonNodeArgs.length > 0 ? `; daemon node ${result.daemonNodeArgs.join(' ')}` : ''}`,
    `  commands accepted ${result.report.acceptedCommands}, WebSocket connections opened ${result.report.connectionsOpened}, frames lost to a close ${result.report.framesLostToClose}, digits the keypad model replaced ${result.report.keysReplaced}`,
    '',
    `daemon RSS: idle ${result.rss.idleMB} MB → after ${result.rss.afterMB} MB; highest ${result.rss.maxMB} MB`,
    `  timeline (messages: MB): ${result.rss.timeline.map((t) => `${t.messages / 1000}k: ${t.rssMB}`).join(', ')}`,
    `log: ${result.log.bytesWritten} bytes written, ${result.log.lines} lines (${result.log.bytesPerMessage} bytes per message); audit rows written ${result.auditRowsWritten ?? '?'}`,
    ...result.log.top.map((m) => `    ${String(m.lines).padStart(7)} lines ${String(m.bytes).padStart(10)} bytes  ${m.what}`),
    '',
    `messages sent, by kind (${Object.entries(result.channels).map(([k, v]) => `${k} ${v}`).join(', ')}):`,
    countTable(result.report.sent, 80),
    '',
    `refusals, by kind (${result.refusalsTotal} in all):`,
    countTable(result.report.refusals),
    '',
    'answers that are not refusals:',
    countTable(Object.fromEntries(Object.entries(result.report.answers).filter(([k]) => result.report.refusals[k] === undefined))),
    '',
    'vendor calls, by function and answer:',
    countTable(result.report.vendor),
    '',
    `afterwards: alive ${result.checks.alive}; /health ${result.checks.health.status} ready ${String(result.checks.health.ready)}; card free after ${result.checks.cardBusyAfterMs ?? '—'} ms; tries ${JSON.stringify(result.checks.triesLeft)}; ReadBasic ${result.checks.readBasic.completionCode} (holder ${result.checks.readBasic.holderMatches ? 'matches' : 'DOES NOT match'}, tries ${JSON.stringify(result.checks.readBasic.triesLeft)}); VerifyPin ${result.checks.verifyPin.completionCode} ${JSON.stringify(result.checks.verifyPin.result)}`,
    `anomalies: ${result.report.anomalies.count}${result.report.anomalies.count > 0 ? `\n${result.report.anomalies.examples.map((e) => `    ${e}`).join('\n')}` : ''}`,
    result.failures.length === 0 ? 'no failure' : `FAILURES:\n${result.failures.map((f) => `    ${f}`).join('\n')}`,
    '',
  ];
  return out.join('\n');
}
