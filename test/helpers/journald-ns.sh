#!/usr/bin/env bash
# A command under a real systemd-journald of its own (test/journald.test.ts), as systemd runs the
# daemon: its stdout and stderr on the journal's stream (systemd-cat) with JOURNAL_STREAM naming
# that stream's device and inode, as systemd.exec(5) sets it (systemd-cat does not), and the
# native socket at /run/systemd/journal/socket. Run it inside
# `unshare --mount --propagation private` (root): /run and the journal folders become private
# tmpfs mounts, so neither the machine's journal nor its /run is touched. The command runs until
# its log has the daemon's "started" line (or 30 s), then gets SIGTERM; its entries
# (SYSLOG_IDENTIFIER=sscardd) are then written as JSON lines to OUT.
#
#   unshare --mount --propagation private bash journald-ns.sh OUT -- command args...
set -euo pipefail
out=$1
shift 2
mount -t tmpfs tmpfs /run
if [ -d /var/log/journal ]; then mount -t tmpfs tmpfs /var/log/journal; fi
mkdir -p /run/systemd/journal /run/log
/lib/systemd/systemd-journald >/dev/null 2>&1 &
jpid=$!
trap 'kill "$jpid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  [ -S /run/systemd/journal/socket ] && [ -S /run/systemd/journal/stdout ] && break
  sleep 0.05
done
[ -S /run/systemd/journal/stdout ] || { echo "journald-ns: systemd-journald did not open its sockets" >&2; exit 1; }
# shellcheck disable=SC2016
systemd-cat -t sscardd -- sh -c 'JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec "$@"' sh "$@" &
dpid=$!
for _ in $(seq 1 300); do
  journalctl -q --no-pager -o cat SYSLOG_IDENTIFIER=sscardd 2>/dev/null | grep -q 'started' && break
  kill -0 "$dpid" 2>/dev/null || break
  sleep 0.1
done
kill -TERM "$dpid" 2>/dev/null || true
wait "$dpid" || true
journalctl --sync 2>/dev/null || sleep 0.5
journalctl -q --no-pager -o json SYSLOG_IDENTIFIER=sscardd > "$out"
