//! Message builders shared by the golden and kernel tests.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

use calico_api::Action;
use calico_calc::messages::{
    DataplaneMessage, EncapType, EndOfTierAction, EntityMatch, IpSetMember, IpSetType,
    LocalEndpoint, PolicyId, PolicyRules, Pool, PortRange, Route, RouteType, Rule, TierInfo, Vtep,
};
use calico_policy::{Direction, EndpointId, EndpointKind, PolicyKey, PolicyKind, RuleId};
use ipnet::IpNet;

pub fn net(s: &str) -> IpNet {
    s.parse().expect("test CIDR")
}

pub fn pid(tier: &str, ns: &str, name: &str) -> PolicyId {
    PolicyId {
        tier: tier.into(),
        policy: PolicyKey {
            kind: if ns.is_empty() {
                PolicyKind::GlobalNetworkPolicy
            } else {
                PolicyKind::NetworkPolicy
            },
            namespace: ns.into(),
            name: name.into(),
        },
    }
}

pub fn epid(ns: &str, name: &str) -> EndpointId {
    EndpointId {
        kind: EndpointKind::Workload,
        namespace: ns.into(),
        name: name.into(),
    }
}

/// A rule with no match criteria.
pub fn rule(p: &PolicyId, dir: Direction, index: usize, action: Action) -> Rule {
    Rule {
        id: RuleId::policy_rule(&p.tier, &p.policy, dir, index),
        action,
        ip_version: None,
        protocol: None,
        not_protocol: None,
        icmp: None,
        not_icmp: None,
        src: EntityMatch::default(),
        dst: EntityMatch::default(),
    }
}

pub fn profile_rule(profile: &str, dir: Direction, index: usize, action: Action) -> Rule {
    Rule {
        id: RuleId::profile_rule(profile, dir, index),
        ..rule(&pid("default", "", "x"), dir, index, action)
    }
}

pub fn ports(ps: &[u16]) -> Vec<PortRange> {
    ps.iter().map(|&p| PortRange { min: p, max: p }).collect()
}

pub fn set_update(id: &str, members: &[&str]) -> DataplaneMessage {
    DataplaneMessage::IpSetUpdate {
        id: id.into(),
        set_type: IpSetType::Net,
        members: members.iter().map(|m| IpSetMember::Net(net(m))).collect(),
    }
}

pub fn set_delta(id: &str, added: &[&str], removed: &[&str]) -> DataplaneMessage {
    DataplaneMessage::IpSetDeltaUpdate {
        id: id.into(),
        added: added.iter().map(|m| IpSetMember::Net(net(m))).collect(),
        removed: removed.iter().map(|m| IpSetMember::Net(net(m))).collect(),
    }
}

pub fn policy(id: &PolicyId, inbound: Vec<Rule>, outbound: Vec<Rule>) -> DataplaneMessage {
    DataplaneMessage::ActivePolicyUpdate {
        id: id.clone(),
        rules: PolicyRules { inbound, outbound },
    }
}

pub fn profile(id: &str, inbound: Vec<Rule>, outbound: Vec<Rule>) -> DataplaneMessage {
    DataplaneMessage::ActiveProfileUpdate {
        id: id.into(),
        rules: PolicyRules { inbound, outbound },
    }
}

pub fn tier(
    name: &str,
    ingress: &[&PolicyId],
    egress: &[&PolicyId],
    eot: EndOfTierAction,
) -> TierInfo {
    TierInfo {
        name: name.into(),
        ingress_policies: ingress.iter().map(|p| (*p).clone()).collect(),
        egress_policies: egress.iter().map(|p| (*p).clone()).collect(),
        end_of_tier: eot,
    }
}

pub fn endpoint(
    ns: &str,
    name: &str,
    iface: &str,
    ip: &str,
    tiers: Vec<TierInfo>,
    profiles: &[&str],
) -> DataplaneMessage {
    DataplaneMessage::WorkloadEndpointUpdate {
        id: epid(ns, name),
        endpoint: LocalEndpoint {
            iface_name: iface.into(),
            mac: None,
            nets: vec![net(ip)],
            tiers,
            profile_ids: profiles.iter().map(|p| p.to_string()).collect(),
        },
    }
}

pub fn pool(id: &str, cidr: &str, nat: bool, encap: EncapType) -> DataplaneMessage {
    DataplaneMessage::PoolUpdate {
        id: id.into(),
        pool: Pool {
            cidr: net(cidr),
            nat_outgoing: nat,
            encap,
            cross_subnet: false,
            disabled: false,
        },
    }
}

pub fn host(name: &str, ip: &str) -> DataplaneMessage {
    DataplaneMessage::HostMetadataUpdate {
        hostname: name.into(),
        ipv4: Some(ip.parse().expect("test host CIDR")),
    }
}

pub fn vtep(node: &str, mac: &str, tunnel: [u8; 4], parent: [u8; 4]) -> DataplaneMessage {
    DataplaneMessage::VtepUpdate {
        vtep: Vtep {
            node: node.into(),
            mac: mac.into(),
            tunnel_ip: Ipv4Addr::from(tunnel),
            parent_device_ip: Ipv4Addr::from(parent),
        },
    }
}

pub fn remote_block(cidr: &str, node: &str, node_ip: [u8; 4]) -> DataplaneMessage {
    DataplaneMessage::RouteUpdate {
        route: Route {
            dst: net(cidr),
            route_type: RouteType::RemoteWorkload,
            encap: EncapType::Vxlan,
            dst_node: Some(node.into()),
            dst_node_ip: Some(IpAddr::V4(Ipv4Addr::from(node_ip))),
            same_subnet: true,
            nat_outgoing: false,
        },
    }
}

pub fn members(ms: &[&str]) -> BTreeSet<IpSetMember> {
    ms.iter().map(|m| IpSetMember::Net(net(m))).collect()
}
