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
