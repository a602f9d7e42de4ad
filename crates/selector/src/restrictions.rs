//! Label restrictions: what a selector says about individual labels, independent of the rest of
//! the expression. They never change what a selector matches; the [`crate::LabelIndex`] uses them
//! to avoid evaluating a selector against items that cannot match it.
//!
//! Derivation (as Calico's `LabelRestrictions()`): `==` and `in` require presence and one of
//! their values; `has`, `contains`, `starts with`, `ends with` require presence; `!has(x)`
//! requires absence; `!=`, `not in`, `all()`, `global()` and any other `!` say nothing. An `&&`
//! combines its operands' restrictions (presence or absence from any operand, intersection of
//! value sets); an `||` keeps only what every branch requires (union of value sets).

use std::collections::{BTreeMap, BTreeSet};

use crate::ast::{CmpOp, Node, SetOp};

/// What a selector requires of one label.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelRestriction {
    /// The label must be present for the selector to match.
    pub must_be_present: bool,
    /// The label must be absent for the selector to match.
    pub must_be_absent: bool,
    /// When `Some`, the label's value must be one of these. An empty set means the selector can
    /// never match (for example `a == "x" && a == "y"`).
    pub one_of: Option<BTreeSet<String>>,
}

impl LabelRestriction {
    /// Whether no labels at all can satisfy this restriction.
    #[must_use]
    pub fn is_unsatisfiable(&self) -> bool {
        (self.must_be_present && self.must_be_absent)
            || self.one_of.as_ref().is_some_and(BTreeSet::is_empty)
    }

    /// Whether a label with this value (`None`: absent) satisfies the restriction.
    #[must_use]
    pub fn allows(&self, value: Option<&str>) -> bool {
        match value {
            None => !self.must_be_present && self.one_of.is_none(),
            Some(v) => !self.must_be_absent && self.one_of.as_ref().is_none_or(|s| s.contains(v)),
        }
    }
}

/// Restrictions by label name. Labels the selector says nothing about are not in the map.
pub type LabelRestrictions = BTreeMap<String, LabelRestriction>;

fn present(label: &str, one_of: Option<BTreeSet<String>>) -> LabelRestrictions {
    let r = LabelRestriction {
        must_be_present: true,
        must_be_absent: false,
        one_of,
    };
    BTreeMap::from([(label.to_owned(), r)])
}

impl Node {
    /// The per-label restrictions implied by this expression.
    #[must_use]
    pub fn label_restrictions(&self) -> LabelRestrictions {
        match self {
            Node::All | Node::Global => LabelRestrictions::new(),
            Node::Has(label) => present(label, None),
            Node::Cmp {
                label,
                op: CmpOp::Eq,
                value,
            } => present(label, Some(BTreeSet::from([value.clone()]))),
            Node::Cmp { op: CmpOp::Ne, .. }
            | Node::Set {
                op: SetOp::NotIn, ..
            } => LabelRestrictions::new(),
            Node::Cmp { label, .. } => present(label, None),
            Node::Set {
                label,
                op: SetOp::In,
                values,
            } => present(label, Some(values.clone())),
            Node::Not(inner) => match inner.as_ref() {
                Node::Has(label) => {
                    let r = LabelRestriction {
                        must_be_absent: true,
                        ..Default::default()
                    };
                    BTreeMap::from([(label.clone(), r)])
                }
                // !(a == "b") does not require the absence of a, and so on.
                _ => LabelRestrictions::new(),
            },
            Node::And(ops) => {
                let mut acc = LabelRestrictions::new();
                for op in ops {
                    for (label, r) in op.label_restrictions() {
                        let base = acc.entry(label).or_default();
                        base.must_be_present |= r.must_be_present;
                        base.must_be_absent |= r.must_be_absent;
                        base.one_of = match (base.one_of.take(), r.one_of) {
                            (None, other) | (other, None) => other,
                            (Some(a), Some(b)) => Some(a.intersection(&b).cloned().collect()),
                        };
                    }
                }
                acc
            }
            Node::Or(ops) => {
                let mut iter = ops.iter();
                let Some(first) = iter.next() else {
                    return LabelRestrictions::new();
                };
                let mut acc = first.label_restrictions();
                for op in iter {
                    let other = op.label_restrictions();
                    acc = acc
                        .into_iter()
                        .filter_map(|(label, r)| {
                            let o = other.get(&label).cloned().unwrap_or_default();
                            combine_or(r, o).map(|r| (label, r))
                        })
                        .collect();
                }
                acc
            }
        }
    }
}

/// What both of two alternatives require, or `None` if that is nothing.
fn combine_or(a: LabelRestriction, b: LabelRestriction) -> Option<LabelRestriction> {
    let must_be_present = a.must_be_present && b.must_be_present;
    let must_be_absent = a.must_be_absent && b.must_be_absent;
    let one_of = match (must_be_present, a.one_of, b.one_of) {
        (true, Some(mut x), Some(y)) => {
            x.extend(y);
            Some(x)
        }
        _ => None,
    };
    (must_be_present || must_be_absent).then_some(LabelRestriction {
        must_be_present,
        must_be_absent,
        one_of,
    })
}
