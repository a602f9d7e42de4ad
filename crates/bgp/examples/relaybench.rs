//! In-process version of bgpbench's topology (issue 6), to profile the speaker core alone:
//!
//! ```text
//!  sender (AS 65001) ──eBGP──▶ DUT (AS 65002) ──eBGP──▶ receiver (AS 65003)
//! ```
//! The sender's UPDATEs (N /26s, 4 KiB UPDATEs with one attribute set) are captured first,
//! then fed to the DUT in 64 KiB reads as calico-bgp-io does; the time is the DUT's alone
//! (feeding, deciding, encoding what goes to the receiver). The receiver decodes the DUT's
//! bytes afterwards to check that all N arrived (and then left). The RSS growth of this
//! process while the DUT holds the routes approximates bgpbench's memory per route.
//!
//! `cargo run --release -p calico-bgp --example relaybench -- 100000 [reps]`

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use calico_bgp::speaker::{ConnId, Output, PeerConfig, Speaker, SpeakerConfig};
use calico_bgp::wire::{
    AsPath, Message, Origin, PathAttributes, Update, WireOptions, decode_message,
};
use ipnet::IpNet;

const NOW: Duration = Duration::ZERO;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

struct Lab {
    nodes: Vec<(IpAddr, Speaker)>,
    /// (node index, conn) ↔ (node index, conn)
    links: Vec<((usize, ConnId), (usize, ConnId))>,
}

impl Lab {
    fn peer_of(&self, i: usize, c: ConnId) -> Option<(usize, ConnId)> {
        self.links.iter().find_map(|(a, b)| {
            if *a == (i, c) {
                Some(*b)
            } else if *b == (i, c) {
                Some(*a)
            } else {
                None
            }
        })
    }

    /// Deliver everything until quiet.
    fn pump(&mut self) {
        loop {
            let mut any = false;
            for i in 0..self.nodes.len() {
                while let Some(o) = self.nodes[i].1.poll_output() {
                    any = true;
                    self.deliver(i, o);
                }
            }
            if !any {
                return;
            }
        }
    }

    fn deliver(&mut self, i: usize, o: Output) {
        match o {
            Output::Connect { conn, peer, .. } => {
                let me = self.nodes[i].0;
                let Some(j) = self.nodes.iter().position(|n| n.0 == peer) else {
                    return;
                };
                match self.nodes[j].1.accepted(me, peer, NOW) {
                    Some(jc) => {
                        self.links.push(((i, conn), (j, jc)));
                        self.nodes[i].1.connected(conn, me, NOW);
                    }
                    None => self.nodes[i].1.connect_failed(conn, NOW),
                }
            }
            Output::Send { conn, bytes } => {
                if let Some((j, jc)) = self.peer_of(i, conn) {
                    self.nodes[j].1.received(jc, &bytes, NOW);
                }
            }
            _ => {}
        }
    }
}

fn speaker(asn: u32, addr: Ipv4Addr) -> Speaker {
    let mut c = SpeakerConfig::new(asn, addr);
    c.graceful_restart = None;
    Speaker::new(c)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let reps: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    for _ in 0..reps {
        one(n);
    }
}

fn one(n: u32) {
    let (s, d, r) = (
        Ipv4Addr::new(10, 77, 0, 1),
        Ipv4Addr::new(10, 77, 0, 2),
        Ipv4Addr::new(10, 77, 0, 3),
    );
    let mut dut = speaker(65002, d);
    for (a, asn) in [(s, 65001), (r, 65003)] {
        let mut p = PeerConfig::new(a.into(), asn);
        p.passive = true;
        dut.add_peer(p, NOW);
    }
    let mut snd = speaker(65001, s);
    snd.add_peer(PeerConfig::new(d.into(), 65002), NOW);
    let mut rcv = speaker(65003, r);
    rcv.add_peer(PeerConfig::new(d.into(), 65002), NOW);
    let mut lab = Lab {
        nodes: vec![(s.into(), snd), (d.into(), dut), (r.into(), rcv)],
        links: Vec::new(),
    };
    lab.pump();
    let dut_from_sender = lab
        .links
        .iter()
        .find_map(|(a, b)| (a.0 == 0 && b.0 == 1).then_some(b.1))
        .expect("sender link");
    let prefixes: Vec<IpNet> = (0..n)
        .map(|i| IpNet::new(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + (i << 6))), 26).expect("/26"))
        .collect();

    // The sender's UPDATEs, built directly (as bgpbench's raw sender does) so that the
    // heap does not grow before the measurement.
    let attrs = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::sequence(vec![65001])),
        next_hop: Some(s),
        ..Default::default()
    };
    let opts = WireOptions {
        four_octet_as: true,
    };
    let mut ups = Vec::new();
    let mut wds = Vec::new();
    for chunk in prefixes.chunks(800) {
        let u = Update {
            attrs: attrs.clone(),
            nlri: chunk.to_vec(),
            ..Default::default()
        };
        ups.extend(Message::Update(u).encode(opts).expect("encode"));
        let w = Update {
            withdrawn: chunk.to_vec(),
            ..Default::default()
        };
        wds.extend(Message::Update(w).encode(opts).expect("encode"));
    }
    drop(prefixes);

    let feed = |lab: &mut Lab, bytes: &[u8]| -> (Duration, Vec<u8>) {
        let mut out = Vec::new();
        let t = Instant::now();
        for chunk in bytes.chunks(65536) {
            lab.nodes[1].1.received(dut_from_sender, chunk, NOW);
            while let Some(o) = lab.nodes[1].1.poll_output() {
                if let Output::Send { bytes, .. } = o {
                    out.extend_from_slice(&bytes);
                }
            }
        }
        (t.elapsed(), out)
    };
    let rss0 = rss_kib();
    let (t_conv, out) = feed(&mut lab, &ups);
    let rss1 = rss_kib();
    let (have, ups_out) = count(&out, HashSet::new());
    drop(out);
    let (t_wd, out) = feed(&mut lab, &wds);
    let (left, updates) = count(&out, have.clone());
    println!(
        "N={n}: converge {:.1} ms, withdraw {:.1} ms, RSS {:.0} B/route; receiver got {} in {ups_out} UPDATEs, then {} left after {updates}",
        t_conv.as_secs_f64() * 1e3,
        t_wd.as_secs_f64() * 1e3,
        (rss1.saturating_sub(rss0) as f64 * 1024.0) / f64::from(n),
        have.len(),
        left.len(),
    );
}

/// Apply the UPDATEs in `bytes` to a set of prefixes.
fn count(bytes: &[u8], mut have: HashSet<IpNet>) -> (HashSet<IpNet>, usize) {
    let mut i = 0;
    let mut updates = 0;
    while i + 19 <= bytes.len() {
        let len = usize::from(u16::from_be_bytes([bytes[i + 16], bytes[i + 17]]));
        let Some(frame) = bytes.get(i..i + len) else {
            break;
        };
        i += len;
        if let Ok(d) = decode_message(
            frame,
            WireOptions {
                four_octet_as: true,
            },
        ) && let Message::Update(u) = d.message
        {
            updates += 1;
            for w in u.withdrawn_all() {
                have.remove(w);
            }
            have.extend(u.nlri.iter().copied());
        }
    }
    (have, updates)
}
