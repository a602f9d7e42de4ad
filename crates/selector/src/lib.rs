//! Calico's label selector language.
//!
//! A selector such as `app == "web" && has(projectcalico.org/namespace)` picks the endpoints a
//! policy applies to, the peers a rule allows, the nodes an IP pool serves. This crate is the
//! whole language, pure and without I/O:
//!
//! - [`Selector::parse`]: lexer and recursive-descent parser with Calico's exact rules (labels
//!   `[a-zA-Z0-9_./-]{1,512}`, quotes without escapes, only space and tab as whitespace, the
//!   empty selector meaning `all()`), failing with a [`ParseError`] that says where and what was
//!   expected;
//! - [`Selector::matches`]: evaluation against any [`Labels`] (maps, or an endpoint's own labels
//!   layered over inherited profile labels with [`Merged`]);
//! - [`Display`](std::fmt::Display): the canonical form, and [`Selector::unique_id`], the
//!   SHA-224 ID Felix names selector IP sets by;
//! - [`Selector::map_labels`], [`Selector::replace_all`], [`Selector::replace_global`]: the
//!   rewrites used to scope selectors to namespaces and service accounts;
//! - [`Selector::label_restrictions`]: what a selector requires of single labels;
//! - [`LabelIndex`]: an incremental index of which selectors match which labelled items.
//!
//! ```
//! use std::collections::BTreeMap;
//! use calico_selector::Selector;
//!
//! let sel: Selector = "app == 'web' && tier in {'frontend', 'edge'}".parse()?;
//! assert_eq!(sel.to_string(), r#"(app == "web" && tier in {"edge", "frontend"})"#);
//! let labels = BTreeMap::from([("app".to_owned(), "web".to_owned()), ("tier".to_owned(), "edge".to_owned())]);
//! assert!(sel.matches(&labels));
//!
//! let err = Selector::parse("a == b").unwrap_err();
//! assert_eq!(err.to_string(), r#"selector "a == b": at column 6: expected a quoted string, found label "b""#);
//! # Ok::<(), calico_selector::ParseError>(())
//! ```
//!
//! Calico accepts selectors of any total length and nesting; this crate limits parenthesis
//! nesting to [`MAX_NESTING`] levels so that no input can exhaust the stack. The only other
//! departure from Calico is the canonical form of a `!` applied directly to another `!`
//! (see the `canonical` module docs): `!(!x)` prints as itself, where Calico prints `!!x`.

mod ast;
mod canonical;
mod error;
mod eval;
mod index;
mod lexer;
mod parser;
mod restrictions;
mod rewrite;

use std::fmt;
use std::str::FromStr;

pub use ast::{CmpOp, Node, SetOp};
pub use canonical::make_unique_id;
pub use error::{ParseError, ParseErrorKind};
pub use eval::{Labels, Merged, NoLabels};
pub use index::{LabelIndex, MatchChange, MatchDelta};
pub use lexer::is_valid_label;
pub use restrictions::{LabelRestriction, LabelRestrictions};

/// The longest label name a selector may contain (Calico's `MaxLabelLength`).
pub const MAX_LABEL_LEN: usize = 512;

/// How deeply parentheses may nest. Calico has no such limit; real selectors stay in single
/// digits, and the limit keeps the recursive parser, printer and evaluator off the stack's end.
pub const MAX_NESTING: usize = 100;

/// A parsed selector.
///
/// Equality is structural. For selectors that came from the parser, two are equal exactly when
/// their canonical forms (and so their unique IDs) are equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Selector {
    root: Node,
}

impl Selector {
    /// Parses `input`. The empty (or all-blank) selector is `all()`.
    ///
    /// # Errors
    /// A [`ParseError`] naming the column where parsing failed and what was expected there.
    pub fn parse(input: &str) -> Result<Selector, ParseError> {
        parser::parse(input).map(|root| Selector { root })
    }

    /// `all()`: matches everything.
    #[must_use]
    pub fn all() -> Selector {
        Selector { root: Node::All }
    }

    /// Wraps a tree built by hand.
    #[must_use]
    pub fn from_node(root: Node) -> Selector {
        Selector { root }
    }

    /// The expression tree.
    #[must_use]
    pub fn root(&self) -> &Node {
        &self.root
    }

    /// Takes the expression tree.
    #[must_use]
    pub fn into_node(self) -> Node {
        self.root
    }

    /// Whether the selector matches `labels`.
    pub fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        self.root.matches(labels)
    }

    /// The canonical string form (same as `to_string()`).
    #[must_use]
    pub fn to_canonical(&self) -> String {
        self.root.to_string()
    }

    /// Calico's unique ID: `"s:"` + base64url (no padding) of SHA-224 of `"s:"` + canonical form.
    #[must_use]
    pub fn unique_id(&self) -> String {
        make_unique_id("s", &self.to_canonical())
    }

    /// A copy with every label name `l` replaced by `f(l)`.
    #[must_use]
    pub fn map_labels(&self, f: impl Fn(&str) -> String) -> Selector {
        Selector {
            root: self.root.map_labels(&f),
        }
    }

    /// A copy with `prefix` put in front of every label name (Calico's `PrefixVisitor`, e.g.
    /// `pcns.` for namespace selectors, `pcsa.` for service-account selectors).
    #[must_use]
    pub fn with_label_prefix(&self, prefix: &str) -> Selector {
        self.map_labels(|label| format!("{prefix}{label}"))
    }

    /// A copy where every node for which `f` returns `Some(replacement)` is replaced; see
    /// [`Node::transform`].
    #[must_use]
    pub fn transform(&self, mut f: impl FnMut(&Node) -> Option<Node>) -> Selector {
        Selector {
            root: self.root.transform(&mut f),
        }
    }

    /// A copy with every `all()` replaced by `with`.
    #[must_use]
    pub fn replace_all(&self, with: &Node) -> Selector {
        self.transform(|n| matches!(n, Node::All).then(|| with.clone()))
    }

    /// A copy with every `global()` replaced by `with`.
    #[must_use]
    pub fn replace_global(&self, with: &Node) -> Selector {
        self.transform(|n| matches!(n, Node::Global).then(|| with.clone()))
    }

    /// Whether `global()` appears anywhere in the selector.
    #[must_use]
    pub fn uses_global(&self) -> bool {
        let mut found = false;
        self.root.walk(&mut |n| found |= matches!(n, Node::Global));
        found
    }

    /// The selector that parsing `(self) && (other)` gives, as Calico builds the selectors that
    /// scope policies and rules to namespaces (an explicit `all()` is kept, as Calico keeps it).
    #[must_use]
    pub fn and(&self, other: &Selector) -> Selector {
        Selector {
            root: Node::And(vec![self.root.clone(), other.root.clone()]),
        }
    }

    /// The label names the selector mentions, sorted and de-duplicated.
    #[must_use]
    pub fn label_names(&self) -> Vec<&str> {
        let mut names = Vec::new();
        self.root.walk(&mut |n| names.extend(n.label()));
        names.sort_unstable();
        names.dedup();
        names
    }

    /// What the selector requires of individual labels.
    #[must_use]
    pub fn label_restrictions(&self) -> LabelRestrictions {
        self.root.label_restrictions()
    }
}

impl Default for Selector {
    fn default() -> Selector {
        Selector::all()
    }
}

impl From<Node> for Selector {
    fn from(root: Node) -> Selector {
        Selector { root }
    }
}

impl FromStr for Selector {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Selector, ParseError> {
        Selector::parse(s)
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.root.fmt(f)
    }
}
