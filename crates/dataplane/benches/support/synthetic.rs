//! A synthetic node's desired state (E endpoints, P policies each with a rule on a 10-member
//! set, one M-member set `s:big`), shared by the render bench and the `scale` example.

use calico_api::Action;
use calico_calc::messages::{
    DataplaneMessage, EndOfTierAction, EntityMatch, IpSetMember, IpSetType, LocalEndpoint,
    PolicyId, PolicyRules, PortRange, Rule, TierInfo,
};
use calico_dataplane::DesiredState;
use calico_policy::{Direction, EndpointId, EndpointKind, PolicyKey, PolicyKind, RuleId};
use ipnet::{IpNet, Ipv4Net};

pub fn ip(i: u32) -> IpNet {
    IpNet::V4(Ipv4Net::new((0x0a41_0000 + i).into(), 32).expect("prefix"))
}

pub fn state(endpoints: u32, policies: u32, big_set: u32) -> DesiredState {
    let mut st = DesiredState::default();
    let mut msgs = vec![DataplaneMessage::IpSetUpdate {
        id: "s:big".into(),
        set_type: IpSetType::Net,
        members: (0..big_set).map(|i| IpSetMember::Net(ip(i * 2))).collect(),
    }];
    let mut ids = Vec::new();
    for p in 0..policies {
        let id = PolicyId {
            tier: "default".into(),
            policy: PolicyKey {
                kind: PolicyKind::NetworkPolicy,
                namespace: "ns".into(),
                name: format!("pol-{p}"),
            },
        };
        let set = format!("s:set{p}");
        msgs.push(DataplaneMessage::IpSetUpdate {
            id: set.clone(),
            set_type: IpSetType::Net,
            members: (0..10).map(|i| IpSetMember::Net(ip(p * 10 + i))).collect(),
        });
        let rule = Rule {
            id: RuleId::policy_rule("default", &id.policy, Direction::Ingress, 0),
            action: Action::Allow,
            ip_version: None,
            protocol: Some(6),
            not_protocol: None,
            icmp: None,
            not_icmp: None,
            src: EntityMatch {
                ip_set_ids: vec![set],
                ..EntityMatch::default()
            },
            dst: EntityMatch {
                ports: vec![PortRange { min: 80, max: 80 }],
                ..EntityMatch::default()
            },
        };
        msgs.push(DataplaneMessage::ActivePolicyUpdate {
            id: id.clone(),
            rules: PolicyRules {
                inbound: vec![rule],
                outbound: vec![],
            },
        });
        ids.push(id);
    }
    for e in 0..endpoints {
        let pols: Vec<PolicyId> = (0..5)
            .map(|k| ids[((e * 5 + k) % policies) as usize].clone())
            .collect();
        msgs.push(DataplaneMessage::WorkloadEndpointUpdate {
            id: EndpointId {
                kind: EndpointKind::Workload,
                namespace: "ns".into(),
                name: format!("pod-{e}"),
            },
            endpoint: LocalEndpoint {
                iface_name: format!("cali{e:011}"),
                mac: None,
                nets: vec![ip(100_000 + e)],
                tiers: vec![TierInfo {
                    name: "default".into(),
                    ingress_policies: pols,
                    egress_policies: vec![],
                    end_of_tier: EndOfTierAction::Deny,
                }],
                profile_ids: vec!["kns.ns".into()],
            },
        });
    }
    msgs.push(DataplaneMessage::InSync);
    for m in &msgs {
        st.fold(m);
    }
    st
}
