/**
 * The journal's SQLite schema, as numbered migrations. `schema_version` holds one row per applied
 * migration; a file from a newer sscard (a version we do not know) is refused, never "downgraded".
 * The CHECK constraints repeat the closed sets of types.ts so that even a hand-written INSERT
 * cannot put free text where the code never does. store.ts runs the migrations a file lacks in one
 * transaction, with foreign keys off and checked before the commit, so a table can be rebuilt.
 *
 * A migration is history: it creates what that version had. Schema 1 wrote roles and materials in
 * words of its own (the sync wire's, docs/sync-protocol.md); schema 4 rewrites them to the house's
 * (state/roles.ts, state/materials.ts). A new role or material means a new migration (the CHECK
 * constraints list them).
 */
import { MATERIALS } from '../../state/materials.js';
import type { Material } from '../../state/materials.js';
import { ROLES } from '../../state/roles.js';
import { AGENT_BASES } from '../../state/agents.js';
import type { Role } from '../../state/roles.js';
import { AUDIT_KINDS, BANK_REQUEST_STATUSES, CARD_STATES, OPERATION_KINDS, OPERATION_STATES, OUTCOMES, SYNC_STATES } from './types.js';

const inList = (xs: readonly string[]): string => xs.map((x) => `'${x}'`).join(', ');
/** GLOB for "has a run of five digits" (a 6-digit PIN would). */
const DIGITS_5 = '*[0-9][0-9][0-9][0-9][0-9]*';

export interface Migration {
  readonly version: number;
  readonly sql: string;
}

/** The words schemas 1 to 3 stored for a role, and the house's word for each. */
export const ROLE_BEFORE_SCHEMA_4: Readonly<Record<string, Role>> = Object.freeze({
  'self-service': 'kiosk',
  window: 'counter',
  'financial-window': 'financial-counter',
});

/**
 * The words schemas 1 to 3 stored for a material, and the house's word for each. Schema 1 also
 * allowed agent-id-card, power-of-attorney, household-register and other-id; nothing ever wrote
 * them (the session collects only these two), and a file holding one is refused by the upgrade
 * (the CHECK below fails, the transaction rolls back, the file stays as it was).
 */
export const MATERIAL_BEFORE_SCHEMA_4: Readonly<Record<string, Material>> = Object.freeze({
  'social-security-card': 'socialSecurityCard',
  'resident-id-card': 'residentIdCard',
});

/** The CHECK of a material list column: a JSON array of `known` materials and nothing else. */
const materialList = (col: string, known: readonly Material[]): string => `replace(${known.reduce((expr, m) => `replace(${expr}, '"${m}"', '')`, col)}, ',', '') = '[]'`;

/** The materials schema 4 knew (schema 5 adds an agent's: state/agents.ts). */
const MATERIALS_SCHEMA_4: readonly Material[] = ['socialSecurityCard', 'residentIdCard'];

/** The operation kinds schemas 1 to 5 knew (schema 6 adds `write`: iWriteCard, docs/api.md). */
const KINDS_BEFORE_SCHEMA_6: readonly string[] = ['activate', 'verify', 'change', 'reset', 'unblock', 'lockout', 'read'];

/** The columns of `operations` from schema 4 on, its kinds' CHECK over `kinds` and its material lists' over `known`. */
const operationsColumnsV4 = (known: readonly Material[], kinds: readonly string[] = KINDS_BEFORE_SCHEMA_6): string => `
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  id           TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
  terminal_id  TEXT NOT NULL,
  operator_id  TEXT,
  service_item TEXT NOT NULL,
  kind         TEXT NOT NULL CHECK (kind IN (${inList(kinds)})),
  role         TEXT NOT NULL CHECK (role IN (${inList(ROLES)})),
  state        TEXT NOT NULL CHECK (state IN (${inList(OPERATION_STATES)})),
  outcome      TEXT CHECK (outcome IN (${inList(OUTCOMES)})),
  reason       TEXT CHECK (reason GLOB '[a-z]*' AND reason NOT GLOB '*[^a-z-]*'),
  last_sw      INTEGER CHECK (last_sw BETWEEN 0 AND 65535),
  tries_left   INTEGER CHECK (tries_left BETWEEN 0 AND 15),
  card_state   TEXT CHECK (card_state IN (${inList(CARD_STATES)})),
  materials    TEXT NOT NULL DEFAULT '[]' CHECK (${materialList('materials', known)}),
  missing      TEXT NOT NULL DEFAULT '[]' CHECK (${materialList('missing', known)}),
  started_at   INTEGER NOT NULL,
  finished_at  INTEGER,
  sync_state   TEXT NOT NULL DEFAULT 'unsynced' CHECK (sync_state IN (${inList(SYNC_STATES)})),
  synced_at    INTEGER,
  reconciles   TEXT REFERENCES operations(id) ON DELETE SET NULL,
  card_hash    TEXT,
  person_hash  TEXT,
  card_masked  TEXT,
  identity     BLOB,
  key_id       TEXT`;

const V4_COLUMN_NAMES = `seq, id, terminal_id, operator_id, service_item, kind, role, state, outcome, reason, last_sw, tries_left, card_state,
  materials, missing, started_at, finished_at, sync_state, synced_at, reconciles, card_hash, person_hash, card_masked, identity, key_id`;

/**
 * The end of a rebuild of `operations` as `next` (https://sqlite.org/lang_altertable.html#otheralter):
 * the AUTOINCREMENT counter carried over, the old table dropped, the new one renamed, the indexes made again.
 */
const swapOperations = (next: string): string => `
DELETE FROM sqlite_sequence WHERE name = '${next}';
INSERT INTO sqlite_sequence (name, seq) SELECT '${next}', seq FROM sqlite_sequence WHERE name = 'operations';
DROP TABLE operations;
ALTER TABLE ${next} RENAME TO operations;
CREATE INDEX operations_card ON operations(card_hash) WHERE card_hash IS NOT NULL;
CREATE INDEX operations_pending ON operations(seq) WHERE state = 'pending';
CREATE INDEX operations_unsynced ON operations(seq) WHERE sync_state = 'unsynced' AND state <> 'pending';
CREATE INDEX operations_synced_age ON operations(finished_at) WHERE sync_state = 'synced';
CREATE INDEX operations_rejected ON operations(seq) WHERE sync_state = 'rejected';
CREATE INDEX operations_reconciles ON operations(reconciles) WHERE reconciles IS NOT NULL;
`;

/** SQL: `col` with every old material word replaced by the house's. */
const houseMaterials = (col: string): string =>
  Object.entries(MATERIAL_BEFORE_SCHEMA_4).reduce((expr, [old, house]) => `replace(${expr}, '"${old}"', '"${house}"')`, col);

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
  kind         TEXT NOT NULL CHECK (kind IN (${inList(KINDS_BEFORE_SCHEMA_6)})),
  role         TEXT NOT NULL CHECK (role IN (${inList(Object.keys(ROLE_BEFORE_SCHEMA_4))})),
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
  {
    // One vocabulary (docs/architecture.md "Layers"): roles and materials in the house's words
    // (state/roles.ts, state/materials.ts). The role's CHECK changes, so `operations` is rebuilt
    // the way https://sqlite.org/lang_altertable.html#otheralter does it: a new table, the rows
    // copied with their words rewritten (every other column as it was, ids and seq included), the
    // AUTOINCREMENT counter carried over, the old table dropped, the new one renamed, the indexes
    // made again. store.ts runs this with foreign keys off (so dropping the old table sets no
    // reference to NULL) and checks them before the commit. The material lists get a CHECK of
    // their own: known materials only.
    version: 4,
    sql: `
CREATE TABLE operations_v4 (${operationsColumnsV4(MATERIALS_SCHEMA_4)}
);
INSERT INTO operations_v4 (${V4_COLUMN_NAMES})
SELECT seq, id, terminal_id, operator_id, service_item, kind,
  CASE role ${Object.entries(ROLE_BEFORE_SCHEMA_4)
    .map(([old, house]) => `WHEN '${old}' THEN '${house}'`)
    .join(' ')} END,
  state, outcome, reason, last_sw, tries_left, card_state,
  ${houseMaterials('materials')}, ${houseMaterials('missing')},
  started_at, finished_at, sync_state, synced_at, reconciles, card_hash, person_hash, card_masked, identity, key_id
FROM operations ORDER BY seq;
${swapOperations('operations_v4')}`,
  },
  {
    // Someone applying for the holder (state/agents.ts): the materials an agent brings
    // (agentIdCard, powerOfAttorney, householdRegister; the sync wire's words reserved since
    // protocol 1, docs/sync-protocol.md) join the CHECK, and the agent is stored as the card is —
    // the basis in clear, the identity encrypted (identity.ts `sealAgent`), a masked form for
    // display. Rebuilt as schema 4 was; every row kept, with no agent.
    version: 5,
    sql: `
CREATE TABLE operations_v5 (${operationsColumnsV4(MATERIALS)},
  agent_basis  TEXT CHECK (agent_basis IN (${inList(AGENT_BASES)})),
  agent        BLOB,
  agent_masked TEXT,
  CHECK ((agent_basis IS NULL) = (agent IS NULL) AND (agent IS NULL) = (agent_masked IS NULL))
);
INSERT INTO operations_v5 (${V4_COLUMN_NAMES}) SELECT ${V4_COLUMN_NAMES} FROM operations ORDER BY seq;
${swapOperations('operations_v5')}`,
  },
  {
    // A write of the card's records at a counter (iWriteCard, docs/api.md "SSCardDriver calls"):
    // the kind `write` joins the CHECK. Rebuilt as schema 5 was; every row kept as it was.
    version: 6,
    sql: `
CREATE TABLE operations_v6 (${operationsColumnsV4(MATERIALS, OPERATION_KINDS)},
  agent_basis  TEXT CHECK (agent_basis IN (${inList(AGENT_BASES)})),
  agent        BLOB,
  agent_masked TEXT,
  CHECK ((agent_basis IS NULL) = (agent IS NULL) AND (agent IS NULL) = (agent_masked IS NULL))
);
INSERT INTO operations_v6 (${V4_COLUMN_NAMES}, agent_basis, agent, agent_masked) SELECT ${V4_COLUMN_NAMES}, agent_basis, agent, agent_masked FROM operations ORDER BY seq;
${swapOperations('operations_v6')}`,
  },
  {
    // What the daemon reads while it serves, at any journal size (docs/journal.md "Size"): the
    // number of operations kept by triggers (count(*) walks an index: 31 ms at 1,000,000 rows), and
    // an index on started_at for the counter page's "today" (newest first, that filter scanned
    // back to the first row whenever today had fewer rows than the page). A later migration that
    // rebuilds operations must create the two triggers again (operations.test.ts checks the count).
    version: 7,
    sql: `
CREATE TABLE operations_count (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  n   INTEGER NOT NULL CHECK (n >= 0)
);
INSERT INTO operations_count (one, n) SELECT 1, count(*) FROM operations;
CREATE TRIGGER operations_counted_insert AFTER INSERT ON operations BEGIN UPDATE operations_count SET n = n + 1 WHERE one = 1; END;
CREATE TRIGGER operations_counted_delete AFTER DELETE ON operations BEGIN UPDATE operations_count SET n = n - 1 WHERE one = 1; END;
CREATE INDEX operations_started ON operations(started_at);`,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
