//! The messages the calculation graph sends to the dataplane, modelled on Felix's
//! `felix/proto/felixbackend.proto` (`IPSetUpdate`, `ActivePolicyUpdate`,
//! `WorkloadEndpointUpdate`, `RouteUpdate`, `VXLANTunnelEndpointUpdate`, ...).
//!
//! Contract:
//! - Before anything refers to an IP set, policy or profile, an update for it has been sent;
//!   a remove is sent only after nothing refers to it any more. So a dataplane that applies the
//!   messages of a batch in order never renders a dangling reference.
//! - After the initial snapshot the graph sends [`DataplaneMessage::InSync`] once; a dataplane
//!   should then do its full resync (removing whatever is stale) and apply.
//! - Everything is keyed by stable IDs; an update replaces the previous value of its ID.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

use calico_api::Action;
use calico_policy::{EndpointId, PolicyKey, RuleId};
use ipnet::IpNet;
use serde::Serialize;

/// The ID of an IP set: `s:<selector unique ID>` for the members of a selector,
/// `n:<hash>` for a named-port set (selector + named port + protocol). Stable for the same
/// selector text in any order (it derives from the canonical selector).
pub type IpSetId = String;

/// What an IP set holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum IpSetType {
    /// CIDRs (single addresses as /32 or /128): endpoint addresses and network-set nets.
    Net,
    /// (address, protocol, port) triples: the endpoints of a named port.
    IpPort,
}

/// One member of an IP set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum IpSetMember {
    Net(IpNet),
    IpPort { ip: IpAddr, protocol: u8, port: u16 },
}

impl IpSetMember {
    /// The member's IP version (4 or 6).
    pub fn ip_version(&self) -> u8 {
        let v4 = match self {
            IpSetMember::Net(n) => matches!(n, IpNet::V4(_)),
            IpSetMember::IpPort { ip, .. } => ip.is_ipv4(),
        };
        if v4 { 4 } else { 6 }
    }
}

/// A policy as the dataplane knows it: its tier and its key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PolicyId {
    pub tier: String,
    pub policy: PolicyKey,
}

/// An inclusive port range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PortRange {
    pub min: u16,
    pub max: u16,
}

/// An ICMP type and optional code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct IcmpMatch {
    #[serde(rename = "type")]
    pub icmp_type: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u8>,
}

/// One end of a rule, with selectors already turned into IP sets (Felix's rule scanner).
///
/// A packet's address matches when it is in one of `nets` (if any), in none of `not_nets`,
/// in every set of `ip_set_ids` and in none of `not_ip_set_ids`. Its port matches when it is
/// in one of `ports` *or* (address, protocol, port) is in one of `named_port_ip_set_ids` (if
/// either list is non-empty), and in none of `not_ports` and none of
/// `not_named_port_ip_set_ids`. A named port combined with a selector is a single named-port
/// set holding only the selected endpoints' ports, as in Felix.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityMatch {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nets: Vec<IpNet>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_nets: Vec<IpNet>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ip_set_ids: Vec<IpSetId>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_ip_set_ids: Vec<IpSetId>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PortRange>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub named_port_ip_set_ids: Vec<IpSetId>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_ports: Vec<PortRange>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_named_port_ip_set_ids: Vec<IpSetId>,
}

/// A rule ready to render. `protocol` and `not_protocol` are IP protocol numbers
/// (ICMP is 1 for IPv4 and 58 for IPv6).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// Stable ID: counters and "which rule dropped this packet" key on it.
    pub id: RuleId,
    pub action: Action,
    /// 4 or 6 when the rule applies to one IP version only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_version: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_protocol: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp: Option<IcmpMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_icmp: Option<IcmpMatch>,
    pub src: EntityMatch,
    pub dst: EntityMatch,
}

/// A policy's rules. Ingress rules are evaluated on traffic to an endpoint, egress on
/// traffic from it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct PolicyRules {
    pub inbound: Vec<Rule>,
    pub outbound: Vec<Rule>,
}

/// A tier's action for traffic none of its policies decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum EndOfTierAction {
    Deny,
    Pass,
}

/// One tier that applies to a local endpoint: its non-staged policies that select the
/// endpoint, per direction, in order. A direction with no policies skips the tier entirely
/// (no end-of-tier action), as in Felix.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TierInfo {
    pub name: String,
    pub ingress_policies: Vec<PolicyId>,
    pub egress_policies: Vec<PolicyId>,
    pub end_of_tier: EndOfTierAction,
}

/// A workload endpoint on this node.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalEndpoint {
    /// The host-side interface (`cali...`).
    pub iface_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// The endpoint's addresses (/32 and /128 normally).
    pub nets: Vec<IpNet>,
    /// Tiers in evaluation order.
    pub tiers: Vec<TierInfo>,
    /// Profiles in order (evaluated when no tier decided).
    pub profile_ids: Vec<String>,
}

/// What a route is for (Felix's `RouteType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RouteType {
    /// An IP pool (informational: natOutgoing and "is inside a pool" decisions).
    CidrInfo,
    /// A block (or borrowed address) affine to another node.
    RemoteWorkload,
    /// Another node's own address.
    RemoteHost,
    /// Another node's tunnel address.
    RemoteTunnel,
    /// A workload on this node (the CNI plugin already made the /32 route; informational).
    LocalWorkload,
    /// This node's own address.
    LocalHost,
    /// This node's tunnel address.
    LocalTunnel,
}

/// The encapsulation of the pool a route's destination belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EncapType {
    None,
    Vxlan,
    Ipip,
}

/// A route the dataplane may need (Felix's `RouteUpdate`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    pub dst: IpNet,
    pub route_type: RouteType,
    pub encap: EncapType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst_node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst_node_ip: Option<IpAddr>,
    /// The destination node shares a subnet with this node (CrossSubnet decisions).
    pub same_subnet: bool,
    /// The destination's pool has natOutgoing.
    pub nat_outgoing: bool,
}

/// A node's VXLAN tunnel endpoint (Felix's `VXLANTunnelEndpointUpdate`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Vtep {
    pub node: String,
    /// The MAC of the node's `vxlan.calico` device (from `Node.spec.ipv4VXLANTunnelAddr`'s
    /// companion `vxlanTunnelMACAddr`, or derived from the node name as Calico does).
    pub mac: String,
    /// The node's `vxlan.calico` address.
    pub tunnel_ip: Ipv4Addr,
    /// The node's underlay address (the VXLAN outer destination).
    pub parent_device_ip: Ipv4Addr,
}

/// An IP pool as the dataplane needs it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pool {
    pub cidr: IpNet,
    pub nat_outgoing: bool,
    pub encap: EncapType,
    pub cross_subnet: bool,
    pub disabled: bool,
}

/// One message to the dataplane.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum DataplaneMessage {
    /// Replace (or create) a set with exactly these members.
    IpSetUpdate {
        id: IpSetId,
        set_type: IpSetType,
        members: BTreeSet<IpSetMember>,
    },
    /// Change an existing set.
    IpSetDeltaUpdate {
        id: IpSetId,
        added: BTreeSet<IpSetMember>,
        removed: BTreeSet<IpSetMember>,
    },
    IpSetRemove {
        id: IpSetId,
    },
    ActivePolicyUpdate {
        id: PolicyId,
        rules: PolicyRules,
    },
    ActivePolicyRemove {
        id: PolicyId,
    },
    ActiveProfileUpdate {
        id: String,
        rules: PolicyRules,
    },
    ActiveProfileRemove {
        id: String,
    },
    WorkloadEndpointUpdate {
        id: EndpointId,
        endpoint: LocalEndpoint,
    },
    WorkloadEndpointRemove {
        id: EndpointId,
    },
    RouteUpdate {
        route: Route,
    },
    RouteRemove {
        dst: IpNet,
    },
    VtepUpdate {
        vtep: Vtep,
    },
    VtepRemove {
        node: String,
    },
    PoolUpdate {
        id: String,
        pool: Pool,
    },
    PoolRemove {
        id: String,
    },
    /// This node's name and underlay address.
    HostMetadataUpdate {
        hostname: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        ipv4: Option<ipnet::Ipv4Net>,
    },
    /// The initial snapshot is complete.
    InSync,
}
