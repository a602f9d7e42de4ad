//! Policy rules shared by NetworkPolicy, GlobalNetworkPolicy, their staged variants and
//! Profile: [`Rule`], [`EntityRule`] and their parts (`policy_common.go` in Calico).
//!
//! Validation of rules lives in `rule_check.rs`.

use std::collections::BTreeMap;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::numorstring::{Port, Protocol};

/// What a rule does with a packet that matches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    /// Accept for this policy (and tier).
    Allow,
    /// Drop.
    Deny,
    /// Log the packet and continue with the next rule.
    Log,
    /// Skip the rest of this tier; continue at the next tier (or the profiles).
    Pass,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "Allow",
            Action::Deny => "Deny",
            Action::Log => "Log",
            Action::Pass => "Pass",
        }
    }
}

/// The direction a policy applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PolicyType {
    Ingress,
    Egress,
}

impl PolicyType {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::Ingress => "Ingress",
            PolicyType::Egress => "Egress",
        }
    }
}

/// A match criterion set and an action. All criteria given must match (AND); the elements of a
/// list field are alternatives (OR); `not*` fields match when none of their elements do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rule {
    pub action: Action,
    /// Restrict the rule to IPv4 (`4`) or IPv6 (`6`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_version: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp: Option<IcmpFields>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_protocol: Option<Protocol>,
    #[serde(default, rename = "notICMP", skip_serializing_if = "Option::is_none")]
    pub not_icmp: Option<IcmpFields>,
    #[serde(default, skip_serializing_if = "EntityRule::is_empty")]
    pub source: EntityRule,
    #[serde(default, skip_serializing_if = "EntityRule::is_empty")]
    pub destination: EntityRule,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpMatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<RuleMetadata>,
}

impl Rule {
    /// A rule with only an action (it matches every packet).
    pub fn new(action: Action) -> Rule {
        Rule {
            action,
            ip_version: None,
            protocol: None,
            icmp: None,
            not_protocol: None,
            not_icmp: None,
            source: EntityRule::default(),
            destination: EntityRule::default(),
            http: None,
            metadata: None,
        }
    }

    /// Whether the rule uses application-layer (HTTP) matches, which only the app-layer
    /// enforcement point can evaluate.
    pub fn uses_app_layer(&self) -> bool {
        self.http.is_some()
    }

    /// The IP versions this rule can match: its `ipVersion`, else what its protocol (ICMP or
    /// ICMPv6) or its CIDRs imply, else both.
    pub fn ip_versions(&self) -> Vec<u8> {
        if let Some(v) = self.ip_version {
            return vec![v];
        }
        match self.protocol {
            Some(p) if p.is_icmp() => return vec![4],
            Some(p) if p.is_icmpv6() => return vec![6],
            _ => {}
        }
        let mut nets = self.source.all_nets().chain(self.destination.all_nets());
        match nets.find_map(parse_net) {
            Some(IpNet::V4(_)) => vec![4],
            Some(IpNet::V6(_)) => vec![6],
            None => vec![4, 6],
        }
    }
}

/// ICMP type and code matches.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IcmpFields {
    /// ICMP type, 0–254 (8 is echo request).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub icmp_type: Option<u8>,
    /// ICMP code, 0–255; requires a type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u8>,
}

/// The match criteria for one end (source or destination) of a packet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EntityRule {
    /// CIDRs the address must be in (any of).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nets: Vec<String>,
    /// Endpoints (and network sets) whose labels match.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub selector: String,
    /// Restricts `selector` to endpoints in namespaces whose labels match; `global()` means
    /// non-namespaced objects only.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace_selector: String,
    /// Endpoints of a Kubernetes Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<ServiceMatch>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_nets: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub not_selector: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_ports: Vec<Port>,
    /// Pods running as matching service accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_accounts: Option<ServiceAccountMatch>,
}

impl EntityRule {
    /// True when no criterion is set (the rule end matches anything).
    pub fn is_empty(&self) -> bool {
        *self == EntityRule::default()
    }

    /// `nets` and `notNets` together.
    pub fn all_nets(&self) -> impl Iterator<Item = &str> {
        self.nets.iter().chain(&self.not_nets).map(String::as_str)
    }

    /// `ports` and `notPorts` together.
    pub fn all_ports(&self) -> impl Iterator<Item = &Port> {
        self.ports.iter().chain(&self.not_ports)
    }

    /// Whether any port (positive or negated) is numeric.
    pub fn has_numeric_ports(&self) -> bool {
        self.all_ports().any(|p| !p.is_named())
    }

    /// The parsed `nets` (entries that do not parse are skipped; validation reports them).
    pub fn parsed_nets(&self) -> Vec<IpNet> {
        self.nets.iter().filter_map(|n| parse_net(n)).collect()
    }

    /// The parsed `notNets`.
    pub fn parsed_not_nets(&self) -> Vec<IpNet> {
        self.not_nets.iter().filter_map(|n| parse_net(n)).collect()
    }
}

/// Parse a rule CIDR (`10.0.0.0/8`, `fd00::/64`) or bare IP (a /32 or /128), masked to its
/// network as Felix does (`10.0.0.1/8` → `10.0.0.0/8`).
pub fn parse_net(s: &str) -> Option<IpNet> {
    crate::validate::parse_cidr_or_ip(s).map(|n| n.trunc())
}

/// A Kubernetes Service by name (and namespace; empty means the policy's namespace).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceMatch {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
}

/// Service-account match: `names` are alternatives; `selector` (over service-account labels)
/// is ANDed with them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceAccountMatch {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub selector: String,
}

/// HTTP request matches (methods OR'd, paths OR'd, the two ANDed).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HttpMatch {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<HttpPath>,
}

/// One HTTP path match: exactly one of `exact` and `prefix`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HttpPath {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub exact: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prefix: String,
}

/// Extra information about a rule (rendered as rule comments).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuleMetadata {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}
