//! Calico IPAM as a pure engine.
//!
//! Layer 1: no I/O, no async, no clock of its own. The engine, [`Ipam`], runs Calico's
//! allocation protocol against any [`IpamStore`] (a narrow get/list/create/compare-and-swap
//! update/compare-and-delete interface over four record kinds), with time supplied by a
//! [`Clock`]. The datastore adapter in `calico-client` implements the store over etcd or the
//! embedded store with Calico's keys; [`MemoryStore`] is the in-process store for tests.
//!
//! The model is Calico's:
//! - pools ([`PoolInfo`]) are carved into blocks of the pool's `blockSize` (default /26 and /122);
//! - a [`Block`] record holds each address's allocation, is the unit of compare-and-swap, and
//!   may be affine to one node (`host:<node>`);
//! - [`BlockAffinity`] records index a node's blocks (`pending → confirmed → pendingDeletion`);
//! - [`Handle`] records count a handle's addresses per block, for release by handle;
//! - [`IpamConfig`] holds strictAffinity, autoAllocateBlocks and maxBlocksPerHost.
//!
//! A node allocates from its own blocks first, then claims a free block (the block's create is
//! the compare-and-swap that decides a race), then — unless strictAffinity is on — borrows from
//! other nodes' blocks. See [`Ipam::auto_assign`], [`Ipam::assign_ip`], [`Ipam::release_ips`],
//! [`Ipam::release_by_handle`], and [`Ipam::check_consistency`] for the invariants.
//!
//! ```
//! use calico_ipam::{AutoAssignArgs, Ipam, ManualClock, MemoryStore, PoolInfo, Pools};
//!
//! let ipam = Ipam::new(MemoryStore::new(), ManualClock::default());
//! let pools = Pools::new(vec![PoolInfo::new("default", "10.0.0.0/16".parse()?)?]);
//! let got = ipam.auto_assign(&pools, &AutoAssignArgs::new("k8s-pod-network.c1", "node-1"))?;
//! assert_eq!(got.ipv4.len(), 1);
//! assert_eq!(got.ipv4[0].cidr().prefix_len(), 26);
//! assert_eq!(ipam.release_by_handle("k8s-pod-network.c1")?.len(), 1);
//! assert!(ipam.check_consistency(Some(&pools))?.is_exact());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod addr;
mod clock;
mod engine;
mod error;
pub mod keys;
mod memory;
pub mod model;
mod pools;
mod store;

pub use addr::IpVersion;
pub use clock::{Clock, ManualClock};
pub use engine::{
    AllocationInfo, AssignIpArgs, Assigned, Assignments, AutoAssignArgs, ConsistencyReport,
    DATASTORE_RETRIES, EMPTY_BLOCK_MIN_RECLAIM_AGE, Ipam, IpamOptions, IpamSnapshot,
    ReleaseOutcome, RepairReport,
};
pub use error::{Exhaustion, IpamError, PoolOutcome, PoolReport};
pub use memory::MemoryStore;
pub use model::{
    AffinityState, AllocationAttribute, Block, BlockAffinity, Handle, IpamConfig, ReleaseOptions,
    ReleaseRefusal,
};
pub use pools::{AddrFilter, AssignmentMode, IntendedUse, Labels, PoolError, PoolInfo, Pools};
pub use store::{IpamStore, Listing, Record, RecordKey, Revision, StoreError, Stored};

/// Allocation attribute keys Calico's CNI plugin and agents set.
pub mod attrs {
    pub const POD: &str = "pod";
    pub const NAMESPACE: &str = "namespace";
    pub const NODE: &str = "node";
    pub const TIMESTAMP: &str = "timestamp";
    pub const TYPE: &str = "type";
}

/// The handle the CNI plugin uses for a container: `k8s-pod-network.<containerID>`.
pub fn cni_handle(container_id: &str) -> String {
    format!("k8s-pod-network.{container_id}")
}
