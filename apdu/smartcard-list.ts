/**
 * The ATR list of pcsc-tools (`/usr/share/pcsc/smartcard_list.txt`, Ludovic Rousseau), parsed from
 * text the caller has read. The format, as the file's header and ATR_analysis's `find_card` define it:
 *
 *   # comment                         (only with # in column 1)
 *   3B 8F 80 01 80 4F 0C A0 00 00 03 06 .. 00 .. 00 00 00 00 ..     ← ATR as a regular expression
 *   \tdescription                      (one or more lines starting with a tab)
 *   (empty line)
 *
 * ATR_analysis upper-cases the ATR, separates the bytes with single spaces and tests
 * `$atr =~ m/^$line$/i`: the line is a regular expression anchored at both ends, so `.` also
 * matches a space. The real file uses only hex digits, spaces, `.`, `*` and bracket classes
 * (`[0-9A-F]`, `[1,3]`, `[F6]`). This module implements exactly that subset (plus `+` and `?`)
 * with its own matcher, linear in the ATR length, so that no line of the file can make
 * matching backtrack for ever; a line using anything else is reported and skipped.
 */
import type { BilingualText } from '../core/text.js';
import { ErrorCode, fail } from '../core/errors.js';
import { toHex } from './hex.js';

export interface AtrListEntry {
  /** The pattern exactly as in the file. */
  readonly pattern: string;
  /** 1-based line number of the pattern. */
  readonly line: number;
  /** The description lines, without their leading tab. */
  readonly descriptions: readonly string[];
  /** Does this ATR (bytes, or text as ATR_analysis builds it: "3B 8F 80 …") match the pattern? */
  matches(atr: Uint8Array | string): boolean;
}

export interface SmartcardListProblem {
  readonly line: number;
  readonly text: BilingualText;
}

export interface SmartcardList {
  readonly entries: readonly AtrListEntry[];
  /** Lines that were skipped (unsupported pattern syntax, descriptions without a pattern). */
  readonly problems: readonly SmartcardListProblem[];
}

export interface ParseSmartcardListOptions {
  /** Throw SsCardError(Input_BadAtr) on the first problem instead of skipping the line. */
  readonly strict?: boolean;
}

/** One pattern position: a set of characters and how often it may repeat. */
interface Atom {
  readonly test: (c: number) => boolean;
  /** '1': exactly once; '?': zero or once; '*': zero or more. (`x+` is compiled as `x x*`.) */
  readonly quant: '1' | '?' | '*';
}

class PatternError extends Error {
  public constructor(
    public readonly column: number,
    public readonly zh: string,
    public readonly en: string,
  ) {
    super(en);
  }
}

const SPECIAL = new Set(['(', ')', '|', '{', '}', '^', '$', '\\']);

/** Compile the regex subset; throws PatternError. The pattern is upper-cased first (m//i on hex). */
function compile(pattern: string): Atom[] {
  const s = pattern.toUpperCase();
  const atoms: Atom[] = [];
  let i = 0;
  while (i < s.length) {
    const col = i + 1;
    const ch = s[i]!;
    let test: (c: number) => boolean;
    if (ch === '.') {
      test = (c) => c !== 0x0a;
      i++;
    } else if (ch === '[') {
      i++;
      let negate = false;
      if (s[i] === '^') {
        negate = true;
        i++;
      }
      const ranges: [number, number][] = [];
      let first = true;
      while (i < s.length && (s[i] !== ']' || first)) {
        first = false;
        const lo = s.charCodeAt(i);
        if (s[i] === '\\' || s[i] === '[') throw new PatternError(i + 1, `字符类中不支持 “${s[i]!}”`, `"${s[i]!}" inside a bracket class is not supported`);
        if (s[i + 1] === '-' && i + 2 < s.length && s[i + 2] !== ']') {
          const hi = s.charCodeAt(i + 2);
          if (hi < lo) throw new PatternError(i + 1, `字符范围 ${s.slice(i, i + 3)} 顺序颠倒`, `character range ${s.slice(i, i + 3)} is out of order`);
          ranges.push([lo, hi]);
          i += 3;
        } else {
          ranges.push([lo, lo]);
          i++;
        }
      }
      if (i >= s.length) throw new PatternError(col, '方括号 [ 没有闭合', 'unterminated bracket class [');
      i++; // ']'
      const inClass = (c: number): boolean => ranges.some(([lo, hi]) => c >= lo && c <= hi);
      test = negate ? (c) => c !== 0x0a && !inClass(c) : inClass;
    } else if (ch === '*' || ch === '+' || ch === '?') {
      throw new PatternError(col, `量词 “${ch}” 前面没有可重复的内容`, `quantifier "${ch}" has nothing to repeat`);
    } else if (SPECIAL.has(ch)) {
      throw new PatternError(col, `不支持的正则语法 “${ch}”`, `unsupported regular-expression syntax "${ch}"`);
    } else if (ch === ']') {
      throw new PatternError(col, '多余的 ]', 'unbalanced ]');
    } else {
      const code = s.charCodeAt(i);
      test = (c) => c === code;
      i++;
    }
    const q = s[i];
    if (q === '*' || q === '?') {
      atoms.push({ test, quant: q });
      i++;
    } else if (q === '+') {
      atoms.push({ test, quant: '1' }, { test, quant: '*' });
      i++;
    } else {
      atoms.push({ test, quant: '1' });
    }
    if (s[i] === '*' || s[i] === '+' || s[i] === '?') {
      throw new PatternError(i + 1, `连续的量词 “${s[i]!}” 不受支持`, `stacked quantifier "${s[i]!}" is not supported`);
    }
  }
  return atoms;
}

/** A compiled pattern: a plain string when the pattern has no regex syntax, else atoms. */
type Matcher = { readonly literal: string } | { readonly atoms: readonly Atom[]; readonly minLength: number };

function compileMatcher(pattern: string): Matcher {
  const atoms = compile(pattern);
  if (!/[.[\]*+?]/.test(pattern)) return { literal: pattern.toUpperCase() };
  return { atoms, minLength: atoms.filter((a) => a.quant === '1').length };
}

/**
 * Full-match `text` against the atoms: a set-of-positions NFA simulation, O(text × atoms), so no
 * pattern can make it backtrack. Two state vectors are swapped, not reallocated.
 */
function fullMatch(m: Matcher, text: string): boolean {
  if ('literal' in m) return m.literal === text;
  if (text.length < m.minLength) return false;
  const atoms = m.atoms;
  const n = atoms.length;
  let cur = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  const close = (set: Uint8Array): void => {
    for (let j = 0; j < n; j++) if (set[j] === 1 && atoms[j]!.quant !== '1') set[j + 1] = 1;
  };
  cur[0] = 1;
  close(cur);
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    next.fill(0);
    let any = false;
    for (let j = 0; j < n; j++) {
      if (cur[j] !== 1) continue;
      const a = atoms[j]!;
      if (!a.test(c)) continue;
      next[a.quant === '*' ? j : j + 1] = 1;
      any = true;
    }
    if (!any) return false;
    close(next);
    [cur, next] = [next, cur];
  }
  return cur[n] === 1;
}

/** The text ATR_analysis matches against: upper-case hex, bytes separated by one space. */
export function atrText(atr: Uint8Array | string): string {
  if (typeof atr !== 'string') return toHex(atr, ' ');
  let s = atr.replace(/:/g, '').toUpperCase().trim();
  if (s.length > 2 && s[2] !== ' ') s = s.replace(/(..)(?!$)/g, '$1 ');
  return s;
}

/** Parse the text of smartcard_list.txt. Never throws unless `strict`. */
export function parseSmartcardList(text: string, options: ParseSmartcardListOptions = {}): SmartcardList {
  const entries: AtrListEntry[] = [];
  const problems: SmartcardListProblem[] = [];
  const problem = (line: number, zh: string, en: string): void => {
    const t = { zh: `smartcard_list 第 ${line} 行：${zh}`, en: `smartcard_list line ${line}: ${en}` };
    if (options.strict === true) fail(ErrorCode.Input_BadAtr, t.zh, t.en, { line });
    problems.push({ line, text: t });
  };

  const lines = text.split('\n');
  let current: { pattern: string; line: number; descriptions: string[]; matcher: Matcher } | undefined;
  let skipping = false;
  const flush = (): void => {
    if (current) {
      const { pattern, line, descriptions, matcher } = current;
      entries.push({ pattern, line, descriptions, matches: (atr) => fullMatch(matcher, atrText(atr)) });
    }
    current = undefined;
  };

  for (let n = 0; n < lines.length; n++) {
    const lineNo = n + 1;
    const raw = lines[n]!.replace(/\r$/, '');
    if (raw.startsWith('#')) continue;
    if (raw.startsWith('\t')) {
      if (current) current.descriptions.push(raw.slice(1).trimEnd());
      else if (!skipping) problem(lineNo, '描述行前面没有 ATR', 'description line without an ATR before it');
      continue;
    }
    flush();
    skipping = false;
    if (raw === '') continue; // like find_card: only a truly empty line is not a pattern
    try {
      current = { pattern: raw, line: lineNo, descriptions: [], matcher: compileMatcher(raw) };
    } catch (e) {
      if (!(e instanceof PatternError)) throw e;
      skipping = true; // its descriptions go with it
      problem(lineNo, `第 ${e.column} 列：${e.zh}，已跳过`, `column ${e.column}: ${e.en}; skipped`);
    }
  }
  flush();
  return { entries, problems };
}

function isEntryArray(list: SmartcardList | readonly AtrListEntry[]): list is readonly AtrListEntry[] {
  return Array.isArray(list);
}

/** Every entry whose pattern matches the ATR, in file order. */
export function matchAtr(atr: Uint8Array | string, list: SmartcardList | readonly AtrListEntry[]): AtrListEntry[] {
  const entries = isEntryArray(list) ? list : list.entries;
  const text = atrText(atr);
  return entries.filter((e) => e.matches(text));
}

/** All descriptions of all entries matching the ATR, in file order (what ATR_analysis prints). */
export function identifyAtr(atr: Uint8Array | string, list: SmartcardList | readonly AtrListEntry[]): string[] {
  return matchAtr(atr, list).flatMap((e) => e.descriptions);
}
