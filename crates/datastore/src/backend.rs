//! The backend contract shared by every datastore implementation.
//!
//! Semantics (the conformance suite in `tests/conformance` checks each of them against every
//! backend):
//! - one store-wide, strictly increasing [`Revision`]; every successful write (create, update,
//!   delete) gets a new revision; a key's `mod_revision` is the revision of its last write and its
//!   `create_revision` the revision that created it;
//! - `create` fails with [`DatastoreError::AlreadyExists`] when the key exists;
//! - `update` fails with [`DatastoreError::NotFound`] when the key does not exist, and with
//!   [`DatastoreError::Conflict`] when `expected` is `Some(rev)` and the key's `mod_revision` is not
//!   `rev` (compare-and-swap); racing writers on one key: exactly one wins;
//! - `delete` has the same precondition rules and returns the deleted pair;
//! - `list(prefix)` returns every key starting with `prefix`, sorted by key, and the store revision
//!   the listing was taken at;
//! - `watch(prefix, from)` delivers, for [`WatchFrom::Snapshot`], one `Put` per existing key
//!   (sorted by key), then `InSync { revision }`, then every later change in revision order; for
//!   [`WatchFrom::After`]`(r)`, every change with revision > r in order, then `InSync` with the
//!   revision it caught up to, then live changes. Events are never lost, duplicated or reordered,
//!   also across reconnects of a networked backend. If `r` is older than the backend keeps history
//!   for, the watch yields [`DatastoreError::Compacted`] and ends; `oldest` in that error is the
//!   oldest revision whose change is still kept, so `WatchFrom::After(oldest - 1)` is served.
//!   A live watch whose next revision is compacted away while it is behind (a consumer stalled,
//!   or a networked backend disconnected) either ends with `Compacted` (memory, embedded) or
//!   resyncs by itself (etcd: a `Put` for every new or changed key and a `Delete` with `prev:
//!   None` for every vanished one, then `InSync`, then live changes). Consumers handle both: on
//!   `Compacted`, start again with [`WatchFrom::Snapshot`] and diff against what they hold.
//!
//! Revisions start wherever the backend starts them (etcd at 1, the others at 0); only their
//! order is meaningful. A failed write (error returned) changes nothing.

use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::Duration;

/// A store-wide revision number (etcd's `mod_revision`).
pub type Revision = i64;

/// One key with its value and revisions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: Vec<u8>,
    pub create_revision: Revision,
    pub mod_revision: Revision,
}

/// The result of [`Backend::list`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListResult {
    pub kvs: Vec<KeyValue>,
    /// The store revision at which the listing was consistent.
    pub revision: Revision,
}

/// Where a watch starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchFrom {
    /// Snapshot of current state, then `InSync`, then changes.
    Snapshot,
    /// Changes with revision strictly greater than this one, then `InSync`, then live changes.
    After(Revision),
}

/// One event delivered by a [`Watch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchEvent {
    /// The key was created or updated (also used for snapshot entries).
    Put(KeyValue),
    /// The key was deleted at `revision`; `prev` is the last value when the backend knows it.
    Delete {
        key: String,
        revision: Revision,
        prev: Option<KeyValue>,
    },
    /// Everything up to `revision` has been delivered.
    InSync { revision: Revision },
}

/// Errors from any backend. Messages are written for the operator.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DatastoreError {
    #[error("{key} already exists")]
    AlreadyExists { key: String },
    #[error("{key} does not exist")]
    NotFound { key: String },
    #[error(
        "update conflict on {key}: expected revision {expected}, the stored revision is {actual}"
    )]
    Conflict {
        key: String,
        expected: Revision,
        actual: Revision,
    },
    #[error(
        "revision {requested} has been compacted; the oldest revision still available is {oldest}"
    )]
    Compacted {
        requested: Revision,
        oldest: Revision,
    },
    #[error("the datastore is unreachable: {0}")]
    Unavailable(String),
    #[error("the datastore file {path} is damaged: {detail}")]
    Corrupt { path: String, detail: String },
    #[error("invalid datastore configuration: {0}")]
    Config(String),
    #[error("datastore error: {0}")]
    Internal(String),
}

pub type Result<T, E = DatastoreError> = std::result::Result<T, E>;

/// A revisioned key/value store. Implementations are synchronous and thread-safe; networked
/// backends run their own I/O internally.
pub trait Backend: Send + Sync {
    /// A short name for messages (`embedded`, `etcdv3`, `memory`).
    fn name(&self) -> &'static str;
    fn get(&self, key: &str) -> Result<Option<KeyValue>>;
    fn list(&self, prefix: &str) -> Result<ListResult>;
    fn create(&self, key: &str, value: &[u8]) -> Result<KeyValue>;
    /// Replace the value of an existing key; `expected` = required current `mod_revision`.
    fn update(&self, key: &str, value: &[u8], expected: Option<Revision>) -> Result<KeyValue>;
    /// Delete an existing key; `expected` = required current `mod_revision`. Returns the old pair.
    fn delete(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue>;
    /// The current store revision.
    fn revision(&self) -> Result<Revision>;
    fn watch(&self, prefix: &str, from: WatchFrom) -> Result<Watch>;
    /// Discard the change history of every revision older than `revision` (the state itself is
    /// kept). Afterwards `watch(_, WatchFrom::After(r))` with `r < revision - 1` fails with
    /// [`DatastoreError::Compacted`] `{ requested: r, oldest: revision }`, like etcd's compaction.
    /// Compacting to a revision at or below an earlier compaction is a no-op; a revision above the
    /// current one is a [`DatastoreError::Config`] error. The default says compaction is not
    /// supported.
    fn compact(&self, revision: Revision) -> Result<()> {
        let _ = revision;
        Err(DatastoreError::Config(format!(
            "the {} backend does not support compaction",
            self.name()
        )))
    }
}

/// A stream of watch events. Dropping it cancels the watch: the producer sees the closed channel
/// on its next send, and a backend that registered a cancel hook ([`Watch::with_cancel`]) is told
/// at once, so an idle watch does not linger either.
pub struct Watch {
    rx: Receiver<Result<WatchEvent>>,
    cancel: Option<Box<dyn FnOnce() + Send>>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(cancel) = self.cancel.take() {
            cancel();
        }
    }
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watch")
    }
}

impl Watch {
    /// Wrap the receiving end of a channel fed by a backend's watcher.
    pub fn new(rx: Receiver<Result<WatchEvent>>) -> Self {
        Self { rx, cancel: None }
    }

    /// Like [`Watch::new`], and `cancel` runs once when the `Watch` is dropped (it must not block
    /// for long: stop a producer thread by flag or channel, do not join it).
    pub fn with_cancel(
        rx: Receiver<Result<WatchEvent>>,
        cancel: impl FnOnce() + Send + 'static,
    ) -> Self {
        Self {
            rx,
            cancel: Some(Box::new(cancel)),
        }
    }

    /// Wait for the next event; `None` when the watch has ended.
    pub fn recv(&self) -> Option<Result<WatchEvent>> {
        self.rx.recv().ok()
    }

    /// Wait at most `timeout`; `Ok(None)` on timeout, `Err(())` when the watch has ended.
    // `Err(())` carries no information beyond "ended"; a dedicated error type would add nothing.
    #[allow(clippy::result_unit_err)]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Option<Result<WatchEvent>>, ()> {
        match self.rx.recv_timeout(timeout) {
            Ok(ev) => Ok(Some(ev)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(()),
        }
    }

    /// The next event if one is ready; `Err(())` when the watch has ended.
    #[allow(clippy::result_unit_err)]
    pub fn try_recv(&self) -> Result<Option<Result<WatchEvent>>, ()> {
        match self.rx.try_recv() {
            Ok(ev) => Ok(Some(ev)),
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Disconnected) => Err(()),
        }
    }
}
