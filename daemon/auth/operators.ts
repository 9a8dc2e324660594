/**
 * Operator authentication for the local API (docs/api.md "Operators"): counter terminals run
 * state-changing services only for an operator who logged in with the passphrase whose scrypt
 * hash is in the configuration (`operators.accounts`).
 *
 * - Unknown operator and wrong passphrase give the same error text and both run one scrypt, so a
 *   caller cannot tell which ids exist (no user enumeration). Failures are counted per id asked
 *   for, known or not, so an unknown id locks exactly like a known one.
 * - `maxFailures` consecutive failures lock the id for `lockoutMs` (Auth_Locked); a good login
 *   resets the count.
 * - A session token is 32 random bytes (base64url). Only its SHA-256 is kept, so a heap dump of the
 *   daemon does not hand out live sessions. Sessions expire `sessionTtlMs` after their last use
 *   (sliding): check() renews.
 * - An expired token keeps answering Auth_SessionExpired (not Auth_InvalidToken) for a day after
 *   it expired — the operator is told to log in again, not that something is wrong with the token —
 *   until it would be forgotten anyway: at most the last {@link MAX_EXPIRED} expired tokens are
 *   remembered (their digests only), none past a restart. A logged-out token is invalid at once.
 * - The passphrase Buffer is wiped when login() is done with it, whatever the outcome. Neither a
 *   passphrase nor a token is ever put in an error, a context or an event.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { wipe } from '../../apdu/pin.js';
import type { DaemonConfig } from '../config/config.js';
import type { OperatorAuthPort } from '../terminal/port.js';
import { DEFAULT_SCRYPT, KEY_BYTES, SALT_BYTES, parseHash, verifyPassphrase } from './passphrase.js';

export type OperatorsConfig = DaemonConfig['operators'];

export type OperatorAuthEventType = 'login' | 'loginFailed' | 'locked' | 'logout' | 'expired';

export interface OperatorAuthEvent {
  readonly type: OperatorAuthEventType;
  /** The id asked for (for loginFailed/locked it may be an id that does not exist). */
  readonly operatorId: string;
  readonly at: number;
}

export interface OperatorAuthOptions {
  /** Clock in ms (tests pass a fake); default Date.now. */
  readonly now?: () => number;
  /** Called for every login, failure, lock, logout and expiry (the daemon journals and logs them). */
  readonly onEvent?: (event: OperatorAuthEvent) => void;
}

interface Session {
  readonly operatorId: string;
  lastUsed: number;
}

interface FailureState {
  failures: number;
  lockedUntil: number;
}

/** Ids longer than this are not counted separately (they cannot exist: ids are at most 32 characters). */
const MAX_ID_LENGTH = 64;
/** At most this many ids' failure counts are kept (oldest unlocked ones dropped first). */
const MAX_TRACKED_IDS = 1024;
/** A passphrase longer than this is refused before scrypt (no one types 1 KiB; it would only cost CPU). */
const MAX_PASSPHRASE_BYTES = 1024;

/**
 * Key derivations (scrypt, ~32 MiB and tens of ms each) run one at a time, with at most this many
 * logins waiting; more are refused at once with Auth_Busy. scrypt runs on libuv's thread pool,
 * which the PC/SC addon shares: a storm of logins (unknown ids cost a derivation too) must not
 * take every pool thread and stall the card readers (docs/security.md "A hostile client").
 */
export const MAX_WAITING_DERIVATIONS = 4;

/** One derivation at a time, a short queue, refusal beyond it. */
class DerivationGate {
  private running = false;
  private readonly waiting: (() => void)[] = [];

  public constructor(private readonly maxWaiting: number) {}

  public async run<T>(f: () => Promise<T>): Promise<T> {
    if (this.running) {
      if (this.waiting.length >= this.maxWaiting) {
        throw new SsCardError(ErrorCode.Auth_Busy, { zh: '登录请求过多，请稍候几秒再试', en: 'too many logins at once: wait a few seconds and try again' });
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running = true;
    try {
      return await f();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.running = false;
    }
  }
}
/** How long an expired token is still recognised as expired (then it is just unknown). */
export const EXPIRED_MEMORY_MS = 86_400_000;
/** Expired tokens remembered at most (oldest forgotten first). */
export const MAX_EXPIRED = 1024;

function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function minutes(ms: number): number {
  return Math.max(1, Math.ceil(ms / 60_000));
}

export class OperatorAuth implements OperatorAuthPort {
  private readonly accounts: ReadonlyMap<string, { readonly id: string; readonly name: string; readonly hash: string }>;
  private readonly ttlMs: number;
  private readonly maxFailures: number;
  private readonly lockoutMs: number;
  private readonly now: () => number;
  private readonly onEvent: ((event: OperatorAuthEvent) => void) | undefined;
  /** SHA-256 (hex) of the token → session. */
  private readonly sessions = new Map<string, Session>();
  /** SHA-256 (hex) of an expired token → when it expired (insertion order = expiry order). */
  private readonly expiredTokens = new Map<string, number>();
  private readonly failures = new Map<string, FailureState>();
  /** Verified against for unknown ids, so they cost one scrypt like known ones. Matches nothing. */
  private readonly decoy: string;
  private readonly derivations = new DerivationGate(MAX_WAITING_DERIVATIONS);

  public constructor(config: OperatorsConfig, options: OperatorAuthOptions = {}) {
    const ints: [string, number, number][] = [
      ['sessionTtlMs', config.sessionTtlMs, 1000],
      ['maxFailures', config.maxFailures, 1],
      ['lockoutMs', config.lockoutMs, 0],
    ];
    for (const [key, value, min] of ints) {
      if (!Number.isSafeInteger(value) || value < min) {
        throw new SsCardError(ErrorCode.Config_Invalid, { zh: `operators.${key} 必须是不小于 ${min} 的整数`, en: `operators.${key} must be an integer of at least ${min}` }, { path: ['operators', key] });
      }
    }
    const accounts = new Map<string, { id: string; name: string; hash: string }>();
    config.accounts.forEach((a, i) => {
      if (accounts.has(a.id)) {
        throw new SsCardError(ErrorCode.Config_Invalid, { zh: `operators.accounts[${i}].id 重复：${a.id}`, en: `operators.accounts[${i}].id is a duplicate: ${a.id}` }, { path: ['operators', 'accounts', i, 'id'] });
      }
      if (parseHash(a.hash) === null) {
        throw new SsCardError(ErrorCode.Config_Invalid, { zh: `operators.accounts[${i}].hash 格式无效（已隐藏）`, en: `operators.accounts[${i}].hash is not a valid hash (value hidden)` }, { path: ['operators', 'accounts', i, 'hash'] });
      }
      accounts.set(a.id, { id: a.id, name: a.name, hash: a.hash });
    });
    this.accounts = accounts;
    this.ttlMs = config.sessionTtlMs;
    this.maxFailures = config.maxFailures;
    this.lockoutMs = config.lockoutMs;
    this.now = options.now ?? Date.now;
    this.onEvent = options.onEvent;
    // The decoy uses the cost of the first account so an unknown id takes as long as a known one.
    const first = accounts.values().next().value;
    const p = (first && parseHash(first.hash)) ?? { ...DEFAULT_SCRYPT, salt: randomBytes(SALT_BYTES), hash: randomBytes(KEY_BYTES) };
    this.decoy = `scrypt$${p.N}$${p.r}$${p.p}$${randomBytes(p.salt.length).toString('base64')}$${randomBytes(p.hash.length).toString('base64')}`;
  }

  /** The configured operators (id and display name; never the hash). */
  public operators(): { readonly id: string; readonly name: string }[] {
    return [...this.accounts.values()].map((a) => ({ id: a.id, name: a.name }));
  }

  /** Number of live sessions (expired ones are dropped first). */
  public sessionCount(): number {
    this.sweep();
    return this.sessions.size;
  }

  public async login(operatorId: string, passphrase: Buffer): Promise<{ readonly token: string; readonly operatorId: string; readonly expiresAt: number }> {
    try {
      if (!Buffer.isBuffer(passphrase)) {
        throw new SsCardError(ErrorCode.Input_BadOption, { zh: '口令必须以 Buffer 传入', en: 'the passphrase must be passed as a Buffer' }, { argument: 'passphrase' });
      }
      if (typeof operatorId !== 'string' || operatorId.length === 0 || operatorId.length > MAX_ID_LENGTH || passphrase.length === 0 || passphrase.length > MAX_PASSPHRASE_BYTES) {
        // Malformed requests are bad credentials too, without a scrypt (they name no account).
        throw this.badCredentials();
      }
      this.sweep();
      const id = operatorId;
      this.throwIfLocked(id);
      const account = this.accounts.get(id);
      const ok = await this.derivations.run(() => verifyPassphrase(passphrase, account?.hash ?? this.decoy));
      if (ok && account !== undefined) {
        this.failures.delete(id);
        const token = randomBytes(32).toString('base64url');
        const at = this.now();
        this.sessions.set(tokenDigest(token), { operatorId: id, lastUsed: at });
        this.emit('login', id, at);
        return { token, operatorId: id, expiresAt: at + this.ttlMs };
      }
      throw this.recordFailure(id);
    } finally {
      if (Buffer.isBuffer(passphrase)) wipe(passphrase);
    }
  }

  public check(token: string): string {
    const session = this.live(token);
    session.lastUsed = this.now();
    return session.operatorId;
  }

  /** When the session of `token` ends if it is not used again; throws like check() but does not renew. */
  public expiresAt(token: string): number {
    return this.live(token).lastUsed + this.ttlMs;
  }

  public logout(token: string): void {
    if (typeof token !== 'string') return;
    const digest = tokenDigest(token);
    this.expiredTokens.delete(digest);
    const session = this.sessions.get(digest);
    if (session === undefined) return;
    this.sessions.delete(digest);
    this.emit('logout', session.operatorId, this.now());
  }

  /** An administrator's unlock of one id (failures forgotten). */
  public unlock(operatorId: string): void {
    this.failures.delete(operatorId);
  }

  private live(token: string): Session {
    if (typeof token !== 'string' || token.length === 0 || token.length > 128) throw this.invalidToken();
    const digest = tokenDigest(token);
    const session = this.sessions.get(digest);
    const at = this.now();
    if (session === undefined) {
      const expiredAt = this.expiredTokens.get(digest);
      if (expiredAt !== undefined && at - expiredAt < EXPIRED_MEMORY_MS) throw this.expired();
      throw this.invalidToken();
    }
    if (at - session.lastUsed >= this.ttlMs) {
      this.retire(digest, session, at);
      throw this.expired();
    }
    return session;
  }

  private sweep(): void {
    const at = this.now();
    for (const [digest, s] of this.sessions) {
      if (at - s.lastUsed >= this.ttlMs) this.retire(digest, s, at);
    }
  }

  /** A session that ran out: its token is remembered as expired (bounded), the event sent once. */
  private retire(digest: string, s: Session, at: number): void {
    this.sessions.delete(digest);
    this.expiredTokens.delete(digest);
    this.expiredTokens.set(digest, s.lastUsed + this.ttlMs);
    for (const [d, when] of this.expiredTokens) {
      if (this.expiredTokens.size <= MAX_EXPIRED && at - when < EXPIRED_MEMORY_MS) break;
      this.expiredTokens.delete(d);
    }
    this.emit('expired', s.operatorId, at);
  }

  private throwIfLocked(id: string): void {
    const f = this.failures.get(id);
    if (f === undefined || f.lockedUntil === 0) return;
    const at = this.now();
    if (at < f.lockedUntil) throw this.locked(f.lockedUntil - at, f.lockedUntil);
    this.failures.delete(id); // the lock has run out: a fresh count
  }

  private recordFailure(id: string): SsCardError {
    const at = this.now();
    let f = this.failures.get(id);
    if (f === undefined) {
      this.trimFailures();
      f = { failures: 0, lockedUntil: 0 };
      this.failures.set(id, f);
    }
    f.failures += 1;
    this.emit('loginFailed', id, at);
    if (f.failures >= this.maxFailures) {
      f.failures = 0;
      f.lockedUntil = at + this.lockoutMs;
      this.emit('locked', id, at);
      return this.locked(this.lockoutMs, f.lockedUntil);
    }
    return this.badCredentials();
  }

  private trimFailures(): void {
    if (this.failures.size < MAX_TRACKED_IDS) return;
    const at = this.now();
    for (const [id, f] of this.failures) {
      if (f.lockedUntil <= at) {
        this.failures.delete(id);
        if (this.failures.size < MAX_TRACKED_IDS) return;
      }
    }
    // All locked: drop the oldest entry.
    const oldest = this.failures.keys().next().value;
    if (oldest !== undefined) this.failures.delete(oldest);
  }

  private emit(type: OperatorAuthEventType, operatorId: string, at: number): void {
    try {
      this.onEvent?.({ type, operatorId, at });
    } catch {
      // An event sink that throws must not change the outcome of a login.
    }
  }

  private badCredentials(): SsCardError {
    return new SsCardError(ErrorCode.Auth_BadCredentials, {
      zh: `操作员编号或口令不正确，请重新输入（连续输错 ${this.maxFailures} 次将锁定 ${minutes(this.lockoutMs)} 分钟）`,
      en: `wrong operator id or passphrase; try again (${this.maxFailures} wrong tries in a row lock the account for ${minutes(this.lockoutMs)} min)`,
    });
  }

  private locked(remainingMs: number, until: number): SsCardError {
    const when = new Date(until).toISOString();
    return new SsCardError(
      ErrorCode.Auth_Locked,
      {
        zh: `口令连续输错次数过多，该操作员账户已锁定：请在约 ${minutes(remainingMs)} 分钟后（${when}）重试，或请管理员解锁`,
        en: `too many wrong passphrases: this operator account is locked; try again in about ${minutes(remainingMs)} min (at ${when}) or ask an administrator to unlock it`,
      },
      { retryAt: until },
    );
  }

  private expired(): SsCardError {
    return new SsCardError(ErrorCode.Auth_SessionExpired, {
      zh: `操作员会话已超时（${minutes(this.ttlMs)} 分钟未操作），请重新登录`,
      en: `the operator session expired (${minutes(this.ttlMs)} min without use); log in again`,
    });
  }

  private invalidToken(): SsCardError {
    return new SsCardError(ErrorCode.Auth_InvalidToken, {
      zh: '操作员会话无效（已注销、已过期或守护程序已重启），请重新登录',
      en: 'the operator session is not valid (logged out, expired, or the daemon restarted); log in again',
    });
  }
}
