/**
 * The hostile traffic (spec.ts, ws-arbitraries.ts, http-arbitraries.ts, traffic.ts): the traffic of
 * one seed is always the same, it covers every channel and kind, and no frame outside the keypad
 * channel can type a digit.
 */
import { describe, expect, it } from 'vitest';
import { isDigitTouchKey } from './keypad.js';
import type { Action } from './spec.js';
import { batchOf, trafficArbitrary } from './traffic.js';

const shape = { reader: 'Virtual PCD 00 00', maxFrameBytes: 4096, connections: 3 };

describe('the traffic', () => {
  it('is the same for the same seed, and another seed gives other traffic', () => {
    const arb = trafficArbitrary(shape);
    const a = JSON.stringify(batchOf(arb, 42, 0, 100), (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
    const b = JSON.stringify(batchOf(arb, 42, 0, 100), (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
    const c = JSON.stringify(batchOf(arb, 43, 0, 100), (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });

  it('covers every channel and the frame kinds the brief names, and never puts a digit TouchKey in a frame', () => {
    const actions: Action[] = [];
    for (let n = 0; n < 20; n++) actions.push(...batchOf(trafficArbitrary(shape), 7, n));
    const channels = new Set(actions.map((a) => a.ch));
    expect([...channels].sort()).toEqual(['http', 'keys', 'upgrade', 'ws', 'wsClose']);
    const frames = actions.flatMap((a) => (a.ch === 'ws' ? a.frames : []));
    const kinds = new Set(frames.map((f) => f.kind));
    for (const k of ['wrongTypes', 'unknownCommand', 'badPayload', 'duplicateKeys', 'deepNesting', 'unicode', 'invalidUtf8', 'binary', 'truncated', 'notJson', 'hugeRequestId', 'cancelUnknown', 'pinEntryStart', 'storm', 'duplicateRequestId', 'nearLimit', 'overLimit', 'fragmented']) {
      expect(kinds, k).toContain(k);
    }
    for (const f of frames) if (f.t === 'text') expect(isDigitTouchKey(f.text), f.text).toBe(false);
    const http = new Set(actions.flatMap((a) => (a.ch === 'http' ? [a.spec.kind] : [])));
    for (const k of ['malformed', 'hugeHeaders', 'manyHeaders', 'slowBodyCut', 'originNull', 'originForeign', 'badHost', 'badToken', 'noCredential', 'bodyOverLimit', 'formOrWrongType', 'vendorCall']) expect(http, k).toContain(k);
    const upgrades = new Set(actions.flatMap((a) => (a.ch === 'upgrade' ? [a.spec.kind] : [])));
    for (const k of ['token', 'originNull', 'originForeign', 'unauthenticated', 'badToken', 'burst']) expect(upgrades, k).toContain(k);
  });
});
