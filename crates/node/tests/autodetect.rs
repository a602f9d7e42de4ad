//! IPv4 autodetection against a real interface list: a namespace with veth pairs (this
//! kernel has no dummy interfaces) named like host interfaces.

mod common;

use calico_node::autodetect::{Method, autodetect_v4, route_source, system_interfaces};
use common::{Netns, kernel_ready};

#[test]
fn autodetection_methods_in_a_namespace() {
    if !kernel_ready() {
        return;
    }
    let ns = Netns::new();
    // The kernel numbers a veth's peer first: ens7 < docker0 < veth0 < eth0 by index.
    ns.ip(&[
        "link", "add", "docker0", "type", "veth", "peer", "name", "ens7",
    ]);
    ns.ip(&[
        "link", "add", "eth0", "type", "veth", "peer", "name", "veth0",
    ]);
    for (dev, addr) in [
        ("docker0", "172.17.0.1/16"),
        ("ens7", "192.168.77.2/24"),
        ("eth0", "10.20.0.5/24"),
        ("veth0", "10.30.0.1/24"),
    ] {
        ns.ip(&["addr", "add", addr, "dev", dev]);
        ns.ip(&["link", "set", dev, "up"]);
    }
    let results = ns.run(|| {
        let ifaces = system_interfaces().expect("interfaces");
        let names: Vec<String> = ifaces.iter().map(|i| i.name.clone()).collect();
        let detect = |m: &str| {
            autodetect_v4(&Method::parse(m).expect("method"), &ifaces, route_source)
                .map(|(i, n)| format!("{i} {n}"))
                .map_err(|e| e.to_string())
        };
        (
            names,
            [
                detect("first-found"),
                detect("skip-interface=ens.*"),
                detect("interface=^eth.*"),
                detect("interface=veth0"),
                detect("cidr=10.20.0.0/16"),
                detect("can-reach=192.168.77.50"),
                detect("can-reach=10.30.0.9"),
                detect("interface=nothing.*"),
                detect("interface=eth.*"),
            ],
        )
    });
    let (names, r) = results;
    assert_eq!(
        names,
        ["lo", "ens7", "docker0", "veth0", "eth0"],
        "index order"
    );
    assert_eq!(
        r[0].as_deref(),
        Ok("ens7 192.168.77.2/24"),
        "docker0 and lo are excluded"
    );
    assert_eq!(r[1].as_deref(), Ok("eth0 10.20.0.5/24"));
    assert_eq!(r[2].as_deref(), Ok("eth0 10.20.0.5/24"));
    assert_eq!(
        r[3].as_deref(),
        Ok("veth0 10.30.0.1/24"),
        "interface= has no default excludes"
    );
    assert_eq!(r[4].as_deref(), Ok("eth0 10.20.0.5/24"));
    assert_eq!(r[5].as_deref(), Ok("ens7 192.168.77.2/24"));
    assert_eq!(r[6].as_deref(), Ok("veth0 10.30.0.1/24"));
    assert!(
        r[7].as_ref()
            .is_err_and(|e| e.contains("no valid IPv4 addresses")),
        "{:?}",
        r[7]
    );
    // Like Go's regexp.MatchString, the regexes are not anchored: eth.* matches veth0 too.
    assert_eq!(r[8].as_deref(), Ok("veth0 10.30.0.1/24"));
}
