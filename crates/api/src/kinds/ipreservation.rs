//! IPReservation.

use serde::{Deserialize, Serialize};

use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// `IPReservation` (stub: spec fields to be filled in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IPReservation {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: IPReservationSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IPReservationSpec {}

crate::impl_kind!(IPReservation, kind: "IPReservation", api_version: crate::resource::CALICO_API_VERSION, plural: "ipreservations", namespaced: false);

impl IPReservation {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}
