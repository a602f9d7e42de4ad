//! FelixConfiguration.

use serde::{Deserialize, Serialize};

use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// `FelixConfiguration` (stub: spec fields to be filled in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FelixConfiguration {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: FelixConfigurationSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FelixConfigurationSpec {}

crate::impl_kind!(FelixConfiguration, kind: "FelixConfiguration", api_version: crate::resource::CALICO_API_VERSION, plural: "felixconfigurations", namespaced: false);

impl FelixConfiguration {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}
