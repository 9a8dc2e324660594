/**
 * Who may talk to the daemon, through real sockets on loopback against the real server and the
 * fake terminal (docs/security.md): Host, Origin, credentials, CORS, forms, security headers and
 * service URIs. What a hostile client may cost is in hostile.test.ts; TLS in tls.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientRegistry, clientTokenHash, newClientToken, writeClientsFile } from '../auth/clients.js';
import type { ClientEntry } from '../auth/clients.js';
import { canonicalOrigin, hostName, isLoopbackAddress } from './access.js';
import { FakeOperatorAuth } from '../../testing/fake-operator-auth.js';
import { FakeTerminal } from '../../testing/fake-terminal.js';
import { TestClient, startTestApi, until } from '../../testing/api-test-client.js';
import type { TestApi } from '../../testing/api-test-client.js';

let t: TestApi | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await t?.close();
  t = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
async function start(...args: Parameters<typeof startTestApi>): Promise<TestApi> {
  t = (await startTestApi(...args)) as TestApi;
  return t;
}
/** The secure default of the daemon: no native client without a credential. */
const strict = { allowUnauthenticatedLoopback: false } as const;
const json = { 'content-type': 'application/json' };
const KIOSK_UI = 'http://127.0.0.1:8080';

/** The HTTP status of a refused upgrade ("HTTP 421"), or "open". */
async function upgrade(url: string, opts: Parameters<typeof TestClient.connect>[1] = {}): Promise<string> {
  try {
    const c = await TestClient.connect(url, opts);
    c.close();
    return 'open';
  } catch (e) {
    return (e as Error).message;
  }
}

/** A raw request (any Host, or none), the status line and headers back. */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(request));
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString('latin1')));
    s.on('close', () => resolve(text));
    s.on('error', reject);
    setTimeout(() => s.destroy(), 2000).unref();
  });
}

describe('pieces', () => {
  it('host names, origins and loopback addresses are read as browsers and sockets give them', () => {
    expect(hostName('LocalHost:5846')).toBe('localhost');
    expect(hostName('[::1]:5846')).toBe('::1');
    expect(hostName('127.0.0.1')).toBe('127.0.0.1');
    expect(hostName('kiosk.example.')).toBe('kiosk.example');
    expect(hostName('evil.example:5846/x')).toBeNull();
    expect(hostName(undefined)).toBeNull();
    expect(canonicalOrigin('HTTP://Kiosk.Example:80')).toBe('http://kiosk.example');
    expect(canonicalOrigin('https://ui.example:8443/')).toBe('https://ui.example:8443');
    for (const bad of ['null', 'file://', 'http://a/b', 'http://u:p@a', 'ftp://a', 'http://a?x', '*']) expect(canonicalOrigin(bad), bad).toBeNull();
    expect(isLoopbackAddress('127.3.2.1')).toBe(true);
    expect(isLoopbackAddress('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('::1')).toBe(true);
    expect(isLoopbackAddress('10.0.0.1')).toBe(false);
    expect(isLoopbackAddress(undefined)).toBe(false);
  });
});

describe('Host (DNS rebinding)', () => {
  it('a foreign Host is 421 on every route and on the upgrade, before anything runs; own names are served', async () => {
    const api = await start({ hostNames: ['kiosk-17.branch.example'] });
    const evil = { host: `rebind.evil.example:${api.server.port}` };
    for (const [method, p, body] of [
      ['GET', '/health', undefined],
      ['GET', '/status', undefined],
      ['POST', '/sscard/iVerifyPIN', '{"iType":1}'],
      ['GET', '/nope', undefined],
    ] as const) {
      const r = await api.http(method, p, body, { ...json, ...evil });
      expect(r.status, p).toBe(421);
      expect(r.headers['connection']).toBe('close');
      expect(r.text).toContain('DNS');
    }
    expect(await upgrade(api.serviceUrl, { headers: evil })).toBe('HTTP 421');
    expect(api.terminal.calls).toEqual([]);
    for (const host of [`localhost:${api.server.port}`, `[::1]:${api.server.port}`, '127.0.0.1', `kiosk-17.branch.example:${api.server.port}`]) {
      expect((await api.http('GET', '/health', undefined, { host })).status, host).toBe(200);
    }
    // no Host at all (HTTP/1.0) is not one of our names either
    expect(await raw(api.server.port, 'GET /health HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1\.1 421/);
  });

  it('service URIs come from the configuration, never from the Host header', async () => {
    const api = await start();
    const pub = await api.connect('/xfs4iot/v1.0', { headers: { host: `localhost:${api.server.port}` } });
    const r = await pub.command('ServicePublisher.GetServices');
    // The service, then each card reader's own (the fake terminal's reader, percent-encoded).
    expect(r.completion.payload).toEqual({
      vendorName: 'sscard',
      services: [{ serviceURI: `ws://127.0.0.1:${api.server.port}/xfs4iot/v1.0/sscard` }, { serviceURI: `ws://127.0.0.1:${api.server.port}/xfs4iot/v1.0/sscard/reader/Fake%20Reader%2000` }],
    });
    await t!.close();
    const named = await start({ hostNames: ['kiosk-17.branch.example'] });
    const pub2 = await named.connect('/xfs4iot/v1.0');
    const r2 = await pub2.command('ServicePublisher.GetServices');
    expect((r2.completion.payload!['services'] as unknown[])[0]).toEqual({ serviceURI: `ws://kiosk-17.branch.example:${named.server.port}/xfs4iot/v1.0/sscard` });
  });
});

describe('Origin (browsers)', () => {
  it('Origin null and foreign origins are refused at the handshake and on every HTTP call, even with a valid token', async () => {
    const api = await start({ allowedOrigins: [KIOSK_UI] });
    for (const origin of ['null', 'http://evil.example', `http://127.0.0.1:${api.server.port + 1}`, 'https://127.0.0.1:8080', 'http://127.0.0.1:8080.evil.example']) {
      expect(await upgrade(api.serviceUrl, { origin }), origin).toBe('HTTP 403');
      expect(await upgrade(api.serviceUrl, { origin, token: api.clientToken }), origin).toBe('HTTP 403');
      for (const [method, p] of [
        ['GET', '/status'],
        ['GET', '/health'],
        ['POST', '/sscard/iReadCardBas'],
      ] as const) {
        const r = await api.http(method, p, method === 'POST' ? '{"iType":1}' : undefined, { ...json, origin });
        expect(r.status, `${origin} ${p}`).toBe(403);
        expect(r.headers['access-control-allow-origin']).toBeUndefined();
      }
    }
    expect(api.terminal.calls).toEqual([]);
  });

  it('an allowed origin (configured, or the daemon’s own) works on WebSocket and HTTP without a credential, with CORS for it alone', async () => {
    const api = await start({ ...strict, allowedOrigins: [KIOSK_UI] });
    const own = `http://localhost:${api.server.port}`;
    for (const origin of [KIOSK_UI, own, `http://127.0.0.1:${api.server.port}`, `http://[::1]:${api.server.port}`]) {
      const c = await api.connect(undefined, { origin });
      expect((await c.command('SSCard.ReadBasic')).completion.header.completionCode, origin).toBe('success');
      c.close();
      const r = await api.http('POST', '/sscard/iReadCardBas', '{"iType":1}', { ...json, origin });
      expect([r.status, r.headers['x-sscard-return']], origin).toEqual([200, '0']);
      expect(r.headers['access-control-allow-origin']).toBe(origin);
      expect(r.headers['vary']).toBe('Origin');
      expect(r.headers['access-control-expose-headers']).toContain('X-SSCard-Return');
    }
    // a native client (no Origin) gets no CORS headers
    const native = await api.http('GET', '/health');
    expect(native.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('CORS preflight: 204 with methods and headers for an allowed origin; 403 without CORS headers for others', async () => {
    const api = await start({ ...strict, allowedOrigins: [KIOSK_UI] });
    const ask = { 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' };
    const ok = await api.http('OPTIONS', '/sscard/iVerifyPIN', undefined, { ...ask, origin: KIOSK_UI });
    expect(ok.status).toBe(204);
    expect(ok.headers).toMatchObject({ 'access-control-allow-origin': KIOSK_UI, 'access-control-allow-methods': 'GET, HEAD, POST', 'access-control-allow-headers': 'Authorization, Content-Type' });
    expect(ok.headers['access-control-allow-private-network']).toBeUndefined();
    const pna = await api.http('OPTIONS', '/sscard/iVerifyPIN', undefined, { ...ask, 'access-control-request-private-network': 'true', origin: KIOSK_UI });
    expect(pna.headers['access-control-allow-private-network']).toBe('true');
    const no = await api.http('OPTIONS', '/sscard/iVerifyPIN', undefined, { ...ask, 'access-control-request-private-network': 'true', origin: 'http://evil.example' });
    expect(no.headers['access-control-allow-private-network']).toBeUndefined();
    expect(no.status).toBe(403);
    expect(no.headers['access-control-allow-origin']).toBeUndefined();
    expect(no.headers['access-control-allow-methods']).toBeUndefined();
    expect(api.terminal.calls).toEqual([]);
  });

  it('a cross-site form POST to /sscard/iVerifyPIN starts nothing: 403 from a foreign page, 415 from an allowed one', async () => {
    const api = await start({ allowedOrigins: [KIOSK_UI] });
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const foreign = await api.http('POST', '/sscard/iVerifyPIN', 'iType=1', { ...form, origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    const sandboxed = await api.http('POST', '/sscard/iVerifyPIN', 'iType=1', { ...form, origin: 'null' });
    expect(sandboxed.status).toBe(403);
    const allowed = await api.http('POST', '/sscard/iVerifyPIN', 'iType=2&iType=1', { ...form, origin: KIOSK_UI });
    expect([allowed.status, allowed.headers['x-sscard-return']]).toEqual([415, undefined]);
    const plain = await api.http('POST', '/sscard/iVerifyPIN', '{"iType":1}', { 'content-type': 'text/plain', origin: KIOSK_UI });
    expect(plain.status).toBe(415);
    // native clients too: JSON only
    expect((await api.http('POST', '/sscard/iVerifyPIN', 'iType=1', form)).status).toBe(415);
    expect(api.terminal.calls).toEqual([]);
  });
});

describe('credentials (native clients)', () => {
  it('secure default: no credential → 401 on the upgrade, /status and the SSCard calls; /health stays open', async () => {
    const api = await start(strict);
    expect(await upgrade(api.serviceUrl)).toBe('HTTP 401');
    expect(await upgrade(api.publisherUrl)).toBe('HTTP 401');
    const status = await api.http('GET', '/status');
    expect(status.status).toBe(401);
    expect(status.headers['www-authenticate']).toBe('Bearer');
    expect(JSON.parse(status.text)).toMatchObject({ error: { code: 'clientCredentialRequired', zh: expect.stringContaining('sscard client add'), en: expect.stringContaining('sscard client add') } });
    const call = await api.http('POST', '/sscard/iVerifyPIN', '{"iType":1}', json);
    expect([call.status, call.headers['x-sscard-return'], call.headers['content-type']]).toEqual([401, '-24', 'text/plain; charset=utf-8']);
    expect(call.text).toMatch(/需要客户端凭据.* \/ a client credential is required/);
    expect((await api.http('GET', '/health')).status).toBe(200);
    expect((await api.http('HEAD', '/health')).status).toBe(200);
    expect(api.terminal.calls).toEqual([]);
  });

  it('a client token admits WebSocket and HTTP; an unknown one is 401 even where nothing was needed', async () => {
    const api = await start(strict);
    const c = await api.connect(undefined, { token: api.clientToken });
    expect((await c.command('SSCard.ReadBasic')).completion.header.completionCode).toBe('success');
    expect(api.logger.entries.find((e) => e.message === 'API client connected')!.meta).toMatchObject({ identity: 'client:test' });
    const r = await api.http('GET', '/status', undefined, { authorization: `Bearer ${api.clientToken}` });
    expect(r.status).toBe(200);
    const wrong = newClientToken();
    expect(await upgrade(api.serviceUrl, { token: wrong })).toBe('HTTP 401');
    expect((await api.http('GET', '/health', undefined, { authorization: `Bearer ${wrong}` })).status).toBe(401);
    await t!.close();
    const open = await start(); // loopback allowed without a credential: a wrong token is still refused
    expect(await upgrade(open.serviceUrl, { token: wrong })).toBe('HTTP 401');
    expect(await upgrade(open.serviceUrl)).toBe('open');
    // no token appears in any log line
    expect(api.logger.text()).not.toContain(api.clientToken);
    expect(open.logger.text()).not.toContain(wrong);
  });

  it('a live operator token admits an HTTP call (a counter application), not a WebSocket upgrade', async () => {
    const auth = new FakeOperatorAuth();
    const api = await start({ ...strict, terminal: new FakeTerminal({ role: 'counter', triesLeft: 0 }), auth });
    const { token } = await auth.login('op1', Buffer.from('correct horse battery staple'));
    api.terminal.holderTypes('369258', '369258');
    const ok = await api.http('POST', '/sscard/iUnblockPIN', JSON.stringify({ iType: 1, cardInfo: '410402D156000005AAAAAAAAAAAAAAAA|X00000019|' }), { ...json, authorization: `Bearer ${token}` });
    expect([ok.status, ok.headers['x-sscard-return']]).toEqual([200, '0']);
    expect(await upgrade(api.serviceUrl, { headers: { authorization: `Bearer ${token}` } })).toBe('HTTP 401');
    auth.expire(token);
    const expired = await api.http('POST', '/sscard/iReadCardBas', '{"iType":1}', { ...json, authorization: `Bearer ${token}` });
    expect([expired.status, expired.headers['x-sscard-return'], expired.headers['www-authenticate']]).toEqual([401, '-24', 'Bearer error="invalid_token"']);
    expect(expired.text).toContain('expired');
  });

  it('a revoked client: new requests 401, its open connections closed with 1008 (clients file reread)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sscard-clients-'));
    dirs.push(dir);
    const file = path.join(dir, 'clients.json');
    const keep = newClientToken();
    const gone = newClientToken();
    const entries: ClientEntry[] = [
      { name: 'counter', hash: clientTokenHash(keep), created: new Date().toISOString() },
      { name: 'monitor', hash: clientTokenHash(gone), created: new Date().toISOString() },
    ];
    writeClientsFile(file, entries);
    const clients = ClientRegistry.open(file, { statIntervalMs: 0 });
    const api = await start({ ...strict, clients, clientsRefreshMs: 20 });
    const stays = await api.connect(undefined, { token: keep });
    const goes = await api.connect(undefined, { token: gone });
    writeClientsFile(file, [entries[0]!, { ...entries[1]!, revoked: new Date().toISOString() }]);
    expect(await goes.closed).toEqual({ code: 1008, reason: 'client credential revoked' });
    expect(await upgrade(api.serviceUrl, { token: gone })).toBe('HTTP 401');
    expect((await api.http('GET', '/status', undefined, { authorization: `Bearer ${gone}` })).status).toBe(401);
    expect((await stays.command('Common.Status')).completion.header.completionCode).toBe('success');
    // a broken file fails closed: no token is valid until it is fixed
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, '{"clients": [');
    await until(() => stays.ws.readyState === stays.ws.CLOSED);
    expect((await api.http('GET', '/status', undefined, { authorization: `Bearer ${keep}` })).status).toBe(401);
  });

  it('a client on another host always needs a token or certificate: not its Origin, not /health, not the loopback policy', async () => {
    // Reached through this machine's own non-loopback address, the peer address is not loopback.
    const ip = Object.values(networkInterfaces())
      .flat()
      .find((i) => i !== undefined && !i.internal && i.family === 'IPv4')?.address;
    const api = await start({ host: '0.0.0.0', hostNames: [ip ?? '127.0.0.1'], allowUnauthenticatedLoopback: true, allowedOrigins: [KIOSK_UI] });
    if (ip === undefined) return; // no network interface here: nothing is remote
    const get = (p: string, headers: Record<string, string> = {}) =>
      new Promise<number>((resolve, reject) => {
        http.get({ host: ip, port: api.server.port, path: p, headers, agent: false }, (r) => (r.resume(), resolve(r.statusCode ?? 0))).on('error', reject);
      });
    expect(await get('/health')).toBe(401);
    expect(await get('/status')).toBe(401);
    expect(await get('/status', { origin: KIOSK_UI })).toBe(401);
    expect(await get('/status', { authorization: `Bearer ${api.clientToken}` })).toBe(200);
    expect(await upgrade(`ws://${ip}:${api.server.port}/xfs4iot/v1.0/sscard`)).toBe('HTTP 401');
    expect(await upgrade(`ws://${ip}:${api.server.port}/xfs4iot/v1.0/sscard`, { token: api.clientToken })).toBe('open');
    expect(api.logger.entries.some((e) => e.meta?.['why'] === 'remote client without credential')).toBe(true);
  });

  it('the Unix socket admits by its file permissions; Host is still checked', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sscard-sock-'));
    dirs.push(dir);
    const socket = path.join(dir, 'api.sock');
    const api = await start({ ...strict, socket });
    const c = await TestClient.connect(`ws+unix:${socket}:/xfs4iot/v1.0/sscard`);
    expect((await c.command('Common.Status')).completion.header.completionCode).toBe('success');
    c.close();
    const status = await new Promise<number>((resolve, reject) => {
      http.get({ socketPath: socket, path: '/status', headers: { host: 'evil.example' } }, (r) => (r.resume(), resolve(r.statusCode ?? 0))).on('error', reject);
    });
    expect(status).toBe(421);
    await until(() => api.server.clients() === 0);
  });
});

describe('security headers', () => {
  it('every answer carries them: routes, errors, refusals and refused upgrades', async () => {
    const api = await start(strict);
    const want = {
      'content-security-policy': expect.stringMatching(/default-src 'self'.*frame-ancestors 'none'/),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cross-origin-resource-policy': 'same-origin',
      'x-frame-options': 'DENY',
      'cache-control': 'no-store',
    };
    for (const [method, p, headers] of [
      ['GET', '/health', {}],
      ['GET', '/nope', {}],
      ['GET', '/status', {}],
      ['GET', '/status', { host: 'evil.example' }],
      ['GET', '/status', { origin: 'null' }],
      ['POST', '/health', { authorization: `Bearer ${api.clientToken}` }],
    ] as const) {
      const r = await api.http(method, p, undefined, headers);
      expect(r.headers, `${method} ${p} ${JSON.stringify(headers)}`).toMatchObject(want);
    }
    const refused = await raw(api.server.port, `GET /xfs4iot/v1.0/sscard HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    expect(refused).toMatch(/^HTTP\/1\.1 401/);
    expect(refused.toLowerCase()).toContain("frame-ancestors 'none'");
    expect(refused.toLowerCase()).toContain('x-content-type-options: nosniff');
  });
});
