//! calico-node killed with SIGKILL while policies change: its node keeps the dataplane it had
//! (stale), and once calico-node starts again the kernel enforces exactly the datastore's
//! current policies (added ones appear, deleted ones are gone).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::Lab;

const ISOLATE_Y: &str = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: isolate, namespace: 'y'}
spec:
  podSelector: {}
  policyTypes: [Ingress]
";

const ISOLATE_X: &str = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: isolate, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress]
";

/// Probe TCP 80 until the matrix (pods x/a, x/b, y/a) is `want`, bounded; the last one.
fn settle(lab: &Lab, want: &[[bool; 3]; 3]) -> Vec<Vec<bool>> {
    let want: Vec<Vec<bool>> = want.iter().map(|r| r.to_vec()).collect();
    let start = Instant::now();
    loop {
        let m = lab.probe("tcp", 80, Duration::from_millis(500));
        assert_eq!(m.pods, ["x/a", "x/b", "y/a"]);
        if m.matrix == want || start.elapsed() > Duration::from_secs(10) {
            return m.matrix;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn calico_node_killed_while_policies_change_resyncs_on_start() {
    let lab = Lab::up("kill", &["--nodes", "2"]);
    lab.ok(&["pod", "add", "x/a", "--node", "1", "--serve", "tcp/80"]);
    lab.ok(&["pod", "add", "x/b", "--node", "2", "--serve", "tcp/80"]);
    lab.ok(&["pod", "add", "y/a", "--node", "2", "--serve", "tcp/80"]);

    lab.calicoctl_ok(&["apply", "-f", "-"], ISOLATE_Y);
    // Rows are clients x/a, x/b, y/a; columns the servers in the same order.
    let y_isolated = [[true, true, false], [true, true, false], [true, true, true]];
    assert_eq!(
        settle(&lab, &y_isolated),
        y_isolated.map(|r| r.to_vec()).to_vec()
    );

    let out = lab.ok(&["node", "stop", "--node", "2", "--kill"]);
    assert!(out.contains("killed"), "{out}");
    lab.calicoctl_ok(&["delete", "-f", "-"], ISOLATE_Y);
    lab.calicoctl_ok(&["apply", "-f", "-"], ISOLATE_X);

    // Node 1 follows (x/a isolated); node 2 keeps its stale rules (x/b open, y/a isolated).
    let stale = [
        [true, true, false],
        [false, true, false],
        [false, true, true],
    ];
    assert_eq!(
        settle(&lab, &stale),
        stale.map(|r| r.to_vec()).to_vec(),
        "while its calico-node is dead, node 2's dataplane stays as it was"
    );

    let out = lab.ok(&["node", "start", "--node", "2"]);
    assert!(out.contains("node 2: ready"), "{out}");
    let x_isolated = [
        [true, false, true],
        [false, true, true],
        [false, false, true],
    ];
    assert_eq!(
        settle(&lab, &x_isolated),
        x_isolated.map(|r| r.to_vec()).to_vec(),
        "after the restart node 2 enforces the datastore's policies: x isolated, y open"
    );
    let status = lab.ok(&["status"]);
    assert_eq!(status.matches(", ready").count(), 2, "{status}");
}
