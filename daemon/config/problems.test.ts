import { describe, expect, it } from 'vitest';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { hashPassphrase } from '../auth/passphrase.js';
import { parseConfig } from './config.js';

const HASH = hashPassphrase(Buffer.from('change-me-now'), { N: 1024, r: 8, p: 1 });

/** The SsCardError parseConfig throws for `raw`. */
function problems(raw: unknown, source = '/etc/sscard/sscard.toml'): SsCardError {
  try {
    parseConfig(raw, source);
  } catch (e) {
    if (e instanceof SsCardError) return e;
    throw e;
  }
  throw new Error('parseConfig accepted it');
}

/** The zh and en lines of one problem (the message lists one per line). */
function line(err: SsCardError, key: string): { zh: string; en: string } {
  const find = (text: string): string => {
    const l = text.split('\n').find((x) => x.trimStart().startsWith(`${key} = `));
    if (l === undefined) throw new Error(`no line for ${key} in:\n${text}`);
    return l.trim();
  };
  return { zh: find(err.text.zh), en: find(err.text.en) };
}

describe('errors name the key, the value found and what is allowed — all at once', () => {
  it.each([
    ['wrong type', { api: { port: '5846' } }, 'api.port', '"5846"', /must be an integer from 0 to 65535/, /应为 ?0 到 65535 之间的整数/],
    ['out of range', { api: { port: 70000 } }, 'api.port', '70000', /must be an integer from 0 to 65535 \(0 = ephemeral, for tests\)/, /0 表示临时端口/],
    ['below the minimum', { session: { pinEntryMs: 10 } }, 'session.pinEntryMs', '10', /from 5000 to 300000/, /5000 到 300000/],
    ['not an integer', { session: { triesFloor: 1.5 } }, 'session.triesFloor', '1.5', /integer from 0 to 5/, /0 到 5 之间的整数/],
    ['not a boolean (docs/security.md: secure change and the PIN policy; a key named like a PIN shows no value)', { session: { requirePinPolicy: 'yes' } }, 'session.requirePinPolicy', '(hidden)', /true or false/, /true 或 false/],
    ['bad enum', { role: 'manager' }, 'role', '"manager"', /one of "kiosk" \| "counter" \| "financial-counter"/, /以下之一/],
    ['bad id', { terminalId: 'no spaces allowed' }, 'terminalId', '"no spaces allowed"', /1 to 32 letters, digits, _ or -/, /1 到 32 个字母/],
    ['unknown key', { api: { prot: 5846 } }, 'api.prot', '5846', /unknown key; the keys allowed in api are host, port, socket/, /未知的键；api 中可用的键：host、port/],
    ['unknown top-level key', { termnalId: 'X' }, 'termnalId', '"X"', /unknown key; the keys allowed in the top level are terminalId, deviceId/, /顶层 中可用的键/],
    ['a section of the wrong type', { api: 'localhost' }, 'api', '"localhost"', /must be a table \(object\) with the keys host, port/, /应为一个表/],
    ['non-loopback host', { api: { host: '0.0.0.0' } }, 'api.host', '"0.0.0.0"', /not a loopback address .*set api\.allowRemote = true/, /不是本机回环地址.*allowRemote = true/],
    ['kiosk offering unblock', { role: 'kiosk', services: ['verify', 'unblock'] }, 'services[1]', '"unblock"', /a self-service kiosk cannot offer PIN unblock/, /自助终端不能提供密码解锁/],
    ['unknown service', { role: 'counter', services: ['renew'] }, 'services[0]', '"renew"', /is not a known service \(known: activate, verify/, /不是已知的服务/],
    ['plain http to a remote platform', { sync: { endpoint: 'http://platform.example/' } }, 'sync.endpoint', '"http://platform.example/"', /plain http:\/\/ is only allowed to a loopback host/, /明文 http/],
    ['an alternate platform node over plain http', { sync: { endpoint: 'https://a.platform.example/', alternateEndpoints: ['https://b.platform.example/', 'http://c.platform.example/'] } }, 'sync.alternateEndpoints[1]', '"http://c.platform.example/"', /plain http:\/\/ is only allowed to a loopback host/, /明文 http/],
    ['alternate nodes without an endpoint', { sync: { alternateEndpoints: ['https://b.platform.example/'] } }, 'sync.alternateEndpoints', '["https://b.platform.example/"]', /there is no sync\.endpoint/, /没有 sync\.endpoint/],
    ['a serial pad without a device', { pinPad: { kind: 'serial' } }, 'pinPad.path', '(missing)', /required when pinPad\.kind is "serial"/, /必须设置串口设备路径/],
    ['a bad reader regex', { readers: { card: '/ACR(/' } }, 'readers.card', '"/ACR(/"', /not a valid regular expression/, /不是有效的正则表达式/],
    ['duplicate operator ids', { operators: { accounts: [{ id: 'a', name: 'A', hash: HASH }, { id: 'a', name: 'B', hash: HASH }] } }, 'operators.accounts[1].id', '"a"', /repeats operators\.accounts\[0\]\.id: operator ids must be unique/, /操作员编号必须唯一/],
    ['missing operator name', { operators: { accounts: [{ id: 'a', hash: HASH }] } }, 'operators.accounts[0].name', '(missing)', /a non-empty string/, /非空字符串/],
    // docs/card-conventions.md "Card-make profiles".
    ['a card profile with a bad ATR pattern', { cardProfiles: [{ name: 'b', atr: '3B 6' }] }, 'cardProfiles[0].atr', '"3B 6"', /hex bytes \(spaces allowed, xx matches any byte\)/, /十六进制字节/],
    ['two card profiles of one name', { cardProfiles: [{ name: 'b', atr: '3B 6C' }, { name: 'b', atr: '3B 6D' }] }, 'cardProfiles[1].name', '"b"', /profile names must be unique/, /卡型名称必须唯一/],
    ['a card profile no card can reach', { cardProfiles: [{ name: 'any', atr: '3B xx' }, { name: 'b', atr: '3B 6C 00' }] }, 'cardProfiles[1].atr', '"3B 6C 00"', /matched first by cardProfiles\[0\].*put the more specific pattern first/, /永远不会被选用/],
    ['an unknown card profile setting', { cardProfiles: [{ name: 'b', atr: '3B 6C', fold: 1 }] }, 'cardProfiles[0].fold', '1', /./, /./],
  ])('%s', (_name, raw, key, shown, en, zh) => {
    const e = problems(raw);
    expect(e.code).toBe(ErrorCode.Config_Invalid);
    const l = line(e, key);
    expect(l.en.startsWith(`${key} = ${shown}: `)).toBe(true);
    expect(l.en).toMatch(en);
    expect(l.zh).toMatch(zh);
    expect(e.context).toMatchObject({ file: '/etc/sscard/sscard.toml', path: [key] });
    // zh-CN first, English second, code last
    expect(e.message.indexOf('配置')).toBeLessThan(e.message.indexOf('configuration'));
    expect(e.message).toMatch(/\(E510\)$/);
  });

  it('lists every problem, not the first only', () => {
    const e = problems({
      terminalId: 'bad id',
      role: 'kiosk',
      services: ['unblock', 'activate'],
      api: { port: -1, host: '192.168.1.10', extra: true },
      log: { level: 'verbose', levels: { NOPE: 'info' } },
      operators: { accounts: [{ id: 'x', name: 'X', hash: 'md5$abc' }] },
      session: { denyList: ['12345', 123456] },
    });
    const keys = (e.context as { path: string[] }).path;
    expect([...keys].sort()).toEqual(
      [
        'terminalId',
        'services[0]',
        'services[1]',
        'api.port',
        'api.extra',
        'api.host',
        'log.level',
        'log.levels.NOPE',
        'operators.accounts[0].hash',
        'session.denyList[0]',
        'session.denyList[1]',
      ].sort(),
    );
    expect(e.text.en).toMatch(/^configuration \/etc\/sscard\/sscard\.toml has 11 problems:\n/);
    expect(e.text.zh).toMatch(/^配置 \/etc\/sscard\/sscard\.toml 有 11 处错误：\n/);
    expect(e.text.en).toMatch(/Fix the configuration and start again \(see docs\/config\.md\)$/);
    expect(e.text.zh.split('\n')).toHaveLength(13);
  });

  it('a value too long to show is cut at 60 characters', () => {
    const e = problems({ readers: { transmitTimeoutMs: 'x'.repeat(500) } });
    const shown = /readers\.transmitTimeoutMs = ("x+…):/.exec(e.text.en)![1]!;
    expect(shown).toHaveLength(60);
  });

  it('allowRemote = true lets the API listen on another address — over TLS, by a configured name', () => {
    const tls = { cert: 'tls/api.pem', key: 'tls/api.key' };
    const c = parseConfig({ api: { host: '0.0.0.0', allowRemote: true, tls, hostNames: ['kiosk-17.branch.example'] } }, '/etc/sscard/sscard.json');
    expect(c.api).toMatchObject({ host: '0.0.0.0', allowRemote: true, hostNames: ['kiosk-17.branch.example'], tls: { cert: '/etc/sscard/tls/api.pem', key: '/etc/sscard/tls/api.key' } });
    expect(parseConfig({ api: { host: '10.1.2.3', allowRemote: true, tls } }, 'x').api.host).toBe('10.1.2.3');
    expect(parseConfig({ api: { port: 0 } }, 'x').api.port).toBe(0);
    expect(parseConfig({ sync: { endpoint: 'http://127.0.0.1:8080/' } }, 'x').sync.endpoint).toBe('http://127.0.0.1:8080/');
  });

  it('allowRemote without TLS is refused naming api.tls.cert and api.tls.key; a wildcard host needs api.hostNames', () => {
    const e = problems({ api: { host: '0.0.0.0', allowRemote: true } });
    expect(line(e, 'api.allowRemote').en).toMatch(/= true: remote access needs TLS: set api\.tls\.cert and api\.tls\.key/);
    expect(line(e, 'api.allowRemote').zh).toMatch(/远程访问须使用 TLS：请设置 api\.tls\.cert 与 api\.tls\.key/);
    expect(line(e, 'api.hostNames').en).toMatch(/must list the names or addresses other hosts reach this terminal by/);
    const half = problems({ api: { tls: { cert: 'a.pem' } } });
    expect(line(half, 'api.tls.key').en).toMatch(/must be set together with api\.tls\.cert/);
    const caOnly = problems({ api: { tls: { ca: 'ca.pem' } } });
    expect(line(caOnly, 'api.tls.cert').en).toMatch(/api\.tls\.ca .* no server certificate/);
  });

  it('access keys: hostNames, allowedOrigins (exact origins, never null), clientsFile, allowUnauthenticatedLoopback', () => {
    const c = parseConfig(
      { api: { hostNames: ['kiosk-17.branch.example', '10.1.2.3'], allowedOrigins: ['http://127.0.0.1:8080', 'https://ui.vendor.example'], clientsFile: 'clients.json', allowUnauthenticatedLoopback: true, maxConnectionsPerClient: 4 } },
      '/etc/sscard/sscard.json',
    );
    expect(c.api).toMatchObject({
      hostNames: ['kiosk-17.branch.example', '10.1.2.3'],
      allowedOrigins: ['http://127.0.0.1:8080', 'https://ui.vendor.example'],
      clientsFile: '/etc/sscard/clients.json',
      allowUnauthenticatedLoopback: true,
      maxConnectionsPerClient: 4,
    });
    const d = parseConfig({}, '/etc/sscard/sscard.json').api;
    expect(d).toMatchObject({ hostNames: [], allowedOrigins: [], clientsFile: '/etc/sscard/var/api-clients.json', allowUnauthenticatedLoopback: false, maxConnectionsPerClient: 8, tls: {} });
    const e = problems({ api: { allowedOrigins: ['null', 'http://127.0.0.1:8080/ui', 'HTTP://Kiosk', 'http://kiosk:80', 'file://'], hostNames: ['kiosk:8080', 'http://kiosk'] } });
    for (let i = 0; i < 5; i++) expect(line(e, `api.allowedOrigins[${i}]`).en).toMatch(/must be a page origin http\(s\):\/\/host\[:port\].*never null/);
    expect(line(e, 'api.allowedOrigins[0]').zh).toMatch(/网页来源/);
    expect(line(e, 'api.hostNames[0]').en).toMatch(/must be a host name or IP address \(no port, no scheme\)/);
    expect(line(e, 'api.hostNames[1]').en).toMatch(/no port, no scheme/);
  });

  it('TLS files need an https endpoint, and cert and key go together', () => {
    const e = problems({ sync: { endpoint: 'http://localhost:9/', tls: { cert: 'c.pem' } } });
    expect(line(e, 'sync.tls.key').en).toMatch(/= \(missing\): must be set together with sync\.tls\.cert/);
    expect(line(e, 'sync.tls').en).toMatch(/TLS files are set but sync\.endpoint is not https:\/\//);
    const noEndpoint = problems({ sync: { tls: { ca: 'ca.pem' } } });
    expect(line(noEndpoint, 'sync.endpoint').en).toMatch(/sync\.tls is set but there is no endpoint/);
  });
});

describe('secrets are never echoed', () => {
  const SECRET_HASH = 'scrypt$1024$8$1$U0VDUkVUU0FMVFNFQ1JFVA==$notvalidbase64!!';

  it('a bad operator hash shows (hidden)', () => {
    const e = problems({ operators: { accounts: [{ id: 'a', name: 'A', hash: SECRET_HASH }] } });
    expect(line(e, 'operators.accounts[0].hash').en).toMatch(/^operators\.accounts\[0\]\.hash = \(hidden\): must be an scrypt passphrase hash/);
    expect(line(e, 'operators.accounts[0].hash').zh).toMatch(/= （已隐藏）：应为 ?scrypt 口令散列/);
    expect(e.message).not.toContain('U0VDUkVU');
  });

  it('nor under an unknown key named like a secret, nor inside a value shown whole', () => {
    const e = problems({
      operators: {
        accounts: [{ id: 'a', name: 'A', hash: HASH, passphrase: 'hunter2-plain' }],
        apiKey: 'sk-live-123',
      },
      api: { token: 'tok-abc' },
      sync: { tls: 'x', secret: { value: 'shh' } },
      readers: { card: { hash: SECRET_HASH, note: 'visible' } },
      log: [SECRET_HASH],
      session: { denyList: ['12345'] },
    });
    for (const s of ['hunter2-plain', 'sk-live-123', 'tok-abc', 'shh', 'U0VDUkVU', '12345']) expect(e.message).not.toContain(s);
    expect(line(e, 'operators.accounts[0].passphrase').en).toMatch(/= \(hidden\): unknown key; the keys allowed in operators\.accounts\[0\] are id, name, hash/);
    expect(line(e, 'readers.card').en).toContain('{"hash":"(hidden)","note":"visible"}');
    expect(line(e, 'log').en).toContain('["(hidden)"]');
    expect(line(e, 'session.denyList[0]').en).toMatch(/= \(hidden\): must be a string of exactly 6 digits/);
  });
});
