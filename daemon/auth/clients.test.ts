import { chownSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { CLIENT_TOKEN, ClientRegistry, clientTokenHash, isClientToken, newClientToken, readClientsFile, writeClientsFile } from './clients.js';
import type { ClientEntry } from './clients.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function temp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'sscard-clients-'));
  dirs.push(d);
  return d;
}
const entry = (name: string, token: string, revoked?: string): ClientEntry => ({ name, hash: clientTokenHash(token), created: '2025-01-02T03:04:05.000Z', ...(revoked === undefined ? {} : { revoked }) });

describe('client tokens', () => {
  it('are sscc_ + 32 random bytes (base64url), hashed as sha256:<hex>', () => {
    const a = newClientToken();
    const b = newClientToken();
    expect(a).toMatch(CLIENT_TOKEN);
    expect(a).not.toBe(b);
    expect(Buffer.from(a.slice(5), 'base64url')).toHaveLength(32);
    expect(isClientToken(a)).toBe(true);
    expect(isClientToken('bm90LWEtdG9rZW4')).toBe(false);
    expect(clientTokenHash('sscc_x')).toBe('sha256:7928edff18d1176c7e855b4d70597fd3e534b313c09c858712e505b841a3481f'); // printf sscc_x | sha256sum
    expect(clientTokenHash(a)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('the clients file', () => {
  it('is written atomically, mode 0640, and read back; a missing file is no clients', () => {
    const file = path.join(temp(), 'var', 'api-clients.json');
    expect(readClientsFile(file)).toEqual([]);
    const e = [entry('counter', newClientToken()), entry('old', newClientToken(), '2025-02-01T00:00:00.000Z')];
    writeClientsFile(file, e);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(readClientsFile(file)).toEqual(e);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ clients: e });
  });

  it('written by root: a new file gets the group of the nearest folder, an existing one keeps its owner and group', () => {
    const dir = temp();
    if (process.getuid?.() !== 0) {
      // Not root: the file is the writer's own, mode 0640 (the ownership rules need root to test).
      const file = path.join(dir, 'clients.json');
      writeClientsFile(file, [entry('a', newClientToken())]);
      expect([statSync(file).uid, statSync(file).mode & 0o777]).toEqual([process.getuid?.(), 0o640]);
      return;
    }
    chownSync(dir, 0, 4321);
    const file = path.join(dir, 'new', 'clients.json');
    writeClientsFile(file, [entry('a', newClientToken())]);
    expect([statSync(file).uid, statSync(file).gid]).toEqual([0, 4321]);
    chownSync(file, 1234, 5678);
    writeClientsFile(file, [entry('b', newClientToken())]);
    expect([statSync(file).uid, statSync(file).gid, statSync(file).mode & 0o777]).toEqual([1234, 5678, 0o640]);
  });

  it('a bad file is Config_Invalid naming api.clientsFile and the entry, never a hash', () => {
    const file = path.join(temp(), 'c.json');
    const secret = clientTokenHash(newClientToken());
    for (const [text, want] of [
      ['{', /not valid JSON/],
      ['[]', /must be \{"clients"/],
      [JSON.stringify({ clients: [{ name: 'a b', hash: secret, created: 'x' }] }), /clients\[0\]/],
      [JSON.stringify({ clients: [{ name: 'a', hash: 'sha256:12', created: 'x' }] }), /clients\[0\]/],
      [JSON.stringify({ clients: [{ name: 'a', hash: secret, created: 'x', token: 'sscc_' }] }), /clients\[0\]/],
    ] as const) {
      writeFileSync(file, text);
      let err: unknown;
      try {
        readClientsFile(file);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SsCardError);
      const e = err as SsCardError;
      expect(e.code).toBe(ErrorCode.Config_Invalid);
      expect(e.text.en).toMatch(want);
      expect(e.text.en).toContain('api.clientsFile');
      expect(e.text.zh).toMatch(/[\u4e00-\u9fff]/);
      expect(e.message).not.toContain(secret);
    }
  });
});

describe('ClientRegistry', () => {
  it('verifies valid tokens only (not revoked, not unknown, not malformed) and keeps no token', () => {
    const good = newClientToken();
    const gone = newClientToken();
    const r = ClientRegistry.of([entry('counter', good), entry('monitor', gone, '2025-03-01T00:00:00.000Z')]);
    expect(r.verify(good)).toEqual({ name: 'counter', hash: clientTokenHash(good) });
    expect(r.verify(gone)).toBeNull();
    expect(r.verify(newClientToken())).toBeNull();
    expect(r.verify('')).toBeNull();
    expect(r.verify(good.slice(0, -1))).toBeNull();
    expect(r.isLive(clientTokenHash(good))).toBe(true);
    expect(r.isLive(clientTokenHash(gone))).toBe(false);
    expect(r.names()).toEqual(['counter']);
    expect(inspect(r, { depth: 5, showHidden: true })).not.toContain(good);
  });

  it('rereads its file when it changes (a revocation takes effect), and fails closed on a broken file', () => {
    const file = path.join(temp(), 'c.json');
    const tok = newClientToken();
    writeClientsFile(file, [entry('counter', tok)]);
    const errors: SsCardError[] = [];
    let now = 0;
    const r = ClientRegistry.open(file, { statIntervalMs: 1000, now: () => now, onError: (e) => errors.push(e) });
    expect(r.verify(tok)?.name).toBe('counter');
    writeClientsFile(file, [entry('counter', tok, '2025-03-01T00:00:00.000Z')]);
    expect(r.verify(tok)?.name).toBe('counter'); // looked at once a second at most
    now += 1000;
    expect(r.verify(tok)).toBeNull();
    expect(r.refresh()).toBe(false);
    writeFileSync(file, '{"clients":');
    expect(r.refresh()).toBe(true);
    expect(errors).toHaveLength(1);
    writeClientsFile(file, [entry('counter', tok)]);
    expect(r.refresh()).toBe(true);
    expect(r.verify(tok)?.name).toBe('counter');
    // a bad file at start is an error then
    writeFileSync(file, 'nope');
    expect(() => ClientRegistry.open(file)).toThrow(/api\.clientsFile/);
  });
});
