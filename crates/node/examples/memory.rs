//! Resident memory of calico-node with many local endpoints and policies (issue 5's target:
//! under 50 MB with 100 local endpoints and 1,000 policies).
//!
//! ```text
//! cargo build --release -p calico-node --bin calico-node --example memory
//! target/release/examples/memory [LOCAL_WEPS] [GNPS]        (as root; defaults 100 1000)
//! ```
//! It makes a temporary embedded store holding `LOCAL_WEPS` WorkloadEndpoints on this node
//! (labels `app: a<i % 25>`, `role: r<i % 7>`) and `GNPS` GlobalNetworkPolicies (each selects
//! one `app` value, allows TCP from a `role` selector and from a network, so every policy has
//! a selector IP set), starts the release `calico-node` next to this example inside a network
//! namespace of its own (`cmem-<pid>`, removed at the end), waits for `/readiness`, lets it
//! settle, and prints `VmRSS` and `VmHWM` (steady state and peak). `WRAP="valgrind
//! --tool=massif"` runs calico-node under that command instead (readiness waits longer).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use calico_api::Resource;
use calico_client::{Client, DatastoreConfig, DatastoreType};
use serde_json::json;

const NODE: &str = "memnode";

struct Netns(String);

impl Netns {
    fn new() -> Result<Netns> {
        // A namespace of an earlier crashed run with our prefix whose process is gone.
        if let Ok(dir) = std::fs::read_dir("/run/netns") {
            for e in dir.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if let Some(pid) = name.strip_prefix("cmem-")
                    && !PathBuf::from(format!("/proc/{pid}")).exists()
                {
                    let _ = Command::new("ip").args(["netns", "del", &name]).status();
                }
            }
        }
        let name = format!("cmem-{}", std::process::id());
        for args in [
            vec!["netns", "add", &name],
            vec!["-n", &name, "link", "set", "lo", "up"],
            vec![
                "-n", &name, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p",
            ],
            vec!["-n", &name, "addr", "add", "10.99.0.1/24", "dev", "eth0"],
            vec!["-n", &name, "link", "set", "eth0", "up"],
        ] {
            if !Command::new("ip").args(&args).status()?.success() {
                bail!("ip {args:?} failed");
            }
        }
        Ok(Netns(name))
    }

    fn get(&self, path: &str) -> Option<u16> {
        let file = std::fs::File::open(format!("/run/netns/{}", self.0)).ok()?;
        let path = path.to_string();
        std::thread::spawn(move || {
            nix::sched::setns(file, nix::sched::CloneFlags::CLONE_NEWNET).ok()?;
            let addr: SocketAddr = "127.0.0.1:9099".parse().ok()?;
            calico_node::http::get(addr, &path).ok().map(|(c, _)| c)
        })
        .join()
        .ok()
        .flatten()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn populate(client: &Client, weps: usize, gnps: usize) -> Result<()> {
    let apply = |v: serde_json::Value| -> Result<()> {
        client.apply(Resource::from_value(v)?)?;
        Ok(())
    };
    for i in 0..weps {
        let pod = format!("p{i}");
        apply(json!({
            "apiVersion": "projectcalico.org/v3", "kind": "WorkloadEndpoint",
            "metadata": {"name": format!("{NODE}-k8s-{pod}-eth0"), "namespace": "default",
                "labels": {"app": format!("a{}", i % 25), "role": format!("r{}", i % 7),
                           "projectcalico.org/namespace": "default",
                           "projectcalico.org/orchestrator": "k8s"}},
            "spec": {"orchestrator": "k8s", "node": NODE, "workload": "", "pod": pod,
                     "endpoint": "eth0", "interfaceName": format!("cali{i:011}"),
                     "ipNetworks": [format!("10.244.{}.{}/32", i / 250, i % 250 + 1)],
                     "profiles": ["kns.default"]}
        }))?;
    }
    for i in 0..gnps {
        apply(json!({
            "apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
            "metadata": {"name": format!("gnp-{i}")},
            "spec": {"order": i % 50, "selector": format!("app == 'a{}'", i % 25),
                     "types": ["Ingress", "Egress"],
                     "ingress": [
                        {"action": "Allow", "protocol": "TCP",
                         "source": {"selector": format!("role == 'r{}' && app != 'a{}'", i % 7, i % 13)},
                         "destination": {"ports": [80 + (i % 100) as u16, "8000:8100"]}},
                        {"action": "Allow", "protocol": "UDP",
                         "source": {"nets": [format!("192.0.2.{}/32", i % 250 + 1)]},
                         "destination": {"ports": [53]}},
                        {"action": "Deny"}],
                     "egress": [{"action": "Allow"}]}
        }))?;
    }
    Ok(())
}

fn status_kb(pid: u32) -> Result<(u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> Result<u64> {
        s.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("{name} in /proc/{pid}/status"))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

// `ip netns exec` and valgrind both exec, so the child's pid is calico-node's.
fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let weps: usize = args.next().map_or(Ok(100), |a| a.parse())?;
    let gnps: usize = args.next().map_or(Ok(1000), |a| a.parse())?;
    let bin = std::env::current_exe()?
        .parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("calico-node"))
        .context("where calico-node is")?;
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("calico.db");
    let client = Client::connect(&DatastoreConfig {
        datastore_type: DatastoreType::Embedded,
        embedded_path: db.clone(),
        etcd: Default::default(),
    })?;
    let t = Instant::now();
    populate(&client, weps, gnps)?;
    eprintln!(
        "store: {weps} local WorkloadEndpoints, {gnps} GlobalNetworkPolicies ({:.1} s)",
        t.elapsed().as_secs_f64()
    );
    let ns = Netns::new()?;
    let wrap = std::env::var("WRAP").unwrap_or_default();
    let mut cmd_line: Vec<String> = wrap.split_whitespace().map(String::from).collect();
    cmd_line.push(bin.display().to_string());
    let log = std::fs::File::create(dir.path().join("node.log"))?;
    let child = Command::new("ip")
        .args(["netns", "exec", &ns.0])
        .args(&cmd_line)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NODENAME", NODE)
        .env("IP", "10.99.0.1/24")
        .env("CALICO_IPV4POOL_CIDR", "10.244.0.0/16")
        .env("CALICO_DATASTORE_PATH", &db)
        .env("CALICO_NODENAME_FILE", dir.path().join("nodename"))
        .env("FELIX_MTUFILEPATH", dir.path().join("mtu"))
        .env("FELIX_LOGSEVERITYSCREEN", "Warning")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?;
    let pid = child.id();
    let mut node = Proc(child);
    let t = Instant::now();
    let limit = Duration::from_secs(if wrap.is_empty() { 60 } else { 600 });
    loop {
        if let Ok(Some(st)) = node.0.try_wait() {
            bail!(
                "calico-node exited ({st}):\n{}",
                std::fs::read_to_string(dir.path().join("node.log")).unwrap_or_default()
            );
        }
        if ns.get("/readiness") == Some(200) {
            break;
        }
        if t.elapsed() > limit {
            bail!("calico-node not ready after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let ready = t.elapsed();
    let (rss_ready, _) = status_kb(pid)?;
    std::thread::sleep(Duration::from_secs(5));
    let (rss, hwm) = status_kb(pid)?;
    println!(
        "{weps} local endpoints, {gnps} policies: ready in {:.2} s; VmRSS at ready {:.1} MB, \
         after 5 s {:.1} MB; VmHWM {:.1} MB",
        ready.as_secs_f64(),
        rss_ready as f64 / 1024.0,
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0
    );
    drop(node);
    drop(ns);
    Ok(())
}
