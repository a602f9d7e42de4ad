//! NetworkPolicy, GlobalNetworkPolicy and their staged variants.

use serde::{Deserialize, Serialize};

use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// `NetworkPolicy` (stub: spec fields to be filled in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkPolicy {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: NetworkPolicySpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkPolicySpec {}

crate::impl_kind!(NetworkPolicy, kind: "NetworkPolicy", api_version: crate::resource::CALICO_API_VERSION, plural: "networkpolicies", namespaced: true);

impl NetworkPolicy {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}

/// `GlobalNetworkPolicy` (stub: spec fields to be filled in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GlobalNetworkPolicy {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: GlobalNetworkPolicySpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GlobalNetworkPolicySpec {}

crate::impl_kind!(GlobalNetworkPolicy, kind: "GlobalNetworkPolicy", api_version: crate::resource::CALICO_API_VERSION, plural: "globalnetworkpolicies", namespaced: false);

impl GlobalNetworkPolicy {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}

/// `StagedNetworkPolicy` (stub: spec fields to be filled in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StagedNetworkPolicy {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: StagedNetworkPolicySpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StagedNetworkPolicySpec {}

crate::impl_kind!(StagedNetworkPolicy, kind: "StagedNetworkPolicy", api_version: crate::resource::CALICO_API_VERSION, plural: "stagednetworkpolicies", namespaced: true);

impl StagedNetworkPolicy {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}

/// `StagedGlobalNetworkPolicy` (stub: spec fields to be filled in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StagedGlobalNetworkPolicy {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: StagedGlobalNetworkPolicySpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StagedGlobalNetworkPolicySpec {}

crate::impl_kind!(StagedGlobalNetworkPolicy, kind: "StagedGlobalNetworkPolicy", api_version: crate::resource::CALICO_API_VERSION, plural: "stagedglobalnetworkpolicies", namespaced: false);

impl StagedGlobalNetworkPolicy {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}
