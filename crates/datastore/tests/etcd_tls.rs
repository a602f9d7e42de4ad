//! TLS with client certificates, configured through Calico's `ETCD_*` variables.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/etcd_server.rs"]
mod etcd_server;

use std::collections::HashMap;
use std::time::Duration;

use calico_datastore::{Backend, DatastoreError, EtcdBackend, EtcdConfig, WatchEvent, WatchFrom};
use etcd_server::{EtcdServer, make_certs};

#[test]
fn tls_with_client_certificates() {
    let certs_dir = tempfile::tempdir().unwrap();
    let Some(tls) = make_certs(certs_dir.path()) else {
        return;
    };
    let Some(server) = EtcdServer::start_tls(tls.clone()) else {
        return;
    };
    let vars: HashMap<&str, String> = HashMap::from([
        ("DATASTORE_TYPE", "etcdv3".to_owned()),
        ("ETCD_ENDPOINTS", server.endpoint()),
        ("ETCD_CA_CERT_FILE", tls.ca.display().to_string()),
        ("ETCD_CERT_FILE", tls.client_cert.display().to_string()),
        ("ETCD_KEY_FILE", tls.client_key.display().to_string()),
    ]);
    let cfg = EtcdConfig::from_lookup(|k| vars.get(k).cloned()).unwrap();
    assert!(cfg.endpoints[0].starts_with("https://"));
    let b = EtcdBackend::connect(cfg.clone()).unwrap();
    let kv = b.create("/tls/a", b"secret").unwrap();
    assert_eq!(b.get("/tls/a").unwrap(), Some(kv.clone()));
    let w = b.watch("/tls/", WatchFrom::Snapshot).unwrap();
    assert_eq!(
        w.recv_timeout(Duration::from_secs(10)).unwrap().unwrap(),
        Ok(WatchEvent::Put(kv))
    );

    // Without a client certificate the server refuses the connection.
    let mut anonymous = cfg.clone();
    anonymous.cert_file = None;
    anonymous.key_file = None;
    anonymous.dial_timeout = Duration::from_secs(3);
    match EtcdBackend::connect(anonymous) {
        Err(DatastoreError::Unavailable(msg)) => assert!(msg.contains(&server.endpoint()), "{msg}"),
        other => panic!("expected a refused connection, got {other:?}"),
    }
    // A CA that did not sign the server certificate fails the handshake.
    let mut wrong_ca = cfg;
    wrong_ca.ca_cert_file = Some(tls.client_cert.clone());
    wrong_ca.dial_timeout = Duration::from_secs(3);
    assert!(matches!(
        EtcdBackend::connect(wrong_ca),
        Err(DatastoreError::Unavailable(_))
    ));
}
