import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('watchdog', () => {
  it('ends a bench whose main thread is stuck in a native call', () => {
    // Atomics.wait blocks the main thread as the pcsclite addon's close() does: no timer of it runs.
    const code = [
      "import { watchdog } from './scripts/bench/watchdog.ts';",
      "watchdog(200, 'bench: stuck', { graceMs: 200, onExpire: () => process.stderr.write('never\\n') });",
      'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);',
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 15_000 });
    expect(r.signal).toBe('SIGKILL');
    expect(r.stderr).toContain('bench: stuck');
    expect(r.stderr).toContain('killed');
    expect(r.stderr).not.toContain('never');
  });
});
