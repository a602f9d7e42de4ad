//! `FelixConfiguration`: Felix's settings. The resource named `default` applies to every node,
//! `node.<nodename>` to one node (overriding `default` field by field), and any other name to
//! the nodes its `nodeSelector` matches.
//!
//! Only what the user set is stored, except for the few defaults Calico's client and CRD apply
//! on create/update (`floatingIPs: Disabled`, `bpfConnectTimeLoadBalancing: TCP`,
//! `bpfHostNetworkedNATWithoutCTLB: Enabled`, `nftablesMode: Auto`, and the translation of the
//! deprecated `bpfConnectTimeLoadBalancingEnabled`). Felix's own defaults are in
//! [`FELIX_DEFAULTS`] and the `effective_*` accessors of [`FelixConfigurationSpec`].

mod check;
mod check_format;
mod defaults;
mod spec;
mod types;

pub use defaults::*;
pub use spec::*;
pub use types::*;

use serde::{Deserialize, Serialize};

use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// `FelixConfiguration` (cluster-scoped).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FelixConfiguration {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: FelixConfigurationSpec,
}

crate::impl_kind!(FelixConfiguration, kind: "FelixConfiguration", api_version: crate::resource::CALICO_API_VERSION, plural: "felixconfigurations", namespaced: false);

impl FelixConfiguration {
    /// The per-node configuration's name for `node`.
    pub fn node_config_name(node: &str) -> String {
        format!("node.{node}")
    }

    /// The node a `node.<nodename>` configuration applies to.
    pub fn per_node_name(&self) -> Option<&str> {
        self.metadata.name.strip_prefix("node.")
    }

    fn defaults(&mut self) {
        let s = &mut self.spec;
        if s.floating_ips.is_none() {
            s.floating_ips = Some("Disabled".into());
        }
        if s.bpf_connect_time_load_balancing.is_none() {
            s.bpf_connect_time_load_balancing = Some("TCP".into());
        }
        if s.bpf_host_networked_nat_without_ctlb.is_none() {
            s.bpf_host_networked_nat_without_ctlb = Some("Enabled".into());
        }
        if let Some(enabled) = s.bpf_connect_time_load_balancing_enabled {
            s.bpf_host_networked_nat_without_ctlb = Some("Disabled".into());
            s.bpf_connect_time_load_balancing =
                Some(if enabled { "Enabled" } else { "Disabled" }.into());
        }
        if s.nftables_mode.is_none() {
            s.nftables_mode = Some("Auto".into());
        }
    }

    fn check(&self, v: &mut Validator) {
        v.field("spec", |v| {
            check::check_spec(&self.spec, &self.metadata.name, v)
        });
    }
}
