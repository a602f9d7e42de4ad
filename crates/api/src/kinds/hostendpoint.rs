//! HostEndpoint.

use serde::{Deserialize, Serialize};

use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// `HostEndpoint` (stub: spec fields to be filled in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HostEndpoint {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: HostEndpointSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HostEndpointSpec {}

crate::impl_kind!(HostEndpoint, kind: "HostEndpoint", api_version: crate::resource::CALICO_API_VERSION, plural: "hostendpoints", namespaced: false);

impl HostEndpoint {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}
