/**
 * Profiles of the simulator: a card profile (fixtures/cards/*.json) describes one personalised
 * social security card, a PSAM profile (fixtures/psam/*.json) one terminal PSAM. Loading
 * validates eagerly: every mistake is an SsCardError(Sim_BadProfile) whose bilingual message names
 * the file, the key path (`keys."82:0A"`, `holder.姓名`) and what is allowed. Messages never
 * contain a PIN or a key value, only the path to it.
 *
 * The JSON form is what people edit (hex strings, readable record data); the in-memory form
 * ({@link CardProfile}, {@link PsamProfile}) holds Buffers. `save` writes the JSON form back
 * atomically (temporary file + rename), so the simulator's persistent state (PIN, tries, life
 * cycle, written records) survives a restart.
 *
 * This module is the profiles' one import for the rest of the house; the work is in
 * card-profile.ts, card-records.ts, psam-profile.ts (each kind), profile-reader.ts (the shared
 * validation) and profile-files.ts (fixture locations, reading and atomic writing).
 *
 * These are TEST cards: the PIN is stored as digits and the keys in clear. Never put a production
 * key or a real person's data into a profile (fixtures/README.md).
 */
export * from './card-profile.js';
export * from './card-records.js';
export { cardFixture, fixturesDir, psamFixture } from './profile-files.js';
export { hex2 } from './profile-reader.js';
export type { SimProtocol } from './profile-reader.js';
export * from './psam-profile.js';
