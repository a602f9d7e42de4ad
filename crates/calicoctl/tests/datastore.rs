//! Datastore failures (unreachable etcd, damaged embedded store) and an etcd round trip
//! against a private etcd on loopback.
//!
//! The etcd test needs `/usr/bin/etcd` (or `$ETCD_BIN`); without it the test fails unless
//! `CALICO_SKIP_ETCD_TESTS=1`, in which case it prints why it skips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Env, POOL1, POOL2, docs};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn unreachable_etcd_fails_fast_and_clearly() {
    let env = Env::new();
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let cfg = env.write(
        "etcd.cfg",
        &format!(
            "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  datastoreType: \
             etcdv3\n  etcdEndpoints: {endpoint}\n"
        ),
    );
    let pool = env.write("pool.yaml", POOL1);
    let start = Instant::now();
    let out = env.run_with_config(&cfg, &["create", "-f", pool.to_str().unwrap()]);
    let err = out.fails().to_string();
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "took {:?}",
        start.elapsed()
    );
    assert!(
        err.starts_with("Failed to create Calico API client: the datastore is unreachable"),
        "{err}"
    );
    assert!(err.contains(&endpoint), "{err}");
    // The same through the environment, as the brief's users would run it.
    if let Some(out) = env.run_env_only(
        &["get", "ippool"],
        &[("DATASTORE_TYPE", "etcdv3"), ("ETCD_ENDPOINTS", &endpoint)],
    ) {
        assert!(out.fails().contains("unreachable"), "{out:?}");
    }
}

#[test]
fn truncated_embedded_store_is_reported_and_left_alone() {
    let env = Env::new();
    env.run_file(&["create"], &docs(&[POOL1, POOL2])).ok();
    let bytes = std::fs::read(&env.db).unwrap();
    let cut = &bytes[..bytes.len() / 2];
    let broken = env.path("broken.db");
    std::fs::write(&broken, cut).unwrap();
    let cfg = env.write(
        "broken.cfg",
        &format!(
            "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  embeddedPath: {}\n",
            broken.display()
        ),
    );
    let pool = env.write(
        "pool3.yaml",
        &POOL1.replace("pool1", "pool3").replace("10.1.", "10.3."),
    );
    for args in [
        vec!["get", "ippool"],
        vec!["create", "-f", pool.to_str().unwrap()],
        vec!["delete", "ippool", "pool1"],
    ] {
        let err = env.run_with_config(&cfg, &args).fails().to_string();
        assert!(
            err.starts_with("Failed to create Calico API client: the datastore file"),
            "{err}"
        );
        assert!(err.contains("damaged"), "{err}");
        assert_eq!(
            std::fs::read(&broken).unwrap(),
            cut,
            "the damaged file was modified"
        );
    }
}

/// A private etcd on free loopback ports, killed by PID on drop.
struct Etcd {
    child: Child,
    endpoint: String,
    /// A calicoctl config file naming this etcd.
    cfg: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn etcd_binary() -> Option<PathBuf> {
    let bin = std::env::var_os("ETCD_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/etcd"));
    if bin.is_file() {
        return Some(bin);
    }
    if std::env::var("CALICO_SKIP_ETCD_TESTS").as_deref() == Ok("1") {
        eprintln!(
            "SKIPPED: no etcd at {} and CALICO_SKIP_ETCD_TESTS=1",
            bin.display()
        );
        return None;
    }
    panic!(
        "this test needs etcd at {} (apt-get install etcd-server, or set ETCD_BIN); set \
         CALICO_SKIP_ETCD_TESTS=1 to skip it",
        bin.display()
    );
}

impl Etcd {
    fn start(env: &Env) -> Option<Self> {
        let bin = etcd_binary()?;
        let dir = tempfile::Builder::new()
            .prefix("calicoctl-etcd-")
            .tempdir()
            .unwrap();
        let (client, peer) = (free_port(), free_port());
        let endpoint = format!("http://127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let log = std::fs::File::create(dir.path().join("etcd.log")).unwrap();
        let child = Command::new(bin)
            .args(["--name", "calicoctl-test", "--data-dir"])
            .arg(dir.path().join("data"))
            .args([
                "--listen-client-urls",
                &endpoint,
                "--advertise-client-urls",
                &endpoint,
            ])
            .args([
                "--listen-peer-urls",
                &peer_url,
                "--initial-advertise-peer-urls",
                &peer_url,
            ])
            .args(["--initial-cluster", &format!("calicoctl-test={peer_url}")])
            .args(["--log-level", "warn"])
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let cfg = env.write(
            "etcd-test.cfg",
            &format!(
                "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  \
                 datastoreType: etcdv3\n  etcdEndpoints: {endpoint}\n"
            ),
        );
        let etcd = Self {
            child,
            endpoint,
            cfg,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if env.run_with_config(&etcd.cfg, &["version"]).code == Some(0) {
                return Some(etcd);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "etcd did not answer on {}:\n{}",
            etcd.endpoint,
            std::fs::read_to_string(etcd._dir.path().join("etcd.log")).unwrap_or_default()
        );
    }
}

#[test]
fn etcd_round_trip() {
    let env = Env::new();
    let Some(etcd) = Etcd::start(&env) else {
        return;
    };
    let f = env.write("pools.yaml", &docs(&[POOL1, POOL2]));
    let f = f.to_str().unwrap();
    let run = |args: &[&str]| env.run_with_config(&etcd.cfg, args);
    assert_eq!(
        run(&["create", "-f", f]).ok(),
        "Successfully created 2 'IPPool' resource(s)\n"
    );
    let table = run(&["get", "ippool"]).ok().to_string();
    assert!(
        table.contains("pool1   10.1.0.0/16") && table.contains("pool2"),
        "{table}"
    );
    let err = run(&["create", "-f", f]).fails().to_string();
    assert!(
        err.contains("resource already exists: IPPool(pool1)"),
        "{err}"
    );
    run(&["label", "ippool", "pool1", "env=test"]).ok();
    let yaml = run(&["get", "ippool", "pool1", "-o", "yaml"])
        .ok()
        .to_string();
    assert!(yaml.contains("env: test"), "{yaml}");
    assert_eq!(
        run(&["delete", "-f", f]).ok(),
        "Successfully deleted 2 'IPPool' resource(s)\n"
    );
    assert_eq!(
        run(&["get", "ippool"]).ok(),
        "NAME   CIDR   SELECTOR   \n\n"
    );
    assert!(
        !env.db.exists(),
        "the embedded store was used instead of etcd"
    );
    // The same store through the environment variables, when no default config file interferes.
    let vars = [
        ("DATASTORE_TYPE", "etcdv3"),
        ("ETCD_ENDPOINTS", etcd.endpoint.as_str()),
    ];
    if let Some(out) = env.run_env_only(&["apply", "-f", f], &vars) {
        assert_eq!(out.ok(), "Successfully applied 2 'IPPool' resource(s)\n");
        let table = run(&["get", "ippool", "-o", "wide"]).ok().to_string();
        assert!(table.contains("pool2   fd00:1::/64"), "{table}");
    }
    assert!(!env.db.exists());
}
