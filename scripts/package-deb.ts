/**
 * npm run package — the Debian package `dist/sscard_<version>_<arch>.deb` (README "Install the
 * package"), built with Debian's own dpkg-deb from the tree `npm run build` made:
 *
 *   /usr/lib/sscard/           dist/ (daemon, CLI, pages, libSSCardDriver.so), fixtures/, docs/,
 *                              package.json and the production node_modules (their native addons
 *                              as built here: hence Depends on this Node major)
 *   /usr/bin/sscard, sscardd   the technician CLI and the daemon
 *   /lib/systemd/system/sscard.service
 *   /usr/lib/sysusers.d/sscard.conf    the system user sscard (in dialout: serial pads and ID readers)
 *   /lib/udev/rules.d/60-sscard.rules  the shipped USB HID PIN pads' hidraw nodes to group sscard
 *   /etc/sscard/sscard.toml    the default configuration (a conffile)
 *   /var/lib/sscard            the journal (made by postinst; kept on purge unless SSCARD_PURGE_JOURNAL=yes)
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot } from './cli-util.js';

const root = projectRoot();
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string; description?: string };
const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
const nodeMajor = Number(process.versions.node.split('.')[0]);
if (!existsSync(path.join(root, 'dist', 'scripts', 'sscardd.js'))) {
  process.stderr.write('npm run package: dist/ 不存在，请先 npm run build / dist/ is missing: run npm run build first\n');
  process.exit(1);
}

const stage = mkdtempSync(path.join(tmpdir(), 'sscard-deb-'));
const at = (...p: string[]): string => path.join(stage, ...p);
const lib = at('usr', 'lib', 'sscard');
const write = (file: string, text: string, mode = 0o644): void => {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  chmodSync(file, mode);
};

try {
  mkdirSync(lib, { recursive: true });
  for (const f of ['package.json', 'README.md']) copyFileSync(path.join(root, f), path.join(lib, f));
  // The build without the bench's leftovers; fixtures (catalog, simulator profiles, PIN pad profiles); docs.
  cpSync(path.join(root, 'dist'), path.join(lib, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.deb') && !src.endsWith('.tsbuildinfo') });
  cpSync(path.join(root, 'fixtures'), path.join(lib, 'fixtures'), { recursive: true });
  cpSync(path.join(root, 'docs'), path.join(lib, 'docs'), { recursive: true });

  // The production dependencies as installed and built here (npm's own list), without build leftovers.
  const prod = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith(path.join(root, 'node_modules') + path.sep));
  const skip = /[/\\](obj\.target|\.deps|test|tests|\.github)([/\\]|$)|[/\\]better-sqlite3[/\\](deps|src)([/\\]|$)|\.(md|markdown|ts\.map|c|cc|h|gyp|gypi|mk)$/;
  for (const dir of prod) {
    const rel = path.relative(root, dir);
    cpSync(dir, path.join(lib, rel), {
      recursive: true,
      // Each package's own files: nested node_modules are in npm's list themselves (when production).
      filter: (src) => !path.relative(dir, src).split(path.sep).includes('node_modules') && !skip.test(path.relative(dir, src)),
    });
  }

  write(at('usr', 'bin', 'sscard'), '#!/bin/sh\nexec /usr/bin/node /usr/lib/sscard/dist/scripts/sscard.js "$@"\n', 0o755);
  write(at('usr', 'bin', 'sscardd'), '#!/bin/sh\nexec /usr/bin/node /usr/lib/sscard/dist/scripts/sscardd.js "$@"\n', 0o755);
  const unit = readFileSync(path.join(root, 'scripts', 'sscard.service'), 'utf8')
    .replace(/^# Install:\n(#.*\n)+?(?=# The daemon sends)/m, '# Installed by the sscard Debian package: systemctl enable --now sscard\n')
    .replaceAll('/opt/sscard', '/usr/lib/sscard');
  write(at('lib', 'systemd', 'system', 'sscard.service'), unit);
  const deb = path.join(root, 'packaging', 'deb');
  write(at('usr', 'lib', 'sysusers.d', 'sscard.conf'), readFileSync(path.join(deb, 'sysusers.conf'), 'utf8'));
  write(at('etc', 'sscard', 'sscard.toml'), readFileSync(path.join(deb, 'sscard.toml'), 'utf8'));

  // udev: the hidraw node of each USB HID PIN pad the package ships a profile for, to group sscard.
  const rules = ['# sscard: USB HID PIN pads (fixtures/pinpads/*.json) readable by the daemon\'s group; serial lines via dialout.'];
  for (const f of readdirSync(path.join(root, 'fixtures', 'pinpads')).filter((n) => n.endsWith('.json')).sort()) {
    const p = JSON.parse(readFileSync(path.join(root, 'fixtures', 'pinpads', f), 'utf8')) as { vendorId?: string; productId?: string };
    if (p.vendorId === undefined || p.productId === undefined) continue;
    const hex = (v: string): string => Number(v).toString(16).padStart(4, '0');
    rules.push(`SUBSYSTEM=="hidraw", ATTRS{idVendor}=="${hex(p.vendorId)}", ATTRS{idProduct}=="${hex(p.productId)}", GROUP="sscard", MODE="0660"  # ${f}`);
  }
  write(at('lib', 'udev', 'rules.d', '60-sscard.rules'), rules.join('\n') + '\n');

  const sizeKb = Number(execFileSync('du', ['-sk', '--exclude=DEBIAN', stage], { encoding: 'utf8' }).split(/\s/)[0]);
  const control = [
    'Package: sscard',
    `Version: ${pkg.version}`,
    `Architecture: ${arch}`,
    'Maintainer: sscard maintainers <sscard@localhost>',
    `Installed-Size: ${sizeKb}`,
    // The native addons were built for this Node major's ABI.
    `Depends: nodejs (>= ${nodeMajor}), nodejs (<< ${nodeMajor + 1}), pcscd, systemd | systemd-standalone-sysusers`,
    'Recommends: pcsc-tools',
    'Section: misc',
    'Priority: optional',
    'Description: social security card terminal driver and kiosk daemon (社会保障卡终端守护程序)',
    ' Drives PC/SC card readers, PIN pads and the resident ID card reader, runs the card',
    ' services (activate, verify, change, reset, unblock) with an offline journal synced to',
    ' the provincial platform, and serves the kiosk, counter and technician screens.',
    '',
  ].join('\n');
  write(at('DEBIAN', 'control'), control);
  write(at('DEBIAN', 'conffiles'), '/etc/sscard/sscard.toml\n');
  for (const s of ['postinst', 'prerm', 'postrm']) write(at('DEBIAN', s), readFileSync(path.join(deb, s), 'utf8'), 0o755);

  const out = path.join(root, 'dist', `sscard_${pkg.version}_${arch}.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, out], { stdio: ['ignore', 'ignore', 'inherit'] });
  process.stdout.write(`${out} (${(statSync(out).size / 1024 / 1024).toFixed(1)} MB; installed ${(sizeKb / 1024).toFixed(1)} MB)\n`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
