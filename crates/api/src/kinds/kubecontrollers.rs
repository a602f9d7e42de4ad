//! KubeControllersConfiguration.

use serde::{Deserialize, Serialize};

use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// `KubeControllersConfiguration` (stub: spec fields to be filled in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubeControllersConfiguration {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: KubeControllersConfigurationSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubeControllersConfigurationSpec {}

crate::impl_kind!(KubeControllersConfiguration, kind: "KubeControllersConfiguration", api_version: crate::resource::CALICO_API_VERSION, plural: "kubecontrollersconfigurations", namespaced: false);

impl KubeControllersConfiguration {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}
