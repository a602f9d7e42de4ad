//! Claiming blocks for a node.
//!
//! A claim is three writes: a `pending` affinity (create), the block itself with
//! `affinity: host:<node>` (create: of two nodes racing for one block exactly one create
//! succeeds), then the affinity marked `confirmed`. The loser deletes its pending affinity and
//! looks elsewhere. A claim interrupted half-way leaves a pending affinity that the node finishes
//! (or drops) the next time it loads its blocks.
//!
//! Finding a block to claim walks each pool from the node's own starting point (see
//! [`crate::addr`]). The first few candidates are probed one by one, so with a sparsely used pool
//! the cost does not depend on how many blocks exist; past that, all blocks are listed once.

use std::collections::HashMap;
use std::time::SystemTime;

use ipnet::IpNet;

use crate::addr::BlockWalk;
use crate::clock::Clock;
use crate::engine::Ipam;
use crate::engine::records::is_race;
use crate::error::IpamError;
use crate::model::{AffinityState, Block, BlockAffinity, host_affinity, unix_nanos};
use crate::pools::{AddrFilter, PoolInfo};
use crate::store::{IpamStore, Record, RecordKey, StoreError, Stored};

/// How a claim ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Claim {
    /// The block was created for this node.
    Claimed,
    /// The block already existed and is this node's.
    AlreadyOurs,
    /// Another node has it.
    Lost,
}

/// What the search for a block found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Candidate {
    /// No block exists for this CIDR yet.
    Free(IpNet),
    /// The block exists, is this node's and has room.
    Ours(IpNet),
}

/// Another node's empty block, reclaimable once its claim is old enough.
#[derive(Clone, Debug)]
struct Reclaimable {
    owner: Option<String>,
    cidr: IpNet,
    seq: u64,
    claimed: Option<SystemTime>,
}

enum Seen {
    Use(Candidate),
    Reclaim(Reclaimable),
    Skip,
}

fn classify(block: &Block, host: &str, reserved: &AddrFilter) -> Seen {
    let free = block.free_count(reserved);
    if free == 0 || !block.problems().is_empty() {
        return Seen::Skip;
    }
    if block.is_affine_to(host) {
        return Seen::Use(Candidate::Ours(block.cidr));
    }
    if block.is_empty() {
        return Seen::Reclaim(Reclaimable {
            owner: block.host().map(str::to_string),
            cidr: block.cidr,
            seq: block.sequence_number,
            claimed: block.claim_time(),
        });
    }
    Seen::Skip
}

/// Step over a reservation covering `cidr` in one move; true if it did.
fn skip_reserved(
    walk: &mut BlockWalk,
    pool: &PoolInfo,
    cidr: &IpNet,
    reserved: &AddrFilter,
) -> bool {
    let Some(r) = reserved.covering(cidr) else {
        return false;
    };
    // The reservation may extend past the pool; clamp to the pool's last block.
    let last = if pool.cidr.contains(&r.broadcast()) {
        r.broadcast()
    } else {
        pool.cidr.broadcast()
    };
    if let Some(idx) = pool.layout().index_of(last) {
        walk.skip_to(idx.wrapping_add(1));
    }
    true
}

impl<S: IpamStore, C: Clock> Ipam<S, C> {
    /// Claim `cidr` for `host` (pending affinity → block → confirmed affinity).
    pub(crate) fn claim_block(&self, host: &str, cidr: IpNet) -> Result<Claim, IpamError> {
        let Some(aff) = self.pending_affinity(host, cidr)? else {
            return Ok(Claim::Lost);
        };
        let now = self.clock.now();
        let Some(block) = Block::new(cidr, Some(host_affinity(host)), now) else {
            return Err(IpamError::Corrupt {
                what: format!("block {cidr}"),
                detail: "a block may hold at most 4096 addresses".into(),
            });
        };
        let outcome = match self.store.create(&Record::Block(block)) {
            Ok(_) => Claim::Claimed,
            Err(StoreError::AlreadyExists { .. }) => match self.get_block(cidr)? {
                Some(b) if b.value.is_affine_to(host) => Claim::AlreadyOurs,
                _ => {
                    // Someone else's block: withdraw our pending claim (best effort; a
                    // leftover pending affinity is cleaned up on the next load).
                    let _ = self.store.delete(&aff_key(host, cidr), aff.revision);
                    return Ok(Claim::Lost);
                }
            },
            Err(e) => return Err(e.into()),
        };
        if self.confirm_affinity(host, cidr)? {
            Ok(outcome)
        } else {
            Ok(Claim::Lost)
        }
    }

    /// Create (or re-mark) the affinity as pending; a confirmed one is returned as is.
    fn pending_affinity(
        &self,
        host: &str,
        cidr: IpNet,
    ) -> Result<Option<Stored<BlockAffinity>>, IpamError> {
        let pending = BlockAffinity::new(host, cidr, AffinityState::Pending);
        for _ in 0..self.opts.retries {
            match self.store.create(&Record::Affinity(pending.clone())) {
                Ok(revision) => {
                    return Ok(Some(Stored {
                        value: pending,
                        revision,
                    }));
                }
                Err(StoreError::AlreadyExists { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            let Some(cur) = self.get_affinity(host, cidr)? else {
                continue;
            };
            if cur.value.state == AffinityState::Confirmed {
                return Ok(Some(cur));
            }
            match self
                .store
                .update(&Record::Affinity(pending.clone()), cur.revision)
            {
                Ok(revision) => {
                    return Ok(Some(Stored {
                        value: pending,
                        revision,
                    }));
                }
                Err(e) if is_race(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(self.too_many(&format!("claiming block {cidr} for {host}")))
    }

    /// Mark the affinity confirmed. False when the block turned out not to be ours.
    pub(crate) fn confirm_affinity(&self, host: &str, cidr: IpNet) -> Result<bool, IpamError> {
        let confirmed = BlockAffinity::new(host, cidr, AffinityState::Confirmed);
        for _ in 0..self.opts.retries {
            let res = match self.get_affinity(host, cidr)? {
                Some(cur) if cur.value.state == AffinityState::Confirmed => return Ok(true),
                Some(cur) => self
                    .store
                    .update(&Record::Affinity(confirmed.clone()), cur.revision)
                    .map(|_| ()),
                None => {
                    // Deleted under us (a concurrent release): recreate it only if the block is
                    // still ours.
                    match self.get_block(cidr)? {
                        Some(b) if b.value.is_affine_to(host) => self
                            .store
                            .create(&Record::Affinity(confirmed.clone()))
                            .map(|_| ()),
                        _ => return Ok(false),
                    }
                }
            };
            match res {
                Ok(()) => return Ok(true),
                Err(e) if is_race(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(self.too_many(&format!("confirming the affinity of {cidr} to {host}")))
    }

    /// Make an affinity read from the store usable: finish an interrupted claim, drop a stale
    /// affinity, re-confirm one that is pending or pending deletion. Returns the block if it
    /// exists and is this node's afterwards (`None` after recreating it: read it again).
    pub(crate) fn load_affine_block(
        &self,
        host: &str,
        listed: Stored<BlockAffinity>,
    ) -> Result<Option<Stored<Block>>, IpamError> {
        let cidr = listed.value.cidr;
        let mut aff = Some(listed);
        for _ in 0..self.opts.retries {
            let Some(a) = aff
                .take()
                .map_or_else(|| self.get_affinity(host, cidr), |a| Ok(Some(a)))?
            else {
                return Ok(None);
            };
            match self.get_block(cidr)? {
                None if a.value.state == AffinityState::PendingDeletion => {
                    // An interrupted release: finish it.
                    let _ = self.store.delete(&aff_key(host, cidr), a.revision);
                    return Ok(None);
                }
                None => {
                    // An interrupted claim (or a block deleted under a confirmed affinity):
                    // create the block again, then read it.
                    if self.claim_block(host, cidr)? == Claim::Lost {
                        return Ok(None);
                    }
                    return Ok(self.get_block(cidr)?.filter(|b| b.value.is_affine_to(host)));
                }
                Some(b) if !b.value.is_affine_to(host) => {
                    let _ = self.store.delete(&aff_key(host, cidr), a.revision);
                    return Ok(None);
                }
                Some(b) if a.value.state == AffinityState::Confirmed => return Ok(Some(b)),
                Some(b) => {
                    // Pending or pending deletion with the block still ours: mark pending, write
                    // the block (so that a concurrent release's compare-and-delete of it fails),
                    // then confirm.
                    let pending = BlockAffinity::new(host, cidr, AffinityState::Pending);
                    match self.store.update(&Record::Affinity(pending), a.revision) {
                        Ok(_) => {}
                        Err(e) if is_race(&e) => continue,
                        Err(e) => return Err(e.into()),
                    }
                    let mut bumped = b.value;
                    bumped.sequence_number = bumped.sequence_number.wrapping_add(1);
                    let revision = match self
                        .store
                        .update(&Record::Block(bumped.clone()), b.revision)
                    {
                        Ok(r) => r,
                        Err(e) if is_race(&e) => continue,
                        Err(e) => return Err(e.into()),
                    };
                    if !self.confirm_affinity(host, cidr)? {
                        return Ok(None);
                    }
                    return Ok(Some(Stored {
                        value: bumped,
                        revision,
                    }));
                }
            }
        }
        Err(self.too_many(&format!("loading block {cidr} for {host}")))
    }

    /// Find and claim a block for `host` in the first pool that has one. `Some((cidr, newly))`
    /// where `newly` says the block was not the node's before; `None` when no pool has a block
    /// to give.
    pub(crate) fn find_and_claim(
        &self,
        pools: &[&PoolInfo],
        host: &str,
        reserved: &AddrFilter,
    ) -> Result<Option<(IpNet, bool)>, IpamError> {
        for _ in 0..self.opts.retries {
            match self.find_usable_block(pools, host, reserved)? {
                None => return Ok(None),
                Some(Candidate::Ours(cidr)) => return Ok(Some((cidr, false))),
                Some(Candidate::Free(cidr)) => match self.claim_block(host, cidr)? {
                    Claim::Claimed => return Ok(Some((cidr, true))),
                    Claim::AlreadyOurs => return Ok(Some((cidr, false))),
                    Claim::Lost => continue,
                },
            }
        }
        Err(self.too_many(&format!("finding a block to claim for {host}")))
    }

    fn find_usable_block(
        &self,
        pools: &[&PoolInfo],
        host: &str,
        reserved: &AddrFilter,
    ) -> Result<Option<Candidate>, IpamError> {
        let now = self.clock.now();
        let seed = unix_nanos(now);
        let mut walks: Vec<(&PoolInfo, BlockWalk)> = pools
            .iter()
            .map(|p| (*p, p.layout().walk(host, seed)))
            .collect();
        let mut reclaim = Vec::new();
        // Probe the first few candidates of each pool one by one (in a small pool, listing
        // is cheaper).
        for (pool, walk) in walks.iter_mut() {
            let limit = if pool.layout().count() <= 4 * self.opts.probe_limit as u128 {
                0
            } else {
                self.opts.probe_limit
            };
            let mut probes = 0;
            while probes < limit {
                let Some((_, cidr)) = walk.next() else {
                    break;
                };
                if skip_reserved(walk, pool, &cidr, reserved) {
                    continue;
                }
                probes += 1;
                match self.get_block(cidr)? {
                    None => return Ok(Some(Candidate::Free(cidr))),
                    Some(b) => match classify(&b.value, host, reserved) {
                        Seen::Use(c) => return Ok(Some(c)),
                        Seen::Reclaim(r) => reclaim.push(r),
                        Seen::Skip => {}
                    },
                }
            }
        }
        // Then list all blocks once and finish the walks against the listing.
        if walks.iter().any(|(_, w)| !w.is_done()) {
            let version = pools.first().map(|p| p.version());
            let existing: HashMap<IpNet, Block> = self
                .list_blocks(version)?
                .into_iter()
                .map(|s| (s.value.cidr, s.value))
                .collect();
            for (pool, walk) in walks.iter_mut() {
                while let Some((_, cidr)) = walk.next() {
                    if skip_reserved(walk, pool, &cidr, reserved) {
                        continue;
                    }
                    match existing.get(&cidr) {
                        None => return Ok(Some(Candidate::Free(cidr))),
                        Some(b) => match classify(b, host, reserved) {
                            Seen::Use(c) => return Ok(Some(c)),
                            Seen::Reclaim(r) => {
                                if !reclaim.iter().any(|x: &Reclaimable| x.cidr == r.cidr) {
                                    reclaim.push(r);
                                }
                            }
                            Seen::Skip => {}
                        },
                    }
                }
            }
        }
        // Last, take over another node's empty block if its claim is old enough.
        for r in reclaim {
            let old_enough = r.claimed.is_none_or(|t| {
                now.duration_since(t)
                    .is_ok_and(|age| age >= self.opts.empty_block_reclaim_age)
            });
            if !old_enough {
                continue;
            }
            let released = match &r.owner {
                Some(owner) => self
                    .release_affinity_once(owner, r.cidr, true, Some(r.seq))
                    .is_ok(),
                None => self.delete_unaffine_empty_block(r.cidr, r.seq)?,
            };
            if released {
                return Ok(Some(Candidate::Free(r.cidr)));
            }
        }
        Ok(None)
    }

    /// Delete an empty block that has no affinity, if it has not changed since it was read.
    fn delete_unaffine_empty_block(&self, cidr: IpNet, seq: u64) -> Result<bool, IpamError> {
        let Some(b) = self.get_block(cidr)? else {
            return Ok(true);
        };
        if b.value.sequence_number != seq || !b.value.is_empty() || b.value.affinity.is_some() {
            return Ok(false);
        }
        match self.store.delete(&RecordKey::Block(cidr), b.revision) {
            Ok(()) => Ok(true),
            Err(e) if is_race(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

pub(crate) fn aff_key(host: &str, cidr: IpNet) -> RecordKey {
    RecordKey::Affinity {
        host: host.to_string(),
        cidr,
    }
}
