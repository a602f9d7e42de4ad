//! calico-node stopped and started again without encapsulation: while node 2's calico-node
//! is down its BGP status file is gone (`calicoctl node status` on it: Calico is not
//! running) and node 1's session with it is not Established; after `node start` (SIGTERM or
//! SIGKILL before) the sessions come back, node 1 routes node 2's pods by BGP again and every
//! pod reaches every pod.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{Lab, uniform};

fn node1_peer_row(lab: &Lab) -> String {
    let status = lab.node_exec(1, &["calicoctl", "node", "status"]);
    status
        .lines()
        .find(|l| l.contains("| 172.18.0.12 "))
        .unwrap_or_else(|| panic!("node 1 lists node 2 as a peer:\n{status}"))
        .to_string()
}

#[test]
fn bgp_sessions_and_routes_return_after_node_restart() {
    let lab = Lab::up("bgprs", &["--encap", "none", "--nodes", "2"]);
    let a = lab.ok(&["pod", "add", "x/a", "--node", "1", "--serve", "tcp/80"]);
    let b = lab.ok(&["pod", "add", "x/b", "--node", "2", "--serve", "tcp/80"]);
    let (ip_a, ip_b) = (common::pod_ip(&a), common::pod_ip(&b));
    let m = lab.probe_until_uniform("tcp", 80, true);
    assert_eq!(m.matrix, uniform(&m.pods, true), "{}", m.table());
    common::assert_bgp_route(&lab, 1, &ip_b, 2);
    common::assert_bgp_route(&lab, 2, &ip_a, 1);
    assert!(node1_peer_row(&lab).contains("Established"));

    for kill in [false, true] {
        let mut stop = vec!["node", "stop", "--node", "2"];
        if kill {
            stop.push("--kill");
        }
        let out = lab.ok(&stop);
        assert!(
            out.contains(if kill { "killed" } else { "stopped" }),
            "{out}"
        );
        let o = lab.run(&["exec", "--node", "2", "--", "calicoctl", "node", "status"]);
        assert!(!o.status.success());
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("Calico process is not running."),
            "{o:?}"
        );
        // Node 1 notices that its peer is gone (bounded wait).
        let start = Instant::now();
        let mut row = node1_peer_row(&lab);
        while row.contains("Established") && start.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(200));
            row = node1_peer_row(&lab);
        }
        assert!(
            !row.contains("Established"),
            "node 1's session with the stopped node 2 is down (kill: {kill}): {row}"
        );
        let st = lab.ok(&["status"]);
        assert!(st.contains("(no status file"), "{st}");

        let out = lab.ok(&["node", "start", "--node", "2"]);
        assert!(out.contains("node 2: ready"), "{out}");
        assert!(out.contains("BGP: every session established"), "{out}");
        assert!(node1_peer_row(&lab).contains("Established"));
        let m = lab.probe_until_uniform("tcp", 80, true);
        assert_eq!(
            m.matrix,
            uniform(&m.pods, true),
            "after node 2 restarted (kill: {kill}):\n{}",
            m.table()
        );
        common::assert_bgp_route(&lab, 1, &ip_b, 2);
        common::assert_bgp_route(&lab, 2, &ip_a, 1);
    }
}
