//! Shared builders for the calc tests.
#![allow(dead_code)]

use calico_api::Resource;
use calico_calc::messages::DataplaneMessage;
use calico_calc::{CalcGraph, DataplaneState, Update};
use serde_json::{Value, json};

/// Decodes one resource from JSON and applies Calico's defaults.
pub fn res(v: Value) -> Resource {
    let mut r = Resource::from_value(v).expect("test resource decodes");
    r.apply_defaults();
    r
}

/// Decodes YAML documents and applies defaults.
pub fn yaml(text: &str) -> Vec<Resource> {
    calico_api::codec::decode_all(text)
        .expect("test YAML parses")
        .into_iter()
        .map(|(_, r)| {
            let mut r = r.expect("test resource decodes");
            r.apply_defaults();
            r
        })
        .collect()
}

pub fn upserts(text: &str) -> Vec<Update> {
    yaml(text).into_iter().map(Update::Upsert).collect()
}

/// A workload endpoint for pod `ns/pod` on `node` with one address.
pub fn wep(ns: &str, pod: &str, node: &str, ip: &str, labels: &[(&str, &str)]) -> Resource {
    wep_ports(ns, pod, node, ip, labels, &[])
}

/// A workload endpoint with named ports `(name, protocol, port)`.
pub fn wep_ports(
    ns: &str,
    pod: &str,
    node: &str,
    ip: &str,
    labels: &[(&str, &str)],
    ports: &[(&str, &str, u16)],
) -> Resource {
    let labels: serde_json::Map<String, Value> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let ports: Vec<Value> = ports
        .iter()
        .map(|(n, p, port)| json!({"name": n, "protocol": p, "port": port}))
        .collect();
    res(json!({
        "apiVersion": "projectcalico.org/v3",
        "kind": "WorkloadEndpoint",
        "metadata": {"namespace": ns, "name": format!("{node}-k8s-{pod}-eth0"), "labels": labels},
        "spec": {
            "orchestrator": "k8s",
            "node": node,
            "pod": pod,
            "endpoint": "eth0",
            "containerID": "c0ffee",
            "ipNetworks": [format!("{ip}/32")],
            "profiles": [format!("kns.{ns}"), format!("ksa.{ns}.default")],
            "interfaceName": format!("cali{pod}"),
            "ports": ports,
        }
    }))
}

/// Applies a batch, checks the messages against a consumer, and returns them.
pub fn step(
    g: &mut CalcGraph,
    dp: &mut DataplaneState,
    updates: Vec<Update>,
) -> Vec<DataplaneMessage> {
    let out = g.apply(updates);
    assert!(
        out.errors.is_empty(),
        "unexpected input errors: {:?}",
        out.errors
    );
    if let Err((i, e)) = dp.apply_all(&out.messages) {
        panic!("message {i} breaks the contract: {e}\n{:#?}", out.messages);
    }
    out.messages
}

/// Short one-line summaries of messages (`type id`), for readable assertions.
pub fn summary(msgs: &[DataplaneMessage]) -> Vec<String> {
    msgs.iter()
        .map(|m| {
            let v = serde_json::to_value(m).expect("messages serialize");
            let ty = v["type"].as_str().unwrap_or("?").to_string();
            let id = match m {
                DataplaneMessage::IpSetDeltaUpdate { added, removed, .. } => {
                    let fmt =
                        |s: &std::collections::BTreeSet<calico_calc::messages::IpSetMember>| {
                            s.iter()
                                .map(|m| match m {
                                    calico_calc::messages::IpSetMember::Net(n) => n.to_string(),
                                    calico_calc::messages::IpSetMember::IpPort {
                                        ip,
                                        protocol,
                                        port,
                                    } => {
                                        format!("{ip},{protocol}:{port}")
                                    }
                                })
                                .collect::<Vec<_>>()
                                .join(",")
                        };
                    format!("+[{}] -[{}]", fmt(added), fmt(removed))
                }
                DataplaneMessage::ActivePolicyUpdate { id, .. }
                | DataplaneMessage::ActivePolicyRemove { id } => id.policy.to_string(),
                DataplaneMessage::ActiveProfileUpdate { id, .. }
                | DataplaneMessage::ActiveProfileRemove { id } => id.clone(),
                DataplaneMessage::WorkloadEndpointUpdate { id, .. }
                | DataplaneMessage::WorkloadEndpointRemove { id } => id.to_string(),
                DataplaneMessage::RouteUpdate { route } => route.dst.to_string(),
                DataplaneMessage::RouteRemove { dst } => dst.to_string(),
                DataplaneMessage::VtepUpdate { vtep } => vtep.node.clone(),
                DataplaneMessage::VtepRemove { node } => node.clone(),
                _ => String::new(),
            };
            if id.is_empty() {
                ty
            } else {
                format!("{ty} {id}")
            }
        })
        .collect()
}
