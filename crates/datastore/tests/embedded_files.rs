//! The embedded store and its file: clear errors for bad locations and damaged or foreign files
//! (which are never modified), schema versions, persistence, history retention, watch threads.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use calico_datastore::{
    Backend, DatastoreError, EmbeddedBackend, EmbeddedOptions, WatchEvent, WatchFrom,
};

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// A store with enough data to span many pages, closed cleanly (no WAL left).
fn populated_store(path: &Path) {
    let store = EmbeddedBackend::open(path).unwrap();
    for i in 0..2_000 {
        store
            .create(&format!("/calico/resources/v3/k{i:05}"), &[b'x'; 200])
            .unwrap();
    }
    drop(store);
    assert!(
        !sibling(path, "-wal").exists(),
        "closing the last connection removes the WAL"
    );
}

fn expect_corrupt(path: &Path, detail_has: &str) {
    match EmbeddedBackend::open(path) {
        Err(DatastoreError::Corrupt { path: p, detail }) => {
            assert_eq!(p, path.display().to_string());
            assert!(
                detail.contains(detail_has),
                "detail {detail:?} lacks {detail_has:?}"
            );
            let msg = DatastoreError::Corrupt { path: p, detail }.to_string();
            assert!(msg.contains(&path.display().to_string()), "{msg}");
        }
        other => panic!("expected Corrupt for {}, got {other:?}", path.display()),
    }
}

#[test]
fn a_missing_directory_is_a_clear_error_and_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir");
    let path = missing.join("calico.db");
    match EmbeddedBackend::open(&path) {
        Err(DatastoreError::Unavailable(msg)) => {
            assert!(msg.contains(&missing.display().to_string()), "{msg}");
            assert!(msg.contains("does not exist"), "{msg}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(!missing.exists());
}

#[test]
fn a_directory_in_place_of_the_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    match EmbeddedBackend::open(dir.path()) {
        Err(DatastoreError::Unavailable(msg)) => assert!(msg.contains("is a directory"), "{msg}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[test]
fn a_file_that_is_not_sqlite_is_corrupt_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calico.db");
    let text = "apiVersion: projectcalico.org/v3\nkind: IPPool\n".repeat(200);
    fs::write(&path, &text).unwrap();
    expect_corrupt(&path, "does not start with a SQLite header");
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
    assert!(!sibling(&path, "-wal").exists() && !sibling(&path, "-shm").exists());

    let short = dir.path().join("short.db");
    fs::write(&short, b"SQLite format 3\0abc").unwrap();
    expect_corrupt(&short, "less than a SQLite header");
    assert_eq!(fs::read(&short).unwrap(), b"SQLite format 3\0abc");
}

#[test]
fn another_programs_sqlite_database_is_refused_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('mine');")
            .unwrap();
    }
    let before = fs::read(&path).unwrap();
    expect_corrupt(&path, "another program");
    assert_eq!(
        fs::read(&path).unwrap(),
        before,
        "the file is byte-for-byte unchanged"
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete", "its journal mode was not switched to WAL");
}

#[test]
fn a_store_cut_in_half_is_corrupt_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calico.db");
    populated_store(&path);
    let full = fs::read(&path).unwrap();
    assert!(
        full.len() > 100_000,
        "the store spans many pages ({} bytes)",
        full.len()
    );
    fs::write(&path, &full[..full.len() / 2]).unwrap();
    let half = fs::read(&path).unwrap();

    expect_corrupt(&path, "truncated");
    assert_eq!(
        fs::read(&path).unwrap(),
        half,
        "the damaged file was not modified"
    );
    assert!(
        !sibling(&path, "-wal").exists(),
        "no WAL was created next to it"
    );

    // Cut at an odd size too.
    fs::write(&path, &full[..full.len() / 2 + 123]).unwrap();
    expect_corrupt(&path, "truncated");
}

#[test]
fn damage_inside_the_file_is_reported_not_panicked_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calico.db");
    populated_store(&path);
    let mut bytes = fs::read(&path).unwrap();
    let page = 4096;
    // Scribble over every page but the first (the header and schema).
    for (i, b) in bytes.iter_mut().enumerate().skip(page) {
        *b = (i % 7) as u8;
    }
    fs::write(&path, &bytes).unwrap();
    let outcome = EmbeddedBackend::open(&path).and_then(|store| {
        store.list("/calico/")?;
        store.check_integrity()
    });
    match outcome {
        Err(DatastoreError::Corrupt { path: p, .. }) => assert_eq!(p, path.display().to_string()),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn an_empty_file_becomes_a_store_and_data_persists_across_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calico.db");
    fs::write(&path, b"").unwrap();
    let store = EmbeddedBackend::open(&path).unwrap();
    assert_eq!(store.revision().unwrap(), 0);
    let a = store.create("/a", b"1").unwrap();
    let b = store.update("/a", b"2", Some(a.mod_revision)).unwrap();
    store.create("/b", b"3").unwrap();
    store.delete("/b", None).unwrap();
    let rev = store.revision().unwrap();
    drop(store);

    let again = EmbeddedBackend::open(&path).unwrap();
    assert_eq!(again.revision().unwrap(), rev);
    assert_eq!(again.get("/a").unwrap(), Some(b));
    assert_eq!(again.get("/b").unwrap(), None);
    let w = again.watch("/", WatchFrom::After(0)).unwrap();
    let mut revs = Vec::new();
    loop {
        match w
            .recv_timeout(Duration::from_secs(5))
            .unwrap()
            .unwrap()
            .unwrap()
        {
            WatchEvent::InSync { revision } => {
                assert_eq!(revision, rev);
                break;
            }
            ev @ (WatchEvent::Put(_) | WatchEvent::Delete { .. }) => revs.push(ev),
        }
    }
    assert_eq!(
        revs.len(),
        4,
        "the whole history survives a reopen: {revs:?}"
    );
    again.check_integrity().unwrap();
}

#[test]
fn a_store_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calico.db");
    drop(EmbeddedBackend::open(&path).unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute(
            "UPDATE meta SET value = 99 WHERE name = 'schema_version'",
            [],
        )
        .unwrap();
    }
    match EmbeddedBackend::open(&path) {
        Err(DatastoreError::Config(msg)) => {
            assert!(
                msg.contains("newer calico-rs") && msg.contains("99"),
                "{msg}"
            );
        }
        other => panic!("expected a Config error, got {other:?}"),
    }
}

#[test]
fn history_is_trimmed_to_the_retention() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calico.db");
    let opts = EmbeddedOptions {
        history_retention: 50,
        ..EmbeddedOptions::default()
    };
    let store = EmbeddedBackend::open_with(&path, opts).unwrap();
    store.create("/counter", b"0").unwrap();
    for i in 1..500 {
        store
            .update("/counter", format!("{i}").as_bytes(), None)
            .unwrap();
    }
    let head = store.revision().unwrap();
    let rows: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT count(*) FROM log", [], |r| r.get(0))
        .unwrap();
    assert!(
        (50..=55).contains(&rows),
        "{rows} history rows kept for a retention of 50"
    );

    let old = store.watch("/", WatchFrom::After(1)).unwrap();
    match old.recv_timeout(Duration::from_secs(5)).unwrap().unwrap() {
        Err(DatastoreError::Compacted { requested, oldest }) => {
            assert_eq!(requested, 1);
            assert!(
                oldest > head - 56 && oldest <= head - 49,
                "oldest {oldest}, head {head}"
            );
        }
        other => panic!("expected Compacted, got {other:?}"),
    }
    let recent = store.watch("/", WatchFrom::After(head - 40)).unwrap();
    let mut n = 0;
    while let Ok(Some(ev)) = recent.recv_timeout(Duration::from_secs(5)) {
        match ev.unwrap() {
            WatchEvent::InSync { .. } => break,
            _ => n += 1,
        }
    }
    assert_eq!(n, 40);
    store.check_integrity().unwrap();
}

#[test]
fn watch_threads_end_when_the_watch_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedBackend::open(dir.path().join("calico.db")).unwrap();
    let watches: Vec<_> = (0..5)
        .map(|i| {
            store
                .watch(&format!("/w{i}/"), WatchFrom::Snapshot)
                .unwrap()
        })
        .collect();
    assert_eq!(store.active_watches(), 5);
    drop(watches);
    let deadline = Instant::now() + Duration::from_secs(2);
    while store.active_watches() > 0 {
        assert!(
            Instant::now() < deadline,
            "{} watch threads still run",
            store.active_watches()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_lagging_watch_learns_that_its_history_was_compacted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calico.db");
    let writer = EmbeddedBackend::open(&path).unwrap();
    // A second client: its watch learns of the writes below from the file, not in-process.
    // (The deterministic version, with the watching process stopped, is in
    // embedded_multiprocess.rs.)
    let watcher = EmbeddedBackend::open(&path).unwrap();
    let kv = writer.create("/k", b"0").unwrap();
    let w = watcher
        .watch("/k", WatchFrom::After(kv.mod_revision))
        .unwrap();
    assert!(matches!(
        w.recv_timeout(Duration::from_secs(5)),
        Ok(Some(Ok(WatchEvent::InSync { .. })))
    ));
    // Let the watch thread do its first read and go idle.
    std::thread::sleep(Duration::from_millis(50));
    let mut rev = kv.mod_revision;
    for i in 0..10 {
        rev = writer
            .update("/k", format!("{i}").as_bytes(), None)
            .unwrap()
            .mod_revision;
    }
    writer.compact(rev).unwrap();
    // The watch may read some updates before the compaction: they come in order, and the watch
    // then ends with Compacted from where it got to (or, if it read them all, goes quiet).
    let mut last = kv.mod_revision;
    loop {
        match w.recv_timeout(Duration::from_secs(5)) {
            Ok(Some(Ok(WatchEvent::Put(p)))) => {
                assert_eq!(p.mod_revision, last + 1);
                last = p.mod_revision;
            }
            Ok(Some(Err(DatastoreError::Compacted { requested, oldest }))) => {
                assert_eq!(requested, last);
                assert_eq!(oldest, rev);
                assert!(last < rev - 1);
                break;
            }
            Ok(None) if last == rev => return,
            other => panic!("expected Compacted, got {other:?}"),
        }
    }
    assert_eq!(
        w.recv_timeout(Duration::from_secs(5)),
        Err(()),
        "then the watch ends"
    );
}
