//! `BGPPeer`: a BGP peering for some or all nodes — with an external router (`peerIP`), with
//! other Calico nodes (`peerSelector`), or with local workloads (`localWorkloadSelector`).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::super::duration::GoDuration;
use super::super::infra_common::{AsNumber, check_max_len, check_one_of, ip_is_v4, parse_ip_port};
use super::BGPPassword;
use crate::meta::ObjectMeta;
use crate::serde_util::is_false;
use crate::validate::{Validator, is_dns_subdomain};

/// `BGPPeer` (cluster-scoped).
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
pub struct BGPPeerSpec {
    /// The node that gets this peering (all nodes when neither this nor `nodeSelector` is set).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub node: String,
    /// Selects the nodes that get this peering.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub node_selector: String,
    /// `IP`, `IPv4:port` or `[IPv6]:port`.
    #[serde(default, rename = "peerIP", skip_serializing_if = "String::is_empty")]
    pub peer_ip: String,
    /// The peer's AS number.
    #[serde(default, skip_serializing_if = "AsNumber::is_zero")]
    pub as_number: AsNumber,
    /// The local AS number for this peering (the node's when unset).
    #[serde(
        default,
        rename = "localASNumber",
        skip_serializing_if = "Option::is_none"
    )]
    pub local_as_number: Option<AsNumber>,
    /// Peer with the Calico nodes this selects.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub peer_selector: String,
    /// Deprecated: use `nextHopMode: Keep`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub keep_original_next_hop: bool,
    /// `Auto`, `Self` or `Keep`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_hop_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<BGPPassword>,
    /// `UseNodeIP` (the default) or `None`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source_address: String,
    /// Graceful-restart time (BIRD's default, 120s, when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_restart_time: Option<GoDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keepalive_time: Option<GoDuration>,
    /// How many times the local AS may appear in received AS paths.
    #[serde(
        default,
        rename = "numAllowedLocalASNumbers",
        skip_serializing_if = "Option::is_none"
    )]
    pub num_allowed_local_as_numbers: Option<i32>,
    /// GTSM: the number of hops to the peer.
    #[serde(
        default,
        rename = "ttlSecurity",
        skip_serializing_if = "Option::is_none"
    )]
    pub ttl_security: Option<u8>,
    /// Names of the BGPFilters applied, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<String>,
    /// Gateway through which the peer is reached (adds a /32 or /128 route).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reachable_by: String,
    /// Peer with the local workloads this selects (requires `asNumber`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub local_workload_selector: String,
    /// `Auto` (default) or `Manual`: whether the reverse peering is generated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverse_peering: Option<String>,
}

impl BGPPeerSpec {
    /// The peer address and port (0 when no port is given).
    pub fn peer_address(&self) -> Option<(IpAddr, u16)> {
        parse_ip_port(&self.peer_ip)
    }

    /// True when the peering applies to every node.
    pub fn is_global(&self) -> bool {
        self.node.is_empty() && self.node_selector.is_empty()
    }

    /// `UseNodeIP` unless set to `None`.
    pub fn effective_source_address(&self) -> &str {
        if self.source_address.is_empty() {
            "UseNodeIP"
        } else {
            &self.source_address
        }
    }

    /// `Auto` unless set.
    pub fn effective_reverse_peering(&self) -> &str {
        self.reverse_peering.as_deref().unwrap_or("Auto")
    }
}

crate::impl_kind!(BGPPeer, kind: "BGPPeer", api_version: crate::resource::CALICO_API_VERSION, plural: "bgppeers", namespaced: false);

impl BGPPeer {
    fn defaults(&mut self) {}

    fn check(&self, v: &mut Validator) {
        v.field("spec", |v| check_spec(&self.spec, v));
    }
}

fn check_selector_field(v: &mut Validator, name: &str, value: &str) {
    if !value.is_empty() {
        v.field(name, |v| {
            check_max_len(v, value, 4096);
            v.check_selector(value);
        });
    }
}

fn check_spec(spec: &BGPPeerSpec, v: &mut Validator) {
    if !spec.node.is_empty() {
        v.field("node", |v| {
            if !is_dns_subdomain(&spec.node) {
                v.error(format!(
                    "{:?} is not a valid node name: expected lower-case alphanumerics, '-' and \
                     '.', at most 253 characters",
                    spec.node
                ));
            }
        });
    }
    check_selector_field(v, "nodeSelector", &spec.node_selector);
    check_selector_field(v, "peerSelector", &spec.peer_selector);
    check_selector_field(v, "localWorkloadSelector", &spec.local_workload_selector);

    let peer = if spec.peer_ip.is_empty() {
        None
    } else {
        v.field("peerIP", |v| {
            check_max_len(v, &spec.peer_ip, 64);
            let parsed = parse_ip_port(&spec.peer_ip);
            if parsed.is_none() {
                v.error(format!(
                    "{:?} is not a valid peer address: expected <IP>, <IPv4>:<port> or \
                     [<IPv6>]:<port> with a port of 1-65535",
                    spec.peer_ip
                ));
            }
            parsed
        })
    };

    if !spec.node.is_empty() && !spec.node_selector.is_empty() {
        v.error_at("node", "node and nodeSelector cannot both be set");
    }
    if !spec.peer_ip.is_empty() && !spec.peer_selector.is_empty() {
        v.error_at("peerIP", "peerIP and peerSelector cannot both be set");
    }
    if !spec.as_number.is_zero() && !spec.peer_selector.is_empty() {
        v.error_at(
            "asNumber",
            "asNumber must be empty when peerSelector is set (the remote nodes' AS numbers are \
             used)",
        );
    }
    if !spec.local_workload_selector.is_empty() {
        if spec.as_number.is_zero() {
            v.error_at(
                "asNumber",
                "asNumber is required when localWorkloadSelector is set",
            );
        }
        if !spec.peer_ip.is_empty() {
            v.error_at(
                "peerIP",
                "peerIP must be empty when localWorkloadSelector is set",
            );
        }
        if !spec.peer_selector.is_empty() {
            v.error_at(
                "peerSelector",
                "peerSelector must be empty when localWorkloadSelector is set",
            );
        }
    }

    if !spec.reachable_by.is_empty() {
        v.field("reachableBy", |v| {
            let gw = spec.reachable_by.parse::<IpAddr>();
            match (&gw, &peer) {
                (Err(_), _) => {
                    v.error(format!("{:?} is not a valid IP address", spec.reachable_by))
                }
                (Ok(_), _) if spec.peer_ip.is_empty() => {
                    v.error("reachableBy requires peerIP to be set")
                }
                (Ok(gw), Some((peer_ip, _))) if ip_is_v4(gw) != ip_is_v4(peer_ip) => {
                    v.error(format!(
                        "reachableBy {} and peerIP {} are of different address families",
                        spec.reachable_by, spec.peer_ip
                    ))
                }
                _ => {}
            }
        });
    }

    if spec.keep_original_next_hop && spec.next_hop_mode.is_some() {
        v.error_at(
            "keepOriginalNextHop",
            "keepOriginalNextHop is deprecated and must not be true when nextHopMode is set",
        );
    }
    if let Some(m) = &spec.next_hop_mode {
        v.field("nextHopMode", |v| {
            check_one_of(v, m, &["Auto", "Self", "Keep"])
        });
    }
    if !spec.source_address.is_empty() {
        v.field("sourceAddress", |v| {
            check_one_of(v, &spec.source_address, &["UseNodeIP", "None"])
        });
    }
    if let Some(r) = &spec.reverse_peering {
        v.field("reversePeering", |v| {
            check_one_of(v, r, &["Auto", "Manual"])
        });
    }
    v.field("filters", |v| {
        for (i, f) in spec.filters.iter().enumerate() {
            if !is_dns_subdomain(f) {
                v.index(i, |v| {
                    v.error(format!(
                        "{f:?} is not a valid BGPFilter name: expected lower-case \
                         alphanumerics, '-' and '.'"
                    ))
                });
            }
        }
    });
}
