//! Releasing addresses, by address (with optional handle and sequence-number preconditions) and
//! by handle. Releasing something already free is not an error; it is reported as not
//! allocated. The block is written first, then handle counts are lowered; a block left empty
//! loses its node's affinity unless it is the node's last block.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use ipnet::IpNet;

use crate::clock::Clock;
use crate::engine::block_ops::HandleDelta;
use crate::engine::records::is_race;
use crate::engine::{Ipam, clean_handle};
use crate::error::IpamError;
use crate::model::{Block, ReleaseOptions, ReleaseRefusal};
use crate::pools::Pools;
use crate::store::{IpamStore, Record, RecordKey, StoreError};

/// The result of [`Ipam::release_ips`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReleaseOutcome {
    pub released: Vec<IpAddr>,
    /// Requested addresses that were not allocated (nothing was done for them).
    pub not_allocated: Vec<IpAddr>,
    /// Addresses left allocated because a precondition (handle, sequence number) failed.
    pub refused: Vec<(IpAddr, ReleaseRefusal)>,
}

/// What a block write released.
struct Written {
    released: Vec<(IpAddr, Option<String>)>,
    block: Block,
}

impl<S: IpamStore, C: Clock> Ipam<S, C> {
    /// Release addresses. Each request may carry a handle and a sequence number that the
    /// allocation must still have (so that a garbage collector never frees an address that was
    /// re-allocated since it looked). Addresses are grouped per block: one write per block.
    pub fn release_ips(
        &self,
        pools: &Pools,
        requests: &[ReleaseOptions],
    ) -> Result<ReleaseOutcome, IpamError> {
        let mut out = ReleaseOutcome::default();
        let mut by_block: BTreeMap<IpNet, Vec<ReleaseOptions>> = BTreeMap::new();
        let mut listed: Option<Vec<IpNet>> = None;
        for req in requests {
            let cidr = match pools.block_for(req.address) {
                Some(c) => Some(c),
                None => {
                    // Not in any pool (deleted since?): find the block by listing them.
                    if listed.is_none() {
                        listed = Some(
                            self.list_blocks(None)?
                                .into_iter()
                                .map(|b| b.value.cidr)
                                .collect(),
                        );
                    }
                    listed
                        .as_ref()
                        .and_then(|l| l.iter().find(|c| c.contains(&req.address)).copied())
                }
            };
            match cidr {
                Some(c) => by_block.entry(c).or_default().push(req.clone()),
                None => out.not_allocated.push(req.address),
            }
        }
        for (cidr, reqs) in by_block {
            self.release_in_block(cidr, &reqs, &mut out)?;
        }
        Ok(out)
    }

    fn release_in_block(
        &self,
        cidr: IpNet,
        reqs: &[ReleaseOptions],
        out: &mut ReleaseOutcome,
    ) -> Result<(), IpamError> {
        let written = self.write_block_release(cidr, |b| {
            let r = b.release(reqs);
            (r.released, r.not_allocated, r.refused)
        })?;
        let Some(w) = written.0 else {
            out.not_allocated.extend(written.1);
            out.refused.extend(written.2);
            return Ok(());
        };
        out.not_allocated.extend(written.1);
        out.refused.extend(written.2);
        let mut per_handle: HashMap<String, i64> = HashMap::new();
        for (ip, handle) in &w.released {
            out.released.push(*ip);
            if let Some(h) = handle {
                *per_handle.entry(h.clone()).or_insert(0) += 1;
            }
        }
        for (handle, n) in per_handle {
            // A failure here only leaves the count too high (reported by the check).
            let _ = self.adjust_handle(&handle, cidr, HandleDelta::Add(-n));
        }
        self.after_release(&w.block)
    }

    /// Read-modify-write of one block for a release. Returns the written block (if anything
    /// was released) and the addresses not allocated / refused, from the attempt that stuck.
    #[allow(clippy::type_complexity)]
    fn write_block_release(
        &self,
        cidr: IpNet,
        mut op: impl FnMut(
            &mut Block,
        ) -> (
            Vec<(IpAddr, Option<String>)>,
            Vec<IpAddr>,
            Vec<(IpAddr, ReleaseRefusal)>,
        ),
    ) -> Result<(Option<Written>, Vec<IpAddr>, Vec<(IpAddr, ReleaseRefusal)>), IpamError> {
        for _ in 0..self.opts.retries {
            let Some(stored) = self.get_block(cidr)? else {
                let mut empty = Block::new(cidr, None, std::time::UNIX_EPOCH);
                let (_, not_alloc, refused) = match empty.as_mut() {
                    Some(b) => op(b),
                    None => (Vec::new(), Vec::new(), Vec::new()),
                };
                return Ok((None, not_alloc, refused));
            };
            let mut block = stored.value;
            let (released, not_alloc, refused) = op(&mut block);
            if released.is_empty() {
                return Ok((None, not_alloc, refused));
            }
            block.sequence_number = block.sequence_number.wrapping_add(1);
            let res = if block.is_empty() && block.affinity.is_none() {
                self.store.delete(&RecordKey::Block(cidr), stored.revision)
            } else {
                self.store
                    .update(&Record::Block(block.clone()), stored.revision)
                    .map(|_| ())
            };
            match res {
                Ok(()) => {
                    return Ok((Some(Written { released, block }), not_alloc, refused));
                }
                Err(e) if is_race(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(self.too_many(&format!("releasing addresses in block {cidr}")))
    }

    /// A block just written by a release: give an emptied affine block back.
    fn after_release(&self, block: &Block) -> Result<(), IpamError> {
        if !block.is_empty() {
            return Ok(());
        }
        match block.host() {
            Some(host) => self.release_if_empty(host, block.cidr, block.sequence_number),
            None => Ok(()),
        }
    }

    /// Release every address held by `handle`. Returns them; an unknown handle releases
    /// nothing (so releasing twice is harmless).
    pub fn release_by_handle(&self, handle: &str) -> Result<Vec<IpAddr>, IpamError> {
        let handle = clean_handle(handle)?;
        let Some(stored) = self.get_handle(handle)? else {
            return Ok(Vec::new());
        };
        let mut released = Vec::new();
        // With one block (the usual case) the handle just read is still current afterwards.
        let mut first_read = (stored.value.block.len() == 1).then(|| stored.clone());
        for cidr in stored.value.block.keys().copied() {
            let (written, _, _) = self.write_block_release(cidr, |b| {
                let ips = b.release_by_handle(handle);
                let rel = ips
                    .into_iter()
                    .map(|ip| (ip, Some(handle.to_string())))
                    .collect();
                (rel, Vec::new(), Vec::new())
            })?;
            // The handle holds nothing in this block any more (also clears counts left too
            // high by an interrupted operation).
            match self.adjust_handle_from(handle, cidr, HandleDelta::Clear, first_read.take()) {
                Ok(()) | Err(IpamError::Store(StoreError::NotFound { .. })) => {}
                Err(e) => return Err(e),
            }
            if let Some(w) = written {
                released.extend(w.released.iter().map(|(ip, _)| *ip));
                self.after_release(&w.block)?;
            }
        }
        Ok(released)
    }
}
