#!/usr/bin/env bash
# The main job, for now (the multi-node lab, calico-lab, arrives with the calico-node work):
#  1. build calicoctl and drive it against a fresh embedded datastore (one file, no server) with
#     the manifests in examples/: pools, a tier, Calico and Kubernetes policies; tables and YAML;
#     a file with errors rejected as a whole, every error named, nothing written;
#  2. as root: a "node" network namespace, two pod namespaces wired by the real `calico` CNI
#     plugin (calico-ipam in process) exactly as a container runtime calls it; the pods get pool
#     addresses and ping each other; their WorkloadEndpoints carry the pods' labels; DEL removes
#     everything. Only namespaces this script creates are touched, and they are removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
cargo build --release --quiet -p calicoctl -p calico-cni-plugin
ctl=./target/release/calicoctl
store=$(mktemp -d)
tag="demo-$$"
cleanup() {
  for ns in "$tag-a" "$tag-b" "$tag-node"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$store"
}
trap cleanup EXIT
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

if [ "$(id -u)" != 0 ]; then
  echo; echo "(not root: skipping the CNI part, which creates network namespaces)"
  exit 0
fi
echo; echo "== CNI: two pods on one node, wired by the calico plugin =="
run apply -f examples/pods.yaml
ip netns add "$tag-node"; ip netns add "$tag-a"; ip netns add "$tag-b"
ip -n "$tag-node" link set lo up
ip -n "$tag-node" addr add 10.99.0.1/32 dev lo      # the node's address
ip -n "$tag-node" route add default dev lo           # so proxy ARP answers for 169.254.1.1
conf=$(printf '{"cniVersion":"0.3.1","name":"k8s-pod-network","type":"calico","nodename":"node1",
  "datastore_type":"embedded","datastore_path":"%s","mtu":1450,"ipam":{"type":"calico-ipam"},
  "policy":{"type":"k8s"}}' "$CALICO_DATASTORE_PATH")
cni() { # COMMAND CONTAINERID NETNS POD
  echo "$conf" | CNI_COMMAND=$1 CNI_CONTAINERID=$2 CNI_NETNS=/run/netns/$3 CNI_IFNAME=eth0 \
    CNI_ARGS="K8S_POD_NAMESPACE=shop;K8S_POD_NAME=$4" CNI_PATH="$PWD/target/release" \
    nsenter --net="/run/netns/$tag-node" ./target/release/calico
}
echo; echo "\$ CNI_COMMAND=ADD calico   # pod shop/web"; cni ADD "${tag}web" "$tag-a" web | tee "$store/a.json"
echo; echo "\$ CNI_COMMAND=ADD calico   # pod shop/frontend"; cni ADD "${tag}frontend" "$tag-b" frontend >/dev/null
ipb=$(ip -n "$tag-b" -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)
echo; echo "\$ ip -n pod-a route; ip -n node route"
ip -n "$tag-a" route; ip -n "$tag-node" route
echo; echo "\$ ping from shop/web to shop/frontend ($ipb)"
ip netns exec "$tag-a" ping -c 2 -W 2 "$ipb"
run get workloadendpoints -n shop -o wide
run get workloadendpoints -n shop -o yaml
run ipam show --show-blocks
run ipam check
cni DEL "${tag}web" "$tag-a" web; cni DEL "${tag}frontend" "$tag-b" frontend
echo; echo "after DEL: node links:"; ip -n "$tag-node" -o link | awk -F': ' '{print $2}'
run get workloadendpoints -A
