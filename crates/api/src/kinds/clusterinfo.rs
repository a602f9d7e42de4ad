//! ClusterInformation.

use serde::{Deserialize, Serialize};

use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// `ClusterInformation` (stub: spec fields to be filled in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterInformation {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: ClusterInformationSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterInformationSpec {}

crate::impl_kind!(ClusterInformation, kind: "ClusterInformation", api_version: crate::resource::CALICO_API_VERSION, plural: "clusterinformations", namespaced: false);

impl ClusterInformation {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}
