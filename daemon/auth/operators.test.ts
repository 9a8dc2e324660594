import { createHash } from 'node:crypto';
import * as nodeCrypto from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { ErrorCode, SsCardError, isSsCardError } from '../../core/errors.js';
import type { OperatorAuthEvent, OperatorsConfig } from './operators.js';
import { EXPIRED_MEMORY_MS, MAX_EXPIRED, MAX_WAITING_DERIVATIONS, OperatorAuth } from './operators.js';
import { hashPassphrase } from './passphrase.js';

// Every key derivation the login runs is counted (the real scrypt still runs underneath).
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof nodeCrypto>();
  return { ...real, scrypt: vi.fn(real.scrypt) };
});
const scryptCalls = vi.mocked(nodeCrypto.scrypt);

// Cheap scrypt for tests (the format carries N; production uses 2^15).
const FAST = { N: 1024, r: 8, p: 1 };
const ALICE_PW = 'correct horse battery';
const BOB_PW = 'change-me-now';

const CONFIG: OperatorsConfig = {
  sessionTtlMs: 15 * 60_000,
  maxFailures: 3,
  lockoutMs: 10 * 60_000,
  accounts: [
    { id: 'alice', name: 'Alice', hash: hashPassphrase(Buffer.from(ALICE_PW), FAST) },
    { id: 'bob', name: 'Bob', hash: hashPassphrase(Buffer.from(BOB_PW), FAST) },
  ],
};

function rig(config: OperatorsConfig = CONFIG): { auth: OperatorAuth; clock: { t: number }; events: OperatorAuthEvent[] } {
  const clock = { t: Date.UTC(2025, 0, 2, 9, 0, 0) };
  const events: OperatorAuthEvent[] = [];
  const auth = new OperatorAuth(config, { now: () => clock.t, onEvent: (e) => events.push(e) });
  return { auth, clock, events };
}

async function failure(p: Promise<unknown>): Promise<SsCardError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof SsCardError)) throw new Error(`expected an SsCardError, got ${String(e)}`);
  return e;
}

function thrown(f: () => unknown): SsCardError {
  try {
    f();
  } catch (e) {
    if (e instanceof SsCardError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

const pw = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('login', () => {
  it('gives a 32-byte base64url token for the right passphrase; check() names the operator', async () => {
    const { auth, clock, events } = rig();
    const r = await auth.login('alice', pw(ALICE_PW));
    expect(r.operatorId).toBe('alice');
    expect(r.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(r.token, 'base64url')).toHaveLength(32);
    expect(r.expiresAt).toBe(clock.t + CONFIG.sessionTtlMs);
    expect(auth.check(r.token)).toBe('alice');
    expect(events).toEqual([{ type: 'login', operatorId: 'alice', at: clock.t }]);
  });

  it('each login is its own session', async () => {
    const { auth } = rig();
    const a = await auth.login('alice', pw(ALICE_PW));
    const b = await auth.login('alice', pw(ALICE_PW));
    expect(a.token).not.toBe(b.token);
    auth.logout(a.token);
    expect(auth.check(b.token)).toBe('alice');
  });

  it('a wrong passphrase and an unknown operator give the same error text (no user enumeration)', async () => {
    const { auth, events } = rig();
    const wrong = await failure(auth.login('alice', pw('guess')));
    const unknown = await failure(auth.login('mallory', pw('guess')));
    expect(wrong.code).toBe(ErrorCode.Auth_BadCredentials);
    expect(unknown.code).toBe(ErrorCode.Auth_BadCredentials);
    expect(unknown.message).toBe(wrong.message);
    expect(unknown.context).toEqual(wrong.context);
    expect(wrong.text.zh).toMatch(/操作员编号或口令不正确/);
    expect(wrong.text.en).toMatch(/wrong operator id or passphrase/);
    expect(wrong.message).not.toMatch(/guess|alice|mallory/);
    expect(events.map((e) => e.type)).toEqual(['loginFailed', 'loginFailed']);
  });

  it('runs one scrypt, with the accounts\' cost parameters, for an unknown operator too', async () => {
    // Counted, not timed: a ratio of times passes when both paths skip the key derivation.
    const slow = { ...CONFIG, accounts: [{ id: 'alice', name: 'Alice', hash: hashPassphrase(pw(ALICE_PW), { N: 2 ** 12, r: 8, p: 1 }) }] };
    const { auth } = rig({ ...slow, maxFailures: 100 });
    const derivations = (): { N: number | undefined; keylen: number }[] =>
      scryptCalls.mock.calls.map((c) => ({ N: (c[3] as { N?: number }).N, keylen: c[2] }));
    scryptCalls.mockClear();
    await failure(auth.login('alice', pw('guess')));
    const known = derivations();
    scryptCalls.mockClear();
    await failure(auth.login('nobody', pw('guess')));
    const unknown = derivations();
    expect(known).toEqual([{ N: 2 ** 12, keylen: 32 }]);
    expect(unknown).toEqual(known);
    // A malformed id names no account and is refused without a derivation.
    scryptCalls.mockClear();
    await failure(auth.login('', pw('guess')));
    expect(scryptCalls).not.toHaveBeenCalled();
  });

  it('wipes the passphrase buffer whatever the outcome', async () => {
    const { auth } = rig();
    const good = pw(ALICE_PW);
    const bad = pw('wrong passphrase');
    const unknown = pw('whatever');
    const weird = pw('x');
    await auth.login('alice', good);
    await failure(auth.login('alice', bad));
    await failure(auth.login('nobody', unknown));
    await failure(auth.login('', weird));
    for (const b of [good, bad, unknown, weird]) expect(b.every((x) => x === 0)).toBe(true);
  });

  it('refuses a passphrase that is not a Buffer, without echoing it', async () => {
    const { auth } = rig();
    const e = await failure(auth.login('alice', ALICE_PW as unknown as Buffer));
    expect(e.code).toBe(ErrorCode.Input_BadOption);
    expect(e.message).not.toContain(ALICE_PW);
  });
});

describe('lockout', () => {
  it('locks after maxFailures wrong passphrases in a row, for lockoutMs, then lets the operator in again', async () => {
    const { auth, clock, events } = rig();
    for (let i = 1; i < CONFIG.maxFailures; i++) expect((await failure(auth.login('alice', pw('nope')))).code).toBe(ErrorCode.Auth_BadCredentials);
    const locked = await failure(auth.login('alice', pw('nope')));
    expect(locked.code).toBe(ErrorCode.Auth_Locked);
    expect(locked.text.zh).toMatch(/已锁定.*10 分钟后.*管理员/);
    expect(locked.text.en).toMatch(/locked; try again in about 10 min .*administrator/);
    expect(locked.context).toEqual({ retryAt: clock.t + CONFIG.lockoutMs });
    expect(events.filter((e) => e.type === 'locked')).toEqual([{ type: 'locked', operatorId: 'alice', at: clock.t }]);

    // while locked, even the right passphrase is refused (and says when to retry)
    clock.t += CONFIG.lockoutMs - 60_000;
    const still = await failure(auth.login('alice', pw(ALICE_PW)));
    expect(still.code).toBe(ErrorCode.Auth_Locked);
    expect(still.text.en).toMatch(/about 1 min/);
    // other operators are not affected
    await expect(auth.login('bob', pw(BOB_PW))).resolves.toMatchObject({ operatorId: 'bob' });

    clock.t += 60_000;
    await expect(auth.login('alice', pw(ALICE_PW))).resolves.toMatchObject({ operatorId: 'alice' });
  });

  it('a good login resets the count', async () => {
    const { auth } = rig();
    for (let round = 0; round < 3; round++) {
      for (let i = 1; i < CONFIG.maxFailures; i++) await failure(auth.login('alice', pw('nope')));
      await auth.login('alice', pw(ALICE_PW));
    }
    expect((await failure(auth.login('alice', pw('nope')))).code).toBe(ErrorCode.Auth_BadCredentials);
  });

  it('an unknown id locks exactly like a known one (lockout does not reveal which ids exist)', async () => {
    const { auth } = rig();
    const codes = async (id: string): Promise<ErrorCode[]> => {
      const out: ErrorCode[] = [];
      for (let i = 0; i <= CONFIG.maxFailures; i++) out.push((await failure(auth.login(id, pw('nope')))).code);
      return out;
    };
    const known = await codes('bob');
    const unknown = await codes('nobody');
    expect(unknown).toEqual(known);
    expect(known).toEqual([ErrorCode.Auth_BadCredentials, ErrorCode.Auth_BadCredentials, ErrorCode.Auth_Locked, ErrorCode.Auth_Locked]);
  });

  it('unlock() is the administrator\'s way out', async () => {
    const { auth } = rig();
    for (let i = 0; i < CONFIG.maxFailures; i++) await failure(auth.login('alice', pw('nope')));
    auth.unlock('alice');
    await expect(auth.login('alice', pw(ALICE_PW))).resolves.toMatchObject({ operatorId: 'alice' });
  });
});

describe('sessions', () => {
  it('expire sessionTtlMs after the last use, and each use slides the expiry', async () => {
    const { auth, clock, events } = rig();
    const { token } = await auth.login('bob', pw(BOB_PW));
    for (let i = 0; i < 5; i++) {
      clock.t += CONFIG.sessionTtlMs - 1;
      expect(auth.check(token)).toBe('bob'); // renewed each time: 5 × almost the TTL
    }
    expect(auth.expiresAt(token)).toBe(clock.t + CONFIG.sessionTtlMs);
    clock.t += CONFIG.sessionTtlMs;
    const e = thrown(() => auth.check(token));
    expect(e.code).toBe(ErrorCode.Auth_SessionExpired);
    expect(e.text.zh).toMatch(/超时.*重新登录/);
    expect(e.text.en).toMatch(/expired .*log in again/);
    expect(e.message).not.toContain(token);
    expect(events.at(-1)).toEqual({ type: 'expired', operatorId: 'bob', at: clock.t });
    // still expired (not "invalid") when asked again, and the event is not repeated
    clock.t += 3_600_000;
    expect(thrown(() => auth.check(token)).code).toBe(ErrorCode.Auth_SessionExpired);
    expect(events.filter((x) => x.type === 'expired')).toHaveLength(1);
  });

  it('an expired token answers Auth_SessionExpired until it would be forgotten anyway (a day, the last MAX_EXPIRED)', async () => {
    const { auth, clock } = rig();
    const { token } = await auth.login('bob', pw(BOB_PW));
    clock.t += CONFIG.sessionTtlMs;
    auth.sessionCount(); // the sweep retires it before anyone asks
    expect(thrown(() => auth.check(token)).code).toBe(ErrorCode.Auth_SessionExpired);
    clock.t += EXPIRED_MEMORY_MS - CONFIG.sessionTtlMs - 1;
    expect(thrown(() => auth.check(token)).code).toBe(ErrorCode.Auth_SessionExpired);
    clock.t += CONFIG.sessionTtlMs + 1;
    expect(thrown(() => auth.check(token)).code).toBe(ErrorCode.Auth_InvalidToken);
    // logging out an expired token forgets it at once
    const second = await auth.login('bob', pw(BOB_PW));
    clock.t += CONFIG.sessionTtlMs;
    expect(thrown(() => auth.check(second.token)).code).toBe(ErrorCode.Auth_SessionExpired);
    auth.logout(second.token);
    expect(thrown(() => auth.check(second.token)).code).toBe(ErrorCode.Auth_InvalidToken);
    // memory stays bounded: only digests, at most MAX_EXPIRED of them
    const heap = inspect(auth, { showHidden: true, depth: 10 });
    expect(heap).not.toContain(token);
    expect(MAX_EXPIRED).toBeLessThanOrEqual(1024);
  });

  it('expiresAt does not renew', async () => {
    const { auth, clock } = rig();
    const { token, expiresAt } = await auth.login('bob', pw(BOB_PW));
    clock.t += 1000;
    expect(auth.expiresAt(token)).toBe(expiresAt);
  });

  it('an unknown or malformed token is Auth_InvalidToken, without the token in the message', () => {
    const { auth } = rig();
    for (const t of ['bm90LWEtdG9rZW4', '', 'x'.repeat(500), 42 as unknown as string]) {
      const e = thrown(() => auth.check(t));
      expect(e.code).toBe(ErrorCode.Auth_InvalidToken);
      if (typeof t === 'string' && t.length > 0) expect(e.message).not.toContain(t);
    }
  });

  it('logout ends the session (and is quiet for unknown tokens)', async () => {
    const { auth, events } = rig();
    const { token } = await auth.login('alice', pw(ALICE_PW));
    auth.logout(token);
    expect(thrown(() => auth.check(token)).code).toBe(ErrorCode.Auth_InvalidToken);
    expect(events.at(-1)).toMatchObject({ type: 'logout', operatorId: 'alice' });
    expect(() => auth.logout(token)).not.toThrow();
    expect(() => auth.logout('nonsense')).not.toThrow();
    expect(events.filter((e) => e.type === 'logout')).toHaveLength(1);
  });

  it('keeps only a SHA-256 of each token in memory', async () => {
    const { auth } = rig();
    const { token } = await auth.login('alice', pw(ALICE_PW));
    const heap = inspect(auth, { showHidden: true, depth: 10, getters: true });
    expect(heap).not.toContain(token);
    expect(heap).toContain(createHash('sha256').update(token).digest('hex'));
    expect(auth.sessionCount()).toBe(1);
  });

  it('never hands out the hashes', () => {
    const { auth } = rig();
    expect(auth.operators()).toEqual([
      { id: 'alice', name: 'Alice' },
      { id: 'bob', name: 'Bob' },
    ]);
  });
});

describe('configuration checks', () => {
  it('refuses duplicate ids and malformed hashes, without echoing a hash', () => {
    const dup = thrown(() => new OperatorAuth({ ...CONFIG, accounts: [CONFIG.accounts[0]!, { ...CONFIG.accounts[1]!, id: 'alice' }] }));
    expect(dup.code).toBe(ErrorCode.Config_Invalid);
    expect(dup.text.en).toMatch(/operators\.accounts\[1\]\.id is a duplicate/);
    const badHash = 'scrypt$7$8$1$c2FsdA==$aGFzaA==';
    const bad = thrown(() => new OperatorAuth({ ...CONFIG, accounts: [{ id: 'x', name: 'X', hash: badHash }] }));
    expect(isSsCardError(bad, ErrorCode.Config_Invalid)).toBe(true);
    expect(bad.message).not.toContain('c2FsdA');
    expect(bad.text.en).toContain('operators.accounts[0].hash');
  });
});

describe('a login storm cannot take the thread pool', () => {
  it('runs one key derivation at a time, queues a few logins, and refuses the rest at once (Auth_Busy) without a derivation', async () => {
    const { auth } = rig({ ...CONFIG, maxFailures: 1000 });
    const real = await vi.importActual<typeof nodeCrypto>('node:crypto');
    let inFlight = 0;
    let most = 0;
    type Cb = (err: Error | null, key: Buffer) => void;
    scryptCalls.mockImplementation(((p: Buffer, salt: Buffer, keylen: number, opts: nodeCrypto.ScryptOptions, cb: Cb) => {
      inFlight++;
      most = Math.max(most, inFlight);
      real.scrypt(p, salt, keylen, opts, (err, key) => {
        inFlight--;
        cb(err, key);
      });
    }) as unknown as typeof nodeCrypto.scrypt);
    scryptCalls.mockClear();
    try {
      const extra = 6;
      const n = 1 + MAX_WAITING_DERIVATIONS + extra;
      const results = await Promise.all(Array.from({ length: n }, (_, i) => failure(auth.login(i % 2 === 0 ? 'alice' : `nobody${i}`, pw('guess')))));
      expect(most).toBe(1);
      expect(scryptCalls).toHaveBeenCalledTimes(1 + MAX_WAITING_DERIVATIONS);
      const busy = results.filter((e) => e.code === ErrorCode.Auth_Busy);
      expect(busy).toHaveLength(extra);
      expect(busy[0]!.text.en).toMatch(/too many logins/);
      expect(results.filter((e) => e.code === ErrorCode.Auth_BadCredentials)).toHaveLength(1 + MAX_WAITING_DERIVATIONS);
      // Once the storm has passed, a login goes through again.
      expect((await auth.login('alice', pw(ALICE_PW))).operatorId).toBe('alice');
    } finally {
      scryptCalls.mockImplementation(real.scrypt);
    }
  });
});
