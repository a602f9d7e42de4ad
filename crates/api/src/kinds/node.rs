//! Node.

use serde::{Deserialize, Serialize};

use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// `Node` (stub: spec fields to be filled in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Node {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: NodeSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeSpec {}

crate::impl_kind!(Node, kind: "Node", api_version: crate::resource::CALICO_API_VERSION, plural: "nodes", namespaced: false);

impl Node {
    fn defaults(&mut self) {}
    fn check(&self, _v: &mut Validator) {}
}
