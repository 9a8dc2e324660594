/**
 * What the traffic left in the daemon's files (traces.ts): the log's growth and its lines by what
 * they say, and the journal's audit rows.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { auditRows, logBytes, logLines } from './traces.js';

describe('traces', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('counts the log from a byte on, by component, level and message with numbers and client ids folded', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sscard-bench-traces-'));
    const logDir = path.join(dir, 'log');
    expect(logBytes(logDir)).toBe(0);
    mkdirSync(logDir);
    const file = path.join(logDir, 'sscard.log');
    writeFileSync(file, '{"component":"API","level":"info","message":"before"}\n');
    const from = logBytes(logDir);
    const l1 = '{"component":"API","level":"warn","message":"client c12 refused 3 times"}';
    const l2 = '{"component":"API","level":"warn","message":"client c7 refused 41 times"}';
    appendFileSync(file, `${l1}\n${l2}\n{"component":"APDU","level":"debug","message":"00A4"}\nnot json\n`);
    const r = logLines(file, from);
    expect(r.lines).toBe(4);
    expect(r.byMessage[0]).toEqual({ what: 'API warn client cN refused N times', lines: 2, bytes: Buffer.byteLength(l1) + Buffer.byteLength(l2) + 2 });
    expect(r.byMessage.map((m) => m.what).sort()).toEqual(['(not JSON)', 'APDU debug (APDU trace)', 'API warn client cN refused N times']);
  });

  it('auditRows counts the audit table, null when there is no journal', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sscard-bench-traces-'));
    const journal = path.join(dir, 'journal.db');
    expect(auditRows(journal)).toBeNull();
    const db = new Database(journal);
    db.exec('CREATE TABLE audit (id INTEGER PRIMARY KEY); INSERT INTO audit DEFAULT VALUES; INSERT INTO audit DEFAULT VALUES;');
    db.close();
    expect(auditRows(journal)).toBe(2);
  });
});
