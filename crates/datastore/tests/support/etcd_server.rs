//! A private etcd server for tests: Debian's `etcd` on free 127.0.0.1 ports with a temporary
//! data directory, stopped by PID when dropped (also when the test fails).
//!
//! Without the binary the tests fail, unless `CALICO_SKIP_ETCD_TESTS=1`, which makes
//! [`EtcdServer::start`] print why and return `None`. `ETCD_BIN` overrides the binary path.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use calico_datastore::{DatastoreError, EtcdBackend, EtcdConfig};

/// How long a started etcd may take to answer.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Certificates for a TLS server (PEM files).
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

#[derive(Debug)]
pub struct EtcdServer {
    child: Option<Child>,
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// Client ports; the first is the main one.
    pub client_ports: Vec<u16>,
    /// Indexes into `client_ports` the running process listens on.
    listening: Vec<usize>,
    peer_port: u16,
    tls: Option<TlsFiles>,
}

/// The etcd binary, or `None` when tests should skip (after printing why).
fn etcd_binary() -> Option<PathBuf> {
    // An explicit ETCD_BIN is the only candidate (so a wrong one is reported, not bypassed).
    let candidates = match std::env::var_os("ETCD_BIN") {
        Some(bin) => vec![PathBuf::from(bin)],
        None => vec![
            PathBuf::from("/usr/bin/etcd"),
            PathBuf::from("/usr/local/bin/etcd"),
        ],
    };
    for c in candidates {
        if c.is_file() {
            return Some(c);
        }
    }
    if std::env::var("CALICO_SKIP_ETCD_TESTS").as_deref() == Ok("1") {
        eprintln!(
            "SKIPPED: no etcd binary ($ETCD_BIN, /usr/bin/etcd or /usr/local/bin/etcd) and \
             CALICO_SKIP_ETCD_TESTS=1"
        );
        return None;
    }
    panic!(
        "the etcd tests need an etcd server binary: install Debian's etcd-server \
         (apt-get install etcd-server), point ETCD_BIN at one, or set CALICO_SKIP_ETCD_TESTS=1 \
         to skip them"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

impl EtcdServer {
    /// Start a plain-HTTP etcd, or `None` when etcd tests are skipped.
    pub fn start() -> Option<Self> {
        Self::start_with(None, 1)
    }

    /// Start a plain-HTTP etcd listening on `ports` client ports (see [`EtcdServer::restart_on`]).
    pub fn start_multi(ports: usize) -> Option<Self> {
        Self::start_with(None, ports.max(1))
    }

    /// Start an etcd that serves HTTPS and requires client certificates.
    pub fn start_tls(tls: TlsFiles) -> Option<Self> {
        Self::start_with(Some(tls), 1)
    }

    fn start_with(tls: Option<TlsFiles>, ports: usize) -> Option<Self> {
        let bin = etcd_binary()?;
        let mut last_log = String::new();
        // A port picked as free may be taken before etcd binds it: try fresh ports a few times.
        for _attempt in 0..3 {
            let mut server = Self {
                child: None,
                dir: tempfile::Builder::new()
                    .prefix("calico-etcd-")
                    .tempdir()
                    .unwrap(),
                bin: bin.clone(),
                client_ports: (0..ports).map(|_| free_port()).collect(),
                listening: (0..ports).collect(),
                peer_port: free_port(),
                tls: tls.clone(),
            };
            let mut all = server.client_ports.clone();
            all.push(server.peer_port);
            all.sort_unstable();
            all.dedup();
            if all.len() != ports + 1 {
                continue;
            }
            match server.launch() {
                Ok(()) => return Some(server),
                Err(log) => last_log = log,
            }
        }
        panic!("etcd did not start; its log:\n{last_log}");
    }

    fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// The main client URL.
    pub fn endpoint(&self) -> String {
        self.endpoint_of(0)
    }

    /// The URL of client port `i`.
    pub fn endpoint_of(&self, i: usize) -> String {
        format!("{}://127.0.0.1:{}", self.scheme(), self.client_ports[i])
    }

    /// Settings for a client of this server (TLS files included).
    pub fn config(&self) -> EtcdConfig {
        self.config_of(0)
    }

    /// Settings for a client of client port `i`.
    pub fn config_of(&self, i: usize) -> EtcdConfig {
        let mut cfg = EtcdConfig::new([self.endpoint_of(i)]);
        if let Some(tls) = &self.tls {
            cfg.ca_cert_file = Some(tls.ca.clone());
            cfg.cert_file = Some(tls.client_cert.clone());
            cfg.key_file = Some(tls.client_key.clone());
        }
        cfg
    }

    /// A connected backend.
    pub fn connect(&self) -> EtcdBackend {
        self.connect_to(0)
    }

    /// A backend connected through client port `i`.
    pub fn connect_to(&self, i: usize) -> EtcdBackend {
        EtcdBackend::connect(self.config_of(i)).expect("connect to the test etcd")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("etcd.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Start the process and wait until it answers; `Err(log)` when it exits or never answers.
    fn launch(&mut self) -> Result<(), String> {
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let client = self
            .listening
            .iter()
            .map(|&i| self.endpoint_of(i))
            .collect::<Vec<_>>()
            .join(",");
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--name")
            .arg("calico-test")
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--listen-client-urls")
            .arg(&client)
            .arg("--advertise-client-urls")
            .arg(&client)
            .arg("--listen-peer-urls")
            .arg(&peer)
            .arg("--initial-advertise-peer-urls")
            .arg(&peer)
            .arg("--initial-cluster")
            .arg(format!("calico-test={peer}"))
            .arg("--initial-cluster-state")
            .arg("new")
            .arg("--heartbeat-interval")
            .arg("50")
            .arg("--election-timeout")
            .arg("500")
            .arg("--logger")
            .arg("zap")
            .arg("--log-level")
            .arg("warn")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log));
        if let Some(tls) = &self.tls {
            cmd.arg("--cert-file")
                .arg(&tls.server_cert)
                .arg("--key-file")
                .arg(&tls.server_key)
                .arg("--trusted-ca-file")
                .arg(&tls.ca)
                .arg("--client-cert-auth");
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.bin.display()))?;
        self.child = Some(child);
        self.wait_ready()
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut cfg = self.config_of(self.listening.first().copied().unwrap_or(0));
        cfg.dial_timeout = Duration::from_millis(500);
        cfg.request_timeout = Duration::from_secs(1);
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(format!("etcd exited with {status}\n{}", self.log()));
            }
            // Any answer counts, also a refusal once auth is enabled.
            match EtcdBackend::connect(cfg.clone()) {
                Ok(_) => return Ok(()),
                Err(DatastoreError::Unavailable(_)) => {}
                Err(_) => return Ok(()),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.stop();
        Err(format!(
            "etcd did not answer within {READY_TIMEOUT:?}\n{}",
            self.log()
        ))
    }

    /// Kill the process (SIGKILL) and reap it. The data directory stays.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stop and start again on the same ports and data directory.
    pub fn restart(&mut self) {
        self.restart_on(&(0..self.client_ports.len()).collect::<Vec<_>>());
    }

    /// Stop and start again listening only on the client ports with these indexes, so clients
    /// of the other ports stay disconnected while the store is up.
    pub fn restart_on(&mut self, ports: &[usize]) {
        assert!(!ports.is_empty() && ports.iter().all(|&i| i < self.client_ports.len()));
        self.listening = ports.to_vec();
        self.stop();
        // The old listening sockets are gone with the process; give the kernel a moment.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.launch() {
                Ok(()) => return,
                Err(log) if Instant::now() >= deadline => {
                    panic!(
                        "etcd did not restart on ports {:?}:\n{log}",
                        self.client_ports
                    )
                }
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    /// A gauge or counter from etcd's `/metrics` on the main (plain HTTP) client port.
    pub fn metric(&self, name: &str) -> Option<f64> {
        use std::io::{Read, Write};
        let mut conn = std::net::TcpStream::connect(("127.0.0.1", self.client_ports[0])).ok()?;
        conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(conn, "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
        let mut body = String::new();
        conn.read_to_string(&mut body).ok()?;
        body.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

impl Drop for EtcdServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Generate a CA, a server certificate for 127.0.0.1 and a client certificate with `openssl`
/// into `dir`; `None` (after printing why) when `openssl` is missing.
pub fn make_certs(dir: &Path) -> Option<TlsFiles> {
    let openssl = ["/usr/bin/openssl", "/usr/local/bin/openssl"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file());
    let Some(openssl) = openssl else {
        eprintln!("SKIPPED: the TLS test needs the openssl command, which is not installed");
        return None;
    };
    let run = |args: &[&str]| {
        let out = Command::new(&openssl)
            .args(args)
            .current_dir(dir)
            .output()
            .expect("run openssl");
        assert!(
            out.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n",
    )
    .unwrap();
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=calico-test-ca",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    for (name, ext) in [("server", "server.ext"), ("client", "client.ext")] {
        run(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            &format!("/CN=calico-{name}"),
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
        ]);
        run(&[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            ext,
            "-out",
            &format!("{name}.pem"),
        ]);
    }
    Some(TlsFiles {
        ca: dir.join("ca.pem"),
        server_cert: dir.join("server.pem"),
        server_key: dir.join("server.key"),
        client_cert: dir.join("client.pem"),
        client_key: dir.join("client.key"),
    })
}
