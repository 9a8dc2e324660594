/**
 * Bilingual text: every text a holder, operator or technician sees comes as a pair, Simplified
 * Chinese first and English second (docs/architecture.md "Habits").
 */

export interface BilingualText {
  /** Simplified Chinese, shown first. */
  readonly zh: string;
  /** English. */
  readonly en: string;
}

/** A frozen `{ zh, en }` pair. */
export function bi(zh: string, en: string): BilingualText {
  return Object.freeze({ zh, en });
}

/** The pair on one line, Chinese first: `中文 / English` (error descriptions, log lines, the CLI). */
export function oneLine(t: BilingualText): string {
  return `${t.zh} / ${t.en}`;
}

/** Chinese enumeration with the enumeration comma: ['甲', '乙', '丙'] → '甲、乙、丙'. */
export function listZh(items: readonly string[]): string {
  return items.join('、');
}

/** English enumeration: ['a'] → 'a', ['a', 'b'] → 'a and b', ['a', 'b', 'c'] → 'a, b and c'. */
export function listEn(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]!}`;
}
