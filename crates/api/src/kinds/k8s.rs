//! The Kubernetes kinds calico-rs accepts in place of a Kubernetes API server:
//! `networking.k8s.io/v1` NetworkPolicy (here [`KubernetesNetworkPolicy`]), `v1` Namespace and
//! `v1` Pod (see `k8s_pod.rs` for the pod's parts).
//!
//! Defaults and validation follow the Kubernetes API server for the fields Calico uses.

use std::fmt;

use ipnet::IpNet;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::k8s_pod::{PodSpec, PodStatus, check_pod_spec, check_pod_status};
use super::k8s_selector::{LabelSelector, check_label_selector};
use super::numorstring::iana_port_name_problem;
use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// The label the Kubernetes API server puts on every namespace, holding its name.
pub const LABEL_K8S_NAMESPACE_NAME: &str = "kubernetes.io/metadata.name";

/// A Kubernetes protocol (`TCP`, `UDP` or `SCTP`, case-sensitive).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[allow(clippy::upper_case_acronyms)]
pub enum K8sProtocol {
    #[default]
    TCP,
    UDP,
    SCTP,
}

/// A Kubernetes `IntOrString` (a port number or a port name).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IntOrString {
    Int(i32),
    String(String),
}

impl fmt::Display for IntOrString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntOrString::Int(n) => write!(f, "{n}"),
            IntOrString::String(s) => f.write_str(s),
        }
    }
}

impl Serialize for IntOrString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            IntOrString::Int(n) => s.serialize_i32(*n),
            IntOrString::String(v) => s.serialize_str(v),
        }
    }
}

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = IntOrString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer or a string")
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<IntOrString, E> {
                i32::try_from(n)
                    .map(IntOrString::Int)
                    .map_err(|_| E::custom(format!("{n} is out of range for a port number")))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<IntOrString, E> {
                i32::try_from(n)
                    .map(IntOrString::Int)
                    .map_err(|_| E::custom(format!("{n} is out of range for a port number")))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<IntOrString, E> {
                Ok(IntOrString::String(s.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

// ------------------------------------------------------------------------------------------
// NetworkPolicy
// ------------------------------------------------------------------------------------------

/// `networking.k8s.io/v1` `NetworkPolicy` (namespaced).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubernetesNetworkPolicy {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: KubernetesNetworkPolicySpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubernetesNetworkPolicySpec {
    /// The pods (of the policy's namespace) the policy applies to; empty selects all.
    #[serde(default)]
    pub pod_selector: LabelSelector,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<NetworkPolicyIngressRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<NetworkPolicyEgressRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_types: Vec<K8sPolicyType>,
}

/// A Kubernetes policy type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum K8sPolicyType {
    Ingress,
    Egress,
}

/// Traffic allowed in: from any of `from` (all sources when empty) to any of `ports` (all when
/// empty).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkPolicyIngressRule {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<NetworkPolicyPort>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from: Vec<NetworkPolicyPeer>,
}

/// Traffic allowed out: to any of `to` on any of `ports`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkPolicyEgressRule {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<NetworkPolicyPort>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<NetworkPolicyPeer>,
}

/// A port (number or named), optionally the start of a range up to `endPort`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkPolicyPort {
    /// Defaults to TCP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<K8sProtocol>,
    /// All ports when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<IntOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_port: Option<i32>,
}

/// A peer: pods selected by `podSelector` and/or `namespaceSelector` (both ANDed), or an
/// `ipBlock`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkPolicyPeer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_block: Option<IpBlock>,
}

/// A CIDR minus some sub-ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IpBlock {
    pub cidr: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub except: Vec<String>,
}

crate::impl_kind!(
    KubernetesNetworkPolicy,
    kind: "NetworkPolicy",
    api_version: crate::resource::K8S_NETWORKING_API_VERSION,
    plural: "networkpolicies",
    namespaced: true,
);

impl KubernetesNetworkPolicySpec {
    /// `policyTypes`, or what the API server defaults them to: Ingress, plus Egress when
    /// there are egress rules.
    pub fn effective_policy_types(&self) -> Vec<K8sPolicyType> {
        if !self.policy_types.is_empty() {
            return self.policy_types.clone();
        }
        let mut types = vec![K8sPolicyType::Ingress];
        if !self.egress.is_empty() {
            types.push(K8sPolicyType::Egress);
        }
        types
    }
}

impl KubernetesNetworkPolicy {
    /// Namespace `default`, `policyTypes` and port protocols (TCP) as the API server does.
    fn defaults(&mut self) {
        if self.metadata.namespace.is_empty() {
            self.metadata.namespace = "default".into();
        }
        let spec = &mut self.spec;
        spec.policy_types = spec.effective_policy_types();
        let ports = spec
            .ingress
            .iter_mut()
            .flat_map(|r| r.ports.iter_mut())
            .chain(spec.egress.iter_mut().flat_map(|r| r.ports.iter_mut()));
        for p in ports {
            p.protocol.get_or_insert(K8sProtocol::TCP);
        }
    }

    fn check(&self, v: &mut Validator) {
        let s = &self.spec;
        v.field("spec", |v| {
            v.field("podSelector", |v| check_label_selector(v, &s.pod_selector));
            if !s.ingress.is_empty() {
                v.field("ingress", |v| {
                    for (i, r) in s.ingress.iter().enumerate() {
                        v.index(i, |v| check_k8s_rule(v, &r.ports, "from", &r.from));
                    }
                });
            }
            if !s.egress.is_empty() {
                v.field("egress", |v| {
                    for (i, r) in s.egress.iter().enumerate() {
                        v.index(i, |v| check_k8s_rule(v, &r.ports, "to", &r.to));
                    }
                });
            }
            if s.policy_types.len() > 2 {
                v.error_at("policyTypes", "may not specify more than two policyTypes");
            }
        });
    }
}

fn check_k8s_rule(
    v: &mut Validator,
    ports: &[NetworkPolicyPort],
    peers_field: &str,
    peers: &[NetworkPolicyPeer],
) {
    if !ports.is_empty() {
        v.field("ports", |v| {
            for (i, p) in ports.iter().enumerate() {
                v.index(i, |v| check_k8s_port(v, p));
            }
        });
    }
    if !peers.is_empty() {
        v.field(peers_field, |v| {
            for (i, p) in peers.iter().enumerate() {
                v.index(i, |v| check_peer(v, p));
            }
        });
    }
}

fn check_k8s_port(v: &mut Validator, p: &NetworkPolicyPort) {
    match &p.port {
        Some(IntOrString::Int(n)) if !(1..=65535).contains(n) => {
            v.error_at(
                "port",
                format!("{n} is not a valid port number: expected 1-65535"),
            );
        }
        Some(IntOrString::String(name)) => {
            if let Some(msg) = iana_port_name_problem(name) {
                v.error_at("port", msg);
            }
        }
        _ => {}
    }
    let Some(end) = p.end_port else { return };
    match &p.port {
        None => v.error_at(
            "endPort",
            "may not be specified when `port` is not specified",
        ),
        Some(IntOrString::String(_)) => {
            v.error_at("endPort", "may not be specified when `port` is non-numeric")
        }
        Some(IntOrString::Int(start)) => {
            if end < *start {
                v.error_at(
                    "endPort",
                    format!("must be greater than or equal to `port` ({end} < {start})"),
                );
            }
            if !(1..=65535).contains(&end) {
                v.error_at(
                    "endPort",
                    format!("{end} is not a valid port number: expected 1-65535"),
                );
            }
        }
    }
}

fn check_peer(v: &mut Validator, p: &NetworkPolicyPeer) {
    let selectors =
        usize::from(p.pod_selector.is_some()) + usize::from(p.namespace_selector.is_some());
    match (selectors, &p.ip_block) {
        (0, None) => v.error("must specify a peer"),
        (1.., Some(_)) => {
            v.error("may not specify more than 1 peer: ipBlock cannot be combined with selectors")
        }
        _ => {}
    }
    if let Some(s) = &p.pod_selector {
        v.field("podSelector", |v| check_label_selector(v, s));
    }
    if let Some(s) = &p.namespace_selector {
        v.field("namespaceSelector", |v| check_label_selector(v, s));
    }
    if let Some(b) = &p.ip_block {
        v.field("ipBlock", |v| check_ip_block(v, b));
    }
}

fn check_ip_block(v: &mut Validator, b: &IpBlock) {
    if b.cidr.is_empty() {
        v.error_at("cidr", "cidr must be specified");
        return;
    }
    let Some(cidr) = v.field("cidr", |v| parse_k8s_cidr(v, &b.cidr)) else {
        return;
    };
    if b.except.is_empty() {
        return;
    }
    v.field("except", |v| {
        for (i, e) in b.except.iter().enumerate() {
            v.index(i, |v| {
                let Some(ex) = parse_k8s_cidr(v, e) else {
                    return;
                };
                let inside = cidr.contains(&ex.network()) && ex.prefix_len() > cidr.prefix_len();
                if !inside || ex.addr().is_ipv4() != cidr.addr().is_ipv4() {
                    v.error(format!(
                        "{e:?} must be a strict subset of `cidr` ({})",
                        b.cidr
                    ));
                }
            });
        }
    });
}

/// A CIDR with a prefix length (host bits allowed, as Kubernetes allows them).
fn parse_k8s_cidr(v: &mut Validator, s: &str) -> Option<IpNet> {
    match s.parse::<IpNet>() {
        Ok(n) => Some(n),
        Err(_) => {
            v.error(format!(
                "{s:?} is not a valid CIDR: expected e.g. 10.0.0.0/16"
            ));
            None
        }
    }
}

// ------------------------------------------------------------------------------------------
// Namespace
// ------------------------------------------------------------------------------------------

/// `v1` `Namespace` (cluster-scoped). Its labels are what `namespaceSelector`s match.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Namespace {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default, skip_serializing_if = "NamespaceSpec::is_empty")]
    pub spec: NamespaceSpec,
    #[serde(default, skip_serializing_if = "NamespaceStatus::is_empty")]
    pub status: NamespaceStatus,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NamespaceSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finalizers: Vec<String>,
}

impl NamespaceSpec {
    pub fn is_empty(&self) -> bool {
        self.finalizers.is_empty()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NamespaceStatus {
    /// `Active` or `Terminating`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub phase: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<serde_json::Value>,
}

impl NamespaceStatus {
    pub fn is_empty(&self) -> bool {
        self.phase.is_empty() && self.conditions.is_empty()
    }
}

crate::impl_kind!(
    Namespace,
    kind: "Namespace",
    api_version: crate::resource::K8S_CORE_API_VERSION,
    plural: "namespaces",
    namespaced: false,
    name_rule: crate::resource::NameRule::Label,
);

impl Namespace {
    /// What the API server adds: the `kubernetes.io/metadata.name` label, the `kubernetes`
    /// finalizer and phase `Active`.
    fn defaults(&mut self) {
        if !self.metadata.name.is_empty() {
            self.metadata
                .labels
                .insert(LABEL_K8S_NAMESPACE_NAME.into(), self.metadata.name.clone());
        }
        if self.spec.finalizers.is_empty() {
            self.spec.finalizers.push("kubernetes".into());
        }
        if self.status.phase.is_empty() {
            self.status.phase = "Active".into();
        }
    }

    fn check(&self, v: &mut Validator) {
        if !self.status.phase.is_empty()
            && !matches!(self.status.phase.as_str(), "Active" | "Terminating")
        {
            v.field("status", |v| {
                v.error_at(
                    "phase",
                    format!(
                        "{:?} is not a namespace phase: expected Active or Terminating",
                        self.status.phase
                    ),
                )
            });
        }
    }
}

// ------------------------------------------------------------------------------------------
// Pod
// ------------------------------------------------------------------------------------------

/// `v1` `Pod` (namespaced): the fields Calico uses are typed (labels, service account, node,
/// host networking, container ports, IPs); other common fields are kept verbatim.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Pod {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: PodSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PodStatus>,
}

crate::impl_kind!(
    Pod,
    kind: "Pod",
    api_version: crate::resource::K8S_CORE_API_VERSION,
    plural: "pods",
    namespaced: true,
);

impl Pod {
    /// Namespace `default`, service account `default` (as the ServiceAccount admission plugin
    /// sets it) and container port protocols (TCP).
    fn defaults(&mut self) {
        if self.metadata.namespace.is_empty() {
            self.metadata.namespace = "default".into();
        }
        let spec = &mut self.spec;
        if spec.service_account_name.is_empty() {
            spec.service_account_name = if spec.service_account.is_empty() {
                "default".into()
            } else {
                spec.service_account.clone()
            };
        }
        for c in spec
            .containers
            .iter_mut()
            .chain(spec.init_containers.iter_mut())
        {
            for p in &mut c.ports {
                p.protocol.get_or_insert(K8sProtocol::TCP);
            }
        }
    }

    fn check(&self, v: &mut Validator) {
        v.field("spec", |v| check_pod_spec(v, &self.spec));
        if let Some(status) = &self.status {
            v.field("status", |v| check_pod_status(v, status));
        }
    }
}
