/**
 * The rules that join keys (docs/config.md "Keys and defaults that depend on other keys"): a
 * non-loopback API host needs allowRemote, remote access needs TLS, the role decides the services,
 * a serial pad needs a path, operator ids are unique… The schema (schema.ts) checks each key on its
 * own; these run on the raw input as well, so that their problems are reported with the schema's
 * in one go. Also the two helpers the daemon uses on configured values: {@link isLoopbackHost} and
 * {@link readerMatcher}.
 */
import { isIP } from 'node:net';
import type { BilingualText } from '../../core/text.js';
import { parseDenyList } from '../../state/pin-policy.js';
import { ROLES, parseOfferedServices } from '../../state/roles.js';
import type { Role } from '../../state/roles.js';
import { parseAtrPattern, type AtrPattern } from '../../drivers/card/card-profiles.js';
import { keyPath, validatorProblem } from './problems.js';
import type { Problem } from './problems.js';
import type { Segment } from './schema-walk.js';

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

/** `cert` and `key` of `section`.tls go together: the problem at the one missing (`what` the pair is), or null. */
function certKeyPair(section: 'api' | 'sync', tls: Record<string, unknown>, what: BilingualText): Problem | null {
  if ((tls.cert === undefined) === (tls.key === undefined)) return null;
  const missing = tls.cert === undefined ? 'cert' : 'key';
  const other = missing === 'cert' ? 'key' : 'cert';
  return { path: [section, 'tls', missing], text: { zh: `须与 ${section}.tls.${other} 一起设置（${what.zh}）`, en: `must be set together with ${section}.tls.${other} (${what.en})` } };
}

/** Every problem of the rules joining keys; `badPaths`: keys the schema already refused, which the rules reading their value skip. */
export function crossProblems(raw: unknown, badPaths: ReadonlySet<string>): Problem[] {
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
  const apiPair = certKeyPair('api', apiTls, { zh: '服务器证书与私钥', en: 'the server certificate and its key' });
  if (apiPair !== null) {
    out.push(apiPair);
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
  /** A platform URL: https, or http to loopback; no credentials in it. Null when it is not one (the problem said). */
  const checkEndpoint = (value: string, path: (string | number)[]): URL | null => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      out.push({ path, text: { zh: '不是有效的网址：应为 https://主机/路径', en: 'is not a valid URL: it must look like https://host/path' } });
      return null;
    }
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
      out.push({ path, text: { zh: '明文 http:// 只允许用于本机回环地址：请改用 https://', en: 'plain http:// is only allowed to a loopback host: use https://' } });
    } else if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      out.push({ path, text: { zh: '应以 https:// 开头', en: 'must start with https://' } });
    } else if (url.username !== '' || url.password !== '') {
      out.push({ path, text: { zh: '网址中不能包含用户名或密码：请用 sync.tls 的客户端证书', en: 'must not hold a user name or password: use a client certificate in sync.tls' } });
    } else {
      return url;
    }
    return null;
  };
  let endpointUrl: URL | null = null;
  if (str(sync.endpoint) && ok('sync', 'endpoint')) {
    try {
      endpointUrl = new URL(sync.endpoint);
    } catch {
      endpointUrl = null;
    }
    checkEndpoint(sync.endpoint, ['sync', 'endpoint']);
  }
  if (Array.isArray(sync.alternateEndpoints) && ok('sync', 'alternateEndpoints')) {
    if (sync.alternateEndpoints.length > 0 && sync.endpoint === undefined) {
      out.push({ path: ['sync', 'alternateEndpoints'], text: { zh: '设置了备用平台地址却没有 sync.endpoint：请先设置 sync.endpoint', en: 'alternate endpoints are set but there is no sync.endpoint: set sync.endpoint first' } });
    }
    sync.alternateEndpoints.forEach((e, i) => {
      if (typeof e !== 'string') return;
      const url = checkEndpoint(e, ['sync', 'alternateEndpoints', i]);
      if (url !== null && endpointUrl !== null && url.protocol !== endpointUrl.protocol) {
        out.push({ path: ['sync', 'alternateEndpoints', i], text: { zh: '与 sync.endpoint 的协议不同：同一平台的节点应都用 https://', en: 'has another scheme than sync.endpoint: the nodes of one platform all use https://' } });
      }
    });
  }
  const syncPair = certKeyPair('sync', tls, { zh: '双向 TLS 的证书与私钥', en: 'the mTLS certificate and its key' });
  if (syncPair !== null) out.push(syncPair);
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

  // cardProfiles: unique names; no pattern a card can never reach (an earlier one matches all it does).
  const profiles = root.cardProfiles;
  if (Array.isArray(profiles)) {
    const names = new Map<string, number>();
    const patterns: { i: number; p: AtrPattern }[] = [];
    profiles.forEach((raw, i) => {
      const { name, atr } = obj(raw);
      if (typeof name === 'string') {
        const first = names.get(name);
        if (first !== undefined) out.push({ path: ['cardProfiles', i, 'name'], text: { zh: `与 cardProfiles[${first}].name 重复：卡型名称必须唯一`, en: `repeats cardProfiles[${first}].name: profile names must be unique` } });
        else names.set(name, i);
      }
      const p = typeof atr === 'string' ? parseAtrPattern(atr) : undefined;
      if (p === undefined) return;
      const shadow = patterns.find((q) => q.p.length <= p.length && q.p.every((b, k) => b === null || b === p[k]));
      if (shadow !== undefined) {
        out.push({
          path: ['cardProfiles', i, 'atr'],
          text: {
            zh: `凡是此 ATR 模式匹配的卡，cardProfiles[${shadow.i}] 都已先匹配，此卡型永远不会被选用：请把更具体的模式放在前面`,
            en: `every card this ATR pattern matches is matched first by cardProfiles[${shadow.i}], so this profile would never be chosen: put the more specific pattern first`,
          },
        });
      }
      patterns.push({ i, p });
    });
  }
  return out;
}
