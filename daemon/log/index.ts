export { LABELS, LEVEL_RANK, LOG_COMPONENTS, LOG_LEVELS, consoleLineFormat, createLogging, jsonLineFormat, redactFormat } from './logger.js';
export type { ComponentLogger, LogComponent, LogConfig, LogEntry, LogLevel, Logging, LoggingOptions, Transport } from './logger.js';
export { REDACTED, REDACTED_KEYS, isRedactedKey, redact } from './redact.js';
export { RotatingFileTransport } from './rotating-file.js';
export { LogRing, MAX_MESSAGE_CHARS, MAX_META_CHARS, RING_CAPACITY, RingTransport } from './ring.js';
export type { RingListener, RingQuery, RingRecord } from './ring.js';
export type { RotatingFileOptions } from './rotating-file.js';
