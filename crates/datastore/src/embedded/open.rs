//! Opening the store file: checks that never write to a file that is not ours, the schema, and
//! the per-connection settings.
//!
//! Order matters: the header of an existing file is checked with plain reads *before* SQLite sees
//! it, because switching a damaged file to WAL mode would already write to it. A file that is not
//! a calico-rs store, or looks damaged, is reported and left exactly as it was.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use super::error::sql_error;
use super::{EmbeddedOptions, busy};
use crate::backend::{DatastoreError, Result};

/// `PRAGMA application_id` of a calico-rs store: "CARS" (calico-rs) in ASCII.
pub(super) const APPLICATION_ID: i64 = 0x4341_5253;
/// The schema version this build writes and reads.
pub(super) const SCHEMA_VERSION: i64 = 1;

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";
const HEADER_LEN: usize = 100;

const SCHEMA: &str = "
CREATE TABLE kv (
    key        TEXT PRIMARY KEY NOT NULL,
    value      BLOB NOT NULL,
    create_rev INTEGER NOT NULL,
    mod_rev    INTEGER NOT NULL
);
-- One row per write. value NULL = deletion; then create_rev, prev_value and prev_mod_rev
-- describe the deleted pair.
CREATE TABLE log (
    rev          INTEGER PRIMARY KEY,
    key          TEXT NOT NULL,
    value        BLOB,
    create_rev   INTEGER NOT NULL,
    prev_value   BLOB,
    prev_mod_rev INTEGER
);
-- schema_version; revision (the store revision); oldest_kept (changes older than this
-- revision have been compacted away).
CREATE TABLE meta (
    name  TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
);
";

fn corrupt(path: &Path, detail: impl Into<String>) -> DatastoreError {
    DatastoreError::Corrupt {
        path: path.display().to_string(),
        detail: detail.into(),
    }
}

/// Check that `path` can hold a store: its directory exists and it is not a directory itself.
pub(super) fn check_location(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(DatastoreError::Unavailable(format!(
            "cannot open the datastore file {}: the directory {} does not exist \
             (create it, or set CALICO_DATASTORE_PATH)",
            path.display(),
            dir.display()
        )));
    }
    if path.is_dir() {
        return Err(DatastoreError::Unavailable(format!(
            "cannot open the datastore file {}: it is a directory",
            path.display()
        )));
    }
    Ok(())
}

/// Read-only sanity checks of an existing file's SQLite header.
///
/// Catches files that are not SQLite at all, and files cut short (the header records the
/// database size in pages). The size check is skipped while a WAL file with frames exists,
/// because then the newest pages legitimately live in the WAL.
pub(super) fn check_header(path: &Path) -> Result<()> {
    let len = match fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(DatastoreError::Unavailable(format!(
                "cannot read the datastore file {}: {e}",
                path.display()
            )));
        }
    };
    if len == 0 {
        return Ok(()); // An empty file becomes a new store.
    }
    let mut header = [0u8; HEADER_LEN];
    let read = fs::File::open(path).and_then(|mut f| f.read_exact(&mut header));
    if let Err(e) = read {
        return Err(if e.kind() == std::io::ErrorKind::UnexpectedEof {
            corrupt(
                path,
                format!(
                    "the file has only {len} bytes, less than a SQLite header; it is not a calico-rs datastore or was truncated"
                ),
            )
        } else {
            DatastoreError::Unavailable(format!(
                "cannot read the datastore file {}: {e}",
                path.display()
            ))
        });
    }
    if &header[..16] != SQLITE_MAGIC {
        return Err(corrupt(
            path,
            "the file does not start with a SQLite header; it is not a calico-rs datastore",
        ));
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536u64,
        n if n >= 512 && n.is_power_of_two() => u64::from(n),
        n => {
            return Err(corrupt(
                path,
                format!("invalid page size {n} in the header"),
            ));
        }
    };
    let be32 = |at: usize| {
        u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let change_counter = be32(24);
    let pages = u64::from(be32(28));
    let valid_for = be32(92);
    if wal_has_frames(path) {
        return Ok(());
    }
    if len % page_size != 0 {
        return Err(corrupt(
            path,
            format!(
                "the file is {len} bytes, not a whole number of {page_size}-byte pages; it was truncated or damaged"
            ),
        ));
    }
    if change_counter == valid_for && pages > 0 && pages * page_size > len {
        return Err(corrupt(
            path,
            format!(
                "the header records {pages} pages of {page_size} bytes ({} bytes) but the file has only {len} bytes; it was truncated",
                pages * page_size
            ),
        ));
    }
    Ok(())
}

fn wal_has_frames(path: &Path) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    // A WAL header alone is 32 bytes; anything longer holds frames.
    fs::metadata(PathBuf::from(wal)).is_ok_and(|m| m.len() > 32)
}

/// Open one connection with the store's settings (no schema checks).
pub(super) fn connect(path: &Path, opts: &EmbeddedOptions) -> Result<Connection> {
    let err = |what: &str, e| sql_error(path, opts.busy_timeout, what, e);
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags).map_err(|e| err("opening", e))?;
    busy::install(&mut conn, opts.busy_timeout)
        .map_err(|e| err("installing the busy handler", e))?;
    // synchronous=NORMAL in WAL mode: a commit is written to the WAL before it returns, so a
    // killed process never loses or corrupts a committed write; only a power failure can lose
    // the last commits (never corrupt the file), and those were made by processes and pods
    // that died with the machine. FULL adds an fsync to every commit (milliseconds on real
    // disks) and is available through `EmbeddedOptions::durable_commits`.
    let sync = if opts.durable_commits {
        "FULL"
    } else {
        "NORMAL"
    };
    conn.execute_batch(&format!(
        "PRAGMA synchronous = {sync}; PRAGMA journal_size_limit = 67108864;"
    ))
    .map_err(|e| err("configuring the connection", e))?;
    Ok(conn)
}

/// Validate (or, for a new file, create) the schema through `conn`.
pub(super) fn prepare_schema(
    path: &Path,
    opts: &EmbeddedOptions,
    conn: &mut Connection,
) -> Result<()> {
    let err = |what: &str, e| sql_error(path, opts.busy_timeout, what, e);
    let (app_id, objects) = busy::retry(opts.busy_timeout, busy::is_busy, || identify_now(conn))
        .map_err(|e| err("reading the file header", e))?;
    if app_id == 0 && objects == 0 {
        initialise(path, opts, conn)?;
    } else if app_id != APPLICATION_ID {
        return Err(corrupt(
            path,
            format!(
                "it is a SQLite database of another program (application_id {app_id:#x}, \
                 {objects} schema objects), not a calico-rs datastore"
            ),
        ));
    }
    let mode: String = busy::retry(opts.busy_timeout, busy::is_busy, || {
        conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))
    })
    .map_err(|e| err("reading the journal mode", e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        set_wal(path, opts, conn)?;
    }
    let version = busy::retry(opts.busy_timeout, busy::is_busy, || schema_version(conn))
        .map_err(|e| err("reading the schema version", e))?;
    match version {
        Some(Some(SCHEMA_VERSION)) => Ok(()),
        Some(Some(v)) if v > SCHEMA_VERSION => Err(DatastoreError::Config(format!(
            "the datastore file {} has schema version {v}, written by a newer calico-rs; \
             this build reads version {SCHEMA_VERSION}",
            path.display()
        ))),
        Some(Some(v)) => Err(corrupt(path, format!("unknown schema version {v}"))),
        Some(None) => Err(corrupt(path, "the meta table has no schema_version")),
        None => Err(corrupt(path, "the calico-rs meta table is missing")),
    }
}

/// [`identify`] in a read transaction of its own, so that both figures come from one state of
/// the file (another process may be creating the schema right now).
fn identify_now(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    let tx = conn.unchecked_transaction()?;
    let found = identify(&tx)?;
    tx.finish()?;
    Ok(found)
}

fn identify(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    let app_id: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let objects: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    Ok((app_id, objects))
}

/// `None`: no meta table; `Some(None)`: no schema_version row.
fn schema_version(conn: &Connection) -> rusqlite::Result<Option<Option<i64>>> {
    let has_meta: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'meta'",
        [],
        |r| r.get(0),
    )?;
    if has_meta == 0 {
        return Ok(None);
    }
    conn.query_row(
        "SELECT value FROM meta WHERE name = 'schema_version'",
        [],
        |r| r.get(0),
    )
    .optional()
    .map(Some)
}

fn set_wal(path: &Path, opts: &EmbeddedOptions, conn: &Connection) -> Result<()> {
    let mode: String = busy::retry(opts.busy_timeout, busy::is_busy, || {
        conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
    })
    .map_err(|e| sql_error(path, opts.busy_timeout, "switching to WAL mode", e))?;
    if mode.eq_ignore_ascii_case("wal") {
        Ok(())
    } else {
        Err(DatastoreError::Unavailable(format!(
            "the datastore file {} cannot use WAL mode (journal mode stays {mode}); \
             it must be on a local file system",
            path.display()
        )))
    }
}

/// What [`create_schema`] found.
enum Init {
    Done,
    Foreign,
}

/// Create the schema in an empty file. Several processes may race here: the first one to take
/// the write lock creates it, the others find it done.
fn initialise(path: &Path, opts: &EmbeddedOptions, conn: &mut Connection) -> Result<()> {
    set_wal(path, opts, conn)?;
    let init = busy::retry(opts.busy_timeout, busy::is_busy, || create_schema(conn))
        .map_err(|e| sql_error(path, opts.busy_timeout, "creating the datastore schema", e))?;
    match init {
        Init::Done => Ok(()),
        Init::Foreign => Err(corrupt(
            path,
            "another program wrote to the file while calico-rs was creating the datastore",
        )),
    }
}

fn create_schema(conn: &mut Connection) -> rusqlite::Result<Init> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (app_id, objects) = identify(&tx)?;
    if app_id == APPLICATION_ID {
        return Ok(Init::Done); // Another process was first; dropping `tx` rolls back.
    }
    if app_id != 0 || objects != 0 {
        return Ok(Init::Foreign);
    }
    tx.execute_batch(SCHEMA)?;
    tx.execute_batch(&format!(
        "PRAGMA application_id = {APPLICATION_ID};
         INSERT INTO meta (name, value) VALUES
             ('schema_version', {SCHEMA_VERSION}), ('revision', 0), ('oldest_kept', 0);"
    ))?;
    tx.commit()?;
    Ok(Init::Done)
}
