//! Harness errors: each names the command, peer or namespace it concerns.

use std::time::Duration;

/// A harness failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A peer binary is not installed.
    #[error("{binary} not found: install the Debian package {package} (scripts/deps.sh does)")]
    MissingBinary {
        binary: &'static str,
        package: &'static str,
    },
    /// A command could not be run or exited non-zero.
    #[error("command `{cmd}` failed: {detail}")]
    Command { cmd: String, detail: String },
    /// A bounded wait ran out.
    #[error("timed out after {after:?} waiting for {what}")]
    Timeout { what: String, after: Duration },
    /// Output of a peer's CLI did not have the expected shape.
    #[error("{peer}: unexpected output of `{what}`: {detail}")]
    Parse {
        peer: String,
        what: String,
        detail: String,
    },
    /// Namespace or file-system work failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// The kernel adapter failed (namespace creation).
    #[error(transparent)]
    Linux(#[from] calico_linux::LinuxError),
}

/// Result alias of the harness.
pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}
