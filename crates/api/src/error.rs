//! Errors: field-level validation errors and document decoding errors.

use std::fmt;

/// One problem with one field of one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path from the resource root, e.g. `spec.ingress[0].destination.ports[1]`.
    pub path: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// All validation errors of one resource, named by kind and `namespace/name`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    pub kind: String,
    /// `name` or `namespace/name` (may be empty when the resource has no name yet).
    pub name: String,
    pub errors: Vec<FieldError>,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = if self.name.is_empty() {
            self.kind.clone()
        } else {
            format!("{} {}", self.kind, self.name)
        };
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{who}: {e}")?;
        }
        Ok(())
    }
}

/// A document that could not be turned into a typed resource.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The text is not valid YAML/JSON.
    #[error("{0}")]
    Syntax(String),
    #[error("the document has no `kind` field (expected e.g. `kind: IPPool`)")]
    MissingKind,
    #[error("the document has no `apiVersion` field (expected `apiVersion: {expected}`)")]
    MissingApiVersion { expected: String },
    #[error("unknown kind {kind:?}; known kinds: {known}")]
    UnknownKind { kind: String, known: String },
    #[error("{kind}: apiVersion {found:?} is not supported (expected {expected:?})")]
    WrongApiVersion {
        kind: String,
        found: String,
        expected: String,
    },
    /// Structural problem in a typed field: unknown field, wrong type, bad value.
    #[error("{kind} {name}: {path}: {message}")]
    Field {
        kind: String,
        name: String,
        path: String,
        message: String,
    },
    #[error("the document is not a mapping (expected a resource with apiVersion, kind, metadata)")]
    NotAMapping,
}
