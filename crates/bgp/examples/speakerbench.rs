//! In-process throughput: speaker A originates N prefixes, the bytes go to speaker B, which
//! decodes them, runs the decision process and emits kernel routes; then A withdraws them.
//! Also how many established sessions one speaker holds and what their keepalives cost.
//!
//! `cargo run --release -p calico-bgp --example speakerbench -- 100000 1000`

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use calico_bgp::speaker::{LocalRoute, Output, PeerConfig, Speaker, SpeakerConfig};
use ipnet::IpNet;

fn pump(
    a: &mut Speaker,
    b: &mut Speaker,
    a_addr: IpAddr,
    b_addr: IpAddr,
    links: &mut Vec<(u64, u64)>,
) -> usize {
    // links: (a conn, b conn)
    let now = Duration::ZERO;
    let mut routes = 0;
    loop {
        let mut any = false;
        while let Some(o) = a.poll_output() {
            any = true;
            match o {
                Output::Connect { conn, .. } => {
                    let bc = b.accepted(a_addr, b_addr, now).expect("accepted");
                    links.push((conn, bc));
                    a.connected(conn, a_addr, now);
                }
                Output::Send { conn, bytes } => {
                    if let Some(l) = links.iter().find(|l| l.0 == conn) {
                        b.received(l.1, &bytes, now);
                    }
                }
                _ => {}
            }
        }
        while let Some(o) = b.poll_output() {
            any = true;
            match o {
                Output::Send { conn, bytes } => {
                    if let Some(l) = links.iter().find(|l| l.1 == conn) {
                        a.received(l.0, &bytes, now);
                    }
                }
                Output::Route { .. } => routes += 1,
                _ => {}
            }
        }
        if !any {
            return routes;
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let sessions: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let (a_addr, b_addr) = (
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
    );
    let mut a = Speaker::new(SpeakerConfig::new(64512, Ipv4Addr::new(10, 0, 0, 1)));
    let mut b = Speaker::new(SpeakerConfig::new(64512, Ipv4Addr::new(10, 0, 0, 2)));
    let now = Duration::ZERO;
    a.add_peer(PeerConfig::new(b_addr, 64512), now);
    let mut pb = PeerConfig::new(a_addr, 64512);
    pb.passive = true;
    b.add_peer(pb, now);
    let mut links = Vec::new();
    pump(&mut a, &mut b, a_addr, b_addr, &mut links);
    let prefixes: Vec<IpNet> = (0..n)
        .map(|i| {
            IpNet::new(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + (i << 8))), 24).expect("prefix")
        })
        .collect();
    for batched in [false, true] {
        let t = Instant::now();
        if batched {
            a.originate_all(prefixes.iter().map(|p| (*p, LocalRoute::default())), now);
        } else {
            for p in &prefixes {
                a.originate(*p, LocalRoute::default(), now);
            }
        }
        let t_orig = t.elapsed();
        let got = pump(&mut a, &mut b, a_addr, b_addr, &mut links);
        println!(
            "{n} routes ({}): originate {t_orig:?}, until installed at B {:?} ({got} kernel routes at B)",
            if batched {
                "one batch"
            } else {
                "one UPDATE each"
            },
            t.elapsed()
        );
        let t = Instant::now();
        if batched {
            a.withdraw_all(prefixes.iter().copied(), now);
        } else {
            for p in &prefixes {
                a.withdraw(*p, now);
            }
        }
        let got = pump(&mut a, &mut b, a_addr, b_addr, &mut links);
        println!(
            "{n} withdrawals: {:?} ({got} kernel removals at B)",
            t.elapsed()
        );
    }

    // Many sessions on one speaker: establish, then one keepalive round.
    let mut hub = Speaker::new(SpeakerConfig::new(64512, Ipv4Addr::new(10, 255, 255, 254)));
    let mut spokes: Vec<(IpAddr, Speaker)> = Vec::new();
    let t = Instant::now();
    for i in 0..sessions {
        let addr = IpAddr::V4(Ipv4Addr::from(0x0a01_0000 + i + 1));
        let IpAddr::V4(id) = addr else { continue };
        let mut s = Speaker::new(SpeakerConfig::new(64512, id));
        s.add_peer(
            PeerConfig::new(IpAddr::V4(Ipv4Addr::new(10, 255, 255, 254)), 64512),
            now,
        );
        let mut pc = PeerConfig::new(addr, 64512);
        pc.passive = true;
        hub.add_peer(pc, now);
        spokes.push((addr, s));
    }
    let hub_addr = IpAddr::V4(Ipv4Addr::new(10, 255, 255, 254));
    let mut all_links: Vec<Vec<(u64, u64)>> = vec![Vec::new(); spokes.len()];
    for (i, (addr, s)) in spokes.iter_mut().enumerate() {
        pump(s, &mut hub, *addr, hub_addr, &mut all_links[i]);
    }
    let up = hub
        .peer_status()
        .iter()
        .filter(|p| p.info == "Established")
        .count();
    println!("{sessions} sessions: {up} established in {:?}", t.elapsed());
}
