//! Read-only views for `calicoctl ipam show/check` and the garbage collector.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::clock::Clock;
use crate::engine::{Ipam, clean_handle};
use crate::error::IpamError;
use crate::model::{Block, BlockAffinity, Handle, IpamConfig, sanitize_handle};
use crate::pools::Pools;
use crate::store::{IpamStore, Stored};

/// One allocated address and what the block records about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllocationInfo {
    pub address: IpAddr,
    pub block: IpNet,
    pub handle_id: Option<String>,
    pub attrs: BTreeMap<String, String>,
    /// The allocation's sequence number: pass it back in a release to free exactly this
    /// allocation.
    pub sequence_number: u64,
    /// The block's affinity (`host:<node>`), if any.
    pub block_affinity: Option<String>,
}

/// Every IPAM record with its revision.
#[derive(Clone, Debug, Default)]
pub struct IpamSnapshot {
    pub blocks: Vec<Stored<Block>>,
    pub affinities: Vec<Stored<BlockAffinity>>,
    pub handles: Vec<Stored<Handle>>,
    pub config: IpamConfig,
}

impl IpamSnapshot {
    /// Every allocation in every block.
    pub fn allocations(&self) -> Vec<AllocationInfo> {
        self.blocks
            .iter()
            .flat_map(|b| allocations_of(&b.value))
            .collect()
    }
}

fn info(block: &Block, ordinal: u32) -> Option<AllocationInfo> {
    let attr = block.attribute_of(ordinal)?;
    Some(AllocationInfo {
        address: block.ip_at(ordinal)?,
        block: block.cidr,
        handle_id: attr
            .handle_id
            .as_deref()
            .map(|h| sanitize_handle(h).to_string()),
        attrs: attr.secondary.clone(),
        sequence_number: block.sequence_of(ordinal),
        block_affinity: block.affinity.clone(),
    })
}

/// The allocations of one block.
pub fn allocations_of(block: &Block) -> Vec<AllocationInfo> {
    block.allocated().filter_map(|o| info(block, o)).collect()
}

impl<S: IpamStore, C: Clock> Ipam<S, C> {
    /// The allocation holding `ip`, if any.
    pub fn get_assignment_attributes(
        &self,
        pools: &Pools,
        ip: IpAddr,
    ) -> Result<Option<AllocationInfo>, IpamError> {
        let block = match pools.block_for(ip) {
            Some(cidr) => self.get_block(cidr)?.map(|s| s.value),
            None => self
                .list_blocks(None)?
                .into_iter()
                .map(|s| s.value)
                .find(|b| b.cidr.contains(&ip)),
        };
        Ok(block.and_then(|b| info(&b, b.ordinal_of(ip)?)))
    }

    /// The addresses held by `handle` (empty for an unknown handle).
    pub fn ips_by_handle(&self, handle: &str) -> Result<Vec<IpAddr>, IpamError> {
        let handle = clean_handle(handle)?;
        let Some(h) = self.get_handle(handle)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for cidr in h.value.block.keys() {
            if let Some(b) = self.get_block(*cidr)? {
                out.extend(b.value.ips_of_handle(handle));
            }
        }
        Ok(out)
    }

    /// Every block, affinity and handle, and the configuration.
    pub fn snapshot(&self) -> Result<IpamSnapshot, IpamError> {
        Ok(IpamSnapshot {
            blocks: self.list_blocks(None)?,
            affinities: self.list_affinities(None, None)?,
            handles: self.list_handles()?,
            config: self.config()?,
        })
    }

    /// Blocks affine to `host` (by their affinity records).
    pub fn host_blocks(&self, host: &str) -> Result<Vec<Stored<BlockAffinity>>, IpamError> {
        self.list_affinities(Some(host), None)
    }
}
