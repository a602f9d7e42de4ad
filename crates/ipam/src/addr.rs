//! Address arithmetic: IP versions, addresses as integers, the blocks a pool is carved into, and
//! the per-host order in which a host walks a pool's blocks.
//!
//! Every pool of `2^p` blocks is walked as a ring starting at a pseudo-random index. The start is
//! derived from the FNV-1 (32-bit) hash of the host name, so one host always starts at the same
//! place (retries hit the same blocks) while different hosts start apart and rarely race for the
//! same block. Pools of single-address blocks use a time-derived seed instead, because there
//! host stickiness buys nothing and spreading hosts out saves reads.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};

/// The most addresses one block may hold: `2^12` (a /20 IPv4 or /116 IPv6 block, Calico's
/// smallest allowed block prefixes).
pub const MAX_BLOCK_HOST_BITS: u8 = 12;

/// IPv4 or IPv6.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum IpVersion {
    V4,
    V6,
}

impl IpVersion {
    pub fn of_addr(ip: &IpAddr) -> Self {
        match ip {
            IpAddr::V4(_) => IpVersion::V4,
            IpAddr::V6(_) => IpVersion::V6,
        }
    }

    pub fn of_net(net: &IpNet) -> Self {
        match net {
            IpNet::V4(_) => IpVersion::V4,
            IpNet::V6(_) => IpVersion::V6,
        }
    }

    /// Address width in bits.
    pub fn bits(self) -> u8 {
        match self {
            IpVersion::V4 => 32,
            IpVersion::V6 => 128,
        }
    }

    /// 4 or 6.
    pub fn number(self) -> u8 {
        match self {
            IpVersion::V4 => 4,
            IpVersion::V6 => 6,
        }
    }

    /// The key segment Calico uses (`ipv4`, `ipv6`).
    pub fn key_segment(self) -> &'static str {
        match self {
            IpVersion::V4 => "ipv4",
            IpVersion::V6 => "ipv6",
        }
    }

    /// Calico's default block prefix length: 26 (64 addresses) or 122 (64 addresses).
    pub fn default_block_size(self) -> u8 {
        match self {
            IpVersion::V4 => 26,
            IpVersion::V6 => 122,
        }
    }
}

impl fmt::Display for IpVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IPv{}", self.number())
    }
}

/// The address as an integer (IPv4 in the low 32 bits).
pub fn addr_to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// The address of the given version with this integer value (IPv4 keeps the low 32 bits).
pub fn u128_to_addr(version: IpVersion, n: u128) -> IpAddr {
    match version {
        // Truncation is intended: callers only pass values inside an IPv4 network.
        IpVersion::V4 => IpAddr::V4(Ipv4Addr::from((n & 0xffff_ffff) as u32)),
        IpVersion::V6 => IpAddr::V6(Ipv6Addr::from(n)),
    }
}

/// The network of the given version starting at `base` with `prefix` bits.
pub fn net_at(version: IpVersion, base: u128, prefix: u8) -> IpNet {
    match u128_to_addr(version, base) {
        IpAddr::V4(a) => IpNet::V4(Ipv4Net::new(a, prefix.min(32)).unwrap_or_default()),
        IpAddr::V6(a) => IpNet::V6(Ipv6Net::new(a, prefix.min(128)).unwrap_or_default()),
    }
}

/// Host bits of a network (`32 - prefix` or `128 - prefix`).
pub fn host_bits(net: &IpNet) -> u8 {
    net.max_prefix_len() - net.prefix_len()
}

/// `2^bits`, saturating at `u128::MAX`.
pub fn pow2(bits: u32) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        1u128 << bits
    }
}

/// The block of prefix length `block_size` that contains `ip`.
pub fn block_containing(ip: IpAddr, block_size: u8) -> Option<IpNet> {
    IpNet::new(ip, block_size).ok().map(|n| n.trunc())
}

/// FNV-1 32-bit hash (the hash Calico seeds a host's block walk with).
pub fn fnv1_32(data: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in data {
        h = h.wrapping_mul(0x0100_0193);
        h ^= u32::from(*b);
    }
    h
}

/// SplitMix64: a small, well-mixed deterministic generator step.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// How a pool is carved into blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockLayout {
    pool: IpNet,
    block_size: u8,
    base: u128,
    count: u128,
    shift: u32,
}

impl BlockLayout {
    /// `None` unless `pool prefix <= block_size <= address width` and a block holds at most
    /// `2^MAX_BLOCK_HOST_BITS` addresses.
    pub fn new(pool: IpNet, block_size: u8) -> Option<Self> {
        let pool = pool.trunc();
        if block_size < pool.prefix_len() || block_size > pool.max_prefix_len() {
            return None;
        }
        let shift = u32::from(pool.max_prefix_len() - block_size);
        if shift > u32::from(MAX_BLOCK_HOST_BITS) {
            return None;
        }
        Some(Self {
            pool,
            block_size,
            base: addr_to_u128(pool.network()),
            count: pow2(u32::from(block_size - pool.prefix_len())),
            shift,
        })
    }

    pub fn pool(&self) -> IpNet {
        self.pool
    }

    pub fn block_size(&self) -> u8 {
        self.block_size
    }

    /// Number of blocks in the pool (saturating at `u128::MAX`).
    pub fn count(&self) -> u128 {
        self.count
    }

    /// Addresses per block.
    pub fn block_len(&self) -> u32 {
        1u32 << self.shift
    }

    /// The block at `index` (taken modulo the block count).
    pub fn block_at(&self, index: u128) -> IpNet {
        let i = index % self.count.max(1);
        let base = self.base.wrapping_add(i.wrapping_shl(self.shift));
        net_at(IpVersion::of_net(&self.pool), base, self.block_size)
    }

    /// The index of the block containing `ip`, if `ip` is in the pool.
    pub fn index_of(&self, ip: IpAddr) -> Option<u128> {
        if !self.pool.contains(&ip) {
            return None;
        }
        Some((addr_to_u128(ip) - self.base) >> self.shift)
    }

    /// The block containing `ip`, if `ip` is in the pool.
    pub fn block_for(&self, ip: IpAddr) -> Option<IpNet> {
        self.index_of(ip).map(|i| self.block_at(i))
    }

    /// Whether `cidr` is exactly one of this pool's blocks.
    pub fn is_block(&self, cidr: &IpNet) -> bool {
        cidr.prefix_len() == self.block_size && self.pool.contains(cidr)
    }

    /// The walk order for `host`: every block once, starting at the host's index. `time_seed`
    /// is used instead of the host hash for single-address blocks.
    pub fn walk(&self, host: &str, time_seed: u64) -> BlockWalk {
        let seed = if self.shift == 0 {
            time_seed
        } else {
            u64::from(fnv1_32(host.as_bytes()))
        };
        let mut state = seed;
        let hi = u128::from(splitmix64(&mut state));
        let lo = u128::from(splitmix64(&mut state));
        let start = ((hi << 64) | lo) % self.count.max(1);
        BlockWalk {
            layout: *self,
            next: start,
            start,
            remaining: self.count,
        }
    }
}

/// A ring walk over a pool's blocks (see [`BlockLayout::walk`]).
#[derive(Clone, Debug)]
pub struct BlockWalk {
    layout: BlockLayout,
    start: u128,
    next: u128,
    remaining: u128,
}

impl BlockWalk {
    /// Where the walk started.
    pub fn start(&self) -> u128 {
        self.start
    }

    /// Distance of `index` from the start, in walk order.
    pub fn rank(&self, index: u128) -> u128 {
        let n = self.layout.count.max(1);
        (index % n + n - self.start % n) % n
    }

    /// Jump forward so that the next block returned is the one at `index`, counting the
    /// skipped blocks as visited (used to step over reserved ranges in one move).
    pub fn skip_to(&mut self, index: u128) {
        let n = self.layout.count.max(1);
        let index = index % n;
        let distance = (index + n - self.next) % n;
        self.remaining = self.remaining.saturating_sub(distance);
        self.next = index;
    }

    /// Whether the walk has visited every block.
    pub fn is_done(&self) -> bool {
        self.remaining == 0
    }
}

impl Iterator for BlockWalk {
    type Item = (u128, IpNet);

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let index = self.next;
        self.remaining -= 1;
        self.next = if index + 1 >= self.layout.count {
            0
        } else {
            index + 1
        };
        Some((index, self.layout.block_at(index)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn fnv1_matches_reference_vectors() {
        // FNV-1 32-bit test vectors.
        assert_eq!(fnv1_32(b""), 0x811c_9dc5);
        assert_eq!(fnv1_32(b"a"), 0x050c_5d7e);
        assert_eq!(fnv1_32(b"foobar"), 0x31f0_b262);
    }

    #[test]
    fn layout_counts_and_indexes_blocks() {
        let l = BlockLayout::new(net("10.0.0.0/22"), 26).unwrap();
        assert_eq!(l.count(), 16);
        assert_eq!(l.block_len(), 64);
        assert_eq!(l.block_at(0), net("10.0.0.0/26"));
        assert_eq!(l.block_at(15), net("10.0.3.192/26"));
        assert_eq!(l.index_of("10.0.1.70".parse().unwrap()), Some(5));
        assert_eq!(
            l.block_for("10.0.1.70".parse().unwrap()),
            Some(net("10.0.1.64/26"))
        );
        assert_eq!(l.index_of("10.0.4.0".parse().unwrap()), None);
        assert!(BlockLayout::new(net("10.0.0.0/22"), 21).is_none());
        assert!(
            BlockLayout::new(net("10.0.0.0/8"), 19).is_none(),
            "blocks over 4096 addresses"
        );
        let v6 = BlockLayout::new(net("fd00::/48"), 122).unwrap();
        assert_eq!(v6.count(), 1 << 74);
        assert_eq!(v6.block_at(1), net("fd00::40/122"));
    }

    #[test]
    fn walk_visits_every_block_once_from_a_host_specific_start() {
        let l = BlockLayout::new(net("10.0.0.0/24"), 28).unwrap();
        let a: Vec<_> = l.walk("host-a", 0).map(|(i, _)| i).collect();
        assert_eq!(a.len(), 16);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..16).collect::<Vec<_>>());
        assert_eq!(a, l.walk("host-a", 99).map(|(i, _)| i).collect::<Vec<_>>());
        let mut starts: Vec<u128> = (0..8)
            .map(|i| l.walk(&format!("node-{i}"), 0).start())
            .collect();
        starts.sort_unstable();
        starts.dedup();
        assert!(starts.len() >= 4, "hosts start apart: {starts:?}");
    }

    #[test]
    fn skip_to_counts_skipped_blocks() {
        let l = BlockLayout::new(net("10.0.0.0/24"), 28).unwrap();
        let mut w = l.walk("h", 0);
        let start = w.start();
        w.skip_to(start + 10);
        assert_eq!(w.count(), 6);
    }
}
