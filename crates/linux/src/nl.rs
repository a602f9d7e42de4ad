//! A blocking rtnetlink socket: one request at a time, answered before the next is sent.
//!
//! A netlink socket belongs to the network namespace of the thread that created it, for its
//! whole life, whichever thread uses it later. So [`crate::Kernel`] opens one per namespace
//! (on the calling thread when that thread is already in the namespace, else on a thread that
//! entered it) and then talks to it from any thread: no runtime, no hand-off per request.

use std::io;

use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::packet_core::{
    NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NetlinkBuffer, NetlinkMessage, NetlinkPayload,
};
use rtnetlink::sys::{Socket, protocols::NETLINK_ROUTE};

use crate::LinuxError;

/// Big enough for any datagram the kernel sends on a route socket (dumps are cut into
/// datagrams of at most 32 KiB; one link message is about 1.5 KiB).
const RECV_BUF: usize = 64 * 1024;

/// Why a request failed.
#[derive(Debug)]
pub(crate) enum NlError {
    /// The kernel answered with this (positive) errno.
    Errno(i32),
    /// The socket itself failed, or an answer could not be decoded.
    Other(String),
}

impl NlError {
    /// The error as [`LinuxError::Netlink`], naming the operation.
    pub fn into_linux(self, op: impl Into<String>) -> LinuxError {
        match self {
            NlError::Errno(n) => LinuxError::Netlink {
                op: op.into(),
                errno: Some(n),
                message: nix::errno::Errno::from_raw(n).desc().to_string(),
            },
            NlError::Other(message) => LinuxError::Netlink {
                op: op.into(),
                errno: None,
                message,
            },
        }
    }
}

fn io_err(what: &str, e: io::Error) -> NlError {
    NlError::Other(format!("netlink {what}: {e}"))
}

/// An rtnetlink socket of one namespace.
pub(crate) struct NlSocket {
    sock: Socket,
    seq: u32,
    buf: Vec<u8>,
}

impl std::fmt::Debug for NlSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NlSocket")
    }
}

impl NlSocket {
    /// Open a socket in the calling thread's network namespace.
    pub fn open() -> io::Result<Self> {
        let mut sock = Socket::new(NETLINK_ROUTE)?;
        sock.bind_auto()?;
        // Acknowledgements without a copy of the request.
        sock.set_cap_ack(true)?;
        Ok(NlSocket {
            sock,
            seq: 0,
            buf: Vec::with_capacity(RECV_BUF),
        })
    }

    /// Send `msg` with `flags` (`NLM_F_REQUEST` is added; `NLM_F_ACK` too unless it is a dump)
    /// and wait for the whole answer: the messages the kernel sent back (a dump's entries, a
    /// GET's reply, an `NLM_F_ECHO` notification) once the request is acknowledged or the
    /// dump done, or the kernel's errno.
    pub fn request(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>, NlError> {
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        self.seq = self.seq.wrapping_add(1).max(1);
        let mut req = NetlinkMessage::from(msg);
        req.header.flags = NLM_F_REQUEST | flags | if dump { 0 } else { NLM_F_ACK };
        req.header.sequence_number = self.seq;
        req.finalize();
        let mut out = vec![0u8; req.buffer_len()];
        req.serialize(&mut out);
        loop {
            match self.sock.send(&out, 0) {
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_err("send", e)),
            }
        }
        let mut answers = Vec::new();
        loop {
            self.buf.clear();
            let n = loop {
                match self.sock.recv(&mut self.buf, 0) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(io_err("receive", e)),
                }
            };
            if n > self.buf.len() {
                return Err(NlError::Other(format!(
                    "netlink answer of {n} bytes does not fit the {RECV_BUF}-byte buffer"
                )));
            }
            let mut at = 0;
            while at < self.buf.len() {
                let len = NetlinkBuffer::new_checked(&self.buf[at..])
                    .map_err(|e| NlError::Other(format!("netlink answer: {e}")))?
                    .length() as usize;
                if len == 0 {
                    break;
                }
                let bytes = &self.buf[at..(at + len).min(self.buf.len())];
                at += (len + 3) & !3;
                let m = NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes)
                    .map_err(|e| NlError::Other(format!("netlink answer: {e}")))?;
                if m.header.sequence_number != self.seq {
                    continue; // an answer to an earlier, abandoned request
                }
                match m.payload {
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(answers),
                            Some(code) => Err(NlError::Errno(code.get().abs())),
                        };
                    }
                    NetlinkPayload::Done(_) => return Ok(answers),
                    NetlinkPayload::InnerMessage(inner) => answers.push(inner),
                    _ => {}
                }
            }
        }
    }
}
