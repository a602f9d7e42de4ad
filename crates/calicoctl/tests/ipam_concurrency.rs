//! `calicoctl ipam check` and `release --from-report` after real concurrency: separate worker
//! processes on two "hosts" allocate from one /22 at once, each allocation followed by the
//! pod's WorkloadEndpoint, exactly as the CNI plugin does (handle
//! `k8s-pod-network.<containerID>` ↔ endpoint `spec.containerID`), on the embedded store and
//! on a private etcd. Afterwards: no address twice, every address accounted for, and the real
//! `calicoctl ipam check` clean. Then workers are killed with SIGKILL mid-run (one paused
//! between allocating and writing its endpoint, one at a random moment): `ipam check -o`
//! names exactly what they left, `ipam release --from-report` releases exactly that, and the
//! check is clean again.
//!
//! The test binary is also the worker: `worker_process` does the work only when started with
//! `CALICOCTL_IPAM_WORKER` set, and reports one line per allocation to the file `IPAM_OUT`:
//! `ok <ip> <handle>`, `full <handle>`, `paused <ip> <handle>` or `err <handle> <message>`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod ipam_support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use calico_client::ipam_store::{ClientIpam, IpamClientError, pod_attrs};
use calico_ipam::{AutoAssignArgs, IpamError, cni_handle};
use common::Env;
use ipam_support::etcd::Etcd;
use ipam_support::{Store, node, pool, report_leaked_handles, report_leaks, wep_resource};

const ROLE: &str = "CALICOCTL_IPAM_WORKER";

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} not set"))
}

/// The worker (a no-op in a normal test run).
#[test]
fn worker_process() {
    if std::env::var(ROLE).is_err() {
        return;
    }
    let store = Store::from_arg(&var("IPAM_STORE"));
    let host = var("IPAM_HOST");
    let prefix = var("IPAM_PREFIX");
    let count: usize = var("IPAM_COUNT").parse().unwrap();
    let pause_at: Option<usize> = std::env::var("IPAM_PAUSE_AT")
        .ok()
        .map(|s| s.parse().unwrap());
    let start_at: u128 = var("IPAM_START_AT").parse().unwrap();
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(var("IPAM_OUT"))
        .unwrap();
    let mut say = |line: String| out.write_all(format!("{line}\n").as_bytes()).unwrap();
    let client = store.client();
    let ipam = ClientIpam::new(client.clone());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    if start_at > now {
        std::thread::sleep(Duration::from_millis((start_at - now) as u64));
    }
    for i in 0..count {
        let cid = format!("{prefix}-{i}");
        let handle = cni_handle(&cid);
        let mut args = AutoAssignArgs::new(handle.clone(), host.clone());
        args.attrs = pod_attrs("default", &cid, &host, &calico_client::now_rfc3339());
        let ip = match ipam.auto_assign(args) {
            Ok(got) => got.ipv4[0].address,
            Err(IpamClientError::Ipam(IpamError::Exhausted(_))) => {
                say(format!("full {handle}"));
                continue;
            }
            Err(e) => {
                say(format!("err {handle} {e}"));
                continue;
            }
        };
        if pause_at == Some(i) {
            say(format!("paused {ip} {handle}"));
            loop {
                std::thread::sleep(Duration::from_secs(60));
            }
        }
        match client.create(wep_resource(&host, "default", &cid, &cid, &[ip])) {
            Ok(_) => say(format!("ok {ip} {handle}")),
            Err(e) => say(format!("err {handle} endpoint: {e}")),
        }
    }
    std::process::exit(0);
}

struct Worker {
    child: Child,
    out: PathBuf,
    prefix: String,
}

fn spawn(
    store: &Store,
    dir: &Path,
    host: &str,
    prefix: &str,
    count: usize,
    pause_at: Option<usize>,
    start_at: u128,
) -> Worker {
    let out = dir.join(format!("worker-{prefix}.out"));
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([
        "worker_process",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(ROLE, "1")
    .env("IPAM_STORE", store.to_arg())
    .env("IPAM_HOST", host)
    .env("IPAM_PREFIX", prefix)
    .env("IPAM_COUNT", count.to_string())
    .env("IPAM_START_AT", start_at.to_string())
    .env("IPAM_OUT", &out)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::inherit());
    if let Some(p) = pause_at {
        c.env("IPAM_PAUSE_AT", p.to_string());
    }
    Worker {
        child: c.spawn().unwrap(),
        out,
        prefix: prefix.to_string(),
    }
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
    ok: Vec<(IpAddr, String)>,
    full: usize,
    paused: Vec<(IpAddr, String)>,
    errors: Vec<String>,
}

fn read(w: &Worker, r: &mut Reports) {
    let text = std::fs::read_to_string(&w.out).unwrap_or_default();
    for line in text.lines() {
        let p: Vec<&str> = line.splitn(3, ' ').collect();
        match p.as_slice() {
            ["ok", ip, h] => r.ok.push((ip.parse().unwrap(), h.to_string())),
            ["paused", ip, h] => r.paused.push((ip.parse().unwrap(), h.to_string())),
            ["full", _] => r.full += 1,
            _ => r.errors.push(format!("{}: {line}", w.prefix)),
        }
    }
}

fn lines(w: &Worker) -> usize {
    std::fs::read_to_string(&w.out).map_or(0, |t| t.lines().count())
}

/// `calicoctl ARGS` against `store`.
fn calicoctl(env: &Env, store: &Store, args: &[&str]) -> String {
    let cfg = store.calicoctl_cfg(env.dir.path());
    env.run_with_config(&cfg, args).ok().to_string()
}

fn setup(store: &Store, cidr: &str, block: Option<u8>) -> ClientIpam {
    let client = store.client();
    pool(&client, "race", cidr, block);
    node(&client, "host-a");
    node(&client, "host-b");
    ClientIpam::new(client)
}

/// Address → handle of every allocation, and the handle records holding nothing.
fn stored(ipam: &ClientIpam) -> (BTreeMap<IpAddr, String>, BTreeSet<String>) {
    let snap = ipam.engine().snapshot().unwrap();
    let allocs: BTreeMap<IpAddr, String> = snap
        .allocations()
        .into_iter()
        .map(|a| (a.address, a.handle_id.unwrap()))
        .collect();
    let holding: BTreeSet<&String> = allocs.values().collect();
    let empty = snap
        .handles
        .iter()
        .map(|h| h.value.handle_id.clone())
        .filter(|h| !holding.contains(h))
        .collect();
    (allocs, empty)
}

/// The container IDs that have a WorkloadEndpoint.
fn endpoints(ipam: &ClientIpam) -> BTreeSet<String> {
    let info = calico_api::find_kind("WorkloadEndpoint", None).unwrap();
    let (weps, _) = ipam.client().list(info, None).unwrap();
    weps.iter()
        .map(|w| {
            w.to_value()["spec"]["containerID"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn container(handle: &str) -> &str {
    handle.rsplit_once('.').unwrap().1
}

fn assert_clean(out: &str) {
    assert!(
        out.ends_with("Check complete; found 0 problems.\n"),
        "ipam check is not clean:\n{out}"
    );
}

/// 4 processes, two per host, `each` allocations apiece from a /22.
fn race(env: &Env, store: Store, each: usize) {
    let ipam = setup(&store, "10.96.0.0/22", None);
    let at = start_time(Duration::from_millis(800));
    let workers: Vec<Worker> = [
        ("host-a", "a1"),
        ("host-a", "a2"),
        ("host-b", "b1"),
        ("host-b", "b2"),
    ]
    .iter()
    .map(|(h, p)| spawn(&store, env.dir.path(), h, p, each, None, at))
    .collect();
    let mut r = Reports::default();
    for mut w in workers {
        assert!(w.child.wait().unwrap().success());
        read(&w, &mut r);
    }
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
    let (allocs, empty) = stored(&ipam);
    let reported: BTreeMap<IpAddr, String> = r.ok.iter().cloned().collect();
    assert_eq!(
        allocs, reported,
        "every address accounted for, with its handle"
    );
    assert!(
        empty.is_empty(),
        "handle records without addresses: {empty:?}"
    );
    let weps = endpoints(&ipam);
    assert_eq!(weps.len(), r.ok.len());

    let out = calicoctl(env, &store, &["ipam", "check", "-o", "race.json"]);
    assert_clean(&out);
    assert!(
        out.contains(&format!("IPAM blocks record {expect_ok} allocations.")),
        "{out}"
    );
    assert!(
        out.contains(&format!("Found {expect_ok} workload IPs.")),
        "{out}"
    );
    let report = std::fs::read_to_string(env.path("race.json")).unwrap();
    assert!(report_leaks(&report).is_empty());
    assert!(report_leaked_handles(&report).is_empty());
    let show = calicoctl(env, &store, &["ipam", "show"]);
    let pct = (100.0 * expect_ok as f64 / 1024.0).round();
    assert!(show.contains(&format!(" {expect_ok} ({pct}%) |")), "{show}");
    println!(
        "    {}: {} ok, {} exhausted; ipam check clean",
        store_name(&store),
        r.ok.len(),
        r.full
    );
}

fn store_name(s: &Store) -> &'static str {
    match s {
        Store::Embedded(_) => "embedded",
        Store::Etcd(_) => "etcd",
    }
}

#[test]
fn embedded_4_processes_2_hosts_250_each_from_a_22_then_check_is_clean() {
    let env = Env::new();
    race(&env, Store::Embedded(env.db.clone()), 250);
}

#[test]
fn embedded_4_processes_2_hosts_300_each_from_a_22_exhausted_then_check_is_clean() {
    let env = Env::new();
    race(&env, Store::Embedded(env.db.clone()), 300);
}

#[test]
fn etcd_4_processes_2_hosts_250_each_from_a_22_then_check_is_clean() {
    let Some(etcd) = Etcd::start() else { return };
    let env = Env::new();
    race(&env, Store::Etcd(etcd.endpoint.clone()), 250);
}

/// Two survivors and two victims; see the module docs.
fn sigkill(env: &Env, store: Store) {
    let ipam = setup(&store, "10.97.0.0/22", Some(28));
    let at = start_time(Duration::from_millis(500));
    let dir = env.dir.path();
    let mut survivors = vec![
        spawn(&store, dir, "host-a", "a1", 150, None, at),
        spawn(&store, dir, "host-b", "b1", 150, None, at),
    ];
    let mut paused = spawn(&store, dir, "host-b", "b2", 150, Some(30), at);
    let mut random = spawn(&store, dir, "host-a", "a2", 150, None, at);

    // One victim is killed at a random moment while allocating.
    let deadline = Instant::now() + Duration::from_secs(120);
    while lines(&random) < 20 {
        assert!(Instant::now() < deadline, "worker a2 made no progress");
        std::thread::sleep(Duration::from_millis(2));
    }
    let jitter = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
        % 15_000_000;
    std::thread::sleep(Duration::from_nanos(u64::from(jitter)));
    assert!(
        random.child.try_wait().unwrap().is_none(),
        "a2 finished before it was killed"
    );
    random.child.kill().unwrap(); // SIGKILL
    random.child.wait().unwrap();
    // The other between allocating an address and writing its endpoint.
    while !std::fs::read_to_string(&paused.out)
        .unwrap_or_default()
        .contains("paused ")
    {
        assert!(Instant::now() < deadline, "worker b2 never paused");
        std::thread::sleep(Duration::from_millis(5));
    }
    paused.child.kill().unwrap();
    paused.child.wait().unwrap();
    let mut r = Reports::default();
    for w in &mut survivors {
        assert!(w.child.wait().unwrap().success());
        read(w, &mut r);
    }
    read(&random, &mut r);
    read(&paused, &mut r);
    assert!(
        r.errors.iter().all(|e| e.starts_with("a2: ")),
        "errors: {:?}",
        r.errors
    );
    assert_eq!(r.paused.len(), 1);

    // What the victims left: addresses without their endpoint, handle records holding nothing.
    let (allocs, empty) = stored(&ipam);
    let weps = endpoints(&ipam);
    let leaked: BTreeSet<IpAddr> = allocs
        .iter()
        .filter(|(_, h)| !weps.contains(container(h)))
        .map(|(ip, _)| *ip)
        .collect();
    let victim = |h: &str| {
        let c = container(h);
        c.starts_with("a2-") || c.starts_with("b2-")
    };
    assert!(
        leaked.iter().all(|ip| victim(&allocs[ip])),
        "a survivor's address looks leaked"
    );
    assert!(empty.iter().all(|h| victim(h)), "{empty:?}");
    assert!(
        leaked.contains(&r.paused[0].0),
        "the paused worker's address is left"
    );
    for (ip, h) in &r.ok {
        assert_eq!(allocs.get(ip), Some(h), "{ip} of {h} lost");
    }

    let out = calicoctl(
        env,
        &store,
        &["ipam", "check", "--show-problem-ips", "-o", "kill.json"],
    );
    let report = std::fs::read_to_string(env.path("kill.json")).unwrap();
    assert_eq!(
        report_leaks(&report),
        leaked,
        "the check names exactly the leaked addresses\n{out}"
    );
    assert_eq!(report_leaked_handles(&report), empty, "{out}");
    let mismatched: BTreeSet<String> = serde_json::from_str::<serde_json::Value>(&report).unwrap()
        ["handleCountMismatches"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| m["handle"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    assert!(mismatched.iter().all(|h| victim(h)), "{mismatched:?}");
    let problems = leaked.len() + empty.len() + mismatched.len();
    assert!(
        out.ends_with(&format!("Check complete; found {problems} problems.\n")),
        "{out}"
    );

    let out = calicoctl(env, &store, &["ipam", "release", "--from-report=kill.json"]);
    let released: BTreeSet<IpAddr> = out
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Released "))
        .filter_map(|l| l.split(' ').next()?.parse().ok())
        .collect();
    assert_eq!(
        released, leaked,
        "release --from-report releases exactly the leaked\n{out}"
    );
    assert!(
        out.contains(&format!("Released {} IPs successfully", leaked.len())),
        "{out}"
    );
    if !empty.is_empty() {
        assert!(
            out.contains(&format!(
                "Released {} handles; 0 skipped; 0 errors.",
                empty.len()
            )),
            "{out}"
        );
    }
    assert_clean(&calicoctl(env, &store, &["ipam", "check"]));
    let (after, _) = stored(&ipam);
    for (ip, h) in &r.ok {
        assert_eq!(after.get(ip), Some(h), "{ip} of {h} released by mistake");
    }
    // Allocation goes on.
    let mut more = AutoAssignArgs::new(cni_handle("after"), "host-a");
    more.attrs = pod_attrs("default", "after", "host-a", "");
    ipam.auto_assign(more).unwrap();
    println!(
        "    {}: {} allocations, {} leaked addresses, {} empty handles, {} count mismatches released",
        store_name(&store),
        allocs.len(),
        leaked.len(),
        empty.len(),
        mismatched.len()
    );
}

#[test]
fn embedded_sigkill_mid_allocation_check_names_exactly_the_leaks_and_release_cleans_them() {
    let env = Env::new();
    sigkill(&env, Store::Embedded(env.db.clone()));
}

#[test]
fn etcd_sigkill_mid_allocation_check_names_exactly_the_leaks_and_release_cleans_them() {
    let Some(etcd) = Etcd::start() else { return };
    let env = Env::new();
    sigkill(&env, Store::Etcd(etcd.endpoint.clone()));
}
