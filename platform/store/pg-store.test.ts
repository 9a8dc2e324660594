/**
 * PgStore's transactions against a scripted pool (unit): what PostgreSQL ends to break a deadlock
 * or a serialisation conflict runs again, whole; any other failure does not; the rows go in, and are
 * locked, in id order. The store against a real PostgreSQL is test/platform-postgres.test.ts.
 */
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import { idsAt, op } from '../../testing/platform-store-contract.js';
import { PgStore } from './pg-store.js';

/** A pool whose clients record every statement and answer as `answer` says (throw to fail it). */
function scriptedStore(answer: (sql: string, values: unknown[] | undefined, n: number) => pg.QueryResult | undefined): { store: PgStore; sql: string[]; releases: () => number } {
  const sql: string[] = [];
  let released = 0;
  const client = {
    query: (text: string, values?: unknown[]) => {
      sql.push(text.replace(/\s+/g, ' ').trim());
      try {
        return Promise.resolve(answer(text, values, sql.length) ?? ({ rows: [] } as unknown as pg.QueryResult));
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    },
    release: () => void released++,
  };
  const pool = { connect: () => Promise.resolve(client) };
  const Ctor = PgStore as unknown as new (p: unknown) => PgStore;
  return { store: new Ctor(pool), sql, releases: () => released };
}

const pgError = (code: string, message: string): Error => Object.assign(new Error(message), { code });

describe('PgStore transactions', () => {
  const ids = idsAt(Date.UTC(2026, 11, 3), 3);
  const batch = [ids[2]!, ids[0]!, ids[1]!, ids[0]!].map((i) => op(i));

  it('a deadlock (40P01) or serialisation failure (40001) runs the transaction again; rows inserted and locked in id order', async () => {
    const failures = [pgError('40P01', 'deadlock detected'), pgError('40001', 'could not serialize access')];
    const { store, sql, releases } = scriptedStore((text, values) => {
      if (text.includes('INSERT INTO operations')) {
        const f = failures.shift();
        if (f) throw f;
        return { rows: [{ id: ids[0] }, { id: ids[1] }] } as unknown as pg.QueryResult;
      }
      if (text.includes('FOR UPDATE')) expect(values).toEqual([[ids[2], ids[0]]]);
      return undefined;
    });
    const r = await store.putOperations('T-1', 'b1', batch, 1_000);
    expect(r).toEqual({ accepted: [ids[0], ids[1]], duplicates: [ids[2], ids[0]] });
    const inserts = sql.filter((s) => s.startsWith('INSERT INTO operations'));
    expect(inserts).toHaveLength(3);
    expect(sql.filter((s) => s === 'ROLLBACK')).toHaveLength(2);
    expect(sql.filter((s) => s === 'COMMIT')).toHaveLength(1);
    expect(releases()).toBe(3);
    // The copies' rows are locked in id order before the UPDATE.
    const lock = sql.findIndex((s) => s.includes('ORDER BY id FOR UPDATE'));
    expect(lock).toBeGreaterThan(-1);
    expect(sql[lock + 1]).toMatch(/^UPDATE operations o SET copies/);
  });

  it('the insert gets the batch in id order', async () => {
    let inserted: unknown;
    const { store } = scriptedStore((text, values) => {
      if (text.includes('INSERT INTO operations')) inserted = values?.[0];
      return undefined;
    });
    await store.putOperations('T-1', 'b1', batch, 1_000);
    expect(inserted).toEqual([ids[0], ids[0], ids[1], ids[2]]);
  });

  it('three deadlocks in a row, or any other failure once, fail the batch with the database named', async () => {
    for (const [error, attempts] of [
      [pgError('40P01', 'deadlock detected'), 3],
      [pgError('23514', 'new row violates check constraint'), 1],
      [new Error('Connection terminated unexpectedly'), 1],
    ] as const) {
      const { store, sql } = scriptedStore((text) => {
        if (text.includes('INSERT INTO operations')) throw error;
        return undefined;
      });
      const e = await store.putOperations('T-1', 'b1', batch, 1_000).then(
        () => null,
        (x: unknown) => x,
      );
      expect(isSsCardError(e) && e.code === ErrorCode.Central_Failed).toBe(true);
      expect((e as Error).message).toContain(error.message);
      expect(sql.filter((s) => s.startsWith('INSERT INTO operations'))).toHaveLength(attempts);
    }
  });
});
