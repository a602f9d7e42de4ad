//! Turning SQLite errors into [`DatastoreError`]s that name the file and say what to do.

use std::path::Path;
use std::time::Duration;

use rusqlite::ErrorCode;

use crate::backend::DatastoreError;

/// Map a SQLite error that happened while doing `what` on the store at `path`.
pub(super) fn sql_error(
    path: &Path,
    busy_timeout: Duration,
    what: &str,
    err: rusqlite::Error,
) -> DatastoreError {
    let path_s = path.display().to_string();
    let code = match &err {
        rusqlite::Error::SqliteFailure(e, _) => Some(e.code),
        _ => None,
    };
    match code {
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => DatastoreError::Corrupt {
            path: path_s,
            detail: format!("{what}: {err}"),
        },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            DatastoreError::Unavailable(format!(
                "{what} on {path_s}: the datastore stayed locked by another process \
                 (gave up after waiting up to {} ms)",
                busy_timeout.as_millis()
            ))
        }
        Some(ErrorCode::CannotOpen) => {
            DatastoreError::Unavailable(format!("cannot open the datastore file {path_s}: {err}"))
        }
        Some(ErrorCode::PermissionDenied | ErrorCode::ReadOnly) => DatastoreError::Unavailable(
            format!("{what} on {path_s}: permission denied or read-only file system: {err}"),
        ),
        Some(ErrorCode::DiskFull) => {
            DatastoreError::Unavailable(format!("{what} on {path_s}: the disk is full"))
        }
        Some(ErrorCode::SystemIoFailure) => {
            DatastoreError::Unavailable(format!("{what} on {path_s}: I/O error: {err}"))
        }
        _ => DatastoreError::Internal(format!("{what} on {path_s}: {err}")),
    }
}
