//! WorkloadEndpoint.

use serde::{Deserialize, Serialize};

use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// `WorkloadEndpoint` (stub: spec fields to be filled in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadEndpoint {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: WorkloadEndpointSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadEndpointSpec {}

crate::impl_kind!(WorkloadEndpoint, kind: "WorkloadEndpoint", api_version: crate::resource::CALICO_API_VERSION, plural: "workloadendpoints", namespaced: true);

impl WorkloadEndpoint {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}
