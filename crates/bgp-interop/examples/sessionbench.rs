//! sessionbench: how many BGP sessions one node holds (issue 6: "at least 1,000 on 2 cores"),
//! calico-rs beside BIRD 2 in the same run.
//!
//! ```text
//!  DUT namespace (10.77.0.1)  ──veth/bridge──  peers namespace (10.77.0.2)
//!  calico-rs or BIRD 2,                          one simulator process holding N iBGP
//!  N configured peers (AS 64512)                 sessions, peer i at 10.64.0.0 + 1 + i
//! ```
//! The peers' namespace has `10.64.0.1/16` on `lo`, which makes every address of the /16 local
//! there (one address command, no ARP entry per peer); the DUT reaches it by one route.
//!
//! Two directions (`--modes`):
//! * `dut-connects`: the DUT opens all N connections (its peers are active, the simulator
//!   listens on `0.0.0.0:179` and tells the peers apart by the local address of each accepted
//!   connection);
//! * `peers-connect`: the DUT is passive and the N simulated peers connect to it at once. Each
//!   peer connects to its own DUT address `10.65.0.0 + 1 + i` (a /16 on the DUT's `lo`), and a
//!   /32 route with `src 10.64.x.y` per peer in the peers' namespace gives every connection its
//!   own source address (std's `TcpStream` cannot bind before connecting). This direction shows
//!   the DUT's accept path (listen backlog).
//!
//! Timers: hold time 30 s, keepalive 10 s on both sides. The simulator answers OPEN with
//! KEEPALIVE, sends KEEPALIVEs every negotiated hold/3, enforces the hold timer, and counts a
//! session Established when the DUT's KEEPALIVE follows the OPENs (one thread per session,
//! blocking sockets with read timeouts, 128 KiB stacks). With `--routes R` every peer then
//! announces R /26s (iBGP: the DUT does not re-advertise them to the other iBGP peers).
//!
//! Figures per run: time from DUT start (`dut-connects`) or from the peers' go
//! (`peers-connect`) to all N Established as the simulator sees them; sessions that dropped
//! (after having been Established) during the whole run; Established sessions at the end of a
//! window of two hold times, as the simulator and the DUT see them; DUT CPU (utime+stime from
//! `/proc/PID/stat`, % of one core) and RSS over that window; listen-queue overflows in the
//! DUT's namespace. Medians over `--reps` runs, DUTs interleaved.
//!
//! `cargo run --release -p calico-bgp-interop --example sessionbench -- [--sizes 250,1000,2000]
//!  [--reps 2] [--duts bird,calico] [--modes dut-connects,peers-connect] [--routes 0]
//!  [--window 60]` (root; namespaces only).

use std::collections::HashSet;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use calico_bgp::speaker::{PeerConfig as CalicoPeer, SpeakerConfig};
use calico_bgp_interop::msg::{self, KEEPALIVE, NOTIFICATION, OPEN, UPDATE};
use calico_bgp_interop::{Lab, Node};
use calico_bgp_io::runtime::{RuntimeConfig, SpeakerHandle};
use ipnet::Ipv4Net;

/// Everyone is in one AS (Calico's default node-to-node mesh is iBGP, AS 64512).
const AS: u32 = 64512;
const HOLD: u16 = 30;
const KEEPALIVE_S: u16 = 10;
/// Peer i is at `PEER_BASE + i` (10.64.0.1 …).
const PEER_BASE: u32 = 0x0a40_0001;
/// In `peers-connect`, peer i connects to `DUT_SIDE_BASE + i` (10.65.0.1 …).
const DUT_SIDE_BASE: u32 = 0x0a41_0001;
/// Announced routes: /26s from 10.128.0.0/9.
const ROUTE_BASE: u32 = 0x0a80_0000;
/// The simulator ends itself after this long whatever happens.
const SIM_LIFETIME: Duration = Duration::from_secs(600);
/// Establishment phase limit.
const EST_LIMIT: Duration = Duration::from_secs(60);

/// Set by the SIGINT/SIGTERM watcher: every loop of the parent checks it and unwinds (the
/// Drop guards then kill the children and remove the namespaces).
static STOP: AtomicBool = AtomicBool::new(false);

fn stopped() -> anyhow::Result<()> {
    if STOP.load(Ordering::Relaxed) {
        bail!("interrupted");
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    DutConnects,
    PeersConnect,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::DutConnects => "dut-connects",
            Mode::PeersConnect => "peers-connect",
        }
    }
    fn parse(s: &str) -> anyhow::Result<Self> {
        match s {
            "dut-connects" => Ok(Mode::DutConnects),
            "peers-connect" => Ok(Mode::PeersConnect),
            o => bail!("mode {o:?}: expected dut-connects or peers-connect"),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dut {
    Bird,
    Calico,
}

impl Dut {
    fn name(self) -> &'static str {
        match self {
            Dut::Bird => "BIRD",
            Dut::Calico => "calico-rs",
        }
    }
}

fn peer_addr(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(PEER_BASE + i)
}

fn dut_side_addr(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(DUT_SIDE_BASE + i)
}

// ───────────────────────────── simulator (child process) ─────────────────────────────

#[derive(Default)]
struct SimStats {
    updates: AtomicU64,
    prefixes: AtomicU64,
    connect_failures: AtomicU64,
}

/// Child mode, run inside the peers' namespace: `--simulate MODE N ROUTES`.
/// stdout: `ready`, `up I`, `down I REASON` (an Established session ended), `fail I REASON`
/// (a connection ended before Established), `stats UPDATES PREFIXES CONNECT_FAILURES`.
/// stdin: `go` (peers-connect: start connecting), `stats`; EOF ends the process.
fn simulate(args: &[String]) -> anyhow::Result<()> {
    let [mode, n, routes] = args else {
        bail!("--simulate MODE N ROUTES");
    };
    let mode = Mode::parse(mode)?;
    let n: u32 = n.parse().context("N")?;
    let routes: u32 = routes.parse().context("ROUTES")?;
    let stats = Arc::new(SimStats::default());
    std::thread::spawn(|| {
        std::thread::sleep(SIM_LIFETIME);
        eprintln!("simulator: lifetime over, exiting");
        std::process::exit(1);
    });
    let deadline = Instant::now() + SIM_LIFETIME;
    if mode == Mode::DutConnects {
        let l = TcpListener::bind("0.0.0.0:179").context("simulator listening on :179")?;
        let st = stats.clone();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(s) = s else { continue };
                let Ok(SocketAddr::V4(local)) = s.local_addr() else {
                    continue;
                };
                let i = u32::from(*local.ip()).wrapping_sub(PEER_BASE);
                if i >= n {
                    continue;
                }
                let st = st.clone();
                let r = std::thread::Builder::new()
                    .stack_size(128 * 1024)
                    .spawn(move || {
                        let (up, why) = session(i, s, routes, &st);
                        report(i, up, &why);
                    });
                if let Err(e) = r {
                    eprintln!("simulator: thread for peer {i}: {e}");
                }
            }
        });
    }
    say("ready");
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        match line.trim() {
            "go" if mode == Mode::PeersConnect => {
                for i in 0..n {
                    let st = stats.clone();
                    let r = std::thread::Builder::new()
                        .stack_size(128 * 1024)
                        .spawn(move || connector(i, routes, &st, deadline));
                    if let Err(e) = r {
                        eprintln!("simulator: thread for peer {i}: {e}");
                    }
                }
            }
            "stats" => say(&format!(
                "stats {} {} {}",
                stats.updates.load(Ordering::Relaxed),
                stats.prefixes.load(Ordering::Relaxed),
                stats.connect_failures.load(Ordering::Relaxed)
            )),
            _ => {}
        }
    }
    std::process::exit(0);
}

fn say(line: &str) {
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "{line}");
    let _ = o.flush();
}

fn report(i: u32, up: bool, why: &str) {
    say(&format!("{} {i} {why}", if up { "down" } else { "fail" }));
}

/// peers-connect: peer `i` connects to its DUT address until the deadline, reconnecting 1 s
/// after a failure or a drop.
fn connector(i: u32, routes: u32, st: &SimStats, deadline: Instant) {
    let to = SocketAddr::from((dut_side_addr(i), 179));
    while Instant::now() < deadline {
        match TcpStream::connect_timeout(&to, Duration::from_secs(10)) {
            Ok(s) => {
                let (up, why) = session(i, s, routes, st);
                report(i, up, &why);
            }
            Err(_) => {
                st.connect_failures.fetch_add(1, Ordering::Relaxed);
            }
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// One BGP session over `s`; returns (was Established, why it ended).
fn session(i: u32, mut s: TcpStream, routes: u32, st: &SimStats) -> (bool, String) {
    let me = peer_addr(i);
    let _ = s.set_nodelay(true);
    if let Err(e) = s.write_all(&msg::open(AS, HOLD, me)) {
        return (false, format!("writing OPEN: {e}"));
    }
    let mut hold = Duration::from_secs(HOLD.into());
    let mut ka = Duration::from_secs(KEEPALIVE_S.into());
    let mut got_open = false;
    let mut up = false;
    let mut last_rx = Instant::now();
    let mut next_ka = Instant::now() + ka;
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    let mut chunk = vec![0u8; 16384];
    loop {
        while buf.len() >= 19 {
            let len = usize::from(u16::from_be_bytes([buf[16], buf[17]]));
            if !(19..=4096).contains(&len) {
                let _ = s.write_all(&msg::notification(1, 2));
                return (up, format!("bad message length {len}"));
            }
            if buf.len() < len {
                break;
            }
            let kind = buf[18];
            let body = &buf[19..len];
            match kind {
                OPEN => {
                    let theirs = body
                        .get(3..5)
                        .map(|b| u16::from_be_bytes([b[0], b[1]]))
                        .unwrap_or(HOLD);
                    let h = HOLD.min(theirs);
                    if h > 0 {
                        hold = Duration::from_secs(h.into());
                        ka = hold / 3;
                    }
                    got_open = true;
                    if let Err(e) = s.write_all(&msg::keepalive()) {
                        return (up, format!("writing KEEPALIVE: {e}"));
                    }
                    next_ka = Instant::now() + ka;
                }
                KEEPALIVE if got_open && !up => {
                    up = true;
                    say(&format!("up {i}"));
                    if routes > 0 {
                        let nets: Vec<Ipv4Net> = (0..routes)
                            .filter_map(|j| {
                                Ipv4Net::new(
                                    Ipv4Addr::from(ROUTE_BASE + ((i * routes + j) << 6)),
                                    26,
                                )
                                .ok()
                            })
                            .collect();
                        let mut attrs = msg::attrs(&[], me);
                        attrs.extend_from_slice(&[0x40, 5, 4, 0, 0, 0, 100]); // LOCAL_PREF 100
                        let ups: Vec<u8> = msg::updates(&attrs, &nets).concat();
                        if let Err(e) = s.write_all(&ups) {
                            return (up, format!("writing UPDATEs: {e}"));
                        }
                    }
                }
                UPDATE => {
                    st.updates.fetch_add(1, Ordering::Relaxed);
                    if let Some((_, a)) = msg::update_counts(body) {
                        st.prefixes.fetch_add(a as u64, Ordering::Relaxed);
                    }
                }
                NOTIFICATION => {
                    let (c, sc) = (
                        body.first().copied().unwrap_or(0),
                        body.get(1).copied().unwrap_or(0),
                    );
                    return (up, format!("NOTIFICATION {c}/{sc} from the DUT"));
                }
                _ => {}
            }
            last_rx = Instant::now();
            buf.drain(..len);
        }
        let now = Instant::now();
        if got_open && now >= next_ka {
            if let Err(e) = s.write_all(&msg::keepalive()) {
                return (up, format!("writing KEEPALIVE: {e}"));
            }
            next_ka = now + ka;
        }
        let hold_at = last_rx + hold;
        if now >= hold_at {
            let _ = s.write_all(&msg::notification(4, 0));
            return (up, "hold timer expired (the DUT went silent)".into());
        }
        let wake = if got_open {
            next_ka.min(hold_at)
        } else {
            hold_at
        };
        let wait = wake
            .saturating_duration_since(now)
            .max(Duration::from_millis(1));
        if s.set_read_timeout(Some(wait)).is_err() {
            return (up, "set_read_timeout".into());
        }
        match s.read(&mut chunk) {
            Ok(0) => return (up, "closed by the DUT".into()),
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return (up, format!("read: {e}")),
        }
    }
}

// ───────────────────────────── calico-rs DUT (child process) ─────────────────────────────

/// Child mode: calico-rs' speaker runtime as the DUT with N peers, until stdin closes.
/// stdin `status` → stdout `established K`.
fn serve_calico(args: &[String]) -> anyhow::Result<()> {
    let [ns, mode, n] = args else {
        bail!("--serve-calico NETNS_PATH MODE N");
    };
    let mode = Mode::parse(mode)?;
    let n: u32 = n.parse().context("N")?;
    let dut = Ipv4Addr::new(10, 77, 0, 1);
    let mut sc = SpeakerConfig::new(AS, dut);
    sc.graceful_restart = None;
    let mut rc = RuntimeConfig::new(sc);
    for i in 0..n {
        let mut p = CalicoPeer::new(peer_addr(i).into(), AS);
        p.passive = mode == Mode::PeersConnect;
        p.hold_time = HOLD;
        p.keepalive_time = Some(KEEPALIVE_S);
        rc.peers.push(p);
    }
    if mode == Mode::DutConnects {
        rc.source = Some(dut.into());
    }
    rc.netns = Some(ns.into());
    rc.install_routes = false;
    rc.local_subnets = Some(Vec::new());
    let h = SpeakerHandle::spawn(rc)?;
    say("ready");
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim() == "status" {
            let rows = h.status();
            let k = rows.iter().filter(|r| r.state == "up").count();
            // The other sessions' states and last errors, most frequent first.
            let mut hist: std::collections::BTreeMap<&str, usize> = Default::default();
            for r in rows.iter().filter(|r| r.state != "up") {
                *hist.entry(r.info.as_str()).or_default() += 1;
            }
            let mut hist: Vec<(&str, usize)> = hist.into_iter().collect();
            hist.sort_by_key(|a| std::cmp::Reverse(a.1));
            let others: Vec<String> = hist
                .iter()
                .take(4)
                .map(|(info, c)| format!("{c}× {info:?}"))
                .collect();
            say(&format!("established {k} {}", others.join(", ")));
        }
    }
    h.stop();
    Ok(())
}

// ───────────────────────────── parent: processes ─────────────────────────────

/// A child process killed on drop.
struct Proc {
    child: Child,
}

impl Proc {
    fn pid(&self) -> u32 {
        self.child.id()
    }
    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU ticks (utime + stime, all threads) of a process.
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let rest = s.rsplit_once(')').map(|x| x.1).context("stat format")?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the command: state(3) … utime(14) stime(15) → indexes 11 and 12.
    let u: u64 = f.get(11).context("utime")?.parse()?;
    let st: u64 = f.get(12).context("stime")?.parse()?;
    Ok(u + st)
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("VmRSS")
}

fn clk_tck() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// TcpExt ListenOverflows + ListenDrops in a namespace.
fn listen_drops(ns: &str) -> u64 {
    let Ok(out) = Command::new("ip")
        .args(["netns", "exec", ns, "cat", "/proc/net/netstat"])
        .output()
    else {
        return 0;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("TcpExt:")).collect();
    let [names, values] = lines[..] else { return 0 };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .filter(|(k, _)| *k == "ListenOverflows" || *k == "ListenDrops")
        .filter_map(|(_, v)| v.parse::<u64>().ok())
        .sum()
}

enum SimEv {
    Ready,
    Up(u32),
    Down(u32, String),
    Fail(u32, String),
    /// (prefixes received, failed connects)
    Stats(u64, u64),
}

/// The simulator child and the events it printed (timestamped on arrival).
struct Sim {
    proc: Proc,
    stdin: ChildStdin,
    ev: mpsc::Receiver<(Instant, SimEv)>,
}

impl Sim {
    fn start(node: &Node, mode: Mode, n: u32, routes: u32) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        let mut child = Command::new("ip")
            .args(["netns", "exec", node.ns()])
            .arg(exe)
            .args([
                "--simulate",
                mode.name(),
                &n.to_string(),
                &routes.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("starting the simulator")?;
        let stdin = child.stdin.take().context("simulator stdin")?;
        let out = child.stdout.take().context("simulator stdout")?;
        let proc = Proc { child };
        let (tx, ev) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let t = Instant::now();
                let mut w = line.splitn(3, ' ');
                let kind = w.next().unwrap_or("");
                let a = w.next().unwrap_or("");
                let rest = w.next().unwrap_or("").to_owned();
                let num = |s: &str| s.parse::<u32>().unwrap_or(u32::MAX);
                let e = match kind {
                    "ready" => SimEv::Ready,
                    "up" => SimEv::Up(num(a)),
                    "down" => SimEv::Down(num(a), rest),
                    "fail" => SimEv::Fail(num(a), rest),
                    "stats" => {
                        let v: Vec<u64> = line
                            .split_whitespace()
                            .skip(1)
                            .filter_map(|x| x.parse().ok())
                            .collect();
                        match v[..] {
                            [_, p, c] => SimEv::Stats(p, c),
                            _ => continue,
                        }
                    }
                    _ => continue,
                };
                if tx.send((t, e)).is_err() {
                    break;
                }
            }
        });
        let sim = Self { proc, stdin, ev };
        let start = Instant::now();
        loop {
            stopped()?;
            match sim.ev.recv_timeout(Duration::from_millis(500)) {
                Ok((_, SimEv::Ready)) => return Ok(sim),
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout)
                    if start.elapsed() < Duration::from_secs(15) => {}
                Err(e) => bail!("simulator not ready: {e}"),
            }
        }
    }

    fn send(&mut self, line: &str) -> anyhow::Result<()> {
        writeln!(self.stdin, "{line}")?;
        self.stdin.flush()?;
        Ok(())
    }
}

/// A running DUT.
enum Running {
    Calico {
        proc: Proc,
        stdin: ChildStdin,
        stdout: BufReader<ChildStdout>,
    },
    Bird {
        proc: Proc,
        dir: tempfile::TempDir,
    },
}

fn bird_config(mode: Mode, n: u32, log: &std::path::Path) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "router id 10.77.0.1;");
    let _ = writeln!(
        s,
        "log \"{}\" {{ warning, error, fatal, bug }};",
        log.display()
    );
    s.push_str("protocol device { scan time 10; }\n");
    s.push_str("template bgp peers {\n");
    match mode {
        Mode::DutConnects => {
            let _ = writeln!(s, "  local 10.77.0.1 as {AS};");
        }
        Mode::PeersConnect => {
            let _ = writeln!(s, "  local as {AS};\n  passive on;");
        }
    }
    let _ = writeln!(
        s,
        "  hold time {HOLD}; keepalive time {KEEPALIVE_S}; connect retry time 5;\n  connect delay time 1; error wait time 1, 4;\n  ipv4 {{ import all; export all; }};\n}}"
    );
    for i in 0..n {
        let _ = writeln!(
            s,
            "protocol bgp p{i} from peers {{ neighbor {} as {AS}; }}",
            peer_addr(i)
        );
    }
    s
}

impl Running {
    fn start(dut: Dut, node: &Node, mode: Mode, n: u32) -> anyhow::Result<Self> {
        match dut {
            Dut::Calico => {
                let mut c = Command::new(std::env::current_exe()?)
                    .args([
                        "--serve-calico",
                        &node.path().display().to_string(),
                        mode.name(),
                        &n.to_string(),
                    ])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()?;
                let stdin = c.stdin.take().context("calico stdin")?;
                let out = c.stdout.take().context("calico stdout")?;
                let proc = Proc { child: c };
                let mut stdout = BufReader::new(out);
                let mut line = String::new();
                stdout.read_line(&mut line)?;
                if line.trim() != "ready" {
                    bail!("calico-rs DUT did not start");
                }
                Ok(Running::Calico {
                    proc,
                    stdin,
                    stdout,
                })
            }
            Dut::Bird => {
                let dir = tempfile::Builder::new().prefix("bgpi-sess-").tempdir()?;
                let cfg = dir.path().join("bird.conf");
                std::fs::write(&cfg, bird_config(mode, n, &dir.path().join("bird.log")))?;
                let sock = dir.path().join("bird.ctl");
                let log = std::fs::File::create(dir.path().join("stdout.log"))?;
                let child = Command::new("ip")
                    .args(["netns", "exec", node.ns(), "/usr/sbin/bird", "-f", "-c"])
                    .arg(&cfg)
                    .arg("-s")
                    .arg(&sock)
                    .arg("-P")
                    .arg(dir.path().join("bird.pid"))
                    .stdin(Stdio::null())
                    .stdout(log.try_clone()?)
                    .stderr(log)
                    .spawn()
                    .context("starting BIRD")?;
                let mut r = Running::Bird {
                    proc: Proc { child },
                    dir,
                };
                // Ready once the control socket answers.
                let start = Instant::now();
                while r.birdc(&["show", "status"]).is_err() {
                    stopped()?;
                    if !r.proc().alive() || start.elapsed() > Duration::from_secs(30) {
                        let Running::Bird { dir, .. } = &r else {
                            bail!("BIRD did not start");
                        };
                        let log = std::fs::read_to_string(dir.path().join("stdout.log"))
                            .unwrap_or_default();
                        bail!("BIRD did not start: {log}");
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(r)
            }
        }
    }

    fn proc(&mut self) -> &mut Proc {
        match self {
            Running::Calico { proc, .. } | Running::Bird { proc, .. } => proc,
        }
    }

    fn pid(&mut self) -> u32 {
        self.proc().pid()
    }

    fn birdc(&self, args: &[&str]) -> anyhow::Result<String> {
        let Running::Bird { dir, .. } = self else {
            bail!("not BIRD");
        };
        let out = Command::new("/usr/sbin/birdc")
            .arg("-s")
            .arg(dir.path().join("bird.ctl"))
            .args(args)
            .output()?;
        if !out.status.success() {
            bail!("birdc: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Routes in the DUT's table (BIRD only: calico-rs' handle has no route count).
    fn routes(&self) -> Option<u64> {
        let out = self.birdc(&["show", "route", "count"]).ok()?;
        out.lines()
            .find(|l| l.contains("routes for"))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }

    /// Established sessions as the DUT reports them.
    fn established(&mut self) -> anyhow::Result<usize> {
        match self {
            Running::Calico { stdin, stdout, .. } => {
                writeln!(stdin, "status")?;
                stdin.flush()?;
                let mut line = String::new();
                stdout.read_line(&mut line)?;
                let rest = line
                    .trim()
                    .strip_prefix("established ")
                    .context("calico-rs status")?;
                let (k, others) = rest.split_once(' ').unwrap_or((rest, ""));
                if !others.is_empty() {
                    eprintln!("    calico-rs sessions not Established: {others}");
                }
                k.parse().context("calico-rs status")
            }
            Running::Bird { .. } => Ok(self
                .birdc(&["show", "protocols"])?
                .lines()
                .filter(|l| l.contains("Established"))
                .count()),
        }
    }
}

// ───────────────────────────── parent: one run ─────────────────────────────

struct Run {
    /// Time to all N Established (None: not within EST_LIMIT).
    establish: Option<Duration>,
    /// Established at the end of the window (simulator view, DUT view).
    up_sim: usize,
    up_dut: usize,
    /// Sessions that ended after having been Established (whole run).
    drops: u64,
    /// Connections that ended before Established, and failed connects (peers-connect).
    fails: u64,
    cpu_pct: f64,
    sim_cpu_pct: f64,
    rss_mib: f64,
    listen_drops: u64,
    prefixes_seen: u64,
    /// Routes in the DUT's table at the end (BIRD only).
    dut_routes: Option<u64>,
}

fn run_ip_batch(node: &Node, lines: &str) -> anyhow::Result<()> {
    let f = tempfile::NamedTempFile::new()?;
    std::fs::write(f.path(), lines)?;
    node.ip(&["-batch", &f.path().display().to_string()])?;
    Ok(())
}

fn one(dut: Dut, mode: Mode, n: u32, routes: u32, window: Duration) -> anyhow::Result<Run> {
    let mut lab = Lab::new()?;
    let (d, s) = (lab.add_node()?, lab.add_node()?);
    let (nd, ns) = (lab.node(d), lab.node(s));
    // Every 10.64.0.0/16 address is local in the peers' namespace.
    ns.ip(&["addr", "add", "10.64.0.1/16", "dev", "lo"])?;
    nd.ip(&[
        "route",
        "add",
        "10.64.0.0/16",
        "via",
        &ns.addr().to_string(),
    ])?;
    if mode == Mode::PeersConnect {
        nd.ip(&["addr", "add", "10.65.0.1/16", "dev", "lo"])?;
        let mut b = String::new();
        for i in 0..n {
            b.push_str(&format!(
                "route add {}/32 via {} src {}\n",
                dut_side_addr(i),
                nd.addr(),
                peer_addr(i)
            ));
        }
        run_ip_batch(ns, &b)?;
    }
    let mut sim = Sim::start(ns, mode, n, routes)?;
    let (t0, mut running) = match mode {
        Mode::DutConnects => {
            let t0 = Instant::now();
            (t0, Running::start(dut, nd, mode, n)?)
        }
        Mode::PeersConnect => {
            let r = Running::start(dut, nd, mode, n)?;
            let t0 = Instant::now();
            sim.send("go")?;
            (t0, r)
        }
    };
    let mut up: HashSet<u32> = HashSet::new();
    let (mut drops, mut fails) = (0u64, 0u64);
    let mut last_reason = String::new();
    let mut establish = None;
    let mut handle = |e: SimEv, t: Instant, up: &mut HashSet<u32>| match e {
        SimEv::Up(i) => {
            up.insert(i);
            if up.len() == n as usize && establish.is_none() {
                establish = Some(t.duration_since(t0));
            }
        }
        SimEv::Down(i, why) => {
            up.remove(&i);
            drops += 1;
            last_reason = format!("peer {i}: {why}");
        }
        SimEv::Fail(i, why) => {
            fails += 1;
            last_reason = format!("peer {i}: {why}");
        }
        SimEv::Ready | SimEv::Stats(..) => {}
    };
    while up.len() < n as usize && t0.elapsed() < EST_LIMIT {
        stopped()?;
        if !running.proc().alive() {
            bail!("{} exited during establishment", dut.name());
        }
        if let Ok((t, e)) = sim.ev.recv_timeout(Duration::from_millis(500)) {
            handle(e, t, &mut up);
        }
    }
    let (pid, spid) = (running.pid(), sim.proc.pid());
    let (c0, s0, w0) = (cpu_ticks(pid)?, cpu_ticks(spid)?, Instant::now());
    let mut rss_max = 0;
    let mut last_sample = Instant::now() - Duration::from_secs(10);
    while w0.elapsed() < window {
        stopped()?;
        if !running.proc().alive() {
            bail!("{} exited during the hold window", dut.name());
        }
        if last_sample.elapsed() >= Duration::from_secs(5) {
            rss_max = rss_max.max(rss_kib(pid)?);
            last_sample = Instant::now();
        }
        if let Ok((t, e)) = sim.ev.recv_timeout(Duration::from_millis(500)) {
            handle(e, t, &mut up);
        }
    }
    let secs = w0.elapsed().as_secs_f64();
    let (c1, s1) = (cpu_ticks(pid)?, cpu_ticks(spid)?);
    rss_max = rss_max.max(rss_kib(pid)?);
    let up_dut = running.established()?;
    let dut_routes = if routes > 0 { running.routes() } else { None };
    sim.send("stats")?;
    let mut prefixes_seen = 0;
    let mut connect_failures = 0;
    let asked = Instant::now();
    while asked.elapsed() < Duration::from_secs(5) {
        match sim.ev.recv_timeout(Duration::from_millis(500)) {
            Ok((_, SimEv::Stats(p, c))) => {
                prefixes_seen = p;
                connect_failures = c;
                break;
            }
            Ok((t, e)) => handle(e, t, &mut up),
            Err(_) => {}
        }
    }
    let tck = clk_tck();
    let run = Run {
        establish,
        up_sim: up.len(),
        up_dut,
        drops,
        fails: fails + connect_failures,
        cpu_pct: (c1 - c0) as f64 / tck / secs * 100.0,
        sim_cpu_pct: (s1 - s0) as f64 / tck / secs * 100.0,
        rss_mib: rss_max as f64 / 1024.0,
        listen_drops: listen_drops(nd.ns()),
        prefixes_seen,
        dut_routes,
    };
    eprintln!(
        "  {} {} N={n}: all up {} | up at end {}/{} (peers/DUT) | drops {} | fails {} | CPU {:.1}% (sim {:.1}%) | RSS {:.1} MiB | listen drops {} {}",
        mode.name(),
        dut.name(),
        run.establish
            .map(|d| format!("{:.2}s", d.as_secs_f64()))
            .unwrap_or_else(|| format!(">{}s", EST_LIMIT.as_secs())),
        run.up_sim,
        run.up_dut,
        run.drops,
        run.fails,
        run.cpu_pct,
        run.sim_cpu_pct,
        run.rss_mib,
        run.listen_drops,
        if last_reason.is_empty() {
            String::new()
        } else {
            format!("| last: {last_reason}")
        }
    );
    // Kill the DUT, then the simulator, then remove the namespaces (drop order).
    drop(running);
    drop(sim);
    drop(lab);
    Ok(run)
}

// ───────────────────────────── parent: main ─────────────────────────────

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// SIGINT/SIGTERM are blocked in every thread and taken by a watcher that sets STOP.
fn watch_signals() -> anyhow::Result<()> {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.thread_block()?;
    std::thread::spawn(move || {
        if set.wait().is_ok() {
            eprintln!("sessionbench: interrupted, cleaning up");
            STOP.store(true, Ordering::Relaxed);
        }
    });
    Ok(())
}

fn nofile_limit() -> Option<u64> {
    std::fs::read_to_string("/proc/self/limits")
        .ok()?
        .lines()
        .find(|l| l.starts_with("Max open files"))?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()
}

fn main() -> anyhow::Result<()> {
    let all: Vec<String> = std::env::args().skip(1).collect();
    match all.first().map(String::as_str) {
        Some("--simulate") => return simulate(&all[1..]),
        Some("--serve-calico") => return serve_calico(&all[1..]),
        _ => {}
    }
    let mut sizes = vec![250u32, 1000, 2000];
    let mut reps = 2;
    let mut duts = vec![Dut::Bird, Dut::Calico];
    let mut modes = vec![Mode::DutConnects, Mode::PeersConnect];
    let mut routes = 0u32;
    let mut window = Duration::from_secs(2 * u64::from(HOLD));
    let mut args = all.into_iter();
    while let Some(a) = args.next() {
        let v = args.next().with_context(|| format!("{a} needs a value"))?;
        match a.as_str() {
            "--sizes" => {
                sizes =
                    calico_bgp_interop::parse_counts("--sizes", &v).map_err(anyhow::Error::msg)?;
                if sizes.iter().any(|&n| n == 0 || n > 60_000) {
                    bail!("--sizes: each size must be 1..=60000");
                }
            }
            "--reps" => reps = v.parse().context("--reps: expected a count")?,
            "--routes" => routes = v.parse().context("--routes: expected a count")?,
            "--window" => {
                window = Duration::from_secs(v.parse().context("--window: expected seconds")?)
            }
            "--duts" => {
                duts = v
                    .split(',')
                    .map(|x| match x {
                        "bird" => Ok(Dut::Bird),
                        "calico" => Ok(Dut::Calico),
                        o => bail!("--duts: {o:?} is not bird or calico"),
                    })
                    .collect::<anyhow::Result<_>>()?;
            }
            "--modes" => {
                modes = v
                    .split(',')
                    .map(Mode::parse)
                    .collect::<anyhow::Result<_>>()?;
            }
            o => bail!("unknown argument {o:?}"),
        }
    }
    if routes > 0
        && sizes
            .iter()
            .any(|&n| u64::from(n) * u64::from(routes) > (1 << 17))
    {
        bail!("--routes: N × routes must stay within 10.128.0.0/9 in /26s (131072)");
    }
    let max = sizes.iter().copied().max().unwrap_or(0);
    if let Some(l) = nofile_limit()
        && l < u64::from(max) + 256
    {
        bail!("open-file limit {l} is below N = {max} (+256): raise it (ulimit -n) before running");
    }
    watch_signals()?;
    eprintln!(
        "sessionbench: hold {HOLD}s keepalive {KEEPALIVE_S}s, window {}s, routes/peer {routes}, open-file limit {:?}",
        window.as_secs(),
        nofile_limit()
    );
    let mut table = Vec::new();
    for &mode in &modes {
        for &n in &sizes {
            let mut res: Vec<(Dut, Vec<Run>)> = duts.iter().map(|k| (*k, Vec::new())).collect();
            for _ in 0..reps {
                for (k, runs) in res.iter_mut() {
                    stopped()?;
                    match one(*k, mode, n, routes, window) {
                        Ok(r) => runs.push(r),
                        Err(e) => {
                            stopped()?;
                            eprintln!("  {} {} N={n}: {e:#}", mode.name(), k.name());
                        }
                    }
                }
            }
            let est = |r: &Run| {
                r.establish
                    .map(|d| d.as_secs_f64())
                    .unwrap_or(f64::INFINITY)
            };
            let bird = res
                .iter()
                .find(|(k, r)| *k == Dut::Bird && !r.is_empty())
                .map(|(_, r)| {
                    (
                        median(r.iter().map(est).collect()),
                        median(r.iter().map(|x| x.cpu_pct).collect()),
                        median(r.iter().map(|x| x.rss_mib).collect()),
                    )
                });
            for (k, runs) in &res {
                if runs.is_empty() {
                    table.push(format!(
                        "| {} | {n} | {} | failed | | | | | | | |",
                        mode.name(),
                        k.name()
                    ));
                    continue;
                }
                let e = median(runs.iter().map(est).collect());
                let c = median(runs.iter().map(|x| x.cpu_pct).collect());
                let m = median(runs.iter().map(|x| x.rss_mib).collect());
                let ratio = bird
                    .map(|(be, bc, bm)| format!("{:.2} / {:.2} / {:.2}", e / be, c / bc, m / bm))
                    .unwrap_or_else(|| "-".into());
                let all =
                    |f: &dyn Fn(&Run) -> String| runs.iter().map(f).collect::<Vec<_>>().join(", ");
                table.push(format!(
                    "| {} | {n} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {ratio} | {} | {} |",
                    mode.name(),
                    k.name(),
                    if e.is_finite() {
                        format!("{e:.2}")
                    } else {
                        format!(">{}", EST_LIMIT.as_secs())
                    },
                    all(&|r| format!("{}/{}", r.up_sim, r.up_dut)),
                    all(&|r| r.drops.to_string()),
                    all(&|r| r.fails.to_string()),
                    c,
                    m,
                    all(&|r| r.listen_drops.to_string()),
                    all(&|r| format!("{:.1}", r.sim_cpu_pct)),
                ));
                if routes > 0 {
                    eprintln!(
                        "  {} {} N={n}: prefixes sent to the peers: {}; routes in the DUT: {}",
                        mode.name(),
                        k.name(),
                        all(&|r| r.prefixes_seen.to_string()),
                        all(&|r| r
                            .dut_routes
                            .map(|x| x.to_string())
                            .unwrap_or_else(|| "not reported".into()))
                    );
                }
            }
        }
    }
    println!(
        "| mode | N | DUT | all Established (s, median) | Established at end, peers/DUT (per rep) | drops (per rep) | failed attempts (per rep) | DUT CPU % of a core (median) | DUT RSS MiB (median) | ratio to BIRD: establish / CPU / RSS | listen-queue drops in DUT ns (per rep) | simulator CPU % (per rep) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for l in table {
        println!("{l}");
    }
    Ok(())
}
