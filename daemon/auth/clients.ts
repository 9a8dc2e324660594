/**
 * Client credentials of the local API (docs/security.md "Native clients"): a native program (a
 * counter application, a monitor, a technician's tool) that does not come from an allowed browser
 * origin proves who it is with a token that `sscard client add NAME` prints once.
 *
 * - A token is `sscc_` + 32 random bytes in base64url (48 characters). The prefix lets the daemon
 *   tell a client token from an operator token in the same `Authorization: Bearer` header, and lets
 *   secret scanners recognise one that leaked into a repository.
 * - Only `sha256:<hex>` of the token is stored. A plain SHA-256 is enough for a 256-bit random
 *   secret (nobody can guess or brute-force the preimage; a slow hash such as scrypt only helps
 *   low-entropy passphrases, and would cost CPU on every request).
 * - The hashes live in their own JSON file (`api.clientsFile`), written by the command (atomic
 *   rename, mode 0640, owner and group kept, a new file in the group of its folder — so root
 *   can run the command for a daemon that runs as its own user in that group), not in the hand-written configuration: the command never rewrites a
 *   commented TOML file, and the daemon rereads the clients file when it changes, so a revocation
 *   takes effect within a second without a restart.
 * - Comparisons run in constant time over every stored hash (no early exit).
 * - Neither a token nor a hash is ever put into an error, a log entry or a listing.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, SsCardError } from '../../core/errors.js';

export const CLIENT_TOKEN_PREFIX = 'sscc_';
/** `sscc_` + 43 base64url characters (32 bytes). */
export const CLIENT_TOKEN = /^sscc_[A-Za-z0-9_-]{43}$/;
/** Client names: what `sscard client add` accepts (and what logs show). */
export const CLIENT_NAME = /^[A-Za-z0-9_.-]{1,32}$/;
const HASH = /^sha256:[0-9a-f]{64}$/;
const MAX_CLIENTS = 1000;

export interface ClientEntry {
  readonly name: string;
  /** `sha256:<hex>` of the token. */
  readonly hash: string;
  /** ISO 8601. */
  readonly created: string;
  /** ISO 8601 when revoked; absent while the credential is valid. */
  readonly revoked?: string;
}

/** What a listing shows: never the hash. */
export interface ClientInfo {
  readonly name: string;
  readonly created: string;
  readonly revoked: string | null;
}

/** A new client token (print it once; store only {@link clientTokenHash}). */
export function newClientToken(): string {
  return `${CLIENT_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function isClientToken(s: string): boolean {
  return CLIENT_TOKEN.test(s);
}

export function clientTokenHash(token: string): string {
  return `sha256:${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

function fileProblem(file: string, zh: string, en: string, cause?: unknown): SsCardError {
  return new SsCardError(
    ErrorCode.Config_Invalid,
    { zh: `API 客户端文件 ${file}（api.clientsFile）${zh}`, en: `the API clients file ${file} (api.clientsFile) ${en}` },
    { file, path: ['api', 'clientsFile'] },
    cause === undefined ? undefined : { cause },
  );
}

/**
 * The entries of a clients file; a missing file is no clients. A file that cannot be read or is
 * not `{ "clients": [{ name, hash, created, revoked? }] }` throws Config_Invalid naming the entry
 * (never its hash).
 */
export function readClientsFile(file: string): ClientEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    throw fileProblem(file, `无法读取（${code ?? 'error'}）：请检查路径与权限`, `cannot be read (${code ?? 'error'}): check the path and the permissions`, e);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw fileProblem(file, '不是有效的 JSON：请用 sscard client 命令管理，不要手工编辑', 'is not valid JSON: manage it with sscard client, do not edit it by hand');
  }
  const list = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as { clients?: unknown }).clients : undefined;
  if (!Array.isArray(list) || list.length > MAX_CLIENTS) {
    throw fileProblem(file, `须为 {"clients": [...]}（最多 ${MAX_CLIENTS} 项）`, `must be {"clients": [...]} (at most ${MAX_CLIENTS} entries)`);
  }
  return list.map((e: unknown, i): ClientEntry => {
    const o = typeof e === 'object' && e !== null && !Array.isArray(e) ? (e as Record<string, unknown>) : {};
    const extra = Object.keys(o).filter((k) => !['name', 'hash', 'created', 'revoked'].includes(k));
    const ok =
      typeof o['name'] === 'string' &&
      CLIENT_NAME.test(o['name']) &&
      typeof o['hash'] === 'string' &&
      HASH.test(o['hash']) &&
      typeof o['created'] === 'string' &&
      (o['revoked'] === undefined || typeof o['revoked'] === 'string') &&
      extra.length === 0;
    if (!ok) throw fileProblem(file, `第 ${i + 1} 项（clients[${i}]）无效：应为 { name, hash: "sha256:…", created, revoked? }`, `entry clients[${i}] is not valid: it must be { name, hash: "sha256:…", created, revoked? }`);
    return { name: o['name'] as string, hash: o['hash'] as string, created: o['created'] as string, ...(o['revoked'] === undefined ? {} : { revoked: o['revoked'] as string }) };
  });
}

/**
 * Write the file atomically (temporary file + rename), mode 0640. Run as root, the file keeps the
 * owner and group it had, or (a new file) gets the group of its folder, so that the daemon's user
 * can still read it. The hashes are not secrets in themselves (a SHA-256 of a 256-bit random token
 * gives nothing away); what matters is that only root and the daemon's group can change or read the file.
 */
export function writeClientsFile(file: string, entries: readonly ClientEntry[]): void {
  const dir = path.dirname(file);
  const group = groupOf(dir);
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ clients: entries }, null, 2)}\n`, { mode: 0o640 });
  chmodSync(tmp, 0o640);
  if (process.getuid?.() === 0) {
    let owner: { uid: number; gid: number };
    try {
      const s = statSync(file);
      owner = { uid: s.uid, gid: s.gid };
    } catch {
      owner = { uid: 0, gid: group };
    }
    chownSync(tmp, owner.uid, owner.gid);
  }
  renameSync(tmp, file);
}

/** The group of the nearest folder that exists (before missing ones are made with root's group). */
function groupOf(dir: string): number {
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      return statSync(d).gid;
    } catch {
      if (path.dirname(d) === d) return 0;
    }
  }
}

export function clientInfo(e: ClientEntry): ClientInfo {
  return { name: e.name, created: e.created, revoked: e.revoked ?? null };
}

/** Who a valid token belongs to. */
export interface ClientIdentity {
  readonly name: string;
  /** The stored hash: stays the key of a connection so that a revocation can find it. */
  readonly hash: string;
}

/** What the API asks of the credentials (an in-memory registry in tests). */
export interface ClientCredentials {
  /** The client of a token, or null (unknown, revoked, malformed). Constant time over the stored hashes. */
  verify(token: string): ClientIdentity | null;
  /** Whether a hash verify() gave is still valid (a revoked or removed client is not). */
  isLive(hash: string): boolean;
  /** Reread the source when it changed; true when it did. Errors leave no client valid (fail closed). */
  refresh(): boolean;
}

export interface ClientRegistryOptions {
  /** Where reload problems go (the file stays refused until it is fixed). */
  readonly onError?: (e: SsCardError) => void;
  /** Look at the file's metadata at most this often on verify() (default 1000 ms). */
  readonly statIntervalMs?: number;
  readonly now?: () => number;
}

/**
 * The clients file as the daemon uses it: read at start (a bad file is an error then), reread when
 * its size, modification time or inode changes (looked at on verify() at most once a second, on
 * every unknown token, and whenever refresh() is called).
 */
export class ClientRegistry implements ClientCredentials {
  private live: ClientEntry[] = [];
  private stamp = '';
  private lastStat = -Infinity;
  private readonly statIntervalMs: number;
  private readonly now: () => number;

  private constructor(
    private readonly file: string | null,
    entries: readonly ClientEntry[],
    private readonly opts: ClientRegistryOptions,
  ) {
    this.statIntervalMs = opts.statIntervalMs ?? 1000;
    this.now = opts.now ?? Date.now;
    this.set(entries);
  }

  /** The registry of a file; throws Config_Invalid when the file exists and is not valid. */
  public static open(file: string, opts: ClientRegistryOptions = {}): ClientRegistry {
    const r = new ClientRegistry(file, [], opts);
    r.stamp = r.fileStamp();
    r.set(readClientsFile(file));
    r.lastStat = r.now();
    return r;
  }

  /** A fixed set of entries (tests, and a daemon without a clients file). */
  public static of(entries: readonly ClientEntry[]): ClientRegistry {
    return new ClientRegistry(null, entries, {});
  }

  /** Names of the valid clients. */
  public names(): string[] {
    return this.live.map((e) => e.name);
  }

  public verify(token: string): ClientIdentity | null {
    if (this.now() - this.lastStat >= this.statIntervalMs) this.refresh();
    if (typeof token !== 'string' || !isClientToken(token)) return null;
    const found = this.find(token);
    // A token made a moment ago (sscard client add, then the first call at once): look at the
    // file now rather than at the next interval. One stat per unknown token.
    if (found === null && this.refresh()) return this.find(token);
    return found;
  }

  private find(token: string): ClientIdentity | null {
    const want = Buffer.from(clientTokenHash(token), 'latin1');
    let found: ClientEntry | null = null;
    for (const e of this.live) {
      const have = Buffer.from(e.hash, 'latin1');
      // Every entry is compared (no early exit); hashes all have the same length.
      if (have.length === want.length && timingSafeEqual(have, want) && found === null) found = e;
    }
    return found === null ? null : { name: found.name, hash: found.hash };
  }

  public isLive(hash: string): boolean {
    return this.live.some((e) => e.hash === hash);
  }

  public refresh(): boolean {
    this.lastStat = this.now();
    if (this.file === null) return false;
    const stamp = this.fileStamp();
    if (stamp === this.stamp) return false;
    this.stamp = stamp;
    try {
      this.set(readClientsFile(this.file));
    } catch (e) {
      this.live = [];
      if (e instanceof SsCardError) this.opts.onError?.(e);
    }
    return true;
  }

  private set(entries: readonly ClientEntry[]): void {
    this.live = entries.filter((e) => e.revoked === undefined);
  }

  private fileStamp(): string {
    try {
      const s = statSync(this.file!);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch (e) {
      return `missing:${(e as NodeJS.ErrnoException).code ?? ''}`;
    }
  }
}
