//! NetworkSet (namespaced) and GlobalNetworkSet: labelled lists of CIDRs that policy selectors
//! match like endpoints.

use serde::{Deserialize, Serialize};

use super::rule_check::check_unique;
use super::workloadendpoint::LABEL_NAMESPACE;
use crate::meta::ObjectMeta;
use crate::validate::{Validator, parse_cidr_or_ip};

/// `NetworkSet` (namespaced).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkSet {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: NetworkSetSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkSetSpec {
    /// CIDRs (host bits allowed) or single addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nets: Vec<String>,
}

/// `GlobalNetworkSet` (cluster-scoped).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GlobalNetworkSet {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: GlobalNetworkSetSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GlobalNetworkSetSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nets: Vec<String>,
}

crate::impl_kind!(
    NetworkSet,
    kind: "NetworkSet",
    api_version: crate::resource::CALICO_API_VERSION,
    plural: "networksets",
    namespaced: true,
);
crate::impl_kind!(
    GlobalNetworkSet,
    kind: "GlobalNetworkSet",
    api_version: crate::resource::CALICO_API_VERSION,
    plural: "globalnetworksets",
    namespaced: false,
);

impl NetworkSet {
    fn defaults(&mut self) {
        if self.metadata.namespace.is_empty() {
            self.metadata.namespace = "default".into();
        }
    }

    fn check(&self, v: &mut Validator) {
        check_set(v, &self.metadata, &self.spec.nets);
    }
}

impl GlobalNetworkSet {
    fn defaults(&mut self) {}

    fn check(&self, v: &mut Validator) {
        check_set(v, &self.metadata, &self.spec.nets);
    }
}

/// The namespace label is reserved (Calico adds it for namespaced sets); nets are unique
/// CIDRs or addresses.
fn check_set(v: &mut Validator, meta: &ObjectMeta, nets: &[String]) {
    if meta.labels.contains_key(LABEL_NAMESPACE) {
        v.field("metadata", |v| {
            v.field("labels", |v| {
                v.key(LABEL_NAMESPACE, |v| {
                    v.error(format!(
                        "{LABEL_NAMESPACE} is a reserved label: Calico sets it from the namespace"
                    ))
                })
            })
        });
    }
    if nets.is_empty() {
        return;
    }
    v.field("spec", |v| {
        v.field("nets", |v| {
            check_unique(v, nets);
            for (i, n) in nets.iter().enumerate() {
                if parse_cidr_or_ip(n).is_none() {
                    v.index(i, |v| {
                        v.check_cidr(n);
                    });
                }
            }
        })
    });
}
