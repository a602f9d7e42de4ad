//! The conformance suite against [`EmbeddedBackend`], one fresh store file per check. Every
//! client the factory makes is a separate `EmbeddedBackend` (its own SQLite connections) on the
//! same file, as separate processes would be.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;

use calico_datastore::EmbeddedBackend;

fn with_store(check: conformance::Check) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calico.db");
    check(&|| Box::new(EmbeddedBackend::open(&path).unwrap()));
}

conformance::conformance_tests!(with_store);

#[test]
fn run_all_on_one_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calico.db");
    conformance::run_all(&|| Box::new(EmbeddedBackend::open(&path).unwrap()));
    EmbeddedBackend::open(&path)
        .unwrap()
        .check_integrity()
        .unwrap();
}
