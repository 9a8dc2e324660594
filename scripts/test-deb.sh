#!/usr/bin/env bash
# The Debian package, as a technician installs it (README "Install the package"): run by .ci/run
# after `npm run package`, as root on a machine with pcscd and vpcd (scripts/setup.sh). It installs
# dist/sscard_*.deb with apt (which resolves its Depends), checks `sscard --version`, starts sscardd
# with the packaged configuration in simulation and waits for /health, then purges the package and
# checks that nothing is left but the journal (and the system user that owns it).
set -euo pipefail
cd "$(dirname "$0")/.."
deb=$(ls dist/sscard_*_*.deb)
echo "test-deb: installing $deb ($(du -h "$deb" | cut -f1))"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "./$deb" >/dev/null
version=$(sscard --version)
expected=$(node -p 'require("./package.json").version')
[ "$version" = "$expected" ] || { echo "test-deb: sscard --version said '$version', expected '$expected'"; exit 1; }
[ "$(sscardd --version)" = "$expected" ]
getent passwd sscard >/dev/null || { echo "test-deb: no sscard user"; exit 1; }
id -nG sscard | grep -qw dialout || { echo "test-deb: sscard is not in dialout"; exit 1; }
[ "$(stat -c %U /var/lib/sscard)" = sscard ]
test -f /lib/udev/rules.d/60-sscard.rules
grep -q 'Type=notify' /lib/systemd/system/sscard.service

# The packaged configuration, switched to the simulator (the only change), from the package's own entry.
work=$(mktemp -d)
sed 's/^simulate *=.*/simulate = "on"/' /etc/sscard/sscard.toml > "$work/sscard.toml"
grep -q '^simulate = "on"' "$work/sscard.toml"
sscardd --config "$work/sscard.toml" >"$work/out.log" 2>&1 &
pid=$!
health=""
for _ in $(seq 1 90); do
  health=$(node -e 'fetch("http://127.0.0.1:5846/health").then(r => r.text()).then(t => process.stdout.write(t), () => {})' || true)
  case "$health" in *'"ready":true'*) break ;; esac
  kill -0 "$pid" 2>/dev/null || { echo "test-deb: sscardd exited:"; cat "$work/out.log"; exit 1; }
  sleep 1
done
case "$health" in *'"ready":true'*) echo "test-deb: /health $health" ;; *) echo "test-deb: not ready: $health"; tail -40 "$work/out.log"; kill "$pid"; exit 1 ;; esac
kill -TERM "$pid"
wait "$pid" || true
test -f /var/lib/sscard/journal.db
test -f /var/lib/sscard/journal.key

DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq sscard | tee "$work/purge.log"
grep -q 'journal is kept in /var/lib/sscard' "$work/purge.log"
for p in /usr/lib/sscard /usr/bin/sscard /usr/bin/sscardd /etc/sscard /var/log/sscard /lib/systemd/system/sscard.service /usr/lib/sysusers.d/sscard.conf /lib/udev/rules.d/60-sscard.rules; do
  if [ -e "$p" ]; then echo "test-deb: $p is left after purge"; exit 1; fi
done
left=$(cd /var/lib/sscard && ls -A | grep -v -E '^journal\.(db|db-wal|db-shm|key)$' || true)
[ -z "$left" ] || { echo "test-deb: left in /var/lib/sscard besides the journal: $left"; exit 1; }
rm -rf "$work" /var/lib/sscard
userdel sscard 2>/dev/null || true
echo "test-deb: installed, ran, purged; only the journal was left"
