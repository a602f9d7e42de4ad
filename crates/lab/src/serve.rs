//! The servers inside a pod (`calico-lab serve`, started by `pod add` in the pod's namespace).
//!
//! TCP: accept, write one line `<id> tcp/<port> from <peer>`, close. UDP: answer each datagram
//! with `<id> udp/<port> from <peer>`. The line tells a client the source address the server
//! saw (after any NAT), which the natOutgoing test reads.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::time::Duration;

use crate::error::{LabError, Result};

/// What to serve.
#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    pub id: String,
    pub tcp: Vec<u16>,
    pub udp: Vec<u16>,
    /// Written once every port is bound.
    pub ready_file: Option<PathBuf>,
    /// Address to bind (default 0.0.0.0).
    pub bind: Option<std::net::IpAddr>,
}

/// Parse `80,81`.
pub fn parse_ports(what: &str, s: &str) -> Result<Vec<u16>> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<u16>().ok().filter(|n| *n != 0).ok_or_else(|| {
                LabError::Invalid(format!(
                    "{what} {p:?}: expected ports 1-65535, comma-separated"
                ))
            })
        })
        .collect()
}

/// Bind every port, then serve forever (until killed).
pub fn serve(o: &ServeOptions) -> Result<()> {
    let ip = o.bind.unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
    let mut tcp = Vec::new();
    for p in &o.tcp {
        let addr = SocketAddr::new(ip, *p);
        tcp.push((
            *p,
            TcpListener::bind(addr)
                .map_err(|e| LabError::State(format!("bind tcp {addr}: {e}")))?,
        ));
    }
    let mut udp = Vec::new();
    for p in &o.udp {
        let addr = SocketAddr::new(ip, *p);
        udp.push((
            *p,
            UdpSocket::bind(addr).map_err(|e| LabError::State(format!("bind udp {addr}: {e}")))?,
        ));
    }
    if let Some(f) = &o.ready_file {
        std::fs::write(f, b"ready\n").map_err(|e| LabError::io("cannot write", f, e))?;
    }
    let mut threads = Vec::new();
    for (port, l) in tcp {
        let id = o.id.clone();
        threads.push(std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(mut s) = conn else { continue };
                let peer = s
                    .peer_addr()
                    .map(|a| a.ip().to_string())
                    .unwrap_or_default();
                let _ = s.set_write_timeout(Some(Duration::from_secs(1)));
                let _ = s.write_all(format!("{id} tcp/{port} from {peer}\n").as_bytes());
            }
        }));
    }
    for (port, sock) in udp {
        let id = o.id.clone();
        threads.push(std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            loop {
                let Ok((_, from)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                let _ = sock.send_to(
                    format!("{id} udp/{port} from {}\n", from.ip()).as_bytes(),
                    from,
                );
            }
        }));
    }
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}
