//! NetworkPolicy, GlobalNetworkPolicy and their staged variants (`networkpolicy.go`,
//! `globalnetworkpolicy.go`, `staged*.go` in Calico).
//!
//! The four kinds share their defaulting (tier `default`, `types` from the rules present, the
//! `projectcalico.org/tier` label) and most of their validation; both live in `policy_common.rs`.

use serde::{Deserialize, Serialize};

use super::policy_common::{
    GlobalFlags, PolicyView, check_policy, check_staged_delete, default_policy,
};
use super::rule::{PolicyType, Rule};
use super::tier::StatusCondition;
use crate::meta::ObjectMeta;
use crate::serde_util::is_false;
use crate::validate::Validator;

/// A hint to the policy engine; never changes what the policy enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PerformanceHint {
    /// Treat the policy as needed on every node even if no local endpoint matches it.
    AssumeNeededOnEveryNode,
}

/// What applying a staged policy would do to its enforced counterpart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StagedAction {
    /// Create or replace the enforced policy (the default).
    Set,
    /// Delete the enforced policy.
    Delete,
    Learn,
    Ignore,
}

/// `NetworkPolicy` (namespaced): applies to endpoints in its namespace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkPolicy {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: NetworkPolicySpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PolicyStatus>,
}

/// Status conditions of a policy (e.g. `Valid`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyStatus {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<StatusCondition>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkPolicySpec {
    /// The tier; empty means `default`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tier: String,
    /// Order within the tier, ascending; `None` is last (ties broken by name).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::serde_util::opt_float"
    )]
    pub order: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<Rule>,
    /// The endpoints (in the namespace) the policy applies to; empty means all.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub selector: String,
    /// The directions the policy applies to; defaulted from the rules when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<PolicyType>,
    /// Selects pods by the labels of their service account.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub service_account_selector: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub performance_hints: Vec<PerformanceHint>,
}

/// `GlobalNetworkPolicy` (cluster-scoped): applies to endpoints of every namespace and to host
/// endpoints.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GlobalNetworkPolicy {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: GlobalNetworkPolicySpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GlobalNetworkPolicySpec {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tier: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::serde_util::opt_float"
    )]
    pub order: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<Rule>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub selector: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<PolicyType>,
    /// Apply before connection tracking; allowed packets are not tracked.
    #[serde(default, skip_serializing_if = "is_false")]
    pub do_not_track: bool,
    /// Apply before DNAT (host endpoint ingress only).
    #[serde(default, rename = "preDNAT", skip_serializing_if = "is_false")]
    pub pre_dnat: bool,
    /// Also apply to traffic forwarded through host endpoints.
    #[serde(default, skip_serializing_if = "is_false")]
    pub apply_on_forward: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub service_account_selector: String,
    /// Selects workload endpoints by the labels of their namespace.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace_selector: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub performance_hints: Vec<PerformanceHint>,
}

/// `StagedNetworkPolicy`: a NetworkPolicy that is evaluated (for flow logs) but not enforced.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StagedNetworkPolicy {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: StagedNetworkPolicySpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StagedNetworkPolicySpec {
    /// Defaults to `Set`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staged_action: Option<StagedAction>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tier: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::serde_util::opt_float"
    )]
    pub order: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<Rule>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub selector: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<PolicyType>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub service_account_selector: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub performance_hints: Vec<PerformanceHint>,
}

/// `StagedGlobalNetworkPolicy`: a GlobalNetworkPolicy that is evaluated but not enforced.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StagedGlobalNetworkPolicy {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: StagedGlobalNetworkPolicySpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StagedGlobalNetworkPolicySpec {
    /// Defaults to `Set`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staged_action: Option<StagedAction>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tier: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::serde_util::opt_float"
    )]
    pub order: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<Rule>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub selector: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<PolicyType>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub do_not_track: bool,
    #[serde(default, rename = "preDNAT", skip_serializing_if = "is_false")]
    pub pre_dnat: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub apply_on_forward: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub service_account_selector: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace_selector: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub performance_hints: Vec<PerformanceHint>,
}

crate::impl_kind!(
    NetworkPolicy,
    kind: "NetworkPolicy",
    api_version: crate::resource::CALICO_API_VERSION,
    plural: "networkpolicies",
    namespaced: true,
    name_rule: crate::resource::NameRule::NetworkPolicy,
);
crate::impl_kind!(
    GlobalNetworkPolicy,
    kind: "GlobalNetworkPolicy",
    api_version: crate::resource::CALICO_API_VERSION,
    plural: "globalnetworkpolicies",
    namespaced: false,
    name_rule: crate::resource::NameRule::GlobalNetworkPolicy,
);
crate::impl_kind!(
    StagedNetworkPolicy,
    kind: "StagedNetworkPolicy",
    api_version: crate::resource::CALICO_API_VERSION,
    plural: "stagednetworkpolicies",
    namespaced: true,
    name_rule: crate::resource::NameRule::NetworkPolicy,
);
crate::impl_kind!(
    StagedGlobalNetworkPolicy,
    kind: "StagedGlobalNetworkPolicy",
    api_version: crate::resource::CALICO_API_VERSION,
    plural: "stagedglobalnetworkpolicies",
    namespaced: false,
    name_rule: crate::resource::NameRule::GlobalNetworkPolicy,
);

/// The tier name in effect: `tier`, or `default` when empty.
pub fn tier_or_default(tier: &str) -> &str {
    if tier.is_empty() {
        super::tier::DEFAULT_TIER_NAME
    } else {
        tier
    }
}

/// The `types` Calico defaults to for a policy with these rules: `[Ingress]` unless there are
/// egress rules; `[Egress]` with only egress rules; both with both.
pub fn default_policy_types(has_ingress: bool, has_egress: bool) -> Vec<PolicyType> {
    match (has_ingress, has_egress) {
        (_, false) => vec![PolicyType::Ingress],
        (false, true) => vec![PolicyType::Egress],
        (true, true) => vec![PolicyType::Ingress, PolicyType::Egress],
    }
}

impl NetworkPolicySpec {
    /// `types`, or what defaulting would make of them when empty.
    pub fn effective_types(&self) -> Vec<PolicyType> {
        effective_types(&self.types, &self.ingress, &self.egress)
    }
}

impl GlobalNetworkPolicySpec {
    /// `types`, or what defaulting would make of them when empty.
    pub fn effective_types(&self) -> Vec<PolicyType> {
        effective_types(&self.types, &self.ingress, &self.egress)
    }
}

fn effective_types(types: &[PolicyType], ingress: &[Rule], egress: &[Rule]) -> Vec<PolicyType> {
    if types.is_empty() {
        default_policy_types(!ingress.is_empty(), !egress.is_empty())
    } else {
        types.to_vec()
    }
}

impl NetworkPolicy {
    fn view(&self) -> PolicyView<'_> {
        let s = &self.spec;
        PolicyView {
            tier: &s.tier,
            order: s.order,
            ingress: &s.ingress,
            egress: &s.egress,
            selector: &s.selector,
            types: &s.types,
            service_account_selector: &s.service_account_selector,
            performance_hints: &s.performance_hints,
            global: None,
        }
    }

    fn defaults(&mut self) {
        let s = &mut self.spec;
        let (i, e) = (!s.ingress.is_empty(), !s.egress.is_empty());
        default_policy(
            &mut self.metadata,
            true,
            &mut s.tier,
            &mut s.types,
            i,
            e,
            false,
        );
    }

    fn check(&self, v: &mut Validator) {
        check_policy(v, &self.view());
    }
}

impl GlobalNetworkPolicy {
    fn view(&self) -> PolicyView<'_> {
        let s = &self.spec;
        PolicyView {
            tier: &s.tier,
            order: s.order,
            ingress: &s.ingress,
            egress: &s.egress,
            selector: &s.selector,
            types: &s.types,
            service_account_selector: &s.service_account_selector,
            performance_hints: &s.performance_hints,
            global: Some(GlobalFlags {
                namespace_selector: &s.namespace_selector,
                do_not_track: s.do_not_track,
                pre_dnat: s.pre_dnat,
                apply_on_forward: s.apply_on_forward,
            }),
        }
    }

    fn defaults(&mut self) {
        let s = &mut self.spec;
        let (i, e) = (!s.ingress.is_empty(), !s.egress.is_empty());
        default_policy(
            &mut self.metadata,
            false,
            &mut s.tier,
            &mut s.types,
            i,
            e,
            false,
        );
    }

    fn check(&self, v: &mut Validator) {
        check_policy(v, &self.view());
    }
}

impl StagedNetworkPolicy {
    /// The staged action in effect (`Set` when unset).
    pub fn effective_staged_action(&self) -> StagedAction {
        self.spec.staged_action.unwrap_or(StagedAction::Set)
    }

    /// The staged action and the NetworkPolicy this staged policy describes (server-set
    /// metadata such as `uid` and `resourceVersion` cleared).
    pub fn to_enforced(&self) -> (StagedAction, NetworkPolicy) {
        let s = &self.spec;
        let mut metadata = self.metadata.clone();
        metadata.uid.clear();
        metadata.resource_version.clear();
        let spec = NetworkPolicySpec {
            tier: s.tier.clone(),
            order: s.order,
            ingress: s.ingress.clone(),
            egress: s.egress.clone(),
            selector: s.selector.clone(),
            types: s.types.clone(),
            service_account_selector: s.service_account_selector.clone(),
            performance_hints: s.performance_hints.clone(),
        };
        let policy = NetworkPolicy {
            metadata,
            spec,
            status: None,
        };
        (self.effective_staged_action(), policy)
    }

    fn defaults(&mut self) {
        let s = &mut self.spec;
        if s.staged_action.is_none() {
            s.staged_action = Some(StagedAction::Set);
        }
        let delete = s.staged_action == Some(StagedAction::Delete);
        let (i, e) = (!s.ingress.is_empty(), !s.egress.is_empty());
        default_policy(
            &mut self.metadata,
            true,
            &mut s.tier,
            &mut s.types,
            i,
            e,
            delete,
        );
    }

    fn check(&self, v: &mut Validator) {
        check_staged_name(v, &self.metadata.name);
        let (action, enforced) = self.to_enforced();
        if action == StagedAction::Delete {
            let s = &self.spec;
            check_staged_delete(
                v,
                &[
                    ("order", s.order.is_some()),
                    ("ingress", !s.ingress.is_empty()),
                    ("egress", !s.egress.is_empty()),
                    ("selector", !s.selector.is_empty()),
                    ("types", !s.types.is_empty()),
                    (
                        "serviceAccountSelector",
                        !s.service_account_selector.is_empty(),
                    ),
                    ("performanceHints", !s.performance_hints.is_empty()),
                ],
            );
        } else {
            check_policy(v, &enforced.view());
        }
    }
}

/// Staged namespaced policies may not use the name prefix of converted Kubernetes policies.
fn check_staged_name(v: &mut Validator, name: &str) {
    if name.starts_with("knp.default.") {
        v.field("metadata", |v| {
            v.error_at(
                "name",
                format!(
                    "{name:?}: a StagedNetworkPolicy name may not start with \"knp.default.\" \
                     (reserved for Kubernetes network policies)"
                ),
            )
        });
    }
}

impl StagedGlobalNetworkPolicy {
    /// The staged action in effect (`Set` when unset).
    pub fn effective_staged_action(&self) -> StagedAction {
        self.spec.staged_action.unwrap_or(StagedAction::Set)
    }

    /// The staged action and the GlobalNetworkPolicy this staged policy describes.
    pub fn to_enforced(&self) -> (StagedAction, GlobalNetworkPolicy) {
        let s = &self.spec;
        let mut metadata = self.metadata.clone();
        metadata.uid.clear();
        metadata.resource_version.clear();
        let spec = GlobalNetworkPolicySpec {
            tier: s.tier.clone(),
            order: s.order,
            ingress: s.ingress.clone(),
            egress: s.egress.clone(),
            selector: s.selector.clone(),
            types: s.types.clone(),
            do_not_track: s.do_not_track,
            pre_dnat: s.pre_dnat,
            apply_on_forward: s.apply_on_forward,
            service_account_selector: s.service_account_selector.clone(),
            namespace_selector: s.namespace_selector.clone(),
            performance_hints: s.performance_hints.clone(),
        };
        (
            self.effective_staged_action(),
            GlobalNetworkPolicy { metadata, spec },
        )
    }

    fn defaults(&mut self) {
        let s = &mut self.spec;
        if s.staged_action.is_none() {
            s.staged_action = Some(StagedAction::Set);
        }
        let delete = s.staged_action == Some(StagedAction::Delete);
        let (i, e) = (!s.ingress.is_empty(), !s.egress.is_empty());
        default_policy(
            &mut self.metadata,
            false,
            &mut s.tier,
            &mut s.types,
            i,
            e,
            delete,
        );
    }

    fn check(&self, v: &mut Validator) {
        let (action, enforced) = self.to_enforced();
        if action == StagedAction::Delete {
            let s = &self.spec;
            check_staged_delete(
                v,
                &[
                    ("order", s.order.is_some()),
                    ("ingress", !s.ingress.is_empty()),
                    ("egress", !s.egress.is_empty()),
                    ("selector", !s.selector.is_empty()),
                    ("types", !s.types.is_empty()),
                    ("doNotTrack", s.do_not_track),
                    ("preDNAT", s.pre_dnat),
                    ("applyOnForward", s.apply_on_forward),
                    (
                        "serviceAccountSelector",
                        !s.service_account_selector.is_empty(),
                    ),
                    ("namespaceSelector", !s.namespace_selector.is_empty()),
                    ("performanceHints", !s.performance_hints.is_empty()),
                ],
            );
        } else {
            check_policy(v, &enforced.view());
        }
    }
}
