//! HostEndpoint: a host interface (or the whole host, `*`) that policy applies to.

use serde::{Deserialize, Serialize};

use super::numorstring::{Protocol, iana_port_name_problem};
use super::rule_check::check_unique;
use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// `HostEndpoint` (cluster-scoped).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HostEndpoint {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: HostEndpointSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HostEndpointSpec {
    /// The node the interface is on (required).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub node: String,
    /// `*` for all of the host's traffic, an interface name, or empty to find the interface by
    /// `expectedIPs`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub interface_name: String,
    /// The endpoint's addresses (used for selector matches in other policies' rules).
    #[serde(default, rename = "expectedIPs", skip_serializing_if = "Vec::is_empty")]
    pub expected_ips: Vec<String>,
    /// Profiles applied after policy, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    /// Named ports that rules can refer to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<EndpointPort>,
}

/// A named port of a host endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EndpointPort {
    pub name: String,
    pub protocol: Protocol,
    pub port: u16,
}

crate::impl_kind!(
    HostEndpoint,
    kind: "HostEndpoint",
    api_version: crate::resource::CALICO_API_VERSION,
    plural: "hostendpoints",
    namespaced: false,
);

impl HostEndpointSpec {
    /// Whether this endpoint covers all of the host's interfaces (`interfaceName: "*"`).
    pub fn is_all_interfaces(&self) -> bool {
        self.interface_name == "*"
    }
}

impl HostEndpoint {
    fn defaults(&mut self) {}

    fn check(&self, v: &mut Validator) {
        let s = &self.spec;
        v.field("spec", |v| {
            if s.node.is_empty() {
                v.error_at("node", "node must be specified");
            } else {
                v.field("node", |v| {
                    v.check_dns_subdomain(&s.node);
                });
            }
            if s.interface_name.is_empty() && s.expected_ips.is_empty() {
                v.error_at(
                    "interfaceName",
                    "at least one of interfaceName or expectedIPs must be specified",
                );
            }
            if !s.interface_name.is_empty() && s.interface_name != "*" {
                v.field("interfaceName", |v| {
                    v.check_interface_name(&s.interface_name);
                });
            }
            if !s.expected_ips.is_empty() {
                v.field("expectedIPs", |v| {
                    check_unique(v, &s.expected_ips);
                    for (i, ip) in s.expected_ips.iter().enumerate() {
                        v.index(i, |v| {
                            v.check_ip(ip);
                        });
                    }
                });
            }
            check_profiles(v, &s.profiles);
            if !s.ports.is_empty() {
                v.field("ports", |v| {
                    for (i, p) in s.ports.iter().enumerate() {
                        v.index(i, |v| check_endpoint_port(v, p));
                    }
                });
            }
        });
    }
}

/// Profile names are resource names and unique.
pub(crate) fn check_profiles(v: &mut Validator, profiles: &[String]) {
    if profiles.is_empty() {
        return;
    }
    v.field("profiles", |v| {
        check_unique(v, profiles);
        for (i, p) in profiles.iter().enumerate() {
            v.index(i, |v| {
                v.check_dns_subdomain(p);
            });
        }
    });
}

fn check_endpoint_port(v: &mut Validator, p: &EndpointPort) {
    if let Some(msg) = iana_port_name_problem(&p.name) {
        v.error_at("name", msg);
    }
    check_port_protocol(v, p.protocol);
    if p.port == 0 {
        v.error_at("port", "port must be between 1 and 65535");
    }
}

/// Endpoint ports must use a protocol that has ports.
pub(crate) fn check_port_protocol(v: &mut Validator, protocol: Protocol) {
    if let Some(msg) = protocol.problem() {
        v.error_at("protocol", msg);
    } else if !protocol.supports_ports() {
        v.error_at(
            "protocol",
            format!("protocol {protocol} does not support ports: expected TCP, UDP or SCTP"),
        );
    }
}
