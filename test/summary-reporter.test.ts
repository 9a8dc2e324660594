/**
 * The closing line of test/summary-reporter.ts says what the exit code says: nested vitest runs
 * on the fixtures in test/reporter-fixtures/ (a module whose beforeAll throws, a suite whose
 * beforeAll throws, skipped and todo tests), with and without CI=true.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/stack.js';

const VITEST = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');

function run(fixtures: string[], ci: boolean): { code: number | null; line: string; out: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: ci ? 'true' : '' };
  delete env['VITEST'];
  delete env['VITEST_WORKER_ID'];
  delete env['VITEST_POOL_ID'];
  const r = spawnSync(
    process.execPath,
    [VITEST, 'run', '--root', ROOT, '--config', 'test/reporter-fixtures/vitest.config.ts', ...fixtures.map((f) => `test/reporter-fixtures/${f}.fixture.ts`)],
    { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 },
  );
  const out = `${r.stdout}\n${r.stderr}`;
  const lines = r.stdout.split('\n').filter((l) => /^tests: \d+ passed, \d+ failed, \d+ skipped$/.test(l));
  expect(lines, out).toHaveLength(1);
  return { code: r.status, line: lines[0]!, out };
}

describe('summary reporter', () => {
  it('counts the tests of a module whose beforeAll throws as failed, not skipped', () => {
    const r = run(['setup-fails', 'passes'], false);
    expect(r.line).toBe('tests: 2 passed, 2 failed, 0 skipped');
    expect(r.code).toBe(1);
    expect(r.out).toContain('setup failed: test/reporter-fixtures/setup-fails.fixture.ts > would pass 1');
  });

  it('counts the tests under a describe whose beforeAll throws as failed; its sibling passes', () => {
    const r = run(['suite-setup-fails'], false);
    expect(r.line).toBe('tests: 1 passed, 1 failed, 0 skipped');
    expect(r.code).toBe(1);
  });

  it('outside CI a skipped or todo test is skipped, and the run passes', () => {
    const r = run(['skips', 'passes'], false);
    expect(r.line).toBe('tests: 3 passed, 0 failed, 2 skipped');
    expect(r.code).toBe(0);
  });

  it('with CI=true a skipped or todo test is a failure, and the run fails', () => {
    const r = run(['skips', 'passes'], true);
    expect(r.line).toBe('tests: 3 passed, 2 failed, 0 skipped');
    expect(r.code).toBe(1);
    expect(r.out).toContain('skipped in CI: test/reporter-fixtures/skips.fixture.ts > is skipped');
  });

  it('a clean run passes with nothing skipped', () => {
    const r = run(['passes'], true);
    expect(r.line).toBe('tests: 2 passed, 0 failed, 0 skipped');
    expect(r.code).toBe(0);
  });
});
