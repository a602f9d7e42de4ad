//! The cluster-wide IPAM settings the engine reads on every assignment.

use serde::{Deserialize, Serialize};

/// Blocks a host may own when no limit is configured (Calico's default).
pub const DEFAULT_MAX_BLOCKS_PER_HOST: u32 = 20;

/// IPAM configuration. Serialized as Calico's v1 `IPAMConfig`
/// (`strict_affinity`, `auto_allocate_blocks`, `maxBlocksPerHost`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpamConfig {
    /// Never borrow addresses from blocks affine to other hosts.
    #[serde(rename = "strict_affinity", default)]
    pub strict_affinity: bool,
    /// Claim new blocks when the host's blocks are full.
    #[serde(rename = "auto_allocate_blocks", default)]
    pub auto_allocate_blocks: bool,
    /// Maximum blocks per host; 0 means [`DEFAULT_MAX_BLOCKS_PER_HOST`].
    #[serde(rename = "maxBlocksPerHost", default)]
    pub max_blocks_per_host: u32,
}

impl Default for IpamConfig {
    fn default() -> Self {
        Self {
            strict_affinity: false,
            auto_allocate_blocks: true,
            max_blocks_per_host: 0,
        }
    }
}

impl IpamConfig {
    /// The block limit for a request: the stricter of the request's and the configured limit,
    /// whichever is set, else the default of 20.
    pub fn block_limit(&self, requested: u32) -> u32 {
        let global = self.max_blocks_per_host;
        let limit = match (requested, global) {
            (0, g) => g,
            (r, g) if g > 0 && r > g => g,
            (r, _) => r,
        };
        if limit == 0 {
            DEFAULT_MAX_BLOCKS_PER_HOST
        } else {
            limit
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn block_limit_takes_the_stricter_value() {
        let mut c = IpamConfig::default();
        assert_eq!(c.block_limit(0), 20);
        assert_eq!(c.block_limit(5), 5);
        c.max_blocks_per_host = 3;
        assert_eq!(c.block_limit(0), 3);
        assert_eq!(c.block_limit(5), 3);
        assert_eq!(c.block_limit(2), 2);
    }
}
