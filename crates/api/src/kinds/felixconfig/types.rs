//! Value types used by FelixConfiguration fields: failsafe protocol/port entries, route table
//! ranges, health-timeout overrides, BPF conntrack timeouts and DSCP marks.

use serde::{Deserialize, Serialize};

use super::super::duration::GoDuration;

/// A protocol/port pair with an optional CIDR (`failsafeInboundHostPorts` and
/// `failsafeOutboundHostPorts` entries).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProtoPort {
    /// `TCP`, `UDP` or `SCTP` (TCP when empty).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub protocol: String,
    pub port: u16,
    /// Only traffic to/from this CIDR (all addresses when empty).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub net: String,
}

impl ProtoPort {
    pub fn new(protocol: &str, port: u16) -> Self {
        ProtoPort {
            protocol: protocol.to_string(),
            port,
            net: String::new(),
        }
    }

    /// Parse Felix's environment/config-file form: a comma-separated list of `port`,
    /// `proto:port` or `proto:cidr:port` (IPv6 CIDRs in square brackets), e.g.
    /// `tcp:22,udp:68,tcp:[fd00::/8]:443`. An empty string gives an empty list.
    pub fn parse_list(s: &str) -> Result<Vec<ProtoPort>, String> {
        let mut out = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            out.push(ProtoPort::parse_one(item)?);
        }
        Ok(out)
    }

    fn parse_one(item: &str) -> Result<ProtoPort, String> {
        let bad = || {
            format!("invalid protocol/port {item:?}: expected port, proto:port or proto:cidr:port")
        };
        let port = |p: &str| p.parse::<u16>().map_err(|_| bad());
        let proto = |p: &str| -> Result<String, String> {
            let up = p.to_ascii_uppercase();
            if ["TCP", "UDP", "SCTP"].contains(&up.as_str()) {
                Ok(p.to_ascii_lowercase())
            } else {
                Err(bad())
            }
        };
        let Some((first, rest)) = item.split_once(':') else {
            return Ok(ProtoPort::new("tcp", port(item)?));
        };
        let Some((net, p)) = rest.rsplit_once(':') else {
            return Ok(ProtoPort::new(&proto(first)?, port(rest)?));
        };
        let net = net
            .strip_prefix('[')
            .and_then(|n| n.strip_suffix(']'))
            .unwrap_or(net);
        Ok(ProtoPort {
            protocol: proto(first)?,
            port: port(p)?,
            net: net.to_string(),
        })
    }
}

/// `routeTableRange` (deprecated): one range within 1-250.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RouteTableRange {
    pub min: i64,
    pub max: i64,
}

/// A `routeTableRanges` entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RouteTableIDRange {
    pub min: i64,
    pub max: i64,
}

/// Overrides one subcomponent's liveness/readiness timeout.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HealthTimeoutOverride {
    pub name: String,
    pub timeout: GoDuration,
}

/// Overrides of the BPF conntrack timers; each value is a duration or `Auto`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BPFConntrackTimeouts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_grace_period: Option<String>,
    #[serde(
        default,
        rename = "tcpSynSent",
        skip_serializing_if = "Option::is_none"
    )]
    pub tcp_syn_sent: Option<String>,
    #[serde(
        default,
        rename = "tcpEstablished",
        skip_serializing_if = "Option::is_none"
    )]
    pub tcp_established: Option<String>,
    #[serde(
        default,
        rename = "tcpFinsSeen",
        skip_serializing_if = "Option::is_none"
    )]
    pub tcp_fins_seen: Option<String>,
    #[serde(
        default,
        rename = "tcpResetSeen",
        skip_serializing_if = "Option::is_none"
    )]
    pub tcp_reset_seen: Option<String>,
    #[serde(
        default,
        rename = "udpTimeout",
        skip_serializing_if = "Option::is_none"
    )]
    pub udp_timeout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generic_timeout: Option<String>,
    #[serde(
        default,
        rename = "icmpTimeout",
        skip_serializing_if = "Option::is_none"
    )]
    pub icmp_timeout: Option<String>,
}

impl BPFConntrackTimeouts {
    /// `(json name, value)` for every timer that is set.
    pub fn entries(&self) -> Vec<(&'static str, &str)> {
        [
            ("creationGracePeriod", &self.creation_grace_period),
            ("tcpSynSent", &self.tcp_syn_sent),
            ("tcpEstablished", &self.tcp_established),
            ("tcpFinsSeen", &self.tcp_fins_seen),
            ("tcpResetSeen", &self.tcp_reset_seen),
            ("udpTimeout", &self.udp_timeout),
            ("genericTimeout", &self.generic_timeout),
            ("icmpTimeout", &self.icmp_timeout),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
    }
}
