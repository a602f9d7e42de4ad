//! Cutting a TCP byte stream into BGP messages.

use super::{DecodeError, HEADER_LEN, MAX_MESSAGE_LEN, codes, decode::DecodeError as E};
use crate::wire::Notification;

/// Accumulates bytes as they arrive and yields whole messages.
///
/// ```
/// use calico_bgp::wire::{Framer, Message, WireOptions};
/// let bytes = Message::Keepalive.encode(WireOptions::default()).unwrap();
/// let mut f = Framer::default();
/// f.push(&bytes[..7]);
/// assert!(f.next_frame().unwrap().is_none());
/// f.push(&bytes[7..]);
/// assert_eq!(f.next_frame().unwrap().unwrap(), bytes);
/// ```
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
    start: usize,
}

impl Framer {
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > 64 * 1024 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet returned as a frame.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next whole message, `Ok(None)` if more bytes are needed, or the header error to
    /// answer with a NOTIFICATION (the stream is then unusable).
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, DecodeError> {
        let b = &self.buf[self.start..];
        if b.len() < HEADER_LEN {
            return Ok(None);
        }
        if b[..16].iter().any(|x| *x != 0xff) {
            return Err(E {
                notification: Notification::new(
                    codes::MESSAGE_HEADER,
                    codes::HDR_NOT_SYNCHRONIZED,
                    Vec::new(),
                ),
                reason: "BGP header: marker is not all ones".into(),
            });
        }
        let len = usize::from(u16::from_be_bytes([b[16], b[17]]));
        if !(HEADER_LEN..=MAX_MESSAGE_LEN).contains(&len) {
            return Err(E {
                notification: Notification::new(
                    codes::MESSAGE_HEADER,
                    codes::HDR_BAD_LENGTH,
                    b[16..18].to_vec(),
                ),
                reason: format!(
                    "BGP header: length {len}, expected {HEADER_LEN}..={MAX_MESSAGE_LEN}"
                ),
            });
        }
        if b.len() < len {
            return Ok(None);
        }
        let frame = b[..len].to_vec();
        self.start += len;
        Ok(Some(frame))
    }
}
