#!/usr/bin/env bash
# The main job: bring up a calico-rs lab cluster and show it working.
#  1. calicoctl on a fresh embedded datastore (one file, no server): pools, a tier, Calico and
#     Kubernetes policies, tables and YAML; a file with errors is rejected as a whole, nothing
#     written.
#  2. as root: `calico-lab up` — two nodes (network namespaces on a private underlay), each running
#     the real calico-node (Felix on nftables, VXLAN between nodes); pods wired by the real calico
#     CNI plugin; an every-pod-to-every-pod probe; policies applied with calicoctl change what
#     the kernel lets through; `calicoctl explain` names the rule that decided; `calico-lab down`
#     removes everything. Only namespaces the lab creates are touched (never the root namespace).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
cargo build --release --quiet -p calicoctl -p calico-cni-plugin -p calico-node -p calico-lab
bin=${CARGO_TARGET_DIR:-$PWD/target}/release
ctl=$bin/calicoctl
store=$(mktemp -d)
lab="demo$$"
cleanup() {
  if [ "$(id -u)" = 0 ]; then "$bin/calico-lab" down --name "$lab" >/dev/null 2>&1 || true; fi
  rm -rf "$store"
}
trap cleanup EXIT
say() { echo; echo "\$ $*"; }
run() { say "calicoctl $*"; "$ctl" "$@"; }

echo "== 1. calicoctl on an embedded datastore =="
export CALICO_DATASTORE_PATH="$store/calico.db"
run create -f examples/pools.yaml
run apply -f examples/policy.yaml
run get ippools -o wide
run get tiers
run get networkpolicy -n shop -o wide
say "calicoctl apply -f examples/bad.yaml   # must fail and write nothing"
if "$ctl" apply -f examples/bad.yaml; then echo "unexpected success" >&2; exit 1; fi
unset CALICO_DATASTORE_PATH

if [ "$(id -u)" != 0 ]; then
  echo; echo "(not root: skipping the lab, which creates network namespaces)"
  exit 0
fi
echo; echo "== 2. a two-node lab cluster =="
lab() { say "calico-lab $*"; "$bin/calico-lab" --name "$lab" "$@"; }
lab up --nodes 2
eval "$("$bin/calico-lab" --name "$lab" env)"
lab pod add shop/web --node 1 --labels app=web --serve tcp/80,tcp/81
lab pod add shop/frontend --node 2 --labels app=frontend --serve tcp/80
lab pod add shop/batch --node 1 --labels app=batch --serve tcp/80
lab pod add other/frontend --node 2 --labels app=frontend --serve tcp/80
lab status
run get workloadendpoints -A -o wide
echo; echo "-- no policy: everything connects (rows: clients, columns: servers) --"
lab probe --port 80
run apply -f examples/lab-policy.yaml
sleep 0.3   # policy changes reach the nodes in tens of milliseconds; let them land before probing
echo; echo "-- shop denies ingress except app=frontend in shop to app=web on TCP 80 --"
lab probe --port 80
lab probe --port 81
run explain --from shop/frontend --to shop/web --port 80 --protocol tcp
run explain --from other/frontend --to shop/web --port 80 --protocol tcp
run apply -f examples/lab-tier.yaml
lab pod label shop/frontend --labels app=frontend,quarantine=true
sleep 0.3   # policy changes reach the nodes in tens of milliseconds; let them land before probing
echo; echo "-- a higher tier denies quarantined pods whatever the Kubernetes policy allows --"
lab probe --port 80
run explain --from shop/frontend --to shop/web --port 80 --protocol tcp
say "calico-lab exec --node 1 -- nft list table inet calico | head -40"
# sed reads everything (head would close the pipe early and, under pipefail, fail the demo)
"$bin/calico-lab" --name "$lab" exec --node 1 -- nft list table inet calico | sed -n '1,40p'
echo "  ..."
lab down
echo; echo "demo done: the lab is gone (ip netns list shows none of its namespaces)"
