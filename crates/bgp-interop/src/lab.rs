//! Namespaces on a bridge underlay: `<prefix>u` holds bridge `br0`; each node `<prefix>N` has
//! `eth0` with `10.77.0.N/24` wired to the bridge by a veth pair made inside the namespaces.

use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use calico_linux::{NamedNetns, remove_stale_netns};
use ipnet::Ipv4Net;

use crate::error::{Error, Result, io};

/// Every namespace of the harness starts with this, then `<pid>-<lab>-`.
pub const NS_PREFIX: &str = "bgpi-";

static LAB_SEQ: AtomicU32 = AtomicU32::new(0);

/// One speaker's namespace, with its underlay address.
#[derive(Debug)]
pub struct Node {
    ns: NamedNetns,
    addr: Ipv4Addr,
}

impl Node {
    /// The namespace name (for `ip -n` / `ip netns exec`).
    pub fn ns(&self) -> &str {
        self.ns.name()
    }
    /// `/run/netns/NAME`.
    pub fn path(&self) -> &std::path::Path {
        self.ns.path()
    }
    /// The node's address on the underlay (`eth0`).
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }
    /// The kernel's IPv4 routes in this namespace (main table).
    pub fn routes(&self) -> Result<Vec<KernelRoute>> {
        kernel_routes(self.ns())
    }
    /// Run `ip -n NS ARGS…` (for checks and additions inside this namespace only).
    pub fn ip(&self, args: &[&str]) -> Result<String> {
        let mut full = vec!["-n", self.ns()];
        full.extend_from_slice(args);
        run("ip", &full)
    }
}

/// A route read back from a namespace's kernel table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelRoute {
    pub dst: String,
    pub gateway: Option<String>,
    pub dev: Option<String>,
    pub protocol: Option<String>,
}

/// A set of namespaces on one underlay bridge; dropping it removes them all (kill the daemons
/// first: drop [`crate::Daemon`]s before the lab, i.e. declare the lab first).
#[derive(Debug)]
pub struct Lab {
    prefix: String,
    // Dropped after `nodes` (field order): the underlay is removed last.
    nodes: Vec<Node>,
    _underlay: NamedNetns,
}

/// The underlay subnet.
pub const UNDERLAY: &str = "10.77.0.0/24";

impl Lab {
    /// A fresh lab; stale namespaces of crashed earlier runs are removed first.
    pub fn new() -> Result<Self> {
        let removed = remove_stale_netns(NS_PREFIX);
        if !removed.is_empty() {
            eprintln!("bgp-interop: removed stale namespaces {removed:?}");
        }
        let seq = LAB_SEQ.fetch_add(1, Ordering::SeqCst);
        let prefix = format!("{NS_PREFIX}{}-{seq}-", std::process::id());
        let underlay = NamedNetns::create(&format!("{prefix}u"))?;
        let u = underlay.name().to_owned();
        run("ip", &["-n", &u, "link", "set", "lo", "up"])?;
        run("ip", &["-n", &u, "link", "add", "br0", "type", "bridge"])?;
        run("ip", &["-n", &u, "link", "set", "br0", "up"])?;
        Ok(Self {
            prefix,
            nodes: Vec::new(),
            _underlay: underlay,
        })
    }

    /// Add node number `n` (1..=250): namespace `<prefix>n`, address `10.77.0.n/24` on `eth0`.
    /// Returns its index in [`Lab::node`].
    pub fn add_node(&mut self) -> Result<usize> {
        let n = self.nodes.len() + 1;
        if n > 250 {
            return Err(Error::Command {
                cmd: "Lab::add_node".into(),
                detail: "at most 250 nodes per lab".into(),
            });
        }
        let ns = NamedNetns::create(&format!("{}{n}", self.prefix))?;
        let name = ns.name().to_owned();
        let u = format!("{}u", self.prefix);
        let addr = Ipv4Addr::new(10, 77, 0, n as u8);
        let peer = format!("p{n}");
        run("ip", &["-n", &name, "link", "set", "lo", "up"])?;
        run(
            "ip",
            &[
                "-n", &name, "link", "add", "eth0", "type", "veth", "peer", "name", &peer, "netns",
                &u,
            ],
        )?;
        run(
            "ip",
            &[
                "-n",
                &name,
                "addr",
                "add",
                &format!("{addr}/24"),
                "dev",
                "eth0",
            ],
        )?;
        run("ip", &["-n", &name, "link", "set", "eth0", "up"])?;
        run("ip", &["-n", &u, "link", "set", &peer, "master", "br0"])?;
        run("ip", &["-n", &u, "link", "set", &peer, "up"])?;
        self.nodes.push(Node { ns, addr });
        Ok(n - 1)
    }

    /// Node by index (0-based, in creation order).
    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i]
    }

    /// The namespace-name prefix of this lab.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

/// Parse `ip -j route` output.
pub fn parse_routes(json: &str) -> Result<Vec<KernelRoute>> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| Error::Parse {
        peer: "kernel".into(),
        what: "ip -j route".into(),
        detail: e.to_string(),
    })?;
    let s = |r: &serde_json::Value, k: &str| r.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    Ok(v.as_array()
        .map(|a| {
            a.iter()
                .map(|r| KernelRoute {
                    dst: s(r, "dst").unwrap_or_default(),
                    gateway: s(r, "gateway"),
                    dev: s(r, "dev"),
                    protocol: s(r, "protocol"),
                })
                .collect()
        })
        .unwrap_or_default())
}

fn kernel_routes(ns: &str) -> Result<Vec<KernelRoute>> {
    parse_routes(&run("ip", &["-n", ns, "-j", "route", "show"])?)
}

/// Whether `routes` holds `prefix` (as `ip` prints it: a /32 without its length).
pub fn has_route(routes: &[KernelRoute], prefix: Ipv4Net) -> bool {
    let full = prefix.to_string();
    let short = prefix.addr().to_string();
    routes
        .iter()
        .any(|r| r.dst == full || (prefix.prefix_len() == 32 && r.dst == short))
}

/// Run a command, returning stdout; a non-zero exit is an error carrying stderr.
pub(crate) fn run(cmd: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .map_err(io(format!("running {cmd}")))?;
    if !out.status.success() {
        return Err(Error::Command {
            cmd: format!("{cmd} {}", args.join(" ")),
            detail: format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ip_route_json() {
        let j = r#"[{"dst":"10.77.0.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"10.77.0.1","flags":[]},
                   {"dst":"10.9.0.0/24","gateway":"10.77.0.2","dev":"eth0","protocol":"bird","metric":32,"flags":[]},
                   {"dst":"10.9.1.1","gateway":"10.77.0.2","dev":"eth0","protocol":"bird","flags":[]}]"#;
        let r = parse_routes(j).expect("parse");
        assert_eq!(r.len(), 3);
        assert_eq!(r[1].gateway.as_deref(), Some("10.77.0.2"));
        assert_eq!(r[1].protocol.as_deref(), Some("bird"));
        assert!(has_route(&r, "10.9.0.0/24".parse().expect("net")));
        assert!(has_route(&r, "10.9.1.1/32".parse().expect("net")));
        assert!(!has_route(&r, "10.9.2.0/24".parse().expect("net")));
    }
}
