//! calico-node as a process inside a network namespace of its own (so ports 9099/9091 and the
//! nftables table are private to the test), on the embedded datastore: health and metrics
//! over HTTP, policy rules following the datastore, and a `kill -9` restart that ends with
//! exactly the ruleset a fresh calico-node computes.

mod common;

use std::time::Duration;

use calico_api::{Resource, find_kind};
use calico_client::{Client, DatastoreConfig, DatastoreType};
use common::{Netns, NodeProc, kernel_ready, wait_for, wait_ready};
use serde_json::json;

const NODE: &str = "tst-node";
const LIMIT: Duration = Duration::from_secs(30);

struct Lab {
    dir: tempfile::TempDir,
    client: Client,
}

impl Lab {
    fn new() -> Lab {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = DatastoreConfig {
            datastore_type: DatastoreType::Embedded,
            embedded_path: dir.path().join("calico.db"),
            etcd: Default::default(),
        };
        let client = Client::connect(&cfg).expect("embedded store");
        Lab { dir, client }
    }

    fn env(&self, ip: &str) -> Vec<(&'static str, String)> {
        vec![
            ("NODENAME", NODE.into()),
            ("IP", ip.into()),
            ("CALICO_IPV4POOL_CIDR", "10.244.0.0/16".into()),
            (
                "CALICO_DATASTORE_PATH",
                self.dir.path().join("calico.db").display().to_string(),
            ),
            (
                "CALICO_NODENAME_FILE",
                self.dir.path().join("nodename").display().to_string(),
            ),
            ("FELIX_PROMETHEUSMETRICSENABLED", "true".into()),
            ("FELIX_LOGSEVERITYSCREEN", "Debug".into()),
            (
                "FELIX_MTUFILEPATH",
                self.dir.path().join("mtu").display().to_string(),
            ),
        ]
    }

    fn apply(&self, v: serde_json::Value) {
        let r = Resource::from_value(v).expect("resource");
        self.client.apply(r).expect("apply");
    }

    fn delete(&self, kind: &str, ns: &str, name: &str) {
        self.client
            .delete(find_kind(kind, None).expect("kind"), ns, name, None)
            .expect("delete");
    }

    fn wep(&self, pod: &str, iface: &str, ip: &str, app: &str) {
        self.apply(json!({
            "apiVersion": "projectcalico.org/v3", "kind": "WorkloadEndpoint",
            "metadata": {"name": format!("tst--node-k8s-{pod}-eth0"), "namespace": "default",
                "labels": {"app": app, "projectcalico.org/namespace": "default",
                           "projectcalico.org/orchestrator": "k8s"}},
            "spec": {"orchestrator": "k8s", "node": NODE, "workload": "", "pod": pod,
                     "endpoint": "eth0", "interfaceName": iface,
                     "ipNetworks": [format!("{ip}/32")], "profiles": ["kns.default"]}
        }));
    }

    fn gnp(&self, name: &str, selector: &str, port: u16) {
        self.apply(json!({
            "apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
            "metadata": {"name": name},
            "spec": {"selector": selector, "types": ["Ingress"],
                     "ingress": [{"action": "Allow", "protocol": "TCP",
                                  "destination": {"ports": [port]}}]}
        }));
    }
}

fn policy_chains(table: &str) -> usize {
    table
        .lines()
        .filter(|l| l.trim_start().starts_with("chain cali-pi-"))
        .count()
}

#[test]
fn health_readiness_and_metrics_over_http() {
    if !kernel_ready() {
        return;
    }
    let lab = Lab::new();
    let ns = Netns::new();
    let mut node = NodeProc::start(&ns, lab.dir.path(), &[], &lab.env("10.99.0.1/24"));
    wait_ready(&ns, &mut node, LIMIT);
    let (code, body) = ns.http_get(9099, "/liveness").expect("liveness");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("calc-graph: live=true ready=true"), "{body}");
    assert!(body.contains("dataplane: live=true ready=true"), "{body}");
    assert_eq!(ns.http_get(9099, "/nope").expect("404").0, 404);
    // No host interface matches mtuIfacePattern here and no pool uses VXLAN: 1500.
    assert_eq!(
        std::fs::read_to_string(lab.dir.path().join("mtu")).expect("MTU file"),
        "1500"
    );
    // The probe flags, as a kubelet exec probe would run them inside the node.
    for flag in ["-felix-live", "-felix-ready"] {
        let st = std::process::Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns.name,
                env!("CARGO_BIN_EXE_calico-node"),
                flag,
            ])
            .output()
            .expect("probe");
        assert!(st.status.success(), "{flag}: {st:?}");
    }

    lab.wep("web", "cali0123456789a", "10.244.0.10", "web");
    lab.gnp("allow-web", "app == 'web'", 80);
    let metrics = wait_for(LIMIT, || {
        let (code, text) = ns.http_get(9091, "/metrics").ok()?;
        (code == 200
            && text.contains("\nfelix_active_local_endpoints 1\n")
            && text.contains("\nfelix_active_local_policies 1\n"))
        .then_some(text)
    })
    .unwrap_or_else(|| panic!("metrics never showed the endpoint:\n{}", node.log_text()));
    for name in [
        "felix_active_local_selectors",
        "felix_cluster_num_hosts 1",
        "felix_cluster_num_workload_endpoints 1",
        "felix_cluster_num_policies 1",
        "felix_resyncs_started 1",
        "felix_int_dataplane_apply_time_seconds_count",
        "felix_int_dataplane_apply_time_seconds{quantile=\"0.99\"}",
        "felix_calc_graph_update_time_seconds_sum",
        "felix_int_dataplane_messages{type=\"WorkloadEndpointUpdate\"}",
        "process_resident_memory_bytes",
    ] {
        assert!(metrics.contains(name), "{name} missing:\n{metrics}");
    }
}

#[test]
fn policy_rules_appear_and_disappear() {
    if !kernel_ready() {
        return;
    }
    let lab = Lab::new();
    let ns = Netns::new();
    let mut node = NodeProc::start(&ns, lab.dir.path(), &[], &lab.env("10.99.0.1/24"));
    wait_ready(&ns, &mut node, LIMIT);
    lab.wep("web", "cali0123456789a", "10.244.0.10", "web");
    let t = wait_for(LIMIT, || {
        ns.calico_table().filter(|t| t.contains("cali0123456789a"))
    })
    .unwrap_or_else(|| panic!("no endpoint chain:\n{}", node.log_text()));
    assert_eq!(policy_chains(&t), 0, "{t}");

    lab.gnp("allow-web", "app == 'web'", 80);
    let t = wait_for(LIMIT, || {
        ns.calico_table().filter(|t| policy_chains(t) == 1)
    })
    .unwrap_or_else(|| panic!("the policy never appeared:\n{}", node.log_text()));
    assert!(t.contains("dport 80"), "{t}");

    lab.delete("GlobalNetworkPolicy", "", "allow-web");
    wait_for(LIMIT, || {
        ns.calico_table().filter(|t| policy_chains(t) == 0)
    })
    .unwrap_or_else(|| panic!("the policy never went away:\n{}", node.log_text()));
    lab.delete("WorkloadEndpoint", "default", "tst--node-k8s-web-eth0");
    wait_for(LIMIT, || {
        ns.calico_table().filter(|t| !t.contains("cali0123456789a"))
    })
    .unwrap_or_else(|| panic!("the endpoint never went away:\n{}", node.log_text()));
    assert!(node.alive());
}

#[test]
fn kill_9_while_policies_change_then_restart_matches_a_fresh_node() {
    if !kernel_ready() {
        return;
    }
    let lab = Lab::new();
    let ns = Netns::new();
    let env = lab.env("10.99.0.1/24");
    let mut node = NodeProc::start(&ns, lab.dir.path(), &[], &env);
    wait_ready(&ns, &mut node, LIMIT);
    lab.wep("a", "calia0000000001", "10.244.0.11", "a");
    lab.wep("b", "calib0000000002", "10.244.0.12", "b");
    for (i, sel) in ["app == 'a'", "app == 'b'", "all()"].iter().enumerate() {
        lab.gnp(&format!("p{i}"), sel, 80 + i as u16);
    }
    wait_for(LIMIT, || {
        ns.calico_table().filter(|t| policy_chains(t) == 3)
    })
    .unwrap_or_else(|| panic!("three policies never appeared:\n{}", node.log_text()));

    // Change policies and kill the agent in the middle of it, without waiting for it.
    lab.gnp("p0", "app == 'a'", 8080);
    lab.gnp("p3", "app == 'b'", 443);
    lab.delete("GlobalNetworkPolicy", "", "p1");
    node.kill9();
    // More changes while it is down; p2's rules are now stale in the kernel.
    lab.delete("GlobalNetworkPolicy", "", "p2");
    lab.gnp("p4", "app in {'a', 'b'}", 53);
    lab.delete("WorkloadEndpoint", "default", "tst--node-k8s-b-eth0");
    lab.wep("c", "calic0000000003", "10.244.0.13", "b");
    let stale = ns.calico_table().expect("the table survives the kill");
    assert!(stale.contains("calib0000000002"), "{stale}");

    let mut restarted = NodeProc::start(&ns, lab.dir.path(), &[], &env);
    wait_ready(&ns, &mut restarted, LIMIT);

    // A fresh calico-node (agent only) in another namespace computes the reference ruleset
    // from the same datastore.
    let fresh_ns = Netns::new();
    let mut fresh = NodeProc::start(&fresh_ns, lab.dir.path(), &["-felix"], &env);
    wait_ready(&fresh_ns, &mut fresh, LIMIT);
    let reference = wait_for(LIMIT, || {
        fresh_ns
            .calico_table()
            .filter(|t| t.contains("calic0000000003") && policy_chains(t) == 3)
    })
    .unwrap_or_else(|| panic!("the fresh node never converged:\n{}", fresh.log_text()));
    let got = wait_for(LIMIT, || ns.calico_table().filter(|t| *t == reference));
    assert!(
        got.is_some(),
        "restarted node's table differs from a fresh node's\n--- restarted\n{}\n--- fresh\n{}\n--- log\n{}",
        ns.calico_table().unwrap_or_default(),
        reference,
        restarted.log_text()
    );
    assert!(!reference.contains("calib0000000002"));
    assert!(reference.contains("dport 8080"), "{reference}");
    assert!(reference.contains("dport 53"), "{reference}");
    assert!(!reference.contains("dport 82"), "{reference}");
}

#[test]
fn waits_while_the_datastore_is_locked() {
    if !kernel_ready() {
        return;
    }
    let lab = Lab::new();
    let ci_kind = find_kind("ClusterInformation", None).expect("kind");
    let Resource::ClusterInformation(mut ci) = lab.client.ensure_cluster_information().expect("ci")
    else {
        panic!("not a ClusterInformation");
    };
    ci.spec.datastore_ready = Some(false);
    lab.client
        .update(Resource::ClusterInformation(ci))
        .expect("lock the datastore");
    let ns = Netns::new();
    let mut node = NodeProc::start(&ns, lab.dir.path(), &[], &lab.env("10.99.0.1/24"));
    let body = wait_for(LIMIT, || match ns.http_get(9099, "/readiness") {
        Ok((503, b)) if b.contains("datastoreReady: false") => Some(b),
        _ => None,
    })
    .unwrap_or_else(|| panic!("no not-ready report:\n{}", node.log_text()));
    assert!(body.contains("calc-graph: live=true ready=false"), "{body}");
    assert!(
        ns.calico_table().is_none(),
        "nothing is programmed while locked"
    );

    let Ok(Resource::ClusterInformation(mut ci)) = lab.client.get(ci_kind, "", "default") else {
        panic!("no ClusterInformation");
    };
    ci.spec.datastore_ready = Some(true);
    lab.client
        .update(Resource::ClusterInformation(ci))
        .expect("unlock");
    wait_ready(&ns, &mut node, LIMIT);
    assert!(ns.calico_table().is_some());
}

#[test]
fn vxlan_node_gets_a_tunnel_address_and_device() {
    if !kernel_ready() {
        return;
    }
    let lab = Lab::new();
    let ns = Netns::new();
    ns.ip(&[
        "link", "add", "eth0", "type", "veth", "peer", "name", "eth1",
    ]);
    ns.ip(&["addr", "add", "10.99.0.7/24", "dev", "eth0"]);
    ns.ip(&["link", "set", "eth0", "up"]);
    ns.ip(&["link", "set", "eth1", "up"]);
    let mut env = lab.env("autodetect");
    env.push(("CALICO_IPV4POOL_VXLAN", "Always".into()));
    let mut node = NodeProc::start(&ns, lab.dir.path(), &[], &env);
    wait_ready(&ns, &mut node, LIMIT);
    let Ok(Resource::Node(n)) = lab
        .client
        .get(find_kind("Node", None).expect("kind"), "", NODE)
    else {
        panic!("no Node");
    };
    assert_eq!(
        n.spec.bgp.expect("bgp").ipv4_address,
        "10.99.0.7/24",
        "autodetected"
    );
    let tunnel = n.spec.ipv4_vxlan_tunnel_addr;
    assert!(tunnel.starts_with("10.244."), "{tunnel}");
    let mac = n.spec.vxlan_tunnel_mac_addr;
    let dev = wait_for(LIMIT, || {
        let out = std::process::Command::new("ip")
            .args(["-n", &ns.name, "-d", "addr", "show", "dev", "vxlan.calico"])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        text.contains(&format!("inet {tunnel}/32")).then_some(text)
    })
    .unwrap_or_else(|| panic!("no vxlan.calico with {tunnel}:\n{}", node.log_text()));
    assert!(dev.contains(&format!("link/ether {mac}")), "{dev}");
    assert!(dev.contains("vxlan id 4096"), "{dev}");
    assert!(dev.contains("dstport 4789"), "{dev}");
    // The device's MTU follows Felix: vxlanMTU 0 means eth0's 1500 minus 50.
    assert!(dev.contains(" mtu 1450 "), "{dev}");
    // VXLAN in use and eth0 has MTU 1500: the workload MTU is 1450.
    assert_eq!(
        std::fs::read_to_string(lab.dir.path().join("mtu")).expect("MTU file"),
        "1450"
    );
}
