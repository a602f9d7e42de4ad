//! The conformance suite against [`MemoryBackend`], one fresh store per check.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;

use calico_datastore::MemoryBackend;

fn with_store(check: conformance::Check) {
    let store = MemoryBackend::new();
    check(&|| Box::new(store.clone()));
}

conformance::conformance_tests!(with_store);

#[test]
fn run_all_on_one_store() {
    let store = MemoryBackend::new();
    conformance::run_all(&|| Box::new(store.clone()));
}
