//! `calico-lab probe`: every pod to every pod (itself included, as in Kubernetes' e2e truth
//! tables), in parallel on a bounded pool of threads; each probe runs on a thread that has
//! entered the client pod's namespace, with a bounded timeout.
//!
//! TCP: a connection is established within the timeout. UDP: a datagram is answered within
//! the timeout (one retry). ICMP: `ping -c1` answered within the timeout (one retry).

use std::fs::File;
use std::io::Read;
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{LabError, Result};
use crate::state::LabDir;
use crate::sys;

/// The most probe threads at once.
pub const MAX_THREADS: usize = 96;

/// What a probe sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
    Icmp,
}

impl Protocol {
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Ok(Self::Tcp),
            "udp" => Ok(Self::Udp),
            "icmp" => Ok(Self::Icmp),
            _ => Err(LabError::Invalid(format!(
                "--protocol {s:?}: expected tcp, udp or icmp"
            ))),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
            Self::Icmp => "icmp",
        }
    }
}

/// A reachability matrix: rows are clients, columns servers, `true` where the probe succeeded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matrix {
    pub protocol: String,
    pub port: u16,
    pub pods: Vec<String>,
    pub matrix: Vec<Vec<bool>>,
}

impl Matrix {
    /// Whether `from` reached `to` (`None` for unknown pods).
    pub fn get(&self, from: &str, to: &str) -> Option<bool> {
        let i = self.pods.iter().position(|p| p == from)?;
        let j = self.pods.iter().position(|p| p == to)?;
        Some(self.matrix[i][j])
    }

    /// A truth table as Kubernetes' e2e tests print it: a header of servers, one row per
    /// client, `.` where the connection succeeded and `X` where it did not.
    pub fn table(&self) -> String {
        let mut out = format!("{}/{}\n-", self.protocol.to_ascii_uppercase(), self.port);
        for p in &self.pods {
            out.push('\t');
            out.push_str(p);
        }
        out.push('\n');
        for (from, row) in self.pods.iter().zip(&self.matrix) {
            out.push_str(from);
            for ok in row {
                out.push('\t');
                out.push(if *ok { '.' } else { 'X' });
            }
            out.push('\n');
        }
        out
    }

    /// The cells where `self` and `other` (same pods) differ, as `from → to: got, expected`.
    pub fn diff(&self, expected: &Matrix) -> Vec<String> {
        let mut out = Vec::new();
        for (i, from) in self.pods.iter().enumerate() {
            for (j, to) in self.pods.iter().enumerate() {
                let got = self.matrix[i][j];
                match expected.get(from, to) {
                    Some(want) if want != got => out.push(format!(
                        "{from} -> {to}: {} but expected {}",
                        if got { "allowed" } else { "denied" },
                        if want { "allowed" } else { "denied" }
                    )),
                    _ => {}
                }
            }
        }
        out
    }
}

/// One pod as the prober sees it.
#[derive(Clone, Debug)]
pub struct Target {
    pub name: String,
    pub netns: PathBuf,
    pub ip: IpAddr,
}

/// Options of one probe round.
#[derive(Clone, Copy, Debug)]
pub struct ProbeOptions {
    pub protocol: Protocol,
    pub port: u16,
    pub timeout: Duration,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        Self {
            protocol: Protocol::Tcp,
            port: 80,
            timeout: Duration::from_secs(1),
        }
    }
}

/// The lab's pods with an address, sorted by name.
pub fn lab_targets(name: &str) -> Result<Vec<Target>> {
    let dir = LabDir::open(name, false)?;
    let st = dir.load()?;
    let mut out: Vec<Target> = st
        .pods
        .iter()
        .filter_map(|p| {
            Some(Target {
                name: p.key(),
                netns: sys::netns_path(&p.netns),
                ip: p.ip.parse().ok()?,
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Probe every lab pod to every lab pod.
pub fn probe_lab(name: &str, o: &ProbeOptions) -> Result<Matrix> {
    let targets = lab_targets(name)?;
    probe(&targets, o)
}

/// Probe every target to every target.
pub fn probe(targets: &[Target], o: &ProbeOptions) -> Result<Matrix> {
    let files: Vec<File> = targets
        .iter()
        .map(|t| {
            File::open(&t.netns)
                .map_err(|e| LabError::io("cannot open network namespace", &t.netns, e))
        })
        .collect::<Result<_>>()?;
    let n = targets.len();
    let jobs: Mutex<Vec<(usize, usize)>> = Mutex::new(
        (0..n)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .rev()
            .collect(),
    );
    let results: Mutex<Vec<Vec<bool>>> = Mutex::new(vec![vec![false; n]; n]);
    let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let threads = (n * n).clamp(1, MAX_THREADS);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let job = jobs.lock().ok().and_then(|mut j| j.pop());
                    let Some((i, j)) = job else { break };
                    if let Err(e) = sys::enter(&files[i], &targets[i].netns) {
                        if let Ok(mut errs) = errors.lock() {
                            errs.push(e.to_string());
                        }
                        continue;
                    }
                    let ok = probe_one(o, targets[j].ip);
                    if let Ok(mut r) = results.lock() {
                        r[i][j] = ok;
                    }
                }
            });
        }
    });
    let errors = errors.into_inner().unwrap_or_default();
    if let Some(e) = errors.first() {
        return Err(LabError::State(e.clone()));
    }
    Ok(Matrix {
        protocol: o.protocol.as_str().into(),
        port: if o.protocol == Protocol::Icmp {
            0
        } else {
            o.port
        },
        pods: targets.iter().map(|t| t.name.clone()).collect(),
        matrix: results.into_inner().unwrap_or_default(),
    })
}

/// One probe from the calling thread's namespace.
pub fn probe_one(o: &ProbeOptions, ip: IpAddr) -> bool {
    let addr = SocketAddr::new(ip, o.port);
    match o.protocol {
        Protocol::Tcp => TcpStream::connect_timeout(&addr, o.timeout).is_ok(),
        Protocol::Udp => (0..2).any(|_| udp_once(addr, o.timeout)),
        Protocol::Icmp => (0..2).any(|_| ping_once(ip, o.timeout)),
    }
}

fn udp_once(addr: SocketAddr, timeout: Duration) -> bool {
    let Ok(s) = UdpSocket::bind(("0.0.0.0", 0)) else {
        return false;
    };
    if s.connect(addr).is_err() || s.set_read_timeout(Some(timeout)).is_err() {
        return false;
    }
    if s.send(b"calico-lab probe\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 512];
    matches!(s.recv(&mut buf), Ok(n) if n > 0)
}

fn ping_once(ip: IpAddr, timeout: Duration) -> bool {
    let secs = timeout.as_secs().max(1).to_string();
    Command::new("ping")
        .args(["-c", "1", "-q", "-W", &secs, &ip.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Connect over TCP from inside `netns` and read the server's line (the lab's servers say
/// which source address they saw).
pub fn tcp_exchange(netns: &Path, addr: SocketAddr, timeout: Duration) -> Result<String> {
    sys::in_netns(netns, move || {
        let mut s = TcpStream::connect_timeout(&addr, timeout)
            .map_err(|e| LabError::State(format!("connect to {addr}: {e}")))?;
        s.set_read_timeout(Some(timeout))
            .map_err(|e| LabError::State(format!("{addr}: {e}")))?;
        let mut line = String::new();
        s.read_to_string(&mut line)
            .map_err(|e| LabError::State(format!("read from {addr}: {e}")))?;
        Ok(line.trim().to_string())
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn m() -> Matrix {
        Matrix {
            protocol: "tcp".into(),
            port: 80,
            pods: vec!["x/a".into(), "x/b".into()],
            matrix: vec![vec![true, false], vec![true, true]],
        }
    }

    #[test]
    fn json_shape() {
        assert_eq!(
            serde_json::to_string(&m()).unwrap(),
            r#"{"protocol":"tcp","port":80,"pods":["x/a","x/b"],"matrix":[[true,false],[true,true]]}"#
        );
    }

    #[test]
    fn truth_table() {
        assert_eq!(m().table(), "TCP/80\n-\tx/a\tx/b\nx/a\t.\tX\nx/b\t.\t.\n");
    }

    #[test]
    fn diffs() {
        let mut other = m();
        other.matrix[0][1] = true;
        assert_eq!(
            m().diff(&other),
            vec!["x/a -> x/b: denied but expected allowed".to_string()]
        );
        assert!(m().diff(&m()).is_empty());
    }

    #[test]
    fn protocols() {
        assert_eq!(Protocol::parse("UDP").unwrap(), Protocol::Udp);
        assert!(Protocol::parse("sctp").is_err());
    }
}
