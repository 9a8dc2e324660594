/**
 * The daemon's configuration (docs/config.md): read from the file given with `--config`, else
 * from env `SSCARD_CONFIG`, else all defaults; JSON (`.json`) or TOML (`.toml`).
 *
 * - The shape, ranges and defaults are the zod schema in schema.ts; docs/config.md is generated
 *   from it ({@link renderConfigDoc}) and a test keeps the two equal.
 * - A bad config throws one SsCardError Config_Invalid listing every problem: key path, the value
 *   found (JSON, cut at 60 characters) and what is allowed, zh-CN first and English second. Values
 *   of secrets (operator hashes, anything under a key named like passphrase/key/secret/token, the
 *   PIN deny list) are shown as "(hidden)".
 * - Relative paths resolve against the config file's folder (against `cwd` without a file).
 * - Files and devices named in the config are not opened here: the daemon does when it starts.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { TomlError, parse as parseToml } from 'smol-toml';
import type { z } from 'zod';
import { ErrorCode, SsCardError, isSsCardError } from '../../core/errors.js';
import type { BilingualText } from '../../core/text.js';
import { parseDenyList } from '../../state/pin-policy.js';
import { ROLES, defaultServices, parseOfferedServices } from '../../state/roles.js';
import type { Role, ServiceKind } from '../../state/roles.js';
import { findJsonSyntaxError } from './json-syntax.js';
import { projectRoot } from './root.js';
import { LOG_COMPONENTS, LOG_LEVELS, configSchema, fieldDocs } from './schema.js';
import type { ConfigInput, FieldDoc, IdReaderKind, LogComponent, LogLevel, PinPadKind } from './schema.js';

export { LOG_COMPONENTS, LOG_LEVELS };
export type { IdReaderKind, LogComponent, LogLevel, PinPadKind };

/** The PSAM reader of the simulator (vpcd's second slot). */
export const SIM_PSAM_READER = 'Virtual PCD 00 01';
export const CONFIG_ENV = 'SSCARD_CONFIG';

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
  readonly session: {
    readonly inactivityMs: number;
    readonly pinEntryMs: number;
    readonly triesFloor: number;
    readonly denyList: readonly string[];
  };
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
    readonly intervalMs: number;
    /** mTLS files (absolute paths); each absent when not configured. */
    readonly tls: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  };
  readonly api: {
    readonly host: string;
    readonly port: number;
    /** Unix socket path to listen on instead of TCP (absolute). */
    readonly socket?: string;
    readonly allowRemote: boolean;
    readonly maxFrameBytes: number;
    readonly maxClients: number;
    readonly maxConnectionsPerClient: number;
    /** Names of this daemon besides the loopback ones (Host check, service URIs). */
    readonly hostNames: readonly string[];
    /** Browser origins allowed besides the daemon's own. */
    readonly allowedOrigins: readonly string[];
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

export interface LoadConfigOptions {
  /** The `--config` argument. */
  readonly path?: string;
  /** Default process.env (only SSCARD_CONFIG is read). */
  readonly env?: NodeJS.ProcessEnv;
  /** Default process.cwd(). */
  readonly cwd?: string;
}

// ---------------------------------------------------------------------------------------------
// loading
// ---------------------------------------------------------------------------------------------

function fileError(file: string, zh: string, en: string, cause?: unknown, extra: Record<string, unknown> = {}): SsCardError {
  return new SsCardError(ErrorCode.Config_Invalid, { zh: `配置文件 ${file}：${zh}`, en: `configuration file ${file}: ${en}` }, { file, path: [], ...extra }, cause === undefined ? undefined : { cause });
}

/** Read and validate the configuration: `options.path`, else env SSCARD_CONFIG, else defaults. */
export function loadConfig(options: LoadConfigOptions = {}): DaemonConfig {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const given = options.path ?? (env[CONFIG_ENV] !== undefined && env[CONFIG_ENV] !== '' ? env[CONFIG_ENV] : undefined);
  if (given === undefined) return parseConfig({}, '(defaults)', { baseDir: cwd });
  const file = path.resolve(cwd, given);
  const ext = path.extname(file).toLowerCase();
  if (ext !== '.json' && ext !== '.toml') {
    throw fileError(file, '文件名须以 .toml 或 .json 结尾（决定按哪种格式读取）', 'the file name must end in .toml or .json (that decides how it is read)');
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw fileError(file, `无法读取（${code}）：请检查路径与权限`, `cannot be read (${code}): check the path and the permissions`, err, { errno: code });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let raw: unknown;
  if (ext === '.json') {
    try {
      raw = JSON.parse(text);
    } catch {
      // V8's message quotes the source; say where instead (json-syntax.ts).
      const at = findJsonSyntaxError(text);
      const where = at === null ? { zh: '', en: '' } : { zh: `第 ${at.line} 行第 ${at.column} 列：${at.reason.zh}`, en: `line ${at.line}, column ${at.column}: ${at.reason.en}` };
      throw fileError(file, `JSON 语法错误，${where.zh || '无法解析'}`, `JSON syntax error, ${where.en || 'cannot be parsed'}`, undefined, at === null ? {} : { line: at.line, column: at.column });
    }
  } else {
    try {
      raw = parseToml(text);
    } catch (err) {
      if (err instanceof TomlError) {
        // Only the first line: the rest is a code frame that could show a secret.
        const reason = (err.message.split('\n')[0] ?? '').replace(/^Invalid TOML document:\s*/, '');
        throw fileError(file, `TOML 语法错误，第 ${err.line} 行第 ${err.column} 列：${reason}`, `TOML syntax error at line ${err.line}, column ${err.column}: ${reason}`, undefined, { line: err.line, column: err.column });
      }
      throw fileError(file, '无法解析', 'cannot be parsed', err);
    }
  }
  return parseConfig(raw, file, { baseDir: path.dirname(file) });
}

// ---------------------------------------------------------------------------------------------
// problems
// ---------------------------------------------------------------------------------------------

type Segment = string | number;

interface Problem {
  readonly path: readonly Segment[];
  /** What is allowed or what is wrong, phrased to follow "key = value: ". */
  readonly text: BilingualText;
}

/** Key names whose values are never shown (defence in depth beside FieldDoc.secret). */
export const SECRET_KEY = /pass|secret|hash|token|key|cred|deny|pin(?!pad|entry)/i;
const SCRYPT_LIKE = /^scrypt\$/i;
const MAX_SHOWN = 60;

export function keyPath(segments: readonly Segment[]): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out === '' ? s : `.${s}`;
  return out || '(root)';
}

function valueAt(raw: unknown, segments: readonly Segment[]): { found: boolean; value: unknown } {
  let cur: unknown = raw;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, s)) return { found: false, value: undefined };
    cur = (cur as Record<string | number, unknown>)[s];
  }
  return { found: true, value: cur };
}

type AnySchema = z.core.$ZodType;

function defOf(s: AnySchema): { type: string; innerType?: AnySchema; shape?: Record<string, AnySchema>; element?: AnySchema } {
  return s._zod.def;
}

/** The schema node at `segments` (wrappers kept, so fieldDocs finds it), or undefined. */
function schemaAt(segments: readonly Segment[]): AnySchema | undefined {
  let node: AnySchema | undefined = configSchema;
  for (const s of segments) {
    node = node === undefined ? undefined : unwrap(node);
    if (node === undefined) return undefined;
    const d = defOf(node);
    if (d.type === 'object' && typeof s === 'string') node = d.shape?.[s];
    else if (d.type === 'array' && typeof s === 'number') node = d.element;
    else return undefined;
  }
  return node;
}

function unwrap(s: AnySchema): AnySchema {
  let cur = s;
  for (let d = defOf(cur); d.innerType !== undefined && ['optional', 'default', 'prefault', 'nullable'].includes(d.type); d = defOf(cur)) cur = d.innerType;
  return cur;
}

function docAt(segments: readonly Segment[]): FieldDoc | undefined {
  const node = schemaAt(segments);
  if (node === undefined) return undefined;
  for (let cur: AnySchema = node; ; ) {
    const d = fieldDocs.get(cur as z.ZodType);
    if (d !== undefined) return d;
    const def = defOf(cur);
    if (def.innerType === undefined) return undefined;
    cur = def.innerType;
  }
}

function keysAt(segments: readonly Segment[]): string[] {
  const node = schemaAt(segments);
  if (node === undefined) return [];
  const d = defOf(unwrap(node));
  return d.type === 'object' && d.shape ? Object.keys(d.shape) : [];
}

function isSecretPath(segments: readonly Segment[]): boolean {
  for (let i = 1; i <= segments.length; i++) {
    const s = segments[i - 1];
    if (typeof s === 'string' && SECRET_KEY.test(s)) return true;
    if (docAt(segments.slice(0, i))?.secret === true) return true;
  }
  return false;
}

const HIDDEN: BilingualText = { zh: '（已隐藏）', en: '(hidden)' };

/** The value as an error message may show it: JSON cut at 60 characters, secrets hidden. */
export function shownValue(raw: unknown, segments: readonly Segment[]): BilingualText {
  const { found, value } = valueAt(raw, segments);
  if (!found) return { zh: '（未设置）', en: '(missing)' };
  if (isSecretPath(segments)) return HIDDEN;
  if (typeof value === 'string' && SCRYPT_LIKE.test(value)) return HIDDEN;
  let json: string;
  try {
    json =
      JSON.stringify(value, (k, v: unknown) => {
        if (k !== '' && SECRET_KEY.test(k)) return '(hidden)';
        if (typeof v === 'string' && SCRYPT_LIKE.test(v)) return '(hidden)';
        if (typeof v === 'bigint') return v.toString();
        return v;
      }) ?? String(value);
  } catch {
    json = Object.prototype.toString.call(value);
  }
  if (json.length > MAX_SHOWN) json = `${json.slice(0, MAX_SHOWN - 1)}…`;
  return { zh: json, en: json };
}

function allowedText(segments: readonly Segment[]): BilingualText {
  const d = docAt(segments);
  if (d !== undefined) return { zh: `应为${d.allowed.zh}`, en: `must be ${d.allowed.en}` };
  const keys = keysAt(segments);
  if (keys.length > 0) return { zh: `应为一个表（对象），可用的键：${keys.join('、')}`, en: `must be a table (object) with the keys ${keys.join(', ')}` };
  return { zh: '该处的值无效', en: 'is not valid here' };
}

function zodProblems(issues: readonly z.core.$ZodIssue[]): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) {
    const at = issue.path.filter((s): s is Segment => typeof s === 'string' || typeof s === 'number');
    if (issue.code === 'unrecognized_keys') {
      const allowed = keysAt(at);
      for (const k of issue.keys) {
        out.push({
          path: [...at, k],
          text: {
            zh: `未知的键${allowed.length ? `；${keyPath(at) === '(root)' ? '顶层' : keyPath(at)} 中可用的键：${allowed.join('、')}` : ''}`,
            en: `unknown key${allowed.length ? `; the keys allowed in ${keyPath(at) === '(root)' ? 'the top level' : keyPath(at)} are ${allowed.join(', ')}` : ''}`,
          },
        });
      }
      continue;
    }
    out.push({ path: at, text: allowedText(at) });
  }
  return out;
}

/** Turn an SsCardError of a house validator (which names `${prefix}[0]`) into a problem at `at`. */
function validatorProblem(err: unknown, innerPath: string, at: readonly Segment[]): Problem {
  if (!isSsCardError(err)) throw err;
  const strip = (s: string): string => {
    let t = s.startsWith(innerPath) ? s.slice(innerPath.length) : s;
    t = t.replace(/^[\s：:]+/, '');
    return t;
  };
  return { path: at, text: { zh: strip(err.text.zh), en: strip(err.text.en) } };
}

// ---------------------------------------------------------------------------------------------
// rules joining keys (run on the raw input so they are reported with the schema's problems)
// ---------------------------------------------------------------------------------------------

/** 127.0.0.0/8, ::1, ::ffff:127.x.x.x, localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) {
    if (h === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(h) || h === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    return mapped !== null && mapped[1]!.startsWith('127.');
  }
  return false;
}

const REGEX_SPEC = /^\/(.+)\/([a-z]*)$/s;

/**
 * A reader-name matcher from a config value: `/regex/flags` is a regular expression, anything
 * else a case-insensitive substring.
 */
export function readerMatcher(spec: string): (name: string) => boolean {
  const m = REGEX_SPEC.exec(spec);
  if (m !== null) {
    const re = new RegExp(m[1]!, m[2]);
    return (name) => re.test(name);
  }
  const needle = spec.toLowerCase();
  return (name) => name.toLowerCase().includes(needle);
}

function regexProblem(spec: unknown): BilingualText | null {
  if (typeof spec !== 'string') return null;
  const m = REGEX_SPEC.exec(spec);
  if (m === null) return null;
  if (!/^[imsu]*$/.test(m[2]!)) return { zh: `正则表达式标志只能是 i、m、s、u（实际为 ${m[2]}）`, en: `regular expression flags may only be i, m, s, u (found ${m[2]})` };
  try {
    new RegExp(m[1]!, m[2]);
    return null;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return { zh: `不是有效的正则表达式：${why}`, en: `is not a valid regular expression: ${why}` };
  }
}

const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

function crossProblems(raw: unknown, badPaths: ReadonlySet<string>): Problem[] {
  const out: Problem[] = [];
  const root = obj(raw);
  const ok = (...segments: Segment[]): boolean => !badPaths.has(keyPath(segments));

  // services: each entry through state/roles.ts (known kind, and one the role may offer).
  const role = root.role === undefined ? 'kiosk' : root.role;
  if (Array.isArray(root.services) && (ROLES as readonly unknown[]).includes(role)) {
    root.services.forEach((entry, i) => {
      try {
        parseOfferedServices(role as Role, [entry], `services[${i}]`);
      } catch (err) {
        out.push(validatorProblem(err, `services[${i}][0]`, ['services', i]));
      }
    });
  }

  // session.denyList: each entry through state/pin-policy.ts.
  const session = obj(root.session);
  if (Array.isArray(session.denyList)) {
    session.denyList.forEach((entry, i) => {
      try {
        parseDenyList([entry], `session.denyList[${i}]`);
      } catch (err) {
        out.push(validatorProblem(err, `session.denyList[${i}][0]`, ['session', 'denyList', i]));
      }
    });
  }

  // reader patterns
  const readers = obj(root.readers);
  const pinPad = obj(root.pinPad);
  for (const [section, key, v] of [
    ['readers', 'card', readers.card],
    ['readers', 'psam', readers.psam],
    ['pinPad', 'reader', pinPad.reader],
  ] as const) {
    const p = regexProblem(v);
    if (p !== null) out.push({ path: [section, key], text: p });
  }

  // api: a host others can reach needs allowRemote = true.
  const api = obj(root.api);
  if (str(api.host) && ok('api', 'host') && !isLoopbackHost(api.host) && api.allowRemote !== true && api.socket === undefined) {
    out.push({
      path: ['api', 'host'],
      text: {
        zh: '不是本机回环地址（127.0.0.0/8、::1、localhost）：本地接口会暴露给其他主机；如确需远程访问，请同时设置 api.allowRemote = true 与 api.tls，并用防火墙限制来源',
        en: 'is not a loopback address (127.0.0.0/8, ::1, localhost): the local API would be open to other hosts; if that is really wanted, also set api.allowRemote = true and api.tls, and restrict it with a firewall',
      },
    });
  }

  // api.tls: cert and key together; a CA of client certificates needs the server's own.
  const apiTls = obj(api.tls);
  if ((apiTls.cert === undefined) !== (apiTls.key === undefined)) {
    const missing = apiTls.cert === undefined ? 'cert' : 'key';
    out.push({
      path: ['api', 'tls', missing],
      text: { zh: `须与 api.tls.${missing === 'cert' ? 'key' : 'cert'} 一起设置（服务器证书与私钥）`, en: `must be set together with api.tls.${missing === 'cert' ? 'key' : 'cert'} (the server certificate and its key)` },
    });
  } else if (apiTls.ca !== undefined && apiTls.cert === undefined) {
    out.push({ path: ['api', 'tls', 'cert'], text: { zh: '设置了 api.tls.ca（客户端证书的 CA）却没有服务器证书：请同时设置 api.tls.cert 与 api.tls.key', en: 'api.tls.ca (the CA of client certificates) is set but there is no server certificate: set api.tls.cert and api.tls.key too' } });
  }
  // Remote access: only over TLS, and other hosts need a name to reach us by.
  if (api.allowRemote === true && api.socket === undefined) {
    if (apiTls.cert === undefined || apiTls.key === undefined) {
      out.push({
        path: ['api', 'allowRemote'],
        text: {
          zh: '远程访问须使用 TLS：请设置 api.tls.cert 与 api.tls.key（服务器证书与私钥），其他主机上的客户端还须有客户端令牌（sscard client add）或由 api.tls.ca 签发的客户端证书',
          en: 'remote access needs TLS: set api.tls.cert and api.tls.key (the server certificate and its key); clients on other hosts also need a client token (sscard client add) or a client certificate signed by api.tls.ca',
        },
      });
    }
    const names = Array.isArray(api.hostNames) ? api.hostNames : [];
    if (str(api.host) && ['0.0.0.0', '::', '[::]'].includes(api.host) && names.length === 0) {
      out.push({
        path: ['api', 'hostNames'],
        text: { zh: `api.host 为 ${api.host}（所有地址）时须列出其他主机访问本机所用的名称或地址（请求的 Host 须为其中之一）`, en: `must list the names or addresses other hosts reach this terminal by when api.host is ${api.host} (every address): a request's Host must be one of them` },
      });
    }
  }

  // sync: https, or http on loopback only; TLS files only with https; cert and key together.
  const sync = obj(root.sync);
  const tls = obj(sync.tls);
  let endpointUrl: URL | null = null;
  if (str(sync.endpoint) && ok('sync', 'endpoint')) {
    try {
      endpointUrl = new URL(sync.endpoint);
    } catch {
      out.push({ path: ['sync', 'endpoint'], text: { zh: '不是有效的网址：应为 https://主机/路径', en: 'is not a valid URL: it must look like https://host/path' } });
    }
    if (endpointUrl !== null) {
      if (endpointUrl.protocol === 'http:' && !isLoopbackHost(endpointUrl.hostname)) {
        out.push({ path: ['sync', 'endpoint'], text: { zh: '明文 http:// 只允许用于本机回环地址：请改用 https://', en: 'plain http:// is only allowed to a loopback host: use https://' } });
      } else if (endpointUrl.protocol !== 'http:' && endpointUrl.protocol !== 'https:') {
        out.push({ path: ['sync', 'endpoint'], text: { zh: '应以 https:// 开头', en: 'must start with https://' } });
      } else if (endpointUrl.username !== '' || endpointUrl.password !== '') {
        out.push({ path: ['sync', 'endpoint'], text: { zh: '网址中不能包含用户名或密码：请用 sync.tls 的客户端证书', en: 'must not hold a user name or password: use a client certificate in sync.tls' } });
      }
    }
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    const missing = tls.cert === undefined ? 'cert' : 'key';
    out.push({
      path: ['sync', 'tls', missing],
      text: { zh: `须与 sync.tls.${missing === 'cert' ? 'key' : 'cert'} 一起设置（双向 TLS 的证书与私钥）`, en: `must be set together with sync.tls.${missing === 'cert' ? 'key' : 'cert'} (the mTLS certificate and its key)` },
    });
  }
  if (Object.keys(tls).length > 0 && endpointUrl !== null && endpointUrl.protocol !== 'https:') {
    out.push({ path: ['sync', 'tls'], text: { zh: '配置了 TLS 文件，但 sync.endpoint 不是 https://', en: 'TLS files are set but sync.endpoint is not https://' } });
  }
  if (Object.keys(tls).length > 0 && sync.endpoint === undefined) {
    out.push({ path: ['sync', 'endpoint'], text: { zh: '设置了 sync.tls 却没有平台地址：请设置 sync.endpoint，或删除 sync.tls', en: 'sync.tls is set but there is no endpoint: set sync.endpoint or remove sync.tls' } });
  }

  // PIN pad and ID reader: what each kind needs.
  const simulate = root.simulate ?? 'auto';
  if (pinPad.kind === 'serial' && pinPad.path === undefined) {
    out.push({ path: ['pinPad', 'path'], text: { zh: 'pinPad.kind 为 "serial" 时必须设置串口设备路径，如 /dev/ttyUSB0', en: 'is required when pinPad.kind is "serial": the serial device, e.g. /dev/ttyUSB0' } });
  }
  if (pinPad.kind === 'hid' && pinPad.profile === undefined && (pinPad.vendorId === undefined || pinPad.productId === undefined)) {
    out.push({
      path: ['pinPad', pinPad.vendorId === undefined ? 'vendorId' : 'productId'],
      text: { zh: 'pinPad.kind 为 "hid" 时必须设置 vendorId 与 productId（lsusb 显示的值），或设置 pinPad.profile', en: 'is required when pinPad.kind is "hid": set vendorId and productId (as lsusb shows them) or pinPad.profile' },
    });
  }
  if (pinPad.kind === 'touchscreen' && pinPad.allowTouchscreen !== true && simulate === 'off') {
    out.push({
      path: ['pinPad', 'allowTouchscreen'],
      text: {
        zh: '触摸屏键盘会让密码在屏幕上输入（仅供开发）；在真实终端上使用须设置 pinPad.allowTouchscreen = true，否则请配置加密密码键盘',
        en: 'a touchscreen keypad takes PINs on screen (meant for development); on a real terminal set pinPad.allowTouchscreen = true to allow it, or configure an encrypting PIN pad',
      },
    });
  }
  const idReader = obj(root.idReader);
  if (idReader.kind === 'serial' && idReader.path === undefined) {
    out.push({ path: ['idReader', 'path'], text: { zh: 'idReader.kind 为 "serial" 时必须设置串口设备路径', en: 'is required when idReader.kind is "serial": the serial device, e.g. /dev/ttyUSB1' } });
  }

  // operators: unique ids.
  const accounts = obj(root.operators).accounts;
  if (Array.isArray(accounts)) {
    const seen = new Map<string, number>();
    accounts.forEach((a, i) => {
      const id = obj(a).id;
      if (typeof id !== 'string') return;
      const first = seen.get(id);
      if (first !== undefined) {
        out.push({ path: ['operators', 'accounts', i, 'id'], text: { zh: `与 operators.accounts[${first}].id 重复：操作员编号必须唯一`, en: `repeats operators.accounts[${first}].id: operator ids must be unique` } });
      } else {
        seen.set(id, i);
      }
    });
  }
  return out;
}

function invalid(raw: unknown, source: string, problems: readonly Problem[]): SsCardError {
  const lines = problems.map((p) => {
    const key = keyPath(p.path);
    const v = shownValue(raw, p.path);
    return { zh: `  ${key} = ${v.zh}：${p.text.zh}`, en: `  ${key} = ${v.en}: ${p.text.en}` };
  });
  const n = problems.length;
  return new SsCardError(
    ErrorCode.Config_Invalid,
    {
      zh: `配置 ${source} 有 ${n} 处错误：\n${lines.map((l) => l.zh).join('\n')}\n请修改配置后重新启动（说明见 docs/config.md）`,
      en: `configuration ${source} has ${n} problem${n === 1 ? '' : 's'}:\n${lines.map((l) => l.en).join('\n')}\nFix the configuration and start again (see docs/config.md)`,
    },
    { file: source, path: problems.map((p) => keyPath(p.path)) },
  );
}

// ---------------------------------------------------------------------------------------------
// parsing and resolving
// ---------------------------------------------------------------------------------------------

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
  const root = projectRoot();
  const card = c.simulator.card !== undefined ? abs(c.simulator.card) : path.join(root, 'fixtures', 'cards', 'card-2.0.json');
  const services = c.services === undefined ? [...defaultServices(c.role)] : parseOfferedServices(c.role, c.services, 'services');
  const cfg: DaemonConfig = {
    configFile,
    baseDir,
    terminalId: c.terminalId,
    deviceId: c.deviceId ?? c.terminalId,
    role: c.role,
    services,
    simulate: c.simulate,
    session: { ...c.session, denyList: parseDenyList(c.session.denyList, 'session.denyList') },
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
      intervalMs: c.sync.intervalMs,
      tls: {
        ...some('ca', c.sync.tls.ca === undefined ? undefined : abs(c.sync.tls.ca)),
        ...some('cert', c.sync.tls.cert === undefined ? undefined : abs(c.sync.tls.cert)),
        ...some('key', c.sync.tls.key === undefined ? undefined : abs(c.sync.tls.key)),
      },
    },
    api: {
      host: c.api.host,
      port: c.api.port,
      ...some('socket', c.api.socket === undefined ? undefined : abs(c.api.socket)),
      allowRemote: c.api.allowRemote,
      maxFrameBytes: c.api.maxFrameBytes,
      maxClients: c.api.maxClients,
      maxConnectionsPerClient: c.api.maxConnectionsPerClient,
      hostNames: [...c.api.hostNames],
      allowedOrigins: [...c.api.allowedOrigins],
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
    simulator: {
      card,
      psam: c.simulator.psam !== undefined ? abs(c.simulator.psam) : path.join(root, 'fixtures', 'psam', 'psam-test.json'),
      stateDir: abs(c.simulator.stateDir),
      idCard: c.simulator.idCard !== undefined ? abs(c.simulator.idCard) : matchingIdCard(card),
    },
  };
  return simulating === undefined ? cfg : resolveSimulation(cfg, simulating);
}

/**
 * The configuration once the daemon knows whether the simulator runs (simulate "auto" decides at
 * start): the PSAM reader, PIN pad and ID reader defaults filled, `simulate` set to "on"/"off".
 * Throws Config_Invalid for a touchscreen pad on a real terminal without pinPad.allowTouchscreen.
 */
export function resolveSimulation(cfg: DaemonConfig, simulating: boolean): DaemonConfig {
  const pinPadKind = cfg.pinPad.kind ?? (simulating ? 'touchscreen' : 'none');
  if (!simulating && pinPadKind === 'touchscreen' && !cfg.pinPad.allowTouchscreen) {
    const raw = { pinPad: { kind: 'touchscreen', allowTouchscreen: false } };
    throw invalid(raw, cfg.configFile ?? '(defaults)', [
      {
        path: ['pinPad', 'allowTouchscreen'],
        text: {
          zh: '没有使用模拟器，而密码键盘为触摸屏（仅供开发）：请配置加密密码键盘，或设置 pinPad.allowTouchscreen = true',
          en: 'the simulator is not used and the PIN pad is the touchscreen (meant for development): configure an encrypting PIN pad or set pinPad.allowTouchscreen = true',
        },
      },
    ]);
  }
  return {
    ...cfg,
    simulate: simulating ? 'on' : 'off',
    readers: { ...cfg.readers, psam: cfg.readers.psam !== undefined ? cfg.readers.psam : simulating ? SIM_PSAM_READER : null },
    pinPad: { ...cfg.pinPad, kind: pinPadKind },
    idReader: { ...cfg.idReader, kind: cfg.idReader.kind ?? (simulating ? 'simulated' : 'none') },
  };
}

const idCardCache = new Map<string, string | null>();

/** The fixtures/idcards/*.json whose `matchesCard` names the card profile's file (without .json). */
function matchingIdCard(cardFile: string): string | null {
  const cached = idCardCache.get(cardFile);
  if (cached !== undefined) return cached;
  const want = path.basename(cardFile).replace(/\.json$/i, '');
  const dir = path.join(projectRoot(), 'fixtures', 'idcards');
  let found: string | null = null;
  try {
    for (const f of readdirSync(dir).sort()) {
      if (!f.endsWith('.json')) continue;
      try {
        const j = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { matchesCard?: unknown };
        if (j.matchesCard === want) {
          found = path.join(dir, f);
          break;
        }
      } catch {
        // a broken fixture matches nothing
      }
    }
  } catch {
    // no fixtures folder (a trimmed install): no simulated ID card
  }
  idCardCache.set(cardFile, found);
  return found;
}

// ---------------------------------------------------------------------------------------------
// documentation
// ---------------------------------------------------------------------------------------------

export interface ConfigKeyDoc {
  /** e.g. "api.port", "operators.accounts[].hash". */
  readonly key: string;
  readonly default: string;
  /** What is allowed (English). */
  readonly allowed: string;
  readonly description: string;
}

/** Every key of the configuration with its default, allowed values and meaning, in schema order. */
export function configSchemaDoc(): ConfigKeyDoc[] {
  const out: ConfigKeyDoc[] = [];
  const walk = (node: AnySchema, prefix: string): void => {
    const d = docFor(node);
    const inner = unwrap(node);
    const def = defOf(inner);
    if (d !== undefined) out.push({ key: prefix, default: d.default, allowed: d.allowed.en, description: d.doc });
    if (def.type === 'object' && def.shape) {
      for (const [k, child] of Object.entries(def.shape)) walk(child, prefix === '' ? k : `${prefix}.${k}`);
    } else if (def.type === 'array' && def.element) {
      const el = defOf(unwrap(def.element));
      if (el.type === 'object') walk(def.element, `${prefix}[]`);
    }
  };
  walk(configSchema, '');
  return out;
}

function docFor(node: AnySchema): FieldDoc | undefined {
  for (let cur: AnySchema | undefined = node; cur !== undefined; cur = defOf(cur).innerType) {
    const d = fieldDocs.get(cur as z.ZodType);
    if (d !== undefined) return d;
  }
  return undefined;
}

/** The key reference of docs/config.md (between its GENERATED markers), as Markdown tables per section. */
export function renderConfigDoc(): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n/g, ' ');
  const rows = configSchemaDoc();
  const sections = new Map<string, ConfigKeyDoc[]>();
  for (const r of rows) {
    const top = r.key.includes('.') ? r.key.slice(0, r.key.indexOf('.')) : '(top level)';
    sections.set(top, [...(sections.get(top) ?? []), r]);
  }
  const parts: string[] = [];
  for (const [name, list] of sections) {
    parts.push(`### ${name === '(top level)' ? 'Top level' : `\`[${name}]\``}\n`);
    parts.push('| key | default | allowed | meaning |');
    parts.push('|---|---|---|---|');
    for (const r of list) parts.push(`| \`${r.key}\` | ${cell(r.default)} | ${cell(r.allowed)} | ${cell(r.description)} |`);
    parts.push('');
  }
  return parts.join('\n');
}
