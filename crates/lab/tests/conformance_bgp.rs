//! The policy conformance suite on the kernel without encapsulation: the same scenarios as
//! `conformance.rs` (runner `common::conformance`) on a two-node lab with `--encap none`, the
//! nodes exchanging their pod blocks by BGP (calico-node's speaker, full mesh) and routing
//! pod traffic over the underlay as it is. Before the suite, node 1 is checked to route a
//! pod of node 2 by a BGP-learned route via node 2's underlay address.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use calico_policy::scenarios::PODS;

#[test]
fn kernel_enforces_every_policy_scenario_over_bgp() {
    common::conformance::run("confbgp", &["--encap", "none"], |lab| {
        let on_node2 = PODS.iter().find(|p| p.node == 1).expect("a pod on node 2");
        common::assert_bgp_route(lab, 1, &on_node2.ip.to_string(), 2);
        let status = lab.node_exec(1, &["calicoctl", "node", "status"]);
        assert!(
            status.contains("172.18.0.12") && status.contains("Established"),
            "node 1 peers with node 2:\n{status}"
        );
    });
}
