//! Focused checks of scoping (inventory §3.8's worked examples) and of rule matching.

use calico_api::{EntityRule, Protocol, ServiceAccountMatch};
use calico_policy::scope::{entity_selectors, global_policy_selector, namespaced_policy_selector};
use calico_policy::{Model, Packet, evaluate};
use calico_selector::Selector;

fn canon(s: &str) -> String {
    Selector::parse(s).expect("selector").to_string()
}

#[test]
fn policy_selectors_are_scoped_as_calico_does() {
    let s = namespaced_policy_selector("projectcalico.org/orchestrator == 'k8s'", "default", "")
        .expect("sel");
    assert_eq!(
        s.to_string(),
        canon(
            "(projectcalico.org/orchestrator == 'k8s') && projectcalico.org/namespace == 'default'"
        )
    );
    let s = namespaced_policy_selector("", "namespace1", "").expect("sel");
    assert_eq!(
        s.to_string(),
        canon("projectcalico.org/namespace == 'namespace1'")
    );
    let s = global_policy_selector("projectcalico.org/orchestrator == 'k8s'", "all()", "")
        .expect("sel");
    assert_eq!(
        s.to_string(),
        canon("(projectcalico.org/orchestrator == 'k8s') && has(projectcalico.org/namespace)")
    );
    let s = global_policy_selector("", "", "role == 'x'").expect("sel");
    assert_eq!(s.to_string(), canon("pcsa.role == 'x'"));
}

#[test]
fn entity_selectors_are_scoped_as_calico_does() {
    let e = EntityRule {
        selector: "mylabel == 'value1'".into(),
        ..EntityRule::default()
    };
    let (sel, not) = entity_selectors(&e, Some("namespace2")).expect("sel");
    assert_eq!(
        sel.expect("positive").to_string(),
        canon("(projectcalico.org/namespace == 'namespace2') && (mylabel == 'value1')")
    );
    assert!(not.is_none());

    // Only notSelector: the positive side becomes the own namespace.
    let e = EntityRule {
        not_selector: "has(label2)".into(),
        ..EntityRule::default()
    };
    let (sel, not) = entity_selectors(&e, Some("namespace2")).expect("sel");
    assert_eq!(
        sel.expect("positive").to_string(),
        canon("projectcalico.org/namespace == 'namespace2'")
    );
    assert_eq!(not.expect("negative").to_string(), canon("has(label2)"));

    // Only nets: no namespace restriction.
    let e = EntityRule {
        nets: vec!["10.0.0.0/8".into()],
        ..EntityRule::default()
    };
    assert_eq!(entity_selectors(&e, Some("ns")).expect("sel"), (None, None));

    // A GNP rule's namespaceSelector is prefixed.
    let e = EntityRule {
        namespace_selector: "namespacelabel1 == 'value1'".into(),
        ..EntityRule::default()
    };
    let (sel, _) = entity_selectors(&e, None).expect("sel");
    assert_eq!(
        sel.expect("positive").to_string(),
        canon("pcns.namespacelabel1 == 'value1'")
    );

    // global() means non-namespaced things only; all() means namespaced things.
    let e = EntityRule {
        namespace_selector: "global()".into(),
        ..EntityRule::default()
    };
    let (sel, _) = entity_selectors(&e, Some("ns")).expect("sel");
    assert_eq!(
        sel.expect("positive").to_string(),
        canon("!has(projectcalico.org/namespace)")
    );

    // Service accounts: names ORed, ANDed with the pcsa.-prefixed selector, then the selector.
    let e = EntityRule {
        selector: "app == 'db'".into(),
        service_accounts: Some(ServiceAccountMatch {
            names: vec!["b".into(), "a".into()],
            selector: "team == 'red'".into(),
        }),
        ..EntityRule::default()
    };
    let (sel, _) = entity_selectors(&e, None).expect("sel");
    assert_eq!(
        sel.expect("positive").to_string(),
        canon(
            "((projectcalico.org/serviceaccount in {'a', 'b'}) && (pcsa.team == 'red')) && (app == 'db')"
        )
    );
}

const CLUSTER: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: ns1, labels: {team: red}}
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node1-k8s-web-eth0, namespace: ns1, labels: {app: web}}
spec:
  orchestrator: k8s
  node: node1
  pod: web
  endpoint: eth0
  interfaceName: cali0123456789a
  serviceAccountName: websa
  ipNetworks: [10.1.0.1/32, "fd00::1/128"]
  profiles: [kns.ns1, ksa.ns1.websa]
  ports:
  - {name: http, protocol: TCP, port: 8080}
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node1-k8s-orphan-eth0, namespace: ns1}
spec:
  orchestrator: k8s
  node: node1
  pod: orphan
  endpoint: eth0
  interfaceName: cali0123456789b
  ipNetworks: [10.1.0.2/32]
  profiles: [kns.missing]
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: node1-eth0, labels: {host: "true"}}
spec:
  node: node1
  interfaceName: eth0
  expectedIPs: [192.168.0.1]
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: web}
spec:
  selector: app == 'web'
  ingress:
  - action: Deny
    protocol: TCP
    notProtocol: UDP
    source: {notNets: [10.9.0.0/16], selector: host == 'true'}
    destination: {notPorts: [22]}
  - action: Allow
    ipVersion: 6
  - action: Allow
    protocol: TCP
    source: {namespaceSelector: global()}
    destination: {ports: [http]}
  - action: Allow
    source: {serviceAccounts: {names: [other]}}
"#;

fn v4(s: &str) -> std::net::IpAddr {
    s.parse().expect("ip")
}

#[test]
fn weps_heps_named_ports_and_profiles() {
    let model = Model::from_yaml(CLUSTER).expect("model");
    let web = model.endpoint_for_ip(v4("10.1.0.1")).expect("web");
    assert_eq!(web.labels.get("pcns.team").map(String::as_str), Some("red"));
    assert_eq!(
        web.labels
            .get("pcsa.projectcalico.org/name")
            .map(String::as_str),
        Some("websa")
    );
    assert_eq!(
        web.labels
            .get("projectcalico.org/serviceaccount")
            .map(String::as_str),
        Some("websa")
    );

    // From the HEP to port 80: rule 0 (Deny, host selector) matches.
    let v = evaluate(
        &model,
        &Packet::ports(v4("192.168.0.1"), v4("10.1.0.1"), Protocol::Tcp, 80),
    );
    assert!(!v.allowed);
    assert_eq!(
        v.ingress.as_ref().map(|t| t.deciding.as_str()),
        Some("tier/default/policy/gnp/web/ingress/0")
    );
    // The HEP has no policy and no profiles: its egress ends in no-profile-deny, and the
    // denying egress side is what the verdict reports.
    assert_eq!(v.deciding.as_str(), "no-profile-deny");

    // Port 22 is excluded by notPorts; the HEP is non-namespaced so global() matches, but
    // port 22 is not the named port http: end of tier.
    let v = evaluate(
        &model,
        &Packet::ports(v4("10.200.0.1"), v4("10.1.0.1"), Protocol::Tcp, 22),
    );
    assert_eq!(v.deciding.as_str(), "tier/default/end-of-tier-deny");

    // An outside address to the named port: global() does not match (no Calico object owns
    // 10.200.0.1), so still end of tier.
    let v = evaluate(
        &model,
        &Packet::ports(v4("10.200.0.1"), v4("10.1.0.1"), Protocol::Tcp, 8080),
    );
    assert_eq!(v.deciding.as_str(), "tier/default/end-of-tier-deny");

    // IPv6 is allowed by the ipVersion rule.
    let v = evaluate(
        &model,
        &Packet::ports(v4("fd00::9"), v4("fd00::1"), Protocol::Udp, 53),
    );
    assert!(v.allowed);
    assert_eq!(v.deciding.as_str(), "tier/default/policy/gnp/web/ingress/1");

    // The orphan endpoint references a missing profile: fail closed.
    let v = evaluate(
        &model,
        &Packet::ports(v4("10.200.0.1"), v4("10.1.0.2"), Protocol::Tcp, 80),
    );
    assert!(!v.allowed);
    assert_eq!(v.deciding.as_str(), "profile/kns.missing/missing-deny");

    // Neither end is a Calico endpoint.
    let v = evaluate(
        &model,
        &Packet::ports(v4("1.1.1.1"), v4("2.2.2.2"), Protocol::Tcp, 80),
    );
    assert!(v.allowed);
    assert_eq!(v.deciding.as_str(), "not-calico-endpoint");
}
