//! Assignment: automatic (from the node's blocks, then newly claimed blocks, then, without
//! strict affinity, other nodes' blocks) and of one requested address.
//!
//! Automatic assignment is all or nothing: when a request cannot be met in full, whatever it had
//! found is released again (by handle and sequence number, so nothing else is touched) and the
//! error explains, pool by pool, why each gave nothing.

use ipnet::IpNet;

use crate::addr::IpVersion;
use crate::clock::Clock;
use crate::engine::block_ops::{HandleDelta, TakeRequest};
use crate::engine::records::is_race;
use crate::engine::select::{Selection, select_pools};
use crate::engine::{
    AssignIpArgs, Assigned, Assignments, AutoAssignArgs, Ipam, check_node, clean_handle,
};
use crate::error::{Exhaustion, IpamError, PoolOutcome, PoolReport};
use crate::model::{AssignError, Block, BlockAffinity, IpamConfig, ReleaseOptions};
use crate::pools::{IntendedUse, Pools};
use crate::store::{IpamStore, Record, Stored};

/// Why a family's request stopped short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shortfall {
    BlockLimit(u32),
    NoAutoAllocate,
    NoFreeBlocks,
}

/// One IP version's part of an automatic assignment.
struct Family<'a> {
    pools: &'a Pools,
    sel: &'a Selection<'a>,
    args: &'a AutoAssignArgs,
    cfg: &'a IpamConfig,
    version: IpVersion,
    num: usize,
    req: TakeRequest<'a>,
}

impl<S: IpamStore, C: Clock> Ipam<S, C> {
    /// Assign `num4` IPv4 and `num6` IPv6 addresses to `handle_id` on `hostname`. All or
    /// nothing: on error nothing stays allocated.
    pub fn auto_assign(
        &self,
        pools: &Pools,
        args: &AutoAssignArgs,
    ) -> Result<Assignments, IpamError> {
        let handle = clean_handle(&args.handle_id)?;
        check_node(&args.hostname)?;
        if args.intended_use == IntendedUse::LoadBalancer {
            return Err(IpamError::UseNotSupported {
                use_: args.intended_use,
            });
        }
        let cfg = self.config()?;
        let mut out = Assignments::default();
        if args.num4 > 0 {
            out.ipv4 = self.assign_family(pools, args, handle, &cfg, IpVersion::V4, args.num4)?;
        }
        if args.num6 > 0 {
            match self.assign_family(pools, args, handle, &cfg, IpVersion::V6, args.num6) {
                Ok(v6) => out.ipv6 = v6,
                Err(e) => {
                    self.rollback(pools, handle, &out.ipv4);
                    return Err(e);
                }
            }
        }
        Ok(out)
    }

    fn assign_family(
        &self,
        pools: &Pools,
        args: &AutoAssignArgs,
        handle: &str,
        cfg: &IpamConfig,
        version: IpVersion,
        num: usize,
    ) -> Result<Vec<Assigned>, IpamError> {
        let sel = select_pools(pools, args, version)?;
        let mut got = Vec::with_capacity(num);
        if sel.eligible.is_empty() {
            let msg = if sel.use_filtered_all {
                format!(
                    "cannot find a qualified ippool, no pools match the required use ({})",
                    args.intended_use
                )
            } else {
                format!("no configured Calico pools for node {}", args.hostname)
            };
            return Err(exhausted(args, version, num, 0, vec![msg], sel.excluded));
        }
        let family = Family {
            pools,
            sel: &sel,
            args,
            cfg,
            version,
            num,
            req: TakeRequest {
                handle,
                attrs: &args.attrs,
                reserved: &pools.reserved,
                affine_to: Some(args.hostname.as_str()),
            },
        };
        match self.fill(&family, &mut got) {
            Ok(None) => Ok(got),
            Ok(Some(short)) => {
                let found = got.len();
                self.rollback(pools, handle, &got);
                let (msgs, reports) = explain(&sel, short, cfg);
                Err(exhausted(args, version, num, found, msgs, reports))
            }
            Err(e) => {
                self.rollback(pools, handle, &got);
                Err(e)
            }
        }
    }

    /// Steps 1 to 3 for one IP version; `Some(shortfall)` when the request cannot be met.
    fn fill(
        &self,
        f: &Family<'_>,
        got: &mut Vec<Assigned>,
    ) -> Result<Option<Shortfall>, IpamError> {
        let mut owned = self.use_own_blocks(f, got)?;
        if got.len() >= f.num {
            return Ok(None);
        }
        let short = self.claim_new_blocks(f, &mut owned, got)?;
        if got.len() >= f.num {
            return Ok(None);
        }
        // Borrowing never goes past the block limit (as in Calico) or strict affinity.
        if f.cfg.strict_affinity || matches!(short, Shortfall::BlockLimit(_)) {
            return Ok(Some(short));
        }
        self.borrow(f, got)?;
        Ok((got.len() < f.num).then_some(short))
    }

    /// 1. The node's own blocks, the most recently claimed first: a node claims blocks in its
    ///    walk order, so while it fills up, the first block read usually has room. Returns the
    ///    node's blocks in the eligible pools.
    fn use_own_blocks(
        &self,
        f: &Family<'_>,
        got: &mut Vec<Assigned>,
    ) -> Result<Vec<IpNet>, IpamError> {
        let host = f.args.hostname.as_str();
        let mut owned = Vec::new();
        let mut to_load: Vec<(u128, Stored<BlockAffinity>)> = Vec::new();
        for aff in self.list_affinities(Some(host), Some(f.version))? {
            let cidr = aff.value.cidr;
            if let Some(pool) = f.sel.eligible.iter().find(|p| p.cidr.contains(&cidr)) {
                owned.push(cidr);
                let rank = pool
                    .layout()
                    .index_of(cidr.network())
                    .map_or(0, |idx| pool.layout().walk(host, 0).rank(idx));
                to_load.push((rank, aff));
            } else if !f.sel.selecting_node.iter().any(|p| p.cidr.contains(&cidr))
                && f.pools
                    .containing(cidr.network())
                    .is_some_and(|p| !p.disabled && !p.node_selector.matches(&f.args.node_labels))
            {
                // The block's pool no longer selects this node: give the block back if empty.
                let _ = self.release_affinity_once(host, cidr, true, None);
            }
        }
        to_load.sort_by_key(|(rank, _)| std::cmp::Reverse(*rank));
        for (_, aff) in to_load {
            if got.len() >= f.num {
                break;
            }
            let cidr = aff.value.cidr;
            if f.pools.reserved.covering(&cidr).is_some() {
                continue;
            }
            if let Some(block) = self.load_affine_block(host, aff)? {
                self.take_from_block(cidr, f.num - got.len(), f.req, got, Some(block))?;
            }
        }
        Ok(owned)
    }

    /// 2. Claim new blocks while the block limit and autoAllocateBlocks allow. Returns why it
    ///    stopped (meaningful only if the request is still short).
    fn claim_new_blocks(
        &self,
        f: &Family<'_>,
        owned: &mut Vec<IpNet>,
        got: &mut Vec<Assigned>,
    ) -> Result<Shortfall, IpamError> {
        let host = f.args.hostname.as_str();
        let limit = f.cfg.block_limit(f.args.max_blocks_per_host);
        for _ in 0..self.opts.retries {
            if got.len() >= f.num {
                return Ok(Shortfall::NoFreeBlocks);
            }
            if owned.len() >= limit as usize {
                return Ok(Shortfall::BlockLimit(limit));
            }
            if !f.cfg.auto_allocate_blocks {
                return Ok(Shortfall::NoAutoAllocate);
            }
            let Some((cidr, _)) = self.find_and_claim(&f.sel.eligible, host, &f.pools.reserved)?
            else {
                return Ok(Shortfall::NoFreeBlocks);
            };
            if !owned.contains(&cidr) {
                owned.push(cidr);
            }
            self.take_from_block(cidr, f.num - got.len(), f.req, got, None)?;
        }
        Err(self.too_many(&format!("claiming blocks for {host}")))
    }

    /// 3. Borrow from any block with room, in the node's walk order.
    fn borrow(&self, f: &Family<'_>, got: &mut Vec<Assigned>) -> Result<(), IpamError> {
        let host = f.args.hostname.as_str();
        let borrow = TakeRequest {
            affine_to: None,
            ..f.req
        };
        let blocks = self.list_blocks(Some(f.version))?;
        for pool in &f.sel.eligible {
            let walk = pool.layout().walk(host, 0);
            let mut candidates: Vec<(u128, &Stored<Block>)> = blocks
                .iter()
                .filter(|b| pool.cidr.contains(&b.value.cidr))
                .filter(|b| b.value.free_count(&f.pools.reserved) > 0)
                .filter_map(|b| {
                    let idx = pool.layout().index_of(b.value.cidr.network())?;
                    Some((walk.rank(idx), b))
                })
                .collect();
            candidates.sort_unstable_by_key(|(rank, _)| *rank);
            for (_, b) in candidates {
                if got.len() >= f.num {
                    return Ok(());
                }
                let cidr = b.value.cidr;
                self.take_from_block(cidr, f.num - got.len(), borrow, got, Some(b.clone()))?;
            }
        }
        Ok(())
    }

    /// Release what a failed request had found (best effort; only those exact allocations).
    fn rollback(&self, pools: &Pools, handle: &str, got: &[Assigned]) {
        if got.is_empty() {
            return;
        }
        let reqs: Vec<ReleaseOptions> = got
            .iter()
            .map(|a| ReleaseOptions {
                address: a.address,
                handle: Some(handle.to_string()),
                sequence_number: Some(a.sequence_number),
            })
            .collect();
        let _ = self.release_ips(pools, &reqs);
    }

    /// Assign one specific address. Claims the address's block for the node when nobody has it;
    /// with strictAffinity, the block must be the node's.
    pub fn assign_ip(&self, pools: &Pools, args: &AssignIpArgs) -> Result<Assigned, IpamError> {
        let handle = clean_handle(&args.handle_id)?;
        check_node(&args.hostname)?;
        let ip = args.address;
        let pool = pools.containing(ip).ok_or(IpamError::NotInPool { ip })?;
        if pool.disabled {
            return Err(IpamError::PoolDisabled {
                ip,
                pool: pool.name.clone(),
            });
        }
        if let Some(use_) = args.intended_use
            && !pool.allows(use_)
        {
            let allowed: Vec<&str> = pool.allowed_uses.iter().map(|u| u.as_str()).collect();
            return Err(IpamError::UseNotAllowed {
                ip,
                pool: pool.name.clone(),
                use_,
                allowed: allowed.join(", "),
            });
        }
        let cfg = self.config()?;
        let cidr = pool.block_for(ip).ok_or(IpamError::NotInPool { ip })?;
        let host = args.hostname.as_str();
        let mut counted = false;
        for _ in 0..self.opts.retries {
            let Some(stored) = self.get_block(cidr)? else {
                // Nobody has the block: claim it for this node (or lose it to another), then
                // read it again.
                self.claim_block(host, cidr)?;
                continue;
            };
            if cfg.strict_affinity && !stored.value.is_affine_to(host) {
                self.undo_one(handle, cidr, counted)?;
                return Err(IpamError::AffinityConflict {
                    ip,
                    block: cidr,
                    owner: stored
                        .value
                        .affinity
                        .clone()
                        .unwrap_or_else(|| "no node".into()),
                });
            }
            let mut block = stored.value;
            match block.assign(ip, handle, &args.attrs) {
                Ok(_) => {}
                Err(AssignError::AlreadyAssigned { handle: holder }) => {
                    self.undo_one(handle, cidr, counted)?;
                    return Err(IpamError::AlreadyAssigned {
                        ip,
                        handle: holder.unwrap_or_default(),
                    });
                }
                Err(AssignError::NotInBlock) => {
                    self.undo_one(handle, cidr, counted)?;
                    return Err(IpamError::Corrupt {
                        what: format!("block {cidr}"),
                        detail: format!("it has no slot for {ip}"),
                    });
                }
            }
            if !counted {
                self.adjust_handle(handle, cidr, HandleDelta::Add(1))?;
                counted = true;
            }
            let seq = block.sequence_number;
            block.sequence_number = seq.wrapping_add(1);
            match self.store.update(&Record::Block(block), stored.revision) {
                Ok(_) => {
                    return Ok(Assigned {
                        address: ip,
                        block: cidr,
                        sequence_number: seq,
                    });
                }
                Err(e) if is_race(&e) => continue,
                Err(e) => {
                    let _ = self.undo_one(handle, cidr, counted);
                    return Err(e.into());
                }
            }
        }
        self.undo_one(handle, cidr, counted)?;
        Err(self.too_many(&format!("assigning {ip}")))
    }

    fn undo_one(&self, handle: &str, cidr: IpNet, counted: bool) -> Result<(), IpamError> {
        if counted {
            self.adjust_handle(handle, cidr, HandleDelta::Add(-1))?;
        }
        Ok(())
    }
}

fn exhausted(
    args: &AutoAssignArgs,
    version: IpVersion,
    requested: usize,
    found: usize,
    messages: Vec<String>,
    pools: Vec<PoolReport>,
) -> IpamError {
    IpamError::Exhausted(Box::new(Exhaustion {
        version,
        requested,
        found,
        node: args.hostname.clone(),
        messages,
        pools,
    }))
}

/// Calico's summary messages and a report line for every pool.
fn explain(
    sel: &Selection<'_>,
    short: Shortfall,
    cfg: &IpamConfig,
) -> (Vec<String>, Vec<PoolReport>) {
    let (msg, outcome) = match short {
        Shortfall::BlockLimit(limit) => (
            format!(
                "Need to allocate an IPAM block but could not - limit of {limit} blocks reached \
                 for this node"
            ),
            PoolOutcome::BlockLimit { limit },
        ),
        Shortfall::NoAutoAllocate if cfg.strict_affinity => (
            "No more free affine blocks and automatic block allocation is disabled".to_string(),
            PoolOutcome::NoAutoAllocate,
        ),
        Shortfall::NoFreeBlocks if cfg.strict_affinity => (
            "No more free affine blocks and strict affinity enabled".to_string(),
            PoolOutcome::StrictAffinity,
        ),
        _ => {
            let cidrs: Vec<String> = sel.eligible.iter().map(|p| p.cidr.to_string()).collect();
            (
                format!("No IPs available in pools: [{}]", cidrs.join(" ")),
                PoolOutcome::Full,
            )
        }
    };
    let mut reports: Vec<PoolReport> = sel
        .eligible
        .iter()
        .map(|p| PoolReport {
            name: p.name.clone(),
            cidr: Some(p.cidr),
            outcome: outcome.clone(),
        })
        .collect();
    reports.extend(sel.excluded.iter().cloned());
    (vec![msg], reports)
}
