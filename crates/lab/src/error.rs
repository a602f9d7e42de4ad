//! The lab's errors: each names what was being done and what went wrong.

use std::path::PathBuf;

/// Everything that can go wrong in a lab operation.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// Bad command-line input (a name, an address, a port list...).
    #[error("{0}")]
    Invalid(String),
    /// The lab (or a part of it) is not in the state the operation needs.
    #[error("{0}")]
    State(String),
    /// A file or directory operation failed.
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// A command the lab runs failed.
    #[error("`{command}` failed ({status}): {output}")]
    Command {
        command: String,
        status: String,
        output: String,
    },
    /// A program the lab needs is not installed or not built.
    #[error("{0}")]
    Missing(String),
    /// The datastore refused or failed an operation.
    #[error("datastore: {0}")]
    Datastore(String),
    /// Something did not happen within its bounded wait.
    #[error("{0}")]
    Timeout(String),
    /// A kernel call failed.
    #[error("{what}: {source}")]
    Sys { what: String, source: nix::Error },
}

pub type Result<T, E = LabError> = std::result::Result<T, E>;

impl LabError {
    pub(crate) fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        LabError::Io {
            what,
            path: path.into(),
            source,
        }
    }
}

impl From<calico_client::ClientError> for LabError {
    fn from(e: calico_client::ClientError) -> Self {
        LabError::Datastore(e.to_string())
    }
}
