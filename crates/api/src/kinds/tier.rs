//! Tier: an ordered group of policies, with the action for traffic that reaches the end of the
//! tier without a verdict. Also the Kubernetes-style status [`StatusCondition`] used by tiers and
//! policies.

use serde::{Deserialize, Serialize};

use super::rule::Action;
use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// The tier policies belong to when they name none.
pub const DEFAULT_TIER_NAME: &str = "default";
/// The order of the `default` tier.
pub const DEFAULT_TIER_ORDER: f64 = 1_000_000.0;
/// The tier Kubernetes AdminNetworkPolicies (ClusterNetworkPolicy, admin tier) are placed in.
pub const KUBE_ADMIN_TIER_NAME: &str = "kube-admin";
/// The order of the `kube-admin` tier.
pub const KUBE_ADMIN_TIER_ORDER: f64 = 1_000.0;
/// The tier Kubernetes BaselineAdminNetworkPolicies are placed in.
pub const KUBE_BASELINE_TIER_NAME: &str = "kube-baseline";
/// The order of the `kube-baseline` tier.
pub const KUBE_BASELINE_TIER_ORDER: f64 = 10_000_000.0;

/// The order and default action Calico requires of a well-known tier name, if it is one.
pub fn well_known_tier(name: &str) -> Option<(f64, Action)> {
    match name {
        DEFAULT_TIER_NAME => Some((DEFAULT_TIER_ORDER, Action::Deny)),
        KUBE_ADMIN_TIER_NAME => Some((KUBE_ADMIN_TIER_ORDER, Action::Pass)),
        KUBE_BASELINE_TIER_NAME => Some((KUBE_BASELINE_TIER_ORDER, Action::Pass)),
        _ => None,
    }
}

/// `Tier` (cluster-scoped).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Tier {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: TierSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TierStatus>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TierSpec {
    /// Tiers apply in ascending order; `None` is last (ties broken by name).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::serde_util::opt_float"
    )]
    pub order: Option<f64>,
    /// What happens to traffic that hits a policy of this tier but no rule: `Deny` (the
    /// default) or `Pass` to the next tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_action: Option<Action>,
}

/// Status written by the tier controller.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TierStatus {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<StatusCondition>,
}

/// A Kubernetes `metav1.Condition` (the status conditions of tiers and policies).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StatusCondition {
    #[serde(default, rename = "type")]
    pub condition_type: String,
    /// `True`, `False` or `Unknown`.
    #[serde(default)]
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default)]
    pub last_transition_time: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub message: String,
}

crate::impl_kind!(
    Tier,
    kind: "Tier",
    api_version: crate::resource::CALICO_API_VERSION,
    plural: "tiers",
    namespaced: false,
    name_rule: crate::resource::NameRule::Label,
);

impl Tier {
    /// The default action in effect (`Deny` when unset).
    pub fn effective_default_action(&self) -> Action {
        self.spec.default_action.unwrap_or(Action::Deny)
    }

    fn defaults(&mut self) {
        if self.spec.default_action.is_none() {
            self.spec.default_action = Some(Action::Deny);
        }
        if self.spec.order.is_none()
            && let Some((order, _)) = well_known_tier(&self.metadata.name)
        {
            self.spec.order = Some(order);
        }
    }

    fn check(&self, v: &mut Validator) {
        let name = &self.metadata.name;
        v.field("spec", |v| {
            if let Some(order) = self.spec.order
                && !order.is_finite()
            {
                v.error_at("order", "order must be a finite number");
            }
            if let Some(action) = self.spec.default_action
                && !matches!(action, Action::Deny | Action::Pass)
            {
                v.error_at(
                    "defaultAction",
                    format!(
                        "{:?} is not a valid tier default action: expected Deny or Pass",
                        action.as_str()
                    ),
                );
            }
            let Some((order, action)) = well_known_tier(name) else {
                return;
            };
            if self.effective_default_action() != action {
                v.error_at(
                    "defaultAction",
                    format!(
                        "the {name:?} tier must have default action {:?}",
                        action.as_str()
                    ),
                );
            }
            if let Some(o) = self.spec.order
                && o != order
            {
                v.error_at(
                    "order",
                    format!("the {name:?} tier must have order {order} (found {o})"),
                );
            }
        });
    }
}
