//! Compiling namespace and service-account scoping into single selectors over endpoint labels,
//! as Calico's update processors do (`updateprocessors/rules.go`, `networkpolicyprocessor.go`,
//! `globalnetworkpolicyprocessor.go`; inventory §3.7).

use calico_api::{EntityRule, ServiceAccountMatch};
use calico_selector::{CmpOp, Node, ParseError, Selector, SetOp};

/// The label holding an endpoint's namespace.
pub const LABEL_NAMESPACE: &str = "projectcalico.org/namespace";
/// The label holding a pod's service account.
pub const LABEL_SERVICE_ACCOUNT: &str = "projectcalico.org/serviceaccount";
/// The label holding the orchestrator (`k8s` for pods).
pub const LABEL_ORCHESTRATOR: &str = "projectcalico.org/orchestrator";
/// Prefix of labels inherited from the namespace (profile `kns.<ns>`).
pub const PREFIX_NAMESPACE: &str = "pcns.";
/// Prefix of labels inherited from the service account (profile `ksa.<ns>.<sa>`).
pub const PREFIX_SERVICE_ACCOUNT: &str = "pcsa.";

/// `projectcalico.org/namespace == "<ns>"`.
pub fn namespace_clause(ns: &str) -> Selector {
    Selector::from_node(Node::Cmp {
        label: LABEL_NAMESPACE.into(),
        op: CmpOp::Eq,
        value: ns.into(),
    })
}

fn parse_opt(s: &str) -> Result<Option<Selector>, ParseError> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        Selector::parse(s).map(Some)
    }
}

fn and_opt(a: Option<Selector>, b: Option<Selector>) -> Option<Selector> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.and(&b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// A namespace selector as a selector over endpoint labels: labels prefixed `pcns.`,
/// `all()` → `has(projectcalico.org/namespace)`, `global()` → `!has(projectcalico.org/namespace)`.
fn scoped_namespace_selector(sel: &Selector) -> Selector {
    let has_ns = Node::Has(LABEL_NAMESPACE.into());
    sel.with_label_prefix(PREFIX_NAMESPACE)
        .replace_all(&has_ns)
        .replace_global(&Node::Not(Box::new(has_ns)))
}

/// A policy-level service-account selector: labels prefixed `pcsa.`, and for the global
/// kinds `all()` → `has(projectcalico.org/serviceaccount)`.
fn scoped_sa_selector(sel: &Selector, global: bool) -> Selector {
    let prefixed = sel.with_label_prefix(PREFIX_SERVICE_ACCOUNT);
    if global {
        prefixed.replace_all(&Node::Has(LABEL_SERVICE_ACCOUNT.into()))
    } else {
        prefixed
    }
}

/// The endpoint selector of a namespaced policy: `(<selector>) && <ns clause>`, then ANDed
/// with the `pcsa.`-prefixed service-account selector.
pub fn namespaced_policy_selector(
    selector: &str,
    namespace: &str,
    sa_selector: &str,
) -> Result<Selector, ParseError> {
    let ns = namespace_clause(namespace);
    let base = match parse_opt(selector)? {
        Some(sel) => sel.and(&ns),
        None => ns,
    };
    let sa = parse_opt(sa_selector)?.map(|s| scoped_sa_selector(&s, false));
    Ok(and_opt(Some(base), sa).unwrap_or_default())
}

/// The endpoint selector of a global policy: selector ANDed with the scoped namespace and
/// service-account selectors. Empty everything selects every endpoint (HEPs included).
pub fn global_policy_selector(
    selector: &str,
    namespace_selector: &str,
    sa_selector: &str,
) -> Result<Selector, ParseError> {
    let sel = parse_opt(selector)?;
    let ns = parse_opt(namespace_selector)?.map(|s| scoped_namespace_selector(&s));
    let sa = parse_opt(sa_selector)?.map(|s| scoped_sa_selector(&s, true));
    Ok(and_opt(and_opt(sel, ns), sa).unwrap_or_default())
}

fn service_account_selector(sa: &ServiceAccountMatch) -> Result<Option<Selector>, ParseError> {
    let names = (!sa.names.is_empty()).then(|| {
        Selector::from_node(Node::Set {
            label: LABEL_SERVICE_ACCOUNT.into(),
            op: SetOp::In,
            values: sa.names.iter().cloned().collect(),
        })
    });
    let sel = parse_opt(&sa.selector)?.map(|s| s.with_label_prefix(PREFIX_SERVICE_ACCOUNT));
    Ok(and_opt(names, sel))
}

/// The positive and negated peer selectors of one end of a rule (`GetEntityRuleSelector`):
/// `policy_namespace` is the policy's namespace, `None` for the global kinds and profiles.
pub fn entity_selectors(
    e: &EntityRule,
    policy_namespace: Option<&str>,
) -> Result<(Option<Selector>, Option<Selector>), ParseError> {
    let ns = match parse_opt(&e.namespace_selector)? {
        Some(s) => Some(scoped_namespace_selector(&s)),
        None => policy_namespace.map(namespace_clause),
    };
    let sa = match &e.service_accounts {
        Some(sa) => service_account_selector(sa)?,
        None => None,
    };
    let sel = and_opt(sa, parse_opt(&e.selector)?);
    let not_sel = parse_opt(&e.not_selector)?;
    let scoped = sel.is_some() || not_sel.is_some() || !e.namespace_selector.trim().is_empty();
    let positive = match ns {
        Some(ns) if scoped => and_opt(Some(ns), sel),
        _ => sel,
    };
    Ok((positive, not_sel))
}
