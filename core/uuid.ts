/**
 * Operation ids: UUIDv7 (RFC 9562 §5.7), 48-bit Unix milliseconds then random bits, so ids sort by
 * creation time and the platform can deduplicate on them. Within one millisecond the generator
 * keeps ids strictly increasing with the 12-bit `rand_a` field as a counter (RFC 9562 §6.2,
 * method 1), and if the clock steps back it keeps counting from the last timestamp it used.
 */
import { randomBytes } from 'node:crypto';

export const UUID_V7_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function isUuidV7(s: unknown): s is string {
  return typeof s === 'string' && UUID_V7_PATTERN.test(s);
}

/** The Unix time in ms an id was made at (RFC 9562 §5.7 `unix_ts_ms`). */
export function uuidV7Time(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

export class UuidV7Generator {
  private lastMs = -1;
  private counter = 0;

  public constructor(private readonly now: () => number = Date.now) {}

  public next(): string {
    let ms = Math.floor(this.now());
    if (ms <= this.lastMs) {
      ms = this.lastMs;
      this.counter++;
      if (this.counter > 0xfff) {
        // 4096 ids in one millisecond: borrow the next millisecond (still monotonic).
        ms = this.lastMs + 1;
        this.counter = 0;
      }
    } else {
      this.counter = 0;
    }
    this.lastMs = ms;
    const b = randomBytes(16);
    b.writeUIntBE(ms, 0, 6);
    b[6] = 0x70 | (this.counter >> 8);
    b[7] = this.counter & 0xff;
    b[8] = 0x80 | (b[8]! & 0x3f);
    const h = b.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
}
