/**
 * The API over TLS (api.tls, needed for api.allowRemote; docs/security.md "Remote access"), with
 * certificates made at test time by the openssl CLI: a test CA, a server certificate for
 * 127.0.0.1/localhost, a client certificate from the CA and one from another CA.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, startTestApi } from '../../testing/api-test-client.js';
import type { TestApi } from '../../testing/api-test-client.js';

const run = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';

let dir: string;
const pem = (name: string): Buffer => readFileSync(path.join(dir, name));

async function ca(name: string, subject: string): Promise<void> {
  const f = (n: string): string => path.join(dir, n);
  await run(OPENSSL, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-keyout', f(`${name}.key`), '-out', f(`${name}.pem`), '-subj', subject, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

async function issue(name: string, subject: string, by: string, extensions: string, serial: number): Promise<void> {
  const f = (n: string): string => path.join(dir, n);
  await run(OPENSSL, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', subject]);
  writeFileSync(f(`${name}.ext`), extensions);
  await run(OPENSSL, ['x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${by}.pem`), '-CAkey', f(`${by}.key`), '-set_serial', String(serial), '-days', '2', '-extfile', f(`${name}.ext`), '-out', f(`${name}.pem`)]);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'sscard-api-tls-'));
  await Promise.all([ca('ca', '/O=sscard test/CN=sscard test API CA'), ca('rogue-ca', '/O=sscard test/CN=sscard test API CA')]);
  const client = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n';
  await Promise.all([
    issue('server', '/O=sscard test/CN=127.0.0.1', 'ca', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n', 1),
    issue('client', '/O=sscard test/CN=counter-7', 'ca', client, 2),
    issue('rogue', '/O=sscard test/CN=counter-7', 'rogue-ca', client, 2),
  ]);
}, 60_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let t: TestApi | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

function get(port: number, p: string, opts: https.RequestOptions = {}): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: p, method: 'GET', ca: pem('ca.pem'), agent: false, ...opts }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('TLS', () => {
  it('serves https and wss with the configured certificate; service URIs say wss', async () => {
    const api = (t = await startTestApi({ tls: { cert: pem('server.pem'), key: pem('server.key') }, allowUnauthenticatedLoopback: false }));
    const port = api.server.port;
    expect((await get(port, '/health')).status).toBe(200);
    expect((await get(port, '/status')).status).toBe(401);
    expect((await get(port, '/status', { headers: { authorization: `Bearer ${api.clientToken}` } })).status).toBe(200);
    const pub = await TestClient.connect(`wss://127.0.0.1:${port}/xfs4iot/v1.0`, { ca: pem('ca.pem'), token: api.clientToken });
    const r = await pub.command('ServicePublisher.GetServices');
    expect((r.completion.payload!['services'] as unknown[])[0]).toEqual({ serviceURI: `wss://127.0.0.1:${port}/xfs4iot/v1.0/sscard` });
    pub.close();
    // own origins are https:// ones
    const c = await TestClient.connect(`wss://127.0.0.1:${port}/xfs4iot/v1.0/sscard`, { ca: pem('ca.pem'), origin: `https://localhost:${port}` });
    expect((await c.command('Common.Status')).completion.header.completionCode).toBe('success');
    c.close();
    await expect(TestClient.connect(`wss://127.0.0.1:${port}/xfs4iot/v1.0/sscard`, { ca: pem('ca.pem'), origin: `http://localhost:${port}` })).rejects.toThrow('HTTP 403');
  });

  it('with api.tls.ca a client certificate from that CA admits a client; another CA’s does not', async () => {
    const api = (t = await startTestApi({ tls: { cert: pem('server.pem'), key: pem('server.key'), ca: pem('ca.pem') }, allowUnauthenticatedLoopback: false }));
    const port = api.server.port;
    expect((await get(port, '/status', { cert: pem('client.pem'), key: pem('client.key') })).status).toBe(200);
    expect((await get(port, '/status', { cert: pem('rogue.pem'), key: pem('rogue.key') })).status).toBe(401);
    expect((await get(port, '/status')).status).toBe(401);
    const c = await TestClient.connect(`wss://127.0.0.1:${port}/xfs4iot/v1.0/sscard`, { ca: pem('ca.pem'), cert: pem('client.pem'), key: pem('client.key') });
    expect((await c.command('Common.Status')).completion.header.completionCode).toBe('success');
    expect(api.logger.entries.find((e) => e.message === 'API client connected')!.meta).toMatchObject({ identity: 'cert:counter-7' });
    c.close();
    await expect(TestClient.connect(`wss://127.0.0.1:${port}/xfs4iot/v1.0/sscard`, { ca: pem('ca.pem'), cert: pem('rogue.pem'), key: pem('rogue.key') })).rejects.toThrow('HTTP 401');
  });
});
