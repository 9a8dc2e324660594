/**
 * mTLS between the sync worker and the reference platform server, for real: certificates made at
 * test time with the openssl CLI (a test CA, a server certificate for 127.0.0.1/localhost, a
 * terminal certificate from the same CA, and a terminal certificate from a different CA), an HTTPS
 * server on loopback that requires client certificates, and the worker's own HTTPS client.
 *
 * - the right certificate: operations sync, the platform holds each exactly once;
 * - no certificate, or one from another CA: refused (403), nothing stored, no row marked synced,
 *   the status carries a bilingual error;
 * - a worker that does not trust the platform's CA sends nothing at all;
 * - `sscard sync --cert --tls-key --ca` does the same from the command line.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import type { SsCardError } from '../core/errors.js';
import { CentralServer } from '../platform/server.js';
import type { Journal } from '../daemon/journal/journal.js';
import type { TlsOptions } from '../daemon/sync/http.js';
import { SyncWorker } from '../daemon/sync/worker.js';
import type { SyncOptions } from '../daemon/sync/worker.js';
import { syncCommand } from '../scripts/cmd-sync.js';
import { makePki } from './helpers/pki.js';
import type { Pki } from './helpers/pki.js';
import { fill, openJournal, tempDir } from './journal/fixtures.js';

const run = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';

let pki: Pki;
let dir: string;
let journal: Journal;
let central: CentralServer;
let payloads: Buffer[];

beforeAll(async () => {
  pki = await makePki();
  // The certificates are what they claim to be (so a refusal below is the CA, not a broken file).
  const { stdout } = await run(OPENSSL, ['verify', '-CAfile', pki.file('ca.pem'), pki.file('server.pem'), pki.file('client.pem')]);
  expect(stdout).toMatch(/server\.pem: OK/);
  expect(stdout).toMatch(/client\.pem: OK/);
  await expect(run(OPENSSL, ['verify', '-CAfile', pki.file('ca.pem'), pki.file('rogue-client.pem')])).rejects.toThrow();
});

afterAll(() => {
  rmSync(pki.dir, { recursive: true, force: true });
});

beforeEach(async () => {
  dir = tempDir('sscard-mtls-');
  journal = openJournal(dir);
  payloads = [];
  central = await CentralServer.start({
    tls: { cert: pki.pem('server.pem'), key: pki.pem('server.key'), ca: pki.pem('ca.pem'), requireClientCert: true },
    capture: (b) => payloads.push(b),
  });
});

afterEach(async () => {
  journal.close();
  await central.close();
  rmSync(dir, { recursive: true, force: true });
});

const GOOD: () => TlsOptions = () => ({ cert: pki.pem('client.pem'), key: pki.pem('client.key'), ca: pki.pem('ca.pem') });

function worker(tlsOpts: TlsOptions, extra: Partial<SyncOptions> = {}): SyncWorker {
  return new SyncWorker(journal, {
    endpoint: central.url,
    terminalId: 'T-TEST',
    batchSize: 3,
    timeoutMs: 10_000,
    tls: tlsOpts,
    backoff: { baseMs: 5, maxMs: 20 },
    intervalMs: 20,
    hotlistIntervalMs: 60_000,
    random: () => 0.999,
    ...extra,
  });
}

async function syncError(w: SyncWorker): Promise<SsCardError> {
  try {
    await w.syncNow();
  } catch (err) {
    if (isSsCardError(err)) return err;
    throw err;
  }
  throw new Error('syncNow succeeded');
}

async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Nothing of the journal left the terminal for good: no row synced, the platform holds nothing. */
async function expectNothingSynced(n: number): Promise<void> {
  expect(journal.backlog().count).toBe(n);
  expect(journal.stats().bySync).toMatchObject({ synced: 0, unsynced: n, rejected: 0 });
  expect((await central.counts()).operations).toBe(0);
  expect((await central.operationCopies()).size).toBe(0);
  expect(payloads).toHaveLength(0);
}

describe('mTLS: the terminal certificate from the platform CA', () => {
  it('syncs journaled operations over HTTPS; the platform holds each exactly once', async () => {
    const ids = fill(journal, 7);
    const w = worker(GOOD());
    const report = await w.syncNow();
    expect(report).toMatchObject({ sent: 7, accepted: 7, duplicates: 0, rejected: [], unacknowledged: 0, requests: 3, remaining: 0 });
    // A second pass has nothing to send.
    expect(await w.syncNow()).toMatchObject({ sent: 0, requests: 0, remaining: 0 });
    // The hotlist comes over the same authenticated connection.
    await central.hotlistAdd('410402D156000005AAAAAAAAAAAAAAAA');
    expect(await w.pullHotlist()).toEqual({ version: '1', full: true, added: 1, removed: 0 });
    const status = w.status();
    w.close();

    const held = (await central.operationCopies());
    expect([...held.keys()].sort()).toEqual([...ids].sort());
    for (const id of ids) expect(held.get(id), id).toBe(1);
    expect((await central.counts())).toMatchObject({ operations: 7, received: 7, duplicatesReceived: 0 });
    expect(payloads).toHaveLength(3);
    expect(central.requests().map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(journal.stats().bySync).toMatchObject({ synced: 7, unsynced: 0, rejected: 0 });
    expect(status).toMatchObject({ backlog: 0, lastError: null, hotlistVersion: '1' });
    expect(status.lastSuccessAt).not.toBeNull();
  });

  it('the background loop drains rows journaled while it runs', async () => {
    const ids = fill(journal, 4);
    const w = worker(GOOD());
    w.start();
    await until(() => journal.backlog().count === 0, 'the first rows to sync');
    ids.push(...fill(journal, 5, 4));
    w.wake();
    await until(() => journal.backlog().count === 0, 'the later rows to sync');
    await w.stop();
    const held = (await central.operationCopies());
    expect(held.size).toBe(9);
    for (const id of ids) expect(held.get(id), id).toBe(1);
    expect(w.status()).toMatchObject({ backlog: 0, lastError: null, consecutiveFailures: 0 });
  });
});

describe('mTLS: the platform refuses a terminal it cannot authenticate', () => {
  it.each<[string, () => TlsOptions, RegExp]>([
    ['no client certificate', () => ({ ca: pki.pem('ca.pem') }), /^no client certificate$/],
    ['a client certificate from another CA', () => ({ cert: pki.pem('rogue-client.pem'), key: pki.pem('rogue-client.key'), ca: pki.pem('ca.pem') }), /^client certificate not accepted \(/],
  ])('%s: 403, nothing stored, no row synced, a bilingual error in the status', async (_name, tlsOpts, serverSays) => {
    fill(journal, 5);
    const w = worker(tlsOpts());
    const err = await syncError(w);
    expect(err.code).toBe(ErrorCode.Sync_HttpStatus);
    expect(err.context).toMatchObject({ status: 403 });
    // Later requests are refused too, although the client may now resume the TLS session of the
    // refused one (Node counts a resumed TLS 1.3 session without a certificate as authorized).
    await expect(w.pullHotlist()).rejects.toSatisfy((e: unknown) => isSsCardError(e, ErrorCode.Sync_HttpStatus));
    await expect(w.syncNow()).rejects.toSatisfy((e: unknown) => isSsCardError(e, ErrorCode.Sync_HttpStatus));
    const status = w.status();
    w.close();

    await expectNothingSynced(5);
    expect(journal.hotlistVersion()).toBeNull();
    expect(central.requests().map((r) => [r.status, r.operations])).toEqual([[403, 0], [403, 0], [403, 0]]);
    expect(status.backlog).toBe(5);
    expect(status.lastSuccessAt).toBeNull();
    expect(status.lastError).not.toBeNull();
    expect(status.lastError!.code).toBe(ErrorCode.Sync_HttpStatus);
    expect(status.lastError!.zh).toMatch(/HTTP 403/);
    expect(status.lastError!.zh).toMatch(/平台拒绝了本终端.*证书/);
    expect(status.lastError!.en).toMatch(/HTTP 403/);
    expect(status.lastError!.en).toMatch(/refused this terminal.*certificate/);

    // What the platform answered says why (read straight from it, with the right certificate's trust).
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const t = tlsOpts();
      const req = https.request(new URL('v1/health', central.url), { agent: false, ...t }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(answer.status).toBe(403);
    expect((JSON.parse(answer.body) as { error: string }).error).toMatch(serverSays);
  });

  it('the background loop keeps refusing and backing off; the rows stay until a good certificate is configured', async () => {
    const ids = fill(journal, 6);
    const retries: ErrorCode[] = [];
    const bad = worker({ cert: pki.pem('rogue-client.pem'), key: pki.pem('rogue-client.key'), ca: pki.pem('ca.pem') }, { onRetry: (r) => retries.push(r.error.code) });
    bad.start();
    await until(() => retries.length >= 3, 'three refused attempts');
    await bad.stop();
    expect(retries.every((c) => c === ErrorCode.Sync_HttpStatus)).toBe(true);
    await expectNothingSynced(6);

    const good = worker(GOOD());
    expect(await good.syncNow()).toMatchObject({ accepted: 6, remaining: 0 });
    expect(good.status().lastError).toBeNull();
    good.close();
    const held = (await central.operationCopies());
    expect(held.size).toBe(6);
    for (const id of ids) expect(held.get(id), id).toBe(1);
  });

  it('a platform that refuses in the TLS handshake itself gets a bilingual "refused this terminal" error', async () => {
    // Node's own requestCert + rejectUnauthorized: a missing certificate ends the handshake with an alert.
    const strict = https.createServer({ cert: pki.pem('server.pem'), key: pki.pem('server.key'), ca: pki.pem('ca.pem'), requestCert: true, rejectUnauthorized: true }, (_req, res) => {
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => strict.listen(0, '127.0.0.1', resolve));
    try {
      fill(journal, 2);
      const w = worker({ ca: pki.pem('ca.pem') }, { endpoint: `https://127.0.0.1:${(strict.address() as AddressInfo).port}/` });
      const err = await syncError(w);
      w.close();
      expect(err.code).toBe(ErrorCode.Sync_Config);
      expect(err.text.zh).toMatch(/拒绝了本终端/);
      expect(err.text.en).toMatch(/refused this terminal in the TLS handshake \(ERR_SSL_\w*ALERT\w*\)/);
      expect(journal.stats().bySync).toMatchObject({ synced: 0, unsynced: 2 });
    } finally {
      strict.closeAllConnections();
      await new Promise<void>((resolve) => strict.close(() => resolve()));
    }
  });
});

describe('mTLS: a terminal that does not trust the platform sends nothing', () => {
  it.each<[string, () => TlsOptions]>([
    ["Node's default CAs (no --ca)", () => ({ cert: pki.pem('client.pem'), key: pki.pem('client.key') })],
    ['another CA as the platform CA', () => ({ cert: pki.pem('client.pem'), key: pki.pem('client.key'), ca: pki.pem('rogue-ca.pem') })],
  ])('%s: refused before any request, the platform receives no payload', async (_name, tlsOpts) => {
    fill(journal, 4);
    const w = worker(tlsOpts());
    const err = await syncError(w);
    await expect(w.pullHotlist()).rejects.toSatisfy((e: unknown) => isSsCardError(e, ErrorCode.Sync_Config));
    const status = w.status();
    w.close();

    expect(err.code).toBe(ErrorCode.Sync_Config);
    expect(err.context).toMatchObject({ transient: false });
    await expectNothingSynced(4);
    expect(central.requests()).toHaveLength(0);
    expect(status.lastError).not.toBeNull();
    expect(status.lastError!.code).toBe(ErrorCode.Sync_Config);
    expect(status.lastError!.zh).toMatch(/TLS 握手失败.*未发送任何记录.*平台 CA/);
    expect(status.lastError!.en).toMatch(/TLS handshake .* failed \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\) and nothing was sent/);
  });

  it('not one byte of application data reaches a TLS listener the terminal does not trust', async () => {
    // A bare TLS server with the platform's certificate that records every decrypted byte.
    const received: Buffer[] = [];
    let connections = 0;
    let closed = 0;
    const listener = tls.createServer({ cert: pki.pem('server.pem'), key: pki.pem('server.key'), ca: pki.pem('ca.pem'), requestCert: true, rejectUnauthorized: false }, (s) => {
      s.on('data', (c: Buffer) => received.push(c));
      s.on('error', () => undefined);
    });
    listener.on('connection', (s: Socket) => {
      connections++;
      s.on('close', () => closed++);
    });
    listener.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    try {
      fill(journal, 3);
      const w = worker({ cert: pki.pem('client.pem'), key: pki.pem('client.key'), ca: pki.pem('rogue-ca.pem') }, { endpoint: `https://127.0.0.1:${(listener.address() as AddressInfo).port}/` });
      const err = await syncError(w);
      w.close();
      expect(err.code).toBe(ErrorCode.Sync_Config);
      // The terminal connected, refused the certificate and hung up: every connection is closed, no byte decrypted.
      await until(() => connections > 0 && closed === connections, 'the server side of the connections to close');
      expect(Buffer.concat(received)).toHaveLength(0);
      expect(journal.stats().bySync).toMatchObject({ synced: 0, unsynced: 3 });
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
  });
});

describe('mTLS configuration', () => {
  it.each<[string, () => TlsOptions]>([
    ['a certificate without its key', () => ({ cert: pki.pem('client.pem'), ca: pki.pem('ca.pem') })],
    ['a key without its certificate', () => ({ key: pki.pem('client.key'), ca: pki.pem('ca.pem') })],
    ['a key that does not match the certificate', () => ({ cert: pki.pem('client.pem'), key: pki.pem('rogue-client.key'), ca: pki.pem('ca.pem') })],
    ['a certificate that is not PEM', () => ({ cert: Buffer.from('not a certificate'), key: pki.pem('client.key'), ca: pki.pem('ca.pem') })],
  ])('%s is refused when the worker is made (option tls), before any connection', (_name, tlsOpts) => {
    let caught: unknown;
    try {
      worker(tlsOpts()).close();
    } catch (err) {
      caught = err;
    }
    expect(isSsCardError(caught, ErrorCode.Sync_Config)).toBe(true);
    const e = caught as SsCardError;
    expect(e.context).toMatchObject({ option: 'tls' });
    expect(e.text.zh).toMatch(/证书|私钥/);
    expect(e.text.en).toMatch(/certificate|key/);
    expect(central.requests()).toHaveLength(0);
  });

  it('the reference server will not require client certificates without the CA that issues them', async () => {
    await expect(CentralServer.start({ tls: { cert: pki.pem('server.pem'), key: pki.pem('server.key'), requireClientCert: true } })).rejects.toSatisfy((e: unknown) =>
      isSsCardError(e, ErrorCode.Central_Failed),
    );
  });
});

describe('sscard sync --cert --tls-key --ca', () => {
  async function cli(extra: { cert?: string; tlsKey?: string; ca?: string }): Promise<{ code: number; out: { error?: { code: number; zh: string; en: string }; report: { accepted: number } | null } }> {
    const chunks: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    });
    try {
      const code = await syncCommand({ db: path.join(dir, 'journal.sqlite'), key: path.join(dir, 'journal.key'), endpoint: central.url, json: true, hotlist: false, ...extra });
      return { code, out: JSON.parse(chunks.join('')) as { error?: { code: number; zh: string; en: string }; report: { accepted: number } | null } };
    } finally {
      spy.mockRestore();
    }
  }

  it('exits non-zero without a client certificate, then syncs with one', async () => {
    const ids = fill(journal, 5);
    journal.close();
    const refused = await cli({ ca: pki.file('ca.pem') });
    expect(refused.code).not.toBe(0);
    expect(refused.out.error).toMatchObject({ code: ErrorCode.Sync_HttpStatus });
    expect(refused.out.error!.zh).toMatch(/HTTP 403/);
    expect(refused.out.error!.en).toMatch(/HTTP 403/);
    expect((await central.counts()).operations).toBe(0);

    const ok = await cli({ cert: pki.file('client.pem'), tlsKey: pki.file('client.key'), ca: pki.file('ca.pem') });
    expect(ok.code).toBe(0);
    expect(ok.out.report).toMatchObject({ accepted: 5 });
    const held = (await central.operationCopies());
    expect(held.size).toBe(5);
    for (const id of ids) expect(held.get(id), id).toBe(1);
    journal = openJournal(dir);
    expect(journal.stats().bySync).toMatchObject({ synced: 5, unsynced: 0 });
  });

  it('refuses --cert without --tls-key', async () => {
    fill(journal, 1);
    journal.close();
    await expect(cli({ cert: pki.file('client.pem'), ca: pki.file('ca.pem') })).rejects.toSatisfy((e: unknown) => isSsCardError(e, ErrorCode.Sync_Config));
    journal = openJournal(dir);
    expect(central.requests()).toHaveLength(0);
  });
});
