//! Parse errors, written for the person who typed the selector.

use crate::MAX_LABEL_LEN;

/// Why a selector failed to parse. The [`ParseError`] around it says where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// A character that cannot start any token (newlines and non-ASCII characters included:
    /// only space and tab separate tokens).
    #[error("unexpected character {0:?}{hint}", hint = whitespace_hint(*.0))]
    UnexpectedChar(char),
    /// A single `=`.
    #[error("expected \"==\" but found a single '='")]
    LoneEquals,
    /// A single `&`.
    #[error("expected \"&&\" but found a single '&'")]
    LoneAmpersand,
    /// A single `|`.
    #[error("expected \"||\" but found a single '|'")]
    LonePipe,
    /// A string literal without its closing quote.
    #[error("unterminated string: no closing {0} to match this one")]
    UnterminatedString(char),
    /// A label name longer than [`MAX_LABEL_LEN`] characters.
    #[error("label is {len} characters long; the maximum is {MAX_LABEL_LEN}")]
    LabelTooLong {
        /// The length found.
        len: usize,
    },
    /// A label not followed by an operator.
    #[error(
        "expected an operator after label {label:?} \
         (==, !=, in, not in, contains, starts with, ends with)"
    )]
    ExpectedOperator {
        /// The label just read.
        label: String,
    },
    /// `has(` not followed by a label name.
    #[error("expected a label name inside has()")]
    ExpectedHasLabel,
    /// `has(label`, `all(` or `global(` without the closing parenthesis.
    #[error("expected ')' to close {func}(")]
    UnclosedCall {
        /// `has`, `all` or `global`.
        func: &'static str,
    },
    /// Parentheses nested deeper than [`crate::MAX_NESTING`].
    #[error("parentheses nested more than {max} deep")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The grammar wanted one thing and found another.
    #[error("expected {expected}, found {found}")]
    Expected {
        /// What the grammar allows here.
        expected: &'static str,
        /// A description of the token found.
        found: String,
    },
}

fn whitespace_hint(c: char) -> &'static str {
    if c.is_whitespace() {
        " (only spaces and tabs may separate tokens)"
    } else {
        ""
    }
}

/// A selector that could not be parsed: the input, where it failed and why.
///
/// Displays as `selector "a == b": at column 6: expected a quoted string, found label "b"`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("selector {shown:?}: at column {column}: {kind}", shown = shorten(&self.selector))]
pub struct ParseError {
    /// The whole input.
    pub selector: String,
    /// Byte offset of the failure in `selector` (always on a character boundary).
    pub offset: usize,
    /// 1-based column of the failure, counted in characters.
    pub column: usize,
    /// What went wrong.
    pub kind: ParseErrorKind,
}

impl ParseError {
    pub(crate) fn new(selector: &str, offset: usize, kind: ParseErrorKind) -> ParseError {
        let offset = floor_char_boundary(selector, offset);
        let column = selector[..offset].chars().count() + 1;
        ParseError {
            selector: selector.to_owned(),
            offset,
            column,
            kind,
        }
    }
}

/// The largest character boundary at or before `offset` (clamped to the string).
fn floor_char_boundary(s: &str, offset: usize) -> usize {
    let mut offset = offset.min(s.len());
    while !s.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Long selectors are cut in messages; the column still points into the full input.
fn shorten(selector: &str) -> String {
    const SHOWN: usize = 100;
    match selector.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}...", &selector[..cut]),
        None => selector.to_owned(),
    }
}
