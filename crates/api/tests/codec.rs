//! The framework: decoding documents, kinds, List expansion, errors, YAML output quoting.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use calico_api::codec::{decode_all, parse_documents, to_yaml};
use calico_api::{DecodeError, Resource};

#[test]
fn multi_document_yaml_and_lists() {
    let text = "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata:\n  name: a\n---\n\
                ---\napiVersion: projectcalico.org/v3\nkind: TierList\nitems:\n\
                - kind: Tier\n  metadata:\n    name: b\n- kind: Tier\n  metadata:\n    name: c\n";
    let docs = decode_all(text).unwrap();
    let names: Vec<String> = docs
        .iter()
        .map(|(_, r)| r.as_ref().unwrap().name().to_string())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(docs[2].0, 2);
}

#[test]
fn json_object_array_and_stream() {
    let one = r#"{"apiVersion":"projectcalico.org/v3","kind":"Tier","metadata":{"name":"a"}}"#;
    assert_eq!(parse_documents(one).unwrap().len(), 1);
    assert_eq!(parse_documents(&format!("[{one},{one}]")).unwrap().len(), 2);
    assert_eq!(parse_documents(&format!("{one}\n{one}")).unwrap().len(), 2);
}

#[test]
fn missing_kind_unknown_kind_and_api_version() {
    let e = Resource::from_value(serde_json::json!({"apiVersion": "projectcalico.org/v3"}));
    assert_eq!(e.unwrap_err(), DecodeError::MissingKind);
    let e = Resource::from_value(serde_json::json!({
        "apiVersion": "projectcalico.org/v3", "kind": "IPPoolz"}))
    .unwrap_err();
    assert!(e.to_string().contains("unknown kind \"IPPoolz\""), "{e}");
    let e = Resource::from_value(serde_json::json!({"kind": "IPPool"})).unwrap_err();
    assert!(
        e.to_string().contains("apiVersion: projectcalico.org/v3"),
        "{e}"
    );
    let e = Resource::from_value(serde_json::json!({"apiVersion": "v9", "kind": "IPPool"}))
        .unwrap_err();
    assert!(matches!(e, DecodeError::WrongApiVersion { .. }), "{e}");
}

#[test]
fn k8s_network_policy_is_told_apart_by_api_version() {
    let r = Resource::from_value(serde_json::json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "x", "namespace": "ns1"}}))
    .unwrap();
    assert!(matches!(r, Resource::KubernetesNetworkPolicy(_)));
    let r = Resource::from_value(serde_json::json!({
        "apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
        "metadata": {"name": "x", "namespace": "ns1"}}))
    .unwrap();
    assert!(matches!(r, Resource::NetworkPolicy(_)));
}

#[test]
fn unknown_metadata_field_names_its_path() {
    let e = Resource::from_value(serde_json::json!({
        "apiVersion": "projectcalico.org/v3", "kind": "Tier",
        "metadata": {"name": "t", "nmae": "x"}}))
    .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("metadata"), "{msg}");
    assert!(msg.contains("nmae"), "{msg}");
}

#[test]
fn malformed_yaml_is_a_syntax_error() {
    let e = parse_documents("kind: [unclosed\n").unwrap_err();
    assert!(matches!(e, DecodeError::Syntax(_)), "{e}");
}

#[test]
fn yaml_output_quotes_yaml11_ambiguous_strings() {
    let v = serde_json::json!({"a": "no", "b": "0777", "c": "yes", "d": "1e3", "e": "~",
                               "f": "plain"});
    let y = to_yaml(&v).unwrap();
    for bad in ["a: no\n", "b: 0777\n", "c: yes\n", "d: 1e3\n", "e: ~\n"] {
        assert!(!y.contains(bad), "unquoted {bad:?} in:\n{y}");
    }
    assert!(y.contains("f: plain"), "{y}");
    // and it reads back to the same strings
    let back: Vec<serde_json::Value> = parse_documents(&y)
        .unwrap()
        .into_iter()
        .map(|d| d.value)
        .collect();
    assert_eq!(back[0], v);
}

#[test]
fn yaml_output_sorts_keys() {
    let v = serde_json::json!({"kind": "Tier", "apiVersion": "projectcalico.org/v3"});
    let y = to_yaml(&v).unwrap();
    assert!(
        y.find("apiVersion").unwrap() < y.find("kind").unwrap(),
        "{y}"
    );
}
