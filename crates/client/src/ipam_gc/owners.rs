//! [`LiveOwners`]: the datastore's WorkloadEndpoints, Nodes and Pods, indexed by what an IPAM
//! allocation can point at (a container ID, a namespace and pod name, a node name, an address).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use calico_api::validate::parse_cidr_or_ip;
use calico_api::{Node, Pod, Resource, WorkloadEndpoint};

use crate::{Client, ClientError};

/// What uses an address: a WorkloadEndpoint lists it in `ipNetworks`, or a Node holds it as a
/// tunnel address.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum IpUser {
    /// `namespace/name` of the WorkloadEndpoint.
    Workload(String),
    /// The node's name.
    Node(String),
}

impl std::fmt::Display for IpUser {
    /// Calico's `calicoctl ipam check` names: `Workload(ns/name)`, `Node(name)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IpUser::Workload(n) => write!(f, "Workload({n})"),
            IpUser::Node(n) => write!(f, "Node({n})"),
        }
    }
}

/// One WorkloadEndpoint of a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodEndpoint {
    /// `namespace/name` of the WorkloadEndpoint.
    pub name: String,
    /// Its `spec.containerID` (empty when not recorded).
    pub container_id: String,
}

/// A Kubernetes Pod object's addressing state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodState {
    /// `status.podIPs` (or `podIP`).
    pub ips: Vec<IpAddr>,
    /// The pod has finished (`Succeeded` or `Failed`) and no longer holds addresses.
    pub terminated: bool,
}

/// Everything that can own an IPAM allocation, as read from the datastore at one moment.
#[derive(Clone, Debug, Default)]
pub struct LiveOwners {
    by_container: HashMap<String, Vec<String>>,
    by_pod: HashMap<(String, String), Vec<PodEndpoint>>,
    ip_users: BTreeMap<IpAddr, Vec<IpUser>>,
    nodes: HashSet<String>,
    pods: HashMap<(String, String), PodState>,
    pod_ips: HashMap<IpAddr, String>,
    workload_ips: usize,
    node_ips: usize,
}

fn kind(name: &str) -> Result<&'static calico_api::KindInfo, ClientError> {
    calico_api::find_kind(name, None)
        .ok_or_else(|| ClientError::Config(format!("the API has no kind {name}")))
}

impl LiveOwners {
    /// Read every WorkloadEndpoint, Node and Pod. Read these *after* the allocations they are
    /// compared with: an owner created in between then makes an allocation look owned (safe),
    /// never the other way round.
    pub fn load(client: &Client) -> Result<Self, ClientError> {
        let mut owners = LiveOwners::default();
        for k in ["WorkloadEndpoint", "Node", "Pod"] {
            let (items, _) = client.list(kind(k)?, None)?;
            for r in &items {
                owners.add(r);
            }
        }
        Ok(owners)
    }

    /// Index one resource (kinds other than WorkloadEndpoint, Node and Pod are ignored).
    pub fn add(&mut self, r: &Resource) {
        match r {
            Resource::WorkloadEndpoint(w) => self.add_workload_endpoint(w),
            Resource::Node(n) => self.add_node(n),
            Resource::Pod(p) => self.add_pod(p),
            _ => {}
        }
    }

    pub fn add_workload_endpoint(&mut self, w: &WorkloadEndpoint) {
        let ns = if w.metadata.namespace.is_empty() {
            "default"
        } else {
            w.metadata.namespace.as_str()
        };
        let name = format!("{ns}/{}", w.metadata.name);
        if !w.spec.container_id.is_empty() {
            self.by_container
                .entry(w.spec.container_id.clone())
                .or_default()
                .push(name.clone());
        }
        if !w.spec.pod.is_empty() {
            self.by_pod
                .entry((ns.to_string(), w.spec.pod.clone()))
                .or_default()
                .push(PodEndpoint {
                    name: name.clone(),
                    container_id: w.spec.container_id.clone(),
                });
        }
        for ip in w.spec.addresses() {
            self.workload_ips += 1;
            self.ip_users
                .entry(ip)
                .or_default()
                .push(IpUser::Workload(name.clone()));
        }
    }

    pub fn add_node(&mut self, n: &Node) {
        let name = n.metadata.name.clone();
        let s = &n.spec;
        let mut addrs = vec![
            s.ipv4_vxlan_tunnel_addr.as_str(),
            s.ipv6_vxlan_tunnel_addr.as_str(),
        ];
        if let Some(b) = &s.bgp {
            addrs.push(&b.ipv4_ipip_tunnel_addr);
        }
        if let Some(w) = &s.wireguard {
            addrs.push(&w.interface_ipv4_address);
            addrs.push(&w.interface_ipv6_address);
        }
        for a in addrs.into_iter().filter(|a| !a.is_empty()) {
            if let Some(net) = parse_cidr_or_ip(a) {
                self.node_ips += 1;
                self.ip_users
                    .entry(net.addr())
                    .or_default()
                    .push(IpUser::Node(name.clone()));
            }
        }
        self.nodes.insert(name);
    }

    pub fn add_pod(&mut self, p: &Pod) {
        if p.spec.host_network {
            return;
        }
        let ns = if p.metadata.namespace.is_empty() {
            "default"
        } else {
            p.metadata.namespace.as_str()
        };
        let status = p.status.clone().unwrap_or_default();
        let terminated = matches!(status.phase.as_str(), "Succeeded" | "Failed");
        let ips = status.ips();
        if !terminated {
            for ip in &ips {
                self.pod_ips
                    .insert(*ip, format!("Pod({ns}/{})", p.metadata.name));
            }
        }
        self.pods.insert(
            (ns.to_string(), p.metadata.name.clone()),
            PodState { ips, terminated },
        );
    }

    pub fn node_exists(&self, node: &str) -> bool {
        self.nodes.contains(node)
    }

    /// The WorkloadEndpoints (`namespace/name`) whose `spec.containerID` is `id`.
    pub fn workloads_with_container(&self, id: &str) -> &[String] {
        self.by_container.get(id).map_or(&[], Vec::as_slice)
    }

    /// The WorkloadEndpoints of pod `namespace/pod`.
    pub fn pod_endpoints(&self, namespace: &str, pod: &str) -> &[PodEndpoint] {
        self.by_pod
            .get(&(namespace.to_string(), pod.to_string()))
            .map_or(&[], Vec::as_slice)
    }

    /// The Kubernetes Pod `namespace/pod`, if stored.
    pub fn pod(&self, namespace: &str, pod: &str) -> Option<&PodState> {
        self.pods.get(&(namespace.to_string(), pod.to_string()))
    }

    /// The running Pod (`Pod(ns/name)`) whose status lists `ip`, if any.
    pub fn pod_with_ip(&self, ip: IpAddr) -> Option<&str> {
        self.pod_ips.get(&ip).map(String::as_str)
    }

    /// The endpoints and nodes using `ip`.
    pub fn ip_users(&self, ip: IpAddr) -> &[IpUser] {
        self.ip_users.get(&ip).map_or(&[], Vec::as_slice)
    }

    /// Every address some endpoint or node uses, in address order.
    pub fn used_ips(&self) -> impl Iterator<Item = (IpAddr, &[IpUser])> {
        self.ip_users.iter().map(|(ip, u)| (*ip, u.as_slice()))
    }

    /// Addresses listed by WorkloadEndpoints (counting repeats).
    pub fn workload_ip_count(&self) -> usize {
        self.workload_ips
    }

    /// Tunnel addresses held by Nodes.
    pub fn node_ip_count(&self) -> usize {
        self.node_ips
    }

    /// The names of every Node.
    pub fn nodes(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().map(String::as_str)
    }
}
