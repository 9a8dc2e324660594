import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { hashPassphrase, verifyPassphrase } from '../auth/passphrase.js';
import type { DaemonConfig } from './config.js';
import { parseConfig } from './config.js';
import { loadConfig } from './load.js';
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
      session: { inactivityMs: 60_000, pinEntryMs: 30_000, triesFloor: 1, expiredCard: 'refuse', denyList: [], requirePinPolicy: false },
      readers: { transmitTimeoutMs: 15_000 },
      pinPad: { baudRate: 9600, allowTouchscreen: false },
      idReader: { baudRate: 115_200 },
      journal: { path: path.join(cwd, 'var/journal.db'), keyFile: path.join(cwd, 'var/journal.key'), purgeIntervalHours: 24, retentionDays: 0 },
      sync: { intervalMs: 60_000, hotlistIntervalMs: 20_000, tls: {} },
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
});

describe('session.requirePinPolicy (docs/security.md "PIN policy and secure PIN entry")', () => {
  it('false by default; true when set, as the sessions get it', () => {
    expect(parseConfig({}, '/etc/sscard/sscard.toml').session.requirePinPolicy).toBe(false);
    expect(parseConfig({ session: { requirePinPolicy: true } }, '/etc/sscard/sscard.toml').session.requirePinPolicy).toBe(true);
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
      alternateEndpoints: [],
      intervalMs: 60_000,
      hotlistIntervalMs: 20_000,
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

  it('scripts/sscard.demo-counter.toml: the demo machine as a counter, on the kiosk demo\'s files, its operator\'s published passphrase', async () => {
    const c = loadConfig({ path: path.join(ROOT, 'scripts/sscard.demo-counter.toml'), env: {} });
    expect(c).toMatchObject({ role: 'counter', simulate: 'on', services: ['activate', 'verify', 'change', 'reset', 'unblock'] });
    const defaults = loadConfig({ env: {}, cwd: ROOT });
    expect([c.journal.path, c.journal.keyFile, c.simulator.stateDir, c.log.file, c.api.clientsFile]).toEqual([defaults.journal.path, defaults.journal.keyFile, defaults.simulator.stateDir, defaults.log.file, defaults.api.clientsFile]);
    await expect(verifyPassphrase(Buffer.from('demo-counter'), c.operators.accounts[0]!.hash)).resolves.toBe(true);
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
