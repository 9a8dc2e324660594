import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../core/errors.js';
import { isUuidV7 } from '../../core/uuid.js';
import type { PrivilegedCall } from '../api/context.js';
import { OperatorAuth } from '../auth/operators.js';
import type { OperatorAuthEventType } from '../auth/operators.js';
import { hashPassphrase } from '../auth/passphrase.js';
import { BEGIN, expectCode, journalHarness } from '../../testing/journal.js';
import { Journal } from './journal.js';
import type { AuditInput } from './types.js';
import { AUDIT_KIND_OF_OPERATOR_EVENT } from './types.js';

const h = journalHarness();
const open = h.open;

describe('Journal: audit trail (every privileged call with the operator id)', () => {
  const DAY = 24 * 3600 * 1000;

  it('records privileged calls and operator events with UUIDv7 ids at the journal clock; reads them back newest first', () => {
    const j = open();
    const login = j.recordAudit({ kind: 'operator-login', operatorId: 'op-7' });
    h.t += 1000;
    // An api PrivilegedCall fits as it is.
    const call: PrivilegedCall = { operatorId: 'op-7', command: 'SSCard.UnblockPin', requestId: 12, outcome: 'commandErrorCode:unblock.ok' };
    const unblock = j.recordAudit({ kind: 'privileged-call', ...call });
    h.t += 1000;
    const http = j.recordAudit({ kind: 'privileged-call', operatorId: '', command: 'POST /sscard/iUnblockPIN', requestId: null, outcome: '-24:auth.required' });
    h.t += 1000;
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
      h.t += 60_000;
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
    for (const f of ['journal.sqlite', 'journal.sqlite-wal'].map((x) => path.join(h.dir, x)).filter((x) => existsSync(x))) {
      const bytes = readFileSync(f);
      for (const secret of ['123456', 'correct horse battery', 'AAAAAAAAAAAAAAAAAAAA']) expect(bytes.includes(Buffer.from(secret)), f).toBe(false);
    }
  });

  it('the database itself refuses a PIN-like value, an unknown kind and a privileged call without command or outcome (CHECK constraints)', () => {
    open().close();
    const db = new Database(path.join(h.dir, 'journal.sqlite'));
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
    const ro = Journal.open({ path: path.join(h.dir, 'journal.sqlite'), readOnly: true });
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
    h.t += 60 * DAY;
    const mid = j.recordAudit({ kind: 'privileged-call', operatorId: 'op-7', command: 'SSCard.Unblock', requestId: 2, outcome: 'success' });
    h.t += 31 * DAY;
    const fresh = j.recordAudit({ kind: 'operator-logout', operatorId: 'op-7' });
    expect(j.purge()).toBe(0); // the return value still counts operations
    expect(j.audit().map((r) => r.id)).toEqual([fresh, mid]);
    expect(j.get(unsynced).syncState).toBe('unsynced');
    expect(j.stats().auditCount).toBe(2);
    h.t += 1;
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
      { now: () => h.t, onEvent: (e) => j.recordAudit({ kind: AUDIT_KIND_OF_OPERATOR_EVENT[e.type], operatorId: e.operatorId }) },
    );
    const s1 = await auth.login('alice', Buffer.from(PASS));
    h.t += 1000;
    auth.logout(s1.token);
    await expect(auth.login('alice', Buffer.from('wrong one'))).rejects.toThrow();
    await expect(auth.login('alice', Buffer.from('wrong two'))).rejects.toThrow();
    h.t += 120_000;
    const s2 = await auth.login('alice', Buffer.from(PASS));
    h.t += 120_000;
    expect(() => auth.check(s2.token)).toThrow();
    expect(
      j
        .audit()
        .reverse()
        .map((r) => `${r.kind} ${r.operatorId}`),
    ).toEqual(['operator-login alice', 'operator-logout alice', 'operator-login-failed alice', 'operator-login-failed alice', 'operator-locked alice', 'operator-login alice', 'operator-expired alice']);
    j.close();
    for (const f of ['journal.sqlite', 'journal.sqlite-wal'].map((x) => path.join(h.dir, x)).filter((x) => existsSync(x))) {
      const bytes = readFileSync(f);
      for (const secret of [PASS, 'wrong one', s1.token, s2.token]) expect(bytes.includes(Buffer.from(secret)), f).toBe(false);
    }
  });
});
