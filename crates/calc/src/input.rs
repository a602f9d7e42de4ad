//! What goes into the calculation graph: datastore resources (upserts and deletes), IPAM block
//! facts, and the end of the initial snapshot.

use std::fmt;

use calico_api::{KindInfo, Resource};
use ipnet::IpNet;
use serde::Serialize;

/// Identifies a stored resource: its kind, namespace (empty for cluster-scoped kinds) and
/// name. The Kubernetes `networking.k8s.io/v1 NetworkPolicy` is kind
/// `KubernetesNetworkPolicy`, so that it never collides with Calico's `NetworkPolicy`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ResourceKey {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// The kind name used in [`ResourceKey`] for the Kubernetes NetworkPolicy.
pub const KUBERNETES_NETWORK_POLICY: &str = "KubernetesNetworkPolicy";

impl ResourceKey {
    /// A key from a kind name (Calico's, or [`KUBERNETES_NETWORK_POLICY`]), a namespace
    /// (ignored, i.e. stored empty, for cluster-scoped kinds is the caller's business) and a name.
    pub fn new(
        kind: impl Into<String>,
        namespace: impl Into<String>,
        name: impl Into<String>,
    ) -> ResourceKey {
        ResourceKey {
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The key of a kind from calico-api's table (what a datastore watch knows).
    pub fn from_kind(info: &KindInfo, namespace: &str, name: &str) -> ResourceKey {
        let kind = if !info.is_calico() && info.kind == "NetworkPolicy" {
            KUBERNETES_NETWORK_POLICY
        } else {
            info.kind
        };
        let namespace = if info.namespaced { namespace } else { "" };
        ResourceKey::new(kind, namespace, name)
    }

    /// The key of a resource.
    pub fn of(r: &Resource) -> ResourceKey {
        ResourceKey::from_kind(r.info(), r.namespace(), r.name())
    }
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// What the graph needs to know about one IPAM block: its CIDR and the node it is affine to
/// (`host:<node>` affinities; `None` for an unaffine block or a `virtual:` affinity).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct BlockInfo {
    pub cidr: IpNet,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<String>,
}

impl BlockInfo {
    /// A block from its CIDR and Calico's affinity string (`host:<node>`, `virtual:<name>`, or
    /// empty).
    pub fn from_affinity(cidr: IpNet, affinity: Option<&str>) -> BlockInfo {
        BlockInfo {
            cidr,
            affinity: affinity
                .and_then(|a| a.strip_prefix("host:"))
                .map(str::to_string),
        }
    }
}

/// One input to the graph.
// Updates are transient and mostly upserts, so the large variant is not boxed.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Update {
    /// A resource was created or changed. Resources should be defaulted and validated (the
    /// datastore did); one the engine still cannot use (a selector or CIDR that does not
    /// parse) is reported in [`crate::Output::errors`] and treated as deleted, as Felix's
    /// validation filter does.
    Upsert(Resource),
    /// A resource was deleted.
    Delete(ResourceKey),
    /// An IPAM block was created or changed (keyed by CIDR).
    Block(BlockInfo),
    /// An IPAM block was deleted.
    BlockDelete(IpNet),
    /// The initial snapshot is complete: the graph sends
    /// [`crate::messages::DataplaneMessage::InSync`] at the end of this batch (once).
    InSync,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_network_policy_has_its_own_key_kind() {
        let k8s = calico_api::find_kind("NetworkPolicy", Some("networking.k8s.io/v1"));
        let calico = calico_api::find_kind("NetworkPolicy", None);
        let (Some(k8s), Some(calico)) = (k8s, calico) else {
            panic!("both kinds are known");
        };
        assert_eq!(
            ResourceKey::from_kind(k8s, "ns", "p"),
            ResourceKey::new(KUBERNETES_NETWORK_POLICY, "ns", "p")
        );
        assert_eq!(
            ResourceKey::from_kind(calico, "ns", "p"),
            ResourceKey::new("NetworkPolicy", "ns", "p")
        );
        let node = calico_api::find_kind("Node", None).expect("Node is known");
        assert_eq!(
            ResourceKey::from_kind(node, "ignored", "n1"),
            ResourceKey::new("Node", "", "n1")
        );
    }

    #[test]
    fn block_affinity_strings() {
        let cidr: IpNet = "10.0.0.0/26".parse().expect("cidr");
        assert_eq!(
            BlockInfo::from_affinity(cidr, Some("host:node-1")).affinity,
            Some("node-1".into())
        );
        assert_eq!(
            BlockInfo::from_affinity(cidr, Some("virtual:x")).affinity,
            None
        );
        assert_eq!(BlockInfo::from_affinity(cidr, None).affinity, None);
    }
}
