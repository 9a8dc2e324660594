// A module whose beforeAll throws (as requireStack() does without pcscd): its tests never run.
import { beforeAll, expect, it } from 'vitest';

beforeAll(() => {
  throw new Error('pcscd is not running (fixture)');
});

it('would pass 1', () => expect(1).toBe(1));
it('would pass 2', () => expect(2).toBe(2));
