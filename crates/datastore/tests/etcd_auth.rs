//! etcd authentication through `ETCD_USERNAME` / `ETCD_PASSWORD`, with a role limited to the
//! `/calico/` prefix as a Calico deployment would grant.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/etcd_server.rs"]
mod etcd_server;

use std::collections::HashMap;
use std::time::Duration;

use calico_datastore::{Backend, DatastoreError, EtcdBackend, EtcdConfig, WatchEvent, WatchFrom};
use etcd_client::{Client, ConnectOptions, Permission};
use etcd_server::EtcdServer;

/// Create `root` and a `calico` user allowed only under `/calico/`, then enable auth.
fn enable_auth(endpoint: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut c = Client::connect([endpoint], None).await.unwrap();
        c.user_add("root", "rootpw", None).await.unwrap();
        c.role_add("root").await.unwrap();
        c.user_grant_role("root", "root").await.unwrap();
        c.user_add("calico", "calicopw", None).await.unwrap();
        c.role_add("calico").await.unwrap();
        c.role_grant_permission("calico", Permission::read_write("/calico/").with_prefix())
            .await
            .unwrap();
        c.user_grant_role("calico", "calico").await.unwrap();
        c.auth_enable().await.unwrap();
    });
}

fn config(endpoint: &str, user: &str, password: &str) -> EtcdConfig {
    let vars: HashMap<&str, String> = HashMap::from([
        ("ETCD_ENDPOINTS", endpoint.to_owned()),
        ("ETCD_USERNAME", user.to_owned()),
        ("ETCD_PASSWORD", password.to_owned()),
    ]);
    EtcdConfig::from_lookup(|k| vars.get(k).cloned()).unwrap()
}

#[test]
fn username_and_password() {
    let Some(server) = EtcdServer::start() else {
        return;
    };
    enable_auth(&server.endpoint());

    let b = EtcdBackend::connect(config(&server.endpoint(), "calico", "calicopw")).unwrap();
    let kv = b.create("/calico/a", b"1").unwrap();
    assert_eq!(b.get("/calico/a").unwrap(), Some(kv.clone()));
    // The user may not read the whole keyspace; the store revision still comes back.
    assert!(b.revision().unwrap() >= kv.mod_revision);
    let w = b.watch("/calico/", WatchFrom::Snapshot).unwrap();
    assert_eq!(
        w.recv_timeout(Duration::from_secs(10)).unwrap().unwrap(),
        Ok(WatchEvent::Put(kv))
    );
    match b.create("/other", b"1") {
        Err(DatastoreError::Config(msg)) => {
            assert!(msg.contains("permission denied"), "{msg}");
            assert!(msg.contains("ETCD_USERNAME"), "{msg}");
        }
        other => panic!("expected a permission error, got {other:?}"),
    }

    // A watch outside the granted prefix is refused at once.
    match b.watch("/other/", WatchFrom::Snapshot) {
        Err(DatastoreError::Config(msg)) => assert!(msg.contains("permission denied"), "{msg}"),
        other => panic!("expected a refused watch, got {other:?}"),
    }

    match EtcdBackend::connect(config(&server.endpoint(), "calico", "wrong")) {
        Err(DatastoreError::Config(msg)) => {
            assert!(msg.contains(&server.endpoint()), "{msg}");
        }
        other => panic!("expected refused credentials, got {other:?}"),
    }
}

/// Revoke the `calico` role's permission on `/calico/` (as root).
fn revoke(endpoint: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let opts = ConnectOptions::new().with_user("root", "rootpw");
        let mut c = Client::connect([endpoint], Some(opts)).await.unwrap();
        c.role_revoke_permission(
            "calico",
            "/calico/",
            Some(etcd_client::RoleRevokePermissionOptions::new().with_prefix()),
        )
        .await
        .unwrap();
    });
}

#[test]
fn a_watch_refused_on_reconnect_ends_with_an_error() {
    let Some(mut server) = EtcdServer::start() else {
        return;
    };
    enable_auth(&server.endpoint());
    let b = EtcdBackend::connect(config(&server.endpoint(), "calico", "calicopw")).unwrap();
    let w = b.watch("/calico/", WatchFrom::Snapshot).unwrap();
    assert!(matches!(
        w.recv_timeout(Duration::from_secs(10)),
        Ok(Some(Ok(WatchEvent::InSync { .. })))
    ));
    revoke(&server.endpoint());
    // The live stream is not re-checked by etcd; the reconnect after a restart is.
    server.restart();
    match w.recv_timeout(Duration::from_secs(20)) {
        Ok(Some(Err(DatastoreError::Config(msg)))) => {
            assert!(msg.contains("refused the watch on /calico/"), "{msg}");
        }
        other => panic!("expected a refused watch, got {other:?}"),
    }
    assert_eq!(w.recv_timeout(Duration::from_secs(10)), Err(()));
}
