/**
 * The contract every platform store keeps (platform/store/store.ts), run against SQLite
 * (platform/store/sqlite-store.test.ts) and a real PostgreSQL (test/platform-postgres.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { UuidV7Generator } from '../core/uuid.js';
import type { OperationIn, PlatformStore } from '../platform/store/store.js';

export interface StoreFactory {
  /** A store on a fresh, empty database. */
  readonly fresh: () => Promise<PlatformStore>;
  /** A second store on the database `store` uses (another node, or the same node after a restart). */
  readonly again: (store: PlatformStore) => Promise<PlatformStore>;
}

/** Operation ids made at `at` (Unix ms), as a terminal's journal makes them. */
export function idsAt(at: number, n: number): string[] {
  const g = new UuidV7Generator(() => at);
  return Array.from({ length: n }, () => g.next());
}

export const op = (id: string, extra: Record<string, unknown> = {}): OperationIn => ({ id, serviceItem: '11410402785096902M500201401000601', body: { id, kind: 'change', state: 'completed', 名: '李晓红', ...extra } });

export function platformStoreContract(name: string, f: StoreFactory): void {
  const use = async (t: (s: PlatformStore) => Promise<void>): Promise<void> => {
    const s = await f.fresh();
    try {
      await t(s);
    } finally {
      await s.close();
    }
  };

  describe(`platform store contract: ${name}`, () => {
    it('a batch is accepted once; sent again, every id is a duplicate and its copies are counted', () =>
      use(async (s) => {
        const ids = idsAt(Date.UTC(2026, 11, 3, 9), 5);
        expect(await s.putOperations('T-1', 'b1', ids.map((i) => op(i)), 1)).toEqual({ accepted: ids, duplicates: [] });
        expect(await s.putOperations('T-1', 'b2', ids.map((i) => op(i)), 2)).toEqual({ accepted: [], duplicates: ids });
        expect(await s.counts()).toMatchObject({ operations: 5, received: 10 });
        expect([...(await s.operationCopies()).values()]).toEqual([2, 2, 2, 2, 2]);
        await s.putOperations('T-2', 'b3', idsAt(Date.UTC(2026, 11, 3, 10), 2).map((i) => op(i)), 3);
        expect(await s.operationsPerTerminal()).toEqual(new Map([['T-1', 5], ['T-2', 2]]));
      }));

    it('an id twice in one batch is new once, then a duplicate; part of a batch already held', () =>
      use(async (s) => {
        const [a, b, c] = idsAt(Date.UTC(2026, 11, 3, 9), 3) as [string, string, string];
        await s.putOperations('T-1', 'b0', [op(a)], 1);
        expect(await s.putOperations('T-1', 'b1', [op(b), op(a), op(b), op(c)], 2)).toEqual({ accepted: [b, c], duplicates: [a, b] });
        expect(await s.operationCopies()).toEqual(new Map([[a, 2], [b, 2], [c, 1]]));
      }));

    it('an operation reads back as it was sent (UTF-8 text included); an unknown or malformed id reads as nothing', () =>
      use(async (s) => {
        const [a, other] = idsAt(Date.UTC(2026, 11, 3, 9), 2) as [string, string];
        await s.putOperations('T-1', 'b1', [op(a, { nested: { n: 1, list: [1, 'x'] } })], 1);
        expect(await s.operation(a)).toEqual(op(a, { nested: { n: 1, list: [1, 'x'] } }).body);
        expect(await s.operation(other)).toBeUndefined();
        expect(await s.operation('not-an-id')).toBeUndefined();
      }));

    it('operations of many months (a terminal whose clock was years off too) are all held', () =>
      use(async (s) => {
        const times = [Date.UTC(2019, 0, 1), Date.UTC(2026, 10, 30, 23, 59, 59, 999), Date.UTC(2026, 11, 1), Date.UTC(2031, 5, 15)];
        const ids = times.flatMap((t) => idsAt(t, 2));
        expect((await s.putOperations('T-1', 'b1', ids.map((i) => op(i)), 1)).accepted).toEqual(ids);
        expect((await s.putOperations('T-2', 'b2', ids.map((i) => op(i)), 1)).duplicates).toEqual(ids);
        for (const id of ids) expect(await s.operation(id)).toMatchObject({ id });
        expect((await s.counts()).operations).toBe(8);
      }));

    it('bank requests: idempotent on their id, read back as sent', () =>
      use(async (s) => {
        const [o] = idsAt(Date.UTC(2026, 11, 3), 1) as [string];
        const req = (id: string) => ({ id, operationId: o, body: { id, operationId: o, bank: 'ICBC' } });
        expect(await s.putBankRequests('T-1', 'b1', [req('r1'), req('r2'), req('r1')], 1)).toEqual({ accepted: ['r1', 'r2'], duplicates: ['r1'] });
        expect(await s.putBankRequests('T-1', 'b2', [req('r2')], 2)).toEqual({ accepted: [], duplicates: ['r2'] });
        expect(await s.bankRequestCopies()).toEqual(new Map([['r1', 2], ['r2', 2]]));
        expect(await s.bankRequest('r1')).toEqual(req('r1').body);
        expect(await s.bankRequest('nope')).toBeUndefined();
        expect(await s.counts()).toMatchObject({ bankRequests: 2, bankRequestsReceived: 4, operations: 0 });
      }));

    it('the hotlist: each change a new version, read since a version', () =>
      use(async (s) => {
        expect(await s.hotlistVersion()).toBe(0);
        const v1 = await s.hotlistChange({ cardId: 'A'.repeat(32), action: 'add' }, 1);
        const v2 = await s.hotlistChange({ cardId: 'B'.repeat(32), action: 'add' }, 2);
        const v3 = await s.hotlistChange({ cardId: 'A'.repeat(32), action: 'remove' }, 3);
        expect(v1).toBeLessThan(v2);
        expect(v2).toBeLessThan(v3);
        expect(await s.hotlistVersion()).toBe(v3);
        expect(await s.hotlistSince(0)).toEqual([
          { cardId: 'A'.repeat(32), action: 'add' },
          { cardId: 'B'.repeat(32), action: 'add' },
          { cardId: 'A'.repeat(32), action: 'remove' },
        ]);
        expect(await s.hotlistSince(v2)).toEqual([{ cardId: 'A'.repeat(32), action: 'remove' }]);
        expect((await s.counts()).hotlistVersion).toBe(v3);
      }));

    it('an empty batch stores nothing', () =>
      use(async (s) => {
        expect(await s.putOperations('T-1', 'b1', [], 1)).toEqual({ accepted: [], duplicates: [] });
        expect(await s.putBankRequests('T-1', 'b1', [], 1)).toEqual({ accepted: [], duplicates: [] });
        expect(await s.counts()).toMatchObject({ operations: 0, received: 0, bankRequests: 0 });
      }));

    it('batches racing with the same ids (terminal retries on two nodes): each id held once, every copy counted', () =>
      use(async (s) => {
        const other = await f.again(s);
        try {
          const ids = idsAt(Date.UTC(2026, 11, 3), 40);
          const batches = Array.from({ length: 6 }, (_, k) => ids.filter((_, i) => (i + k) % 3 !== 0));
          const results = await Promise.all(batches.map((b, k) => (k % 2 === 0 ? s : other).putOperations('T-1', `b${k}`, b.map((i) => op(i)), k)));
          const accepted = results.flatMap((r) => r.accepted);
          expect(accepted.sort()).toEqual([...new Set(batches.flat())].sort());
          const sent = batches.flat().length;
          expect(results.reduce((n, r) => n + r.accepted.length + r.duplicates.length, 0)).toBe(sent);
          expect(await s.counts()).toMatchObject({ operations: new Set(batches.flat()).size, received: sent });
        } finally {
          await other.close();
        }
      }));

    it('heartbeats: one row per terminal, the latest kept with the backlog before it', () =>
      use(async (s) => {
        await s.recordHeartbeat('T-2', { software: '0.1.0', n: 1 }, 5, -120, 1_000);
        await s.recordHeartbeat('T-1', { software: '0.1.0', n: 1 }, 0, 30, 2_000);
        await s.recordHeartbeat('T-2', { software: '0.2.0', n: 2 }, 9, 15, 3_000);
        expect(await s.terminals()).toEqual([
          { terminalId: 'T-1', lastSeenAt: 2_000, skewMs: 30, backlog: 0, previousBacklog: null, heartbeat: { software: '0.1.0', n: 1 } },
          { terminalId: 'T-2', lastSeenAt: 3_000, skewMs: 15, backlog: 9, previousBacklog: 5, heartbeat: { software: '0.2.0', n: 2 } },
        ]);
      }));

    it('the terminal registry: certificates by fingerprint, revocation kept, refusals newest first', () =>
      use(async (s) => {
        const fp = 'AB:'.repeat(31) + 'CD';
        expect(await s.certificate(fp)).toBeUndefined();
        expect(await s.revokeCertificate(fp, 1)).toBe(false);
        await s.registerCertificate({ fingerprint: fp, terminalId: 'T-1', subject: 'CN=T-1', registeredAt: 1_000 });
        expect(await s.certificate(fp)).toEqual({ fingerprint: fp, terminalId: 'T-1', subject: 'CN=T-1', registeredAt: 1_000, revokedAt: null });
        expect(await s.revokeCertificate(fp, 2_000)).toBe(true);
        expect(await s.revokeCertificate(fp, 3_000)).toBe(true);
        await s.registerCertificate({ fingerprint: fp, terminalId: 'T-1', subject: 'CN=T-1', registeredAt: 4_000 });
        expect(await s.certificate(fp)).toMatchObject({ revokedAt: 2_000 });
        await s.recordRefusal({ at: 5, reason: 'unknown-certificate', fingerprint: fp, terminalId: null, claimedTerminalId: null, path: '/v1/operations' });
        await s.recordRefusal({ at: 6, reason: 'terminal-mismatch', fingerprint: fp, terminalId: 'T-1', claimedTerminalId: 'T-2', path: '/v1/heartbeat' });
        expect((await s.refusals(10)).map((r) => [r.at, r.reason, r.claimedTerminalId])).toEqual([
          [6, 'terminal-mismatch', 'T-2'],
          [5, 'unknown-certificate', null],
        ]);
        expect(await s.refusals(1)).toHaveLength(1);
      }));

    it('what was acknowledged is still there for the next store on the same database', () =>
      use(async (s) => {
        const ids = idsAt(Date.UTC(2026, 11, 3), 3);
        await s.putOperations('T-1', 'b1', ids.map((i) => op(i)), 1);
        await s.hotlistChange({ cardId: 'C'.repeat(32), action: 'add' }, 1);
        const next = await f.again(s);
        try {
          expect(await next.putOperations('T-1', 'b2', ids.map((i) => op(i)), 2)).toEqual({ accepted: [], duplicates: ids });
          expect(await next.hotlistSince(0)).toEqual([{ cardId: 'C'.repeat(32), action: 'add' }]);
        } finally {
          await next.close();
        }
      }));
  });
}
