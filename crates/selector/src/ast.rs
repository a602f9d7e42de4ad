//! The selector syntax tree.
//!
//! The tree mirrors the grammar one to one: the parser never simplifies beyond what Calico does
//! (collapsing runs of `!` to their parity and unwrapping one-element `&&` / `||` lists), so the
//! canonical string printed from a tree is the string Calico prints for the same input.

use std::collections::BTreeSet;

/// A comparison between a label's value and one string literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CmpOp {
    /// `label == "v"`: the label is present and equal to `v`.
    Eq,
    /// `label != "v"`: the label is absent, or present with another value.
    Ne,
    /// `label contains "s"`: the label is present and its value contains `s`.
    Contains,
    /// `label starts with "s"`: the label is present and its value begins with `s`.
    StartsWith,
    /// `label ends with "s"`: the label is present and its value ends with `s`.
    EndsWith,
}

impl CmpOp {
    /// The operator as written in the canonical form, without surrounding spaces.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Contains => "contains",
            CmpOp::StartsWith => "starts with",
            CmpOp::EndsWith => "ends with",
        }
    }

    /// Applies the operator to a label value (`None` when the label is absent).
    #[must_use]
    pub fn apply(self, actual: Option<&str>, literal: &str) -> bool {
        match (self, actual) {
            (CmpOp::Ne, None) => true,
            (_, None) => false,
            (CmpOp::Eq, Some(v)) => v == literal,
            (CmpOp::Ne, Some(v)) => v != literal,
            (CmpOp::Contains, Some(v)) => v.contains(literal),
            (CmpOp::StartsWith, Some(v)) => v.starts_with(literal),
            (CmpOp::EndsWith, Some(v)) => v.ends_with(literal),
        }
    }
}

/// Set membership: `in` or `not in`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SetOp {
    /// `label in {...}`: the label is present and its value is in the set.
    In,
    /// `label not in {...}`: the label is absent, or its value is not in the set.
    NotIn,
}

impl SetOp {
    /// The operator as written in the canonical form.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SetOp::In => "in",
            SetOp::NotIn => "not in",
        }
    }
}

/// One node of a selector expression.
///
/// `And` and `Or` produced by the parser always have at least two operands. Trees built by hand
/// should keep that shape (use [`Node::and`] / [`Node::or`]); a zero- or one-operand list still
/// evaluates sensibly (empty `And` is true, empty `Or` is false) but does not print back to the
/// same tree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Node {
    /// `all()`: matches everything. Also what the empty selector parses to.
    All,
    /// `global()`: matches everything when evaluated; marks "non-namespaced objects" in a
    /// `namespaceSelector`, where callers rewrite it (see [`crate::Selector::replace_global`]).
    Global,
    /// `has(label)`.
    Has(String),
    /// `label <op> "value"`.
    Cmp {
        /// The label name.
        label: String,
        /// The comparison.
        op: CmpOp,
        /// The string literal.
        value: String,
    },
    /// `label in {...}` / `label not in {...}`; the set is sorted and de-duplicated.
    Set {
        /// The label name.
        label: String,
        /// Membership or non-membership.
        op: SetOp,
        /// The set literal.
        values: BTreeSet<String>,
    },
    /// `!expr`.
    Not(Box<Node>),
    /// `expr && expr && ...`.
    And(Vec<Node>),
    /// `expr || expr || ...`.
    Or(Vec<Node>),
}

impl Node {
    /// `has(label)`.
    #[must_use]
    pub fn has(label: impl Into<String>) -> Node {
        Node::Has(label.into())
    }

    /// `label <op> "value"`.
    #[must_use]
    pub fn cmp(label: impl Into<String>, op: CmpOp, value: impl Into<String>) -> Node {
        Node::Cmp {
            label: label.into(),
            op,
            value: value.into(),
        }
    }

    /// `label == "value"`.
    #[must_use]
    pub fn eq(label: impl Into<String>, value: impl Into<String>) -> Node {
        Node::cmp(label, CmpOp::Eq, value)
    }

    /// `label in {...}` or `label not in {...}`.
    #[must_use]
    pub fn set<I, V>(label: impl Into<String>, op: SetOp, values: I) -> Node
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        Node::Set {
            label: label.into(),
            op,
            values: values.into_iter().map(Into::into).collect(),
        }
    }

    /// `!node`.
    #[must_use]
    pub fn negate(node: Node) -> Node {
        Node::Not(Box::new(node))
    }

    /// `a && b && ...`, keeping the parser's shape: no operands gives `all()`, one operand is
    /// returned unwrapped.
    #[must_use]
    pub fn and(mut operands: Vec<Node>) -> Node {
        match operands.len() {
            0 => Node::All,
            1 => operands.pop().unwrap_or(Node::All),
            _ => Node::And(operands),
        }
    }

    /// `a || b || ...`, keeping the parser's shape: no operands gives `!all()` (matches nothing),
    /// one operand is returned unwrapped.
    #[must_use]
    pub fn or(mut operands: Vec<Node>) -> Node {
        match operands.len() {
            0 => Node::negate(Node::All),
            1 => operands.pop().unwrap_or(Node::All),
            _ => Node::Or(operands),
        }
    }

    /// The label a leaf node tests, if this is a leaf that tests one.
    #[must_use]
    pub fn label(&self) -> Option<&str> {
        match self {
            Node::Has(l) | Node::Cmp { label: l, .. } | Node::Set { label: l, .. } => Some(l),
            _ => None,
        }
    }

    /// Calls `f` on this node and every node below it, parents before children.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Node)) {
        f(self);
        match self {
            Node::Not(inner) => inner.walk(f),
            Node::And(ops) | Node::Or(ops) => ops.iter().for_each(|op| op.walk(f)),
            _ => {}
        }
    }
}
