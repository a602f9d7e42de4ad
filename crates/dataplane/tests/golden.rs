//! Golden tests: representative message sequences → the rendered table and the delta
//! transactions. `UPDATE_GOLDENS=1 cargo test -p calico-dataplane --test golden` rewrites them.

mod common;

use calico_api::Action;
use calico_calc::messages::{DataplaneMessage, EncapType, EndOfTierAction, IcmpMatch};
use calico_dataplane::render::{delta_script, render};
use calico_dataplane::{Config, DesiredState};
use calico_policy::Direction::{Egress, Ingress};
use common::fixtures::*;
use common::golden;

fn fold(st: &mut DesiredState, msgs: &[DataplaneMessage]) {
    for m in msgs {
        st.fold(m);
    }
}

/// Two endpoints: `a` is selected by a default-tier policy allowing TCP 80 from set X and
/// by a tier `sec` that passes traffic from 10.0.0.0/8; `b` has profiles only.
fn base_messages() -> Vec<DataplaneMessage> {
    let allow80 = pid("default", "ns1", "allow-80");
    let sec = pid("sec", "", "sec.pass-internal");
    let mut r80 = rule(&allow80, Ingress, 0, Action::Allow);
    r80.protocol = Some(6);
    r80.src.ip_set_ids = vec!["s:setX".into()];
    r80.dst.ports = ports(&[80]);
    let mut log = rule(&allow80, Ingress, 1, Action::Log);
    log.protocol = Some(17);
    let mut pass = rule(&sec, Ingress, 0, Action::Pass);
    pass.src.nets = vec![net("10.0.0.0/8"), net("fd00::/8")];
    let mut deny_icmp = rule(&sec, Ingress, 1, Action::Deny);
    deny_icmp.protocol = Some(1);
    deny_icmp.icmp = Some(IcmpMatch {
        icmp_type: 8,
        code: None,
    });
    let mut named = rule(&allow80, Egress, 0, Action::Allow);
    named.dst.named_port_ip_set_ids = vec!["n:web".into()];
    named.dst.ports = ports(&[8080]);
    named.dst.not_nets = vec![net("192.168.0.0/16")];
    vec![
        host("node1", "172.16.0.1/24"),
        pool(
            "default-ipv4-ippool",
            "10.65.0.0/16",
            true,
            EncapType::Vxlan,
        ),
        pool("no-nat", "10.66.0.0/16", false, EncapType::Vxlan),
        set_update(
            "s:setX",
            &[
                "10.65.1.2/32",
                "10.65.1.3/32",
                "10.65.0.0/26",
                "fd00::1/128",
            ],
        ),
        DataplaneMessage::IpSetUpdate {
            id: "n:web".into(),
            set_type: calico_calc::messages::IpSetType::IpPort,
            members: [calico_calc::messages::IpSetMember::IpPort {
                ip: "10.65.1.2".parse().expect("ip"),
                protocol: 6,
                port: 80,
            }]
            .into_iter()
            .collect(),
        },
        policy(&allow80, vec![r80, log], vec![named]),
        policy(&sec, vec![pass, deny_icmp], vec![]),
        profile(
            "kns.ns1",
            vec![profile_rule("kns.ns1", Ingress, 0, Action::Allow)],
            vec![profile_rule("kns.ns1", Egress, 0, Action::Allow)],
        ),
        endpoint(
            "ns1",
            "a",
            "cali1111111111a",
            "10.65.0.10/32",
            vec![
                tier("sec", &[&sec], &[], EndOfTierAction::Pass),
                tier("default", &[&allow80], &[&allow80], EndOfTierAction::Deny),
            ],
            &["kns.ns1"],
        ),
        endpoint(
            "ns1",
            "b",
            "cali2222222222b",
            "10.65.0.11/32",
            vec![],
            &["kns.ns1"],
        ),
        vtep(
            "node1",
            "66:00:00:00:00:01",
            [10, 65, 0, 1],
            [172, 16, 0, 1],
        ),
        vtep(
            "node2",
            "66:00:00:00:00:02",
            [10, 65, 1, 1],
            [172, 16, 0, 2],
        ),
        remote_block("10.65.1.0/26", "node2", [172, 16, 0, 2]),
        DataplaneMessage::InSync,
    ]
}

#[test]
fn full_table() {
    let mut st = DesiredState::default();
    fold(&mut st, &base_messages());
    let rs = render(&Config::default(), &st);
    golden("full.nft", &rs.full_script());
}

#[test]
fn delta_after_member_policy_and_endpoint_changes() {
    let cfg = Config::default();
    let mut st = DesiredState::default();
    fold(&mut st, &base_messages());
    let before = render(&cfg, &st);
    let allow80 = pid("default", "ns1", "allow-80");
    let mut r81 = rule(&allow80, Ingress, 0, Action::Allow);
    r81.protocol = Some(6);
    r81.dst.ports = vec![calico_calc::messages::PortRange { min: 81, max: 90 }];
    fold(
        &mut st,
        &[
            set_delta("s:setX", &["10.65.2.0/32"], &["10.65.1.3/32"]),
            policy(&allow80, vec![r81], vec![]),
            DataplaneMessage::WorkloadEndpointRemove {
                id: epid("ns1", "b"),
            },
            endpoint(
                "ns1",
                "c",
                "cali3333333333c",
                "10.65.0.12/32",
                vec![],
                &["kns.ns2"],
            ),
        ],
    );
    let after = render(&cfg, &st);
    let delta = delta_script(&before, &after)
        .expect("a delta, not a full replace")
        .expect("something changed");
    golden("delta.nft", &delta);
    // Nothing changed → nothing to run.
    assert_eq!(delta_script(&after, &after), Ok(None));
}

#[test]
fn every_rule_id_has_a_comment() {
    let mut st = DesiredState::default();
    fold(&mut st, &base_messages());
    let rs = render(&Config::default(), &st);
    let ids: Vec<&str> = rs.comments.values().map(|r| r.as_str()).collect();
    for want in [
        "tier/default/policy/np/ns1/allow-80/ingress/0",
        "tier/sec/end-of-tier-pass",
        "tier/default/end-of-tier-deny",
        "profile/kns.ns1/ingress/0",
        "no-profile-deny",
    ] {
        assert!(ids.contains(&want), "{want} missing from {ids:?}");
    }
}

/// One policy with a rule per rendering case: IP version filters, ICMP/ICMPv6 with and
/// without codes, negations, port ranges, named ports OR numeric ports, mixed-family nets.
#[test]
fn rule_cases() {
    let p = pid("default", "ns1", "cases");
    let mut rules = Vec::new();
    let mut add = |f: &dyn Fn(&mut calico_calc::messages::Rule)| {
        let mut r = rule(&p, Ingress, rules.len(), Action::Allow);
        f(&mut r);
        rules.push(r);
    };
    add(&|r| r.ip_version = Some(6));
    add(&|r| {
        r.protocol = Some(58);
        r.icmp = Some(IcmpMatch {
            icmp_type: 128,
            code: Some(0),
        });
    });
    add(&|r| {
        r.protocol = Some(1);
        r.not_icmp = Some(IcmpMatch {
            icmp_type: 8,
            code: Some(0),
        });
    });
    add(&|r| {
        r.protocol = Some(1);
        r.not_icmp = Some(IcmpMatch {
            icmp_type: 3,
            code: None,
        });
    });
    add(&|r| {
        r.action = Action::Deny;
        r.not_protocol = Some(17);
        r.src.not_nets = vec![net("10.0.0.0/8"), net("10.1.0.0/16"), net("2001:db8::/32")];
    });
    add(&|r| {
        r.protocol = Some(17);
        r.src.ports = vec![calico_calc::messages::PortRange {
            min: 1000,
            max: 2000,
        }];
        r.dst.not_ports = ports(&[53, 54]);
    });
    add(&|r| {
        r.src.nets = vec![net("192.168.1.0/24")];
        r.dst.ip_set_ids = vec!["s:X".into(), "s:Y".into()];
        r.dst.not_ip_set_ids = vec!["s:Z".into()];
    });
    add(&|r| {
        r.protocol = Some(6);
        r.src.named_port_ip_set_ids = vec!["n:a".into()];
        r.dst.named_port_ip_set_ids = vec!["n:b".into()];
        r.dst.not_named_port_ip_set_ids = vec!["n:c".into()];
    });
    add(&|r| {
        r.action = Action::Log;
        r.ip_version = Some(4);
    });
    add(&|r| r.action = Action::Pass);
    let mut msgs = Vec::new();
    for id in ["s:X", "s:Y", "s:Z"] {
        msgs.push(set_update(id, &["10.65.0.1/32", "2001:db8::1/128"]));
    }
    for id in ["n:a", "n:b", "n:c"] {
        msgs.push(DataplaneMessage::IpSetUpdate {
            id: id.into(),
            set_type: calico_calc::messages::IpSetType::IpPort,
            members: [
                calico_calc::messages::IpSetMember::IpPort {
                    ip: "10.65.0.1".parse().expect("ip"),
                    protocol: 6,
                    port: 8080,
                },
                calico_calc::messages::IpSetMember::IpPort {
                    ip: "2001:db8::1".parse().expect("ip"),
                    protocol: 17,
                    port: 53,
                },
            ]
            .into_iter()
            .collect(),
        });
    }
    msgs.push(policy(&p, rules, vec![]));
    msgs.push(endpoint(
        "ns1",
        "a",
        "caliaaaa",
        "10.65.0.1/32",
        vec![tier("default", &[&p], &[], EndOfTierAction::Deny)],
        &[],
    ));
    let mut st = DesiredState::default();
    fold(&mut st, &msgs);
    golden("rules.nft", &render(&Config::default(), &st).full_script());
}
