//! Profile: rules and labels that endpoints referencing it inherit; evaluated after all
//! policy tiers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::rule::{PolicyType, Rule};
use super::rule_check::{RuleScope, check_rules};
use crate::meta::ObjectMeta;
use crate::validate::Validator;

/// The static allow-all profile kube-controllers attaches to auto-created host endpoints.
pub const DEFAULT_ALLOW_PROFILE_NAME: &str = "projectcalico-default-allow";

/// `Profile` (cluster-scoped).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Profile {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: ProfileSpec,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProfileSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<Rule>,
    /// Labels endpoints inherit from this profile (the endpoint's own labels win).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels_to_apply: BTreeMap<String, String>,
}

crate::impl_kind!(
    Profile,
    kind: "Profile",
    api_version: crate::resource::CALICO_API_VERSION,
    plural: "profiles",
    namespaced: false,
);

impl Profile {
    fn defaults(&mut self) {}

    fn check(&self, v: &mut Validator) {
        let s = &self.spec;
        v.field("spec", |v| {
            check_rules(
                v,
                "ingress",
                &s.ingress,
                PolicyType::Ingress,
                RuleScope::Profile,
            );
            check_rules(
                v,
                "egress",
                &s.egress,
                PolicyType::Egress,
                RuleScope::Profile,
            );
            if !s.labels_to_apply.is_empty() {
                v.field("labelsToApply", |v| v.check_labels(&s.labels_to_apply));
            }
        });
    }
}
