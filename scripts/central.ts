/**
 * npm run central — the reference platform server (platform/server.ts) for demos, tests and benchmarks,
 * on loopback by default. Faults can be chosen at start and changed later over HTTP
 * (POST /admin/fault {"mode":"500","times":3}) — docs/sync-protocol.md lists them.
 *
 *   node dist/scripts/central.js [--host 127.0.0.1] [--port 8470] [--db var/central.sqlite | --database-url postgres://user@host:5432/db]
 *     [--fail down|reset|slow|500|malformed|partial] [--fail-times N] [--fail-on push|bank|hotlist|all]
 *     [--fail-probability P] [--slow-ms MS (slow: answer delay; down: back up after)] [--hotlist-add CARD_ID]… [--service-items CODE,CODE]
 *     [--tls-cert FILE --tls-key FILE [--tls-ca FILE --require-client-cert [--registry --register TERMINAL_ID=CERT.pem… --revoke CERT.pem…]]]
 *     [--hotlist-key FILE] [--no-admin]
 *
 * --registry: each terminal request must come with a certificate registered to a terminal (--register,
 * kept in the store) and not revoked (--revoke), and name only that terminal; refusals are journaled.
 *
 * --hotlist-key FILE: the Ed25519 private key (PEM) that signs every hotlist answer; created (0600,
 * with its public key in FILE.pub for the terminals' sync.hotlistPublicKey) when it does not exist.
 *
 * Storage: SQLite (--db, the embedded default) or PostgreSQL (--database-url, or the environment's
 * SSCARD_PLATFORM_DATABASE_URL: several platform processes may serve one database).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CentralServer, FAULT_MODES } from '../platform/server.js';
import type { CentralOptions, Fault, FaultMode } from '../platform/server.js';
import { reportError, projectRoot } from './cli-util.js';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8470' },
    db: { type: 'string' },
    'database-url': { type: 'string' },
    memory: { type: 'boolean', default: false },
    fail: { type: 'string' },
    'fail-times': { type: 'string' },
    'fail-on': { type: 'string' },
    'fail-probability': { type: 'string' },
    'slow-ms': { type: 'string' },
    'hotlist-add': { type: 'string', multiple: true },
    'service-items': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'tls-ca': { type: 'string' },
    'require-client-cert': { type: 'boolean', default: false },
    'hotlist-key': { type: 'string' },
    registry: { type: 'boolean', default: false },
    register: { type: 'string', multiple: true },
    revoke: { type: 'string', multiple: true },
    'no-admin': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(readFileSync(new URL(import.meta.url)).toString('utf8').split('*/')[0]!.replace(/^\/\*\*?|^ \* ?/gm, '') + '\n');
  process.exit(0);
}

function usage(msg: string): never {
  process.stderr.write(`${msg}\n`);
  process.exit(2);
}

try {
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) usage('--port 应为 0 到 65535 / --port must be 0..65535');
  const databaseUrl = values['database-url'] ?? process.env['SSCARD_PLATFORM_DATABASE_URL'];
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) usage('--database-url 应为 postgres://用户@主机:端口/数据库 / --database-url must be postgres://user@host:port/database');
  if (databaseUrl !== undefined && (values.db !== undefined || values.memory)) usage('--database-url 与 --db、--memory 只能选一个 / --database-url, --db and --memory exclude each other');
  const dbPath = values.memory || databaseUrl !== undefined ? undefined : (values.db ?? path.join(projectRoot(), 'var', 'central.sqlite'));
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) usage('--tls-cert 与 --tls-key 须同时给出 / --tls-cert and --tls-key go together');
  if ((values['tls-ca'] !== undefined || values['require-client-cert']) && values['tls-cert'] === undefined) usage('--tls-ca、--require-client-cert 需要 --tls-cert 与 --tls-key（HTTPS）/ --tls-ca and --require-client-cert need --tls-cert and --tls-key (HTTPS)');
  if (values['require-client-cert'] && values['tls-ca'] === undefined) usage('--require-client-cert 需要 --tls-ca（签发终端证书的 CA）/ --require-client-cert needs --tls-ca (the CA that issues terminal certificates)');
  const tls: CentralOptions['tls'] =
    values['tls-cert'] !== undefined && values['tls-key'] !== undefined
      ? {
          cert: readFileSync(values['tls-cert']),
          key: readFileSync(values['tls-key']),
          ...(values['tls-ca'] !== undefined ? { ca: readFileSync(values['tls-ca']) } : {}),
          requireClientCert: values['require-client-cert'],
        }
      : undefined;
  let hotlistSigningKey: KeyObject | undefined;
  const hotlistKeyFile = values['hotlist-key'];
  if (hotlistKeyFile !== undefined) {
    if (!existsSync(hotlistKeyFile)) {
      const pair = generateKeyPairSync('ed25519');
      writeFileSync(hotlistKeyFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
      writeFileSync(`${hotlistKeyFile}.pub`, pair.publicKey.export({ type: 'spki', format: 'pem' }), { flag: 'wx' });
      process.stderr.write(`已生成挂失名单签名密钥 / hotlist signing key created: ${hotlistKeyFile}; 终端的 sync.hotlistPublicKey / the terminals' sync.hotlistPublicKey: ${hotlistKeyFile}.pub\n`);
    }
    try {
      hotlistSigningKey = createPrivateKey(readFileSync(hotlistKeyFile));
    } catch (e) {
      usage(`--hotlist-key ${hotlistKeyFile}：不是 PEM 私钥 / not a PEM private key (${e instanceof Error ? e.message : String(e)})`);
    }
    if (hotlistSigningKey.asymmetricKeyType !== 'ed25519') usage(`--hotlist-key ${hotlistKeyFile}：应为 Ed25519 私钥 / must be an Ed25519 private key`);
    // Fails here, not on the first pull, when FILE.pub is missing or of another key.
    if (existsSync(`${hotlistKeyFile}.pub`) && !createPublicKey(readFileSync(`${hotlistKeyFile}.pub`)).equals(createPublicKey(hotlistSigningKey))) {
      usage(`${hotlistKeyFile}.pub 不是 ${hotlistKeyFile} 的公钥 / ${hotlistKeyFile}.pub is not the public key of ${hotlistKeyFile}`);
    }
  }
  const loopback = values.host === '127.0.0.1' || values.host === '::1' || values.host === 'localhost';
  const server = await CentralServer.start({
    host: values.host,
    port,
    ...(dbPath !== undefined ? { dbPath } : {}),
    ...(databaseUrl !== undefined ? { databaseUrl } : {}),
    ...(tls ? { tls } : {}),
    ...(values['service-items'] !== undefined ? { serviceItems: values['service-items'].split(',').map((s) => s.trim()) } : {}),
    admin: loopback && !values['no-admin'],
    registry: values.registry,
    ...(hotlistSigningKey === undefined ? {} : { hotlistSigningKey }),
    logger: {
      debug: () => {},
      info: (m, meta) => process.stderr.write(`${m} ${JSON.stringify(meta ?? {})}\n`),
      warn: (m, meta) => process.stderr.write(`${m} ${JSON.stringify(meta ?? {})}\n`),
      error: (m, meta) => process.stderr.write(`${m} ${JSON.stringify(meta ?? {})}\n`),
    },
  });
  for (const c of values['hotlist-add'] ?? []) await server.hotlistAdd(c);
  for (const r of values.register ?? []) {
    const eq = r.indexOf('=');
    if (eq <= 0) usage(`--register 应为 终端编号=证书.pem / --register must be TERMINAL_ID=CERT.pem: ${r}`);
    const fp = await server.registerCertificate(r.slice(0, eq), readFileSync(r.slice(eq + 1)));
    process.stderr.write(`registered ${r.slice(0, eq)} ${fp}\n`);
  }
  for (const f of values.revoke ?? []) {
    if (!(await server.revokeCertificate(readFileSync(f)))) usage(`--revoke ${f}：该证书未登记 / that certificate is not registered`);
  }
  if (values.fail !== undefined) {
    if (!(FAULT_MODES as readonly string[]).includes(values.fail)) usage(`--fail 应为 / must be one of ${FAULT_MODES.join(', ')}`);
    const on = values['fail-on'];
    if (on !== undefined && on !== 'push' && on !== 'bank' && on !== 'hotlist' && on !== 'all') usage('--fail-on 应为 / must be push, bank, hotlist or all');
    const fault: Fault = {
      mode: values.fail as FaultMode,
      ...(values['fail-times'] !== undefined ? { times: Number(values['fail-times']) } : {}),
      ...(on !== undefined ? { on } : {}),
      ...(values['fail-probability'] !== undefined ? { probability: Number(values['fail-probability']) } : {}),
      ...(values['slow-ms'] !== undefined ? { delayMs: Number(values['slow-ms']) } : {}),
    };
    await server.setFault(fault);
  }
  process.stdout.write(`参考平台已启动 / reference platform listening: ${server.url}  (db ${databaseUrl !== undefined ? `PostgreSQL ${new URL(databaseUrl).host}${new URL(databaseUrl).pathname}` : (dbPath ?? ':memory:')}${loopback && !values['no-admin'] ? ', admin on' : ''})\n`);
  const stop = (): void => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (err) {
  process.exitCode = reportError(err);
}
