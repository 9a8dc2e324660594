import { describe, expect, it } from 'vitest';
import { countTable, fixed, megabytes, reportOf } from './report.js';

describe('the report', () => {
  it.each([
    [1.25, 1, '1.3'],
    [2, 2, '2.00'],
    [null, 1, '—'],
    [undefined, 1, '—'],
    [NaN, 2, '—'],
    [Infinity, 0, '—'],
  ])('fixed(%s, %i) is %j', (x, d, text) => {
    expect(fixed(x, d)).toBe(text);
  });

  it('megabytes rounds kB to 0.1 MB', () => {
    expect(megabytes(85_504)).toBe(83.5);
    expect(megabytes(0)).toBe(0);
  });

  it('countTable prints one count a line and says how many more there are', () => {
    expect(countTable({ 'http 401': 12, 'ws close 1009': 3 })).toBe('         12  http 401\n          3  ws close 1009');
    expect(countTable({ a: 1, b: 2, c: 3 }, 2)).toBe('          1  a\n          2  b\n    … 1 more');
  });

  it('reportOf gives indented JSON with --json, the text otherwise (made only then)', () => {
    let made = 0;
    const text = (): string => {
      made++;
      return 'text\n';
    };
    expect(reportOf(true, { a: 1 }, text)).toBe('{\n  "a": 1\n}\n');
    expect(made).toBe(0);
    expect(reportOf(false, { a: 1 }, text)).toBe('text\n');
    expect(made).toBe(1);
  });
});
