/**
 * Where a PIN (or a PIN block) would show if it leaked: the one scanner the PIN-secrecy tests use
 * on log files, stdout/stderr, journal files with their WAL, sync payloads, API frames and APDU
 * traces (README "PIN secrecy").
 *
 * A PIN is looked for as
 * - text: ASCII digits (which also covers the BCD written as unspaced hex), the BCD as spaced hex
 *   the way APDU traces print bytes ("86 42 09"), F-padded ("86 42 09 FF"), in upper and lower
 *   case, and as UTF-16 (LE and BE);
 * - bytes: the BCD the card commands carry (docs/card-conventions.md "PIN encodings"): preceded by
 *   its Lc as in VERIFY, followed by FF padding or by the new PIN as in CHANGE PIN, and the head of
 *   an ISO 9564-1 format 2 block (`2L` ‖ BCD ‖ F…); the bare 3-byte BCD too unless `bareBcd` is off
 *   (random binary — AES-GCM ciphertext, WAL checksums — holds a given 3-byte string about once in
 *   16 MiB, so file scans leave it off and check decoded rows instead).
 * A PIN block the test computed (clear or encrypted) is looked for as bytes and as hex text.
 */
import { readFileSync } from 'node:fs';
import type { Algorithm } from '../apdu/crypto.js';
import { encryptPinBlock, pinBlock } from '../apdu/pin.js';

export interface Needle {
  /** What form this is, for the failure message ("PIN 864209 as spaced hex"). Never the secret itself beyond the test's own PIN. */
  readonly label: string;
  readonly bytes: Buffer;
  /** True for needles that are ASCII digits only (subject to {@link ScanOptions.ignoreIncidentalDigits}). */
  readonly digits: boolean;
}

export interface ScanOptions {
  /** Look for the bare BCD bytes (default true; turn off for large random binary files). */
  readonly bareBcd?: boolean;
  /**
   * Ignore an ASCII-digit match where digits sit by chance:
   * - inside a run of 32 or more hex characters (and dashes): hashes, UUIDs and encrypted
   *   identities stored as hex text hold six given digits by chance (seen as a flaky false alarm);
   * - inside a clock reading: a run of exactly 13 digits whose value, as epoch milliseconds, lies
   *   within {@link CLOCK_WINDOW_MS} of the scan (the journal's `state` rows and the sync status
   *   hold `Date.now()` as text: its low six digits equal a given PIN one millisecond in a million,
   *   and its middle digits for whole seconds or minutes of the day — seen as a false alarm in CI).
   * A PIN in a trace (spaced hex), in any binary form, or as plain text is still found.
   */
  readonly ignoreIncidentalDigits?: boolean;
  /**
   * The haystack is SQLite database pages (a database file, its WAL): freed cells and b-tree keys
   * leave fragments of UUIDs and hashes shorter than 32 characters ("9-282c027693c4"), which hold
   * six given digits by chance (seen as a flaky false alarm in the crash test). With
   * `ignoreIncidentalDigits`, also ignore an ASCII-digit match whose run holds a hex letter or a dash:
   * the digits sit in hex text, not in a number or a word. A PIN as plain digits, as F-padded hex
   * or in any binary form is still found; decoded rows are scanned with the strict rule.
   */
  readonly databasePages?: boolean;
}

function bcd(pin: string): Buffer {
  return Buffer.from(pin.length % 2 === 0 ? pin : `${pin}F`, 'hex');
}

function spaced(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
}

function textForms(label: string, hex: Buffer): Needle[] {
  const h = hex.toString('hex');
  const s = spaced(hex);
  const forms = new Set([h, h.toUpperCase(), s, s.toUpperCase()]);
  return [...forms].map((f) => ({ label: `${label} as hex text "${f.length > 12 ? `${f.slice(0, 12)}…` : f}"`, bytes: Buffer.from(f, 'latin1'), digits: /^\d+$/.test(f) }));
}

/** Every form of `pin` (ASCII digits) this scanner looks for. */
export function pinNeedles(pin: string, options: ScanOptions = {}): Needle[] {
  if (!/^\d{4,12}$/.test(pin)) throw new Error(`pinNeedles: a test PIN is 4..12 digits, got ${pin.length} characters`);
  const b = bcd(pin);
  const lc = Buffer.from([b.length]);
  const ff = Buffer.from([0xff]);
  const head = Buffer.alloc(8, 0xff);
  head[0] = 0x20 | pin.length;
  Buffer.from(`${pin}${'F'.repeat(14 - pin.length)}`, 'hex').copy(head, 1);
  const needles: Needle[] = [
    { label: `PIN ${pin} as ASCII`, bytes: Buffer.from(pin, 'ascii'), digits: true },
    { label: `PIN ${pin} as UTF-16LE`, bytes: Buffer.from(pin, 'utf16le'), digits: false },
    { label: `PIN ${pin} as UTF-16BE`, bytes: Buffer.from(pin, 'utf16le').swap16(), digits: false },
    ...textForms(`PIN ${pin} BCD`, b),
    ...textForms(`PIN ${pin} BCD F-padded`, Buffer.concat([b, ff])),
    { label: `PIN ${pin} as Lc ‖ BCD`, bytes: Buffer.concat([lc, b]), digits: false },
    { label: `PIN ${pin} as BCD ‖ FF`, bytes: Buffer.concat([b, ff]), digits: false },
    { label: `PIN ${pin} as a format-2 block head`, bytes: head.subarray(0, 1 + b.length), digits: false },
  ];
  if (options.bareBcd !== false) needles.push({ label: `PIN ${pin} as BCD bytes`, bytes: b, digits: false });
  return needles;
}

/** A PIN block (clear or encrypted) as bytes and as hex text. */
export function blockNeedles(label: string, block: Uint8Array): Needle[] {
  const b = Buffer.from(block);
  return [{ label: `${label} as bytes`, bytes: b, digits: false }, ...textForms(label, b)];
}

const HEXISH = new Set([...'0123456789abcdefABCDEF-'].map((c) => c.charCodeAt(0)));
const HEX_NOT_DIGIT = new Set([...'abcdefABCDEF-'].map((c) => c.charCodeAt(0)));

/** How far from the scan's time a 13-digit run still counts as a clock reading: a week either way. */
export const CLOCK_WINDOW_MS = 7 * 24 * 3600_000;

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;

/** Whether `hay[at, at + length)` lies in a run of exactly 13 digits that reads as epoch milliseconds near now. */
function inClockReading(hay: Buffer, at: number, length: number): boolean {
  let a = at;
  while (a > 0 && isDigit(hay[a - 1])) a--;
  let z = at + length;
  while (z < hay.length && isDigit(hay[z])) z++;
  if (z - a !== 13) return false;
  return Math.abs(Number(hay.toString('latin1', a, z)) - Date.now()) <= CLOCK_WINDOW_MS;
}

/** The offset of the first match of `n` in `hay` that counts under `options`, or -1. */
function firstCountingMatch(hay: Buffer, n: Needle, options: ScanOptions): number {
  for (let i = hay.indexOf(n.bytes); i >= 0; i = hay.indexOf(n.bytes, i + 1)) {
    if (!(n.digits && options.ignoreIncidentalDigits === true)) return i;
    if (inClockReading(hay, i, n.bytes.length)) continue;
    let a = i;
    while (a > 0 && HEXISH.has(hay[a - 1]!)) a--;
    let z = i + n.bytes.length;
    while (z < hay.length && HEXISH.has(hay[z]!)) z++;
    if (z - a >= 32) continue;
    if (options.databasePages === true && hay.subarray(a, z).some((c) => HEX_NOT_DIGIT.has(c))) continue;
    return i;
  }
  return -1;
}

/** How many bytes of context each side of a match a finding shows. */
const CONTEXT_BYTES = 48;

/** `hay[from, to)` as printable ASCII, every other byte as \xNN — a finding's context. */
function printable(hay: Buffer, from: number, to: number): string {
  let out = '';
  for (const c of hay.subarray(Math.max(0, from), Math.min(hay.length, to))) out += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  return out;
}

/**
 * The needles found in `haystack` (empty: no leak), each as its label, the offset of its first
 * match and the bytes around it ("PIN 864209 as ASCII at byte 1234: …"), so a failure in CI says
 * where the match is and whether it is a leak or digits that happen to be there. The context holds
 * only the test's own PINs.
 */
export function findLeaks(haystack: Buffer | string, needles: readonly Needle[], options: ScanOptions = {}): string[] {
  const hay = typeof haystack === 'string' ? Buffer.from(haystack, 'utf8') : haystack;
  const found: string[] = [];
  for (const n of needles) {
    const at = firstCountingMatch(hay, n, options);
    if (at >= 0) found.push(`${n.label} at byte ${at}: …${printable(hay, at - CONTEXT_BYTES, at + n.bytes.length + CONTEXT_BYTES)}…`);
  }
  return found;
}

/** Every needle for each of `pins`. */
export function needlesFor(pins: readonly string[], options: ScanOptions = {}): Needle[] {
  return pins.flatMap((p) => pinNeedles(p, options));
}

/**
 * The PIN blocks a flow on the card of profile file `cardProfile` (fixtures/cards/*.json) produces
 * for each of `pins`: the clear ISO 9564-1 format 2 block and the block encrypted with the card's
 * usage-24 key (PIN UNBLOCK, 3.0 RELOAD PIN), as bytes and hex text.
 */
export function pinBlockNeedles(cardProfile: string, pins: readonly string[]): Needle[] {
  const json = JSON.parse(readFileSync(cardProfile, 'utf8')) as { algorithm?: Algorithm; keys?: Record<string, string> };
  const alg: Algorithm = json.algorithm ?? '3DES';
  const key24 = json.keys?.['24:01'];
  if (key24 === undefined) throw new Error(`pinBlockNeedles: ${cardProfile} has no usage-24 key "24:01"`);
  const key = Buffer.from(key24, 'hex');
  return pins.flatMap((p) => [
    ...blockNeedles(`clear PIN block of ${p}`, pinBlock(Buffer.from(p, 'ascii'), alg === 'SM4' ? 16 : 8)),
    ...blockNeedles(`encrypted PIN block of ${p}`, encryptPinBlock(alg, key, Buffer.from(p, 'ascii'))),
  ]);
}
