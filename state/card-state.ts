/**
 * The card's state, as every room of the house names it: the session, the journal (column
 * `card_state`), the sync wire and the card simulator.
 *
 * - `active`: issued and activated (启用), the PIN usable;
 * - `notActivated`: issued but not yet activated: SELECT AID answers `6283`, PIN commands `6985`
 *   (docs/domain.md §1), until APPLICATION UNBLOCK with a PSAM MAC activates it;
 * - `appLocked`: blocked by APPLICATION BLOCK (挂失): the card answers `9303`;
 * - `pinBlocked`: active, but the PIN has no tries left (`6983`): it needs reset or unblock.
 */
export const CARD_STATES = Object.freeze(['active', 'notActivated', 'appLocked', 'pinBlocked'] as const);
export type CardState = (typeof CARD_STATES)[number];

/**
 * The application's life cycle alone: a card's {@link CardState} minus `pinBlocked`, which is a
 * state of the PIN, derived from its tries left, not one the application is put in.
 */
export type CardLifeCycle = Exclude<CardState, 'pinBlocked'>;
export const CARD_LIFE_CYCLES: readonly CardLifeCycle[] = Object.freeze(['active', 'notActivated', 'appLocked'] as const);

export function isCardState(x: unknown): x is CardState {
  return typeof x === 'string' && (CARD_STATES as readonly string[]).includes(x);
}

/**
 * What the terminal does with a card past its validity (EF05 tag 06 卡有效期, docs/domain.md §1),
 * docs/config.md `session.expiredCard`:
 * - `refuse` (default): every service is refused with `card.expired`, the holder is sent to the
 *   window to replace the card — the materials must be 真实有效 (seed 001 line 60,
 *   001_bf9ce8a90a3e7ce5.txt: 社会保障卡 原件, 受理标准 材料真实有效);
 * - `report`: the card is reported expired (identification, ReadBasic) and served as usual, for
 *   a hall whose issuer keeps cards working past the printed date.
 */
export const EXPIRED_CARD_RULES = Object.freeze(['refuse', 'report'] as const);
export type ExpiredCardRule = (typeof EXPIRED_CARD_RULES)[number];
export const DEFAULT_EXPIRED_CARD_RULE: ExpiredCardRule = 'refuse';

/** The local calendar date (YYYY-MM-DD) at `now` (Unix ms): the terminal's own day, as the card's dates are. */
export function localDate(now: number): string {
  const d = new Date(now);
  return `${String(d.getFullYear()).padStart(4, '0')}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/**
 * Is a card whose 卡有效期 is `expiryDate` (YYYY-MM-DD) past its validity on `today` (YYYY-MM-DD)?
 * The card is valid through its expiry date (the day itself still counts). No date ('' — the card
 * gave none or it did not decode): not known to be expired, false.
 */
export function isCardExpired(expiryDate: string, today: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(expiryDate) || !/^\d{4}-\d{2}-\d{2}$/.test(today)) return false;
  return today > expiryDate;
}
