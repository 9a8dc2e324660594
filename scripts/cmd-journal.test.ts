import { describe, expect, it } from 'vitest';
import { csvField, journalPaths } from './cmd-journal.js';

describe('journal export CSV', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['=cmd()', "'=cmd()"],
    ['-1+1', "'-1+1"],
    [null, ''],
    [42, '42'],
  ])('%j → %s', (input, out) => {
    expect(csvField(input)).toBe(out);
  });
});

describe('journalPaths', () => {
  it('puts the key beside the journal unless told otherwise', () => {
    expect(journalPaths({ db: '/srv/sscard/journal.sqlite' })).toEqual({ db: '/srv/sscard/journal.sqlite', key: '/srv/sscard/journal.key' });
    expect(journalPaths({ db: '/a/j.sqlite', key: '/b/k' })).toEqual({ db: '/a/j.sqlite', key: '/b/k' });
  });
});
