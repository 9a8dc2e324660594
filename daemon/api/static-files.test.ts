import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../core/errors.js';
import { rejection } from '../../testing/util.js';
import { daemonSocketOrigins, defaultPagesRoot, openStaticSite, pageCsp, type StaticSite } from './static-files.js';

let root: string;
let site: StaticSite;
let server: http.Server;
let port: number;

const INDEX = '<!doctype html><title>首页</title>';
const KIOSK = '<!doctype html><title>自助服务</title><script type="module" src="/assets/kiosk-abc123.js"></script>';
const JS = 'console.log(1)';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sscard-web-'));
  await mkdir(join(root, 'kiosk'));
  await mkdir(join(root, 'assets'));
  await writeFile(join(root, 'index.html'), INDEX);
  await writeFile(join(root, 'kiosk', 'index.html'), KIOSK);
  await writeFile(join(root, 'assets', 'kiosk-abc123.js'), JS);
  await writeFile(join(root, 'assets', 'kiosk-abc123.css'), 'body{}');
  await writeFile(join(root, 'assets', 'font.woff2'), Buffer.from([0x77, 0x4f, 0x46, 0x32]));
  await writeFile(join(root, 'assets', 'data.bin'), Buffer.from([1, 2, 3]));
  await writeFile(join(root, 'secret name with spaces.txt'), 'x');
  site = await openStaticSite({ root, socketOrigins: ['ws://127.0.0.1:5846', 'ws://localhost:5846'] });
  server = http.createServer((req, res) => {
    if (!site.handle(req, res)) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not mine');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await rm(root, { recursive: true, force: true });
});

/** A raw request: the target is sent exactly as given (fetch would normalise `..`). */
function request(method: string, target: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('static pages', () => {
  it.each([
    ['/', INDEX],
    ['/index.html', INDEX],
    ['/kiosk', KIOSK],
    ['/kiosk/', KIOSK],
    ['/kiosk/index.html', KIOSK],
    ['/kiosk?shuffle=off', KIOSK],
  ])('GET %s serves the page as UTF-8 HTML, not cached without revalidation', async (target, body) => {
    const r = await request('GET', target);
    expect(r.status).toBe(200);
    expect(r.body.toString('utf8')).toBe(body);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(r.headers.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
  });

  it.each([
    ['/assets/kiosk-abc123.js', 'text/javascript; charset=utf-8'],
    ['/assets/kiosk-abc123.css', 'text/css; charset=utf-8'],
    ['/assets/font.woff2', 'font/woff2'],
    ['/assets/data.bin', 'application/octet-stream'],
  ])('%s: content type %s, immutable for a year (its name carries the hash)', async (target, type) => {
    const r = await request('GET', target);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(type);
    expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('every answer carries the security headers: strict CSP with the daemon’s ws: origins, no framing, nosniff, no referrer', async () => {
    for (const target of ['/', '/assets/kiosk-abc123.js', '/../etc/passwd']) {
      const r = await request('GET', target);
      const csp = r.headers['content-security-policy'];
      expect(csp).toBe(pageCsp(['ws://127.0.0.1:5846', 'ws://localhost:5846']));
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self';");
      expect(csp).toContain("connect-src 'self' ws://127.0.0.1:5846 ws://localhost:5846;");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(r.headers['cross-origin-resource-policy']).toBe('same-origin');
    }
  });

  it('HEAD: the headers and length of GET, no body', async () => {
    const r = await request('HEAD', '/kiosk');
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe(String(Buffer.byteLength(KIOSK)));
    expect(r.body.length).toBe(0);
  });

  it('If-None-Match with the current ETag → 304 without a body', async () => {
    const first = await request('GET', '/kiosk');
    const r = await request('GET', '/kiosk', { 'if-none-match': first.headers.etag! });
    expect(r.status).toBe(304);
    expect(r.body.length).toBe(0);
    expect((await request('GET', '/kiosk', { 'if-none-match': '"other"' })).status).toBe(200);
  });

  it.each(['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'])('%s on a page → 405, Allow: GET, HEAD', async (method) => {
    const r = await request(method, '/kiosk');
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD');
  });

  it.each([
    '/../etc/passwd',
    '/assets/../../etc/passwd',
    '/%2e%2e/etc/passwd',
    '/%2E%2E%2Fetc%2Fpasswd',
    '/assets%2f..%2f..%2fetc%2fpasswd',
    '/..%5c..%5cetc%5cpasswd',
    '/kiosk/..\\..\\etc\\passwd',
    '/index.html%00.js',
  ])('traversal %s is refused (400), never looked up', async (target) => {
    const r = await request('GET', target);
    expect(r.status).toBe(400);
    expect(r.body.toString()).not.toContain('root:');
    expect(site.owns(target)).toBe(true);
  });

  it.each(['/nope', '/kiosk/nope', '/assets/', '/secret%20name%20with%20spaces.txt', '/status', '/health'])('%s is not the site’s: left to the API (404 here)', async (target) => {
    const r = await request('GET', target);
    expect(r.body.toString()).toBe('not mine');
    expect(site.owns(target)).toBe(false);
  });

  it('lists the paths it serves: files and folder indexes, nothing outside the tree', () => {
    expect(site.paths).toEqual(['/', '/assets/data.bin', '/assets/font.woff2', '/assets/kiosk-abc123.css', '/assets/kiosk-abc123.js', '/index.html', '/kiosk', '/kiosk/', '/kiosk/index.html']);
  });

  it('a folder without index.html (pages not built) is refused at start, naming the option', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'sscard-web-empty-'));
    try {
      expect(await rejection(openStaticSite({ root: empty, socketOrigins: [] }))).toMatchObject({ code: ErrorCode.Config_Invalid, context: { option: 'root' } });
      expect(await rejection(openStaticSite({ root: join(empty, 'missing'), socketOrigins: [] }))).toMatchObject({ code: ErrorCode.Config_Invalid, context: { option: 'root' } });
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it.each(["ws://x:1; script-src 'unsafe-inline'", 'http://127.0.0.1:5846', '*', 'ws://[::1]:5846', 'ws://127.0.0.1'])('a socket origin that is not ws(s)://host:port is refused: %s', async (o) => {
    expect(await rejection(openStaticSite({ root, socketOrigins: [o] }))).toMatchObject({ code: ErrorCode.Config_Invalid, context: { option: 'socketOrigins' } });
  });
});

describe('the daemon side', () => {
  it('daemonSocketOrigins: every own name with the port, ws or wss; IPv6 literals (not valid CSP sources) and wildcards left out', () => {
    expect(daemonSocketOrigins([], 5846, false)).toEqual(['ws://127.0.0.1:5846', 'ws://localhost:5846']);
    expect(daemonSocketOrigins(['kiosk-07.branch', '0.0.0.0', '::', 'fd00::7', '[::1]', 'localhost'], 443, true)).toEqual(['wss://127.0.0.1:443', 'wss://localhost:443', 'wss://kiosk-07.branch:443']);
  });

  it('setSocketOrigins changes the CSP of the next answer, and refuses what is not an origin', async () => {
    site.setSocketOrigins(['ws://127.0.0.1:9999']);
    try {
      expect((await request('GET', '/')).headers['content-security-policy']).toContain("connect-src 'self' ws://127.0.0.1:9999;");
      expect(() => site.setSocketOrigins(["ws://a:1 'unsafe-eval'"])).toThrow(/socketOrigins/);
    } finally {
      site.setSocketOrigins(['ws://127.0.0.1:5846', 'ws://localhost:5846']);
    }
  });

  it('defaultPagesRoot: dist/web of the package, from this source file', () => {
    expect(defaultPagesRoot()).toBe(join(process.cwd(), 'dist', 'web'));
  });
});
