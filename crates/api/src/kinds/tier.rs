//! Tier.

use serde::{Deserialize, Serialize};

use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// `Tier` (stub: spec fields to be filled in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Tier {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: TierSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TierSpec {}

crate::impl_kind!(Tier, kind: "Tier", api_version: crate::resource::CALICO_API_VERSION, plural: "tiers", namespaced: false);

impl Tier {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}
