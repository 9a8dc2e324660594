// A describe whose beforeAll throws, beside one that runs.
import { beforeAll, describe, expect, it } from 'vitest';

describe('broken', () => {
  beforeAll(() => {
    throw new Error('no device (fixture)');
  });
  it('would pass', () => expect(1).toBe(1));
});

describe('fine', () => {
  it('passes', () => expect(1).toBe(1));
});
