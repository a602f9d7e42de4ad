#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, when missing (needs root then).
# etcd-server/etcd-client: the etcd v3 backend is tested against a real etcd the tests start;
# protobuf-compiler/libprotobuf-dev: the etcd client's build script; openssl: etcd TLS tests.
set -euo pipefail
need=()
command -v etcd >/dev/null || need+=(etcd-server)
command -v etcdctl >/dev/null || need+=(etcd-client)
command -v protoc >/dev/null || need+=(protobuf-compiler)
[ -f /usr/include/google/protobuf/descriptor.proto ] || need+=(libprotobuf-dev)
command -v openssl >/dev/null || need+=(openssl)
# CNI plugins: podman (CNI backend) runs real containers in the end-to-end test; Debian's
# reference plugins (ptp, bridge, host-local) are the peers of the benchmarks and host-local
# is a supported IPAM; busybox-static makes the local container image.
command -v ip >/dev/null || need+=(iproute2)
command -v ping >/dev/null || need+=(iputils-ping)
command -v nsenter >/dev/null || need+=(util-linux)
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
[ -x /bin/busybox ] || need+=(busybox-static)
[ -x /usr/lib/cni/host-local ] || need+=(containernetworking-plugins)
# calico-node's dataplane drives nft; the benchmarks compare with iptables and measure with iperf3.
command -v nft >/dev/null || need+=(nftables)
command -v iptables >/dev/null || need+=(iptables)
command -v iperf3 >/dev/null || need+=(iperf3)
# BGP interoperability tests and benchmarks run real peers in namespaces.
command -v bird >/dev/null || need+=(bird2)
[ -x /usr/lib/frr/bgpd ] || need+=(frr)
command -v gobgpd >/dev/null || need+=(gobgpd)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "deps: missing Debian packages: ${need[*]} (run as root, or: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "deps: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian's etcd-server package may start a system etcd on the default ports; the tests start
# their own on free loopback ports and do not need it.
if command -v systemctl >/dev/null && systemctl is-active --quiet etcd 2>/dev/null; then
  systemctl stop etcd || true
fi
