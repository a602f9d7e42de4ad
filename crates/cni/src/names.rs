//! Names Calico derives: the host-side veth, the IPAM handle, the WorkloadEndpoint.

use sha1::{Digest, Sha1};

use calico_api::WorkloadEndpointIdentifiers;

use crate::error::CniError;

/// The host-side veth of a Kubernetes pod: the interface prefix (`cali`, or the first entry
/// of `FELIX_INTERFACEPREFIX`) and the first 11 hex digits of SHA1(`<namespace>.<pod>`).
pub fn veth_name_for_workload(namespace: &str, pod: &str, iface_prefix: Option<&str>) -> String {
    let digest = Sha1::digest(format!("{namespace}.{pod}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let prefix = iface_prefix
        .and_then(|p| p.split(',').next())
        .filter(|p| !p.is_empty())
        .unwrap_or("cali");
    format!("{prefix}{}", &hex[..11])
}

/// The host-side veth for a plain-CNI workload: `cali` + the first 11 characters of the
/// container ID.
pub fn veth_name_for_container(container_id: &str) -> String {
    let n = container_id
        .char_indices()
        .nth(11)
        .map_or(container_id.len(), |(i, _)| i);
    format!("cali{}", &container_id[..n])
}

/// calico-ipam's handle: `<network name>.<container ID>`.
pub fn handle_id(network: &str, container_id: &str) -> String {
    format!("{network}.{container_id}")
}

/// Who the workload is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadIds {
    pub node: String,
    /// `k8s` or `cni`.
    pub orchestrator: String,
    /// The WorkloadEndpoint's namespace.
    pub namespace: String,
    /// The pod name (k8s) or the container ID (cni).
    pub workload: String,
    pub container_id: String,
    /// The container-side interface (`CNI_IFNAME`).
    pub endpoint: String,
}

impl WorkloadIds {
    pub fn is_k8s(&self) -> bool {
        self.orchestrator == "k8s"
    }

    /// The WorkloadEndpoint name, as Calico builds it.
    pub fn wep_name(&self) -> Result<String, CniError> {
        let mut ids = WorkloadEndpointIdentifiers {
            node: self.node.clone(),
            orchestrator: self.orchestrator.clone(),
            endpoint: self.endpoint.clone(),
            ..WorkloadEndpointIdentifiers::default()
        };
        if self.is_k8s() {
            ids.pod = self.workload.clone();
        } else {
            ids.container_id = self.container_id.clone();
        }
        ids.name()
            .map_err(|e| CniError::invalid_config(format!("cannot name the WorkloadEndpoint: {e}")))
    }

    /// The host-side veth name.
    pub fn host_veth(&self) -> String {
        if self.is_k8s() {
            let prefix = std::env::var("FELIX_INTERFACEPREFIX").ok();
            veth_name_for_workload(&self.namespace, &self.workload, prefix.as_deref())
        } else {
            veth_name_for_container(&self.container_id)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn veth_names_match_calico() {
        // Calico's own test value (libcalico-go conversion tests).
        assert_eq!(
            veth_name_for_workload("namespace", "podname", Some("eni,veth,foo")),
            "eni82111e10a96"
        );
        assert_eq!(
            veth_name_for_workload("namespace", "podname", None),
            "cali82111e10a96"
        );
        let n = veth_name_for_workload("default", "nginx", None);
        assert_eq!(n.len(), 15);
        assert!(n.starts_with("cali"));
        let sha: String = Sha1::digest(b"default.nginx")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(&n[4..], &sha[..11]);
        assert_eq!(
            veth_name_for_workload("default", "nginx", Some("tap,cali")),
            format!("tap{}", &sha[..11])
        );
        assert_eq!(
            veth_name_for_container("0123456789abcdef"),
            "cali0123456789a"
        );
        assert_eq!(veth_name_for_container("abc"), "caliabc");
    }

    #[test]
    fn wep_names() {
        let ids = WorkloadIds {
            node: "node-1".into(),
            orchestrator: "k8s".into(),
            namespace: "ns".into(),
            workload: "web-0".into(),
            container_id: "c1".into(),
            endpoint: "eth0".into(),
        };
        assert_eq!(ids.wep_name().unwrap(), "node--1-k8s-web--0-eth0");
        let cni = WorkloadIds {
            orchestrator: "cni".into(),
            ..ids
        };
        assert_eq!(cni.wep_name().unwrap(), "node--1-cni-c1-eth0");
        assert_eq!(handle_id("k8s-pod-network", "c1"), "k8s-pod-network.c1");
    }
}
