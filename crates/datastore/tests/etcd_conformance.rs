//! The conformance suite against [`EtcdBackend`]: each check on a fresh private etcd, and
//! the whole suite in turn on one more. Each factory call is a new connection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;
#[path = "support/etcd_server.rs"]
mod etcd_server;

use etcd_server::EtcdServer;

fn with_store(check: conformance::Check) {
    let Some(server) = EtcdServer::start() else {
        return;
    };
    check(&|| Box::new(server.connect()));
}

conformance::conformance_tests!(with_store);

#[test]
fn run_all_on_one_store() {
    let Some(server) = EtcdServer::start() else {
        return;
    };
    conformance::run_all(&|| Box::new(server.connect()));
}
