//! Validation and defaulting of the policy-related Calico kinds: NetworkPolicy,
//! GlobalNetworkPolicy, the staged kinds, Tier, NetworkSet, GlobalNetworkSet, HostEndpoint,
//! WorkloadEndpoint and Profile (cases restated from Calico's validator tests, plus the CEL
//! rules of the CRDs and the defaulting of `api/pkg/defaults`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use calico_api::{
    GlobalNetworkPolicy, NetworkPolicy, PolicyType, Resource, StagedAction, StagedNetworkPolicy,
    Tier, WorkloadEndpoint,
};
use common::check_table;
use serde_json::{Value, json};

fn doc(kind: &str, metadata: Value, spec: Value) -> Value {
    json!({"apiVersion": "projectcalico.org/v3", "kind": kind, "metadata": metadata, "spec": spec})
}

fn np(name: &str, spec: Value) -> Value {
    doc(
        "NetworkPolicy",
        json!({"name": name, "namespace": "ns"}),
        spec,
    )
}

fn gnp(name: &str, spec: Value) -> Value {
    doc("GlobalNetworkPolicy", json!({"name": name}), spec)
}

#[test]
fn policy_names() {
    check_table(vec![
        ("np simple", np("thing", json!({})), None),
        (
            "np tiered",
            np("tier1.thing", json!({"tier": "tier1"})),
            None,
        ),
        ("np k8s prefix", np("knp.default.thing", json!({})), None),
        (
            "np dots",
            np("t.h.i.ng", json!({})),
            Some(("metadata.name", "not a valid name")),
        ),
        (
            "np mixed case",
            np("tHiNg", json!({})),
            Some(("metadata.name", "not a valid name")),
        ),
        ("gnp simple", gnp("thing", json!({})), None),
        (
            "gnp tiered",
            gnp("tier1.thing", json!({"tier": "tier1"})),
            None,
        ),
        (
            "gnp k8s prefix",
            gnp("knp.default.thing", json!({})),
            Some(("metadata.name", "")),
        ),
        (
            "gnp dots",
            gnp("t.h.i.ng", json!({})),
            Some(("metadata.name", "")),
        ),
        (
            "gnp bad chars",
            gnp("t~!s.h.i.ng", json!({})),
            Some(("metadata.name", "")),
        ),
        (
            "gnp mixed case",
            gnp("tHiNg", json!({})),
            Some(("metadata.name", "")),
        ),
        (
            "bad tier name",
            gnp("thing", json!({"tier": "Tier!"})),
            Some(("spec.tier", "not a valid name")),
        ),
    ]);
}

#[test]
fn policy_types_and_selectors() {
    let only_ns = "global() can only be used in an EntityRule namespaceSelector";
    let mut table = vec![];
    for (label, make) in [("np", np as fn(&str, Value) -> Value), ("gnp", gnp)] {
        table.extend([
            (label, make("t", json!({})), None),
            (label, make("t", json!({"types": []})), None),
            (label, make("t", json!({"types": ["Ingress"]})), None),
            (label, make("t", json!({"types": ["Egress"]})), None),
            (label, make("t", json!({"types": ["Ingress", "Egress"]})), None),
            // Types need not match the rules present (upgrade path from type-less policies).
            (label, make("t", json!({"ingress": [{"action": "Allow"}], "types": ["Egress"]})), None),
            (label, make("t", json!({"egress": [{"action": "Allow"}], "types": ["Ingress"]})), None),
            (
                label,
                make("t", json!({"types": ["Egress", "Egress"]})),
                Some(("spec.types", "'Egress' type specified more than once")),
            ),
            (
                label,
                make("t", json!({"selector": "global()"})),
                Some(("spec.selector", only_ns)),
            ),
            (
                label,
                make("t", json!({"serviceAccountSelector": "global()"})),
                Some(("spec.serviceAccountSelector", only_ns)),
            ),
            (
                label,
                make("t", json!({"selector": "app ="})),
                Some(("spec.selector", "invalid selector")),
            ),
            (
                label,
                make("t", json!({"performanceHints": ["AssumeNeededOnEveryNode", "AssumeNeededOnEveryNode"]})),
                Some(("spec.performanceHints[1]", "duplicate")),
            ),
            (label, make("t", json!({"order": 10.5, "performanceHints": ["AssumeNeededOnEveryNode"]})), None),
        ]);
    }
    table.push((
        "gnp namespaceSelector global()",
        gnp("t", json!({"namespaceSelector": "global()"})),
        Some(("spec.namespaceSelector", only_ns)),
    ));
    table.push((
        "gnp namespaceSelector",
        gnp("t", json!({"namespaceSelector": "team == 'a'"})),
        None,
    ));
    check_table(table);
}

#[test]
fn global_policy_flags() {
    let g = |spec: Value| gnp("thing", spec);
    check_table(vec![
        (
            "preDNAT and doNotTrack",
            g(json!({"preDNAT": true, "doNotTrack": true, "applyOnForward": true})),
            Some(("spec.preDNAT", "preDNAT and doNotTrack cannot both be true")),
        ),
        (
            "preDNAT",
            g(json!({"preDNAT": true, "applyOnForward": true})),
            None,
        ),
        (
            "doNotTrack",
            g(json!({"doNotTrack": true, "applyOnForward": true})),
            None,
        ),
        (
            "preDNAT with egress rules",
            g(json!({"preDNAT": true, "applyOnForward": true, "egress": [{"action": "Allow"}]})),
            Some(("spec.egress", "preDNAT policy cannot have any egress rules")),
        ),
        (
            "preDNAT with ingress rules",
            g(json!({"preDNAT": true, "applyOnForward": true, "ingress": [{"action": "Allow"}]})),
            None,
        ),
        (
            "applyOnForward alone",
            g(json!({"applyOnForward": true})),
            None,
        ),
        (
            "nothing",
            g(json!({"preDNAT": false, "doNotTrack": false, "applyOnForward": false})),
            None,
        ),
        (
            "preDNAT without applyOnForward",
            g(json!({"preDNAT": true})),
            Some(("spec.applyOnForward", "applyOnForward must be true")),
        ),
        (
            "doNotTrack without applyOnForward",
            g(json!({"doNotTrack": true})),
            Some(("spec.applyOnForward", "applyOnForward must be true")),
        ),
        (
            "preDNAT ingress type",
            g(json!({"preDNAT": true, "applyOnForward": true, "types": ["Ingress"]})),
            None,
        ),
        (
            "preDNAT egress type",
            g(json!({"preDNAT": true, "applyOnForward": true, "types": ["Egress"]})),
            Some(("spec.types", "preDNAT policy cannot have 'Egress' type")),
        ),
        (
            "preDNAT both types",
            g(json!({"preDNAT": true, "applyOnForward": true, "types": ["Ingress", "Egress"]})),
            Some(("spec.types", "preDNAT policy cannot have 'Egress' type")),
        ),
    ]);
}

#[test]
fn staged_policies() {
    let snp = |name: &str, spec: Value| {
        doc(
            "StagedNetworkPolicy",
            json!({"name": name, "namespace": "ns"}),
            spec,
        )
    };
    let sgnp = |spec: Value| doc("StagedGlobalNetworkPolicy", json!({"name": "s"}), spec);
    check_table(vec![
        (
            "staged set",
            snp(
                "s",
                json!({"stagedAction": "Set", "ingress": [{"action": "Deny"}]}),
            ),
            None,
        ),
        (
            "staged learn",
            snp("s", json!({"stagedAction": "Learn"})),
            None,
        ),
        (
            "staged delete with tier",
            snp("s", json!({"stagedAction": "Delete", "tier": "t1"})),
            None,
        ),
        (
            "staged delete with a selector",
            snp("s", json!({"stagedAction": "Delete", "selector": "all()"})),
            Some(("spec", "with stagedAction Delete")),
        ),
        (
            "staged invalid rule",
            snp(
                "s",
                json!({"egress": [{"action": "Allow", "destination": {"ports": [80]}}]}),
            ),
            Some(("spec.egress[0].destination.ports", "must set protocol")),
        ),
        (
            "staged k8s prefix",
            snp("knp.default.x", json!({})),
            Some(("metadata.name", "knp.default.")),
        ),
        (
            "staged global ignore",
            sgnp(json!({"stagedAction": "Ignore", "doNotTrack": true, "applyOnForward": true})),
            None,
        ),
        (
            "staged global delete with flags",
            sgnp(json!({"stagedAction": "Delete", "preDNAT": true})),
            Some(("spec", "preDNAT")),
        ),
        (
            "staged global CEL rules",
            sgnp(json!({"doNotTrack": true})),
            Some(("spec.applyOnForward", "applyOnForward must be true")),
        ),
    ]);
}

fn defaulted(d: Value) -> Resource {
    let mut r = Resource::from_value(d).unwrap();
    r.apply_defaults();
    r
}

#[test]
fn policy_types_defaulting() {
    use PolicyType::{Egress, Ingress};
    let allow = json!({"action": "Allow"});
    let cases = [
        (json!({}), vec![Ingress]),
        (json!({"ingress": [allow]}), vec![Ingress]),
        (json!({"egress": [allow]}), vec![Egress]),
        (
            json!({"ingress": [allow], "egress": [allow]}),
            vec![Ingress, Egress],
        ),
        (
            json!({"egress": [allow], "types": ["Ingress"]}),
            vec![Ingress],
        ),
        (
            json!({"types": ["Egress", "Ingress"]}),
            vec![Egress, Ingress],
        ),
    ];
    for (spec, want) in cases {
        let Resource::NetworkPolicy(p) = defaulted(np("p", spec.clone())) else {
            panic!()
        };
        assert_eq!(p.spec.types, want, "np {spec}");
        let Resource::GlobalNetworkPolicy(p) = defaulted(gnp("p", spec.clone())) else {
            panic!()
        };
        assert_eq!(p.spec.types, want, "gnp {spec}");
        let Resource::StagedNetworkPolicy(p) = defaulted(doc(
            "StagedNetworkPolicy",
            json!({"name": "p"}),
            spec.clone(),
        )) else {
            panic!()
        };
        assert_eq!(p.spec.types, want, "snp {spec}");
    }
}

#[test]
fn policy_tier_namespace_and_label_defaults() {
    let Resource::NetworkPolicy(p) =
        defaulted(doc("NetworkPolicy", json!({"name": "p"}), json!({})))
    else {
        panic!()
    };
    assert_eq!(p.metadata.namespace, "default");
    assert_eq!(p.spec.tier, "default");
    assert_eq!(p.metadata.labels["projectcalico.org/tier"], "default");

    let Resource::GlobalNetworkPolicy(p) = defaulted(gnp("sec.p", json!({"tier": "sec"}))) else {
        panic!()
    };
    assert_eq!(p.spec.tier, "sec");
    assert_eq!(p.metadata.labels["projectcalico.org/tier"], "sec");
    assert!(p.metadata.namespace.is_empty());

    let Resource::StagedNetworkPolicy(p) = defaulted(doc(
        "StagedNetworkPolicy",
        json!({"name": "p", "namespace": "a"}),
        json!({"stagedAction": "Delete", "types": ["Ingress"]}),
    )) else {
        panic!()
    };
    assert_eq!(p.spec.staged_action, Some(StagedAction::Delete));
    assert!(p.spec.types.is_empty(), "Delete clears types");
    assert!(Resource::StagedNetworkPolicy(p).validate().is_ok());

    let Resource::StagedGlobalNetworkPolicy(p) = defaulted(doc(
        "StagedGlobalNetworkPolicy",
        json!({"name": "p"}),
        json!({}),
    )) else {
        panic!()
    };
    assert_eq!(p.spec.staged_action, Some(StagedAction::Set));
    assert_eq!(p.spec.types, vec![PolicyType::Ingress]);
}

#[test]
fn staged_to_enforced() {
    let mut s = StagedNetworkPolicy::default();
    s.metadata.name = "p".into();
    s.metadata.uid = "u".into();
    s.spec.selector = "app == 'a'".into();
    s.spec.order = Some(5.0);
    let (action, p): (StagedAction, NetworkPolicy) = s.to_enforced();
    assert_eq!(action, StagedAction::Set);
    assert_eq!(p.spec.selector, "app == 'a'");
    assert_eq!(p.spec.order, Some(5.0));
    assert!(p.metadata.uid.is_empty());
}

#[test]
fn non_finite_order_is_rejected() {
    let mut p = GlobalNetworkPolicy::default();
    p.metadata.name = "p".into();
    p.spec.order = Some(f64::NAN);
    let err = Resource::GlobalNetworkPolicy(p).validate().unwrap_err();
    assert_eq!(err.errors[0].path, "spec.order");
}

#[test]
fn tiers() {
    let tier = |name: &str, spec: Value| doc("Tier", json!({"name": name}), spec);
    check_table(vec![
        ("custom", tier("security", json!({"order": 100})), None),
        (
            "custom pass",
            tier("security", json!({"order": 100, "defaultAction": "Pass"})),
            None,
        ),
        ("custom no order", tier("security", json!({})), None),
        (
            "default",
            tier(
                "default",
                json!({"order": 1000000, "defaultAction": "Deny"}),
            ),
            None,
        ),
        (
            "default with Pass",
            tier(
                "default",
                json!({"order": 1000000, "defaultAction": "Pass"}),
            ),
            Some(("spec.defaultAction", "must have default action \"Deny\"")),
        ),
        (
            "default with another order",
            tier("default", json!({"order": 5})),
            Some(("spec.order", "must have order 1000000")),
        ),
        (
            "kube-admin",
            tier(
                "kube-admin",
                json!({"order": 1000, "defaultAction": "Pass"}),
            ),
            None,
        ),
        (
            "kube-admin with Deny",
            tier("kube-admin", json!({"defaultAction": "Deny"})),
            Some(("spec.defaultAction", "must have default action \"Pass\"")),
        ),
        (
            "kube-baseline unset action",
            tier("kube-baseline", json!({})),
            Some(("spec.defaultAction", "\"Pass\"")),
        ),
        (
            "Allow as default action",
            tier("security", json!({"defaultAction": "Allow"})),
            Some(("spec.defaultAction", "expected Deny or Pass")),
        ),
        (
            "dotted name",
            tier("a.b", json!({})),
            Some(("metadata.name", "not a valid name")),
        ),
    ]);
    let Resource::Tier(t) = defaulted(tier("default", json!({}))) else {
        panic!()
    };
    assert_eq!(t.spec.order, Some(1_000_000.0));
    assert_eq!(t.effective_default_action(), calico_api::Action::Deny);
    let Resource::Tier(t) = defaulted(tier("mine", json!({}))) else {
        panic!()
    };
    assert_eq!(t.spec.order, None);
    assert_eq!(t.spec.default_action, Some(calico_api::Action::Deny));
    let _: &Tier = &t;
}

#[test]
fn network_sets() {
    let nets =
        json!({"nets": ["10.0.0.1", "11.0.0.0/8", "dead:beef::", "dead:beef::/96", "10.1.0.1/16"]});
    let ns = |meta: Value, spec: Value| doc("NetworkSet", meta, spec);
    let gns = |meta: Value, spec: Value| doc("GlobalNetworkSet", meta, spec);
    check_table(vec![
        (
            "ns nets",
            ns(json!({"name": "s", "namespace": "a"}), nets.clone()),
            None,
        ),
        ("gns nets", gns(json!({"name": "s"}), nets.clone()), None),
        (
            "ns garbage",
            ns(json!({"name": "s"}), json!({"nets": ["garbage"]})),
            Some(("spec.nets[0]", "not a valid CIDR")),
        ),
        (
            "gns garbage",
            gns(
                json!({"name": "s"}),
                json!({"nets": ["10.0.0.0/8", "garbage"]}),
            ),
            Some(("spec.nets[1]", "not a valid CIDR")),
        ),
        (
            "duplicate",
            gns(
                json!({"name": "s"}),
                json!({"nets": ["10.0.0.0/8", "10.0.0.0/8"]}),
            ),
            Some(("spec.nets[1]", "duplicate")),
        ),
        (
            "ns labels",
            ns(json!({"name": "s", "labels": {"a": "b"}}), nets.clone()),
            None,
        ),
        (
            "ns reserved label",
            ns(
                json!({"name": "s", "labels": {"projectcalico.org/namespace": "foo"}}),
                nets.clone(),
            ),
            Some(("metadata.labels[projectcalico.org/namespace]", "reserved")),
        ),
        (
            "gns reserved label",
            gns(
                json!({"name": "s", "labels": {"projectcalico.org/namespace": "foo"}}),
                nets.clone(),
            ),
            Some(("metadata.labels[projectcalico.org/namespace]", "reserved")),
        ),
        (
            "ns bad name",
            ns(json!({"name": "test$set"}), nets.clone()),
            Some(("metadata.name", "")),
        ),
        (
            "gns bad name",
            gns(json!({"name": "test$set"}), nets),
            Some(("metadata.name", "")),
        ),
    ]);
    let Resource::NetworkSet(s) = defaulted(ns(json!({"name": "s"}), json!({}))) else {
        panic!()
    };
    assert_eq!(s.metadata.namespace, "default");
}

#[test]
fn host_endpoints() {
    let hep = |spec: Value| doc("HostEndpoint", json!({"name": "h"}), spec);
    let port = |name: &str, proto: Value, port: u16| json!({"name": name, "protocol": proto, "port": port});
    check_table(vec![
        (
            "interface and node",
            hep(json!({"node": "node01", "interfaceName": "eth0"})),
            None,
        ),
        (
            "expected IPs",
            hep(json!({"node": "node01", "expectedIPs": ["1.2.3.4", "aabb:aabb::ffff"]})),
            None,
        ),
        (
            "interface and expected IPs",
            hep(json!({"node": "node01", "interfaceName": "eth0", "expectedIPs": ["1.2.3.4"]})),
            None,
        ),
        (
            "all interfaces",
            hep(json!({"node": "node01", "interfaceName": "*"})),
            None,
        ),
        (
            "no config",
            hep(json!({})),
            Some(("spec.node", "node must be specified")),
        ),
        (
            "no config (interface)",
            hep(json!({})),
            Some(("spec.interfaceName", "at least one of")),
        ),
        (
            "blank interface, no IPs",
            hep(json!({"node": "node01", "interfaceName": "", "expectedIPs": []})),
            Some((
                "spec.interfaceName",
                "at least one of interfaceName or expectedIPs",
            )),
        ),
        (
            "prefixed profile names",
            hep(
                json!({"node": "n", "interfaceName": "eth0", "profiles": ["knp.default.fun", "knp.default.funner.11234-a"]}),
            ),
            None,
        ),
        (
            "profile starting with a dot",
            hep(json!({"node": "n", "interfaceName": "eth0", "profiles": [".fun"]})),
            Some(("spec.profiles[0]", "not a valid name")),
        ),
        (
            "interface name too long",
            hep(json!({"node": "n", "interfaceName": "interfaceTooLong"})),
            Some(("spec.interfaceName", "not a valid interface name")),
        ),
        (
            "interface name with &",
            hep(json!({"node": "n", "interfaceName": "Invalid&Intface"})),
            Some(("spec.interfaceName", "")),
        ),
        (
            "bad expected IP",
            hep(json!({"node": "n", "expectedIPs": ["999.999.999.999"]})),
            Some(("spec.expectedIPs[0]", "not a valid IP address")),
        ),
        (
            "named port",
            hep(
                json!({"node": "n", "interfaceName": "eth0", "ports": [port("a-valid-port", json!("TCP"), 1234)]}),
            ),
            None,
        ),
        (
            "name-clashing ports",
            hep(json!({"node": "n", "interfaceName": "eth0", "ports": [
                port("a-valid-port", json!("TCP"), 1234), port("a-valid-port", json!("UDP"), 5456)]})),
            None,
        ),
        (
            "unnamed port",
            hep(
                json!({"node": "n", "interfaceName": "eth0", "ports": [port("", json!("TCP"), 1234)]}),
            ),
            Some(("spec.ports[0].name", "not a valid port name")),
        ),
        (
            "port with ICMP",
            hep(
                json!({"node": "n", "interfaceName": "eth0", "ports": [port("p", json!("ICMP"), 1)]}),
            ),
            Some(("spec.ports[0].protocol", "does not support ports")),
        ),
        (
            "port 0",
            hep(
                json!({"node": "n", "interfaceName": "eth0", "ports": [port("p", json!("UDP"), 0)]}),
            ),
            Some(("spec.ports[0].port", "between 1 and 65535")),
        ),
    ]);
}

fn wep(spec: Value) -> Value {
    let mut s = json!({"orchestrator": "k8s", "node": "node-1", "pod": "web-0", "endpoint": "eth0",
                       "interfaceName": "cali012371237"});
    if let (Value::Object(base), Value::Object(extra)) = (&mut s, spec) {
        base.extend(extra);
    }
    doc(
        "WorkloadEndpoint",
        json!({"name": "node--1-k8s-web--0-eth0", "namespace": "ns"}),
        s,
    )
}

#[test]
fn workload_endpoints() {
    let nat = |i: &str, e: &str| json!({"internalIP": i, "externalIP": e});
    let port = |name: &str, proto: Value, host_port: u16, host_ip: &str| json!({"name": name, "protocol": proto, "port": 1234, "hostPort": host_port, "hostIP": host_ip});
    check_table(vec![
        ("interface only", wep(json!({})), None),
        (
            "networks, no NATs",
            wep(
                json!({"ipNetworks": ["1.2.3.4/32", "1.2.0.0/32", "aabb:aabb::ffff/128", "aabb:aabb::"]}),
            ),
            None,
        ),
        (
            "v4 NAT covered",
            wep(json!({"ipNetworks": ["1.2.3.4/32"], "ipNATs": [nat("1.2.3.4", "100.200.0.0")]})),
            None,
        ),
        (
            "v4 and v6 NATs covered",
            wep(json!({"ipNetworks": ["1.2.3.4/32", "aabb:aabb::ffff/128"],
                       "ipNATs": [nat("1.2.3.4", "100.200.0.0"), nat("aabb:aabb::ffff", "aabb::abcd")]})),
            None,
        ),
        (
            "mixed-case container ID",
            wep(json!({"containerID": "Cath01234-G"})),
            None,
        ),
        (
            "gateways",
            wep(json!({"ipv4Gateway": "169.254.1.1", "ipv6Gateway": "fe80::1"})),
            None,
        ),
        ("mac", wep(json!({"mac": "ee:ee:ee:ee:ee:ee"})), None),
        (
            "no interface",
            wep(json!({"interfaceName": ""})),
            Some(("spec.interfaceName", "must be specified")),
        ),
        (
            "v4 network with several addresses",
            wep(json!({"ipNetworks": ["1.2.3.0/26"]})),
            Some(("spec.ipNetworks[0]", "contains multiple addresses")),
        ),
        (
            "v6 network with several addresses",
            wep(json!({"ipNetworks": ["aabb:aabb::/122"]})),
            Some(("spec.ipNetworks[0]", "contains multiple addresses")),
        ),
        (
            "NATs without networks",
            wep(json!({"ipNATs": [nat("100.200.0.0", "1.2.3.4")]})),
            Some((
                "spec.ipNATs[0].internalIP",
                "not one of the endpoint's ipNetworks",
            )),
        ),
        (
            "v4 NAT not covered",
            wep(json!({"ipNetworks": ["1.2.3.4/32"], "ipNATs": [nat("100.200.0.0", "1.2.3.4")]})),
            Some(("spec.ipNATs[0].internalIP", "not one of")),
        ),
        (
            "v6 NAT not covered",
            wep(
                json!({"ipNetworks": ["aabb:aabb::ffff/128"], "ipNATs": [nat("aabb::abcd", "aabb:aabb::ffff")]}),
            ),
            Some(("spec.ipNATs[0].internalIP", "not one of")),
        ),
        (
            "NAT mixing versions",
            wep(json!({"ipNetworks": ["1.2.3.4/32"], "ipNATs": [nat("1.2.3.4", "aabb::1")]})),
            Some(("spec.ipNATs[0]", "same IP version")),
        ),
        (
            "container ID starting with a dash",
            wep(json!({"containerID": "-abcdefg"})),
            Some(("spec.containerID", "not a valid container ID")),
        ),
        (
            "container ID ending with a dash",
            wep(json!({"containerID": "abcdeSg-"})),
            Some(("spec.containerID", "")),
        ),
        (
            "container ID with a dot",
            wep(json!({"containerID": "abcde-j.g"})),
            Some(("spec.containerID", "")),
        ),
        (
            "bad interface",
            wep(json!({"interfaceName": "Invalid:Intface"})),
            Some(("spec.interfaceName", "")),
        ),
        (
            "v6 as v4 gateway",
            wep(json!({"ipv4Gateway": "fe80::1"})),
            Some(("spec.ipv4Gateway", "IPv4")),
        ),
        (
            "bad mac",
            wep(json!({"mac": "ee:ee"})),
            Some(("spec.mac", "not a valid MAC")),
        ),
        (
            "named port",
            wep(json!({"ports": [port("a-valid-port", json!("TCP"), 0, "")]})),
            None,
        ),
        (
            "host port",
            wep(json!({"ports": [port("", json!("TCP"), 2345, "")]})),
            None,
        ),
        (
            "name-clashing ports",
            wep(json!({"ports": [port("p", json!("TCP"), 0, ""), port("p", json!("UDP"), 0, "")]})),
            None,
        ),
        (
            "unnamed port without host port",
            wep(json!({"ports": [port("", json!("TCP"), 0, "")]})),
            Some(("spec.ports[0].name", "needs a name")),
        ),
        (
            "numeric protocol",
            wep(json!({"ports": [port("p", json!(123), 0, "")]})),
            Some(("spec.ports[0].protocol", "does not support ports")),
        ),
        (
            "bad host IP",
            wep(json!({"ports": [port("", json!("TCP"), 2345, "999.999.999.999")]})),
            Some(("spec.ports[0].hostIP", "")),
        ),
        (
            "spoofing prefixes",
            wep(json!({"allowSpoofedSourcePrefixes": ["10.0.0.1", "192.168.0.0/16"]})),
            None,
        ),
        (
            "bad spoofing prefix",
            wep(json!({"allowSpoofedSourcePrefixes": ["10.abcd"]})),
            Some(("spec.allowSpoofedSourcePrefixes[0]", "")),
        ),
        (
            "QoS",
            wep(
                json!({"qosControls": {"ingressBandwidth": 1000000, "egressPacketRate": 100, "dscp": "AF11"}}),
            ),
            None,
        ),
        (
            "QoS bandwidth too low",
            wep(json!({"qosControls": {"ingressBandwidth": 10}})),
            Some(("spec.qosControls.ingressBandwidth", "out of range")),
        ),
        (
            "QoS DSCP too high",
            wep(json!({"qosControls": {"dscp": 64}})),
            Some(("spec.qosControls.dscp", "expected 0-63")),
        ),
        (
            "name not matching the spec",
            wep(json!({"pod": "other"})),
            Some(("metadata.name", "expected \"node--1-k8s-other-eth0\"")),
        ),
        (
            "no endpoint",
            wep(json!({"endpoint": ""})),
            Some(("spec", "endpoint must be set")),
        ),
    ]);
}

#[test]
fn workload_endpoint_defaults() {
    let d = doc(
        "WorkloadEndpoint",
        json!({"labels": {"projectcalico.org/namespace": "spoofed", "app": "web"}}),
        json!({"orchestrator": "k8s", "node": "node-1", "pod": "web-0", "endpoint": "eth0",
               "interfaceName": "cali0"}),
    );
    let Resource::WorkloadEndpoint(w) = defaulted(d) else {
        panic!()
    };
    assert_eq!(w.metadata.name, "node--1-k8s-web--0-eth0");
    assert_eq!(w.metadata.namespace, "default");
    assert_eq!(w.metadata.labels["projectcalico.org/namespace"], "default");
    assert_eq!(w.metadata.labels["projectcalico.org/orchestrator"], "k8s");
    assert_eq!(w.metadata.labels["app"], "web");
    let _: &WorkloadEndpoint = &w;
    assert!(Resource::WorkloadEndpoint(w).validate().is_ok());
}

#[test]
fn profiles() {
    let value63 = "x".repeat(63);
    let value64 = "x".repeat(64);
    let profile = |spec: Value| doc("Profile", json!({"name": "kns.default"}), spec);
    check_table(vec![
        (
            "labels to apply",
            profile(json!({"labelsToApply": {"project.calico.org/my-valid-label": value63}})),
            None,
        ),
        (
            "long label value",
            profile(json!({"labelsToApply": {"project.calico.org/my-valid-label": value64}})),
            Some((
                "spec.labelsToApply[project.calico.org/my-valid-label]",
                "label value",
            )),
        ),
        (
            "dot at start of key",
            profile(json!({"labelsToApply": {".mylabel": "value"}})),
            Some(("spec.labelsToApply[.mylabel]", "")),
        ),
        (
            "! in key",
            profile(json!({"labelsToApply": {"my!nvalid-label": "value"}})),
            Some(("spec.labelsToApply[my!nvalid-label]", "")),
        ),
        (
            "$ in key",
            profile(json!({"labelsToApply": {"my-invalid-label$": "value"}})),
            Some(("spec.labelsToApply[my-invalid-label$]", "")),
        ),
        (
            "allow all",
            profile(json!({"ingress": [{"action": "Allow"}], "egress": [{"action": "Allow"}]})),
            None,
        ),
        (
            "services anywhere in a profile",
            profile(
                json!({"ingress": [{"action": "Allow", "destination": {"services": {"name": "s"}}}]}),
            ),
            None,
        ),
        (
            "rule checks apply",
            profile(json!({"egress": [{"action": "Allow", "protocol": "ICMP", "ipVersion": 6}]})),
            Some(("spec.egress[0].protocol", "requires ipVersion 4")),
        ),
    ]);
}

#[test]
fn engine_helpers() {
    use calico_api::{
        Action, EntityRule, GlobalNetworkPolicySpec, Port, Protocol, Rule, default_policy_types,
        tier_or_default, well_known_tier,
    };
    let mut r = Rule::new(Action::Allow);
    assert_eq!(r.ip_versions(), vec![4, 6]);
    r.destination.nets = vec!["fd00::/64".into()];
    assert_eq!(r.ip_versions(), vec![6]);
    r.protocol = Some(Protocol::Icmp);
    assert_eq!(r.ip_versions(), vec![4]);
    r.ip_version = Some(6);
    assert_eq!(r.ip_versions(), vec![6]);
    assert!(EntityRule::default().is_empty());
    assert!(!r.destination.is_empty());
    assert_eq!(r.destination.parsed_nets().len(), 1);
    assert_eq!(Port::Range { min: 80, max: 90 }.range(), Some((80, 90)));
    assert_eq!(Port::named("http").range(), None);
    assert_eq!(Protocol::Sctp.number(), 132);
    assert_eq!(
        default_policy_types(false, false),
        vec![PolicyType::Ingress]
    );
    assert_eq!(
        default_policy_types(true, true),
        vec![PolicyType::Ingress, PolicyType::Egress]
    );
    let spec = GlobalNetworkPolicySpec {
        egress: vec![Rule::new(Action::Deny)],
        ..GlobalNetworkPolicySpec::default()
    };
    assert_eq!(spec.effective_types(), vec![PolicyType::Egress]);
    assert_eq!(tier_or_default(""), "default");
    assert_eq!(well_known_tier("kube-admin"), Some((1000.0, Action::Pass)));
    assert_eq!(well_known_tier("mine"), None);
}
