//! `IPReservation`: addresses Calico IPAM must not hand out (existing allocations are kept).

use serde::{Deserialize, Serialize};

use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// `IPReservation` (cluster-scoped).
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
pub struct IPReservationSpec {
    /// CIDRs (host bits allowed) or single addresses to keep out of IPAM.
    #[serde(
        default,
        rename = "reservedCIDRs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub reserved_cidrs: Vec<String>,
}

crate::impl_kind!(IPReservation, kind: "IPReservation", api_version: crate::resource::CALICO_API_VERSION, plural: "ipreservations", namespaced: false);

impl IPReservation {
    fn defaults(&mut self) {}

    fn check(&self, v: &mut Validator) {
        v.field("spec", |v| {
            v.field("reservedCIDRs", |v| {
                for (i, c) in self.spec.reserved_cidrs.iter().enumerate() {
                    v.index(i, |v| v.check_cidr(c));
                }
            })
        });
    }
}
