//! Interoperability with BIRD 2 as a route reflector: two nodes running the real calico-node
//! (`--encap none`, calico-rs' speaker) with the node-to-node mesh off and one global BGPPeer,
//! a BIRD 2 daemon in the lab's underlay namespace (172.18.0.1 on the underlay bridge, where
//! etcd also listens) reflecting routes between them (`rr client`, cluster ID 1.1.1.1,
//! graceful restart on, no kernel protocol: BIRD only relays, it programs nothing).
//!
//! - `calico_nodes_peer_through_a_bird_route_reflector`: each node's `calicoctl node status`
//!   lists BIRD alone, as `global`, `up`, `Established`; each node routes the other's block
//!   by a BGP route (proto 186) whose next hop is the other node (BIRD keeps the next hop);
//!   BIRD's RIB holds both blocks; the pods reach each other.
//! - `graceful_restart_keeps_forwarding_while_calico_node_restarts`: node 2's calico-node is
//!   killed (SIGKILL, as a crash): BIRD sees the session drop and, as graceful-restart helper,
//!   keeps node 2's routes (stale) and keeps reflecting them, so node 1 keeps its route to
//!   node 2's block and the pods keep reaching each other (node 2's kernel forwards on its
//!   own). While calico-node starts again and resyncs, both nodes keep their routes; then
//!   the sessions and routes are as before.
//!
//! BIRD gets a configuration, control socket, pid file and log of its own (in a directory
//! named after the lab, removed on drop); it is killed before the lab goes down.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use calico_lab::names;
use common::{Lab, uniform};
use ipnet::Ipv4Net;

const BIRD: &str = "/usr/sbin/bird";
const BIRDC: &str = "/usr/sbin/birdc";
const ASN: u32 = 64512;
const CLUSTER_ID: &str = "1.1.1.1";
/// Bound of every wait for BGP to converge.
const CONVERGE: Duration = Duration::from_secs(60);

/// BIRD's address: the underlay namespace's own address on the bridge.
fn bird_ip() -> Ipv4Addr {
    names::UNDERLAY_GATEWAY
}

/// Poll `f` every 200 ms until it is true or `timeout` passes; whether it became true.
fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if f() {
            return true;
        }
        if start.elapsed() > timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn out_text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A BIRD 2 daemon in the lab's underlay namespace, killed (and its files removed) on drop.
struct Bird {
    dir: PathBuf,
    child: Option<Child>,
}

/// `lt<pid>-<tag>-bird` → pid.
fn bird_dir_owner(name: &str) -> Option<u32> {
    name.strip_suffix("-bird")?
        .strip_prefix("lt")?
        .split('-')
        .next()?
        .parse()
        .ok()
}

/// Remove BIRD directories of earlier test runs whose process is gone (their BIRD died with
/// their lab's underlay namespace, which `common::remove_stale` clears).
fn remove_stale_bird_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if bird_dir_owner(&name).is_some_and(|p| !Path::new(&format!("/proc/{p}")).exists()) {
            eprintln!("removing stale BIRD directory {name} of an earlier run");
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn bird_config(dir: &Path, nodes: usize) -> String {
    let mut s = format!(
        "router id {ip};\nlog \"{log}\" all;\nprotocol device {{ scan time 10; }}\n",
        ip = bird_ip(),
        log = dir.join("bird.log").display()
    );
    for i in 1..=nodes {
        s.push_str(&format!(
            "protocol bgp {name} {{\n  local {ip} as {ASN};\n  neighbor {peer} as {ASN};\n  \
             direct;\n  rr client;\n  rr cluster id {CLUSTER_ID};\n  graceful restart on;\n  \
             connect delay time 1; connect retry time 1; error wait time 1, 4;\n  \
             ipv4 {{ import all; export all; gateway direct; }};\n}}\n",
            name = names::node_name(i),
            ip = bird_ip(),
            peer = names::node_ip(i),
        ));
    }
    s
}

impl Bird {
    /// Start BIRD in `lab`'s underlay namespace with one `rr client` session per node and wait
    /// (bounded) until its control socket answers.
    fn start(lab: &Lab, nodes: usize) -> Bird {
        for b in [BIRD, BIRDC] {
            assert!(
                Path::new(b).is_file(),
                "{b} is not installed: this interoperability test needs BIRD 2 \
                 (apt-get install bird2; scripts/deps.sh installs it)"
            );
        }
        remove_stale_bird_dirs();
        let dir = std::env::temp_dir().join(format!("{}-bird", lab.name));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut bird = Bird { dir, child: None };
        let cfg = bird.path("bird.conf");
        std::fs::write(&cfg, bird_config(&bird.dir, nodes)).unwrap();
        let log = std::fs::File::create(bird.path("stdout.log")).unwrap();
        let ns = names::underlay_netns(&lab.name);
        // `ip netns exec` execs BIRD itself: the child is BIRD (-f: in the foreground).
        let child = Command::new("ip")
            .args(["netns", "exec", &ns, BIRD, "-f", "-c"])
            .arg(&cfg)
            .arg("-s")
            .arg(bird.path("bird.ctl"))
            .arg("-P")
            .arg(bird.path("bird.pid"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("cannot start bird");
        bird.child = Some(child);
        let ready = wait_for(Duration::from_secs(10), || {
            Command::new(BIRDC)
                .arg("-s")
                .arg(bird.path("bird.ctl"))
                .args(["show", "status"])
                .output()
                .is_ok_and(|o| o.status.success())
        });
        assert!(
            ready,
            "BIRD in {ns} did not answer on its control socket within 10 s:\n{}",
            bird.log()
        );
        bird
    }

    fn path(&self, f: &str) -> PathBuf {
        self.dir.join(f)
    }

    fn log(&self) -> String {
        ["stdout.log", "bird.log"]
            .iter()
            .map(|f| {
                format!(
                    "--- {f}\n{}",
                    std::fs::read_to_string(self.path(f)).unwrap_or_default()
                )
            })
            .collect()
    }

    /// `birdc -s SOCK ARGS`; its output.
    fn birdc(&self, args: &[&str]) -> String {
        let o = Command::new(BIRDC)
            .arg("-s")
            .arg(self.path("bird.ctl"))
            .args(args)
            .output()
            .expect("cannot run birdc");
        assert!(o.status.success(), "birdc {args:?}: {}", out_text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// BIRD's session with node `i` is Established.
    fn established(&self, i: usize) -> bool {
        self.birdc(&["show", "protocols", &names::node_name(i)])
            .lines()
            .any(|l| l.starts_with(&names::node_name(i)) && l.contains("Established"))
    }
}

impl Drop for Bird {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A lab of two nodes whose speakers peer only with BIRD, a pod serving TCP 80 on each.
/// Fields drop in order: BIRD is killed before the lab goes down.
struct Topo {
    bird: Bird,
    lab: Lab,
    /// Node I's affine block (index I-1).
    blocks: [Ipv4Net; 2],
}

const BGP_CONFIG: &str = "apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec: {nodeToNodeMeshEnabled: false, asNumber: 64512}
";

fn bird_peer_yaml() -> String {
    format!(
        "apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {{name: bird-rr}}
spec: {{peerIP: {}, asNumber: {ASN}}}
",
        bird_ip()
    )
}

/// `x/a: 10.244.1.2 ...` → the pod's address.
fn pod_ip(out: &str) -> Ipv4Addr {
    out.split(": ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no address in {out:?}"))
}

/// Node `i`'s BGP routes (proto 186), read from its namespace.
fn bgp_routes(lab: &Lab, i: usize) -> String {
    routes_of(&lab.name, i)
}

fn routes_of(lab_name: &str, i: usize) -> String {
    let o = Command::new("ip")
        .args([
            "-n",
            &names::node_netns(lab_name, i),
            "route",
            "show",
            "proto",
            "186",
        ])
        .output()
        .expect("cannot run ip");
    assert!(o.status.success(), "ip route show: {}", out_text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Node `from` has `block` by BGP via node `to`'s underlay address.
fn has_route(routes: &str, block: Ipv4Net, to: usize) -> bool {
    let head = format!("{block} via {} dev eth0", names::node_ip(to));
    routes.lines().any(|l| l.starts_with(&head))
}

/// Node `i`'s affine block: its blackhole route (proto 186) holding the pod's address.
fn own_block(lab: &Lab, i: usize, pod: Ipv4Addr) -> Ipv4Net {
    let routes = bgp_routes(lab, i);
    routes
        .lines()
        .filter_map(|l| l.strip_prefix("blackhole "))
        .filter_map(|l| l.split(' ').next()?.parse::<Ipv4Net>().ok())
        .find(|b| b.contains(&pod))
        .unwrap_or_else(|| {
            panic!("node {i} has no blackhole route for the block of its pod {pod}:\n{routes}")
        })
}

/// The peer rows of `calicoctl node status` on node `i`.
fn peer_rows(lab: &Lab, i: usize) -> (Vec<String>, String) {
    let o = lab.run(&[
        "exec",
        "--node",
        &i.to_string(),
        "--",
        "calicoctl",
        "node",
        "status",
    ]);
    let text = out_text(&o);
    let rows = text
        .lines()
        .filter(|l| l.contains("| 172.18.0."))
        .map(str::to_string)
        .collect();
    (rows, text)
}

/// Node `i` peers with BIRD alone, as a global peer, up and Established.
fn only_bird_established(lab: &Lab, i: usize) -> bool {
    let (rows, _) = peer_rows(lab, i);
    let cells = |r: &str| -> Vec<String> {
        r.split('|')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect()
    };
    rows.len() == 1 && {
        let c = cells(&rows[0]);
        c.len() >= 5
            && c[0] == bird_ip().to_string()
            && c[1] == "global"
            && c[2] == "up"
            && c[4].starts_with("Established")
    }
}

/// Up, BIRD, the mesh off and the BIRD peer, a pod on each node; waits (bounded) until both
/// nodes peer with BIRD alone and route each other's block through it.
fn topo(tag: &str) -> Topo {
    let lab = Lab::up(tag, &["--encap", "none", "--nodes", "2"]);
    let bird = Bird::start(&lab, 2);
    lab.calicoctl_ok(&["apply", "-f", "-"], BGP_CONFIG);
    lab.calicoctl_ok(&["apply", "-f", "-"], &bird_peer_yaml());
    let a = pod_ip(&lab.ok(&["pod", "add", "x/a", "--node", "1", "--serve", "tcp/80"]));
    let b = pod_ip(&lab.ok(&["pod", "add", "x/b", "--node", "2", "--serve", "tcp/80"]));
    let blocks = [own_block(&lab, 1, a), own_block(&lab, 2, b)];

    for i in [1, 2] {
        let ok = wait_for(CONVERGE, || only_bird_established(&lab, i));
        assert!(
            ok,
            "node {i} peers with BIRD ({}) alone, global, up, Established:\n{}\nBIRD:\n{}\n{}",
            bird_ip(),
            peer_rows(&lab, i).1,
            bird.birdc(&["show", "protocols"]),
            bird.log()
        );
        assert!(
            bird.established(i),
            "{}",
            bird.birdc(&["show", "protocols"])
        );
    }
    for (from, to) in [(1, 2), (2, 1)] {
        let block = blocks[to - 1];
        let ok = wait_for(CONVERGE, || has_route(&bgp_routes(&lab, from), block, to));
        assert!(
            ok,
            "node {from} has a BGP route to node {to}'s block {block} via {} (next hop kept \
             by the reflector):\n{}\nBIRD:\n{}",
            names::node_ip(to),
            bgp_routes(&lab, from),
            bird.birdc(&["show", "route", "all"])
        );
    }
    Topo { bird, lab, blocks }
}

#[test]
fn calico_nodes_peer_through_a_bird_route_reflector() {
    let t = topo("birdrr");
    let (lab, bird) = (&t.lab, &t.bird);

    // BIRD's RIB has both blocks, each from its node with that node as next hop.
    for (i, block) in t.blocks.iter().enumerate() {
        let node = i + 1;
        let r = bird.birdc(&["show", "route", "for", &block.to_string(), "all"]);
        assert!(
            r.contains(&block.to_string())
                && r.contains(&format!("via {}", names::node_ip(node)))
                && r.contains(&format!("[{}", names::node_name(node))),
            "BIRD has node {node}'s block {block} from {} via its address:\n{r}",
            names::node_name(node)
        );
    }
    let all = bird.birdc(&["show", "route"]);
    for block in t.blocks {
        assert!(all.contains(&block.to_string()), "{all}");
    }
    // The kernel picks the BGP routes for the other node's pod, and the pods reach each other.
    for (from, to) in [(1, 2), (2, 1)] {
        let got = lab.node_exec(
            from,
            &["ip", "route", "get", &t.blocks[to - 1].addr().to_string()],
        );
        assert!(
            got.contains(&format!("via {} dev eth0", names::node_ip(to))),
            "node {from}: {got}"
        );
    }
    let m = lab.probe_until_uniform("tcp", 80, true);
    assert_eq!(m.matrix, uniform(&m.pods, true), "{}", m.table());
    let m = lab.probe_until_uniform("icmp", 0, true);
    assert_eq!(m.matrix, uniform(&m.pods, true), "{}", m.table());
}

/// Watch both nodes' routes to each other's block on a thread until stopped: every moment
/// one was missing, as `(node, routes)`.
struct RouteWatch {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<Vec<(usize, String)>>,
}

impl RouteWatch {
    fn start(lab: &Lab, blocks: [Ipv4Net; 2]) -> RouteWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let name = lab.name.clone();
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut gaps = Vec::new();
            // Bounded: stopped by the test, and at most 5 minutes in any case.
            let start = Instant::now();
            while !flag.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(300) {
                for (from, to) in [(1, 2), (2, 1)] {
                    let r = routes_of(&name, from);
                    if !has_route(&r, blocks[to - 1], to) {
                        gaps.push((from, r));
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            gaps
        });
        RouteWatch { stop, handle }
    }

    fn finish(self) -> Vec<(usize, String)> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().expect("route watcher panicked")
    }
}

#[test]
fn graceful_restart_keeps_forwarding_while_calico_node_restarts() {
    let t = topo("birdgr");
    let (lab, bird) = (&t.lab, &t.bird);
    let m = lab.probe_until_uniform("tcp", 80, true);
    assert_eq!(m.matrix, uniform(&m.pods, true), "{}", m.table());
    // Node 2 offered graceful restart and BIRD accepted it (else the test below means nothing).
    let p2 = bird.birdc(&["show", "protocols", "all", "node2"]);
    eprintln!("BIRD's session with node 2 before the kill:\n{p2}");
    assert!(
        p2.contains("graceful restart") || p2.contains("Graceful restart"),
        "node 2's session with BIRD negotiated graceful restart:\n{p2}"
    );

    let watch = RouteWatch::start(lab, t.blocks);
    let out = lab.ok(&["node", "stop", "--node", "2", "--kill"]);
    assert!(out.contains("killed"), "{out}");

    // BIRD notices (the kernel closed the dead speaker's socket) and holds node 2's routes.
    let down = wait_for(Duration::from_secs(10), || !bird.established(2));
    assert!(
        down,
        "BIRD still has node 2's session Established after calico-node was killed:\n{}",
        bird.birdc(&["show", "protocols", "all", "node2"])
    );
    eprintln!(
        "BIRD after the kill:\n{}\n{}",
        bird.birdc(&["show", "protocols", "all", "node2"]),
        bird.birdc(&["show", "route", "all"])
    );
    // For a few seconds: node 1 keeps the route to node 2's block via node 2, its session with
    // BIRD stays up, and the pods keep reaching each other (node 2's kernel forwards alone).
    let start = Instant::now();
    let mut rounds = 0;
    while start.elapsed() < Duration::from_secs(8) {
        let r = bgp_routes(lab, 1);
        assert!(
            has_route(&r, t.blocks[1], 2),
            "node 1 lost its route to node 2's block {} while node 2's calico-node was down \
             (graceful restart should keep it):\n{r}\nBIRD:\n{}\n{}",
            t.blocks[1],
            bird.birdc(&["show", "protocols", "all", "node2"]),
            bird.birdc(&["show", "route", "all"])
        );
        let b = bird.birdc(&["show", "route", "for", &t.blocks[1].to_string()]);
        assert!(
            b.contains(&t.blocks[1].to_string()),
            "BIRD dropped node 2's block while node 2 restarts:\n{b}"
        );
        let m = lab.probe("tcp", 80, Duration::from_secs(1));
        assert_eq!(
            m.matrix,
            uniform(&m.pods, true),
            "pods stopped reaching each other while node 2's calico-node was down:\n{}",
            m.table()
        );
        rounds += 1;
    }
    assert!(rounds > 0);
    assert!(
        bird.established(1),
        "node 1's session with BIRD stays up:\n{}",
        bird.birdc(&["show", "protocols"])
    );
    assert!(only_bird_established(lab, 1), "{}", peer_rows(lab, 1).1);

    // Start node 2's calico-node again: `node start` waits until every peer each node lists
    // (here BIRD, not the lab's own mesh) is Established.
    let o = lab.run(&["node", "start", "--node", "2"]);
    let text = out_text(&o);
    eprintln!("node start ({}):\n{text}", o.status);
    assert!(o.status.success(), "node start:\n{text}");
    assert!(text.contains("node 2: ready"), "node start:\n{text}");
    let ok = wait_for(CONVERGE, || {
        only_bird_established(lab, 2) && bird.established(2)
    });
    assert!(
        ok,
        "node 2 peers with BIRD again:\n{}\nBIRD:\n{}",
        peer_rows(lab, 2).1,
        bird.birdc(&["show", "protocols", "all", "node2"])
    );
    // Let the restarted speaker finish its resync (End-of-RIB both ways, stale sweep) while
    // the watcher keeps looking.
    std::thread::sleep(Duration::from_secs(3));
    let gaps = watch.finish();
    assert!(
        gaps.is_empty(),
        "{} moment(s) without a route to the other node's block while node 2's calico-node \
         was killed and restarted; first: node {} had:\n{}",
        gaps.len(),
        gaps.first().map(|g| g.0).unwrap_or_default(),
        gaps.first().map(|g| g.1.as_str()).unwrap_or_default()
    );
    assert!(only_bird_established(lab, 1), "{}", peer_rows(lab, 1).1);
    for (from, to) in [(1, 2), (2, 1)] {
        let r = bgp_routes(lab, from);
        assert!(has_route(&r, t.blocks[to - 1], to), "node {from}:\n{r}");
    }
    let m = lab.probe_until_uniform("tcp", 80, true);
    assert_eq!(m.matrix, uniform(&m.pods, true), "{}", m.table());
}
