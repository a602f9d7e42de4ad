//! calico-rs' speaker (calico-bgp driven by calico-bgp-io) in a namespace, against BIRD, FRR
//! and GoBGP in another: the session establishes (iBGP and eBGP), routes flow both ways, the
//! learned route reaches the kernel with protocol 186 over eth0, withdrawals remove it, and a
//! raw peer sending malformed messages does not stop the speaker.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use calico_bgp::speaker::{PeerConfig as CalicoPeer, SpeakerConfig};
use calico_bgp_interop::msg::{self, bad};
use calico_bgp_interop::{Daemon, Kind, Lab, Neighbor, Node, PeerConfig, RawPeer, has_route, wait};
use calico_bgp_io::runtime::{RuntimeConfig, SpeakerHandle};
use ipnet::Ipv4Net;

const T: Duration = Duration::from_secs(20);

fn net(s: &str) -> Ipv4Net {
    s.parse().expect("prefix")
}

fn speaker(node: &Node, asn: u32, peer: Ipv4Addr, peer_as: u32, passive: bool) -> SpeakerHandle {
    let mut sc = SpeakerConfig::new(asn, node.addr());
    sc.graceful_restart = None;
    let mut rc = RuntimeConfig::new(sc);
    let mut p = CalicoPeer::new(IpAddr::V4(peer), peer_as);
    p.hold_time = 9;
    p.connect_retry = Duration::from_secs(1);
    p.passive = passive;
    rc.peers.push(p);
    rc.netns = Some(node.path().to_owned());
    rc.source = Some(IpAddr::V4(node.addr()));
    rc.originate.push("10.10.1.0/24".parse().expect("net"));
    SpeakerHandle::spawn(rc).expect("start the calico-rs speaker")
}

fn established(h: &SpeakerHandle, peer: Ipv4Addr) -> bool {
    h.status()
        .iter()
        .any(|r| r.address == peer.to_string() && r.info == "Established")
}

fn calico_with(kind: Kind, calico_as: u32, peer_as: u32) {
    let mut lab = Lab::new().expect("lab");
    let a = lab.add_node().expect("node");
    let b = lab.add_node().expect("node");
    let (na, nb) = (lab.node(a), lab.node(b));
    let mut peer = Daemon::start(
        kind,
        nb,
        PeerConfig::new(peer_as, nb.addr())
            .neighbor(Neighbor::new(na.addr(), calico_as))
            .originate(net("10.20.1.0/24")),
    )
    .expect("start peer");
    let h = speaker(na, calico_as, nb.addr(), peer_as, false);
    wait(T, "calico-rs session Established", || {
        established(&h, nb.addr())
    })
    .unwrap_or_else(|e| panic!("{e}: {:?}; peer log: {}", h.status(), peer.log()));
    peer.wait_established(na.addr(), T)
        .expect("peer Established");

    // calico-rs → peer.
    peer.wait_route(net("10.10.1.0/24"), true, T)
        .unwrap_or_else(|e| panic!("{} did not learn calico-rs' route: {e}", kind.name()));
    // peer → calico-rs → kernel, proto bgp (186) via the peer on eth0.
    let in_kernel = |p: &str| na.routes().map(|r| has_route(&r, net(p))).unwrap_or(false);
    wait(T, "learned route in calico-rs' kernel", || {
        in_kernel("10.20.1.0/24")
    })
    .expect("kernel route");
    let shown = na.ip(&["route", "show", "10.20.1.0/24"]).expect("ip route");
    assert!(
        shown.contains(&format!("via {} dev eth0 proto bgp", nb.addr())),
        "{shown}"
    );
    // Injected, then withdrawn, by the peer.
    peer.inject(net("10.20.2.0/24")).expect("inject");
    wait(T, "injected route in calico-rs' kernel", || {
        in_kernel("10.20.2.0/24")
    })
    .expect("inject");
    peer.withdraw(net("10.20.2.0/24")).expect("withdraw");
    wait(T, "withdrawn route gone", || !in_kernel("10.20.2.0/24")).expect("withdrawal");
    // Withdrawn by calico-rs.
    h.withdraw("10.10.1.0/24".parse().expect("net"));
    peer.wait_route(net("10.10.1.0/24"), false, T)
        .expect("peer drops calico-rs' withdrawn route");
    drop(h);
    drop(peer);
}

#[test]
fn calico_bird_ebgp() {
    calico_with(Kind::Bird, 65001, 65002);
}

#[test]
fn calico_bird_ibgp() {
    calico_with(Kind::Bird, 64512, 64512);
}

#[test]
fn calico_gobgp_ebgp() {
    calico_with(Kind::Gobgp, 65001, 65002);
}

#[test]
fn calico_gobgp_ibgp() {
    calico_with(Kind::Gobgp, 64512, 64512);
}

#[test]
fn calico_frr_ebgp() {
    calico_with(Kind::Frr, 65001, 65002);
}

#[test]
fn calico_frr_ibgp() {
    calico_with(Kind::Frr, 64512, 64512);
}

#[test]
fn calico_survives_bad_input() {
    let mut lab = Lab::new().expect("lab");
    let a = lab.add_node().expect("node");
    let b = lab.add_node().expect("node");
    let (na, nb) = (lab.node(a), lab.node(b));
    let h = speaker(na, 65001, nb.addr(), 65002, true);
    let (ns, to, me) = (nb.ns(), na.addr(), nb.addr());
    let answer = |bytes: &[u8], after_open: bool| -> String {
        let mut p = RawPeer::connect(ns, to, T).expect("connect");
        if after_open {
            p.handshake(65002, 90, me, T).expect("handshake");
        }
        p.send(bytes).expect("send");
        match p.until_notification(Duration::from_secs(3)) {
            Ok(Some((c, s))) => format!("NOTIFICATION {c}/{s}"),
            Ok(None) => "closed".into(),
            Err(_) => "session kept".into(),
        }
    };
    let cases: Vec<(&str, Vec<u8>, bool, &[&str])> = vec![
        (
            "truncated OPEN",
            bad::truncated_open(65002, me),
            false,
            &["NOTIFICATION 1/2"],
        ),
        (
            "OPEN version 3",
            msg::open_version(3, 65002, 90, me),
            false,
            &["NOTIFICATION 2/1"],
        ),
        (
            "OPEN wrong AS",
            msg::open(65099, 90, me),
            false,
            &["NOTIFICATION 2/2"],
        ),
        (
            "UPDATE bad attribute length",
            bad::bad_attribute_length(65002, me, net("10.31.0.0/24")),
            true,
            &["NOTIFICATION 3/1", "NOTIFICATION 3/5", "session kept"],
        ),
        (
            "UPDATE 765-AS AS_PATH",
            bad::huge_as_path(65002, 765, me, net("10.32.0.0/24")),
            true,
            &["session kept"],
        ),
    ];
    for (name, bytes, after_open, expected) in cases {
        let got = answer(&bytes, after_open);
        eprintln!("calico-rs: {name}: {got}");
        assert!(expected.contains(&got.as_str()), "{name}: {got}");
        assert!(h.is_running(), "speaker stopped after {name}");
        // The speaker's connect-retry/idle wait after an error is 1 s here.
        std::thread::sleep(Duration::from_millis(1200));
    }
    // A good session still works and its route reaches the kernel.
    let mut p = RawPeer::connect(ns, to, T).expect("connect");
    p.handshake(65002, 90, me, T)
        .expect("handshake after the bad input");
    p.send(&msg::update(
        &[],
        &msg::attrs(&[65002], me),
        &[net("10.33.0.0/24")],
    ))
    .expect("send");
    wait(T, "route from the raw peer in the kernel", || {
        na.routes()
            .map(|r| has_route(&r, net("10.33.0.0/24")))
            .unwrap_or(false)
    })
    .expect("route after bad input");
}
