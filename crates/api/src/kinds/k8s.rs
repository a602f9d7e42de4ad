//! The Kubernetes kinds calico-rs accepts: networking.k8s.io/v1 NetworkPolicy, v1 Namespace, v1 Pod.

use serde::{Deserialize, Serialize};

use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// `NetworkPolicy` (stub: spec fields to be filled in).
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
pub struct KubernetesNetworkPolicySpec {}

crate::impl_kind!(KubernetesNetworkPolicy, kind: "NetworkPolicy", api_version: crate::resource::K8S_NETWORKING_API_VERSION, plural: "networkpolicies", namespaced: true);

impl KubernetesNetworkPolicy {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}

/// `Namespace` (stub: spec fields to be filled in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Namespace {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: NamespaceSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NamespaceSpec {}

crate::impl_kind!(Namespace, kind: "Namespace", api_version: crate::resource::K8S_CORE_API_VERSION, plural: "namespaces", namespaced: false);

impl Namespace {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}

/// `Pod` (stub: spec fields to be filled in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Pod {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: PodSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodSpec {}

crate::impl_kind!(Pod, kind: "Pod", api_version: crate::resource::K8S_CORE_API_VERSION, plural: "pods", namespaced: true);

impl Pod {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}
