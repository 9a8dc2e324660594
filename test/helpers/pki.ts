/**
 * A test PKI made with the openssl CLI (test/sync-mtls.test.ts, test/platform-registry.test.ts):
 * a test CA, a server certificate for 127.0.0.1/localhost, terminal certificates from the same CA,
 * and one from a different CA with the same names (only the signature tells them apart).
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../journal/fixtures.js';

const run = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';

export interface Pki {
  readonly dir: string;
  readonly file: (name: string) => string;
  readonly pem: (name: string) => Buffer;
  /** Another terminal certificate from the test CA: `<name>.pem` / `<name>.key`. */
  readonly issueClient: (name: string, commonName: string, serial: number) => Promise<void>;
}

/** A key pair (EC P-256) and a certificate signed by `ca`, with the given X.509v3 extensions. */
async function issue(dir: string, name: string, subject: string, ca: string, extensions: string, serial: number): Promise<void> {
  const f = (n: string): string => path.join(dir, n);
  await run(OPENSSL, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', subject]);
  writeFileSync(f(`${name}.ext`), extensions);
  await run(OPENSSL, ['x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${ca}.pem`), '-CAkey', f(`${ca}.key`), '-set_serial', String(serial), '-days', '2', '-extfile', f(`${name}.ext`), '-out', f(`${name}.pem`)]);
}

async function selfSignedCa(dir: string, name: string, subject: string): Promise<void> {
  const f = (n: string): string => path.join(dir, n);
  await run(OPENSSL, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-keyout', f(`${name}.key`), '-out', f(`${name}.pem`), '-subj', subject,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

export async function makePki(): Promise<Pki> {
  const dir = tempDir('sscard-mtls-pki-');
  // Both CAs carry the same name: only the signature tells them apart.
  await Promise.all([selfSignedCa(dir, 'ca', '/O=sscard test/CN=sscard test platform CA'), selfSignedCa(dir, 'rogue-ca', '/O=sscard test/CN=sscard test platform CA')]);
  const server = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n';
  const client = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n';
  await Promise.all([
    issue(dir, 'server', '/O=sscard test/CN=127.0.0.1', 'ca', server, 1),
    issue(dir, 'client', '/O=sscard test/CN=T-TEST', 'ca', client, 2),
    // Same subject as the good terminal certificate, signed by the other CA.
    issue(dir, 'rogue-client', '/O=sscard test/CN=T-TEST', 'rogue-ca', client, 2),
  ]);
  const file = (name: string): string => path.join(dir, name);
  return { dir, file, pem: (name) => readFileSync(file(name)), issueClient: (name, cn, serial) => issue(dir, name, `/O=sscard test/CN=${cn}`, 'ca', client, serial) };
}

