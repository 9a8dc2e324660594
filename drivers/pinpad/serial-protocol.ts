/**
 * What a serial PIN pad framing must provide, so that a second one (KMY350x-style, docs/domain.md §6)
 * is one more file beside zt598.ts. The driver (serial-pinpad.ts) only talks through this.
 */
import type { SsCardError } from '../../core/errors.js';
import type { PadKey } from './pinpad.js';

/** One thing found in the byte stream from the pad. */
export type SerialPadItem =
  /** A complete, checked response frame: its payload (status byte first for ZT598). */
  | { readonly type: 'frame'; readonly payload: Buffer }
  /** A bare byte outside any frame: a key press in plaintext-input mode. */
  | { readonly type: 'key'; readonly byte: number }
  /** Bytes that could not be a frame (bad length, missing ETX, wrong checksum): skipped. */
  | { readonly type: 'error'; readonly error: SsCardError };

/**
 * Incremental parser. `push` never throws and never holds more than one frame's worth of bytes:
 * any input yields items or waits for more; a caller's timeout plus `reset()` ends any wait.
 */
export interface SerialPadParser {
  push(chunk: Uint8Array): SerialPadItem[];
  /** Drop a partial frame (after a command timeout). */
  reset(): void;
}

/** Commands every protocol can express. */
export type SerialPadCommand = 'probe' | 'reset' | 'plainInputOn' | 'plainInputOff';

/** A response payload, interpreted. */
export type SerialPadResponse = { readonly ok: true; readonly data: Buffer } | { readonly ok: false; readonly code: number; readonly zh: string; readonly en: string };

export interface SerialPadProtocol {
  /** Short name for messages and config ("zt598"). */
  readonly name: string;
  readonly defaultBaudRate: number;
  createParser(): SerialPadParser;
  /** The complete frame to send for a command. */
  encode(command: SerialPadCommand): Buffer;
  /** Interpret a response frame's payload. */
  interpret(payload: Buffer): SerialPadResponse;
  /** A key byte in plaintext-input mode → a key, or undefined for keys that mean nothing for a PIN. */
  decodeKey(byte: number): PadKey | undefined;
  /** The pad's own "input timed out" error code, if it has one (ZT598: 0xEE). */
  readonly inputTimeoutCode?: number;
}
