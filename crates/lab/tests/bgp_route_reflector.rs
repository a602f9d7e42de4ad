//! Route reflectors without encapsulation: three nodes with `--route-reflector 1` (Calico's
//! recipe: the mesh off, node 1 with a cluster ID and the label route-reflector=true, one
//! BGPPeer from every node to the reflectors). Pods on nodes 2 and 3 reach each other by
//! routes learned through the reflector (next hop kept: straight over the underlay), node 2's
//! `calicoctl node status` lists only the reflector, and the reflector lists both clients.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Lab, uniform};

/// The peer rows of `calicoctl node status` (lines of its table naming an underlay address).
fn peer_rows(status: &str) -> Vec<String> {
    status
        .lines()
        .filter(|l| l.contains("| 172.18.0."))
        .map(str::to_string)
        .collect()
}

#[test]
fn route_reflector_carries_routes_between_its_clients() {
    let lab = Lab::up(
        "rr",
        &["--encap", "none", "--nodes", "3", "--route-reflector", "1"],
    );
    let get = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-o", "json"]);
        let out = lab.calicoctl_ok(&all, "");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
    };
    let cfg = get(&["bgpconfiguration", "default"]);
    assert_eq!(cfg["spec"]["nodeToNodeMeshEnabled"], false, "{cfg}");
    let peer = get(&["bgppeer", "peer-with-route-reflectors"]);
    assert_eq!(peer["spec"]["nodeSelector"], "all()", "{peer}");
    assert_eq!(
        peer["spec"]["peerSelector"], "route-reflector == 'true'",
        "{peer}"
    );
    let node1 = get(&["node", "node1"]);
    assert_eq!(
        node1["spec"]["bgp"]["routeReflectorClusterID"], "244.0.0.1",
        "{node1}"
    );
    assert_eq!(
        node1["metadata"]["labels"]["route-reflector"], "true",
        "{node1}"
    );
    assert_eq!(
        node1["spec"]["bgp"]["ipv4Address"], "172.18.0.11/24",
        "calico-node's startup address survives the update: {node1}"
    );
    let node2 = get(&["node", "node2"]);
    assert!(
        node2["spec"]["bgp"]["routeReflectorClusterID"].is_null(),
        "{node2}"
    );

    let a = lab.ok(&["pod", "add", "x/a", "--node", "2", "--serve", "tcp/80"]);
    let b = lab.ok(&["pod", "add", "x/b", "--node", "3", "--serve", "tcp/80"]);
    let (ip_a, ip_b) = (common::pod_ip(&a), common::pod_ip(&b));
    let m = lab.probe_until_uniform("tcp", 80, true);
    assert_eq!(m.matrix, uniform(&m.pods, true), "{}", m.table());
    let m = lab.probe_until_uniform("icmp", 0, true);
    assert_eq!(m.matrix, uniform(&m.pods, true), "{}", m.table());
    // Reflected routes keep their next hop: node 2 sends to node 3 directly, and back.
    common::assert_bgp_route(&lab, 2, &ip_b, 3);
    common::assert_bgp_route(&lab, 3, &ip_a, 2);

    // A client peers with the reflector only.
    for client in [2, 3] {
        let status = lab.node_exec(client, &["calicoctl", "node", "status"]);
        let rows = peer_rows(&status);
        assert_eq!(
            rows.len(),
            1,
            "node {client}: one peer, the reflector:\n{status}"
        );
        assert!(
            rows[0].contains("| 172.18.0.11 ") && rows[0].contains("Established"),
            "node {client}:\n{status}"
        );
    }
    // The reflector peers with both clients.
    let status = lab.node_exec(1, &["calicoctl", "node", "status"]);
    let rows = peer_rows(&status);
    assert_eq!(rows.len(), 2, "{status}");
    for ip in ["172.18.0.12", "172.18.0.13"] {
        assert!(
            rows.iter()
                .any(|r| r.contains(&format!("| {ip} ")) && r.contains("Established")),
            "the reflector has {ip} Established:\n{status}"
        );
    }

    let st = lab.ok(&["status"]);
    assert!(
        st.contains("encapsulation none (BGP with route reflector(s) 1)"),
        "{st}"
    );
    let bgp_lines: Vec<&str> = st
        .lines()
        .skip_while(|l| !l.starts_with("BGP "))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(bgp_lines.len(), 4, "1->2, 1->3, 2->1, 3->1:\n{st}");
    assert!(bgp_lines.iter().all(|l| l.contains("Established")), "{st}");
}
