//! NetworkSet and GlobalNetworkSet.

use serde::{Deserialize, Serialize};

use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// `NetworkSet` (stub: spec fields to be filled in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkSet {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: NetworkSetSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkSetSpec {}

crate::impl_kind!(NetworkSet, kind: "NetworkSet", api_version: crate::resource::CALICO_API_VERSION, plural: "networksets", namespaced: true);

impl NetworkSet {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}

/// `GlobalNetworkSet` (stub: spec fields to be filled in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GlobalNetworkSet {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: GlobalNetworkSetSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GlobalNetworkSetSpec {}

crate::impl_kind!(GlobalNetworkSet, kind: "GlobalNetworkSet", api_version: crate::resource::CALICO_API_VERSION, plural: "globalnetworksets", namespaced: false);

impl GlobalNetworkSet {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}
