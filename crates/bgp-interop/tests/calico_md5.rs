//! TCP MD5 between calico-rs' speaker and BIRD: the same password establishes (with calico-rs
//! connecting, and with calico-rs passive so BIRD connects to its listener) and carries
//! routes; a different password never establishes (the kernel drops mismatched segments).

use std::net::IpAddr;
use std::time::Duration;

use calico_bgp::speaker::{PeerConfig as CalicoPeer, SpeakerConfig};
use calico_bgp_interop::{Daemon, Kind, Lab, Neighbor, PeerConfig, wait};
use calico_bgp_io::runtime::{RuntimeConfig, SpeakerHandle};
use ipnet::Ipv4Net;

const T: Duration = Duration::from_secs(20);

fn net(s: &str) -> Ipv4Net {
    s.parse().expect("prefix")
}

/// calico-rs (AS 65001, password `calico_pw`, `passive` or not) against BIRD (AS 65002,
/// password `bird_pw`); whether calico-rs reached Established within `within`.
fn md5_session(calico_pw: &str, bird_pw: &str, passive: bool, within: Duration) -> bool {
    let mut lab = Lab::new().expect("lab");
    let a = lab.add_node().expect("node");
    let b = lab.add_node().expect("node");
    let (na, nb) = (lab.node(a), lab.node(b));
    let bird = Daemon::start(
        Kind::Bird,
        nb,
        PeerConfig::new(65002, nb.addr())
            .neighbor(Neighbor::new(na.addr(), 65001).password(bird_pw))
            .originate(net("10.20.1.0/24")),
    )
    .expect("BIRD");
    let mut sc = SpeakerConfig::new(65001, na.addr());
    sc.graceful_restart = None;
    let mut rc = RuntimeConfig::new(sc);
    let mut p = CalicoPeer::new(IpAddr::V4(nb.addr()), 65002);
    p.hold_time = 9;
    p.connect_retry = Duration::from_secs(1);
    p.passive = passive;
    p.password = Some(calico_pw.to_owned());
    rc.peers.push(p);
    rc.netns = Some(na.path().to_owned());
    rc.source = Some(IpAddr::V4(na.addr()));
    rc.originate.push(net("10.10.1.0/24").into());
    let h = SpeakerHandle::spawn(rc).expect("start the calico-rs speaker");
    let peer = nb.addr().to_string();
    let up = wait(within, "calico-rs session Established over MD5", || {
        h.status()
            .iter()
            .any(|r| r.address == peer && r.info == "Established")
    })
    .is_ok();
    if up {
        bird.wait_route(net("10.10.1.0/24"), true, T)
            .unwrap_or_else(|e| panic!("BIRD did not learn calico-rs' route: {e}"));
    }
    drop(h);
    drop(bird);
    up
}

#[test]
fn calico_bird_md5_same_password_establishes() {
    assert!(
        md5_session("s3cret", "s3cret", false, T),
        "same password, calico-rs active"
    );
    assert!(
        md5_session("s3cret", "s3cret", true, T),
        "same password, calico-rs passive (BIRD connects to its listener)"
    );
}

#[test]
fn calico_bird_md5_wrong_password_does_not_establish() {
    assert!(
        !md5_session("s3cret", "other", false, Duration::from_secs(6)),
        "different passwords established"
    );
}

#[test]
fn calico_password_too_long_is_refused() {
    let mut rc = RuntimeConfig::new(SpeakerConfig::new(65001, "10.0.0.1".parse().expect("ip")));
    let mut p = CalicoPeer::new("10.0.0.2".parse().expect("ip"), 65002);
    p.password = Some("x".repeat(81));
    rc.peers.push(p);
    let e = SpeakerHandle::spawn(rc).expect_err("an 81-byte password is refused");
    let msg = e.to_string();
    assert!(
        msg.contains("10.0.0.2") && msg.contains("at most 80"),
        "{msg}"
    );
}
