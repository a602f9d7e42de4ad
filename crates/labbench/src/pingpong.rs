//! A small TCP request/response tool: 1-byte request, 1-byte response.
//!
//! The server answers one connection at a time (clients here are sequential). The client
//! measures either `rr` (many round trips over one connection) or `crr` (a new connection per
//! round trip: connect, request, response, close), bounded by a count and a time.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::stats::percentile;

/// Serve forever (until killed).
pub fn serve(port: u16) -> Result<()> {
    let l = TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], port)))
        .with_context(|| format!("bind tcp/{port}"))?;
    for s in l.incoming() {
        let Ok(mut s) = s else { continue };
        let _ = s.set_nodelay(true);
        let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
        let mut b = [0u8; 1];
        while let Ok(1) = s.read(&mut b) {
            if s.write_all(&b).is_err() {
                break;
            }
        }
    }
    Ok(())
}

/// What the client measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Rr,
    Crr,
}

/// Round-trip times in microseconds.
#[derive(Clone, Debug)]
pub struct Sample {
    pub count: usize,
    pub p50_us: f64,
    pub p99_us: f64,
    pub mean_us: f64,
}

impl Sample {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"count": self.count, "p50_us": self.p50_us, "p99_us": self.p99_us, "mean_us": self.mean_us})
    }

    pub fn from_json(v: &serde_json::Value) -> Result<Sample> {
        let f = |k: &str| {
            v.get(k)
                .and_then(serde_json::Value::as_f64)
                .with_context(|| format!("pingpong output {v}: no number {k:?}"))
        };
        Ok(Sample {
            count: f("count")? as usize,
            p50_us: f("p50_us")?,
            p99_us: f("p99_us")?,
            mean_us: f("mean_us")?,
        })
    }
}

fn round_trip(s: &mut TcpStream) -> Result<()> {
    s.write_all(b"x")?;
    let mut b = [0u8; 1];
    s.read_exact(&mut b)?;
    Ok(())
}

fn connect(addr: SocketAddr) -> Result<TcpStream> {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .with_context(|| format!("connect {addr}"))?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    Ok(s)
}

/// Measure: `warmup` round trips first (not counted), then up to `count` within `max`.
pub fn client(
    addr: SocketAddr,
    mode: Mode,
    warmup: usize,
    count: usize,
    max: Duration,
) -> Result<Sample> {
    let mut rtts = Vec::with_capacity(count);
    let start = Instant::now();
    match mode {
        Mode::Rr => {
            let mut s = connect(addr)?;
            for _ in 0..warmup {
                round_trip(&mut s)?;
            }
            while rtts.len() < count && start.elapsed() < max {
                let t = Instant::now();
                round_trip(&mut s)?;
                rtts.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        Mode::Crr => {
            for _ in 0..warmup {
                let mut s = connect(addr)?;
                round_trip(&mut s)?;
            }
            while rtts.len() < count && start.elapsed() < max {
                let t = Instant::now();
                let mut s = connect(addr)?;
                round_trip(&mut s)?;
                drop(s);
                rtts.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
    }
    if rtts.is_empty() {
        bail!("no round trip to {addr} within {max:?}");
    }
    Ok(Sample {
        count: rtts.len(),
        p50_us: percentile(&rtts, 50.0),
        p99_us: percentile(&rtts, 99.0),
        mean_us: rtts.iter().sum::<f64>() / rtts.len() as f64,
    })
}
