/**
 * The daemon's own pages through the API server's gate (docs/security.md): a page is open to any
 * client the Host check admits, like /health; everything else keeps its credential check, the
 * WebSocket origins the pages may reach follow the bound port, and a foreign Host gets nothing.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiPerTest } from '../../testing/api-test-client.js';
import { openStaticSite, type StaticSite } from './static-files.js';

let root: string;
let site: StaticSite;
const startApi = apiPerTest();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sscard-site-'));
  await mkdir(join(root, 'kiosk'));
  await writeFile(join(root, 'index.html'), '<!doctype html><title>社保卡服务</title>');
  await writeFile(join(root, 'kiosk', 'index.html'), '<!doctype html><title>自助服务</title>');
  await mkdir(join(root, 'status'));
  await writeFile(join(root, 'status', 'index.html'), '<!doctype html><title>设备状态</title>');
  site = await openStaticSite({ root, socketOrigins: [] });
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('the daemon serves its pages through the access gate', () => {
  it('pages need no credential; the API beside them still does', async () => {
    const api = await startApi({ site, allowUnauthenticatedLoopback: false });
    const start = await api.http('GET', '/');
    expect(start.status).toBe(200);
    expect(start.text).toContain('社保卡服务');
    expect(start.headers['content-security-policy']).toContain(`ws://127.0.0.1:${api.server.port}`);
    expect(start.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect((await api.http('HEAD', '/kiosk')).status).toBe(200);
    expect((await api.http('GET', '/status')).status).toBe(401);
    expect((await api.http('POST', '/kiosk', '{}', { 'content-type': 'application/json' })).status).toBe(401);
    expect((await api.http('GET', '/no-such-page')).status).toBe(401);
  });

  it('a foreign Host (DNS rebinding) gets no page', async () => {
    const api = await startApi({ site });
    const r = await api.http('GET', '/kiosk', undefined, { host: 'evil.example:80' });
    expect(r.status).toBe(421);
    expect(r.text).not.toContain('自助服务');
  });

  it('for an admitted client, an unknown path is the API\'s 404 and a page still its page', async () => {
    const api = await startApi({ site });
    expect((await api.http('GET', '/no-such-page')).status).toBe(404);
    expect((await api.http('GET', '/kiosk/')).text).toContain('自助服务');
  });

  it('without a site, / is not found', async () => {
    const api = await startApi();
    expect((await api.http('GET', '/')).status).toBe(404);
  });

  it('/status/ is the technician page (open), /status the status report (JSON, with a credential only)', async () => {
    const api = await startApi({ site, allowUnauthenticatedLoopback: false });
    const page = await api.http('GET', '/status/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.text).toContain('设备状态');
    expect((await api.http('GET', '/status')).status).toBe(401);
    const report = await api.http('GET', '/status', undefined, { authorization: `Bearer ${api.clientToken}` });
    expect(report.status).toBe(200);
    expect(report.headers['content-type']).toContain('application/json');
    expect(JSON.parse(report.text)).toMatchObject({ terminalId: expect.any(String) as string, card: { present: true }, hotlist: { entries: 0 } });
    // The page with a credential is still the page.
    expect((await api.http('GET', '/status/', undefined, { authorization: `Bearer ${api.clientToken}` })).text).toContain('设备状态');
  });
});
