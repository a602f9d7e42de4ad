//! Endpoints, network sets and the profiles Calico synthesises, from their resources: WEPs,
//! HEPs, and — for a cluster without a Kubernetes API server — pods (as KDD's
//! `workload_endpoint_default.go` converts them), namespaces (`kns.<ns>`) and service
//! accounts (`ksa.<ns>.<sa>`).

use std::collections::BTreeMap;
use std::net::IpAddr;

use calico_api::{
    Action, HostEndpoint, K8sProtocol, Namespace, ObjectMeta, Pod, Protocol, WorkloadEndpoint,
};

use crate::ModelError;
use crate::ids::{EndpointId, EndpointKind};
use crate::model::{NamedPort, NetSet, ProfileInfo};
use crate::rule::BackendRule;
use crate::scope::{
    LABEL_NAMESPACE, LABEL_ORCHESTRATOR, LABEL_SERVICE_ACCOUNT, PREFIX_NAMESPACE,
    PREFIX_SERVICE_ACCOUNT,
};

/// The label Calico adds under the `pcns.` / `pcsa.` prefix with the namespace / SA name.
const LABEL_NAME: &str = "projectcalico.org/name";
/// The annotations the CNI plugin writes with the pod's addresses.
const ANNOTATION_POD_IP: &str = "cni.projectcalico.org/podIP";
const ANNOTATION_POD_IPS: &str = "cni.projectcalico.org/podIPs";

/// An endpoint before profile labels are merged in.
#[derive(Clone, Debug)]
pub(crate) struct RawEndpoint {
    pub id: EndpointId,
    pub labels: BTreeMap<String, String>,
    pub ips: Vec<IpAddr>,
    pub profiles: Vec<String>,
    pub ports: Vec<NamedPort>,
}

pub(crate) fn from_wep(w: &WorkloadEndpoint) -> RawEndpoint {
    let mut labels = w.metadata.labels.clone();
    labels.insert(LABEL_NAMESPACE.into(), w.metadata.namespace.clone());
    if !w.spec.service_account_name.is_empty() {
        labels
            .entry(LABEL_SERVICE_ACCOUNT.into())
            .or_insert_with(|| w.spec.service_account_name.clone());
    }
    let name = if w.spec.pod.is_empty() {
        w.metadata.name.clone()
    } else {
        w.spec.pod.clone()
    };
    RawEndpoint {
        id: EndpointId {
            kind: EndpointKind::Workload,
            namespace: w.metadata.namespace.clone(),
            name,
        },
        labels,
        ips: w.spec.addresses(),
        profiles: w.spec.profiles.clone(),
        ports: w
            .spec
            .ports
            .iter()
            .map(|p| NamedPort {
                name: p.name.clone(),
                protocol: p.protocol,
                port: p.port,
            })
            .collect(),
    }
}

pub(crate) fn from_hep(h: &HostEndpoint) -> RawEndpoint {
    RawEndpoint {
        id: EndpointId {
            kind: EndpointKind::Host,
            namespace: String::new(),
            name: h.metadata.name.clone(),
        },
        labels: h.metadata.labels.clone(),
        ips: h
            .spec
            .expected_ips
            .iter()
            .filter_map(|ip| ip.parse().ok())
            .collect(),
        profiles: h.spec.profiles.clone(),
        ports: h
            .spec
            .ports
            .iter()
            .map(|p| NamedPort {
                name: p.name.clone(),
                protocol: p.protocol,
                port: p.port,
            })
            .collect(),
    }
}

/// The service account a pod runs as (`default` when unset).
fn service_account(p: &Pod) -> &str {
    [&p.spec.service_account_name, &p.spec.service_account]
        .into_iter()
        .find(|s| !s.is_empty())
        .map_or("default", String::as_str)
}

fn pod_ips(p: &Pod) -> Vec<IpAddr> {
    let ann = &p.metadata.annotations;
    if let Some(list) = ann.get(ANNOTATION_POD_IPS) {
        return list
            .split(',')
            .filter_map(|s| calico_api::parse_net(s.trim()).map(|n| n.addr()))
            .collect();
    }
    if let Some(one) = ann.get(ANNOTATION_POD_IP) {
        return calico_api::parse_net(one.trim())
            .map(|n| n.addr())
            .into_iter()
            .collect();
    }
    p.status.as_ref().map(|s| s.ips()).unwrap_or_default()
}

/// Endpoints for the pods that are Calico workloads (scheduled, not host-networked, not
/// finished, with an address) and have no WorkloadEndpoint among `existing`.
pub(crate) fn from_pods(pods: &[&Pod], existing: &[RawEndpoint]) -> Vec<RawEndpoint> {
    let mut out = Vec::new();
    for p in pods {
        let finished = p.status.as_ref().is_some_and(|s| s.is_finished());
        if p.spec.host_network || p.spec.node_name.is_empty() || finished {
            continue;
        }
        let id = EndpointId {
            kind: EndpointKind::Workload,
            namespace: p.metadata.namespace.clone(),
            name: p.metadata.name.clone(),
        };
        if existing.iter().any(|e| e.id == id) {
            continue;
        }
        let ips = pod_ips(p);
        if ips.is_empty() {
            continue;
        }
        let ns = &p.metadata.namespace;
        let sa = service_account(p);
        let mut labels = p.metadata.labels.clone();
        labels.insert(LABEL_NAMESPACE.into(), ns.clone());
        labels.insert(LABEL_ORCHESTRATOR.into(), "k8s".into());
        labels.insert(LABEL_SERVICE_ACCOUNT.into(), sa.into());
        let ports = p
            .spec
            .containers
            .iter()
            .flat_map(|c| &c.ports)
            .filter(|cp| !cp.name.is_empty())
            .filter_map(|cp| {
                Some(NamedPort {
                    name: cp.name.clone(),
                    protocol: match cp.protocol.unwrap_or_default() {
                        K8sProtocol::TCP => Protocol::Tcp,
                        K8sProtocol::UDP => Protocol::Udp,
                        K8sProtocol::SCTP => Protocol::Sctp,
                    },
                    port: u16::try_from(cp.container_port).ok()?,
                })
            })
            .collect();
        out.push(RawEndpoint {
            id,
            labels,
            ips,
            profiles: vec![format!("kns.{ns}"), format!("ksa.{ns}.{sa}")],
            ports,
        });
    }
    out
}

/// `kns.<ns>`: allow-all, carrying the namespace's labels prefixed `pcns.`.
pub(crate) fn namespace_profile(ns: &Namespace) -> (String, ProfileInfo) {
    let name = format!("kns.{}", ns.metadata.name);
    let mut labels: BTreeMap<String, String> = ns
        .metadata
        .labels
        .iter()
        .map(|(k, v)| (format!("{PREFIX_NAMESPACE}{k}"), v.clone()))
        .collect();
    labels.insert(
        format!("{PREFIX_NAMESPACE}{LABEL_NAME}"),
        ns.metadata.name.clone(),
    );
    let info = ProfileInfo {
        name: name.clone(),
        ingress: vec![BackendRule::match_all(Action::Allow)],
        egress: vec![BackendRule::match_all(Action::Allow)],
        labels_to_apply: labels,
    };
    (name, info)
}

/// `ksa.<ns>.<sa>`: no rules, carrying `pcsa.projectcalico.org/name=<sa>` (service accounts
/// are not stored here, so their own labels are unknown). `None` for other profile names.
pub(crate) fn service_account_profile(name: &str) -> Option<ProfileInfo> {
    let rest = name.strip_prefix("ksa.")?;
    let (_, sa) = rest.split_once('.')?;
    Some(ProfileInfo {
        name: name.into(),
        ingress: Vec::new(),
        egress: Vec::new(),
        labels_to_apply: BTreeMap::from([(
            format!("{PREFIX_SERVICE_ACCOUNT}{LABEL_NAME}"),
            sa.to_string(),
        )]),
    })
}

pub(crate) fn net_set(
    kind: &'static str,
    meta: &ObjectMeta,
    nets: &[String],
) -> Result<NetSet, ModelError> {
    let mut labels = meta.labels.clone();
    let name = if meta.namespace.is_empty() {
        meta.name.clone()
    } else {
        labels.insert(LABEL_NAMESPACE.into(), meta.namespace.clone());
        format!("{}/{}", meta.namespace, meta.name)
    };
    let nets = nets
        .iter()
        .enumerate()
        .map(|(i, n)| {
            calico_api::parse_net(n).ok_or_else(|| ModelError::Cidr {
                kind,
                name: name.clone(),
                field: format!("spec.nets[{i}]"),
                value: n.clone(),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(NetSet { name, labels, nets })
}
