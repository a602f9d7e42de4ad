//! `IPAMConfiguration`: the cluster-wide IPAM settings (a singleton named `default`).
//!
//! `autoAllocateBlocks` defaults to true when omitted (the CRD default); everything else is
//! stored as given. [`IPAMConfigurationSpec::check_ipam_set_rules`] holds the extra rules the
//! IPAM library applies when the configuration is changed.

use serde::{Deserialize, Serialize};

use super::infra_common::{check_one_of, check_range};
use crate::error::FieldError;
use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// `IPAMConfiguration` (cluster-scoped; must be named `default`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IPAMConfiguration {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: IPAMConfigurationSpec,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IPAMConfigurationSpec {
    /// When true, hosts may not borrow addresses from blocks affine to other hosts.
    #[serde(default)]
    pub strict_affinity: bool,
    /// Maximum number of blocks affine to one host; 0 means the IPAM default (20).
    #[serde(default, skip_serializing_if = "super::ippool::is_zero_i64")]
    pub max_blocks_per_host: i64,
    /// Whether blocks are claimed for hosts automatically (default true).
    #[serde(default = "default_true")]
    pub auto_allocate_blocks: bool,
    /// `Enabled` (the default when unset) or `Disabled`: KubeVirt VMs keep their addresses.
    #[serde(
        default,
        rename = "kubeVirtVMAddressPersistence",
        skip_serializing_if = "Option::is_none"
    )]
    pub kube_virt_vm_address_persistence: Option<String>,
    /// Seconds a released address is kept out of use (0-1200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_cooldown_seconds: Option<i64>,
}

fn default_true() -> bool {
    true
}

impl Default for IPAMConfigurationSpec {
    fn default() -> Self {
        IPAMConfigurationSpec {
            strict_affinity: false,
            max_blocks_per_host: 0,
            auto_allocate_blocks: true,
            kube_virt_vm_address_persistence: None,
            ip_cooldown_seconds: None,
        }
    }
}

/// Blocks per host when `maxBlocksPerHost` is 0.
pub const DEFAULT_MAX_BLOCKS_PER_HOST: i64 = 20;

impl IPAMConfigurationSpec {
    /// The block limit in effect (20 when unset).
    pub fn effective_max_blocks_per_host(&self) -> i64 {
        if self.max_blocks_per_host > 0 {
            self.max_blocks_per_host
        } else {
            DEFAULT_MAX_BLOCKS_PER_HOST
        }
    }

    /// True unless KubeVirt address persistence is `Disabled`.
    pub fn kube_virt_vm_address_persistence_enabled(&self) -> bool {
        self.kube_virt_vm_address_persistence.as_deref() != Some("Disabled")
    }

    /// The rules Calico's IPAM library applies when this configuration is set: strict affinity
    /// and automatic block allocation cannot both be off, and a block limit requires strict
    /// affinity.
    pub fn check_ipam_set_rules(&self) -> Vec<FieldError> {
        let mut v = Validator::new();
        v.field("spec", |v| {
            if !self.strict_affinity && !self.auto_allocate_blocks {
                v.error_at(
                    "autoAllocateBlocks",
                    "strictAffinity and autoAllocateBlocks cannot both be disabled",
                );
            }
            if self.max_blocks_per_host > 0 && !self.strict_affinity {
                v.error_at(
                    "maxBlocksPerHost",
                    "maxBlocksPerHost requires strictAffinity to be enabled",
                );
            }
        });
        v.into_errors()
    }
}

impl IPAMConfiguration {
    /// The configuration calico/node creates at startup.
    pub fn startup_default() -> Self {
        IPAMConfiguration {
            metadata: ObjectMeta::named("default"),
            spec: IPAMConfigurationSpec {
                kube_virt_vm_address_persistence: Some("Enabled".into()),
                ..IPAMConfigurationSpec::default()
            },
        }
    }
}

crate::impl_kind!(IPAMConfiguration, kind: "IPAMConfiguration", api_version: crate::resource::CALICO_API_VERSION, plural: "ipamconfigurations", namespaced: false);

impl IPAMConfiguration {
    fn defaults(&mut self) {}

    fn check(&self, v: &mut Validator) {
        check_default_name(v, &self.metadata.name, "IPAMConfiguration");
        let spec = &self.spec;
        v.field("spec", |v| {
            v.field("maxBlocksPerHost", |v| {
                check_range(v, spec.max_blocks_per_host, 0, 1_000_000)
            });
            if let Some(p) = &spec.kube_virt_vm_address_persistence {
                v.field("kubeVirtVMAddressPersistence", |v| {
                    check_one_of(v, p, &["Enabled", "Disabled"])
                });
            }
            if let Some(s) = spec.ip_cooldown_seconds {
                v.field("ipCooldownSeconds", |v| check_range(v, s, 0, 1200));
            }
        });
    }
}

/// Singleton kinds must be named `default`.
pub(crate) fn check_default_name(v: &mut Validator, name: &str, kind: &str) {
    if !name.is_empty() && name != "default" {
        v.field("metadata", |v| {
            v.error_at(
                "name",
                format!("a {kind} must be named \"default\", got {name:?}"),
            )
        });
    }
}
