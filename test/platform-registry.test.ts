/**
 * The platform's terminal registry over real mTLS (docs/sync-protocol.md "Terminal registry"):
 * certificates from the test CA (test/helpers/pki.ts), the reference platform requiring them and
 * mapping each to its terminal. A registered terminal syncs; a certificate the CA issued but
 * nobody registered, a revoked one, and a terminal naming another terminal in its batch are
 * refused (403), store nothing and are journaled on the platform — once a minute however often
 * the client repeats.
 */
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import type { Journal } from '../daemon/journal/journal.js';
import { SyncWorker } from '../daemon/sync/worker.js';
import { CentralServer } from '../platform/server.js';
import { makePki } from './helpers/pki.js';
import type { Pki } from './helpers/pki.js';
import { fill, openJournal, tempDir } from './journal/fixtures.js';

let pki: Pki;
let dir: string;
let journal: Journal;
let central: CentralServer;

beforeAll(async () => {
  pki = await makePki();
  await Promise.all([pki.issueClient('t-a', 'T-A', 10), pki.issueClient('t-b', 'T-B', 11), pki.issueClient('t-old', 'T-OLD', 12)]);
}, 60_000);
afterAll(() => rmSync(pki.dir, { recursive: true, force: true }));

beforeEach(async () => {
  dir = tempDir('sscard-registry-');
  journal = openJournal(dir);
  central = await CentralServer.start({ tls: { cert: pki.pem('server.pem'), key: pki.pem('server.key'), ca: pki.pem('ca.pem'), requireClientCert: true }, registry: true });
  await central.registerCertificate('T-A', pki.pem('t-a.pem'));
  await central.registerCertificate('T-B', pki.pem('t-b.pem'));
  await central.registerCertificate('T-OLD', pki.pem('t-old.pem'));
  expect(await central.revokeCertificate(pki.pem('t-old.pem'))).toBe(true);
});
afterEach(async () => {
  journal.close();
  await central.close();
  rmSync(dir, { recursive: true, force: true });
});

const worker = (cert: string, terminalId: string): SyncWorker =>
  new SyncWorker(journal, { endpoint: central.url, terminalId, timeoutMs: 10_000, tls: { cert: pki.pem(`${cert}.pem`), key: pki.pem(`${cert}.key`), ca: pki.pem('ca.pem') } });

async function refused(w: SyncWorker): Promise<string> {
  const err = await w.syncNow().then(
    () => undefined,
    (e: unknown) => e,
  );
  w.close();
  expect(isSsCardError(err, ErrorCode.Sync_HttpStatus)).toBe(true);
  expect((err as { context: { status: number } }).context.status).toBe(403);
  return (err as Error).message;
}

describe('the terminal registry', () => {
  it('a registered terminal syncs its operations', async () => {
    const ids = fill(journal, 4);
    const w = worker('t-a', 'T-A');
    expect(await w.syncNow()).toMatchObject({ accepted: 4 });
    w.close();
    expect(new Set((await central.operationCopies()).keys())).toEqual(new Set(ids));
    expect(await central.refusals()).toEqual([]);
  });

  it.each([
    ['a certificate the CA issued but nobody registered', 'client', 'T-TEST', 'unknown-certificate'],
    ['a revoked certificate', 't-old', 'T-OLD', 'revoked-certificate'],
    ['another terminal\'s id in the batch', 't-b', 'T-A', 'terminal-mismatch'],
  ] as const)('%s: refused, nothing stored, journaled on the platform', async (_what, cert, terminalId, reason) => {
    fill(journal, 3);
    await refused(worker(cert, terminalId));
    expect((await central.counts()).operations).toBe(0);
    expect(journal.backlog().count).toBe(3);
    const r = await central.refusals();
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ reason, path: '/v1/operations', ...(reason === 'terminal-mismatch' ? { terminalId: 'T-B', claimedTerminalId: 'T-A' } : {}) });
    expect(r[0]!.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('a refused client repeating itself costs one journal row a minute, not one per request', async () => {
    fill(journal, 1);
    for (let i = 0; i < 20; i++) await refused(worker('client', 'T-TEST'));
    expect(await central.refusals()).toHaveLength(1);
  });

  it('a registry without client certificates is refused at start', async () => {
    await expect(CentralServer.start({ registry: true })).rejects.toThrow(/client certificates/);
  });
});
