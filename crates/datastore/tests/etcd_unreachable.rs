//! An unreachable etcd gives a prompt `Unavailable` naming the endpoints, never a hang, and
//! the backend recovers when etcd comes back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/etcd_server.rs"]
mod etcd_server;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use calico_datastore::{Backend, DatastoreError, EtcdBackend, EtcdConfig, WatchFrom};
use etcd_server::EtcdServer;

const LIMIT: Duration = Duration::from_secs(10);

fn assert_unavailable<T: std::fmt::Debug>(
    what: &str,
    endpoint: &str,
    started: Instant,
    r: Result<T, DatastoreError>,
) {
    let elapsed = started.elapsed();
    match r {
        Err(DatastoreError::Unavailable(msg)) => {
            eprintln!("{what} after {elapsed:?}: {msg}");
            assert!(
                msg.contains(endpoint),
                "{what}: the message names {endpoint}: {msg}"
            );
        }
        other => panic!("{what}: expected Unavailable, got {other:?}"),
    }
    assert!(elapsed < LIMIT, "{what} took {elapsed:?}");
}

#[test]
fn connect_to_a_closed_port_fails_fast() {
    // A port nobody listens on: bind, note it, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let r = EtcdBackend::connect(EtcdConfig::new([endpoint.clone()]));
    assert_unavailable("connect", &endpoint, started, r);
}

#[test]
fn a_silent_listener_times_out() {
    // Accepts TCP but never speaks HTTP/2: the request deadline must fire.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let mut cfg = EtcdConfig::new([endpoint.clone()]);
    cfg.dial_timeout = Duration::from_secs(3);
    let started = Instant::now();
    let r = EtcdBackend::connect(cfg);
    assert_unavailable("connect to a silent listener", &endpoint, started, r);
    drop(listener);
}

#[test]
fn calls_fail_fast_while_etcd_is_down_and_recover() {
    let Some(mut server) = EtcdServer::start() else {
        return;
    };
    let b = server.connect();
    b.create("/u/a", b"1").unwrap();
    server.stop();
    let endpoint = server.endpoint();
    let t = Instant::now();
    assert_unavailable("get", &endpoint, t, b.get("/u/a"));
    let t = Instant::now();
    assert_unavailable("create", &endpoint, t, b.create("/u/b", b"1"));
    let t = Instant::now();
    assert_unavailable("list", &endpoint, t, b.list("/u/"));
    let t = Instant::now();
    assert_unavailable("watch", &endpoint, t, b.watch("/u/", WatchFrom::Snapshot));
    let t = Instant::now();
    assert_unavailable("revision", &endpoint, t, b.revision());

    server.restart();
    let deadline = Instant::now() + LIMIT;
    let value = loop {
        match b.get("/u/a") {
            Ok(v) => break v,
            Err(DatastoreError::Unavailable(_)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("after restart: {e}"),
        }
    };
    assert_eq!(value.unwrap().value, b"1");
}
