//! TCP MD5 signatures (RFC 2385) on a socket, as BGP peers with a password need.
//!
//! Neither nix nor socket2 exposes `TCP_MD5SIG`, so this module fills `struct tcp_md5sig`
//! (from `linux/tcp.h`) itself and calls `setsockopt(2)`; it is the only unsafe code of the
//! crate and is scoped to that one call.

use std::net::SocketAddr;
use std::os::fd::{AsRawFd, BorrowedFd};

use nix::libc;

use crate::{LinuxError, Result};

/// `TCP_MD5SIG_MAXKEYLEN` from `linux/tcp.h`.
pub const TCP_MD5SIG_MAXKEYLEN: usize = 80;

/// `struct tcp_md5sig` from `linux/tcp.h`.
#[repr(C)]
struct TcpMd5Sig {
    tcpm_addr: libc::sockaddr_storage,
    tcpm_flags: u8,
    tcpm_prefixlen: u8,
    tcpm_keylen: u16,
    tcpm_ifindex: u32,
    tcpm_key: [u8; TCP_MD5SIG_MAXKEYLEN],
}

/// Fill a `sockaddr_storage` with `peer` (port ignored by the kernel for MD5 keys).
fn storage(peer: SocketAddr) -> libc::sockaddr_storage {
    let mut ss = sockaddr_storage_zeroed();
    match peer {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            write_into(&mut ss, &sin);
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            write_into(&mut ss, &sin6);
        }
    }
    ss
}

fn sockaddr_storage_zeroed() -> libc::sockaddr_storage {
    #[allow(unsafe_code)]
    // SAFETY: sockaddr_storage is a plain C struct of integers and byte arrays, for which
    // all-zero bytes are a valid value.
    unsafe {
        std::mem::zeroed()
    }
}

/// Copy a `sockaddr_in`/`sockaddr_in6` into the start of a `sockaddr_storage`.
fn write_into<T: Copy>(ss: &mut libc::sockaddr_storage, addr: &T) {
    const { assert!(size_of::<T>() <= size_of::<libc::sockaddr_storage>()) };
    #[allow(unsafe_code)]
    // SAFETY: T is at most as large as sockaddr_storage (checked above at compile time),
    // sockaddr_storage is aligned for every sockaddr type, and both are plain C structs.
    unsafe {
        std::ptr::write((ss as *mut libc::sockaddr_storage).cast::<T>(), *addr);
    }
}

/// Set (or, with an empty `key`, delete) the TCP MD5 key used for segments to and from
/// `peer`'s address on socket `fd` (`setsockopt(TCP_MD5SIG)`). On a listening socket it
/// applies to connections accepted from that address; on a client socket it must be set
/// before `connect`. The key is at most [`TCP_MD5SIG_MAXKEYLEN`] (80) bytes.
pub fn set_tcp_md5sig(fd: BorrowedFd<'_>, peer: SocketAddr, key: &[u8]) -> Result<()> {
    if key.len() > TCP_MD5SIG_MAXKEYLEN {
        return Err(LinuxError::Invalid(format!(
            "TCP MD5 key for peer {}: {} bytes, expected at most {TCP_MD5SIG_MAXKEYLEN}",
            peer.ip(),
            key.len()
        )));
    }
    let mut sig = TcpMd5Sig {
        tcpm_addr: storage(peer),
        tcpm_flags: 0,
        tcpm_prefixlen: 0,
        tcpm_keylen: key.len() as u16,
        tcpm_ifindex: 0,
        tcpm_key: [0; TCP_MD5SIG_MAXKEYLEN],
    };
    sig.tcpm_key[..key.len()].copy_from_slice(key);
    #[allow(unsafe_code)]
    // SAFETY: `fd` is a live descriptor borrowed for this call; the option value points to a
    // fully initialised `struct tcp_md5sig` with the kernel's layout and its exact size, and
    // the kernel only reads it during the call.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_MD5SIG,
            (&raw const sig).cast::<libc::c_void>(),
            size_of::<TcpMd5Sig>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        let e = std::io::Error::last_os_error();
        return Err(LinuxError::Netlink {
            op: format!("setsockopt(TCP_MD5SIG) for peer {}", peer.ip()),
            errno: e.raw_os_error(),
            message: e.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_linux_tcp_h() {
        // sockaddr_storage (128) + flags, prefixlen (2) + keylen (2) + ifindex (4) + key (80).
        assert_eq!(size_of::<TcpMd5Sig>(), 216);
    }

    #[test]
    fn md5_key_too_long_is_refused() {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        use std::os::fd::AsFd;
        let e =
            set_tcp_md5sig(s.as_fd(), "127.0.0.1:179".parse().unwrap(), &[b'x'; 81]).unwrap_err();
        assert!(e.to_string().contains("at most 80"), "{e}");
    }
}
