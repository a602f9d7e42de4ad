//! A raw TCP BGP peer: the socket is opened on a short-lived thread that entered the harness
//! namespace (`setns` on that thread only), then used from the caller's thread.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use nix::sched::{CloneFlags, setns};

use crate::error::{Error, Result, io};
use crate::msg::{self, KEEPALIVE, Message, OPEN};

/// A TCP connection to port 179 of a peer, speaking whatever bytes the test sends.
#[derive(Debug)]
pub struct RawPeer {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl RawPeer {
    /// Connect from namespace `ns` to `to`:179, retrying (the daemon may still be starting)
    /// until `timeout`.
    pub fn connect(ns: &str, to: Ipv4Addr, timeout: Duration) -> Result<Self> {
        let path = format!("/run/netns/{ns}");
        let start = Instant::now();
        loop {
            let p = path.clone();
            let r = std::thread::spawn(move || -> std::io::Result<TcpStream> {
                let f = File::open(&p)?;
                setns(f, CloneFlags::CLONE_NEWNET).map_err(std::io::Error::from)?;
                TcpStream::connect_timeout(&SocketAddr::from((to, 179)), Duration::from_secs(2))
            })
            .join()
            .map_err(|_| Error::Command {
                cmd: format!("connect from {ns} to {to}:179"),
                detail: "thread panicked".into(),
            })?;
            match r {
                Ok(stream) => {
                    stream.set_nodelay(true).map_err(io("TCP_NODELAY"))?;
                    return Ok(Self {
                        stream,
                        buf: Vec::new(),
                    });
                }
                Err(e) if start.elapsed() < timeout => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => {
                    return Err(Error::Timeout {
                        what: format!("TCP connection from {ns} to {to}:179 ({e})"),
                        after: timeout,
                    });
                }
            }
        }
    }

    /// A second handle on the same connection (for a reader thread; do not write from both).
    pub fn try_clone(&self) -> Result<Self> {
        Ok(Self {
            stream: self
                .stream
                .try_clone()
                .map_err(io("cloning the connection"))?,
            buf: Vec::new(),
        })
    }

    /// Send raw bytes.
    pub fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream
            .write_all(bytes)
            .map_err(io("sending to the peer"))
    }

    /// The next message, `Ok(None)` when the peer closed the connection; a timeout is an error.
    pub fn recv(&mut self, timeout: Duration) -> Result<Option<Message>> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.buf.len() >= 19 {
                let len = usize::from(u16::from_be_bytes([self.buf[16], self.buf[17]]));
                if len < 19 {
                    return Err(Error::Parse {
                        peer: "raw peer".into(),
                        what: "message header".into(),
                        detail: format!("length {len}"),
                    });
                }
                if self.buf.len() >= len {
                    let m = Message {
                        kind: self.buf[18],
                        body: self.buf[19..len].to_vec(),
                    };
                    self.buf.drain(..len);
                    return Ok(Some(m));
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout {
                    what: "a BGP message from the peer".into(),
                    after: timeout,
                });
            }
            self.stream
                .set_read_timeout(Some(left))
                .map_err(io("setting the read timeout"))?;
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(None),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return Ok(None),
                Err(e) => return Err(io("reading from the peer")(e)),
            }
        }
    }

    /// OPEN/KEEPALIVE exchange up to Established; returns the peer's OPEN.
    pub fn handshake(
        &mut self,
        asn: u32,
        hold: u16,
        router_id: Ipv4Addr,
        timeout: Duration,
    ) -> Result<Message> {
        self.send(&msg::open(asn, hold, router_id))?;
        let mut their_open = None;
        loop {
            match self.recv(timeout)? {
                None => {
                    return Err(Error::Command {
                        cmd: "BGP handshake".into(),
                        detail: "the peer closed the connection".into(),
                    });
                }
                Some(m) if m.kind == OPEN => {
                    self.send(&msg::keepalive())?;
                    their_open = Some(m);
                }
                Some(m) if m.kind == KEEPALIVE => {
                    if let Some(o) = their_open {
                        return Ok(o);
                    }
                }
                Some(m) => {
                    if let Some((c, s)) = m.notification() {
                        return Err(Error::Command {
                            cmd: "BGP handshake".into(),
                            detail: format!("NOTIFICATION {c}/{s}"),
                        });
                    }
                }
            }
        }
    }

    /// Read until a NOTIFICATION (returned) or the connection closes (`None`); an error when
    /// neither happens within `timeout` overall (KEEPALIVEs do not extend it).
    pub fn until_notification(&mut self, timeout: Duration) -> Result<Option<(u8, u8)>> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout {
                    what: "a NOTIFICATION or close".into(),
                    after: timeout,
                });
            }
            match self.recv(left)? {
                None => return Ok(None),
                Some(m) => {
                    if let Some(n) = m.notification() {
                        return Ok(Some(n));
                    }
                }
            }
        }
    }
}
