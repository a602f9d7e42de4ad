//! Rewriting selectors: renaming labels (Calico's `PrefixVisitor`, used to turn a namespace
//! selector into one over `pcns.`-prefixed endpoint labels) and substituting nodes (turning
//! `all()` into `has(projectcalico.org/namespace)` and so on).

use crate::ast::Node;

impl Node {
    /// A copy with every label name replaced by `f(name)`. Values, `all()` and `global()` are
    /// left alone.
    #[must_use]
    pub fn map_labels(&self, f: &impl Fn(&str) -> String) -> Node {
        self.transform(&mut |node| {
            Some(match node {
                Node::Has(label) => Node::Has(f(label)),
                Node::Cmp { label, op, value } => Node::Cmp {
                    label: f(label),
                    op: *op,
                    value: value.clone(),
                },
                Node::Set { label, op, values } => Node::Set {
                    label: f(label),
                    op: *op,
                    values: values.clone(),
                },
                _ => return None,
            })
        })
    }

    /// A copy where each node for which `f` returns `Some(replacement)` is replaced (and not
    /// descended into); other nodes are copied, with their children transformed in turn.
    /// Nodes are offered to `f` parents first.
    #[must_use]
    pub fn transform(&self, f: &mut impl FnMut(&Node) -> Option<Node>) -> Node {
        if let Some(replacement) = f(self) {
            return replacement;
        }
        match self {
            Node::Not(inner) => Node::Not(Box::new(inner.transform(f))),
            Node::And(ops) => Node::And(ops.iter().map(|op| op.transform(f)).collect()),
            Node::Or(ops) => Node::Or(ops.iter().map(|op| op.transform(f)).collect()),
            leaf => leaf.clone(),
        }
    }
}
