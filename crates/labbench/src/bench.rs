//! The benchmark run: setup, the four benchmarks, the report.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

use crate::floor::{Floor, IptLayout, fake_peer_ip};
use crate::lab::{self, Lab, Prober, cpu_seconds, memory_kb};
use crate::pingpong::Sample;
use crate::resources::{self as res, FLIP_PORT, IPERF_PORT, NS, PP_PORT};
use crate::stats::{median, percentile, range};
use crate::sys::{Children, in_ns, in_ns_stdin, spawn_in_ns, wait_until};

#[derive(clap::Args, Clone, Debug)]
pub struct Options {
    /// Interleaved repetitions of each throughput case.
    #[arg(long, default_value_t = 5)]
    pub tput_reps: usize,
    /// Seconds per iperf3 run.
    #[arg(long, default_value_t = 5)]
    pub tput_secs: u64,
    /// Interleaved repetitions of each request/response measurement.
    #[arg(long, default_value_t = 5)]
    pub rr_reps: usize,
    /// Milliseconds per request/response measurement.
    #[arg(long, default_value_t = 2000)]
    pub rr_ms: u64,
    /// Sizes of the sweep (selector members = policies = N).
    #[arg(long, value_delimiter = ',', default_value = "10,100,1000,10000")]
    pub sizes: Vec<usize>,
    /// The sweep size at which memory and the apply latency are measured.
    #[arg(long, default_value_t = 1000)]
    pub mem_at: usize,
    /// Local endpoints (real pods on node 1) for the memory benchmark.
    #[arg(long, default_value_t = 100)]
    pub local_endpoints: usize,
    /// Policy changes timed in the apply-latency benchmark.
    #[arg(long, default_value_t = 50)]
    pub changes: usize,
    /// Programming-from-scratch repetitions per size.
    #[arg(long, default_value_t = 3)]
    pub program_reps: usize,
    #[arg(long)]
    pub skip_throughput: bool,
    #[arg(long)]
    pub skip_sweep: bool,
    /// Also write the report (markdown) here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// After the benchmarks, keep the lab and the floor up for this many seconds (for
    /// investigation by hand; the namespaces are printed), or until the file
    /// `/tmp/labbench-<pid>.hold` is removed. Everything is removed afterwards as usual.
    #[arg(long, default_value_t = 0)]
    pub hold_secs: u64,
}

struct Report(String);

impl Report {
    fn line(&mut self, s: &str) {
        println!("{s}");
        self.0.push_str(s);
        self.0.push('\n');
    }
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn sock(ip: &str, port: u16) -> Result<SocketAddr> {
    format!("{ip}:{port}")
        .parse()
        .with_context(|| format!("bad address {ip}:{port}"))
}

/// One iperf3 run from `ns` to `ip`.
struct Tput {
    /// Gbit/s received.
    gbit: f64,
    /// CPU time of the iperf3 client and server (with the softirq work the kernel did in
    /// their context: the forwarding path) per GB moved, ms: the per-byte cost, less
    /// sensitive to other processes taking the CPU than the rate.
    cpu_ms_per_gb: f64,
}

fn iperf(ns: &str, ip: &str, secs: u64) -> Result<Tput> {
    let out = in_ns(ns, &["iperf3", "-c", ip, "-t", &secs.to_string(), "-J"])?;
    let v: serde_json::Value =
        serde_json::from_str(&out).with_context(|| format!("iperf3 printed {out:?}"))?;
    let num = |p: &str| {
        v.pointer(p)
            .and_then(serde_json::Value::as_f64)
            .ok_or_else(|| anyhow!("iperf3 output has no {p}: {out}"))
    };
    let bytes = num("/end/sum_received/bytes")?;
    let seconds = num("/end/sum_received/seconds")?;
    let cpu_pct = num("/end/cpu_utilization_percent/host_total")?
        + num("/end/cpu_utilization_percent/remote_total")?;
    if bytes <= 0.0 || seconds <= 0.0 {
        bail!("iperf3 to {ip} moved nothing: {out}");
    }
    Ok(Tput {
        gbit: num("/end/sum_received/bits_per_second")? / 1e9,
        cpu_ms_per_gb: cpu_pct / 100.0 * seconds * 1e3 / (bytes / 1e9),
    })
}

/// One ping-pong measurement from `ns`.
fn pp(ns: &str, addr: SocketAddr, mode: &str, ms: u64) -> Result<Sample> {
    let exe = std::env::current_exe()?;
    let exe = exe.to_string_lossy();
    let count = if mode == "crr" { "1500" } else { "100000" };
    let out = in_ns(
        ns,
        &[
            &exe,
            "pp-client",
            "--addr",
            &addr.to_string(),
            "--mode",
            mode,
            "--count",
            count,
            "--max-ms",
            &ms.to_string(),
            "--warmup",
            "50",
        ],
    )?;
    Sample::from_json(&serde_json::from_str(out.trim())?)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn fmt_range(v: &[f64], prec: usize) -> String {
    let (lo, hi) = range(v);
    format!("{:.prec$} ({lo:.prec$}–{hi:.prec$})", median(v))
}

pub fn run(o: &Options) -> Result<()> {
    if !nix::unistd::geteuid().is_root() {
        bail!("labbench run needs root (it makes network namespaces)");
    }
    for tool in ["iperf3", "iptables-legacy-restore", "nft", "bridge"] {
        if crate::sys::run(&["sh", "-c", &format!("command -v {tool}")]).is_err() {
            bail!("{tool} is not installed");
        }
    }
    let pid = std::process::id();
    lab::remove_stale("lbf")?;
    let mut r = Report(String::new());
    r.line(&format!(
        "labbench run (pid {pid}), load average at start {}",
        load()
    ));

    for b in ["calico-node", "calico-lab", "calicoctl", "calico"] {
        let p = lab::bin(b)?;
        let m = std::fs::metadata(&p)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let when =
            crate::sys::run(&["date", "-u", "-d", &format!("@{m}"), "+%F %T"]).unwrap_or_default();
        r.line(&format!("binary {} built {} UTC", p.display(), when.trim()));
    }
    if let Ok(head) = crate::sys::run(&["git", "log", "-1", "--format=%h %ci"]) {
        r.line(&format!("git HEAD {}", head.trim()));
    }
    let t = Instant::now();
    let floor = Floor::new(&format!("lbf{pid}-"))?;
    eprintln!("floor namespaces made in {:.0} ms", ms(t.elapsed()));
    let t = Instant::now();
    let lab = Lab::up(&format!("{}{pid}", lab::LAB_PREFIX), 2)?;
    eprintln!("lab {} up in {:.1} s", lab.name, t.elapsed().as_secs_f64());
    lab.ok(&["pod", "add", "x/a", "--node", "1", "--labels", "role=peer"])?;
    lab.ok(&[
        "pod",
        "add",
        "x/b",
        "--node",
        "1",
        "--labels",
        "role=server",
        "--serve",
        "tcp/80",
    ])?;
    lab.ok(&[
        "pod",
        "add",
        "x/c",
        "--node",
        "2",
        "--labels",
        "role=server",
        "--serve",
        "tcp/80",
    ])?;
    let (lab_a, _) = lab.pod(NS, "a")?;
    let (lab_b, lab_b_ip) = lab.pod(NS, "b")?;
    let (lab_c, lab_c_ip) = lab.pod(NS, "c")?;
    let fl_a = floor.pod_ns("a");
    let vxlan_mtu: u32 = in_ns(
        &lab.node_netns(1)?,
        &["cat", "/sys/class/net/vxlan.calico/mtu"],
    )?
    .trim()
    .parse()
    .context("the lab's vxlan.calico MTU")?;
    floor.set_vxlan_mtu(vxlan_mtu)?;
    r.line(&format!(
        "VXLAN device MTU (the lab's, copied to the floor): {vxlan_mtu}"
    ));
    let (fl_b_ip, fl_c_ip) = ("10.99.1.3", "10.99.2.2");

    // CRR opens thousands of connections from pod a: let it reuse TIME_WAIT ports.
    for ns in [&lab_a, &fl_a] {
        in_ns(ns, &["sysctl", "-qw", "net.ipv4.tcp_tw_reuse=1"])?;
    }
    let mut kids = Children::default();
    let exe = std::env::current_exe()?;
    let exe = exe.to_string_lossy().into_owned();
    let pp_port = PP_PORT.to_string();
    for ns in [&lab_b, &lab_c, &floor.pod_ns("b"), &floor.pod_ns("c")] {
        kids.push(spawn_in_ns(
            ns,
            &["iperf3", "-s", "-p", &IPERF_PORT.to_string()],
        )?);
        kids.push(spawn_in_ns(ns, &[&exe, "pp-server", "--port", &pp_port])?);
    }
    lab.calicoctl(
        &["apply", "-f", "-"],
        &format!("{}---\n{}", res::default_deny(), res::allow_peers()),
    )?;
    let lab_probe = Prober::new(&lab_a)?;
    let fl_probe = Prober::new(&fl_a)?;
    let lab_pp = sock(&lab_b_ip, PP_PORT)?;
    let lab_flip = sock(&lab_b_ip, FLIP_PORT)?;
    let fl_pp = sock(fl_b_ip, PP_PORT)?;
    for (p, a, what) in [
        (&lab_probe, lab_pp, "lab a → b ping-pong"),
        (&lab_probe, sock(&lab_c_ip, PP_PORT)?, "lab a → c ping-pong"),
        (&fl_probe, fl_pp, "floor a → b ping-pong"),
        (&fl_probe, sock(fl_c_ip, PP_PORT)?, "floor a → c ping-pong"),
    ] {
        p.wait_open(a, Duration::from_secs(30))?
            .ok_or_else(|| anyhow!("{what} ({a}) never opened"))?;
    }
    lab_probe
        .wait_closed(lab_flip, Duration::from_secs(30))?
        .ok_or_else(|| anyhow!("default deny never closed {lab_flip}"))?;
    // The iperf3 servers bind in the same instant as the ping-pong servers.
    wait_until(Duration::from_secs(10), Duration::from_millis(50), || {
        iperf(&fl_a, fl_b_ip, 1).is_ok()
    });

    let node_pid = lab.node_pid(1)?;
    let (rss0, hwm0) = memory_kb(node_pid)?;
    r.line(&format!(
        "\ncalico-node (node 1) after start with 3 pods and 2 policies: VmRSS {:.1} MB, VmHWM {:.1} MB",
        rss0 as f64 / 1024.0,
        hwm0 as f64 / 1024.0
    ));

    if !o.skip_throughput {
        throughput(
            &mut r, o, &floor, &lab_a, &fl_a, &lab_b_ip, &lab_c_ip, fl_b_ip, fl_c_ip,
        )?;
    }
    if !o.skip_sweep {
        let ctx = Sweep {
            lab: &lab,
            floor: &floor,
            lab_a: &lab_a,
            fl_a: &fl_a,
            lab_pp,
            fl_pp,
            lab_flip,
            lab_probe: &lab_probe,
            lab_a_ip: lab.pod(NS, "a")?.1,
            fl_b_ip: fl_b_ip.to_string(),
        };
        sweep(&mut r, o, &ctx)?;
    }
    r.line(&format!("\nload average at end {}", load()));
    if let Some(p) = &o.out {
        std::fs::write(p, &r.0).with_context(|| format!("write {}", p.display()))?;
    }
    if o.hold_secs > 0 {
        hold(o.hold_secs, pid, &lab, &floor, [&lab_a, &lab_b, &lab_c])?;
    }
    drop(fl_probe);
    drop(lab_probe);
    drop(kids);
    Ok(())
}

/// Keep everything up for `secs` or until the hold file is removed.
fn hold(secs: u64, pid: u32, lab: &Lab, floor: &Floor, pods: [&str; 3]) -> Result<()> {
    let f = PathBuf::from(format!("/tmp/labbench-{pid}.hold"));
    std::fs::write(&f, "remove this file to end the hold\n")
        .with_context(|| format!("write {}", f.display()))?;
    eprintln!(
        "holding for {secs} s (rm {} to end): lab {} (nodes {} {}; pods a, b, c: {}), floor {}*",
        f.display(),
        lab.name,
        lab.node_netns(1)?,
        lab.node_netns(2)?,
        pods.join(", "),
        floor.prefix
    );
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end && f.exists() {
        std::thread::sleep(Duration::from_millis(500));
    }
    let _ = std::fs::remove_file(&f);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn throughput(
    r: &mut Report,
    o: &Options,
    floor: &Floor,
    lab_a: &str,
    fl_a: &str,
    lab_b: &str,
    lab_c: &str,
    fl_b: &str,
    fl_c: &str,
) -> Result<()> {
    r.line(&format!(
        "\n### Throughput: iperf3, 1 TCP stream, {} s per run, {} interleaved runs (load {})\n\n\
         \"floor + conntrack only\": the floor with an nft table in each node namespace that only does \
         `ct state established,related accept` on the forward, input and output hooks: what connection \
         tracking alone costs, without any policy.\n",
        o.tput_secs,
        o.tput_reps,
        load()
    ));
    let cases = [
        ("pod → pod, same node", (fl_a, fl_b), (lab_a, lab_b)),
        (
            "pod → pod, across nodes (VXLAN)",
            (fl_a, fl_c),
            (lab_a, lab_c),
        ),
    ];
    // 0: floor, 1: floor + conntrack, 2: calico-rs.
    let mut v = vec![vec![Vec::new(); 3]; cases.len()];
    let mut cpu = vec![vec![Vec::new(); 3]; cases.len()];
    for rep in 0..o.tput_reps {
        for (i, (name, f, c)) in cases.iter().enumerate() {
            for k in 0..3 {
                let sys = (rep + i + k) % 3;
                let (ns, ip) = if sys == 2 { c } else { f };
                if sys == 1 {
                    floor.set_conntrack(true)?;
                }
                let g = iperf(ns, ip, o.tput_secs);
                if sys == 1 {
                    floor.set_conntrack(false)?;
                }
                let t = g?;
                eprintln!(
                    "  rep {rep} {name} {}: {:.2} Gbit/s, iperf3 CPU {:.0} ms/GB (load {})",
                    ["floor", "floor + conntrack", "calico-rs"][sys],
                    t.gbit,
                    t.cpu_ms_per_gb,
                    load()
                );
                v[i][sys].push(t.gbit);
                cpu[i][sys].push(t.cpu_ms_per_gb);
            }
        }
    }
    r.line("| path | floor (hand-wired, no rules), Gbit/s median (min–max) | floor + conntrack only | calico-rs (default deny + 1 allow) | ratio calico-rs / floor | ratio calico-rs / floor + conntrack | target ≥ 0.95× floor |");
    r.line("|---|---:|---:|---:|---:|---:|---|");
    for (i, (name, _, _)) in cases.iter().enumerate() {
        let ratio = median(&v[i][2]) / median(&v[i][0]);
        let ratio_ct = median(&v[i][2]) / median(&v[i][1]);
        r.line(&format!(
            "| {name} | {} | {} | {} | {ratio:.2} | {ratio_ct:.2} | {} |",
            fmt_range(&v[i][0], 2),
            fmt_range(&v[i][1], 2),
            fmt_range(&v[i][2], 2),
            if ratio >= 0.95 { "met" } else { "MISSED" }
        ));
    }
    r.line(
        "\nThe same runs, paired: each repetition's calico-rs rate over the floor's and the \
         conntrack-only floor's of that repetition (median, min–max), and the per-byte cost: CPU \
         time of the iperf3 client and server (the forwarding path runs in their context) per GB, \
         median (min–max).\n",
    );
    r.line("| path | calico-rs / floor, per rep | calico-rs / floor + conntrack, per rep | CPU ms/GB floor | floor + conntrack | calico-rs |");
    r.line("|---|---:|---:|---:|---:|---:|");
    for (i, (name, _, _)) in cases.iter().enumerate() {
        let paired =
            |k: usize| -> Vec<f64> { v[i][2].iter().zip(&v[i][k]).map(|(c, f)| c / f).collect() };
        r.line(&format!(
            "| {name} | {} | {} | {} | {} | {} |",
            fmt_range(&paired(0), 2),
            fmt_range(&paired(1), 2),
            fmt_range(&cpu[i][0], 0),
            fmt_range(&cpu[i][1], 0),
            fmt_range(&cpu[i][2], 0),
        ));
    }
    Ok(())
}

struct Sweep<'a> {
    lab: &'a Lab,
    floor: &'a Floor,
    lab_a: &'a str,
    fl_a: &'a str,
    lab_pp: SocketAddr,
    fl_pp: SocketAddr,
    lab_flip: SocketAddr,
    lab_probe: &'a Prober,
    lab_a_ip: String,
    fl_b_ip: String,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum System {
    Floor,
    Calico,
    IptCt,
    IptNoCt,
}

impl System {
    const ALL: [System; 4] = [
        System::Floor,
        System::Calico,
        System::IptCt,
        System::IptNoCt,
    ];
}

/// Time from the start of `calicoctl apply` until `probe` sees `addr` open.
fn apply_until_open(
    lab: &Lab,
    probe: &Prober,
    addr: SocketAddr,
    yaml: &str,
    max: Duration,
) -> Result<(Duration, Duration)> {
    let args = ["apply", "-f", "-"];
    let (child, t0) = lab.calicoctl_start(&args)?;
    probe.start_open(addr, t0, max)?;
    lab.finish(child, &args, yaml)?;
    let cli = t0.elapsed();
    let open = probe
        .result()?
        .ok_or_else(|| anyhow!("{addr} did not open within {max:?} of calicoctl apply"))?;
    Ok((open, cli))
}

fn delete_until_closed(
    lab: &Lab,
    probe: &Prober,
    addr: SocketAddr,
    yaml: &str,
    max: Duration,
) -> Result<Duration> {
    let args = ["delete", "-f", "-"];
    let (child, t0) = lab.calicoctl_start(&args)?;
    probe.start_closed(addr, t0, max)?;
    lab.finish(child, &args, yaml)?;
    probe
        .result()?
        .ok_or_else(|| anyhow!("{addr} did not close within {max:?} of calicoctl delete"))
}

fn nft_set_program(floor: &Floor, n: usize) -> Result<Duration> {
    let mut s = String::from(
        "table inet lbpeer {\n set peers {\n  type ipv4_addr\n  flags interval\n  elements = { ",
    );
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&fake_peer_ip(i));
    }
    s.push_str(" }\n }\n chain peerfwd {\n  type filter hook forward priority 0; policy accept;\n  ip saddr @peers tcp dport 7000 accept\n }\n}\n");
    let took = in_ns_stdin(&floor.ns("n1"), &["nft", "-f", "-"], &s)?;
    in_ns(
        &floor.ns("n1"),
        &["nft", "delete", "table", "inet", "lbpeer"],
    )?;
    Ok(took)
}

fn sweep(r: &mut Report, o: &Options, c: &Sweep) -> Result<()> {
    let mut peers_have = 0usize;
    let mut fillers_have = 0usize;
    let mut rows_rr = Vec::new();
    let mut rows_prog = Vec::new();
    let mut mem_rows = Vec::new();
    let mut apply_report = Vec::new();
    let ports = res::ALLOWED_PORTS;
    for &n in &o.sizes {
        let n = n.max(2);
        // N selector members: N-1 fake peers and pod a; N policies: default-deny, allow-peers,
        // N-2 fillers.
        let yaml = format!(
            "{}{}",
            res::fake_peers(peers_have, n - 1),
            res::fillers(fillers_have, n - 2)
        );
        let load_t = if yaml.is_empty() {
            Duration::ZERO
        } else {
            c.lab.calicoctl(&["apply", "-f", "-"], &yaml)?
        };
        eprintln!(
            "N={n}: {} endpoints and {} policies written in {:.2} s",
            n - 1 - peers_have,
            n - 2 - fillers_have,
            load_t.as_secs_f64()
        );
        peers_have = n - 1;
        fillers_have = n - 2;
        // Let calico-node digest the load before timing anything.
        std::thread::sleep(Duration::from_secs(2));

        // Programming N set members from scratch: the allow policy deleted, then applied.
        let mut prog = Vec::new();
        let mut prog_cli = Vec::new();
        for _ in 0..o.program_reps {
            c.lab
                .calicoctl(&["delete", "-f", "-"], &res::allow_peers())?;
            c.lab_probe
                .wait_closed(c.lab_pp, Duration::from_secs(120))?
                .ok_or_else(|| anyhow!("N={n}: deleting allow-peers never closed the path"))?;
            let (open, cli) = apply_until_open(
                c.lab,
                c.lab_probe,
                c.lab_pp,
                &res::allow_peers(),
                Duration::from_secs(120),
            )?;
            prog.push(ms(open));
            prog_cli.push(ms(cli));
        }
        let set_members = nft_set_elements(c.lab)?;
        let ipt_ct_t =
            c.floor
                .set_iptables(n, IptLayout::CtFirst, "10.99.1.2", &c.fl_b_ip, ports)?;
        let ipt_noct_t =
            c.floor
                .set_iptables(n, IptLayout::NoCt, "10.99.1.2", &c.fl_b_ip, ports)?;
        c.floor.clear_iptables()?;
        let nft_t = nft_set_program(c.floor, n)?;
        rows_prog.push(format!(
            "| {n} | {} | {:.0} | {set_members} | {:.1} | {:.1} |",
            fmt_range(&prog, 0),
            median(&prog_cli),
            ms(ipt_ct_t.max(ipt_noct_t)),
            ms(nft_t),
        ));

        // Request/response, systems interleaved; calico-node's CPU use meanwhile.
        let node_pid = c.lab.node_pid(1)?;
        let cpu0 = cpu_seconds(node_pid)?;
        let wall0 = Instant::now();
        let mut rr: Vec<Vec<Sample>> = vec![Vec::new(); 4];
        let mut crr: Vec<Vec<Sample>> = vec![Vec::new(); 4];
        for rep in 0..o.rr_reps {
            for k in 0..4 {
                let sys = System::ALL[(rep + k) % 4];
                let (ns, addr) = match sys {
                    System::Calico => (c.lab_a, c.lab_pp),
                    _ => (c.fl_a, c.fl_pp),
                };
                match sys {
                    System::Floor | System::Calico => c.floor.clear_iptables()?,
                    System::IptCt => {
                        c.floor.set_iptables(
                            n,
                            IptLayout::CtFirst,
                            "10.99.1.2",
                            &c.fl_b_ip,
                            ports,
                        )?;
                    }
                    System::IptNoCt => {
                        c.floor
                            .set_iptables(n, IptLayout::NoCt, "10.99.1.2", &c.fl_b_ip, ports)?;
                    }
                }
                let s = pp(ns, addr, "rr", o.rr_ms)?;
                let s2 = pp(ns, addr, "crr", o.rr_ms)?;
                eprintln!(
                    "  N={n} rep {rep} {sys:?}: rr p50 {:.1} µs p99 {:.1}; crr p50 {:.1} µs p99 {:.1}",
                    s.p50_us, s.p99_us, s2.p50_us, s2.p99_us
                );
                let idx = System::ALL.iter().position(|x| *x == sys).unwrap_or(0);
                rr[idx].push(s);
                crr[idx].push(s2);
            }
        }
        c.floor.clear_iptables()?;
        let node_cpu = (cpu_seconds(node_pid)? - cpu0) / wall0.elapsed().as_secs_f64();
        let med =
            |v: &[Sample], f: fn(&Sample) -> f64| median(&v.iter().map(f).collect::<Vec<_>>());
        let p50 = |s: &Sample| s.p50_us;
        let p99 = |s: &Sample| s.p99_us;
        let fl = med(&rr[0], p50);
        let flc = med(&crr[0], p50);
        rows_rr.push(format!(
            "| {n} | {:.1} / {:.1} | {:.1} / {:.1} ({:.2}×) | {:.1} / {:.1} ({:.2}×) | {:.1} / {:.1} ({:.2}×) | {:.1} | {:.1} ({:.2}×) | {:.1} ({:.2}×) | {:.1} ({:.2}×) | {:.0} |",
            fl,
            med(&rr[0], p99),
            med(&rr[1], p50),
            med(&rr[1], p99),
            med(&rr[1], p50) / fl,
            med(&rr[2], p50),
            med(&rr[2], p99),
            med(&rr[2], p50) / fl,
            med(&rr[3], p50),
            med(&rr[3], p99),
            med(&rr[3], p50) / fl,
            flc,
            med(&crr[1], p50),
            med(&crr[1], p50) / flc,
            med(&crr[2], p50),
            med(&crr[2], p50) / flc,
            med(&crr[3], p50),
            med(&crr[3], p50) / flc,
            node_cpu * 1000.0,
        ));

        if n == o.mem_at {
            memory_and_apply(r, o, c, n, &mut mem_rows, &mut apply_report)?;
        } else if Some(&n) == o.sizes.last() {
            let pid = c.lab.node_pid(1)?;
            let (rss, hwm) = memory_kb(pid)?;
            let st = c.lab.state()?;
            mem_rows.push(format!(
                "| {} real pods on node 1 | {n} | {} | {:.1} | {:.1} |",
                st.pods.iter().filter(|p| p.node == 1).count(),
                n - 1 + st.pods.len(),
                rss as f64 / 1024.0,
                hwm as f64 / 1024.0
            ));
        }
    }

    r.line(&format!(
        "\n### Request/response latency vs policies and selector members (load {})\n",
        load()
    ));
    r.line(&format!(
        "Pod a → pod b on one node, {} ms per measurement, {} interleaved repetitions, medians of the per-run percentiles. \
         RR = 1-byte request/response over one TCP connection; CRR = a new TCP connection per request (connect, 1 byte each way, close). \
         calico-rs: N members in the allow policy's selector (N−1 WorkloadEndpoints of pods on another node plus pod a) and N policies \
         (default-deny, the allow policy, N−2 policies selecting other endpoints). iptables peer (legacy, in the floor's node namespace): \
         one ACCEPT rule per peer address, pod a's last, FORWARD policy DROP; \"ct first\" puts `--ctstate ESTABLISHED,RELATED -j ACCEPT` \
         before them, \"no ct\" lets every request packet walk them. Ratios are to the floor (same namespaces, no rules) of the same N.\n",
        o.rr_ms, o.rr_reps
    ));
    r.line("| N | floor RR p50 / p99 µs | calico-rs RR p50 / p99 | iptables ct first RR | iptables no ct RR | floor CRR p50 µs | calico-rs CRR p50 | iptables ct first CRR | iptables no ct CRR | calico-node 1 CPU meanwhile, millicores |");
    r.line("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in &rows_rr {
        r.line(row);
    }
    r.line("\n### Programming N selector members from scratch\n");
    r.line("calico-rs: `calicoctl apply` of the allow policy (its selector matches N endpoints; the set did not exist) until pod a's fresh TCP connections to pod b get through (probe attempts of 5 ms each). Peers: the same N addresses as `iptables-legacy-restore` rules and as one `nft -f` table with an N-element set, in a namespace of their own (time of the command).\n");
    r.line("| N | calico-rs apply → enforced, ms median (min–max) | of which calicoctl ran, ms | addresses in calico-node's selector sets on node 1 | iptables-legacy-restore, ms | nft -f set, ms |");
    r.line("|---:|---:|---:|---:|---:|---:|");
    for row in &rows_prog {
        r.line(row);
    }
    for l in &apply_report {
        r.line(l);
    }
    r.line("\n### calico-node resident memory (node 1)\n");
    r.line("| local endpoints | policies in the datastore | endpoints in the datastore (fake + real) | VmRSS MB | VmHWM MB |");
    r.line("|---|---:|---:|---:|---:|");
    for row in &mem_rows {
        r.line(row);
    }
    Ok(())
}

/// Count the addresses in the selector sets (`cali40s-*`) of calico-node's table on node 1
/// (an interval set lists ranges and prefixes: each counts its addresses).
fn nft_set_elements(lab: &Lab) -> Result<u64> {
    let ns = lab.node_netns(1)?;
    let out = in_ns(&ns, &["nft", "-j", "list", "ruleset"])?;
    let v: serde_json::Value = serde_json::from_str(&out)?;
    let mut n = 0;
    if let Some(a) = v.get("nftables").and_then(|x| x.as_array()) {
        for o in a {
            let selector_set = o
                .pointer("/set/name")
                .and_then(|n| n.as_str())
                .is_some_and(|n| n.starts_with("cali40s-"));
            if let Some(e) = o.pointer("/set/elem").and_then(|e| e.as_array())
                && selector_set
            {
                n += e.iter().map(addresses_in).sum::<u64>();
            }
        }
    }
    Ok(n)
}

fn addresses_in(e: &serde_json::Value) -> u64 {
    let ip = |v: &serde_json::Value| {
        v.as_str()
            .and_then(|s| s.parse::<std::net::Ipv4Addr>().ok())
            .map(u32::from)
    };
    let e = e.get("elem").and_then(|x| x.get("val")).unwrap_or(e);
    if let Some(p) = e.get("prefix") {
        let len = p
            .get("len")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(32);
        return 1u64 << (32 - len.min(32));
    }
    if let Some(r) = e.get("range").and_then(|r| r.as_array())
        && let (Some(a), Some(b)) = (r.first().and_then(ip), r.get(1).and_then(ip))
    {
        return u64::from(b.saturating_sub(a)) + 1;
    }
    1
}

fn memory_and_apply(
    r: &mut Report,
    o: &Options,
    c: &Sweep,
    n: usize,
    mem_rows: &mut Vec<String>,
    apply_report: &mut Vec<String>,
) -> Result<()> {
    let _ = r;
    // Local endpoints: real pods on node 1 (a and b are two of them).
    let have = c.lab.state()?.pods.iter().filter(|p| p.node == 1).count();
    let t = Instant::now();
    for i in have..o.local_endpoints {
        c.lab.ok(&[
            "pod",
            "add",
            &format!("x/m{i}"),
            "--node",
            "1",
            "--labels",
            "role=bulk",
        ])?;
    }
    eprintln!(
        "{} pods added on node 1 in {:.1} s",
        o.local_endpoints.saturating_sub(have),
        t.elapsed().as_secs_f64()
    );
    std::thread::sleep(Duration::from_secs(3));
    let st = c.lab.state()?;
    let local = st.pods.iter().filter(|p| p.node == 1).count();
    let total_eps = n - 1 + st.pods.len();
    let pid = c.lab.node_pid(1)?;
    let (rss, hwm) = memory_kb(pid)?;
    mem_rows.push(format!(
        "| {local} real pods on node 1 | {n} | {total_eps} | {:.1} | {:.1} |",
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0
    ));

    // Apply → enforcement, `changes` times.
    let mut open = Vec::new();
    let mut cli = Vec::new();
    let mut closed = Vec::new();
    let max = Duration::from_secs(10);
    for k in 0..o.changes {
        c.lab_probe
            .wait_closed(c.lab_flip, max)?
            .ok_or_else(|| anyhow!("change {k}: {} is not closed", c.lab_flip))?;
        let (t_open, t_cli) = apply_until_open(c.lab, c.lab_probe, c.lab_flip, &res::flip(), max)?;
        open.push(ms(t_open));
        cli.push(ms(t_cli));
        closed.push(ms(delete_until_closed(
            c.lab,
            c.lab_probe,
            c.lab_flip,
            &res::flip(),
            max,
        )?));
    }
    let p99 = percentile(&open, 99.0);
    apply_report.push(format!(
        "\n### Time from `calicoctl apply` to enforcement ({} changes, {total_eps} endpoints, {n} policies, {local} local pods; load {})\n",
        o.changes,
        load()
    ));
    apply_report.push(format!(
        "Each change: `calicoctl apply` of a NetworkPolicy allowing peers (a set of {n} members) to pod b on TCP {FLIP_PORT}, timed from just before calicoctl starts until pod a's fresh connections to pod b:{FLIP_PORT} get through (probe attempts of {} ms, so the resolution is about that); then `calicoctl delete` of it, timed until the first of 3 failed attempts in a row (20 ms each) began.\n",
        crate::lab::ATTEMPT.as_millis()
    ));
    apply_report.push("| measure | p50 ms | p99 ms | max ms | target |".into());
    apply_report.push("|---|---:|---:|---:|---|".into());
    apply_report.push(format!(
        "| apply → allowed (end to end) | {:.1} | {p99:.1} | {:.1} | p99 ≤ 100 ms: {} |",
        median(&open),
        range(&open).1,
        if p99 <= 100.0 { "met" } else { "MISSED" }
    ));
    apply_report.push(format!(
        "| of which calicoctl apply ran | {:.1} | {:.1} | {:.1} | |",
        median(&cli),
        percentile(&cli, 99.0),
        range(&cli).1
    ));
    apply_report.push(format!(
        "| delete → blocked | {:.1} | {:.1} | {:.1} | |",
        median(&closed),
        percentile(&closed, 99.0),
        range(&closed).1
    ));
    let _ = c.lab_a;
    let _ = &c.lab_a_ip;
    Ok(())
}
