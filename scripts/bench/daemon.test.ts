import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { daemonStartupMs, entryScript, lastStop } from './daemon.js';

describe('reading the daemon under a bench', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('entryScript names the built entries beside the benches', () => {
    expect(path.basename(entryScript('sscardd'))).toMatch(/^sscardd\.(ts|js)$/);
    expect(path.basename(path.dirname(entryScript('sscard')))).toBe('scripts');
  });

  it('daemonStartupMs takes the last DAEMON line with startupMs; lastStop the last "stopping" line', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sscard-bench-daemon-'));
    const log = path.join(dir, 'sscard.log');
    expect(daemonStartupMs(log)).toBeUndefined();
    expect(lastStop(log)).toBe('');
    const lines = [
      { component: 'DAEMON', level: 'info', message: 'ready', meta: { startupMs: 120 } },
      { component: 'API', level: 'warn', message: 'startupMs elsewhere', meta: { startupMs: 1 } },
      { component: 'DAEMON', level: 'info', message: 'stopping', meta: { signal: 'SIGTERM' } },
      { component: 'DAEMON', level: 'warn', message: 'not ready', meta: { startupMs: 340, reasons: ['no PSAM'] } },
    ].map((l) => JSON.stringify(l));
    writeFileSync(log, `${lines.join('\n')}\n{"component":"DAEMON","startupMs`);
    expect(daemonStartupMs(log)).toEqual({ startupMs: 340, ready: false, reasons: ['no PSAM'] });
    expect(lastStop(log)).toBe(`; its log: ${lines[2]}`);
  });
});
