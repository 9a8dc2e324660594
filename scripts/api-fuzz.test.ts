/**
 * The hostile-traffic generator and runner (scripts/api-fuzz.ts) on their own, and against the real
 * API server over the fake terminal (testing/api-test-client.ts): the traffic of one seed is always
 * the same, no frame outside the keypad channel can type a digit, the keypad model never lets a PIN
 * be completed, the access expectations follow docs/api.md, and a run that the server answers
 * correctly reports no anomaly while the holder's tries stay untouched.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApi } from '../testing/api-test-client.js';
import type { TestApi } from '../testing/api-test-client.js';
import { FAKE_READER } from '../testing/fake-terminal.js';
import { KeypadModel, TOUCH_KEYS, batchOf, expectationOf, isDigitTouchKey, runFuzz, trafficArbitrary } from './api-fuzz.js';
import type { Action, TouchKeySpec } from './api-fuzz.js';

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

  it('isDigitTouchKey finds a digit however it is written', () => {
    expect(isDigitTouchKey('{"header":{"type":"command","name":"Keyboard.TouchKey","requestId":1},"payload":{"key":"5"}}')).toBe(true);
    expect(isDigitTouchKey('{"header":{"name":"Keyboard.TouchKey"},"payload":{"key":"\\u0035"}}')).toBe(true);
    expect(isDigitTouchKey('{"header":{"name":"Keyboard.TouchKey"},"payload":{"key":"clear"}}')).toBe(false);
    expect(isDigitTouchKey('{"header":{"name":"Keyboard.TouchKey"},"payload":{"key":5}}')).toBe(false);
  });
});

describe('the keypad model', () => {
  /**
   * A keypad as the daemon's (drivers/pinpad/entry.ts): an entry collects digits up to its
   * maximum; backspace, clear and cancel as there. Entries start whenever the test says so.
   * Keys with a reader that names no slot reach no keypad.
   */
  const key = fc.record({
    key: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...TOUCH_KEYS.slice(0, 10)) }, { weight: 1, arbitrary: fc.constantFrom(...TOUCH_KEYS.slice(10), 'x') }),
    reader: fc.constantFrom('none' as const, 'none' as const, 'slot' as const, 'bogus' as const),
  });

  it('never lets a keypad hold 6 digits, wherever the entries start and end', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.oneof({ weight: 19, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })), { maxLength: 300, size: 'max' }), (steps) => {
        const m = new KeypadModel();
        let entering = false;
        let count = 0;
        for (const [k0, toggle] of steps) {
          if (toggle) {
            entering = !entering;
            count = 0;
          }
          const k: TouchKeySpec = m.next(k0);
          expect(m.pending).toBeLessThanOrEqual(KeypadModel.MAX_PENDING);
          if (!entering || k.reader === 'bogus') continue;
          if (/^[0-9]$/.test(k.key)) count++;
          else if (k.key === 'backspace') count = Math.max(0, count - 1);
          else if (k.key === 'clear') count = 0;
          else if (k.key === 'cancel') {
            entering = false;
            count = 0;
          }
          expect(count).toBeLessThan(6);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('sends clear in place of the digit that would make 6', () => {
    const m = new KeypadModel();
    const sent = Array.from({ length: 7 }, () => m.next({ key: '1', reader: 'none' }).key);
    expect(sent).toEqual(['1', '1', '1', '1', '1', 'clear', '1']);
    // A clear for a slot keypad, or for one that does not exist, does not start the count again.
    m.next({ key: 'clear', reader: 'bogus' });
    expect(m.pending).toBe(1);
  });
});

describe('access expectations (docs/api.md "Who may talk to the daemon")', () => {
  it.each([
    [{ host: 'ip', origin: 'none', cred: 'token', upgrade: false, method: 'GET', target: '/status' }, { mustRefuse: false, mustAdmit: true }],
    [{ host: 'foreign', origin: 'none', cred: 'token', upgrade: false, method: 'GET', target: '/status' }, { mustRefuse: true, mustAdmit: false }],
    [{ host: 'ip', origin: 'null', cred: 'token', upgrade: true }, { mustRefuse: true, mustAdmit: false }],
    [{ host: 'ip', origin: 'none', cred: 'none', upgrade: false, method: 'GET', target: '/health' }, { mustRefuse: false, mustAdmit: false }],
    [{ host: 'ip', origin: 'none', cred: 'badToken', upgrade: false, method: 'GET', target: '/health' }, { mustRefuse: true, mustAdmit: false }],
    [{ host: 'ip', origin: 'none', cred: 'none', upgrade: false, method: 'POST', target: '/health' }, { mustRefuse: true, mustAdmit: false }],
    [{ host: 'ip', origin: 'own', cred: 'none', upgrade: true }, { mustRefuse: false, mustAdmit: false }],
    [{ host: 'ip', origin: 'none', cred: 'tokenInQuery', upgrade: true }, { mustRefuse: true, mustAdmit: false }],
    [{ host: 'ip', origin: 'none', cred: 'operatorJunk', upgrade: false, method: 'GET', target: '//[' }, { mustRefuse: true, mustAdmit: false }],
  ] as const)('%j → %j', (r, e) => {
    expect(expectationOf(r)).toEqual(e);
  });
});

describe('a run against the API over the fake terminal', () => {
  let api: TestApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it('1500 messages: every refusal kind shows, no anomaly, nothing typed a PIN, every command got its answer', async () => {
    api = await startTestApi({ allowUnauthenticatedLoopback: false, maxFrameBytes: 4096, maxClients: 16, maxConnectionsPerClient: 8, abortGraceMs: 500 });
    const report = await runFuzz({ host: '127.0.0.1', port: api.server.port, token: api.clientToken, maxFrameBytes: 4096, reader: FAKE_READER }, { seed: 1, messages: 1500, deadlineMs: 20_000, answerTimeoutMs: 5000 });
    expect(report.anomalies).toEqual({ count: 0, byKind: {}, examples: [] });
    expect(report.messages).toBe(1500);
    for (const k of ['ws ack invalidMessage', 'ws completion invalidData', 'ws completion unsupportedCommand', 'ws close 1009', 'http 401', 'http 403', 'http 421', 'upgrade 401', 'upgrade 403']) expect(report.refusals[k], k).toBeGreaterThan(0);
    expect(report.acceptedCommands).toBeGreaterThan(0);
    expect(api.terminal.pinTriesLeft).toBe(6);
    expect(api.logger.entries.filter((e) => e.level === 'error')).toEqual([]);
  }, 60_000);
});
