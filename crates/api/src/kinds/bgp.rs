//! BGPConfiguration, BGPPeer and BGPFilter.

use serde::{Deserialize, Serialize};

use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// `BGPConfiguration` (stub: spec fields to be filled in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BGPConfiguration {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: BGPConfigurationSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BGPConfigurationSpec {}

crate::impl_kind!(BGPConfiguration, kind: "BGPConfiguration", api_version: crate::resource::CALICO_API_VERSION, plural: "bgpconfigurations", namespaced: false);

impl BGPConfiguration {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}

/// `BGPPeer` (stub: spec fields to be filled in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BGPPeer {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: BGPPeerSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BGPPeerSpec {}

crate::impl_kind!(BGPPeer, kind: "BGPPeer", api_version: crate::resource::CALICO_API_VERSION, plural: "bgppeers", namespaced: false);

impl BGPPeer {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}

/// `BGPFilter` (stub: spec fields to be filled in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BGPFilter {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: BGPFilterSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BGPFilterSpec {}

crate::impl_kind!(BGPFilter, kind: "BGPFilter", api_version: crate::resource::CALICO_API_VERSION, plural: "bgpfilters", namespaced: false);

impl BGPFilter {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}
