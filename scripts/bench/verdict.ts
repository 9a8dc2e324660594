/**
 * The rule for "target met" (docs/benchmarks.md, "How the benches report"): a target is met only
 * when the figure is within it AND the run that made the figure had no error at all.
 */


/** What went wrong on one path of a comparison: failed flows or answers, and errors the card process saw. */
export interface PathErrors {
  readonly errors: number;
  readonly cardProcessErrors?: number;
}

/** All the errors that stand against a figure made from these paths. */
export function errorsOf(paths: readonly (PathErrors | null | undefined)[]): number {
  return paths.reduce((a, p) => a + (p ? p.errors + (p.cardProcessErrors ?? 0) : 0), 0);
}

/**
 * A target's verdict. `within`: the figure is within the target (null: it could not be judged,
 * e.g. a comparison needs two rows). `met` only when within AND the run had no error; a run with
 * errors meets no target, even one that could not be judged.
 */
export interface Verdict {
  readonly met: boolean | null;
  readonly within: boolean | null;
  readonly errors: number;
}

export function judge(within: boolean | null, errors: number): Verdict {
  return { met: errors > 0 ? false : within, within, errors };
}

/** "met", "NOT met", "NOT met: 3 errors in the run (the figure alone is within)", … or "n/a". */
export function verdictText(v: Verdict): string {
  if (v.met === null) return 'n/a';
  if (v.met) return 'met';
  if (v.errors === 0) return 'NOT met';
  const errors = `${v.errors} error${v.errors === 1 ? '' : 's'} in the run`;
  if (v.within === null) return `NOT met: ${errors}`;
  return v.within ? `NOT met: ${errors} (the figure alone is within)` : `NOT met (and ${errors})`;
}
