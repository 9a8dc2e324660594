#!/usr/bin/env bash
# One-time (and idempotent) setup of a Debian/Ubuntu machine for sscard: the PC/SC stack with the
# virtual reader driver, pcscd running, node modules installed and the project built.
# Run as root or as a user with sudo. Environment:
#   SSCARD_QUICKACK=0   leave loopback delayed ACKs alone (see docs/domain.md §8; default: enable
#                       quick ACKs on 127.0.0.0/8 so that each APDU through vpcd costs ~0.2 ms, not ~40 ms)
#   SSCARD_SKIP_NPM=1   only the system part
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup.sh: 需要 root 权限或 sudo 来安装系统软件包 / needs root or sudo to install system packages" >&2
    exit 1
  fi
fi

# chromium: the browser the end-to-end suites drive the API from (playwright-core, no browser download);
# fonts-noto-cjk: Chinese text on the pages of web/ (a fresh Debian has no CJK font);
# gcc, make, libc6-dev: libSSCardDriver.so (native/sscard-driver/); python3: its ctypes test;
# postgresql: the platform's production store, tested on a throwaway cluster (scripts/bench/pg-cluster.ts;
# the machine's own cluster is never used); systemd: journald, journalctl and systemd-cat, for the test
# of the daemon's log in a journald of its own (test/journald.test.ts; nothing is started on the machine).
PKGS=(pcscd libpcsclite-dev vsmartcard-vpcd pcsc-tools opensc socat iproute2 procps openssl chromium fonts-noto-cjk gcc make libc6-dev python3 postgresql systemd)
missing=()
for p in "${PKGS[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# pcscd must run before a virtual card connects to vpcd.
if ! pgrep -x pcscd >/dev/null 2>&1; then
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl start pcscd.socket pcscd.service || $SUDO pcscd
  else
    $SUDO pcscd
  fi
  for _ in $(seq 1 50); do
    [ -S /run/pcscd/pcscd.comm ] && break
    sleep 0.1
  done
fi
pgrep -x pcscd >/dev/null 2>&1 || { echo "setup.sh: pcscd 未能启动 / pcscd did not start" >&2; exit 1; }

if [ "${SSCARD_QUICKACK:-1}" != "0" ] && command -v ip >/dev/null 2>&1; then
  $SUDO ip route change local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1 table local quickack 1 2>/dev/null || true
  $SUDO ip route change local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1 table local quickack 1 2>/dev/null || true
fi

if [ "${SSCARD_SKIP_NPM:-0}" != "1" ]; then
  npm ci --no-audit --no-fund
  npm run build
fi
echo "setup.sh: ready (pcscd running; readers: Virtual PCD 00 00 = card, Virtual PCD 00 01 = PSAM)"
