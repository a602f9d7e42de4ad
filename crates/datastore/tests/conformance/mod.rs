//! The backend conformance suite: every check here runs unchanged against every [`Backend`].
//!
//! Each check is a plain `pub fn(&Factory)`. The factory returns a new client (handle,
//! connection) onto the SAME store each time it is called; checks that race clients call it once
//! per thread. Each check works under its own unique key prefix, so checks may share one store
//! and tolerate other clients writing elsewhere at the same time, with one exception:
//! [`watch_reports_compaction`] compacts the whole store's history, so run it where no other
//! check is watching from an old revision at the same moment (a fresh store per test does that).
//!
//! To run the suite against a backend, write `tests/<backend>_conformance.rs` with:
//!
//! ```ignore
//! mod conformance;
//! fn with_store(check: conformance::Check) {
//!     let store = /* a fresh store, or one shared server */;
//!     check(&|| Box::new(/* a new client onto `store` */));
//! }
//! conformance::conformance_tests!(with_store);
//! ```
//!
//! or call [`run_all`] with a factory.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use calico_datastore::{Backend, DatastoreError, KeyValue, Revision, Watch, WatchEvent, WatchFrom};

/// Makes a new client onto the store under test.
pub type Factory<'a> = dyn Fn() -> Box<dyn Backend> + 'a;
/// One conformance check.
pub type Check = fn(&Factory<'_>);

/// How long a check waits for an expected watch event.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(10);

/// Every check, by name. Keep in step with [`conformance_tests!`].
pub const CHECKS: &[(&str, Check)] = &[
    ("create_then_get", create_then_get),
    ("create_existing_fails", create_existing_fails),
    ("get_missing_is_none", get_missing_is_none),
    ("update_semantics", update_semantics),
    ("update_conflict", update_conflict),
    ("delete_semantics", delete_semantics),
    ("revisions_are_monotonic", revisions_are_monotonic),
    ("values_are_opaque_bytes", values_are_opaque_bytes),
    ("list_prefix_is_literal", list_prefix_is_literal),
    ("watch_snapshot_then_changes", watch_snapshot_then_changes),
    ("watch_after_replays_history", watch_after_replays_history),
    (
        "watch_prefix_ignores_other_keys",
        watch_prefix_ignores_other_keys,
    ),
    ("watch_drop_stops", watch_drop_stops),
    ("watch_reports_compaction", watch_reports_compaction),
    (
        "concurrent_cas_exactly_one_wins",
        concurrent_cas_exactly_one_wins,
    ),
    (
        "concurrent_counter_increments",
        concurrent_counter_increments,
    ),
    ("concurrent_creates", concurrent_creates),
    (
        "watch_sees_concurrent_writes_in_order",
        watch_sees_concurrent_writes_in_order,
    ),
    (
        "watch_snapshot_during_writes_converges",
        watch_snapshot_during_writes_converges,
    ),
];

/// Run every check in turn against one store.
pub fn run_all(new_client: &Factory<'_>) {
    for (name, check) in CHECKS {
        eprintln!("conformance: {name}");
        check(new_client);
    }
}

/// Generate one `#[test]` per check, each calling `$with_store(check)`.
macro_rules! conformance_tests {
    ($with_store:path) => {
        $crate::conformance::conformance_tests!(@each $with_store;
            create_then_get,
            create_existing_fails,
            get_missing_is_none,
            update_semantics,
            update_conflict,
            delete_semantics,
            revisions_are_monotonic,
            values_are_opaque_bytes,
            list_prefix_is_literal,
            watch_snapshot_then_changes,
            watch_after_replays_history,
            watch_prefix_ignores_other_keys,
            watch_drop_stops,
            watch_reports_compaction,
            concurrent_cas_exactly_one_wins,
            concurrent_counter_increments,
            concurrent_creates,
            watch_sees_concurrent_writes_in_order,
            watch_snapshot_during_writes_converges,
        );
        #[test]
        fn every_check_has_a_test() {
            assert_eq!($crate::conformance::CHECKS.len(), 19);
        }
    };
    (@each $with_store:path; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $with_store($crate::conformance::$name);
            }
        )*
    };
}
pub(crate) use conformance_tests;

// ---------------------------------------------------------------------------------------------
// Helpers

/// A key prefix no other check (or earlier run against a persistent store) uses.
pub fn unique_prefix(check: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("/conformance/{check}/{}-{nanos}-{n}/", std::process::id())
}

/// The next event, failing the check on timeout, error or end of stream.
pub fn next_event(w: &Watch) -> WatchEvent {
    match w.recv_timeout(EVENT_TIMEOUT) {
        Ok(Some(Ok(ev))) => ev,
        Ok(Some(Err(e))) => panic!("the watch failed: {e}"),
        Ok(None) => panic!("no watch event within {EVENT_TIMEOUT:?}"),
        Err(()) => panic!("the watch ended unexpectedly"),
    }
}

/// Assert that nothing arrives for `quiet`.
pub fn expect_quiet(w: &Watch, quiet: Duration) {
    match w.recv_timeout(quiet) {
        Ok(None) => {}
        other => panic!("expected no watch event, got {other:?}"),
    }
}

/// Collect events up to and including `InSync`; returns them (without `InSync`) and its
/// revision.
pub fn until_in_sync(w: &Watch) -> (Vec<WatchEvent>, Revision) {
    let mut events = Vec::new();
    loop {
        match next_event(w) {
            WatchEvent::InSync { revision } => return (events, revision),
            ev => events.push(ev),
        }
    }
}

/// The revision at which an event happened (for `Put`, the pair's `mod_revision`).
pub fn event_revision(ev: &WatchEvent) -> Revision {
    match ev {
        WatchEvent::Put(kv) => kv.mod_revision,
        WatchEvent::Delete { revision, .. } | WatchEvent::InSync { revision } => *revision,
    }
}

fn assert_delete(ev: &WatchEvent, deleted: &KeyValue, revision: Revision) {
    match ev {
        WatchEvent::Delete {
            key,
            revision: r,
            prev,
        } => {
            assert_eq!(key, &deleted.key);
            assert_eq!(*r, revision, "delete event revision");
            if let Some(prev) = prev {
                assert_eq!(prev, deleted, "a delete event's prev is the deleted pair");
            }
        }
        other => panic!("expected the deletion of {}, got {other:?}", deleted.key),
    }
}

fn keys(kvs: &[KeyValue]) -> Vec<&str> {
    kvs.iter().map(|kv| kv.key.as_str()).collect()
}

/// Apply an event to a model of the store.
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

// ---------------------------------------------------------------------------------------------
// Basic operations

pub fn create_then_get(new_client: &Factory<'_>) {
    let b = new_client();
    let k = format!("{}key", unique_prefix("create_then_get"));
    let before = b.revision().unwrap();
    let kv = b.create(&k, b"v1").unwrap();
    assert_eq!(kv.key, k);
    assert_eq!(kv.value, b"v1");
    assert_eq!(kv.create_revision, kv.mod_revision);
    assert!(
        kv.mod_revision > before,
        "a write gets a new, higher revision"
    );
    assert_eq!(b.get(&k).unwrap(), Some(kv.clone()));
    assert!(b.revision().unwrap() >= kv.mod_revision);
    assert_eq!(
        new_client().get(&k).unwrap(),
        Some(kv),
        "another client sees the write"
    );
}

pub fn create_existing_fails(new_client: &Factory<'_>) {
    let b = new_client();
    let k = format!("{}key", unique_prefix("create_existing_fails"));
    let kv = b.create(&k, b"first").unwrap();
    assert_eq!(
        b.create(&k, b"second"),
        Err(DatastoreError::AlreadyExists { key: k.clone() })
    );
    assert_eq!(
        b.get(&k).unwrap(),
        Some(kv),
        "a failed create changes nothing"
    );
}

pub fn get_missing_is_none(new_client: &Factory<'_>) {
    let b = new_client();
    let p = unique_prefix("get_missing_is_none");
    assert_eq!(b.get(&format!("{p}nothing")).unwrap(), None);
    assert!(b.list(&p).unwrap().kvs.is_empty());
}

pub fn update_semantics(new_client: &Factory<'_>) {
    let b = new_client();
    let k = format!("{}key", unique_prefix("update_semantics"));
    let not_found = Err(DatastoreError::NotFound { key: k.clone() });
    assert_eq!(b.update(&k, b"x", None), not_found);
    assert_eq!(b.update(&k, b"x", Some(1)), not_found);
    assert_eq!(b.get(&k).unwrap(), None, "a failed update creates nothing");

    let created = b.create(&k, b"v1").unwrap();
    let unconditional = b.update(&k, b"v2", None).unwrap();
    assert_eq!(unconditional.value, b"v2");
    assert_eq!(unconditional.create_revision, created.create_revision);
    assert!(unconditional.mod_revision > created.mod_revision);

    let cas = b
        .update(&k, b"v3", Some(unconditional.mod_revision))
        .unwrap();
    assert_eq!(cas.value, b"v3");
    assert_eq!(cas.create_revision, created.create_revision);
    assert!(cas.mod_revision > unconditional.mod_revision);
    assert_eq!(b.get(&k).unwrap(), Some(cas));
}

pub fn update_conflict(new_client: &Factory<'_>) {
    let b = new_client();
    let k = format!("{}key", unique_prefix("update_conflict"));
    let v1 = b.create(&k, b"v1").unwrap();
    let v2 = b.update(&k, b"v2", Some(v1.mod_revision)).unwrap();
    assert_eq!(
        b.update(&k, b"stale", Some(v1.mod_revision)),
        Err(DatastoreError::Conflict {
            key: k.clone(),
            expected: v1.mod_revision,
            actual: v2.mod_revision,
        })
    );
    assert_eq!(
        b.get(&k).unwrap(),
        Some(v2),
        "a conflicting update changes nothing"
    );
}

pub fn delete_semantics(new_client: &Factory<'_>) {
    let b = new_client();
    let p = unique_prefix("delete_semantics");
    let k = format!("{p}key");
    assert_eq!(
        b.delete(&k, None),
        Err(DatastoreError::NotFound { key: k.clone() })
    );

    let v1 = b.create(&k, b"v1").unwrap();
    let v2 = b.update(&k, b"v2", None).unwrap();
    assert_eq!(
        b.delete(&k, Some(v1.mod_revision)),
        Err(DatastoreError::Conflict {
            key: k.clone(),
            expected: v1.mod_revision,
            actual: v2.mod_revision,
        })
    );
    assert_eq!(
        b.get(&k).unwrap(),
        Some(v2.clone()),
        "a conflicting delete keeps the key"
    );

    let deleted = b.delete(&k, Some(v2.mod_revision)).unwrap();
    assert_eq!(deleted, v2, "delete returns the deleted pair");
    assert_eq!(b.get(&k).unwrap(), None);
    assert_eq!(
        b.delete(&k, None),
        Err(DatastoreError::NotFound { key: k.clone() })
    );
    assert!(
        b.revision().unwrap() > v2.mod_revision,
        "a delete gets a revision"
    );

    let again = b.create(&k, b"v3").unwrap();
    assert!(
        again.create_revision > v2.mod_revision,
        "re-creation starts a new life"
    );
    assert_eq!(again.create_revision, again.mod_revision);
    let gone = b.delete(&k, None).unwrap();
    assert_eq!(gone, again, "an unconditional delete also returns the pair");
    assert!(b.list(&p).unwrap().kvs.is_empty());
}

pub fn revisions_are_monotonic(new_client: &Factory<'_>) {
    let b = new_client();
    let p = unique_prefix("revisions_are_monotonic");
    let mut last = b.revision().unwrap();
    let mut created = BTreeMap::new();
    for i in 0..30 {
        let k = format!("{p}k{}", i % 3);
        let kv = match b.get(&k).unwrap() {
            None => {
                let kv = b.create(&k, format!("{i}").as_bytes()).unwrap();
                created.insert(k.clone(), kv.create_revision);
                kv
            }
            Some(cur) if i % 7 == 0 => {
                let old = b.delete(&k, Some(cur.mod_revision)).unwrap();
                let rev = b.revision().unwrap();
                assert!(rev > last && rev > old.mod_revision);
                last = rev;
                continue;
            }
            Some(cur) => b
                .update(&k, format!("{i}").as_bytes(), Some(cur.mod_revision))
                .unwrap(),
        };
        assert!(
            kv.mod_revision > last,
            "revision {} after {last}",
            kv.mod_revision
        );
        assert_eq!(
            Some(&kv.create_revision),
            created.get(&k),
            "create_revision is kept"
        );
        last = kv.mod_revision;
        assert!(b.revision().unwrap() >= last);
    }
}

pub fn values_are_opaque_bytes(new_client: &Factory<'_>) {
    let b = new_client();
    let p = unique_prefix("values_are_opaque_bytes");
    let all_bytes: Vec<u8> = (0..=255u8).collect();
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let cases: Vec<(String, Vec<u8>)> = vec![
        (format!("{p}empty"), Vec::new()),
        (format!("{p}all-bytes"), all_bytes),
        (format!("{p}big"), big),
        (format!("{p}ключ 🔑 with spaces"), b"unicode key".to_vec()),
    ];
    let watch = b.watch(&p, WatchFrom::Snapshot).unwrap();
    assert_eq!(until_in_sync(&watch).0, vec![]);
    for (k, v) in &cases {
        let kv = b.create(k, v).unwrap();
        assert_eq!(&kv.value, v);
        assert_eq!(b.get(k).unwrap().unwrap().value, *v, "{k}");
        match next_event(&watch) {
            WatchEvent::Put(ev) => assert_eq!(ev, kv),
            other => panic!("expected a put of {k}, got {other:?}"),
        }
    }
    let listed = b.list(&p).unwrap().kvs;
    let mut expected: Vec<_> = cases.iter().map(|(k, _)| k.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(keys(&listed), expected);
    for kv in &listed {
        let want = &cases.iter().find(|(k, _)| *k == kv.key).unwrap().1;
        assert_eq!(&kv.value, want);
    }
    // An empty value is still a value, distinct from a missing key.
    let empty = b.update(&format!("{p}empty"), b"", None).unwrap();
    assert_eq!(b.get(&format!("{p}empty")).unwrap(), Some(empty));
}

pub fn list_prefix_is_literal(new_client: &Factory<'_>) {
    let b = new_client();
    let p = unique_prefix("list_prefix_is_literal");
    let names = ["a/b", "a/b.x", "a/b/1", "a/b/2", "a/b0", "a/bc", "a/c", "b"];
    let mut last = 0;
    for name in names.iter().rev() {
        last = b
            .create(&format!("{p}{name}"), name.as_bytes())
            .unwrap()
            .mod_revision;
    }
    let under = |prefix: &str| {
        let listed = b.list(&format!("{p}{prefix}")).unwrap();
        assert!(
            listed.revision >= last,
            "the list revision covers every write"
        );
        for kv in &listed.kvs {
            assert!(kv.mod_revision <= listed.revision);
            assert_eq!(kv.value, &kv.key.as_bytes()[p.len()..]);
        }
        listed
            .kvs
            .iter()
            .map(|kv| kv.key[p.len()..].to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(under("a/b/"), ["a/b/1", "a/b/2"]);
    assert_eq!(
        under("a/b"),
        ["a/b", "a/b.x", "a/b/1", "a/b/2", "a/b0", "a/bc"]
    );
    assert_eq!(under("a/b/1"), ["a/b/1"]);
    assert_eq!(
        under("a/"),
        ["a/b", "a/b.x", "a/b/1", "a/b/2", "a/b0", "a/bc", "a/c"]
    );
    assert_eq!(under(""), names, "sorted by key bytes");
    assert!(under("a/d").is_empty());
    assert!(under("a/b/1/").is_empty());
}

// ---------------------------------------------------------------------------------------------
// Watches

pub fn watch_snapshot_then_changes(new_client: &Factory<'_>) {
    let b = new_client();
    let p = unique_prefix("watch_snapshot_then_changes");
    let outside = format!("{}other", unique_prefix("watch_snapshot_then_changes"));
    let a = b.create(&format!("{p}a"), b"a1").unwrap();
    let bb = b.create(&format!("{p}b"), b"b1").unwrap();
    b.create(&outside, b"x").unwrap();

    let w = new_client().watch(&p, WatchFrom::Snapshot).unwrap();
    let (snapshot, in_sync) = until_in_sync(&w);
    assert_eq!(
        snapshot,
        vec![WatchEvent::Put(a.clone()), WatchEvent::Put(bb.clone())]
    );
    assert!(in_sync >= bb.mod_revision);

    let a2 = b.update(&a.key, b"a2", Some(a.mod_revision)).unwrap();
    let deleted = b.delete(&bb.key, None).unwrap();
    let delete_rev = b.revision().unwrap();
    b.update(&outside, b"y", None).unwrap();
    let c = b.create(&format!("{p}c"), b"c1").unwrap();
    assert_eq!(next_event(&w), WatchEvent::Put(a2));
    let del = next_event(&w);
    assert_delete(&del, &deleted, event_revision(&del));
    assert!(event_revision(&del) <= delete_rev && event_revision(&del) > a.mod_revision);
    assert_eq!(next_event(&w), WatchEvent::Put(c));
    expect_quiet(&w, Duration::from_millis(300));
}

pub fn watch_after_replays_history(new_client: &Factory<'_>) {
    let b = new_client();
    let p = unique_prefix("watch_after_replays_history");
    let rev0 = b.revision().unwrap();
    let k1 = b.create(&format!("{p}1"), b"one").unwrap();
    let k1b = b.update(&k1.key, b"uno", None).unwrap();
    let k2 = b.create(&format!("{p}2"), b"two").unwrap();
    let gone = b.delete(&k1.key, Some(k1b.mod_revision)).unwrap();
    let k3 = b.create(&format!("{p}3"), b"three").unwrap();

    let w = new_client().watch(&p, WatchFrom::After(rev0)).unwrap();
    let (events, in_sync) = until_in_sync(&w);
    assert_eq!(events.len(), 5, "{events:?}");
    assert_eq!(events[0], WatchEvent::Put(k1.clone()));
    assert_eq!(events[1], WatchEvent::Put(k1b.clone()));
    assert_eq!(events[2], WatchEvent::Put(k2.clone()));
    assert_delete(&events[3], &gone, event_revision(&events[3]));
    assert!(event_revision(&events[3]) > k2.mod_revision);
    assert_eq!(events[4], WatchEvent::Put(k3.clone()));
    assert!(in_sync >= k3.mod_revision);

    let live = b.update(&k2.key, b"deux", None).unwrap();
    assert_eq!(next_event(&w), WatchEvent::Put(live.clone()));

    // Resuming after the second change replays only the later ones.
    let w2 = new_client()
        .watch(&p, WatchFrom::After(k1b.mod_revision))
        .unwrap();
    let (events, _) = until_in_sync(&w2);
    let revs: Vec<_> = events.iter().map(event_revision).collect();
    assert_eq!(revs.len(), 4, "{events:?}");
    assert_eq!(revs[0], k2.mod_revision);
    assert_eq!(*revs.last().unwrap(), live.mod_revision);

    // Resuming at the newest revision replays nothing.
    let w3 = new_client()
        .watch(&p, WatchFrom::After(live.mod_revision))
        .unwrap();
    let (events, in_sync) = until_in_sync(&w3);
    assert!(events.is_empty(), "{events:?}");
    assert!(in_sync >= live.mod_revision);
}

pub fn watch_prefix_ignores_other_keys(new_client: &Factory<'_>) {
    let b = new_client();
    let p = unique_prefix("watch_prefix_ignores_other_keys");
    let w = new_client()
        .watch(&format!("{p}x/"), WatchFrom::Snapshot)
        .unwrap();
    assert!(until_in_sync(&w).0.is_empty());
    for k in ["x", "xy", "y/1", "x0", "w/x/1"] {
        b.create(&format!("{p}{k}"), b"no").unwrap();
    }
    let hit = b.create(&format!("{p}x/1"), b"yes").unwrap();
    assert_eq!(next_event(&w), WatchEvent::Put(hit));
    b.delete(&format!("{p}x"), None).unwrap();
    expect_quiet(&w, Duration::from_millis(300));
}

pub fn watch_drop_stops(new_client: &Factory<'_>) {
    let b = new_client();
    let p = unique_prefix("watch_drop_stops");
    for i in 0..20 {
        let w = b.watch(&p, WatchFrom::Snapshot).unwrap();
        until_in_sync(&w);
        b.create(&format!("{p}{i}"), b"v").unwrap();
        drop(w);
    }
    // Writes keep working with no one watching, and a new watch sees everything.
    b.create(&format!("{p}last"), b"v").unwrap();
    let w = b.watch(&p, WatchFrom::Snapshot).unwrap();
    assert_eq!(until_in_sync(&w).0.len(), 21);
}

pub fn watch_reports_compaction(new_client: &Factory<'_>) {
    let b = new_client();
    let k = format!("{}key", unique_prefix("watch_reports_compaction"));
    let mut revs = vec![b.create(&k, b"0").unwrap().mod_revision];
    for i in 1..5 {
        revs.push(
            b.update(&k, format!("{i}").as_bytes(), None)
                .unwrap()
                .mod_revision,
        );
    }
    let future = b.revision().unwrap() + 1_000;
    assert!(
        b.compact(future).is_err(),
        "compacting to a future revision is refused"
    );
    b.compact(revs[2]).unwrap();

    let w = b.watch(&k, WatchFrom::After(revs[0])).unwrap();
    match w.recv_timeout(EVENT_TIMEOUT) {
        Ok(Some(Err(DatastoreError::Compacted { requested, oldest }))) => {
            assert_eq!(requested, revs[0]);
            assert_eq!(oldest, revs[2]);
        }
        other => panic!("expected Compacted, got {other:?}"),
    }
    let deadline = Instant::now() + EVENT_TIMEOUT;
    loop {
        match w.recv_timeout(Duration::from_millis(50)) {
            Err(()) => break,
            Ok(None) if Instant::now() < deadline => {}
            other => panic!("a compacted watch must end, got {other:?}"),
        }
    }

    // The oldest revision still kept can be watched from.
    let w = b.watch(&k, WatchFrom::After(revs[2] - 1)).unwrap();
    let (events, _) = until_in_sync(&w);
    let got: Vec<_> = events.iter().map(event_revision).collect();
    assert_eq!(got, revs[2..].to_vec());
    // Compacting again to an older revision is harmless.
    b.compact(revs[1]).unwrap();
    assert_eq!(
        b.get(&k).unwrap().unwrap().value,
        b"4",
        "compaction keeps the state"
    );
}

// ---------------------------------------------------------------------------------------------
// Concurrency

pub fn concurrent_cas_exactly_one_wins(new_client: &Factory<'_>) {
    const RACERS: usize = 8;
    let k = format!("{}key", unique_prefix("concurrent_cas_exactly_one_wins"));
    for round in 0..5 {
        let b = new_client();
        let rev0 = match b.get(&k).unwrap() {
            Some(kv) => kv.mod_revision,
            None => b.create(&k, b"start").unwrap().mod_revision,
        };
        let clients: Vec<_> = (0..RACERS).map(|_| new_client()).collect();
        let barrier = Barrier::new(RACERS);
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = clients
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let (k, barrier) = (&k, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        c.update(k, format!("r{round}-{i}").as_bytes(), Some(rev0))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let winners: Vec<&KeyValue> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "exactly one CAS wins: {results:?}");
        let winner = winners[0];
        for r in &results {
            match r {
                Ok(_) => {}
                Err(DatastoreError::Conflict {
                    key,
                    expected,
                    actual,
                }) => {
                    assert_eq!(key, &k);
                    assert_eq!(*expected, rev0);
                    assert_eq!(*actual, winner.mod_revision);
                }
                Err(e) => panic!("a losing CAS must be a Conflict, got {e}"),
            }
        }
        assert_eq!(b.get(&k).unwrap().as_ref(), Some(winner));
    }
}

/// Increment the decimal counter at `key` by one with a CAS-retry loop; returns the retries.
pub fn cas_increment(b: &dyn Backend, key: &str) -> u64 {
    let mut retries = 0;
    loop {
        let cur = b.get(key).unwrap().expect("the counter exists");
        let n: u64 = std::str::from_utf8(&cur.value).unwrap().parse().unwrap();
        match b.update(key, (n + 1).to_string().as_bytes(), Some(cur.mod_revision)) {
            Ok(_) => return retries,
            Err(DatastoreError::Conflict { .. }) => retries += 1,
            Err(e) => panic!("incrementing {key}: {e}"),
        }
    }
}

pub fn concurrent_counter_increments(new_client: &Factory<'_>) {
    const THREADS: usize = 4;
    const EACH: usize = 50;
    let k = format!("{}counter", unique_prefix("concurrent_counter_increments"));
    let b = new_client();
    let start = b.create(&k, b"0").unwrap();
    let clients: Vec<_> = (0..THREADS).map(|_| new_client()).collect();
    std::thread::scope(|s| {
        for c in &clients {
            let k = &k;
            s.spawn(move || {
                for _ in 0..EACH {
                    cas_increment(c.as_ref(), k);
                }
            });
        }
    });
    let end = b.get(&k).unwrap().unwrap();
    assert_eq!(end.value, (THREADS * EACH).to_string().as_bytes());
    assert_eq!(end.create_revision, start.create_revision);
    assert!(end.mod_revision - start.mod_revision >= (THREADS * EACH) as Revision);
}

pub fn concurrent_creates(new_client: &Factory<'_>) {
    const THREADS: usize = 4;
    const EACH: usize = 25;
    let p = unique_prefix("concurrent_creates");
    let shared = format!("{p}shared");
    let clients: Vec<_> = (0..THREADS).map(|_| new_client()).collect();
    let barrier = Barrier::new(THREADS);
    let won: usize = std::thread::scope(|s| {
        let handles: Vec<_> = clients
            .iter()
            .enumerate()
            .map(|(t, c)| {
                let (p, shared, barrier) = (&p, &shared, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    let won = match c.create(shared, format!("{t}").as_bytes()) {
                        Ok(_) => 1,
                        Err(DatastoreError::AlreadyExists { .. }) => 0,
                        Err(e) => panic!("creating {shared}: {e}"),
                    };
                    for i in 0..EACH {
                        c.create(&format!("{p}t{t}/{i:03}"), b"v").unwrap();
                    }
                    won
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(won, 1, "exactly one create of the shared key wins");
    let listed = new_client().list(&p).unwrap().kvs;
    assert_eq!(listed.len(), THREADS * EACH + 1);
    let revs: BTreeSet<_> = listed.iter().map(|kv| kv.mod_revision).collect();
    assert_eq!(revs.len(), listed.len(), "every write has its own revision");
}

/// What [`run_writers`] wrote.
struct Written {
    /// The revision of every create and update.
    puts: BTreeSet<Revision>,
    deletes: usize,
}

/// Four clients for [`run_writers`].
fn writer_clients(new_client: &Factory<'_>) -> Vec<Box<dyn Backend>> {
    (0..4).map(|_| new_client()).collect()
}

/// Run one writer thread per client under `p` (creates, updates, deletes of 5 keys each, 25
/// writes each).
fn run_writers(clients: &[Box<dyn Backend>], p: &str) -> Written {
    const EACH: usize = 25;
    let per_thread: Vec<(Vec<Revision>, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = clients
            .iter()
            .enumerate()
            .map(|(t, c)| {
                s.spawn(move || {
                    let (mut puts, mut deletes) = (Vec::new(), 0);
                    for i in 0..EACH {
                        let k = format!("{p}t{t}/k{}", i % 5);
                        let value = format!("{i}");
                        match c.get(&k).unwrap() {
                            None => puts.push(c.create(&k, value.as_bytes()).unwrap().mod_revision),
                            Some(kv) if i % 4 == 3 => {
                                c.delete(&k, Some(kv.mod_revision)).unwrap();
                                deletes += 1;
                            }
                            Some(kv) => puts.push(
                                c.update(&k, value.as_bytes(), Some(kv.mod_revision))
                                    .unwrap()
                                    .mod_revision,
                            ),
                        }
                    }
                    (puts, deletes)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    Written {
        puts: per_thread
            .iter()
            .flat_map(|(p, _)| p.iter().copied())
            .collect(),
        deletes: per_thread.iter().map(|(_, d)| d).sum(),
    }
}

/// Feed events into `model` until the put of `sentinel` arrives; checks revision order and
/// returns the put revisions and the number of deletes seen (the sentinel excluded).
fn follow_until(
    w: &Watch,
    model: &mut BTreeMap<String, KeyValue>,
    mut last: Revision,
    sentinel: &KeyValue,
) -> (BTreeSet<Revision>, usize) {
    let (mut puts, mut deletes) = (BTreeSet::new(), 0);
    loop {
        let ev = next_event(w);
        if let WatchEvent::InSync { .. } = ev {
            continue;
        }
        let rev = event_revision(&ev);
        assert!(
            rev > last,
            "events arrive in revision order: {rev} after {last}"
        );
        last = rev;
        apply(model, &ev);
        match ev {
            WatchEvent::Put(kv) if kv == *sentinel => return (puts, deletes),
            WatchEvent::Put(kv) => assert!(puts.insert(kv.mod_revision), "duplicate {kv:?}"),
            _ => deletes += 1,
        }
    }
}

pub fn watch_sees_concurrent_writes_in_order(new_client: &Factory<'_>) {
    let p = unique_prefix("watch_sees_concurrent_writes_in_order");
    let watcher = new_client();
    let rev0 = watcher.revision().unwrap();
    let w = watcher.watch(&p, WatchFrom::After(rev0)).unwrap();
    let written = run_writers(&writer_clients(new_client), &p);
    let sentinel = watcher.create(&format!("{p}~sentinel"), b"end").unwrap();
    let mut model = BTreeMap::new();
    let (puts, deletes) = follow_until(&w, &mut model, rev0, &sentinel);
    assert_eq!(
        puts, written.puts,
        "every create and update is delivered exactly once"
    );
    assert_eq!(
        deletes, written.deletes,
        "every delete is delivered exactly once"
    );
    expect_quiet(&w, Duration::from_millis(200));
    let listed = watcher.list(&p).unwrap().kvs;
    assert_eq!(model.into_values().collect::<Vec<_>>(), listed);
}

pub fn watch_snapshot_during_writes_converges(new_client: &Factory<'_>) {
    let p = unique_prefix("watch_snapshot_during_writes_converges");
    let seed = new_client();
    for i in 0..10 {
        seed.create(&format!("{p}seed/{i}"), b"s").unwrap();
    }
    let watcher = new_client();
    let clients = writer_clients(new_client);
    let w = std::thread::scope(|s| {
        s.spawn(|| run_writers(&clients, &p));
        std::thread::sleep(Duration::from_millis(2));
        watcher.watch(&p, WatchFrom::Snapshot).unwrap()
    });
    let sentinel = seed.create(&format!("{p}~sentinel"), b"end").unwrap();
    let mut model = BTreeMap::new();
    let (snapshot, in_sync) = until_in_sync(&w);
    let snapshot_keys: Vec<_> = snapshot
        .iter()
        .map(|ev| match ev {
            WatchEvent::Put(kv) => {
                assert!(
                    kv.mod_revision <= in_sync,
                    "a snapshot entry is not newer than InSync"
                );
                kv.key.clone()
            }
            other => panic!("a snapshot holds only puts, got {other:?}"),
        })
        .collect();
    let mut sorted = snapshot_keys.clone();
    sorted.sort();
    assert_eq!(snapshot_keys, sorted, "the snapshot is sorted by key");
    for ev in &snapshot {
        apply(&mut model, ev);
    }
    if model.get(&sentinel.key) != Some(&sentinel) {
        follow_until(&w, &mut model, in_sync, &sentinel);
    }
    let listed = seed.list(&p).unwrap().kvs;
    assert_eq!(model.into_values().collect::<Vec<_>>(), listed);
}
