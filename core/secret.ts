/**
 * Secret bytes: a PIN (as digits or BCD), a clear or encrypted PIN block, key material, and every
 * buffer built from one of them — above all the APDUs that carry them, on any reader (the card's
 * or the PSAM's) and in any wrapping (a PSAM command computing the MAC over a RELOAD PIN's data
 * carries the new PIN as much as the RELOAD PIN does).
 *
 * A buffer is marked where the secret is built ({@link markSecret}), and every builder that copies
 * bytes into a new buffer carries the mark over ({@link deriveSecret}, {@link concatBytes}). The
 * APDU trace and anything else that prints bytes asks {@link isSecret} and prints no data of a
 * marked buffer. So redaction follows the data, not a list of instruction codes: a new command
 * that wraps a PIN is redacted without anyone remembering to add it to a list.
 *
 * The mark lives in a WeakSet keyed by the buffer object: it costs nothing when the buffer is
 * collected, and a view made with `subarray` is not marked (derive it explicitly when it is kept).
 */

const secrets = new WeakSet<Uint8Array>();

/** Mark `bytes` as secret and return it (so a builder can `return markSecret(out)`). */
export function markSecret<T extends Uint8Array>(bytes: T): T {
  secrets.add(bytes);
  return bytes;
}

/** Was `bytes` marked secret (by {@link markSecret} or derived from a secret)? */
export function isSecret(bytes: unknown): boolean {
  return bytes instanceof Uint8Array && secrets.has(bytes);
}

/** Mark `out` secret when any of `sources` is; returns `out`. For builders that copy bytes. */
export function deriveSecret<T extends Uint8Array>(out: T, ...sources: readonly (Uint8Array | undefined)[]): T {
  for (const s of sources) {
    if (s !== undefined && secrets.has(s)) {
      secrets.add(out);
      break;
    }
  }
  return out;
}

/** `Buffer.concat` that carries the secret mark of any part over to the result. */
export function concatBytes(parts: readonly Uint8Array[]): Buffer {
  return deriveSecret(Buffer.concat(parts), ...parts);
}

/** A copy of `bytes` (a new Buffer) with its secret mark. */
export function copyBytes(bytes: Uint8Array): Buffer {
  return deriveSecret(Buffer.from(bytes), bytes);
}

/** Fill each buffer with zeros; `undefined` entries are skipped. For PIN digits, PIN blocks, keys. */
export function wipe(...buffers: (Uint8Array | undefined)[]): void {
  for (const b of buffers) b?.fill(0);
}
