/**
 * systemd's watchdog (watchdog.ts): on only when systemd asked this process for it, a ping every
 * half period while healthy, none while not.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startWatchdog, watchdogPeriodMs } from './watchdog.js';

afterEach(() => vi.useRealTimers());

describe('systemd watchdog', () => {
  it('is on only with NOTIFY_SOCKET and WATCHDOG_USEC, and WATCHDOG_PID (when set) naming this process', () => {
    expect(watchdogPeriodMs({}, 10)).toBeUndefined();
    expect(watchdogPeriodMs({ WATCHDOG_USEC: '30000000' }, 10)).toBeUndefined();
    expect(watchdogPeriodMs({ NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '30000000' }, 10)).toBe(30_000);
    expect(watchdogPeriodMs({ NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '10' }, 10)).toBe(30_000);
    expect(watchdogPeriodMs({ NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '11' }, 10)).toBeUndefined();
    expect(watchdogPeriodMs({ NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: 'x' }, 10)).toBeUndefined();
  });

  it('pings every half period while healthy, not while unhealthy, and says so once', () => {
    vi.useFakeTimers();
    let healthy = true;
    let pings = 0;
    const warnings: string[] = [];
    const stop = startWatchdog({ env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '10000000' }, pid: 1, healthy: () => healthy, notify: (done) => (pings++, done(null)), log: { warn: (m) => warnings.push(m) } });
    vi.advanceTimersByTime(20_000);
    expect(pings).toBe(4);
    healthy = false;
    vi.advanceTimersByTime(20_000);
    expect(pings).toBe(4);
    expect(warnings).toHaveLength(1);
    healthy = true;
    vi.advanceTimersByTime(5_000);
    expect(pings).toBe(5);
    stop();
    vi.advanceTimersByTime(20_000);
    expect(pings).toBe(5);
  });

  it('does nothing without systemd\'s request', () => {
    vi.useFakeTimers();
    let pings = 0;
    startWatchdog({ env: {}, pid: 1, healthy: () => true, notify: (done) => (pings++, done(null)) })();
    vi.advanceTimersByTime(60_000);
    expect(pings).toBe(0);
  });
});
