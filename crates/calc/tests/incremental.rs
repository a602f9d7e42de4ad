//! Incremental behaviour: a change emits exactly the messages it must, and nothing unchanged
//! is sent again.

mod common;

use calico_calc::messages::{DataplaneMessage, IpSetMember};
use calico_calc::{CalcGraph, DataplaneState, ResourceKey, Update};
use common::{step, summary, upserts, wep};

const BASE: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {env: prod}}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: allow-db, namespace: x}
spec:
  order: 10
  selector: app == 'web'
  ingress:
  - action: Allow
    source: {selector: app == 'db'}
"#;

/// Node-1 with local pods a (web) and d (other), remote pods b (db) and c (other).
fn setup() -> (CalcGraph, DataplaneState) {
    let mut g = CalcGraph::new("node-1");
    let mut dp = DataplaneState::default();
    let mut snap = upserts(BASE);
    snap.extend(pods());
    snap.push(Update::InSync);
    step(&mut g, &mut dp, snap);
    (g, dp)
}

fn pods() -> Vec<Update> {
    vec![
        Update::Upsert(wep("x", "a", "node-1", "10.0.0.1", &[("app", "web")])),
        Update::Upsert(wep("x", "b", "node-2", "10.0.0.2", &[("app", "db")])),
        Update::Upsert(wep("x", "c", "node-2", "10.0.0.3", &[("app", "other")])),
        Update::Upsert(wep("x", "d", "node-1", "10.0.0.4", &[("app", "other")])),
    ]
}

fn net(s: &str) -> IpSetMember {
    IpSetMember::Net(s.parse().expect("net"))
}

#[test]
fn remote_label_change_emits_one_set_delta() {
    let (mut g, mut dp) = setup();
    let msgs = step(
        &mut g,
        &mut dp,
        vec![Update::Upsert(wep(
            "x",
            "c",
            "node-2",
            "10.0.0.3",
            &[("app", "db")],
        ))],
    );
    assert_eq!(msgs.len(), 1, "{msgs:#?}");
    match &msgs[0] {
        DataplaneMessage::IpSetDeltaUpdate { added, removed, .. } => {
            assert_eq!(added.iter().collect::<Vec<_>>(), vec![&net("10.0.0.3/32")]);
            assert!(removed.is_empty());
        }
        other => panic!("expected a delta, got {other:?}"),
    }
}

#[test]
fn unrelated_label_change_emits_nothing() {
    let (mut g, mut dp) = setup();
    let msgs = step(
        &mut g,
        &mut dp,
        vec![Update::Upsert(wep(
            "x",
            "c",
            "node-2",
            "10.0.0.3",
            &[("app", "other"), ("colour", "blue")],
        ))],
    );
    assert_eq!(summary(&msgs), Vec::<String>::new());
}

#[test]
fn resending_everything_emits_nothing() {
    let (mut g, mut dp) = setup();
    let mut again = upserts(BASE);
    again.extend(pods());
    let msgs = step(&mut g, &mut dp, again);
    assert_eq!(summary(&msgs), Vec::<String>::new());
}

#[test]
fn local_label_change_updates_only_that_endpoint() {
    let (mut g, mut dp) = setup();
    let msgs = step(
        &mut g,
        &mut dp,
        vec![Update::Upsert(wep(
            "x",
            "d",
            "node-1",
            "10.0.0.4",
            &[("app", "web")],
        ))],
    );
    assert_eq!(summary(&msgs), vec!["workloadEndpointUpdate wep/x/d"]);
}

#[test]
fn local_endpoint_leaving_the_only_selector_withdraws_the_policy() {
    let (mut g, mut dp) = setup();
    let msgs = step(
        &mut g,
        &mut dp,
        vec![Update::Upsert(wep(
            "x",
            "a",
            "node-1",
            "10.0.0.1",
            &[("app", "db")],
        ))],
    );
    // a leaves the policy's selector (its program changes, the policy goes inactive) and
    // joins the rule's source set; the set itself goes with the policy.
    assert_eq!(
        summary(&msgs),
        vec![
            "workloadEndpointUpdate wep/x/a",
            "activePolicyRemove np/x/allow-db",
            "ipSetRemove",
        ]
    );
}

#[test]
fn policy_rule_edit_sends_the_policy_and_swaps_sets_without_touching_endpoints() {
    let (mut g, mut dp) = setup();
    let msgs = step(
        &mut g,
        &mut dp,
        upserts(
            r#"
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: allow-db, namespace: x}
spec:
  order: 10
  selector: app == 'web'
  ingress:
  - action: Allow
    source: {selector: app == 'other'}
"#,
        ),
    );
    assert_eq!(
        summary(&msgs),
        vec![
            "ipSetUpdate",
            "activePolicyUpdate np/x/allow-db",
            "ipSetRemove"
        ]
    );
}

#[test]
fn policy_order_change_updates_only_the_endpoints_it_selects() {
    let (mut g, mut dp) = setup();
    let second = r#"
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: second, namespace: x}
spec:
  order: ORDER
  selector: app == 'web'
  ingress: [{action: Deny}]
"#;
    let msgs = step(&mut g, &mut dp, upserts(&second.replace("ORDER", "20")));
    assert_eq!(
        summary(&msgs),
        vec![
            "activePolicyUpdate np/x/second",
            "workloadEndpointUpdate wep/x/a"
        ]
    );
    let msgs = step(&mut g, &mut dp, upserts(&second.replace("ORDER", "5")));
    assert_eq!(summary(&msgs), vec!["workloadEndpointUpdate wep/x/a"]);
    let DataplaneMessage::WorkloadEndpointUpdate { endpoint, .. } = &msgs[0] else {
        panic!("expected an endpoint update");
    };
    let names: Vec<String> = endpoint.tiers[0]
        .ingress_policies
        .iter()
        .map(|p| p.policy.to_string())
        .collect();
    assert_eq!(names, vec!["np/x/second", "np/x/allow-db"]);
}

#[test]
fn shared_address_stays_a_member_until_its_last_owner_goes() {
    let (mut g, mut dp) = setup();
    // A network set with pod b's address, labelled like b.
    let msgs = step(
        &mut g,
        &mut dp,
        upserts(
            r#"
apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata: {name: also-b, namespace: x, labels: {app: db}}
spec: {nets: [10.0.0.2/32, 10.9.0.0/16]}
"#,
        ),
    );
    assert_eq!(summary(&msgs), vec!["ipSetDeltaUpdate +[10.9.0.0/16] -[]"]);
    let msgs = step(
        &mut g,
        &mut dp,
        vec![Update::Delete(ResourceKey::new(
            "WorkloadEndpoint",
            "x",
            "node-2-k8s-b-eth0",
        ))],
    );
    assert_eq!(summary(&msgs), Vec::<String>::new());
    let msgs = step(
        &mut g,
        &mut dp,
        vec![Update::Delete(ResourceKey::new(
            "NetworkSet",
            "x",
            "also-b",
        ))],
    );
    assert_eq!(
        summary(&msgs),
        vec!["ipSetDeltaUpdate +[] -[10.0.0.2/32,10.9.0.0/16]"]
    );
}

#[test]
fn deleting_the_last_local_user_removes_in_contract_order() {
    let (mut g, mut dp) = setup();
    let msgs = step(
        &mut g,
        &mut dp,
        vec![
            Update::Delete(ResourceKey::new(
                "WorkloadEndpoint",
                "x",
                "node-1-k8s-a-eth0",
            )),
            Update::Delete(ResourceKey::new(
                "WorkloadEndpoint",
                "x",
                "node-1-k8s-d-eth0",
            )),
        ],
    );
    assert_eq!(
        summary(&msgs),
        vec![
            "workloadEndpointRemove wep/x/a",
            "workloadEndpointRemove wep/x/d",
            "activePolicyRemove np/x/allow-db",
            "activeProfileRemove kns.x",
            "activeProfileRemove ksa.x.default",
            "ipSetRemove",
            "routeRemove 10.0.0.1/32",
            "routeRemove 10.0.0.4/32",
        ]
    );
    assert!(dp.endpoints.is_empty() && dp.policies.is_empty() && dp.ip_sets.is_empty());
}

#[test]
fn namespace_label_change_moves_members_between_namespace_selector_sets() {
    let (mut g, mut dp) = setup();
    step(
        &mut g,
        &mut dp,
        upserts(
            r#"
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: from-prod}
spec:
  selector: app == 'web'
  ingress:
  - action: Allow
    source: {namespaceSelector: env == 'prod'}
"#,
        ),
    );
    let before = dp.ip_sets.values().map(|s| s.members.len()).sum::<usize>();
    let msgs = step(
        &mut g,
        &mut dp,
        upserts(
            r#"
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {env: dev}}
"#,
        ),
    );
    assert_eq!(
        summary(&msgs),
        vec!["ipSetDeltaUpdate +[] -[10.0.0.1/32,10.0.0.2/32,10.0.0.3/32,10.0.0.4/32]"]
    );
    assert_eq!(
        dp.ip_sets.values().map(|s| s.members.len()).sum::<usize>(),
        before - 4
    );
}

/// At scale (1,000 remote endpoints, 200 active policies with distinct rule selectors), one
/// pod's label change sends exactly the two deltas it causes.
#[test]
fn one_label_change_among_a_thousand_endpoints_sends_two_deltas() {
    let mut g = CalcGraph::new("node-1");
    let mut dp = DataplaneState::default();
    let mut snap = vec![Update::Upsert(wep(
        "x",
        "local",
        "node-1",
        "10.1.0.1",
        &[("app", "web")],
    ))];
    for i in 0..1000u32 {
        let ip = format!("10.2.{}.{}", i / 250, i % 250 + 1);
        let grp = (i % 200).to_string();
        snap.push(Update::Upsert(wep(
            "x",
            &format!("p{i}"),
            "node-2",
            &ip,
            &[("grp", &grp)],
        )));
    }
    for p in 0..200 {
        snap.extend(upserts(&format!(
            r#"
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {{name: pol{p}, namespace: x}}
spec:
  selector: app == 'web'
  ingress:
  - action: Allow
    source: {{selector: grp == '{p}'}}
"#
        )));
    }
    snap.push(Update::InSync);
    step(&mut g, &mut dp, snap);
    assert_eq!(dp.ip_sets.len(), 200);
    // p7 moves from group 7 to group 8.
    let msgs = step(
        &mut g,
        &mut dp,
        vec![Update::Upsert(wep(
            "x",
            "p7",
            "node-2",
            "10.2.0.8",
            &[("grp", "8")],
        ))],
    );
    let mut got = summary(&msgs);
    got.sort();
    assert_eq!(
        got,
        vec![
            "ipSetDeltaUpdate +[10.2.0.8/32] -[]",
            "ipSetDeltaUpdate +[] -[10.2.0.8/32]",
        ]
    );
}
