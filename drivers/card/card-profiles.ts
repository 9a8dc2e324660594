/**
 * Card-make profiles (docs/card-conventions.md "Card-make profiles"): what differs from one card
 * make to the next — record addressing, the diversification factor, the EF06 key, the reload form,
 * the phone record, INTERNAL AUTHENTICATE's form, and two readings that are this project's choice
 * (6283 as "not activated", RELOAD refused on a blocked PIN) — chosen per inserted card by its ATR.
 * Pure: the daemon's configuration (docs/config.md `cardProfiles`) builds them, the terminal picks
 * one per card with {@link profileFor}.
 */
import type { CardReadOptions } from './ssse-card.js';
import type { ReloadOptions } from './ssse-operations.js';

/** An ATR pattern: bytes to match at the ATR's start; `null` bytes match any value. */
export type AtrPattern = readonly (number | null)[];

export interface CardMakeProfile {
  readonly name: string;
  readonly atr: AtrPattern;
  readonly read: CardReadOptions;
  readonly reload: ReloadOptions;
}

/** The profile a card no configured profile matches: every setting at its default. */
export const DEFAULT_CARD_PROFILE: CardMakeProfile = Object.freeze({ name: 'default', atr: [], read: {}, reload: {} });

/**
 * Parse `3B 6C 00 00 xx 53` (hex bytes, spaces optional, `xx` = any byte): the pattern is matched
 * against the start of the ATR. Undefined when it is not that form.
 */
export function parseAtrPattern(text: string): AtrPattern | undefined {
  const t = text.replace(/\s+/g, '').toUpperCase();
  if (t.length === 0 || t.length % 2 !== 0 || t.length > 66 || !/^([0-9A-F]{2}|XX)+$/.test(t)) return undefined;
  const out: (number | null)[] = [];
  for (let i = 0; i < t.length; i += 2) {
    const b = t.slice(i, i + 2);
    out.push(b === 'XX' ? null : parseInt(b, 16));
  }
  return out;
}

/** Whether `atr` starts with `pattern`. */
export function atrMatches(pattern: AtrPattern, atr: Uint8Array): boolean {
  if (pattern.length > atr.length) return false;
  return pattern.every((b, i) => b === null || b === atr[i]);
}

/** Two patterns some ATR could match both (the one is, byte for byte, compatible with the other's start). */
export function atrPatternsOverlap(a: AtrPattern, b: AtrPattern): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== null && b[i] !== null && a[i] !== b[i]) return false;
  return true;
}

/** The profile of the card with `atr`: the first configured one whose pattern matches, else the default. */
export function profileFor(profiles: readonly CardMakeProfile[], atr: Uint8Array | undefined): CardMakeProfile {
  if (atr === undefined) return DEFAULT_CARD_PROFILE;
  return profiles.find((p) => atrMatches(p.atr, atr)) ?? DEFAULT_CARD_PROFILE;
}
