import { readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../core/errors.js';
import type { CardIdentity } from './identity.js';
import { ACTIVATION_ITEM, BEGIN, CARD, OTHER, PIN_ITEM, expectCode, journalHarness } from '../../testing/journal.js';
import { Journal } from './journal.js';
import type { BeginInput } from './types.js';

const h = journalHarness();
const open = h.open;

describe('Operations: durability', () => {
  it('commits are synchronous=FULL except a completion (NORMAL for that commit only: its pending row is already fsynced)', () => {
    const j = open();
    const db = (j as unknown as { store: { db: Database.Database } }).store.db;
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

});

describe('Journal: summary', () => {
  it('summary() has the figures stats() has, and counts pending rows from their partial index (no scan of every row)', () => {
    let j = open();
    j.beginOperation(BEGIN);
    j.close();
    j = open();
    j.markInterrupted();
    const done = j.beginOperation({ ...BEGIN, card: OTHER });
    j.completeOperation(done, { outcome: 'ok', lastSw: 0x9000 });
    const synced = j.beginOperation(BEGIN);
    j.completeOperation(synced, { outcome: 'failed', lastSw: 0x63c2 });
    j.markSynced([synced]);
    j.beginOperation({ ...BEGIN, card: OTHER });
    const s = j.stats();
    expect(s).toMatchObject({ total: 4, byState: { pending: 1, completed: 2, interrupted: 1 }, backlog: 2 });
    expect(j.summary()).toEqual({
      total: s.total,
      pending: s.byState.pending,
      backlog: s.backlog,
      oldestUnsyncedAt: s.oldestUnsyncedAt,
      bankRequests: s.bankRequests,
      oldestPendingBankRequestAt: s.oldestPendingBankRequestAt,
      hotlistSize: s.hotlistSize,
      hotlistVersion: s.hotlistVersion,
      hotlistUpdatedAt: s.hotlistUpdatedAt,
    });
    const db = (j as unknown as { store: { db: Database.Database } }).store.db;
    const st = (j as unknown as { operations: { st: Record<'total' | 'pendingCount', Database.Statement> } }).operations.st;
    const plan = (sql: string): string => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join('; ');
    expect(plan(st.pendingCount.source)).toContain('USING COVERING INDEX operations_pending');
    expect(plan(st.total.source)).toContain('USING INTEGER PRIMARY KEY');
    // The count the triggers keep follows inserts and deletes (the purge's, any other).
    const count = (): { kept: number; rows: number } => ({ kept: j.summary().total, rows: (db.prepare('SELECT count(*) AS n FROM operations').get() as { n: number }).n });
    expect(count()).toEqual({ kept: 4, rows: 4 });
    h.t += 400 * 86_400_000;
    j.purge(86_400_000);
    expect(count()).toEqual({ kept: 3, rows: 3 });
    db.exec('DELETE FROM operations');
    expect(count()).toEqual({ kept: 0, rows: 0 });
    j.close();
  });
});

describe('Journal: list since', () => {
  it('the rows started since a time, newest first, found through the started_at index (not by walking back to the first row)', () => {
    const j = open();
    const old = j.beginOperation(BEGIN);
    h.t += 86_400_000;
    const today = [j.beginOperation({ ...BEGIN, card: OTHER }), j.beginOperation(BEGIN)];
    const db = (j as unknown as { store: { db: Database.Database } }).store.db;
    const seen: string[] = [];
    const prepare = db.prepare.bind(db);
    (db as unknown as { prepare: (sql: string) => Database.Statement }).prepare = (sql: string) => {
      seen.push(sql);
      return prepare(sql);
    };
    expect(j.list({ since: h.t, limit: 50 }).map((r) => r.id)).toEqual([...today].reverse());
    expect(j.list({ since: 0, limit: 50 }).map((r) => r.id)).toEqual([old, ...today].reverse());
    const plan = (prepare(`EXPLAIN QUERY PLAN ${seen[0]!}`).all(0, 50) as { detail: string }[]).map((r) => r.detail).join('; ');
    expect(plan).toContain('USING INDEX operations_started (started_at>?)');
    j.close();
  });
});

describe('Journal: write-ahead intent', () => {
  it('begin writes a pending row; complete finishes it; completing twice is refused', () => {
    const j = open();
    const id = j.beginOperation(BEGIN);
    expect(j.get(id)).toMatchObject({ state: 'pending', outcome: null, kind: 'change', syncState: 'unsynced', terminalId: 'T-0001' });
    expect(j.backlog().count).toBe(0); // pending rows are not synced
    h.t += 1500;
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
    const b = j.beginOperation({ ...BEGIN, card: OTHER, kind: 'activate', serviceItem: ACTIVATION_ITEM, role: 'counter', operatorId: 'op-7' });
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
    const id = j.recordRefusal({ serviceItem: PIN_ITEM, kind: 'reset', role: 'counter', operatorId: 'op-1', materials: [], missing: ['socialSecurityCard', 'residentIdCard'], reason: 'materials-missing' });
    expect(j.get(id)).toMatchObject({ state: 'completed', outcome: 'refused', role: 'counter', materials: [], missing: ['socialSecurityCard', 'residentIdCard'], card: null });
    // Only the house's words (state/roles.ts, state/materials.ts): the sync wire's are refused, and so is a material the session never collects.
    expectCode(() => j.recordRefusal({ serviceItem: PIN_ITEM, kind: 'reset', role: 'window' as 'counter', reason: 'materials-missing' }), ErrorCode.Journal_InvalidRecord);
    expectCode(() => j.recordRefusal({ serviceItem: PIN_ITEM, kind: 'reset', role: 'counter', missing: ['resident-id-card' as 'residentIdCard'], reason: 'materials-missing' }), ErrorCode.Journal_InvalidRecord);
    expectCode(() => j.recordRefusal({ serviceItem: PIN_ITEM, kind: 'reset', role: 'counter', missing: ['power-of-attorney' as 'residentIdCard'], reason: 'materials-missing' }), ErrorCode.Journal_InvalidRecord);
    j.close();
  });

});

describe('Journal: list', () => {
  it('since keeps the rows started at or after it, newest first, bounded by limit (a counter\'s operations of the day)', () => {
    const j = open();
    const first = j.beginOperation(BEGIN);
    h.t += 1000;
    const second = j.beginOperation(BEGIN);
    h.t += 1000;
    const third = j.beginOperation(BEGIN);
    expect(j.list({ since: 1_700_000_001_000 }).map((r) => r.id)).toEqual([third, second]);
    expect(j.list({ since: 1_700_000_001_000, limit: 1 }).map((r) => r.id)).toEqual([third]);
    expect(j.list({ since: 0 }).map((r) => r.id)).toEqual([third, second, first]);
    expect(j.list({ since: 1_700_000_003_000 })).toEqual([]);
    expectCode(() => j.list({ since: -1 }), ErrorCode.Journal_InvalidRecord);
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
    const db = new Database(path.join(h.dir, 'journal.sqlite'));
    const ins = db.prepare(
      "INSERT INTO operations (id, terminal_id, service_item, kind, role, state, reason, started_at) VALUES (?, 'T', 'S', 'read', 'counter', 'completed', ?, 0)",
    );
    expect(() => ins.run('0190f3a0-0000-7000-8000-000000000001', 'pin-123456')).toThrow(/CHECK/);
    expect(() => ins.run('0190f3a0-0000-7000-8000-000000000002', 'wrong-pin')).not.toThrow();
    db.close();
  });

  it('the database itself holds only the house’s roles and materials (CHECK constraints, schema 4)', () => {
    open().close();
    const db = new Database(path.join(h.dir, 'journal.sqlite'));
    let n = 0;
    const ins = (role: string, materials: string, missing = '[]') =>
      db
        .prepare("INSERT INTO operations (id, terminal_id, service_item, kind, role, state, materials, missing, started_at) VALUES (?, 'T', 'S', 'read', ?, 'completed', ?, ?, 0)")
        .run(`0190f3a0-0000-7000-8000-${String(++n).padStart(12, '0')}`, role, materials, missing);
    for (const role of ['kiosk', 'counter', 'financial-counter']) expect(() => ins(role, '[]')).not.toThrow();
    expect(() => ins('counter', '["socialSecurityCard","residentIdCard"]', '["residentIdCard"]')).not.toThrow();
    for (const role of ['self-service', 'window', 'financial-window', 'Kiosk']) expect(() => ins(role, '[]')).toThrow(/CHECK/);
    // Schema 5: an agent's materials (state/agents.ts) are known materials too.
    expect(() => ins('counter', '["socialSecurityCard","agentIdCard","powerOfAttorney","householdRegister"]')).not.toThrow();
    for (const list of ['["social-security-card"]', '["power-of-attorney"]', '["socialSecurityCard","123456"]', 'socialSecurityCard', '[]x', '']) {
      expect(() => ins('kiosk', list), list).toThrow(/CHECK/);
      expect(() => ins('kiosk', '[]', list), list).toThrow(/CHECK/);
    }
    // Schema 6: a write of the card's records (iWriteCard) is a kind; no other word is.
    const kind = (k: string) =>
      db.prepare("INSERT INTO operations (id, terminal_id, service_item, kind, role, state, started_at) VALUES (?, 'T', 'S', ?, 'counter', 'completed', 0)").run(`0190f3a0-0000-7000-8000-${String(++n).padStart(12, '0')}`, k);
    expect(() => kind('write')).not.toThrow();
    for (const k of ['update', 'Write', '']) expect(() => kind(k), k).toThrow(/CHECK/);
    db.close();
  });

  it('a write of the card\'s records is journaled as the services are: pending, then completed with its outcome', () => {
    const j = open();
    const id = j.beginOperation({ ...BEGIN, serviceItem: 'LOCALCARDRECORDWRITE', kind: 'write', role: 'counter', operatorId: 'op-1' });
    expect(j.get(id)).toMatchObject({ kind: 'write', state: 'pending', operatorId: 'op-1' });
    j.completeOperation(id, { outcome: 'ok', lastSw: 0x9000 });
    expect(j.get(id)).toMatchObject({ kind: 'write', state: 'completed', outcome: 'ok' });
    j.close();
  });

  it('stores identity encrypted: the clear values are not in the file; masked forms and reveal work', () => {
    const j = open();
    const id = j.beginOperation(BEGIN);
    j.completeOperation(id, { outcome: 'ok' });
    expect(j.get(id).card).toEqual({ cardId: '410402**********************B5A0', cardNumber: 'Y0****327', socialSecurityNumber: '410402********0047', name: '李**' });
    expect(j.reveal(id)).toEqual(CARD);
    j.close();
    const bytes = Buffer.concat([readFileSync(path.join(h.dir, 'journal.sqlite'))]);
    for (const s of [CARD.cardId, CARD.cardNumber!, CARD.socialSecurityNumber!, CARD.name!]) expect(bytes.includes(Buffer.from(s, 'utf8'))).toBe(false);
    // Without the key: masked rows can be listed, nothing can be revealed.
    const ro = Journal.open({ path: path.join(h.dir, 'journal.sqlite'), readOnly: true });
    expect(ro.get(id).card?.name).toBe('李**');
    expectCode(() => ro.reveal(id), ErrorCode.Journal_KeyFile);
    ro.close();
  });

  it('stores an agent (state/agents.ts) as it stores the card: basis in clear, identity encrypted, masked for display; its blob is no card identity', () => {
    const j = open();
    const agent = { basis: 'powerOfAttorney' as const, idNumber: '410402199001010013', name: '赵代办' };
    const id = j.beginOperation({ ...BEGIN, role: 'counter', operatorId: 'op-1', materials: ['socialSecurityCard', 'agentIdCard', 'powerOfAttorney'], agent });
    const refused = j.recordRefusal({ serviceItem: PIN_ITEM, kind: 'reset', role: 'counter', operatorId: 'op-1', card: CARD, reason: 'materials-missing', missing: ['householdRegister'], agent: { ...agent, basis: 'guardianship' } });
    expect(j.get(id)).toMatchObject({ materials: ['socialSecurityCard', 'agentIdCard', 'powerOfAttorney'], agent: { basis: 'powerOfAttorney', idNumber: '410402********0013', name: '赵**' } });
    expect(j.get(refused)).toMatchObject({ missing: ['householdRegister'], agent: { basis: 'guardianship' } });
    expect(j.revealAgent(id)).toEqual(agent);
    expect(j.get(j.beginOperation(BEGIN)).agent).toBeNull();
    expectCode(() => j.beginOperation({ ...BEGIN, agent: { ...agent, idNumber: '12' } }), ErrorCode.Journal_InvalidRecord);
    j.close();
    const bytes = readFileSync(path.join(h.dir, 'journal.sqlite'));
    for (const v of [agent.idNumber, agent.name]) expect(bytes.includes(Buffer.from(v, 'utf8'))).toBe(false);
    // The agent's blob in the identity column (or back) does not open: its additional data differs.
    const db = new Database(path.join(h.dir, 'journal.sqlite'));
    db.prepare('UPDATE operations SET identity = agent WHERE id = ?').run(id);
    db.close();
    const j2 = open();
    expectCode(() => j2.reveal(id), ErrorCode.Journal_KeyMismatch);
    j2.close();
  });

  it('a tampered ciphertext is detected (GCM tag), not decrypted to garbage', () => {
    const j = open();
    const id = j.beginOperation(BEGIN);
    j.close();
    const db = new Database(path.join(h.dir, 'journal.sqlite'));
    db.prepare('UPDATE operations SET identity = ? WHERE id = ?').run(Buffer.concat([Buffer.from([1]), Buffer.alloc(40, 9)]), id);
    db.close();
    const j2 = open();
    expectCode(() => j2.reveal(id), ErrorCode.Journal_KeyMismatch);
    j2.close();
  });
});
