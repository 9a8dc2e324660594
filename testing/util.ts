/**
 * Small helpers shared by the test files of the whole house (the zwave-js habit of one
 * assertZWaveError instead of a copy per file).
 */
import { expect } from 'vitest';
import { isSsCardError, type ErrorCode, type SsCardError } from '../core/errors.js';

/** Hex as written in specs ("00 A4 04 00") to bytes. */
export const h = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ''), 'hex');
/** Bytes to upper-case hex without separators. */
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
/** ASCII digits (how PINs travel) from a string. */
export const ascii = (s: string): Buffer => Buffer.from(s, 'ascii');

/** The exception `f` throws; fails the test when it throws nothing. */
export function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception');
}

/** `f` throws an SsCardError with `code`; returns it for further checks. */
export function assertSsCardError(f: () => unknown, code: ErrorCode): SsCardError {
  const e = caught(f);
  expect(isSsCardError(e), `expected SsCardError E${code}, got ${String(e)}`).toBe(true);
  expect((e as SsCardError).code).toBe(code);
  return e as SsCardError;
}

/** The SsCardError `p` rejects with; fails the test when it resolves or rejects with anything else. */
export async function rejection(p: Promise<unknown>): Promise<SsCardError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!isSsCardError(e)) throw new Error(`expected an SsCardError, got ${String(e)}`);
  return e;
}
