//! `IPAMHandle`: which blocks hold a handle's addresses, and how many in each, so that releasing
//! by handle touches only those blocks.
//!
//! Counts are raised before the block write that allocates and lowered after the block write
//! that releases, so an interrupted operation can only leave a count too high (a leak a check
//! reports and a repair or the garbage collector fixes), never an allocation without its handle.

use std::collections::BTreeMap;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// One handle (e.g. `k8s-pod-network.<containerID>`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handle {
    #[serde(rename = "handleID", default)]
    pub handle_id: String,
    /// Block CIDR → number of the handle's addresses in it.
    #[serde(default)]
    pub block: BTreeMap<IpNet, u32>,
    #[serde(default)]
    pub deleted: bool,
}

impl Handle {
    pub fn new(handle_id: impl Into<String>) -> Self {
        Self {
            handle_id: handle_id.into(),
            ..Self::default()
        }
    }

    /// Total addresses recorded.
    pub fn total(&self) -> u64 {
        self.block.values().map(|&c| u64::from(c)).sum()
    }

    /// Add `delta` (may be negative) to the count for `block`; zero counts are removed.
    pub fn adjust(&mut self, block: IpNet, delta: i64) {
        let cur = i64::from(self.block.get(&block).copied().unwrap_or(0));
        let next = (cur + delta).clamp(0, i64::from(u32::MAX));
        if next == 0 {
            self.block.remove(&block);
        } else {
            self.block
                .insert(block, u32::try_from(next).unwrap_or(u32::MAX));
        }
    }
}
