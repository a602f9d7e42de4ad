//! BGP interoperability harness (tests and benchmarks only, never shipped).
//!
//! Everything runs inside network namespaces this harness creates ([`Lab`]): an underlay
//! namespace holding a bridge, and one namespace per BGP speaker attached to it by a veth pair.
//! Real peers ([`Daemon`]: BIRD 2, FRR's bgpd, GoBGP) are started inside those namespaces with
//! generated configuration files ([`PeerConfig`]) and control sockets in a temporary directory
//! (never `/etc`, never the default sockets, never systemd). [`RawPeer`] speaks raw bytes over
//! TCP from inside a namespace, for malformed-message tests and as a precise sender/receiver in
//! the benchmark.
//!
//! Nothing here touches the root network namespace: every `ip` command carries `-n NS` of a
//! namespace the [`Lab`] made, and every daemon runs under `ip netns exec NS`.

mod config;
mod daemon;
mod error;
mod lab;
pub mod msg;
mod raw;

pub use config::{Neighbor, PeerConfig};
pub use daemon::{Daemon, Kind, PeerState, RibRoute, wait};
pub use error::{Error, Result};
pub use lab::{KernelRoute, Lab, Node, UNDERLAY, has_route, parse_routes};
pub use raw::RawPeer;

/// A benchmark flag's comma-separated list of counts (`--sizes 1000,10000`), with an error
/// naming the flag and the entry that is not a count.
pub fn parse_counts<T: std::str::FromStr>(
    flag: &str,
    value: &str,
) -> std::result::Result<Vec<T>, String> {
    value
        .split(',')
        .map(|x| {
            x.trim()
                .parse()
                .map_err(|_| format!("{flag}: {x:?} is not a count"))
        })
        .collect()
}
