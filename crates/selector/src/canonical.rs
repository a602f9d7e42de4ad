//! The canonical string form and the unique ID derived from it.
//!
//! The canonical form is Calico's `Selector.String()`: `label == "v"` with double quotes unless
//! the value contains a double quote (then single quotes); sets sorted and de-duplicated as
//! `label in {"a", "b"}`; `has(x)`, `all()`, `global()`; `!` prefixed with no space; every
//! `&&` / `||` list wrapped in one pair of parentheses.
//!
//! One deliberate difference: a `!` applied directly to another `!` (only reachable by writing
//! `!(!x)`) prints as `!(!x)`, where Calico prints `!!x`, which reparses as `x`. Keeping the
//! parentheses makes the canonical form an exact round trip for every tree the parser produces.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha224};

use crate::ast::Node;

/// Calico's `MakeUniqueID`: `prefix + ":" + base64url_nopad(SHA-224(prefix + ":" + content))`.
///
/// Selectors use prefix `"s"`; Felix also uses `"n"` for named-port IP sets and `"svc"` /
/// `"svcnoport"` for service IP sets.
#[must_use]
pub fn make_unique_id(prefix: &str, content: &str) -> String {
    let mut hasher = Sha224::new();
    hasher.update(prefix.as_bytes());
    hasher.update(b":");
    hasher.update(content.as_bytes());
    format!("{prefix}:{}", URL_SAFE_NO_PAD.encode(hasher.finalize()))
}

/// Writes `value` in the quotes Calico chooses for it.
fn write_quoted(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    let quote = if value.contains('"') { '\'' } else { '"' };
    write!(f, "{quote}{value}{quote}")
}

fn write_list(f: &mut fmt::Formatter<'_>, ops: &[Node], sep: &str) -> fmt::Result {
    f.write_str("(")?;
    for (i, op) in ops.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{op}")?;
    }
    f.write_str(")")
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::All => f.write_str("all()"),
            Node::Global => f.write_str("global()"),
            Node::Has(label) => write!(f, "has({label})"),
            Node::Cmp { label, op, value } => {
                write!(f, "{label} {} ", op.as_str())?;
                write_quoted(f, value)
            }
            Node::Set { label, op, values } => {
                write!(f, "{label} {} {{", op.as_str())?;
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_quoted(f, value)?;
                }
                f.write_str("}")
            }
            Node::Not(inner) => match inner.as_ref() {
                Node::Not(_) => write!(f, "!({inner})"),
                _ => write!(f, "!{inner}"),
            },
            // Lists of fewer than two operands are never produced by the parser; print them as
            // something that evaluates the same rather than as invalid text.
            Node::And(ops) if ops.is_empty() => f.write_str("all()"),
            Node::Or(ops) if ops.is_empty() => f.write_str("!all()"),
            Node::And(ops) => write_list(f, ops, " && "),
            Node::Or(ops) => write_list(f, ops, " || "),
        }
    }
}
