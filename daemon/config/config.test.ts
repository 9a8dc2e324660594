import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { hashPassphrase, verifyPassphrase } from '../auth/passphrase.js';
import type { DaemonConfig } from './config.js';
import { SIM_PSAM_READER, configSchemaDoc, isLoopbackHost, loadConfig, parseConfig, readerMatcher, renderConfigDoc, resolveSimulation } from './config.js';
import { findJsonSyntaxError } from './json-syntax.js';
import { projectRoot } from './root.js';

const ROOT = projectRoot();
const HASH = hashPassphrase(Buffer.from('change-me-now'), { N: 1024, r: 8, p: 1 });

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'sscard-config-'));
  dirs.push(d);
  return d;
}

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

describe('defaults', () => {
  it('no --config and no SSCARD_CONFIG: every default, paths against cwd', () => {
    const cwd = tmp();
    const c = loadConfig({ env: {}, cwd });
    expect(c).toMatchObject({
      configFile: null,
      baseDir: cwd,
      terminalId: 'SIM-0001',
      deviceId: 'SIM-0001',
      role: 'kiosk',
      services: ['verify', 'change'],
      simulate: 'auto',
      session: { inactivityMs: 60_000, pinEntryMs: 30_000, triesFloor: 1, denyList: [] },
      readers: { transmitTimeoutMs: 15_000 },
      pinPad: { baudRate: 9600, allowTouchscreen: false },
      idReader: { baudRate: 115_200 },
      journal: { path: path.join(cwd, 'var/journal.db'), keyFile: path.join(cwd, 'var/journal.key'), purgeIntervalHours: 24, retentionDays: 0 },
      sync: { intervalMs: 60_000, tls: {} },
      api: {
        host: '127.0.0.1',
        port: 5846,
        allowRemote: false,
        maxFrameBytes: 65_536,
        maxClients: 16,
        maxConnectionsPerClient: 8,
        hostNames: [],
        allowedOrigins: [],
        clientsFile: path.join(cwd, 'var/api-clients.json'),
        allowUnauthenticatedLoopback: false,
        tls: {},
      },
      operators: { sessionTtlMs: 900_000, maxFailures: 5, lockoutMs: 900_000, accounts: [] },
      log: { level: 'info', levels: {}, file: path.join(cwd, 'var/log/sscard.log'), maxSizeBytes: 10_485_760, maxFiles: 5, console: true },
      simulator: {
        card: path.join(ROOT, 'fixtures/cards/card-2.0.json'),
        psam: path.join(ROOT, 'fixtures/psam/psam-test.json'),
        stateDir: path.join(cwd, 'var/sim'),
        idCard: path.join(ROOT, 'fixtures/idcards/id-card-2.0.json'),
      },
    });
    // absent, not undefined-valued: "not configured"
    expect('endpoint' in c.sync).toBe(false);
    expect('socket' in c.api).toBe(false);
    expect('card' in c.readers).toBe(false);
    // the shipped fixtures the defaults point at exist
    for (const f of [c.simulator.card, c.simulator.psam, c.simulator.idCard!]) expect(existsSync(f)).toBe(true);
  });

  it('services follow the role; deviceId follows terminalId', () => {
    expect(parseConfig({ role: 'counter', terminalId: 'W-01' }, 'x').services).toEqual(['activate', 'verify', 'change', 'reset', 'unblock']);
    expect(parseConfig({ role: 'financial-counter' }, 'x').services).toHaveLength(5);
    expect(parseConfig({ terminalId: 'W-01' }, 'x').deviceId).toBe('W-01');
    expect(parseConfig({ role: 'kiosk', services: ['verify', 'reset', 'verify'] }, 'x').services).toEqual(['verify', 'reset']);
  });

  it('the simulated ID card is the one that matches the simulated card', () => {
    const c = parseConfig({ simulator: { card: path.join(ROOT, 'fixtures/cards/card-locked.json') } }, 'x');
    expect(c.simulator.idCard).toBe(path.join(ROOT, 'fixtures/idcards/id-card-locked.json'));
    expect(parseConfig({ simulator: { card: '/somewhere/my-own-card.json' } }, 'x').simulator.idCard).toBeNull();
  });

  it('the project root is the folder with the sscard package.json', () => {
    expect(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))).toMatchObject({ name: 'sscard' });
  });
});

describe('simulation-dependent defaults', () => {
  it('simulate "on" fills the simulator devices, "off" the real ones, "auto" leaves them to resolveSimulation', () => {
    const on = parseConfig({ simulate: 'on' }, 'x');
    expect(on.readers.psam).toBe(SIM_PSAM_READER);
    expect(on.pinPad.kind).toBe('touchscreen');
    expect(on.idReader.kind).toBe('simulated');
    const off = parseConfig({ simulate: 'off' }, 'x');
    expect(off.readers.psam).toBeNull();
    expect(off.pinPad.kind).toBe('none');
    expect(off.idReader.kind).toBe('none');
    const auto = parseConfig({}, 'x');
    expect(auto.pinPad.kind).toBeUndefined();
    expect(auto.readers.psam).toBeUndefined();
    expect(resolveSimulation(auto, true)).toMatchObject({ simulate: 'on', readers: { psam: SIM_PSAM_READER }, pinPad: { kind: 'touchscreen' }, idReader: { kind: 'simulated' } });
    expect(resolveSimulation(auto, false)).toMatchObject({ simulate: 'off', readers: { psam: null }, pinPad: { kind: 'none' }, idReader: { kind: 'none' } });
  });

  it('configured values win over the simulation defaults', () => {
    const c = resolveSimulation(parseConfig({ readers: { psam: null }, pinPad: { kind: 'hid', vendorId: 0x1234, productId: 0x5678 } }, 'x'), true);
    expect(c.readers.psam).toBeNull();
    expect(c.pinPad.kind).toBe('hid');
  });

  it('a touchscreen pad on a real terminal needs allowTouchscreen', () => {
    const e = problems({ simulate: 'off', pinPad: { kind: 'touchscreen' } });
    expect(line(e, 'pinPad.allowTouchscreen').en).toMatch(/= \(missing\): .*set pinPad\.allowTouchscreen = true/);
    expect(parseConfig({ simulate: 'off', pinPad: { kind: 'touchscreen', allowTouchscreen: true } }, 'x').pinPad.kind).toBe('touchscreen');
    expect(parseConfig({ simulate: 'on', pinPad: { kind: 'touchscreen' } }, 'x').pinPad.kind).toBe('touchscreen');
    // "auto": decided at start
    const auto = parseConfig({ pinPad: { kind: 'touchscreen' } }, 'x');
    expect(() => resolveSimulation(auto, true)).not.toThrow();
    let err: unknown;
    try {
      resolveSimulation(auto, false);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SsCardError);
    expect((err as SsCardError).code).toBe(ErrorCode.Config_Invalid);
    expect((err as SsCardError).text.en).toMatch(/pinPad\.allowTouchscreen.*encrypting PIN pad/);
  });
});

describe('files', () => {
  const TOML = `
terminalId = "W-07"
role = "counter"
simulate = "off"

[journal]
path = "data/journal.db"
keyFile = "/srv/keys/journal.key"

[log]
file = "logs/sscard.log"

[sync]
endpoint = "https://platform.example/sscard/"

[sync.tls]
ca = "tls/ca.pem"
cert = "tls/terminal.pem"
key = "tls/terminal.key"

[api]
socket = "run/api.sock"

[pinPad]
kind = "serial"
path = "/dev/ttyUSB0"
profile = "pads/zt598.json"

[[operators.accounts]]
id = "op1"
name = "Operator One"
hash = "${HASH}"
`;

  const expectResolved = (c: DaemonConfig, dir: string): void => {
    expect(c.configFile).toBe(path.join(dir, path.basename(c.configFile!)));
    expect(c.baseDir).toBe(dir);
    expect(c.terminalId).toBe('W-07');
    expect(c.journal.path).toBe(path.join(dir, 'data/journal.db'));
    expect(c.journal.keyFile).toBe('/srv/keys/journal.key');
    expect(c.log.file).toBe(path.join(dir, 'logs/sscard.log'));
    expect(c.sync).toEqual({
      endpoint: 'https://platform.example/sscard/',
      intervalMs: 60_000,
      tls: { ca: path.join(dir, 'tls/ca.pem'), cert: path.join(dir, 'tls/terminal.pem'), key: path.join(dir, 'tls/terminal.key') },
    });
    expect(c.api.socket).toBe(path.join(dir, 'run/api.sock'));
    expect(c.pinPad).toMatchObject({ kind: 'serial', path: '/dev/ttyUSB0', profile: path.join(dir, 'pads/zt598.json') });
    expect(c.simulator.stateDir).toBe(path.join(dir, 'var/sim'));
    expect(c.operators.accounts).toEqual([{ id: 'op1', name: 'Operator One', hash: HASH }]);
  };

  it('reads TOML; relative paths resolve against the file\'s folder, not the cwd', () => {
    const dir = tmp();
    const file = path.join(dir, 'conf', 'sscard.toml');
    mkdirSync(path.dirname(file));
    writeFileSync(file, TOML);
    const c = loadConfig({ path: 'conf/sscard.toml', cwd: dir, env: {} });
    expectResolved(c, path.join(dir, 'conf'));
  });

  it('reads the same configuration as JSON', () => {
    const dir = tmp();
    const file = path.join(dir, 'sscard.json');
    const json = {
      terminalId: 'W-07',
      role: 'counter',
      simulate: 'off',
      journal: { path: 'data/journal.db', keyFile: '/srv/keys/journal.key' },
      log: { file: 'logs/sscard.log' },
      sync: { endpoint: 'https://platform.example/sscard/', tls: { ca: 'tls/ca.pem', cert: 'tls/terminal.pem', key: 'tls/terminal.key' } },
      api: { socket: 'run/api.sock' },
      pinPad: { kind: 'serial', path: '/dev/ttyUSB0', profile: 'pads/zt598.json' },
      operators: { accounts: [{ id: 'op1', name: 'Operator One', hash: HASH }] },
    };
    writeFileSync(file, `\uFEFF${JSON.stringify(json, null, 2)}`);
    expectResolved(loadConfig({ path: file, env: {} }), dir);
  });

  it('SSCARD_CONFIG names the file when --config does not; --config wins', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'a.toml'), 'terminalId = "FROM-ENV"\n');
    writeFileSync(path.join(dir, 'b.json'), '{"terminalId": "FROM-ARG"}');
    expect(loadConfig({ env: { SSCARD_CONFIG: path.join(dir, 'a.toml') }, cwd: '/' }).terminalId).toBe('FROM-ENV');
    expect(loadConfig({ path: path.join(dir, 'b.json'), env: { SSCARD_CONFIG: path.join(dir, 'a.toml') } }).terminalId).toBe('FROM-ARG');
    expect(loadConfig({ env: { SSCARD_CONFIG: '' }, cwd: dir }).configFile).toBeNull();
  });

  it('log.file = null turns the file off (JSON)', () => {
    expect(parseConfig({ log: { file: null } }, 'x').log.file).toBeNull();
  });

  const loadError = (name: string, text: string | null): SsCardError => {
    const dir = tmp();
    const file = path.join(dir, name);
    if (text !== null) writeFileSync(file, text);
    try {
      loadConfig({ path: file, env: {} });
    } catch (e) {
      if (e instanceof SsCardError) return e;
      throw e;
    }
    throw new Error('loaded');
  };

  it('a TOML syntax error names the file, line and column, without quoting the line', () => {
    const e = loadError('bad.toml', `terminalId = "A"\n[operators]\nmaxFailures = = 3\nsecretish = "scrypt$1$2"\n`);
    expect(e.code).toBe(ErrorCode.Config_Invalid);
    expect(e.text.en).toMatch(/^configuration file \/.*\/bad\.toml: TOML syntax error at line 3, column \d+: invalid value$/);
    expect(e.text.zh).toMatch(/bad\.toml：TOML 语法错误，第 3 行第 \d+ 列/);
    expect(e.context).toMatchObject({ line: 3 });
    expect(e.message).not.toContain('maxFailures = =');
  });

  it('a JSON syntax error names the line and column, never the text around it', () => {
    const secret = 'scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$x';
    const e = loadError('bad.json', `{\n  "operators": {"accounts": [{"id": "a", "hash": "${secret}"}]},\n  "api": {"port": 5846,}\n}\n`);
    expect(e.text.en).toMatch(/bad\.json: JSON syntax error, line 3, column 24: a comma after the last member/);
    expect(e.text.zh).toMatch(/JSON 语法错误，第 3 行第 24 列：最后一项后面多了逗号/);
    expect(e.message).not.toContain('AAAAAAAA');
  });

  it('an unreadable file, or one that is neither .toml nor .json, is named', () => {
    const missing = loadError('nope.toml', null);
    expect(missing.text.en).toMatch(/configuration file .*nope\.toml: cannot be read \(ENOENT\): check the path/);
    expect(missing.text.zh).toMatch(/无法读取（ENOENT）/);
    const yaml = loadError('sscard.yaml', 'a: 1');
    expect(yaml.text.en).toMatch(/sscard\.yaml: the file name must end in \.toml or \.json/);
  });
});

describe('errors name the key, the value found and what is allowed — all at once', () => {
  it.each([
    ['wrong type', { api: { port: '5846' } }, 'api.port', '"5846"', /must be an integer from 0 to 65535/, /应为 ?0 到 65535 之间的整数/],
    ['out of range', { api: { port: 70000 } }, 'api.port', '70000', /must be an integer from 0 to 65535 \(0 = ephemeral, for tests\)/, /0 表示临时端口/],
    ['below the minimum', { session: { pinEntryMs: 10 } }, 'session.pinEntryMs', '10', /from 5000 to 300000/, /5000 到 300000/],
    ['not an integer', { session: { triesFloor: 1.5 } }, 'session.triesFloor', '1.5', /integer from 0 to 5/, /0 到 5 之间的整数/],
    ['bad enum', { role: 'manager' }, 'role', '"manager"', /one of "kiosk" \| "counter" \| "financial-counter"/, /以下之一/],
    ['bad id', { terminalId: 'no spaces allowed' }, 'terminalId', '"no spaces allowed"', /1 to 32 letters, digits, _ or -/, /1 到 32 个字母/],
    ['unknown key', { api: { prot: 5846 } }, 'api.prot', '5846', /unknown key; the keys allowed in api are host, port, socket/, /未知的键；api 中可用的键：host、port/],
    ['unknown top-level key', { termnalId: 'X' }, 'termnalId', '"X"', /unknown key; the keys allowed in the top level are terminalId, deviceId/, /顶层 中可用的键/],
    ['a section of the wrong type', { api: 'localhost' }, 'api', '"localhost"', /must be a table \(object\) with the keys host, port/, /应为一个表/],
    ['non-loopback host', { api: { host: '0.0.0.0' } }, 'api.host', '"0.0.0.0"', /not a loopback address .*set api\.allowRemote = true/, /不是本机回环地址.*allowRemote = true/],
    ['kiosk offering unblock', { role: 'kiosk', services: ['verify', 'unblock'] }, 'services[1]', '"unblock"', /a self-service kiosk cannot offer PIN unblock/, /自助终端不能提供密码解锁/],
    ['unknown service', { role: 'counter', services: ['renew'] }, 'services[0]', '"renew"', /is not a known service \(known: activate, verify/, /不是已知的服务/],
    ['plain http to a remote platform', { sync: { endpoint: 'http://platform.example/' } }, 'sync.endpoint', '"http://platform.example/"', /plain http:\/\/ is only allowed to a loopback host/, /明文 http/],
    ['a serial pad without a device', { pinPad: { kind: 'serial' } }, 'pinPad.path', '(missing)', /required when pinPad\.kind is "serial"/, /必须设置串口设备路径/],
    ['a bad reader regex', { readers: { card: '/ACR(/' } }, 'readers.card', '"/ACR(/"', /not a valid regular expression/, /不是有效的正则表达式/],
    ['duplicate operator ids', { operators: { accounts: [{ id: 'a', name: 'A', hash: HASH }, { id: 'a', name: 'B', hash: HASH }] } }, 'operators.accounts[1].id', '"a"', /repeats operators\.accounts\[0\]\.id: operator ids must be unique/, /操作员编号必须唯一/],
    ['missing operator name', { operators: { accounts: [{ id: 'a', hash: HASH }] } }, 'operators.accounts[0].name', '(missing)', /a non-empty string/, /非空字符串/],
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

describe('documentation', () => {
  it('docs/config.md carries the generated key reference, unchanged', () => {
    const md = readFileSync(path.join(ROOT, 'docs/config.md'), 'utf8');
    const m = /<!-- BEGIN GENERATED: renderConfigDoc\(\) -->\n([\s\S]*)<!-- END GENERATED -->/.exec(md);
    expect(m).not.toBeNull();
    expect(m![1]).toBe(renderConfigDoc());
  });

  it('documents every key with a default and what is allowed', () => {
    const keys = configSchemaDoc().map((d) => d.key);
    for (const k of [
      'terminalId',
      'deviceId',
      'role',
      'services',
      'simulate',
      'session.denyList',
      'readers.card',
      'readers.psam',
      'pinPad.kind',
      'pinPad.allowTouchscreen',
      'idReader.kind',
      'journal.keyFile',
      'sync.endpoint',
      'sync.tls.key',
      'api.allowRemote',
      'operators.accounts[].hash',
      'log.levels.APDU',
      'simulator.idCard',
    ]) {
      expect(keys).toContain(k);
    }
    for (const d of configSchemaDoc()) {
      expect(d.default, d.key).not.toBe('');
      expect(d.allowed, d.key).not.toBe('');
      expect(d.description, d.key).not.toBe('');
    }
  });
});

describe('deployment files', () => {
  it('parses scripts/sscard.example.toml (device and certificate files need not exist here)', () => {
    const file = path.join(ROOT, 'scripts/sscard.example.toml');
    const c = loadConfig({ path: file, env: {} });
    expect(c).toMatchObject({
      role: 'counter',
      simulate: 'off',
      readers: { card: 'ACR39U', psam: '/\\bSAM\\b/' },
      pinPad: { kind: 'serial', path: '/dev/ttyUSB0' },
      idReader: { kind: 'serial', path: '/dev/ttyUSB1' },
      sync: { endpoint: expect.stringMatching(/^https:\/\//) as unknown, tls: { ca: path.join(ROOT, 'scripts/tls/platform-ca.pem') } },
      journal: { path: '/var/lib/sscard/journal.db' },
      log: { file: '/var/log/sscard/sscard.log', levels: { APDU: 'warn' } },
    });
    expect(existsSync(c.sync.tls.cert!)).toBe(false);
    expect(c.operators.accounts).toHaveLength(1);
  });

  it('the example operator hash is of the documented test passphrase', async () => {
    const c = loadConfig({ path: path.join(ROOT, 'scripts/sscard.example.toml'), env: {} });
    await expect(verifyPassphrase(Buffer.from('change-me-now'), c.operators.accounts[0]!.hash)).resolves.toBe(true);
  });

  it('the systemd unit runs the daemon as documented', () => {
    const unit = readFileSync(path.join(ROOT, 'scripts/sscard.service'), 'utf8');
    const lines = unit.split('\n').filter((l) => !l.startsWith('#'));
    for (const l of [
      'Type=notify',
      'NotifyAccess=all',
      'ExecStart=/usr/bin/node /opt/sscard/dist/scripts/sscardd.js --config /etc/sscard/sscard.toml',
      'After=network-online.target pcscd.service',
      'Wants=network-online.target pcscd.service',
      'Restart=on-failure',
      'TimeoutStopSec=30',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ReadWritePaths=/var/lib/sscard /var/log/sscard',
      'PrivateTmp=yes',
      'User=sscard',
      'SupplementaryGroups=dialout plugdev',
    ]) {
      expect(lines).toContain(l);
    }
  });
});

describe('helpers', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['localhost', true],
    ['LOCALHOST', true],
    ['::1', true],
    ['[::1]', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.5', false],
    ['128.0.0.1', false],
    ['localhost.example.com', false],
    ['kiosk-07', false],
  ])('isLoopbackHost(%s) = %s', (host, want) => {
    expect(isLoopbackHost(host)).toBe(want);
  });

  it('readerMatcher: substring (any case) or /regex/', () => {
    expect(readerMatcher('acr39')('ACS ACR39U ICC Reader 00 00')).toBe(true);
    expect(readerMatcher('acr39')('Virtual PCD 00 00')).toBe(false);
    expect(readerMatcher('/\\bSAM\\b/')('Reader SAM 01')).toBe(true);
    expect(readerMatcher('/\\bSAM\\b/')('Samsung')).toBe(false);
    expect(readerMatcher('/pcd 00 01$/i')('Virtual PCD 00 01')).toBe(true);
  });
});

describe('findJsonSyntaxError', () => {
  it('finds nothing wrong in valid JSON', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(findJsonSyntaxError(text)).toBeNull();
      }),
    );
  });

  it('finds an error wherever JSON.parse does', () => {
    fc.assert(
      fc.property(fc.json(), fc.nat(), fc.constantFrom('', ',', '}', ']', '"', ':', 'x', '\n'), (text, at, junk) => {
        const i = at % (text.length + 1);
        const broken = text.slice(0, i) + junk + text.slice(i);
        let ok = true;
        try {
          JSON.parse(broken);
        } catch {
          ok = false;
        }
        expect(findJsonSyntaxError(broken) === null).toBe(ok);
      }),
    );
  });

  it.each([
    ['{"a": 1,}', 1, 9, 'a comma after the last member'],
    ['[1,,2]', 1, 4, 'a value was expected here'],
    ['{\n  "a": tru\n}', 2, 8, 'a value was expected here'],
    ['{"a": "b', 1, 9, 'unterminated string'],
    ['{"a" 1}', 1, 6, 'a colon is missing'],
    ['', 1, 1, 'unexpected end of the file'],
    ['{} x', 1, 4, 'unexpected content after the value'],
  ])('%j → line %i column %i: %s', (text, lineNo, column, reason) => {
    const p = findJsonSyntaxError(text)!;
    expect(p.line).toBe(lineNo);
    expect(p.column).toBe(column);
    expect(p.reason.en).toContain(reason);
  });
});
