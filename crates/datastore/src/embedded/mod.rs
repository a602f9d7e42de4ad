//! [`EmbeddedBackend`]: the default datastore of calico-rs, one SQLite file and no server.
//!
//! - **Several processes at once** (calicoctl, short-lived CNI plugin runs, long-running
//!   agents): SQLite in WAL mode lets readers run alongside the one writer; every write is a
//!   `BEGIN IMMEDIATE` transaction that takes the file's write lock first, reads the key, checks
//!   the precondition and writes, so compare-and-swap is atomic across processes. A writer
//!   waits up to `busy_timeout` for the lock, retrying at short intervals (see the `busy` module).
//! - **Crash safety**: a commit is in the WAL before `create`/`update`/`delete` returns; a
//!   process killed mid-write leaves an uncommitted tail that SQLite ignores on the next open.
//! - **Watches from any process**: every write also appends a row to a `log` table keyed by
//!   revision; watchers read it in order (see the `watch` module for how they learn of new rows). The log
//!   keeps the last [`EmbeddedOptions::history_retention`] revisions.
//! - **Never damages a user's file**: [`EmbeddedBackend::open`] checks the file header before
//!   SQLite writes anything and reports files that are not calico-rs stores, or were truncated,
//!   as [`DatastoreError::Corrupt`] without touching them.

mod busy;
mod error;
mod notify;
mod open;
mod ops;
mod watch;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, TryLockError};
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use crate::backend::{
    Backend, DatastoreError, KeyValue, ListResult, Result, Revision, Watch, WatchFrom,
};
use ops::{Write, WriteError};

/// Where the store lives unless `CALICO_DATASTORE_PATH` says otherwise.
pub const DEFAULT_PATH: &str = "/var/lib/calico/calico.db";
/// The environment variable that overrides [`DEFAULT_PATH`].
pub const PATH_ENV: &str = "CALICO_DATASTORE_PATH";

/// Tuning for [`EmbeddedBackend::open_with`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmbeddedOptions {
    /// How many revisions of change history to keep for watchers that resume from a revision
    /// (default 100,000). Older history is discarded in small batches as writes arrive.
    pub history_retention: i64,
    /// How long an operation waits for another process that holds the lock (default 5 s).
    pub busy_timeout: Duration,
    /// How often open watches check for writes made by other processes when inotify is not
    /// available (default 2 ms); with inotify a write to the WAL file wakes them. Writes made
    /// through the same `EmbeddedBackend` wake its watchers at once.
    pub poll_interval: Duration,
    /// `synchronous=FULL` (an fsync per commit, survives power loss) instead of `NORMAL`
    /// (survives any process crash; a power loss can drop the last commits). Default `false`.
    pub durable_commits: bool,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        Self {
            history_retention: 100_000,
            busy_timeout: Duration::from_secs(5),
            poll_interval: Duration::from_millis(2),
            durable_commits: false,
        }
    }
}

/// State shared with watch threads.
#[derive(Debug)]
struct Shared {
    path: PathBuf,
    opts: EmbeddedOptions,
    hub: watch::Hub,
}

impl Shared {
    fn sql_error(&self, what: &str, e: rusqlite::Error) -> DatastoreError {
        error::sql_error(&self.path, self.opts.busy_timeout, what, e)
    }
}

/// The single-file store. Thread-safe; open it once per process and share it.
///
/// Opening makes one connection (the writer). Reads go through it while no other thread
/// holds it; a read that would wait for a write in progress opens a second connection
/// (`reader`, kept from then on), so readers still run alongside a writer in a busy process
/// while a short-lived one (a CNI plugin run) pays for one connection only.
pub struct EmbeddedBackend {
    shared: Arc<Shared>,
    writer: Mutex<Connection>,
    reader: OnceLock<Mutex<Connection>>,
}

impl std::fmt::Debug for EmbeddedBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedBackend")
            .field("path", &self.shared.path)
            .finish_non_exhaustive()
    }
}

fn path_from_env(value: Option<std::ffi::OsString>) -> PathBuf {
    value
        .filter(|p| !p.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_PATH), PathBuf::from)
}

fn lock(conn: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding a connection rolls its transaction back on unwind; the connection
    // itself stays usable.
    conn.lock().unwrap_or_else(PoisonError::into_inner)
}

impl EmbeddedBackend {
    /// `$CALICO_DATASTORE_PATH` when set and not empty, else [`DEFAULT_PATH`].
    pub fn default_path() -> PathBuf {
        path_from_env(std::env::var_os(PATH_ENV))
    }

    /// Open the store at `path` with default options, creating it if the file does not exist
    /// or is empty. The directory must exist.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, EmbeddedOptions::default())
    }

    /// Open the store at `path` with `opts`.
    pub fn open_with(path: impl AsRef<Path>, opts: EmbeddedOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if opts.history_retention < 1 {
            return Err(DatastoreError::Config(format!(
                "history_retention must be at least 1 revision, not {}",
                opts.history_retention
            )));
        }
        open::check_location(&path)?;
        open::check_header(&path)?;
        let mut writer = open::connect(&path, &opts)?;
        open::prepare_schema(&path, &opts, &mut writer)?;
        Ok(Self {
            shared: Arc::new(Shared {
                path,
                opts,
                hub: watch::Hub::default(),
            }),
            writer: Mutex::new(writer),
            reader: OnceLock::new(),
        })
    }

    /// The connection to read through: the writer's when it is free, else the reader's
    /// (opened on first need; if that fails, the read waits for the writer's).
    fn read_conn(&self) -> MutexGuard<'_, Connection> {
        match self.writer.try_lock() {
            Ok(g) => return g,
            Err(TryLockError::Poisoned(p)) => return p.into_inner(),
            Err(TryLockError::WouldBlock) => {}
        }
        if let Some(r) = self.reader.get() {
            return lock(r);
        }
        match open::connect(&self.shared.path, &self.shared.opts) {
            Ok(conn) => lock(self.reader.get_or_init(|| Mutex::new(conn))),
            Err(_) => lock(&self.writer),
        }
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// The number of watches still running (their threads exit shortly after a drop).
    pub fn active_watches(&self) -> usize {
        self.shared.hub.active_watches()
    }

    /// Check the whole file: SQLite's `integrity_check` plus the store's own invariants (the
    /// revision matches the history, every key matches the history entry of its last write).
    /// Reads the whole file; meant for operators and tests, not for every open.
    pub fn check_integrity(&self) -> Result<()> {
        let conn = self.read_conn();
        let err = |e| self.shared.sql_error("checking integrity", e);
        let mut stmt = conn.prepare("PRAGMA integrity_check").map_err(err)?;
        let report: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(err)?;
        if report != ["ok"] {
            return Err(self.corrupt(report.join("; ")));
        }
        let problems = ops::invariant_problems(&conn).map_err(err)?;
        if problems.is_empty() {
            Ok(())
        } else {
            Err(self.corrupt(problems.join("; ")))
        }
    }

    fn corrupt(&self, detail: String) -> DatastoreError {
        DatastoreError::Corrupt {
            path: self.shared.path.display().to_string(),
            detail,
        }
    }

    fn write(&self, key: &str, op: Write<'_>) -> Result<KeyValue> {
        let what = match op {
            Write::Create(_) => "creating",
            Write::Update(..) => "updating",
            Write::Delete(_) => "deleting",
        };
        let mut conn = lock(&self.writer);
        let retention = self.shared.opts.history_retention;
        let busy = |e: &WriteError| matches!(e, WriteError::Sql(e) if busy::is_busy(e));
        let written = busy::retry(self.shared.opts.busy_timeout, busy, || {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let kv = ops::write(&tx, key, op, retention)?;
            tx.commit()?;
            Ok(kv)
        });
        drop(conn);
        match written {
            Ok(kv) => {
                self.shared.hub.bump();
                Ok(kv)
            }
            Err(WriteError::Rejected(e)) => Err(e),
            Err(WriteError::Sql(e)) => Err(self.shared.sql_error(&format!("{what} {key}"), e)),
        }
    }
}

impl Backend for EmbeddedBackend {
    fn name(&self) -> &'static str {
        "embedded"
    }

    fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        ops::get(&self.read_conn(), key)
            .map_err(|e| self.shared.sql_error(&format!("reading {key}"), e))
    }

    fn list(&self, prefix: &str) -> Result<ListResult> {
        let err = |e| self.shared.sql_error(&format!("listing {prefix}"), e);
        let mut conn = self.read_conn();
        let tx = conn.transaction().map_err(err)?;
        let revision = ops::meta(&tx, "revision").map_err(err)?;
        let mut kvs = Vec::new();
        ops::scan(&tx, prefix, |kv| {
            kvs.push(kv);
            true
        })
        .map_err(err)?;
        tx.finish().map_err(err)?;
        Ok(ListResult { kvs, revision })
    }

    fn create(&self, key: &str, value: &[u8]) -> Result<KeyValue> {
        self.write(key, Write::Create(value))
    }

    fn update(&self, key: &str, value: &[u8], expected: Option<Revision>) -> Result<KeyValue> {
        self.write(key, Write::Update(value, expected))
    }

    fn delete(&self, key: &str, expected: Option<Revision>) -> Result<KeyValue> {
        self.write(key, Write::Delete(expected))
    }

    fn revision(&self) -> Result<Revision> {
        ops::meta(&self.read_conn(), "revision")
            .map_err(|e| self.shared.sql_error("reading the revision", e))
    }

    fn watch(&self, prefix: &str, from: WatchFrom) -> Result<Watch> {
        watch::start(&self.shared, prefix, from)
    }

    fn compact(&self, revision: Revision) -> Result<()> {
        let err = |e| {
            self.shared
                .sql_error(&format!("compacting to revision {revision}"), e)
        };
        let mut conn = lock(&self.writer);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let current = ops::meta(&tx, "revision").map_err(err)?;
        if revision > current {
            return Err(DatastoreError::Config(format!(
                "cannot compact {} to revision {revision}: the current revision is {current}",
                self.shared.path.display()
            )));
        }
        ops::compact(&tx, revision).map_err(err)?;
        tx.commit().map_err(err)?;
        drop(conn);
        // Watchers that fell behind must learn that their history is gone.
        self.shared.hub.bump();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::{DEFAULT_PATH, path_from_env};

    #[test]
    fn the_environment_overrides_the_default_path() {
        assert_eq!(path_from_env(None), PathBuf::from(DEFAULT_PATH));
        assert_eq!(path_from_env(Some("".into())), PathBuf::from(DEFAULT_PATH));
        assert_eq!(
            path_from_env(Some("/tmp/x/calico.db".into())),
            PathBuf::from("/tmp/x/calico.db")
        );
    }
}
