//! IPAM under real concurrency: separate OS processes on two "hosts" allocating at once from one
//! pool, on the embedded store and on a private etcd; and processes killed with SIGKILL in the
//! middle of allocating and releasing.
//!
//! `harness = false`: the same binary is the parent (running the tests below) and, with
//! `IPAM_TEST_ROLE=worker`, a worker process. A worker waits for a common start time, makes
//! `IPAM_COUNT` single-address CNI-style allocations (handle `k8s-pod-network.<prefix>-<i>`) for
//! node `IPAM_HOST`, and reports one line per attempt on stdout: `ok <ip> <handle>`,
//! `full <handle>` (pool exhausted) or `err <handle> <message>`. With `IPAM_CHURN=1` it also
//! keeps only its last 40 allocations, releasing older ones by handle or by address with
//! sequence number (`rel <handle>`) so that blocks fill and empty, and runs until killed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ipam_support;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::IpAddr;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use calico_client::Client;
use calico_client::ipam_store::{ClientIpam, IpamClientError};
use calico_ipam::{Assigned, AutoAssignArgs, IpamError, ReleaseOptions, cni_handle};
use ipam_support::etcd::Etcd;
use ipam_support::{Store, setup_cluster};

const ROLE: &str = "IPAM_TEST_ROLE";
/// Live allocations a churning worker keeps.
const WINDOW: usize = 40;

type Test = fn();
const TESTS: &[(&str, Test)] = &[
    (
        "embedded_4_processes_2_hosts_500_each_from_a_22",
        embedded_oversubscribed,
    ),
    (
        "embedded_4_processes_2_hosts_250_each_from_a_22",
        embedded_fits,
    ),
    (
        "etcd_4_processes_2_hosts_500_each_from_a_22",
        etcd_oversubscribed,
    ),
    ("etcd_4_processes_2_hosts_250_each_from_a_22", etcd_fits),
    (
        "embedded_sigkill_mid_run_leaves_the_store_consistent",
        embedded_sigkill,
    ),
    (
        "etcd_sigkill_mid_run_leaves_the_store_consistent",
        etcd_sigkill,
    ),
];

fn main() -> ExitCode {
    if std::env::var(ROLE).as_deref() == Ok("worker") {
        return worker();
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        if !args.iter().any(|a| a == "--ignored") {
            for (name, _) in TESTS {
                println!("{name}: test");
            }
        }
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--ignored") {
        return ExitCode::SUCCESS;
    }
    let exact = args.iter().any(|a| a == "--exact");
    let filters: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .map(String::as_str)
        .collect();
    let selected: Vec<_> = TESTS
        .iter()
        .filter(|(n, _)| {
            filters.is_empty()
                || filters
                    .iter()
                    .any(|f| if exact { n == f } else { n.contains(f) })
        })
        .collect();
    println!("\nrunning {} tests", selected.len());
    let mut failed = Vec::new();
    for (name, test) in &selected {
        let start = Instant::now();
        let ok = std::panic::catch_unwind(test).is_ok();
        println!(
            "test {name} ... {} ({:.1?})",
            if ok { "ok" } else { "FAILED" },
            start.elapsed()
        );
        if !ok {
            failed.push(*name);
        }
    }
    println!(
        "\ntest result: {}. {} passed; {} failed",
        if failed.is_empty() { "ok" } else { "FAILED" },
        selected.len() - failed.len(),
        failed.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} not set"))
}

fn worker() -> ExitCode {
    let store = Store::from_arg(&env("IPAM_STORE"));
    let host = env("IPAM_HOST");
    let prefix = env("IPAM_PREFIX");
    let count: usize = env("IPAM_COUNT").parse().unwrap();
    let churn = std::env::var("IPAM_CHURN").as_deref() == Ok("1");
    let start_at: u128 = env("IPAM_START_AT").parse().unwrap();
    let ipam = ClientIpam::new(Client::new(store.open()));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    if start_at > now {
        std::thread::sleep(Duration::from_millis((start_at - now) as u64));
    }
    let mut out = std::io::stdout().lock();
    let mut live: VecDeque<(String, Option<Assigned>)> = VecDeque::new();
    let mut i = 0usize;
    while churn || i < count {
        let handle = cni_handle(&format!("{prefix}-{i}"));
        match ipam.auto_assign(AutoAssignArgs::new(handle.clone(), host.clone())) {
            Ok(got) => {
                writeln!(out, "ok {} {handle}", got.ipv4[0].address).unwrap();
                live.push_back((handle, got.ipv4.first().cloned()));
            }
            Err(IpamClientError::Ipam(IpamError::Exhausted(_))) => {
                writeln!(out, "full {handle}").unwrap()
            }
            Err(e) => writeln!(out, "err {handle} {e}").unwrap(),
        }
        out.flush().unwrap();
        if churn && live.len() > WINDOW {
            // Keep a sliding window of live allocations so that blocks fill and empty. Report
            // the intent first: if killed in between, the release may or may not have happened.
            let (victim, assigned) = live.pop_front().unwrap();
            writeln!(out, "rel {victim}").unwrap();
            out.flush().unwrap();
            match assigned {
                Some(a) if i.is_multiple_of(2) => {
                    let r = ipam
                        .release_ips(&[ReleaseOptions {
                            address: a.address,
                            handle: Some(victim),
                            sequence_number: Some(a.sequence_number),
                        }])
                        .unwrap();
                    assert_eq!(r.released, vec![a.address]);
                }
                _ => {
                    ipam.release_by_handle(&victim).unwrap();
                }
            }
        }
        i += 1;
    }
    ExitCode::SUCCESS
}

fn spawn(
    store: &Store,
    host: &str,
    prefix: &str,
    count: usize,
    churn: bool,
    start_at: u128,
) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .env(ROLE, "worker")
        .env("IPAM_STORE", store.to_arg())
        .env("IPAM_HOST", host)
        .env("IPAM_PREFIX", prefix)
        .env("IPAM_COUNT", count.to_string())
        .env("IPAM_CHURN", if churn { "1" } else { "0" })
        .env("IPAM_START_AT", start_at.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

fn start_time(delay: Duration) -> u128 {
    (SystemTime::now() + delay)
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

/// What the workers reported.
#[derive(Default, Debug)]
struct Reports {
    /// address → handle, for every `ok` line.
    ok: Vec<(IpAddr, String)>,
    full: usize,
    errors: Vec<String>,
    released: BTreeSet<String>,
}

fn read_reports(children: Vec<Child>) -> Reports {
    let mut r = Reports::default();
    for mut c in children {
        let out = c.stdout.take().unwrap();
        for line in BufReader::new(out).lines() {
            let line = line.unwrap();
            let mut parts = line.splitn(3, ' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("ok"), Some(ip), Some(h)) => r.ok.push((ip.parse().unwrap(), h.to_string())),
                (Some("full"), Some(_), _) => r.full += 1,
                (Some("rel"), Some(h), _) => {
                    r.released.insert(h.to_string());
                }
                _ => r.errors.push(line),
            }
        }
        let _ = c.wait();
    }
    r
}

/// 4 processes, two per host, `each` allocations apiece from a /22 (1024 addresses).
fn race(store: Store, each: usize) {
    let backend = store.open();
    let client = Client::new(backend);
    setup_cluster(&client, "10.96.0.0/22", None, &["host-a", "host-b"]);
    let at = start_time(Duration::from_millis(800));
    let children: Vec<Child> = [
        ("host-a", "a1"),
        ("host-a", "a2"),
        ("host-b", "b1"),
        ("host-b", "b2"),
    ]
    .iter()
    .map(|(h, p)| spawn(&store, h, p, each, false, at))
    .collect();
    let r = read_reports(children);
    assert!(
        r.errors.is_empty(),
        "worker errors: {:?}",
        &r.errors[..r.errors.len().min(5)]
    );
    let requested = 4 * each;
    let expect_ok = requested.min(1024);
    let addrs: BTreeSet<IpAddr> = r.ok.iter().map(|(a, _)| *a).collect();
    assert_eq!(addrs.len(), r.ok.len(), "an address was handed out twice");
    assert_eq!(
        r.ok.len(),
        expect_ok,
        "{} of {requested} succeeded",
        r.ok.len()
    );
    assert_eq!(r.full, requested - expect_ok);
    let ipam = ClientIpam::new(client);
    let snap = ipam.engine().snapshot().unwrap();
    let stored: BTreeMap<IpAddr, String> = snap
        .allocations()
        .into_iter()
        .map(|a| (a.address, a.handle_id.unwrap()))
        .collect();
    let reported: BTreeMap<IpAddr, String> = r.ok.iter().cloned().collect();
    assert_eq!(
        stored, reported,
        "every address accounted for, with its handle"
    );
    let pool: ipnet::IpNet = "10.96.0.0/22".parse().unwrap();
    assert!(addrs.iter().all(|a| pool.contains(a)));
    let report = ipam.check().unwrap();
    assert!(report.is_exact(), "{report:#?}");
    let blocks_a = ipam.engine().host_blocks("host-a").unwrap().len();
    let blocks_b = ipam.engine().host_blocks("host-b").unwrap().len();
    println!(
        "    {}: {} ok, {} exhausted, blocks host-a {blocks_a} host-b {blocks_b}",
        store.name(),
        r.ok.len(),
        r.full
    );
}

fn embedded_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::Embedded(dir.path().join("calico.db"));
    (dir, store)
}

fn embedded_oversubscribed() {
    let (_dir, store) = embedded_store();
    race(store, 500);
}

fn embedded_fits() {
    let (_dir, store) = embedded_store();
    race(store, 250);
}

fn etcd_oversubscribed() {
    let Some(etcd) = Etcd::start() else { return };
    race(Store::Etcd(etcd.endpoint.clone()), 500);
}

fn etcd_fits() {
    let Some(etcd) = Etcd::start() else { return };
    race(Store::Etcd(etcd.endpoint.clone()), 250);
}

/// Workers allocate and release until killed with SIGKILL at staggered times; afterwards the
/// store has no broken invariant, every address a worker reported and did not release is
/// still held by its handle, allocation continues to work, and repair leaves it exact.
fn sigkill(store: Store, run_for: Duration) {
    let backend = store.open();
    let client = Client::new(backend);
    setup_cluster(&client, "10.97.0.0/20", Some(28), &["host-a", "host-b"]);
    let at = start_time(Duration::from_millis(500));
    let mut children: Vec<Child> = [
        ("host-a", "a1"),
        ("host-a", "a2"),
        ("host-b", "b1"),
        ("host-b", "b2"),
    ]
    .iter()
    .map(|(h, p)| spawn(&store, h, p, 0, true, at))
    .collect();
    std::thread::sleep(Duration::from_millis(500) + run_for);
    for c in &mut children {
        c.kill().unwrap(); // SIGKILL
        std::thread::sleep(run_for / 7);
    }
    let r = read_reports(children);
    assert!(
        r.errors.is_empty(),
        "worker errors: {:?}",
        &r.errors[..r.errors.len().min(5)]
    );
    assert!(
        r.ok.len() > 20,
        "the workers made progress ({} allocations)",
        r.ok.len()
    );
    let ipam = ClientIpam::new(client);
    let before = ipam.check().unwrap();
    assert!(before.is_consistent(), "{before:#?}");
    let snap = ipam.engine().snapshot().unwrap();
    let stored: BTreeMap<IpAddr, String> = snap
        .allocations()
        .into_iter()
        .map(|a| (a.address, a.handle_id.unwrap()))
        .collect();
    for (ip, h) in &r.ok {
        if !r.released.contains(h) {
            assert_eq!(stored.get(ip), Some(h), "{ip} of {h} lost");
        }
    }
    ipam.auto_assign(AutoAssignArgs::new("after-a", "host-a"))
        .unwrap();
    ipam.auto_assign(AutoAssignArgs::new("after-b", "host-b"))
        .unwrap();
    let repaired = ipam.engine().repair_leaks().unwrap();
    let report = ipam.check().unwrap();
    assert!(report.is_exact(), "{report:#?}");
    println!(
        "    {}: {} allocations, {} releases reported before the kills; {} leaks found, repair \
         {repaired:?}",
        store.name(),
        r.ok.len(),
        r.released.len(),
        before.leaks.len()
    );
}

fn embedded_sigkill() {
    let (_dir, store) = embedded_store();
    sigkill(store, Duration::from_millis(1500));
}

fn etcd_sigkill() {
    let Some(etcd) = Etcd::start() else { return };
    sigkill(
        Store::Etcd(etcd.endpoint.clone()),
        Duration::from_millis(2500),
    );
}
