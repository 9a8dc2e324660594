import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import { Journal } from '../daemon/journal/journal.js';
import { auditCommand, csvField, journalPaths, register } from './cmd-journal.js';

describe('journal export CSV', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['=cmd()', "'=cmd()"],
    ['-1+1', "'-1+1"],
    [null, ''],
    [42, '42'],
  ])('%j → %s', (input, out) => {
    expect(csvField(input)).toBe(out);
  });
});

describe('journalPaths', () => {
  it('puts the key beside the journal unless told otherwise', () => {
    expect(journalPaths({ db: '/srv/sscard/journal.sqlite' })).toEqual({ db: '/srv/sscard/journal.sqlite', key: '/srv/sscard/journal.key' });
    expect(journalPaths({ db: '/a/j.sqlite', key: '/b/k' })).toEqual({ db: '/a/j.sqlite', key: '/b/k' });
  });
});

describe('sscard journal audit', () => {
  let dir: string;
  let db: string;
  let out: string[];
  let t: number;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sscard-cmd-journal-'));
    db = path.join(dir, 'journal.sqlite');
    t = Date.UTC(2025, 0, 2, 9, 0, 0);
    const j = Journal.open({ path: db, keyFile: path.join(dir, 'journal.key'), terminalId: 'T-0001', now: () => t });
    j.recordAudit({ kind: 'operator-login', operatorId: 'op-1' });
    t += 1000;
    j.recordAudit({ kind: 'privileged-call', operatorId: 'op-1', command: 'SSCard.UnblockPin', requestId: 7, outcome: 'commandErrorCode:unblock.ok' });
    t += 1000;
    j.recordAudit({ kind: 'privileged-call', operatorId: '', command: 'POST /sscard/iUnblockPIN', outcome: '-24:auth.required' });
    t += 1000;
    j.recordAudit({ kind: 'operator-login-failed', operatorId: 'op-2' });
    j.close();
    out = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const json = (): { audit: Record<string, unknown>[] } => JSON.parse(out.join('')) as { audit: Record<string, unknown>[] };

  it('--json: every entry newest first, times as ISO, no card or secret fields', () => {
    expect(auditCommand({ db, json: true })).toBe(0);
    const rows = json().audit;
    expect(rows.map((r) => r.kind)).toEqual(['operator-login-failed', 'privileged-call', 'privileged-call', 'operator-login']);
    expect(rows[2]).toEqual({
      seq: 2,
      id: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
      at: '2025-01-02T09:00:01.000Z',
      terminalId: 'T-0001',
      operatorId: 'op-1',
      kind: 'privileged-call',
      command: 'SSCard.UnblockPin',
      requestId: 7,
      outcome: 'commandErrorCode:unblock.ok',
    });
  });

  it('--operator and --limit filter; --operator \'\' lists the calls refused with no operator', () => {
    auditCommand({ db, json: true, operator: 'op-1' });
    expect(json().audit.map((r) => r.command)).toEqual(['SSCard.UnblockPin', null]);
    out = [];
    auditCommand({ db, json: true, operator: 'op-1', limit: '1' });
    expect(json().audit.map((r) => r.command)).toEqual(['SSCard.UnblockPin']);
    out = [];
    auditCommand({ db, json: true, operator: '' });
    expect(json().audit).toMatchObject([{ operatorId: '', command: 'POST /sscard/iUnblockPIN', requestId: null, outcome: '-24:auth.required' }]);
    out = [];
    auditCommand({ db, json: true, operator: 'nobody' });
    expect(json().audit).toEqual([]);
  });

  it('prints one line per entry as text, and says so when there is none', () => {
    expect(auditCommand({ db })).toBe(0);
    const lines = out.join('').trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^2025-01-02T09:00:03\.000Z {2}operator-login-failed +op-2$/);
    expect(lines[1]).toMatch(/^2025-01-02T09:00:02\.000Z {2}privileged-call +- +POST \/sscard\/iUnblockPIN +-24:auth\.required$/);
    expect(lines[2]).toMatch(/privileged-call +op-1 +SSCard\.UnblockPin +#7 +commandErrorCode:unblock\.ok$/);
    out = [];
    auditCommand({ db, operator: 'op-9' });
    expect(out.join('')).toBe('没有审计记录 / no audit entries\n');
  });

  it('refuses a bad --limit or --operator before opening anything', () => {
    for (const o of [{ limit: '0' }, { limit: 'ten' }, { limit: '1.5' }, { operator: 'op 1' }, { operator: '-x' }]) {
      try {
        auditCommand({ db: path.join(dir, 'missing.sqlite'), ...o });
        expect.fail(`accepted ${JSON.stringify(o)}`);
      } catch (err) {
        expect(isSsCardError(err, ErrorCode.Input_BadOption), String(err)).toBe(true);
      }
    }
  });

  it('opens the journal read-only: the file is unchanged, and a schema-2 file is refused with the next step', () => {
    const before = readFileSync(db);
    auditCommand({ db, json: true });
    expect(readFileSync(db).equals(before)).toBe(true);

    const d = new Database(db);
    d.exec('DROP TABLE audit');
    d.prepare('DELETE FROM schema_version WHERE version > 2').run();
    d.close();
    try {
      auditCommand({ db });
      expect.fail('read a schema-2 file');
    } catch (err) {
      expect(isSsCardError(err, ErrorCode.Journal_OpenFailed)).toBe(true);
      expect((err as Error).message).toMatch(/start the daemon once/);
    }
  });

  it('is registered as `sscard journal audit [--operator ID] [--limit N] [--json]`', async () => {
    const program = new Command().exitOverride();
    register(program);
    await program.parseAsync(['journal', 'audit', '--db', db, '--operator', 'op-1', '--limit', '1', '--json'], { from: 'user' });
    expect(process.exitCode).toBe(0);
    expect(json().audit).toMatchObject([{ operatorId: 'op-1', command: 'SSCard.UnblockPin', requestId: 7 }]);
  });
});
