//! `KubeControllersConfiguration`: settings of calico-kube-controllers (a singleton named
//! `default`), with the status the controllers report back.
//!
//! Defaults applied on create/update, as Calico's client and CRD do: `healthChecks: Enabled`,
//! `prometheusMetricsPort: 9094`, `controllers.node.leakGracePeriod: 15m` (when the node
//! controller is configured), `controllers.loadBalancer.assignIPs: AllServices` and
//! `controllers.migration.policyNameMigrator: Enabled` (when those sections are present).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::duration::GoDuration;
use super::infra_common::{check_one_of, check_range, check_regex};
use super::ipamconfig::check_default_name;
use crate::meta::ObjectMeta;
use crate::validate::{Validator, is_dns_subdomain};

/// `KubeControllersConfiguration` (cluster-scoped; must be named `default`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubeControllersConfiguration {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: KubeControllersConfigurationSpec,
    #[serde(default)]
    pub status: KubeControllersConfigurationStatus,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubeControllersConfigurationSpec {
    /// `Debug`, `Info`, `Warning`, `Error` or `Fatal` (Info when unset).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub log_severity_screen: String,
    /// `Enabled` or `Disabled`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub health_checks: String,
    /// Period between etcd compactions; 0 disables (10m when unset).
    #[serde(
        default,
        rename = "etcdV3CompactionPeriod",
        skip_serializing_if = "Option::is_none"
    )]
    pub etcd_v3_compaction_period: Option<GoDuration>,
    /// Port of the Prometheus metrics server; 0 disables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus_metrics_port: Option<i64>,
    #[serde(default)]
    pub controllers: ControllersConfig,
    /// Port for CPU/memory profiles; profiling is off when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug_profile_port: Option<i64>,
}

/// The individual controllers; an absent section disables that controller.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ControllersConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<NodeControllerConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<ReconcilerConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_endpoint: Option<ReconcilerConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<ReconcilerConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<ReconcilerConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<LoadBalancerControllerConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration: Option<MigrationControllerConfig>,
}

/// The node controller: node cleanup, label sync, host endpoints and IPAM garbage collection.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeControllerConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconciler_period: Option<GoDuration>,
    /// `Enabled` or `Disabled`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sync_labels: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_endpoint: Option<AutoHostEndpointConfig>,
    /// How long an address must look leaked before it is reclaimed; 0 disables IPAM GC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leak_grace_period: Option<GoDuration>,
}

/// Automatic host endpoints.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AutoHostEndpointConfig {
    /// `Enabled` or `Disabled`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auto_create: String,
    /// `Enabled` or `Disabled`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub create_default_host_endpoint: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<AutoHostEndpointTemplate>,
}

/// A template for generated host endpoints.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AutoHostEndpointTemplate {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub generate_name: String,
    #[serde(
        default,
        rename = "interfaceCIDRs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub interface_cidrs: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub interface_pattern: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub node_selector: String,
}

/// The policy, workload endpoint, service account and namespace controllers (etcd mode only).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReconcilerConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconciler_period: Option<GoDuration>,
}

/// Names kept for readers of Calico's Go API.
pub type PolicyControllerConfig = ReconcilerConfig;
pub type WorkloadEndpointControllerConfig = ReconcilerConfig;
pub type ServiceAccountControllerConfig = ReconcilerConfig;
pub type NamespaceControllerConfig = ReconcilerConfig;

/// The LoadBalancer IP controller.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LoadBalancerControllerConfig {
    /// `AllServices` or `RequestedServicesOnly`.
    #[serde(
        default,
        rename = "assignIPs",
        skip_serializing_if = "String::is_empty"
    )]
    pub assign_ips: String,
}

/// Migration controllers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MigrationControllerConfig {
    /// `Enabled` or `Disabled`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub policy_name_migrator: String,
}

/// What kube-controllers is actually running with.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubeControllersConfigurationStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running_config: Option<KubeControllersConfigurationSpec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment_vars: BTreeMap<String, String>,
}

pub const DEFAULT_KUBE_CONTROLLERS_METRICS_PORT: i64 = 9094;
const ENABLED_DISABLED: &[&str] = &["Enabled", "Disabled"];
const KCC_LOG_LEVELS: &[&str] = &["Debug", "Info", "Warning", "Error", "Fatal"];

impl KubeControllersConfiguration {
    /// The configuration kube-controllers runs with when none is stored (the documented
    /// defaults: Info logging, health checks on, 10m compaction, 5m reconcilers, label sync on,
    /// automatic host endpoints off, 15m leak grace period, LoadBalancer `AllServices`).
    pub fn kube_controllers_default() -> Self {
        let five = Some(ReconcilerConfig {
            reconciler_period: Some(GoDuration::from_mins(5)),
        });
        KubeControllersConfiguration {
            metadata: ObjectMeta::named("default"),
            spec: KubeControllersConfigurationSpec {
                log_severity_screen: "Info".into(),
                health_checks: "Enabled".into(),
                etcd_v3_compaction_period: Some(GoDuration::from_mins(10)),
                prometheus_metrics_port: Some(DEFAULT_KUBE_CONTROLLERS_METRICS_PORT),
                controllers: ControllersConfig {
                    node: Some(NodeControllerConfig {
                        reconciler_period: Some(GoDuration::from_mins(5)),
                        sync_labels: "Enabled".into(),
                        host_endpoint: Some(AutoHostEndpointConfig {
                            auto_create: "Disabled".into(),
                            ..AutoHostEndpointConfig::default()
                        }),
                        leak_grace_period: Some(GoDuration::from_mins(15)),
                    }),
                    policy: five.clone(),
                    workload_endpoint: five.clone(),
                    service_account: five.clone(),
                    namespace: five,
                    load_balancer: Some(LoadBalancerControllerConfig {
                        assign_ips: "AllServices".into(),
                    }),
                    migration: Some(MigrationControllerConfig {
                        policy_name_migrator: "Enabled".into(),
                    }),
                },
                debug_profile_port: None,
            },
            status: KubeControllersConfigurationStatus::default(),
        }
    }
}

crate::impl_kind!(KubeControllersConfiguration, kind: "KubeControllersConfiguration", api_version: crate::resource::CALICO_API_VERSION, plural: "kubecontrollersconfigurations", namespaced: false);

impl KubeControllersConfiguration {
    fn defaults(&mut self) {
        let spec = &mut self.spec;
        if spec.health_checks.is_empty() {
            spec.health_checks = "Enabled".into();
        }
        if spec.prometheus_metrics_port.is_none() {
            spec.prometheus_metrics_port = Some(DEFAULT_KUBE_CONTROLLERS_METRICS_PORT);
        }
        let c = &mut spec.controllers;
        if let Some(node) = &mut c.node
            && node.leak_grace_period.is_none()
        {
            node.leak_grace_period = Some(GoDuration::from_mins(15));
        }
        if let Some(lb) = &mut c.load_balancer
            && lb.assign_ips.is_empty()
        {
            lb.assign_ips = "AllServices".into();
        }
        if let Some(m) = &mut c.migration
            && m.policy_name_migrator.is_empty()
        {
            m.policy_name_migrator = "Enabled".into();
        }
    }

    fn check(&self, v: &mut Validator) {
        check_default_name(v, &self.metadata.name, "KubeControllersConfiguration");
        v.field("spec", |v| check_spec(&self.spec, v));
        if let Some(rc) = &self.status.running_config {
            v.field("status", |v| {
                v.field("runningConfig", |v| check_spec(rc, v))
            });
        }
    }
}

fn check_spec(spec: &KubeControllersConfigurationSpec, v: &mut Validator) {
    if !spec.log_severity_screen.is_empty() {
        v.field("logSeverityScreen", |v| {
            check_one_of(v, &spec.log_severity_screen, KCC_LOG_LEVELS)
        });
    }
    if !spec.health_checks.is_empty() {
        v.field("healthChecks", |v| {
            check_one_of(v, &spec.health_checks, ENABLED_DISABLED)
        });
    }
    if let Some(p) = spec.prometheus_metrics_port {
        v.field("prometheusMetricsPort", |v| check_range(v, p, 0, 65535));
    }
    if let Some(p) = spec.debug_profile_port {
        v.field("debugProfilePort", |v| check_range(v, p, 0, 65535));
    }
    let c = &spec.controllers;
    v.field("controllers", |v| {
        if let Some(node) = &c.node {
            v.field("node", |v| check_node_controller(node, v));
        }
        if let Some(lb) = &c.load_balancer
            && !lb.assign_ips.is_empty()
        {
            v.field("loadBalancer", |v| {
                v.field("assignIPs", |v| {
                    check_one_of(v, &lb.assign_ips, &["AllServices", "RequestedServicesOnly"])
                })
            });
        }
        if let Some(m) = &c.migration
            && !m.policy_name_migrator.is_empty()
        {
            v.field("migration", |v| {
                v.field("policyNameMigrator", |v| {
                    check_one_of(v, &m.policy_name_migrator, ENABLED_DISABLED)
                })
            });
        }
    });
}

fn check_node_controller(node: &NodeControllerConfig, v: &mut Validator) {
    if !node.sync_labels.is_empty() {
        v.field("syncLabels", |v| {
            check_one_of(v, &node.sync_labels, ENABLED_DISABLED)
        });
    }
    let Some(hep) = &node.host_endpoint else {
        return;
    };
    v.field("hostEndpoint", |v| {
        if !hep.auto_create.is_empty() {
            v.field("autoCreate", |v| {
                check_one_of(v, &hep.auto_create, ENABLED_DISABLED)
            });
        }
        if !hep.create_default_host_endpoint.is_empty() {
            v.field("createDefaultHostEndpoint", |v| {
                check_one_of(v, &hep.create_default_host_endpoint, ENABLED_DISABLED)
            });
        }
        v.field("templates", |v| {
            for (i, t) in hep.templates.iter().enumerate() {
                v.index(i, |v| check_template(t, v));
            }
        });
    });
}

fn check_template(t: &AutoHostEndpointTemplate, v: &mut Validator) {
    if !t.generate_name.is_empty() && !is_dns_subdomain(&t.generate_name) {
        v.error_at(
            "generateName",
            format!(
                "{:?} is not a valid name: expected lower-case alphanumerics, '-' and '.', at \
                 most 253 characters",
                t.generate_name
            ),
        );
    }
    v.field("interfaceCIDRs", |v| {
        for (i, c) in t.interface_cidrs.iter().enumerate() {
            v.index(i, |v| v.check_cidr(c));
        }
    });
    if !t.interface_pattern.is_empty() {
        v.field("interfacePattern", |v| check_regex(v, &t.interface_pattern));
    }
    v.field("labels", |v| v.check_labels(&t.labels));
    if !t.node_selector.is_empty() {
        v.field("nodeSelector", |v| {
            v.check_selector(&t.node_selector);
        });
    }
}
