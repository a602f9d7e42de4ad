//! `calico-lab up`: the underlay, the datastore, the nodes and calico-node on each.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use ipnet::Ipv4Net;

use crate::bins;
use crate::datastore::{self, datastore_env};
use crate::error::{LabError, Result};
use crate::names::{self, UNDERLAY_GATEWAY, UNDERLAY_PREFIX};
use crate::state::{DatastoreState, LabDir, LabState, NodeState, ProcessRecord};
use crate::sys;

/// Encapsulation between nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encap {
    /// VXLAN overlay (calico-node with `CALICO_NETWORKING_BACKEND=vxlan`, no BGP).
    Vxlan,
    /// No encapsulation: BGP between the nodes routes the pods' blocks over the underlay
    /// (`CALICO_NETWORKING_BACKEND=bird`).
    None,
}

impl Encap {
    /// The name kept in the state file and printed by `status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Encap::Vxlan => "vxlan",
            Encap::None => "none",
        }
    }
}

/// Which datastore to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatastoreKind {
    Embedded,
    Etcd,
}

/// Options of `up`.
#[derive(Clone, Debug)]
pub struct UpOptions {
    pub name: String,
    pub nodes: usize,
    pub encap: Encap,
    pub datastore: DatastoreKind,
    pub pool: String,
    /// Route reflector nodes (1-based; `--encap none` only). Empty: full BGP mesh.
    pub route_reflectors: Vec<usize>,
    /// How long to wait for every node to be ready.
    pub timeout: Duration,
}

impl Default for UpOptions {
    fn default() -> Self {
        Self {
            name: "default".into(),
            nodes: 2,
            encap: Encap::Vxlan,
            datastore: DatastoreKind::Embedded,
            pool: "10.244.0.0/16".into(),
            route_reflectors: vec![],
            timeout: Duration::from_secs(90),
        }
    }
}

/// calico-node's health port.
pub const HEALTH_PORT: u16 = 9099;

fn check(opts: &UpOptions) -> Result<()> {
    names::validate_lab_name(&opts.name)?;
    if opts.nodes == 0 || opts.nodes > names::MAX_NODES {
        return Err(LabError::Invalid(format!(
            "--nodes {}: expected 1 to {}",
            opts.nodes,
            names::MAX_NODES
        )));
    }
    if !opts.route_reflectors.is_empty() {
        if opts.encap == Encap::Vxlan {
            return Err(LabError::Invalid(
                "--route-reflector: route reflectors are BGP peers, and --encap vxlan runs no \
                 BGP; use --encap none with --route-reflector"
                    .into(),
            ));
        }
        crate::bgp::check_reflectors(opts.nodes, &opts.route_reflectors)?;
    }
    let pool: Ipv4Net = opts.pool.parse().map_err(|_| {
        LabError::Invalid(format!(
            "--pool {:?}: expected an IPv4 CIDR such as 10.244.0.0/16",
            opts.pool
        ))
    })?;
    let underlay: Ipv4Net = names::UNDERLAY_CIDR
        .parse()
        .map_err(|_| LabError::State("bad underlay constant".into()))?;
    if pool.contains(&underlay.network()) || underlay.contains(&pool.network()) {
        return Err(LabError::Invalid(format!(
            "--pool {pool}: overlaps the lab's underlay {underlay}"
        )));
    }
    Ok(())
}

/// Bring a lab up; `progress` receives one line per step.
pub fn up(opts: &UpOptions, progress: &mut dyn FnMut(&str)) -> Result<LabState> {
    check(opts)?;
    sys::require_root("up")?;
    sys::require_absent(&names::underlay_netns(&opts.name))?;
    for i in 1..=opts.nodes {
        sys::require_absent(&names::node_netns(&opts.name, i))?;
    }
    // Everything the nodes need must exist before anything is made.
    let node_bin = bins::find("calico-node")?;
    bins::find("calico")?;
    let dir = LabDir::create(&opts.name)?;
    let name = opts.name.clone();
    let underlay = names::underlay_netns(&name);
    let datastore = match opts.datastore {
        DatastoreKind::Embedded => DatastoreState::Embedded {
            path: datastore::embedded_path(&dir.dir),
        },
        DatastoreKind::Etcd => DatastoreState::Etcd {
            endpoints: datastore::etcd_endpoint(),
        },
    };
    let mut st = LabState {
        name: name.clone(),
        encap: opts.encap.as_str().into(),
        route_reflectors: opts.route_reflectors.clone(),
        pool: opts.pool.clone(),
        datastore,
        underlay_netns: underlay.clone(),
        netns: vec![],
        etcd: None,
        nodes: vec![],
        pods: vec![],
        ready: false,
    };
    dir.save(&st)?;
    let fail = |e: LabError| -> LabError {
        LabError::State(format!(
            "{e}\n(lab {name:?} is half made: see its logs in {}, then `calico-lab down --name {name}`)",
            dir.dir.join("logs").display()
        ))
    };

    // The underlay: a bridge in a namespace of its own.
    st.netns.push(underlay.clone());
    dir.save(&st)?;
    make_underlay(&underlay).map_err(fail)?;
    progress(&format!(
        "underlay {underlay}: bridge br0, {UNDERLAY_GATEWAY}/{UNDERLAY_PREFIX}"
    ));

    if opts.datastore == DatastoreKind::Etcd {
        let rec = datastore::start_etcd(&dir, &underlay, Duration::from_secs(30)).map_err(fail)?;
        progress(&format!(
            "etcd {} (pid {}) in {underlay}",
            datastore::etcd_endpoint(),
            rec.pid
        ));
        st.etcd = Some(rec);
        dir.save(&st)?;
    } else {
        progress(&format!(
            "datastore: embedded file {}",
            datastore::embedded_path(&dir.dir).display()
        ));
    }

    for i in 1..=opts.nodes {
        let netns = names::node_netns(&name, i);
        st.netns.push(netns.clone());
        st.nodes.push(NodeState {
            index: i,
            name: names::node_name(i),
            netns: netns.clone(),
            ip: names::node_ip(i).to_string(),
            calico_node: None,
        });
        dir.save(&st)?;
        make_node(&underlay, &netns, i).map_err(fail)?;
        progress(&format!(
            "node {i} ({}): {netns}, eth0 {}/{UNDERLAY_PREFIX}",
            names::node_name(i),
            names::node_ip(i)
        ));
    }

    if st.bgp() && !st.route_reflectors.is_empty() {
        crate::bgp::apply_rr_topology(&st).map_err(fail)?;
        progress(&format!(
            "BGP: BGPConfiguration default (nodeToNodeMeshEnabled: false), BGPPeer {}",
            crate::bgp::RR_PEER_NAME
        ));
    }

    for k in 0..st.nodes.len() {
        let rec = start_calico_node(&dir, &st, &st.nodes[k], &node_bin).map_err(fail)?;
        progress(&format!(
            "node {}: calico-node started (pid {}, log {})",
            st.nodes[k].index,
            rec.pid,
            rec.log.display()
        ));
        st.nodes[k].calico_node = Some(rec);
        dir.save(&st)?;
    }

    for n in &st.nodes {
        let conf = crate::pod::netconf(&dir, &st, &n.name);
        let p = dir.path(&format!("netconf-node{}.json", n.index));
        let text = serde_json::to_string_pretty(&conf).unwrap_or_default();
        std::fs::write(&p, text + "\n").map_err(|e| LabError::io("cannot write", &p, e))?;
    }
    for &i in &st.route_reflectors {
        crate::bgp::mark_reflector(&st, i, opts.timeout).map_err(fail)?;
        progress(&format!(
            "node {i}: route reflector (cluster ID {}, label {}={})",
            crate::bgp::RR_CLUSTER_ID,
            crate::bgp::RR_LABEL.0,
            crate::bgp::RR_LABEL.1
        ));
    }
    wait_ready(&st, opts.timeout, progress).map_err(fail)?;
    if st.bgp() {
        crate::bgp::wait_established(&st, &dir.dir, opts.timeout, true, progress).map_err(fail)?;
    }
    st.ready = true;
    dir.save(&st)?;
    progress(&format!(
        "lab {name:?} is up: {} node(s), pool {}, {}; state in {}",
        st.nodes.len(),
        st.pool,
        routing_summary(&st),
        dir.dir.display()
    ));
    Ok(st)
}

/// How the nodes reach each other's pods, for messages: `VXLAN`, `BGP full mesh` or
/// `BGP with route reflector(s) 1, 2`.
pub fn routing_summary(st: &LabState) -> String {
    if !st.bgp() {
        return "VXLAN".into();
    }
    if st.route_reflectors.is_empty() {
        "BGP full mesh".into()
    } else {
        format!(
            "BGP with route reflector(s) {}",
            st.route_reflectors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

fn make_underlay(ns: &str) -> Result<()> {
    sys::create_netns(ns)?;
    sys::ip(ns, &["link", "add", "br0", "type", "bridge"])?;
    sys::ip(
        ns,
        &[
            "addr",
            "add",
            &format!("{UNDERLAY_GATEWAY}/{UNDERLAY_PREFIX}"),
            "dev",
            "br0",
        ],
    )?;
    sys::ip(ns, &["link", "set", "br0", "up"])?;
    Ok(())
}

fn make_node(underlay: &str, ns: &str, i: usize) -> Result<()> {
    sys::create_netns(ns)?;
    let up = names::node_uplink(i);
    // Made in the underlay with the peer directly in the node: nothing passes through the
    // root namespace.
    sys::ip(
        underlay,
        &[
            "link", "add", &up, "type", "veth", "peer", "name", "eth0", "netns", ns,
        ],
    )?;
    sys::ip(underlay, &["link", "set", &up, "master", "br0", "up"])?;
    sys::ip(
        ns,
        &[
            "addr",
            "add",
            &format!("{}/{UNDERLAY_PREFIX}", names::node_ip(i)),
            "dev",
            "eth0",
        ],
    )?;
    sys::ip(ns, &["link", "set", "eth0", "up"])?;
    sys::ip(
        ns,
        &[
            "route",
            "add",
            "default",
            "via",
            &UNDERLAY_GATEWAY.to_string(),
        ],
    )?;
    Ok(())
}

/// The environment calico-node runs with (besides `PATH`): the datastore, the node's name
/// and address, the default pool, and the networking backend: `vxlan` (VXLAN pool, no BGP)
/// or, with `--encap none`, `bird` (the BGP speaker; a pool without encapsulation).
pub fn calico_node_env(
    dir: &std::path::Path,
    st: &LabState,
    node: &NodeState,
) -> Vec<(String, String)> {
    let mut env = datastore_env(&st.datastore);
    let (vxlan, backend) = if st.bgp() {
        ("Never", "bird")
    } else {
        ("Always", "vxlan")
    };
    env.extend(
        [
            ("NODENAME", node.name.clone()),
            ("IP", format!("{}/{UNDERLAY_PREFIX}", node.ip)),
            ("CALICO_IPV4POOL_CIDR", st.pool.clone()),
            ("CALICO_IPV4POOL_VXLAN", vxlan.into()),
            ("CALICO_IPV4POOL_IPIP", "Never".into()),
            ("CALICO_NETWORKING_BACKEND", backend.into()),
            (
                crate::bgp::STATUS_FILE_ENV,
                crate::bgp::status_file(dir, node.index)
                    .display()
                    .to_string(),
            ),
            ("FELIX_HEALTHENABLED", "true".into()),
            // Never the host's /var/lib/calico/nodename.
            (
                "CALICO_NODENAME_FILE",
                dir.join(format!("node{}.nodename", node.index))
                    .display()
                    .to_string(),
            ),
        ]
        .map(|(k, v)| (k.to_string(), v)),
    );
    env
}

/// Start calico-node in `node`'s namespace. A status file left by an earlier run is removed
/// first, so the peer table seen afterwards is this run's.
pub(crate) fn start_calico_node(
    dir: &LabDir,
    st: &LabState,
    node: &NodeState,
    bin: &std::path::Path,
) -> Result<ProcessRecord> {
    let status = crate::bgp::status_file(&dir.dir, node.index);
    if let Some(parent) = status.parent() {
        std::fs::create_dir_all(parent).map_err(|e| LabError::io("cannot create", parent, e))?;
    }
    crate::bgp::remove_status_file(&status)?;
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &node.netns])
        .arg(bin)
        .env_clear();
    for (k, v) in std::env::vars() {
        // The caller's own log and Felix settings pass through; nothing else leaks in.
        if k == "PATH" || k.starts_with("FELIX_") || k.starts_with("RUST_") {
            cmd.env(k, v);
        }
    }
    for (k, v) in calico_node_env(&dir.dir, st, node) {
        cmd.env(k, v);
    }
    sys::spawn_daemon(
        &mut cmd,
        &dir.log(&format!("calico-node-{}.log", node.index)),
    )
}

/// `GET /readiness` on calico-node's health port from inside the node; whether it answered 200.
pub fn node_ready(netns: &str) -> bool {
    sys::in_netns(&sys::netns_path(netns), || Ok(http_ok("/readiness"))).unwrap_or(false)
}

fn http_ok(path: &str) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], HEALTH_PORT));
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(300)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    if s.write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes())
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap_or(0);
    let head = String::from_utf8_lossy(&buf[..n]);
    head.starts_with("HTTP/1.") && head.split_whitespace().nth(1) == Some("200")
}

fn log_tail(p: &std::path::Path) -> String {
    let text = std::fs::read_to_string(p).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// Wait until every node answers `/readiness` (bounded), reporting each as it gets ready.
pub fn wait_ready(st: &LabState, timeout: Duration, progress: &mut dyn FnMut(&str)) -> Result<()> {
    let start = Instant::now();
    let mut pending: Vec<&NodeState> = st.nodes.iter().collect();
    let mut last_note = Instant::now();
    while !pending.is_empty() {
        let mut still = Vec::new();
        for n in pending {
            if let Some(p) = &n.calico_node
                && !sys::alive(p)
            {
                return Err(LabError::State(format!(
                    "calico-node on node {} exited; last lines of {}:\n{}",
                    n.index,
                    p.log.display(),
                    log_tail(&p.log)
                )));
            }
            if node_ready(&n.netns) {
                progress(&format!(
                    "node {}: ready after {:.1} s",
                    n.index,
                    start.elapsed().as_secs_f64()
                ));
            } else {
                still.push(n);
            }
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
        if start.elapsed() > timeout {
            let names: Vec<String> = pending.iter().map(|n| n.index.to_string()).collect();
            return Err(LabError::Timeout(format!(
                "node(s) {} not ready (GET /readiness on port {HEALTH_PORT}) within {} s",
                names.join(", "),
                timeout.as_secs()
            )));
        }
        if last_note.elapsed() > Duration::from_secs(10) {
            progress(&format!(
                "waiting for node(s) {} ({:.0} s)",
                pending
                    .iter()
                    .map(|n| n.index.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                start.elapsed().as_secs_f64()
            ));
            last_note = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}
