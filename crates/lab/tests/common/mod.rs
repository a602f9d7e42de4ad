//! A lab per test, driven through the `calico-lab` binary as a user would: a unique name
//! (`lt<pid>-<tag>`), `down` on drop (also when the test panics), and leftovers of crashed
//! earlier runs (labs and namespaces named after a pid that is gone) removed first.
//!
//! The lab runs the binaries built next to `calico-lab` (`calico-node`, `calico`,
//! `calico-ipam`, `calicoctl`): a missing one fails the test with the command that builds it.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use calico_lab::Matrix;

pub mod conformance;

pub const BIN: &str = env!("CARGO_BIN_EXE_calico-lab");

/// Prefix of test lab names.
const PREFIX: &str = "lt";

/// Fail (never skip) when a program the lab needs is not built.
pub fn require_binaries() {
    let dir = Path::new(BIN).parent().unwrap();
    for (bin, pkg) in [
        ("calico-node", "calico-node"),
        ("calico", "calico-cni-plugin"),
        ("calico-ipam", "calico-cni-plugin"),
        ("calicoctl", "calicoctl"),
    ] {
        assert!(
            dir.join(bin).is_file(),
            "the lab tests run the real {bin}, which is not built in {}: run `cargo build -p {pkg}` \
             (scripts/test.sh builds every binary first)",
            dir.display()
        );
    }
    for tool in ["ip", "nsenter", "ping"] {
        let ok = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(ok, "{tool} is not installed (scripts/deps.sh installs it)");
    }
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// `lt<pid>-...` → pid.
fn owner_pid(name: &str) -> Option<u32> {
    name.strip_prefix(PREFIX)?.split('-').next()?.parse().ok()
}

/// Remove labs and namespaces left by crashed test runs (their pid is gone).
pub fn remove_stale() {
    let root = Path::new(calico_lab::state::DEFAULT_STATE_ROOT);
    if let Ok(entries) = std::fs::read_dir(root) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if owner_pid(&name).is_some_and(|p| !pid_alive(p)) {
                eprintln!("removing stale lab {name} of an earlier run");
                let _ = Command::new(BIN).args(["down", "--name", &name]).output();
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir("/run/netns") {
        for e in entries.flatten() {
            let ns = e.file_name().to_string_lossy().into_owned();
            let Some(lab) = ns.strip_prefix("cl-") else {
                continue;
            };
            if owner_pid(lab).is_some_and(|p| !pid_alive(p)) {
                eprintln!("removing stale namespace {ns} of an earlier run");
                // Processes left inside it (by a run that was killed) go first.
                if let Ok(o) = Command::new("ip").args(["netns", "pids", &ns]).output() {
                    for pid in String::from_utf8_lossy(&o.stdout).split_whitespace() {
                        let _ = Command::new("kill").args(["-9", pid]).status();
                    }
                }
                let _ = Command::new("ip").args(["netns", "del", &ns]).status();
            }
        }
    }
}

/// A lab that is brought down when dropped.
pub struct Lab {
    pub name: String,
}

impl Lab {
    /// `calico-lab up --name lt<pid>-<tag> ARGS...`.
    pub fn up(tag: &str, args: &[&str]) -> Lab {
        require_binaries();
        remove_stale();
        let lab = Lab {
            name: format!("{PREFIX}{}-{tag}", std::process::id()),
        };
        let mut all = vec!["up"];
        all.extend_from_slice(args);
        let out = lab.ok(&all);
        eprintln!("{out}");
        lab
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(["--name", &self.name]).args(args);
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("cannot run calico-lab")
    }

    /// Run; panic with its output unless it succeeds; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "calico-lab {args:?} --name {} failed:\n{}{}",
            self.name,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// `calico-lab exec --node 1 -- calicoctl ARGS` with `stdin`.
    pub fn calicoctl(&self, args: &[&str], stdin: &str) -> Output {
        let mut c = self.cmd(&["exec", "--node", "1", "--", "calicoctl"]);
        c.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("cannot run calico-lab exec");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    pub fn calicoctl_ok(&self, args: &[&str], stdin: &str) -> String {
        let o = self.calicoctl(args, stdin);
        assert!(
            o.status.success(),
            "calicoctl {args:?} failed:\n{}{}\ninput:\n{stdin}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// `calico-lab exec --node NODE -- ARGV...`; its stdout, panicking with its output
    /// unless it succeeds.
    pub fn node_exec(&self, node: usize, argv: &[&str]) -> String {
        let n = node.to_string();
        let mut args = vec!["exec", "--node", &n, "--"];
        args.extend_from_slice(argv);
        self.ok(&args)
    }

    /// `probe --output json`.
    pub fn probe(&self, protocol: &str, port: u16, timeout: Duration) -> Matrix {
        let out = self.ok(&[
            "probe",
            "--protocol",
            protocol,
            "--port",
            &port.to_string(),
            "--output",
            "json",
            "--timeout-ms",
            &timeout.as_millis().to_string(),
        ]);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("probe printed {out:?}: {e}"))
    }

    /// Probe until every cell is `value` (routes to a new pod's block reach the other node a
    /// moment after `pod add`), bounded; the last matrix.
    pub fn probe_until_uniform(&self, protocol: &str, port: u16, value: bool) -> Matrix {
        let start = std::time::Instant::now();
        loop {
            let m = self.probe(protocol, port, Duration::from_secs(1));
            if m.matrix == uniform(&m.pods, value) || start.elapsed() > Duration::from_secs(10) {
                return m;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn state_dir(&self) -> PathBuf {
        calico_lab::state::state_dir(&self.name)
    }

    /// The namespaces of this lab that exist.
    pub fn namespaces(&self) -> Vec<String> {
        let prefix = format!("cl-{}-", self.name);
        std::fs::read_dir("/run/netns")
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with(&prefix))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let o = self.run(&["down"]);
        if !o.status.success() {
            eprintln!(
                "calico-lab down --name {} failed: {}",
                self.name,
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
}

/// A matrix with every cell `value`.
pub fn uniform(pods: &[String], value: bool) -> Vec<Vec<bool>> {
    vec![vec![value; pods.len()]; pods.len()]
}

/// Node `node` carries pod traffic over the VXLAN overlay: it has `vxlan.calico`.
pub fn assert_vxlan(lab: &Lab, node: usize) {
    let links = lab.node_exec(node, &["ip", "-o", "link", "show"]);
    assert!(
        links.contains("vxlan.calico"),
        "node {node} has no vxlan.calico in VXLAN mode:\n{links}"
    );
}

/// Node `from` routes `pod_ip` (a pod on node `to`) without encapsulation: no
/// `vxlan.calico`, the route is a BGP-learned one (protocol 186) via node `to`'s underlay
/// address on `eth0`, and the kernel picks it.
pub fn assert_bgp_route(lab: &Lab, from: usize, pod_ip: &str, to: usize) {
    let via = format!("via {} dev eth0", calico_lab::names::node_ip(to));
    let links = lab.node_exec(from, &["ip", "-o", "link", "show"]);
    assert!(
        !links.contains("vxlan.calico"),
        "node {from} has vxlan.calico with --encap none:\n{links}"
    );
    let bgp = lab.node_exec(from, &["ip", "route", "show", "proto", "186"]);
    assert!(
        bgp.lines().any(|l| l.contains(&via)),
        "node {from} has no BGP route (proto 186) {via}:\n{bgp}\nall routes:\n{}",
        lab.node_exec(from, &["ip", "route", "show"])
    );
    let got = lab.node_exec(from, &["ip", "route", "get", pod_ip]);
    assert!(
        got.contains(&via),
        "node {from} routes {pod_ip} (on node {to}) as {got:?}, expected {via}"
    );
}

/// The pod address in `calico-lab pod add`'s output (`pod x/a: 10.244.1.2 on node 1 ...`).
#[allow(dead_code)]
pub fn pod_ip(out: &str) -> String {
    out.split(": ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .unwrap_or_else(|| panic!("no address in {out:?}"))
        .to_string()
}
