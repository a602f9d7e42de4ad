//! Profile.

use serde::{Deserialize, Serialize};

use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// `Profile` (stub: spec fields to be filled in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Profile {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: ProfileSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProfileSpec {}

crate::impl_kind!(Profile, kind: "Profile", api_version: crate::resource::CALICO_API_VERSION, plural: "profiles", namespaced: false);

impl Profile {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}
