//! Kubernetes NetworkPolicy → Calico NetworkPolicy, as Calico converts it
//! (`libcalico-go/lib/backend/k8s/conversion/conversion.go`; inventory §4.5).
//!
//! The result is tier `default`, order 1000, in the same namespace; every rule is `Allow`; one
//! Calico rule per (protocol, peer) of each Kubernetes rule.

use std::collections::BTreeMap;

use calico_api::{
    Action, EntityRule, IntOrString, K8sPolicyType, K8sProtocol, KubernetesNetworkPolicy,
    LabelSelector, LabelSelectorOperator, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec, ObjectMeta, PolicyType, Port, Protocol, Rule,
};

use crate::scope::LABEL_ORCHESTRATOR;

/// The order every converted Kubernetes policy gets.
pub const K8S_POLICY_ORDER: f64 = 1000.0;

/// A k8s label selector as a Calico selector string. Pod selectors start with the orchestrator
/// clause; an empty namespace selector is `all()`.
pub fn k8s_selector_to_calico(sel: &LabelSelector, pods: bool) -> String {
    let mut parts = Vec::new();
    if pods {
        parts.push(format!("{LABEL_ORCHESTRATOR} == 'k8s'"));
    }
    for (k, v) in &sel.match_labels {
        parts.push(format!("{k} == '{v}'"));
    }
    for e in &sel.match_expressions {
        let mut values = e.values.clone();
        values.sort();
        let set = values
            .iter()
            .map(|v| format!("'{v}'"))
            .collect::<Vec<_>>()
            .join(", ");
        parts.push(match e.operator {
            LabelSelectorOperator::In => format!("{} in {{ {set} }}", e.key),
            LabelSelectorOperator::NotIn => format!("{} not in {{ {set} }}", e.key),
            LabelSelectorOperator::Exists => format!("has({})", e.key),
            LabelSelectorOperator::DoesNotExist => format!("! has({})", e.key),
        });
    }
    if parts.is_empty() {
        return "all()".into();
    }
    parts.join(" && ")
}

/// Converts a Kubernetes NetworkPolicy. A rule that cannot be converted (a port out of range)
/// is dropped; the rest are kept, as Calico does.
pub fn convert(np: &KubernetesNetworkPolicy) -> NetworkPolicy {
    let s = &np.spec;
    let mut types: Vec<PolicyType> = Vec::new();
    for t in &s.policy_types {
        let t = match t {
            K8sPolicyType::Ingress => PolicyType::Ingress,
            K8sPolicyType::Egress => PolicyType::Egress,
        };
        if !types.contains(&t) {
            types.push(t);
        }
    }
    if types.is_empty() {
        types.push(PolicyType::Ingress);
    }
    types.sort();
    let ingress = s
        .ingress
        .iter()
        .flat_map(|r| convert_rule(&r.ports, &r.from, true))
        .collect();
    let egress = s
        .egress
        .iter()
        .flat_map(|r| convert_rule(&r.ports, &r.to, false))
        .collect();
    NetworkPolicy {
        metadata: ObjectMeta::namespaced(np.metadata.namespace.clone(), np.metadata.name.clone()),
        spec: NetworkPolicySpec {
            tier: "default".into(),
            order: Some(K8S_POLICY_ORDER),
            ingress,
            egress,
            selector: k8s_selector_to_calico(&s.pod_selector, true),
            types,
            ..NetworkPolicySpec::default()
        },
        status: None,
    }
}

fn protocol_of(p: Option<K8sProtocol>) -> Protocol {
    match p.unwrap_or_default() {
        K8sProtocol::TCP => Protocol::Tcp,
        K8sProtocol::UDP => Protocol::Udp,
        K8sProtocol::SCTP => Protocol::Sctp,
    }
}

/// The Calico port of a k8s port entry; `Ok(None)` means all ports; `Err` a bad entry.
fn port_of(p: &NetworkPolicyPort) -> Result<Option<Port>, ()> {
    let num = |n: i32| u16::try_from(n).ok().filter(|n| *n > 0).ok_or(());
    match &p.port {
        None => Ok(None),
        Some(IntOrString::String(name)) => Ok(Some(Port::named(name.clone()))),
        Some(IntOrString::Int(n)) => {
            let min = num(*n)?;
            let max = match p.end_port {
                Some(e) => num(e)?,
                None => min,
            };
            if max < min {
                return Err(());
            }
            Ok(Some(Port::Range { min, max }))
        }
    }
}

fn convert_rule(
    ports: &[NetworkPolicyPort],
    peers: &[NetworkPolicyPeer],
    ingress: bool,
) -> Vec<Rule> {
    // Protocol name → ports; `None` means every port of that protocol.
    let mut by_protocol: BTreeMap<&'static str, (Protocol, Option<Vec<Port>>)> = BTreeMap::new();
    for p in ports {
        let proto = protocol_of(p.protocol);
        let Ok(port) = port_of(p) else {
            return Vec::new();
        };
        let name = proto.name().unwrap_or("TCP");
        match port {
            None => {
                by_protocol.insert(name, (proto, None));
            }
            Some(port) => {
                let entry = by_protocol.entry(name).or_insert((proto, Some(Vec::new())));
                if let Some(list) = &mut entry.1 {
                    list.push(port);
                }
            }
        }
    }
    let groups: Vec<(Option<Protocol>, Vec<Port>)> = if ports.is_empty() {
        vec![(None, Vec::new())]
    } else {
        by_protocol
            .into_values()
            .map(|(proto, ports)| (Some(proto), simplify_ports(ports.unwrap_or_default())))
            .collect()
    };
    let peers: Vec<EntityRule> = if peers.is_empty() {
        vec![EntityRule::default()]
    } else {
        peers.iter().map(convert_peer).collect()
    };
    let mut rules = Vec::new();
    for (protocol, ports) in &groups {
        for peer in &peers {
            let mut rule = Rule::new(Action::Allow);
            rule.protocol = *protocol;
            if ingress {
                rule.source = peer.clone();
                rule.destination.ports = ports.clone();
            } else {
                rule.destination = peer.clone();
                rule.destination.ports = ports.clone();
            }
            rules.push(rule);
        }
    }
    rules
}

fn convert_peer(peer: &NetworkPolicyPeer) -> EntityRule {
    let mut e = EntityRule::default();
    if let Some(block) = &peer.ip_block {
        e.nets = vec![block.cidr.clone()];
        e.not_nets = block.except.clone();
        return e;
    }
    match (&peer.pod_selector, &peer.namespace_selector) {
        (Some(pods), ns) => {
            e.selector = k8s_selector_to_calico(pods, true);
            if let Some(ns) = ns {
                e.namespace_selector = k8s_selector_to_calico(ns, false);
            }
        }
        (None, Some(ns)) => {
            e.selector = format!("{LABEL_ORCHESTRATOR} == 'k8s'");
            e.namespace_selector = k8s_selector_to_calico(ns, false);
        }
        (None, None) => {}
    }
    e
}

/// Calico's `SimplifyPorts`: numeric ports sorted and merged into the fewest ranges (adjacent
/// and overlapping ranges join), followed by the named ports in their original order.
pub fn simplify_ports(ports: Vec<Port>) -> Vec<Port> {
    let mut ranges: Vec<(u16, u16)> = ports.iter().filter_map(Port::range).collect();
    ranges.sort_unstable();
    let mut merged: Vec<(u16, u16)> = Vec::new();
    for (lo, hi) in ranges {
        match merged.last_mut() {
            Some(last) if u32::from(lo) <= u32::from(last.1) + 1 => last.1 = last.1.max(hi),
            _ => merged.push((lo, hi)),
        }
    }
    let mut out: Vec<Port> = merged
        .into_iter()
        .map(|(min, max)| Port::Range { min, max })
        .collect();
    out.extend(ports.into_iter().filter(Port::is_named));
    out
}
