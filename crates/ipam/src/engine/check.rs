//! Consistency checking and repair of the stored IPAM state.
//!
//! **Problems** break an invariant allocation relies on: a malformed block, overlapping blocks
//! (one address in two blocks), an allocation without a handle record or with a handle count
//! below what the block holds, an allocated address outside every pool. **Leaks** are what an
//! interrupted operation (a killed process) may legitimately leave behind: a handle count too
//! high, a handle for nothing, a pending or stale affinity, an affine block without its affinity
//! record. Leaks never cause a duplicate address; [`Ipam::repair_leaks`] removes them.

use std::collections::{BTreeMap, HashMap};

use ipnet::IpNet;

use crate::clock::Clock;
use crate::engine::Ipam;
use crate::engine::query::IpamSnapshot;
use crate::error::IpamError;
use crate::model::{AffinityState, BlockAffinity, Handle, sanitize_handle};
use crate::pools::Pools;
use crate::store::{IpamStore, Record, RecordKey};

/// The result of [`Ipam::check_consistency`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsistencyReport {
    pub blocks: usize,
    pub allocations: usize,
    pub handles: usize,
    pub affinities: usize,
    /// Broken invariants.
    pub problems: Vec<String>,
    /// Harmless leftovers of interrupted operations.
    pub leaks: Vec<String>,
}

impl ConsistencyReport {
    /// No invariant is broken.
    pub fn is_consistent(&self) -> bool {
        self.problems.is_empty()
    }

    /// No problem and no leak: handle counts equal the blocks' allocations exactly.
    pub fn is_exact(&self) -> bool {
        self.problems.is_empty() && self.leaks.is_empty()
    }
}

/// What [`Ipam::repair_leaks`] changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepairReport {
    pub handles_updated: usize,
    pub handles_created: usize,
    pub handles_deleted: usize,
    pub affinities_deleted: usize,
    pub affinities_created: usize,
    pub affinities_confirmed: usize,
    /// Records that changed while being repaired (left for the next run).
    pub skipped: usize,
}

/// Allocations per (handle, block), from the blocks.
fn actual_counts(snap: &IpamSnapshot) -> BTreeMap<String, BTreeMap<IpNet, u32>> {
    let mut m: BTreeMap<String, BTreeMap<IpNet, u32>> = BTreeMap::new();
    for b in &snap.blocks {
        for (h, n) in b.value.counts_by_handle() {
            if !h.is_empty() {
                m.entry(h).or_default().insert(b.value.cidr, n);
            }
        }
    }
    m
}

fn check_blocks(snap: &IpamSnapshot, pools: Option<&Pools>, r: &mut ConsistencyReport) {
    let mut cidrs: Vec<IpNet> = snap.blocks.iter().map(|b| b.value.cidr).collect();
    cidrs.sort_unstable_by_key(|c| (c.network(), c.prefix_len()));
    for (i, a) in cidrs.iter().enumerate() {
        for b in cidrs.iter().skip(i + 1) {
            if a.contains(&b.network()) {
                r.problems.push(format!("blocks {a} and {b} overlap"));
            } else {
                break;
            }
        }
    }
    for b in &snap.blocks {
        let block = &b.value;
        r.problems.extend(block.problems());
        r.allocations += block.in_use();
        for o in block.allocated() {
            if block
                .handle_of(o)
                .is_none_or(|h| sanitize_handle(h).is_empty())
                && let Some(ip) = block.ip_at(o)
            {
                r.problems.push(format!(
                    "{ip} in block {} is allocated without a handle",
                    block.cidr
                ));
            }
        }
        let Some(pools) = pools else { continue };
        match pools.containing(block.cidr.network()) {
            Some(p) if p.cidr.contains(&block.cidr) => {
                if p.block_size != block.cidr.prefix_len() {
                    r.leaks.push(format!(
                        "block {} does not have pool {}'s block size /{}",
                        block.cidr, p.name, p.block_size
                    ));
                }
            }
            _ if block.is_empty() => {
                r.leaks
                    .push(format!("empty block {} is in no pool", block.cidr));
            }
            _ => {
                for o in block.allocated() {
                    if let Some(ip) = block.ip_at(o)
                        && pools.containing(ip).is_none()
                    {
                        r.problems.push(format!("allocated {ip} is in no pool"));
                    }
                }
            }
        }
    }
}

fn check_handles(snap: &IpamSnapshot, r: &mut ConsistencyReport) {
    let actual = actual_counts(snap);
    let recorded: HashMap<&str, &Handle> = snap
        .handles
        .iter()
        .map(|h| (h.value.handle_id.as_str(), &h.value))
        .collect();
    for (handle, blocks) in &actual {
        let Some(rec) = recorded.get(handle.as_str()) else {
            r.problems.push(format!(
                "handle {handle} holds {} addresses but has no handle record",
                blocks.values().sum::<u32>()
            ));
            continue;
        };
        for (cidr, n) in blocks {
            let have = rec.block.get(cidr).copied().unwrap_or(0);
            if have < *n {
                r.problems.push(format!(
                    "handle {handle} records {have} addresses in block {cidr}, which holds {n} \
                     of its addresses"
                ));
            }
        }
    }
    for h in &snap.handles {
        let id = h.value.handle_id.as_str();
        let held = actual.get(id);
        for (cidr, n) in &h.value.block {
            let real = held.and_then(|m| m.get(cidr)).copied().unwrap_or(0);
            if *n > real {
                r.leaks.push(format!(
                    "handle {id} records {n} addresses in block {cidr}, which holds {real} of its \
                     addresses"
                ));
            }
        }
        if h.value.block.is_empty() {
            r.leaks.push(format!("handle {id} records no addresses"));
        }
    }
}

fn check_affinities(snap: &IpamSnapshot, r: &mut ConsistencyReport) {
    let blocks: HashMap<IpNet, &crate::model::Block> = snap
        .blocks
        .iter()
        .map(|b| (b.value.cidr, &b.value))
        .collect();
    for a in &snap.affinities {
        let BlockAffinity {
            node, cidr, state, ..
        } = &a.value;
        match blocks.get(cidr) {
            None => r.leaks.push(format!(
                "affinity of {cidr} to {node} ({}) has no block",
                state.as_str()
            )),
            Some(b) if !b.is_affine_to(node) => r.leaks.push(format!(
                "affinity of {cidr} to {node} is stale: the block's affinity is {:?}",
                b.affinity
            )),
            Some(_) if *state != AffinityState::Confirmed => r.leaks.push(format!(
                "affinity of {cidr} to {node} is {} (an interrupted claim or release)",
                state.as_str()
            )),
            Some(_) => {}
        }
    }
    for b in &snap.blocks {
        if let Some(host) = b.value.host()
            && !snap
                .affinities
                .iter()
                .any(|a| a.value.node == host && a.value.cidr == b.value.cidr)
        {
            r.leaks.push(format!(
                "block {} is affine to {host} but has no affinity record",
                b.value.cidr
            ));
        }
    }
}

impl<S: IpamStore, C: Clock> Ipam<S, C> {
    /// Check the stored state (see the module docs). With `pools`, also check that allocated
    /// addresses lie in a pool and blocks have their pool's block size.
    pub fn check_consistency(&self, pools: Option<&Pools>) -> Result<ConsistencyReport, IpamError> {
        let snap = self.snapshot()?;
        let mut r = ConsistencyReport {
            blocks: snap.blocks.len(),
            handles: snap.handles.len(),
            affinities: snap.affinities.len(),
            ..ConsistencyReport::default()
        };
        check_blocks(&snap, pools, &mut r);
        check_handles(&snap, &mut r);
        check_affinities(&snap, &mut r);
        Ok(r)
    }

    /// Remove leaks: set every handle's counts to what the blocks hold (creating or deleting
    /// handle records as needed), drop stale affinities, confirm pending ones whose block is the
    /// node's, and recreate missing affinity records. Every write is a compare-and-swap against
    /// the state just read, but a handle count raised by an allocation that is still in flight
    /// would be lowered: run it only while no IPAM operation is running (as `calicoctl ipam
    /// check` does with the datastore locked).
    pub fn repair_leaks(&self) -> Result<RepairReport, IpamError> {
        let snap = self.snapshot()?;
        let mut rep = RepairReport::default();
        let actual = actual_counts(&snap);
        let mut seen = Vec::new();
        for h in &snap.handles {
            let id = h.value.handle_id.clone();
            let want = actual.get(&id).cloned().unwrap_or_default();
            seen.push(id.clone());
            if want == h.value.block {
                continue;
            }
            let res = if want.is_empty() {
                rep.handles_deleted += 1;
                self.store.delete(&RecordKey::Handle(id), h.revision)
            } else {
                rep.handles_updated += 1;
                let mut fixed = h.value.clone();
                fixed.block = want;
                fixed.deleted = false;
                self.store
                    .update(&Record::Handle(fixed), h.revision)
                    .map(|_| ())
            };
            if res.is_err() {
                rep.skipped += 1;
            }
        }
        for (id, blocks) in &actual {
            if seen.contains(id) {
                continue;
            }
            let mut h = Handle::new(id.clone());
            h.block = blocks.clone();
            match self.store.create(&Record::Handle(h)) {
                Ok(_) => rep.handles_created += 1,
                Err(_) => rep.skipped += 1,
            }
        }
        let blocks: HashMap<IpNet, &crate::model::Block> = snap
            .blocks
            .iter()
            .map(|b| (b.value.cidr, &b.value))
            .collect();
        for a in &snap.affinities {
            let v = &a.value;
            let ours = blocks.get(&v.cidr).is_some_and(|b| b.is_affine_to(&v.node));
            let res = if !ours {
                rep.affinities_deleted += 1;
                self.store.delete(
                    &RecordKey::Affinity {
                        host: v.node.clone(),
                        cidr: v.cidr,
                    },
                    a.revision,
                )
            } else if v.state != AffinityState::Confirmed {
                rep.affinities_confirmed += 1;
                let c = BlockAffinity::new(v.node.clone(), v.cidr, AffinityState::Confirmed);
                self.store
                    .update(&Record::Affinity(c), a.revision)
                    .map(|_| ())
            } else {
                continue;
            };
            if res.is_err() {
                rep.skipped += 1;
            }
        }
        for b in &snap.blocks {
            let Some(host) = b.value.host() else { continue };
            let has = snap
                .affinities
                .iter()
                .any(|a| a.value.node == host && a.value.cidr == b.value.cidr);
            if has {
                continue;
            }
            let c = BlockAffinity::new(host, b.value.cidr, AffinityState::Confirmed);
            match self.store.create(&Record::Affinity(c)) {
                Ok(_) => rep.affinities_created += 1,
                Err(_) => rep.skipped += 1,
            }
        }
        Ok(rep)
    }
}
