import { describe, expect, it } from 'vitest';
import { UuidV7Generator, isUuidV7, uuidV7Time } from './uuid.js';

describe('UuidV7Generator', () => {
  it('makes RFC 9562 version-7 ids carrying the millisecond time', () => {
    const g = new UuidV7Generator(() => 1_700_000_000_123);
    const id = g.next();
    expect(isUuidV7(id)).toBe(true);
    expect(uuidV7Time(id)).toBe(1_700_000_000_123);
  });

  it('stays strictly increasing within one millisecond and when the clock steps back', () => {
    let t = 1_700_000_000_000;
    const g = new UuidV7Generator(() => t);
    const ids: string[] = [];
    for (let i = 0; i < 5000; i++) {
      if (i === 2500) t -= 10_000; // clock stepped back
      ids.push(g.next());
    }
    const sorted = [...ids].sort();
    expect(ids).toEqual(sorted);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
