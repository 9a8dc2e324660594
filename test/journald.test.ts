/**
 * The daemon's log in a real systemd-journald (README "Logs"; daemon/log/journald.ts): `sscardd`
 * runs as systemd runs it — stdout and stderr on the journal's stream, JOURNAL_STREAM naming it —
 * under a journald of its own in a private mount namespace (test/helpers/journald-ns.sh), so the
 * machine's journal is not touched. Its entries must arrive through the native protocol with their
 * priority and fields, so that an operator filters with `journalctl SSCARD_COMPONENT=PCSC` or
 * `-p warning` instead of parsing text. The daemon runs with no PC/SC service (/run is private),
 * which gives warnings and an error besides the info lines.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const JOURNALD = '/lib/systemd/systemd-journald';

type Entry = Record<string, string | undefined>;
let entries: Entry[] = [];
const dir = mkdtempSync(path.join(tmpdir(), 'sscard-journald-e2e-'));

function need(): void {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (a private mount namespace for the journal)');
  if (!existsSync(JOURNALD)) missing.push(JOURNALD);
  for (const tool of ['unshare', 'journalctl', 'systemd-cat']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) missing.push(tool);
  }
  if (missing.length > 0) throw new Error(`needs ${missing.join(', ')}: run ./scripts/setup.sh (it installs systemd) as root`);
}

beforeAll(() => {
  need();
  const config = {
    terminalId: 'E2E-JOURNALD',
    simulate: 'off',
    readers: { card: 'No Such Reader' },
    api: { port: 0 },
    journal: { path: 'journal.db', keyFile: 'journal.key' },
    log: { level: 'info', file: null, console: true },
  };
  const configFile = path.join(dir, 'sscard.json');
  writeFileSync(configFile, JSON.stringify(config));
  const out = path.join(dir, 'journal.json');
  const r = spawnSync(
    'unshare',
    ['--mount', '--propagation', 'private', 'bash', path.join(ROOT, 'test', 'helpers', 'journald-ns.sh'), out, '--', process.execPath, '--import', 'tsx', path.join(ROOT, 'scripts', 'sscardd.ts'), '--config', configFile],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
  );
  if (r.status !== 0) throw new Error(`journald-ns.sh failed (${String(r.status ?? r.signal)}):\n${r.stdout}\n${r.stderr}`);
  entries = readFileSync(out, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Entry);
}, 90_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sscardd under systemd-journald', () => {
  it('says in its first entry that it logs in the native protocol, with fields', () => {
    const first = entries.find((e) => e['_TRANSPORT'] === 'journal');
    expect(first?.['MESSAGE']).toMatch(/^DAEMON starting /);
    expect(first).toMatchObject({ PRIORITY: '6', SYSLOG_IDENTIFIER: 'sscardd', SSCARD_COMPONENT: 'DAEMON', SSCARD_CONSOLE: 'journald (native protocol, with fields)', SSCARD_TERMINAL_ID: 'E2E-JOURNALD', SSCARD_NODE: process.version });
  });

  it('every log entry arrives natively with its priority and component, from starting to stopped', () => {
    const logged = entries.filter((e) => e['SSCARD_COMPONENT'] !== undefined);
    expect(logged.length).toBeGreaterThan(5);
    for (const e of logged) {
      expect(e['_TRANSPORT'], e['MESSAGE']).toBe('journal');
      expect(['3', '4', '6', '7']).toContain(e['PRIORITY']);
      expect(e['MESSAGE']!.startsWith(e['SSCARD_COMPONENT']!)).toBe(true);
    }
    const messages = logged.map((e) => e['MESSAGE']!);
    expect(messages[0]).toMatch(/^DAEMON starting/);
    expect(messages.at(-1)).toMatch(/^DAEMON stopped/);
    expect(messages.some((m) => m.startsWith('DAEMON stopping {"reason":"SIGTERM"'))).toBe(true);
  });

  it('warnings and errors carry their priority and the metadata as fields (PC/SC down: its code, then the error)', () => {
    const pcsc = entries.filter((e) => e['SSCARD_COMPONENT'] === 'PCSC');
    const warn = pcsc.find((e) => e['PRIORITY'] === '4');
    expect(warn?.['MESSAGE']).toMatch(/^PCSC {3}PC\/SC service down; retrying \{/);
    expect(warn?.['SSCARD_CODE']).toMatch(/^\d+$/);
    expect(pcsc.some((e) => e['PRIORITY'] === '3')).toBe(true);
    const listening = entries.find((e) => e['SSCARD_COMPONENT'] === 'API' && /API listening/.test(e['MESSAGE'] ?? ''));
    expect(listening).toMatchObject({ PRIORITY: '6', SSCARD_ADDRESS: '127.0.0.1', SSCARD_TLS: 'false' });
    expect(Number(listening?.['SSCARD_PORT'])).toBeGreaterThan(0);
  });

  it('what is printed rather than logged (the "daemon running" line) still arrives, on the stream', () => {
    const running = entries.find((e) => /daemon running/.test(e['MESSAGE'] ?? ''));
    expect(running?.['_TRANSPORT']).toBe('stdout');
    expect(running?.['SSCARD_COMPONENT']).toBeUndefined();
  });
});
