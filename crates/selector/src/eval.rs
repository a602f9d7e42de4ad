//! Evaluating a selector against a set of labels.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use crate::ast::{Node, SetOp};

/// Something that can be asked for label values: an endpoint's labels, possibly layered over
/// the labels it inherits from its profiles.
pub trait Labels {
    /// The value of label `key`, or `None` when the label is absent.
    fn get(&self, key: &str) -> Option<&str>;
}

impl Labels for BTreeMap<String, String> {
    fn get(&self, key: &str) -> Option<&str> {
        BTreeMap::get(self, key).map(String::as_str)
    }
}

impl<S: BuildHasher> Labels for HashMap<String, String, S> {
    fn get(&self, key: &str) -> Option<&str> {
        HashMap::get(self, key).map(String::as_str)
    }
}

impl<L: Labels + ?Sized> Labels for &L {
    fn get(&self, key: &str) -> Option<&str> {
        (**self).get(key)
    }
}

/// No labels at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLabels;

impl Labels for NoLabels {
    fn get(&self, _key: &str) -> Option<&str> {
        None
    }
}

/// An endpoint's own labels layered over the labels inherited from its profiles: a label the
/// endpoint sets itself wins over an inherited one with the same name.
#[derive(Clone, Copy)]
pub struct Merged<'a> {
    /// The endpoint's own labels.
    pub own: &'a dyn Labels,
    /// Labels inherited from the endpoint's profiles (`labelsToApply`).
    pub inherited: &'a dyn Labels,
}

impl std::fmt::Debug for Merged<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Merged { .. }")
    }
}

impl<'a> Merged<'a> {
    /// Layers `own` over `inherited`.
    #[must_use]
    pub fn new(own: &'a dyn Labels, inherited: &'a dyn Labels) -> Merged<'a> {
        Merged { own, inherited }
    }
}

impl Labels for Merged<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.own.get(key).or_else(|| self.inherited.get(key))
    }
}

impl Node {
    /// Whether this expression is true for `labels`. `&&` and `||` short-circuit.
    pub fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        match self {
            Node::All | Node::Global => true,
            Node::Has(label) => labels.get(label).is_some(),
            Node::Cmp { label, op, value } => op.apply(labels.get(label), value),
            Node::Set { label, op, values } => match (op, labels.get(label)) {
                (SetOp::In, Some(v)) => values.contains(v),
                (SetOp::In, None) => false,
                (SetOp::NotIn, Some(v)) => !values.contains(v),
                (SetOp::NotIn, None) => true,
            },
            Node::Not(inner) => !inner.matches(labels),
            Node::And(ops) => ops.iter().all(|op| op.matches(labels)),
            Node::Or(ops) => ops.iter().any(|op| op.matches(labels)),
        }
    }
}
