import { spawn } from 'node:child_process';
import { rejection } from '../testing/util.js';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../core/errors.js';
import { ClientRegistry, CLIENT_TOKEN } from '../daemon/auth/clients.js';
import { startTestApi } from '../testing/api-test-client.js';
import type { ClientIo } from './cmd-client.js';
import { clientAdd, clientList, clientRevoke, clientsFileOf } from './cmd-client.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** A folder with a configuration naming its clients file; io writing to sinks. */
function rig(config: Record<string, unknown> = { api: { clientsFile: 'secrets/clients.json' } }): { dir: string; config: string; file: string; io: () => ClientIo & { out: () => string; err: () => string } } {
  const dir = mkdtempSync(path.join(tmpdir(), 'sscard-client-cmd-'));
  dirs.push(dir);
  const configFile = path.join(dir, 'sscard.json');
  writeFileSync(configFile, JSON.stringify(config));
  return {
    dir,
    config: configFile,
    file: path.join(dir, 'secrets', 'clients.json'),
    io: () => {
      const out = sink();
      const err = sink();
      return { stdout: out.stream, stderr: err.stream, env: {}, cwd: dir, now: () => new Date('2025-05-06T07:08:09.000Z'), out: out.text, err: err.text };
    },
  };
}

describe('sscard client add', () => {
  it('prints the token once on stdout and stores only its hash (mode 0640) in api.clientsFile', async () => {
    const r = rig();
    const io = r.io();
    expect(await clientAdd('counter-app', { config: r.config }, io)).toBe(0);
    const token = io.out().trimEnd();
    expect(io.out()).toMatch(/^sscc_[A-Za-z0-9_-]{43}\n$/);
    expect(token).toMatch(CLIENT_TOKEN);
    expect(io.err()).toMatch(/只显示这一次.*\n.*shown this once/);
    expect(io.err()).not.toContain(token);
    const text = readFileSync(r.file, 'utf8');
    expect(text).not.toContain(token);
    expect(JSON.parse(text)).toEqual({ clients: [{ name: 'counter-app', hash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), created: '2025-05-06T07:08:09.000Z' }] });
    expect(statSync(r.file).mode & 0o777).toBe(0o640);
    expect(ClientRegistry.open(r.file).verify(token)?.name).toBe('counter-app');
  });

  it('refuses a name already valid or malformed (usage errors, bilingual); --json gives name, token and file', async () => {
    const r = rig();
    await clientAdd('monitor', { config: r.config }, r.io());
    const dup = await rejection(clientAdd('monitor', { config: r.config }, r.io()));
    expect(dup.code).toBe(ErrorCode.Input_BadOption);
    expect(dup.text.zh).toMatch(/已有名为 monitor 的有效客户端/);
    expect(dup.text.en).toMatch(/already a valid client named monitor/);
    for (const bad of ['', 'two words', 'x'.repeat(33), 'semi;colon']) expect((await rejection(clientAdd(bad, { config: r.config }, r.io()))).code).toBe(ErrorCode.Input_BadOption);
    const io = r.io();
    await clientAdd('kiosk-ui', { config: r.config, json: true }, io);
    expect(JSON.parse(io.out())).toEqual({ name: 'kiosk-ui', token: expect.stringMatching(CLIENT_TOKEN), clientsFile: r.file });
  });

  it('without --config uses $SSCARD_CONFIG, else the defaults in the current folder (var/api-clients.json)', () => {
    const r = rig();
    expect(clientsFileOf({}, { ...r.io(), env: { SSCARD_CONFIG: r.config } })).toBe(r.file);
    expect(clientsFileOf({}, { ...r.io(), env: {} })).toBe(path.join(r.dir, 'var', 'api-clients.json'));
  });
});

describe('sscard client list and revoke', () => {
  it('list shows names and dates, never a hash; revoke marks the entry and the token stops working', async () => {
    const r = rig();
    const a = r.io();
    await clientAdd('counter', { config: r.config }, a);
    await clientAdd('monitor', { config: r.config }, r.io());
    const token = a.out().trim();
    const l = r.io();
    expect(clientList({ config: r.config }, l)).toBe(0);
    expect(l.out()).toMatch(/^name\s+created\s+revoked\n/);
    expect(l.out()).toMatch(/counter\s+2025-05-06T07:08:09\.000Z\s+-\n/);
    expect(l.out()).not.toMatch(/sha256/);
    const rv = r.io();
    expect(await clientRevoke('counter', { config: r.config }, rv)).toBe(0);
    expect(rv.out()).toMatch(/已吊销客户端 counter.* \/ client counter revoked/);
    expect(ClientRegistry.open(r.file).verify(token)).toBeNull();
    const j = r.io();
    clientList({ config: r.config, json: true }, j);
    expect(JSON.parse(j.out())).toEqual({
      clientsFile: r.file,
      clients: [
        { name: 'counter', created: '2025-05-06T07:08:09.000Z', revoked: '2025-05-06T07:08:09.000Z' },
        { name: 'monitor', created: '2025-05-06T07:08:09.000Z', revoked: null },
      ],
    });
    const again = await rejection(clientRevoke('counter', { config: r.config }, r.io()));
    expect(again.text.en).toMatch(/no valid client named counter/);
    // the name may be given out again
    await clientAdd('counter', { config: r.config }, r.io());
    const empty = rig();
    const e = empty.io();
    clientList({ config: empty.config }, e);
    expect(e.out()).toMatch(/no client credentials/);
  });

  it('a running API takes a new client within a second and closes a revoked one’s connection (1008)', async () => {
    const r = rig();
    const api = await startTestApi({ allowUnauthenticatedLoopback: false, clients: ClientRegistry.open(r.file, { statIntervalMs: 0 }), clientsRefreshMs: 20 });
    try {
      const io = r.io();
      await clientAdd('counter', { config: r.config }, io);
      const c = await api.connect(undefined, { token: io.out().trim() });
      expect((await c.command('Common.Status')).completion.header.completionCode).toBe('success');
      await clientRevoke('counter', { config: r.config }, r.io());
      expect(await c.closed).toEqual({ code: 1008, reason: 'client credential revoked' });
      await expect(api.connect(undefined, { token: io.out().trim() })).rejects.toThrow('HTTP 401');
    } finally {
      await api.close();
    }
  });
});

describe('the command line', () => {
  function sscard(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'sscard.ts'), ...args], { cwd: ROOT, env: { ...process.env, SSCARD_CONFIG: '' } });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
      child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
      child.on('exit', (code) => resolve({ code, out, err }));
    });
  }

  it('sscard client add/list/revoke are registered; exit 0 done, 2 bad input', async () => {
    const r = rig();
    const add = await sscard(['client', 'add', 'tool', '--config', r.config]);
    expect(add.code).toBe(0);
    expect(add.out).toMatch(/^sscc_[A-Za-z0-9_-]{43}\n$/);
    const list = await sscard(['client', 'list', '--config', r.config]);
    expect([list.code, /tool/.test(list.out)]).toEqual([0, true]);
    const bad = await sscard(['client', 'revoke', 'nobody', '--config', r.config]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/错误 E107：.*\nError E107: there is no valid client named nobody/);
  }, 60_000);
});
