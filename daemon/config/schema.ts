/**
 * The daemon configuration's schema (zod v4), one place for the shape, the ranges, the defaults
 * and the documentation of every key: each leaf is registered in {@link fieldDocs} with what is
 * allowed (zh-CN + en, used in error messages), its default and a one-line English description
 * (used for docs/config.md, see configSchemaDoc() in docs.ts).
 *
 * The schema checks each key on its own. Rules that join keys (a non-loopback host needs
 * allowRemote, the role decides the services, a serial pad needs a path…) are in cross-checks.ts,
 * which runs them on the raw input as well so every problem is reported in one go.
 *
 * Paths stay strings here; config.ts resolves them. Nothing checks that files or devices exist
 * (the daemon does when it opens them), so a config can be checked on another machine.
 */
import { z } from 'zod';
import type { BilingualText } from '../../core/text.js';
import { DEFAULT_EXPIRED_CARD_RULE, EXPIRED_CARD_RULES } from '../../state/card-state.js';
import { isProvinceCode } from '../../state/hall.js';
import { SERVICE_KINDS } from '../../state/roles.js';
import { parseAtrPattern } from '../../drivers/card/card-profiles.js';
import { HASH_FORMAT_TEXT, isValidHashFormat } from '../auth/passphrase.js';

export interface FieldDoc {
  /** What is allowed, as the error message says it. */
  readonly allowed: BilingualText;
  /** The default as it appears in docs/config.md ("none" when there is none). */
  readonly default: string;
  /** One line of English for docs/config.md. */
  readonly doc: string;
  /** The value is never shown in an error message. */
  readonly secret?: boolean;
}

/** Every documented key's schema → its doc. */
export const fieldDocs = z.registry<FieldDoc>();

export const LOG_COMPONENTS = ['PCSC', 'APDU', 'PINPAD', 'IDCARD', 'FLOW', 'JOURNAL', 'SYNC', 'API', 'DAEMON'] as const;
export type LogComponent = (typeof LOG_COMPONENTS)[number];
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const ROLE_VALUES = ['kiosk', 'counter', 'financial-counter'] as const;
export const SIMULATE_VALUES = ['auto', 'on', 'off'] as const;
export const PIN_PAD_KINDS = ['none', 'pcsc', 'serial', 'hid', 'touchscreen'] as const;
export type PinPadKind = (typeof PIN_PAD_KINDS)[number];
export const ID_READER_KINDS = ['none', 'serial', 'simulated'] as const;
export type IdReaderKind = (typeof ID_READER_KINDS)[number];

export const ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const ID_TEXT: BilingualText = { zh: '1 到 32 个字母、数字、_ 或 -', en: '1 to 32 letters, digits, _ or -' };

function doc<T extends z.ZodType>(schema: T, d: FieldDoc): T {
  fieldDocs.add(schema, d);
  return schema;
}

const quoted = (values: readonly string[]): string => values.map((v) => `"${v}"`).join(' | ');

function int(min: number, max: number, def: number, text: string, note?: BilingualText): z.ZodDefault<z.ZodNumber>;
function int(min: number, max: number, def: undefined, text: string, note?: BilingualText): z.ZodOptional<z.ZodNumber>;
function int(min: number, max: number, def: number | undefined, text: string, note?: BilingualText): z.ZodDefault<z.ZodNumber> | z.ZodOptional<z.ZodNumber> {
  const allowed: BilingualText = {
    zh: `${min} 到 ${max} 之间的整数${note ? `（${note.zh}）` : ''}`,
    en: `an integer from ${min} to ${max}${note ? ` (${note.en})` : ''}`,
  };
  const base = z.number().int().min(min).max(max);
  return def === undefined ? doc(base.optional(), { allowed, default: 'none', doc: text }) : doc(base.default(def), { allowed, default: String(def), doc: text });
}

function oneOf<const V extends readonly [string, ...string[]]>(values: V, def: V[number], text: string, defaultText?: string): z.ZodDefault<z.ZodEnum<z.core.util.ToEnum<V[number]>>>;
function oneOf<const V extends readonly [string, ...string[]]>(values: V, def: undefined, text: string, defaultText?: string): z.ZodOptional<z.ZodEnum<z.core.util.ToEnum<V[number]>>>;
function oneOf<const V extends readonly [string, ...string[]]>(values: V, def: V[number] | undefined, text: string, defaultText?: string) {
  const allowed: BilingualText = { zh: `以下之一：${quoted(values)}`, en: `one of ${quoted(values)}` };
  const base = z.enum(values);
  return def === undefined
    ? doc(base.optional(), { allowed, default: defaultText ?? 'none', doc: text })
    : doc(base.default(def as never), { allowed, default: defaultText ?? `"${def}"`, doc: text });
}

function bool(def: boolean, text: string) {
  return doc(z.boolean().default(def), { allowed: { zh: 'true 或 false', en: 'true or false' }, default: String(def), doc: text });
}

const PATH_TEXT: BilingualText = { zh: '非空的文件路径字符串（相对路径以配置文件所在目录为准）', en: 'a non-empty file path string (relative paths are resolved against the config file\'s folder)' };
const DEVICE_TEXT: BilingualText = { zh: '非空的设备路径字符串，如 /dev/ttyUSB0', en: 'a non-empty device path string, e.g. /dev/ttyUSB0' };

function pathDoc(def: string | undefined, text: string, nullable: boolean, defaultText?: string): FieldDoc {
  return {
    allowed: nullable ? { zh: `${PATH_TEXT.zh}，或 null（关闭）`, en: `${PATH_TEXT.en}, or null (off)` } : PATH_TEXT,
    default: defaultText ?? (def === undefined ? 'none' : `"${def}"`),
    doc: text,
  };
}

const pathString = () => z.string().min(1).max(4096);

/** A file path with a default. */
function filePath(def: string, text: string): z.ZodDefault<z.ZodString> {
  return doc(pathString().default(def), pathDoc(def, text, false));
}

/** An optional file path (absent = none, or a default computed in config.ts). */
function optionalPath(text: string, defaultText?: string): z.ZodOptional<z.ZodString> {
  return doc(pathString().optional(), pathDoc(undefined, text, false, defaultText));
}

/** A file path with a default that null turns off. */
function nullablePath(def: string, text: string): z.ZodDefault<z.ZodNullable<z.ZodString>> {
  return doc(pathString().nullable().default(def), pathDoc(def, text, true));
}

/** A required non-empty string. */
function text(max: number, text: string): z.ZodString {
  return doc(z.string().min(1).max(max), { allowed: { zh: `非空字符串（最长 ${max} 个字符）`, en: `a non-empty string (at most ${max} characters)` }, default: '(required)', doc: text });
}

function id(text: string, def: string, defaultText?: string): z.ZodDefault<z.ZodString>;
function id(text: string, def: undefined, defaultText?: string): z.ZodOptional<z.ZodString>;
function id(text: string, def: string | undefined, defaultText?: string): z.ZodDefault<z.ZodString> | z.ZodOptional<z.ZodString> {
  const base = z.string().regex(ID_PATTERN);
  const d = { allowed: ID_TEXT, default: defaultText ?? (def === undefined ? 'none' : `"${def}"`), doc: text };
  return def === undefined ? doc(base.optional(), d) : doc(base.default(def), d);
}

/** A required id (operators). */
function requiredId(text: string): z.ZodString {
  return doc(z.string().regex(ID_PATTERN), { allowed: ID_TEXT, default: '(required)', doc: text });
}

/** A host name or an IP address without port or scheme (api.hostNames). */
export const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$|^[0-9A-Fa-f:.]{2,45}$/;
const HOST_NAME_TEXT: BilingualText = { zh: '主机名或 IP 地址（不含端口和协议），如 kiosk-17.branch.example', en: 'a host name or IP address (no port, no scheme), e.g. kiosk-17.branch.example' };

/** A browser origin as browsers send it: http(s)://host[:port], nothing after it (RFC 6454 §6.2). */
export function isOrigin(v: string): boolean {
  if (!/^https?:\/\/[^/?#@\s]+$/i.test(v)) return false;
  try {
    return new URL(v).origin === v;
  } catch {
    return false;
  }
}
const ORIGIN_TEXT: BilingualText = {
  zh: '网页来源 http(s)://主机[:端口]，小写、不含路径，默认端口省略（与浏览器发送的 Origin 完全一致），如 "http://127.0.0.1:8080"；不能是 null',
  en: 'a page origin http(s)://host[:port], lower case, no path, default port left out (exactly as browsers send Origin), e.g. "http://127.0.0.1:8080"; never null',
};

/** A section: strict (unknown keys are errors), absent = every default (`prefault` parses `{}` through). */
function section<S extends z.ZodRawShape>(shape: S) {
  return z.strictObject(shape).prefault({} as never);
}

const levelOpt = () => oneOf(LOG_LEVELS, undefined, 'level of this component (overrides log.level)', 'log.level');

/**
 * `sync.hotlistIntervalMs`'s default, 20 s: with 2,000 terminals on two platform nodes the last one
 * holds a new list one interval plus 5–8 s after publication (docs/benchmarks.md "2,000
 * terminals"); the province's bound is 30 s. The fleet tool's terminals use it too.
 */
export const DEFAULT_HOTLIST_INTERVAL_MS = 20_000;

export const configSchema = z.strictObject({
  terminalId: id('终端机编号, the terminal number sent to the platform and written in the journal', 'SIM-0001'),
  deviceId: id('终端设备号, the device number reported by iReadCardBas', undefined, 'terminalId'),
  role: oneOf(ROLE_VALUES, 'kiosk', 'where the terminal stands; decides which services it may offer (state/roles.ts)'),
  services: doc(z.array(z.unknown()).optional(), {
    allowed: {
      zh: `服务名称的数组（${SERVICE_KINDS.join('、')}），且为该角色允许的服务（自助终端不能办理 unblock、activate）`,
      en: `an array of service kinds (${SERVICE_KINDS.join(', ')}) that the role may offer (a kiosk never offers unblock or activate)`,
    },
    default: 'what the role allows: kiosk ["verify","change"], counters all five',
    doc: 'services this terminal offers',
  }),
  simulate: oneOf(SIMULATE_VALUES, 'auto', 'use the simulated card, PSAM, PIN pad and ID reader; "auto": when pcscd lists no physical reader'),
  catalog: optionalPath(
    'this hall\'s service catalog (fixtures/catalog/README.md): its 实施主体 and item codes, window address, office hours, phones, 申请条件 and 通办范围; checked at start',
    'the demo catalog "<repo>/fixtures/catalog/service-items.json" (two offices of the seeds; the log and /status say it is the demo)',
  ),
  province: doc(z.string().refine(isProvinceCode).optional(), {
    allowed: { zh: '2 位省级行政区划代码（GB/T 2260）的字符串，如 "41"（河南）', en: 'a 2-digit GB/T 2260 province code as a string, e.g. "41" (Henan)' },
    default: 'the province of the catalog\'s 实施主体编码 (its region code, characters 3–4)',
    doc: 'cards issued in another province (the region code opening the card identification code) are refused: 申请条件 二 已办理过我省社会保障卡',
  }),
  session: section({
    inactivityMs: int(1000, 3_600_000, 60_000, 'a card session with no activity for this long is ended'),
    pinEntryMs: int(5000, 300_000, 30_000, 'time the holder has to enter a PIN'),
    triesFloor: int(0, 5, 1, 'at a kiosk, PIN check and change are refused when the card has this many PIN tries left or fewer (the holder is sent to a window)'),
    expiredCard: oneOf(
      EXPIRED_CARD_RULES,
      DEFAULT_EXPIRED_CARD_RULE,
      'a card past its 卡有效期 (EF05 tag 06; valid through that date, by the terminal\'s local date): "refuse" every service with card.expired (the card must be 真实有效, seed 001 line 60) or only "report" it (identification, ReadBasic, status) and serve it',
    ),
    denyList: doc(z.array(z.unknown()).default([]), {
      allowed: { zh: '6 位数字字符串的数组', en: 'an array of 6-digit strings' },
      default: '[]',
      doc: 'PINs refused as new PINs on top of the built-in PIN policy (exactly 6 digits each)',
      secret: true,
    }),
    requirePinPolicy: bool(
      false,
      'every new PIN must be checked against the PIN policy: a PIN change the PIN pad makes inside the reader (PC/SC Part 10 secure change: the digits never reach the terminal) is refused (docs/security.md)',
    ),
  }),
  cardProfiles: doc(
    z
      .array(
        z.strictObject({
          name: requiredId('the profile\'s name (unique), reported with the card it was chosen for'),
          atr: doc(z.string().refine((v) => parseAtrPattern(v) !== undefined), {
            allowed: { zh: '十六进制字节（可用空格分隔，xx 匹配任意字节），与 ATR 开头比较，如 "3B 6C 00 00 xx xx 43 2D"', en: 'hex bytes (spaces allowed, xx matches any byte) compared with the start of the ATR, e.g. "3B 6C 00 00 xx xx 43 2D"' },
            default: '(required)',
            doc: 'the cards this profile is for: a pattern of the ATR\'s first bytes',
          }),
          addressing: oneOf(['tag', 'record'] as const, 'tag', 'READ RECORD addressing: by tag (P2=00) or by record number (P2=04)'),
          factorOffset: int(0, 8, 8, 'first byte of the 卡识别码 (16 bytes) that starts the 8-byte diversification factor (UNCONFIRMED)'),
          ef06AuthKeyId: int(0, 255, 10, 'EXTERNAL AUTHENTICATE key id that opens EF06 on 3.0 cards (0A = 10)'),
          ef06WriteKeyId: int(0, 255, 132, 'EXTERNAL AUTHENTICATE key id that lets the terminal write EF06 records (iWriteCard; 84 = 132; UNCONFIRMED per card make)'),
          selectMfFirst: bool(false, 'select the MF before the SSSE application'),
          reload: oneOf(['pboc', 'ssse3'] as const, undefined, 'RELOAD PIN form: "pboc" 80 5E 00 00 new ‖ MAC, "ssse3" 84 24 00 01 E(PIN block) ‖ MAC after EXTERNAL AUTHENTICATE 06', 'by the card\'s algorithm: "ssse3" for SM4, "pboc" for 3DES'),
          reloadAuthKeyId: int(0, 255, 6, 'EXTERNAL AUTHENTICATE key id before the "ssse3" RELOAD'),
          internalAuth: oneOf(
            ['random', 'challenge'] as const,
            'random',
            'INTERNAL AUTHENTICATE form: "random" one block of terminal random, "challenge" the integrators\' 00 88 00 00 10 + process factor ‖ data from two GET CHALLENGEs',
          ),
          notActivatedSw: doc(z.string().regex(/^[0-9A-Fa-f]{4}$/).nullable().default('6283'), {
            allowed: { zh: '4 位十六进制状态字，或 null（此卡型无此状态字）', en: 'a 4-hex-digit status word, or null (the card make has none)' },
            default: '"6283"',
            doc: 'the SELECT status word that means issued, never activated (this project\'s reading, docs/card-conventions.md)',
          }),
          reloadOnBlockedPin: bool(false, 'the card make\'s RELOAD PIN sets a blocked PIN: a reset at a window goes on where the card is locked (this project\'s default: refused, the holder needs an unblock)'),
          phone: section({
            tag: int(0, 255, 0x28, 'tag of the phone number in DF01 EF06 (28 = 40)'),
            record: int(1, 254, 1, 'its record number, for record addressing'),
            length: int(1, 64, 15, 'its length in bytes'),
            encoding: oneOf(['an', 'cn'] as const, 'an', 'its encoding: "an" ASCII, "cn" BCD F-padded'),
          }),
        }),
      )
      .max(64)
      .default([]),
    {
      allowed: { zh: '卡型配置表的数组（name、atr 及各项设置）', en: 'an array of card-make tables (name, atr and the settings)' },
      default: '[] (every card with the defaults)',
      doc: 'card-make profiles, chosen per card by its ATR (docs/card-conventions.md "Card-make profiles"): the first whose pattern matches',
    },
  ),
  readers: section({
    card: doc(z.string().min(1).max(256).optional(), {
      allowed: { zh: '读卡器名称的一部分，或 /正则表达式/（可带 i 标志）', en: 'part of the reader name, or a /regular expression/ (flag i allowed)' },
      default: 'the first reader that is not a PSAM slot',
      doc: 'the user-slot reader (the holder\'s card)',
    }),
    psam: doc(z.string().min(1).max(256).nullable().optional(), {
      allowed: { zh: '读卡器名称的一部分、/正则表达式/，或 null（无 PSAM）', en: 'part of the reader name, a /regular expression/, or null (no PSAM)' },
      default: '"Virtual PCD 00 01" when simulating, else null',
      doc: 'the PSAM reader',
    }),
    transmitTimeoutMs: int(100, 300_000, 15_000, 'timeout of one APDU exchange'),
  }),
  pinPad: section({
    kind: oneOf(PIN_PAD_KINDS, undefined, 'the PIN pad', '"touchscreen" when simulating, else "none"'),
    reader: doc(z.string().min(1).max(256).optional(), {
      allowed: { zh: '读卡器名称的一部分或 /正则表达式/', en: 'part of the reader name or a /regular expression/' },
      default: 'the card reader',
      doc: 'kind "pcsc": the PC/SC reader with the keypad (PC/SC Part 10 secure PIN entry)',
    }),
    path: doc(z.string().min(1).max(4096).optional(), { allowed: DEVICE_TEXT, default: 'none', doc: 'kind "serial": the serial device (required)' }),
    baudRate: int(1200, 921_600, 9600, 'kind "serial": line speed'),
    vendorId: int(0, 0xffff, undefined, 'kind "hid": USB vendor id (required unless the profile has it)'),
    productId: int(0, 0xffff, undefined, 'kind "hid": USB product id (required unless the profile has it)'),
    profile: optionalPath('a PIN pad profile (fixtures/pinpads/*.json) for the serial or HID pad'),
    allowTouchscreen: bool(false, 'must be true to use kind "touchscreen" (digits on screen) on a real terminal; not needed when simulating'),
  }),
  idReader: section({
    kind: oneOf(ID_READER_KINDS, undefined, 'the resident ID card reader', '"simulated" when simulating, else "none"'),
    path: doc(z.string().min(1).max(4096).optional(), { allowed: DEVICE_TEXT, default: 'none', doc: 'kind "serial": the serial device (required)' }),
    baudRate: int(1200, 921_600, 115_200, 'kind "serial": line speed'),
  }),
  journal: section({
    path: filePath('var/journal.db', 'the SQLite journal'),
    keyFile: filePath('var/journal.key', 'the journal\'s encryption key file (created on first start)'),
    purgeIntervalHours: int(1, 8760, 24, 'how often synced rows past retentionDays are purged'),
    retentionDays: int(0, 36_500, 0, 'keep synced rows this many days', { zh: '0 表示永久保留', en: '0 = keep for ever' }),
  }),
  sync: section({
    endpoint: doc(z.string().min(1).max(2048).optional(), {
      allowed: { zh: 'https:// 开头的网址（仅本机回环地址可用 http://）', en: 'an https:// URL (http:// only for a loopback host)' },
      default: 'none (sync off)',
      doc: 'base URL of the provincial platform; absent = sync disabled',
    }),
    alternateEndpoints: doc(z.array(doc(z.string().min(1).max(2048), { allowed: { zh: '网址', en: 'a URL' }, default: 'none', doc: 'another node of the platform' })).max(8).default([]), {
      allowed: { zh: '与 sync.endpoint 相同规则的网址数组（最多 8 个）', en: 'an array of URLs under the same rules as sync.endpoint (at most 8)' },
      default: '[]',
      doc: 'other nodes of the same platform: when the current one does not answer or answers 5xx, the next attempt goes to the next (docs/sync-protocol.md "Several platform nodes")',
    }),
    intervalMs: int(1000, 86_400_000, 60_000, 'time between sync passes'),
    hotlistIntervalMs: int(
      1000,
      86_400_000,
      DEFAULT_HOTLIST_INTERVAL_MS,
      'time between lost-card hotlist pulls, on its own clock: a card the platform lists reaches this terminal within about this (an unchanged list costs a 304; docs/sync-protocol.md "Pull the lost-card hotlist")',
    ),
    tls: section({
      ca: optionalPath('CA bundle (PEM) the platform\'s certificate is checked against (default: Node\'s CAs)'),
      cert: optionalPath('client certificate (PEM) for mTLS; needs tls.key'),
      key: optionalPath('its private key (PEM); needs tls.cert'),
    }),
    hotlistPublicKey: optionalPath(
      'the platform\'s hotlist key (Ed25519 public key, PEM): a lost-card hotlist whose signature does not verify with it is refused and the list in force kept (docs/sync-protocol.md); absent = lists are applied unchecked, and the status says so',
    ),
  }),
  api: section({
    host: doc(z.string().min(1).max(255).default('127.0.0.1'), {
      allowed: { zh: '主机名或 IP 地址；非回环地址须同时设置 allowRemote = true', en: 'a host name or IP address; a non-loopback one needs allowRemote = true' },
      default: '"127.0.0.1"',
      doc: 'address the local API listens on',
    }),
    port: int(0, 65_535, 5846, 'TCP port of the local API; one of XFS4IoT\'s 5846–5856 that another program holds gives way to the next free one of that range (the log and the service URI say which)', { zh: '0 表示临时端口，仅用于测试', en: '0 = ephemeral, for tests' }),
    socket: optionalPath('a Unix socket path to listen on instead of TCP'),
    driverSocket: optionalPath('a Unix socket, beside the TCP port, serving the SSCardDriver calls to libSSCardDriver.so (docs/sscard-driver.md); made mode 0660: the daemon\'s user and group may use it'),
    allowRemote: bool(false, 'allow api.host to be an address other hosts can reach; needs api.tls, and clients on other hosts need a client token or certificate'),
    maxFrameBytes: int(1024, 16_777_216, 65_536, 'largest WebSocket message accepted'),
    maxClients: int(1, 1024, 16, 'most WebSocket clients connected at once (more: HTTP 503 on the upgrade)'),
    maxConnectionsPerClient: int(1, 1024, 8, 'most WebSocket connections one client (one token, certificate, origin, or loopback without credential) may hold at once'),
    hostNames: doc(z.array(doc(z.string().regex(HOST_NAME), { allowed: HOST_NAME_TEXT, default: 'none', doc: 'a name of this daemon' })).max(32).default([]), {
      allowed: { zh: '主机名或 IP 地址（不含端口和协议）的数组，如 ["kiosk-17.branch.example"]', en: 'an array of host names or IP addresses (no port, no scheme), e.g. ["kiosk-17.branch.example"]' },
      default: '[]',
      doc: 'names of this daemon besides 127.0.0.1, localhost and ::1 (and api.host): a request whose Host is none of them is refused (DNS rebinding); the first one is used in service URIs',
    }),
    allowedOrigins: doc(z.array(doc(z.string().refine(isOrigin), { allowed: ORIGIN_TEXT, default: 'none', doc: 'an allowed origin' })).max(32).default([]), {
      allowed: { zh: `${ORIGIN_TEXT.zh}的数组`, en: `an array of origins: ${ORIGIN_TEXT.en.replace(/^a page origin /, '')}` },
      default: '[]',
      doc: 'web pages (a kiosk vendor\'s UI) allowed to use the API besides the daemon\'s own (http://127.0.0.1:<port>, http://localhost:<port>…); any other Origin, and null, is refused',
    }),
    chipClients: doc(z.array(doc(z.string().regex(/^(?:client|cert):[^\s]{1,128}$/), { allowed: { zh: 'client:<令牌名称> 或 cert:<证书 CN>', en: 'client:<token name> or cert:<certificate CN>' }, default: 'none', doc: 'a credentialed client' })).max(32).default([]), {
      allowed: { zh: '字符串数组，每项为 client:<令牌名称>（sscard client add 的名称）或 cert:<客户端证书 CN>', en: 'an array of strings, each client:<token name> (the name given to sscard client add) or cert:<client certificate CN>' },
      default: '[]',
      doc: 'credentialed clients that may use CardReader.ChipIO, ChipPower and Reset without an operator login (an XFS4IoT client cannot log in); each call is journaled under the client, and PIN-bearing APDUs stay refused',
    }),
    clientsFile: filePath('var/api-clients.json', 'client credentials (token hashes) of native clients, written by sscard client add/revoke; reread when it changes'),
    allowUnauthenticatedLoopback: bool(false, 'let native clients on this machine (no Origin, loopback) in without a client token — only for a kiosk image whose one native client is trusted (docs/security.md)'),
    tls: section({
      cert: optionalPath('server certificate (PEM): the API speaks https/wss; required with allowRemote; needs tls.key'),
      key: optionalPath('its private key (PEM); needs tls.cert'),
      ca: optionalPath('CA (PEM) of client certificates: a client presenting one it signed is admitted without a token'),
    }),
  }),
  operators: section({
    sessionTtlMs: int(60_000, 86_400_000, 900_000, 'an operator session ends this long after its last use'),
    maxFailures: int(1, 100, 5, 'wrong passphrases in a row before the account is locked'),
    lockoutMs: int(1000, 86_400_000, 900_000, 'how long a locked account stays locked'),
    accounts: doc(
      z
        .array(
          z.strictObject({
            id: requiredId('operator id used to log in (unique)'),
            name: text(64, 'display name'),
            hash: doc(z.string().refine((v) => isValidHashFormat(v)), {
              allowed: HASH_FORMAT_TEXT,
              default: 'none',
              doc: 'scrypt hash of the passphrase, from `sscard operator hash`',
              secret: true,
            }),
          }),
        )
        .max(1000)
        .default([]),
      { allowed: { zh: '操作员表的数组（id、name、hash）', en: 'an array of operator tables (id, name, hash)' }, default: '[]', doc: 'the operators who may log in at a counter' },
    ),
  }),
  log: section({
    level: oneOf(LOG_LEVELS, 'info', 'log level of every component'),
    levels: section(Object.fromEntries(LOG_COMPONENTS.map((c) => [c, levelOpt()])) as Record<LogComponent, ReturnType<typeof levelOpt>>),
    file: nullablePath('var/log/sscard.log', 'JSON-lines log file, rotated by size'),
    maxSizeBytes: int(1024, 1_073_741_824, 10_485_760, 'size at which the log file is rotated'),
    maxFiles: int(1, 100, 5, 'log files kept, the current one included'),
    console: bool(true, 'also log readable lines to stderr'),
  }),
  simulator: section({
    card: optionalPath('card profile of the simulated card', '"<repo>/fixtures/cards/card-2.0.json"'),
    psam: optionalPath('profile of the simulated PSAM', '"<repo>/fixtures/psam/psam-test.json"'),
    stateDir: filePath('var/sim', 'where the simulated card keeps its state between runs'),
    idCard: optionalPath(
      'ID card (fixtures/idcards/*.json) presented on the simulated ID reader',
      'the fixture whose matchesCard names simulator.card (id-card-2.0.json for the default card)',
    ),
  }),
});

export type ConfigInput = z.output<typeof configSchema>;
