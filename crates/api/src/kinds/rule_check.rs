//! Validation of [`Rule`]s and the selectors policies use, following Calico's validator
//! (`validateRule`, `validateEntityRule`, `validatePort`, ...) and the CEL/OpenAPI constraints of
//! its CRDs (list sizes, `x-kubernetes-list-type: set` uniqueness, selector lengths).

use std::collections::{BTreeMap, HashSet};
use std::hash::Hash;

use ipnet::IpNet;

use super::rule::{Action, EntityRule, HttpMatch, HttpPath, IcmpFields, PolicyType, Rule};
use crate::validate::{Validator, is_dns_subdomain, label_key_problem};

/// At most this many rules per direction.
pub const MAX_RULES: usize = 1024;
/// At most this many entries in `nets` / `notNets`.
pub const MAX_NETS: usize = 256;
/// At most this many entries in `ports` / `notPorts`.
pub const MAX_PORTS: usize = 50;
/// Selectors are limited to this many characters.
pub const MAX_SELECTOR_LEN: usize = 1024;
/// Annotations (keys plus values) are limited to this many bytes in total.
pub const MAX_ANNOTATIONS_BYTES: usize = 256 * 1024;
const MAX_HTTP_ITEMS: usize = 20;
const MAX_HTTP_PATH_LEN: usize = 1024;

const GLOBAL_ONLY_IN_NS_SELECTOR: &str =
    "global() can only be used in an EntityRule namespaceSelector";

/// Where a list of rules lives; decides the direction-specific checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RuleScope {
    /// NetworkPolicy / StagedNetworkPolicy.
    Namespaced,
    /// GlobalNetworkPolicy / StagedGlobalNetworkPolicy (services need a namespace).
    Global,
    /// Profile (no direction-specific checks, as in Calico).
    Profile,
}

/// How `global()` may appear in a selector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GlobalUse {
    Forbidden,
    /// Allowed, but only as the whole selector (EntityRule `namespaceSelector`).
    Alone,
    Allowed,
}

/// Check a selector field: length, syntax and use of `global()`. Records errors at `field`.
pub(crate) fn check_selector_field(v: &mut Validator, field: &str, value: &str, global: GlobalUse) {
    if value.is_empty() {
        return;
    }
    v.field(field, |v| {
        if value.len() > MAX_SELECTOR_LEN {
            v.error(format!(
                "selector is too long ({} characters): at most {MAX_SELECTOR_LEN} are allowed",
                value.len()
            ));
        }
        v.check_selector(value);
        let uses_global = value.contains("global(");
        match global {
            GlobalUse::Forbidden if uses_global => v.error(GLOBAL_ONLY_IN_NS_SELECTOR),
            GlobalUse::Alone
                if uses_global && value.split_whitespace().collect::<String>() != "global()" =>
            {
                v.error("global() cannot be combined with other selectors")
            }
            _ => {}
        }
    });
}

/// Report the entries of `items` that repeat an earlier one (CRD `listType=set`).
pub(crate) fn check_unique<T: Eq + Hash + std::fmt::Debug>(v: &mut Validator, items: &[T]) {
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        if !seen.insert(item) {
            v.index(i, |v| {
                v.error(format!("duplicate entry {item:?}: entries must be unique"))
            });
        }
    }
}

/// Annotation keys must be qualified names (any case); keys plus values at most 256 KiB.
pub(crate) fn check_annotations(v: &mut Validator, annotations: &BTreeMap<String, String>) {
    let mut total = 0usize;
    for (k, val) in annotations {
        if let Err(msg) = label_key_problem(&k.to_lowercase()) {
            v.key(k, |v| {
                v.error(msg.replacen("label key", "annotation key", 1))
            });
        }
        total += k.len() + val.len();
    }
    if total > MAX_ANNOTATIONS_BYTES {
        v.error(format!(
            "annotations total {total} bytes: at most {MAX_ANNOTATIONS_BYTES} are allowed"
        ));
    }
}

/// Check the list of rules at `field` (`ingress` or `egress`).
pub(crate) fn check_rules(
    v: &mut Validator,
    field: &str,
    rules: &[Rule],
    dir: PolicyType,
    scope: RuleScope,
) {
    if rules.is_empty() {
        return;
    }
    v.field(field, |v| {
        if rules.len() > MAX_RULES {
            v.error(format!(
                "{} rules is too many: at most {MAX_RULES} are allowed",
                rules.len()
            ));
        }
        for (i, rule) in rules.iter().enumerate() {
            v.index(i, |v| {
                check_rule(v, rule);
                if scope != RuleScope::Profile {
                    check_rule_direction(v, rule, dir, scope);
                }
            });
        }
    });
}

/// All checks on one rule that do not depend on where it is used.
pub(crate) fn check_rule(v: &mut Validator, r: &Rule) {
    for (field, proto) in [("protocol", r.protocol), ("notProtocol", r.not_protocol)] {
        if let Some(p) = proto {
            if let Some(msg) = p.problem() {
                v.error_at(field, msg);
            }
            if let Some(ver) = r.ip_version {
                if p.is_icmp() && ver != 4 {
                    v.error_at(
                        field,
                        format!("protocol ICMP requires ipVersion 4 (ipVersion is {ver})"),
                    );
                }
                if p.is_icmpv6() && ver != 6 {
                    v.error_at(
                        field,
                        format!("protocol ICMPv6 requires ipVersion 6 (ipVersion is {ver})"),
                    );
                }
            }
        }
    }
    if let Some(ver) = r.ip_version
        && ver != 4
        && ver != 6
    {
        v.error_at(
            "ipVersion",
            format!("{ver} is not an IP version: expected 4 or 6"),
        );
    }

    check_rule_ports(v, r);

    for (field, icmp) in [("icmp", &r.icmp), ("notICMP", &r.not_icmp)] {
        if let Some(f) = icmp {
            if !r.protocol.is_some_and(|p| p.is_icmp() || p.is_icmpv6()) {
                v.error_at(field, "ICMP fields require protocol to be ICMP or ICMPv6");
            }
            v.field(field, |v| check_icmp(v, f));
        }
    }

    check_rule_nets(v, r);

    if let Some(h) = &r.http {
        if r.action != Action::Allow {
            v.error_at(
                "http",
                format!(
                    "HTTP match is only valid on Allow rules (action is {})",
                    r.action.as_str()
                ),
            );
        }
        if let Some(p) = r.protocol
            && p.number() != 6
        {
            v.error_at(
                "http",
                format!("rules with HTTP match must have protocol TCP or unset (protocol is {p})"),
            );
        }
        v.field("http", |v| check_http(v, h));
    }

    if r.destination.services.is_some() {
        for (field, ports) in [
            ("ports", &r.destination.ports),
            ("notPorts", &r.destination.not_ports),
        ] {
            if !ports.is_empty() {
                v.field("destination", |v| {
                    v.error_at(
                        field,
                        "ports and notPorts cannot be specified with services",
                    )
                });
            }
        }
    }

    v.field("source", |v| check_entity_rule(v, &r.source));
    v.field("destination", |v| check_entity_rule(v, &r.destination));

    if let Some(m) = &r.metadata {
        v.field("metadata", |v| {
            v.field("annotations", |v| check_annotations(v, &m.annotations))
        });
    }
}

/// Ports need a protocol that has ports; without a protocol only named ports are allowed.
fn check_rule_ports(v: &mut Validator, r: &Rule) {
    for (end_name, end) in [("source", &r.source), ("destination", &r.destination)] {
        for (field, ports) in [("ports", &end.ports), ("notPorts", &end.not_ports)] {
            if ports.is_empty() {
                continue;
            }
            let msg = match r.protocol {
                None if ports.iter().any(|p| !p.is_named()) => Some(
                    "rules with numeric port or port range must set protocol to TCP or UDP or SCTP"
                        .to_string(),
                ),
                Some(p) if !p.supports_ports() => Some(format!(
                    "rules that specify ports must set protocol to TCP or UDP or SCTP (protocol is {p})"
                )),
                _ => None,
            };
            if let Some(msg) = msg {
                v.field(end_name, |v| v.error_at(field, msg));
            }
        }
    }
}

fn check_icmp(v: &mut Validator, f: &IcmpFields) {
    if let Some(t) = f.icmp_type
        && t > 254
    {
        v.error_at(
            "type",
            format!("ICMP type {t} is out of range: expected 0-254"),
        );
    }
    if f.code.is_some() && f.icmp_type.is_none() {
        v.error_at("code", "ICMP code specified without an ICMP type");
    }
}

/// CIDR syntax, masking, negated catch-alls, and IP-version consistency across all nets.
fn check_rule_nets(v: &mut Validator, r: &Rule) {
    let (mut seen_v4, mut seen_v6) = (false, false);
    for (end_name, end) in [("source", &r.source), ("destination", &r.destination)] {
        for (field, nets, negated) in [("nets", &end.nets, false), ("notNets", &end.not_nets, true)]
        {
            if nets.is_empty() {
                continue;
            }
            v.field(end_name, |v| {
                v.field(field, |v| {
                    if nets.len() > MAX_NETS {
                        v.error(format!(
                            "{} entries is too many: at most {MAX_NETS} are allowed",
                            nets.len()
                        ));
                    }
                    check_unique(v, nets);
                    let (mut v4, mut v6) = (false, false);
                    for (i, n) in nets.iter().enumerate() {
                        match rule_net(n, negated) {
                            Ok(net) => {
                                v4 |= matches!(net, IpNet::V4(_));
                                v6 |= matches!(net, IpNet::V6(_));
                            }
                            Err(msg) => v.index(i, |v| v.error(msg)),
                        }
                    }
                    if let Some(ver) = r.ip_version
                        && ((v4 && ver != 4) || (v6 && ver != 6))
                    {
                        v.error(format!(
                            "rule IP version doesn't match CIDR version (ipVersion is {ver})"
                        ));
                    }
                    if (v4 && seen_v6) || (v6 && seen_v4) || (v4 && v6) {
                        v.error("rule contains both IPv4 and IPv6 CIDRs");
                    }
                    seen_v4 |= v4;
                    seen_v6 |= v6;
                })
            });
        }
    }
}

/// One entry of `nets`/`notNets`: a CIDR or a bare IP (a /32 or /128), host bits allowed as in
/// Calico (the rule matches the masked network).
fn rule_net(s: &str, negated: bool) -> Result<IpNet, String> {
    let Some(net) = crate::validate::parse_cidr_or_ip(s) else {
        return Err(format!(
            "{s:?} is not a valid CIDR or IP address: expected e.g. 10.0.0.0/16, 10.0.0.1 or \
             fd00::/64"
        ));
    };
    if negated && net.prefix_len() == 0 {
        return Err(format!(
            "catch-all CIDR {s:?} in notNets creates a logical contradiction (matches no traffic)"
        ));
    }
    Ok(net)
}

fn check_http(v: &mut Validator, h: &HttpMatch) {
    if !h.methods.is_empty() {
        v.field("methods", |v| {
            if h.methods.len() > MAX_HTTP_ITEMS {
                v.error(format!(
                    "{} methods is too many: at most {MAX_HTTP_ITEMS} are allowed",
                    h.methods.len()
                ));
            }
            check_unique(v, &h.methods);
        });
    }
    if !h.paths.is_empty() {
        v.field("paths", |v| {
            if h.paths.len() > MAX_HTTP_ITEMS {
                v.error(format!(
                    "{} paths is too many: at most {MAX_HTTP_ITEMS} are allowed",
                    h.paths.len()
                ));
            }
            for (i, p) in h.paths.iter().enumerate() {
                v.index(i, |v| check_http_path(v, p));
            }
        });
    }
}

fn check_http_path(v: &mut Validator, p: &HttpPath) {
    let value = match (p.exact.is_empty(), p.prefix.is_empty()) {
        (false, false) => {
            v.error("invalid path match: set either 'exact' or 'prefix', not both");
            return;
        }
        (true, true) => {
            v.error("invalid path match: either 'exact' or 'prefix' must be set");
            return;
        }
        (false, true) => &p.exact,
        (true, false) => &p.prefix,
    };
    if value.len() > MAX_HTTP_PATH_LEN {
        v.error(format!(
            "path is too long ({} characters): at most {MAX_HTTP_PATH_LEN} are allowed",
            value.len()
        ));
    }
    if !value.starts_with('/') || value.contains(['?', ' ', '#']) {
        v.error(format!(
            "invalid path {value:?}: must start with '/' and not contain '?', '#' or spaces"
        ));
    }
}

fn check_entity_rule(v: &mut Validator, e: &EntityRule) {
    check_selector_field(v, "selector", &e.selector, GlobalUse::Forbidden);
    check_selector_field(v, "notSelector", &e.not_selector, GlobalUse::Allowed);
    check_selector_field(
        v,
        "namespaceSelector",
        &e.namespace_selector,
        GlobalUse::Alone,
    );
    for (field, ports) in [("ports", &e.ports), ("notPorts", &e.not_ports)] {
        if ports.is_empty() {
            continue;
        }
        v.field(field, |v| {
            if ports.len() > MAX_PORTS {
                v.error(format!(
                    "{} ports is too many: at most {MAX_PORTS} are allowed",
                    ports.len()
                ));
            }
            for (i, p) in ports.iter().enumerate() {
                if let Some(msg) = p.problem() {
                    v.index(i, |v| v.error(msg));
                }
            }
        });
    }
    if let Some(sa) = &e.service_accounts {
        v.field("serviceAccounts", |v| {
            v.field("names", |v| check_unique(v, &sa.names));
            check_selector_field(v, "selector", &sa.selector, GlobalUse::Allowed);
        });
    }
    if let Some(svc) = &e.services {
        v.field("services", |v| {
            if svc.name.is_empty() {
                v.error_at("name", "services must specify a service name");
            }
            for (field, value) in [("name", &svc.name), ("namespace", &svc.namespace)] {
                if !value.is_empty() && !is_dns_subdomain(value) {
                    v.field(field, |v| {
                        v.check_dns_subdomain(value);
                    });
                }
            }
            let mut conflict = |what: &str| {
                v.error(format!(
                    "cannot specify {what} and Services on the same rule"
                ));
            };
            if !e.namespace_selector.is_empty() {
                conflict("NamespaceSelector");
            }
            if e.service_accounts.is_some() {
                conflict("ServiceAccounts");
            }
            if !e.selector.is_empty() || !e.not_selector.is_empty() {
                conflict("Selector/NotSelector");
            }
            if !e.nets.is_empty() || !e.not_nets.is_empty() {
                conflict("Nets/NotNets");
            }
        });
    }
}

/// Services only in ingress sources and egress destinations; no HTTP in egress rules; services
/// in global policies must name their namespace.
fn check_rule_direction(v: &mut Validator, r: &Rule, dir: PolicyType, scope: RuleScope) {
    match dir {
        PolicyType::Egress => {
            if r.source.services.is_some() {
                v.field("source", |v| {
                    v.error_at(
                        "services",
                        "services are not allowed in an egress rule's source",
                    )
                });
            }
            if r.http.is_some() {
                v.error_at("http", "HTTP match is not allowed in egress rules");
            }
        }
        PolicyType::Ingress => {
            if r.destination.services.is_some() {
                v.field("destination", |v| {
                    v.error_at(
                        "services",
                        "services are not allowed in an ingress rule's destination",
                    )
                });
            }
        }
    }
    if scope == RuleScope::Global {
        let (end_name, end) = match dir {
            PolicyType::Ingress => ("source", &r.source),
            PolicyType::Egress => ("destination", &r.destination),
        };
        if let Some(svc) = &end.services
            && svc.namespace.is_empty()
        {
            v.field(end_name, |v| {
                v.field("services", |v| {
                    v.error_at(
                        "namespace",
                        "must specify a namespace: a global policy has no namespace of its own",
                    )
                })
            });
        }
    }
}
