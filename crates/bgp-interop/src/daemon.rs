//! Real BGP daemons (BIRD 2, FRR bgpd, GoBGP) run inside a harness namespace, with their
//! configuration, logs and control sockets in a temporary directory. Dropping a [`Daemon`]
//! kills it.

use std::fs::File;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use ipnet::Ipv4Net;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tempfile::TempDir;

use crate::config::{PeerConfig, bird_proto_name, render_bird, render_frr, render_gobgp};
use crate::error::{Error, Result, io};
use crate::lab::{Node, run};

/// Which daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bird,
    Frr,
    Gobgp,
}

impl Kind {
    /// All three, for matrices.
    pub const ALL: [Kind; 3] = [Kind::Bird, Kind::Frr, Kind::Gobgp];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Bird => "BIRD",
            Kind::Frr => "FRR",
            Kind::Gobgp => "GoBGP",
        }
    }

    /// The binaries this kind needs and the Debian package providing them.
    fn binaries(self) -> (&'static [&'static str], &'static str) {
        match self {
            Kind::Bird => (&["/usr/sbin/bird", "/usr/sbin/birdc"], "bird2"),
            Kind::Frr => (&["/usr/lib/frr/bgpd", "/usr/bin/vtysh"], "frr"),
            Kind::Gobgp => (&["/usr/bin/gobgpd", "/usr/bin/gobgp"], "gobgpd"),
        }
    }

    /// Fails with the Debian package name when a binary is missing.
    pub fn check_installed(self) -> Result<()> {
        let (bins, package) = self.binaries();
        for b in bins {
            if !Path::new(b).exists() {
                return Err(Error::MissingBinary { binary: b, package });
            }
        }
        Ok(())
    }
}

/// Session state of one neighbour as the daemon reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerState {
    Established,
    /// Any other state, in the daemon's words.
    Other(String),
}

/// A route in the daemon's RIB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RibRoute {
    pub prefix: Ipv4Net,
    /// Learned from a neighbour (as opposed to originated locally).
    pub learned: bool,
}

/// A running daemon.
#[derive(Debug)]
pub struct Daemon {
    kind: Kind,
    ns: String,
    cfg: PeerConfig,
    originate: Vec<Ipv4Net>,
    dir: TempDir,
    child: Option<Child>,
}

const GOBGP_API: &str = "127.0.0.1:50051";
const READY_TIMEOUT: Duration = Duration::from_secs(10);

impl Daemon {
    /// Start `kind` in `node`'s namespace with `cfg`, and wait until its control interface
    /// answers.
    pub fn start(kind: Kind, node: &Node, cfg: PeerConfig) -> Result<Self> {
        kind.check_installed()?;
        let dir = tempfile::Builder::new()
            .prefix("bgpi-")
            .tempdir()
            .map_err(io("creating the daemon's temporary directory"))?;
        let mut d = Self {
            kind,
            ns: node.ns().to_owned(),
            originate: cfg.originate.clone(),
            cfg,
            dir,
            child: None,
        };
        d.spawn(false)?;
        Ok(d)
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The daemon's process ID while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn path(&self, f: &str) -> PathBuf {
        self.dir.path().join(f)
    }

    fn write_config(&self) -> Result<PathBuf> {
        let (name, text) = match self.kind {
            Kind::Bird => (
                "bird.conf",
                render_bird(&self.cfg, &self.originate, &self.path("bird.log")),
            ),
            Kind::Frr => (
                "bgpd.conf",
                render_frr(&self.cfg, &self.originate, &self.path("bgpd.log")),
            ),
            Kind::Gobgp => ("gobgpd.toml", render_gobgp(&self.cfg)),
        };
        let p = self.path(name);
        std::fs::write(&p, text).map_err(io(format!("writing {}", p.display())))?;
        Ok(p)
    }

    fn spawn(&mut self, recovering: bool) -> Result<()> {
        let cfg = self.write_config()?;
        let cfg = cfg.to_string_lossy().into_owned();
        let out = File::create(self.path("stdout.log")).map_err(io("creating stdout.log"))?;
        let err = out.try_clone().map_err(io("cloning stdout.log"))?;
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns]);
        match self.kind {
            Kind::Bird => {
                let sock = self.path("bird.ctl").to_string_lossy().into_owned();
                let pid = self.path("bird.pid").to_string_lossy().into_owned();
                cmd.args(["/usr/sbin/bird", "-f", "-c", &cfg, "-s", &sock, "-P", &pid]);
                if recovering {
                    cmd.arg("-R");
                }
            }
            Kind::Frr => {
                let d = self.dir.path().to_string_lossy().into_owned();
                let pid = self.path("bgpd.pid").to_string_lossy().into_owned();
                let z = self.path("zserv.api").to_string_lossy().into_owned();
                let local = self.cfg.local_addr.to_string();
                cmd.args([
                    "/usr/lib/frr/bgpd",
                    "-Z",
                    "-S",
                    "-f",
                    &cfg,
                    "-i",
                    &pid,
                    "-z",
                    &z,
                    "--vty_socket",
                    &d,
                    "-P",
                    "0",
                    "-l",
                    &local,
                ]);
            }
            Kind::Gobgp => {
                cmd.args([
                    "/usr/bin/gobgpd",
                    "-f",
                    &cfg,
                    "--api-hosts",
                    GOBGP_API,
                    "--pprof-disable",
                    "-p",
                ]);
                if recovering {
                    cmd.arg("-r");
                }
            }
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(io(format!("starting {}", self.kind.name())))?;
        self.child = Some(child);
        self.wait_ready()?;
        if self.kind == Kind::Gobgp {
            for p in self.originate.clone() {
                self.gobgp(&["global", "rib", "add", "-a", "ipv4", &p.to_string()])?;
            }
        }
        Ok(())
    }

    fn wait_ready(&mut self) -> Result<()> {
        let start = Instant::now();
        loop {
            let probe = match self.kind {
                Kind::Bird => self.birdc(&["show", "status"]).map(|_| ()),
                Kind::Frr => self.vtysh(&["show bgp summary"]).map(|_| ()),
                Kind::Gobgp => self.gobgp(&["global"]).map(|_| ()),
            };
            match probe {
                Ok(()) => return Ok(()),
                Err(e) => {
                    if let Some(c) = self.child.as_mut()
                        && let Ok(Some(status)) = c.try_wait()
                    {
                        return Err(Error::Command {
                            cmd: format!("{} in {}", self.kind.name(), self.ns),
                            detail: format!("exited with {status}: {}", self.log()),
                        });
                    }
                    if start.elapsed() > READY_TIMEOUT {
                        return Err(Error::Timeout {
                            what: format!("{} control interface ({e})", self.kind.name()),
                            after: READY_TIMEOUT,
                        });
                    }
                    sleep(Duration::from_millis(50));
                }
            }
        }
    }

    fn birdc(&self, args: &[&str]) -> Result<String> {
        let sock = self.path("bird.ctl").to_string_lossy().into_owned();
        let mut full = vec!["-s", sock.as_str()];
        full.extend_from_slice(args);
        run("/usr/sbin/birdc", &full)
    }

    fn vtysh(&self, cmds: &[&str]) -> Result<String> {
        let d = self.dir.path().to_string_lossy().into_owned();
        let mut full = vec!["--vty_socket", d.as_str(), "-d", "bgpd"];
        for c in cmds {
            full.push("-c");
            full.push(c);
        }
        run("/usr/bin/vtysh", &full)
    }

    fn gobgp(&self, args: &[&str]) -> Result<String> {
        let mut full = vec![
            "netns",
            "exec",
            self.ns.as_str(),
            "/usr/bin/gobgp",
            "-u",
            "127.0.0.1",
            "-p",
            "50051",
        ];
        full.extend_from_slice(args);
        run("ip", &full)
    }

    fn parse_err(&self, what: &str, detail: impl Into<String>) -> Error {
        Error::Parse {
            peer: self.kind.name().into(),
            what: what.into(),
            detail: detail.into(),
        }
    }

    fn json(&self, what: &str, text: &str) -> Result<serde_json::Value> {
        serde_json::from_str(text).map_err(|e| self.parse_err(what, format!("{e}: {text}")))
    }

    /// The session state with `neighbor`.
    pub fn state(&self, neighbor: Ipv4Addr) -> Result<PeerState> {
        let s = match self.kind {
            Kind::Bird => {
                let name = bird_proto_name(neighbor);
                let out = self.birdc(&["show", "protocols", &name])?;
                let line = out
                    .lines()
                    .find(|l| l.starts_with(&name))
                    .ok_or_else(|| self.parse_err("show protocols", out.clone()))?;
                line.split_whitespace()
                    .skip(5)
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            Kind::Frr => {
                let out = self.vtysh(&[&format!("show bgp neighbors {neighbor} json")])?;
                let v = self.json("show bgp neighbors json", &out)?;
                v.get(neighbor.to_string())
                    .and_then(|n| n.get("bgpState"))
                    .and_then(|s| s.as_str())
                    .unwrap_or("unknown")
                    .to_owned()
            }
            Kind::Gobgp => {
                let out = self.gobgp(&["neighbor", "-j"])?;
                let v = self.json("neighbor -j", &out)?;
                let n = v
                    .as_array()
                    .and_then(|a| {
                        a.iter().find(|n| {
                            n.pointer("/state/neighbor_address")
                                .or_else(|| n.pointer("/conf/neighbor_address"))
                                .and_then(|x| x.as_str())
                                == Some(&neighbor.to_string())
                        })
                    })
                    .ok_or_else(|| self.parse_err("neighbor -j", out.clone()))?;
                match n.pointer("/state/session_state") {
                    Some(serde_json::Value::Number(x)) if x.as_u64() == Some(6) => {
                        "Established".into()
                    }
                    Some(serde_json::Value::Number(x)) => format!("state {x}"),
                    Some(serde_json::Value::String(x)) => x.clone(),
                    _ => "unknown".into(),
                }
            }
        };
        Ok(if s.to_ascii_lowercase().starts_with("established") {
            PeerState::Established
        } else {
            PeerState::Other(s)
        })
    }

    /// Wait (bounded) for the session with `neighbor` to be Established.
    pub fn wait_established(&self, neighbor: Ipv4Addr, timeout: Duration) -> Result<()> {
        let mut last = String::new();
        wait(
            timeout,
            &format!("{} session with {neighbor}", self.kind.name()),
            || match self.state(neighbor) {
                Ok(PeerState::Established) => true,
                Ok(PeerState::Other(s)) => {
                    last = s;
                    false
                }
                Err(e) => {
                    last = e.to_string();
                    false
                }
            },
        )
        .map_err(|e| match e {
            Error::Timeout { what, after } => Error::Timeout {
                what: format!("{what} (last state: {last}; log: {})", self.log()),
                after,
            },
            e => e,
        })
    }

    /// The IPv4 unicast routes in the daemon's RIB (best paths).
    pub fn routes(&self) -> Result<Vec<RibRoute>> {
        let mut v = Vec::new();
        match self.kind {
            Kind::Bird => {
                let out = self.birdc(&["show", "route"])?;
                for l in out.lines() {
                    let Some(first) = l.split_whitespace().next() else {
                        continue;
                    };
                    if l.starts_with(char::is_whitespace) {
                        continue;
                    }
                    if let Ok(prefix) = first.parse::<Ipv4Net>() {
                        v.push(RibRoute {
                            prefix,
                            learned: !l.contains("[originated"),
                        });
                    }
                }
            }
            Kind::Frr => {
                let out = self.vtysh(&["show bgp ipv4 unicast json"])?;
                let j = self.json("show bgp ipv4 unicast json", &out)?;
                if let Some(routes) = j.get("routes").and_then(|r| r.as_object()) {
                    for (p, paths) in routes {
                        let Ok(prefix) = p.parse::<Ipv4Net>() else {
                            continue;
                        };
                        let learned = paths.as_array().is_some_and(|a| {
                            a.iter().any(|x| {
                                x.get("peerId")
                                    .and_then(|s| s.as_str())
                                    .unwrap_or("(unspec)")
                                    != "(unspec)"
                            })
                        });
                        v.push(RibRoute { prefix, learned });
                    }
                }
            }
            Kind::Gobgp => {
                let out = self.gobgp(&["global", "rib", "-a", "ipv4", "-j"])?;
                let j = self.json("global rib -j", &out)?;
                if let Some(routes) = j.as_object() {
                    for (p, paths) in routes {
                        let Ok(prefix) = p.parse::<Ipv4Net>() else {
                            continue;
                        };
                        let learned = paths.as_array().is_some_and(|a| {
                            a.iter().any(|x| {
                                let n = x.get("neighbor-ip").and_then(|s| s.as_str());
                                !matches!(n, None | Some("<nil>") | Some(""))
                            })
                        });
                        v.push(RibRoute { prefix, learned });
                    }
                }
            }
        }
        Ok(v)
    }

    /// Wait (bounded) until `prefix` is (or is no longer) a learned route in the RIB.
    pub fn wait_route(&self, prefix: Ipv4Net, present: bool, timeout: Duration) -> Result<()> {
        let what = format!(
            "{} to {} {prefix}",
            self.kind.name(),
            if present { "learn" } else { "drop" }
        );
        wait(timeout, &what, || {
            self.routes()
                .map(|r| r.iter().any(|x| x.prefix == prefix && x.learned) == present)
                .unwrap_or(false)
        })
    }

    /// Originate `prefix` from now on.
    pub fn inject(&mut self, prefix: Ipv4Net) -> Result<()> {
        if !self.originate.contains(&prefix) {
            self.originate.push(prefix);
        }
        let p = prefix.to_string();
        match self.kind {
            Kind::Bird => self.bird_reconfigure(),
            Kind::Frr => {
                let rb = format!("router bgp {}", self.cfg.asn);
                self.vtysh(&[
                    "configure terminal",
                    &rb,
                    "address-family ipv4 unicast",
                    &format!("network {p}"),
                ])
                .map(|_| ())
            }
            Kind::Gobgp => self
                .gobgp(&["global", "rib", "add", "-a", "ipv4", &p])
                .map(|_| ()),
        }
    }

    /// Stop originating `prefix`.
    pub fn withdraw(&mut self, prefix: Ipv4Net) -> Result<()> {
        self.originate.retain(|p| *p != prefix);
        let p = prefix.to_string();
        match self.kind {
            Kind::Bird => self.bird_reconfigure(),
            Kind::Frr => {
                let rb = format!("router bgp {}", self.cfg.asn);
                self.vtysh(&[
                    "configure terminal",
                    &rb,
                    "address-family ipv4 unicast",
                    &format!("no network {p}"),
                ])
                .map(|_| ())
            }
            Kind::Gobgp => self
                .gobgp(&["global", "rib", "del", "-a", "ipv4", &p])
                .map(|_| ()),
        }
    }

    fn bird_reconfigure(&self) -> Result<()> {
        self.write_config()?;
        let out = self.birdc(&["configure"])?;
        if out.contains("Reconfigured") || out.contains("Reconfiguration in progress") {
            Ok(())
        } else {
            Err(self.parse_err("configure", out))
        }
    }

    /// Kill the daemon abruptly (SIGKILL: no NOTIFICATION, as in a crash), for graceful-restart
    /// tests. The configuration stays for [`Daemon::restart`].
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stop the daemon politely (SIGTERM, then SIGKILL after 3 s).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            if let Ok(pid) = i32::try_from(c.id()) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            }
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(3) {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Start again with the same configuration (after [`Daemon::kill`] or [`Daemon::stop`]),
    /// flagged as restarting for graceful restart where the daemon supports it (BIRD `-R`,
    /// GoBGP `-r`).
    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        self.spawn(true)
    }

    /// Resident set size of the daemon, in KiB.
    pub fn rss_kib(&self) -> Result<u64> {
        let pid = self
            .pid()
            .ok_or_else(|| self.parse_err("rss", "not running"))?;
        let s = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .map_err(io(format!("reading /proc/{pid}/status")))?;
        s.lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| self.parse_err("VmRSS", s.clone()))
    }

    /// The daemon's log files, for failure messages.
    pub fn log(&self) -> String {
        let mut s = String::new();
        for f in ["stdout.log", "bird.log", "bgpd.log"] {
            if let Ok(t) = std::fs::read_to_string(self.path(f)) {
                let tail: Vec<&str> = t.lines().rev().take(15).collect();
                s.push_str(&format!("[{f}] "));
                for l in tail.iter().rev() {
                    s.push_str(l);
                    s.push('\n');
                }
            }
        }
        s
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Poll `f` every 50 ms until it is true, at most `timeout`.
pub fn wait(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) -> Result<()> {
    let start = Instant::now();
    loop {
        if f() {
            return Ok(());
        }
        if start.elapsed() > timeout {
            return Err(Error::Timeout {
                what: what.to_owned(),
                after: timeout,
            });
        }
        sleep(Duration::from_millis(50));
    }
}
