/**
 * The daemon's configuration (docs/config.md): the resolved shape ({@link DaemonConfig}) and
 * {@link parseConfig}, which validates a parsed document and resolves it.
 *
 * - The shape, ranges and defaults are the zod schema in schema.ts; docs/config.md's key reference
 *   is generated from it (docs.ts).
 * - A bad config throws one SsCardError Config_Invalid listing every problem (problems.ts): the
 *   schema's, and those of the rules joining keys (cross-checks.ts).
 * - Relative paths resolve against the config file's folder (against `cwd` without a file).
 * - Files and devices named in the config are not opened here: the daemon does when it starts.
 * - Reading the file (JSON/TOML, `--config`, env SSCARD_CONFIG) is load.ts; the defaults that
 *   follow whether the simulator runs are simulation.ts.
 */
import path from 'node:path';
import type { ExpiredCardRule } from '../../state/card-state.js';
import { parseDenyList } from '../../state/pin-policy.js';
import { defaultServices, parseOfferedServices } from '../../state/roles.js';
import type { Role, ServiceKind } from '../../state/roles.js';
import { parseAtrPattern, type CardMakeProfile } from '../../drivers/card/card-profiles.js';
import { crossProblems } from './cross-checks.js';
import { invalid, keyPath, zodProblems } from './problems.js';
import { configSchema } from './schema.js';
import type { ConfigInput, IdReaderKind, LogComponent, LogLevel, PinPadKind } from './schema.js';
import { projectRoot } from './root.js';
import { resolveSimulation, simulatorFiles } from './simulation.js';

export interface OperatorAccount {
  readonly id: string;
  readonly name: string;
  /** scrypt$N$r$p$salt$hash (daemon/auth/passphrase.ts). */
  readonly hash: string;
}

/**
 * The configuration with every default filled in and every path absolute. Three device defaults
 * depend on whether the simulator runs: with `simulate` "on"/"off" they are filled here; with
 * "auto" they stay absent until the daemon knows and calls {@link resolveSimulation}.
 */
export interface DaemonConfig {
  /** The file it was read from (absolute), or null for defaults only. */
  readonly configFile: string | null;
  /** Folder relative paths were resolved against. */
  readonly baseDir: string;
  readonly terminalId: string;
  readonly deviceId: string;
  readonly role: Role;
  readonly services: readonly ServiceKind[];
  readonly simulate: 'auto' | 'on' | 'off';
  /** This hall's service catalog file (absolute); `demo`: the shipped fixture, the key was absent. */
  readonly catalog: { readonly file: string; readonly demo: boolean };
  /** GB/T 2260 province code whose cards are served; absent: the catalog's (daemon/config/catalog.ts). */
  readonly province?: string;
  readonly session: {
    readonly inactivityMs: number;
    readonly pinEntryMs: number;
    readonly triesFloor: number;
    readonly expiredCard: ExpiredCardRule;
    readonly denyList: readonly string[];
    /** Refuse a PIN change the pad makes unchecked inside the reader (docs/security.md "PIN policy and secure PIN entry"). */
    readonly requirePinPolicy: boolean;
  };
  /** Card-make profiles, in the order a card's ATR is matched against them (drivers/card/card-profiles.ts). */
  readonly cardProfiles: readonly CardMakeProfile[];
  readonly readers: {
    /** Substring or /regex/ of the user-slot reader; absent: the first reader that is not a PSAM slot. */
    readonly card?: string;
    /** PSAM reader (substring or /regex/), null for none; absent while simulate is "auto". */
    readonly psam?: string | null;
    readonly transmitTimeoutMs: number;
  };
  readonly pinPad: {
    /** Absent while simulate is "auto" and the file does not say. */
    readonly kind?: PinPadKind;
    /** kind "pcsc": the reader with the keypad (absent: the card reader). */
    readonly reader?: string;
    /** kind "serial": the device. */
    readonly path?: string;
    readonly baudRate: number;
    readonly vendorId?: number;
    readonly productId?: number;
    /** A fixtures/pinpads/*.json profile (absolute). */
    readonly profile?: string;
    readonly allowTouchscreen: boolean;
  };
  readonly idReader: {
    /** Absent while simulate is "auto" and the file does not say. */
    readonly kind?: IdReaderKind;
    readonly path?: string;
    readonly baudRate: number;
  };
  readonly journal: { readonly path: string; readonly keyFile: string; readonly purgeIntervalHours: number; readonly retentionDays: number };
  readonly sync: {
    /** Absent: sync disabled. */
    readonly endpoint?: string;
    /** Other nodes of the same platform (docs/sync-protocol.md "Several platform nodes"). */
    readonly alternateEndpoints: readonly string[];
    readonly intervalMs: number;
    /** Between hotlist pulls (the worker's own clock, docs/sync-protocol.md). */
    readonly hotlistIntervalMs: number;
    /** mTLS files (absolute paths); each absent when not configured. */
    readonly tls: { readonly ca?: string; readonly cert?: string; readonly key?: string };
    /** The platform's hotlist key (Ed25519 public key, PEM; absolute path); absent: lists applied unchecked. */
    readonly hotlistPublicKey?: string;
  };
  readonly api: {
    readonly host: string;
    readonly port: number;
    /** Unix socket path to listen on instead of TCP (absolute). */
    readonly socket?: string;
    /** Unix socket for the SSCardDriver calls of libSSCardDriver.so, beside TCP (absolute). */
    readonly driverSocket?: string;
    readonly allowRemote: boolean;
    readonly maxFrameBytes: number;
    readonly maxClients: number;
    readonly maxConnectionsPerClient: number;
    /** Names of this daemon besides the loopback ones (Host check, service URIs). */
    readonly hostNames: readonly string[];
    /** Browser origins allowed besides the daemon's own. */
    readonly allowedOrigins: readonly string[];
    /** Credentialed clients allowed raw chip access without an operator (`client:<name>`, `cert:<CN>`). */
    readonly chipClients: readonly string[];
    /** Client credentials file (absolute). */
    readonly clientsFile: string;
    readonly allowUnauthenticatedLoopback: boolean;
    /** TLS files (absolute paths); each absent when not configured. */
    readonly tls: { readonly cert?: string; readonly key?: string; readonly ca?: string };
  };
  readonly operators: {
    readonly sessionTtlMs: number;
    readonly maxFailures: number;
    readonly lockoutMs: number;
    readonly accounts: readonly OperatorAccount[];
  };
  readonly log: {
    readonly level: LogLevel;
    readonly levels: Readonly<Partial<Record<LogComponent, LogLevel>>>;
    /** JSON-lines file, or null for none. */
    readonly file: string | null;
    readonly maxSizeBytes: number;
    readonly maxFiles: number;
    readonly console: boolean;
  };
  readonly simulator: {
    readonly card: string;
    readonly psam: string;
    readonly stateDir: string;
    /** ID card fixture presented on the simulated ID reader, or null when none matches the card. */
    readonly idCard: string | null;
  };
}

/**
 * Validate a parsed JSON/TOML document and resolve it: defaults filled, relative paths resolved
 * against `opts.baseDir` (default: the folder of `source` when it is an absolute path, else the
 * current directory). `source` names the file in error messages. Throws Config_Invalid listing
 * every problem.
 */
export function parseConfig(raw: unknown, source: string, opts: { baseDir?: string } = {}): DaemonConfig {
  const baseDir = opts.baseDir ?? (path.isAbsolute(source) ? path.dirname(source) : process.cwd());
  const result = configSchema.safeParse(raw);
  const problems = result.success ? [] : zodProblems(result.error.issues);
  const badPaths = new Set(problems.map((p) => keyPath(p.path)));
  problems.push(...crossProblems(raw, badPaths));
  if (problems.length > 0 || !result.success) throw invalid(raw, source, problems);
  return resolve(result.data, path.isAbsolute(source) ? source : null, baseDir);
}

function resolve(c: ConfigInput, configFile: string | null, baseDir: string): DaemonConfig {
  const abs = (p: string): string => path.resolve(baseDir, p);
  /** `{ [key]: value }` when present, `{}` when absent (optional properties stay absent, not undefined). */
  const some = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } => (value === undefined ? {} : ({ [key]: value } as { [P in K]: V }));
  const simulating = c.simulate === 'on' ? true : c.simulate === 'off' ? false : undefined;
  const simulator = simulatorFiles(c.simulator, abs);
  const services = c.services === undefined ? [...defaultServices(c.role)] : parseOfferedServices(c.role, c.services, 'services');
  const cfg: DaemonConfig = {
    configFile,
    baseDir,
    terminalId: c.terminalId,
    deviceId: c.deviceId ?? c.terminalId,
    role: c.role,
    services,
    simulate: c.simulate,
    catalog: c.catalog === undefined ? { file: path.join(projectRoot(), 'fixtures', 'catalog', 'service-items.json'), demo: true } : { file: abs(c.catalog), demo: false },
    ...some('province', c.province),
    session: { ...c.session, denyList: parseDenyList(c.session.denyList, 'session.denyList') },
    cardProfiles: c.cardProfiles.map(cardMakeProfile),
    readers: { ...some('card', c.readers.card), ...some('psam', c.readers.psam), transmitTimeoutMs: c.readers.transmitTimeoutMs },
    pinPad: {
      ...some('kind', c.pinPad.kind),
      ...some('reader', c.pinPad.reader),
      ...some('path', c.pinPad.path),
      baudRate: c.pinPad.baudRate,
      ...some('vendorId', c.pinPad.vendorId),
      ...some('productId', c.pinPad.productId),
      ...some('profile', c.pinPad.profile === undefined ? undefined : abs(c.pinPad.profile)),
      allowTouchscreen: c.pinPad.allowTouchscreen,
    },
    idReader: { ...some('kind', c.idReader.kind), ...some('path', c.idReader.path), baudRate: c.idReader.baudRate },
    journal: { ...c.journal, path: abs(c.journal.path), keyFile: abs(c.journal.keyFile) },
    sync: {
      ...some('endpoint', c.sync.endpoint),
      alternateEndpoints: c.sync.alternateEndpoints,
      intervalMs: c.sync.intervalMs,
      hotlistIntervalMs: c.sync.hotlistIntervalMs,
      tls: {
        ...some('ca', c.sync.tls.ca === undefined ? undefined : abs(c.sync.tls.ca)),
        ...some('cert', c.sync.tls.cert === undefined ? undefined : abs(c.sync.tls.cert)),
        ...some('key', c.sync.tls.key === undefined ? undefined : abs(c.sync.tls.key)),
      },
      ...some('hotlistPublicKey', c.sync.hotlistPublicKey === undefined ? undefined : abs(c.sync.hotlistPublicKey)),
    },
    api: {
      host: c.api.host,
      port: c.api.port,
      ...some('socket', c.api.socket === undefined ? undefined : abs(c.api.socket)),
      ...some('driverSocket', c.api.driverSocket === undefined ? undefined : abs(c.api.driverSocket)),
      allowRemote: c.api.allowRemote,
      maxFrameBytes: c.api.maxFrameBytes,
      maxClients: c.api.maxClients,
      maxConnectionsPerClient: c.api.maxConnectionsPerClient,
      hostNames: [...c.api.hostNames],
      allowedOrigins: [...c.api.allowedOrigins],
      chipClients: [...c.api.chipClients],
      clientsFile: abs(c.api.clientsFile),
      allowUnauthenticatedLoopback: c.api.allowUnauthenticatedLoopback,
      tls: {
        ...some('cert', c.api.tls.cert === undefined ? undefined : abs(c.api.tls.cert)),
        ...some('key', c.api.tls.key === undefined ? undefined : abs(c.api.tls.key)),
        ...some('ca', c.api.tls.ca === undefined ? undefined : abs(c.api.tls.ca)),
      },
    },
    operators: { ...c.operators, accounts: c.operators.accounts.map((a) => ({ id: a.id, name: a.name, hash: a.hash })) },
    log: {
      ...c.log,
      levels: Object.fromEntries(Object.entries(c.log.levels).filter(([, v]) => v !== undefined)),
      file: c.log.file === null ? null : abs(c.log.file),
    },
    simulator,
  };
  return simulating === undefined ? cfg : resolveSimulation(cfg, simulating);
}

/** One `cardProfiles` entry (checked by the schema) as the card driver's options. */
function cardMakeProfile(p: ConfigInput['cardProfiles'][number]): CardMakeProfile {
  return {
    name: p.name,
    atr: parseAtrPattern(p.atr)!,
    read: {
      profile: p.name,
      addressing: p.addressing,
      factorOffset: p.factorOffset,
      factorLength: 8,
      ef06AuthKeyId: p.ef06AuthKeyId,
      ef06WriteKeyId: p.ef06WriteKeyId,
      selectMfFirst: p.selectMfFirst,
      internalAuth: p.internalAuth,
      notActivatedSw: p.notActivatedSw === null ? null : parseInt(p.notActivatedSw, 16),
      reloadOnBlockedPin: p.reloadOnBlockedPin,
      phone: { ...p.phone },
    },
    reload: { ...(p.reload === undefined ? {} : { form: p.reload }), reloadAuthKeyId: p.reloadAuthKeyId },
  };
}
