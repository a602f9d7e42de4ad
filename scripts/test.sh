#!/usr/bin/env bash
# Runs every test of the workspace: unit, golden, property, the datastore conformance suite
# against the embedded store and a real etcd the tests start on loopback, multi-process tests,
# and calicoctl end to end. Installs missing Debian packages first (scripts/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
cargo build --workspace --bins --quiet
exec cargo test --workspace --no-fail-fast "$@"
