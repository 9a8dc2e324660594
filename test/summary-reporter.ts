/**
 * Prints one plain closing line, "tests: N passed, N failed, N skipped", after vitest's own
 * report, so that any harness reading the tail of the log sees the totals — and the totals say
 * what the exit code says:
 *
 * - A test that did not pass in a module or suite whose setup failed (a `beforeAll` that threw,
 *   a module that did not load) is a failed test, not a skipped one: vitest marks such tests
 *   skipped, but they did not run because something broke.
 * - With `CI=true` no test may be skipped at all (`.skip`, `.todo`, `skipIf`): each counts as
 *   failed, and the run fails.
 * - An error vitest could not attribute to a test (unhandled rejection) counts as one failure.
 *
 * When this reporter counts a failure vitest did not, it sets a non-zero exit code.
 */
import type { Reporter, SerializedError, TestCase, TestModule, TestRunEndReason, TestSuite } from 'vitest/node';

export interface Totals {
  passed: number;
  failed: number;
  skipped: number;
  /** Tests counted as failed that vitest reported as skipped, with why. */
  notRun: { name: string; why: 'setup failed' | 'skipped in CI' }[];
}

function setupFailed(entity: TestSuite | TestModule): boolean {
  return entity.errors().length > 0 || entity.state() === 'failed';
}

/** Did any suite or module around `test` fail its own setup (hooks, loading)? */
function inFailedSetup(test: TestCase): boolean {
  for (let p: TestSuite | TestModule = test.parent; ; p = p.parent) {
    if (p.errors().length > 0) return true;
    if (p.type === 'module') return setupFailed(p);
  }
}

export function countTotals(modules: readonly TestModule[], ci: boolean, unhandledErrors = 0): Totals {
  const t: Totals = { passed: 0, failed: unhandledErrors, skipped: 0, notRun: [] };
  for (const m of modules) {
    let tests = 0;
    for (const test of m.children.allTests()) {
      tests++;
      const s = test.result().state;
      if (s === 'passed') t.passed++;
      else if (s === 'failed') t.failed++;
      else if (inFailedSetup(test)) {
        t.failed++;
        t.notRun.push({ name: `${m.relativeModuleId} > ${test.fullName}`, why: 'setup failed' });
      } else if (ci) {
        t.failed++;
        t.notRun.push({ name: `${m.relativeModuleId} > ${test.fullName}`, why: 'skipped in CI' });
      } else t.skipped++;
    }
    // A module that failed before declaring any test (import error, syntax error) is one failure.
    if (tests === 0 && setupFailed(m)) t.failed++;
  }
  return t;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: readonly TestModule[], unhandledErrors: readonly SerializedError[], _reason: TestRunEndReason): void {
    const ci = process.env['CI'] === 'true' || process.env['CI'] === '1';
    const t = countTotals(modules, ci, unhandledErrors.length);
    if (t.notRun.length > 0) {
      process.stdout.write(`\nCounted as failed (${t.notRun.length}):\n`);
      for (const n of t.notRun.slice(0, 50)) process.stdout.write(`  ${n.why}: ${n.name}\n`);
      if (t.notRun.length > 50) process.stdout.write(`  … and ${t.notRun.length - 50} more\n`);
    }
    if (t.failed > 0) process.exitCode = 1;
    process.stdout.write(`\ntests: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped\n`);
  }
}
