/** The offline transaction journal: see journal.ts for the write-ahead protocol. */
export { Journal, DEFAULT_RETENTION_MS } from './journal.js';
export type { BankRequestWithIdentity, JournalOptions, ListOptions, HotlistUpdate, RowWithIdentity } from './journal.js';
export { IdentityKeys, maskIdentity, normalizeIdentity } from './identity.js';
export type { CardIdentity, MaskedIdentity } from './identity.js';
export { UuidV7Generator, isUuidV7, uuidV7Time } from '../../core/uuid.js';
export * from './types.js';
