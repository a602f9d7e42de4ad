//! The WorkloadEndpoint the plugin writes, as Calico's k8s and plain-CNI paths build it.

use std::collections::BTreeMap;

use calico_api::{
    K8sProtocol, LABEL_NAMESPACE, LABEL_ORCHESTRATOR, LABEL_SERVICE_ACCOUNT, ObjectMeta, Pod,
    Protocol, WorkloadEndpoint, WorkloadEndpointPort, WorkloadEndpointSpec,
};
use ipnet::IpNet;

use crate::names::WorkloadIds;

/// Profile prefix of a Kubernetes namespace.
pub const NAMESPACE_PROFILE_PREFIX: &str = "kns.";
/// Profile prefix of a Kubernetes service account.
pub const SERVICE_ACCOUNT_PROFILE_PREFIX: &str = "ksa.";

/// A pod's service account.
pub fn service_account(pod: &Pod) -> &str {
    if pod.spec.service_account_name.is_empty() {
        &pod.spec.service_account
    } else {
        &pod.spec.service_account_name
    }
}

/// The profiles of a pod's endpoint: `kns.<ns>` and, with a service account,
/// `ksa.<ns>.<sa>`.
pub fn pod_profiles(namespace: &str, pod: Option<&Pod>) -> Vec<String> {
    let mut out = vec![format!("{NAMESPACE_PROFILE_PREFIX}{namespace}")];
    if let Some(sa) = pod.map(service_account).filter(|s| !s.is_empty()) {
        out.push(format!("{SERVICE_ACCOUNT_PROFILE_PREFIX}{namespace}.{sa}"));
    }
    out
}

/// The named ports of a pod's containers.
pub fn pod_ports(pod: &Pod) -> Vec<WorkloadEndpointPort> {
    let mut out = Vec::new();
    for c in &pod.spec.containers {
        for p in &c.ports {
            if p.name.is_empty() && p.host_port == 0 {
                continue;
            }
            let protocol = match p.protocol.unwrap_or_default() {
                K8sProtocol::TCP => Protocol::Tcp,
                K8sProtocol::UDP => Protocol::Udp,
                K8sProtocol::SCTP => Protocol::Sctp,
            };
            let (Ok(port), Ok(host_port)) =
                (u16::try_from(p.container_port), u16::try_from(p.host_port))
            else {
                continue;
            };
            out.push(WorkloadEndpointPort {
                name: p.name.clone(),
                protocol,
                port,
                host_port,
                host_ip: p.host_ip.clone(),
            });
        }
    }
    out
}

/// Everything the endpoint carries.
#[derive(Clone, Debug)]
pub struct WepInput<'a> {
    pub ids: &'a WorkloadIds,
    pub name: String,
    pub pod: Option<&'a Pod>,
    pub profiles: Vec<String>,
    pub ips: &'a [IpNet],
    pub host_if: &'a str,
    pub mac: String,
}

/// Build the endpoint.
pub fn build_wep(input: &WepInput<'_>) -> WorkloadEndpoint {
    let ids = input.ids;
    let mut labels: BTreeMap<String, String> = input
        .pod
        .map(|p| p.metadata.labels.clone())
        .unwrap_or_default();
    labels.insert(LABEL_NAMESPACE.into(), ids.namespace.clone());
    labels.insert(LABEL_ORCHESTRATOR.into(), ids.orchestrator.clone());
    let sa = input
        .pod
        .map(service_account)
        .unwrap_or_default()
        .to_string();
    if !sa.is_empty() {
        labels.insert(LABEL_SERVICE_ACCOUNT.into(), sa.clone());
    }
    let mut metadata = ObjectMeta::namespaced(ids.namespace.clone(), input.name.clone());
    metadata.labels = labels;
    if let Some(p) = input.pod {
        metadata.generate_name = p.metadata.generate_name.clone();
    }
    WorkloadEndpoint {
        metadata,
        spec: WorkloadEndpointSpec {
            orchestrator: ids.orchestrator.clone(),
            workload: if ids.is_k8s() {
                String::new()
            } else {
                ids.container_id.clone()
            },
            node: ids.node.clone(),
            container_id: ids.container_id.clone(),
            pod: if ids.is_k8s() {
                ids.workload.clone()
            } else {
                String::new()
            },
            endpoint: ids.endpoint.clone(),
            service_account_name: sa,
            ip_networks: input.ips.iter().map(|i| i.to_string()).collect(),
            profiles: input.profiles.clone(),
            interface_name: input.host_if.into(),
            mac: input.mac.clone(),
            ports: input.pod.map(pod_ports).unwrap_or_default(),
            ..WorkloadEndpointSpec::default()
        },
    }
}
