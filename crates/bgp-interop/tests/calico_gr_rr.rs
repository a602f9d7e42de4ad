//! calico-rs' speaker with graceful restart (peer restarts, calico-rs restarts: forwarding is
//! kept throughout) and behind a BIRD route reflector (two calico-rs clients learn each
//! other's routes with the originator's next hop), plus the status file of
//! `calicoctl node status`.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use calico_bgp::fsm::GrConfig;
use calico_bgp::speaker::{PeerConfig as CalicoPeer, SpeakerConfig};
use calico_bgp_interop::{Daemon, Kind, Lab, Neighbor, Node, PeerConfig, has_route, wait};
use calico_bgp_io::runtime::{RuntimeConfig, SpeakerHandle};
use calico_bgp_io::status;
use ipnet::Ipv4Net;

const T: Duration = Duration::from_secs(20);

fn net(s: &str) -> Ipv4Net {
    s.parse().expect("prefix")
}

fn speaker(
    node: &Node,
    asn: u32,
    peers: &[(Ipv4Addr, u32)],
    originate: &str,
    gr: Option<GrConfig>,
    status_file: Option<std::path::PathBuf>,
) -> SpeakerHandle {
    let mut sc = SpeakerConfig::new(asn, node.addr());
    sc.graceful_restart = gr;
    let mut rc = RuntimeConfig::new(sc);
    for (a, pas) in peers {
        let mut p = CalicoPeer::new(IpAddr::V4(*a), *pas);
        p.hold_time = 9;
        p.connect_retry = Duration::from_secs(1);
        p.description = "node-to-node mesh".into();
        rc.peers.push(p);
    }
    rc.netns = Some(node.path().to_owned());
    rc.source = Some(IpAddr::V4(node.addr()));
    rc.originate.push(originate.parse().expect("net"));
    rc.status_file = status_file;
    SpeakerHandle::spawn(rc).expect("start the calico-rs speaker")
}

fn established(h: &SpeakerHandle, peer: Ipv4Addr) -> bool {
    h.status()
        .iter()
        .any(|r| r.address == peer.to_string() && r.info == "Established")
}

fn in_kernel(n: &Node, p: &str) -> bool {
    n.routes().map(|r| has_route(&r, net(p))).unwrap_or(false)
}

/// Watch `f` for `d`, failing on the first moment it is false.
fn always(d: Duration, what: &str, f: impl Fn() -> bool) {
    let start = Instant::now();
    while start.elapsed() < d {
        assert!(f(), "{what} stopped holding after {:?}", start.elapsed());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// BIRD on `nb` (AS 64512, graceful restart, originating 10.20.1.0/24) and calico-rs on `na`
/// (graceful restart, originating 10.10.1.0/24), once the session is Established and BIRD's
/// route is in calico-rs' kernel.
fn graceful_pair(na: &Node, nb: &Node) -> (Daemon, SpeakerHandle) {
    let bird = Daemon::start(
        Kind::Bird,
        nb,
        PeerConfig::new(64512, nb.addr())
            .neighbor(Neighbor::new(na.addr(), 64512).graceful_restart())
            .originate(net("10.20.1.0/24")),
    )
    .expect("BIRD");
    let h = speaker(
        na,
        64512,
        &[(nb.addr(), 64512)],
        "10.10.1.0/24",
        Some(GrConfig::default()),
        None,
    );
    wait(T, "session", || established(&h, nb.addr())).expect("Established");
    wait(T, "BIRD's route in calico-rs' kernel", || {
        in_kernel(na, "10.20.1.0/24")
    })
    .expect("route");
    (bird, h)
}

#[test]
fn graceful_restart_of_bird_keeps_calico_forwarding() {
    let mut lab = Lab::new().expect("lab");
    let a = lab.add_node().expect("node");
    let b = lab.add_node().expect("node");
    let (na, nb) = (lab.node(a), lab.node(b));
    let (mut bird, h) = graceful_pair(na, nb);

    bird.kill(); // a crash: no NOTIFICATION, just the TCP connection gone
    always(
        Duration::from_secs(2),
        "route kept while BIRD is down",
        || in_kernel(na, "10.20.1.0/24"),
    );
    bird.restart().expect("BIRD restart");
    wait(T, "session after BIRD's restart", || {
        established(&h, nb.addr())
    })
    .expect("Established again");
    always(
        Duration::from_secs(2),
        "route kept after BIRD's restart",
        || in_kernel(na, "10.20.1.0/24"),
    );
    drop(h);
    drop(bird);
}

#[test]
fn graceful_restart_of_calico_keeps_forwarding_both_ways() {
    let mut lab = Lab::new().expect("lab");
    let a = lab.add_node().expect("node");
    let b = lab.add_node().expect("node");
    let (na, nb) = (lab.node(a), lab.node(b));
    let (bird, h) = graceful_pair(na, nb);
    wait(T, "calico-rs' route in BIRD's kernel", || {
        in_kernel(nb, "10.10.1.0/24")
    })
    .expect("route");

    h.stop(); // calico-node goes away: connections closed, kernel routes kept
    always(
        Duration::from_secs(2),
        "routes kept while calico-rs is down",
        || in_kernel(na, "10.20.1.0/24") && in_kernel(nb, "10.10.1.0/24"),
    );
    let gr = GrConfig {
        restarting: true,
        ..GrConfig::default()
    };
    let h = speaker(
        na,
        64512,
        &[(nb.addr(), 64512)],
        "10.10.1.0/24",
        Some(gr),
        None,
    );
    wait(T, "session after calico-rs' restart", || {
        established(&h, nb.addr())
    })
    .expect("Established again");
    always(
        Duration::from_secs(2),
        "routes kept after calico-rs' restart",
        || in_kernel(na, "10.20.1.0/24") && in_kernel(nb, "10.10.1.0/24"),
    );
    drop(h);
    drop(bird);
}

#[test]
fn bird_route_reflector_with_two_calico_clients() {
    let mut lab = Lab::new().expect("lab");
    let r = lab.add_node().expect("node");
    let a = lab.add_node().expect("node");
    let b = lab.add_node().expect("node");
    let (nr, na, nb) = (lab.node(r), lab.node(a), lab.node(b));
    let mut rr = PeerConfig::new(64512, nr.addr())
        .neighbor(Neighbor::new(na.addr(), 64512).rr_client())
        .neighbor(Neighbor::new(nb.addr(), 64512).rr_client());
    rr.cluster_id = Some(Ipv4Addr::new(1, 1, 1, 1));
    rr.kernel = false;
    let bird = Daemon::start(Kind::Bird, nr, rr).expect("BIRD RR");
    let dir = tempfile::tempdir().expect("tempdir");
    let sfile = dir.path().join("bgp-status.json");
    let ha = speaker(
        na,
        64512,
        &[(nr.addr(), 64512)],
        "10.10.2.0/24",
        None,
        Some(sfile.clone()),
    );
    let hb = speaker(nb, 64512, &[(nr.addr(), 64512)], "10.10.3.0/24", None, None);
    wait(T, "clients Established", || {
        established(&ha, nr.addr()) && established(&hb, nr.addr())
    })
    .expect("sessions");
    wait(T, "reflected routes in both kernels", || {
        in_kernel(na, "10.10.3.0/24") && in_kernel(nb, "10.10.2.0/24")
    })
    .unwrap_or_else(|e| panic!("{e}; RR log: {}", bird.log()));
    let shown = nb.ip(&["route", "show", "10.10.2.0/24"]).expect("ip");
    assert!(
        shown.contains(&format!("via {} dev eth0 proto bgp", na.addr())),
        "the reflected route keeps the originator's next hop: {shown}"
    );
    // The status file of `calicoctl node status`.
    let st = status::read(&sfile).expect("status file");
    assert_eq!(st.peers.len(), 1, "{st:?}");
    assert_eq!(st.peers[0].address, nr.addr().to_string());
    assert_eq!(st.peers[0].peer_type, "node-to-node mesh");
    assert_eq!(st.peers[0].state, "up");
    assert_eq!(st.peers[0].info, "Established");
    drop(ha);
    drop(hb);
    drop(bird);
}

/// Control for the graceful-restart tests: without graceful restart the same BIRD crash
/// removes the route at once (so the tests above do see the session go down).
#[test]
fn without_graceful_restart_a_bird_crash_removes_the_route() {
    let mut lab = Lab::new().expect("lab");
    let a = lab.add_node().expect("node");
    let b = lab.add_node().expect("node");
    let (na, nb) = (lab.node(a), lab.node(b));
    let mut bird = Daemon::start(
        Kind::Bird,
        nb,
        PeerConfig::new(64512, nb.addr())
            .neighbor(Neighbor::new(na.addr(), 64512))
            .originate(net("10.20.1.0/24")),
    )
    .expect("BIRD");
    let h = speaker(na, 64512, &[(nb.addr(), 64512)], "10.10.1.0/24", None, None);
    wait(T, "BIRD's route in calico-rs' kernel", || {
        in_kernel(na, "10.20.1.0/24")
    })
    .expect("route");
    bird.kill();
    wait(T, "route removed after BIRD's crash", || {
        !in_kernel(na, "10.20.1.0/24")
    })
    .expect("removed");
    drop(h);
}
