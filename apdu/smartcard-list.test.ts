import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import { parseHex } from './hex.js';
import { atrText, identifyAtr, matchAtr, parseSmartcardList } from './smartcard-list.js';

/** An excerpt in the real file's shape (header comment, regex ATRs, tab descriptions, blank lines). */
const SAMPLE = [
  '#',
  '#    smartcard_list.txt',
  '# syntax:',
  '# ATR in regular expression form',
  '# \\t descriptive text',
  '',
  '3B 88 80 01 D1 03 86 05 00 80 80 00 58',
  '\tResident Identity Card of People Republic of China (Second Generation with RF Feature) (eID)',
  '\thttp://www.gov.cn/banshi/2005-08/02/content_19457.htm',
  '',
  // `..` = any byte (and `.` also matches the separating space, as in Perl)
  '3B 8F 80 01 80 4F 0C A0 00 00 03 06 .. 00 01 00 00 00 00 ..',
  '\tMIFARE Classic 1K (as per PCSC std part3)',
  '',
  '3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 .. .. 00 00 00 00 ..',
  '\tRFID - ISO 14443 Type A Part 3 (as per PCSC std part3)',
  '',
  // bracket classes as the file writes them: a list with a comma, and a range
  '3B 39 19 00 53 4F 4D 41 44 53 33 30 3[1,3]',
  '\tSOMADS 301/303',
  '',
  '3B 6F 00 00 80 5A .. 0[1-5] .. .. .. .. .. .. .. .. 82 90 00',
  '\tCalypso',
  '',
  // `.*` tail
  '3B EF 00 FF 81 31 42 45 .* 38',
  '\tAny length middle',
  '',
].join('\n');

describe('parseSmartcardList', () => {
  const list = parseSmartcardList(SAMPLE);

  it('reads entries with their line numbers and descriptions, skipping comments', () => {
    expect(list.problems).toEqual([]);
    expect(list.entries.map((e) => [e.line, e.descriptions.length])).toEqual([
      [7, 2],
      [11, 1],
      [14, 1],
      [17, 1],
      [20, 1],
      [23, 1],
    ]);
    expect(list.entries[0]!.pattern).toBe('3B 88 80 01 D1 03 86 05 00 80 80 00 58');
    expect(list.entries[0]!.descriptions[0]).toMatch(/^Resident Identity Card/);
  });

  it.each([
    // exact ATR
    ['3B 88 80 01 D1 03 86 05 00 80 80 00 58', ['Resident Identity Card of People Republic of China (Second Generation with RF Feature) (eID)', 'http://www.gov.cn/banshi/2005-08/02/content_19457.htm']],
    // the PC/SC Part 3 MIFARE 1K ATR matches both `..` patterns, in file order
    ['3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A', ['MIFARE Classic 1K (as per PCSC std part3)', 'RFID - ISO 14443 Type A Part 3 (as per PCSC std part3)']],
    // MIFARE 4K (00 02): only the Type A pattern
    ['3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 02 00 00 00 00 69', ['RFID - ISO 14443 Type A Part 3 (as per PCSC std part3)']],
    ['3B 39 19 00 53 4F 4D 41 44 53 33 30 31', ['SOMADS 301/303']],
    ['3B 39 19 00 53 4F 4D 41 44 53 33 30 33', ['SOMADS 301/303']],
    ['3B 39 19 00 53 4F 4D 41 44 53 33 30 32', []], // 2 is not in [1,3]
    ['3B 6F 00 00 80 5A 11 05 00 00 00 00 00 00 00 00 82 90 00', ['Calypso']],
    ['3B 6F 00 00 80 5A 11 06 00 00 00 00 00 00 00 00 82 90 00', []], // 6 outside [1-5]
    ['3B 6F 00 00 80 5A 11 05 00 00 00 00 00 00 00 82 90 00', []], // one byte short: anchored at the end
    ['3B EF 00 FF 81 31 42 45 01 02 03 38', ['Any length middle']],
    ['3B EF 00 FF 81 31 42 45 38', []], // `.* 38` needs the space before 38
    ['3B 88 80 01 D1 03 86 05 00 80 80 00 58 00', []], // anchored: no trailing bytes
    ['3F 00', []],
  ])('identifyAtr(%s)', (atr, expected) => {
    expect(identifyAtr(parseHex(atr), list)).toEqual(expected);
    expect(identifyAtr(atr, list.entries)).toEqual(expected); // text form, entry array
  });

  it('matches case-insensitively, like m/^$line$/i', () => {
    const l = parseSmartcardList('3b 8f 80 01 80 4f 0c a0 00 00 03 06 .. 00 01 00 00 00 00 ..\n\tlower');
    expect(identifyAtr(parseHex('3B8F8001804F0CA000000306030001000000006A'), l)).toEqual(['lower']);
  });

  it('builds the text ATR_analysis builds', () => {
    expect(atrText(parseHex('3B8F80'))).toBe('3B 8F 80');
    expect(atrText('3b8f80')).toBe('3B 8F 80');
    expect(atrText('3b:8f:80')).toBe('3B 8F 80');
    expect(atrText('3B 8F 80')).toBe('3B 8F 80');
  });

  it('returns the matching entries too', () => {
    const m = matchAtr('3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A', list);
    expect(m.map((e) => e.line)).toEqual([11, 14]);
  });

  it('tolerates CRLF line ends', () => {
    const l = parseSmartcardList(SAMPLE.replace(/\n/g, '\r\n'));
    expect(l.problems).toEqual([]);
    expect(identifyAtr('3B 39 19 00 53 4F 4D 41 44 53 33 30 31', l)).toEqual(['SOMADS 301/303']);
  });

  it('reports, and skips, what it cannot read', () => {
    const text = [
      '\torphan description', // line 1: no ATR before it
      '3B (00|01)', // line 2: alternation is not in the file's subset
      '\tskipped with its pattern',
      '',
      '3B [00', // line 5: unterminated class
      '',
      '3B 00 *', // line 7: `*` after a space is fine (repeats the space)
      '\tok',
      '',
      '* 3B', // line 10: nothing to repeat
      '',
      '3B [Z-A]', // line 12: reversed range
    ].join('\n');
    const l = parseSmartcardList(text);
    expect(l.problems.map((p) => p.line)).toEqual([1, 2, 5, 10, 12]);
    expect(l.problems[1]!.text.en).toBe('smartcard_list line 2: column 4: unsupported regular-expression syntax "("; skipped');
    expect(l.problems[1]!.text.zh).toMatch(/^smartcard_list 第 2 行：第 4 列：/);
    expect(l.entries.map((e) => e.line)).toEqual([7]);
    expect(identifyAtr('3B 00', l)).toEqual(['ok']);
  });

  it('strict: the first problem is an SsCardError(Input_BadAtr) naming the line', () => {
    let caught: unknown;
    try {
      parseSmartcardList('3B 00\n\tok\n\n3B (', { strict: true });
    } catch (e) {
      caught = e;
    }
    expect(isSsCardError(caught, ErrorCode.Input_BadAtr)).toBe(true);
    if (isSsCardError(caught)) expect(caught.context).toEqual({ line: 4 });
  });

  it('does not backtrack for ever on a hostile pattern', () => {
    const l = parseSmartcardList(`${'.*'.repeat(60)}X\n\tnever`);
    const atr = Buffer.alloc(33, 0x3b);
    const t0 = performance.now();
    expect(identifyAtr(atr, l)).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});

// ---- property tests ----

describe('smartcard list properties', () => {
  const lineArb = fc.oneof(
    fc.constantFrom('', '#', '# comment', '\tdesc', '\t', '3B ..', '3B .. 00', '3B [0-9A-F]0', '3B .*', '3F 00 [1,3]'),
    fc.string({ unit: fc.constantFrom('3', 'B', 'F', '0', ' ', '.', '*', '+', '?', '[', ']', '-', ',', '^', '(', ')', '|', '\\', '\t', '#', 'x', '{', '$') , maxLength: 30 }),
  );
  const textArb = fc.array(lineArb, { maxLength: 20 }).map((ls) => ls.join('\n'));

  it('lenient parsing of random text never throws; strict throws only SsCardError(Input_BadAtr)', () => {
    fc.assert(
      fc.property(textArb, fc.uint8Array({ maxLength: 33 }), (text, atr) => {
        const l = parseSmartcardList(text);
        expect(Array.isArray(identifyAtr(atr, l))).toBe(true);
        try {
          parseSmartcardList(text, { strict: true });
        } catch (e) {
          expect(isSsCardError(e, ErrorCode.Input_BadAtr)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('fully random text never throws either', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        parseSmartcardList(text);
      }),
      { numRuns: 1000 },
    );
  });

  // Differential test against the JavaScript regex engine on the supported subset (what Perl would do).
  const atomArb = fc.oneof(
    fc.constantFrom('3', 'B', '0', 'F', ' ', '.', '[0-9A-F]', '[1,3]', '[^0]', '[F6]'),
  );
  const patternArb = fc
    .array(fc.tuple(atomArb, fc.constantFrom('', '', '', '*', '+', '?')), { maxLength: 8 })
    .map((parts) => parts.map(([a, q]) => a + q).join(''));
  // Subjects are what matches() compares against: ATR text as atrText() builds it, bytes biased
  // towards the pattern alphabet so that matches are frequent.
  const subjectArb = fc
    .array(fc.oneof(fc.constantFrom(0x3b, 0x30, 0x00, 0x0f, 0xf0, 0xbb, 0x31, 0x33, 0x03, 0xf6), fc.integer({ min: 0, max: 255 })), { maxLength: 4 })
    .map((b) => atrText(Buffer.from(b)));

  it('agrees with RegExp(^…$, i) on the file syntax subset', () => {
    fc.assert(
      fc.property(patternArb, subjectArb, (pattern, subject) => {
        const l = parseSmartcardList(`${pattern}\n\thit`);
        if (pattern === '') return; // an empty line is not a pattern (a line of spaces is, as in Perl)
        expect(l.problems).toEqual([]);
        const expected = new RegExp(`^(?:${pattern})$`, 'i').test(subject);
        expect(l.entries[0]!.matches(subject)).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });
});

// ---- the real file: pcsc-tools is a system dependency (scripts/setup.sh installs it) ----

const SYSTEM_LIST = '/usr/share/pcsc/smartcard_list.txt';
const hasList = existsSync(SYSTEM_LIST);

describe('the installed smartcard_list.txt (pcsc-tools)', () => {
  const list = hasList ? parseSmartcardList(readFileSync(SYSTEM_LIST, 'utf8')) : { entries: [], problems: [] };

  it('is installed', () => {
    expect(hasList, `${SYSTEM_LIST} is missing: install pcsc-tools (./scripts/setup.sh)`).toBe(true);
  });

  it('parses every pattern line (only orphan description lines may be reported)', () => {
    expect(list.entries.length).toBeGreaterThan(1000);
    for (const p of list.problems) expect(p.text.en).toMatch(/description line without an ATR/);
  });

  it('every literal ATR in the file matches its own entry', () => {
    const literal = list.entries.filter((e) => /^[0-9A-F]{2}( [0-9A-F]{2})*$/.test(e.pattern));
    expect(literal.length).toBeGreaterThan(1000);
    for (const e of literal) expect(e.matches(parseHex(e.pattern))).toBe(true);
    // and a sample looked up through the whole list
    for (const e of literal.filter((_, i) => i % 40 === 0)) expect(matchAtr(parseHex(e.pattern), list)).toContain(e);
  });

  const hasAtrAnalysis = spawnSync('sh', ['-c', 'command -v ATR_analysis']).status === 0;
  it('has ATR_analysis to compare with', () => {
    expect(hasAtrAnalysis, 'ATR_analysis is missing: install pcsc-tools (./scripts/setup.sh)').toBe(true);
  });
  it.runIf(hasAtrAnalysis).each([
    '3B 88 80 01 D1 03 86 05 00 80 80 00 58',
    '3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A',
    '3B DA 13 FF 81 31 FB 46 80 12 39 2F 31 C1 73 C6 01 C0 3B',
    '3B 90 95 80 1F C3 59',
  ])('agrees with ATR_analysis on %s', (atr) => {
    const out = spawnSync('ATR_analysis', atr.split(' '), { encoding: 'utf8', timeout: 20_000 }).stdout;
    // ATR_analysis prints each description as ESC[34m TAB text ESC[0m
    // eslint-disable-next-line no-control-regex
    const theirs = [...out.matchAll(/\x1b\[34m\t(.*)\x1b\[0m/g)].map((m) => m[1]);
    expect(theirs.length).toBeGreaterThan(0);
    expect(identifyAtr(parseHex(atr), list)).toEqual(theirs);
  });
});
