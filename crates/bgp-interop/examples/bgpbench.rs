//! bgpbench: route propagation through a device under test (issue 6).
//!
//! ```text
//!  sender (raw, AS 65001) ──eBGP──▶ DUT (AS 65002) ──eBGP──▶ receiver (raw, AS 65003)
//!  node 1: 10.77.0.1                 node 2: 10.77.0.2          node 3: 10.77.0.3
//! ```
//! Sender and receiver are the harness' raw peers: the sender writes N /26 routes packed into
//! 4 KiB UPDATEs as fast as TCP takes them, the receiver decodes every UPDATE and timestamps
//! the moment it holds all N (and, after the withdrawal, none). The DUT is BIRD 2, FRR bgpd or
//! GoBGP or calico-rs (calico-bgp driven by calico-bgp-io, in a child process of this
//! program so that its RSS is its own), kernel installation off for all (FRR runs without
//! zebra, GoBGP has no FIB), default timers otherwise.
//!
//! Figures: session establishment (TCP connect → KEEPALIVE), convergence (first UPDATE written
//! → last route at the receiver), withdrawal (first withdrawal written → last withdrawal at the
//! receiver), DUT RSS growth per route. Medians over `--reps` runs, DUTs interleaved.
//!
//! `cargo run --release -p calico-bgp-interop --example bgpbench -- [--sizes 1000,10000,100000]
//!  [--reps 3] [--duts bird,frr,gobgp,calico]` (root; namespaces only).

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use calico_bgp::speaker::{PeerConfig as CalicoPeer, SpeakerConfig};
use calico_bgp_interop::msg::{self, UPDATE};
use calico_bgp_interop::{Daemon, Kind, Lab, Neighbor, PeerConfig, RawPeer};
use calico_bgp_io::runtime::{RuntimeConfig, SpeakerHandle};
use ipnet::Ipv4Net;

const SENDER_AS: u32 = 65001;
const DUT_AS: u32 = 65002;
const RECEIVER_AS: u32 = 65003;
const HOLD: u16 = 90;
const T: Duration = Duration::from_secs(20);
const PHASE_LIMIT: Duration = Duration::from_secs(300);

/// A device under test.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dut {
    Daemon(Kind),
    /// calico-bgp + calico-bgp-io, in a child process of this program (so its RSS is its own).
    Calico,
}

impl Dut {
    fn name(self) -> &'static str {
        match self {
            Dut::Daemon(k) => k.name(),
            Dut::Calico => "calico-rs",
        }
    }
}

/// A running DUT.
enum Running {
    Daemon(Daemon),
    Calico(std::process::Child),
}

impl Running {
    fn rss_kib(&self) -> anyhow::Result<u64> {
        match self {
            Running::Daemon(d) => Ok(d.rss_kib()?),
            Running::Calico(c) => {
                let s = std::fs::read_to_string(format!("/proc/{}/status", c.id()))?;
                s.lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.split_whitespace().next())
                    .and_then(|v| v.parse().ok())
                    .context("VmRSS of the calico-rs DUT")
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Running::Calico(c) = self {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Child mode: run calico-rs' speaker as the DUT until stdin closes.
fn serve_calico(args: &[String]) -> anyhow::Result<()> {
    let [ns, addr] = args else {
        bail!("--serve-calico NETNS_PATH ADDRESS");
    };
    let addr: Ipv4Addr = addr.parse().context("DUT address")?;
    let mut sc = SpeakerConfig::new(DUT_AS, addr);
    sc.graceful_restart = None;
    let mut rc = RuntimeConfig::new(sc);
    for (i, asn) in [(1u8, SENDER_AS), (3, RECEIVER_AS)] {
        let o = addr.octets();
        let mut p = CalicoPeer::new(Ipv4Addr::new(o[0], o[1], o[2], i).into(), asn);
        p.passive = true;
        p.hold_time = HOLD;
        rc.peers.push(p);
    }
    rc.netns = Some(ns.into());
    rc.install_routes = false;
    rc.local_subnets = Some(Vec::new());
    let h = SpeakerHandle::spawn(rc)?;
    println!("ready");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    h.stop();
    Ok(())
}

fn start_dut(
    dut: Dut,
    node: &calico_bgp_interop::Node,
    cfg: PeerConfig,
) -> anyhow::Result<Running> {
    match dut {
        Dut::Daemon(k) => Ok(Running::Daemon(Daemon::start(k, node, cfg)?)),
        Dut::Calico => {
            use std::io::BufRead;
            let mut c = std::process::Command::new(std::env::current_exe()?)
                .args([
                    "--serve-calico",
                    &node.path().display().to_string(),
                    &node.addr().to_string(),
                ])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()?;
            let out = c.stdout.take().context("child stdout")?;
            let mut line = String::new();
            std::io::BufReader::new(out).read_line(&mut line)?;
            if line.trim() != "ready" {
                let _ = c.kill();
                bail!("calico-rs DUT did not start");
            }
            Ok(Running::Calico(c))
        }
    }
}

struct Run {
    establish: Duration,
    converge: Duration,
    withdraw: Duration,
    rss_per_route: f64,
}

enum Ev {
    All(Instant),
    None(Instant),
}

fn routes(n: usize) -> Vec<Ipv4Net> {
    (0..n as u32)
        .map(|i| Ipv4Net::new(Ipv4Addr::from(0x0a00_0000 + (i << 6)), 26).expect("/26"))
        .collect()
}

fn one(kind: Dut, n: usize) -> anyhow::Result<Run> {
    let mut lab = Lab::new()?;
    let (s, d, r) = (lab.add_node()?, lab.add_node()?, lab.add_node()?);
    let (ns, nd, nr) = (lab.node(s), lab.node(d), lab.node(r));
    let mut cfg = PeerConfig::new(DUT_AS, nd.addr())
        .neighbor(Neighbor::new(ns.addr(), SENDER_AS).passive())
        .neighbor(Neighbor::new(nr.addr(), RECEIVER_AS).passive());
    cfg.kernel = false;
    cfg.hold_time = HOLD;
    let dut = start_dut(kind, nd, cfg)?;

    // Receiver first, so it is Established before any route exists.
    let t0 = Instant::now();
    let mut rx = RawPeer::connect(nr.ns(), nd.addr(), T)?;
    rx.handshake(RECEIVER_AS, HOLD, nr.addr(), T)
        .context("receiver handshake")?;
    let establish = t0.elapsed();
    let mut tx = RawPeer::connect(ns.ns(), nd.addr(), T)?;
    tx.handshake(SENDER_AS, HOLD, ns.addr(), T)
        .context("sender handshake")?;
    // Drain whatever the DUT sends the sender.
    let stop = Arc::new(AtomicBool::new(false));
    let mut drain = tx.try_clone()?;
    let stop2 = stop.clone();
    let drainer = std::thread::spawn(move || {
        while !stop2.load(Ordering::Relaxed) {
            if let Ok(None) = drain.recv(Duration::from_millis(200)) {
                break;
            }
        }
    });
    // Receiver thread: holds the set of routes, reports when it reaches N and then 0.
    let (evtx, evrx) = mpsc::channel();
    let stop3 = stop.clone();
    let mut rx_w = rx.try_clone()?;
    let receiver = std::thread::spawn(move || {
        let mut have: HashSet<Ipv4Net> = HashSet::new();
        let mut full = false;
        let mut last_ka = Instant::now();
        while !stop3.load(Ordering::Relaxed) {
            if last_ka.elapsed() > Duration::from_secs(10) {
                let _ = rx_w.send(&msg::keepalive());
                last_ka = Instant::now();
            }
            match rx.recv(Duration::from_millis(200)) {
                Ok(None) => break,
                Ok(Some(m)) if m.kind == UPDATE => {
                    let Some((w, a)) = msg::update_prefixes(&m.body) else {
                        continue;
                    };
                    for p in w {
                        have.remove(&p);
                    }
                    have.extend(a);
                    if !full && have.len() >= n {
                        full = true;
                        let _ = evtx.send(Ev::All(Instant::now()));
                    } else if full && have.is_empty() {
                        let _ = evtx.send(Ev::None(Instant::now()));
                        full = false;
                    }
                }
                Ok(Some(_)) | Err(_) => {}
            }
        }
    });
    std::thread::sleep(Duration::from_millis(500));
    let rss0 = dut.rss_kib()?;

    let nets = routes(n);
    let attrs = msg::attrs(&[SENDER_AS], ns.addr());
    let ups: Vec<u8> = msg::updates(&attrs, &nets).concat();
    let wds: Vec<u8> = msg::withdrawals(&nets).concat();

    let start = Instant::now();
    tx.send(&ups)?;
    let converge = wait(&evrx, &mut tx, true)?.duration_since(start);
    std::thread::sleep(Duration::from_millis(300));
    let rss1 = dut.rss_kib()?;
    let start = Instant::now();
    tx.send(&wds)?;
    let withdraw = wait(&evrx, &mut tx, false)?.duration_since(start);

    stop.store(true, Ordering::Relaxed);
    let _ = drainer.join();
    let _ = receiver.join();
    drop(dut);
    Ok(Run {
        establish,
        converge,
        withdraw,
        rss_per_route: (rss1.saturating_sub(rss0) as f64 * 1024.0) / n as f64,
    })
}

fn wait(evrx: &mpsc::Receiver<Ev>, tx: &mut RawPeer, all: bool) -> anyhow::Result<Instant> {
    let start = Instant::now();
    while start.elapsed() < PHASE_LIMIT {
        match evrx.recv_timeout(Duration::from_secs(5)) {
            Ok(Ev::All(t)) if all => return Ok(t),
            Ok(Ev::None(t)) if !all => return Ok(t),
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Timeout) => tx.send(&msg::keepalive())?,
            Err(e) => bail!("receiver gone: {e}"),
        }
    }
    bail!(
        "no {} at the receiver within {PHASE_LIMIT:?}",
        if all { "full table" } else { "empty table" }
    )
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        f64::NAN
    } else {
        v[v.len() / 2]
    }
}

fn main() -> anyhow::Result<()> {
    let mut sizes = vec![1000, 10_000, 100_000];
    let mut reps = 3;
    let mut duts = vec![
        Dut::Daemon(Kind::Bird),
        Dut::Daemon(Kind::Frr),
        Dut::Daemon(Kind::Gobgp),
        Dut::Calico,
    ];
    let all: Vec<String> = std::env::args().skip(1).collect();
    if all.first().map(String::as_str) == Some("--serve-calico") {
        return serve_calico(&all[1..]);
    }
    let mut args = all.into_iter();
    while let Some(a) = args.next() {
        let v = args.next().with_context(|| format!("{a} needs a value"))?;
        match a.as_str() {
            "--sizes" => {
                sizes =
                    calico_bgp_interop::parse_counts("--sizes", &v).map_err(anyhow::Error::msg)?;
            }
            "--reps" => reps = v.parse().context("--reps: expected a count")?,
            "--duts" => {
                duts = v
                    .split(',')
                    .map(|x| match x {
                        "bird" => Ok(Dut::Daemon(Kind::Bird)),
                        "frr" => Ok(Dut::Daemon(Kind::Frr)),
                        "gobgp" => Ok(Dut::Daemon(Kind::Gobgp)),
                        "calico" => Ok(Dut::Calico),
                        o => bail!("--duts: {o:?} is not bird, frr, gobgp or calico"),
                    })
                    .collect::<anyhow::Result<_>>()?;
            }
            o => bail!("unknown argument {o:?}"),
        }
    }
    println!("load average at start: {}", loadavg());
    println!(
        "| N | DUT | establish ms | converge ms | withdraw ms | RSS B/route | ratio to BIRD (converge) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for &n in &sizes {
        let mut res: Vec<(Dut, Vec<Run>)> = duts.iter().map(|k| (*k, Vec::new())).collect();
        for _ in 0..reps {
            for (k, runs) in res.iter_mut() {
                match one(*k, n) {
                    Ok(r) => runs.push(r),
                    Err(e) => eprintln!("{} N={n}: {e:#}", k.name()),
                }
            }
        }
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let bird = res
            .iter()
            .find(|(k, _)| *k == Dut::Daemon(Kind::Bird))
            .map(|(_, r)| median(r.iter().map(|x| ms(x.converge)).collect()));
        for (k, runs) in &res {
            let c = median(runs.iter().map(|x| ms(x.converge)).collect());
            println!(
                "| {n} | {} | {:.1} | {:.1} | {:.1} | {:.0} | {} |",
                k.name(),
                median(runs.iter().map(|x| ms(x.establish)).collect()),
                c,
                median(runs.iter().map(|x| ms(x.withdraw)).collect()),
                median(runs.iter().map(|x| x.rss_per_route).collect()),
                bird.map(|b| format!("{:.2}", c / b))
                    .unwrap_or_else(|| "-".into()),
            );
        }
    }
    println!("load average at end: {}", loadavg());
    Ok(())
}

/// The 1, 5 and 15 minute load averages (the machine is shared: figures need context).
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
