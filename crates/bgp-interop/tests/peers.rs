//! The harness proven on real peers: BIRD ↔ GoBGP and BIRD ↔ FRR sessions establish (eBGP and
//! iBGP), exchange routes both ways, the route learned by BIRD lands in its namespace's kernel
//! table, and a withdrawal removes it.

use std::time::Duration;

use calico_bgp_interop::{Daemon, Kind, Lab, Neighbor, PeerConfig, has_route, wait};
use ipnet::Ipv4Net;

const T: Duration = Duration::from_secs(20);

fn net(s: &str) -> Ipv4Net {
    s.parse().expect("prefix")
}

/// BIRD on node 1 (AS `bird_as`), `other` on node 2 (AS `other_as`): session, routes both ways,
/// kernel install on the BIRD side, withdrawal.
fn bird_with(other: Kind, bird_as: u32, other_as: u32) {
    let mut lab = Lab::new().expect("lab");
    let a = lab.add_node().expect("node");
    let b = lab.add_node().expect("node");
    let (na, nb) = (lab.node(a), lab.node(b));
    let bird = Daemon::start(
        Kind::Bird,
        na,
        PeerConfig::new(bird_as, na.addr())
            .neighbor(Neighbor::new(nb.addr(), other_as))
            .originate(net("10.10.1.0/24")),
    )
    .expect("start BIRD");
    let mut peer = Daemon::start(
        other,
        nb,
        PeerConfig::new(other_as, nb.addr())
            .neighbor(Neighbor::new(na.addr(), bird_as))
            .originate(net("10.20.1.0/24")),
    )
    .expect("start peer");
    bird.wait_established(nb.addr(), T)
        .expect("BIRD established");
    peer.wait_established(na.addr(), T)
        .expect("peer established");

    // Both directions.
    peer.wait_route(net("10.10.1.0/24"), true, T)
        .unwrap_or_else(|e| panic!("{} did not learn BIRD's route: {e}", other.name()));
    bird.wait_route(net("10.20.1.0/24"), true, T)
        .expect("BIRD learns the peer's route");
    // BIRD's kernel protocol installs it, via the peer's address.
    wait(T, "kernel route in BIRD's namespace", || {
        na.routes()
            .map(|r| has_route(&r, net("10.20.1.0/24")))
            .unwrap_or(false)
    })
    .expect("kernel route");
    let r = na.routes().expect("routes");
    let k = r.iter().find(|r| r.dst == "10.20.1.0/24").expect("route");
    assert_eq!(
        k.gateway.as_deref(),
        Some(nb.addr().to_string().as_str()),
        "{k:?}"
    );
    assert_eq!(k.protocol.as_deref(), Some("bird"));

    // A route injected later, then withdrawn, appears and disappears in the kernel.
    peer.inject(net("10.20.2.0/24")).expect("inject");
    wait(T, "injected route in BIRD's kernel", || {
        na.routes()
            .map(|r| has_route(&r, net("10.20.2.0/24")))
            .unwrap_or(false)
    })
    .expect("injected route");
    peer.withdraw(net("10.20.2.0/24")).expect("withdraw");
    wait(T, "withdrawn route gone from BIRD's kernel", || {
        na.routes()
            .map(|r| !has_route(&r, net("10.20.2.0/24")))
            .unwrap_or(false)
    })
    .expect("withdrawal");
    drop(peer);
    drop(bird);
}

#[test]
fn bird_gobgp_ebgp() {
    bird_with(Kind::Gobgp, 65001, 65002);
}

#[test]
fn bird_gobgp_ibgp() {
    bird_with(Kind::Gobgp, 65001, 65001);
}

#[test]
fn bird_frr_ebgp() {
    bird_with(Kind::Frr, 65001, 65003);
}

#[test]
fn bird_frr_ibgp() {
    bird_with(Kind::Frr, 65001, 65001);
}

/// BIRD and GoBGP with TCP MD5 passwords; whether the session established within `within`.
fn md5_session(bird_pw: &str, gobgp_pw: &str, within: Duration) -> bool {
    let mut lab = Lab::new().expect("lab");
    let a = lab.add_node().expect("node");
    let b = lab.add_node().expect("node");
    let (na, nb) = (lab.node(a), lab.node(b));
    let bird = Daemon::start(
        Kind::Bird,
        na,
        PeerConfig::new(65001, na.addr())
            .neighbor(Neighbor::new(nb.addr(), 65002).password(bird_pw)),
    )
    .expect("BIRD");
    let gobgp = Daemon::start(
        Kind::Gobgp,
        nb,
        PeerConfig::new(65002, nb.addr())
            .neighbor(Neighbor::new(na.addr(), 65001).password(gobgp_pw))
            .originate(net("10.20.1.0/24")),
    )
    .expect("GoBGP");
    let up = bird.wait_established(nb.addr(), within).is_ok();
    if up {
        bird.wait_route(net("10.20.1.0/24"), true, T)
            .expect("route over MD5");
    }
    drop(gobgp);
    drop(bird);
    up
}

/// TCP MD5 between BIRD and GoBGP: the same password establishes and carries routes; a
/// different one never establishes (the kernel drops the mismatched segments).
#[test]
fn bird_gobgp_md5() {
    assert!(md5_session("s3cret", "s3cret", T), "same password");
    assert!(
        !md5_session("s3cret", "other", Duration::from_secs(4)),
        "different passwords established"
    );
}
