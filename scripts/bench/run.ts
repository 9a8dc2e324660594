/**
 * Small helpers every bench's run uses: a step that says where it hangs, options validated eagerly
 * (the option named in the error), waiting for a condition.
 */

/** A step that takes longer than `ms` fails with its name: a hang says where it is. */
export async function step<T>(name: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${name}: no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** An integer option ≥ `min`, or an error that names the option. */
export function intOption(name: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got "${String(value)}"`);
  return n;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 50 ms; fails after `ms`, or as soon as `alive` names why waiting is pointless. */
export async function waitFor(cond: () => boolean, ms: number, what: string, alive?: () => string | undefined): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    const dead = alive?.();
    if (dead !== undefined) throw new Error(dead);
    if (Date.now() > end) throw new Error(`${what} (waited ${ms} ms)`);
    await sleep(50);
  }
}
