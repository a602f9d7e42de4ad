//! IPPool.

use serde::{Deserialize, Serialize};

use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// `IPPool` (stub: spec fields to be filled in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IPPool {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: IPPoolSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IPPoolSpec {}

crate::impl_kind!(IPPool, kind: "IPPool", api_version: crate::resource::CALICO_API_VERSION, plural: "ippools", namespaced: false);

impl IPPool {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}
