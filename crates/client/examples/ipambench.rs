//! IPAM benchmark: allocations and releases per second on one host, on the embedded store and
//! on a private etcd, with 1 and with 1,000 blocks of other hosts already in the pool, against
//! Debian's `host-local` IPAM plugin doing the same number of allocations in the same run.
//!
//! ```text
//! cargo run --release -p calico-client --example ipambench -- [--count N] [--backend embedded|etcd|all]
//!     [--existing 1,1000] [--rounds R] [--per-process N] [--host-local PATH]
//! ```
//!
//! Each allocation is one CNI-style request (handle `k8s-pod-network.<id>`, pod attributes)
//! through [`ClientIpam`], which reads the pools, reservations, node and configuration and then
//! runs the engine, as the `calico-ipam` plugin will for each ADD; releases are by handle, as for
//! each DEL. `host-local` is run as a CNI plugin (one process per ADD/DEL, `CNI_COMMAND` etc. in
//! the environment, the network configuration on stdin, a temporary data directory). Because
//! that includes starting a process, the run also measures calico-rs with one process per
//! operation (`--per-process` operations, this binary re-executed as the worker).

#[path = "../tests/ipam_support/mod.rs"]
mod ipam_support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use calico_client::Client;
use calico_client::ipam_store::{ClientIpam, pod_attrs};
use calico_datastore::{Backend, KeyValue, ListResult, Revision, Watch, WatchFrom};
use calico_ipam::{AssignIpArgs, AutoAssignArgs, cni_handle};
use ipam_support::etcd::Etcd;
use ipam_support::{Store, setup_cluster};

const POOL: &str = "10.0.0.0/8";

/// Counts datastore operations (all of them: the client's reads of pools, node and
/// configuration as well as the engine's), so that the cost per operation can be shown free of
/// timing noise.
struct Counting {
    inner: Arc<dyn Backend>,
    /// gets, lists, keys returned by lists, writes (create/update/delete)
    n: Arc<[AtomicU64; 4]>,
}

impl Backend for Counting {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn get(&self, key: &str) -> calico_datastore::Result<Option<KeyValue>> {
        self.n[0].fetch_add(1, Relaxed);
        self.inner.get(key)
    }
    fn list(&self, prefix: &str) -> calico_datastore::Result<ListResult> {
        self.n[1].fetch_add(1, Relaxed);
        let r = self.inner.list(prefix)?;
        self.n[2].fetch_add(r.kvs.len() as u64, Relaxed);
        Ok(r)
    }
    fn create(&self, key: &str, value: &[u8]) -> calico_datastore::Result<KeyValue> {
        self.n[3].fetch_add(1, Relaxed);
        self.inner.create(key, value)
    }
    fn update(
        &self,
        key: &str,
        value: &[u8],
        expected: Option<Revision>,
    ) -> calico_datastore::Result<KeyValue> {
        self.n[3].fetch_add(1, Relaxed);
        self.inner.update(key, value, expected)
    }
    fn delete(&self, key: &str, expected: Option<Revision>) -> calico_datastore::Result<KeyValue> {
        self.n[3].fetch_add(1, Relaxed);
        self.inner.delete(key, expected)
    }
    fn revision(&self) -> calico_datastore::Result<Revision> {
        self.inner.revision()
    }
    fn watch(&self, prefix: &str, from: WatchFrom) -> calico_datastore::Result<Watch> {
        self.inner.watch(prefix, from)
    }
}

/// Datastore operations per IPAM operation: gets, lists, keys listed, writes.
#[derive(Clone, Copy, Debug, Default)]
struct OpCost([f64; 4]);

fn cost_since(n: &[AtomicU64; 4], before: [u64; 4], ops: usize) -> OpCost {
    let mut c = [0.0; 4];
    for (i, v) in c.iter_mut().enumerate() {
        *v = (n[i].load(Relaxed) - before[i]) as f64 / ops as f64;
    }
    OpCost(c)
}

fn counters(n: &[AtomicU64; 4]) -> [u64; 4] {
    [0, 1, 2, 3].map(|i| n[i].load(Relaxed))
}

impl std::fmt::Display for OpCost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [g, l, k, w] = self.0;
        write!(f, "{g:.2} gets, {l:.2} lists ({k:.1} keys), {w:.2} writes")
    }
}
const HOST: &str = "bench-host";
const OTHER_HOSTS: usize = 50;

struct Opts {
    count: usize,
    rounds: usize,
    backends: Vec<String>,
    existing: Vec<usize>,
    per_process: usize,
    host_local: PathBuf,
}

fn parse_opts() -> Result<Opts> {
    let mut o = Opts {
        count: 1000,
        rounds: 5,
        backends: vec!["embedded".into(), "etcd".into()],
        existing: vec![1, 1000],
        per_process: 200,
        host_local: "/usr/lib/cni/host-local".into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--count" => o.count = val()?.parse()?,
            "--rounds" => o.rounds = val()?.parse()?,
            "--per-process" => o.per_process = val()?.parse()?,
            "--backend" => {
                let v = val()?;
                o.backends = if v == "all" {
                    vec!["embedded".into(), "etcd".into()]
                } else {
                    vec![v]
                };
            }
            "--existing" => {
                o.existing = val()?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?;
            }
            "--host-local" => o.host_local = val()?.into(),
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(o)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--worker") {
        return worker(&args[2..]);
    }
    let o = parse_opts()?;
    println!(
        "ipambench: per round and case, {} allocations then {} releases on host {HOST} \
         in-process, and {} of each with one process per operation; pool {POOL} (blockSize 26); \
         {} rounds, cases interleaved, medians reported",
        o.count, o.count, o.per_process, o.rounds
    );
    if !o.host_local.is_file() {
        bail!(
            "{} is missing: apt-get install containernetworking-plugins",
            o.host_local.display()
        );
    }
    let mut cases = Vec::new();
    for backend in &o.backends {
        for &existing in &o.existing {
            let (keep, store) = fresh_store(backend)?;
            let Some(store) = store else { continue };
            let t = Instant::now();
            let ops: Arc<[AtomicU64; 4]> = Arc::default();
            let ipam = prepare(&store, existing, ops.clone())?;
            let setup = t.elapsed();
            cases.push(Case {
                _keep: keep,
                store,
                ipam,
                ops,
                alloc_cost: OpCost::default(),
                release_cost: OpCost::default(),
                existing,
                setup,
                samples: Samples::default(),
            });
        }
    }
    let mut hl = Samples::default();
    let exe = std::env::current_exe()?;
    for round in 0..o.rounds {
        host_local_round(&o.host_local, o.count, round, &mut hl)?;
        for case in &mut cases {
            run_round(case, &exe, round, o.count, o.per_process)?;
        }
        eprintln!("  round {} of {} done", round + 1, o.rounds);
    }
    for case in &cases {
        let report = case.ipam.check()?;
        if !report.is_exact() {
            bail!(
                "{} store not exact after the run: {report:#?}",
                case.store.name()
            );
        }
    }
    print_table(&cases, &hl, &o);
    Ok(())
}

/// Keeps a temporary directory or an etcd server alive for a case.
enum Keep {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Etcd(#[allow(dead_code)] Etcd),
}

fn fresh_store(backend: &str) -> Result<(Keep, Option<Store>)> {
    match backend {
        "embedded" => {
            let dir = tempfile::tempdir()?;
            let store = Store::Embedded(dir.path().join("calico.db"));
            Ok((Keep::Dir(dir), Some(store)))
        }
        "etcd" => match Etcd::start() {
            Some(e) => {
                let s = Store::Etcd(e.endpoint.clone());
                Ok((Keep::Etcd(e), Some(s)))
            }
            None => bail!("no etcd"),
        },
        other => bail!("unknown backend {other}"),
    }
}

/// Operations per second, one value per round.
#[derive(Default)]
struct Samples {
    alloc: Vec<f64>,
    release: Vec<f64>,
    proc_alloc: Vec<f64>,
    proc_release: Vec<f64>,
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn spread(v: &[f64]) -> String {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{lo:.0}-{hi:.0}")
}

struct Case {
    _keep: Keep,
    store: Store,
    ipam: ClientIpam,
    ops: Arc<[AtomicU64; 4]>,
    alloc_cost: OpCost,
    release_cost: OpCost,
    existing: usize,
    setup: Duration,
    samples: Samples,
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

/// `existing` blocks of other hosts, placed where those hosts' own block walks would put them
/// (20 per host), each holding one address.
fn seed_blocks(ipam: &ClientIpam, existing: usize) -> Result<()> {
    let pools = ipam.pools()?;
    let pool = pools.pools.first().context("no pool")?;
    let per_host = existing.div_ceil(OTHER_HOSTS).max(1);
    let mut made = 0;
    for h in 0..OTHER_HOSTS {
        let host = format!("other-{h}");
        let mut mine = 0;
        for (_, block) in pool.layout().walk(&host, 0) {
            if made == existing || mine == per_host {
                break;
            }
            let req = AssignIpArgs {
                address: block.network(),
                handle_id: format!("seed-{made}"),
                attrs: Default::default(),
                hostname: host.clone(),
                intended_use: None,
            };
            match ipam.engine().assign_ip(&pools, &req) {
                Ok(_) => {
                    made += 1;
                    mine += 1;
                }
                // Two hosts' walks can overlap; the block is someone's already.
                Err(calico_ipam::IpamError::AlreadyAssigned { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// The cluster and the `existing` blocks of other hosts.
fn prepare(store: &Store, existing: usize, ops: Arc<[AtomicU64; 4]>) -> Result<ClientIpam> {
    let client = Client::new(Arc::new(Counting {
        inner: store.open(),
        n: ops,
    }));
    let mut nodes: Vec<String> = (0..OTHER_HOSTS).map(|h| format!("other-{h}")).collect();
    nodes.push(HOST.into());
    let refs: Vec<&str> = nodes.iter().map(String::as_str).collect();
    setup_cluster(&client, POOL, Some(26), &refs);
    let ipam = ClientIpam::new(client);
    seed_blocks(&ipam, existing)?;
    let blocks = ipam.engine().snapshot()?.blocks.len();
    if blocks != existing {
        bail!("seeded {blocks} blocks, wanted {existing}");
    }
    Ok(ipam)
}

fn run_round(
    case: &mut Case,
    exe: &Path,
    round: usize,
    count: usize,
    per_process: usize,
) -> Result<()> {
    let ipam = &case.ipam;
    let before = counters(&case.ops);
    let t = Instant::now();
    for i in 0..count {
        let id = format!("r{round}-{i}");
        let mut args = AutoAssignArgs::new(cni_handle(&id), HOST);
        args.attrs = pod_attrs("default", &id, HOST, "2026-01-01 00:00:00 +0000 UTC");
        ipam.auto_assign(args)?;
    }
    case.samples.alloc.push(rate(count, t.elapsed()));
    case.alloc_cost = cost_since(&case.ops, before, count);
    let before = counters(&case.ops);
    let t = Instant::now();
    for i in 0..count {
        let released = ipam.release_by_handle(&cni_handle(&format!("r{round}-{i}")))?;
        if released.len() != 1 {
            bail!("release of r{round}-{i} freed {released:?}");
        }
    }
    case.samples.release.push(rate(count, t.elapsed()));
    case.release_cost = cost_since(&case.ops, before, count);
    if per_process > 0 {
        let t = Instant::now();
        for i in 0..per_process {
            run_worker(exe, &case.store, "alloc", &format!("p{round}-{i}"))?;
        }
        case.samples.proc_alloc.push(rate(per_process, t.elapsed()));
        let t = Instant::now();
        for i in 0..per_process {
            run_worker(exe, &case.store, "release", &format!("p{round}-{i}"))?;
        }
        case.samples
            .proc_release
            .push(rate(per_process, t.elapsed()));
    }
    Ok(())
}

fn run_worker(exe: &Path, store: &Store, op: &str, id: &str) -> Result<()> {
    let st = Command::new(exe)
        .args(["--worker", &store.to_arg(), op, id])
        .stdin(Stdio::null())
        .status()?;
    if !st.success() {
        bail!("worker {op} {id} failed: {st}");
    }
    Ok(())
}

/// One operation in a fresh process, like a CNI plugin invocation.
fn worker(args: &[String]) -> Result<()> {
    let [store, op, id] = args else {
        bail!("usage: --worker <store> alloc|release <id>")
    };
    let ipam = ClientIpam::new(Client::new(Store::from_arg(store).open()));
    let handle = cni_handle(id);
    match op.as_str() {
        "alloc" => {
            let mut a = AutoAssignArgs::new(handle, HOST);
            a.attrs = pod_attrs("default", id, HOST, "2026-01-01 00:00:00 +0000 UTC");
            ipam.auto_assign(a)?;
        }
        "release" => {
            ipam.release_by_handle(&handle)?;
        }
        other => bail!("unknown worker op {other}"),
    }
    Ok(())
}

fn host_local_call(bin: &Path, cmd: &str, id: &str, conf: &str) -> Result<()> {
    let mut child = Command::new(bin)
        .env("CNI_COMMAND", cmd)
        .env("CNI_CONTAINERID", id)
        .env("CNI_NETNS", "/var/run/netns/ipambench")
        .env("CNI_IFNAME", "eth0")
        .env("CNI_PATH", "/usr/lib/cni")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("running {}", bin.display()))?;
    child
        .stdin
        .take()
        .context("stdin")?
        .write_all(conf.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "host-local {cmd} {id}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Debian's host-local plugin: `count` ADDs then `count` DELs, one process each.
fn host_local_round(bin: &Path, count: usize, round: usize, out: &mut Samples) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let conf = serde_json::json!({
        "cniVersion": "0.4.0", "name": "ipambench",
        "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.0.0.0/16"}]],
                 "dataDir": dir.path().join("data")}
    })
    .to_string();
    let t = Instant::now();
    for i in 0..count {
        host_local_call(bin, "ADD", &format!("r{round}-{i}"), &conf)?;
    }
    out.alloc.push(rate(count, t.elapsed()));
    let t = Instant::now();
    for i in 0..count {
        host_local_call(bin, "DEL", &format!("r{round}-{i}"), &conf)?;
    }
    out.release.push(rate(count, t.elapsed()));
    Ok(())
}

fn print_table(cases: &[Case], hl: &Samples, o: &Opts) {
    let (hl_a, hl_r) = (median(&hl.alloc), median(&hl.release));
    println!(
        "\nhost-local (one process per operation, {} ADDs then {} DELs per round): median {:.0} \
         allocations/s (range {}), {:.0} releases/s (range {})\n",
        o.count,
        o.count,
        hl_a,
        spread(&hl.alloc),
        hl_r,
        spread(&hl.release)
    );
    println!(
        "| backend | existing blocks | allocations/s (range) | / host-local | releases/s (range) | / \
         host-local | allocations/s, process per op | / host-local | releases/s, process per op | \
         / host-local | seeding |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for c in cases {
        let s = &c.samples;
        let (a, r) = (median(&s.alloc), median(&s.release));
        let (pa, pr) = (median(&s.proc_alloc), median(&s.proc_release));
        println!(
            "| {} | {} | {a:.0} ({}) | {:.2}x | {r:.0} ({}) | {:.2}x | {pa:.0} | {:.2}x | {pr:.0} | \
             {:.2}x | {:.1?} |",
            c.store.name(),
            c.existing,
            spread(&s.alloc),
            a / hl_a,
            spread(&s.release),
            r / hl_r,
            pa / hl_a,
            pr / hl_r,
            c.setup,
        );
    }
    println!("\nDatastore operations per in-process operation (last round):\n");
    println!("| backend | existing blocks | per allocation | per release |");
    println!("|---|---:|---|---|");
    for c in cases {
        println!(
            "| {} | {} | {} | {} |",
            c.store.name(),
            c.existing,
            c.alloc_cost,
            c.release_cost
        );
    }
    println!();
    for backend in &o.backends {
        let of = |n: usize| {
            cases
                .iter()
                .find(|c| c.store.name() == backend.as_str() && c.existing == n)
        };
        if let (Some(a), Some(b)) = (of(o.existing[0]), o.existing.last().and_then(|n| of(*n)))
            && a.existing != b.existing
        {
            println!(
                "{backend}: with {} blocks / with {} blocks: allocations/s {:.2}, releases/s \
                 {:.2} (1.00 = cost per operation independent of the number of blocks)",
                b.existing,
                a.existing,
                median(&b.samples.alloc) / median(&a.samples.alloc),
                median(&b.samples.release) / median(&a.samples.release)
            );
        }
    }
}
