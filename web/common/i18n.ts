/**
 * Text on the pages: every string a pair, Simplified Chinese first (core/text.ts; docs/architecture.md
 * "Habits"), shown in the language the holder chose. The daemon's own bilingual results and errors
 * are shown as they come, in the same language.
 */
import type { BilingualText } from '../../core/text.js';

export type Lang = 'zh' | 'en';

export function tr(lang: Lang, t: BilingualText): string {
  return lang === 'zh' ? t.zh : t.en;
}

/** The `lang` attribute for the document (screen readers, font selection for CJK). */
export function htmlLang(lang: Lang): string {
  return lang === 'zh' ? 'zh-CN' : 'en';
}
