//! Namespaces for kernel tests: unique names per run (`dpt<pid>-<tag>-<name>`), removed on
//! drop (also on panic) and, if an earlier run crashed, at start (by the `dpt` prefix and a
//! PID that no longer runs). Everything runs inside these namespaces; nothing touches the
//! root namespace.
#![allow(dead_code)]

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sched::{CloneFlags, setns};

pub fn sh(args: &[&str]) -> String {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether a command succeeds (for probes).
pub fn sh_ok(args: &[&str]) -> bool {
    Command::new(args[0])
        .args(&args[1..])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Remove namespaces left by crashed runs of these tests.
pub fn remove_stale() {
    let Ok(list) = std::fs::read_dir("/run/netns") else {
        return;
    };
    for e in list.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("dpt") else {
            continue;
        };
        let pid: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if pid.is_empty() || std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
    }
}

/// A set of namespaces for one test.
pub struct Lab {
    prefix: String,
    names: Vec<String>,
}

impl Lab {
    pub fn new(tag: &str) -> Lab {
        remove_stale();
        Lab {
            prefix: format!("dpt{}-{tag}-", std::process::id()),
            names: Vec::new(),
        }
    }

    /// Create namespace `name` (with `lo` up) and return its full name.
    pub fn ns(&mut self, name: &str) -> String {
        let full = format!("{}{name}", self.prefix);
        sh(&["ip", "netns", "add", &full]);
        self.names.push(full.clone());
        sh(&["ip", "-n", &full, "link", "set", "lo", "up"]);
        full
    }

    /// A pod wired as Calico's CNI plugin wires it: veth `eth0` in the pod with `ip`/32,
    /// default route via 169.254.1.1 (answered by proxy ARP on the host end `host_if`).
    /// `host_route`: also add the /32 route on the node, as the CNI plugin does.
    pub fn pod(
        &mut self,
        node: &str,
        name: &str,
        host_if: &str,
        ip: &str,
        host_route: bool,
    ) -> String {
        let pod = self.ns(name);
        sh(&[
            "ip", "-n", node, "link", "add", host_if, "type", "veth", "peer", "name", "eth0",
            "netns", &pod,
        ]);
        sh(&[
            "ip",
            "netns",
            "exec",
            node,
            "sysctl",
            "-qw",
            &format!("net.ipv4.conf.{host_if}.proxy_arp=1"),
        ]);
        sh(&[
            "ip",
            "netns",
            "exec",
            node,
            "sysctl",
            "-qw",
            &format!("net.ipv4.neigh.{host_if}.proxy_delay=0"),
        ]);
        sh(&["ip", "-n", node, "link", "set", host_if, "up"]);
        sh(&[
            "ip",
            "-n",
            &pod,
            "addr",
            "add",
            &format!("{ip}/32"),
            "dev",
            "eth0",
        ]);
        sh(&["ip", "-n", &pod, "link", "set", "eth0", "up"]);
        sh(&[
            "ip",
            "-n",
            &pod,
            "route",
            "add",
            "169.254.1.1",
            "dev",
            "eth0",
            "scope",
            "link",
        ]);
        sh(&[
            "ip",
            "-n",
            &pod,
            "route",
            "add",
            "default",
            "via",
            "169.254.1.1",
            "dev",
            "eth0",
        ]);
        if host_route {
            sh(&[
                "ip",
                "-n",
                node,
                "route",
                "add",
                &format!("{ip}/32"),
                "dev",
                host_if,
                "scope",
                "link",
            ]);
        }
        pod
    }

    /// A veth between two namespaces with addresses (`addr` as `a.b.c.d/len`, or "").
    pub fn wire(&self, a: &str, a_if: &str, a_addr: &str, b: &str, b_if: &str, b_addr: &str) {
        sh(&[
            "ip", "-n", a, "link", "add", a_if, "type", "veth", "peer", "name", b_if, "netns", b,
        ]);
        for (ns, ifname, addr) in [(a, a_if, a_addr), (b, b_if, b_addr)] {
            if !addr.is_empty() {
                sh(&["ip", "-n", ns, "addr", "add", addr, "dev", ifname]);
            }
            sh(&["ip", "-n", ns, "link", "set", ifname, "up"]);
        }
    }

    pub fn path(ns: &str) -> std::path::PathBuf {
        format!("/run/netns/{ns}").into()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for n in self.names.iter().rev() {
            let _ = Command::new("ip").args(["netns", "del", n]).output();
        }
    }
}

/// Run `f` on a new thread inside namespace `ns`.
pub fn in_ns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = Lab::path(ns);
    std::thread::spawn(move || {
        let file = File::open(&path).expect("open netns");
        setns(&file, CloneFlags::CLONE_NEWNET).expect("setns");
        f()
    })
    .join()
    .expect("namespace thread")
}

/// A TCP server in a namespace that accepts and answers with the peer's address, until
/// dropped (polling a stop flag; bounded by a 120 s lifetime).
pub struct Server {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
    pub peers: mpsc::Receiver<SocketAddr>,
}

impl Server {
    pub fn start(ns: &str, port: u16) -> Server {
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = mpsc::channel();
        let (peer_tx, peers) = mpsc::channel();
        let path = Lab::path(ns);
        let st = stop.clone();
        let handle = std::thread::spawn(move || {
            let file = File::open(&path).expect("open netns");
            setns(&file, CloneFlags::CLONE_NEWNET).expect("setns");
            let l = TcpListener::bind(("0.0.0.0", port)).expect("bind");
            l.set_nonblocking(true).expect("nonblocking");
            ready_tx.send(()).expect("ready");
            let until = Instant::now() + Duration::from_secs(120);
            while !st.load(Ordering::Relaxed) && Instant::now() < until {
                match l.accept() {
                    Ok((_s, peer)) => {
                        let _ = peer_tx.send(peer);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        ready_rx.recv().expect("server ready");
        Server {
            stop,
            handle: Some(handle),
            peers,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Whether a TCP connection from namespace `ns` to `dst` succeeds within 1 s.
pub fn connects(ns: &str, dst: &str) -> bool {
    let dst: SocketAddr = dst.parse().expect("test address");
    in_ns(ns, move || {
        TcpStream::connect_timeout(&dst, Duration::from_millis(1000)).is_ok()
    })
}
