//! Decoding the policy-related kinds: unknown fields and malformed values are reported with
//! their path; numbers-or-strings take both forms; YAML output round-trips and quotes strings
//! YAML 1.1 would misread.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use calico_api::codec::{decode_all, to_json, to_yaml};
use calico_api::{DecodeError, Port, Protocol, Resource};
use serde_json::{Value, json};

fn decode_err(doc: Value) -> (String, String) {
    match Resource::from_value(doc.clone()) {
        Err(DecodeError::Field { path, message, .. }) => (path, message),
        other => panic!("expected a field error for {doc}, got {other:?}"),
    }
}

fn np(spec: Value) -> Value {
    json!({"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
           "metadata": {"name": "allow-a", "namespace": "x"}, "spec": spec})
}

#[test]
fn unknown_fields_name_their_path() {
    let cases = [
        (
            np(json!({"ingress": [{"action": "Allow", "destination": {"foo": 1}}]})),
            "spec.ingress[0].destination.foo",
        ),
        (
            np(json!({"egress": [{"action": "Allow", "icmp": {"typ": 1}}]})),
            "spec.egress[0].icmp.typ",
        ),
        (
            np(json!({"ingress": [{"action": "Allow", "http": {"path": []}}]})),
            "spec.ingress[0].http.path",
        ),
        (
            np(json!({"namespaceSelector": "all()"})),
            "spec.namespaceSelector",
        ),
        (
            json!({"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": "t"},
                   "spec": {"order": 1, "action": "Deny"}}),
            "spec.action",
        ),
        (
            json!({"apiVersion": "projectcalico.org/v3", "kind": "HostEndpoint", "metadata": {"name": "h"},
                   "spec": {"node": "n", "ports": [{"name": "a", "protocol": "TCP", "port": 1, "hostPort": 2}]}}),
            "spec.ports[0].hostPort",
        ),
        (
            json!({"apiVersion": "projectcalico.org/v3", "kind": "WorkloadEndpoint", "metadata": {"name": "w"},
                   "spec": {"qosControls": {"ingressBandwith": 1}}}),
            "spec.qosControls.ingressBandwith",
        ),
        (
            json!({"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkSet", "metadata": {"name": "g"},
                   "spec": {"nets": [], "cidrs": []}}),
            "spec.cidrs",
        ),
        (
            json!({"apiVersion": "projectcalico.org/v3", "kind": "Profile", "metadata": {"name": "p"},
                   "spec": {"labelsToApply": {}, "labels": {}}}),
            "spec.labels",
        ),
    ];
    for (doc, want) in cases {
        let (path, message) = decode_err(doc);
        assert_eq!(path, want);
        assert!(message.contains("unknown field"), "{message}");
    }
}

#[test]
fn malformed_values_name_their_path() {
    let cases = [
        (
            np(
                json!({"ingress": [{"action": "Allow", "protocol": "TCP", "destination": {"ports": [80, "8o!"]}}]}),
            ),
            "spec.ingress[0].destination.ports[1]",
            "\"8o!\" is not a port or port range",
        ),
        (
            np(
                json!({"ingress": [{"action": "Allow", "protocol": "TCP", "source": {"ports": ["200:100"]}}]}),
            ),
            "spec.ingress[0].source.ports[0]",
            "minimum (200) is greater than the maximum (100)",
        ),
        (
            np(
                json!({"ingress": [{"action": "Allow", "protocol": "TCP", "source": {"ports": [65536]}}]}),
            ),
            "spec.ingress[0].source.ports[0]",
            "not a port",
        ),
        (
            np(json!({"ingress": [{"action": "Allow", "protocol": "tcpfoo"}]})),
            "spec.ingress[0].protocol",
            "not a valid protocol",
        ),
        (
            np(json!({"ingress": [{"action": "Allow", "protocol": "footcp"}]})),
            "spec.ingress[0].protocol",
            "",
        ),
        (
            np(json!({"ingress": [{"action": "Allow", "protocol": 0}]})),
            "spec.ingress[0].protocol",
            "",
        ),
        (
            np(json!({"ingress": [{"action": "Allow", "protocol": "0"}]})),
            "spec.ingress[0].protocol",
            "",
        ),
        (
            np(json!({"ingress": [{"action": "Allow", "protocol": "256"}]})),
            "spec.ingress[0].protocol",
            "",
        ),
        (
            np(json!({"ingress": [{"action": "Allow", "notProtocol": 256}]})),
            "spec.ingress[0].notProtocol",
            "",
        ),
        (
            np(json!({"egress": [{"action": "unknown"}]})),
            "spec.egress[0].action",
            "unknown variant",
        ),
        (
            np(json!({"egress": [{"action": "allowfoo"}]})),
            "spec.egress[0].action",
            "",
        ),
        (
            np(json!({"egress": [{"protocol": "TCP"}]})),
            "spec.egress[0]",
            "missing field `action`",
        ),
        (
            np(json!({"types": ["unexpected"]})),
            "spec.types[0]",
            "unknown variant",
        ),
        (
            np(json!({"performanceHints": ["Fast"]})),
            "spec.performanceHints[0]",
            "",
        ),
        (
            np(
                json!({"ingress": [{"action": "Allow", "protocol": "ICMP", "icmp": {"type": 1, "code": 256}}]}),
            ),
            "spec.ingress[0].icmp.code",
            "",
        ),
        (
            json!({"apiVersion": "projectcalico.org/v3", "kind": "StagedNetworkPolicy",
                   "metadata": {"name": "s"}, "spec": {"stagedAction": "Remove"}}),
            "spec.stagedAction",
            "unknown variant",
        ),
        (
            json!({"apiVersion": "projectcalico.org/v3", "kind": "WorkloadEndpoint", "metadata": {"name": "w"},
                   "spec": {"qosControls": {"dscp": "XX"}}}),
            "spec.qosControls.dscp",
            "not a valid DSCP",
        ),
    ];
    for (doc, want_path, fragment) in cases {
        let (path, message) = decode_err(doc);
        assert_eq!(path, want_path, "{message}");
        assert!(message.contains(fragment), "{message}");
    }
}

#[test]
fn numbers_or_strings_take_both_forms() {
    let doc = np(json!({"ingress": [
        {"action": "Allow", "protocol": "tcp", "destination": {"ports": [80, "443", "1000:2000", "http"]}},
        {"action": "Deny", "protocol": "6"},
        {"action": "Deny", "protocol": 132, "notProtocol": "udplite"},
    ]}));
    let Resource::NetworkPolicy(p) = Resource::from_value(doc).unwrap() else {
        panic!()
    };
    let r = &p.spec.ingress;
    assert_eq!(r[0].protocol, Some(Protocol::Tcp));
    assert_eq!(
        r[0].destination.ports,
        vec![
            Port::single(80),
            Port::single(443),
            Port::Range {
                min: 1000,
                max: 2000
            },
            Port::named("http"),
        ]
    );
    assert_eq!(r[1].protocol, Some(Protocol::Number(6)));
    assert_eq!(r[2].not_protocol, Some(Protocol::UdpLite));
    let out = Resource::NetworkPolicy(p).to_value();
    assert_eq!(out["spec"]["ingress"][0]["protocol"], json!("TCP"));
    assert_eq!(
        out["spec"]["ingress"][0]["destination"]["ports"],
        json!([80, 443, "1000:2000", "http"])
    );
    assert_eq!(out["spec"]["ingress"][1]["protocol"], json!(6));
    assert_eq!(out["spec"]["ingress"][2]["notProtocol"], json!("UDPLite"));
}

#[test]
fn order_prints_like_go() {
    let doc = np(json!({"order": 100, "ingress": [{"action": "Allow"}]}));
    let r = Resource::from_value(doc).unwrap();
    let yaml = to_yaml(&r.to_value()).unwrap();
    assert!(yaml.contains("order: 100\n"), "{yaml}");
    let doc = np(json!({"order": 2.5}));
    let r = Resource::from_value(doc).unwrap();
    assert_eq!(r.to_value()["spec"]["order"], json!(2.5));
}

#[test]
fn empty_entity_rules_are_omitted() {
    let doc =
        np(json!({"ingress": [{"action": "Allow", "source": {}, "destination": {"nets": []}}]}));
    let r = Resource::from_value(doc).unwrap();
    assert_eq!(
        r.to_value()["spec"]["ingress"][0],
        json!({"action": "Allow"})
    );
}

/// Strings that a YAML 1.1 reader would take for booleans, numbers or null.
const TRICKY: [&str; 8] = ["no", "yes", "0777", "1e3", "null", "true", "off", "1.5"];

#[test]
fn yaml_output_quotes_ambiguous_strings() {
    let mut labels = serde_json::Map::new();
    let mut annotations = serde_json::Map::new();
    for (i, s) in TRICKY.iter().enumerate() {
        labels.insert(format!("l{i}"), json!(s));
        annotations.insert(format!("a{i}"), json!(s));
    }
    annotations.insert("tilde".into(), json!("~"));
    annotations.insert("empty".into(), json!(""));
    let doc = json!({"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkSet",
                     "metadata": {"name": "s", "labels": labels, "annotations": annotations},
                     "spec": {"nets": ["10.0.0.0/8"]}});
    let r = Resource::from_value(doc).unwrap();
    assert!(r.validate().is_ok());
    let yaml = to_yaml(&r.to_value()).unwrap();
    for (i, s) in TRICKY.iter().enumerate() {
        for key in [format!("l{i}"), format!("a{i}")] {
            let line = yaml
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("{key}:")))
                .unwrap_or_else(|| panic!("no {key} in\n{yaml}"));
            let value = line
                .trim_start()
                .trim_start_matches(&format!("{key}:"))
                .trim();
            assert!(
                value == format!("'{s}'") || value == format!("\"{s}\""),
                "{key}: {s:?} printed unquoted as {value:?} in\n{yaml}"
            );
        }
    }
    let tilde = yaml.lines().find(|l| l.contains("tilde:")).unwrap();
    assert!(tilde.contains("'~'") || tilde.contains("\"~\""), "{tilde}");
    let back = decode_all(&yaml).unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].1.as_ref().unwrap(), &r);
    let back = decode_all(&to_json(&r.to_value()).unwrap()).unwrap();
    assert_eq!(back[0].1.as_ref().unwrap(), &r);
}

#[test]
fn multi_document_yaml() {
    let text = r#"
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: allow-dns
spec:
  order: 10
  selector: all()
  types: [Egress]
  egress:
  - action: Allow
    protocol: UDP
    destination:
      ports: [53]
      selector: k8s-app == "kube-dns"
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: web
  namespace: prod
spec:
  selector: app == 'web'
  ingress:
  - action: Allow
    protocol: TCP
    source:
      namespaceSelector: team == 'frontend'
    destination:
      ports: ["8080:8090", http]
  - action: Deny
    protocol: ICMP
    icmp: {type: 8}
"#;
    let docs = decode_all(text).unwrap();
    assert_eq!(docs.len(), 2);
    for (i, d) in &docs {
        let r = d.as_ref().unwrap_or_else(|e| panic!("doc {i}: {e}"));
        r.validate().unwrap_or_else(|e| panic!("doc {i}: {e}"));
    }
}

#[test]
fn unquoted_port_ranges_in_yaml() {
    let text = "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: r\nspec:\n  ingress:\n  - action: Allow\n    protocol: TCP\n    destination:\n      ports:\n      - 1000:2000\n      - 22\n      notPorts: [30000:32767]\n";
    let docs = decode_all(text).unwrap();
    let Ok(Resource::GlobalNetworkPolicy(p)) = &docs[0].1 else {
        panic!("{:?}", docs[0].1)
    };
    let d = &p.spec.ingress[0].destination;
    assert_eq!(
        d.ports,
        vec![
            Port::Range {
                min: 1000,
                max: 2000
            },
            Port::single(22)
        ]
    );
    assert_eq!(
        d.not_ports,
        vec![Port::Range {
            min: 30000,
            max: 32767
        }]
    );
}
