//! The SQL behind each operation. Functions here take a connection or transaction and return
//! plain `rusqlite` errors; the caller adds the file path and maps them.

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use crate::backend::{DatastoreError, KeyValue, Revision, WatchEvent};

/// A failed write: either the precondition did not hold, or SQLite failed.
#[derive(Debug)]
pub(super) enum WriteError {
    Rejected(DatastoreError),
    Sql(rusqlite::Error),
}

impl From<rusqlite::Error> for WriteError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sql(e)
    }
}

/// One write operation.
#[derive(Clone, Copy, Debug)]
pub(super) enum Write<'a> {
    Create(&'a [u8]),
    Update(&'a [u8], Option<Revision>),
    Delete(Option<Revision>),
}

/// The exclusive upper bound of the keys that start with `prefix` (`None`: no bound). UTF-8
/// byte order is code point order, so bumping the last code point gives the bound.
pub(super) fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(u32::from(c) + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The `WHERE` clause selecting keys in a prefix range, with `?1` = prefix and `?2` = end.
fn range_sql(end: &Option<String>) -> &'static str {
    if end.is_some() {
        "key >= ?1 AND key < ?2"
    } else {
        "key >= ?1 AND ?2 IS NULL"
    }
}

pub(super) fn meta(conn: &Connection, name: &str) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT value FROM meta WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
}

fn set_meta(conn: &Connection, name: &str, value: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE meta SET value = ?2 WHERE name = ?1")?
        .execute(params![name, value])?;
    Ok(())
}

fn kv_from_row(key: &str, row: &Row<'_>) -> rusqlite::Result<KeyValue> {
    Ok(KeyValue {
        key: key.to_owned(),
        value: row.get(0)?,
        create_revision: row.get(1)?,
        mod_revision: row.get(2)?,
    })
}

pub(super) fn get(conn: &Connection, key: &str) -> rusqlite::Result<Option<KeyValue>> {
    conn.prepare_cached("SELECT value, create_rev, mod_rev FROM kv WHERE key = ?1")?
        .query_row([key], |r| kv_from_row(key, r))
        .optional()
}

/// Every pair under `prefix`, sorted by key, calling `each` for each one.
pub(super) fn scan(
    conn: &Connection,
    prefix: &str,
    mut each: impl FnMut(KeyValue) -> bool,
) -> rusqlite::Result<()> {
    let end = prefix_end(prefix);
    let sql = format!(
        "SELECT value, create_rev, mod_rev, key FROM kv WHERE {} ORDER BY key",
        range_sql(&end)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![prefix, end])?;
    while let Some(row) = rows.next()? {
        let key: String = row.get(3)?;
        if !each(kv_from_row(&key, row)?) {
            break;
        }
    }
    Ok(())
}

/// The changes under `prefix` with `after < rev <= upto`, in revision order, calling `each`
/// until it returns false.
pub(super) fn changes(
    conn: &Connection,
    prefix: &str,
    after: Revision,
    upto: Revision,
    mut each: impl FnMut(WatchEvent) -> bool,
) -> rusqlite::Result<()> {
    let end = prefix_end(prefix);
    let sql = format!(
        "SELECT rev, key, value, create_rev, prev_value, prev_mod_rev FROM log
         WHERE rev > ?3 AND rev <= ?4 AND {} ORDER BY rev",
        range_sql(&end)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![prefix, end, after, upto])?;
    while let Some(row) = rows.next()? {
        let rev: Revision = row.get(0)?;
        let key: String = row.get(1)?;
        let value: Option<Vec<u8>> = row.get(2)?;
        let create_revision: Revision = row.get(3)?;
        let event = match value {
            Some(value) => WatchEvent::Put(KeyValue {
                key,
                value,
                create_revision,
                mod_revision: rev,
            }),
            None => {
                let prev_value: Option<Vec<u8>> = row.get(4)?;
                let prev_mod: Option<Revision> = row.get(5)?;
                let prev = prev_value
                    .zip(prev_mod)
                    .map(|(value, mod_revision)| KeyValue {
                        key: key.clone(),
                        value,
                        create_revision,
                        mod_revision,
                    });
                WatchEvent::Delete {
                    key,
                    revision: rev,
                    prev,
                }
            }
        };
        if !each(event) {
            break;
        }
    }
    Ok(())
}

fn check_expected(current: &KeyValue, expected: Option<Revision>) -> Result<(), WriteError> {
    match expected {
        Some(rev) if rev != current.mod_revision => {
            Err(WriteError::Rejected(DatastoreError::Conflict {
                key: current.key.clone(),
                expected: rev,
                actual: current.mod_revision,
            }))
        }
        _ => Ok(()),
    }
}

/// Apply one write inside `tx` (which must hold the write lock: `BEGIN IMMEDIATE`). Returns the
/// new pair (or, for a delete, the deleted one). Does not commit.
pub(super) fn write(
    tx: &Transaction<'_>,
    key: &str,
    op: Write<'_>,
    retention: i64,
) -> Result<KeyValue, WriteError> {
    let current = get(tx, key)?;
    let not_found = || {
        WriteError::Rejected(DatastoreError::NotFound {
            key: key.to_owned(),
        })
    };
    let rev = meta(tx, "revision")? + 1;
    let result = match op {
        Write::Create(value) => {
            if current.is_some() {
                return Err(WriteError::Rejected(DatastoreError::AlreadyExists {
                    key: key.to_owned(),
                }));
            }
            put(tx, key, value, rev, rev)?
        }
        Write::Update(value, expected) => {
            let current = current.ok_or_else(not_found)?;
            check_expected(&current, expected)?;
            put(tx, key, value, current.create_revision, rev)?
        }
        Write::Delete(expected) => {
            let current = current.ok_or_else(not_found)?;
            check_expected(&current, expected)?;
            tx.prepare_cached("DELETE FROM kv WHERE key = ?1")?
                .execute([key])?;
            tx.prepare_cached(
                "INSERT INTO log (rev, key, value, create_rev, prev_value, prev_mod_rev)
                 VALUES (?1, ?2, NULL, ?3, ?4, ?5)",
            )?
            .execute(params![
                rev,
                key,
                current.create_revision,
                current.value,
                current.mod_revision
            ])?;
            current
        }
    };
    set_meta(tx, "revision", rev)?;
    trim_history(tx, rev, retention)?;
    Ok(result)
}

fn put(
    tx: &Transaction<'_>,
    key: &str,
    value: &[u8],
    create_revision: Revision,
    rev: Revision,
) -> rusqlite::Result<KeyValue> {
    tx.prepare_cached(
        "INSERT INTO kv (key, value, create_rev, mod_rev) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, mod_rev = excluded.mod_rev",
    )?
    .execute(params![key, value, create_revision, rev])?;
    tx.prepare_cached("INSERT INTO log (rev, key, value, create_rev) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![rev, key, value, create_revision])?;
    Ok(KeyValue {
        key: key.to_owned(),
        value: value.to_vec(),
        create_revision,
        mod_revision: rev,
    })
}

/// Keep about `retention` revisions of history. Trimming happens in batches (a tenth of the
/// retention, at most 1,000 rows) so that a write rarely pays for it.
fn trim_history(tx: &Transaction<'_>, rev: Revision, retention: i64) -> rusqlite::Result<()> {
    let retention = retention.max(1);
    let batch = (retention / 10).clamp(1, 1_000);
    let oldest = meta(tx, "oldest_kept")?;
    if rev - oldest >= retention + batch {
        compact(tx, rev - retention + 1)?;
    }
    Ok(())
}

/// Drop the history older than `revision` (callers check it is not in the future).
pub(super) fn compact(tx: &Transaction<'_>, revision: Revision) -> rusqlite::Result<()> {
    if revision <= meta(tx, "oldest_kept")? {
        return Ok(());
    }
    tx.prepare_cached("DELETE FROM log WHERE rev < ?1")?
        .execute([revision])?;
    set_meta(tx, "oldest_kept", revision)
}

/// Consistency checks beyond SQLite's own: returns a description of each problem found.
pub(super) fn invariant_problems(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut problems = Vec::new();
    let revision = meta(conn, "revision")?;
    let oldest = meta(conn, "oldest_kept")?;
    let max_log: Option<Revision> = conn.query_row("SELECT max(rev) FROM log", [], |r| r.get(0))?;
    if revision > 0 && max_log != Some(revision) {
        problems.push(format!(
            "the store revision is {revision} but the newest history entry is {max_log:?}"
        ));
    }
    let bad_revs: i64 = conn.query_row(
        "SELECT count(*) FROM kv WHERE mod_rev > ?1 OR create_rev > mod_rev",
        [revision],
        |r| r.get(0),
    )?;
    if bad_revs > 0 {
        problems.push(format!(
            "{bad_revs} keys have revisions beyond the store revision"
        ));
    }
    let mismatched: i64 = conn.query_row(
        "SELECT count(*) FROM kv LEFT JOIN log ON log.rev = kv.mod_rev
         WHERE kv.mod_rev >= ?1
           AND (log.rev IS NULL OR log.key != kv.key OR log.value IS NULL OR log.value != kv.value)",
        [oldest],
        |r| r.get(0),
    )?;
    if mismatched > 0 {
        problems.push(format!(
            "{mismatched} keys do not match the history entry of their last write"
        ));
    }
    Ok(problems)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::prefix_end;

    #[test]
    fn prefix_end_bumps_the_last_code_point() {
        assert_eq!(prefix_end("/a/b/").as_deref(), Some("/a/b0"));
        assert_eq!(prefix_end("/a/b").as_deref(), Some("/a/c"));
        assert_eq!(prefix_end(""), None);
        assert_eq!(prefix_end("x\u{D7FF}").as_deref(), Some("x\u{E000}"));
        assert_eq!(prefix_end("x\u{10FFFF}").as_deref(), Some("y"));
        assert_eq!(prefix_end("\u{10FFFF}"), None);
    }
}
