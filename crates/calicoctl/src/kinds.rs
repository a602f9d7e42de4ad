//! Resource type names on the command line (`calicoctl get <KIND>`): case-insensitive kind
//! names, their plurals and Calico's short aliases, plus the Kubernetes kinds calico-rs keeps
//! in its own datastore.

use calico_api::{
    CALICO_API_VERSION, K8S_CORE_API_VERSION, K8S_NETWORKING_API_VERSION, KINDS, KindInfo,
    find_kind,
};

/// (kind, apiVersion, accepted lower-case names).
const ALIASES: &[(&str, &str, &[&str])] = &[
    (
        "IPPool",
        CALICO_API_VERSION,
        &["ippool", "ippools", "ipp", "ipps", "pool", "pools"],
    ),
    (
        "IPReservation",
        CALICO_API_VERSION,
        &[
            "ipreservation",
            "ipreservations",
            "reservation",
            "reservations",
        ],
    ),
    (
        "IPAMConfiguration",
        CALICO_API_VERSION,
        &[
            "ipamconfiguration",
            "ipamconfigurations",
            "ipamconfig",
            "ipamconfigs",
        ],
    ),
    (
        "NetworkPolicy",
        CALICO_API_VERSION,
        &[
            "networkpolicy",
            "networkpolicies",
            "policy",
            "np",
            "policies",
            "pol",
            "pols",
        ],
    ),
    (
        "GlobalNetworkPolicy",
        CALICO_API_VERSION,
        &[
            "globalnetworkpolicy",
            "globalnetworkpolicies",
            "gnp",
            "gnps",
        ],
    ),
    (
        "StagedNetworkPolicy",
        CALICO_API_VERSION,
        &[
            "stagednetworkpolicy",
            "stagednetworkpolicies",
            "stagedpolicy",
            "stagedpolicies",
            "snp",
            "snps",
            "spol",
            "spols",
        ],
    ),
    (
        "StagedGlobalNetworkPolicy",
        CALICO_API_VERSION,
        &[
            "stagedglobalnetworkpolicy",
            "stagedglobalnetworkpolicies",
            "sgnp",
            "sgnps",
        ],
    ),
    ("Tier", CALICO_API_VERSION, &["tier", "tiers"]),
    (
        "NetworkSet",
        CALICO_API_VERSION,
        &["networkset", "networksets", "netset", "netsets"],
    ),
    (
        "GlobalNetworkSet",
        CALICO_API_VERSION,
        &[
            "globalnetworkset",
            "globalnetworksets",
            "gnetset",
            "gnetsets",
        ],
    ),
    (
        "HostEndpoint",
        CALICO_API_VERSION,
        &["hostendpoint", "hostendpoints", "hep", "heps"],
    ),
    (
        "WorkloadEndpoint",
        CALICO_API_VERSION,
        &["workloadendpoint", "workloadendpoints", "wep", "weps"],
    ),
    (
        "Profile",
        CALICO_API_VERSION,
        &["profile", "profiles", "pro", "pros"],
    ),
    (
        "BGPConfiguration",
        CALICO_API_VERSION,
        &[
            "bgpconfiguration",
            "bgpconfigurations",
            "bgpconfig",
            "bgpconfigs",
        ],
    ),
    (
        "BGPPeer",
        CALICO_API_VERSION,
        &["bgppeer", "bgppeers", "bgpp", "bgpps", "bp", "bps"],
    ),
    (
        "BGPFilter",
        CALICO_API_VERSION,
        &["bgpfilter", "bgpfilters", "bgpf", "bgpfs", "bf", "bfs"],
    ),
    (
        "FelixConfiguration",
        CALICO_API_VERSION,
        &[
            "felixconfiguration",
            "felixconfigurations",
            "felixconfig",
            "felixconfigs",
        ],
    ),
    ("Node", CALICO_API_VERSION, &["node", "nodes", "no", "nos"]),
    (
        "ClusterInformation",
        CALICO_API_VERSION,
        &[
            "clusterinformation",
            "clusterinformations",
            "clusterinfo",
            "clusterinfos",
        ],
    ),
    (
        "KubeControllersConfiguration",
        CALICO_API_VERSION,
        &[
            "kubecontrollersconfiguration",
            "kubecontrollersconfigurations",
            "kubecontrollersconfig",
            "kubecontrollersconfigs",
        ],
    ),
    (
        "NetworkPolicy",
        K8S_NETWORKING_API_VERSION,
        &[
            "kubernetesnetworkpolicy",
            "kubernetesnetworkpolicies",
            "knp",
            "knps",
        ],
    ),
    (
        "Namespace",
        K8S_CORE_API_VERSION,
        &["namespace", "namespaces", "ns"],
    ),
    ("Pod", K8S_CORE_API_VERSION, &["pod", "pods", "po"]),
];

/// The kind a command-line name stands for.
pub fn resolve(name: &str) -> Result<&'static KindInfo, UnsupportedKind> {
    let lower = name.to_ascii_lowercase();
    let aliased = ALIASES
        .iter()
        .find(|(_, _, names)| names.contains(&lower.as_str()))
        .and_then(|(kind, api, _)| find_kind(kind, Some(api)));
    // Kinds the table does not list yet: their kind name or plural, Calico's kinds first.
    let direct = || {
        let mut candidates: Vec<&'static KindInfo> = KINDS
            .iter()
            .filter(|k| k.kind.to_ascii_lowercase() == lower || k.plural == lower)
            .collect();
        candidates.sort_by_key(|k| !k.is_calico());
        candidates.first().copied()
    };
    aliased
        .or_else(direct)
        .ok_or_else(|| UnsupportedKind(name.to_string()))
}

/// Calico's message for a resource type it does not know.
#[derive(Debug)]
pub struct UnsupportedKind(pub String);

impl std::fmt::Display for UnsupportedKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "resource type '{}' is not supported", self.0)
    }
}

impl std::error::Error for UnsupportedKind {}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_case() {
        assert_eq!(resolve("IPPools").unwrap().kind, "IPPool");
        assert_eq!(resolve("pool").unwrap().kind, "IPPool");
        assert_eq!(resolve("GNP").unwrap().kind, "GlobalNetworkPolicy");
        let np = resolve("policy").unwrap();
        assert!(np.is_calico() && np.kind == "NetworkPolicy");
        let knp = resolve("knp").unwrap();
        assert!(!knp.is_calico() && knp.kind == "NetworkPolicy");
        assert_eq!(resolve("po").unwrap().kind, "Pod");
        assert_eq!(resolve("ns").unwrap().kind, "Namespace");
        assert_eq!(resolve("clusterinfo").unwrap().kind, "ClusterInformation");
    }

    #[test]
    fn every_alias_names_a_registered_kind() {
        for (kind, api, _) in ALIASES {
            assert!(find_kind(kind, Some(api)).is_some(), "{kind} {api}");
        }
        for k in KINDS {
            assert!(resolve(k.kind).is_ok(), "{}", k.kind);
        }
    }

    #[test]
    fn unknown() {
        let e = resolve("bogus").unwrap_err();
        assert_eq!(e.to_string(), "resource type 'bogus' is not supported");
    }
}
