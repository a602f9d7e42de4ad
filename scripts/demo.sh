#!/usr/bin/env bash
# The main job, for now: build calicoctl and drive it against a fresh embedded datastore (one
# file, no server) with the manifests in examples/: create pools and policies, list them as
# tables and YAML, and show that a file with errors is rejected as a whole with every error named.
# (The multi-node lab, calico-lab, arrives with the calico-node work.)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
cargo build --release --quiet -p calicoctl
ctl=./target/release/calicoctl
store=$(mktemp -d)
trap 'rm -rf "$store"' EXIT
export CALICO_DATASTORE_PATH="$store/calico.db"
run() { echo; echo "\$ calicoctl $*"; "$ctl" "$@"; }
run create -f examples/pools.yaml
run apply -f examples/policy.yaml
run get ippools -o wide
run get tiers
run get networkpolicy -n shop -o wide
run get globalnetworkset blocked -o yaml
run get clusterinformation
echo; echo "\$ calicoctl apply -f examples/bad.yaml   # must fail and write nothing"
if "$ctl" apply -f examples/bad.yaml; then echo "unexpected success" >&2; exit 1; fi
run get ippools
