//! One focused test per semantic of issue 5 point 1 / inventory §3.7 and §4, on a small
//! cluster: two namespaces, four pods, a host endpoint, and an outside address.

use std::net::IpAddr;

use calico_api::{Protocol, Resource, codec};
use calico_policy::{
    Model, Packet, Step, endpoint_from_resource, evaluate, explain, policy_from_resource,
};

const BASE: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: ns1, labels: {team: red}}
---
apiVersion: v1
kind: Namespace
metadata: {name: ns2, labels: {team: blue}}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: host1, labels: {host: "true"}}
spec: {node: node1, interfaceName: eth0, expectedIPs: [192.168.0.1], profiles: [open-host]}
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: open-host}
spec:
  ingress: [{action: Allow}]
  egress: [{action: Allow}]
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: bare}
spec: {node: node1, interfaceName: eth9, expectedIPs: [192.168.0.9]}
"#;

/// ns1/web 10.1.0.1 (app=web, sa web-sa, http=TCP 8080, dns=UDP 53), ns1/client 10.1.0.2,
/// ns2/db 10.2.0.1 (app=db, sa db-sa, http=TCP 9090), ns2/client 10.2.0.2 (sa client-sa).
fn pods() -> String {
    let pod = |ns: &str, name: &str, ip: &str, app: &str, sa: &str, ports: &str| {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}, labels: \
             {{app: {app}}}}}\nspec:\n  nodeName: node1\n  serviceAccountName: {sa}\n  \
             containers:\n  - name: c\n    ports: [{ports}]\nstatus: {{phase: Running, podIP: \
             {ip}}}\n"
        )
    };
    [
        pod(
            "ns1",
            "web",
            "10.1.0.1",
            "web",
            "web-sa",
            "{name: http, containerPort: 8080}, {name: dns, containerPort: 53, protocol: UDP}",
        ),
        pod("ns1", "client", "10.1.0.2", "client", "client-sa", ""),
        pod(
            "ns2",
            "db",
            "10.2.0.1",
            "db",
            "db-sa",
            "{name: http, containerPort: 9090}",
        ),
        pod("ns2", "client", "10.2.0.2", "client", "client-sa", ""),
    ]
    .concat()
}

const WEB: &str = "10.1.0.1";
const CLIENT1: &str = "10.1.0.2";
const DB: &str = "10.2.0.1";
const CLIENT2: &str = "10.2.0.2";
/// A host endpoint with an allow-all profile.
const HOST: &str = "192.168.0.1";
/// A host endpoint without profiles.
const BARE_HOST: &str = "192.168.0.9";
const OUTSIDE: &str = "172.16.0.1";

fn model(policies: &str) -> Model {
    let yaml = format!("{BASE}{}\n---\n{policies}", pods());
    Model::from_yaml(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

/// `(allowed, deciding rule)` for a TCP/UDP/SCTP packet.
fn flow(m: &Model, src: &str, dst: &str, proto: Protocol, port: u16) -> (bool, String) {
    let v = evaluate(m, &Packet::ports(ip(src), ip(dst), proto, port));
    (v.allowed, v.deciding.to_string())
}

fn tcp(m: &Model, src: &str, dst: &str, port: u16) -> (bool, String) {
    flow(m, src, dst, Protocol::Tcp, port)
}

fn allowed(r: (bool, String)) -> bool {
    r.0
}

#[test]
fn ipblock_with_except() {
    let m = model(
        "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ipb, namespace: ns1}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.2.0.0/16]}
",
    );
    assert_eq!(
        tcp(&m, CLIENT1, WEB, 80),
        (
            true,
            "tier/default/policy/knp/ns1/ipb/ingress/0".to_string()
        )
    );
    assert_eq!(
        tcp(&m, CLIENT2, WEB, 80),
        (false, "tier/default/end-of-tier-deny".to_string())
    );
    assert!(!allowed(tcp(&m, OUTSIDE, WEB, 80)));
    // Not scoped to the namespace: an ipBlock peer is just addresses.
    assert!(allowed(tcp(&m, "10.9.9.9", WEB, 80)));
}

#[test]
fn named_ports_resolve_per_endpoint() {
    let m = model(
        "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: http-in, namespace: ns1}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - ports: [{port: http}, {protocol: UDP, port: dns}]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: clients-to-db-http}
spec:
  selector: app == 'client' && projectcalico.org/namespace == 'ns2'
  types: [Egress]
  egress:
  - action: Allow
    destination: {selector: app == 'db', ports: [http]}
",
    );
    assert!(allowed(tcp(&m, CLIENT1, WEB, 8080)));
    assert!(!allowed(tcp(&m, CLIENT1, WEB, 9090)));
    assert!(allowed(flow(&m, CLIENT1, WEB, Protocol::Udp, 53)));
    assert!(!allowed(flow(&m, CLIENT1, WEB, Protocol::Udp, 8080)));
    // Egress: "http" is 9090 on db; the web pod's http (8080) is not selected.
    assert!(allowed(tcp(&m, CLIENT2, DB, 9090)));
    assert!(!allowed(tcp(&m, CLIENT2, DB, 8080)));
    assert!(!allowed(tcp(&m, CLIENT2, WEB, 8080)));
}

#[test]
fn end_port_is_an_inclusive_range() {
    let m = model(
        "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: range, namespace: ns1}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: 8000, endPort: 8080}]
",
    );
    for (port, ok) in [
        (7999, false),
        (8000, true),
        (8040, true),
        (8080, true),
        (8081, false),
    ] {
        assert_eq!(allowed(tcp(&m, CLIENT2, WEB, port)), ok, "port {port}");
    }
}

#[test]
fn empty_selectors() {
    let m = model(
        "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: same-ns, namespace: ns1}
spec:
  podSelector: {}
  ingress:
  - from: [{podSelector: {}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: any-ns, namespace: ns2}
spec:
  podSelector: {}
  ingress:
  - from: [{namespaceSelector: {}}]
",
    );
    // Empty podSelector: every pod of the policy's namespace, only there.
    assert!(allowed(tcp(&m, CLIENT1, WEB, 80)));
    assert!(!allowed(tcp(&m, CLIENT2, WEB, 80)));
    // Empty namespaceSelector: pods of every namespace, but not hosts or outside addresses.
    assert!(allowed(tcp(&m, CLIENT1, DB, 80)));
    assert!(allowed(tcp(&m, CLIENT2, DB, 80)));
    assert!(!allowed(tcp(&m, HOST, DB, 80)));
    assert!(!allowed(tcp(&m, OUTSIDE, DB, 80)));

    // A GNP with an empty selector selects every endpoint, host endpoints included.
    let m = model(
        "
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: everything}
spec:
  ingress: [{action: Deny, source: {nets: [172.16.0.0/12]}}, {action: Allow}]
",
    );
    assert!(!allowed(tcp(&m, OUTSIDE, HOST, 22)));
    assert!(!allowed(tcp(&m, OUTSIDE, WEB, 80)));
    assert!(allowed(tcp(&m, "10.9.9.9", HOST, 22)));
}

#[test]
fn policy_types_defaulting() {
    // Kubernetes: no policyTypes, egress rules → Ingress and Egress, also when the resource
    // skipped defaulting (from_resources on raw documents).
    let k8s = "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-dns, namespace: ns1}
spec:
  podSelector: {matchLabels: {app: client}}
  egress:
  - ports: [{protocol: UDP, port: 53}]
";
    let m = model(k8s);
    assert!(allowed(flow(&m, CLIENT1, DB, Protocol::Udp, 53)));
    assert!(!allowed(tcp(&m, CLIENT1, DB, 80)));
    assert!(!allowed(tcp(&m, WEB, CLIENT1, 80)), "ingress isolated too");
    let raw: Vec<Resource> = codec::decode_all(&format!("{BASE}{}---\n{k8s}", pods()))
        .expect("decode")
        .into_iter()
        .map(|(_, r)| r.expect("resource"))
        .collect();
    let m = Model::from_resources(&raw).expect("model");
    assert!(!allowed(tcp(&m, CLIENT1, DB, 80)), "egress applies");
    assert!(!allowed(tcp(&m, WEB, CLIENT1, 80)), "ingress applies");

    // Calico: egress rules only → Egress only; no rules at all → Ingress.
    let m = model(
        "
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: egress-only, namespace: ns1}
spec:
  selector: app == 'web'
  egress: [{action: Deny}]
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: no-rules, namespace: ns2}
spec:
  selector: app == 'db'
",
    );
    assert!(!allowed(tcp(&m, WEB, DB, 80)));
    assert!(
        allowed(tcp(&m, CLIENT1, WEB, 80)),
        "web's ingress is left alone"
    );
    assert!(
        allowed(tcp(&m, DB, CLIENT2, 80)),
        "db's egress is left alone"
    );
    assert!(
        !allowed(tcp(&m, CLIENT2, DB, 80)),
        "db's ingress is isolated"
    );
}

#[test]
fn staged_policies_are_traced_never_enforced() {
    let m = model(
        "
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: t1}
spec: {order: 10}
---
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata: {name: t1.deny}
spec:
  tier: t1
  ingress: [{action: Deny}]
",
    );
    let v = evaluate(&m, &Packet::ports(ip(CLIENT1), ip(WEB), Protocol::Tcp, 80));
    assert!(v.allowed);
    assert_eq!(v.deciding.as_str(), "profile/kns.ns1/ingress/0");
    let steps = &v.ingress.as_ref().expect("ingress").steps;
    assert!(steps.iter().any(|s| matches!(
        s,
        Step::StagedIgnored { id, .. } if id.as_str() == "tier/t1/policy/sgnp/t1.deny/ingress/0"
    )));
    // A tier holding only staged policies has no end-of-tier action.
    assert!(!steps.iter().any(|s| matches!(s, Step::EndOfTier { .. })));
}

#[test]
fn namespace_selectors_at_policy_and_rule_level() {
    let m = model(
        "
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: red-from-blue}
spec:
  namespaceSelector: team == 'red'
  ingress:
  - action: Allow
    source: {namespaceSelector: team == 'blue'}
  - action: Allow
    protocol: TCP
    destination: {ports: [22]}
    source: {namespaceSelector: global()}
",
    );
    assert!(allowed(tcp(&m, CLIENT2, WEB, 80)));
    assert!(!allowed(tcp(&m, CLIENT1, WEB, 80)));
    assert!(allowed(tcp(&m, CLIENT1, DB, 80)), "ns2 is not selected");
    // global(): non-namespaced Calico objects only (the host endpoint).
    assert!(allowed(tcp(&m, HOST, WEB, 22)));
    assert!(!allowed(tcp(&m, OUTSIDE, WEB, 22)));
}

#[test]
fn service_account_selectors() {
    let m = model(
        "
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: web-sa-only, namespace: ns1}
spec:
  serviceAccountSelector: projectcalico.org/name == 'web-sa'
  ingress:
  - action: Allow
    source:
      serviceAccounts: {names: [client-sa]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: every-sa}
spec:
  serviceAccountSelector: all()
  types: [Egress]
  egress:
  - action: Deny
    destination: {nets: [172.16.0.0/12]}
  - action: Allow
",
    );
    assert!(allowed(tcp(&m, CLIENT1, WEB, 80)));
    // In a namespaced policy the service-account match is scoped to its namespace.
    assert!(!allowed(tcp(&m, CLIENT2, WEB, 80)));
    assert!(!allowed(tcp(&m, DB, WEB, 80)));
    assert!(allowed(tcp(&m, WEB, CLIENT1, 80)), "client is not selected");
    // serviceAccountSelector all(): every pod (they have a service account), not the host.
    assert!(!allowed(tcp(&m, DB, OUTSIDE, 80)));
    assert!(allowed(tcp(&m, CLIENT1, DB, 80)));
    let hep_egress = evaluate(&m, &Packet::ports(ip(HOST), ip(OUTSIDE), Protocol::Tcp, 80));
    assert_eq!(hep_egress.deciding.as_str(), "profile/open-host/egress/0");
}

#[test]
fn nets_and_not_nets_on_both_sides() {
    let m = model(
        "
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: nets}
spec:
  selector: app == 'client'
  types: [Egress]
  egress:
  - action: Allow
    source: {notNets: [10.2.0.0/16]}
    destination: {nets: [10.2.0.0/16, 172.16.0.0/12], notNets: [172.16.0.0/24]}
",
    );
    assert!(allowed(tcp(&m, CLIENT1, DB, 80)));
    assert!(!allowed(tcp(&m, CLIENT2, DB, 80)), "source in notNets");
    assert!(
        !allowed(tcp(&m, CLIENT1, WEB, 80)),
        "destination not in nets"
    );
    assert!(
        !allowed(tcp(&m, CLIENT1, OUTSIDE, 80)),
        "destination in notNets"
    );
    assert!(allowed(tcp(&m, CLIENT1, "172.17.0.1", 80)));
}

#[test]
fn network_set_members_are_selectable() {
    let m = model(
        "
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: partners, labels: {role: partner}}
spec: {nets: [172.16.0.0/24]}
---
apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata: {name: backups, namespace: ns2, labels: {role: backup}}
spec: {nets: [198.51.100.0/24]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: web-in}
spec:
  selector: app == 'web'
  ingress:
  - action: Allow
    source: {selector: role == 'partner'}
  - action: Allow
    source: {namespaceSelector: team == 'blue', selector: role == 'backup'}
",
    );
    assert!(
        allowed(tcp(&m, OUTSIDE, WEB, 80)),
        "GlobalNetworkSet member"
    );
    assert!(
        allowed(tcp(&m, "198.51.100.7", WEB, 80)),
        "NetworkSet of a blue namespace"
    );
    assert!(!allowed(tcp(&m, "203.0.113.1", WEB, 80)));
}

#[test]
fn selector_and_not_selector_against_non_calico_peers() {
    let m = model(
        "
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: web-in}
spec:
  selector: app == 'web'
  ingress:
  - action: Deny
    source: {selector: \"!has(host)\"}
    protocol: UDP
  - action: Allow
    source: {notSelector: has(app)}
",
    );
    // notSelector: anything that is not an endpoint with `app`, outside addresses included.
    assert!(allowed(tcp(&m, OUTSIDE, WEB, 80)));
    assert!(allowed(tcp(&m, HOST, WEB, 80)));
    assert!(!allowed(tcp(&m, CLIENT1, WEB, 80)));
    // selector "!has(host)": only Calico endpoints lacking the label, never outside ones.
    assert_eq!(
        flow(&m, CLIENT1, WEB, Protocol::Udp, 53).1,
        "tier/default/policy/gnp/web-in/ingress/0"
    );
    assert_eq!(
        flow(&m, OUTSIDE, WEB, Protocol::Udp, 53).1,
        "tier/default/policy/gnp/web-in/ingress/1"
    );
}

#[test]
fn ports_and_not_ports() {
    let m = model(
        "
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: ports, namespace: ns1}
spec:
  selector: app == 'web'
  ingress:
  - action: Allow
    protocol: TCP
    destination: {ports: ['8000:8100', 443, http], notPorts: [8050, dns]}
",
    );
    for (port, ok) in [
        (443, true),
        (8000, true),
        (8050, false),
        (8080, true),
        (8101, false),
    ] {
        assert_eq!(allowed(tcp(&m, CLIENT1, WEB, port)), ok, "port {port}");
    }
}

#[test]
fn protocols_by_name_and_number() {
    let m = model(
        "
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: protos, namespace: ns1}
spec:
  selector: app == 'web'
  ingress:
  - action: Allow
    protocol: 6
    destination: {ports: [80]}
  - action: Allow
    protocol: sctp
  - action: Deny
    notProtocol: UDP
  - action: Allow
    protocol: 17
",
    );
    assert_eq!(
        tcp(&m, CLIENT1, WEB, 80).1,
        "tier/default/policy/np/ns1/protos/ingress/0"
    );
    assert_eq!(
        flow(&m, CLIENT1, WEB, Protocol::Sctp, 80).1,
        "tier/default/policy/np/ns1/protos/ingress/1"
    );
    assert_eq!(
        tcp(&m, CLIENT1, WEB, 81).1,
        "tier/default/policy/np/ns1/protos/ingress/2"
    );
    assert_eq!(
        flow(&m, CLIENT1, WEB, Protocol::Udp, 81).1,
        "tier/default/policy/np/ns1/protos/ingress/3"
    );
    let v = evaluate(
        &m,
        &Packet::ports(ip(CLIENT1), ip(WEB), Protocol::Number(17), 81),
    );
    assert_eq!(
        v.deciding.as_str(),
        "tier/default/policy/np/ns1/protos/ingress/3"
    );
}

#[test]
fn icmp_type_code_and_ip_version() {
    let m = model(
        "
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: icmp, namespace: ns1}
spec:
  selector: app == 'web'
  ingress:
  - action: Deny
    protocol: ICMP
    icmp: {type: 8, code: 1}
  - action: Allow
    protocol: ICMP
    notICMP: {type: 13}
  - action: Allow
    ipVersion: 6
",
    );
    let ping = |code: u8, ty: u8| {
        let mut p = Packet::ping(ip(CLIENT1), ip(WEB));
        p.icmp_type = Some(ty);
        p.icmp_code = Some(code);
        evaluate(&m, &p).deciding.to_string()
    };
    assert_eq!(ping(1, 8), "tier/default/policy/np/ns1/icmp/ingress/0");
    assert_eq!(ping(0, 8), "tier/default/policy/np/ns1/icmp/ingress/1");
    assert_eq!(ping(0, 13), "tier/default/end-of-tier-deny");
    // ipVersion 6 does not match an IPv4 packet.
    assert_eq!(tcp(&m, CLIENT1, WEB, 80).1, "tier/default/end-of-tier-deny");
}

#[test]
fn log_continues_and_pass_skips_to_the_next_tier_or_the_profiles() {
    let m = model(
        "
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: first}
spec: {order: 10}
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: second}
spec: {order: 20}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: first.log-pass}
spec:
  tier: first
  selector: app == 'web'
  ingress: [{action: Log}, {action: Pass}]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: second.pass-ns1}
spec:
  tier: second
  selector: app == 'web'
  ingress:
  - action: Pass
    source: {namespaceSelector: team == 'red'}
  - action: Deny
",
    );
    // Passed by both tiers: the profiles decide.
    assert_eq!(
        tcp(&m, CLIENT1, WEB, 80),
        (true, "profile/kns.ns1/ingress/0".into())
    );
    assert_eq!(
        tcp(&m, CLIENT2, WEB, 80),
        (
            false,
            "tier/second/policy/gnp/second.pass-ns1/ingress/1".into()
        )
    );
    let v = evaluate(&m, &Packet::ports(ip(CLIENT1), ip(WEB), Protocol::Tcp, 80));
    let text = explain::render(
        &m,
        &Packet::ports(ip(CLIENT1), ip(WEB), Protocol::Tcp, 80),
        &v,
        "ns1/client",
        "ns1/web",
    );
    assert!(
        text.contains("matched: log, then continue with the next rule"),
        "{text}"
    );
    assert!(
        text.contains("matched: pass: skip the rest of this tier"),
        "{text}"
    );
    assert!(text.contains("  tier second\n"), "{text}");
}

#[test]
fn end_of_tier_deny_only_when_a_policy_of_the_tier_selected_the_endpoint() {
    let m = model(
        "
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: strict}
spec: {order: 10}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: strict.db-only}
spec:
  tier: strict
  selector: app == 'db'
  ingress: [{action: Deny, source: {nets: [10.1.0.0/16]}}]
",
    );
    let v = evaluate(&m, &Packet::ports(ip(CLIENT2), ip(WEB), Protocol::Tcp, 80));
    assert!(v.allowed);
    let steps = &v.ingress.as_ref().expect("ingress").steps;
    assert!(
        !steps.iter().any(|s| matches!(s, Step::EnterTier { .. })),
        "the tier does not appear: {steps:?}"
    );
    assert_eq!(
        tcp(&m, CLIENT2, DB, 80),
        (false, "tier/strict/end-of-tier-deny".into())
    );
    assert_eq!(
        tcp(&m, CLIENT1, DB, 80),
        (
            false,
            "tier/strict/policy/gnp/strict.db-only/ingress/0".into()
        )
    );
}

#[test]
fn profiles_decide_when_no_tier_did() {
    let m = model(
        "
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: quiet}
spec:
  ingress: [{action: Pass}, {action: Deny, protocol: UDP}]
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: open}
spec:
  ingress: [{action: Allow}]
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: host2}
spec: {node: node1, interfaceName: eth1, expectedIPs: [192.168.0.2], profiles: [quiet, open]}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: host3}
spec: {node: node1, interfaceName: eth2, expectedIPs: [192.168.0.3], profiles: [gone, open]}
",
    );
    // Pass in a profile ends that profile; the next one allows.
    assert_eq!(
        flow(&m, OUTSIDE, "192.168.0.2", Protocol::Udp, 53),
        (true, "profile/open/ingress/0".into())
    );
    // A missing profile denies everything (fail closed).
    assert_eq!(
        tcp(&m, OUTSIDE, "192.168.0.3", 80),
        (false, "profile/gone/missing-deny".into())
    );
    // No profile at all: nothing allowed it.
    assert_eq!(
        tcp(&m, OUTSIDE, BARE_HOST, 80),
        (false, "no-profile-deny".into())
    );
}

#[test]
fn ties_in_order_break_on_name_namespace_kind_as_one_string() {
    let m = model(
        "
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: a, namespace: ns1}
spec: {order: 5, selector: app == 'web', ingress: [{action: Allow}]}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: a-b, namespace: ns1}
spec: {order: 5, selector: app == 'web', ingress: [{action: Deny}]}
",
    );
    // \"a-b/ns1/...\" < \"a/ns1/...\" because '-' sorts before '/'.
    assert_eq!(
        tcp(&m, CLIENT1, WEB, 80).1,
        "tier/default/policy/np/ns1/a-b/ingress/0"
    );
}

#[test]
fn single_resource_builders() {
    let docs = codec::decode_all(&pods()).expect("decode");
    let (_, first) = docs.into_iter().next().expect("one");
    let pod = first.expect("pod");
    let ep = endpoint_from_resource(&pod).expect("endpoint");
    assert_eq!(ep.id.to_string(), "wep/ns1/web");
    assert_eq!(ep.profiles, vec!["kns.ns1", "ksa.ns1.web-sa"]);
    assert_eq!(ep.ports.len(), 2);
    let np = codec::decode_all(
        "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p, namespace: ns1}\nspec: {selector: app == 'web'}\n",
    )
    .expect("decode");
    let (_, r) = np.into_iter().next().expect("one");
    let p = policy_from_resource(&r.expect("np"))
        .expect("valid")
        .expect("a policy");
    assert_eq!(p.key.to_string(), "np/ns1/p");
    assert!(policy_from_resource(&pod).expect("ok").is_none());
}
