//! IPAMConfiguration.

use serde::{Deserialize, Serialize};

use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// `IPAMConfiguration` (stub: spec fields to be filled in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IPAMConfiguration {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: IPAMConfigurationSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IPAMConfigurationSpec {}

crate::impl_kind!(IPAMConfiguration, kind: "IPAMConfiguration", api_version: crate::resource::CALICO_API_VERSION, plural: "ipamconfigurations", namespaced: false);

impl IPAMConfiguration {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}
