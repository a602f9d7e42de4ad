#!/usr/bin/env bash
# Runs every test of the workspace (unit, golden, property, conformance against the embedded
# store and a real etcd started by the tests, multi-process tests). Needs root only for the
# kernel tests of later components; needs etcd and protoc (see .ci/run for the packages).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --workspace --bins --quiet
exec cargo test --workspace --no-fail-fast "$@"
