import { chmodSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import { ACTIVATION_ITEM, BEGIN, CARD, OTHER, PIN_ITEM, expectCode, journalHarness } from '../../testing/journal.js';
import { assertSsCardError } from '../../testing/util.js';
import { Journal } from './journal.js';
import { LATEST_SCHEMA_VERSION, MATERIAL_BEFORE_SCHEMA_4, MIGRATIONS, ROLE_BEFORE_SCHEMA_4 } from './schema.js';

const h = journalHarness();
const open = h.open;

describe('JournalStore: opening', () => {
  it('creates the key file 0600 and the database in WAL mode with synchronous=FULL', () => {
    const j = open();
    expect(statSync(path.join(h.dir, 'journal.key')).mode & 0o777).toBe(0o600);
    j.close();
    const db = new Database(path.join(h.dir, 'journal.sqlite'));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT max(version) AS v FROM schema_version').get()).toEqual({ v: 7 });
    expect(LATEST_SCHEMA_VERSION).toBe(7);
    db.close();
  });


  it('refuses a corrupt file, naming the path and the next step', () => {
    const file = path.join(h.dir, 'journal.sqlite');
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
      for (let i = 0; i < 300; i++) j.recordRefusal({ serviceItem: ACTIVATION_ITEM, kind: 'activate', role: 'counter', reason: 'materials-missing', missing: ['residentIdCard'] });
    });
    j.close();
    const file = path.join(h.dir, 'journal.sqlite');
    const bytes = readFileSync(file);
    // Scribble over every b-tree page header after page 1 (the file header stays intact).
    for (let p = 1; p * 4096 < bytes.length; p++) bytes.fill(0x07, p * 4096, p * 4096 + 12);
    writeFileSync(file, bytes);
    expectCode(() => open(), ErrorCode.Journal_Corrupt);
  });

  /**
   * Turn a current file (closed) into exactly what sscard with schema `version` left behind: that
   * schema's tables (its migrations, run as they were), every row copied — operations in the words
   * schemas 1 to 3 stored (the inverse of ROLE_ / MATERIAL_BEFORE_SCHEMA_4) — and the AUTOINCREMENT
   * counters as they were.
   */
  const asWrittenBySchema = (file: string, version: 1 | 2 | 3): void => {
    const old = `${file}.old`;
    const db = new Database(old);
    db.exec('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    for (const m of MIGRATIONS.filter((x) => x.version <= version)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, 0)').run(m.version);
    }
    db.prepare('ATTACH ? AS cur').run(file);
    const role = `CASE role ${Object.entries(ROLE_BEFORE_SCHEMA_4).map(([w, house]) => `WHEN '${house}' THEN '${w}'`).join(' ')} END`;
    const words = (col: string): string => Object.entries(MATERIAL_BEFORE_SCHEMA_4).reduce((e, [w, house]) => `replace(${e}, '"${house}"', '"${w}"')`, col);
    db.exec(`INSERT INTO operations (${OPERATION_COLUMNS.join(', ')})
      SELECT ${OPERATION_COLUMNS.map((c) => (c === 'role' ? role : c === 'materials' || c === 'missing' ? words(c) : c)).join(', ')} FROM cur.operations ORDER BY seq`);
    db.exec('INSERT INTO meta SELECT * FROM cur.meta; INSERT INTO hotlist SELECT * FROM cur.hotlist');
    if (version >= 2) db.exec('INSERT INTO bank_requests SELECT * FROM cur.bank_requests');
    if (version >= 3) db.exec('INSERT INTO audit SELECT * FROM cur.audit');
    db.exec('DELETE FROM sqlite_sequence; INSERT INTO sqlite_sequence SELECT * FROM cur.sqlite_sequence WHERE name IN (SELECT name FROM sqlite_master)');
    db.exec('DETACH cur');
    db.close();
    for (const f of [`${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    renameSync(old, file);
  };
  const OPERATION_COLUMNS = [
    'seq', 'id', 'terminal_id', 'operator_id', 'service_item', 'kind', 'role', 'state', 'outcome', 'reason', 'last_sw', 'tries_left', 'card_state',
    'materials', 'missing', 'started_at', 'finished_at', 'sync_state', 'synced_at', 'reconciles', 'card_hash', 'person_hash', 'card_masked', 'identity', 'key_id',
  ];
  /** Every row of every table but schema_version, and the AUTOINCREMENT counters. */
  const dump = (file: string): Record<string, unknown[]> => {
    const db = new Database(file, { readonly: true });
    const out: Record<string, unknown[]> = {};
    for (const table of ['operations', 'bank_requests', 'audit', 'hotlist', 'meta', 'sqlite_sequence']) out[table] = db.prepare(`SELECT * FROM ${table} ORDER BY 1`).all();
    db.close();
    return out;
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

  it('upgrades a schema-1 file in place: rows kept, bank_requests and audit added, version 7; a read-only open of it is refused', () => {
    const file = path.join(h.dir, 'journal.sqlite');
    let j = open();
    const id = j.beginOperation(BEGIN);
    j.completeOperation(id, { outcome: 'ok', lastSw: 0x9000 });
    j.close();
    asWrittenBySchema(file, 1);
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
    expect(versions(file)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(tables(file)).toEqual(['audit', 'bank_requests', 'hotlist', 'meta', 'operations', 'operations_count', 'schema_version']);
  });

  it('upgrades a schema-2 file in place: operations and bank requests kept, audit added, version 7; a read-only open of it is refused', () => {
    const file = path.join(h.dir, 'journal.sqlite');
    let j = open();
    const op = j.beginOperation({ serviceItem: ACTIVATION_ITEM, kind: 'activate', role: 'financial-counter', operatorId: 'op-7', card: CARD });
    j.completeOperation(op, { outcome: 'ok' });
    const req = j.recordBankRequest({ operationId: op, card: CARD, operatorId: 'op-7' });
    j.close();
    asWrittenBySchema(file, 2);
    expect(tables(file)).toEqual(['bank_requests', 'hotlist', 'meta', 'operations', 'schema_version']);
    expect(versions(file)).toEqual([1, 2]);
    expectCode(() => Journal.open({ path: file, readOnly: true }), ErrorCode.Journal_OpenFailed);

    j = open();
    expect(j.stats()).toMatchObject({ schemaVersion: 7, total: 1, bankRequests: { pending: 1, sent: 0 }, auditCount: 0 });
    expect(j.getBankRequest(req)).toMatchObject({ operationId: op, status: 'pending', operatorId: 'op-7' });
    expect(j.revealBankRequest(req)).toEqual(CARD);
    const a = j.recordAudit({ kind: 'privileged-call', operatorId: 'op-7', command: 'SSCard.Activate', requestId: 3, outcome: 'success' });
    expect(j.audit()).toMatchObject([{ id: a, kind: 'privileged-call', operatorId: 'op-7' }]);
    j.close();
    expect(versions(file)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(tables(file)).toContain('audit');
    // Upgraded once: opening again (and read-only) changes nothing.
    const ro = Journal.open({ path: file, readOnly: true });
    expect(ro.audit().map((r) => r.id)).toEqual([a]);
    ro.close();
    expect(versions(file)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('upgrades a schema-3 file written in the old words: roles and materials in the house’s words afterwards, nothing else changed', () => {
    const file = path.join(h.dir, 'journal.sqlite');
    let j = open();
    const kiosk = j.beginOperation(BEGIN);
    j.completeOperation(kiosk, { outcome: 'ok', lastSw: 0x9000, triesLeft: 6 });
    const refusal = j.recordRefusal({ serviceItem: PIN_ITEM, kind: 'reset', role: 'counter', operatorId: 'op-1', materials: ['socialSecurityCard'], missing: ['residentIdCard'], reason: 'materials-missing' });
    const activation = j.beginOperation({ serviceItem: ACTIVATION_ITEM, kind: 'activate', role: 'financial-counter', operatorId: 'op-7', card: CARD, materials: ['socialSecurityCard', 'residentIdCard'] });
    j.completeOperation(activation, { outcome: 'ok' });
    const bank = j.recordBankRequest({ operationId: activation, card: CARD, operatorId: 'op-7' });
    const cut = j.beginOperation({ ...BEGIN, card: OTHER });
    j.markSynced([kiosk]);
    j.recordAudit({ kind: 'operator-login', operatorId: 'op-7' });
    j.applyHotlist({ version: '7', full: true, add: ['410402D156000005BBBBBBBBBBBBBBBB'], remove: [] });
    j.close();
    j = open();
    j.markInterrupted();
    const reconciled = j.reconcile(cut, { outcome: 'unknown', cardState: 'active', triesLeft: 6 });
    const last = j.recordRefusal({ serviceItem: PIN_ITEM, kind: 'verify', role: 'kiosk', reason: 'role-not-allowed' });
    j.close();
    asWrittenBySchema(file, 3);
    // The counter must survive too: the newest row is gone, its seq is never given again.
    let db = new Database(file);
    db.prepare('DELETE FROM operations WHERE id = ?').run(last);
    db.close();

    const before = dump(file);
    expect((before.operations as { role: string; materials: string; missing: string }[]).map((r) => [r.role, r.materials, r.missing])).toEqual([
      ['self-service', '["social-security-card"]', '[]'],
      ['window', '["social-security-card"]', '["resident-id-card"]'],
      ['financial-window', '["social-security-card","resident-id-card"]', '[]'],
      ['self-service', '["social-security-card"]', '[]'],
      ['self-service', '["social-security-card"]', '[]'],
    ]);
    const counter = (before.sqlite_sequence as { name: string; seq: number }[]).find((r) => r.name === 'operations')!.seq;
    expect(counter).toBe(6);
    expect(versions(file)).toEqual([1, 2, 3]);

    j = open();
    expect(j.get(kiosk)).toMatchObject({ role: 'kiosk', materials: ['socialSecurityCard'], missing: [], syncState: 'synced', lastSw: 0x9000 });
    expect(j.get(refusal)).toMatchObject({ role: 'counter', materials: ['socialSecurityCard'], missing: ['residentIdCard'], outcome: 'refused' });
    expect(j.get(activation)).toMatchObject({ role: 'financial-counter', materials: ['socialSecurityCard', 'residentIdCard'] });
    expect(j.get(reconciled)).toMatchObject({ reconciles: cut, role: 'kiosk' });
    expect(j.getBankRequest(bank)).toMatchObject({ operationId: activation, status: 'pending' });
    expect(j.reveal(activation)).toEqual(CARD);
    const next = j.recordRefusal({ serviceItem: PIN_ITEM, kind: 'verify', role: 'kiosk', reason: 'role-not-allowed' });
    expect(j.get(next).seq).toBe(counter + 1);
    // Schema 7 counted the rows as it found them (one deleted by hand above), and counts on.
    expect(j.summary().total).toBe(before.operations!.length + 1);
    j.close();
    expect(versions(file)).toEqual([1, 2, 3, 4, 5, 6, 7]);

    const after = dump(file);
    const house = (list: string): string => JSON.stringify((JSON.parse(list) as string[]).map((m) => MATERIAL_BEFORE_SCHEMA_4[m]));
    const expected = (before.operations as Record<string, string>[]).map((r) => ({ ...r, role: ROLE_BEFORE_SCHEMA_4[r.role!], materials: house(r.materials!), missing: house(r.missing!), agent_basis: null, agent: null, agent_masked: null }));
    expect(after.operations!.slice(0, expected.length)).toEqual(expected);
    for (const table of ['bank_requests', 'audit', 'hotlist', 'meta']) expect(after[table], table).toEqual(before[table]);
    expect(after.sqlite_sequence).toEqual((before.sqlite_sequence as { name: string; seq: number }[]).map((r) => (r.name === 'operations' ? { ...r, seq: counter + 1 } : r)));

    // The same tables and indexes as a file made new, and no reference left dangling.
    db = new Database(file, { readonly: true });
    const fresh = path.join(h.dir, 'fresh.sqlite');
    open({ path: fresh, keyFile: path.join(h.dir, 'fresh.key') }).close();
    const shape = (d: Database.Database): string[] =>
      (d.prepare("SELECT type || ' ' || name AS x FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 1").all() as { x: string }[]).map((r) => r.x);
    const freshDb = new Database(fresh, { readonly: true });
    expect(shape(db)).toEqual(shape(freshDb));
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    freshDb.close();
    db.close();
  });

  it('refuses to upgrade a file holding a material word nothing wrote, and leaves it as it was', () => {
    const file = path.join(h.dir, 'journal.sqlite');
    const j = open();
    const id = j.recordRefusal({ serviceItem: PIN_ITEM, kind: 'reset', role: 'counter', missing: ['residentIdCard'], reason: 'materials-missing' });
    j.close();
    asWrittenBySchema(file, 3);
    const db = new Database(file);
    db.prepare('UPDATE operations SET missing = ? WHERE id = ?').run('["resident-id-card","power-of-attorney"]', id);
    db.close();
    const before = dump(file);
    const e = assertSsCardError(() => open(), ErrorCode.Journal_OpenFailed);
    expect(e.message).toContain('schema 4');
    expect(dump(file)).toEqual(before);
    expect(versions(file)).toEqual([1, 2, 3]);
  });

  it('an upgrade that finds another writer holding the file says so (Journal_Busy), as any other open does', () => {
    const file = path.join(h.dir, 'journal.sqlite');
    open().close();
    asWrittenBySchema(file, 3);
    const other = new Database(file);
    other.pragma('journal_mode = WAL');
    other.prepare('BEGIN IMMEDIATE').run();
    try {
      expectCode(() => open(), ErrorCode.Journal_Busy);
    } finally {
      other.prepare('ROLLBACK').run();
      other.close();
    }
    expect(versions(file)).toEqual([1, 2, 3]);
  }, 20_000);

  it('refuses a schema from a newer sscard', () => {
    open().close();
    const db = new Database(path.join(h.dir, 'journal.sqlite'));
    db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (99, 0)').run();
    db.close();
    expectCode(() => open(), ErrorCode.Journal_SchemaTooNew);
  });

  it('refuses a key file other users can read, and a key that is not this journal\'s', () => {
    open().close();
    chmodSync(path.join(h.dir, 'journal.key'), 0o644);
    expectCode(() => open(), ErrorCode.Journal_KeyFile);
    chmodSync(path.join(h.dir, 'journal.key'), 0o600);
    expectCode(() => open({ keyFile: path.join(h.dir, 'other.key') }), ErrorCode.Journal_KeyMismatch);
  });

  it('read-only opening never creates a file', () => {
    expectCode(() => Journal.open({ path: path.join(h.dir, 'nope.sqlite'), readOnly: true }), ErrorCode.Journal_OpenFailed);
  });
});
