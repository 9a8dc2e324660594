/**
 * What bench:fuzz's traffic left behind in the daemon's files (docs/benchmarks.md, "bench:fuzz"):
 * the log's growth and its lines by what they say, and the audit rows of the journal.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/** Bytes of every file in the log folder (0 when there is none). */
export function logBytes(dir: string): number {
  try {
    return readdirSync(dir).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);
  } catch {
    return 0;
  }
}

/** The log lines from byte `from` on, by component, level and message (numbers and client ids folded). */
export function logLines(file: string, from: number): { lines: number; byMessage: { what: string; lines: number; bytes: number }[] } {
  const text = readFileSync(file).subarray(from).toString('utf8');
  const by = new Map<string, { lines: number; bytes: number }>();
  let lines = 0;
  for (const l of text.split('\n')) {
    if (l.length === 0) continue;
    lines++;
    let what = '(not JSON)';
    try {
      const e = JSON.parse(l) as { component?: string; level?: string; message?: string };
      const msg = String(e.message).replace(/\b\d+\b/g, 'N').replace(/client c\d+/, 'client cN');
      what = `${e.component} ${e.level} ${e.component === 'APDU' ? '(APDU trace)' : msg}`;
    } catch {
      // counted as not JSON
    }
    const v = by.get(what) ?? { lines: 0, bytes: 0 };
    v.lines++;
    v.bytes += Buffer.byteLength(l) + 1;
    by.set(what, v);
  }
  return { lines, byMessage: [...by].map(([what, v]) => ({ what, ...v })).sort((a, b) => b.bytes - a.bytes) };
}

/** Rows of the journal's audit table, or null when it cannot be read. */
export function auditRows(journal: string): number | null {
  try {
    const db = new Database(journal, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM audit').get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}
