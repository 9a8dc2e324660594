export { DEFAULT_SCRYPT, HASH_FORMAT_TEXT, hashPassphrase, isValidHashFormat, parseHash, verifyPassphrase } from './passphrase.js';
export type { ParsedHash, ScryptParams } from './passphrase.js';
export { OperatorAuth } from './operators.js';
export type { OperatorAuthEvent, OperatorAuthEventType, OperatorAuthOptions, OperatorsConfig } from './operators.js';
