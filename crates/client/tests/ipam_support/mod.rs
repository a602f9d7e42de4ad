//! Helpers shared by the multi-process IPAM tests (and the `ipambench` example): which
//! datastore a worker process opens, and the resources a test cluster needs.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod etcd;

use std::path::PathBuf;
use std::sync::Arc;

use calico_api::Resource;
use calico_client::Client;
use calico_datastore::{Backend, EmbeddedBackend, EtcdBackend, EtcdConfig};

/// A datastore that several processes can open.
#[derive(Clone, Debug)]
pub enum Store {
    Embedded(PathBuf),
    Etcd(String),
}

impl Store {
    /// `embedded:<path>` or `etcd:<endpoint>`, for passing to a child process.
    pub fn to_arg(&self) -> String {
        match self {
            Store::Embedded(p) => format!("embedded:{}", p.display()),
            Store::Etcd(e) => format!("etcd:{e}"),
        }
    }

    pub fn from_arg(s: &str) -> Self {
        if let Some(p) = s.strip_prefix("embedded:") {
            Store::Embedded(p.into())
        } else if let Some(e) = s.strip_prefix("etcd:") {
            Store::Etcd(e.into())
        } else {
            panic!("bad store argument {s:?}")
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

    pub fn name(&self) -> &'static str {
        match self {
            Store::Embedded(_) => "embedded",
            Store::Etcd(_) => "etcd",
        }
    }
}

fn res(v: serde_json::Value) -> Resource {
    Resource::from_value(v).unwrap()
}

/// Create an IP pool (default block size unless given) and the named nodes.
pub fn setup_cluster(client: &Client, cidr: &str, block_size: Option<u8>, nodes: &[&str]) {
    let mut spec = serde_json::json!({ "cidr": cidr });
    if let Some(b) = block_size {
        spec["blockSize"] = b.into();
    }
    client
        .create(res(
            serde_json::json!({"apiVersion": "projectcalico.org/v3", "kind": "IPPool",
            "metadata": {"name": "test-pool"}, "spec": spec}),
        ))
        .unwrap();
    for n in nodes {
        client
            .create(res(
                serde_json::json!({"apiVersion": "projectcalico.org/v3", "kind": "Node",
                "metadata": {"name": n}}),
            ))
            .unwrap();
    }
}
