//! The stored IPAM records: blocks, block affinities, handles and the configuration.

mod affinity;
mod block;
mod config;
mod handle;

pub use affinity::{AffinityState, BlockAffinity};
pub use block::{
    AllocationAttribute, AssignError, Block, BlockRelease, HOST_AFFINITY_PREFIX, ReleaseOptions,
    ReleaseRefusal, host_affinity, sanitize_handle, unix_nanos,
};
pub use config::{DEFAULT_MAX_BLOCKS_PER_HOST, IpamConfig};
pub use handle::Handle;
