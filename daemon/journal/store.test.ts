import { chmodSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import { ACTIVATION_ITEM, CARD, PIN_ITEM, T0, expectCode, openTestJournal, tempJournalDir } from '../../testing/journal.js';
import { Journal } from './journal.js';
import type { JournalOptions } from './journal.js';
import { LATEST_SCHEMA_VERSION } from './schema.js';
import type { BeginInput } from './types.js';

const BEGIN: BeginInput = { serviceItem: PIN_ITEM, kind: 'change', role: 'self-service', card: CARD, materials: ['social-security-card'] };

let dir: string;
let t: number;
const open = (extra: Partial<JournalOptions> = {}): Journal => openTestJournal(dir, () => t, extra);

beforeEach(() => {
  dir = tempJournalDir();
  t = T0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('JournalStore: opening', () => {
  it('creates the key file 0600 and the database in WAL mode with synchronous=FULL', () => {
    const j = open();
    expect(statSync(path.join(dir, 'journal.key')).mode & 0o777).toBe(0o600);
    j.close();
    const db = new Database(path.join(dir, 'journal.sqlite'));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT max(version) AS v FROM schema_version').get()).toEqual({ v: 3 });
    expect(LATEST_SCHEMA_VERSION).toBe(3);
    db.close();
  });


  it('refuses a corrupt file, naming the path and the next step', () => {
    const file = path.join(dir, 'journal.sqlite');
    writeFileSync(file, Buffer.alloc(8192, 0x5a));
    try {
      open();
      expect.fail('opened a corrupt file');
    } catch (err) {
      expect(isSsCardError(err, ErrorCode.Journal_Corrupt)).toBe(true);
      expect((err as Error).message).toContain(file);
      expect((err as Error).message).toContain('.recover');
    }
  });

  it('refuses a file with a damaged page (quick_check)', () => {
    const j = open();
    j.transaction(() => {
      for (let i = 0; i < 300; i++) j.recordRefusal({ serviceItem: ACTIVATION_ITEM, kind: 'activate', role: 'window', reason: 'materials-missing', missing: ['resident-id-card'] });
    });
    j.close();
    const file = path.join(dir, 'journal.sqlite');
    const bytes = readFileSync(file);
    // Scribble over every b-tree page header after page 1 (the file header stays intact).
    for (let p = 1; p * 4096 < bytes.length; p++) bytes.fill(0x07, p * 4096, p * 4096 + 12);
    writeFileSync(file, bytes);
    expectCode(() => open(), ErrorCode.Journal_Corrupt);
  });

  /** Turn a current file into exactly what sscard with schema `version` left behind. */
  const downgrade = (file: string, version: 1 | 2): void => {
    const db = new Database(file);
    db.exec('DROP TABLE audit');
    if (version < 2) db.exec('DROP TABLE bank_requests');
    db.prepare('DELETE FROM schema_version WHERE version > ?').run(version);
    db.close();
  };
  const tables = (file: string): string[] => {
    const db = new Database(file, { readonly: true });
    const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    db.close();
    return names;
  };
  const versions = (file: string): number[] => {
    const db = new Database(file, { readonly: true });
    const v = (db.prepare('SELECT version FROM schema_version ORDER BY version').all() as { version: number }[]).map((r) => r.version);
    db.close();
    return v;
  };

  it('upgrades a schema-1 file in place: rows kept, bank_requests and audit added, version 3; a read-only open of it is refused', () => {
    const file = path.join(dir, 'journal.sqlite');
    let j = open();
    const id = j.beginOperation(BEGIN);
    j.completeOperation(id, { outcome: 'ok', lastSw: 0x9000 });
    j.close();
    downgrade(file, 1);
    expect(tables(file)).toEqual(['hotlist', 'meta', 'operations', 'schema_version']);
    expect(versions(file)).toEqual([1]);
    expectCode(() => Journal.open({ path: file, readOnly: true }), ErrorCode.Journal_OpenFailed);

    j = open();
    expect(j.stats()).toMatchObject({ schemaVersion: LATEST_SCHEMA_VERSION, total: 1, bankRequests: { pending: 0, sent: 0 }, auditCount: 0 });
    expect(j.get(id)).toMatchObject({ state: 'completed', outcome: 'ok', lastSw: 0x9000 });
    expect(j.reveal(id)).toEqual(CARD);
    const a = j.recordAudit({ kind: 'operator-login', operatorId: 'op-7' });
    expect(j.audit().map((r) => r.id)).toEqual([a]);
    j.close();
    expect(versions(file)).toEqual([1, 2, 3]);
    expect(tables(file)).toEqual(['audit', 'bank_requests', 'hotlist', 'meta', 'operations', 'schema_version']);
  });

  it('upgrades a schema-2 file in place: operations and bank requests kept, audit added, version 3; a read-only open of it is refused', () => {
    const file = path.join(dir, 'journal.sqlite');
    let j = open();
    const op = j.beginOperation({ serviceItem: ACTIVATION_ITEM, kind: 'activate', role: 'financial-window', operatorId: 'op-7', card: CARD });
    j.completeOperation(op, { outcome: 'ok' });
    const req = j.recordBankRequest({ operationId: op, card: CARD, operatorId: 'op-7' });
    j.close();
    downgrade(file, 2);
    expect(tables(file)).toEqual(['bank_requests', 'hotlist', 'meta', 'operations', 'schema_version']);
    expect(versions(file)).toEqual([1, 2]);
    expectCode(() => Journal.open({ path: file, readOnly: true }), ErrorCode.Journal_OpenFailed);

    j = open();
    expect(j.stats()).toMatchObject({ schemaVersion: 3, total: 1, bankRequests: { pending: 1, sent: 0 }, auditCount: 0 });
    expect(j.getBankRequest(req)).toMatchObject({ operationId: op, status: 'pending', operatorId: 'op-7' });
    expect(j.revealBankRequest(req)).toEqual(CARD);
    const a = j.recordAudit({ kind: 'privileged-call', operatorId: 'op-7', command: 'SSCard.Activate', requestId: 3, outcome: 'success' });
    expect(j.audit()).toMatchObject([{ id: a, kind: 'privileged-call', operatorId: 'op-7' }]);
    j.close();
    expect(versions(file)).toEqual([1, 2, 3]);
    expect(tables(file)).toContain('audit');
    // Upgraded once: opening again (and read-only) changes nothing.
    const ro = Journal.open({ path: file, readOnly: true });
    expect(ro.audit().map((r) => r.id)).toEqual([a]);
    ro.close();
    expect(versions(file)).toEqual([1, 2, 3]);
  });

  it('refuses a schema from a newer sscard', () => {
    open().close();
    const db = new Database(path.join(dir, 'journal.sqlite'));
    db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (99, 0)').run();
    db.close();
    expectCode(() => open(), ErrorCode.Journal_SchemaTooNew);
  });

  it('refuses a key file other users can read, and a key that is not this journal\'s', () => {
    open().close();
    chmodSync(path.join(dir, 'journal.key'), 0o644);
    expectCode(() => open(), ErrorCode.Journal_KeyFile);
    chmodSync(path.join(dir, 'journal.key'), 0o600);
    expectCode(() => open({ keyFile: path.join(dir, 'other.key') }), ErrorCode.Journal_KeyMismatch);
  });

  it('read-only opening never creates a file', () => {
    expectCode(() => Journal.open({ path: path.join(dir, 'nope.sqlite'), readOnly: true }), ErrorCode.Journal_OpenFailed);
  });
});
