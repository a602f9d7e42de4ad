//! A private etcd for the `calicoctl ipam` tests (mirrors the client's IPAM test harness): Debian's `etcd` on free 127.0.0.1 ports with
//! a temporary data directory, killed (by PID) when dropped. Without the binary the caller
//! fails, unless `CALICO_SKIP_ETCD_TESTS=1`, which makes [`Etcd::start`] print why and return
//! `None`. `ETCD_BIN` overrides the binary path.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs::File;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use calico_datastore::{DatastoreError, EtcdBackend, EtcdConfig};

pub struct Etcd {
    child: Child,
    dir: tempfile::TempDir,
    pub endpoint: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn binary() -> Option<PathBuf> {
    let candidates = match std::env::var_os("ETCD_BIN") {
        Some(b) => vec![PathBuf::from(b)],
        None => vec!["/usr/bin/etcd".into(), "/usr/local/bin/etcd".into()],
    };
    if let Some(b) = candidates.into_iter().find(|c| c.is_file()) {
        return Some(b);
    }
    if std::env::var("CALICO_SKIP_ETCD_TESTS").as_deref() == Ok("1") {
        eprintln!("SKIPPED: no etcd binary and CALICO_SKIP_ETCD_TESTS=1");
        return None;
    }
    panic!(
        "the etcd IPAM tests need an etcd binary: apt-get install etcd-server, set ETCD_BIN, or \
         set CALICO_SKIP_ETCD_TESTS=1 to skip them"
    );
}

impl Etcd {
    pub fn start() -> Option<Self> {
        let bin = binary()?;
        let mut last = String::new();
        for _ in 0..3 {
            let dir = tempfile::Builder::new()
                .prefix("calicoctl-ipam-etcd-")
                .tempdir()
                .unwrap();
            let (cp, pp) = (free_port(), free_port());
            if cp == pp {
                continue;
            }
            let client = format!("http://127.0.0.1:{cp}");
            let peer = format!("http://127.0.0.1:{pp}");
            let log = File::create(dir.path().join("etcd.log")).unwrap();
            let child = Command::new(&bin)
                .args(["--name", "ipam-test", "--data-dir"])
                .arg(dir.path().join("data"))
                .args([
                    "--listen-client-urls",
                    &client,
                    "--advertise-client-urls",
                    &client,
                ])
                .args([
                    "--listen-peer-urls",
                    &peer,
                    "--initial-advertise-peer-urls",
                    &peer,
                ])
                .args(["--initial-cluster", &format!("ipam-test={peer}")])
                .args([
                    "--initial-cluster-state",
                    "new",
                    "--logger",
                    "zap",
                    "--log-level",
                    "warn",
                ])
                .args(["--heartbeat-interval", "50", "--election-timeout", "500"])
                .stdin(Stdio::null())
                .stdout(Stdio::from(log.try_clone().unwrap()))
                .stderr(Stdio::from(log))
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
            let mut etcd = Etcd {
                child,
                dir,
                endpoint: client,
            };
            if etcd.wait_ready() {
                return Some(etcd);
            }
            last = std::fs::read_to_string(etcd.dir.path().join("etcd.log")).unwrap_or_default();
        }
        panic!("etcd did not start:\n{last}");
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut cfg = self.config();
        cfg.dial_timeout = Duration::from_millis(500);
        cfg.request_timeout = Duration::from_secs(1);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            match EtcdBackend::connect(cfg.clone()) {
                Ok(_) => return true,
                Err(DatastoreError::Unavailable(_)) => {}
                Err(_) => return true,
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    pub fn config(&self) -> EtcdConfig {
        EtcdConfig {
            endpoints: vec![self.endpoint.clone()],
            ..EtcdConfig::default()
        }
    }

    pub fn connect(&self) -> EtcdBackend {
        EtcdBackend::connect(self.config()).expect("connect to the test etcd")
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
