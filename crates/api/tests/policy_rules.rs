//! Rule validation, as a table of valid and invalid rules (restating the cases of Calico's
//! validator tests for actions, IP versions, protocols, ports, ICMP, nets, HTTP, selectors,
//! services and rule metadata). Each rule is placed in a NetworkPolicy (or a
//! GlobalNetworkPolicy) and checked through the public decode + validate path.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use calico_api::Resource;
use common::{Expect, errors};
use serde_json::{Value, json};

#[derive(Clone, Copy)]
enum Dir {
    Ingress,
    Egress,
}

fn policy(kind: &str, dir: Dir, rule: Value) -> Value {
    let field = match dir {
        Dir::Ingress => "ingress",
        Dir::Egress => "egress",
    };
    let mut doc = json!({
        "apiVersion": "projectcalico.org/v3",
        "kind": kind,
        "metadata": {"name": "p"},
        "spec": {field: [rule]},
    });
    if kind == "NetworkPolicy" {
        doc["metadata"]["namespace"] = json!("ns");
    }
    doc
}

/// Wrap each rule of the table in a policy of `kind`, in direction `dir`, and check it.
fn check_table(kind: &str, dir: Dir, table: Vec<(&str, Value, Expect)>) {
    common::check_table(
        table
            .into_iter()
            .map(|(what, rule, expect)| (what, policy(kind, dir, rule), expect))
            .collect(),
    );
}

const R: &str = "spec.ingress[0]";

#[test]
fn actions_and_ip_versions() {
    check_table(
        "NetworkPolicy",
        Dir::Ingress,
        vec![
            ("allow", json!({"action": "Allow"}), None),
            ("deny", json!({"action": "Deny"}), None),
            ("log", json!({"action": "Log"}), None),
            ("pass", json!({"action": "Pass"}), None),
            (
                "ip version 4",
                json!({"action": "Allow", "ipVersion": 4}),
                None,
            ),
            (
                "ip version 6",
                json!({"action": "Allow", "ipVersion": 6}),
                None,
            ),
            (
                "ip version 0",
                json!({"action": "Allow", "ipVersion": 0}),
                Some(("spec.ingress[0].ipVersion", "expected 4 or 6")),
            ),
        ],
    );
}

#[test]
fn protocols() {
    let mut table = vec![];
    for p in [
        json!("TCP"),
        json!("UDP"),
        json!("ICMP"),
        json!("ICMPv6"),
        json!("SCTP"),
        json!("UDPLite"),
        json!("tcp"),
        json!(1),
        json!(255),
        json!("1"),
        json!("255"),
    ] {
        table.push((
            "valid protocol",
            json!({"action": "Allow", "protocol": p}),
            None,
        ));
        table.push((
            "valid notProtocol",
            json!({"action": "Allow", "notProtocol": p}),
            None,
        ));
    }
    check_table("NetworkPolicy", Dir::Ingress, table);
}

#[test]
fn ports_need_a_port_protocol() {
    let numeric = "rules with numeric port or port range must set protocol";
    let needs = "rules that specify ports must set protocol to TCP or UDP or SCTP";
    check_table(
        "NetworkPolicy",
        Dir::Ingress,
        vec![
            (
                "SCTP alone",
                json!({"action": "Allow", "protocol": "SCTP"}),
                None,
            ),
            (
                "source port with protocol 6",
                json!({"action": "Allow", "protocol": 6, "source": {"ports": [1]}}),
                None,
            ),
            (
                "named source port with protocol 6",
                json!({"action": "Allow", "protocol": 6, "source": {"ports": ["foo"]}}),
                None,
            ),
            (
                "named source port with TCP",
                json!({"action": "Allow", "protocol": "TCP", "source": {"ports": ["foo"]}}),
                None,
            ),
            (
                "named source port with UDP",
                json!({"action": "Allow", "protocol": "UDP", "source": {"ports": ["foo"]}}),
                None,
            ),
            (
                "empty ports with protocol 7",
                json!({"action": "Allow", "protocol": 7, "source": {"ports": []}}),
                None,
            ),
            (
                "source notPorts with protocol 17",
                json!({"action": "Allow", "protocol": 17, "source": {"notPorts": [1]}}),
                None,
            ),
            (
                "destination port with TCP",
                json!({"action": "Allow", "protocol": "TCP", "destination": {"ports": [1]}}),
                None,
            ),
            (
                "destination port with SCTP",
                json!({"action": "Allow", "protocol": "SCTP", "destination": {"ports": [1]}}),
                None,
            ),
            (
                "port range with UDP",
                json!({"action": "Allow", "protocol": "UDP", "destination": {"ports": ["1000:2000", 53]}}),
                None,
            ),
            (
                "only named ports without protocol",
                json!({"action": "Allow", "destination": {"ports": ["http", "dns"]}}),
                None,
            ),
            (
                "numeric destination port without protocol",
                json!({"action": "Allow", "destination": {"ports": [1]}}),
                Some(("spec.ingress[0].destination.ports", numeric)),
            ),
            (
                "named and numeric ports without protocol",
                json!({"action": "Allow", "destination": {"notPorts": ["http", "80:90"]}}),
                Some(("spec.ingress[0].destination.notPorts", numeric)),
            ),
            (
                "source port with protocol 7",
                json!({"action": "Allow", "protocol": 7, "source": {"ports": [1]}}),
                Some(("spec.ingress[0].source.ports", needs)),
            ),
            (
                "source notPorts with protocol 100",
                json!({"action": "Allow", "protocol": 100, "source": {"notPorts": [1]}}),
                Some(("spec.ingress[0].source.notPorts", needs)),
            ),
            (
                "named port with ICMP",
                json!({"action": "Allow", "protocol": "ICMP", "ipVersion": 4,
                       "destination": {"notPorts": ["foo"]}}),
                Some(("spec.ingress[0].destination.notPorts", needs)),
            ),
            (
                "port 0",
                json!({"action": "Allow", "protocol": "TCP", "destination": {"notPorts": [0]}}),
                Some((
                    "spec.ingress[0].destination.notPorts[0]",
                    "between 1 and 65535",
                )),
            ),
            (
                "range starting at 0",
                json!({"action": "Allow", "protocol": "TCP", "destination": {"ports": [80, "0:100"]}}),
                Some((
                    "spec.ingress[0].destination.ports[1]",
                    "between 1 and 65535",
                )),
            ),
            (
                "51 ports",
                json!({"action": "Allow", "protocol": "TCP",
                       "destination": {"ports": (1..=51).collect::<Vec<u16>>()}}),
                Some(("spec.ingress[0].destination.ports", "at most 50")),
            ),
        ],
    );
}

#[test]
fn icmp() {
    let needs = "ICMP fields require protocol to be ICMP or ICMPv6";
    check_table(
        "NetworkPolicy",
        Dir::Ingress,
        vec![
            (
                "no fields",
                json!({"action": "Allow", "protocol": "ICMP", "icmp": {}}),
                None,
            ),
            (
                "type 0",
                json!({"action": "Allow", "protocol": "ICMP", "icmp": {"type": 0}}),
                None,
            ),
            (
                "type 254",
                json!({"action": "Allow", "protocol": "ICMP", "icmp": {"type": 254}}),
                None,
            ),
            (
                "type and code 0",
                json!({"action": "Allow", "protocol": "ICMP", "icmp": {"type": 128, "code": 0}}),
                None,
            ),
            (
                "type and code 255",
                json!({"action": "Allow", "protocol": "ICMPv6", "icmp": {"type": 128, "code": 255}}),
                None,
            ),
            (
                "notICMP with ICMP",
                json!({"action": "Deny", "protocol": 1, "notICMP": {"type": 8}}),
                None,
            ),
            (
                "code without type",
                json!({"action": "Allow", "protocol": "ICMP", "icmp": {"code": 0}}),
                Some((
                    "spec.ingress[0].icmp.code",
                    "ICMP code specified without an ICMP type",
                )),
            ),
            (
                "type 255",
                json!({"action": "Allow", "protocol": "ICMP", "icmp": {"type": 255}}),
                Some(("spec.ingress[0].icmp.type", "expected 0-254")),
            ),
            (
                "icmp without protocol",
                json!({"action": "Allow", "ipVersion": 4, "icmp": {"type": 0}}),
                Some(("spec.ingress[0].icmp", needs)),
            ),
            (
                "icmp with TCP",
                json!({"action": "Allow", "protocol": "TCP", "icmp": {"type": 0}}),
                Some(("spec.ingress[0].icmp", needs)),
            ),
            (
                "notICMP with TCP",
                json!({"action": "Allow", "protocol": "TCP", "notICMP": {"type": 0}}),
                Some(("spec.ingress[0].notICMP", needs)),
            ),
            (
                "ICMP without ipVersion",
                json!({"action": "Allow", "protocol": "ICMP"}),
                None,
            ),
            (
                "ICMPv6 without ipVersion",
                json!({"action": "Allow", "protocol": "ICMPv6"}),
                None,
            ),
            (
                "ICMP with ipVersion 4",
                json!({"action": "Allow", "protocol": "ICMP", "ipVersion": 4, "icmp": {"type": 0}}),
                None,
            ),
            (
                "ICMPv6 with ipVersion 6",
                json!({"action": "Allow", "protocol": "ICMPv6", "ipVersion": 6, "icmp": {"type": 0}}),
                None,
            ),
            (
                "ICMP with ipVersion 6",
                json!({"action": "Allow", "protocol": "ICMP", "ipVersion": 6}),
                Some((
                    "spec.ingress[0].protocol",
                    "protocol ICMP requires ipVersion 4",
                )),
            ),
            (
                "ICMPv6 with ipVersion 4",
                json!({"action": "Allow", "protocol": "ICMPv6", "ipVersion": 4}),
                Some((
                    "spec.ingress[0].protocol",
                    "protocol ICMPv6 requires ipVersion 6",
                )),
            ),
            (
                "protocol 58 with ipVersion 4",
                json!({"action": "Allow", "protocol": 58, "ipVersion": 4}),
                Some(("spec.ingress[0].protocol", "requires ipVersion 6")),
            ),
            (
                "notProtocol ICMP with ipVersion 6",
                json!({"action": "Allow", "notProtocol": "ICMP", "ipVersion": 6}),
                Some((
                    "spec.ingress[0].notProtocol",
                    "protocol ICMP requires ipVersion 4",
                )),
            ),
        ],
    );
}

#[test]
fn nets() {
    let both = "rule contains both IPv4 and IPv6 CIDRs";
    let mismatch = "rule IP version doesn't match CIDR version";
    check_table(
        "NetworkPolicy",
        Dir::Ingress,
        vec![
            (
                "v4 source and destination",
                json!({"action": "Allow", "source": {"nets": ["1.2.3.0/26"]},
                       "destination": {"notNets": ["1.2.3.4/32"]}}),
                None,
            ),
            (
                "v6 with ipVersion 6",
                json!({"action": "Allow", "ipVersion": 6, "source": {"nets": ["aabb:aabb::/122"]}}),
                None,
            ),
            (
                "positive catch-all",
                json!({"action": "Allow", "destination": {"nets": ["0.0.0.0/0"]}}),
                None,
            ),
            (
                "v4 source, v6 destination",
                json!({"action": "Allow", "protocol": "TCP", "source": {"nets": ["1.2.3.0/26"]},
                       "destination": {"nets": ["aabb:aabb::/122"]}}),
                Some(("spec.ingress[0].destination.nets", both)),
            ),
            (
                "v6 source, v4 destination",
                json!({"action": "Allow", "source": {"nets": ["aabb:aabb::/128"]},
                       "destination": {"nets": ["1.2.0.0/32"]}}),
                Some(("spec.ingress[0].destination.nets", both)),
            ),
            (
                "v4 and v6 in one list",
                json!({"action": "Allow", "source": {"nets": ["1.2.0.0/16", "aabb::/64"]}}),
                Some(("spec.ingress[0].source.nets", both)),
            ),
            (
                "v4 notNets after v6 nets",
                json!({"action": "Allow", "source": {"nets": ["aabb::/64"], "notNets": ["1.2.0.0/16"]}}),
                Some(("spec.ingress[0].source.notNets", both)),
            ),
            (
                "ipVersion 6 with v4 source",
                json!({"action": "Allow", "ipVersion": 6, "source": {"nets": ["1.2.3.4/32"]}}),
                Some(("spec.ingress[0].source.nets", mismatch)),
            ),
            (
                "ipVersion 4 with v6 destination",
                json!({"action": "Allow", "ipVersion": 4, "destination": {"nets": ["aabb:aabb::ffff/128"]}}),
                Some(("spec.ingress[0].destination.nets", mismatch)),
            ),
            (
                "ipVersion 6 with v4 notNets",
                json!({"action": "Allow", "ipVersion": 6, "destination": {"notNets": ["1.2.0.0/32"]}}),
                Some(("spec.ingress[0].destination.notNets", mismatch)),
            ),
            (
                "negated v4 catch-all",
                json!({"action": "Allow", "source": {"notNets": ["0.0.0.0/0"]}}),
                Some(("spec.ingress[0].source.notNets[0]", "catch-all CIDR")),
            ),
            (
                "negated v6 catch-all",
                json!({"action": "Allow", "destination": {"notNets": ["::/0"]}}),
                Some(("spec.ingress[0].destination.notNets[0]", "catch-all CIDR")),
            ),
            (
                "bare address is a host route, as in Calico",
                json!({"action": "Allow", "source": {"nets": ["10.0.0.1"]}}),
                None,
            ),
            (
                "host bits are allowed in rule nets, as in Calico",
                json!({"action": "Allow", "source": {"nets": ["10.0.0.1/24"]}}),
                None,
            ),
            (
                "garbage",
                json!({"action": "Allow", "source": {"nets": ["10.0.0.0/33"]}}),
                Some(("spec.ingress[0].source.nets[0]", "not a valid CIDR")),
            ),
            (
                "duplicate",
                json!({"action": "Allow", "source": {"nets": ["10.0.0.0/8", "10.0.0.0/8"]}}),
                Some(("spec.ingress[0].source.nets[1]", "duplicate")),
            ),
            (
                "257 nets",
                json!({"action": "Allow", "source": {"nets":
                    (0..257).map(|i| format!("10.{}.{}.0/24", i / 256, i % 256)).collect::<Vec<_>>()}}),
                Some(("spec.ingress[0].source.nets", "at most 256")),
            ),
        ],
    );
}

#[test]
fn http() {
    check_table(
        "NetworkPolicy",
        Dir::Ingress,
        vec![
            (
                "Allow with methods",
                json!({"action": "Allow", "http": {"methods": ["GET"]}}),
                None,
            ),
            (
                "TCP with methods",
                json!({"action": "Allow", "protocol": "TCP", "http": {"methods": ["GET"]}}),
                None,
            ),
            (
                "exact and prefix paths",
                json!({"action": "Allow", "http": {"paths": [{"exact": "/foo"}, {"prefix": "/bar"}]}}),
                None,
            ),
            (
                "Deny with HTTP",
                json!({"action": "Deny", "http": {"methods": ["GET"]}}),
                Some(("spec.ingress[0].http", "only valid on Allow rules")),
            ),
            (
                "UDP with HTTP",
                json!({"action": "Allow", "protocol": "UDP", "http": {"methods": ["GET"]}}),
                Some(("spec.ingress[0].http", "protocol TCP or unset")),
            ),
            (
                "exact and prefix in one path",
                json!({"action": "Allow", "http": {"paths": [{"exact": "/foo", "prefix": "/bar"}, {"prefix": "/bar"}]}}),
                Some(("spec.ingress[0].http.paths[0]", "not both")),
            ),
            (
                "question mark",
                json!({"action": "Allow", "http": {"paths": [{"exact": "/fo?o"}]}}),
                Some(("spec.ingress[0].http.paths[0]", "must start with '/'")),
            ),
            (
                "space",
                json!({"action": "Allow", "http": {"paths": [{"exact": "/fo o"}]}}),
                Some(("spec.ingress[0].http.paths[0]", "must start with '/'")),
            ),
            (
                "hash",
                json!({"action": "Allow", "http": {"paths": [{"prefix": "/f#oo"}]}}),
                Some(("spec.ingress[0].http.paths[0]", "must start with '/'")),
            ),
            (
                "relative path",
                json!({"action": "Allow", "http": {"paths": [{"prefix": "foo"}]}}),
                Some(("spec.ingress[0].http.paths[0]", "must start with '/'")),
            ),
            (
                "empty path match",
                json!({"action": "Allow", "http": {"paths": [{}]}}),
                Some(("spec.ingress[0].http.paths[0]", "must be set")),
            ),
            (
                "duplicate method",
                json!({"action": "Allow", "http": {"methods": ["GET", "GET", "Foo"]}}),
                Some(("spec.ingress[0].http.methods[1]", "duplicate")),
            ),
        ],
    );
    check_table(
        "NetworkPolicy",
        Dir::Egress,
        vec![(
            "HTTP in an egress rule",
            json!({"action": "Allow", "http": {"methods": ["GET"]}}),
            Some(("spec.egress[0].http", "not allowed in egress rules")),
        )],
    );
    check_table(
        "GlobalNetworkPolicy",
        Dir::Egress,
        vec![(
            "HTTP in a global egress rule",
            json!({"action": "Allow", "http": {"methods": ["GET"]}}),
            Some(("spec.egress[0].http", "not allowed in egress rules")),
        )],
    );
}

#[test]
fn selectors_and_metadata() {
    let only_ns = "global() can only be used in an EntityRule namespaceSelector";
    check_table(
        "NetworkPolicy",
        Dir::Ingress,
        vec![
            (
                "equality",
                json!({"action": "Allow", "source": {"selector": "foo == \"bar\""}}),
                None,
            ),
            (
                "has with slash",
                json!({"action": "Allow", "source": {"selector": "has(calico/k8s_ns)"}}),
                None,
            ),
            (
                "has with two slashes",
                json!({"action": "Allow", "source": {"selector": "has(calico/k8s_NS-.1/role)"}}),
                None,
            ),
            (
                "namespaceSelector global()",
                json!({"action": "Allow", "source": {"namespaceSelector": "  global()  "},
                       "destination": {"namespaceSelector": "projectcalico.org/name == 'test'"}}),
                None,
            ),
            (
                "service accounts",
                json!({"action": "Allow", "source": {"serviceAccounts": {"names": ["a", "b"], "selector": "role == 'x'"}}}),
                None,
            ),
            (
                "invalid selector",
                json!({"action": "Allow", "source": {"selector": "thing=hello &"}}),
                Some(("spec.ingress[0].source.selector", "invalid selector")),
            ),
            (
                "invalid notSelector",
                json!({"action": "Allow", "destination": {"notSelector": "a =="}}),
                Some((
                    "spec.ingress[0].destination.notSelector",
                    "invalid selector",
                )),
            ),
            (
                "global() in selector",
                json!({"action": "Allow", "source": {"selector": "  global()  "}}),
                Some(("spec.ingress[0].source.selector", only_ns)),
            ),
            (
                "global() and-ed in namespaceSelector",
                json!({"action": "Allow", "source": {"namespaceSelector": " global() && all()"}}),
                Some((
                    "spec.ingress[0].source.namespaceSelector",
                    "cannot be combined",
                )),
            ),
            (
                "global() or-ed in namespaceSelector",
                json!({"action": "Allow", "destination": {"namespaceSelector": "global()||all()"}}),
                Some((
                    "spec.ingress[0].destination.namespaceSelector",
                    "cannot be combined",
                )),
            ),
            (
                "global() and junk in selector",
                json!({"action": "Allow", "source": {"selector": "global() && bad"}}),
                Some(("spec.ingress[0].source.selector", "")),
            ),
            (
                "duplicate service account names",
                json!({"action": "Allow", "source": {"serviceAccounts": {"names": ["a", "a"]}}}),
                Some((
                    "spec.ingress[0].source.serviceAccounts.names[1]",
                    "duplicate",
                )),
            ),
            (
                "overlong selector",
                json!({"action": "Allow", "source": {"selector": format!("a in {{{}}}", vec!["'x'"; 300].join(","))}}),
                Some(("spec.ingress[0].source.selector", "too long")),
            ),
            (
                "valid annotations",
                json!({"action": "Allow", "metadata": {"annotations": {"foo": "bar"}}}),
                None,
            ),
            (
                "invalid annotation key",
                json!({"action": "Allow", "metadata": {"annotations": {"...": "bar"}}}),
                Some((
                    "spec.ingress[0].metadata.annotations[...]",
                    "annotation key",
                )),
            ),
        ],
    );
}

#[test]
fn services() {
    let svc = json!({"name": "service1", "namespace": "default"});
    check_table(
        "NetworkPolicy",
        Dir::Egress,
        vec![
            (
                "egress destination",
                json!({"action": "Allow", "destination": {"services": svc}}),
                None,
            ),
            (
                "egress destination without namespace (namespaced policy)",
                json!({"action": "Allow", "destination": {"services": {"name": "svc"}}}),
                None,
            ),
            (
                "egress source",
                json!({"action": "Allow", "source": {"services": svc}}),
                Some((
                    "spec.egress[0].source.services",
                    "not allowed in an egress rule's source",
                )),
            ),
            (
                "egress destination with ports",
                json!({"action": "Allow", "protocol": "TCP", "destination": {"services": svc, "ports": [80]}}),
                Some((
                    "spec.egress[0].destination.ports",
                    "cannot be specified with services",
                )),
            ),
            (
                "egress destination with notPorts",
                json!({"action": "Allow", "protocol": "TCP", "destination": {"services": svc, "notPorts": [80]}}),
                Some((
                    "spec.egress[0].destination.notPorts",
                    "cannot be specified with services",
                )),
            ),
            (
                "no service name",
                json!({"action": "Allow", "destination": {"services": {"namespace": "default"}}}),
                Some((
                    "spec.egress[0].destination.services.name",
                    "must specify a service name",
                )),
            ),
        ],
    );
    check_table(
        "NetworkPolicy",
        Dir::Ingress,
        vec![
            (
                "ingress source",
                json!({"action": "Allow", "source": {"services": svc}}),
                None,
            ),
            (
                "ingress source with ports",
                json!({"action": "Allow", "protocol": "TCP", "source": {"services": svc, "ports": [80]}}),
                None,
            ),
            (
                "ingress source with notPorts",
                json!({"action": "Allow", "protocol": "TCP", "source": {"services": svc, "notPorts": [80]}}),
                None,
            ),
            (
                "ingress destination",
                json!({"action": "Allow", "destination": {"services": svc}}),
                Some((
                    "spec.ingress[0].destination.services",
                    "not allowed in an ingress rule's destination",
                )),
            ),
            (
                "with service accounts",
                json!({"action": "Allow", "source": {"services": svc, "serviceAccounts": {"names": ["sa"]}}}),
                Some((
                    "spec.ingress[0].source.services",
                    "ServiceAccounts and Services",
                )),
            ),
            (
                "with nets",
                json!({"action": "Allow", "source": {"services": svc, "nets": ["10.0.0.0/8"]}}),
                Some((
                    "spec.ingress[0].source.services",
                    "Nets/NotNets and Services",
                )),
            ),
            (
                "with notNets",
                json!({"action": "Allow", "source": {"services": svc, "notNets": ["10.0.0.0/8"]}}),
                Some((
                    "spec.ingress[0].source.services",
                    "Nets/NotNets and Services",
                )),
            ),
            (
                "with selector",
                json!({"action": "Allow", "source": {"services": svc, "selector": "x == 'y'"}}),
                Some((
                    "spec.ingress[0].source.services",
                    "Selector/NotSelector and Services",
                )),
            ),
            (
                "with notSelector",
                json!({"action": "Allow", "source": {"services": svc, "notSelector": "x == 'y'"}}),
                Some((
                    "spec.ingress[0].source.services",
                    "Selector/NotSelector and Services",
                )),
            ),
            (
                "with namespaceSelector",
                json!({"action": "Allow", "source": {"services": svc, "namespaceSelector": "x == 'y'"}}),
                Some((
                    "spec.ingress[0].source.services",
                    "NamespaceSelector and Services",
                )),
            ),
        ],
    );
    check_table(
        "GlobalNetworkPolicy",
        Dir::Egress,
        vec![
            (
                "global egress destination",
                json!({"action": "Allow", "destination": {"services": svc}}),
                None,
            ),
            (
                "global egress destination without namespace",
                json!({"action": "Allow", "destination": {"services": {"name": "service1"}}}),
                Some((
                    "spec.egress[0].destination.services.namespace",
                    "must specify a namespace",
                )),
            ),
        ],
    );
    check_table(
        "GlobalNetworkPolicy",
        Dir::Ingress,
        vec![
            (
                "global ingress destination",
                json!({"action": "Allow", "destination": {"services": svc}}),
                Some(("spec.ingress[0].destination.services", "not allowed")),
            ),
            (
                "global ingress source without namespace",
                json!({"action": "Allow", "source": {"services": {"name": "service1"}}}),
                Some((
                    "spec.ingress[0].source.services.namespace",
                    "must specify a namespace",
                )),
            ),
            (
                "global with namespaceSelector",
                json!({"action": "Allow", "source": {"services": svc, "namespaceSelector": "x == 'y'"}}),
                Some((
                    "spec.ingress[0].source.services",
                    "NamespaceSelector and Services",
                )),
            ),
        ],
    );
}

#[test]
fn too_many_rules() {
    let rules: Vec<Value> = (0..1025).map(|_| json!({"action": "Allow"})).collect();
    let doc = json!({
        "apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
        "metadata": {"name": "big"}, "spec": {"egress": rules},
    });
    let errs = errors(doc);
    assert!(
        errs.iter()
            .any(|e| e.starts_with("spec.egress: ") && e.contains("at most 1024")),
        "{errs:?}"
    );
}

#[test]
fn errors_name_kind_and_policy() {
    let doc = policy(
        "NetworkPolicy",
        Dir::Ingress,
        json!({"action": "Allow", "destination": {"ports": [80]}}),
    );
    let err = Resource::from_value(doc).unwrap().validate().unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("NetworkPolicy ns/p: {R}.destination.ports: ")),
        "{text}"
    );
}
