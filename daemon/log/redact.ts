/**
 * Redaction of log metadata: defence in depth, not the protection itself.
 *
 * The real protection is that no caller ever hands a PIN, PIN block, passphrase, key or token to a
 * logger: PINs live in Buffers that are wiped after use and never leave the vault/driver, and APDU
 * traces are redacted where they are made (apdu/apdu.ts traceCommand blanks the data field of
 * VERIFY, CHANGE PIN, RELOAD PIN and PIN UNBLOCK). This module only catches mistakes: every log
 * entry's metadata goes through {@link redact} before any transport sees it, so
 *
 * - a value under a key named pin, pins, oldPin, newPin, confirmPin, pinBlock, passphrase, password,
 *   key, hash or token (any case, at any depth) becomes "[redacted]";
 * - a Buffer / Uint8Array / ArrayBuffer is never printed raw, only as "[n bytes]";
 * - Errors keep name, message, code and context (context redacted too); cycles and very deep
 *   values are cut.
 *
 * It cannot find a PIN inside a free-text message string: do not build messages from secrets.
 */

export const REDACTED = '[redacted]';

/** Key names (lower case) whose values are always replaced. */
export const REDACTED_KEYS: ReadonlySet<string> = new Set(['pin', 'pins', 'oldpin', 'newpin', 'confirmpin', 'pinblock', 'passphrase', 'password', 'key', 'hash', 'token']);

const MAX_DEPTH = 8;
const MAX_ITEMS = 100;

export function isRedactedKey(key: string): boolean {
  return REDACTED_KEYS.has(key.toLowerCase());
}

function bytes(n: number): string {
  return `[${n} bytes]`;
}

/** A copy of `value` that is safe to serialise: see the module comment. Never changes `value`. */
export function redact(value: unknown): unknown {
  return walk(value, 0, new WeakSet<object>());
}

function walk(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (value === null || value === undefined) return value;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'symbol':
      return value.toString();
    case 'function':
      return '[function]';
    default:
      break;
  }
  const o = value;
  if (Buffer.isBuffer(o) || o instanceof Uint8Array) return bytes(o.byteLength);
  if (ArrayBuffer.isView(o)) return bytes(o.byteLength);
  if (o instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && o instanceof SharedArrayBuffer)) return bytes(o.byteLength);
  if (o instanceof Date) return Number.isNaN(o.getTime()) ? 'Invalid Date' : o.toISOString();
  if (seen.has(o)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[…]';
  seen.add(o);
  try {
    if (o instanceof Error) return errorObject(o, depth, seen);
    if (Array.isArray(o)) return list(o, depth, seen);
    if (o instanceof Set) return list([...o], depth, seen);
    if (o instanceof Map) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of o) {
        const key = String(k);
        out[key] = isRedactedKey(key) ? REDACTED : walk(v, depth + 1, seen);
      }
      return out;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = isRedactedKey(k) ? REDACTED : walk(v, depth + 1, seen);
    return out;
  } finally {
    seen.delete(o);
  }
}

function list(items: readonly unknown[], depth: number, seen: WeakSet<object>): unknown[] {
  const out = items.slice(0, MAX_ITEMS).map((v) => walk(v, depth + 1, seen));
  if (items.length > MAX_ITEMS) out.push(`[… ${items.length - MAX_ITEMS} more]`);
  return out;
}

function errorObject(e: Error, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = { name: e.name, message: e.message };
  const extra = e as Error & { code?: unknown; context?: unknown };
  if (extra.code !== undefined) out.code = walk(extra.code, depth + 1, seen);
  if (extra.context !== undefined) out.context = walk(extra.context, depth + 1, seen);
  // A bug's stack helps; an SsCardError is an expected outcome and its code says enough.
  if (e.name !== 'SsCardError' && typeof e.stack === 'string') out.stack = e.stack;
  if (e.cause !== undefined) out.cause = walk(e.cause, depth + 1, seen);
  return out;
}
