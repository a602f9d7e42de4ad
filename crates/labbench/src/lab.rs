//! A calico-lab brought up for the benchmark (driven through the `calico-lab` binary as a
//! user would), `calicoctl` against its datastore, and a prober thread inside a pod.

use std::fs::File;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use calico_lab::state::{LabDir, LabState};

use crate::sys::{delete_netns, netns_with_prefix, pid_alive};

/// Prefix of our lab names: `lb<pid>`.
pub const LAB_PREFIX: &str = "lb";

/// The directory holding the binaries (next to this one: target/release).
pub fn bin_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("current_exe")?;
    Ok(exe
        .parent()
        .context("executable has no directory")?
        .to_path_buf())
}

pub fn bin(name: &str) -> Result<PathBuf> {
    let p = bin_dir()?.join(name);
    if !p.is_file() {
        bail!(
            "{} is not built: run `cargo build --release -p calico-lab -p calico-node -p calico-cni-plugin -p calicoctl -p calico-labbench`",
            p.display()
        );
    }
    Ok(p)
}

fn owner_pid(name: &str, prefix: &str) -> Option<u32> {
    name.strip_prefix(prefix)?.split('-').next()?.parse().ok()
}

/// Remove labs and namespaces of earlier benchmark runs whose process is gone.
pub fn remove_stale(floor_prefix: &str) -> Result<()> {
    let lab = bin("calico-lab")?;
    if let Ok(entries) = std::fs::read_dir(calico_lab::state::DEFAULT_STATE_ROOT) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if owner_pid(&name, LAB_PREFIX).is_some_and(|p| !pid_alive(p)) {
                eprintln!("removing stale lab {name} of an earlier benchmark run");
                let _ = Command::new(&lab).args(["down", "--name", &name]).output();
            }
        }
    }
    for ns in netns_with_prefix(&format!("cl-{LAB_PREFIX}"))
        .into_iter()
        .chain(netns_with_prefix(floor_prefix))
    {
        let rest = ns
            .strip_prefix("cl-")
            .and_then(|r| r.strip_prefix(LAB_PREFIX))
            .or_else(|| ns.strip_prefix(floor_prefix));
        let pid = rest.and_then(|r| r.split('-').next().and_then(|p| p.parse::<u32>().ok()));
        if pid.is_some_and(|p| !pid_alive(p)) {
            eprintln!("removing stale namespace {ns} of an earlier benchmark run");
            delete_netns(&ns);
        }
    }
    Ok(())
}

/// A lab that is brought down when dropped.
pub struct Lab {
    pub name: String,
    lab_bin: PathBuf,
    calicoctl: PathBuf,
}

impl Lab {
    pub fn up(name: &str, nodes: usize) -> Result<Lab> {
        let lab = Lab {
            name: name.to_string(),
            lab_bin: bin("calico-lab")?,
            calicoctl: bin("calicoctl")?,
        };
        bin("calico-node")?;
        bin("calico")?;
        lab.ok(&["up", "--nodes", &nodes.to_string()])?;
        Ok(lab)
    }

    pub fn ok(&self, args: &[&str]) -> Result<String> {
        let o = Command::new(&self.lab_bin)
            .args(["--name", &self.name])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .context("cannot run calico-lab")?;
        if !o.status.success() {
            bail!(
                "calico-lab --name {} {} failed:\n{}{}",
                self.name,
                args.join(" "),
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&o.stdout).into_owned())
    }

    pub fn state(&self) -> Result<LabState> {
        Ok(LabDir::open(&self.name, false)?.load()?)
    }

    /// A pod's namespace and address.
    pub fn pod(&self, ns: &str, name: &str) -> Result<(String, String)> {
        let st = self.state()?;
        let p = st
            .pod(ns, name)
            .ok_or_else(|| anyhow!("pod {ns}/{name} is not in lab {}", self.name))?;
        Ok((p.netns.clone(), p.ip.clone()))
    }

    /// calico-node's pid on node `i`.
    pub fn node_pid(&self, i: usize) -> Result<i32> {
        let st = self.state()?;
        st.node(i)?
            .calico_node
            .as_ref()
            .map(|p| p.pid)
            .ok_or_else(|| anyhow!("node {i} has no calico-node"))
    }

    pub fn node_netns(&self, i: usize) -> Result<String> {
        Ok(self.state()?.node(i)?.netns.clone())
    }

    /// Start `calicoctl ARGS` with `input` on stdin (against the lab's datastore).
    fn calicoctl_cmd(&self, args: &[&str]) -> Result<Command> {
        let st = self.state()?;
        let mut c = Command::new(&self.calicoctl);
        c.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in calico_lab::ops::lab_env(&st) {
            c.env(k, v);
        }
        Ok(c)
    }

    /// Run `calicoctl ARGS` (stdin `input`); how long it ran.
    pub fn calicoctl(&self, args: &[&str], input: &str) -> Result<Duration> {
        let mut cmd = self.calicoctl_cmd(args)?;
        let t = Instant::now();
        self.finish(cmd.spawn().context("cannot run calicoctl")?, args, input)?;
        Ok(t.elapsed())
    }

    /// Start `calicoctl`, returning the child and the instant before the spawn; `finish` it.
    pub fn calicoctl_start(&self, args: &[&str]) -> Result<(std::process::Child, Instant)> {
        let mut cmd = self.calicoctl_cmd(args)?;
        let t = Instant::now();
        let child = cmd.spawn().context("cannot run calicoctl")?;
        Ok((child, t))
    }

    pub fn finish(&self, mut child: std::process::Child, args: &[&str], input: &str) -> Result<()> {
        child
            .stdin
            .take()
            .context("no stdin")?
            .write_all(input.as_bytes())?;
        let o = child.wait_with_output()?;
        if !o.status.success() {
            bail!(
                "calicoctl {} failed: {}{}",
                args.join(" "),
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        Ok(())
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        match self.ok(&["down"]) {
            Ok(_) => eprintln!("lab {} is down", self.name),
            Err(e) => eprintln!("{e}"),
        }
    }
}

enum ProbeCmd {
    /// Connect until one succeeds (or `max`); time since `t0`.
    Open(SocketAddr, Instant, Duration),
    /// Connect until one fails.
    Closed(SocketAddr, Instant, Duration),
}

/// A thread inside a network namespace that opens fresh TCP connections to find out when a
/// path opens or closes (each attempt a new connection with a short timeout, so the
/// resolution is about `ATTEMPT`).
pub struct Prober {
    tx: Option<Sender<ProbeCmd>>,
    rx: Receiver<Option<Duration>>,
    handle: Option<JoinHandle<()>>,
}

/// Timeout of one connection attempt while waiting for a path to open.
pub const ATTEMPT: Duration = Duration::from_millis(5);
/// Timeout of one attempt while waiting for a path to close, and how many in a row must fail.
pub const CLOSED_ATTEMPT: Duration = Duration::from_millis(20);
pub const CLOSED_STREAK: u32 = 3;

impl Prober {
    pub fn new(netns: &str) -> Result<Prober> {
        let path = Path::new("/run/netns").join(netns);
        let f = File::open(&path).with_context(|| format!("open {}", path.display()))?;
        let (tx, crx) = channel::<ProbeCmd>();
        let (rtx, rx) = channel();
        let (ready_tx, ready_rx) = channel();
        let handle = std::thread::Builder::new()
            .name(format!("probe-{netns}"))
            .spawn(move || {
                if let Err(e) = nix::sched::setns(&f, nix::sched::CloneFlags::CLONE_NEWNET) {
                    let _ = ready_tx.send(Err(e.to_string()));
                    return;
                }
                let _ = ready_tx.send(Ok(()));
                while let Ok(cmd) = crx.recv() {
                    let (addr, t0, max, want_open) = match cmd {
                        ProbeCmd::Open(a, t, m) => (a, t, m, true),
                        ProbeCmd::Closed(a, t, m) => (a, t, m, false),
                    };
                    let mut res = None;
                    // Closing: the start of the first of CLOSED_STREAK failed attempts in a
                    // row (a slow but allowed connect on a loaded machine is not a close).
                    let mut streak: Option<Duration> = None;
                    let mut fails = 0;
                    while t0.elapsed() < max {
                        let began = t0.elapsed();
                        let timeout = if want_open { ATTEMPT } else { CLOSED_ATTEMPT };
                        let open = TcpStream::connect_timeout(&addr, timeout).is_ok();
                        if want_open && open {
                            res = Some(t0.elapsed());
                            break;
                        }
                        if !want_open {
                            if open {
                                streak = None;
                                fails = 0;
                            } else {
                                streak.get_or_insert(began);
                                fails += 1;
                                if fails >= CLOSED_STREAK {
                                    res = streak;
                                    break;
                                }
                            }
                        }
                        if !open && began + timeout > t0.elapsed() {
                            // Refused (not dropped) returns at once: do not spin.
                            std::thread::sleep(Duration::from_micros(500));
                        }
                    }
                    if rtx.send(res).is_err() {
                        return;
                    }
                }
            })
            .context("cannot start the prober thread")?;
        ready_rx
            .recv()
            .context("prober thread died")?
            .map_err(|e| anyhow!("setns into {netns}: {e}"))?;
        Ok(Prober {
            tx: Some(tx),
            rx,
            handle: Some(handle),
        })
    }

    fn send(&self, c: ProbeCmd) -> Result<()> {
        self.tx
            .as_ref()
            .context("prober stopped")?
            .send(c)
            .map_err(|_| anyhow!("prober thread is gone"))
    }

    /// Begin waiting for `addr` to accept connections (time counted from `t0`).
    pub fn start_open(&self, addr: SocketAddr, t0: Instant, max: Duration) -> Result<()> {
        self.send(ProbeCmd::Open(addr, t0, max))
    }

    pub fn start_closed(&self, addr: SocketAddr, t0: Instant, max: Duration) -> Result<()> {
        self.send(ProbeCmd::Closed(addr, t0, max))
    }

    /// The result of the last `start_*`: time from `t0`, or `None` at the deadline.
    pub fn result(&self) -> Result<Option<Duration>> {
        self.rx.recv().map_err(|_| anyhow!("prober thread is gone"))
    }

    pub fn wait_open(&self, addr: SocketAddr, max: Duration) -> Result<Option<Duration>> {
        self.start_open(addr, Instant::now(), max)?;
        self.result()
    }

    pub fn wait_closed(&self, addr: SocketAddr, max: Duration) -> Result<Option<Duration>> {
        self.start_closed(addr, Instant::now(), max)?;
        self.result()
    }
}

impl Drop for Prober {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// `VmRSS` and `VmHWM` of a process, in kB.
pub fn memory_kb(pid: i32) -> Result<(u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("read /proc/{pid}/status"))?;
    let field = |k: &str| -> Result<u64> {
        s.lines()
            .find_map(|l| l.strip_prefix(k))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("/proc/{pid}/status has no {k}"))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

/// CPU time (user + system) a process has used, in seconds (clock ticks of 1/100 s).
pub fn cpu_seconds(pid: i32) -> Result<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("read /proc/{pid}/stat"))?;
    // Fields after the `(comm)`: state is field 3, utime 14, stime 15.
    let rest = s
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("malformed /proc/pid/stat")?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| -> Result<f64> {
        f.get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .with_context(|| format!("/proc/{pid}/stat field {}", i + 3))
    };
    Ok((tick(11)? + tick(12)?) / 100.0)
}
