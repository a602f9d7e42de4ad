//! Felix's rule scanner: backend rules (selectors already scoped by the policy crate) become
//! dataplane [`Rule`]s that refer to IP sets by ID, plus the definitions of those IP sets
//! (`felix/calc/rule_scanner.go`).
//!
//! - A side's `selector` becomes the set `s:<unique id>`; with a `notSelector` as well, the two
//!   are combined into one selector `(<sel>) && (!(<notSel>))`, as Felix does.
//! - A `notSelector` alone becomes a negated set.
//! - Named ports become `hash:ip,port` sets `n:<hash>` of the endpoints matching the side's
//!   positive selector (or every endpoint); the protocol is the rule's UDP or SCTP, else TCP
//!   (Felix's `namedPortProto`). When a side has named ports and no numeric ports the named-port
//!   sets already imply the selector, so no selector set is used for that side.

use std::collections::BTreeMap;

use calico_api::{IcmpFields, Port, Protocol};
use calico_policy::{BackendEntity, BackendRule, Direction, RuleId};
use calico_selector::{Selector, make_unique_id};

use crate::messages::{EntityMatch, IcmpMatch, IpSetId, IpSetType, PolicyRules, PortRange, Rule};

/// What an IP set holds: the endpoints and network sets matching `selector`, or with a named
/// port, the (address, protocol, port) of that port on the matching endpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpSetDef {
    pub id: IpSetId,
    pub selector: Selector,
    pub named_port: Option<NamedPortMatch>,
}

/// A named port of a given protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NamedPortMatch {
    pub protocol: u8,
    pub name: String,
}

impl IpSetDef {
    /// A selector set.
    pub fn selector(selector: Selector) -> IpSetDef {
        IpSetDef {
            id: selector.unique_id(),
            selector,
            named_port: None,
        }
    }

    /// A named-port set; the ID hashes the selector's ID, the protocol and the port name as
    /// Felix's `IPSetData.UniqueID` does.
    pub fn named_port(selector: Selector, protocol: u8, name: &str) -> IpSetDef {
        let content = format!("{},{},{}", selector.unique_id(), proto_name(protocol), name);
        IpSetDef {
            id: make_unique_id("n", &content),
            selector,
            named_port: Some(NamedPortMatch {
                protocol,
                name: name.to_string(),
            }),
        }
    }

    pub fn set_type(&self) -> IpSetType {
        if self.named_port.is_some() {
            IpSetType::IpPort
        } else {
            IpSetType::Net
        }
    }
}

fn proto_name(p: u8) -> &'static str {
    match p {
        17 => "udp",
        132 => "sctp",
        _ => "tcp",
    }
}

/// The IP sets a set of rules uses, by ID.
pub type IpSetDefs = BTreeMap<IpSetId, IpSetDef>;

/// Scans the rules of one policy or profile. `rule_id(direction, index)` names each rule.
pub fn scan_rules(
    ingress: &[BackendRule],
    egress: &[BackendRule],
    rule_id: impl Fn(Direction, usize) -> RuleId,
    defs: &mut IpSetDefs,
) -> PolicyRules {
    PolicyRules {
        inbound: ingress
            .iter()
            .enumerate()
            .map(|(i, r)| scan_rule(r, rule_id(Direction::Ingress, i), defs))
            .collect(),
        outbound: egress
            .iter()
            .enumerate()
            .map(|(i, r)| scan_rule(r, rule_id(Direction::Egress, i), defs))
            .collect(),
    }
}

/// The stand-in Felix renders for a profile an endpoint names but that does not exist: deny
/// everything in both directions (`DummyDropRules`), under [`RuleId::profile_missing`].
pub fn missing_profile_rules(name: &str) -> PolicyRules {
    let deny = Rule {
        id: RuleId::profile_missing(name),
        action: calico_api::Action::Deny,
        ip_version: None,
        protocol: None,
        not_protocol: None,
        icmp: None,
        not_icmp: None,
        src: EntityMatch::default(),
        dst: EntityMatch::default(),
    };
    PolicyRules {
        inbound: vec![deny.clone()],
        outbound: vec![deny],
    }
}

/// Scans one rule, adding the IP sets it uses to `defs`.
pub fn scan_rule(rule: &BackendRule, id: RuleId, defs: &mut IpSetDefs) -> Rule {
    let named_proto = match rule.protocol.map(Protocol::number) {
        Some(17) => 17,
        Some(132) => 132,
        _ => 6,
    };
    Rule {
        id,
        action: rule.action,
        ip_version: rule.ip_version,
        protocol: rule.protocol.map(Protocol::number),
        not_protocol: rule.not_protocol.map(Protocol::number),
        icmp: rule.icmp.as_ref().and_then(icmp),
        not_icmp: rule.not_icmp.as_ref().and_then(icmp),
        src: scan_entity(&rule.source, named_proto, defs),
        dst: scan_entity(&rule.destination, named_proto, defs),
    }
}

fn icmp(f: &IcmpFields) -> Option<IcmpMatch> {
    Some(IcmpMatch {
        icmp_type: f.icmp_type?,
        code: f.code,
    })
}

/// `(<pos>) && (!(<neg>))`, parsed as Felix parses the string it builds.
fn combine(pos: &Selector, neg: &Selector) -> Selector {
    let text = format!("({pos}) && (!({neg}))");
    Selector::parse(&text).unwrap_or_else(|_| {
        pos.and(&Selector::from_node(calico_selector::Node::Not(Box::new(
            neg.root().clone(),
        ))))
    })
}

fn split_ports(ports: &[Port]) -> (Vec<PortRange>, Vec<&str>) {
    let mut numeric = Vec::new();
    let mut named = Vec::new();
    for p in ports {
        match p {
            Port::Range { min, max } => numeric.push(PortRange {
                min: *min,
                max: *max,
            }),
            Port::Named(n) => named.push(n.as_str()),
        }
    }
    (numeric, named)
}

fn scan_entity(e: &BackendEntity, named_proto: u8, defs: &mut IpSetDefs) -> EntityMatch {
    let (pos, neg) = match (&e.selector, &e.not_selector) {
        (Some(p), Some(n)) => (Some(combine(p, n)), None),
        (p, n) => (p.clone(), n.clone()),
    };
    let (ports, named) = split_ports(&e.ports);
    let (not_ports, not_named) = split_ports(&e.not_ports);
    let mut add = |def: IpSetDef| -> IpSetId {
        let id = def.id.clone();
        defs.entry(id.clone()).or_insert(def);
        id
    };
    let port_sel = pos.clone().unwrap_or_default();
    let named_port_ip_set_ids = named
        .iter()
        .map(|n| add(IpSetDef::named_port(port_sel.clone(), named_proto, n)))
        .collect();
    let not_named_port_ip_set_ids = not_named
        .iter()
        .map(|n| add(IpSetDef::named_port(port_sel.clone(), named_proto, n)))
        .collect();
    let ip_set_ids = match &pos {
        Some(sel) if !ports.is_empty() || named.is_empty() => {
            vec![add(IpSetDef::selector(sel.clone()))]
        }
        _ => Vec::new(),
    };
    let not_ip_set_ids = neg
        .map(|sel| vec![add(IpSetDef::selector(sel))])
        .unwrap_or_default();
    EntityMatch {
        nets: e.nets.clone(),
        not_nets: e.not_nets.clone(),
        ip_set_ids,
        not_ip_set_ids,
        ports,
        named_port_ip_set_ids,
        not_ports,
        not_named_port_ip_set_ids,
    }
}

#[cfg(test)]
mod tests {
    use calico_policy::{Model, PolicyKey, PolicyKind};

    use super::*;

    fn scan(rules_yaml: &str) -> (Vec<Rule>, IpSetDefs) {
        let text = format!(
            "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {{name: p}}\nspec:\n  ingress:\n{rules_yaml}"
        );
        let model = Model::from_yaml(&text).expect("test policy is valid");
        let key = PolicyKey {
            kind: PolicyKind::GlobalNetworkPolicy,
            namespace: String::new(),
            name: "p".into(),
        };
        let mut defs = IpSetDefs::new();
        let rules = scan_rules(
            &model.policies[0].ingress,
            &[],
            |d, i| RuleId::policy_rule("default", &key, d, i),
            &mut defs,
        );
        (rules.inbound, defs)
    }

    fn sel(s: &str) -> Selector {
        Selector::parse(s).expect("test selector")
    }

    #[test]
    fn selector_and_not_selector_become_one_set() {
        let (rules, defs) =
            scan("  - action: Allow\n    source: {selector: a == 'x', notSelector: has(b)}\n");
        let want = sel("(a == 'x') && (!(has(b)))").unique_id();
        assert_eq!(rules[0].src.ip_set_ids, vec![want.clone()]);
        assert!(rules[0].src.not_ip_set_ids.is_empty());
        assert_eq!(defs.keys().collect::<Vec<_>>(), vec![&want]);
    }

    #[test]
    fn not_selector_alone_is_a_negated_set() {
        let (rules, _) = scan("  - action: Deny\n    source: {notSelector: has(b)}\n");
        assert!(rules[0].src.ip_set_ids.is_empty());
        assert_eq!(rules[0].src.not_ip_set_ids, vec![sel("has(b)").unique_id()]);
    }

    #[test]
    fn named_ports_default_to_tcp_and_replace_the_selector_set() {
        let (rules, defs) =
            scan("  - action: Allow\n    destination: {selector: a == 'x', ports: [http]}\n");
        let content = format!("{},tcp,http", sel("a == 'x'").unique_id());
        let id = make_unique_id("n", &content);
        assert_eq!(rules[0].dst.named_port_ip_set_ids, vec![id.clone()]);
        assert!(rules[0].dst.ip_set_ids.is_empty());
        assert_eq!(defs[&id].set_type(), IpSetType::IpPort);
        assert_eq!(
            defs[&id].named_port,
            Some(NamedPortMatch {
                protocol: 6,
                name: "http".into()
            })
        );
    }

    #[test]
    fn named_and_numeric_ports_keep_the_selector_set() {
        let (rules, defs) = scan(
            "  - action: Allow\n    protocol: UDP\n    destination: {selector: a == 'x', ports: [dns, 5353], notPorts: [metrics]}\n",
        );
        let d = &rules[0].dst;
        assert_eq!(d.ip_set_ids, vec![sel("a == 'x'").unique_id()]);
        assert_eq!(
            d.ports,
            vec![PortRange {
                min: 5353,
                max: 5353
            }]
        );
        assert_eq!(d.named_port_ip_set_ids.len(), 1);
        assert_eq!(d.not_named_port_ip_set_ids.len(), 1);
        assert_eq!(rules[0].protocol, Some(17));
        assert!(
            defs.values()
                .filter_map(|d| d.named_port.as_ref())
                .all(|np| np.protocol == 17)
        );
    }
}
