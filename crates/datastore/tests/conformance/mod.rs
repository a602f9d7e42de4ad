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

mod basic;
mod concurrency;
mod watch;

pub use basic::*;
pub use concurrency::*;
pub use watch::*;

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
