//! Watches across etcd restarts: no event lost or repeated, and a resync by difference when
//! the history a disconnected watcher needed was compacted meanwhile.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/etcd_server.rs"]
mod etcd_server;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use calico_datastore::{
    Backend, DatastoreError, EtcdBackend, KeyValue, Revision, Watch, WatchEvent, WatchFrom,
};
use etcd_server::EtcdServer;

const WAIT: Duration = Duration::from_secs(20);

fn next(w: &Watch) -> WatchEvent {
    match w.recv_timeout(WAIT) {
        Ok(Some(Ok(ev))) => ev,
        other => panic!("expected a watch event, got {other:?}"),
    }
}

fn expect_quiet(w: &Watch, quiet: Duration) {
    match w.recv_timeout(quiet) {
        Ok(None) => {}
        other => panic!("expected no more events, got {other:?}"),
    }
}

fn revision_of(ev: &WatchEvent) -> Revision {
    match ev {
        WatchEvent::Put(kv) => kv.mod_revision,
        WatchEvent::Delete { revision, .. } | WatchEvent::InSync { revision } => *revision,
    }
}

/// Retry a write while etcd comes back; a write that was applied but whose answer was lost
/// shows up as AlreadyExists / NotFound on the retry and counts as done.
fn retry<T>(what: &str, mut op: impl FnMut() -> Result<T, DatastoreError>) -> Option<T> {
    let deadline = Instant::now() + WAIT;
    loop {
        match op() {
            Ok(v) => return Some(v),
            Err(DatastoreError::Unavailable(_)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(DatastoreError::AlreadyExists { .. } | DatastoreError::NotFound { .. }) => {
                return None;
            }
            Err(e) => panic!("{what}: {e}"),
        }
    }
}

/// A model of the prefix built from events.
fn apply(model: &mut BTreeMap<String, KeyValue>, ev: &WatchEvent) {
    match ev {
        WatchEvent::Put(kv) => {
            model.insert(kv.key.clone(), kv.clone());
        }
        WatchEvent::Delete { key, .. } => {
            model.remove(key);
        }
        WatchEvent::InSync { .. } => {}
    }
}

fn collect_changes(w: &Watch, count: usize) -> Vec<WatchEvent> {
    (0..count).map(|_| next(w)).collect()
}

#[test]
fn watch_survives_restart_without_loss_or_duplicates() {
    let Some(mut server) = EtcdServer::start() else {
        return;
    };
    let writer = server.connect();
    let watcher = server.connect();
    let w = watcher.watch("/r/", WatchFrom::Snapshot).unwrap();
    assert!(matches!(next(&w), WatchEvent::InSync { .. }));

    let mut written: Vec<Revision> = Vec::new();
    for i in 0..10 {
        written.push(
            writer
                .create(&format!("/r/{i:02}"), b"before")
                .unwrap()
                .mod_revision,
        );
    }
    let before = collect_changes(&w, 10);

    server.restart();
    // Written before the watcher had a chance to reconnect (its backoff starts at 100 ms).
    for i in 10..20 {
        let key = format!("/r/{i:02}");
        let kv = retry(&key, || writer.create(&key, b"after")).expect("create after restart");
        written.push(kv.mod_revision);
    }
    let up = writer.update("/r/00", b"updated", None).unwrap();
    written.push(up.mod_revision);
    let del = writer.delete("/r/01", None).unwrap();
    let del_rev = writer.revision().unwrap();
    written.push(del_rev);
    assert!(del.mod_revision < del_rev);

    let after = collect_changes(&w, 12);
    let all: Vec<_> = before.iter().chain(&after).collect();
    let revs: Vec<Revision> = all.iter().map(|e| revision_of(e)).collect();
    assert_eq!(revs, written, "every change exactly once, in order");
    assert!(all.iter().all(|e| !matches!(e, WatchEvent::InSync { .. })));
    expect_quiet(&w, Duration::from_millis(500));

    // A second restart, with the watcher idle across it.
    server.restart();
    let kv = retry("/r/late", || writer.create("/r/late", b"x")).expect("create /r/late");
    assert_eq!(next(&w), WatchEvent::Put(kv));
    expect_quiet(&w, Duration::from_millis(500));
}

#[test]
fn replay_watch_survives_restart() {
    let Some(mut server) = EtcdServer::start() else {
        return;
    };
    let writer = server.connect();
    let start = writer.revision().unwrap();
    let mut written = Vec::new();
    for i in 0..5 {
        written.push(
            writer
                .create(&format!("/a/{i}"), b"v")
                .unwrap()
                .mod_revision,
        );
    }
    let watcher = server.connect();
    let w = watcher.watch("/a/", WatchFrom::After(start)).unwrap();
    let replayed = collect_changes(&w, 5);
    assert_eq!(
        next(&w),
        WatchEvent::InSync {
            revision: *written.last().unwrap()
        }
    );
    server.restart();
    for i in 5..8 {
        let key = format!("/a/{i}");
        written.push(
            retry(&key, || writer.create(&key, b"v"))
                .unwrap()
                .mod_revision,
        );
    }
    let live = collect_changes(&w, 3);
    let revs: Vec<_> = replayed.iter().chain(&live).map(revision_of).collect();
    assert_eq!(revs, written);
    expect_quiet(&w, Duration::from_millis(500));
}

#[test]
fn resync_after_compaction_while_disconnected() {
    // Port 0 for the watcher, port 1 for the writer: restarting on port 1 only keeps the
    // watcher disconnected while the writer changes and compacts the store.
    let Some(mut server) = EtcdServer::start_multi(2) else {
        return;
    };
    let watcher = server.connect_to(0);
    let writer = server.connect_to(1);
    for k in ["a", "b", "c", "d"] {
        writer.create(&format!("/c/{k}"), b"1").unwrap();
    }
    writer.create("/elsewhere", b"1").unwrap();
    let w = watcher.watch("/c/", WatchFrom::Snapshot).unwrap();
    let mut model = BTreeMap::new();
    loop {
        let ev = next(&w);
        if matches!(ev, WatchEvent::InSync { .. }) {
            break;
        }
        apply(&mut model, &ev);
    }
    assert_eq!(model.len(), 4);
    let a2 = writer.update("/c/a", b"2", None).unwrap();
    assert_eq!(next(&w), WatchEvent::Put(a2.clone()));
    apply(&mut model, &WatchEvent::Put(a2));

    server.restart_on(&[1]);
    retry("/c/b", || writer.update("/c/b", b"2", None)).unwrap();
    writer.delete("/c/c", None).unwrap();
    writer.create("/c/e", b"1").unwrap();
    writer.create("/c/tmp", b"1").unwrap();
    writer.delete("/c/tmp", None).unwrap();
    writer.update("/c/a", b"3", None).unwrap();
    writer.update("/elsewhere", b"2", None).unwrap();
    let compacted_at = writer.revision().unwrap();
    writer.compact(compacted_at).unwrap();
    assert_eq!(writer.oldest_revision().unwrap(), Some(compacted_at));

    server.restart_on(&[0, 1]);
    let mut resync = Vec::new();
    let in_sync = loop {
        match next(&w) {
            WatchEvent::InSync { revision } => break revision,
            ev => resync.push(ev),
        }
    };
    assert_eq!(in_sync, compacted_at);
    let shape: Vec<(String, &str)> = resync
        .iter()
        .map(|e| match e {
            WatchEvent::Put(kv) => (kv.key.clone(), "put"),
            WatchEvent::Delete { key, .. } => (key.clone(), "delete"),
            WatchEvent::InSync { .. } => unreachable!(),
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            ("/c/a".to_owned(), "put"),
            ("/c/b".to_owned(), "put"),
            ("/c/e".to_owned(), "put"),
            ("/c/c".to_owned(), "delete"),
        ],
        "only the net differences, each once: {resync:?}"
    );
    for ev in &resync {
        apply(&mut model, ev);
    }
    let truth = writer.list("/c/").unwrap();
    assert_eq!(model.values().cloned().collect::<Vec<_>>(), truth.kvs);

    // Live again afterwards, exactly once.
    let f = writer.create("/c/f", b"1").unwrap();
    assert_eq!(next(&w), WatchEvent::Put(f));
    expect_quiet(&w, Duration::from_millis(500));
}

#[test]
fn dropping_a_watch_during_an_outage_stops_it() {
    let Some(mut server) = EtcdServer::start() else {
        return;
    };
    let b = server.connect();
    let w = b.watch("/d/", WatchFrom::Snapshot).unwrap();
    assert!(matches!(next(&w), WatchEvent::InSync { .. }));
    server.stop();
    std::thread::sleep(Duration::from_millis(300));
    drop(w); // must not block or panic while the watcher is in its reconnect loop
    server.restart();
    let again: EtcdBackend = server.connect();
    assert!(again.list("/d/").unwrap().kvs.is_empty());
}
