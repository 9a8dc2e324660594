/**
 * The whole hostile traffic (scripts/api-fuzz.ts): one arbitrary of every channel, sampled in
 * batches from a seed so that one seed always gives the same traffic.
 */
import fc from 'fast-check';
import { httpAction, upgradeAction } from './http-arbitraries.js';
import type { Action, TrafficShape } from './spec.js';
import { keysAction, wsAction } from './ws-arbitraries.js';

/** The whole mix: WebSocket bursts most, keys, upgrades and HTTP requests. */
export function trafficArbitrary(shape: TrafficShape): fc.Arbitrary<Action> {
  return fc.oneof(
    { weight: 40, arbitrary: wsAction(shape) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: Math.max(0, shape.connections - 1) }).map((conn): Action => ({ ch: 'wsClose', conn })) },
    { weight: 6, arbitrary: keysAction },
    { weight: 8, arbitrary: upgradeAction },
    { weight: 45, arbitrary: httpAction(shape) },
  );
}

/** The actions of batch `n` of a run with `seed`: the same seed gives the same traffic. */
export function batchOf(arb: fc.Arbitrary<Action>, seed: number, n: number, size = 200): Action[] {
  return fc.sample(arb, { seed: (seed ^ Math.imul(n + 1, 0x9e3779b1)) | 0, numRuns: size });
}
