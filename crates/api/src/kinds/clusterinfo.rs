//! `ClusterInformation`: cluster identity and readiness, written by calico/node at startup
//! (a singleton named `default`).

use serde::{Deserialize, Serialize};

use super::ipamconfig::check_default_name;
use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// `ClusterInformation` (cluster-scoped; must be named `default`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterInformation {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: ClusterInformationSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterInformationSpec {
    /// Random hex identifier generated at install time.
    #[serde(
        default,
        rename = "clusterGUID",
        skip_serializing_if = "String::is_empty"
    )]
    pub cluster_guid: String,
    /// Comma-separated cluster type tags, e.g. `k8s,bgp,kubeadm,kdd`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cluster_type: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub calico_version: String,
    /// False while a datastore migration holds the cluster; components wait for true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datastore_ready: Option<bool>,
    /// The Calico variant, e.g. `Calico`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
}

impl ClusterInformationSpec {
    /// Datastore readiness as components read it (unset counts as ready).
    pub fn is_datastore_ready(&self) -> bool {
        self.datastore_ready.unwrap_or(true)
    }
}

crate::impl_kind!(ClusterInformation, kind: "ClusterInformation", api_version: crate::resource::CALICO_API_VERSION, plural: "clusterinformations", namespaced: false);

impl ClusterInformation {
    fn defaults(&mut self) {}

    fn check(&self, v: &mut Validator) {
        check_default_name(v, &self.metadata.name, "ClusterInformation");
    }
}
