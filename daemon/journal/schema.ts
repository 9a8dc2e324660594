/**
 * The journal's SQLite schema, as numbered migrations. `schema_version` holds one row per applied
 * migration; a file from a newer sscard (a version we do not know) is refused, never "downgraded".
 * The CHECK constraints repeat the closed sets of types.ts so that even a hand-written INSERT
 * cannot put free text where the code never does.
 */
import { AUDIT_KINDS, BANK_REQUEST_STATUSES, CARD_STATES, MATERIAL_TYPES, OPERATION_KINDS, OPERATION_STATES, OUTCOMES, SYNC_STATES, TERMINAL_ROLES } from './types.js';

const inList = (xs: readonly string[]): string => xs.map((x) => `'${x}'`).join(', ');
/** GLOB for "has a run of five digits" (a 6-digit PIN would). */
const DIGITS_5 = '*[0-9][0-9][0-9][0-9][0-9]*';

export interface Migration {
  readonly version: number;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
CREATE TABLE operations (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  id           TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
  terminal_id  TEXT NOT NULL,
  operator_id  TEXT,
  service_item TEXT NOT NULL,
  kind         TEXT NOT NULL CHECK (kind IN (${inList(OPERATION_KINDS)})),
  role         TEXT NOT NULL CHECK (role IN (${inList(TERMINAL_ROLES)})),
  state        TEXT NOT NULL CHECK (state IN (${inList(OPERATION_STATES)})),
  outcome      TEXT CHECK (outcome IN (${inList(OUTCOMES)})),
  reason       TEXT CHECK (reason GLOB '[a-z]*' AND reason NOT GLOB '*[^a-z-]*'),
  last_sw      INTEGER CHECK (last_sw BETWEEN 0 AND 65535),
  tries_left   INTEGER CHECK (tries_left BETWEEN 0 AND 15),
  card_state   TEXT CHECK (card_state IN (${inList(CARD_STATES)})),
  materials    TEXT NOT NULL DEFAULT '[]' CHECK (materials NOT GLOB '*[0-9]*'),
  missing      TEXT NOT NULL DEFAULT '[]' CHECK (missing NOT GLOB '*[0-9]*'),
  started_at   INTEGER NOT NULL,
  finished_at  INTEGER,
  sync_state   TEXT NOT NULL DEFAULT 'unsynced' CHECK (sync_state IN (${inList(SYNC_STATES)})),
  synced_at    INTEGER,
  reconciles   TEXT REFERENCES operations(id) ON DELETE SET NULL,
  card_hash    TEXT,
  person_hash  TEXT,
  card_masked  TEXT,
  identity     BLOB,
  key_id       TEXT
);
CREATE INDEX operations_card ON operations(card_hash) WHERE card_hash IS NOT NULL;
CREATE INDEX operations_pending ON operations(seq) WHERE state = 'pending';
CREATE INDEX operations_unsynced ON operations(seq) WHERE sync_state = 'unsynced' AND state <> 'pending';
CREATE INDEX operations_synced_age ON operations(finished_at) WHERE sync_state = 'synced';
CREATE INDEX operations_rejected ON operations(seq) WHERE sync_state = 'rejected';
CREATE INDEX operations_reconciles ON operations(reconciles) WHERE reconciles IS NOT NULL;
CREATE TABLE hotlist (
  card_hash TEXT PRIMARY KEY,
  listed_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
`,
  },
  {
    // Seed 000 (docs/service-items/000_1700379f35991b5f.txt) 行使内容 2: on a financial window the
    // bank-account activation is a separate request for the bank. One row per activation, the card
    // stored as operations store it (encrypted identity, keyed hashes, masked form). The link to
    // the activation survives the activation's purge as NULL; sent requests are purged with the
    // same retention.
    version: 2,
    sql: `
CREATE TABLE bank_requests (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  id           TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
  operation_id TEXT REFERENCES operations(id) ON DELETE SET NULL,
  terminal_id  TEXT NOT NULL,
  operator_id  TEXT,
  status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN (${inList(BANK_REQUEST_STATUSES)})),
  created_at   INTEGER NOT NULL,
  sent_at      INTEGER,
  card_hash    TEXT NOT NULL,
  person_hash  TEXT,
  card_masked  TEXT NOT NULL,
  identity     BLOB NOT NULL,
  key_id       TEXT NOT NULL
);
CREATE UNIQUE INDEX bank_requests_operation ON bank_requests(operation_id) WHERE operation_id IS NOT NULL;
CREATE INDEX bank_requests_pending ON bank_requests(seq) WHERE status = 'pending';
CREATE INDEX bank_requests_sent_age ON bank_requests(sent_at) WHERE status = 'sent';
`,
  },
  {
    // The audit trail (docs/api.md "Operators"): every privileged call is journaled with the
    // operator id, and so are the operator sign-in events. Local only (never synced); purged by
    // age with the retention. No column can hold a PIN, a passphrase or a token: ids, bounded
    // names without a run of five digits, a number.
    version: 3,
    sql: `
CREATE TABLE audit (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  id           TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
  at           INTEGER NOT NULL,
  terminal_id  TEXT NOT NULL,
  operator_id  TEXT NOT NULL CHECK (length(operator_id) <= 64 AND operator_id NOT GLOB '*[^A-Za-z0-9._-]*'),
  kind         TEXT NOT NULL CHECK (kind IN (${inList(AUDIT_KINDS)})),
  command      TEXT CHECK (length(command) BETWEEN 1 AND 80 AND command NOT GLOB '*[^A-Za-z0-9 ./_-]*' AND command NOT GLOB '${DIGITS_5}'),
  request_id   INTEGER CHECK (request_id >= 1),
  outcome      TEXT CHECK (length(outcome) BETWEEN 1 AND 80 AND outcome NOT GLOB '*[^A-Za-z0-9._:-]*' AND outcome NOT GLOB '${DIGITS_5}'),
  CHECK (kind <> 'privileged-call' OR (command IS NOT NULL AND outcome IS NOT NULL))
);
CREATE INDEX audit_at ON audit(at);
CREATE INDEX audit_operator ON audit(operator_id, seq);
`,
  },
];

/** Material lists are stored as JSON arrays of the closed set; kept here so readers agree. */
export const MATERIAL_SET: ReadonlySet<string> = new Set(MATERIAL_TYPES);

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
