//! What one flush costs in the renderer at scale: 1,000 local endpoints, 1,000 policies
//! (each with a rule on a 10-member set) and one 10,000-member set; a full render, the full
//! script, and the delta for one set member.

use std::collections::BTreeSet;

use calico_api::Action;
use calico_calc::messages::{
    DataplaneMessage, EndOfTierAction, EntityMatch, IpSetMember, IpSetType, LocalEndpoint,
    PolicyId, PolicyRules, PortRange, Rule, TierInfo,
};
use calico_dataplane::render::{Dirty, Renderer, delta_script, render};
use calico_dataplane::{Config, DesiredState};
use calico_policy::{Direction, EndpointId, EndpointKind, PolicyKey, PolicyKind, RuleId};
use criterion::{Criterion, criterion_group, criterion_main};
use ipnet::{IpNet, Ipv4Net};

fn ip(i: u32) -> IpNet {
    IpNet::V4(Ipv4Net::new((0x0a41_0000 + i).into(), 32).expect("prefix"))
}

fn state(endpoints: u32, policies: u32, big_set: u32) -> DesiredState {
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

fn bench(c: &mut Criterion) {
    let cfg = Config::default();
    let st = state(1000, 1000, 10_000);
    c.bench_function(
        "render 1000 endpoints, 1000 policies, 10k-member set",
        |b| b.iter(|| render(&cfg, &st)),
    );
    let rs = render(&cfg, &st);
    c.bench_function("full script text", |b| b.iter(|| rs.full_script()));
    let mut st2 = st.clone();
    st2.fold(&DataplaneMessage::IpSetDeltaUpdate {
        id: "s:big".into(),
        added: [IpSetMember::Net(ip(1))].into_iter().collect(),
        removed: BTreeSet::new(),
    });
    c.bench_function("render + delta for one set member", |b| {
        b.iter(|| {
            let new = render(&cfg, &st2);
            delta_script(&rs, &new)
        })
    });
}

fn bench_incremental(c: &mut Criterion) {
    let cfg = Config::default();
    let mut st = state(1000, 1000, 10_000);
    let mut r = Renderer::new(&cfg, &st);
    let mut i = 0u32;
    c.bench_function("incremental: one member of the 10k set", |b| {
        b.iter(|| {
            i += 1;
            let m = DataplaneMessage::IpSetDeltaUpdate {
                id: "s:big".into(),
                added: [IpSetMember::Net(ip(2 * i + 1))].into_iter().collect(),
                removed: BTreeSet::new(),
            };
            let mut d = Dirty::default();
            d.note(&m);
            st.fold(&m);
            r.update(&st, &d)
        })
    });
    c.bench_function("incremental: one member of a 10-member set", |b| {
        b.iter(|| {
            i += 1;
            let m = DataplaneMessage::IpSetDeltaUpdate {
                id: "s:set7".into(),
                added: [IpSetMember::Net(ip(500_000 + i))].into_iter().collect(),
                removed: BTreeSet::new(),
            };
            let mut d = Dirty::default();
            d.note(&m);
            st.fold(&m);
            r.update(&st, &d)
        })
    });
}

criterion_group!(benches, bench, bench_incremental);
criterion_main!(benches);
