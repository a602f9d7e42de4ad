#!/usr/bin/env bash
# Runs every test of the workspace: unit, golden, property, the datastore conformance suite
# against the embedded store and a real etcd the tests start on loopback, multi-process tests,
# kernel and lab tests (as root), and calicoctl end to end; then, as root, the README's main
# command (scripts/demo.sh) as a smoke test, so the main job is known to run to the end.
# Installs missing Debian packages first (scripts/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
cargo build --workspace --bins --quiet
status=0
cargo test --workspace --no-fail-fast "$@" || status=$?
if [ "$(id -u)" = 0 ]; then
  log="${CARGO_TARGET_DIR:-target}/demo.log"
  mkdir -p "$(dirname "$log")"
  echo "test.sh: the main job, scripts/demo.sh (output in $log)"
  if ./scripts/demo.sh > "$log" 2>&1; then
    echo "test.sh: demo.sh ran to the end"
  else
    echo "test.sh: demo.sh FAILED; its last lines:"
    tail -40 "$log"
    status=1
  fi
else
  echo "test.sh: SKIP demo.sh (it needs root to make the lab's network namespaces)"
fi
exit "$status"
