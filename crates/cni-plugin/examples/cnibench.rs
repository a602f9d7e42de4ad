//! CNI ADD/DEL latency benchmark: calico + calico-ipam (embedded datastore) against Debian's
//! ptp + host-local and bridge + host-local, in the same run, interleaved; then N concurrent
//! calico ADDs on one node.
//!
//! ```text
//! cargo build --release -p calico-cni-plugin --bins --examples
//! target/release/examples/cnibench [RUNS=200] [CONCURRENT=100]
//! ```
//!
//! Runs as root. Everything happens in namespaces named `cnib-<pid>-*` (removed at the end,
//! also on panic); this process moves itself (its only thread) into the node namespace so the
//! plugins it executes start there, as a runtime would run them. The root namespace is never
//! touched.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use calico_client::{Client, DatastoreConfig, DatastoreType};
use calico_linux::{Kernel, NamedNetns, NetOps, Route, remove_stale_netns};

const PREFIX: &str = "cnib-";

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

struct PluginSet {
    name: &'static str,
    bin: PathBuf,
    conf: String,
}

/// What one plugin execution cost: wall time as the runtime sees it, and (meaningful only when
/// executions are serial) the CPU time and minor page faults of the process and its children.
#[derive(Clone, Copy, Default)]
struct Cost {
    wall: Duration,
    cpu: Duration,
    minflt: i64,
}

fn children_usage() -> (Duration, i64) {
    match nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN) {
        Ok(u) => {
            let us = |t: nix::sys::time::TimeVal| t.tv_sec() * 1_000_000 + t.tv_usec();
            let cpu = us(u.user_time()) + us(u.system_time());
            (
                Duration::from_micros(u64::try_from(cpu).unwrap_or(0)),
                u.minor_page_faults(),
            )
        }
        Err(_) => (Duration::ZERO, 0),
    }
}

fn exec(bin: &Path, cmd: &str, cid: &str, netns: &Path, conf: &str) -> Res<(Duration, String)> {
    exec_cost(bin, cmd, cid, netns, conf).map(|(c, out)| (c.wall, out))
}

fn exec_cost(bin: &Path, cmd: &str, cid: &str, netns: &Path, conf: &str) -> Res<(Cost, String)> {
    let (cpu0, flt0) = children_usage();
    let start = Instant::now();
    let mut child = Command::new(bin)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("CNI_COMMAND", cmd)
        .env("CNI_CONTAINERID", cid)
        .env("CNI_NETNS", netns)
        .env("CNI_IFNAME", "eth0")
        .env(
            "CNI_ARGS",
            format!("IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME={cid}"),
        )
        .env("CNI_PATH", cni_path()?)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // A plugin may exit without reading its stdin (VERSION): a broken pipe is fine then.
    if let Err(e) = child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(conf.as_bytes())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(e.into());
    }
    let out = child.wait_with_output()?;
    let took = start.elapsed();
    let (cpu1, flt1) = children_usage();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!(
            "{} {cmd} failed: {stdout} {}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok((
        Cost {
            wall: took,
            cpu: cpu1.saturating_sub(cpu0),
            minflt: flt1 - flt0,
        },
        stdout,
    ))
}

fn our_dir() -> Res<PathBuf> {
    let exe = std::env::current_exe()?;
    // target/<profile>/examples/cnibench -> target/<profile>
    Ok(exe
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot find the target directory")?
        .to_path_buf())
}

fn cni_path() -> Res<String> {
    Ok(format!("{}:/usr/lib/cni", our_dir()?.display()))
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// calico's network configuration; with `CNIBENCH_CALICO_LOG=FILE` the plugin also writes its
/// debug log (with microsecond timestamps) to FILE, to see where an ADD spends its time.
fn calico_conf(db: &Path) -> String {
    let mut conf = serde_json::json!({"cniVersion":"0.3.1","name":"k8s-pod-network","type":"calico",
        "nodename":"bench-node","datastore_path": db.display().to_string(),"mtu":1410,
        "ipam":{"type":"calico-ipam"}});
    if let Some(log) = std::env::var_os("CNIBENCH_CALICO_LOG") {
        conf["log_level"] = "debug".into();
        conf["log_file_path"] = log.to_string_lossy().into_owned().into();
    }
    conf.to_string()
}

fn main() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(200);
    let concurrent: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(100);
    remove_stale_netns(PREFIX);
    let pid = std::process::id();
    let node = NamedNetns::create(&format!("{PREFIX}{pid}-node"))?;
    let kernel = Arc::new(Kernel::new());
    let n = node.path();
    kernel.set_link_up(n, "lo")?;
    kernel.add_address(n, "lo", "10.99.0.1/32".parse()?)?;
    kernel.add_route(n, &Route::link("0.0.0.0/0".parse()?, "lo"))?;
    kernel.release(n);

    let dir = tempfile::tempdir()?;
    let db = dir.path().join("calico.db");
    let client = Client::connect(&DatastoreConfig {
        datastore_type: DatastoreType::Embedded,
        embedded_path: db.clone(),
        etcd: Default::default(),
    })?;
    for doc in [
        serde_json::json!({"apiVersion":"projectcalico.org/v3","kind":"IPPool","metadata":{"name":"bench"},"spec":{"cidr":"10.250.0.0/16"}}),
        serde_json::json!({"apiVersion":"projectcalico.org/v3","kind":"Node","metadata":{"name":"bench-node"},"spec":{}}),
    ] {
        client.create(calico_api::Resource::from_value(doc)?)?;
    }
    let hl = |subnet: &str, sub: &str| serde_json::json!({"type":"host-local","subnet":subnet,"dataDir": dir.path().join(sub).display().to_string()});
    let sets = [
        PluginSet {
            name: "calico+calico-ipam",
            bin: our_dir()?.join("calico"),
            conf: calico_conf(&db),
        },
        PluginSet {
            name: "ptp+host-local",
            bin: "/usr/lib/cni/ptp".into(),
            conf: serde_json::json!({"cniVersion":"0.3.1","name":"bench-ptp","type":"ptp","ipMasq":false,"mtu":1410,
                "ipam": hl("10.251.0.0/16", "ptp")}).to_string(),
        },
        PluginSet {
            name: "bridge+host-local",
            bin: "/usr/lib/cni/bridge".into(),
            conf: serde_json::json!({"cniVersion":"0.3.1","name":"bench-br","type":"bridge","bridge":"cnibbr0",
                "isGateway":true,"ipMasq":false,"mtu":1410,"ipam": hl("10.252.0.0/16", "br")}).to_string(),
        },
    ];
    for s in &sets {
        if !s.bin.is_file() {
            return Err(format!(
                "{} not found: build with `cargo build --release -p calico-cni-plugin --bins --examples`; \
                 Debian's plugins come from containernetworking-plugins",
                s.bin.display()
            )
            .into());
        }
    }
    // From here on this (single-threaded) process lives in the node namespace, so the
    // plugins it starts run there.
    nix::sched::setns(
        std::fs::File::open(n)?,
        nix::sched::CloneFlags::CLONE_NEWNET,
    )?;

    let pods: Vec<NamedNetns> = (0..sets.len())
        .map(|i| NamedNetns::create(&format!("{PREFIX}{pid}-pod{i}")))
        .collect::<Result<_, _>>()?;
    let mut add: Vec<Vec<Duration>> = vec![Vec::new(); sets.len()];
    let mut del: Vec<Vec<Duration>> = vec![Vec::new(); sets.len()];
    // The floor: a plugin process that does nothing (VERSION), per binary.
    let mut floor: Vec<Vec<Duration>> = vec![Vec::new(); sets.len()];
    // CPU time and minor page faults of each ADD and VERSION (plugin and its children).
    let mut add_cost: Vec<Vec<Cost>> = vec![Vec::new(); sets.len()];
    let mut floor_cost: Vec<Vec<Cost>> = vec![Vec::new(); sets.len()];
    // Warm-up (page cache, datastore file, bridge creation), not counted.
    for (i, s) in sets.iter().enumerate() {
        exec(&s.bin, "ADD", "warm", pods[i].path(), &s.conf)?;
        exec(&s.bin, "DEL", "warm", pods[i].path(), &s.conf)?;
    }
    for r in 0..runs {
        for (i, s) in sets.iter().enumerate() {
            let cid = format!("r{r}");
            let a = exec_cost(&s.bin, "ADD", &cid, pods[i].path(), &s.conf)?.0;
            add[i].push(a.wall);
            add_cost[i].push(a);
            del[i].push(exec(&s.bin, "DEL", &cid, pods[i].path(), &s.conf)?.0);
            let v = exec_cost(&s.bin, "VERSION", &cid, pods[i].path(), &s.conf)?.0;
            floor[i].push(v.wall);
            floor_cost[i].push(v);
        }
    }
    println!(
        "CNI latency, {runs} serial ADD+DEL cycles per plugin set, interleaved, one node namespace"
    );
    println!(
        "{:<22} {:>10} {:>10} {:>10} {:>10}",
        "plugins", "ADD p50", "ADD p99", "DEL p50", "DEL p99"
    );
    let mut p50s = Vec::new();
    for (i, s) in sets.iter().enumerate() {
        add[i].sort();
        del[i].sort();
        println!(
            "{:<22} {:>8.2}ms {:>8.2}ms {:>8.2}ms {:>8.2}ms",
            s.name,
            ms(pct(&add[i], 0.5)),
            ms(pct(&add[i], 0.99)),
            ms(pct(&del[i], 0.5)),
            ms(pct(&del[i], 0.99))
        );
        p50s.push((pct(&add[i], 0.5), pct(&del[i], 0.5)));
    }
    for (i, s) in sets.iter().enumerate() {
        floor[i].sort();
        println!(
            "exec floor (VERSION, p50) of {}: {:.2}ms",
            s.bin.display(),
            ms(pct(&floor[i], 0.5))
        );
    }
    for (i, s) in sets.iter().enumerate() {
        let med = |costs: &[Cost]| {
            let mut cpu: Vec<Duration> = costs.iter().map(|c| c.cpu).collect();
            let mut flt: Vec<i64> = costs.iter().map(|c| c.minflt).collect();
            cpu.sort();
            flt.sort_unstable();
            (pct(&cpu, 0.5), flt.get(flt.len() / 2).copied().unwrap_or(0))
        };
        let (acpu, aflt) = med(&add_cost[i]);
        let (vcpu, vflt) = med(&floor_cost[i]);
        println!(
            "CPU (user+sys, p50) and minor faults (p50) of {}: ADD {:.2}ms {aflt}, VERSION {:.2}ms {vflt}",
            s.name,
            ms(acpu),
            ms(vcpu)
        );
    }
    for (i, s) in sets.iter().enumerate().skip(1) {
        println!(
            "ratio calico/{}: ADD p50 {:.2}, DEL p50 {:.2}",
            s.name,
            p50s[0].0.as_secs_f64() / p50s[i].0.as_secs_f64(),
            p50s[0].1.as_secs_f64() / p50s[i].1.as_secs_f64()
        );
    }

    // Concurrent ADDs of calico on the node.
    let cpods: Vec<NamedNetns> = (0..concurrent)
        .map(|i| NamedNetns::create(&format!("{PREFIX}{pid}-c{i}")))
        .collect::<Result<_, _>>()?;
    let calico = &sets[0];
    let start = Instant::now();
    let outs: Vec<Res<(Duration, String)>> = std::thread::scope(|sc| {
        let hs: Vec<_> = cpods
            .iter()
            .enumerate()
            .map(|(i, p)| {
                sc.spawn(move || {
                    exec(
                        &calico.bin,
                        "ADD",
                        &format!("conc{i}"),
                        p.path(),
                        &calico.conf,
                    )
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("thread panicked".into())))
            .collect()
    });
    let wall = start.elapsed();
    let mut ips = BTreeSet::new();
    let mut failures = 0;
    for o in &outs {
        match o {
            Ok((_, out)) => {
                let v: serde_json::Value = serde_json::from_str(out)?;
                ips.insert(
                    v["ips"][0]["address"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                );
            }
            Err(e) => {
                failures += 1;
                eprintln!("concurrent ADD failed: {e}");
            }
        }
    }
    let ok = outs.len() - failures;
    println!(
        "{concurrent} concurrent calico ADDs: wall {:.0} ms, {ok} succeeded, {} distinct addresses, {} duplicates",
        ms(wall),
        ips.len(),
        ok - ips.len()
    );
    for (i, p) in cpods.iter().enumerate() {
        exec(
            &calico.bin,
            "DEL",
            &format!("conc{i}"),
            p.path(),
            &calico.conf,
        )?;
    }
    drop(cpods);
    drop(pods);
    Ok(())
}
