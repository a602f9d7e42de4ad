//! Several Speakers wired together in memory (bytes delivered between them, split into
//! partial reads): sessions, route exchange, withdrawal, route reflection, eBGP rules,
//! graceful restart and malformed input.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use calico_bgp::fsm::State;
use calico_bgp::speaker::*;
use calico_bgp::wire::*;
use ipnet::IpNet;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}
fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}
fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

#[derive(Default)]
struct Net {
    nodes: BTreeMap<IpAddr, Speaker>,
    links: HashMap<(IpAddr, ConnId), (IpAddr, ConnId)>,
    kernel: HashMap<IpAddr, HashMap<IpNet, KernelRoute>>,
    now: Duration,
    log: Vec<(IpAddr, Output)>,
}

impl Net {
    fn add(&mut self, addr: &str, asn: u32, f: impl FnOnce(&mut SpeakerConfig)) {
        let a = ip(addr);
        let IpAddr::V4(id) = a else { panic!() };
        let mut c = SpeakerConfig::new(asn, id);
        f(&mut c);
        self.nodes.insert(a, Speaker::new(c));
        self.kernel.entry(a).or_default();
    }

    fn node(&mut self, a: &str) -> &mut Speaker {
        self.nodes.get_mut(&ip(a)).unwrap()
    }

    /// Peer `a` → `b`; the lower address is passive, as in Calico's mesh.
    fn peer(&mut self, a: &str, b: &str, remote_as: u32, f: impl FnOnce(&mut PeerConfig)) {
        let mut pc = PeerConfig::new(ip(b), remote_as);
        pc.passive = ip(b) > ip(a);
        pc.next_hop_v6 = Some(
            format!("fd00::{}", a.rsplit('.').next().unwrap())
                .parse()
                .unwrap(),
        );
        f(&mut pc);
        let now = self.now;
        self.node(a).add_peer(pc, now);
    }

    fn run(&mut self) {
        for _ in 0..10_000 {
            let mut any = false;
            let addrs: Vec<IpAddr> = self.nodes.keys().copied().collect();
            for a in addrs {
                let outs = self.nodes.get_mut(&a).unwrap().drain_outputs();
                for o in outs {
                    any = true;
                    self.handle(a, o);
                }
            }
            if !any {
                return;
            }
        }
        panic!("network did not settle");
    }

    fn handle(&mut self, a: IpAddr, o: Output) {
        let now = self.now;
        self.log.push((a, o.clone()));
        match o {
            Output::Connect { conn, peer, .. } => {
                let accepted = self
                    .nodes
                    .get_mut(&peer)
                    .and_then(|b| b.accepted(a, peer, now));
                match accepted {
                    Some(bc) => {
                        self.links.insert((a, conn), (peer, bc));
                        self.links.insert((peer, bc), (a, conn));
                        self.nodes.get_mut(&a).unwrap().connected(conn, a, now);
                    }
                    None => self.nodes.get_mut(&a).unwrap().connect_failed(conn, now),
                }
            }
            Output::Send { conn, bytes } => {
                if let Some(&(b, bc)) = self.links.get(&(a, conn)) {
                    // Partial reads: deliver in two pieces.
                    let cut = bytes.len().min(7);
                    let s = self.nodes.get_mut(&b).unwrap();
                    s.received(bc, &bytes[..cut], now);
                    s.received(bc, &bytes[cut..], now);
                }
            }
            Output::Close { conn } => {
                if let Some((b, bc)) = self.links.remove(&(a, conn)) {
                    self.links.remove(&(b, bc));
                    if let Some(s) = self.nodes.get_mut(&b) {
                        s.closed(bc, now);
                    }
                }
            }
            Output::Route { prefix, route } => {
                let k = self.kernel.get_mut(&a).unwrap();
                match route {
                    Some(r) => k.insert(prefix, r),
                    None => k.remove(&prefix),
                };
            }
            Output::SessionUp { .. } | Output::SessionDown { .. } => {}
        }
    }

    fn advance(&mut self, secs: u64) {
        let end = self.now + Duration::from_secs(secs);
        loop {
            let next = self
                .nodes
                .values()
                .filter_map(|s| s.next_deadline())
                .filter(|d| *d <= end)
                .min();
            let Some(t) = next else { break };
            self.now = t.max(self.now);
            let now = self.now;
            for s in self.nodes.values_mut() {
                s.tick(now);
            }
            self.run();
        }
        self.now = end;
    }

    /// The connection `a` holds towards `b`.
    fn conn(&self, a: &str, b: &str) -> ConnId {
        self.links
            .iter()
            .find(|((x, _), (y, _))| *x == ip(a) && *y == ip(b))
            .map(|((_, c), _)| *c)
            .unwrap()
    }

    /// Cut the wire without NOTIFICATIONs (a crash or link loss), telling the survivors.
    fn crash(&mut self, a: &str) {
        let now = self.now;
        self.nodes.remove(&ip(a));
        let gone: Vec<((IpAddr, ConnId), (IpAddr, ConnId))> = self
            .links
            .iter()
            .filter(|(k, _)| k.0 == ip(a))
            .map(|(k, v)| (*k, *v))
            .collect();
        for (k, (b, bc)) in gone {
            self.links.remove(&k);
            self.links.remove(&(b, bc));
            self.nodes.get_mut(&b).unwrap().closed(bc, now);
        }
        self.run();
    }

    fn route(&self, at: &str, prefix: &str) -> Option<&KernelRoute> {
        self.kernel[&ip(at)].get(&net(prefix))
    }

    fn state(&self, a: &str, b: &str) -> Option<State> {
        self.nodes[&ip(a)].peer_state(ip(b))
    }
}

fn mesh_pair() -> Net {
    let mut n = Net::default();
    n.add("10.0.0.1", 64512, |_| {});
    n.add("10.0.0.2", 64512, |_| {});
    n.peer("10.0.0.1", "10.0.0.2", 64512, |p| {
        p.description = "node-to-node mesh".into()
    });
    n.peer("10.0.0.2", "10.0.0.1", 64512, |p| {
        p.description = "node-to-node mesh".into()
    });
    n.run();
    n
}

#[test]
fn mesh_session_route_exchange_and_withdrawal() {
    let mut n = mesh_pair();
    assert_eq!(n.state("10.0.0.1", "10.0.0.2"), Some(State::Established));
    assert_eq!(n.state("10.0.0.2", "10.0.0.1"), Some(State::Established));
    let now = n.now;
    n.node("10.0.0.1")
        .originate(net("10.244.1.0/26"), LocalRoute::default(), now);
    n.node("10.0.0.1")
        .originate(net("fd00:244:1::/122"), LocalRoute::default(), now);
    n.node("10.0.0.2").originate(
        net("10.244.2.0/26"),
        LocalRoute {
            communities: vec![0xfc00_0064],
            ..Default::default()
        },
        now,
    );
    n.run();
    let r = n.route("10.0.0.2", "10.244.1.0/26").unwrap();
    assert_eq!(r.next_hop, ip("10.0.0.1"), "local route: next hop self");
    assert_eq!(r.attrs.local_pref, Some(100));
    assert_eq!(r.attrs.as_path, Some(AsPath::default()));
    assert_eq!(
        n.route("10.0.0.2", "fd00:244:1::/122").unwrap().next_hop,
        ip("fd00::1")
    );
    let r = n.route("10.0.0.1", "10.244.2.0/26").unwrap();
    assert_eq!(r.next_hop, ip("10.0.0.2"));
    assert_eq!(
        r.attrs.communities,
        vec![0xfc00_0064],
        "communities pass through"
    );
    // Local routes are not kernel routes of their own node.
    assert!(n.route("10.0.0.1", "10.244.1.0/26").is_none());
    // Status table.
    let st = n.nodes[&ip("10.0.0.1")].peer_status();
    assert_eq!(st.len(), 1);
    assert_eq!(
        (
            st[0].address,
            st[0].description.as_str(),
            st[0].info.as_str()
        ),
        (ip("10.0.0.2"), "node-to-node mesh", "Established")
    );
    // Withdrawal.
    let now = n.now;
    n.node("10.0.0.1").withdraw(net("10.244.1.0/26"), now);
    n.node("10.0.0.1").withdraw(net("fd00:244:1::/122"), now);
    n.run();
    assert!(n.route("10.0.0.2", "10.244.1.0/26").is_none());
    assert!(n.route("10.0.0.2", "fd00:244:1::/122").is_none());
    // Keepalives keep the session up over time.
    n.advance(1000);
    assert_eq!(n.state("10.0.0.2", "10.0.0.1"), Some(State::Established));
    assert!(n.route("10.0.0.1", "10.244.2.0/26").is_some());
}

#[test]
fn many_routes_are_packed_and_all_arrive() {
    let mut n = mesh_pair();
    let now = n.now;
    for i in 0..5000u32 {
        let p = IpNet::new(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + (i << 8))), 24).unwrap();
        n.node("10.0.0.1").originate(p, LocalRoute::default(), now);
    }
    n.run();
    assert_eq!(n.kernel[&ip("10.0.0.2")].len(), 5000);
    let sends = n
        .log
        .iter()
        .filter(|(a, o)| {
            *a == ip("10.0.0.1") && matches!(o, Output::Send { bytes, .. } if bytes[18] == 2)
        })
        .count();
    assert!(
        sends < 5100,
        "one UPDATE per originate call at most: {sends}"
    );
}

#[test]
fn route_reflector_reflects_client_routes() {
    let mut n = Net::default();
    n.add("10.0.0.1", 64512, |_| {});
    n.add("10.0.0.2", 64512, |_| {});
    n.add("10.0.0.10", 64512, |c| c.cluster_id = Some(v4("224.0.0.1")));
    for c in ["10.0.0.1", "10.0.0.2"] {
        n.peer(c, "10.0.0.10", 64512, |_| {});
        n.peer("10.0.0.10", c, 64512, |p| p.rr_client = true);
    }
    n.run();
    let now = n.now;
    n.node("10.0.0.1")
        .originate(net("10.244.1.0/26"), LocalRoute::default(), now);
    n.run();
    let r = n.route("10.0.0.2", "10.244.1.0/26").unwrap();
    assert_eq!(
        r.next_hop,
        ip("10.0.0.1"),
        "iBGP: learned next hop unchanged by the reflector"
    );
    assert_eq!(r.attrs.originator_id, Some(v4("10.0.0.1")));
    assert_eq!(r.attrs.cluster_list, vec![v4("224.0.0.1")]);
    assert_eq!(r.peer, ip("10.0.0.10"));
}

#[test]
fn ibgp_routes_are_not_readvertised_without_reflection() {
    let mut n = Net::default();
    for a in ["10.0.0.1", "10.0.0.2", "10.0.0.3"] {
        n.add(a, 64512, |_| {});
    }
    n.peer("10.0.0.1", "10.0.0.2", 64512, |_| {});
    n.peer("10.0.0.2", "10.0.0.1", 64512, |_| {});
    n.peer("10.0.0.2", "10.0.0.3", 64512, |_| {});
    n.peer("10.0.0.3", "10.0.0.2", 64512, |_| {});
    n.run();
    let now = n.now;
    n.node("10.0.0.1")
        .originate(net("10.244.1.0/26"), LocalRoute::default(), now);
    n.run();
    assert!(n.route("10.0.0.2", "10.244.1.0/26").is_some());
    assert!(n.route("10.0.0.3", "10.244.1.0/26").is_none());
}

#[test]
fn ebgp_prepends_sets_next_hop_self_and_prefers_shorter_paths() {
    let mut n = Net::default();
    n.add("10.0.0.1", 64512, |_| {});
    n.add("10.0.0.2", 64512, |_| {});
    n.add("10.0.0.3", 65001, |_| {});
    n.peer("10.0.0.1", "10.0.0.2", 64512, |_| {});
    n.peer("10.0.0.2", "10.0.0.1", 64512, |_| {});
    n.peer("10.0.0.2", "10.0.0.3", 65001, |_| {});
    n.peer("10.0.0.3", "10.0.0.2", 64512, |_| {});
    n.run();
    let now = n.now;
    n.node("10.0.0.1").originate(
        net("10.244.1.0/26"),
        LocalRoute {
            med: Some(5),
            ..Default::default()
        },
        now,
    );
    n.node("10.0.0.3")
        .originate(net("192.168.0.0/16"), LocalRoute::default(), now);
    n.run();
    // iBGP-learned, sent over eBGP: next hop self, our AS prepended, no LOCAL_PREF/MED.
    let r = n.route("10.0.0.3", "10.244.1.0/26").unwrap();
    assert_eq!(r.next_hop, ip("10.0.0.2"));
    assert_eq!(r.attrs.as_path, Some(AsPath::sequence(vec![64512])));
    assert_eq!((r.attrs.local_pref, r.attrs.med), (None, None));
    // eBGP-learned, passed to iBGP: next hop unchanged, LOCAL_PREF 100.
    let r = n.route("10.0.0.1", "192.168.0.0/16").unwrap();
    assert_eq!(r.next_hop, ip("10.0.0.3"));
    assert_eq!(r.attrs.as_path, Some(AsPath::sequence(vec![65001])));
    assert_eq!(r.attrs.local_pref, Some(100));
}

#[test]
fn graceful_restart_keeps_routes_until_end_of_rib() {
    let mut n = mesh_pair();
    let now = n.now;
    n.node("10.0.0.1")
        .originate(net("10.244.1.0/26"), LocalRoute::default(), now);
    n.node("10.0.0.1")
        .originate(net("10.244.9.0/26"), LocalRoute::default(), now);
    n.run();
    assert!(n.route("10.0.0.2", "10.244.1.0/26").is_some());
    // 10.0.0.1 dies without a NOTIFICATION: 10.0.0.2 keeps forwarding (stale routes).
    n.crash("10.0.0.1");
    assert_eq!(n.state("10.0.0.2", "10.0.0.1"), Some(State::Idle));
    assert!(n.route("10.0.0.2", "10.244.1.0/26").is_some());
    assert!(
        n.nodes[&ip("10.0.0.2")]
            .rib()
            .best(&net("10.244.1.0/26"))
            .unwrap()
            .stale
    );
    n.advance(3);
    assert!(n.route("10.0.0.2", "10.244.1.0/26").is_some());
    // It comes back as a restarting speaker (R bit) and re-announces only one block.
    n.add("10.0.0.1", 64512, |c| {
        c.graceful_restart.as_mut().unwrap().restarting = true
    });
    n.peer("10.0.0.1", "10.0.0.2", 64512, |_| {});
    let now = n.now;
    n.node("10.0.0.1")
        .originate(net("10.244.1.0/26"), LocalRoute::default(), now);
    n.advance(10);
    assert_eq!(n.state("10.0.0.2", "10.0.0.1"), Some(State::Established));
    let neg = n.nodes[&ip("10.0.0.2")].negotiated(ip("10.0.0.1")).unwrap();
    assert!(neg.peer_graceful_restart.as_ref().unwrap().restarting);
    // End-of-RIB swept only the route that was not refreshed.
    assert!(n.route("10.0.0.2", "10.244.1.0/26").is_some());
    assert!(
        !n.nodes[&ip("10.0.0.2")]
            .rib()
            .best(&net("10.244.1.0/26"))
            .unwrap()
            .stale
    );
    assert!(n.route("10.0.0.2", "10.244.9.0/26").is_none());
}

#[test]
fn graceful_restart_gives_up_after_restart_time() {
    let mut n = mesh_pair();
    let now = n.now;
    n.node("10.0.0.1")
        .originate(net("10.244.1.0/26"), LocalRoute::default(), now);
    n.run();
    n.crash("10.0.0.1");
    n.advance(119);
    assert!(n.route("10.0.0.2", "10.244.1.0/26").is_some());
    n.advance(2);
    assert!(
        n.route("10.0.0.2", "10.244.1.0/26").is_none(),
        "removed after the 120 s restart time"
    );
}

#[test]
fn without_graceful_restart_routes_go_at_once() {
    let mut n = Net::default();
    n.add("10.0.0.1", 64512, |c| c.graceful_restart = None);
    n.add("10.0.0.2", 64512, |_| {});
    n.peer("10.0.0.1", "10.0.0.2", 64512, |_| {});
    n.peer("10.0.0.2", "10.0.0.1", 64512, |_| {});
    n.run();
    let now = n.now;
    n.node("10.0.0.1")
        .originate(net("10.244.1.0/26"), LocalRoute::default(), now);
    n.run();
    assert!(n.route("10.0.0.2", "10.244.1.0/26").is_some());
    n.crash("10.0.0.1");
    assert!(n.route("10.0.0.2", "10.244.1.0/26").is_none());
}

fn raw_update(attrs: &str, nlri: &[u8]) -> Vec<u8> {
    let a: Vec<u8> = attrs
        .split_whitespace()
        .collect::<String>()
        .as_bytes()
        .chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
        .collect();
    let mut body = vec![0, 0];
    body.extend_from_slice(&(a.len() as u16).to_be_bytes());
    body.extend_from_slice(&a);
    body.extend_from_slice(nlri);
    let mut v = vec![0xff; 16];
    v.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
    v.push(2);
    v.extend_from_slice(&body);
    v
}

#[test]
fn malformed_updates_are_survived_or_reset_per_rfc7606() {
    let mut n = mesh_pair();
    let (a, b) = ("10.0.0.1", "10.0.0.2");
    let bc = n.conn(b, a);
    let now = n.now;
    // A good route first, then the same prefix with a bad ORIGIN: treat-as-withdraw.
    let good = raw_update(
        "40 01 01 00  40 02 00  40 03 04 0a000001  40 05 04 00000064",
        &[24, 10, 9, 0],
    );
    n.node(b).received(bc, &good, now);
    n.run();
    assert!(n.route(b, "10.9.0.0/24").is_some());
    let bad = raw_update("40 01 01 07  40 02 00  40 03 04 0a000001", &[24, 10, 9, 0]);
    n.node(b).received(bc, &bad, now);
    n.run();
    assert!(n.route(b, "10.9.0.0/24").is_none(), "treat-as-withdraw");
    assert_eq!(n.state(b, a), Some(State::Established), "session survives");
    // Our own AS in the path from an iBGP peer is fine, an ORIGINATOR_ID of ours is a loop.
    let looped = raw_update(
        "40 01 01 00  40 02 00  40 03 04 0a000001  80 09 04 0a000002",
        &[24, 10, 8, 0],
    );
    n.node(b).received(bc, &looped, now);
    n.run();
    assert!(n.route(b, "10.8.0.0/24").is_none());
    // A header error resets the session with the right NOTIFICATION; it comes back later.
    n.log.clear();
    let mut junk = Message::Keepalive.encode(WireOptions::default()).unwrap();
    junk[0] = 0;
    n.node(b).received(bc, &junk, now);
    n.run();
    let notif = n.log.iter().find_map(|(x, o)| match o {
        Output::Send { bytes, .. } if *x == ip(b) && bytes[18] == 3 => Some((bytes[19], bytes[20])),
        _ => None,
    });
    assert_eq!(notif, Some((1, 1)));
    assert_ne!(n.state(b, a), Some(State::Established));
    assert!(
        n.nodes[&ip(b)].peer_status()[0].info.contains("marker"),
        "{:?}",
        n.nodes[&ip(b)].peer_status()
    );
    n.advance(30);
    assert_eq!(n.state(b, a), Some(State::Established));
}

#[test]
fn wrong_as_peer_never_establishes() {
    let mut n = Net::default();
    n.add("10.0.0.1", 64512, |_| {});
    n.add("10.0.0.2", 65000, |_| {});
    n.peer("10.0.0.1", "10.0.0.2", 64999, |_| {});
    n.peer("10.0.0.2", "10.0.0.1", 64512, |_| {});
    n.run();
    n.advance(20);
    assert_ne!(n.state("10.0.0.1", "10.0.0.2"), Some(State::Established));
    let st = n.nodes[&ip("10.0.0.1")].peer_status();
    assert!(
        st[0].info.contains("peer AS 65000, expected 64999"),
        "{st:?}"
    );
}

#[test]
fn connection_collision_keeps_one_session() {
    let mut n = Net::default();
    n.add("10.0.0.1", 64512, |_| {});
    n.add("10.0.0.2", 64512, |_| {});
    // Both sides active.
    n.peer("10.0.0.1", "10.0.0.2", 64512, |p| p.passive = false);
    n.peer("10.0.0.2", "10.0.0.1", 64512, |p| p.passive = false);
    n.run();
    n.advance(30);
    assert_eq!(n.state("10.0.0.1", "10.0.0.2"), Some(State::Established));
    assert_eq!(n.state("10.0.0.2", "10.0.0.1"), Some(State::Established));
    assert_eq!(n.links.len(), 2, "one connection (two ends)");
}

fn ebgp_pair() -> Net {
    let mut n = Net::default();
    n.add("10.0.0.1", 64512, |_| {});
    n.add("10.0.0.3", 65001, |_| {});
    n.peer("10.0.0.1", "10.0.0.3", 65001, |_| {});
    n.peer("10.0.0.3", "10.0.0.1", 64512, |_| {});
    n.run();
    n
}

#[test]
fn ebgp_receive_checks_as_loops_and_neighbour_as() {
    let mut n = ebgp_pair();
    let (a, c) = ("10.0.0.1", "10.0.0.3");
    assert_eq!(n.state(a, c), Some(State::Established));
    let ac = n.conn(a, c);
    let now = n.now;
    // AS_PATH [65001, 64512]: our own AS, a loop.
    let looped = raw_update(
        "40 01 01 00  40 02 0a 02 02 0000fde9 0000fc00  40 03 04 0a000003",
        &[24, 10, 1, 0],
    );
    // AS_PATH [65002]: does not start with the neighbour's AS.
    let foreign = raw_update(
        "40 01 01 00  40 02 06 02 01 0000fdea  40 03 04 0a000003",
        &[24, 10, 2, 0],
    );
    // A good one, with LOCAL_PREF (discarded from eBGP).
    let good = raw_update(
        "40 01 01 00  40 02 06 02 01 0000fde9  40 03 04 0a000003  40 05 04 000003e8",
        &[24, 10, 3, 0],
    );
    for u in [looped, foreign, good] {
        n.node(a).received(ac, &u, now);
    }
    n.run();
    assert!(n.route(a, "10.1.0.0/24").is_none());
    assert!(n.route(a, "10.2.0.0/24").is_none());
    let r = n.route(a, "10.3.0.0/24").unwrap();
    assert_eq!(r.attrs.local_pref, None);
    assert_eq!(n.state(a, c), Some(State::Established));
}

#[test]
fn route_refresh_resends_the_table() {
    let mut n = ebgp_pair();
    let (a, c) = ("10.0.0.1", "10.0.0.3");
    let now = n.now;
    n.node(a)
        .originate(net("10.244.1.0/26"), LocalRoute::default(), now);
    n.run();
    n.log.clear();
    let rr = Message::RouteRefresh(RouteRefresh {
        afi_safi: AfiSafi::IPV4_UNICAST,
        subtype: 0,
    });
    let ac = n.conn(a, c);
    n.node(a)
        .received(ac, &rr.encode(WireOptions::default()).unwrap(), now);
    n.run();
    let updates = n
        .log
        .iter()
        .filter(|(x, o)| *x == ip(a) && matches!(o, Output::Send { bytes, .. } if bytes[18] == 2))
        .count();
    assert_eq!(updates, 1);
}

struct DenyAndTag;
impl calico_bgp::export::RoutePolicy for DenyAndTag {
    fn export(
        &self,
        _: &calico_bgp::export::PeerView,
        prefix: &IpNet,
        attrs: &mut PathAttributes,
        _: Option<IpAddr>,
    ) -> bool {
        attrs.communities.push(0xfc00_0001);
        !prefix.to_string().starts_with("10.99.")
    }
    fn import(
        &self,
        _: &calico_bgp::export::PeerView,
        _: &IpNet,
        attrs: &mut PathAttributes,
    ) -> bool {
        attrs.local_pref = Some(200);
        true
    }
}

#[test]
fn policy_hooks_and_keep_next_hop() {
    let mut n = Net::default();
    n.add("10.0.0.1", 64512, |_| {});
    n.add("10.0.0.2", 64512, |_| {});
    n.add("10.0.0.3", 65001, |_| {});
    n.peer("10.0.0.1", "10.0.0.2", 64512, |_| {});
    n.peer("10.0.0.2", "10.0.0.1", 64512, |_| {});
    n.peer("10.0.0.2", "10.0.0.3", 65001, |p| {
        p.next_hop_mode = calico_bgp::export::NextHopMode::Keep
    });
    n.peer("10.0.0.3", "10.0.0.2", 64512, |_| {});
    n.node("10.0.0.2").set_policy(Box::new(DenyAndTag));
    n.run();
    let now = n.now;
    n.node("10.0.0.1")
        .originate(net("10.244.1.0/26"), LocalRoute::default(), now);
    n.node("10.0.0.1")
        .originate(net("10.99.0.0/26"), LocalRoute::default(), now);
    n.run();
    // Import policy on 10.0.0.2 raised LOCAL_PREF.
    assert_eq!(
        n.route("10.0.0.2", "10.244.1.0/26")
            .unwrap()
            .attrs
            .local_pref,
        Some(200)
    );
    // Export policy: 10.99/16 filtered, a community added; next hop kept towards eBGP.
    let r = n.route("10.0.0.3", "10.244.1.0/26").unwrap();
    assert_eq!(r.next_hop, ip("10.0.0.1"));
    assert_eq!(r.attrs.communities, vec![0xfc00_0001]);
    assert!(n.route("10.0.0.3", "10.99.0.0/26").is_none());
}

#[test]
fn reflector_drops_routes_carrying_its_cluster_id() {
    let mut n = Net::default();
    n.add("10.0.0.1", 64512, |_| {});
    n.add("10.0.0.10", 64512, |c| c.cluster_id = Some(v4("224.0.0.1")));
    n.peer("10.0.0.1", "10.0.0.10", 64512, |_| {});
    n.peer("10.0.0.10", "10.0.0.1", 64512, |p| p.rr_client = true);
    n.run();
    let rc = n.conn("10.0.0.10", "10.0.0.1");
    let now = n.now;
    let u = raw_update(
        "40 01 01 00  40 02 00  40 03 04 0a000001  80 0a 04 e0000001",
        &[24, 10, 7, 0],
    );
    n.node("10.0.0.10").received(rc, &u, now);
    n.run();
    assert!(n.route("10.0.0.10", "10.7.0.0/24").is_none());
    assert_eq!(n.state("10.0.0.10", "10.0.0.1"), Some(State::Established));
}

#[test]
fn removing_a_peer_sends_cease_and_drops_its_routes() {
    let mut n = mesh_pair();
    let now = n.now;
    n.node("10.0.0.1")
        .originate(net("10.244.1.0/26"), LocalRoute::default(), now);
    n.run();
    assert!(n.route("10.0.0.2", "10.244.1.0/26").is_some());
    n.log.clear();
    n.node("10.0.0.2").remove_peer(ip("10.0.0.1"), now);
    n.run();
    assert!(n.route("10.0.0.2", "10.244.1.0/26").is_none());
    let cease = n.log.iter().any(|(x, o)| *x == ip("10.0.0.2") && matches!(o, Output::Send { bytes, .. } if bytes[18] == 3 && bytes[19] == 6 && bytes[20] == 2));
    assert!(cease);
    assert_eq!(n.state("10.0.0.1", "10.0.0.2"), Some(State::Idle));
    assert!(n.nodes[&ip("10.0.0.2")].peer_status().is_empty());
}

/// A raw peer (bytes written by hand) talking to a speaker that waits passively.
fn raw_peer_session(first: &[u8]) -> Vec<Output> {
    let mut s = Speaker::new(SpeakerConfig::new(64512, v4("10.0.0.2")));
    let mut pc = PeerConfig::new(ip("10.0.0.9"), 64512);
    pc.passive = true;
    s.add_peer(pc, Duration::ZERO);
    let conn = s
        .accepted(ip("10.0.0.9"), ip("10.0.0.2"), Duration::ZERO)
        .unwrap();
    s.drain_outputs();
    s.received(conn, first, Duration::ZERO);
    s.drain_outputs()
}

fn notification_sent(outs: &[Output]) -> Option<Notification> {
    outs.iter().find_map(|o| match o {
        Output::Send { bytes, .. } if bytes[18] == 3 => {
            match decode_message(bytes, WireOptions::default())
                .unwrap()
                .message
            {
                Message::Notification(n) => Some(n),
                _ => None,
            }
        }
        _ => None,
    })
}

#[test]
fn bad_opens_from_a_raw_peer_get_the_rfc_notification() {
    let open = |asn: u32, ver: u8, caps: Vec<Capability>| {
        let mut o = Open::new(asn, 90, v4("10.0.0.9"), caps);
        o.version = ver;
        Message::Open(o).encode(WireOptions::default()).unwrap()
    };
    // Truncated OPEN (header says 25 bytes).
    let mut t = open(64512, 4, vec![])[..25].to_vec();
    t[16..18].copy_from_slice(&25u16.to_be_bytes());
    let outs = raw_peer_session(&t);
    let n = notification_sent(&outs).unwrap();
    assert_eq!((n.code, n.subcode), (1, 2));
    assert!(outs.iter().any(|o| matches!(o, Output::Close { .. })));
    // Unsupported version: data is the version we speak.
    let n = notification_sent(&raw_peer_session(&open(64512, 3, vec![]))).unwrap();
    assert_eq!((n.code, n.subcode, n.data.clone()), (2, 1, vec![0, 4]));
    // Wrong AS.
    let n = notification_sent(&raw_peer_session(&open(64513, 4, vec![]))).unwrap();
    assert_eq!((n.code, n.subcode), (2, 2));
    // No family in common.
    let other = vec![Capability::Multiprotocol(AfiSafi { afi: 25, safi: 65 })];
    let n = notification_sent(&raw_peer_session(&open(64512, 4, other))).unwrap();
    assert_eq!((n.code, n.subcode), (2, 7));
    // A good OPEN gets OPEN + KEEPALIVE back... (ours was sent on accept), then KEEPALIVE.
    let outs = raw_peer_session(&open(64512, 4, vec![]));
    assert!(notification_sent(&outs).is_none());
    assert!(
        outs.iter()
            .any(|o| matches!(o, Output::Send { bytes, .. } if bytes[18] == 4))
    );
}

mod garbage {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Whatever an established peer sends, the speaker answers without panicking and
        /// keeps serving its other peer.
        #[test]
        fn random_bytes_from_a_peer_never_panic(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 1..6), typ in 1u8..=5) {
            let mut n = mesh_pair();
            let (a, b) = ("10.0.0.1", "10.0.0.2");
            let bc = n.conn(b, a);
            let now = n.now;
            for c in &chunks {
                let mut m = vec![0xff; 16];
                m.extend_from_slice(&((19 + c.len()) as u16).to_be_bytes());
                m.push(typ);
                m.extend_from_slice(c);
                n.node(b).received(bc, &m, now);
                n.node(b).received(bc, c, now);
            }
            n.run();
            n.advance(60);
            prop_assert_eq!(n.state(b, a), Some(State::Established));
        }
    }
}

/// A policy the test switches while the speaker holds it: rejects prefixes starting with
/// the given strings, tags exports when asked, and records each export's `learned_from`.
#[derive(Clone, Default)]
struct Switch(std::sync::Arc<std::sync::Mutex<SwitchState>>);
#[derive(Default)]
struct SwitchState {
    deny_export: Option<String>,
    deny_import: Option<String>,
    tag_exports: bool,
    learned_from: HashMap<IpNet, Option<IpAddr>>,
}
impl Switch {
    fn set(&self, f: impl FnOnce(&mut SwitchState)) {
        f(&mut self.0.lock().unwrap());
    }
}
impl calico_bgp::export::RoutePolicy for Switch {
    fn export(
        &self,
        _: &calico_bgp::export::PeerView,
        prefix: &IpNet,
        attrs: &mut PathAttributes,
        learned_from: Option<IpAddr>,
    ) -> bool {
        let mut s = self.0.lock().unwrap();
        s.learned_from.insert(*prefix, learned_from);
        if s.tag_exports {
            attrs.communities.push(0xfc00_0002);
        }
        s.deny_export
            .as_ref()
            .is_none_or(|d| !prefix.to_string().starts_with(d.as_str()))
    }
    fn import(
        &self,
        _: &calico_bgp::export::PeerView,
        prefix: &IpNet,
        _: &mut PathAttributes,
    ) -> bool {
        let s = self.0.lock().unwrap();
        s.deny_import
            .as_ref()
            .is_none_or(|d| !prefix.to_string().starts_with(d.as_str()))
    }
}

/// 10.0.0.1 (AS 64512) ── 10.0.0.2 (AS 65002, policy `Switch`) ── 10.0.0.3 (AS 65003), eBGP.
fn chain_with_switch() -> (Net, Switch) {
    let mut n = Net::default();
    n.add("10.0.0.1", 64512, |_| {});
    n.add("10.0.0.2", 65002, |_| {});
    n.add("10.0.0.3", 65003, |_| {});
    n.peer("10.0.0.1", "10.0.0.2", 65002, |_| {});
    n.peer("10.0.0.2", "10.0.0.1", 64512, |_| {});
    n.peer("10.0.0.2", "10.0.0.3", 65003, |_| {});
    n.peer("10.0.0.3", "10.0.0.2", 65002, |_| {});
    let sw = Switch::default();
    n.node("10.0.0.2").set_policy(Box::new(sw.clone()));
    n.run();
    let now = n.now;
    n.node("10.0.0.1")
        .originate(net("10.244.1.0/26"), LocalRoute::default(), now);
    n.node("10.0.0.1")
        .originate(net("10.244.2.0/26"), LocalRoute::default(), now);
    n.node("10.0.0.2")
        .originate(net("10.245.0.0/26"), LocalRoute::default(), now);
    n.run();
    (n, sw)
}

#[test]
fn export_policy_sees_where_a_route_came_from() {
    let (n, sw) = chain_with_switch();
    let s = sw.0.lock().unwrap();
    assert_eq!(s.learned_from[&net("10.244.1.0/26")], Some(ip("10.0.0.1")));
    assert_eq!(s.learned_from[&net("10.245.0.0/26")], None);
    drop(s);
    assert!(n.route("10.0.0.3", "10.244.1.0/26").is_some());
    assert!(n.route("10.0.0.3", "10.245.0.0/26").is_some());
}

#[test]
fn policy_changed_reexports_changed_and_withdraws_filtered_routes() {
    let (mut n, sw) = chain_with_switch();
    sw.set(|s| {
        s.deny_export = Some("10.244.1.".into());
        s.tag_exports = true;
    });
    n.log.clear();
    let now = n.now;
    n.node("10.0.0.2").policy_changed(now);
    n.run();
    assert!(n.route("10.0.0.3", "10.244.1.0/26").is_none());
    let out = n.nodes[&ip("10.0.0.2")]
        .adj_rib_out(ip("10.0.0.3"))
        .unwrap();
    assert!(!out.contains_key(&net("10.244.1.0/26")));
    // Changed attributes (the tag) were re-sent for the routes still exported.
    for p in ["10.244.2.0/26", "10.245.0.0/26"] {
        assert_eq!(
            n.route("10.0.0.3", p).unwrap().attrs.communities,
            vec![0xfc00_0002]
        );
    }
    // The same policy again changes nothing: no UPDATE leaves 10.0.0.2.
    n.log.clear();
    n.node("10.0.0.2").policy_changed(now);
    n.run();
    let updates = n
        .log
        .iter()
        .filter(|(x, o)| {
            *x == ip("10.0.0.2") && matches!(o, Output::Send { bytes, .. } if bytes[18] == 2)
        })
        .count();
    assert_eq!(updates, 0);
    // Lifting the filter brings the route back.
    sw.set(|s| s.deny_export = None);
    n.node("10.0.0.2").policy_changed(now);
    n.run();
    assert!(n.route("10.0.0.3", "10.244.1.0/26").is_some());
}

#[test]
fn policy_changed_refreshes_imports_from_peers() {
    let (mut n, sw) = chain_with_switch();
    assert!(n.route("10.0.0.2", "10.244.1.0/26").is_some());
    sw.set(|s| s.deny_import = Some("10.244.1.".into()));
    n.log.clear();
    let now = n.now;
    n.node("10.0.0.2").policy_changed(now);
    n.run();
    // A ROUTE-REFRESH request (type 5, subtype 0) per family to each peer.
    let requests = n
        .log
        .iter()
        .filter(|(x, o)| {
            *x == ip("10.0.0.2")
                && matches!(o, Output::Send { bytes, .. } if bytes[18] == 5 && bytes[21] == 0)
        })
        .count();
    assert_eq!(requests, 4);
    // The route accepted before is now rejected: gone here and withdrawn downstream.
    assert!(n.route("10.0.0.2", "10.244.1.0/26").is_none());
    assert!(
        n.nodes[&ip("10.0.0.2")]
            .rib()
            .paths(&net("10.244.1.0/26"))
            .is_empty()
    );
    assert!(n.route("10.0.0.3", "10.244.1.0/26").is_none());
    assert!(n.route("10.0.0.2", "10.244.2.0/26").is_some());
    // Accepting again brings it back through a new refresh.
    sw.set(|s| s.deny_import = None);
    n.node("10.0.0.2").policy_changed(now);
    n.run();
    assert!(n.route("10.0.0.2", "10.244.1.0/26").is_some());
    assert!(n.route("10.0.0.3", "10.244.1.0/26").is_some());
}

fn refresh_msg(subtype: u8) -> Vec<u8> {
    Message::RouteRefresh(RouteRefresh {
        afi_safi: AfiSafi::IPV4_UNICAST,
        subtype,
    })
    .encode(WireOptions::default())
    .unwrap()
}

#[test]
fn enhanced_refresh_removes_routes_not_readvertised() {
    let mut n = ebgp_pair();
    let (a, c) = ("10.0.0.1", "10.0.0.3");
    let now = n.now;
    for p in ["10.245.1.0/26", "10.245.2.0/26"] {
        n.node(c).originate(net(p), LocalRoute::default(), now);
    }
    n.run();
    assert!(n.route(a, "10.245.1.0/26").is_some());
    let ac = n.conn(a, c);
    // BoRR, only 10.245.2.0/26 again, EoRR.
    n.node(a).received(ac, &refresh_msg(1), now);
    let again = raw_update(
        "40 01 01 00  40 02 06 02 01 0000fde9  40 03 04 0a000003",
        &[26, 10, 245, 2, 0],
    );
    n.node(a).received(ac, &again, now);
    assert!(n.route(a, "10.245.1.0/26").is_some());
    n.node(a).received(ac, &refresh_msg(2), now);
    n.run();
    assert!(n.route(a, "10.245.1.0/26").is_none());
    assert!(n.route(a, "10.245.2.0/26").is_some());
    // A BoRR whose EoRR never comes: the stale routes go after stale_routes_time.
    n.node(a).received(ac, &refresh_msg(1), now);
    n.run();
    assert!(n.route(a, "10.245.2.0/26").is_some());
    n.advance(361);
    assert!(n.route(a, "10.245.2.0/26").is_none());
}

#[test]
fn answering_a_refresh_is_bracketed_by_borr_and_eorr() {
    let mut n = ebgp_pair();
    let (a, c) = ("10.0.0.1", "10.0.0.3");
    let now = n.now;
    n.node(a)
        .originate(net("10.244.1.0/26"), LocalRoute::default(), now);
    n.run();
    n.log.clear();
    let ac = n.conn(a, c);
    n.node(a).received(ac, &refresh_msg(0), now);
    n.run();
    let kinds: Vec<(u8, u8)> = n
        .log
        .iter()
        .filter_map(|(x, o)| match o {
            Output::Send { bytes, .. } if *x == ip(a) => {
                Some((bytes[18], bytes.get(21).copied().unwrap_or(0)))
            }
            _ => None,
        })
        .filter(|k| k.0 == 2 || k.0 == 5)
        .collect();
    assert_eq!(kinds[0], (5, 1));
    assert_eq!(kinds[1].0, 2);
    assert_eq!(kinds[kinds.len() - 1], (5, 2));
}

fn raw_withdraw(nlri: &[u8]) -> Vec<u8> {
    let mut body = (nlri.len() as u16).to_be_bytes().to_vec();
    body.extend_from_slice(nlri);
    body.extend_from_slice(&[0, 0]);
    let mut v = vec![0xff; 16];
    v.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
    v.push(2);
    v.extend_from_slice(&body);
    v
}

/// 10.0.0.1 (AS 64512) ── 10.0.0.2 (AS 65002) ── 10.0.0.3 (AS 65003), eBGP, no policy.
fn chain() -> Net {
    let mut n = Net::default();
    n.add("10.0.0.1", 64512, |_| {});
    n.add("10.0.0.2", 65002, |_| {});
    n.add("10.0.0.3", 65003, |_| {});
    n.peer("10.0.0.1", "10.0.0.2", 65002, |_| {});
    n.peer("10.0.0.2", "10.0.0.1", 64512, |_| {});
    n.peer("10.0.0.2", "10.0.0.3", 65003, |_| {});
    n.peer("10.0.0.3", "10.0.0.2", 65002, |_| {});
    n.run();
    n
}

/// An UPDATE from 10.0.0.1 for 10.9.0.0/24 tagged with `community`.
fn tagged(community: &str) -> Vec<u8> {
    raw_update(
        &format!("40 01 01 00  40 02 06 02 01 0000fc00  40 03 04 0a000001  c0 08 04 {community}"),
        &[24, 10, 9, 0],
    )
}

#[test]
fn changes_within_one_read_reach_the_next_peer_in_order() {
    let mut n = chain();
    let c = n.conn("10.0.0.2", "10.0.0.1");
    let now = n.now;
    // Announced and withdrawn in one read: never seen downstream, or gone again.
    let mut read = tagged("fc000001");
    read.extend(raw_withdraw(&[24, 10, 9, 0]));
    n.node("10.0.0.2").received(c, &read, now);
    n.run();
    assert!(n.route("10.0.0.2", "10.9.0.0/24").is_none());
    assert!(n.route("10.0.0.3", "10.9.0.0/24").is_none());
    // Changed, withdrawn, announced again, changed back, in one read: the last one holds.
    let mut read = tagged("fc000002");
    read.extend(tagged("fc000003"));
    read.extend(raw_withdraw(&[24, 10, 9, 0]));
    read.extend(tagged("fc000003"));
    read.extend(tagged("fc000002"));
    n.node("10.0.0.2").received(c, &read, now);
    n.run();
    let r = n.route("10.0.0.3", "10.9.0.0/24").unwrap();
    assert_eq!(r.attrs.communities, vec![0xfc00_0002]);
    // Withdrawn then announced in one read.
    let mut read = raw_withdraw(&[24, 10, 9, 0]);
    read.extend(tagged("fc000004"));
    n.node("10.0.0.2").received(c, &read, now);
    n.run();
    let r = n.route("10.0.0.3", "10.9.0.0/24").unwrap();
    assert_eq!(r.attrs.communities, vec![0xfc00_0004]);
    let out = n.nodes[&ip("10.0.0.2")]
        .adj_rib_out(ip("10.0.0.3"))
        .unwrap();
    assert_eq!(out[&net("10.9.0.0/24")].communities, vec![0xfc00_0004]);
}

#[test]
fn second_path_takes_over_and_session_loss_withdraws_downstream() {
    // 10.0.0.2 hears 10.9.0.0/24 from 10.0.0.1 and from 10.0.0.4 (longer AS path): the
    // shorter wins, the other takes over when it is withdrawn, and when 10.0.0.4 is removed
    // the prefix is withdrawn from 10.0.0.3.
    let mut n = chain();
    n.add("10.0.0.4", 64514, |_| {});
    n.peer("10.0.0.4", "10.0.0.2", 65002, |_| {});
    n.peer("10.0.0.2", "10.0.0.4", 64514, |_| {});
    n.run();
    let now = n.now;
    n.node("10.0.0.1")
        .originate(net("10.9.0.0/24"), LocalRoute::default(), now);
    n.run();
    let c4 = n.conn("10.0.0.2", "10.0.0.4");
    let longer = raw_update(
        "40 01 01 00  40 02 0a 02 02 0000fc02 0000fc02  40 03 04 0a000004",
        &[24, 10, 9, 0],
    );
    n.node("10.0.0.2").received(c4, &longer, now);
    n.run();
    assert_eq!(
        n.nodes[&ip("10.0.0.2")]
            .rib()
            .paths(&net("10.9.0.0/24"))
            .len(),
        2
    );
    assert_eq!(
        n.route("10.0.0.2", "10.9.0.0/24").unwrap().peer,
        ip("10.0.0.1")
    );
    n.node("10.0.0.1").withdraw(net("10.9.0.0/24"), now);
    n.run();
    assert_eq!(
        n.route("10.0.0.2", "10.9.0.0/24").unwrap().peer,
        ip("10.0.0.4")
    );
    assert_eq!(
        n.route("10.0.0.3", "10.9.0.0/24").unwrap().next_hop,
        ip("10.0.0.2")
    );
    n.node("10.0.0.2").remove_peer(ip("10.0.0.4"), now);
    n.run();
    assert!(n.route("10.0.0.2", "10.9.0.0/24").is_none());
    assert!(n.route("10.0.0.3", "10.9.0.0/24").is_none());
    assert!(n.nodes[&ip("10.0.0.2")].rib().is_empty());
}

#[test]
fn bulk_routes_are_packed_and_a_mass_withdrawal_leaves_the_rest() {
    let mut n = mesh_pair();
    let now = n.now;
    let p = |i: u32| IpNet::new(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + (i << 6))), 26).unwrap();
    n.log.clear();
    n.node("10.0.0.1")
        .originate_all((0..20_000).map(|i| (p(i), LocalRoute::default())), now);
    n.run();
    assert_eq!(n.kernel[&ip("10.0.0.2")].len(), 20_000);
    // 5-byte NLRI, one attribute set: well over 700 prefixes per 4 KiB UPDATE.
    let updates: usize = n
        .log
        .iter()
        .filter_map(|(a, o)| match o {
            Output::Send { bytes, .. } if *a == ip("10.0.0.1") => Some(bytes),
            _ => None,
        })
        .map(|b| {
            let mut i = 0;
            let mut k = 0;
            while i + 19 <= b.len() {
                k += usize::from(b[i + 18] == 2);
                i += usize::from(u16::from_be_bytes([b[i + 16], b[i + 17]]));
            }
            k
        })
        .sum();
    assert!(updates <= 20_000 / 700 + 1, "{updates} UPDATEs");
    // Withdraw all but 100 (the tables shrink), then the rest are still found and go.
    n.node("10.0.0.1").withdraw_all((100..20_000).map(p), now);
    n.run();
    assert_eq!(n.kernel[&ip("10.0.0.2")].len(), 100);
    assert_eq!(n.nodes[&ip("10.0.0.2")].rib().len(), 100);
    assert!(n.route("10.0.0.2", &p(99).to_string()).is_some());
    n.node("10.0.0.1").withdraw_all((0..100).map(p), now);
    n.run();
    assert!(n.kernel[&ip("10.0.0.2")].is_empty());
    assert!(n.nodes[&ip("10.0.0.2")].rib().is_empty());
    assert!(n.nodes[&ip("10.0.0.1")].rib().is_empty());
}
