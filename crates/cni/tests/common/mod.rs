//! Shared fixtures: a fake kernel, an in-memory datastore with a pool and a node, and
//! wrappers that fail on demand.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use calico_api::{Namespace, Pod, Resource, WorkloadEndpoint};
use calico_client::Client;
use calico_cni::calico_ipam::CalicoIpam;
use calico_cni::context::{Deps, Invocation};
use calico_cni::env::CniEnv;
use calico_cni::error::CniError;
use calico_cni::ipam::{Ipam, IpamRequest};
use calico_cni::log::Logger;
use calico_cni::netconf::parse_netconf;
use calico_cni::result::CniResult;
use calico_cni::store::{ClientStore, Store};
use calico_datastore::MemoryBackend;
use calico_linux::FakeNet;

pub const HOST: &str = "/run/netns/host";
pub const POD: &str = "/run/netns/pod";

pub fn client_with(pool_cidr: &str) -> Client {
    let client = Client::new(Arc::new(MemoryBackend::new()));
    for doc in [
        serde_json::json!({"apiVersion":"projectcalico.org/v3","kind":"IPPool","metadata":{"name":"pool1"},
            "spec":{"cidr": pool_cidr, "blockSize": pool_cidr
                .split('/').nth(1).and_then(|p| p.parse::<u8>().ok()).unwrap_or(26).max(26)}}),
        serde_json::json!({"apiVersion":"projectcalico.org/v3","kind":"Node","metadata":{"name":"node1"},"spec":{}}),
    ] {
        client.create(Resource::from_value(doc).unwrap()).unwrap();
    }
    client
}

pub fn create(client: &Client, doc: serde_json::Value) {
    client.create(Resource::from_value(doc).unwrap()).unwrap();
}

/// A [`Store`] that can be told to fail writing endpoints.
pub struct FlakyStore {
    pub inner: ClientStore,
    pub fail_put: AtomicBool,
    pub fail_ready: AtomicBool,
}

impl FlakyStore {
    pub fn new(client: Client) -> Self {
        FlakyStore {
            inner: ClientStore::new(client),
            fail_put: AtomicBool::new(false),
            fail_ready: AtomicBool::new(false),
        }
    }
}

impl Store for FlakyStore {
    fn ready(&self) -> Result<(), CniError> {
        if self.fail_ready.load(Ordering::SeqCst) {
            return Err(CniError::new(11, "the datastore is unreachable"));
        }
        self.inner.ready()
    }
    fn pod(&self, ns: &str, name: &str) -> Result<Option<Pod>, CniError> {
        self.inner.pod(ns, name)
    }
    fn namespace(&self, name: &str) -> Result<Option<Namespace>, CniError> {
        self.inner.namespace(name)
    }
    fn workload_endpoint(
        &self,
        ns: &str,
        name: &str,
    ) -> Result<Option<WorkloadEndpoint>, CniError> {
        self.inner.workload_endpoint(ns, name)
    }
    fn put_workload_endpoint(&self, wep: &WorkloadEndpoint) -> Result<(), CniError> {
        if self.fail_put.load(Ordering::SeqCst) {
            return Err(CniError::internal("injected: endpoint write failed"));
        }
        self.inner.put_workload_endpoint(wep)
    }
    fn delete_workload_endpoint(&self, ns: &str, name: &str) -> Result<bool, CniError> {
        self.inner.delete_workload_endpoint(ns, name)
    }
}

/// Everything one test needs.
pub struct World {
    pub net: FakeNet,
    pub client: Client,
    pub store: FlakyStore,
    pub ipam: CalicoIpam,
    pub log: Logger,
}

impl World {
    pub fn new(pool: &str) -> Self {
        let net = FakeNet::new();
        net.add_netns(HOST);
        net.add_netns(POD);
        let client = client_with(pool);
        World {
            net,
            store: FlakyStore::new(client.clone()),
            ipam: CalicoIpam::new(client.clone()),
            client,
            log: Logger::discard(),
        }
    }

    pub fn deps(&self) -> Deps<'_> {
        Deps {
            ops: &self.net,
            store: &self.store,
            ipam: &self.ipam,
            host_ns: PathBuf::from(HOST),
            mtu_file: PathBuf::from("/nonexistent/mtu"),
            log: &self.log,
        }
    }

    pub fn deps_with<'a>(&'a self, ipam: &'a dyn Ipam) -> Deps<'a> {
        Deps {
            ipam,
            ..self.deps()
        }
    }

    /// The addresses the handle holds.
    pub fn held(&self, handle: &str) -> Vec<std::net::IpAddr> {
        calico_client::ipam_store::ClientIpam::new(self.client.clone())
            .engine()
            .ips_by_handle(handle)
            .unwrap()
    }

    pub fn weps(&self) -> usize {
        let info = calico_api::find_kind("WorkloadEndpoint", None).unwrap();
        self.client.list(info, None).unwrap().0.len()
    }
}

pub fn conf(version: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut c = serde_json::json!({
        "cniVersion": version, "name": "k8s-pod-network", "type": "calico",
        "nodename": "node1", "mtu": 1410, "ipam": {"type": "calico-ipam"}
    });
    if let (Some(m), Some(e)) = (c.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            m.insert(k.clone(), v.clone());
        }
    }
    c
}

pub fn env(container: &str, args: &str) -> CniEnv {
    CniEnv {
        container_id: container.into(),
        netns: POD.into(),
        ifname: "eth0".into(),
        args: args.into(),
        path: String::new(),
    }
}

pub const K8S_ARGS: &str = "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web-0";

pub fn invocation(conf: &serde_json::Value, env: &CniEnv) -> Invocation {
    let parsed = parse_netconf(conf.to_string().as_bytes()).unwrap();
    Invocation::new(&parsed, env).unwrap()
}

/// An IPAM that fails every ADD, recording calls.
#[derive(Default)]
pub struct FailingIpam {
    pub dels: std::sync::Mutex<Vec<String>>,
}

impl Ipam for FailingIpam {
    fn add(&self, _req: &IpamRequest) -> Result<CniResult, CniError> {
        Err(CniError::new(100, "no addresses"))
    }
    fn del(&self, req: &IpamRequest) -> Result<(), CniError> {
        self.dels.lock().unwrap().push(req.handle.clone());
        Ok(())
    }
}

pub fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
