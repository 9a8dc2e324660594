import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import type { PrivilegedCall } from '../api/context.js';
import { OperatorAuth } from '../auth/operators.js';
import type { OperatorAuthEventType } from '../auth/operators.js';
import { hashPassphrase } from '../auth/passphrase.js';
import { isUuidV7 } from '../../core/uuid.js';
import { Journal } from './journal.js';
import type { AuditInput, BeginInput, CardIdentity } from './index.js';
import { LATEST_SCHEMA_VERSION } from './schema.js';
import { AUDIT_KIND_OF_OPERATOR_EVENT, SERVICE_ITEMS } from './types.js';

const CARD: CardIdentity = { cardId: '410402D15600000593F973FB1A6CB5A0', cardNumber: 'Y00000327', socialSecurityNumber: '410402199207080047', name: '李晓红' };
const OTHER: CardIdentity = { cardId: '410402D156000005AAAAAAAAAAAAAAAA', cardNumber: 'Y00000999', socialSecurityNumber: '41040219900101001X', name: '张三' };
const BEGIN: BeginInput = { serviceItem: SERVICE_ITEMS.pinChangeAndReset, kind: 'change', role: 'self-service', card: CARD, materials: ['social-security-card'] };

function expectCode(fn: () => unknown, code: ErrorCode): void {
  try {
    fn();
  } catch (err) {
    expect(isSsCardError(err, code), String(err)).toBe(true);
    return;
  }
  expect.fail(`expected error E${code}`);
}

let dir: string;
let t: number;
const open = (extra: Partial<Parameters<typeof Journal.open>[0]> = {}): Journal =>
  Journal.open({ path: path.join(dir, 'journal.sqlite'), keyFile: path.join(dir, 'journal.key'), terminalId: 'T-0001', now: () => t, ...extra });

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sscard-journal-'));
  t = 1_700_000_000_000;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('Journal: opening', () => {
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

  it('commits are synchronous=FULL except a completion (NORMAL for that commit only: its pending row is already fsynced)', () => {
    const j = open();
    const db = (j as unknown as { db: Database.Database }).db;
    const seen: number[] = [];
    const orig = db.pragma.bind(db);
    const spy = (src: string, o?: { simple?: boolean }): unknown => {
      const r = orig(src, o);
      if (/^synchronous\s*=/.test(src)) seen.push(Number(orig('synchronous', { simple: true })));
      return r;
    };
    (db as unknown as { pragma: typeof spy }).pragma = spy;
    expect(orig('synchronous', { simple: true })).toBe(2);
    const id = j.beginOperation(BEGIN);
    expect(seen).toEqual([]);
    j.completeOperation(id, { outcome: 'ok', lastSw: 0x9000 });
    expect(seen).toEqual([1, 2]);
    expect(orig('synchronous', { simple: true })).toBe(2);
    expect(() => j.completeOperation(id, { outcome: 'ok' })).toThrow();
    expect(orig('synchronous', { simple: true })).toBe(2);
    j.close();
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
      for (let i = 0; i < 300; i++) j.recordRefusal({ serviceItem: SERVICE_ITEMS.activation, kind: 'activate', role: 'window', reason: 'materials-missing', missing: ['resident-id-card'] });
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
    const op = j.beginOperation({ serviceItem: SERVICE_ITEMS.activation, kind: 'activate', role: 'financial-window', operatorId: 'op-7', card: CARD });
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

describe('Journal: write-ahead intent', () => {
  it('begin writes a pending row; complete finishes it; completing twice is refused', () => {
    const j = open();
    const id = j.beginOperation(BEGIN);
    expect(j.get(id)).toMatchObject({ state: 'pending', outcome: null, kind: 'change', syncState: 'unsynced', terminalId: 'T-0001' });
    expect(j.backlog().count).toBe(0); // pending rows are not synced
    t += 1500;
    j.completeOperation(id, { outcome: 'ok', lastSw: 0x9000, triesLeft: 6 });
    expect(j.get(id)).toMatchObject({ state: 'completed', outcome: 'ok', lastSw: 0x9000, triesLeft: 6, startedAt: 1_700_000_000_000, finishedAt: 1_700_000_001_500 });
    expect(j.backlog()).toEqual({ count: 1, oldestFinishedAt: 1_700_000_001_500 });
    expectCode(() => j.completeOperation(id, { outcome: 'failed' }), ErrorCode.Journal_BadTransition);
    expectCode(() => j.completeOperation('0190f3a0-0000-7000-8000-000000000000', { outcome: 'ok' }), ErrorCode.Journal_NotFound);
    j.close();
  });

  it('pending rows become interrupted at start-up; reconcile links a new row to each', () => {
    let j = open();
    const a = j.beginOperation(BEGIN);
    const b = j.beginOperation({ ...BEGIN, card: OTHER, kind: 'activate', serviceItem: SERVICE_ITEMS.activation, role: 'window', operatorId: 'op-7' });
    j.close(); // as if the process died
    j = open();
    expect(j.markInterrupted().sort()).toEqual([a, b].sort());
    expect(j.markInterrupted()).toEqual([]);
    expect(j.get(a)).toMatchObject({ state: 'interrupted', outcome: 'unknown', reason: 'interrupted' });
    expect(j.stats().interruptedUnreconciled).toBe(2);

    const open1 = j.findUnreconciled(CARD);
    expect(open1.map((r) => r.id)).toEqual([a]);
    const r = j.reconcile(a, { outcome: 'ok', triesLeft: 6, cardState: 'active', lastSw: 0x9000 });
    expect(j.get(r)).toMatchObject({ reconciles: a, outcome: 'ok', state: 'completed', kind: 'change', cardState: 'active', reason: 'reconciled' });
    expect(j.reveal(r)).toEqual(CARD);
    expect(j.findUnreconciled(CARD)).toEqual([]);
    expectCode(() => j.reconcile(a, { outcome: 'ok' }), ErrorCode.Journal_BadTransition);
    expect(j.findByCard(CARD).map((x) => x.id)).toEqual([a, r]);
    expect(j.stats().interruptedUnreconciled).toBe(1);
    j.close();
  });

  it('a row completed with outcome unknown (card pulled mid-command) is reconciled like an interrupted one; a reconciliation never is', () => {
    const j = open();
    const v = j.beginOperation({ ...BEGIN, kind: 'verify' });
    j.completeOperation(v, { outcome: 'unknown', reason: 'card-removed-in-flight' });
    const ok = j.beginOperation(BEGIN);
    j.completeOperation(ok, { outcome: 'ok' });
    expect(j.findUnreconciled(CARD).map((r) => r.id)).toEqual([v]);
    expect(j.stats()).toMatchObject({ unknownUnreconciled: 1, interruptedUnreconciled: 0 });
    expectCode(() => j.reconcile(ok, { outcome: 'ok' }), ErrorCode.Journal_BadTransition);

    // The re-read cannot tell whether a VERIFY ran: the reconciliation is itself unknown, and final.
    const r = j.reconcile(v, { outcome: 'unknown', reason: 'card-state-reread', triesLeft: 6, cardState: 'active' });
    expect(j.get(r)).toMatchObject({ reconciles: v, outcome: 'unknown', state: 'completed', kind: 'verify' });
    expect(j.findUnreconciled(CARD)).toEqual([]);
    expect(j.stats().unknownUnreconciled).toBe(0);
    expectCode(() => j.reconcile(v, { outcome: 'ok' }), ErrorCode.Journal_BadTransition);
    expectCode(() => j.reconcile(r, { outcome: 'ok' }), ErrorCode.Journal_BadTransition);
    j.close();
  });

  it('journals refusals, with everything missing at once (一次性告知)', () => {
    const j = open();
    const id = j.recordRefusal({ serviceItem: SERVICE_ITEMS.pinChangeAndReset, kind: 'reset', role: 'window', operatorId: 'op-1', materials: ['social-security-card'], missing: ['resident-id-card', 'power-of-attorney'], reason: 'materials-missing' });
    expect(j.get(id)).toMatchObject({ state: 'completed', outcome: 'refused', missing: ['resident-id-card', 'power-of-attorney'], card: null });
    j.close();
  });

  it('a hotlisted card is refused at begin, and the refusal is journaled', () => {
    const j = open();
    j.applyHotlist({ version: '7', full: true, add: [CARD.cardId], remove: [] });
    expect(j.isHotlisted(CARD)).toBe(true);
    expect(j.isHotlisted(OTHER)).toBe(false);
    try {
      j.beginOperation(BEGIN);
      expect.fail('hotlisted card accepted');
    } catch (err) {
      expect(isSsCardError(err, ErrorCode.Journal_CardHotlisted)).toBe(true);
      const refusalId = (err as { context: { refusalId: string } }).context.refusalId;
      expect(j.get(refusalId)).toMatchObject({ outcome: 'refused', reason: 'hotlisted', state: 'completed' });
      expect((err as Error).message).toMatch(/挂失.*窗口/);
    }
    expect(j.stats().byState.pending).toBe(0);
    j.applyHotlist({ version: '8', full: false, add: [], remove: [CARD.cardId] });
    expect(j.isHotlisted(CARD)).toBe(false);
    expect(j.hotlistVersion()).toBe('8');
    j.close();
  });
});

describe('Journal: what a row can hold', () => {
  it('refuses unknown fields (no PIN can ride along), free-text reasons with digits and bad codes', () => {
    const j = open();
    expectCode(() => j.beginOperation({ ...BEGIN, pin: '123456' } as unknown as BeginInput), ErrorCode.Journal_InvalidRecord);
    expectCode(() => j.beginOperation({ ...BEGIN, card: { ...CARD, pinBlock: '2612345' } as unknown as CardIdentity }), ErrorCode.Journal_InvalidRecord);
    expectCode(() => j.beginOperation({ ...BEGIN, card: { ...CARD, name: '李123456' } }), ErrorCode.Journal_InvalidRecord);
    const id = j.beginOperation(BEGIN);
    expectCode(() => j.completeOperation(id, { outcome: 'failed', reason: 'pin 123456' }), ErrorCode.Journal_InvalidRecord);
    expectCode(() => j.completeOperation(id, { outcome: 'failed', apdu: '805E0100' } as unknown as { outcome: 'failed' }), ErrorCode.Journal_InvalidRecord);
    expectCode(() => j.beginOperation({ ...BEGIN, serviceItem: 'x' }), ErrorCode.Journal_InvalidRecord);
    expectCode(() => j.beginOperation({ ...BEGIN, kind: 'dance' as 'change' }), ErrorCode.Journal_InvalidRecord);
    expectCode(() => j.completeOperation(id, { outcome: 'ok', lastSw: 0x10000 }), ErrorCode.Journal_InvalidRecord);
    expect(j.get(id).state).toBe('pending');
    j.close();
  });

  it('the database itself refuses digits in a reason (CHECK constraint)', () => {
    open().close();
    const db = new Database(path.join(dir, 'journal.sqlite'));
    const ins = db.prepare(
      "INSERT INTO operations (id, terminal_id, service_item, kind, role, state, reason, started_at) VALUES (?, 'T', 'S', 'read', 'window', 'completed', ?, 0)",
    );
    expect(() => ins.run('0190f3a0-0000-7000-8000-000000000001', 'pin-123456')).toThrow(/CHECK/);
    expect(() => ins.run('0190f3a0-0000-7000-8000-000000000002', 'wrong-pin')).not.toThrow();
    db.close();
  });

  it('stores identity encrypted: the clear values are not in the file; masked forms and reveal work', () => {
    const j = open();
    const id = j.beginOperation(BEGIN);
    j.completeOperation(id, { outcome: 'ok' });
    expect(j.get(id).card).toEqual({ cardId: '410402**********************B5A0', cardNumber: 'Y0****327', socialSecurityNumber: '410402********0047', name: '李**' });
    expect(j.reveal(id)).toEqual(CARD);
    j.close();
    const bytes = Buffer.concat([readFileSync(path.join(dir, 'journal.sqlite'))]);
    for (const s of [CARD.cardId, CARD.cardNumber!, CARD.socialSecurityNumber!, CARD.name!]) expect(bytes.includes(Buffer.from(s, 'utf8'))).toBe(false);
    // Without the key: masked rows can be listed, nothing can be revealed.
    const ro = Journal.open({ path: path.join(dir, 'journal.sqlite'), readOnly: true });
    expect(ro.get(id).card?.name).toBe('李**');
    expectCode(() => ro.reveal(id), ErrorCode.Journal_KeyFile);
    ro.close();
  });

  it('a tampered ciphertext is detected (GCM tag), not decrypted to garbage', () => {
    const j = open();
    const id = j.beginOperation(BEGIN);
    j.close();
    const db = new Database(path.join(dir, 'journal.sqlite'));
    db.prepare('UPDATE operations SET identity = ? WHERE id = ?').run(Buffer.concat([Buffer.from([1]), Buffer.alloc(40, 9)]), id);
    db.close();
    const j2 = open();
    expectCode(() => j2.reveal(id), ErrorCode.Journal_KeyMismatch);
    j2.close();
  });
});

describe('Journal: bank-account activation requests (financial window)', () => {
  const ACTIVATE: BeginInput = { serviceItem: SERVICE_ITEMS.activation, kind: 'activate', role: 'financial-window', operatorId: 'op-7', card: CARD, materials: ['social-security-card', 'resident-id-card'] };
  const activated = (j: Journal, o: Partial<BeginInput> = {}, outcome: 'ok' | 'failed' = 'ok'): string => {
    const id = j.beginOperation({ ...ACTIVATE, ...o });
    j.completeOperation(id, { outcome });
    return id;
  };

  it('records a pending request for a successful activation, the card stored as operations store it', () => {
    const j = open();
    const op = activated(j);
    t += 10;
    const id = j.recordBankRequest({ operationId: op, card: CARD, operatorId: 'op-7' });
    expect(j.getBankRequest(id)).toMatchObject({
      id,
      operationId: op,
      terminalId: 'T-0001',
      operatorId: 'op-7',
      status: 'pending',
      createdAt: t,
      sentAt: null,
      cardHash: j.cardHash(CARD),
      card: { cardId: j.get(op).card!.cardId, name: j.get(op).card!.name },
    });
    expect(j.revealBankRequest(id)).toEqual(CARD);
    expect(j.bankRequests({ status: 'pending' }).map((r) => r.id)).toEqual([id]);
    expect(j.stats().bankRequests).toEqual({ pending: 1, sent: 0 });
    // Not in clear in the file.
    j.close();
    const files = ['journal.sqlite', 'journal.sqlite-wal'].map((f) => path.join(dir, f)).filter((f) => existsSync(f));
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const clear of [CARD.cardNumber!, CARD.socialSecurityNumber!, CARD.name!]) expect(bytes.includes(Buffer.from(clear)), f).toBe(false);
    }
  });

  it('is refused for anything but a completed ok activation at a financial window of the same card, and only once', () => {
    const j = open();
    expectCode(() => j.recordBankRequest({ operationId: '0190f3a0-0000-7000-8000-000000000000', card: CARD }), ErrorCode.Journal_NotFound);
    const cases = [
      activated(j, { role: 'window' }),
      activated(j, {}, 'failed'),
      (() => {
        const id = j.beginOperation({ ...BEGIN, role: 'financial-window' });
        j.completeOperation(id, { outcome: 'ok' });
        return id;
      })(),
      j.beginOperation(ACTIVATE),
    ];
    for (const op of cases) expectCode(() => j.recordBankRequest({ operationId: op, card: CARD }), ErrorCode.Journal_BadTransition);
    const op = activated(j);
    expectCode(() => j.recordBankRequest({ operationId: op, card: OTHER }), ErrorCode.Journal_BadTransition);
    j.recordBankRequest({ operationId: op, card: CARD });
    expectCode(() => j.recordBankRequest({ operationId: op, card: CARD }), ErrorCode.Journal_BadTransition);
    expectCode(() => j.recordBankRequest({ operationId: op, card: CARD, pin: '123456' } as never), ErrorCode.Journal_InvalidRecord);
    expect(j.bankRequests()).toHaveLength(1);
    j.close();
  });

  it('sent once; sent requests are purged with the retention, pending ones never; a purged activation leaves the link null', () => {
    const j = open();
    const a = activated(j);
    const b = activated(j);
    const ra = j.recordBankRequest({ operationId: a, card: CARD });
    const rb = j.recordBankRequest({ operationId: b, card: CARD });
    expect(j.markBankRequestSent(ra)).toBe(true);
    expect(j.markBankRequestSent(ra)).toBe(false);
    expect(j.getBankRequest(ra)).toMatchObject({ status: 'sent', sentAt: t });
    expect(j.stats().bankRequests).toEqual({ pending: 1, sent: 1 });
    j.markSynced([a, b]);
    t += 91 * 24 * 3600 * 1000;
    expect(j.purge()).toBe(2);
    expectCode(() => j.getBankRequest(ra), ErrorCode.Journal_NotFound);
    expect(j.getBankRequest(rb)).toMatchObject({ status: 'pending', operationId: null });
    expect(j.revealBankRequest(rb)).toEqual(CARD);
    j.close();
  });
});

describe('Journal: sync support, stats and retention', () => {
  it('pages unsynced rows, marks acknowledged ids synced exactly once', () => {
    const j = open();
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const id = j.beginOperation(BEGIN);
      j.completeOperation(id, { outcome: 'ok' });
      ids.push(id);
    }
    const p1 = j.unsyncedPage(0, 10, true);
    expect(p1.map((r) => r.row.id)).toEqual(ids.slice(0, 10));
    expect(p1[0]!.identity).toEqual(CARD);
    const p2 = j.unsyncedPage(p1.at(-1)!.row.seq, 10, false);
    expect(p2.map((r) => r.row.id)).toEqual(ids.slice(10, 20));
    expect(p2[0]!.identity).toBeNull();
    expect(j.markSynced(ids.slice(0, 10))).toBe(10);
    expect(j.markSynced(ids.slice(0, 10))).toBe(0);
    expect(j.markRejected([ids[10]!])).toBe(1);
    expect(j.backlog().count).toBe(14);
    const s = j.stats();
    expect(s).toMatchObject({ total: 25, backlog: 14, bySync: { unsynced: 14, synced: 10, rejected: 1 }, byOutcome: { ok: 25 } });
    j.close();
  });

  it('purges synced rows older than the retention age, never unsynced ones', () => {
    const j = open();
    const old = j.beginOperation(BEGIN);
    j.completeOperation(old, { outcome: 'ok' });
    const oldUnsynced = j.beginOperation(BEGIN);
    j.completeOperation(oldUnsynced, { outcome: 'ok' });
    j.markSynced([old]);
    t += 91 * 24 * 3600 * 1000;
    const fresh = j.beginOperation(BEGIN);
    j.completeOperation(fresh, { outcome: 'ok' });
    j.markSynced([fresh]);
    expect(j.purge()).toBe(1);
    expectCode(() => j.get(old), ErrorCode.Journal_NotFound);
    expect(j.get(oldUnsynced).syncState).toBe('unsynced');
    expect(j.get(fresh).syncState).toBe('synced');
    j.close();
  });
});

describe('Journal: audit trail (every privileged call with the operator id)', () => {
  const DAY = 24 * 3600 * 1000;

  it('records privileged calls and operator events with UUIDv7 ids at the journal clock; reads them back newest first', () => {
    const j = open();
    const login = j.recordAudit({ kind: 'operator-login', operatorId: 'op-7' });
    t += 1000;
    // An api PrivilegedCall fits as it is.
    const call: PrivilegedCall = { operatorId: 'op-7', command: 'SSCard.UnblockPin', requestId: 12, outcome: 'commandErrorCode:unblock.ok' };
    const unblock = j.recordAudit({ kind: 'privileged-call', ...call });
    t += 1000;
    const http = j.recordAudit({ kind: 'privileged-call', operatorId: '', command: 'POST /sscard/iUnblockPIN', requestId: null, outcome: '-24:auth.required' });
    t += 1000;
    const chip = j.recordAudit({ kind: 'privileged-call', operatorId: 'op-9', command: 'CardReader.ChipIO', outcome: 'authorisationRequired' });
    for (const id of [login, unblock, http, chip]) expect(isUuidV7(id)).toBe(true);
    expect(new Set([login, unblock, http, chip]).size).toBe(4);

    const rows = j.audit();
    expect(rows.map((r) => r.id)).toEqual([chip, http, unblock, login]);
    expect(rows[2]).toEqual({
      seq: rows[2]!.seq,
      id: unblock,
      at: 1_700_000_001_000,
      terminalId: 'T-0001',
      operatorId: 'op-7',
      kind: 'privileged-call',
      command: 'SSCard.UnblockPin',
      requestId: 12,
      outcome: 'commandErrorCode:unblock.ok',
    });
    expect(rows[1]).toMatchObject({ operatorId: '', command: 'POST /sscard/iUnblockPIN', requestId: null, outcome: '-24:auth.required' });
    expect(rows[3]).toMatchObject({ kind: 'operator-login', operatorId: 'op-7', at: 1_700_000_000_000, command: null, requestId: null, outcome: null });
    expect(j.stats().auditCount).toBe(4);
    // Audit entries are not operations: nothing for the sync worker.
    expect(j.stats().total).toBe(0);
    expect(j.backlog().count).toBe(0);
    j.close();
  });

  it('filters by operator (\'\' : refused with no operator), by time, and limits', () => {
    const j = open();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      ids.push(j.recordAudit({ kind: 'privileged-call', operatorId: i % 3 === 0 ? '' : i % 2 ? 'op-1' : 'op-2', command: 'SSCard.Reset', requestId: i + 1, outcome: 'success' }));
      t += 60_000;
    }
    expect(j.audit({ operatorId: 'op-1' }).map((r) => r.requestId)).toEqual([6, 2]);
    expect(j.audit({ operatorId: 'op-2' }).map((r) => r.requestId)).toEqual([5, 3]);
    expect(j.audit({ operatorId: '' }).map((r) => r.requestId)).toEqual([4, 1]);
    expect(j.audit({ operatorId: 'nobody' })).toEqual([]);
    expect(j.audit({ since: 1_700_000_000_000 + 3 * 60_000 }).map((r) => r.requestId)).toEqual([6, 5, 4]);
    expect(j.audit({ since: 1_700_000_000_000 + 3 * 60_000, operatorId: 'op-1' }).map((r) => r.requestId)).toEqual([6]);
    expect(j.audit({ limit: 2 }).map((r) => r.id)).toEqual([ids[5], ids[4]]);
    expect(j.audit({ limit: 50 })).toHaveLength(6);
    expectCode(() => j.audit({ limit: 0 }), ErrorCode.Journal_InvalidRecord);
    expectCode(() => j.audit({ limit: 1.5 }), ErrorCode.Journal_InvalidRecord);
    expectCode(() => j.audit({ since: -1 }), ErrorCode.Journal_InvalidRecord);
    expectCode(() => j.audit({ operatorId: "x' OR '1'='1" }), ErrorCode.Journal_InvalidRecord);
    expectCode(() => j.audit({ kind: 'operator-login' } as never), ErrorCode.Journal_InvalidRecord);
    j.close();
  });

  it('has no field for a PIN, passphrase or token, and refuses what is not an id, a command name or an outcome', () => {
    const j = open();
    const CALL: AuditInput = { kind: 'privileged-call', operatorId: 'op-7', command: 'SSCard.ChangePin', requestId: 1, outcome: 'success' };
    const refused: unknown[] = [
      { ...CALL, pin: '123456' },
      { ...CALL, passphrase: 'correct horse battery' },
      { ...CALL, token: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      { ...CALL, at: 0 },
      { ...CALL, kind: 'dance' },
      { ...CALL, operatorId: undefined },
      { ...CALL, operatorId: 'op 7' },
      { ...CALL, operatorId: '-op' },
      { ...CALL, operatorId: 'x'.repeat(65) },
      { ...CALL, command: 'SSCard.Verify 123456' },
      { ...CALL, command: 'SSCard.Verify\n' },
      { ...CALL, command: '' },
      { ...CALL, command: `S${'x'.repeat(80)}` },
      { ...CALL, command: 7 },
      { ...CALL, outcome: 'commandErrorCode:123456' },
      { ...CALL, outcome: 'wrong pin' },
      { ...CALL, outcome: `s${'x'.repeat(80)}` },
      { ...CALL, requestId: 0 },
      { ...CALL, requestId: -1 },
      { ...CALL, requestId: 1.5 },
      { ...CALL, requestId: '12' },
      { kind: 'privileged-call', operatorId: 'op-7', outcome: 'success' },
      { kind: 'privileged-call', operatorId: 'op-7', command: 'SSCard.ChangePin' },
      // A session exists for these: the operator id is required.
      { kind: 'operator-login', operatorId: '' },
      { kind: 'operator-logout', operatorId: '' },
      { kind: 'operator-expired', operatorId: '' },
      null,
    ];
    for (const input of refused) expectCode(() => j.recordAudit(input as AuditInput), ErrorCode.Journal_InvalidRecord);
    expect(j.stats().auditCount).toBe(0);
    // '' is allowed where no operator could be established.
    for (const kind of ['operator-login-failed', 'operator-locked'] as const) j.recordAudit({ kind, operatorId: '' });
    j.recordAudit({ ...CALL, operatorId: '' });
    // SSCardDriver codes have up to four digits.
    j.recordAudit({ ...CALL, command: 'iReadCardBas', outcome: '-2201:internal', requestId: Number.MAX_SAFE_INTEGER });
    expect(j.stats().auditCount).toBe(4);
    j.close();
    for (const f of ['journal.sqlite', 'journal.sqlite-wal'].map((x) => path.join(dir, x)).filter((x) => existsSync(x))) {
      const bytes = readFileSync(f);
      for (const secret of ['123456', 'correct horse battery', 'AAAAAAAAAAAAAAAAAAAA']) expect(bytes.includes(Buffer.from(secret)), f).toBe(false);
    }
  });

  it('the database itself refuses a PIN-like value, an unknown kind and a privileged call without command or outcome (CHECK constraints)', () => {
    open().close();
    const db = new Database(path.join(dir, 'journal.sqlite'));
    let n = 0;
    const ins = (kind: string, operator: string, command: string | null, outcome: string | null, requestId: number | null = null) =>
      db
        .prepare('INSERT INTO audit (id, at, terminal_id, operator_id, kind, command, request_id, outcome) VALUES (?, 0, ?, ?, ?, ?, ?, ?)')
        .run(`0190f3a0-0000-7000-8000-${String(++n).padStart(12, '0')}`, 'T', operator, kind, command, requestId, outcome);
    expect(() => ins('privileged-call', 'op-7', 'SSCard.Verify 123456', 'success')).toThrow(/CHECK/);
    expect(() => ins('privileged-call', 'op-7', 'SSCard.Verify', 'commandErrorCode:123456')).toThrow(/CHECK/);
    expect(() => ins('privileged-call', 'op-7', 'SSCard.Verify', 'wrong pin')).toThrow(/CHECK/);
    expect(() => ins('privileged-call', 'op 7', 'SSCard.Verify', 'success')).toThrow(/CHECK/);
    expect(() => ins('privileged-call', 'op-7', null, 'success')).toThrow(/CHECK/);
    expect(() => ins('privileged-call', 'op-7', 'SSCard.Verify', null)).toThrow(/CHECK/);
    expect(() => ins('privileged-call', 'op-7', 'SSCard.Verify', 'success', 0)).toThrow(/CHECK/);
    expect(() => ins('pin-entered', 'op-7', null, null)).toThrow(/CHECK/);
    expect(() => ins('privileged-call', 'op-7', 'POST /sscard/iUnblockPIN', '-2201:internal', 5)).not.toThrow();
    expect(() => ins('operator-login-failed', '', null, null)).not.toThrow();
    expect(() => ins(null as unknown as string, 'op-7', null, null)).toThrow(/NOT NULL|CHECK/);
    db.close();
  });

  it('a read-only journal reads the trail but cannot add to it', () => {
    const w = open();
    const id = w.recordAudit({ kind: 'operator-logout', operatorId: 'op-7' });
    w.close();
    const ro = Journal.open({ path: path.join(dir, 'journal.sqlite'), readOnly: true });
    expect(ro.audit().map((r) => r.id)).toEqual([id]);
    expect(ro.stats().auditCount).toBe(1);
    expectCode(() => ro.recordAudit({ kind: 'operator-logout', operatorId: 'op-7' }), ErrorCode.Internal);
    ro.close();
  });

  it('purge deletes audit entries older than the retention age, synced or not, and keeps newer ones', () => {
    const j = open();
    j.recordAudit({ kind: 'operator-login', operatorId: 'op-7' });
    const unsynced = j.beginOperation(BEGIN);
    j.completeOperation(unsynced, { outcome: 'ok' });
    t += 60 * DAY;
    const mid = j.recordAudit({ kind: 'privileged-call', operatorId: 'op-7', command: 'SSCard.Unblock', requestId: 2, outcome: 'success' });
    t += 31 * DAY;
    const fresh = j.recordAudit({ kind: 'operator-logout', operatorId: 'op-7' });
    expect(j.purge()).toBe(0); // the return value still counts operations
    expect(j.audit().map((r) => r.id)).toEqual([fresh, mid]);
    expect(j.get(unsynced).syncState).toBe('unsynced');
    expect(j.stats().auditCount).toBe(2);
    t += 1;
    expect(j.purge(0)).toBe(0);
    expect(j.audit()).toEqual([]);
    j.close();
  });

  it('maps every operator auth event to an audit kind; the real OperatorAuth wired to the journal leaves no passphrase or token behind', async () => {
    const types: OperatorAuthEventType[] = ['login', 'loginFailed', 'locked', 'logout', 'expired'];
    expect(types.map((x) => AUDIT_KIND_OF_OPERATOR_EVENT[x])).toEqual(['operator-login', 'operator-login-failed', 'operator-locked', 'operator-logout', 'operator-expired']);

    const j = open();
    const PASS = 'correct horse battery';
    const auth = new OperatorAuth(
      { sessionTtlMs: 60_000, maxFailures: 2, lockoutMs: 60_000, accounts: [{ id: 'alice', name: 'Alice', hash: hashPassphrase(Buffer.from(PASS), { N: 1024, r: 8, p: 1 }) }] },
      { now: () => t, onEvent: (e) => j.recordAudit({ kind: AUDIT_KIND_OF_OPERATOR_EVENT[e.type], operatorId: e.operatorId }) },
    );
    const s1 = await auth.login('alice', Buffer.from(PASS));
    t += 1000;
    auth.logout(s1.token);
    await expect(auth.login('alice', Buffer.from('wrong one'))).rejects.toThrow();
    await expect(auth.login('alice', Buffer.from('wrong two'))).rejects.toThrow();
    t += 120_000;
    const s2 = await auth.login('alice', Buffer.from(PASS));
    t += 120_000;
    expect(() => auth.check(s2.token)).toThrow();
    expect(
      j
        .audit()
        .reverse()
        .map((r) => `${r.kind} ${r.operatorId}`),
    ).toEqual(['operator-login alice', 'operator-logout alice', 'operator-login-failed alice', 'operator-login-failed alice', 'operator-locked alice', 'operator-login alice', 'operator-expired alice']);
    j.close();
    for (const f of ['journal.sqlite', 'journal.sqlite-wal'].map((x) => path.join(dir, x)).filter((x) => existsSync(x))) {
      const bytes = readFileSync(f);
      for (const secret of [PASS, 'wrong one', s1.token, s2.token]) expect(bytes.includes(Buffer.from(secret)), f).toBe(false);
    }
  });
});
