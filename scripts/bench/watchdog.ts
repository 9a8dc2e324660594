/**
 * A bench's watchdog: a run that hangs (a wedged pcscd, the pcsclite addon stuck in a native call)
 * ends with an error, not silence.
 */
import { Worker } from 'node:worker_threads';

/** The watchdog's thread: on time-out it says why, asks the bench to clean up, and after a grace kills the process. */
const WATCHDOG_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
let timer;
let { ms, message } = workerData;
const arm = () => {
  clearTimeout(timer);
  timer = setTimeout(() => {
    writeSync(2, message + '\\n');
    parentPort.postMessage('expired');
    setTimeout(() => {
      writeSync(2, 'the bench did not end within ' + workerData.graceMs + ' ms of that: killed\\n');
      process.kill(process.pid, 'SIGKILL');
    }, workerData.graceMs);
  }, ms);
};
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearTimeout(timer);
    parentPort.close();
    return;
  }
  if (m !== null && typeof m === 'object') ({ ms, message } = m);
  arm();
});
arm();
`;

export interface Watchdog {
  /** Progress was made: start counting again (from now on with another limit and message, if given). */
  refresh(next?: { ms: number; message: string }): void;
  stop(): void;
}

/**
 * A watchdog that works even when the main thread is stuck in a native call: the pcsclite addon's
 * close() joins its status thread, which hangs when that thread missed its SCardCancel (the race
 * scripts/sscard.ts works around; the main thread then never runs a timer again). After `ms`
 * without {@link Watchdog.refresh} it writes `message` to stderr and calls `onExpire` (a clean
 * up, if the main thread still runs); `graceMs` later it kills the process, which frees whatever
 * it held (the vpcd ports' lock, a card) and ends its children that have a death signal.
 */
export function watchdog(ms: number, message: string, options: { graceMs?: number; onExpire?: () => void } = {}): Watchdog {
  // execArgv: the bench's own flags (--input-type, a loader) are not for this plain CommonJS thread.
  const w = new Worker(WATCHDOG_THREAD, { eval: true, execArgv: [], workerData: { ms, message, graceMs: options.graceMs ?? 15_000 } });
  w.on('message', () => options.onExpire?.());
  w.unref();
  return {
    refresh: (next) => w.postMessage(next ?? 'refresh'),
    stop: () => w.postMessage('stop'),
  };
}
