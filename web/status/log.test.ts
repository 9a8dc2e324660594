import { describe, expect, it } from 'vitest';
import { linesOf, needsLogin } from './log.js';
import { formatTime } from './model.js';

describe('recent log lines', () => {
  it('newest first, with the time, level, component, message and compact metadata', () => {
    const at = new Date(2026, 11, 2, 12, 0, 1).getTime();
    const lines = linesOf({
      lines: [
        { seq: 1, at, level: 'info', component: 'PCSC', message: 'reader added', meta: { name: 'Virtual PCD 00 00' } },
        { seq: 2, at, level: 'warn', component: 'SYNC', message: 'push failed' },
      ],
    });
    expect(lines).toEqual([
      { seq: 2, time: formatTime(at), level: 'warn', component: 'SYNC', message: 'push failed', meta: '' },
      { seq: 1, time: '2026-12-02 12:00:01', level: 'info', component: 'PCSC', message: 'reader added', meta: '{"name":"Virtual PCD 00 00"}' },
    ]);
  });

  it('drops malformed lines, keeps at most 200, cuts long metadata', () => {
    const many = Array.from({ length: 250 }, (_, i) => ({ seq: i + 1, at: 0, level: 'debug', component: 'APDU', message: `l${i}` }));
    const lines = linesOf({ lines: [...many, { seq: 'x' }, null, { seq: 999, level: 'loud', message: 'm' }] });
    expect(lines).toHaveLength(197);
    const big = linesOf({ lines: [{ seq: 1, at: 0, level: 'info', component: 'X', message: 'm', meta: { s: 'y'.repeat(1000) } }] });
    expect(big[0]!.meta.length).toBe(301);
    expect(linesOf({})).toEqual([]);
  });

  it('an operator must log in again on auth.required / sessionExpired / invalidToken only', () => {
    expect(needsLogin('auth.required')).toBe(true);
    expect(needsLogin('auth.sessionExpired')).toBe(true);
    expect(needsLogin('auth.invalidToken')).toBe(true);
    expect(needsLogin('log.unavailable')).toBe(false);
    expect(needsLogin(null)).toBe(false);
  });
});
