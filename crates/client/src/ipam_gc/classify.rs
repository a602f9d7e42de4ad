//! Who owns an allocation, decided the same way by `calicoctl ipam check`, `calicoctl ipam
//! release --from-report` and the garbage collector.
//!
//! An allocation is **live** when something in the datastore uses or owns it:
//! - a WorkloadEndpoint or Node lists the address (`ipNetworks`, tunnel address fields), or a
//!   running Pod's status does;
//! - its handle is a CNI handle `<network>.<containerID>` and a WorkloadEndpoint has that
//!   `spec.containerID`; or its attributes name a pod whose endpoint records no container ID,
//!   or a Pod that has no address yet (a pod being set up);
//! - its handle is a node's tunnel handle (`ipip-tunnel-addr-<node>`, ...) and the Node exists;
//! - it is the Windows reserved handle.
//!
//! It is **leaked** when its handle is one of those kinds and the owner is gone. Any other
//! handle (a load balancer's, KubeVirt's, a test's, a handle this code does not know) gives
//! **unknown**: such an allocation is reported, never released.

use std::collections::BTreeMap;
use std::time::SystemTime;

use calico_ipam::{AllocationInfo, attrs};

use super::owners::LiveOwners;

/// The handle Calico reserves Windows block addresses under.
pub const WINDOWS_RESERVED_HANDLE: &str = "windows-reserved-ipam-handle";

/// The CNI network name of Calico's default configuration.
pub const DEFAULT_CNI_NETWORK: &str = "k8s-pod-network";

/// Handle prefixes of node tunnel addresses; the node name follows.
pub const TUNNEL_HANDLE_PREFIXES: &[&str] = &[
    "ipip-tunnel-addr-",
    "vxlan-tunnel-addr-",
    "vxlan-v6-tunnel-addr-",
    "wireguard-tunnel-addr-",
    "wireguard-v6-tunnel-addr-",
];

/// What a handle says about its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandleKind<'a> {
    /// A CNI plugin's `<network>.<containerID>`.
    Workload {
        network: &'a str,
        container_id: &'a str,
    },
    /// A node's tunnel address.
    Tunnel {
        node: &'a str,
    },
    WindowsReserved,
    /// Anything else: the owner cannot be determined.
    Other,
}

/// A container ID as WorkloadEndpoints accept it: letters, digits and `-`, starting and ending
/// with a letter or digit.
fn is_container_id(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: Option<&u8>| c.is_some_and(u8::is_ascii_alphanumeric);
    edge(b.first()) && edge(b.last()) && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

/// KubeVirt VM allocations outlive their pods on purpose; their attributes name the VMI.
fn is_kubevirt(a: &BTreeMap<String, String>) -> bool {
    a.keys()
        .any(|k| k.starts_with("vmi") || k.contains("kubevirt"))
}

/// Classify a handle. A `<network>.<id>` handle counts as a CNI handle when the network is
/// Calico's default one or the attributes carry the CNI plugin's `node`/`pod`/`namespace`.
pub fn handle_kind<'a>(handle: &'a str, a: &BTreeMap<String, String>) -> HandleKind<'a> {
    if handle == WINDOWS_RESERVED_HANDLE {
        return HandleKind::WindowsReserved;
    }
    for p in TUNNEL_HANDLE_PREFIXES {
        if let Some(node) = handle.strip_prefix(p)
            && !node.is_empty()
        {
            return HandleKind::Tunnel { node };
        }
    }
    if is_kubevirt(a) {
        return HandleKind::Other;
    }
    if let Some((network, container_id)) = handle.rsplit_once('.')
        && !network.is_empty()
        && is_container_id(container_id)
        && (network == DEFAULT_CNI_NETWORK
            || [attrs::NODE, attrs::POD, attrs::NAMESPACE]
                .iter()
                .any(|k| a.contains_key(*k)))
    {
        return HandleKind::Workload {
            network,
            container_id,
        };
    }
    HandleKind::Other
}

/// Who owns an allocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// Owned or used; the text names the owner (`Workload(ns/name)`, `Node(name)`, ...).
    Live(String),
    /// The owner is gone; the text says why it is considered leaked.
    Leaked(String),
    /// The owner cannot be determined; never released.
    Unknown(String),
}

impl Ownership {
    pub fn is_leaked(&self) -> bool {
        matches!(self, Ownership::Leaked(_))
    }
}

/// Decide who owns `alloc` (see the module docs).
pub fn classify(alloc: &AllocationInfo, owners: &LiveOwners) -> Ownership {
    if let Some(user) = owners.ip_users(alloc.address).first() {
        return Ownership::Live(user.to_string());
    }
    if let Some(pod) = owners.pod_with_ip(alloc.address) {
        return Ownership::Live(pod.to_string());
    }
    let Some(handle) = alloc.handle_id.as_deref() else {
        return Ownership::Unknown("the allocation has no handle".into());
    };
    match handle_kind(handle, &alloc.attrs) {
        HandleKind::WindowsReserved => Ownership::Live("Reserved for Windows".into()),
        HandleKind::Tunnel { node } => {
            if owners.node_exists(node) {
                Ownership::Live(format!("Node({node})"))
            } else {
                Ownership::Leaked(format!("node {node} does not exist"))
            }
        }
        HandleKind::Workload { container_id, .. } => workload(alloc, container_id, owners),
        HandleKind::Other => Ownership::Unknown(format!(
            "handle {handle} is not a CNI, tunnel or Windows handle"
        )),
    }
}

fn workload(alloc: &AllocationInfo, container_id: &str, owners: &LiveOwners) -> Ownership {
    if let Some(w) = owners.workloads_with_container(container_id).first() {
        return Ownership::Live(format!("Workload({w})"));
    }
    let (ns, pod) = (
        alloc.attrs.get(attrs::NAMESPACE),
        alloc.attrs.get(attrs::POD),
    );
    let mut why = format!("no WorkloadEndpoint has container ID {container_id}");
    if let (Some(ns), Some(pod)) = (ns, pod) {
        // An endpoint of the pod that does not say which container it belongs to may be ours.
        if let Some(e) = owners
            .pod_endpoints(ns, pod)
            .iter()
            .find(|e| e.container_id.is_empty())
        {
            return Ownership::Live(format!("Workload({})", e.name));
        }
        // A pod still being set up has no address in its status yet.
        if let Some(p) = owners.pod(ns, pod)
            && !p.terminated
            && p.ips.is_empty()
        {
            return Ownership::Live(format!("Pod({ns}/{pod}) (starting)"));
        }
        why.push_str(&format!(" (pod {ns}/{pod})"));
    }
    Ownership::Leaked(why)
}

/// When the allocation was made, from its `timestamp` attribute: RFC 3339 (calico-rs) or Go's
/// `time.Now().UTC().String()` (`2006-01-02 15:04:05.999999999 +0000 UTC`, Calico). `None`
/// when absent or unreadable.
pub fn allocation_time(a: &BTreeMap<String, String>) -> Option<SystemTime> {
    let t = a.get(attrs::TIMESTAMP)?.trim();
    if let Ok(v) = humantime::parse_rfc3339_weak(t) {
        // `_weak` also accepts a missing zone, read as UTC; Calico's attribute is UTC too.
        return Some(v);
    }
    let parts: Vec<&str> = t.split(' ').collect();
    match parts.as_slice() {
        [date, time, "+0000", ..] => humantime::parse_rfc3339_weak(&format!("{date}T{time}Z")).ok(),
        _ => None,
    }
}
