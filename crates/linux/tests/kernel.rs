//! Kernel tests: run as root (as CI does) inside namespaces they create and remove.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use calico_linux::{
    Kernel, MacAddr, NamedNetns, Neighbour, NetOps, Route, RouteScope, VethSpec, remove_stale_netns,
};

const PREFIX: &str = "lnxt-";

fn netns() -> NamedNetns {
    static N: AtomicUsize = AtomicUsize::new(0);
    remove_stale_netns(PREFIX);
    let name = format!(
        "{PREFIX}{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    NamedNetns::create(&name).unwrap_or_else(|e| {
        panic!("cannot create network namespace {name} (these tests need root): {e}")
    })
}

/// Up to three single pings (bounded: at most ~6 s), so a loaded machine does not fail a test.
fn ping(from: &NamedNetns, to: &str) -> bool {
    (0..3).any(|_| ping_once(from, to))
}

fn ping_once(ns: &NamedNetns, target: &str) -> bool {
    Command::new("ip")
        .args([
            "netns",
            "exec",
            ns.name(),
            "ping",
            "-c",
            "1",
            "-W",
            "2",
            target,
        ])
        .output()
        .map(|o| o.status.success())
        .expect("cannot run `ip netns exec ... ping` (install iproute2 and iputils-ping)")
}

#[test]
fn calico_style_veth_wiring_passes_traffic() {
    let node = netns();
    let pod = netns();
    let k = Kernel::new();
    let (n, p) = (node.path(), pod.path());
    k.set_link_up(n, "lo").unwrap();
    k.set_link_up(p, "lo").unwrap();
    k.add_address(n, "lo", "10.99.0.1/32".parse().unwrap())
        .unwrap();
    k.add_route(n, &Route::link("0.0.0.0/0".parse().unwrap(), "lo"))
        .unwrap();

    let pair = k
        .create_veth(&VethSpec {
            container_ns: p.into(),
            container_if: "eth0".into(),
            host_ns: n.into(),
            host_if: "calitest0000001".into(),
            mtu: Some(1400),
            host_mac: Some(MacAddr::CALICO_HOST),
            container_mac: None,
            up: true,
        })
        .unwrap();
    let host = k.link(n, "calitest0000001").unwrap().unwrap();
    assert_eq!(host.index, pair.host_index);
    assert_eq!(host.mac, Some(MacAddr::CALICO_HOST));
    assert_eq!(host.mtu, Some(1400));
    assert!(host.up);
    assert_eq!(host.kind.as_deref(), Some("veth"));
    let cont = k.link(p, "eth0").unwrap().unwrap();
    assert_eq!(cont.mac, Some(pair.container_mac));
    assert!(cont.up);
    assert!(
        k.link(n, "eth0").unwrap().is_none(),
        "container end must not be in the node"
    );

    for key in ["proxy_arp", "forwarding", "route_localnet"] {
        k.set_sysctl(n, &format!("net/ipv4/conf/calitest0000001/{key}"), "1")
            .unwrap();
        assert_eq!(
            k.sysctl(n, &format!("net/ipv4/conf/calitest0000001/{key}"))
                .unwrap(),
            "1"
        );
    }
    k.set_sysctl(n, "net/ipv4/neigh/calitest0000001/proxy_delay", "0")
        .unwrap();
    k.set_sysctl(p, "net/ipv4/ip_forward", "0").unwrap();
    // The pod's sysctl is its own: the node's stays as it was.
    k.set_sysctl(n, "net/ipv4/ip_forward", "1").unwrap();
    assert_eq!(k.sysctl(p, "net/ipv4/ip_forward").unwrap(), "0");

    k.add_address(p, "eth0", "10.244.0.5/32".parse().unwrap())
        .unwrap();
    let v4 = |addrs: Vec<ipnet::IpNet>| -> Vec<ipnet::IpNet> {
        addrs.into_iter().filter(|a| a.addr().is_ipv4()).collect()
    };
    assert_eq!(
        v4(k.addresses(p, "eth0").unwrap()),
        vec!["10.244.0.5/32".parse().unwrap()]
    );
    assert!(v4(k.addresses(n, "calitest0000001").unwrap()).is_empty());
    let gw_route = Route::link("169.254.1.1/32".parse().unwrap(), "eth0");
    let default = Route::via(
        "0.0.0.0/0".parse().unwrap(),
        "169.254.1.1".parse().unwrap(),
        "eth0",
    );
    k.add_route(p, &gw_route).unwrap();
    k.add_route(p, &default).unwrap();
    let host_route = Route::link("10.244.0.5/32".parse().unwrap(), "calitest0000001");
    k.add_route(n, &host_route).unwrap();
    let err = k.add_route(n, &host_route).unwrap_err();
    assert!(err.is_exists(), "{err}");

    let routes = k.routes(p).unwrap();
    assert!(routes.contains(&gw_route), "{routes:?}");
    assert!(routes.contains(&default), "{routes:?}");
    assert!(k.routes(n).unwrap().contains(&host_route));

    assert!(
        ping(&pod, "10.99.0.1"),
        "pod cannot reach the node through proxy ARP"
    );
    let neigh = k.neighbours(p, "eth0").unwrap();
    assert!(
        neigh
            .iter()
            .any(|x| x.ip.to_string() == "169.254.1.1" && x.mac == MacAddr::CALICO_HOST),
        "169.254.1.1 must resolve to the host end: {neigh:?}"
    );

    // Static neighbours.
    let nb = Neighbour {
        ip: "10.244.0.5".parse().unwrap(),
        mac: pair.container_mac,
        dev: "calitest0000001".into(),
        permanent: true,
    };
    k.add_neighbour(n, &nb).unwrap();
    assert!(k.neighbours(n, "calitest0000001").unwrap().contains(&nb));

    // Deleting the container end removes the host end and its routes.
    assert!(k.delete_route(n, &host_route).unwrap());
    assert!(!k.delete_route(n, &host_route).unwrap());
    assert!(k.delete_link(p, "eth0").unwrap());
    assert!(!k.delete_link(p, "eth0").unwrap());
    assert!(k.link(n, "calitest0000001").unwrap().is_none());
    assert!(
        !k.routes(n)
            .unwrap()
            .iter()
            .any(|r| r.dev == "calitest0000001")
    );
    assert_eq!(
        Route::link("10.0.0.0/8".parse().unwrap(), "x").scope,
        RouteScope::Link
    );
}

#[test]
fn missing_namespace_is_reported() {
    let k = Kernel::new();
    let missing = Path::new("/run/netns/lnxt-does-not-exist");
    assert!(!k.netns_exists(missing));
    let err = k.link(missing, "eth0").unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    let err = k
        .create_veth(&VethSpec {
            container_ns: missing.into(),
            container_if: "eth0".into(),
            host_ns: "/proc/self/ns/net".into(),
            host_if: "calix".into(),
            mtu: None,
            host_mac: None,
            container_mac: None,
            up: true,
        })
        .unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
}

#[test]
fn duplicate_names_fail_and_leave_nothing() {
    let node = netns();
    let pod = netns();
    let k = Kernel::new();
    let spec = VethSpec {
        container_ns: pod.path().into(),
        container_if: "eth0".into(),
        host_ns: node.path().into(),
        host_if: "calidup".into(),
        mtu: None,
        host_mac: None,
        container_mac: None,
        up: true,
    };
    k.create_veth(&spec).unwrap();
    let mut again = spec.clone();
    again.container_if = "eth1".into();
    let err = k.create_veth(&again).unwrap_err();
    assert!(err.is_exists(), "{err}");
    assert!(k.link(pod.path(), "eth1").unwrap().is_none());
    let names: Vec<String> = k
        .links(pod.path())
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(names, vec!["lo".to_string(), "eth0".to_string()]);
}

#[test]
fn named_netns_is_removed_on_drop() {
    let ns = netns();
    let path = ns.path().to_path_buf();
    assert!(calico_linux::netns_exists(&path));
    drop(ns);
    assert!(!path.exists());
}

#[test]
fn index_based_calls_use_the_indexes_create_veth_returned() {
    let node = netns();
    let pod = netns();
    let k = Kernel::new();
    let (n, p) = (node.path(), pod.path());
    let pair = k
        .create_veth(&VethSpec {
            container_ns: p.into(),
            container_if: "eth0".into(),
            host_ns: n.into(),
            host_if: "caliidx0000001".into(),
            mtu: None,
            host_mac: Some(MacAddr::CALICO_HOST),
            container_mac: None,
            up: true,
        })
        .unwrap();
    assert_eq!(
        k.link(p, "eth0").unwrap().unwrap().index,
        pair.container_index
    );
    assert_eq!(
        k.link(n, "caliidx0000001").unwrap().unwrap().index,
        pair.host_index
    );
    let addr: ipnet::IpNet = "10.244.1.7/32".parse().unwrap();
    k.add_address_at(p, "eth0", pair.container_index, addr)
        .unwrap();
    let gw = Route::link("169.254.1.1/32".parse().unwrap(), "eth0");
    k.add_route_at(p, &gw, pair.container_index).unwrap();
    let host_route = Route::link(addr, "caliidx0000001");
    k.add_route_at(n, &host_route, pair.host_index).unwrap();
    assert!(k.addresses(p, "eth0").unwrap().contains(&addr));
    assert!(k.routes(p).unwrap().contains(&gw));
    assert!(k.routes(n).unwrap().contains(&host_route));
    // An index that is not there is the kernel's error, not a panic.
    let err = k.add_route_at(n, &host_route, 999_999).unwrap_err();
    assert!(err.errno().is_some(), "{err}");
}
