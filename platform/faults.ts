/**
 * The reference platform's injected faults (docs/sync-protocol.md "The reference server's fault
 * injection"), for tests and demos: what a terminal's sync must survive.
 */
export const FAULT_MODES = ['none', 'down', 'reset', 'slow', '500', 'malformed', 'partial'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

export interface Fault {
  readonly mode: FaultMode;
  /** How many matching requests fail (default: every one until cleared). */
  readonly times?: number;
  /** `slow`: delay before answering (default 30 s); `down`: come back up after this long (default: stay down). */
  readonly delayMs?: number;
  /** Which requests: push (default: operations and bank requests), bank (bank requests only), hotlist, or all. */
  readonly on?: 'push' | 'bank' | 'hotlist' | 'all';
  /** Chance per matching request, 0..1 (default 1). */
  readonly probability?: number;
}

/** A small seeded generator (mulberry32): a fault's probability reproducible run after run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
