//! Kubernetes label selectors (`matchLabels` / `matchExpressions`), as used by Kubernetes
//! NetworkPolicy pod and namespace selectors, with the API server's validation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::validate::{Validator, is_label_value, label_key_problem};

/// A Kubernetes label selector: `matchLabels` and `matchExpressions`, ANDed. Empty selects all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelectorRequirement {
    pub key: String,
    pub operator: LabelSelectorOperator,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LabelSelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl LabelSelector {
    /// True when the selector selects everything.
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// Whether `labels` satisfy the selector (Kubernetes semantics: `NotIn` matches a missing
    /// label).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|e| {
                let value = labels.get(&e.key);
                match e.operator {
                    LabelSelectorOperator::In => value.is_some_and(|v| e.values.contains(v)),
                    LabelSelectorOperator::NotIn => !value.is_some_and(|v| e.values.contains(v)),
                    LabelSelectorOperator::Exists => value.is_some(),
                    LabelSelectorOperator::DoesNotExist => value.is_none(),
                }
            })
    }
}

pub(crate) fn check_label_selector(v: &mut Validator, s: &LabelSelector) {
    if !s.match_labels.is_empty() {
        v.field("matchLabels", |v| v.check_labels(&s.match_labels));
    }
    if s.match_expressions.is_empty() {
        return;
    }
    v.field("matchExpressions", |v| {
        for (i, e) in s.match_expressions.iter().enumerate() {
            v.index(i, |v| {
                if let Err(msg) = label_key_problem(&e.key) {
                    v.error_at("key", msg);
                }
                match e.operator {
                    LabelSelectorOperator::In | LabelSelectorOperator::NotIn
                        if e.values.is_empty() =>
                    {
                        v.error_at(
                            "values",
                            "must be specified when `operator` is 'In' or 'NotIn'",
                        )
                    }
                    LabelSelectorOperator::Exists | LabelSelectorOperator::DoesNotExist
                        if !e.values.is_empty() =>
                    {
                        v.error_at(
                            "values",
                            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                        )
                    }
                    _ => {}
                }
                for (j, value) in e.values.iter().enumerate() {
                    if !is_label_value(value) {
                        v.field("values", |v| {
                            v.index(j, |v| {
                                v.error(format!(
                                    "{value:?} is not a valid label value: expected at most 63 \
                                     characters of alphanumerics, '-', '_' and '.', starting and \
                                     ending with an alphanumeric"
                                ))
                            })
                        });
                    }
                }
            });
        }
    });
}
