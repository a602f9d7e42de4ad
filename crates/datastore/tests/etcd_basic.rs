//! The etcd backend against a private etcd: CRUD and compare-and-swap, paginated listing,
//! watches (snapshot, replay, compaction), racing writers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/etcd_server.rs"]
mod etcd_server;

use std::sync::{Arc, Barrier};
use std::time::Duration;

use calico_datastore::{Backend, DatastoreError, WatchEvent, WatchFrom};
use etcd_server::EtcdServer;

const WAIT: Duration = Duration::from_secs(10);

fn next(w: &calico_datastore::Watch) -> WatchEvent {
    match w.recv_timeout(WAIT) {
        Ok(Some(Ok(ev))) => ev,
        other => panic!("expected a watch event, got {other:?}"),
    }
}

#[test]
fn crud_and_cas() {
    let Some(server) = EtcdServer::start() else {
        return;
    };
    let b = server.connect();
    assert_eq!(b.name(), "etcdv3");
    let kv = b.create("/t/a", b"1").unwrap();
    assert_eq!(kv.create_revision, kv.mod_revision);
    assert_eq!(b.get("/t/a").unwrap(), Some(kv.clone()));
    assert_eq!(
        b.create("/t/a", b"2"),
        Err(DatastoreError::AlreadyExists { key: "/t/a".into() })
    );
    let up = b.update("/t/a", b"2", Some(kv.mod_revision)).unwrap();
    assert_eq!(up.create_revision, kv.create_revision);
    assert!(up.mod_revision > kv.mod_revision);
    assert_eq!(
        b.update("/t/a", b"3", Some(kv.mod_revision)),
        Err(DatastoreError::Conflict {
            key: "/t/a".into(),
            expected: kv.mod_revision,
            actual: up.mod_revision
        })
    );
    assert_eq!(
        b.update("/t/missing", b"x", None),
        Err(DatastoreError::NotFound {
            key: "/t/missing".into()
        })
    );
    // Revision 0 must not create a missing key (etcd's mod_revision of a missing key is 0).
    assert_eq!(
        b.update("/t/missing", b"x", Some(0)),
        Err(DatastoreError::NotFound {
            key: "/t/missing".into()
        })
    );
    let unconditional = b.update("/t/a", b"4", None).unwrap();
    assert_eq!(unconditional.value, b"4");
    assert!(matches!(
        b.delete("/t/a", Some(up.mod_revision)),
        Err(DatastoreError::Conflict { .. })
    ));
    let gone = b.delete("/t/a", Some(unconditional.mod_revision)).unwrap();
    assert_eq!(gone, unconditional);
    assert_eq!(b.get("/t/a").unwrap(), None);
    assert_eq!(
        b.delete("/t/a", None),
        Err(DatastoreError::NotFound { key: "/t/a".into() })
    );
    assert!(b.revision().unwrap() > gone.mod_revision);
}

#[test]
fn list_is_paginated_sorted_and_consistent() {
    let Some(server) = EtcdServer::start() else {
        return;
    };
    let b = server.connect();
    // More than two pages.
    for i in 0..2500 {
        b.create(&format!("/p/{i:05}"), format!("{i}").as_bytes())
            .unwrap();
    }
    b.create("/pz", b"outside").unwrap();
    let rev = b.revision().unwrap();
    let l = b.list("/p/").unwrap();
    assert_eq!(l.kvs.len(), 2500);
    assert_eq!(l.revision, rev);
    assert!(l.kvs.windows(2).all(|w| w[0].key < w[1].key));
    assert_eq!(l.kvs[2499].value, b"2499");
    assert_eq!(b.list("").unwrap().kvs.len(), 2501);
    assert!(b.list("/nothing/").unwrap().kvs.is_empty());
}

#[test]
fn watch_snapshot_after_and_compaction() {
    let Some(server) = EtcdServer::start() else {
        return;
    };
    let b = server.connect();
    let first = b.create("/w/a", b"1").unwrap();
    b.create("/other", b"x").unwrap();
    let w = b.watch("/w/", WatchFrom::Snapshot).unwrap();
    assert_eq!(next(&w), WatchEvent::Put(first.clone()));
    let WatchEvent::InSync { revision } = next(&w) else {
        panic!("expected InSync")
    };
    assert_eq!(revision, b.revision().unwrap());
    let second = b.create("/w/b", b"2").unwrap();
    assert_eq!(next(&w), WatchEvent::Put(second.clone()));
    let deleted = b.delete("/w/a", None).unwrap();
    match next(&w) {
        WatchEvent::Delete {
            key,
            revision,
            prev,
        } => {
            assert_eq!(key, "/w/a");
            assert!(revision > second.mod_revision);
            assert_eq!(prev, Some(deleted));
        }
        other => panic!("expected a delete, got {other:?}"),
    }

    // Replay from the first write: the three changes, then InSync.
    let replay = b
        .watch("/w/", WatchFrom::After(first.mod_revision - 1))
        .unwrap();
    let mut revs = Vec::new();
    loop {
        match next(&replay) {
            WatchEvent::InSync { revision } => {
                assert_eq!(revision, b.revision().unwrap());
                break;
            }
            ev => revs.push(ev),
        }
    }
    assert_eq!(revs.len(), 3, "{revs:?}");
    // Replay from now: InSync at once.
    let now = b.revision().unwrap();
    let quiet = b.watch("/w/", WatchFrom::After(now)).unwrap();
    assert_eq!(next(&quiet), WatchEvent::InSync { revision: now });

    // Compaction: an old start revision ends the watch with Compacted.
    b.compact(now).unwrap();
    let old = b
        .watch("/w/", WatchFrom::After(first.mod_revision))
        .unwrap();
    match old.recv_timeout(WAIT) {
        Ok(Some(Err(DatastoreError::Compacted { requested, oldest }))) => {
            assert_eq!(requested, first.mod_revision);
            assert_eq!(oldest, now);
        }
        other => panic!("expected Compacted, got {other:?}"),
    }
    assert_eq!(old.recv_timeout(WAIT), Err(()), "a compacted watch ends");
    assert_eq!(b.oldest_revision().unwrap(), Some(now));
    assert!(matches!(
        b.compact(now + 100),
        Err(DatastoreError::Config(_))
    ));
    b.compact(1).unwrap();
}

#[test]
fn racing_writers_exactly_one_wins() {
    let Some(server) = EtcdServer::start() else {
        return;
    };
    let b = Arc::new(server.connect());
    let base = b.create("/race/k", b"0").unwrap();
    const RACERS: usize = 8;
    let barrier = Arc::new(Barrier::new(RACERS));
    let handles: Vec<_> = (0..RACERS)
        .map(|i| {
            // Half share the backend, half use their own connection.
            let own = (i % 2 == 1).then(|| server.connect());
            let shared = Arc::clone(&b);
            let barrier = Arc::clone(&barrier);
            let expected = base.mod_revision;
            std::thread::spawn(move || {
                let b: &dyn Backend = match &own {
                    Some(own) => own,
                    None => shared.as_ref(),
                };
                barrier.wait();
                b.update("/race/k", format!("{i}").as_bytes(), Some(expected))
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for r in &results {
        if let Err(e) = r {
            assert_eq!(
                e,
                &DatastoreError::Conflict {
                    key: "/race/k".into(),
                    expected: base.mod_revision,
                    actual: winners[0].mod_revision,
                }
            );
        }
    }
}

#[test]
fn replay_ends_with_in_sync_when_the_last_writes_are_elsewhere() {
    let Some(server) = EtcdServer::start() else {
        return;
    };
    let b = server.connect();
    let start = b.revision().unwrap();
    let mut revs = Vec::new();
    for i in 0..3 {
        revs.push(b.create(&format!("/x/{i}"), b"v").unwrap().mod_revision);
    }
    for i in 0..5 {
        b.create(&format!("/y/{i}"), b"v").unwrap();
    }
    let head = b.revision().unwrap();
    // History for the prefix, then InSync at the store revision (via a confirmed progress
    // notification: no event of the prefix is at `head`).
    let w = b.watch("/x/", WatchFrom::After(start)).unwrap();
    let got: Vec<_> = (0..3)
        .map(|_| match next(&w) {
            WatchEvent::Put(kv) => kv.mod_revision,
            other => panic!("expected a put, got {other:?}"),
        })
        .collect();
    assert_eq!(got, revs);
    assert_eq!(next(&w), WatchEvent::InSync { revision: head });
    // A prefix with no change at all since `start`.
    let none = b.watch("/z/", WatchFrom::After(start)).unwrap();
    assert_eq!(next(&none), WatchEvent::InSync { revision: head });
    let z = b.create("/z/1", b"v").unwrap();
    assert_eq!(next(&none), WatchEvent::Put(z));
}

#[test]
fn long_replay_spans_several_etcd_batches() {
    let Some(server) = EtcdServer::start() else {
        return;
    };
    let b = server.connect();
    let start = b.revision().unwrap();
    let mut rev = b.create("/long/k", b"0").unwrap().mod_revision;
    let mut revs = vec![rev];
    // etcd sends at most 1000 revisions per catch-up batch.
    for i in 1..2500 {
        rev = b
            .update("/long/k", format!("{i}").as_bytes(), Some(rev))
            .unwrap()
            .mod_revision;
        revs.push(rev);
    }
    let w = b.watch("/long/", WatchFrom::After(start)).unwrap();
    let mut got = Vec::new();
    loop {
        match next(&w) {
            WatchEvent::Put(kv) => got.push(kv.mod_revision),
            WatchEvent::InSync { revision } => {
                assert_eq!(revision, rev);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(got, revs);
}

#[test]
fn dropped_watches_release_their_etcd_watchers() {
    let Some(server) = EtcdServer::start() else {
        return;
    };
    let watchers = || {
        server
            .metric("etcd_debugging_mvcc_watcher_total")
            .expect("etcd_debugging_mvcc_watcher_total in /metrics")
    };
    let baseline = watchers();
    let b = server.connect();
    let ws: Vec<_> = (0..5)
        .map(|i| {
            b.watch(&format!("/idle/{i}/"), WatchFrom::Snapshot)
                .unwrap()
        })
        .collect();
    for w in &ws {
        assert!(matches!(next(w), WatchEvent::InSync { .. }));
    }
    let deadline = std::time::Instant::now() + WAIT;
    while watchers() < baseline + 5.0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(watchers(), baseline + 5.0);
    // The watches outlive the backend handle that made them.
    drop(b);
    let writer = server.connect();
    let kv = writer.create("/idle/0/k", b"v").unwrap();
    assert_eq!(next(&ws[0]), WatchEvent::Put(kv));
    // Idle watches, dropped: etcd's watcher count goes back down without any further write.
    drop(ws);
    let deadline = std::time::Instant::now() + WAIT;
    while watchers() > baseline && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(watchers(), baseline);
}

#[test]
fn usable_from_inside_another_tokio_runtime() {
    let Some(server) = EtcdServer::start() else {
        return;
    };
    let cfg = server.config();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // A synchronous call from async code must not panic ("cannot start a runtime from within
    // a runtime"), and neither must dropping the backend there.
    rt.block_on(async move {
        let b = calico_datastore::EtcdBackend::connect(cfg).unwrap();
        let kv = b.create("/rt/a", b"1").unwrap();
        assert_eq!(b.get("/rt/a").unwrap(), Some(kv.clone()));
        let w = b.watch("/rt/", WatchFrom::Snapshot).unwrap();
        assert_eq!(next(&w), WatchEvent::Put(kv));
        drop(w);
        drop(b);
    });
}
