/**
 * An operator directory in memory behind OperatorAuthPort (daemon/terminal/port.ts), for the API's
 * tests; daemon/auth/ implements the real one. Passphrases are compared in constant time and every
 * buffer received is kept so tests can check the API wiped it.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ErrorCode, SsCardError } from '../core/errors.js';
import type { OperatorAuthPort } from '../daemon/terminal/port.js';

export interface FakeAuthOptions {
  /** operatorId → passphrase. */
  readonly operators?: Readonly<Record<string, string>>;
  readonly ttlMs?: number;
  readonly now?: () => number;
  /** Wrong passphrases before an operator is locked (default 5). */
  readonly maxFailures?: number;
}

/** An operator directory in memory (daemon/auth/ implements the real one). */
export class FakeOperatorAuth implements OperatorAuthPort {
  /** Every passphrase buffer received, kept so tests can check the API wiped it. */
  public readonly received: Buffer[] = [];
  private readonly operators: Map<string, string>;
  private readonly tokens = new Map<string, { operatorId: string; expiresAt: number }>();
  private readonly failures = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly maxFailures: number;
  public now: () => number;

  public constructor(opts: FakeAuthOptions = {}) {
    this.operators = new Map(Object.entries(opts.operators ?? { op1: 'correct horse battery staple' }));
    this.ttlMs = opts.ttlMs ?? 8 * 3600_000;
    this.now = opts.now ?? Date.now;
    this.maxFailures = opts.maxFailures ?? 5;
  }

  public login(operatorId: string, passphrase: Buffer): Promise<{ token: string; operatorId: string; expiresAt: number }> {
    this.received.push(passphrase);
    if ((this.failures.get(operatorId) ?? 0) >= this.maxFailures) {
      return Promise.reject(new SsCardError(ErrorCode.Auth_Locked, { zh: '此经办人员账号因多次密码错误已锁定，请联系管理员', en: 'this operator account is locked after too many wrong passphrases; contact the administrator' }));
    }
    const stored = this.operators.get(operatorId);
    const want = Buffer.from(stored ?? '', 'utf8');
    const ok = stored !== undefined && want.length === passphrase.length && timingSafeEqual(want, passphrase);
    want.fill(0);
    if (!ok) {
      this.failures.set(operatorId, (this.failures.get(operatorId) ?? 0) + 1);
      return Promise.reject(new SsCardError(ErrorCode.Auth_BadCredentials, { zh: '经办人员编号或口令不正确', en: 'wrong operator id or passphrase' }));
    }
    this.failures.delete(operatorId);
    const token = randomBytes(24).toString('base64url');
    const expiresAt = this.now() + this.ttlMs;
    this.tokens.set(token, { operatorId, expiresAt });
    return Promise.resolve({ token, operatorId, expiresAt });
  }

  public check(token: string): string {
    const s = this.tokens.get(token);
    if (s === undefined) throw new SsCardError(ErrorCode.Auth_InvalidToken, { zh: '经办人员令牌无效，请重新登录', en: 'the operator token is not valid; log in again' });
    if (this.now() >= s.expiresAt) {
      // Kept: it answers "expired" again next time, as OperatorAuth does.
      throw new SsCardError(ErrorCode.Auth_SessionExpired, { zh: '经办人员登录已过期，请重新登录', en: 'the operator session has expired; log in again' });
    }
    return s.operatorId;
  }

  public logout(token: string): void {
    this.tokens.delete(token);
  }

  /** Make a token expire now. */
  public expire(token: string): void {
    const s = this.tokens.get(token);
    if (s !== undefined) this.tokens.set(token, { ...s, expiresAt: this.now() });
  }

  /** Sessions not expired. */
  public live(): number {
    const at = this.now();
    return [...this.tokens.values()].filter((s) => at < s.expiresAt).length;
  }
}
