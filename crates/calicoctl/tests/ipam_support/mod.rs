//! Helpers for the `calicoctl ipam` tests: open the test's datastore directly (as the CNI
//! plugin would) to allocate addresses and write WorkloadEndpoints, and mask the report's
//! run-dependent values.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// The private etcd harness is the client's IPAM test harness, shared rather than copied.
#[path = "../../../client/tests/ipam_support/etcd.rs"]
pub mod etcd;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use calico_api::Resource;
use calico_client::Client;
use calico_client::ipam_store::ClientIpam;
use calico_datastore::{Backend, EmbeddedBackend, EtcdBackend, EtcdConfig};
use calico_ipam::{AutoAssignArgs, attrs};
use serde_json::{Value, json};

/// A datastore several processes can open.
#[derive(Clone, Debug)]
pub enum Store {
    Embedded(std::path::PathBuf),
    Etcd(String),
}

impl Store {
    pub fn to_arg(&self) -> String {
        match self {
            Store::Embedded(p) => format!("embedded:{}", p.display()),
            Store::Etcd(e) => format!("etcd:{e}"),
        }
    }

    pub fn from_arg(s: &str) -> Self {
        match (s.strip_prefix("embedded:"), s.strip_prefix("etcd:")) {
            (Some(p), _) => Store::Embedded(p.into()),
            (_, Some(e)) => Store::Etcd(e.into()),
            _ => panic!("bad store argument {s:?}"),
        }
    }

    pub fn open(&self) -> Arc<dyn Backend> {
        match self {
            Store::Embedded(p) => Arc::new(EmbeddedBackend::open(p).unwrap()),
            Store::Etcd(e) => Arc::new(
                EtcdBackend::connect(EtcdConfig {
                    endpoints: vec![e.clone()],
                    ..EtcdConfig::default()
                })
                .unwrap(),
            ),
        }
    }

    pub fn client(&self) -> Client {
        Client::new(self.open())
    }

    /// A calicoctl configuration file for this store, written into `dir`.
    pub fn calicoctl_cfg(&self, dir: &Path) -> std::path::PathBuf {
        let spec = match self {
            Store::Embedded(p) => {
                format!("datastoreType: embedded\n  embeddedPath: {}", p.display())
            }
            Store::Etcd(e) => format!("datastoreType: etcdv3\n  etcdEndpoints: {e}"),
        };
        let path = dir.join("ipam-calicoctl.cfg");
        std::fs::write(
            &path,
            format!("apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {{}}\nspec:\n  {spec}\n"),
        )
        .unwrap();
        path
    }
}

pub fn res(v: Value) -> Resource {
    Resource::from_value(v).unwrap()
}

pub fn pool(client: &Client, name: &str, cidr: &str, block_size: Option<u8>) {
    let mut spec = json!({ "cidr": cidr });
    if let Some(b) = block_size {
        spec["blockSize"] = b.into();
    }
    client
        .create(res(
            json!({"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
            "metadata": {"name": name}, "spec": spec}),
        ))
        .unwrap();
}

pub fn node(client: &Client, name: &str) {
    client
        .create(res(
            json!({"apiVersion": "projectcalico.org/v3", "kind": "Node",
            "metadata": {"name": name}}),
        ))
        .unwrap();
}

pub fn delete_node(client: &Client, name: &str) {
    let info = calico_api::find_kind("Node", None).unwrap();
    client.delete(info, "", name, None).unwrap();
}

/// CNI-style attributes for pod `ns/pod` on `node`.
pub fn pod_attrs(ns: &str, pod: &str, node: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (attrs::NAMESPACE.into(), ns.into()),
        (attrs::POD.into(), pod.into()),
        (attrs::NODE.into(), node.into()),
        (attrs::TIMESTAMP.into(), "2024-05-01T10:11:12Z".into()),
    ])
}

/// One address for `handle` on `host`.
pub fn alloc(
    ipam: &ClientIpam,
    handle: &str,
    host: &str,
    attrs: BTreeMap<String, String>,
) -> IpAddr {
    let mut a = AutoAssignArgs::new(handle, host);
    a.attrs = attrs;
    ipam.auto_assign(a).unwrap().ipv4[0].address
}

/// A pod's WorkloadEndpoint, as the CNI plugin writes it.
pub fn wep_resource(
    node: &str,
    ns: &str,
    pod: &str,
    container_id: &str,
    ips: &[IpAddr],
) -> Resource {
    let nets: Vec<String> = ips
        .iter()
        .map(|i| format!("{i}/{}", if i.is_ipv4() { 32 } else { 128 }))
        .collect();
    res(
        json!({"apiVersion": "projectcalico.org/v3", "kind": "WorkloadEndpoint",
        "metadata": {"namespace": ns},
        "spec": {"orchestrator": "k8s", "node": node, "pod": pod, "endpoint": "eth0",
                 "containerID": container_id, "ipNetworks": nets,
                 "interfaceName": "cali0123456789a"}}),
    )
}

pub fn wep(client: &Client, node: &str, ns: &str, pod: &str, container_id: &str, ips: &[IpAddr]) {
    client
        .create(wep_resource(node, ns, pod, container_id, ips))
        .unwrap();
}

const MASKED: &[&str] = &[
    "clusterGUID",
    "clusterInformationRevision",
    "generatedAt",
    "sequenceNumber",
    "Revision",
    "revision",
    "version",
];

/// Replace run-dependent values of a report with `"<masked>"`.
pub fn mask_report(text: &str) -> String {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if MASKED.contains(&k.as_str()) {
                        *x = Value::String("<masked>".into());
                    } else {
                        walk(x);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mut v: Value = serde_json::from_str(text).unwrap();
    walk(&mut v);
    serde_json::to_string_pretty(&v).unwrap() + "\n"
}

/// The leaked addresses a report names.
pub fn report_leaks(text: &str) -> std::collections::BTreeSet<IpAddr> {
    let v: Value = serde_json::from_str(text).unwrap();
    v["allocations"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|l| l.as_array().unwrap().iter())
        .filter(|a| a["inUse"] == json!(false))
        .map(|a| a["ip"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// The leaked handle records a report names.
pub fn report_leaked_handles(text: &str) -> std::collections::BTreeSet<String> {
    let v: Value = serde_json::from_str(text).unwrap();
    v["leakedHandles"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| h["ID"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}
