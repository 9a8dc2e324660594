import { describe, expect, it } from 'vitest';
import { parseReaderList } from './addon.js';

describe('parseReaderList', () => {
  it('splits the multi-string', () => {
    expect(parseReaderList(Buffer.from('A\0B\0\0'))).toEqual(['A', 'B']);
    expect(parseReaderList(undefined)).toEqual([]);
  });
});
