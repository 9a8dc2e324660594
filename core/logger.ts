/**
 * The logger every layer may be handed: four levels, a message and metadata. The daemon's
 * component loggers (daemon/log, winston) fit it; tests pass SILENT_LOGGER or a recorder. Card
 * identities are never passed to it in clear, and nothing that holds a PIN (README "PIN secrecy").
 */
export interface Logger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

/** A logger that drops everything. */
export const SILENT_LOGGER: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
