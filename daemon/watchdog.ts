/**
 * systemd's watchdog (systemd.service(5) WatchdogSec=, sd_watchdog_enabled(3)): under a unit with
 * WatchdogSec, systemd sets WATCHDOG_USEC (and WATCHDOG_PID) and restarts the service when no
 * `WATCHDOG=1` arrives in time. The daemon sends one every half of that period — from a timer on
 * its event loop, so a loop that is stuck sends none — and only while the terminal is healthy
 * enough to serve: the PC/SC service up (a daemon that lost pcscd for good is restarted). The
 * message goes through `systemd-notify` (Node has no Unix datagram socket; the unit's
 * NotifyAccess=all accepts it from the child, as READY=1 already does: daemon/main.ts).
 */
import { execFile } from 'node:child_process';

export interface WatchdogOptions {
  /** The process environment (WATCHDOG_USEC, WATCHDOG_PID, NOTIFY_SOCKET). */
  readonly env: NodeJS.ProcessEnv;
  readonly pid: number;
  /** Whether to ping now: the terminal's health (daemon/main.ts). */
  readonly healthy: () => boolean;
  /** Sends `WATCHDOG=1` (default: systemd-notify). */
  readonly notify?: (done: (error: Error | null) => void) => void;
  /** Told once when a ping is skipped for ill health and once when a ping fails, until it recovers. */
  readonly log?: { warn(message: string, meta?: Record<string, unknown>): void };
}

/** The watchdog period in ms when systemd asked for one for this process, else undefined (sd_watchdog_enabled). */
export function watchdogPeriodMs(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  if (!env['NOTIFY_SOCKET']) return undefined;
  const usec = Number(env['WATCHDOG_USEC']);
  if (!Number.isInteger(usec) || usec <= 0) return undefined;
  const owner = env['WATCHDOG_PID'];
  if (owner !== undefined && owner !== '' && Number(owner) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 1000));
}

const systemdNotify = (done: (error: Error | null) => void): void => {
  execFile('systemd-notify', ['WATCHDOG=1'], (e) => done(e));
};

/** Starts the pings; returns the stop. A no-op when systemd asked for no watchdog. */
export function startWatchdog(o: WatchdogOptions): () => void {
  const period = watchdogPeriodMs(o.env, o.pid);
  if (period === undefined) return () => undefined;
  const notify = o.notify ?? systemdNotify;
  let sick = false;
  let failing = false;
  const timer = setInterval(() => {
    if (!o.healthy()) {
      if (!sick) o.log?.warn('systemd watchdog: not pinging while the terminal is unhealthy (systemd restarts the daemon if it stays so)', { periodMs: period });
      sick = true;
      return;
    }
    sick = false;
    notify((e) => {
      if (e !== null && !failing) o.log?.warn('systemd watchdog: systemd-notify failed', { message: e.message });
      failing = e !== null;
    });
  }, Math.max(1, Math.floor(period / 2)));
  timer.unref();
  return () => clearInterval(timer);
}
