//! Malformed messages from a raw peer against BIRD, FRR and GoBGP: each answers per the RFC
//! (or, for RFC 7606 cases, keeps the session) and its process lives; a well-formed session
//! afterwards still delivers a route. This is the baseline calico-bgp's speaker is held to.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use calico_bgp_interop::msg::{self, bad};
use calico_bgp_interop::{Daemon, Kind, Lab, Neighbor, PeerConfig, RawPeer};
use ipnet::Ipv4Net;

const T: Duration = Duration::from_secs(10);
const DUT_AS: u32 = 65001;
const RAW_AS: u32 = 65002;

fn net(s: &str) -> Ipv4Net {
    s.parse().expect("prefix")
}

/// Connect and complete a handshake, retrying while the daemon backs off after an error.
fn established(ns: &str, to: Ipv4Addr, from: Ipv4Addr) -> RawPeer {
    let start = Instant::now();
    loop {
        let mut p = RawPeer::connect(ns, to, T).expect("connect");
        match p.handshake(RAW_AS, 90, from, T) {
            Ok(_) => return p,
            Err(e) if start.elapsed() < Duration::from_secs(40) => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(300));
            }
            Err(e) => panic!("no session after the bad-input cases: {e}"),
        }
    }
}

/// Send `bytes` on a fresh connection (after a handshake when `after_open`), return what the
/// daemon answered: a NOTIFICATION, a close, or nothing within 2 s (session kept).
fn case(ns: &str, to: Ipv4Addr, from: Ipv4Addr, after_open: bool, bytes: &[u8]) -> String {
    let mut p = if after_open {
        established(ns, to, from)
    } else {
        RawPeer::connect(ns, to, T).expect("connect")
    };
    p.send(bytes).expect("send");
    match p.until_notification(Duration::from_secs(2)) {
        Ok(Some((c, s))) => format!("NOTIFICATION {c}/{s}"),
        Ok(None) => "closed".into(),
        Err(_) => "session kept".into(),
    }
}

fn bad_input_against(kind: Kind) {
    let mut lab = Lab::new().expect("lab");
    let a = lab.add_node().expect("node");
    let b = lab.add_node().expect("node");
    let (na, nb) = (lab.node(a), lab.node(b));
    let d = Daemon::start(
        kind,
        na,
        PeerConfig::new(DUT_AS, na.addr()).neighbor(Neighbor::new(nb.addr(), RAW_AS).passive()),
    )
    .expect("start daemon");
    let (ns, to, me) = (nb.ns(), na.addr(), nb.addr());
    let alive = |what: &str| {
        let pid = d.pid().expect("pid");
        assert!(
            std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "{} died after {what}: {}",
            kind.name(),
            d.log()
        );
        d.state(me)
            .unwrap_or_else(|e| panic!("{} control after {what}: {e}", kind.name()));
    };
    let mut seen = Vec::new();

    let r = case(ns, to, me, false, &bad::truncated_open(RAW_AS, me));
    assert!(
        r == "NOTIFICATION 1/2" || r == "closed",
        "truncated OPEN: {r}"
    );
    alive("truncated OPEN");
    seen.push(("truncated OPEN", r));

    let r = case(ns, to, me, false, &msg::open_version(3, RAW_AS, 90, me));
    assert!(r == "NOTIFICATION 2/1" || r == "closed", "version 3: {r}");
    alive("version 3");
    seen.push(("OPEN version 3", r));

    let r = case(ns, to, me, false, &msg::open(65099, 90, me));
    assert!(r == "NOTIFICATION 2/2" || r == "closed", "wrong AS: {r}");
    alive("wrong AS");
    seen.push(("OPEN wrong AS", r));

    let r = case(
        ns,
        to,
        me,
        true,
        &bad::bad_attribute_length(RAW_AS, me, net("10.31.0.0/24")),
    );
    assert!(
        r.starts_with("NOTIFICATION 3/") || r == "session kept",
        "bad attribute length: {r}"
    );
    alive("bad attribute length");
    seen.push(("UPDATE bad attribute length", r));

    let r = case(
        ns,
        to,
        me,
        true,
        &bad::huge_as_path(RAW_AS, 765, me, net("10.32.0.0/24")),
    );
    alive("huge AS_PATH");
    seen.push(("UPDATE 765-AS AS_PATH", r));

    // Still a working speaker.
    let mut p = established(ns, to, me);
    p.send(&msg::update(
        &[],
        &msg::attrs(&[RAW_AS], me),
        &[net("10.33.0.0/24")],
    ))
    .expect("send");
    d.wait_route(net("10.33.0.0/24"), true, T)
        .expect("route after the bad-input cases");
    for (c, r) in seen {
        eprintln!("{}: {c}: {r}", kind.name());
    }
}

#[test]
fn bird_survives_bad_input() {
    bad_input_against(Kind::Bird);
}

#[test]
fn frr_survives_bad_input() {
    bad_input_against(Kind::Frr);
}

#[test]
fn gobgp_survives_bad_input() {
    bad_input_against(Kind::Gobgp);
}
