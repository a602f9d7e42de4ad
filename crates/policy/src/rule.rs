//! The backend ("v1") form of a rule: selectors scoped and parsed, CIDRs parsed, the action in
//! Felix's vocabulary. This is what a dataplane renders and what the evaluator matches.

use calico_api::{Action, EntityRule, IcmpFields, Port, Protocol, Rule};
use calico_selector::Selector;
use ipnet::IpNet;
use serde::{Serialize, Serializer};

use crate::scope::entity_selectors;

/// Where a rule comes from, for error messages and for namespace scoping.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RuleContext<'a> {
    pub kind: &'static str,
    pub name: &'a str,
    /// The policy's namespace; `None` for global policies and profiles.
    pub namespace: Option<&'a str>,
}

/// One end (source or destination) of a backend rule.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendEntity {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nets: Vec<IpNet>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_nets: Vec<IpNet>,
    /// The peer must be (in) a Calico endpoint or network set matching this.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_selector"
    )]
    pub selector: Option<Selector>,
    /// The peer must not be (in) an endpoint or network set matching this.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_selector"
    )]
    pub not_selector: Option<Selector>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_ports: Vec<Port>,
}

impl BackendEntity {
    fn is_empty(&self) -> bool {
        *self == BackendEntity::default()
    }
}

fn ser_selector<S: Serializer>(sel: &Option<Selector>, s: S) -> Result<S::Ok, S::Error> {
    match sel {
        Some(sel) => s.collect_str(sel),
        None => s.serialize_none(),
    }
}

/// A compiled rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendRule {
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_version: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_protocol: Option<Protocol>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp: Option<IcmpFields>,
    #[serde(rename = "notICMP", skip_serializing_if = "Option::is_none")]
    pub not_icmp: Option<IcmpFields>,
    #[serde(skip_serializing_if = "BackendEntity::is_empty")]
    pub source: BackendEntity,
    #[serde(skip_serializing_if = "BackendEntity::is_empty")]
    pub destination: BackendEntity,
}

impl BackendRule {
    /// A rule that matches everything.
    pub fn match_all(action: Action) -> BackendRule {
        BackendRule {
            action,
            ip_version: None,
            protocol: None,
            not_protocol: None,
            icmp: None,
            not_icmp: None,
            source: BackendEntity::default(),
            destination: BackendEntity::default(),
        }
    }

    /// Compiles a v3 rule; `field` is its path (`spec.ingress[0]`).
    pub(crate) fn compile(
        rule: &Rule,
        ctx: RuleContext<'_>,
        field: &str,
    ) -> Result<BackendRule, crate::ModelError> {
        Ok(BackendRule {
            action: rule.action,
            ip_version: rule.ip_version,
            protocol: rule.protocol,
            not_protocol: rule.not_protocol,
            icmp: rule.icmp.clone(),
            not_icmp: rule.not_icmp.clone(),
            source: compile_entity(&rule.source, ctx, &format!("{field}.source"))?,
            destination: compile_entity(&rule.destination, ctx, &format!("{field}.destination"))?,
        })
    }
}

fn compile_entity(
    e: &EntityRule,
    ctx: RuleContext<'_>,
    field: &str,
) -> Result<BackendEntity, crate::ModelError> {
    let (selector, not_selector) =
        entity_selectors(e, ctx.namespace).map_err(|source| crate::ModelError::Selector {
            kind: ctx.kind,
            name: ctx.name.to_string(),
            field: field.to_string(),
            source: Box::new(source),
        })?;
    let nets = |list: &[String], sub: &str| -> Result<Vec<IpNet>, crate::ModelError> {
        list.iter()
            .map(|n| {
                calico_api::parse_net(n).ok_or_else(|| crate::ModelError::Cidr {
                    kind: ctx.kind,
                    name: ctx.name.to_string(),
                    field: format!("{field}.{sub}"),
                    value: n.clone(),
                })
            })
            .collect()
    };
    Ok(BackendEntity {
        nets: nets(&e.nets, "nets")?,
        not_nets: nets(&e.not_nets, "notNets")?,
        selector,
        not_selector,
        ports: e.ports.clone(),
        not_ports: e.not_ports.clone(),
    })
}

impl BackendRule {
    /// A one-line description: the action, then every match field that is set, in rule
    /// order (`Allow protocol=TCP source.selector=(...) destination.ports=[80]`).
    pub fn summary(&self) -> String {
        let mut out = format!("{:?}", self.action);
        if let Some(v) = self.ip_version {
            out.push_str(&format!(" ipVersion={v}"));
        }
        if let Some(p) = self.protocol {
            out.push_str(&format!(" protocol={p}"));
        }
        if let Some(p) = self.not_protocol {
            out.push_str(&format!(" notProtocol={p}"));
        }
        let icmp = |name: &str, f: &IcmpFields| {
            let mut s = format!(" {name}=type:");
            match f.icmp_type {
                Some(t) => s.push_str(&t.to_string()),
                None => s.push('*'),
            }
            if let Some(c) = f.code {
                s.push_str(&format!(",code:{c}"));
            }
            s
        };
        if let Some(f) = &self.icmp {
            out.push_str(&icmp("icmp", f));
        }
        if let Some(f) = &self.not_icmp {
            out.push_str(&icmp("notICMP", f));
        }
        self.source.summary_into("source", &mut out);
        self.destination.summary_into("destination", &mut out);
        out
    }
}

impl BackendEntity {
    fn summary_into(&self, side: &str, out: &mut String) {
        let list = |v: &[String]| format!("[{}]", v.join(","));
        if !self.nets.is_empty() {
            let v: Vec<String> = self.nets.iter().map(ToString::to_string).collect();
            out.push_str(&format!(" {side}.nets={}", list(&v)));
        }
        if !self.not_nets.is_empty() {
            let v: Vec<String> = self.not_nets.iter().map(ToString::to_string).collect();
            out.push_str(&format!(" {side}.notNets={}", list(&v)));
        }
        if let Some(s) = &self.selector {
            out.push_str(&format!(
                " {side}.selector={}",
                parenthesized(&s.to_string())
            ));
        }
        if let Some(s) = &self.not_selector {
            out.push_str(&format!(
                " {side}.notSelector={}",
                parenthesized(&s.to_string())
            ));
        }
        if !self.ports.is_empty() {
            let v: Vec<String> = self.ports.iter().map(ToString::to_string).collect();
            out.push_str(&format!(" {side}.ports={}", list(&v)));
        }
        if !self.not_ports.is_empty() {
            let v: Vec<String> = self.not_ports.iter().map(ToString::to_string).collect();
            out.push_str(&format!(" {side}.notPorts={}", list(&v)));
        }
    }
}

/// `s` wrapped in parentheses unless one pair already encloses all of it.
fn parenthesized(s: &str) -> String {
    let mut depth = 0usize;
    let mut in_quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (in_quote, c) {
            (Some(q), c) if c == q => in_quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => in_quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth = depth.saturating_sub(1);
                if depth == 0 && i + 1 < s.len() {
                    return format!("({s})");
                }
            }
            (None, _) if depth == 0 => return format!("({s})"),
            _ => {}
        }
    }
    s.to_string()
}
