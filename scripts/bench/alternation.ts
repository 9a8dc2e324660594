/**
 * The order in which two paths compared in one run alternate their repetitions (docs/benchmarks.md,
 * "How the benches report"): ABBA, so that drift on a shared machine hits both.
 */


export type PathName = 'A' | 'B';

/**
 * The order of `reps` repetitions of each of two paths. ABBA (A B B A A B B A …) cancels a linear
 * drift of the machine between the two paths and lets runs of the same path come in pairs; ABAB
 * alternates strictly. Either way no path runs all its repetitions before the other starts.
 */
export function alternation(reps: number, pattern: 'ABBA' | 'ABAB' = 'ABBA'): PathName[] {
  if (!Number.isInteger(reps) || reps < 0) throw new Error(`alternation: reps must be an integer ≥ 0, got ${reps}`);
  const ab: readonly PathName[] = ['A', 'B'];
  const ba: readonly PathName[] = ['B', 'A'];
  return Array.from({ length: reps }, (_, i) => (pattern === 'ABBA' && i % 2 === 1 ? ba : ab)).flat();
}

/** Consecutive equal items as [item, count] runs: A B B A → [A,1] [B,2] [A,1]. */
export function runsOf<T>(order: readonly T[]): [T, number][] {
  const out: [T, number][] = [];
  for (const x of order) {
    const last = out.at(-1);
    if (last !== undefined && last[0] === x) last[1]++;
    else out.push([x, 1]);
  }
  return out;
}
