import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findJsonSyntaxError } from './json-syntax.js';

describe('findJsonSyntaxError', () => {
  it('finds nothing wrong in valid JSON', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(findJsonSyntaxError(text)).toBeNull();
      }),
    );
  });

  it('finds an error wherever JSON.parse does', () => {
    fc.assert(
      fc.property(fc.json(), fc.nat(), fc.constantFrom('', ',', '}', ']', '"', ':', 'x', '\n'), (text, at, junk) => {
        const i = at % (text.length + 1);
        const broken = text.slice(0, i) + junk + text.slice(i);
        let ok = true;
        try {
          JSON.parse(broken);
        } catch {
          ok = false;
        }
        expect(findJsonSyntaxError(broken) === null).toBe(ok);
      }),
    );
  });

  it.each([
    ['{"a": 1,}', 1, 9, 'a comma after the last member'],
    ['[1,,2]', 1, 4, 'a value was expected here'],
    ['{\n  "a": tru\n}', 2, 8, 'a value was expected here'],
    ['{"a": "b', 1, 9, 'unterminated string'],
    ['{"a" 1}', 1, 6, 'a colon is missing'],
    ['', 1, 1, 'unexpected end of the file'],
    ['{} x', 1, 4, 'unexpected content after the value'],
  ])('%j → line %i column %i: %s', (text, lineNo, column, reason) => {
    const p = findJsonSyntaxError(text)!;
    expect(p.line).toBe(lineNo);
    expect(p.column).toBe(column);
    expect(p.reason.en).toContain(reason);
  });
});
