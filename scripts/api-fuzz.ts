/**
 * Hostile traffic against the daemon's local API (docs/security.md, "A hostile client costs
 * nothing"; docs/api.md): fast-check arbitraries that describe WebSocket frames, WebSocket upgrades
 * and HTTP requests, and a runner that sends them to a running daemon on loopback and sorts every
 * answer it gets. test/api-fuzz.test.ts runs a few thousand messages with a fixed seed,
 * scripts/bench-fuzz.ts (`npm run bench:fuzz`) at least 100 000; the figures are in
 * docs/benchmarks.md.
 *
 * What is sent (a message is one WebSocket frame, one HTTP request or one upgrade request):
 *
 * - **WebSocket frames** on a few connections of an authenticated native client (a client token):
 *   valid-looking envelopes with wrong types, unknown commands, huge / negative / fractional /
 *   duplicate requestIds, names given twice, deep nesting, unicode (and text frames that are not
 *   UTF-8), binary frames, fragmented messages, frames just under and over `api.maxFrameBytes`,
 *   truncated JSON, command storms (past the 32 running commands of a client), Cancel of unknown
 *   ids, PIN-entry starts (Keyboard.PinEntry, SSCard.VerifyPin) and the connection closed under
 *   them;
 * - **touch keys** (Keyboard.TouchKey floods) on one more connection, in order, through
 *   {@link KeypadModel}, which never lets 6 digits be pending: the card's PINs have 6 digits
 *   (daemon/flows/session-actors.ts asks for minLength = maxLength = 6), so no flow started by the
 *   traffic can ever send a VERIFY and spend one of the holder's tries;
 * - **upgrades** as that client, as browser pages of refused origins (null, foreign), and without
 *   or with a bad credential; to unknown paths; without a key or with the wrong version; in bursts
 *   past the per-client connection limit;
 * - **HTTP requests** with random methods and targets (`//[`, percent-encoding, absolute form,
 *   long paths), huge and many headers, missing / wrong / duplicate content types, form bodies to
 *   /sscard/*, bodies over the limit (declared or chunked), foreign and malformed Host, Origin
 *   null / foreign, missing / invalid / valid tokens, malformed request lines, pipelined requests,
 *   and bodies trickled then cut off.
 *
 * Nothing leaves loopback, everything is bounded in count and time. Each request knows what the
 * daemon must answer where access is concerned (docs/api.md "Who may talk to the daemon"): one it
 * must refuse (foreign Host, refused Origin, no or a bad credential) and that is let through, or one
 * from the admitted client that is refused as if it had no credential, is an **anomaly**, as are a
 * 500, an `internalError`, a frame the server did not answer on an open connection, a message that is
 * not JSON and a close with 1011. The callers assert there are none.
 *
 * This module is the fuzzer's face; its parts are in scripts/bench/fuzz/: spec.ts (what the
 * traffic is made of), ws-arbitraries.ts and http-arbitraries.ts (the corpus: fast-check
 * arbitraries), traffic.ts (the mix, by seed), keypad.ts, access.ts (what the daemon must answer),
 * wire.ts, socket.ts and runner.ts (sending, sorting answers), report.ts (what a run reports).
 */
export { SERVICE_COMMANDS, TOUCH_KEYS } from './bench/fuzz/spec.js';
export type { Action, BodyKind, Cred, Frame, HostKind, HttpSpec, OriginKind, TouchKeySpec, TrafficShape, UpgradeSpec } from './bench/fuzz/spec.js';
export { batchOf, trafficArbitrary } from './bench/fuzz/traffic.js';
export { KeypadModel, isDigitTouchKey } from './bench/fuzz/keypad.js';
export { daemonPages, expectationOf } from './bench/fuzz/access.js';
export type { Expectation } from './bench/fuzz/access.js';
export type { FuzzTarget } from './bench/fuzz/wire.js';
export type { FuzzReport } from './bench/fuzz/report.js';
export { Runner, runFuzz } from './bench/fuzz/runner.js';
export type { FuzzOptions } from './bench/fuzz/runner.js';
