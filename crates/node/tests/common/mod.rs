//! Kernel-test helpers: network namespaces we create (prefix `cnode-<pid>-`, removed on drop and,
//! when left over by a crashed run, at start), running calico-node inside one, and reading
//! its nftables table and HTTP endpoints from inside the namespace.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static SEQ: AtomicUsize = AtomicUsize::new(0);
const PREFIX: &str = "cnode-";

/// Whether we can make namespaces and run nft; prints why not.
pub fn kernel_ready() -> bool {
    if !nix::unistd::Uid::effective().is_root() {
        println!("SKIP: kernel test needs root");
        return false;
    }
    for bin in ["ip", "nft"] {
        if Command::new(bin).arg("-V").output().is_err() {
            println!("SKIP: `{bin}` is not installed");
            return false;
        }
    }
    true
}

/// Remove namespaces of earlier runs of these tests whose process is gone.
fn remove_stale() {
    let Ok(dir) = std::fs::read_dir("/run/netns") else {
        return;
    };
    for e in dir.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = Command::new("ip").args(["netns", "del", &name]).status();
        }
    }
}

/// A network namespace we made; deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new() -> Netns {
        remove_stale();
        let name = format!(
            "{PREFIX}{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        sh(&["ip", "netns", "add", &name]);
        sh(&["ip", "-n", &name, "link", "set", "lo", "up"]);
        Netns { name }
    }

    pub fn path(&self) -> PathBuf {
        PathBuf::from(format!("/run/netns/{}", self.name))
    }

    /// Run `ip -n <ns> ARGS`.
    pub fn ip(&self, args: &[&str]) {
        let mut full = vec!["ip", "-n", &self.name];
        full.extend_from_slice(args);
        sh(&full);
    }

    /// Run a closure on a thread inside this namespace.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = self.path();
        std::thread::spawn(move || {
            let file = std::fs::File::open(&path).expect("open netns");
            nix::sched::setns(file, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            f()
        })
        .join()
        .expect("netns thread")
    }

    /// `nft list table inet calico` in this namespace, normalised (counters and handles
    /// removed); `None` when the table does not exist.
    pub fn calico_table(&self) -> Option<String> {
        let out = Command::new("ip")
            .args([
                "netns", "exec", &self.name, "nft", "list", "table", "inet", "calico",
            ])
            .output()
            .expect("nft");
        if !out.status.success() {
            return None;
        }
        Some(normalise(&String::from_utf8_lossy(&out.stdout)))
    }

    /// GET `path` on `127.0.0.1:port` inside the namespace.
    pub fn http_get(&self, port: u16, path: &str) -> Result<(u16, String), String> {
        let path = path.to_string();
        self.run(move || {
            let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
            calico_node::http::get(addr, &path)
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Remove counter values and handles so two tables with the same rules compare equal.
pub fn normalise(table: &str) -> String {
    let counter = regex::Regex::new(r"counter packets \d+ bytes \d+").expect("regex");
    let handle = regex::Regex::new(r" # handle \d+").expect("regex");
    let t = counter.replace_all(table, "counter");
    handle.replace_all(&t, "").trim().to_string()
}

pub fn sh(args: &[&str]) {
    let st = Command::new(args[0])
        .args(&args[1..])
        .status()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(st.success(), "{args:?} failed: {st}");
}

/// Poll `f` every 50 ms until it returns `Some` or `limit` passes.
pub fn wait_for<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A calico-node process inside a namespace; killed (SIGKILL) on drop.
pub struct NodeProc {
    pub child: Child,
    pub log: PathBuf,
}

impl NodeProc {
    /// Start `calico-node ARGS` in `ns` with `env` (plus a log file in `dir`).
    pub fn start(ns: &Netns, dir: &Path, args: &[&str], env: &[(&str, String)]) -> NodeProc {
        let log = dir.join(format!(
            "calico-node-{}-{}.log",
            ns.name,
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let file = std::fs::File::create(&log).expect("log file");
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &ns.name, env!("CARGO_BIN_EXE_calico-node")])
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log"))
            .stderr(file);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start calico-node");
        NodeProc { child, log }
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Wait until `/readiness` answers 200 (bounded); panics with the node's log otherwise.
pub fn wait_ready(ns: &Netns, node: &mut NodeProc, limit: Duration) {
    let ok = wait_for(limit, || {
        if !node.alive() {
            return Some(false);
        }
        match ns.http_get(9099, "/readiness") {
            Ok((200, _)) => Some(true),
            _ => None,
        }
    });
    assert_eq!(
        ok,
        Some(true),
        "calico-node never became ready:\n{}",
        node.log_text()
    );
}

/// A client on a fresh embedded datastore file `calico.db` in `dir`.
#[allow(dead_code)]
pub fn embedded_client(dir: &Path) -> calico_client::Client {
    calico_client::Client::connect(&calico_client::DatastoreConfig {
        datastore_type: calico_client::DatastoreType::Embedded,
        embedded_path: dir.join("calico.db"),
        etcd: Default::default(),
    })
    .expect("embedded store")
}

/// Two namespaces joined by a veth pair named `eth0` on both sides, with these addresses,
/// both ends up.
#[allow(dead_code)]
pub fn veth_pair(a_cidr: &str, b_cidr: &str) -> (Netns, Netns) {
    let a = Netns::new();
    let b = Netns::new();
    a.ip(&[
        "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", &b.name,
    ]);
    a.ip(&["addr", "add", a_cidr, "dev", "eth0"]);
    b.ip(&["addr", "add", b_cidr, "dev", "eth0"]);
    a.ip(&["link", "set", "eth0", "up"]);
    b.ip(&["link", "set", "eth0", "up"]);
    (a, b)
}
