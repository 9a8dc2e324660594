import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import { Journal } from '../journal/journal.js';
import { SyncWorker } from './worker.js';
import type { SyncOptions } from './worker.js';

let dir: string;
let journal: Journal;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sscard-worker-'));
  journal = Journal.open({ path: path.join(dir, 'j.sqlite'), keyFile: path.join(dir, 'j.key'), terminalId: 'T-1' });
});
afterEach(() => {
  journal.close();
  rmSync(dir, { recursive: true, force: true });
});

const base: SyncOptions = { endpoint: 'http://127.0.0.1:9/', terminalId: 'T-1' };

describe('SyncWorker options', () => {
  it.each<[string, Partial<SyncOptions>]>([
    ['endpoint', { endpoint: 'not a url' }],
    ['endpoint', { endpoint: 'ftp://platform/' }],
    ['batchSize', { batchSize: 0 }],
    ['batchSize', { batchSize: 1001 }],
    ['timeoutMs', { timeoutMs: -1 }],
    ['identity', { identity: 'all' as 'full' }],
    ['backoff.baseMs', { backoff: { baseMs: 0 } }],
    ['tls', { tls: { ca: 'x' } }],
  ])('names a bad %s', (name, extra) => {
    try {
      new SyncWorker(journal, { ...base, ...extra }).close();
      expect.fail('accepted');
    } catch (err) {
      expect(isSsCardError(err, ErrorCode.Sync_Config)).toBe(true);
      expect((err as { context: { option: string } }).context.option).toBe(name);
    }
  });

  it('reports a status before any sync: backlog from the journal, nothing else yet', () => {
    const w = new SyncWorker(journal, base);
    expect(w.status()).toEqual({
      running: false, backlog: 0, oldestUnsyncedAt: null, lastSuccessAt: null, lastAttemptAt: null, lastError: null,
      consecutiveFailures: 0, nextAttemptAt: null, rejected: 0, hotlistVersion: null, lastHotlistAt: null, hotlistCheck: null, clockOffsetMs: null, lastHeartbeatAt: null,
      bankRequests: { pending: 0, sent: 0, oldestPendingAt: null },
    });
    w.close();
  });
});
