import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../../apdu/errors.js';
import { Journal } from './journal.js';
import type { BeginInput, CardIdentity } from './index.js';
import { LATEST_SCHEMA_VERSION } from './schema.js';
import { SERVICE_ITEMS } from './types.js';

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
    expect(db.prepare('SELECT max(version) AS v FROM schema_version').get()).toEqual({ v: 2 });
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

  it('upgrades a schema-1 file in place: rows kept, bank_requests added, version 2; a read-only open of it is refused', () => {
    const file = path.join(dir, 'journal.sqlite');
    let j = open();
    const id = j.beginOperation(BEGIN);
    j.completeOperation(id, { outcome: 'ok', lastSw: 0x9000 });
    j.close();
    // Make it exactly what sscard with schema 1 left behind.
    let db = new Database(file);
    db.exec('DROP TABLE bank_requests');
    db.prepare('DELETE FROM schema_version WHERE version > 1').run();
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'bank_requests'").get()).toEqual({ n: 0 });
    db.close();
    expectCode(() => Journal.open({ path: file, readOnly: true }), ErrorCode.Journal_OpenFailed);

    j = open();
    expect(j.stats()).toMatchObject({ schemaVersion: LATEST_SCHEMA_VERSION, total: 1, bankRequests: { pending: 0, sent: 0 } });
    expect(j.get(id)).toMatchObject({ state: 'completed', outcome: 'ok', lastSw: 0x9000 });
    expect(j.reveal(id)).toEqual(CARD);
    j.close();
    db = new Database(file);
    expect((db.prepare('SELECT version FROM schema_version ORDER BY version').all() as { version: number }[]).map((r) => r.version)).toEqual([1, 2]);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'bank_requests'").get()).toEqual({ n: 1 });
    db.close();
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
    expect(j.get(id).card).toEqual({ cardId: '410402**********************B5A0', cardNumber: 'Y0****327', socialSecurityNumber: '4104**********0047', name: '李**' });
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
