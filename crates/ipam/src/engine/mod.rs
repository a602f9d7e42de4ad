//! [`Ipam`]: the allocator. Synchronous and deterministic given its store and clock; every write
//! is a compare-and-swap retried a bounded number of times.

mod affinity;
mod assign;
mod block_ops;
mod check;
mod claim;
mod query;
mod records;
mod release;
mod select;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;

pub use check::{ConsistencyReport, RepairReport};
pub use query::{AllocationInfo, IpamSnapshot};
pub use release::ReleaseOutcome;

use crate::clock::Clock;
use crate::error::IpamError;
use crate::model::sanitize_handle;
use crate::pools::{IntendedUse, Labels};
use crate::store::IpamStore;

/// Attempts per compare-and-swap loop (Calico's `datastoreRetries`).
pub const DATASTORE_RETRIES: usize = 100;

/// How old another node's claim on an empty block must be before this node may take the block
/// (Calico's `EmptyBlockMinReclaimAge`).
pub const EMPTY_BLOCK_MIN_RECLAIM_AGE: Duration = Duration::from_secs(60);

/// Tunables. The defaults are Calico's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpamOptions {
    /// Attempts per compare-and-swap loop.
    pub retries: usize,
    /// Release the affinity of a block emptied by a release (keeping each node's last block
    /// of each IP version), so that idle blocks return to the pool.
    pub release_empty_blocks: bool,
    /// Blocks probed one by one when looking for an unclaimed block before listing them all.
    pub probe_limit: usize,
    /// See [`EMPTY_BLOCK_MIN_RECLAIM_AGE`].
    pub empty_block_reclaim_age: Duration,
}

impl Default for IpamOptions {
    fn default() -> Self {
        Self {
            retries: DATASTORE_RETRIES,
            release_empty_blocks: true,
            probe_limit: 16,
            empty_block_reclaim_age: EMPTY_BLOCK_MIN_RECLAIM_AGE,
        }
    }
}

/// A request for automatically chosen addresses.
#[derive(Clone, Debug, PartialEq)]
pub struct AutoAssignArgs {
    pub num4: usize,
    pub num6: usize,
    /// The owner's handle, e.g. `k8s-pod-network.<containerID>`. Required.
    pub handle_id: String,
    /// Attributes stored with each address (`namespace`, `pod`, `node`, ...).
    pub attrs: BTreeMap<String, String>,
    /// The node the addresses are for.
    pub hostname: String,
    /// The node's labels, for pools' nodeSelectors.
    pub node_labels: Labels,
    /// The namespace's labels, for pools' namespaceSelectors (`None`: not checked).
    pub namespace_labels: Option<Labels>,
    /// Use only these IPv4 pools (names or CIDRs); selectors are then ignored.
    pub ipv4_pools: Vec<String>,
    /// Use only these IPv6 pools (names or CIDRs).
    pub ipv6_pools: Vec<String>,
    pub intended_use: IntendedUse,
    /// Per-request block limit (0: the configured one).
    pub max_blocks_per_host: u32,
}

impl AutoAssignArgs {
    /// One IPv4 workload address for `handle_id` on `hostname`.
    pub fn new(handle_id: impl Into<String>, hostname: impl Into<String>) -> Self {
        Self {
            num4: 1,
            num6: 0,
            handle_id: handle_id.into(),
            attrs: BTreeMap::new(),
            hostname: hostname.into(),
            node_labels: Labels::new(),
            namespace_labels: None,
            ipv4_pools: Vec::new(),
            ipv6_pools: Vec::new(),
            intended_use: IntendedUse::Workload,
            max_blocks_per_host: 0,
        }
    }
}

/// A request for one specific address.
#[derive(Clone, Debug, PartialEq)]
pub struct AssignIpArgs {
    pub address: IpAddr,
    pub handle_id: String,
    pub attrs: BTreeMap<String, String>,
    pub hostname: String,
    /// When set, the address's pool must allow this use.
    pub intended_use: Option<IntendedUse>,
}

/// One assigned address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assigned {
    pub address: IpAddr,
    /// The block holding it.
    pub block: IpNet,
    /// The allocation's sequence number (a precondition for releasing exactly this allocation).
    pub sequence_number: u64,
}

impl Assigned {
    /// The address with the block's prefix length (`10.0.0.5/26`), as Calico returns it.
    pub fn cidr(&self) -> IpNet {
        IpNet::new(self.address, self.block.prefix_len()).unwrap_or(self.block)
    }
}

/// The result of [`Ipam::auto_assign`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assignments {
    pub ipv4: Vec<Assigned>,
    pub ipv6: Vec<Assigned>,
}

impl Assignments {
    pub fn all(&self) -> impl Iterator<Item = &Assigned> {
        self.ipv4.iter().chain(self.ipv6.iter())
    }
}

/// The IPAM engine over a store `S` and a clock `C`.
#[derive(Debug)]
pub struct Ipam<S, C> {
    store: S,
    clock: C,
    opts: IpamOptions,
}

impl<S: IpamStore, C: Clock> Ipam<S, C> {
    pub fn new(store: S, clock: C) -> Self {
        Self::with_options(store, clock, IpamOptions::default())
    }

    pub fn with_options(store: S, clock: C, opts: IpamOptions) -> Self {
        Self { store, clock, opts }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn options(&self) -> &IpamOptions {
        &self.opts
    }
}

/// A usable handle ID (truncated at `\r`, non-empty).
fn clean_handle(handle: &str) -> Result<&str, IpamError> {
    let h = sanitize_handle(handle);
    if h.is_empty() {
        return Err(IpamError::EmptyHandle);
    }
    Ok(h)
}

/// A node name usable in keys.
fn check_node(node: &str) -> Result<(), IpamError> {
    if node.is_empty() || node.contains('/') {
        return Err(IpamError::InvalidNode {
            node: node.to_string(),
        });
    }
    Ok(())
}
