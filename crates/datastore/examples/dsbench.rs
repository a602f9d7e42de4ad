//! dsbench: datastore backend benchmark (a program, not a timed test).
//!
//! ```text
//! cargo run --release -p calico-datastore --example dsbench -- [--backend embedded|embedded-durable|etcd|all]
//!     [--ops N] [--latency-writes N] [--procs N] [--proc-ops N]
//! ```
//!
//! For each backend it measures, single process: creates/s, CAS updates/s, gets/s, a list of
//! every key, and "open + get" for a fresh client (what a short-lived CNI plugin pays); watch
//! delivery latency from a writer to a watcher in ANOTHER process (and in another thread), p50
//! and p99 over paced writes; and throughput with `--procs` processes writing at once (distinct
//! keys, and CAS increments of one shared counter). With `--backend all` each figure is printed
//! next to the peer's, as a ratio.
//!
//! Children are this same binary started with `DSBENCH_ROLE` and `DSBENCH_TARGET` set.
//!
//! The etcd backend: [`start_etcd`] runs `etcd` from `PATH` on 127.0.0.1 ports in a temp dir
//! and [`open_etcd`] is the one hook that turns an endpoint into a `Backend`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use calico_datastore::{
    Backend, DatastoreError, EmbeddedBackend, EmbeddedOptions, WatchEvent, WatchFrom,
};

const ROLE_ENV: &str = "DSBENCH_ROLE";
const TARGET_ENV: &str = "DSBENCH_TARGET";
/// A value about the size of a Calico resource stored as JSON.
const VALUE_LEN: usize = 512;

// ---------------------------------------------------------------------------------------------
// Targets

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Embedded,
    /// The embedded store with `durable_commits` (synchronous=FULL, an fsync per commit).
    EmbeddedDurable,
    Etcd,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Embedded => "embedded",
            Kind::EmbeddedDurable => "embedded-durable",
            Kind::Etcd => "etcd",
        }
    }
}

/// Where a process (parent or child) finds the store under test.
#[derive(Clone, Debug)]
struct Target {
    kind: Kind,
    /// The file path (embedded) or the client URL (etcd).
    location: String,
}

impl Target {
    fn encode(&self) -> String {
        format!("{}={}", self.kind.name(), self.location)
    }

    fn decode(s: &str) -> Self {
        let (kind, location) = s.split_once('=').expect("DSBENCH_TARGET is kind=location");
        let kind = [Kind::Embedded, Kind::EmbeddedDurable, Kind::Etcd]
            .into_iter()
            .find(|k| k.name() == kind)
            .expect("a known backend");
        Self {
            kind,
            location: location.to_owned(),
        }
    }

    fn open(&self) -> Result<Box<dyn Backend>, String> {
        match self.kind {
            Kind::Embedded | Kind::EmbeddedDurable => {
                let opts = EmbeddedOptions {
                    durable_commits: self.kind == Kind::EmbeddedDurable,
                    ..EmbeddedOptions::default()
                };
                EmbeddedBackend::open_with(&self.location, opts)
                    .map(|b| Box::new(b) as Box<dyn Backend>)
                    .map_err(|e| e.to_string())
            }
            Kind::Etcd => open_etcd(&self.location),
        }
    }
}

/// The etcd hook: a client for the etcd at `endpoint` (`http://127.0.0.1:PORT`).
fn open_etcd(endpoint: &str) -> Result<Box<dyn Backend>, String> {
    calico_datastore::EtcdBackend::connect(calico_datastore::EtcdConfig::new([endpoint]))
        .map(|b| Box::new(b) as Box<dyn Backend>)
        .map_err(|e| e.to_string())
}

/// A server the benchmark started; killed (by its own PID) on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// Start `etcd` from `PATH`, listening on 127.0.0.1 only, with its data in `dir`.
fn start_etcd(dir: &Path) -> Result<(Target, Server), String> {
    let (client, peer) = (free_port(), free_port());
    let client_url = format!("http://127.0.0.1:{client}");
    let peer_url = format!("http://127.0.0.1:{peer}");
    let child = Command::new("etcd")
        .args(["--name", "dsbench", "--data-dir"])
        .arg(dir.join("etcd"))
        .args(["--listen-client-urls", &client_url])
        .args(["--advertise-client-urls", &client_url])
        .args(["--listen-peer-urls", &peer_url])
        .args(["--initial-advertise-peer-urls", &peer_url])
        .args(["--initial-cluster", &format!("dsbench={peer_url}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start etcd from PATH: {e}"))?;
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", client)).is_err() {
        if Instant::now() > deadline {
            return Err("etcd did not listen within 20 s".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let target = Target {
        kind: Kind::Etcd,
        location: client_url,
    };
    Ok((target, server))
}

// ---------------------------------------------------------------------------------------------
// Measurements

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

fn value(tag: &str) -> Vec<u8> {
    let mut v = tag.as_bytes().to_vec();
    v.resize(VALUE_LEN, b'.');
    v
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// One measured figure.
struct Figure {
    name: String,
    unit: &'static str,
    value: f64,
}

fn rate(name: &str, n: usize, elapsed: Duration) -> Figure {
    Figure {
        name: name.to_owned(),
        unit: "ops/s",
        value: n as f64 / elapsed.as_secs_f64(),
    }
}

fn latency(name: &str, value_ms: f64) -> Figure {
    Figure {
        name: name.to_owned(),
        unit: "ms",
        value: value_ms,
    }
}

struct Opts {
    ops: usize,
    latency_writes: usize,
    procs: usize,
    proc_ops: usize,
}

fn single_process(b: &dyn Backend, target: &Target, opts: &Opts, out: &mut Vec<Figure>) {
    let n = opts.ops;
    let start = Instant::now();
    let mut revs = Vec::with_capacity(n);
    for i in 0..n {
        revs.push(
            b.create(&format!("/bench/kv/{i:07}"), &value("c"))
                .unwrap()
                .mod_revision,
        );
    }
    out.push(rate("create", n, start.elapsed()));

    let start = Instant::now();
    for (i, rev) in revs.iter_mut().enumerate() {
        let key = format!("/bench/kv/{i:07}");
        *rev = b
            .update(&key, &value("u"), Some(*rev))
            .unwrap()
            .mod_revision;
    }
    out.push(rate("update (CAS)", n, start.elapsed()));

    let start = Instant::now();
    let mut x: usize = 12_345;
    for _ in 0..n {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let key = format!("/bench/kv/{:07}", (x >> 16) % n);
        assert!(b.get(&key).unwrap().is_some());
    }
    out.push(rate("get", n, start.elapsed()));

    let start = Instant::now();
    let listed = b.list("/bench/kv/").unwrap();
    assert_eq!(listed.kvs.len(), n);
    out.push(latency(
        &format!("list {n} keys"),
        start.elapsed().as_secs_f64() * 1e3,
    ));

    let opens = 200;
    let start = Instant::now();
    for i in 0..opens {
        let fresh = target.open().unwrap();
        assert!(
            fresh
                .get(&format!("/bench/kv/{:07}", i % n))
                .unwrap()
                .is_some()
        );
    }
    out.push(latency(
        "open + get + close (fresh client)",
        start.elapsed().as_secs_f64() * 1e3 / opens as f64,
    ));
}

/// Paced writes from this process; a watcher (thread or child process) reports latencies.
fn watch_latency(b: &dyn Backend, target: &Target, opts: &Opts, cross_process: bool) -> Vec<f64> {
    let n = opts.latency_writes;
    let prefix = format!(
        "/bench/lat/{}/",
        if cross_process { "proc" } else { "thread" }
    );
    let key = format!("{prefix}k");
    let mut rev = b.create(&key, b"0").unwrap().mod_revision;
    let (mut lines, mut child, handle) = if cross_process {
        let mut child = spawn_child(
            "watch-latency",
            target,
            &[
                ("DSBENCH_PREFIX", prefix.clone()),
                ("DSBENCH_N", n.to_string()),
            ],
        );
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        (Some(lines), Some(child), None)
    } else {
        let w = b.watch(&prefix, WatchFrom::Snapshot).unwrap();
        let handle = std::thread::spawn(move || collect_latencies(&w, n));
        (None, None, Some(handle))
    };
    if let Some(lines) = &mut lines {
        let ready = lines.next().unwrap().unwrap();
        assert_eq!(ready, "READY");
    } else {
        std::thread::sleep(Duration::from_millis(50));
    }
    for _ in 0..n {
        std::thread::sleep(Duration::from_millis(2));
        let stamp = now_nanos().to_string();
        rev = b
            .update(&key, stamp.as_bytes(), Some(rev))
            .unwrap()
            .mod_revision;
    }
    let mut lat: Vec<f64> = match (lines, handle) {
        (Some(lines), _) => lines
            .map(|l| l.unwrap())
            .filter_map(|l| l.strip_prefix("LAT ").map(|v| v.parse().unwrap()))
            .collect(),
        (None, Some(h)) => h.join().unwrap(),
        _ => unreachable!(),
    };
    if let Some(mut c) = child.take() {
        assert!(c.wait().unwrap().success(), "the watcher process failed");
    }
    assert_eq!(lat.len(), n, "every write was delivered");
    lat.sort_by(f64::total_cmp);
    lat
}

/// Read `n` puts (after the snapshot) and return write→receive latencies in ms.
fn collect_latencies(w: &calico_datastore::Watch, n: usize) -> Vec<f64> {
    let mut lat = Vec::with_capacity(n);
    let mut in_sync = false;
    while lat.len() < n {
        match w.recv_timeout(Duration::from_secs(30)) {
            Ok(Some(Ok(WatchEvent::InSync { .. }))) => in_sync = true,
            Ok(Some(Ok(WatchEvent::Put(kv)))) if in_sync => {
                let sent: u128 = std::str::from_utf8(&kv.value).unwrap().parse().unwrap();
                lat.push((now_nanos().saturating_sub(sent)) as f64 / 1e6);
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("watch latency: {other:?}"),
        }
    }
    lat
}

fn spawn_child(role: &str, target: &Target, env: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.env(ROLE_ENV, role)
        .env(TARGET_ENV, target.encode())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// `procs` processes at once, each `proc_ops` writes; returns the aggregate rate and the
/// total CAS retries.
/// `procs` processes at once, each `proc_ops` writes: the aggregate rate, then the worst
/// per-process p99 and the worst single write (including CAS retries).
fn multi_process(target: &Target, role: &str, opts: &Opts) -> ([Figure; 3], u64) {
    let mut children: Vec<(Child, std::io::Lines<BufReader<ChildStdout>>)> = (0..opts.procs)
        .map(|id| {
            let mut c = spawn_child(
                role,
                target,
                &[
                    ("DSBENCH_ID", id.to_string()),
                    ("DSBENCH_N", opts.proc_ops.to_string()),
                ],
            );
            let lines = BufReader::new(c.stdout.take().unwrap()).lines();
            (c, lines)
        })
        .collect();
    for (_, lines) in &mut children {
        assert_eq!(lines.next().unwrap().unwrap(), "READY");
    }
    let start = Instant::now();
    for (c, _) in &mut children {
        writeln!(c.stdin.as_mut().unwrap(), "GO").unwrap();
    }
    let (mut retries, mut p99, mut max) = (0, 0.0f64, 0.0f64);
    for (c, lines) in &mut children {
        let done = lines.next().unwrap().unwrap();
        let mut f = done.strip_prefix("DONE ").unwrap().split(' ');
        let mut next = || f.next().unwrap().parse::<f64>().unwrap();
        retries += next() as u64;
        p99 = p99.max(next());
        max = max.max(next());
        assert!(c.wait().unwrap().success());
    }
    let elapsed = start.elapsed();
    let name = match role {
        "writer" => format!("{} processes creating distinct keys, total", opts.procs),
        _ => format!("{} processes CAS-incrementing one key, total", opts.procs),
    };
    let figures = [
        rate(&name, opts.procs * opts.proc_ops, elapsed),
        latency("  per-write latency, worst process p99", p99),
        latency("  slowest single write", max),
    ];
    (figures, retries)
}

/// CPU time of this whole process (all threads), from /proc; `None` where there is no /proc.
fn process_cpu() -> Option<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split(' ').next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}

/// CPU used by a client that holds one open watch and sees no writes, in % of one core.
fn idle_watch_cpu(target: &Target) -> Option<Figure> {
    let client = target.open().ok()?;
    let watch = client.watch("/bench/idle/", WatchFrom::Snapshot).ok()?;
    std::thread::sleep(Duration::from_millis(200));
    let (cpu0, t0) = (process_cpu()?, Instant::now());
    std::thread::sleep(Duration::from_secs(3));
    let (cpu1, t1) = (process_cpu()?, Instant::now());
    drop(watch);
    Some(Figure {
        name: "idle CPU of a client with one open watch".into(),
        unit: "% core",
        value: 100.0 * (cpu1 - cpu0).as_secs_f64() / (t1 - t0).as_secs_f64(),
    })
}

fn run(target: &Target, opts: &Opts) -> Result<Vec<Figure>, String> {
    let b = target.open()?;
    let mut out = Vec::new();
    single_process(b.as_ref(), target, opts, &mut out);
    out.extend(idle_watch_cpu(target));
    for cross in [false, true] {
        let lat = watch_latency(b.as_ref(), target, opts, cross);
        let place = if cross {
            "another process"
        } else {
            "another thread"
        };
        out.push(latency(
            &format!("watch latency to {place}, p50"),
            percentile(&lat, 50.0),
        ));
        out.push(latency(
            &format!("watch latency to {place}, p99"),
            percentile(&lat, 99.0),
        ));
    }
    let (writers, _) = multi_process(target, "writer", opts);
    out.extend(writers);
    b.create("/bench/counter", b"0")
        .map_err(|e| e.to_string())?;
    let (counter, retries) = multi_process(target, "counter", opts);
    out.extend(counter);
    out.push(Figure {
        name: "  CAS conflicts retried".into(),
        unit: "count",
        value: retries as f64,
    });
    let total = opts.procs * opts.proc_ops;
    let final_value = b
        .get("/bench/counter")
        .map_err(|e| e.to_string())?
        .ok_or("no counter")?;
    assert_eq!(
        final_value.value,
        total.to_string().as_bytes(),
        "the counter is exact"
    );
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Children

fn child(role: &str) {
    let target = Target::decode(&std::env::var(TARGET_ENV).unwrap());
    let b = target.open().unwrap();
    let env_num = |k: &str| std::env::var(k).unwrap().parse::<usize>().unwrap();
    let mut out = std::io::stdout();
    match role {
        "watch-latency" => {
            let prefix = std::env::var("DSBENCH_PREFIX").unwrap();
            let n = env_num("DSBENCH_N");
            let w = b.watch(&prefix, WatchFrom::Snapshot).unwrap();
            // Report ready once the snapshot is through, so no paced write is missed.
            loop {
                if let Ok(Some(Ok(WatchEvent::InSync { .. }))) =
                    w.recv_timeout(Duration::from_secs(30))
                {
                    break;
                }
            }
            writeln!(out, "READY").unwrap();
            out.flush().unwrap();
            let mut seen = 0;
            while seen < n {
                match w.recv_timeout(Duration::from_secs(30)) {
                    Ok(Some(Ok(WatchEvent::Put(kv)))) => {
                        let sent: u128 = std::str::from_utf8(&kv.value).unwrap().parse().unwrap();
                        let ms = now_nanos().saturating_sub(sent) as f64 / 1e6;
                        writeln!(out, "LAT {ms}").unwrap();
                        seen += 1;
                    }
                    Ok(Some(Ok(_))) => {}
                    other => panic!("watcher: {other:?}"),
                }
            }
        }
        "writer" | "counter" => {
            let id = env_num("DSBENCH_ID");
            let n = env_num("DSBENCH_N");
            writeln!(out, "READY").unwrap();
            out.flush().unwrap();
            let mut go = String::new();
            std::io::stdin().read_line(&mut go).unwrap();
            let mut retries = 0u64;
            let mut waits = Vec::with_capacity(n);
            for i in 0..n {
                let op_start = Instant::now();
                if role == "writer" {
                    b.create(&format!("/bench/procs/{id}/{i:07}"), &value("p"))
                        .unwrap();
                    waits.push(op_start.elapsed().as_secs_f64() * 1e3);
                    continue;
                }
                loop {
                    let cur = b.get("/bench/counter").unwrap().unwrap();
                    let v: u64 = std::str::from_utf8(&cur.value).unwrap().parse().unwrap();
                    match b.update(
                        "/bench/counter",
                        (v + 1).to_string().as_bytes(),
                        Some(cur.mod_revision),
                    ) {
                        Ok(_) => break,
                        Err(DatastoreError::Conflict { .. }) => retries += 1,
                        Err(e) => panic!("counter: {e}"),
                    }
                }
                waits.push(op_start.elapsed().as_secs_f64() * 1e3);
            }
            waits.sort_by(f64::total_cmp);
            let (p99, max) = (
                percentile(&waits, 99.0),
                waits.last().copied().unwrap_or(0.0),
            );
            writeln!(out, "DONE {retries} {p99} {max}").unwrap();
        }
        other => panic!("unknown role {other}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Main

fn main() {
    if let Ok(role) = std::env::var(ROLE_ENV) {
        child(&role);
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let num = |name: &str, default: usize| flag(name).map_or(default, |v| v.parse().expect(name));
    let opts = Opts {
        ops: num("--ops", 10_000),
        latency_writes: num("--latency-writes", 1_000),
        procs: num("--procs", 4),
        proc_ops: num("--proc-ops", 2_000),
    };
    let kinds = match flag("--backend").as_deref().unwrap_or("embedded") {
        "embedded" => vec![Kind::Embedded],
        "embedded-durable" => vec![Kind::EmbeddedDurable],
        "etcd" => vec![Kind::Etcd],
        "all" => vec![Kind::Embedded, Kind::Etcd],
        other => panic!("--backend embedded|embedded-durable|etcd|all, not {other}"),
    };

    let mut columns: Vec<(String, Vec<Figure>)> = Vec::new();
    for kind in kinds {
        let dir = tempfile::tempdir().unwrap();
        let (target, _server) = match kind {
            Kind::Embedded | Kind::EmbeddedDurable => {
                let location = dir.path().join("calico.db").display().to_string();
                (Target { kind, location }, None)
            }
            Kind::Etcd => match start_etcd(dir.path()) {
                Ok((t, s)) => (t, Some(s)),
                Err(e) => {
                    eprintln!("etcd: skipped: {e}");
                    continue;
                }
            },
        };
        let name = kind.name().to_owned();
        eprintln!("{name}: running ({})", target.location);
        match run(&target, &opts) {
            Ok(figures) => columns.push((name, figures)),
            Err(e) => eprintln!("{name}: skipped: {e}"),
        }
    }
    print_table(&columns);
}

fn print_table(columns: &[(String, Vec<Figure>)]) {
    let Some((_, first)) = columns.first() else {
        println!("no backend could be measured");
        return;
    };
    print!("| measurement | unit |");
    for (name, _) in columns {
        print!(" {name} |");
    }
    if columns.len() == 2 {
        print!(" {} / {} |", columns[0].0, columns[1].0);
    }
    println!();
    println!(
        "|---|---|{}",
        "---:|".repeat(columns.len() + usize::from(columns.len() == 2))
    );
    for (i, fig) in first.iter().enumerate() {
        print!("| {} | {} |", fig.name, fig.unit);
        for (_, figs) in columns {
            print!(" {} |", fmt_num(figs[i].value));
        }
        if columns.len() == 2 {
            print!(" {:.2}x |", columns[0].1[i].value / columns[1].1[i].value);
        }
        println!();
    }
}

fn fmt_num(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}
