//! `BGPConfiguration`: `default` holds the cluster-wide BGP settings, `node.<nodename>` a
//! per-node override.
//!
//! Defaults applied on create (CRD defaults): `logSeverityScreen: Info`,
//! `serviceLoadBalancerAggregation: Enabled`. The run-time defaults of the other settings
//! (mesh on, AS 64512, port 179) are available from the `effective_*` methods.

use serde::{Deserialize, Serialize};

use super::super::duration::GoDuration;
use super::super::infra_common::{
    AsNumber, check_ipv4, check_ipv6, check_log_level, check_net, check_one_of, check_range,
    is_iface_glob,
};
use super::{BGPPassword, parse_community};
use crate::meta::ObjectMeta;
use crate::validate::{Validator, is_dns_subdomain};

/// `BGPConfiguration` (cluster-scoped).
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
pub struct BGPConfigurationSpec {
    /// BIRD/confd log level: `Trace`, `Debug`, `Info`, `Warning`, `Error`, `Fatal`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub log_severity_screen: String,
    /// Full node-to-node mesh (true when unset). `default` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_to_node_mesh_enabled: Option<bool>,
    /// Default AS number of nodes (64512 when unset). `default` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_number: Option<AsNumber>,
    /// LoadBalancer IP ranges to advertise. `default` only.
    #[serde(
        default,
        rename = "serviceLoadBalancerIPs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub service_load_balancer_ips: Vec<ServiceIPBlock>,
    /// External IP ranges to advertise. `default` only.
    #[serde(
        default,
        rename = "serviceExternalIPs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub service_external_ips: Vec<ServiceIPBlock>,
    /// Cluster IP ranges to advertise. `default` only.
    #[serde(
        default,
        rename = "serviceClusterIPs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub service_cluster_ips: Vec<ServiceIPBlock>,
    /// `Enabled`: advertise whole LoadBalancer ranges; `Disabled`: one /32 per service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_load_balancer_aggregation: Option<String>,
    /// Named community values for use in `prefixAdvertisements`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub communities: Vec<Community>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefix_advertisements: Vec<PrefixAdvertisement>,
    /// BGP port (179 when unset).
    #[serde(default, skip_serializing_if = "is_zero_u16")]
    pub listen_port: u16,
    /// Password for the mesh peerings; requires the mesh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_mesh_password: Option<BGPPassword>,
    /// Graceful-restart time for the mesh peerings; requires the mesh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_mesh_max_restart_time: Option<GoDuration>,
    /// `None` (listen on all addresses) or `NodeIP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_mode: Option<String>,
    /// Interfaces whose routes are not exported (globs with `*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored_interfaces: Vec<String>,
    #[serde(
        default,
        rename = "localWorkloadPeeringIPV4",
        skip_serializing_if = "String::is_empty"
    )]
    pub local_workload_peering_ipv4: String,
    #[serde(
        default,
        rename = "localWorkloadPeeringIPV6",
        skip_serializing_if = "String::is_empty"
    )]
    pub local_workload_peering_ipv6: String,
    /// Which routes to other nodes' workloads BIRD programs: `Enabled`, `Disabled`,
    /// `EnabledIPIPOnly`, `EnabledNoEncapOnly`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program_cluster_routes: Option<String>,
    /// Must match Felix's setting (1024 when unset).
    #[serde(
        default,
        rename = "ipv4NormalRoutePriority",
        skip_serializing_if = "Option::is_none"
    )]
    pub ipv4_normal_route_priority: Option<i64>,
    #[serde(
        default,
        rename = "ipv6NormalRoutePriority",
        skip_serializing_if = "Option::is_none"
    )]
    pub ipv6_normal_route_priority: Option<i64>,
}

fn is_zero_u16(v: &u16) -> bool {
    *v == 0
}

/// A service address range (`serviceLoadBalancerIPs`, `serviceExternalIPs`,
/// `serviceClusterIPs` items).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceIPBlock {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cidr: String,
}

pub type ServiceLoadBalancerIPBlock = ServiceIPBlock;
pub type ServiceExternalIPBlock = ServiceIPBlock;
pub type ServiceClusterIPBlock = ServiceIPBlock;

/// A named BGP community value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Community {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// `aa:nn` or `aa:nn:mm`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
}

/// Communities to attach when advertising a CIDR.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PrefixAdvertisement {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cidr: String,
    /// Community names from `communities`, or literal `aa:nn` / `aa:nn:mm` values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub communities: Vec<String>,
}

pub const DEFAULT_AS_NUMBER: AsNumber = AsNumber(64512);
pub const DEFAULT_BGP_LISTEN_PORT: u16 = 179;
pub const DEFAULT_NORMAL_ROUTE_PRIORITY: i64 = 1024;
pub const PROGRAM_CLUSTER_ROUTES_VALUES: &[&str] = &[
    "Enabled",
    "Disabled",
    "EnabledIPIPOnly",
    "EnabledNoEncapOnly",
];

impl BGPConfigurationSpec {
    pub fn effective_node_to_node_mesh_enabled(&self) -> bool {
        self.node_to_node_mesh_enabled.unwrap_or(true)
    }

    pub fn effective_as_number(&self) -> AsNumber {
        self.as_number.unwrap_or(DEFAULT_AS_NUMBER)
    }

    pub fn effective_listen_port(&self) -> u16 {
        if self.listen_port == 0 {
            DEFAULT_BGP_LISTEN_PORT
        } else {
            self.listen_port
        }
    }

    pub fn effective_log_severity_screen(&self) -> &str {
        if self.log_severity_screen.is_empty() {
            "Info"
        } else {
            &self.log_severity_screen
        }
    }

    /// True unless aggregation is `Disabled`.
    pub fn service_load_balancer_aggregation_enabled(&self) -> bool {
        self.service_load_balancer_aggregation.as_deref() != Some("Disabled")
    }

    /// The cluster-routes mode (`EnabledNoEncapOnly` when unset).
    pub fn effective_program_cluster_routes(&self) -> &str {
        self.program_cluster_routes
            .as_deref()
            .unwrap_or("EnabledNoEncapOnly")
    }

    pub fn effective_ipv4_normal_route_priority(&self) -> i64 {
        self.ipv4_normal_route_priority
            .unwrap_or(DEFAULT_NORMAL_ROUTE_PRIORITY)
    }

    pub fn effective_ipv6_normal_route_priority(&self) -> i64 {
        self.ipv6_normal_route_priority
            .unwrap_or(DEFAULT_NORMAL_ROUTE_PRIORITY)
    }
}

crate::impl_kind!(BGPConfiguration, kind: "BGPConfiguration", api_version: crate::resource::CALICO_API_VERSION, plural: "bgpconfigurations", namespaced: false);

impl BGPConfiguration {
    fn defaults(&mut self) {
        if self.spec.log_severity_screen.is_empty() {
            self.spec.log_severity_screen = "Info".into();
        }
        if self.spec.service_load_balancer_aggregation.is_none() {
            self.spec.service_load_balancer_aggregation = Some("Enabled".into());
        }
    }

    fn check(&self, v: &mut Validator) {
        let is_default = self.metadata.name == "default";
        v.field("spec", |v| check_spec(&self.spec, is_default, v));
    }
}

fn check_spec(spec: &BGPConfigurationSpec, is_default: bool, v: &mut Validator) {
    if !spec.log_severity_screen.is_empty() {
        v.field("logSeverityScreen", |v| {
            check_log_level(v, &spec.log_severity_screen)
        });
    }
    for (name, blocks) in [
        ("serviceLoadBalancerIPs", &spec.service_load_balancer_ips),
        ("serviceExternalIPs", &spec.service_external_ips),
        ("serviceClusterIPs", &spec.service_cluster_ips),
    ] {
        v.field(name, |v| {
            for (i, b) in blocks.iter().enumerate() {
                v.index(i, |v| {
                    if !b.cidr.is_empty() {
                        v.field("cidr", |v| check_net(v, &b.cidr, None));
                    }
                    if blocks[..i].contains(b) {
                        v.error("duplicate entry");
                    }
                });
            }
            if !is_default && !blocks.is_empty() {
                v.error(format!(
                    "{name} can only be set on the BGPConfiguration named \"default\""
                ));
            }
        });
    }
    if !is_default {
        if spec.node_to_node_mesh_enabled.is_some() {
            v.error_at(
                "nodeToNodeMeshEnabled",
                "nodeToNodeMeshEnabled can only be set on the BGPConfiguration named \"default\"",
            );
        }
        if spec.as_number.is_some() {
            v.error_at(
                "asNumber",
                "asNumber can only be set on the BGPConfiguration named \"default\"; set a \
                 node's AS number in its Node resource",
            );
        }
    }
    if let Some(agg) = &spec.service_load_balancer_aggregation {
        v.field("serviceLoadBalancerAggregation", |v| {
            check_one_of(v, agg, &["Enabled", "Disabled"])
        });
    }

    v.field("communities", |v| {
        for (i, c) in spec.communities.iter().enumerate() {
            v.index(i, |v| {
                if c.name.is_empty() {
                    v.error_at("name", "a community name is required");
                } else if !is_dns_subdomain(&c.name) {
                    v.error_at(
                        "name",
                        format!(
                            "{:?} is not a valid community name: expected lower-case \
                             alphanumerics, '-' and '.'",
                            c.name
                        ),
                    );
                }
                if c.value.is_empty() {
                    v.error_at("value", "a community value (aa:nn or aa:nn:mm) is required");
                } else if let Err(e) = parse_community(&c.value) {
                    v.error_at("value", e);
                }
                if spec.communities[..i].contains(c) {
                    v.error("duplicate entry");
                }
            });
        }
        if !spec.communities.is_empty() && spec.prefix_advertisements.is_empty() {
            v.error(
                "communities are defined but not used: reference them from \
                 prefixAdvertisements or remove them",
            );
        }
    });

    v.field("prefixAdvertisements", |v| {
        for (i, pa) in spec.prefix_advertisements.iter().enumerate() {
            v.index(i, |v| {
                if pa.cidr.is_empty() {
                    v.error_at("cidr", "a CIDR is required");
                } else {
                    v.field("cidr", |v| check_net(v, &pa.cidr, None));
                }
                if pa.communities.is_empty() {
                    v.error_at(
                        "communities",
                        "at least one community (a name from communities, or aa:nn / aa:nn:mm) \
                         is required",
                    );
                }
                v.field("communities", |v| {
                    for (j, c) in pa.communities.iter().enumerate() {
                        let literal = parse_community(c);
                        let looks_literal = c.contains(':');
                        let defined = spec.communities.iter().any(|d| &d.name == c);
                        match literal {
                            Ok(_) => {}
                            Err(e) if looks_literal && !defined => v.index(j, |v| v.error(e)),
                            Err(_) if !defined => v.index(j, |v| {
                                v.error(format!(
                                    "community {c:?} is neither a value (aa:nn or aa:nn:mm) nor \
                                     a name defined in spec.communities"
                                ))
                            }),
                            Err(_) => {}
                        }
                    }
                });
                if spec.prefix_advertisements[..i].contains(pa) {
                    v.error("duplicate entry");
                }
            });
        }
    });

    let mesh_disabled = spec.node_to_node_mesh_enabled == Some(false);
    if mesh_disabled && spec.node_mesh_password.is_some() {
        v.error_at(
            "nodeMeshPassword",
            "nodeMeshPassword cannot be set when nodeToNodeMeshEnabled is false",
        );
    }
    if mesh_disabled && spec.node_mesh_max_restart_time.is_some() {
        v.error_at(
            "nodeMeshMaxRestartTime",
            "nodeMeshMaxRestartTime cannot be set when nodeToNodeMeshEnabled is false",
        );
    }
    if let Some(b) = &spec.bind_mode {
        v.field("bindMode", |v| check_one_of(v, b, &["None", "NodeIP"]));
    }
    v.field("ignoredInterfaces", |v| {
        for (i, name) in spec.ignored_interfaces.iter().enumerate() {
            v.index(i, |v| {
                if name == "*" || !is_iface_glob(name) {
                    v.error(format!(
                        "{name:?} is not a valid interface name or pattern: expected 1-15 \
                         characters of letters, digits, '_', '.', '-' and '*' (but not \"*\" \
                         alone)"
                    ));
                }
                if spec.ignored_interfaces[..i].contains(name) {
                    v.error("duplicate entry");
                }
            });
        }
    });
    if !spec.local_workload_peering_ipv4.is_empty() {
        v.field("localWorkloadPeeringIPV4", |v| {
            check_ipv4(v, &spec.local_workload_peering_ipv4)
        });
    }
    if !spec.local_workload_peering_ipv6.is_empty() {
        v.field("localWorkloadPeeringIPV6", |v| {
            check_ipv6(v, &spec.local_workload_peering_ipv6)
        });
    }
    if let Some(p) = &spec.program_cluster_routes {
        v.field("programClusterRoutes", |v| {
            check_one_of(v, p, PROGRAM_CLUSTER_ROUTES_VALUES)
        });
    }
    if let Some(p) = spec.ipv4_normal_route_priority {
        v.field("ipv4NormalRoutePriority", |v| {
            check_range(v, p, 1, 2_147_483_646)
        });
    }
    if let Some(p) = spec.ipv6_normal_route_priority {
        v.field("ipv6NormalRoutePriority", |v| {
            check_range(v, p, 1, 2_147_483_646)
        });
    }
}
