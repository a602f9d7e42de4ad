//! Errors from the kernel adapter.

use std::path::PathBuf;

/// What went wrong talking to the kernel. Messages name the namespace and object.
#[derive(Debug, thiserror::Error)]
pub enum LinuxError {
    #[error("network namespace {} does not exist", path.display())]
    NetnsNotFound { path: PathBuf },
    #[error("network namespace {}: {source}", path.display())]
    Netns {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{op}: {message}")]
    Netlink {
        op: String,
        /// The positive errno the kernel returned, if it returned one.
        errno: Option<i32>,
        message: String,
    },
    #[error("link {name:?} does not exist in {}", ns.display())]
    LinkNotFound { ns: PathBuf, name: String },
    #[error("sysctl {key}: {source}")]
    Sysctl { key: String, source: std::io::Error },
    #[error("invalid argument: {0}")]
    Invalid(String),
    #[error("namespace worker: {0}")]
    Worker(String),
    /// Only [`crate::FakeNet`] returns this.
    #[error("injected failure at {0}")]
    Injected(String),
}

impl LinuxError {
    /// The kernel's errno, when there is one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            LinuxError::Netlink { errno, .. } => *errno,
            LinuxError::Sysctl { source, .. } | LinuxError::Netns { source, .. } => {
                source.raw_os_error()
            }
            _ => None,
        }
    }

    /// The object already exists (EEXIST).
    pub fn is_exists(&self) -> bool {
        self.errno() == Some(nix::errno::Errno::EEXIST as i32)
    }
}

pub type Result<T, E = LinuxError> = std::result::Result<T, E>;
