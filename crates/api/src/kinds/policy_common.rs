//! Defaulting and validation shared by the four Calico policy kinds.

use super::policy::{PerformanceHint, default_policy_types, tier_or_default};
use super::rule::{PolicyType, Rule};
use super::rule_check::{GlobalUse, RuleScope, check_rules, check_selector_field, check_unique};
use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// The label Calico stamps on every policy with the name of its tier.
pub const LABEL_TIER: &str = "projectcalico.org/tier";

/// The fields of a policy spec that validation looks at, borrowed from any of the kinds.
pub(crate) struct PolicyView<'a> {
    pub tier: &'a str,
    pub order: Option<f64>,
    pub ingress: &'a [Rule],
    pub egress: &'a [Rule],
    pub selector: &'a str,
    pub types: &'a [PolicyType],
    pub service_account_selector: &'a str,
    pub performance_hints: &'a [PerformanceHint],
    /// Present for the global kinds.
    pub global: Option<GlobalFlags<'a>>,
}

/// The fields only global policies have.
pub(crate) struct GlobalFlags<'a> {
    pub namespace_selector: &'a str,
    pub do_not_track: bool,
    pub pre_dnat: bool,
    pub apply_on_forward: bool,
}

/// Calico's policy defaulting: namespace `default` (namespaced kinds), tier `default`, `types`
/// from the rules present (cleared for a staged Delete), and the tier label.
pub(crate) fn default_policy(
    meta: &mut ObjectMeta,
    namespaced: bool,
    tier: &mut String,
    types: &mut Vec<PolicyType>,
    has_ingress: bool,
    has_egress: bool,
    staged_delete: bool,
) {
    if namespaced && meta.namespace.is_empty() {
        meta.namespace = "default".into();
    }
    if tier.is_empty() {
        *tier = tier_or_default("").to_string();
    }
    if staged_delete {
        types.clear();
    } else if types.is_empty() {
        *types = default_policy_types(has_ingress, has_egress);
    }
    meta.labels.insert(LABEL_TIER.into(), tier.clone());
}

/// Validate a policy spec (everything under `spec`).
pub(crate) fn check_policy(v: &mut Validator, p: &PolicyView<'_>) {
    v.field("spec", |v| {
        if !p.tier.is_empty() {
            v.field("tier", |v| {
                v.check_dns_subdomain(p.tier);
            });
        }
        if let Some(order) = p.order
            && !order.is_finite()
        {
            v.error_at("order", "order must be a finite number");
        }
        check_selector_field(v, "selector", p.selector, GlobalUse::Forbidden);
        check_selector_field(
            v,
            "serviceAccountSelector",
            p.service_account_selector,
            GlobalUse::Forbidden,
        );
        check_types(v, p.types);
        if !p.performance_hints.is_empty() {
            v.field("performanceHints", |v| check_unique(v, p.performance_hints));
        }
        let scope = if p.global.is_some() {
            RuleScope::Global
        } else {
            RuleScope::Namespaced
        };
        check_rules(v, "ingress", p.ingress, PolicyType::Ingress, scope);
        check_rules(v, "egress", p.egress, PolicyType::Egress, scope);
        if let Some(g) = &p.global {
            check_global_flags(v, p, g);
        }
    });
}

/// At most one of each type (so at most two). Empty is accepted: defaulting fills it in.
fn check_types(v: &mut Validator, types: &[PolicyType]) {
    let mut seen: Vec<PolicyType> = Vec::new();
    for t in types {
        if seen.contains(t) {
            v.error_at(
                "types",
                format!("'{}' type specified more than once", t.as_str()),
            );
        } else {
            seen.push(*t);
        }
    }
}

/// The CEL rules of GlobalNetworkPolicy on preDNAT / doNotTrack / applyOnForward.
fn check_global_flags(v: &mut Validator, p: &PolicyView<'_>, g: &GlobalFlags<'_>) {
    check_selector_field(
        v,
        "namespaceSelector",
        g.namespace_selector,
        GlobalUse::Forbidden,
    );
    if g.pre_dnat && g.do_not_track {
        v.error_at("preDNAT", "preDNAT and doNotTrack cannot both be true");
    }
    if g.pre_dnat && !p.egress.is_empty() {
        v.error_at("egress", "preDNAT policy cannot have any egress rules");
    }
    if g.pre_dnat && p.types.contains(&PolicyType::Egress) {
        v.error_at("types", "preDNAT policy cannot have 'Egress' type");
    }
    if !g.apply_on_forward && (g.pre_dnat || g.do_not_track) {
        v.error_at(
            "applyOnForward",
            "applyOnForward must be true if either preDNAT or doNotTrack is true",
        );
    }
}

/// A staged policy with `stagedAction: Delete` may set nothing but its tier.
pub(crate) fn check_staged_delete(v: &mut Validator, fields: &[(&str, bool)]) {
    let set: Vec<&str> = fields
        .iter()
        .filter(|(_, is_set)| *is_set)
        .map(|(name, _)| *name)
        .collect();
    if !set.is_empty() {
        v.error_at(
            "spec",
            format!(
                "with stagedAction Delete, spec fields other than tier must be empty (found {})",
                set.join(", ")
            ),
        );
    }
}
