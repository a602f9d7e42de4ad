//! WorkloadEndpoint: a workload's (pod's) network interface, with its addresses, profiles and
//! named ports (`libcalico-go/lib/apis/internalapi/workloadendpoint.go`).

use std::net::IpAddr;
use std::sync::LazyLock;

use ipnet::IpNet;
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::hostendpoint::{check_port_protocol, check_profiles};
use super::names::WorkloadEndpointIdentifiers;
use super::numorstring::{Dscp, Protocol, iana_port_name_problem};
use crate::meta::ObjectMeta;
use crate::validate::{Validator, parse_cidr_or_ip};

/// The label holding an endpoint's (or network set's) namespace.
pub const LABEL_NAMESPACE: &str = "projectcalico.org/namespace";
/// The label holding an endpoint's orchestrator (`k8s`, `cni`, ...).
pub const LABEL_ORCHESTRATOR: &str = "projectcalico.org/orchestrator";
/// The label holding a pod endpoint's service account.
pub const LABEL_SERVICE_ACCOUNT: &str = "projectcalico.org/serviceaccount";

/// `WorkloadEndpoint` (namespaced).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadEndpoint {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: WorkloadEndpointSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadEndpointSpec {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub orchestrator: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub workload: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub node: String,
    #[serde(
        default,
        rename = "containerID",
        skip_serializing_if = "String::is_empty"
    )]
    pub container_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pod: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub service_account_name: String,
    /// The endpoint's addresses, each a /32 or /128.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_networks: Vec<String>,
    /// 1:1 NAT mappings (floating IPs); each internal IP must be one of `ipNetworks`.
    #[serde(default, rename = "ipNATs", skip_serializing_if = "Vec::is_empty")]
    pub ip_nats: Vec<IpNat>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ipv4_gateway: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ipv6_gateway: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    /// The host-side interface (e.g. `cali1234567890a`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub interface_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<WorkloadEndpointPort>,
    /// Source prefixes the workload may send from despite RPF checks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_spoofed_source_prefixes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qos_controls: Option<QosControls>,
}

/// A named and/or host-mapped port of a workload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadEndpointPort {
    #[serde(default)]
    pub name: String,
    pub protocol: Protocol,
    pub port: u16,
    /// Host port mapped to `port` (0 for none).
    #[serde(default, skip_serializing_if = "crate::serde_util::is_zero")]
    pub host_port: u16,
    #[serde(default, rename = "hostIP", skip_serializing_if = "String::is_empty")]
    pub host_ip: String,
}

/// One 1:1 NAT mapping.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpNat {
    #[serde(default, rename = "internalIP")]
    pub internal_ip: String,
    #[serde(default, rename = "externalIP")]
    pub external_ip: String,
}

/// Bandwidth, packet-rate and connection limits, and DSCP marking. A zero limit means none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct QosControls {
    /// Bits per second.
    #[serde(default, skip_serializing_if = "crate::serde_util::is_zero")]
    pub ingress_bandwidth: i64,
    /// Bits.
    #[serde(default, skip_serializing_if = "crate::serde_util::is_zero")]
    pub ingress_burst: i64,
    /// Bits per second.
    #[serde(default, skip_serializing_if = "crate::serde_util::is_zero")]
    pub ingress_peakrate: i64,
    /// Bytes.
    #[serde(default, skip_serializing_if = "crate::serde_util::is_zero")]
    pub ingress_minburst: i64,
    #[serde(default, skip_serializing_if = "crate::serde_util::is_zero")]
    pub egress_bandwidth: i64,
    #[serde(default, skip_serializing_if = "crate::serde_util::is_zero")]
    pub egress_burst: i64,
    #[serde(default, skip_serializing_if = "crate::serde_util::is_zero")]
    pub egress_peakrate: i64,
    #[serde(default, skip_serializing_if = "crate::serde_util::is_zero")]
    pub egress_minburst: i64,
    /// Packets per second.
    #[serde(default, skip_serializing_if = "crate::serde_util::is_zero")]
    pub ingress_packet_rate: i64,
    #[serde(default, skip_serializing_if = "crate::serde_util::is_zero")]
    pub ingress_packet_burst: i64,
    #[serde(default, skip_serializing_if = "crate::serde_util::is_zero")]
    pub egress_packet_rate: i64,
    #[serde(default, skip_serializing_if = "crate::serde_util::is_zero")]
    pub egress_packet_burst: i64,
    #[serde(default, skip_serializing_if = "crate::serde_util::is_zero")]
    pub ingress_max_connections: i64,
    #[serde(default, skip_serializing_if = "crate::serde_util::is_zero")]
    pub egress_max_connections: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dscp: Option<Dscp>,
}

crate::impl_kind!(
    WorkloadEndpoint,
    kind: "WorkloadEndpoint",
    api_version: crate::resource::CALICO_API_VERSION,
    plural: "workloadendpoints",
    namespaced: true,
);

impl WorkloadEndpointSpec {
    /// The identifiers the endpoint's name is built from.
    pub fn identifiers(&self) -> WorkloadEndpointIdentifiers {
        WorkloadEndpointIdentifiers {
            node: self.node.clone(),
            orchestrator: self.orchestrator.clone(),
            endpoint: self.endpoint.clone(),
            workload: self.workload.clone(),
            pod: self.pod.clone(),
            container_id: self.container_id.clone(),
        }
    }

    /// The parsed addresses of `ipNetworks` (invalid entries skipped).
    pub fn addresses(&self) -> Vec<IpAddr> {
        self.ip_networks
            .iter()
            .filter_map(|n| parse_cidr_or_ip(n))
            .map(|n| n.addr())
            .collect()
    }
}

impl WorkloadEndpoint {
    /// Namespace `default`, the name built from the spec when empty, and the namespace and
    /// orchestrator labels Calico stores (overriding user values).
    fn defaults(&mut self) {
        if self.metadata.namespace.is_empty() {
            self.metadata.namespace = "default".into();
        }
        if self.metadata.name.is_empty()
            && let Ok(name) = self.spec.identifiers().name()
        {
            self.metadata.name = name;
        }
        let labels = &mut self.metadata.labels;
        labels.insert(LABEL_NAMESPACE.into(), self.metadata.namespace.clone());
        labels.insert(LABEL_ORCHESTRATOR.into(), self.spec.orchestrator.clone());
    }

    fn check(&self, v: &mut Validator) {
        let s = &self.spec;
        match s.identifiers().name() {
            Ok(expected) => {
                if !self.metadata.name.is_empty() && self.metadata.name != expected {
                    v.field("metadata", |v| {
                        v.error_at(
                            "name",
                            format!(
                                "{:?} does not match the identifiers in the spec: expected {expected:?}",
                                self.metadata.name
                            ),
                        )
                    });
                }
            }
            Err(e) => v.field("spec", |v| {
                v.error(format!("cannot build the endpoint name: {e}"))
            }),
        }
        v.field("spec", |v| check_spec(v, s));
    }
}

static CONTAINER_ID_RE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$").ok());

fn check_spec(v: &mut Validator, s: &WorkloadEndpointSpec) {
    for (field, value) in [
        ("orchestrator", &s.orchestrator),
        ("workload", &s.workload),
        ("node", &s.node),
        ("pod", &s.pod),
        ("endpoint", &s.endpoint),
        ("serviceAccountName", &s.service_account_name),
    ] {
        if !value.is_empty() {
            v.field(field, |v| {
                v.check_dns_subdomain(value);
            });
        }
    }
    if !s.container_id.is_empty()
        && !CONTAINER_ID_RE
            .as_ref()
            .is_some_and(|re| re.is_match(&s.container_id))
    {
        v.error_at(
            "containerID",
            format!(
                "{:?} is not a valid container ID: expected letters, digits and '-', starting and ending with a letter or digit",
                s.container_id
            ),
        );
    }
    if s.interface_name.is_empty() {
        v.error_at("interfaceName", "interfaceName must be specified");
    } else if s.interface_name != "*" {
        v.field("interfaceName", |v| {
            v.check_interface_name(&s.interface_name);
        });
    }
    let networks = check_ip_networks(v, &s.ip_networks);
    check_nats(v, &s.ip_nats, &networks);
    check_gateway(v, "ipv4Gateway", &s.ipv4_gateway, true);
    check_gateway(v, "ipv6Gateway", &s.ipv6_gateway, false);
    check_profiles(v, &s.profiles);
    if !s.mac.is_empty() && !is_mac(&s.mac) {
        v.error_at(
            "mac",
            format!(
                "{:?} is not a valid MAC address: expected e.g. ee:ee:ee:ee:ee:ee",
                s.mac
            ),
        );
    }
    if !s.ports.is_empty() {
        v.field("ports", |v| {
            for (i, p) in s.ports.iter().enumerate() {
                v.index(i, |v| check_wep_port(v, p));
            }
        });
    }
    if !s.allow_spoofed_source_prefixes.is_empty() {
        v.field("allowSpoofedSourcePrefixes", |v| {
            for (i, p) in s.allow_spoofed_source_prefixes.iter().enumerate() {
                v.index(i, |v| {
                    v.check_cidr(p);
                });
            }
        });
    }
    if let Some(q) = &s.qos_controls {
        v.field("qosControls", |v| check_qos(v, q));
    }
}

/// Each network is a single address (/32 or /128, or a bare address); returns the valid ones.
fn check_ip_networks(v: &mut Validator, nets: &[String]) -> Vec<IpNet> {
    let mut out = Vec::new();
    if nets.is_empty() {
        return out;
    }
    v.field("ipNetworks", |v| {
        for (i, n) in nets.iter().enumerate() {
            v.index(i, |v| {
                let Some(net) = v.check_cidr(n) else { return };
                if net.prefix_len() != net.max_prefix_len() {
                    v.error(format!(
                        "{n:?} contains multiple addresses: expected a /{} network",
                        net.max_prefix_len()
                    ));
                } else {
                    out.push(net);
                }
            });
        }
    });
    out
}

fn check_nats(v: &mut Validator, nats: &[IpNat], networks: &[IpNet]) {
    if nats.is_empty() {
        return;
    }
    v.field("ipNATs", |v| {
        for (i, nat) in nats.iter().enumerate() {
            v.index(i, |v| {
                let internal = v.field("internalIP", |v| v.check_ip(&nat.internal_ip));
                let external = v.field("externalIP", |v| v.check_ip(&nat.external_ip));
                if let (Some(a), Some(b)) = (internal, external)
                    && a.is_ipv4() != b.is_ipv4()
                {
                    v.error("internalIP and externalIP must be of the same IP version");
                }
                if let Some(a) = internal
                    && !networks.iter().any(|n| n.contains(&a))
                {
                    v.error_at(
                        "internalIP",
                        format!("{a} is not one of the endpoint's ipNetworks"),
                    );
                }
            });
        }
    });
}

fn check_gateway(v: &mut Validator, field: &str, value: &str, want_v4: bool) {
    if value.is_empty() {
        return;
    }
    v.field(field, |v| {
        if let Some(ip) = v.check_ip(value)
            && ip.is_ipv4() != want_v4
        {
            v.error(format!(
                "{value:?} is not an IPv{} address",
                if want_v4 { 4 } else { 6 }
            ));
        }
    });
}

fn check_wep_port(v: &mut Validator, p: &WorkloadEndpointPort) {
    if p.name.is_empty() {
        if p.host_port == 0 {
            v.error_at("name", "a port needs a name unless it has a hostPort");
        }
    } else if let Some(msg) = iana_port_name_problem(&p.name) {
        v.error_at("name", msg);
    }
    check_port_protocol(v, p.protocol);
    if p.port == 0 {
        v.error_at("port", "port must be between 1 and 65535");
    }
    if !p.host_ip.is_empty() {
        v.field("hostIP", |v| {
            v.check_cidr_masked(&p.host_ip);
        });
    }
}

/// Go's `net.ParseMAC` forms: 6, 8 or 20 octets separated by ':' or '-', or dotted groups of
/// four hex digits.
fn is_mac(s: &str) -> bool {
    let octets_ok = |n: usize| n == 6 || n == 8 || n == 20;
    for sep in [':', '-'] {
        if s.contains(sep) {
            let parts: Vec<&str> = s.split(sep).collect();
            return octets_ok(parts.len())
                && parts
                    .iter()
                    .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()));
        }
    }
    let groups: Vec<&str> = s.split('.').collect();
    octets_ok(groups.len() * 2)
        && groups
            .iter()
            .all(|p| p.len() == 4 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The ranges Calico documents (and enforces when it builds endpoints from pod annotations).
fn check_qos(v: &mut Validator, q: &QosControls) {
    const BW: (i64, i64) = (1_000, 1_000_000_000_000_000);
    const BURST: (i64, i64) = (1_000, 34_359_738_360);
    const PEAK: (i64, i64) = (1_010, 1_010_000_000_000_000);
    const MINBURST: (i64, i64) = (1_000, 100_000_000);
    const PKT: (i64, i64) = (1, 10_000);
    const CONN: (i64, i64) = (1, 4_294_967_295);
    let checks: [(&str, i64, (i64, i64)); 14] = [
        ("ingressBandwidth", q.ingress_bandwidth, BW),
        ("ingressBurst", q.ingress_burst, BURST),
        ("ingressPeakrate", q.ingress_peakrate, PEAK),
        ("ingressMinburst", q.ingress_minburst, MINBURST),
        ("egressBandwidth", q.egress_bandwidth, BW),
        ("egressBurst", q.egress_burst, BURST),
        ("egressPeakrate", q.egress_peakrate, PEAK),
        ("egressMinburst", q.egress_minburst, MINBURST),
        ("ingressPacketRate", q.ingress_packet_rate, PKT),
        ("ingressPacketBurst", q.ingress_packet_burst, PKT),
        ("egressPacketRate", q.egress_packet_rate, PKT),
        ("egressPacketBurst", q.egress_packet_burst, PKT),
        ("ingressMaxConnections", q.ingress_max_connections, CONN),
        ("egressMaxConnections", q.egress_max_connections, CONN),
    ];
    for (field, value, (lo, hi)) in checks {
        if value != 0 && !(lo..=hi).contains(&value) {
            v.error_at(
                field,
                format!("{value} is out of range: expected 0 (no limit) or {lo}-{hi}"),
            );
        }
    }
    if let Some(d) = &q.dscp
        && let Some(msg) = d.problem()
    {
        v.error_at("dscp", msg);
    }
}
