//! The lab's life cycle on the real kernel: `up` with two nodes running the real calico-node,
//! pods on both nodes wired by the real calico CNI plugin, every pod reaching every pod with
//! no policy (same node, and across nodes over VXLAN), `pod label` reaching the endpoint,
//! `pod del`, and `down` leaving no namespace, no process and no state directory. Also the
//! etcd datastore, a half-made lab cleaned by `down`, and bad `up` options (route reflectors
//! with VXLAN, unknown reflector nodes) refused before anything is made.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;
use std::time::Duration;

use calico_lab::state::{LabState, ProcessRecord};
use common::{BIN, Lab, uniform};

const T: Duration = Duration::from_secs(1);

fn state(lab: &Lab) -> LabState {
    let text = std::fs::read_to_string(lab.state_dir().join("state.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn processes(st: &LabState) -> Vec<ProcessRecord> {
    let mut out: Vec<ProcessRecord> = st
        .nodes
        .iter()
        .filter_map(|n| n.calico_node.clone())
        .collect();
    out.extend(st.pods.iter().filter_map(|p| p.server.clone()));
    out.extend(st.etcd.clone());
    out
}

/// `down` removes everything, and a second `down` is a no-op.
fn assert_down_clean(lab: &Lab, st: &LabState) {
    let procs = processes(st);
    assert!(!procs.is_empty());
    let out = lab.ok(&["down"]);
    assert!(out.contains("is down"), "{out}");
    assert_eq!(lab.namespaces(), Vec::<String>::new(), "namespaces left");
    for p in &procs {
        assert!(!calico_lab::sys::alive(p), "process {} left running", p.pid);
    }
    assert!(!lab.state_dir().exists(), "state directory left");
    let again = lab.ok(&["down"]);
    assert!(again.contains("nothing to do"), "{again}");
}

#[test]
fn lab_lifecycle_two_nodes_all_allowed_without_policy() {
    let lab = Lab::up("life", &["--nodes", "2"]);
    for (pod, node, labels) in [
        ("x/a", "1", "pod=a"),
        ("x/b", "2", "pod=b"),
        ("y/a", "1", "pod=a"),
        ("y/b", "2", "pod=b"),
    ] {
        let out = lab.ok(&[
            "pod",
            "add",
            pod,
            "--node",
            node,
            "--labels",
            labels,
            "--serve",
            "tcp/80,udp/81",
        ]);
        assert!(out.contains(&format!("on node {node}: 10.244.")), "{out}");
    }
    let status = lab.ok(&["status"]);
    assert_eq!(status.matches(", ready").count(), 2, "{status}");
    assert_eq!(status.matches(" running").count(), 2 + 4, "{status}");
    // A second `up` of the same lab, or a pod added twice, is refused and changes nothing.
    let again = lab.run(&["up"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let twice = lab.run(&["pod", "add", "x/a"]);
    assert!(String::from_utf8_lossy(&twice.stderr).contains("already exists"));
    assert_eq!(lab.ok(&["status"]), status);

    let pods = ["x/a", "x/b", "y/a", "y/b"].map(String::from).to_vec();
    for (proto, port) in [("tcp", 80), ("udp", 81), ("icmp", 0)] {
        let m = lab.probe_until_uniform(proto, port, true);
        assert_eq!(m.pods, pods);
        assert_eq!(
            m.matrix,
            uniform(&pods, true),
            "{proto}/{port}: every pod reaches every pod without policy (x/a-x/b crosses \
             the VXLAN overlay):\n{}",
            m.table()
        );
    }
    // Nothing listens on TCP 81: the prober reports failures too.
    let closed = lab.probe("tcp", 81, T);
    assert_eq!(closed.matrix, uniform(&pods, false), "{}", closed.table());

    let table = lab.ok(&["probe"]);
    assert!(
        table.starts_with("TCP/80\n-\tx/a\tx/b\ty/a\ty/b\nx/a\t.\t.\t.\t.\n"),
        "{table}"
    );

    let env = lab.ok(&["env"]);
    assert!(env.contains("export DATASTORE_TYPE=embedded\n"), "{env}");
    assert!(env.contains("export CALICO_DATASTORE_PATH="), "{env}");
    let nodes = lab.calicoctl_ok(&["get", "nodes"], "");
    assert!(
        nodes.contains("node1") && nodes.contains("node2"),
        "{nodes}"
    );

    // pod label replaces the Pod's labels and the endpoint's, keeping Calico's own.
    lab.ok(&["pod", "label", "x/b", "--labels", "pod=b,role=db"]);
    let wep = lab.calicoctl_ok(&["get", "workloadendpoints", "-n", "x", "-o", "yaml"], "");
    assert!(wep.contains("role: db"), "{wep}");
    assert!(wep.contains("projectcalico.org/namespace: x"), "{wep}");
    let pod = lab.calicoctl_ok(&["get", "pod", "b", "-n", "x", "-o", "yaml"], "");
    assert!(pod.contains("role: db"), "{pod}");

    // pod del removes the pod's namespace and its endpoint.
    let st = state(&lab);
    let ya = st.pod("y", "a").unwrap().clone();
    lab.ok(&["pod", "del", "y/a"]);
    assert!(!calico_lab::sys::netns_exists(&ya.netns));
    assert!(!calico_lab::sys::alive(ya.server.as_ref().unwrap()));
    let weps = lab.calicoctl_ok(&["get", "workloadendpoints", "-n", "y"], "");
    assert!(!weps.contains("k8s-a-eth0"), "{weps}");
    let m = lab.probe("tcp", 80, T);
    assert_eq!(m.pods, ["x/a", "x/b", "y/b"]);

    // A process a user left running in a node goes with the node.
    let mut sleeper = lab
        .cmd(&["exec", "--node", "1", "--", "sleep", "300"])
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let node1 = state(&lab).node(1).unwrap().netns.clone();
    assert!(calico_lab::sys::wait_until(
        Duration::from_secs(10),
        Duration::from_millis(20),
        || {
            let o = Command::new("ip")
                .args(["netns", "pids", &node1])
                .output()
                .unwrap();
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .count()
                >= 2
        }
    ));
    assert_down_clean(&lab, &state(&lab));
    assert!(
        calico_lab::sys::wait_until(Duration::from_secs(5), Duration::from_millis(20), || {
            sleeper.try_wait().unwrap().is_some()
        }),
        "the sleep inside node 1 was stopped by down"
    );
}

#[test]
fn etcd_lab_reaches_etcd_over_the_underlay() {
    let lab = Lab::up("etcd", &["--nodes", "2", "--datastore", "etcd"]);
    lab.ok(&["pod", "add", "x/a", "--node", "1", "--serve", "tcp/80"]);
    lab.ok(&["pod", "add", "x/b", "--node", "2", "--serve", "tcp/80"]);
    let m = lab.probe_until_uniform("tcp", 80, true);
    assert_eq!(m.matrix, uniform(&m.pods, true), "{}", m.table());
    let env = lab.ok(&["env"]);
    assert!(env.contains("export DATASTORE_TYPE=etcdv3\n"), "{env}");
    assert!(
        env.contains("export ETCD_ENDPOINTS=http://172.18.0.1:2379\n"),
        "{env}"
    );
    assert!(env.contains("reachable only from inside"), "{env}");
    let weps = lab.calicoctl_ok(&["get", "workloadendpoints", "-A"], "");
    assert_eq!(
        weps.lines().filter(|l| l.starts_with("x ")).count(),
        2,
        "{weps}"
    );
    assert!(weps.contains("node1") && weps.contains("node2"), "{weps}");
    // The lab's own client reaches etcd from inside the underlay.
    lab.ok(&["pod", "label", "x/b", "--labels", "role=db"]);
    let wep = lab.calicoctl_ok(&["get", "workloadendpoints", "-n", "x", "-o", "yaml"], "");
    assert!(wep.contains("role: db"), "{wep}");
    lab.ok(&["pod", "del", "x/a"]);
    let st = state(&lab);
    assert!(st.etcd.is_some());
    assert_eq!(st.pods.len(), 1);
    assert_down_clean(&lab, &st);
}

#[test]
fn down_cleans_a_half_made_lab() {
    common::remove_stale();
    let name = format!("lt{}-half", std::process::id());
    let fake = tempfile_dir(&name);
    // A calico-node that fails at once: `up` stops after making the namespaces.
    let script = fake.join("calico-node");
    std::fs::write(
        &script,
        "#!/bin/sh\necho 'fake calico-node: failing' >&2\nexit 3\n",
    )
    .unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .unwrap();
    let lab = Lab { name: name.clone() };
    let o = lab
        .cmd(&["up", "--nodes", "2", "--timeout", "20"])
        .env(calico_lab::bins::BIN_DIR_ENV, &fake)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("calico-node on node 1 exited"), "{err}");
    assert!(err.contains("fake calico-node: failing"), "{err}");
    assert!(err.contains("half made"), "{err}");
    assert_eq!(
        lab.namespaces().len(),
        3,
        "underlay and two nodes were made"
    );
    let status = lab.ok(&["status"]);
    assert!(status.contains("NOT READY"), "{status}");
    let down = lab.ok(&["down"]);
    assert!(down.contains("is down"), "{down}");
    assert_eq!(lab.namespaces(), Vec::<String>::new());
    assert!(!lab.state_dir().exists());
    let _ = std::fs::remove_dir_all(&fake);
}

#[test]
fn bad_up_options_are_refused_and_make_nothing() {
    let name = format!("lt{}-bad", std::process::id());
    for (args, expect) in [
        (
            vec!["--encap", "vxlan", "--route-reflector", "1"],
            "--route-reflector: route reflectors are BGP peers, and --encap vxlan runs no BGP",
        ),
        (
            vec!["--encap", "none", "--nodes", "2", "--route-reflector", "0"],
            "--route-reflector 0: nodes are numbered 1 to 2",
        ),
        (
            vec![
                "--encap",
                "none",
                "--nodes",
                "3",
                "--route-reflector",
                "1,1",
            ],
            "--route-reflector 1: given twice",
        ),
    ] {
        let o = Command::new(BIN)
            .args(["up", "--name", &name])
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?}");
        assert!(err.contains(expect), "{args:?}: {err}");
        assert!(!calico_lab::state::state_dir(&name).exists());
    }
    let bad = Command::new(BIN)
        .args(["up", "--name", "Bad_Name"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--name \"Bad_Name\""));
}

fn tempfile_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("calico-lab-test-{tag}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
