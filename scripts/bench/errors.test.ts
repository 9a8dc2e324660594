import { describe, expect, it } from 'vitest';
import { ErrorTally, answerError, statusWord } from './errors.js';

describe('status words', () => {
  it.each([
    ['9000', undefined],
    ['01020304050607089000', undefined],
    ['6A82', 'SW 6A82'],
    ['0102030405060708 6A82', 'SW 6A82'],
    ['6108', 'SW 6108'], // a bare transmit does not fetch the rest: not a success
    ['6D00', 'SW 6D00'],
    ['90', 'answer of 1 byte, no status word'],
    ['', 'answer of 0 bytes, no status word'],
  ])('answer %s → %s', (hex, why) => {
    expect(answerError(Buffer.from(hex.replace(/ /g, ''), 'hex'))).toBe(why);
  });

  it('statusWord reads the last two bytes', () => {
    expect(statusWord(Buffer.from('AB6283', 'hex'))).toBe(0x6283);
    expect(statusWord(Buffer.from('90', 'hex'))).toBeUndefined();
  });
});

describe('ErrorTally', () => {
  it('counts by reason, commonest first, and sums', () => {
    const a = new ErrorTally().add('x').add('y', 3);
    const b = new ErrorTally().add('x', 5);
    expect(a.count).toBe(4);
    expect(a.top()).toEqual(['y', 3]);
    const s = ErrorTally.sum([a, b]);
    expect(s.count).toBe(9);
    expect(s.toRecord()).toEqual({ x: 6, y: 3 });
    expect(s.toString()).toBe('6× x; 3× y');
    expect(new ErrorTally().toString()).toBe('');
  });
});
