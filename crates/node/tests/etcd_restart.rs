//! calico-node on etcd survives etcd going away and coming back: the dataplane stays as
//! programmed while etcd is down, and changes made after etcd is back are programmed. etcd
//! runs inside the node's namespace (on its 127.0.0.1), so nothing leaves the namespace.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use calico_api::Resource;
use calico_client::{Client, DatastoreConfig, DatastoreType};
use calico_datastore::EtcdConfig;
use common::{Netns, NodeProc, kernel_ready, wait_for, wait_ready};
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(30);

struct Etcd(Child);

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_etcd(ns: &Netns, dir: &std::path::Path) -> Etcd {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("etcd.log"))
        .expect("etcd log");
    let child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.name,
            "etcd",
            "--name",
            "default",
            "--data-dir",
        ])
        .arg(dir.join("etcd-data"))
        .args([
            "--listen-client-urls",
            "http://127.0.0.1:2379",
            "--advertise-client-urls",
            "http://127.0.0.1:2379",
            "--listen-peer-urls",
            "http://127.0.0.1:2380",
            "--initial-advertise-peer-urls",
            "http://127.0.0.1:2380",
            "--initial-cluster",
            "default=http://127.0.0.1:2380",
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start etcd");
    Etcd(child)
}

fn gnp(name: &str, port: u16) -> Resource {
    Resource::from_value(json!({
        "apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
        "metadata": {"name": name},
        "spec": {"selector": "app == 'web'", "types": ["Ingress"],
                 "ingress": [{"action": "Allow", "protocol": "TCP",
                              "destination": {"ports": [port]}}]}
    }))
    .expect("policy")
}

fn policy_chains(table: &str) -> usize {
    table
        .lines()
        .filter(|l| l.trim_start().starts_with("chain cali-pi-"))
        .count()
}

#[test]
fn survives_an_etcd_restart() {
    if !kernel_ready() {
        return;
    }
    if Command::new("etcd").arg("--version").output().is_err() {
        println!("SKIP: etcd is not installed");
        return;
    }
    let ns = Netns::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut etcd = start_etcd(&ns, dir.path());
    let etcd_cfg = EtcdConfig {
        endpoints: vec!["http://127.0.0.1:2379".into()],
        ..Default::default()
    };
    let cfg = DatastoreConfig {
        datastore_type: DatastoreType::EtcdV3,
        embedded_path: dir.path().join("unused.db"),
        etcd: etcd_cfg,
    };
    // The client's connection threads are made inside the namespace, where etcd listens.
    let c2 = cfg.clone();
    let client: Client = ns.run(move || {
        calico_node::startup::connect_with_retry(&c2, Some(LIMIT)).expect("etcd answers")
    });

    let env: Vec<(&str, String)> = vec![
        ("NODENAME", "tst-node".into()),
        ("IP", "10.99.0.1/24".into()),
        ("DATASTORE_TYPE", "etcdv3".into()),
        ("ETCD_ENDPOINTS", "http://127.0.0.1:2379".into()),
        (
            "CALICO_NODENAME_FILE",
            dir.path().join("nodename").display().to_string(),
        ),
        (
            "FELIX_MTUFILEPATH",
            dir.path().join("mtu").display().to_string(),
        ),
    ];
    let mut node = NodeProc::start(&ns, dir.path(), &[], &env);
    wait_ready(&ns, &mut node, LIMIT);
    client
        .apply(
            Resource::from_value(json!({
                "apiVersion": "projectcalico.org/v3", "kind": "WorkloadEndpoint",
                "metadata": {"name": "tst--node-k8s-web-eth0", "namespace": "default",
                    "labels": {"app": "web", "projectcalico.org/namespace": "default",
                               "projectcalico.org/orchestrator": "k8s"}},
                "spec": {"orchestrator": "k8s", "node": "tst-node", "pod": "web",
                         "endpoint": "eth0", "interfaceName": "cali0123456789a",
                         "ipNetworks": ["10.244.0.10/32"], "profiles": ["kns.default"]}
            }))
            .expect("wep"),
        )
        .expect("apply wep");
    client.apply(gnp("p0", 80)).expect("apply p0");
    wait_for(LIMIT, || {
        ns.calico_table().filter(|t| policy_chains(t) == 1)
    })
    .unwrap_or_else(|| panic!("p0 never programmed:\n{}", node.log_text()));

    // etcd goes away: the agent keeps running and the dataplane stays as it is.
    let _ = etcd.0.kill();
    let _ = etcd.0.wait();
    std::thread::sleep(Duration::from_secs(2));
    assert!(node.alive(), "calico-node exited:\n{}", node.log_text());
    let t = ns.calico_table().expect("table kept");
    assert_eq!(policy_chains(&t), 1, "{t}");
    assert_eq!(ns.http_get(9099, "/liveness").expect("liveness").0, 200);

    // etcd is back: a new policy is programmed.
    let _etcd = start_etcd(&ns, dir.path());
    wait_for(LIMIT, || client.apply(gnp("p1", 81)).ok()).unwrap_or_else(|| {
        panic!(
            "etcd never came back:\n{}",
            std::fs::read_to_string(dir.path().join("etcd.log")).unwrap_or_default()
        )
    });
    wait_for(LIMIT, || {
        ns.calico_table().filter(|t| policy_chains(t) == 2)
    })
    .unwrap_or_else(|| {
        panic!(
            "p1 never programmed after the etcd restart:\n{}",
            node.log_text()
        )
    });
    wait_ready(&ns, &mut node, LIMIT);
}

#[test]
fn starts_before_etcd_and_waits_for_it() {
    if !kernel_ready() {
        return;
    }
    if Command::new("etcd").arg("--version").output().is_err() {
        println!("SKIP: etcd is not installed");
        return;
    }
    let ns = Netns::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let env: Vec<(&str, String)> = vec![
        ("NODENAME", "tst-node".into()),
        ("IP", "10.99.0.1/24".into()),
        ("DATASTORE_TYPE", "etcdv3".into()),
        ("ETCD_ENDPOINTS", "http://127.0.0.1:2379".into()),
        (
            "CALICO_NODENAME_FILE",
            dir.path().join("nodename").display().to_string(),
        ),
        (
            "FELIX_MTUFILEPATH",
            dir.path().join("mtu").display().to_string(),
        ),
    ];
    let mut node = NodeProc::start(&ns, dir.path(), &[], &env);
    let retrying = wait_for(LIMIT, || {
        node.log_text()
            .contains("cannot reach the datastore, retrying")
            .then_some(())
    });
    assert!(retrying.is_some(), "{}", node.log_text());
    assert!(node.alive());
    let _etcd = start_etcd(&ns, dir.path());
    wait_ready(&ns, &mut node, LIMIT);
    assert!(ns.calico_table().is_some());
}
