//! Kernel test (root): two node namespaces on an underlay bridge (in its own namespace);
//! pods on different nodes reach each other through `vxlan.calico` programmed only by the
//! dataplane from VTEPs and remote-block routes (no BGP).

mod common;

use calico_api::Action;
use calico_calc::messages::{DataplaneMessage, EncapType};
use calico_dataplane::net::vtep_mac;
use calico_dataplane::{Config, Dataplane};
use calico_policy::Direction::{Egress, Ingress};
use common::fixtures::*;
use common::lab::{Lab, Server, connects, sh, sh_ok};

fn mac_text(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn node_messages(
    me: &str,
    my_ip: &str,
    pod: (&str, &str, &str),
    remote: (&str, &str),
) -> Vec<DataplaneMessage> {
    vec![
        host(me, &format!("{my_ip}/24")),
        pool("p", "10.65.0.0/16", false, EncapType::Vxlan),
        vtep(
            "node1",
            &mac_text(vtep_mac("node1")),
            [10, 65, 0, 1],
            [172, 16, 0, 1],
        ),
        vtep(
            "node2",
            &mac_text(vtep_mac("node2")),
            [10, 65, 1, 1],
            [172, 16, 0, 2],
        ),
        remote_block(
            remote.0,
            remote.1,
            if remote.1 == "node1" {
                [172, 16, 0, 1]
            } else {
                [172, 16, 0, 2]
            },
        ),
        profile(
            "kns.ns1",
            vec![profile_rule("kns.ns1", Ingress, 0, Action::Allow)],
            vec![profile_rule("kns.ns1", Egress, 0, Action::Allow)],
        ),
        endpoint(
            "ns1",
            pod.0,
            pod.1,
            &format!("{}/32", pod.2),
            vec![],
            &["kns.ns1"],
        ),
        DataplaneMessage::InSync,
    ]
}

#[test]
fn pods_on_two_nodes_talk_over_vxlan_calico() {
    if !sh_ok(&["nft", "--version"]) {
        println!("SKIP: the nft binary is not installed");
        return;
    }
    let mut lab = Lab::new("vx");
    let under = lab.ns("under");
    sh(&["ip", "-n", &under, "link", "add", "br0", "type", "bridge"]);
    sh(&["ip", "-n", &under, "link", "set", "br0", "up"]);
    let n1 = lab.ns("node1");
    let n2 = lab.ns("node2");
    for (n, ip, port) in [(&n1, "172.16.0.1/24", "u1"), (&n2, "172.16.0.2/24", "u2")] {
        lab.wire(n, "eth0", ip, &under, port, "");
        sh(&["ip", "-n", &under, "link", "set", port, "master", "br0"]);
        sh(&["ip", "-n", n, "route", "add", "default", "dev", "eth0"]);
    }
    let p1 = lab.pod(&n1, "p1", "caliaaaa", "10.65.0.10", true);
    let p2 = lab.pod(&n2, "p2", "calibbbb", "10.65.1.10", true);
    let _s1 = Server::start(&p1, 80);
    let _s2 = Server::start(&p2, 80);
    assert!(!connects(&p1, "10.65.1.10:80"), "no overlay yet");

    let cfg = |ns: &str| Config {
        netns: Some(Lab::path(ns)),
        ..Config::default()
    };
    let mut dp1 = Dataplane::new(cfg(&n1)).expect("dataplane 1");
    let mut dp2 = Dataplane::new(cfg(&n2)).expect("dataplane 2");
    let s1 = dp1
        .apply(&node_messages(
            "node1",
            "172.16.0.1",
            ("p1", "caliaaaa", "10.65.0.10"),
            ("10.65.1.0/26", "node2"),
        ))
        .expect("node1");
    let s2 = dp2
        .apply(&node_messages(
            "node2",
            "172.16.0.2",
            ("p2", "calibbbb", "10.65.1.10"),
            ("10.65.0.0/26", "node1"),
        ))
        .expect("node2");
    assert!(
        s1.warnings.is_empty() && s2.warnings.is_empty(),
        "{s1:?} {s2:?}"
    );

    let link = sh(&["ip", "-n", &n1, "-d", "link", "show", "vxlan.calico"]);
    assert!(link.contains("vxlan id 4096"), "{link}");
    assert!(
        link.contains("local 172.16.0.1") && link.contains("dstport 4789"),
        "{link}"
    );
    assert!(
        link.contains(&mac_text(vtep_mac("node1"))),
        "MAC derived as Calico does: {link}"
    );
    let addr = sh(&["ip", "-n", &n1, "addr", "show", "vxlan.calico"]);
    assert!(addr.contains("10.65.0.1/32"), "{addr}");
    let neigh = sh(&["ip", "-n", &n1, "neigh", "show", "dev", "vxlan.calico"]);
    let mac2 = mac_text(vtep_mac("node2"));
    assert!(
        neigh.contains(&format!("10.65.1.1 lladdr {mac2} PERMANENT")),
        "{neigh}"
    );
    let fdb = sh(&[
        "ip",
        "netns",
        "exec",
        &n1,
        "bridge",
        "fdb",
        "show",
        "dev",
        "vxlan.calico",
    ]);
    assert!(fdb.contains(&format!("{mac2} dst 172.16.0.2")), "{fdb}");
    let routes = sh(&["ip", "-n", &n1, "route", "show", "proto", "80"]);
    assert!(
        routes.contains("10.65.1.0/26 via 10.65.1.1 dev vxlan.calico onlink"),
        "{routes}"
    );

    assert!(connects(&p1, "10.65.1.10:80"), "p1 → p2 over VXLAN");
    assert!(connects(&p2, "10.65.0.10:80"), "p2 → p1 over VXLAN");

    // A stale FDB entry and neighbour on our device go at resync; our routes stay.
    sh(&[
        "ip",
        "netns",
        "exec",
        &n1,
        "bridge",
        "fdb",
        "append",
        "66:00:00:00:00:99",
        "dev",
        "vxlan.calico",
        "dst",
        "172.16.0.9",
        "self",
        "permanent",
    ]);
    sh(&[
        "ip",
        "-n",
        &n1,
        "neigh",
        "add",
        "10.65.9.1",
        "lladdr",
        "66:00:00:00:00:99",
        "dev",
        "vxlan.calico",
        "nud",
        "permanent",
    ]);
    let st = dp1.resync().expect("resync");
    assert!(st.warnings.is_empty(), "{st:?}");
    let fdb = sh(&[
        "ip",
        "netns",
        "exec",
        &n1,
        "bridge",
        "fdb",
        "show",
        "dev",
        "vxlan.calico",
    ]);
    assert!(
        !fdb.contains("172.16.0.9") && fdb.contains("172.16.0.2"),
        "{fdb}"
    );
    let neigh = sh(&["ip", "-n", &n1, "neigh", "show", "dev", "vxlan.calico"]);
    assert!(
        !neigh.contains("10.65.9.1") && neigh.contains("10.65.1.1"),
        "{neigh}"
    );
    assert!(
        connects(&p1, "10.65.1.10:80"),
        "still connected after resync"
    );

    // node2 leaves: its VTEP and block go, and with them the overlay path.
    dp1.apply(&[
        DataplaneMessage::RouteRemove {
            dst: net("10.65.1.0/26"),
        },
        DataplaneMessage::VtepRemove {
            node: "node2".into(),
        },
    ])
    .expect("node2 gone");
    let fdb = sh(&[
        "ip",
        "netns",
        "exec",
        &n1,
        "bridge",
        "fdb",
        "show",
        "dev",
        "vxlan.calico",
    ]);
    assert!(!fdb.contains("172.16.0.2"), "{fdb}");
    let routes = sh(&["ip", "-n", &n1, "route", "show", "proto", "80"]);
    assert!(!routes.contains("10.65.1.0/26"), "{routes}");
    assert!(
        !connects(&p1, "10.65.1.10:80"),
        "no path without node2's VTEP"
    );
    drop((dp1, dp2));
}
